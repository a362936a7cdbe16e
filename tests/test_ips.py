"""ixl_eval.ips: the funnel, the design (no immortal time, nobody lost) and recovery of the truth.

The recovery tests run the whole design on the calibrated synthetic data and compare each estimate
with its own estimand in ``truth.json`` -> ``estimands`` (marginal ITT for the offer, marginal ATT for
the start, from both potential outcomes of the treated; the generator's conditional ``ips_log_hr``
for the whole-cohort model with IPS as a time-varying covariate).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import yaml

from ixl_eval import disclosure, ips
from ixl_eval.report import ips as ips_report
from ixl_eval.dataset import load_dataset
from ixl_eval.paths import PUBLISHED_FIGURES

COVS = ["gender", "age_band", "citizenship_group", "education", "enrolment_year", "months_since_enrolment"]


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    from ixl_eval.synth import write

    out = tmp_path_factory.mktemp("ips-synth")
    write(out, seed=20240430, scale=1.0)
    return load_dataset(out), json.loads((out / "truth.json").read_text())


@pytest.fixture(scope="module")
def start_effect(synth):
    ds, _ = synth
    frame = ips.ips_frame(ds, contrast="start", seed=7)
    return frame, ips.estimate_effect(frame, COVS, headline="hazard_ratio")


# ------------------------------------------------------------------------------ funnel
def test_funnel_on_synthetic_data_matches_the_report_and_a_direct_count(synth):
    ds, _ = synth
    fig = yaml.safe_load(PUBLISHED_FIGURES.read_text())["ips"]
    tot = ips.funnel_total(ips.ips_funnel(ds))
    assert (tot["offered"], tot["declined"], tot["taken_in_charge"]) == (
        fig["offered"], fig["declined"], fig["taken_in_charge"])
    # employed during IPS and contracts: recount independently, person by person
    pr = ds.programmes
    first = pr[pr["programme"] == "ips"].sort_values("offered_on").groupby("participant_id").first()
    employed, contracts = 0, 0
    for pid, r in first[first["started_on"].notna()].iterrows():
        end = r["ended_on"] if pd.notna(r["ended_on"]) else ds.cutoff
        s = ds.placements.loc[ds.placements["participant_id"] == pid, "started_on"]
        k = int(((s >= r["started_on"]) & (s <= end)).sum())
        employed += k > 0
        contracts += k
    assert (tot["employed_during_ips"], tot["contracts_signed"]) == (employed, contracts)
    # and the calibrated generator reproduces the report's 94 people and 226 contracts (tolerance)
    assert abs(employed - fig["found_work_during_ips"]["persons"]) <= 5
    assert abs(contracts - fig["contracts_signed"]) <= 0.1 * fig["contracts_signed"]
    assert tot["share_employed"] == pytest.approx(employed / fig["taken_in_charge"])
    by_year = ips.ips_funnel(ds)
    assert by_year["offered"].sum() == tot["offered"]
    assert (by_year["offered"] == by_year["declined"] + by_year["accepted_not_started"] + by_year["taken_in_charge"]).all()


def test_funnel_toy_example():
    f = ips.ips_funnel(ips._toy_ips_dataset(), by=None)
    assert pd.isna(f["year"].iloc[0])  # one row for all offers, and no word in any language
    assert f.iloc[0].to_dict() | {"share_employed": None, "year": None} == {
        "year": None, "offered": 3, "declined": 1, "accepted_not_started": 0, "taken_in_charge": 2,
        "employed_during_ips": 1, "share_employed": None, "contracts_signed": 2, "contracts_per_employed": 2.0}


# ------------------------------------------------------------------------------ design
def test_design_has_no_immortal_time_and_loses_nobody(synth):
    ds, _ = synth
    frame = ips.ips_frame(ds, contrast="offer", seed=3)
    part = ds.participants.set_index("participant_id")
    enrolled = frame["participant_id"].map(part["enrolled_on"])
    days = (frame["t0"] - enrolled).dt.days
    assert (days == frame["days_since_enrolment"]).all()
    treated = frame[frame["treated"] == 1]
    comp = frame[frame["treated"] == 0]
    # comparators' times since enrolment are drawn from the treated people's
    first = ips.first_ips(ds)
    d_treated = set((first["offered_on"] - part.loc[first.index, "enrolled_on"]).dt.days)
    assert set(comp["days_since_enrolment"]) <= d_treated
    # treated index date is the offer; comparators never offered
    assert (treated["t0"].to_numpy() == first.loc[treated["participant_id"], "offered_on"].to_numpy()).all()
    assert not comp["participant_id"].isin(first.index).any()
    # nobody in either arm was placed or had left before the index date
    pl = ds.placements.merge(frame[["participant_id", "t0"]], on="participant_id")
    assert not (pl["started_on"] < pl["t0"]).any()
    wd = frame["participant_id"].map(part["withdrawn_on"])
    assert not (wd < frame["t0"]).any()
    # follow-up starts at the index date: no time before it is counted
    assert (frame["time"] >= 0).all() and (frame["exposure_days"] >= 1).all()
    # every candidate is either analysed or excluded for a counted reason
    for g, t in (("treated", 1), ("comparison", 0)):
        n_in = int((frame["treated"] == t).sum())
        assert frame.attrs["n_candidates"][g] == n_in + sum(frame.attrs["excluded"][g].values())
    # same seed, same frame; another seed, other comparator dates
    again = ips.ips_frame(ds, contrast="offer", seed=3)
    pd.testing.assert_frame_equal(frame, again)
    other = ips.ips_frame(ds, contrast="offer", seed=4)
    assert not other["t0"].equals(frame["t0"])


def test_start_contrast_leaves_out_decliners_counted(synth):
    ds, _ = synth
    frame = ips.ips_frame(ds, contrast="start", seed=3)
    first = ips.first_ips(ds)
    declined = first.index[first["decision"] == "declined"]
    assert not frame["participant_id"].isin(declined).any()
    assert frame.attrs["excluded"]["treated"]["declined_offer"] == len(declined)
    t = ips_report.exclusion_table(frame, "it").data
    assert t.loc[(t["group"] == "IPS") & (t["item"] == "Persone analizzate"), "n"].item() == (frame["treated"] == 1).sum()


# ------------------------------------------------------------------------------ recovery
def test_start_contrast_recovers_its_att_estimands(synth, start_effect):
    _, truth = synth
    frame, eff = start_effect
    target = truth["estimands"]["ips"]["start"]
    assert eff.estimand == "ATT" and set(eff.estimates.loc[eff.estimates["method"] != "naive", "estimand"]) == {"ATT"}
    # the generator offers IPS more often to groups with lower placement hazards
    offer = truth["model"]["ips"]["offer_log_odds"]
    hazard = truth["model"]["first_placement"]["cox_log_hr"]
    shared = [k for k in offer if k in hazard]
    assert np.corrcoef([offer[k] for k in shared], [hazard[k] for k in shared])[0, 1] < 0
    # each estimate against its own estimand: the marginal ATT log-HR (not the conditional 1.30)
    iptw = eff.get("hazard_ratio", "iptw")
    assert iptw["ci_low"] <= math.exp(target["log_hr"]) <= iptw["ci_high"]
    assert target["log_hr"] < truth["ips_log_hr"]  # non-collapsibility: marginal below conditional
    for h in ("placed_6m", "placed_12m"):
        r = eff.get(h, "iptw")
        assert r["ci_low"] <= target[f"{h}_risk_difference"] <= r["ci_high"], h
    # (the naive estimate is not asserted to be lower: confounding by covariates pushes it down,
    # confounding by calendar year - offers concentrated in slow years - pushes it up)
    assert eff.conclusive("iptw") and not eff.conclusive("naive")
    # weighting balanced every level of every covariate (each enrolment year too), unbalanced before
    assert any(t.startswith("enrolment_year=") for t in eff.balance_iptw.index)
    assert (eff.balance_iptw["smd_after"].abs() < 0.1).all()
    assert (eff.balance_iptw["smd_before"].abs() >= 0.1).any()
    assert eff.evalue is not None and eff.evalue.point > 1


def test_offer_contrast_recovers_its_itt_estimand(synth):
    ds, truth = synth
    frame = ips.ips_frame(ds, contrast="offer", seed=7)
    eff = ips.estimate_effect(frame, COVS)
    target = truth["estimands"]["ips"]["offer"]
    assert eff.estimand == "ITT" and target["estimand"] == "ITT"
    hr = eff.get("hazard_ratio", "iptw")
    assert hr["ci_low"] <= math.exp(target["log_hr"]) <= hr["ci_high"]
    r = eff.get("placed_12m", "iptw")
    assert r["ci_low"] <= target["placed_12m_risk_difference"] <= r["ci_high"]
    # the offer (a third decline, nobody benefits before the start) is weaker than the start
    assert target["log_hr"] < truth["estimands"]["ips"]["start"]["log_hr"]


def test_conditional_model_recovers_the_generator_parameter(synth):
    ds, truth = synth
    c = ips.conditional_effect(ds)
    assert c.estimand == "conditional" and c.contrast == "start"
    assert c.ci_low <= math.exp(truth["ips_log_hr"]) <= c.ci_high
    assert c.n_ips > 100 and c.n_events > 1000
    # by hand: the same model with lifelines' CoxTimeVaryingFitter on the counting-process rows
    assert abs(math.log(c.hr) - truth["ips_log_hr"]) < 3 * c.se


def test_seed_2_year_imbalance_shows_and_the_gate_reacts(tmp_path):
    """Seed 2: IPS offers are concentrated in some enrolment years. With the year as one linear number
    in the score, the mean year matches but single years do not: the per-year rows of the balance table
    show it and the gate makes the result inconclusive. Year as categories balances them."""
    from ixl_eval.cli import main

    assert main(["synth", "--out", str(tmp_path / "d"), "--seed", "2"]) == 0
    ds = load_dataset(tmp_path / "d")
    frame = ips.ips_frame(ds, contrast="offer")
    lin = ips.estimate_effect(frame, COVS, year_as="linear")
    years = lin.balance_iptw.loc[[t for t in lin.balance_iptw.index if t.startswith("enrolment_year=")]]
    assert len(years) >= 4
    assert (years["smd_after"].abs() >= 0.1).any()
    assert not lin.conclusive("iptw") and "not_balanced" in lin.verdict["iptw"][1]
    shown = ips_report.balance_table(lin, "en").data
    assert shown["characteristic"].str.startswith("Enrolment year").sum() == len(years)
    cat = ips.estimate_effect(frame, COVS)
    assert cat.conclusive("iptw")
    assert (cat.balance_iptw["smd_after"].abs() < 0.1).all()
    assert "one number" in ips_report.effect_paragraph(lin, ips_report.estimates_table(lin, "en"), "en")


def test_estimands_are_named_in_the_texts(synth, start_effect):
    _, eff = start_effect
    it = ips_report.effect_paragraph(eff, ips_report.estimates_table(eff, "it"), "it")
    en = ips_report.effect_paragraph(eff, ips_report.estimates_table(eff, "en"), "en")
    assert "tra chi lo ha iniziato" in it and "among those who started" in en
    assert "non collassabilità" in it and "non-collapsibility" in en
    tab = ips_report.estimates_table(eff, "en").data
    w = tab.loc[tab["method"] == "Weighting (IPTW)", "what"]
    assert w.str.contains("among starters \\(ATT\\)").all() and w.str.contains("marginal hazard ratio").any()
    assert set(eff.estimates["scale"]) >= {"risk_difference", "risk_ratio", "marginal_hazard_ratio"}


def test_gates_make_the_result_inconclusive_in_plain_words(start_effect):
    frame, _ = start_effect
    few = ips.estimate_effect(frame, COVS, min_per_arm=10_000)
    assert few.verdict["iptw"] == (False, ["too_few"]) and few.evalue is None
    text = ips_report.describe_effect(few, ips_report.estimates_table(few, "it"), "it")[0]
    assert "non è conclusivo" in text and "meno di 10000 persone" in text
    strict = ips.estimate_effect(frame, COVS, balance_threshold=1e-12)
    assert "not_balanced" in strict.verdict["iptw"][1]
    assert "inconclusive" in ips_report.describe_effect(strict, ips_report.estimates_table(strict, "en"), "en")[0]


def test_sentences_and_tables_show_no_small_counts(start_effect):
    _, eff = start_effect
    tab = ips_report.estimates_table(eff, "it")
    assert tab.data["n_treated"].dtype.kind == "i"  # integers: the disclosure control protects them
    disclosure.protect([tab], 200)  # 162 IPS people: below this threshold, above the comparators'
    s = ips_report.describe_effect(eff, tab, "it", k=200)
    assert s[0].startswith("Le persone prese in carico da IPS sono meno di 200")
    assert tab.value(0, "n_control") is not None and tab.value(0, "n_treated") is None
    from ixl_eval.report import render
    assert not any(render.cell_text(tab, i, "difference", "it", 200).startswith("-") for i in range(len(tab.data)))
    assert len(ips_report.balance_table(eff, "en").data) == len(eff.balance_iptw)


def test_unknown_covariate_and_headline_are_rejected(start_effect):
    frame, _ = start_effect
    with pytest.raises(ValueError, match="unknown covariate"):
        ips.estimate_effect(frame, ["shoe_size"])
    with pytest.raises(ValueError, match="headline"):
        ips.estimate_effect(frame, COVS, headline="happiness")


# ------------------------------------------------------------------------------ Cox engine
def _lifelines_hr(frame, w, cluster):
    """The hazard ratio as ips._cox_hr computed it with lifelines (before survival.CoxModel)."""
    import warnings

    from lifelines import CoxPHFitter

    keep = w > 0
    df = pd.DataFrame({"time": frame["time"].to_numpy()[keep], "event": (frame["event"].to_numpy()[keep] == 1) * 1,
                       "treated": frame["treated"].to_numpy()[keep].astype(float)})
    kw = {}
    weighted = not np.all(w[keep] == 1)
    if weighted:
        df["w"], kw["weights_col"] = w[keep], "w"
    if cluster is not None:
        df["cl"], kw["cluster_col"] = pd.factorize(pd.Series(cluster).to_numpy()[keep])[0], "cl"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cph = CoxPHFitter().fit(df, "time", "event", robust=weighted or cluster is not None,
                                fit_options={"precision": 1e-14, "r_precision": 1e-16}, **kw)
    return float(cph.params_["treated"]), float(cph.standard_errors_["treated"])


def _toy_frame(seed: int, n: int, tied: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    treated = rng.integers(0, 2, n)
    t = rng.exponential(300 / np.exp(0.5 * treated))
    c = rng.uniform(0, 600, n)
    time = np.minimum(t, c)
    event = np.where(t <= c, 1, rng.choice([0, 2], n))  # 2 = withdrawal, censored in the HR
    return pd.DataFrame({"time": np.ceil(time) if tied else time, "event": event, "treated": treated})


@pytest.mark.parametrize("method", ["naive", "iptw", "matching"])
def test_cox_hr_equals_lifelines_robust_weighted_cox_without_ties(method):
    # Without tied times lifelines' robust variance is exact, so the two engines must agree on
    # the estimate and on all three variances: model-based (naive), robust per person (IPTW:
    # lifelines robust=True without a cluster is one cluster per row) and clustered (pairs).
    f = _toy_frame(11, 1200, tied=False)
    rng = np.random.default_rng(12)
    w = {"naive": np.ones(len(f)), "iptw": rng.uniform(0.2, 3, len(f)),
         "matching": rng.integers(0, 2, len(f)).astype(float)}[method]
    cluster = np.arange(len(f)) // 2 if method == "matching" else None
    hr = ips._cox_hr(f, w, cluster, method)
    b, se = _lifelines_hr(f, w, cluster)
    assert math.log(hr.estimate) == pytest.approx(b, rel=1e-9)
    assert hr.se == pytest.approx(se, rel=1e-7)
    assert hr.n_treated + hr.n_control == int((w > 0).sum())


def test_cox_hr_on_the_bundled_design_matches_lifelines(start_effect):
    # The real design (whole-day times, so ties): same estimates as lifelines; the robust SEs
    # differ by a few per mille because lifelines' score residuals ignore ties (processed in row
    # order), whereas CoxModel's treat them as R's coxph (Efron) does (test_survival.py).
    frame, eff = start_effect
    methods = {"naive": (np.ones(len(frame)), None), "iptw": (eff.weights["iptw"].to_numpy(), None),
               "matching": (eff.weights["matching"].to_numpy(), eff.match.pair_.to_numpy())}
    for m, (w, cl) in methods.items():
        hr = ips._cox_hr(frame, w, cl, m)
        b, se = _lifelines_hr(frame, w, cl)
        assert math.log(hr.estimate) == pytest.approx(b, rel=1e-7), m  # both engines' convergence
        assert hr.se == pytest.approx(se, rel=1e-7 if m == "naive" else 5e-3), m
        row = eff.get("hazard_ratio", m)
        assert row["estimate"] == pytest.approx(hr.estimate, rel=1e-12)
