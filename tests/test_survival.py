"""Survival estimators against R (survival 3.5, cmprsk 2.2): golden values to 1e-6 relative.

The reference numbers come from ``tests/golden/survival_reference.R`` (public datasets shipped
with R's survival package, exported beside it as CSV); the tests read only the JSON.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ixl_eval.survival import (
    AalenJohansen,
    CoxModel,
    KaplanMeier,
    concordance,
    km_by_group,
    km_summary,
    logrank,
    risk_counts,
    rmst_table,
)

GOLDEN = Path(__file__).parent / "golden"
REF = json.loads((GOLDEN / "survival_reference.json").read_text())
RTOL = 1e-6


def _arr(x):
    return np.array([np.nan if v is None else v for v in x], dtype=float)


def close(actual, expected, rtol=RTOL):
    a, b = np.atleast_1d(np.asarray(actual, dtype=float)), _arr(np.atleast_1d(expected))
    assert a.shape == b.shape
    assert (np.isnan(a) == np.isnan(b)).all(), (np.flatnonzero(np.isnan(a) != np.isnan(b)))
    m = ~np.isnan(b)
    np.testing.assert_allclose(a[m], b[m], rtol=rtol, atol=0)


@pytest.fixture(scope="module")
def lung():
    df = pd.read_csv(GOLDEN / "survival_lung.csv")
    df["ecog"] = pd.Categorical(df["ph.ecog"].astype(int))
    return df


@pytest.fixture(scope="module")
def veteran():
    df = pd.read_csv(GOLDEN / "survival_veteran.csv")
    df["celltype"] = pd.Categorical(df["celltype"], ["squamous", "smallcell", "adeno", "large"])
    return df


@pytest.fixture(scope="module")
def mgus2():
    return pd.read_csv(GOLDEN / "survival_mgus2.csv")


# ----------------------------------------------------------------------------- Kaplan–Meier
def test_km_matches_survfit(lung):
    r = REF["km_lung"]
    km = KaplanMeier().fit(lung["time"], lung["event"])
    t = km.table_
    close(t["time"], r["time"])
    close(t["n_risk"], r["n_risk"])
    close(t["n_event"], r["n_event"])
    close(t["n_censor"], r["n_censor"])
    close(t["survival"], r["surv"])
    assert r["logse"]
    close(t["se_log"], r["std_err"])
    close(t["lower"], r["lower"])
    close(t["upper"], r["upper"])
    log = KaplanMeier(conf_type="log").fit(lung["time"], lung["event"])
    close(log.table_["lower"], r["lower_log"])
    close(log.table_["upper"], r["upper_log"])
    assert km.median_ == r["median"]
    assert km.median_ci_ == (r["median_lcl"], r["median_ucl"])
    rm = km.rmst(500)
    close(rm["rmst"], r["rmean_500"])
    close(rm["se"], r["rmean_500_se"])
    at = km.survival_at(r["surv_at"]["times"])
    close(at["survival"], r["surv_at"]["surv"])
    close(at["lower"], r["surv_at"]["lower"])
    close(at["upper"], r["surv_at"]["upper"])


def test_km_by_group_median_ci_and_rmst(lung, veteran):
    r = REF["km_lung_by_sex"]
    fits = km_by_group(lung, "sex")
    assert list(fits) == [1, 2]
    close([f.median_ for f in fits.values()], r["median"])
    close([f.median_ci_[0] for f in fits.values()], r["median_lcl"])
    close([f.median_ci_[1] for f in fits.values()], r["median_ucl"])
    rt = rmst_table(fits, 600)
    close(rt["rmst"], r["rmean_600"])
    close(rt["se"], r["rmean_600_se"])
    # difference of independent groups: se is the root of the summed variances
    assert rt["diff"].iloc[1] == pytest.approx(r["rmean_600"][1] - r["rmean_600"][0], rel=RTOL)
    se = math.hypot(*r["rmean_600_se"])
    assert rt["diff_upper"].iloc[1] - rt["diff"].iloc[1] == pytest.approx(1.959963984540054 * se, rel=RTOL)
    rv = REF["km_veteran_by_trt"]
    fv = km_by_group(veteran, "trt", event_col="status")
    close([f.median_ for f in fv.values()], rv["median"])  # includes R's mid-point rule (52.5)
    close([f.median_ci_[0] for f in fv.values()], rv["median_lcl"])
    close([f.median_ci_[1] for f in fv.values()], rv["median_ucl"])


@pytest.mark.parametrize("name, variance, weighted", [
    ("km_lung_weighted", "greenwood", True),
    ("km_lung_weighted_robust", None, True),
    ("km_lung_robust", "robust", False),
])
def test_km_weighted_and_robust(lung, name, variance, weighted):
    r = REF[name]
    km = KaplanMeier().fit(lung["time"], lung["event"], lung["w"] if weighted else None, variance=variance)
    t = km.table_
    close(t["n_risk"], r["n_risk"])
    close(t["survival"], r["surv"])
    close(t["se_log"] if r["logse"] else t["std_err"], r["std_err"])
    close(t["lower"], r["lower"])
    close(t["upper"], r["upper"])


def test_km_hand_computed():
    # the one censored at 8 is still at risk at 8: S(8) = 5/6 * 4/5; then 2/3 at 12, 1/2 at 20
    km = KaplanMeier().fit([5, 8, 8, 12, 20, 20], [1, 1, 0, 1, 0, 1])
    np.testing.assert_allclose(km.table_["survival"], [5 / 6, 4 / 6, 4 / 9, 2 / 9])
    assert repr(km) == "<KaplanMeier n=6, events=4, censored=2, median=12>"
    assert np.isnan(km.survival_at([21])["survival"].iloc[0])  # beyond follow-up: unknown
    assert km.survival_at([0])["survival"].iloc[0] == 1.0
    np.testing.assert_array_equal(km.at_risk([0, 8, 9, 20, 21]), [6, 5, 3, 2, 0])
    cum = km.cumulative_at([10])
    assert cum["cumulative"].iloc[0] == pytest.approx(1 / 3)
    assert cum["lower"].iloc[0] < 1 / 3 < cum["upper"].iloc[0]


def test_km_not_reached():
    km = KaplanMeier().fit([1, 2, 3, 4, 5], [1, 0, 0, 0, 0])
    assert math.isnan(km.median_) and math.isnan(km.median_ci_[1])
    assert "not reached" in repr(km)


def test_km_rejects_bad_input():
    with pytest.raises(ValueError):
        KaplanMeier().fit([1, -2], [1, 1])
    with pytest.raises(ValueError):
        KaplanMeier().fit([1, np.nan], [1, 1])
    with pytest.raises(ValueError):
        KaplanMeier().fit([1, 2], [1, 1], weights=[1, 0])


# ----------------------------------------------------------------------------- log-rank
def test_logrank_two_and_k_sample(lung, veteran):
    r = REF["logrank_lung_sex"]
    res = logrank(lung["time"], lung["event"], lung["sex"])
    close(res.statistic, r["chisq"])
    assert res.df == r["df"] == 1
    close(res.table["observed"], r["obs"])
    close(res.table["expected"], r["exp"])
    r4 = REF["logrank_veteran_celltype"]
    res4 = logrank(veteran["time"], veteran["status"], veteran["celltype"])
    close(res4.statistic, r4["chisq"])
    assert res4.df == 3
    close(res4.table.set_index("group").loc[["squamous", "smallcell", "adeno", "large"], "expected"], r4["exp"])


# ----------------------------------------------------------------------------- Cox
def test_cox_efron_matches_coxph(lung, veteran):
    r = REF["cox_lung"]
    m = CoxModel(["sex", "age", "ecog"]).fit(lung)
    close(m.hr_table_["coef"], r["coef"])
    close(m.hr_table_["se"], r["se"])
    close(m.log_likelihood_, r["loglik"])
    close(m.concordance_, r["concordance"])
    rv = REF["cox_veteran"]
    mv = CoxModel(["trt", "karno", "age", "celltype"]).fit(veteran, event_col="status")
    assert list(mv.hr_table_["term"]) == ["trt", "karno", "age", "celltype=smallcell", "celltype=adeno",
                                          "celltype=large"]
    close(mv.hr_table_["coef"], rv["coef"])
    close(mv.hr_table_["se"], rv["se"])
    close(mv.concordance_, rv["concordance"])
    close(mv.hr_table_["hr"], np.exp(rv["coef"]))


def test_cox_stratified_and_robust(lung, veteran):
    rs = REF["cox_veteran_strata"]
    ms = CoxModel(["trt", "karno", "age"], strata=["celltype"]).fit(veteran, event_col="status")
    close(ms.hr_table_["coef"], rs["coef"])
    close(ms.hr_table_["se"], rs["se"])
    rw = REF["cox_lung_weighted_robust"]
    mw = CoxModel(["sex", "age", "ecog"]).fit(lung, weights_col="w")  # robust by default with weights
    assert mw.robust_
    close(mw.hr_table_["coef"], rw["coef"])
    close(mw.hr_table_["se"], rw["robust_se"])
    close(mw.concordance_, rw["concordance"])
    rr = REF["cox_lung_robust"]
    mr = CoxModel(["sex", "age", "ecog"]).fit(lung, robust=True)
    close(mr.hr_table_["se"], rr["robust_se"])


def test_cox_table_and_errors(lung):
    m = CoxModel(["sex", "ecog"], reference={"ecog": 1}).fit(lung)
    t = m.hr_table_.set_index("term")
    assert list(t.index) == ["sex", "ecog=0", "ecog=2", "ecog=3"]
    assert (t["reference"].iloc[1:] == 1).all()
    assert t.loc["ecog=3", "n"] == (lung["ph.ecog"] == 3).sum()
    assert (t["lower"] < t["hr"]).all() and (t["hr"] < t["upper"]).all()
    bad = lung.assign(age=lung["age"].where(lung.index != 3))
    with pytest.raises(ValueError, match="missing values"):
        CoxModel(["age"]).fit(bad)
    with pytest.raises(ValueError, match="fewer than two levels"):
        CoxModel(["ecog"]).fit(lung[lung["ph.ecog"] == 1])


def test_ph_test_flags_a_time_varying_effect():
    # group b's hazard is 4x before t=1 and 0.25x after: proportional hazards fails for "g"
    rng = np.random.default_rng(1)
    n = 4000
    b = rng.integers(0, 2, n).astype(bool)
    t_early = rng.exponential(1 / np.where(b, 4.0, 1.0))
    t_late = 1 + rng.exponential(1 / np.where(b, 0.25, 1.0))
    t = np.where(t_early < 1, t_early, t_late)
    c = rng.uniform(0, 4, n)
    f = pd.DataFrame({"time": np.minimum(t, c), "event": (t <= c).astype(int),
                      "g": pd.Categorical(np.where(b, "b", "a")), "x": rng.normal(size=n)})
    m = CoxModel(["g", "x"]).fit(f)
    ph = m.ph_test().set_index("covariate")
    assert ph.loc["g", "violated"] and ph.loc["g", "p"] < 1e-6
    assert not ph.loc["x", "violated"]
    res = m.scaled_schoenfeld()
    assert len(res) == f["event"].sum() and res["time"].is_monotonic_increasing


def test_concordance_definition():
    # a censored time equal to an event time counts as longer (comparable), as in R
    assert concordance([1, 1], [1, 0], [2, 1]) == 1.0
    assert concordance([1, 1], [1, 1], [2, 1]) != concordance([1, 1], [1, 1], [2, 1])  # NaN: no pairs
    assert concordance([1, 2, 3], [1, 1, 1], [1, 2, 3]) == 0.0
    assert concordance([1, 2, 3, 4], [1, 1, 1, 1], [3, 2, 2, 1], strata=[0, 0, 1, 1]) == 1.0
    # across strata the pair (2, 3) would be tied in risk: it is not formed
    assert concordance([1, 2, 3, 4], [1, 1, 1, 1], [3, 2, 2, 1]) < 1.0


# ----------------------------------------------------------------------------- Aalen–Johansen
def test_aalen_johansen_matches_survfit_multistate(mgus2):
    r = REF["aj_mgus2"]
    aj = AalenJohansen(conf_type="log").fit(mgus2["etime"], mgus2["event"])
    t = aj.table_
    close(t["time"], r["time"])
    close(t["n_risk"], r["n_risk"])
    close(t["cif_1"], r["pstate_pcm"])
    close(t["cif_2"], r["pstate_death"])
    close(t["se_1"], r["se_pcm"])
    close(t["se_2"], r["se_death"])
    m = ~np.isnan(_arr(r["lower_pcm"]))  # R leaves the interval undefined where the CIF is 0
    close(t["lower_1"][m], np.asarray(r["lower_pcm"], dtype=object)[m])
    close(t["upper_1"][m], np.asarray(r["upper_pcm"], dtype=object)[m])
    ll = AalenJohansen().fit(mgus2["etime"], mgus2["event"]).table_
    close(ll["lower_1"][m], np.asarray(r["lower_ll_pcm"], dtype=object)[m])
    close(ll["upper_1"][m], np.asarray(r["upper_ll_pcm"], dtype=object)[m])
    assert (t.loc[~m, "cif_1"] == 0).all()


def test_aalen_johansen_weighted(mgus2):
    r = REF["aj_mgus2_weighted"]
    t = AalenJohansen().fit(mgus2["etime"], mgus2["event"], mgus2["w"]).table_
    close(t["cif_1"], r["pstate_pcm"])
    close(t["cif_2"], r["pstate_death"])
    close(t["se_1"], r["se_pcm"])
    close(t["se_2"], r["se_death"])


def test_aalen_johansen_matches_cmprsk_estimate(mgus2):
    r = REF["cuminc_mgus2"]
    aj = AalenJohansen().fit(mgus2["etime"], mgus2["event"])
    close(aj.cif_at(r["times"], 1)["cif"], r["est_pcm"])
    close(aj.cif_at(r["times"], 2)["cif"], r["est_death"])
    # the IJ variance is not cmprsk's (Aalen-type) formula, but both estimate the same quantity
    se_ij = aj.cif_at(r["times"], 1)["std_err"].to_numpy()
    np.testing.assert_allclose(se_ij, np.sqrt(r["var_pcm"]), rtol=0.1)


def test_aalen_johansen_ties_exact_and_vs_km():
    # all-tied data: AJ is exact, 1-KM of the cause (other cause censored) is larger
    t = [2, 2, 2, 2, 3, 3, 5, 5]
    e = [1, 1, 2, 0, 1, 2, 0, 1]
    aj = AalenJohansen().fit(t, e)
    f = aj.cif_at([2, 3, 5], 1)["cif"].to_numpy()
    # S(2) = 5/8 (3 of 8 left with an event), S(3) = 5/8 * 2/4
    np.testing.assert_allclose(f, [2 / 8, 2 / 8 + (5 / 8) * (1 / 4), 2 / 8 + (5 / 8) * (1 / 4) + (5 / 16) * (1 / 2)])
    total = aj.table_["cif_1"] + aj.table_["cif_2"] + aj.table_["survival"]
    np.testing.assert_allclose(total, 1.0)
    km = KaplanMeier().fit(t, e)
    assert (1 - km.survival_at([5])["survival"].iloc[0]) > f[-1]


# ----------------------------------------------------------------------------- tables
def test_summary_tables(lung):
    fits = km_by_group(lung.assign(g=pd.Categorical(np.where(lung["sex"] == 1, "M", "F"), ["M", "F", "X"])), "g")
    assert list(fits) == ["M", "F"]  # empty category left out, category order kept
    s = km_summary(fits, horizons=(90, 365))
    assert list(s.columns[:6]) == ["group", "n", "events", "median", "median_lower", "median_upper"]
    km = fits["M"]
    assert s.loc[0, "share_365"] == pytest.approx(1 - km.survival_at([365])["survival"].iloc[0])
    rc = risk_counts(fits, [0, 180, 365])
    assert list(rc.columns) == ["group", "0", "180", "365"]
    assert rc.loc[0, "0"] == fits["M"].n_ and (rc[["0", "180", "365"]].diff(axis=1).iloc[:, 1:] <= 0).all().all()


def test_concordance_grid_and_tree_agree(lung, monkeypatch):
    import ixl_eval.survival as sv

    risk = 0.02 * lung["age"] - 0.5 * lung["sex"] + 0.3 * lung["ph.ecog"]
    grid = concordance(lung["time"], lung["event"], risk, lung["w"], strata=lung["sex"])
    monkeypatch.setattr(sv, "_GRID_LIMIT", 0)
    tree = concordance(lung["time"], lung["event"], risk, lung["w"], strata=lung["sex"])
    assert grid == pytest.approx(tree, rel=1e-12)
    assert 0.5 < grid < 1


@pytest.mark.filterwarnings("ignore:.*weights are not integers")
def test_cox_and_ph_test_match_lifelines():
    # ties (whole days), weights and strata at once; lifelines as a second, independent code base
    from lifelines import CoxPHFitter
    from lifelines.statistics import proportional_hazard_test

    rng = np.random.default_rng(3)
    n = 1500
    f = pd.DataFrame({"a": rng.integers(0, 3, n), "x": rng.normal(size=n), "s": rng.integers(0, 2, n)})
    t = rng.exponential(200 / np.exp(0.4 * (f["a"] == 2) + 0.3 * f["x"]))
    c = rng.uniform(0, 400, n)
    f["time"] = np.ceil(np.minimum(t, c))
    f["event"] = (t <= c).astype(int)
    f["w"] = rng.uniform(0.5, 2, n)
    f["a"] = pd.Categorical(f["a"])
    for kw, lkw in [({}, {}), ({"strata": ["s"]}, {"strata": ["s"]})]:
        m = CoxModel(["a", "x"], **kw).fit(f, weights_col="w", robust=False)
        X = pd.DataFrame({"a=1": (f["a"] == 1) * 1.0, "a=2": (f["a"] == 2) * 1.0, "x": f["x"],
                          "time": f["time"], "event": f["event"], "w": f["w"], "s": f["s"]})
        lf = CoxPHFitter().fit(X if kw else X.drop(columns="s"), "time", "event", weights_col="w",
                               fit_options={"precision": 1e-14, "r_precision": 1e-16}, **lkw)
        close(m.hr_table_["coef"], lf.params_.to_numpy())
        close(m.hr_table_["se"], lf.standard_errors_.to_numpy())
        if not kw:
            ph = m.ph_test(time_transform="km")
            ref = proportional_hazard_test(lf, X.drop(columns="s"), time_transform="km")
            close(ph.attrs["terms"]["statistic"], ref.summary["test_statistic"].to_numpy())
            assert ph.attrs["global"]["df"] == 3 and list(ph["df"]) == [2, 1]


def test_cox_pattern_path_equals_row_path(monkeypatch):
    # categorical covariates on >5000 rows take the (block x pattern) route: same numbers
    import ixl_eval.survival as sv

    rng = np.random.default_rng(5)
    n = 8000
    f = pd.DataFrame({"a": pd.Categorical(rng.integers(0, 4, n)), "b": pd.Categorical(rng.integers(0, 2, n)),
                      "s": rng.integers(0, 3, n)})
    t = rng.exponential(300 / np.exp(0.3 * f["a"].cat.codes - 0.4 * f["b"].cat.codes))
    c = rng.uniform(0, 600, n)
    f["time"], f["event"] = np.ceil(np.minimum(t, c)), (t <= c).astype(int)
    f["w"] = rng.uniform(0.5, 2, n)
    fast = CoxModel(["a", "b"], strata=["s"]).fit(f, weights_col="w")
    assert fast._data.pat is not None
    monkeypatch.setattr(sv._EfronData, "_patterns", lambda self: setattr(self, "pat", None))
    slow = CoxModel(["a", "b"], strata=["s"]).fit(f, weights_col="w")
    assert slow._data.pat is None
    close(fast.hr_table_["coef"], slow.hr_table_["coef"], rtol=1e-10)
    close(fast.hr_table_["se"], slow.hr_table_["se"], rtol=1e-10)
    assert fast.log_likelihood_ == pytest.approx(slow.log_likelihood_, rel=1e-12)


def test_cox_start_stop_matches_coxph_and_lifelines():
    """(start, stop] data: R's coxph(Surv(start, stop, event) ~ ...) on survival::heart
    (tests/golden/survival_timevarying.R), and lifelines' CoxTimeVaryingFitter."""
    ref = json.loads((GOLDEN / "survival_timevarying.json").read_text())
    d = pd.read_csv(GOLDEN / "survival_heart.csv")
    d["transplant"] = d["transplant"].astype(int)
    m = CoxModel(["age", "year", "surgery", "transplant"]).fit(d, time_col="stop", start_col="start")
    np.testing.assert_allclose(m.params_.to_numpy(), ref["efron"]["coef"], rtol=1e-6)
    np.testing.assert_allclose(m.hr_table_["se"].to_numpy(), ref["efron"]["se"], rtol=1e-6)
    np.testing.assert_allclose([m.log_likelihood_null_, m.log_likelihood_], ref["efron"]["loglik"], rtol=1e-9)
    s = CoxModel(["age", "transplant"], strata=["surgery"]).fit(d, time_col="stop", start_col="start")
    np.testing.assert_allclose(s.params_.to_numpy(), ref["strata"]["coef"], rtol=1e-6)
    np.testing.assert_allclose(s.hr_table_["se"].to_numpy(), ref["strata"]["se"], rtol=1e-6)
    from lifelines import CoxTimeVaryingFitter

    ctv = CoxTimeVaryingFitter().fit(d[["id", "start", "stop", "event", "age", "year", "surgery", "transplant"]],
                                     id_col="id", event_col="event", start_col="start", stop_col="stop")
    np.testing.assert_allclose(m.params_.to_numpy(), ctv.params_[m.params_.index].to_numpy(), rtol=1e-5)
    # one row per person with start 0 is the ordinary Cox model
    one = d.drop_duplicates("id", keep="last").assign(start=0.0)
    a = CoxModel(["age", "surgery"]).fit(one, time_col="stop", start_col="start")
    b = CoxModel(["age", "surgery"]).fit(one, time_col="stop")
    np.testing.assert_allclose(a.params_.to_numpy(), b.params_.to_numpy(), rtol=1e-10)
    with pytest.raises(ValueError, match="start"):
        CoxModel(["age"]).fit(d.assign(start=d["stop"]), time_col="stop", start_col="start")
