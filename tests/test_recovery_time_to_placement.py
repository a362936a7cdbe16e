"""Recovery: on synthetic data with known truth, the Cox model recovers the true log hazard ratios.

The generator (``ixl_eval.synth``) draws the first placement from a proportional-hazards model in
time since enrolment, times a calendar-month multiplier, times exp(ips_log_hr) from an IPS start;
IPS is offered more often to older and less educated people. The report's model has no IPS term,
so its coefficients are *total* effects (they include the work found through IPS): each is compared
with its own estimand, ``truth.json`` -> ``estimands`` -> ``time_to_placement_total`` (the same model
fitted to replays of the generator), not with the conditional ``cox_log_hr``. Stratifying by
enrolment year absorbs the calendar effect (without it the estimates are biased: see
``docs/caveats/tempo-inserimento.md``). Every term's interval must
cover the truth (Bonferroni-adjusted over the terms, so the family of intervals has 95% coverage
by design) and the joint Wald test of "estimates = truth" must not reject.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ixl_eval.cohorts import time_to_placement
from ixl_eval.dataset import Dataset
from ixl_eval.survival import CoxModel
from ixl_eval.synth import DEFAULT_SEED, generate

COVARIATES = ["gender", "age_band", "citizenship_group", "education"]


@pytest.fixture(scope="module")
def synthetic():
    # three times the bundled population (about 27,000 people): tight enough intervals to
    # detect a bias of a tenth on the log scale, still a second to generate and fit
    res = generate(seed=DEFAULT_SEED, scale=3.0)
    fr = res.frames
    ds = Dataset(participants=fr["participants"], interviews=fr["interviews"], programmes=fr["programmes"],
                 placements=fr["placements"], extracted_on=res.extracted_on, source="synthetic", data_dir=None)
    return time_to_placement(ds), res.truth


def _compare(model, truth):
    tab = model.hr_table_.set_index("term")
    true = pd.Series(truth["estimands"]["time_to_placement_total"]["log_hr"]).reindex(tab.index)
    assert true.notna().all(), f"terms without a true value: {list(true[true.isna()].index)}"
    return tab, true


def test_cox_recovers_truth_json(synthetic):
    frame, truth = synthetic
    ref = truth["model"]["reference_levels"]
    m = CoxModel(COVARIATES, strata=["enrolment_year"], reference=ref).fit(frame)
    tab, true = _compare(m, truth)
    assert len(tab) == len(truth["cox_log_hr"])
    z = stats.norm.ppf(1 - 0.05 / (2 * len(tab)))  # Bonferroni: 95% for the whole family
    lo, hi = tab["coef"] - z * tab["se"], tab["coef"] + z * tab["se"]
    missed = tab.index[(true < lo) | (true > hi)]
    assert len(missed) == 0, f"intervals missing the truth: {list(missed)}\n{tab[['coef', 'se']].assign(truth=true)}"
    d = (tab["coef"] - true).to_numpy()
    wald = float(d @ np.linalg.solve(m.variance_.to_numpy(), d))
    assert stats.chi2.sf(wald, len(d)) > 0.01
    # the clear effects are recovered with the right sign and the 95% intervals exclude 0
    for term in ("age_band=40-49", "age_band=50+", "education=none_or_compulsory"):
        assert tab.loc[term, "upper"] < 1


def test_hazard_ratio_intervals_cover_at_nominal_level(synthetic):
    # per-term 95% intervals: with 9 terms, at most 2 may miss (P(>2 misses) < 1% if calibrated)
    frame, truth = synthetic
    m = CoxModel(COVARIATES, strata=["enrolment_year"], reference=truth["model"]["reference_levels"]).fit(frame)
    tab, true = _compare(m, truth)
    covered = (np.log(tab["lower"]) <= true) & (true <= np.log(tab["upper"]))
    assert covered.sum() >= len(tab) - 2, tab.assign(truth=true, covered=covered)
