"""ixl_eval.causal against independent references.

Golden numbers come from R (glm, MatchIt 4.5, sandwich) on MatchIt's ``lalonde`` data: the script
is ``tests/golden/causal_lalonde.R``, its output ``tests/golden/causal_lalonde.json``, the data
``tests/golden/lalonde.csv``. E-values are checked against the worked examples of VanderWeele &
Ding (2017) and hand computations of the published conversion formulas.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ixl_eval.causal import (
    IPTW,
    NearestNeighbourMatch,
    PropensityScore,
    balance_table,
    evalue,
    is_balanced,
    mean_difference,
    rate_ratio,
)
from ixl_eval.report.causal_plots import love_plot, overlap_plot
from ixl_eval.exceptions import DataValidationError

GOLDEN = Path(__file__).parent / "golden"
COVS = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]
# R's coefficient names -> ours (factor "race" with reference level "black")
R_TERMS = {"(Intercept)": "Intercept", "racehispan": "race=hispan", "racewhite": "race=white"}
R_BAL_TERMS = {"raceblack": "race=black", "racehispan": "race=hispan", "racewhite": "race=white"}


@pytest.fixture(scope="module")
def gold():
    return json.loads((GOLDEN / "causal_lalonde.json").read_text())


@pytest.fixture(scope="module")
def lalonde():
    return pd.read_csv(GOLDEN / "lalonde.csv").set_index("id")


@pytest.fixture(scope="module")
def ps(lalonde):
    return PropensityScore(COVS).fit(lalonde, "treat")


def close(a, b, rel=1e-6, abs_=1e-9):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=rel, atol=abs_)


# ------------------------------------------------------------------------------ propensity model
def test_propensity_model_matches_glm(gold, ps):
    terms = [R_TERMS.get(t, t) for t in gold["ps_model"]["term"]]
    assert list(ps.coef_.index) == terms
    close(ps.coef_.to_numpy(), gold["ps_model"]["coef"])
    close(ps.se_.to_numpy(), gold["ps_model"]["se"])
    close(ps.result_.deviance, gold["ps_model"]["deviance"])
    close(ps.scores_.to_numpy(), gold["ps"])
    close(ps.linear_.to_numpy(), gold["linear_predictor"])
    assert (ps.n_, ps.n_treated_) == (gold["n"], gold["n_treated"])
    assert not ps.separation_ and ps.dropped_terms_ == []
    assert repr(ps) == "<PropensityScore n=614 treated=185 terms=9>"


def test_logit_fit_takes_statsmodels_iterations_without_its_least_squares_solve():
    # a larger fixed-seed design with indicators and a wide-ranging numeric column: the
    # normal-equations IRLS gives statsmodels' GLM estimates, SEs and deviance
    import warnings

    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM

    from ixl_eval.causal import _logit_fit

    rng = np.random.default_rng(21)
    n = 20_000
    X = np.column_stack([np.ones(n), rng.integers(0, 2, n), rng.integers(0, 2, n), rng.uniform(0, 40_000, n),
                         rng.normal(size=n)])
    eta = -1.5 + 0.8 * X[:, 1] - 0.4 * X[:, 2] + 3e-5 * X[:, 3] + 0.5 * X[:, 4]
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(float)
    fit = _logit_fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = GLM(y, X, family=families.Binomial()).fit(tol=1e-13, maxiter=200)
    close(fit.params, ref.params, rel=1e-9)
    close(fit.bse, ref.bse, rel=1e-9)
    close(fit.deviance, ref.deviance, rel=1e-12)
    assert fit.converged


def test_binned_density_of_many_scores_matches_the_exact_kernel_density():
    from scipy.stats import gaussian_kde

    from ixl_eval.report.causal_plots import _KDE_EXACT_MAX, _kde

    rng = np.random.default_rng(8)
    grid = np.linspace(0, 1, 1001)
    for x in (rng.beta(1, 30, _KDE_EXACT_MAX + 30_000), rng.beta(2, 5, _KDE_EXACT_MAX + 1)):
        exact = gaussian_kde(x)(grid)
        assert np.max(np.abs(_kde(x, grid) - exact)) < 1e-3 * exact.max()


def test_odds_ratios_are_exp_coef(ps):
    orr = ps.odds_ratios()
    close(orr["odds_ratio"], np.exp(ps.coef_.drop("Intercept")))
    assert (orr["ci_low"] < orr["odds_ratio"]).all() and (orr["odds_ratio"] < orr["ci_high"]).all()


def test_missing_covariate_is_an_error_not_a_dropped_row(lalonde):
    df = lalonde.copy()
    df.loc[df.index[3], "educ"] = np.nan
    with pytest.raises(DataValidationError, match="educ.*1 missing"):
        PropensityScore(COVS).fit(df, "treat")


# ------------------------------------------------------------------------------ weighting
def test_att_weights_match_r(gold, lalonde, ps):
    raw = IPTW(stabilize=False).fit(lalonde["treat"], ps.scores_)
    close(raw.weights_.to_numpy(), gold["weights_att"])
    stab = IPTW(stabilize=True).fit(lalonde["treat"], ps.scores_)
    close(stab.weights_.to_numpy(), gold["weights_att_stabilised"])
    # stabilised comparator weights sum to about the number of comparators
    assert stab.weights_[lalonde["treat"] == 0].sum() == pytest.approx(429, rel=0.1)


def test_iptw_att_matches_r(gold, lalonde, ps):
    for stabilize, key in ((False, "iptw_att"), (True, "iptw_att_stabilised")):
        w = IPTW(stabilize=stabilize).fit(lalonde["treat"], ps.scores_)
        eff = mean_difference(lalonde["re78"], lalonde["treat"], w.weights_)
        close(eff.estimate, gold[key]["estimate"])
        close(eff.se, gold[key]["se_hc0"])
        assert eff.ci_low < eff.estimate < eff.ci_high
        assert (eff.n_treated, eff.n_control) == (185, 429)
    naive = mean_difference(lalonde["re78"], lalonde["treat"])
    close(naive.estimate, gold["naive"]["estimate"])
    close(naive.se, gold["naive"]["se_hc0"])


def test_trimmed_iptw_matches_r(gold, lalonde, ps):
    g = gold["iptw_att_trimmed"]
    w = IPTW(stabilize=False, trim=tuple(g["trim"])).fit(lalonde["treat"], ps.scores_)
    assert int(w.kept_.sum()) == g["n_kept"]
    assert sum(w.n_trimmed_.values()) == 614 - g["n_kept"]
    assert (w.weights_[~w.kept_] == 0).all()
    eff = mean_difference(lalonde["re78"], lalonde["treat"], w.weights_)
    close(eff.estimate, g["estimate"])
    close(eff.se, g["se_hc0"])


# ------------------------------------------------------------------------------ balance
def _check_balance(ours: pd.DataFrame, ref: dict, tag: str):
    terms = [R_BAL_TERMS.get(t, t) for t in ref["term"]]
    assert list(ours.index) == terms
    close(ours[f"mean_treated_{tag}"], ref["mean_treated"])
    close(ours[f"mean_control_{tag}"], ref["mean_control"])
    close(ours[f"smd_{tag}"], ref["smd"])
    vr_ref = np.array([np.nan if v is None else v for v in ref["var_ratio"]], dtype=float)
    vr = ours[f"var_ratio_{tag}"].to_numpy(dtype=float)
    assert (np.isnan(vr) == np.isnan(vr_ref)).all()  # binary covariates: no variance ratio
    close(vr[~np.isnan(vr)], vr_ref[~np.isnan(vr_ref)])


def test_balance_before_and_after_weighting_matches_matchit(gold, lalonde, ps):
    w = IPTW(stabilize=True).fit(lalonde["treat"], ps.scores_)
    bt = balance_table(lalonde, COVS, "treat", w.weights_)
    _check_balance(bt, gold["balance_before"], "before")
    _check_balance(bt, gold["balance_weighted"], "after")
    assert not is_balanced(bt, column="smd_before")
    # age stays slightly above 0.1 after weighting on this famous example (0.119)
    assert not is_balanced(bt)
    assert is_balanced(bt.drop(index="age"))


# ------------------------------------------------------------------------------ matching
@pytest.mark.parametrize(
    "key,scale,caliper",
    [("ps_caliper_0.1", "ps", 0.1), ("logit_caliper_0.2", "logit", 0.2), ("ps_no_caliper", "ps", None)],
)
def test_matching_matches_matchit(gold, lalonde, ps, key, scale, caliper):
    g = gold["matching"][key]
    m = NearestNeighbourMatch(caliper=caliper, scale=scale).fit(lalonde["treat"], ps.scores_)
    if caliper is None:
        assert m.caliper_abs_ is None
    else:
        close(m.caliper_abs_, g["caliper_abs"])
    assert m.n_pairs_ == g["n_pairs"]
    assert m.n_unmatched_ == 185 - g["n_pairs"]
    # the same pairs (lalonde has tied scores: this checks the documented tie rule too)
    ours = dict(zip(m.pairs_["treated"], m.pairs_["control"]))
    ref = dict(zip(g["treated_ids"], g["control_ids"]))
    assert ours == ref
    eff = mean_difference(lalonde["re78"], lalonde["treat"], m.weights_, cluster=m.pair_)
    close(eff.estimate, g["att"])
    close(eff.se, g["att_se_cluster"])
    bt = balance_table(lalonde, COVS, "treat", m.weights_)
    _check_balance(bt, g["balance"], "after")


def test_matching_tie_rule_on_a_small_example():
    # treated a (0.5): comparators c (0.4) and d (0.6) are equally far -> the lower one (c) wins;
    # treated b (0.5, later in data order) then takes d.
    t = pd.Series([1, 1, 0, 0], index=list("abcd"))
    p = pd.Series([0.5, 0.5, 0.4, 0.6], index=list("abcd"))
    m = NearestNeighbourMatch(caliper=None, scale="ps").fit(t, p)
    assert m.pairs_[["treated", "control"]].values.tolist() == [["a", "c"], ["b", "d"]]
    # identical comparator scores: the first in data order above the treated unit is taken
    t2 = pd.Series([1, 0, 0], index=list("xyz"))
    p2 = pd.Series([0.3, 0.7, 0.7], index=list("xyz"))
    assert NearestNeighbourMatch(caliper=None, scale="ps").fit(t2, p2).pairs_["control"].tolist() == ["y"]
    # a caliper leaves a treated unit unmatched instead of pairing it far away
    m3 = NearestNeighbourMatch(caliper=0.1, scale="ps").fit(t2, p2)
    assert m3.n_pairs_ == 0 and m3.n_unmatched_ == 1


def test_matching_without_replacement_uses_each_comparator_once():
    rng = np.random.default_rng(7)
    t = pd.Series(rng.integers(0, 2, 300))
    p = pd.Series(rng.uniform(0.05, 0.95, 300))
    m = NearestNeighbourMatch(caliper=0.2).fit(t, p)
    assert m.pairs_["control"].is_unique and m.pairs_["treated"].is_unique
    assert (t[m.pairs_["treated"]] == 1).all() and (t[m.pairs_["control"]] == 0).all()
    assert m.weights_.sum() == 2 * m.n_pairs_
    assert (m.pairs_["distance"] <= m.caliper_abs_).all()


def test_rate_ratio_matches_weighted_poisson_in_r(gold, lalonde, ps):
    g = gold["rate_ratio"]
    counts = (lalonde["re78"] / 2000).round()  # R's round() also rounds half to even
    exposure = 1 + lalonde["age"] % 5
    w = IPTW(stabilize=False).fit(lalonde["treat"], ps.scores_)
    rr = rate_ratio(counts, exposure, lalonde["treat"], w.weights_)
    close(math.log(rr.estimate), g["iptw"]["log_rr"])
    close(rr.se, g["iptw"]["se_hc0"])
    assert rr.ci_low < rr.estimate < rr.ci_high and rr.measure == "ratio"
    m = NearestNeighbourMatch(caliper=None, scale="ps").fit(lalonde["treat"], ps.scores_)
    rm = rate_ratio(counts, exposure, lalonde["treat"], m.weights_, cluster=m.pair_)
    close(math.log(rm.estimate), g["matched_no_caliper"]["log_rr"])
    close(rm.se, g["matched_no_caliper"]["se_cluster"])


@pytest.mark.parametrize("clustered", [False, True])
def test_rate_ratio_closed_form_equals_statsmodels_poisson_glm(clustered):
    # the closed form (one rate per arm, 2 x 2 sandwich) against the GLM it replaced
    import warnings

    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM

    rng = np.random.default_rng(17)
    n = 3000
    t = rng.integers(0, 2, n)
    ex = rng.uniform(0.2, 4, n)
    y = rng.poisson(ex * np.where(t == 1, 1.4, 0.9) * rng.gamma(2, 0.5, n)).astype(float)
    w = np.where(t == 1, 1.0, rng.uniform(0, 3, n))
    w[rng.uniform(size=n) < 0.1] = 0.0
    cl = np.arange(n) // 3 if clustered else None
    rr = rate_ratio(y, ex, t, w, cluster=cl)
    keep = w > 0
    model = GLM(y[keep], np.column_stack([np.ones(keep.sum()), t[keep]]), family=families.Poisson(),
                offset=np.log(ex[keep]), var_weights=w[keep])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if clustered:
            res = model.fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(cl[keep])[0]}, tol=1e-12)
        else:
            res = model.fit(cov_type="HC0", tol=1e-12)
    se = res.bse[1] * (math.sqrt((keep.sum() - 2) / (keep.sum() - 1)) if clustered else 1)
    close(math.log(rr.estimate), res.params[1], rel=1e-9)
    close(rr.se, se, rel=1e-9)


# ------------------------------------------------------------------------------ E-value
def test_evalue_worked_example_of_the_paper():
    # VanderWeele & Ding (2017), breastfeeding and infant respiratory death: RR 3.9 (1.8 to 8.7)
    ev = evalue(3.9, ci=(1.8, 8.7))
    assert ev.point == pytest.approx(7.26, abs=0.005)
    assert ev.ci == pytest.approx(3.0, abs=0.005)  # 1.8 + sqrt(1.8 * 0.8) = 3.0


def test_evalue_protective_and_null_crossing():
    # a protective RR is inverted: RR 0.5 has the same E-value as RR 2 (2 + sqrt(2) = 3.41)
    assert evalue(0.5).point == pytest.approx(2 + math.sqrt(2), rel=1e-12)
    assert evalue(0.5, ci=(0.3, 0.8)).ci == pytest.approx(1.25 + math.sqrt(1.25 * 0.25), rel=1e-12)
    assert evalue(1.3, ci=(0.9, 1.8)).ci == 1.0
    assert evalue(1.0).point == 1.0


def test_evalue_hazard_ratio_common_outcome_conversion():
    # HR 0.56 (0.46 to 0.69), common outcome (EValue's evalues.HR example). Conversion
    # RR = (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR)), computed here by hand:
    # 0.5^sqrt(0.56) = 0.5952916332, 0.5^sqrt(1/0.56) = 0.3960333391 -> RR = 0.6700839517 and
    # E-value 1/RR + sqrt(1/RR (1/RR - 1)) = 2.3495312573 (computed with `bc -l`)
    ev = evalue(0.56, ci=(0.46, 0.69), measure="HR", rare=False)
    assert ev.rr == pytest.approx(0.6700839517, abs=1e-9)
    assert ev.point == pytest.approx(2.3495312573, abs=1e-9)
    assert ev.ci > 1 and ev.ci < ev.point  # upper limit 0.69 is closer to the null
    # rare outcome: the HR is taken as a risk ratio
    assert evalue(0.56, measure="HR", rare=True).point == pytest.approx(evalue(0.56).point)
    # common-outcome OR: square root
    assert evalue(4.0, measure="OR").rr == pytest.approx(2.0)


def test_evalue_rejects_bad_input():
    with pytest.raises(ValueError):
        evalue(-1.0)
    with pytest.raises(ValueError):
        evalue(2.0, ci=(2.5, 3.0))
    with pytest.raises(ValueError):
        evalue(2.0, measure="RD")


# ------------------------------------------------------------------------------ figures
def test_plots_draw_without_counts(lalonde, ps):
    import matplotlib

    matplotlib.use("Agg")
    w = IPTW().fit(lalonde["treat"], ps.scores_)
    bt = balance_table(lalonde, COVS, "treat", w.weights_)
    fig = love_plot(bt, labels={"age": "Età"}, lang="it")
    ax = fig.axes[0]
    assert "Età" in [t.get_text() for t in ax.get_yticklabels()]
    assert ax.get_xlabel().startswith("Differenza standardizzata")
    fig2 = overlap_plot(ps.scores_, lalonde["treat"], group_labels=("NSW", "PSID"), lang="en")
    assert [t.get_text() for t in fig2.axes[0].get_legend().get_texts()] == ["NSW", "PSID"]
    import matplotlib.pyplot as plt

    plt.close("all")
