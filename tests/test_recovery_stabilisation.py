"""Recovery: on synthetic data, the stabilisation estimates cover the generator's true conversion
model (``truth.json``: a constant conversion hazard per employer size during the contract, the
contract ending at a lognormal duration as the competing event)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from ixl_eval import stabilisation as st
from ixl_eval.cohorts import fixed_term_episodes
from ixl_eval.dataset import load_dataset


@pytest.fixture(scope="module")
def data(synth_dir):
    ds = load_dataset(synth_dir)
    truth = json.loads((Path(synth_dir) / "truth.json").read_text())
    return ds, truth


def _true_cif(rate_per_year: float, horizon: float, spec: dict) -> float:
    """P(converted by ``horizon``) = E[1 - exp(-r min(h, D))] over the contract duration D
    (clipped lognormal, as the generator draws it), by quadrature over the normal deviate."""
    assert spec["family"] == "lognormal"
    z = np.linspace(-8, 8, 20001)
    w = stats.norm.pdf(z)
    w /= w.sum()
    dur = np.clip(spec["median"] * np.exp(spec["sdlog"] * z), spec["min"], spec["max"])
    return float((w * (1 - np.exp(-rate_per_year / 365.25 * np.minimum(horizon, dur)))).sum())


@pytest.mark.parametrize("which", ["first", "all"])
def test_cox_hazard_ratios_cover_truth(data, which):
    ds, truth = data
    ep = fixed_term_episodes(ds, which=which)
    rates = truth["conversion"]["rate_per_year"]
    # the notebook's full model (other covariates have no effect in the generator) and size alone
    for covs in (("employer_size", "sector", "channel", "gender", "citizenship_group", "enrolment_year"),
                 ("employer_size",)):
        m = st.conversion_cox(ep, covs, reference={"employer_size": truth["conversion"]["reference"]})
        hr = m.hr_table_.set_index("term")
        for size, log_hr in truth["conversion"]["log_hr"].items():
            row = hr.loc[f"employer_size={size}"]
            assert row["lower"] <= np.exp(log_hr) <= row["upper"], (which, covs, size, row.to_dict())
            assert np.log(rates[size] / rates["micro"]) == pytest.approx(log_hr)


def test_conversion_rates_cover_truth(data):
    ds, truth = data
    r = st.conversion_rates(fixed_term_episodes(ds, which="all"), "employer_size").set_index("group")
    for size, rate in truth["conversion"]["rate_per_year"].items():
        assert r.loc[size, "lower"] <= rate <= r.loc[size, "upper"], (size, r.loc[size].to_dict())


def test_cumulative_incidence_covers_truth(data):
    ds, truth = data
    spec = truth["model"]["contract_duration_days"]["fixed_term"]
    inc = st.conversion_incidence(fixed_term_episodes(ds, which="all"), [183, 365], by=["employer_size"])
    inc = inc.set_index("group")
    for size, rate in truth["conversion"]["rate_per_year"].items():
        for h in (183, 365):
            true = _true_cif(rate, h, spec)
            lo, hi = inc.loc[size, f"cif_{h}_lower"], inc.loc[size, f"cif_{h}_upper"]
            assert lo <= true <= hi, (size, h, true, lo, hi)


def test_larger_employers_convert_faster(data):
    # the generator's ordering micro < small < medium < large is visible in the estimates
    ds, _ = data
    r = st.conversion_rates(fixed_term_episodes(ds, which="all"), "employer_size").set_index("group")["rate"]
    assert r["micro"] < r["large"] and r["small"] < r["large"]
    test = st.conversion_test(fixed_term_episodes(ds, which="all"), "employer_size")
    assert test.p_value < 0.01
