"""Contract stabilisation: episode rules, year and people views, employer anonymisation, disclosure,
and agreement with R (survival, cmprsk) on a conversion-like dataset."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ixl_eval import stabilisation as st
from ixl_eval.cohorts import EPISODE_SUBGROUPS, fixed_term_episodes
from ixl_eval.dataset import Dataset
from ixl_eval.disclosure import protect
from ixl_eval.report import Report
from ixl_eval.report import stabilisation as show
from ixl_eval.report.table import PRIMARY, SECONDARY, SHOWN

D = pd.to_datetime
GOLDEN = Path(__file__).parent / "golden"


def _ds(extra_placements: pd.DataFrame | None = None) -> Dataset:
    """Hand-made data: each placement exercises one rule, named in the comment beside it."""
    participants = pd.DataFrame(
        {
            "participant_id": ["A", "B", "C", "D", "E", "F"],
            "enrolled_on": D(["2021-01-10", "2021-03-01", "2022-02-01", "2022-06-01", "2023-01-15", "2023-09-01"]),
            "birth_year": [1990, 1985, 1970, 1995, 2000, 1980],
            "gender": ["F", "M", "F", "M", "F", "X"],
            "citizenship": ["IT", "MA", "IT", "RO", "IT", "UA"],
            "education": ["upper_secondary_diploma"] * 6,
            "withdrawn_on": D([None] * 6),
        }
    )
    rows = [
        # id, person, employer, size, sector, type, channel, start, end, converted
        ("X1", "A", "E1", "large", "Trasporti", "fixed_term", "ixl_companies", "2021-02-01", "2021-12-31", "2021-08-01"),  # conversion
        ("X2", "A", "E1", "large", "Trasporti", "fixed_term", "ixl_companies", "2023-01-01", "2023-06-30", None),  # A's 2nd: ended
        ("X3", "B", "E2", "micro", "Ristorazione", "fixed_term", "ips", "2021-04-01", "2021-04-01", None),  # ends on day 0
        ("X4", "B", "E3", "small", "Logistica", "permanent", "apl", "2022-03-01", None, None),  # permanent hire
        ("X5", "C", "E1", "large", "Trasporti", "fixed_term", "ixl_training", "2022-03-01", "2022-09-30", "2022-09-30"),  # converted on last day
        ("X6", "D", "E2", "micro", "Ristorazione", "fixed_term", "apl", "2024-01-10", "2024-07-31", None),  # ends after cut-off: censored
        ("X7", "E", "E3", "small", "Logistica", "internship", "ixl_companies", "2023-02-01", "2023-05-01", None),  # not fixed-term
        ("X8", "E", "E3", "small", "Logistica", "fixed_term", "ixl_companies", "2023-06-01", None, None),  # running
        ("X9", "F", "E4", "medium", "Pulizie", "permanent", "orientation", "2023-10-02", None, None),  # permanent at first hire
    ]
    pl = pd.DataFrame(rows, columns=["placement_id", "participant_id", "employer_id", "employer_size", "sector",
                                     "contract_type", "channel", "started_on", "ended_on", "converted_on"])
    for c in ("started_on", "ended_on", "converted_on"):
        pl[c] = D(pl[c])
    if extra_placements is not None:
        pl = pd.concat([pl, extra_placements], ignore_index=True)
    return Dataset(participants=participants, interviews=pd.DataFrame(columns=["participant_id", "interviewed_on", "format"]),
                   programmes=pd.DataFrame(), placements=pl, extracted_on=dt.date(2024, 4, 30), source="test",
                   data_dir=Path("."))


def _ep(which="all", **kw):
    return fixed_term_episodes(_ds(), which=which, cutoff=kw.pop("cutoff", "2024-04-30"), **kw).set_index("placement_id")


# ------------------------------------------------------------------------------ episode frame
def test_episode_event_and_time_rules():
    f = _ep()
    assert list(f.index) == ["X1", "X3", "X5", "X2", "X8", "X6"]  # by start date
    assert (f.loc["X1", "event"], f.loc["X1", "time"]) == (1, 181.0)  # 2021-02-01 -> 2021-08-01
    assert (f.loc["X2", "event"], f.loc["X2", "time"]) == (2, 180.0)
    assert (f.loc["X3", "event"], f.loc["X3", "time"]) == (2, 0.5)  # same-day end: during day one
    assert (f.loc["X5", "event"], f.loc["X5", "time"]) == (1, 213.0)  # conversion on the last day wins
    assert (f.loc["X6", "event"], f.loc["X6", "time"]) == (0, 111.0)  # end after the cut-off is unknown
    assert (f.loc["X8", "event"], f.loc["X8", "time"]) == (0, 334.0)
    assert f.loc["X6", "exit_on"] == pd.Timestamp("2024-04-30")
    assert f["converted"].tolist() == (f["event"] == 1).tolist()
    assert "X7" not in f.index and "X4" not in f.index  # other contract types are not episodes


def test_episode_covariates():
    f = _ep()
    assert set(EPISODE_SUBGROUPS) <= set(f.columns)
    assert f.loc["X1", "citizenship_group"] == "IT" and f.loc["X3", "citizenship_group"] == "foreign"
    assert f.loc["X2", "enrolment_year"] == 2021 and f.loc["X2", "start_year"] == 2023
    assert f.loc["X6", "start_quarter"] == "2024Q1"
    assert list(f["employer_size"].cat.categories) == ["micro", "small", "medium", "large"]
    assert f["employer_name"].isna().all()  # the optional column is absent from these data


def test_earlier_cutoff_censors_later_events():
    f = _ep(cutoff="2021-06-30")
    assert list(f.index) == ["X1", "X3"]
    assert (f.loc["X1", "event"], f.loc["X1", "time"]) == (0, 149.0)  # conversion on 2021-08-01 not yet known
    assert f.attrs["excluded"]["started_after_cutoff"] == 4


def test_first_episode_per_person_and_accounting():
    f = _ep("first")
    assert "X2" not in f.index and f["participant_id"].is_unique
    ex = f.attrs["excluded"]
    assert ex == {"started_after_cutoff": 0, "not_first_fixed_term": 1, "started_outside_window": 0}
    assert f.attrs["n_source"] == len(f) + sum(ex.values()) == 6


def test_window_applies_to_first_contract():
    f = _ep("first", start_from="2022-01-01")
    # A's first fixed-term contract (2021) is outside the window: A is excluded, not represented by X2
    assert "A" not in set(f["participant_id"]) and f.attrs["excluded"]["started_outside_window"] == 2
    assert f.attrs["n_source"] == len(f) + sum(f.attrs["excluded"].values())


def test_episode_argument_errors():
    with pytest.raises(ValueError, match="after the extraction date"):
        fixed_term_episodes(_ds(), cutoff="2024-05-01")
    with pytest.raises(ValueError, match="which"):
        fixed_term_episodes(_ds(), which="last")


# ------------------------------------------------------------------------------ year view
def test_permanent_routes_by_year_and_quarter():
    y = st.permanent_routes(_ds(), cutoff="2024-04-30")
    assert y["period"].tolist() == ["2021", "2022", "2023", "2024"]
    assert y["at_hire"].tolist() == [0, 1, 1, 0]
    assert y["by_conversion"].tolist() == [1, 1, 0, 0]  # in the year of the conversion, not of the start
    assert y["complete"].tolist() == [True, True, True, False]
    assert y["share_by_conversion"].iloc[0] == 1.0 and np.isnan(y["share_by_conversion"].iloc[3])
    q = st.permanent_routes(_ds(), cutoff="2022-09-30", freq="quarter")
    assert q["period"].iloc[0] == "2021Q3" and q["period"].iloc[-1] == "2022Q3"
    assert q.set_index("period").loc["2022Q3", "by_conversion"] == 1 and q["complete"].iloc[-1]
    assert q["total"].sum() == 3


# ---------------------------------------------------------------------------- people view
def test_first_permanent_rules():
    f = st.first_permanent(_ds(), cutoff="2024-04-30").set_index("participant_id")
    assert (f.loc["A", "time"], f.loc["A", "route"]) == (181.0, "conversion")
    assert (f.loc["B", "time"], f.loc["B", "route"]) == (334.0, "at_hire")  # 2021-04-01 -> 2022-03-01
    assert (f.loc["F", "time"], f.loc["F", "event"], f.loc["F", "first_type"]) == (0.5, 1, "permanent")
    assert (f.loc["E", "event"], f.loc["E", "time"]) == (0, 454.0)  # first placed 2023-02-01 (internship)
    assert f.loc["C", "cohort"] == 2022
    assert f.attrs["excluded"] == {"never_placed": 0}


def test_people_view_matches_hand_kaplan_meier():
    f = st.first_permanent(_ds(), cutoff="2024-04-30")
    # times: F 0.5 (event), D 111 (cens), A 181 (event), C 213 (event), B 334 (event), E 454 (cens)
    # KM at 365: (5/6) * (3/4) * (2/3) * (1/2) = 0.2083: share permanent 0.7917
    v = st.people_view(f, 365)
    allr = v.iloc[0]
    assert allr["share"] == pytest.approx(1 - 5 / 6 * 3 / 4 * 2 / 3 * 1 / 2)
    assert (allr["n"], allr["permanent_first"], allr["reached"]) == (6, 1, 4)
    by = v.set_index("group")
    assert by.loc[2024, "n"] == 1 and np.isnan(by.loc[2024, "share"])  # 2024 cohort: a year not yet observed
    assert by.loc[2021, "followed"] == 2


# ---------------------------------------------------------------------- conversion estimators
def _golden():
    d = pd.read_csv(GOLDEN / "stabilisation_episodes.csv")
    d["employer_size"] = pd.Categorical(d["employer_size"], ["micro", "small", "medium", "large"])
    return d, json.loads((GOLDEN / "stabilisation_reference.json").read_text())


def test_incidence_matches_r_survfit_and_cuminc():
    d, ref = _golden()
    horizons = [183, 365, 730]
    t = st.conversion_incidence(d, horizons, by=["employer_size"]).set_index("group")
    np.testing.assert_allclose([t.loc["all", f"cif_{h}"] for h in horizons], ref["cuminc_all"], rtol=1e-9)
    for lev in ["all", "micro", "small", "medium", "large"]:
        fit = st.ConversionIncidence().fit(d if lev == "all" else d[d["employer_size"] == lev]).fits_["all"]
        at = st._cif_at(fit, horizons)
        got, se = at["cif"].to_numpy(), at["std_err"].to_numpy()
        known = ~np.isnan(got)
        np.testing.assert_allclose(got[known], np.array(ref["aj"][lev]["cif"])[known], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(se[known], np.array(ref["aj"][lev]["se"])[known], rtol=1e-6)
        if not known.all():  # only past a last time that is a censoring (R's extend=TRUE carries it on)
            assert fit.table_["survival"].iloc[-1] > 0
    assert np.isnan(t.loc["micro", "cif_730"]) and not np.isnan(t.loc["large", "cif_730"])


def test_incidence_without_censoring_is_the_plain_share():
    # with no censoring the Aalen–Johansen estimate is the share converted by each day
    rng = np.random.default_rng(7)
    n = 500
    conv = rng.exponential(300, n).round() + 1
    end = rng.integers(10, 400, n).astype(float)
    ep = pd.DataFrame({"time": np.minimum(conv, end), "event": np.where(conv <= end, 1, 2)})
    t = st.conversion_incidence(ep, [90, 180, 365]).iloc[0]
    for h in (90, 180, 365):
        assert t[f"cif_{h}"] == pytest.approx(((ep["event"] == 1) & (ep["time"] <= h)).mean(), abs=1e-12)


def test_cox_cluster_robust_matches_r():
    d, ref = _golden()
    m = st.conversion_cox(d, ["employer_size"], reference={"employer_size": "micro"})
    assert m.hr_table_["level"].tolist() == ref["cox"]["terms"]
    np.testing.assert_allclose(m.hr_table_["coef"], ref["cox"]["coef"], rtol=1e-6)
    np.testing.assert_allclose(m.hr_table_["se"], ref["cox"]["robust_se"], rtol=1e-6)  # clustered by person
    assert m.robust_


def test_cox_reference_is_most_common_level_and_single_levels_dropped():
    d, _ = _golden()
    d["region"] = "Bologna"
    m = st.conversion_cox(d, ["employer_size", "region"])
    assert m.dropped_ == ["region"] and set(m.hr_table_["reference"]) == {"large"}


def test_logrank_and_rates_match_r():
    d, ref = _golden()
    r = st.conversion_test(d, "employer_size")
    assert r.statistic == pytest.approx(ref["logrank"]["chisq"], rel=1e-6) and r.df == ref["logrank"]["df"]
    rates = st.conversion_rates(d, "employer_size").set_index("group")
    for lev, v in ref["rates"].items():
        assert rates.loc[lev, ["rate", "lower", "upper"]].tolist() == pytest.approx([v["rate"], v["lower"], v["upper"]],
                                                                                     rel=1e-6)


def test_missing_subgroup_values_raise():
    d, _ = _golden()
    d["employer_size"] = d["employer_size"].astype(object)
    d.loc[0, "employer_size"] = None
    with pytest.raises(ValueError, match="missing"):
        st.ConversionIncidence("employer_size").fit(d)
    with pytest.raises(ValueError, match="missing"):
        st.conversion_test(d, "employer_size")


# ------------------------------------------------------------------------------ employer view
def _employer_episodes():
    rng = np.random.default_rng(3)
    sizes = {"E01": 40, "E02": 25, "E03": 25, "E04": 12, "E05": 9, "E06": 3}
    names = {"E01": "Camst", "E02": "TPER", "E03": None, "E04": "Coop  Alleanza 3.0", "E05": "Hera", "E06": None}
    ids = np.repeat(list(sizes), list(sizes.values()))
    n = len(ids)
    conv = rng.random(n) < 0.4
    return pd.DataFrame({"employer_id": ids, "employer_name": [names[i] for i in ids],
                         "participant_id": [f"P{i}" for i in range(n)],
                         "time": rng.integers(20, 400, n).astype(float), "event": np.where(conv, 1, 2),
                         "converted": conv})


def test_employer_view_threshold_consent_and_neutral_keys():
    ep = _employer_episodes()
    t = st.employer_view(ep, min_contracts=10, consenting_employers=["camst", "Coop Alleanza 3.0", "Unipol"],
                         horizon_days=365)
    assert t["kind"].tolist() == ["named", "anonymous", "anonymous", "named", "other"]
    assert t["name"].tolist() == ["Camst", None, None, "Coop Alleanza 3.0", None]
    assert t["rank"].tolist() == [-1, 0, 1, -1, -1]
    assert t["contracts"].tolist() == [40, 25, 25, 12, 12]
    assert t["contracts"].sum() == len(ep)  # pooled row: nothing left out
    assert t["employers"].iloc[-1] == 2
    assert t.attrs["consent_not_found"] == ["Unipol"]
    assert t.attrs["consented_not_shown"] == []
    # no language in the estimation: no "Azienda", "Altre aziende", "Employer" anywhere
    assert not any(re.search(r"Aziend|Employer|Altre", str(v)) for v in t.to_numpy().ravel())
    # TPER did not consent: its name is not returned; nothing that identifies an employer is returned either
    assert "TPER" not in t["name"].tolist()
    assert not any(re.search(r"E\d\d", str(v)) for v in t.to_numpy().ravel())
    # the report labels them through the vocabulary
    it = show.employers_table(t, "it").data["employer"].tolist()
    assert it == ["Camst", "Azienda A", "Azienda B", "Coop Alleanza 3.0", "Altre aziende (2)"]


def test_employer_view_top_and_english_labels():
    ep = _employer_episodes()
    t = st.employer_view(ep, min_contracts=10, consenting_employers=["Hera"], top=2)
    assert show.employers_table(t, "en").data["employer"].tolist() == ["Employer A", "Employer B", "Other employers (4)"]
    assert t.attrs["consented_not_shown"] == ["Hera"]  # 9 contracts: below the minimum
    assert t["contracts"].sum() == len(ep)
    # a consenting employer above the minimum is shown even beyond the top ones
    t = st.employer_view(ep, min_contracts=10, consenting_employers=["Coop Alleanza 3.0"], top=1)
    assert show.employers_table(t, "it").data["employer"].tolist() == ["Azienda A", "Coop Alleanza 3.0", "Altre aziende (4)"]


def test_employer_view_same_consenting_name_twice_is_numbered():
    ep = _employer_episodes()
    ep.loc[ep["employer_id"] == "E03", "employer_name"] = "TPER"
    t = st.employer_view(ep, min_contracts=10, consenting_employers=["TPER"])
    assert {"TPER (1)", "TPER (2)"} <= set(t["name"].dropna())


# ---------------------------------------------------------------------- presentation, disclosure
def test_employer_table_withholds_shares_of_withheld_counts():
    ep = _employer_episodes()
    t = st.employer_view(ep, min_contracts=10, horizon_days=365)
    t.loc[1, "conversions"] = 4  # a small count: its share must go with it
    tab = show.employers_table(t, "it")
    protect([tab], 10)
    assert tab.status.at[1, "conversions"] == PRIMARY
    # contracts, of which converted: rows add up to nothing, the column is the line
    assert (tab.by, tab.lines) == (None, "columns")
    hidden = np.array([tab.status.at[i, c] != SHOWN for i in range(len(tab.data)) for c in ("conversions",)])
    assert hidden.sum() >= 2  # secondary suppression hid at least one more cell of the column
    assert tab.status.at[1, "contracts"] == SHOWN  # ... in the column, not in the row
    for i in range(len(tab.data)):
        w = tab.status.at[i, "contracts"] != SHOWN or tab.status.at[i, "conversions"] != SHOWN
        assert (tab.status.at[i, "cif"] != SHOWN) == w
        assert (tab.value(i, "cif") is None) == w


def test_stacked_subgroups_are_protected_block_by_block():
    # two genders and a small third; elsewhere in the column other small cells: a lone small cell
    # of the gender block must still get a partner inside the block (its total is the "all" row)
    t = pd.DataFrame({"subgroup": ["all", "gender", "gender", "gender", "sector", "sector", "sector"],
                      "group": ["all", "F", "M", "X", "A", "B", "C"], "n": [300, 150, 143, 7, 280, 12, 8],
                      "conversions": [90, 45, 43, 2, 80, 6, 4], "ended": [200, 100, 95, 5, 190, 6, 4],
                      "running": [10, 5, 5, 0, 10, 0, 0]})
    for c in ("cif_365", "cif_365_lower", "cif_365_upper"):
        t[c] = 0.3
    t.attrs.update(kind="incidence", horizons=[365])
    tab = show.incidence_table(t, "en")
    assert tab.by == "subgroup"
    protect([tab], 10)
    gender = tab.status.loc[tab.data["subgroup"] == "Gender", "n"].tolist()
    assert gender.count(PRIMARY) == 1 and SECONDARY in gender  # 7 could otherwise be 300 - 150 - 143
    # the partner is the smaller of the two large cells (143), never the largest
    assert tab.status.at[2, "n"] == SECONDARY and tab.status.at[1, "n"] == SHOWN
    shares = tab.status.loc[tab.data["subgroup"] == "Gender", "cif_365"].tolist()
    assert sum(s_ != SHOWN for s_ in shares) == 2


def test_secondary_partner_is_the_smallest_cell_not_the_total():
    # a quarter with 4 hires: its row partner is the smaller of conversions (20) and total (24)
    routes = pd.DataFrame({"period": ["2023Q1", "2023Q2"], "at_hire": [4, 30], "by_conversion": [20, 25],
                           "total": [24, 55], "share_by_conversion": [20 / 24, 25 / 55], "complete": [True, True]})
    routes.attrs["freq"] = "quarter"
    tab = show.routes_table(routes, "it")
    protect([tab], 10)
    assert tab.status.at[0, "at_hire"] == PRIMARY
    assert tab.status.at[0, "by_conversion"] == SECONDARY and tab.status.at[0, "total"] != PRIMARY
    # zero is shown (nobody), and never used as a partner
    routes.loc[0, ["at_hire", "total"]] = [0, 20]
    tab = show.routes_table(routes, "it")
    protect([tab], 10)
    assert not tab.any_hidden()


def _published(ds, tmp_path, k, **kw):
    """What the notebook does, in-process: analyse, build, publish, record, show every table."""
    kw.setdefault("employer_min_contracts", k)
    a = st.analyse(ds, **kw)
    rep = Report("stabilizzazione", ds, cutoff=pd.Timestamp(kw.get("cutoff") or ds.cutoff), lang="it", k=k,
                 output_dir=tmp_path)
    t = show.tables(a, lang=rep.lang)
    rep.publish(*t.values(), relations=show.relations(a, t))
    show.record(rep, a, t)
    for name in t:
        if name != "contratti_in_corso":
            rep.table(t[name])
    return rep, a, t


def test_tables_in_a_report_withhold_and_hide_identifiers(tmp_path):
    ds = _ds()
    rep, a, t = _published(ds, tmp_path, 3, cutoff="2024-04-30", episodes="all", horizons_months=[6, 12],
                           subgroups=["employer_size"], cox_covariates=["employer_size"])
    csv = (tmp_path / "tables" / "stabilizzazione__trasformazioni_per_gruppo.csv").read_text(encoding="utf-8-sig")
    assert "Dimensione dell'azienda" in csv and not re.search(r"\bE\d\b|\bX\d\b", csv)
    d = pd.read_csv(tmp_path / "tables" / "stabilizzazione__trasformazioni_per_gruppo.csv")
    # every row has fewer than 3 conversions: no share of any row is shown, and none is text
    assert d["cif_183"].isna().all() and pd.api.types.is_float_dtype(d["cif_183"])
    assert set(d["cif_183__status"]) == {"c"}


def test_records_withhold_small_groups(tmp_path):
    ds = _ds()
    rep, a, t = _published(ds, tmp_path, 2, cutoff="2024-04-30", episodes="all", horizons_months=[10, 12],
                           subgroups=["sector"], cox_covariates=["sector"])
    recs = {r.key: r.as_dict() for r in rep.final_records()}
    # by hand: S = 5/6 after day 0.5, 5/8 after day 180; conversions on days 181 and 213 add 5/8 * 1/3 + 5/12 * 1/2
    assert recs["conversion_cif__months=10"]["value"] == pytest.approx(5 / 12)
    assert recs["conversion_cif__months=10"]["n"] == 6
    assert recs["conversion_cif__months=12"]["value"] is None  # the last contract was censored on day 334
    assert recs["conversion_cif__months=10__sector=Ristorazione"]["value"] is None  # 2 contracts, no conversion: its partner
    assert recs["permanent_by_conversion__year=2021"]["value"] is None  # 1 contract < k
    assert recs["permanent_by_conversion__year=2021"]["suppressed"] == "below_threshold"
    assert recs["permanent_at_hire__year=2024"]["value"] == 0  # zero is shown: nobody


def _golden_analysis():
    d, _ = _golden()
    d["event"] = d["event"].astype("int8")
    for c in ("sector", "channel", "gender", "citizenship_group"):
        d[c] = "x"
    d["enrolment_year"] = 2020
    inc = st.conversion_incidence(d, [183, 365, 730], by=["employer_size"])
    months = st.risk_months([183, 365, 730])
    a = st.StabilisationAnalysis(
        which="all", horizons_days=[183, 365, 730], episodes=d, episodes_all=d, incidence=inc,
        rates=st.conversion_rates(d, "employer_size"), cox=st.conversion_cox(d, ["employer_size"]),
        tests={"employer_size": st.conversion_test(d, "employer_size")},
        people_frame=pd.DataFrame(), people=None, routes_year=None, routes_quarter=None, employers=None,
        curve_by="employer_size", curves=st.incidence_curves(d, "employer_size"), risk_months=months,
        at_risk=st.at_risk(d, "employer_size", months))
    t = {"trasformazioni_per_gruppo": show.incidence_table(inc, "it"), "rapporti_di_rischio": show.cox_table(a.cox, "it"),
         "contratti_in_corso": show.at_risk_table(a.at_risk, months, "it")}
    protect(list(t.values()), 10)
    return a, t


def test_sentences_in_both_languages():
    a, t = _golden_analysis()
    inc = t["trasformazioni_per_gruppo"]
    it = show.describe_incidence(inc, "all", "it", 10)
    en = show.describe_incidence(inc, "all", "en", 10)
    assert it.startswith("Su 100 contratti a tempo determinato, 24 (tra ") and "395 contratti" in it
    assert en.startswith("Of 100 fixed-term contracts, 24 (between ")
    g = show.describe_groups(inc, a.incidence, "employer_size", 365, "it", md=False)
    assert "«Grande (oltre 250 addetti)» (31 su 100" in g and "la più bassa in «Piccola»" in g
    # micro has fewer than 10 conversions; medium's (18, tied with small: the rule breaks ties by name) are
    # withheld with it in the table (else micro's = total - rest): the sentence describes neither
    assert "Micro" not in g and "Media" not in g
    assert inc.value({"subgroup": "Dimensione dell'azienda", "group": "Media"}, "cif_365") is None
    # in Markdown the same sentence is escaped (the brackets of a level name are not Markdown syntax)
    assert "«Grande \\(oltre 250 addetti\\)»" in show.describe_groups(inc, a.incidence, "employer_size", 365, "it")
    assert "troppo ampie" in show.describe_test(a.tests["employer_size"], "employer_size", "it")
    # too few conversions: no number, a plain statement
    big = show.incidence_table(a.incidence, "it")
    protect([big], 1000)
    assert "Troppo pochi" in show.describe_incidence(big, "all", "it", 1000)


def test_figures_draw_only_what_the_tables_show():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a, t = _golden_analysis()
    fig = show.plot_incidence(a, t, "it", 10)
    legend = [x.get_text() for x in fig.axes[0].get_legend().get_texts()]
    # micro (<10 conversions) and medium (withheld with it in the table) are listed, not drawn
    assert "Micro (meno di 10 addetti) (non mostrato)" in legend and "Media (non mostrato)" in legend
    assert sum("non mostrato" not in x for x in legend) == len(fig.axes[0].get_lines()) - 2  # 2 empty handles
    risk = [x.get_text() for x in fig.axes[1].texts]
    assert "<10" in risk and all(x in ("<10", "c", "0") or int(x.replace(".", "")) >= 10 for x in risk)
    # each drawn curve ends where fewer than 10 contracts remain at risk
    curve = a.curves[("all", "all")]
    last = curve.loc[(curve["n_risk"] >= 10) & (curve["time"] <= 730.5), "time"].max()
    drawn = [ln for ln in fig.axes[0].get_lines() if ln.get_label() == "Tutti"][0]
    assert drawn.get_xdata().max() == pytest.approx(last / (365.25 / 12))
    assert curve["time"].max() > last  # the estimate goes on beyond: the chart does not
    fig2 = show.plot_forest(a, t, "en")
    labels = [x.get_text() for x in fig2.axes[0].get_yticklabels()]
    assert not any("Micro" in x for x in labels)  # 4 conversions: not drawn
    plt.close("all")
