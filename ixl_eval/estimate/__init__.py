"""The estimation layer: analysis frames and estimators, returning plain results.

Nothing here knows a language, a disclosure threshold or a report: each module takes data frames
(or a validated :class:`~ixl_eval.dataset.Dataset`) and returns numbers — fitted estimators whose
results end in ``_`` (lifelines' convention) or result objects. The report layer
(:mod:`ixl_eval.report`) turns them into protected tables, sentences and figures.

========================  ====================================================================
``cohorts``               analysis frames: time to placement, IPS index dates, fixed-term episodes
``survival``              Kaplan–Meier, Aalen–Johansen, log-rank, RMST, Cox (held to R)
``causal``                propensity scores, IPTW, matching, balance, E-values
``design``                the one rule for categorical covariates; pooling of sparse levels
``placement_time``        the time-to-placement analysis (notebook 10)
``ips``                   the IPS funnel and effects (notebook 20)
``stabilisation``         conversions of fixed-term contracts (notebook 30)
``kpi``                   indicators by year and quarter (notebooks 00 and 40)
``multiplicity``          Holm-adjusted p-values
``distributions``         normal and chi-square functions without ``scipy.stats``
========================  ====================================================================
"""
