"""Time to placement: the analysis behind notebook ``10_tempo_inserimento``, in one call.

:func:`analyse` builds the cohort (:func:`ixl_eval.cohorts.time_to_placement`) and fits every
estimator the report shows (Kaplan–Meier overall and by subgroup with log-rank tests and
restricted means, the Aalen–Johansen cumulative incidence with withdrawal as a competing event,
the Cox model with its proportional-hazards check and stratified alternative, the enrolment-cohort
comparison). It returns a plain result (:class:`PlacementTimeAnalysis`: numbers and fitted
estimators, no language, no disclosure threshold); :mod:`ixl_eval.report.placement_time` turns it
into the notebook's tables, sentences, figures and records.

Examples
--------
>>> from ixl_eval.cohorts import _toy_dataset
>>> a = analyse(_toy_dataset(), subgroups=("gender",), horizons_days=(30,), rmst_horizon_days=60,
...             cox_covariates=())
>>> a
<PlacementTimeAnalysis n=5, placed=2, withdrawn=1, censored=2>
>>> round(float(a.km.cumulative_at([30])["cumulative"].iloc[0]), 3)
0.467
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .cohorts import time_to_placement
from .design import pool_sparse_levels
from .survival import AalenJohansen, CoxModel, KaplanMeier, km_by_group, logrank, rmst_table

__all__ = ["COHORT_COL", "PlacementTimeAnalysis", "analyse"]

COHORT_COL = "enrolment_cohort"  # derived column: the focus enrolment year vs the years before it


@dataclass
class PlacementTimeAnalysis:
    """Everything the notebook shows, fitted once. Attributes are plain estimator objects."""

    frame: pd.DataFrame
    horizons: tuple
    rmst_horizon: float
    plot_max_days: float
    subgroups: tuple
    km: KaplanMeier
    aj: AalenJohansen
    by: dict = field(default_factory=dict)          # subgroup -> {level: KaplanMeier}
    logrank: dict = field(default_factory=dict)     # subgroup -> LogRankResult
    rmst: dict = field(default_factory=dict)        # subgroup -> rmst_table
    focus_year: int | None = None
    cox: CoxModel | None = None
    cox_note: str = ""
    ph: pd.DataFrame | None = None
    cox_stratified: CoxModel | None = None
    cohort_cox: CoxModel | None = None
    cox_pooled: dict = field(default_factory=dict)  # sparse levels pooled before the Cox models
    # what the Cox HRs estimate: total effects (no IPS term; IPS is a mediator offered more to some groups)
    cox_estimand: str = "total"
    cox_scale: str = "conditional_hazard_ratio"

    def __repr__(self) -> str:
        e = self.frame["event"].value_counts()
        return (f"<PlacementTimeAnalysis n={len(self.frame)}, placed={int(e.get(1, 0))}, "
                f"withdrawn={int(e.get(2, 0))}, censored={int(e.get(0, 0))}>")


COX_MIN_EVENTS = 5  # levels with fewer placements are pooled before the Cox model


def analyse(ds, *, cutoff=None, enrol_from=None, enrol_to=None, contract_types=(), time_zero="enrolment",
            subgroups=("gender", "age_band", "citizenship_group", "education", "enrolment_year"),
            horizons_days=(90, 180, 365), rmst_horizon_days=365, plot_max_days=730,
            cox_covariates=("gender", "age_band", "citizenship_group", "education"),
            cox_strata=("enrolment_year",), cox_reference=None, focus_year=2023,
            ph_alpha=0.01) -> PlacementTimeAnalysis:
    """Build the cohort and fit every estimator of the time-to-placement report.

    Parameters mirror the notebook's (see ``TempoInserimentoParams`` in :mod:`ixl_eval.params`).
    ``cox_reference`` defaults to men, under 30, Italian, upper-secondary diploma. The Cox model
    is stratified by ``cox_strata`` (default the enrolment year: placement chances move with the
    calendar, and the synthetic-data recovery test shows the unstratified model is biased by it).
    A covariate failing the proportional-hazards check at ``ph_alpha`` is moved to the strata in
    the alternative model ``cox_stratified``.
    """
    f = time_to_placement(ds, enrol_from=enrol_from, enrol_to=enrol_to, contract_types=list(contract_types) or None,
                          time_zero=time_zero, cutoff=cutoff)
    if len(f) == 0:
        raise ValueError("nobody in the cohort: check the enrolment window and the cut-off")
    horizons = tuple(sorted(int(h) for h in horizons_days))
    km = KaplanMeier(label="all").fit(f["time"], f["event"], event_of_interest=1)
    aj = AalenJohansen().fit(f["time"], f["event"])
    a = PlacementTimeAnalysis(frame=f, horizons=horizons, rmst_horizon=float(rmst_horizon_days),
                              plot_max_days=float(min(plot_max_days, f["time"].max())), subgroups=tuple(subgroups),
                              km=km, aj=aj)
    cols = list(subgroups)
    years = f["enrolment_year"]
    if focus_year is not None and (years == focus_year).any() and (years < focus_year).any():
        a.focus_year = int(focus_year)
        f[COHORT_COL] = pd.Categorical(np.where(years == focus_year, str(focus_year),
                                                np.where(years < focus_year, f"<{focus_year}", "")),
                                       categories=[f"<{focus_year}", str(focus_year)])
        cols.append(COHORT_COL)
    for col in cols:
        sub = f.loc[f[col].notna()] if col == COHORT_COL else f
        fits = km_by_group(sub, col)
        if len(fits) < 2:
            continue
        a.by[col] = fits
        a.logrank[col] = logrank(sub["time"], sub["event"], sub[col])
        a.rmst[col] = rmst_table(fits, a.rmst_horizon)

    ref = {"gender": "M", "age_band": "<30", "citizenship_group": "IT", "education": "upper_secondary_diploma"}
    ref.update(cox_reference or {})
    covs = [c for c in cox_covariates if c not in cox_strata]
    if covs:
        # a level with (almost) no placements has no estimable HR and would take the whole model with
        # it: pool it first (design.pool_sparse_levels), and say so in the report
        f, a.cox_pooled = pool_sparse_levels(f, covs, (f["event"] == 1).to_numpy(), min_count=COX_MIN_EVENTS,
                                             reference={c: v for c, v in ref.items() if c in covs})
        for c, m in a.cox_pooled.items():
            if c in ref:
                ref[c] = m.get(ref[c], ref[c])
        try:
            a.cox = CoxModel(covs, strata=list(cox_strata), reference={c: v for c, v in ref.items() if c in covs}).fit(f)
            a.ph = a.cox.ph_test(alpha=ph_alpha)
            bad = list(a.ph.loc[a.ph["violated"], "covariate"])
            keep = [c for c in covs if c not in bad]
            if bad and keep:
                a.cox_stratified = CoxModel(keep, strata=list(cox_strata) + bad,
                                            reference={c: v for c, v in ref.items() if c in keep}).fit(f)
        except ValueError as err:  # e.g. a level with no placements: say so instead of failing the report
            a.cox, a.cox_note = None, str(err)
    if a.focus_year is not None and covs:
        sub = f.loc[f[COHORT_COL].notna()]
        try:
            cc = [c for c in covs if sub[c].nunique() > 1]
            a.cohort_cox = CoxModel(cc + [COHORT_COL], reference={**{c: v for c, v in ref.items() if c in cc},
                                                                   COHORT_COL: f"<{a.focus_year}"}).fit(sub)
        except ValueError:
            a.cohort_cox = None
    return a
