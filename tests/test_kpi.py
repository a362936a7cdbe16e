"""Programme indicators on a hand-made dataset whose answers are worked out by hand below.

The dataset is ``ixl_eval.kpi._toy_dataset()`` (cut-off 2024-04-30, extract 2024-05-31):

===  ==========  =====================  ==========================================
id   enrolled    first interview (days)  placements (start, type, channel)
===  ==========  =====================  ==========================================
P01  2023-01-10  2023-01-20 (10)         2023-02-15 FT ixl; 2023-03-20 FT ixl; 2024-01-20 PERM ixl
P02  2023-02-01  2023-02-20 (19)         2023-06-01 PERM apl   (2nd interview 2023-04-05: a repeat)
P03  2023-03-15  none                    none
P04  2023-05-02  2023-04-28 (-4 -> 0)    none                  (interview recorded before enrolment)
P05  2024-01-05  2024-01-15 (10)         2024-02-01 FT ips     (2nd interview 2024-02-01: a repeat)
P06  2024-02-10  2024-02-25 (15)         2024-03-01 PERM training; 2024-03-31 FT training
P07  2024-03-01  2024-03-17 (16)         2024-04-10 internship ixl
P08  2024-03-20  2024-03-22 (2)          2024-05-10 FT ixl     (after the cut-off: not counted)
P09  2024-04-20  2024-04-25 (5)          none                  (enrolled < 15 days before the cut-off)
P10  2022-06-01  2022-06-05 (4)          2022-07-01 FT ips; 2023-02-01 PERM ixl; 2024-03-15 FT ips
===  ==========  =====================  ==========================================
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ixl_eval import kpi
from ixl_eval.kpi import AnnualProjection, Indicators, holm, rate_ratio_test

GOLDEN = json.loads((Path(__file__).parent / "golden" / "kpi_reference.json").read_text())


@pytest.fixture(scope="module")
def ds():
    return kpi._toy_dataset()


@pytest.fixture(scope="module")
def ind(ds):
    return Indicators().fit(ds, cutoff="2024-04-30")


def test_quarter_2023q1(ind):
    r = ind.period("2023-01-01", "2023-03-31")
    # enrolled P01, P02, P03; first interviews in the quarter: P01, P02
    assert (r["enrolments"], r["interviewed"]) == (3, 2)
    # all three enrolled >= 15 days before the cut-off; only P01 (10 days) within 15; P03 never
    assert (r["interview_eligible"], r["interviewed_within"], r["interview_done"]) == (3, 1, 2)
    assert r["interviewed_within_share"] == pytest.approx(1 / 3)
    assert r["median_days_to_interview"] == pytest.approx(14.5)  # median of 10 and 19
    # P10 PERM 02-01, P01 FT 02-15, P01 FT 03-20: 3 placements by 2 people; only P01 is new
    # (P10's first placement was in 2022)
    assert (r["placements"], r["permanent"], r["persons_placed"], r["first_placed"]) == (3, 1, 2, 1)
    assert r["permanent_share"] == pytest.approx(1 / 3)
    assert r["first_placed_share"] == pytest.approx(0.5)
    assert r["complete"]


def test_quarter_2023q2_interview_before_enrolment(ind):
    r = ind.period("2023-04-01", "2023-06-30")
    # P04 enrolled 05-02, interviewed 04-28 (day -4 counts as day 0); P02's 04-05 row is a repeat
    assert (r["enrolments"], r["interviewed"], r["interview_eligible"], r["interviewed_within"]) == (1, 1, 1, 1)
    assert r["median_days_to_interview"] == 0
    # P02 PERM 06-01, first ever
    assert (r["placements"], r["permanent"], r["persons_placed"], r["first_placed"]) == (1, 1, 1, 1)


def test_quarter_2024q1(ind):
    r = ind.period("2024-01-01", "2024-03-31")
    assert (r["enrolments"], r["interviewed"]) == (4, 4)  # P05-P08
    # days 10, 15, 16, 2: within 15 (inclusive) are P05, P06, P08
    assert (r["interview_eligible"], r["interviewed_within"]) == (4, 3)
    assert r["interviewed_within_share"] == pytest.approx(0.75)
    assert r["median_days_to_interview"] == pytest.approx(12.5)  # median of 2, 10, 15, 16
    # P01 PERM, P05 FT, P06 PERM, P10 FT, P06 FT: 5 placements, 2 permanent, by P01 P05 P06 P10;
    # new: P05, P06
    assert (r["placements"], r["permanent"], r["persons_placed"], r["first_placed"]) == (5, 2, 4, 2)
    assert r["permanent_share"] == pytest.approx(0.4)
    assert r["first_placed_share"] == pytest.approx(0.5)


def test_partial_quarter_excludes_too_recent_and_after_cutoff(ind):
    r = ind.period("2024-04-01", "2024-06-30")
    assert not r["complete"] and r["end"] == pd.Timestamp("2024-04-30")
    # P09 enrolled 04-20: fewer than 15 days before the cut-off, out of the denominator
    assert (r["enrolments"], r["interview_eligible"], r["interview_too_recent"]) == (1, 0, 1)
    assert np.isnan(r["interviewed_within_share"]) and np.isnan(r["median_days_to_interview"])
    # P07's internship counts; P08's 05-10 contract is after the cut-off
    assert (r["placements"], r["persons_placed"], r["first_placed"]) == (1, 1, 1)
    assert ind.left_out_["placements_after_cutoff"] == 1


def test_without_cutoff_the_extract_date_rules(ds):
    r = Indicators().fit(ds).period("2024-04-01", "2024-06-30")
    assert r["end"] == pd.Timestamp("2024-05-31")
    # P09 is now 41 days past enrolment, interviewed on day 5; P08's 05-10 contract counts and,
    # being P08's first, makes P08 a first placed person
    assert (r["interview_eligible"], r["interviewed_within"]) == (1, 1)
    assert (r["placements"], r["persons_placed"], r["first_placed"]) == (2, 2, 2)


def test_year_to_date_and_same_period_last_year(ind):
    lo, hi = ind.ytd_bounds()
    assert (lo, hi) == (pd.Timestamp("2024-01-01"), pd.Timestamp("2024-04-30"))
    cmp = ind.compare(lo, hi)
    assert cmp.attrs["before_start"] == pd.Timestamp("2023-01-01")
    assert cmp.attrs["before_end"] == pd.Timestamp("2023-04-30")
    # 2024 to 30/4: Q1's 5 + P07's internship; persons P01 P05 P06 P10 P07, new P05 P06 P07
    # 2023 to 30/4: 3 placements by P10 and P01, new P01; enrolled P01-P03; interviewed P01 P02 P04
    expect = {"placements": (6, 3), "permanent": (2, 1), "persons_placed": (5, 2), "first_placed": (3, 1),
              "enrolments": (5, 3), "interviewed": (5, 3)}
    for name, (now, before) in expect.items():
        assert (cmp.loc[name, "now"], cmp.loc[name, "before"]) == (now, before), name
        assert cmp.loc[name, "change"] == pytest.approx(now / before - 1), name
    assert cmp.loc["first_placed_share", "now"] == pytest.approx(3 / 5)
    assert cmp.loc["first_placed_share", "change"] == pytest.approx(3 / 5 - 1 / 2)


def test_same_quarter_last_year_change_and_channels(ind):
    cmp = ind.compare("2024-01-01", "2024-03-31")
    assert cmp.loc["placements", "change"] == pytest.approx(5 / 3 - 1)  # +66.7%
    assert cmp.loc["permanent", "change"] == pytest.approx(1.0)  # 2 against 1: +100%
    assert cmp.loc["persons_placed", "change"] == pytest.approx(1.0)  # 4 against 2
    # channels: 2024Q1 ixl 1, ips 2, training 2; 2023Q1 ixl 3
    ch = {c: (cmp.loc[f"placements__channel={c}", "now"], cmp.loc[f"placements__channel={c}", "before"])
          for c in ("ixl_companies", "ips", "ixl_training", "apl")}
    assert ch == {"ixl_companies": (1, 3), "ips": (2, 0), "ixl_training": (2, 0), "apl": (0, 0)}
    assert np.isinf(cmp.loc["placements__channel=ips", "change"])
    assert np.isnan(cmp.loc["placements__channel=apl", "p_value"])  # 0 against 0: nothing to test
    # Holm over the 9 defined tests (6 indicators + 3 channels with data), by hand
    p = cmp["p_value"].dropna()
    assert len(p) == 9
    order = p.sort_values().index
    m, running, expect = len(p), 0.0, {}
    for i, key in enumerate(order):
        running = max(running, min(1.0, (m - i) * p[key]))
        expect[key] = running
    for key, v in expect.items():
        assert cmp.loc[key, "p_holm"] == pytest.approx(v)


def test_year_table(ind):
    y = ind.table("year").set_index("period")
    assert list(y.index) == ["2022", "2023", "2024"]
    # 2022 starts before the data (first enrolment June 2022); 2024 is cut at the cut-off
    assert y["complete"].tolist() == [False, True, False]
    r = y.loc["2023"]
    # 2023: P01-P04 enrolled; placements P10 P01 P01 P02 (2 PERM); persons P10 P01 P02; new P01 P02
    assert (r["enrolments"], r["placements"], r["permanent"], r["persons_placed"], r["first_placed"]) == (4, 4, 2, 3, 2)
    assert r["first_placed_share"] == pytest.approx(2 / 3)
    assert ind.last_complete_year() == 2023 and ind.last_complete_quarter() == "2024Q1"


def test_breakdowns_and_mix(ind):
    ch = ind.breakdown("channel", "quarter").loc["2024Q1"]
    assert ch.to_dict() == {"ixl_companies": 1, "ips": 2, "ixl_training": 2, "apl": 0, "orientation": 0,
                            "self_employment": 0}
    # 2024 enrolments P05-P09, ages (2024 - birth year) 29, 64, 36, 25, 44
    age = ind.mix("age_band", [2024]).set_index("level")["n"].to_dict()
    assert age == {"<30": 2, "30-39": 1, "40-49": 1, "50+": 1}
    u40 = ind.mix("under_40", [2024]).set_index("level")
    assert u40.loc["yes", "share"] == pytest.approx(3 / 5)
    cit = ind.mix("citizenship_group", [2023]).set_index("level")  # P01 IT, P02 MA, P03 IT, P04 RO
    assert cit.loc["foreign", "n"] == 2 and cit.loc["foreign", "share"] == pytest.approx(0.5)
    top = ind.breakdown("citizenship", "year", top=1)  # foreign citizens only: MA (P02, P07) leads
    assert list(top.columns) == ["MA", "OTHER"] and top.loc["2023"].to_dict() == {"MA": 1, "OTHER": 1}
    size = ind.mix("employer_size", [2024]).set_index("level")["n"].to_dict()
    assert size == {"micro": 1, "small": 1, "medium": 1, "large": 3}
    with pytest.raises(ValueError, match="year 2019"):
        ind.mix("gender", [2019])


def test_cutoff_after_extract_is_refused(ds):
    with pytest.raises(ValueError, match="after the extraction date"):
        Indicators().fit(ds, cutoff="2024-06-01")


@pytest.mark.parametrize("case", GOLDEN["rate_ratio"], ids=lambda c: f"{c['now']}-{c['before']}")
def test_rate_ratio_matches_r_poisson_test(case):
    r = rate_ratio_test(case["now"], case["before"])
    assert r["ratio_low"] == pytest.approx(case["ratio_low"], rel=1e-6, abs=1e-12)
    assert r["ratio_high"] == pytest.approx(case["ratio_high"], rel=1e-6)
    assert r["p_value"] == pytest.approx(case["p_value"], rel=1e-6)


def test_holm_matches_r_p_adjust():
    h = GOLDEN["holm"]
    assert holm(h["p"]) == pytest.approx(h["p_holm"])
    with_nan = holm([np.nan, *h["p"]])
    assert np.isnan(with_nan[0]) and with_nan[1:] == pytest.approx(h["p_holm"])


def _dates_for(ytd: int, s: float) -> pd.Series:
    """Events of a complete 2023 (n by 30 April out of total, n / total = s) and ytd in 2024."""
    from fractions import Fraction

    f = Fraction(s).limit_denominator(100)
    by, total = f.numerator * 10, f.denominator * 10
    d = ["2023-02-01"] * by + ["2023-09-01"] * (total - by) + ["2024-03-01"] * ytd
    return pd.Series(pd.to_datetime(d))


@pytest.mark.parametrize("case", GOLDEN["projection"], ids=lambda c: f"ytd{c['ytd']}")
def test_projection_matches_r_negative_binomial(case):
    p = AnnualProjection(past_years=1, level=case["level"]).fit(
        _dates_for(case["ytd"], case["s"]), cutoff="2024-04-30", data_start="2023-01-01", target=case["target"])
    assert p.seasonal_share_ == pytest.approx(case["s"])
    assert p.total_ == pytest.approx(case["ytd"] / case["s"])
    assert p.ci_ == (case["ci_low"], case["ci_high"])
    assert p.prob_target_ == pytest.approx(case["prob_target"], rel=1e-9)


def test_projection_interval_is_the_gamma_poisson_predictive():
    # Independent check of the closed form: simulate the annual mean from its Jeffreys posterior
    # and the rest of the year as Poisson; quantiles agree with the negative binomial interval.
    ytd, s = 150, 0.3
    p = AnnualProjection(past_years=1).fit(_dates_for(ytd, s), cutoff="2024-04-30", data_start="2023-01-01")
    rng = np.random.default_rng(7)
    mu = rng.gamma(ytd + 0.5, 1 / s, size=200_000)
    total = ytd + rng.poisson(mu * (1 - s))
    lo, hi = np.quantile(total, [0.05, 0.95])
    assert p.ci_[0] == pytest.approx(lo, abs=3) and p.ci_[1] == pytest.approx(hi, abs=3)


def test_toy_projection_and_target(ind):
    proj = ind.projection(growth_target=0.15, past_years=3)
    # 2022 started before the data, so only 2023: 3 of its 4 placements came by 30 April
    assert proj.past_years_ == [2023] and proj.seasonal_share_ == pytest.approx(0.75)
    assert proj.ytd_ == 6 and proj.total_ == pytest.approx(8)
    assert proj.target_ == pytest.approx(1.15 * 4)
    assert proj.prob_target_ == 1.0  # 6 already beat 4.6
    with pytest.raises(ValueError, match="no complete year"):
        AnnualProjection().fit(ind.placements_["started_on"], cutoff="2024-04-30", data_start="2024-01-01")


def _published(ds, k, **kw):
    """The monitoring's tables of the toy data, protected together at threshold ``k``."""
    from ixl_eval.disclosure import protect
    from ixl_eval.report import kpi as kr

    a = kpi.analyse(ds, cutoff="2024-04-30", **kw)
    tables = kr.monitoring_tables(a, "en")
    protect(tables.values(), k, relations=kr.relations(tables))
    return a, tables


def test_comparison_tables_hide_what_small_counts_reveal(ds):
    from ixl_eval.report.table import PRIMARY

    _, t = _published(ds, 3)
    counts = t["trimestre_conteggi"]
    perm, plac = counts.pos("permanent"), counts.pos("placements")
    # permanent: 2 now and 1 before, both below 3: its change must not show
    assert counts.value(perm, "change") is None and counts.status.at[perm, "now"] == PRIMARY
    # 5 against 3: the 5 of 2024 Q1 is withheld too, since 2024 Q2 (to the cut-off) has 1 placement
    # and the year to date (6) is the sum of the two quarters; the change goes with it
    assert counts.value(plac, "change") is None and counts.value(plac, "now") is None
    # and the 3 of 2023 Q1 as well: the quarters' column would otherwise withhold only counts
    # below 3 (1, 1, 1), which pin each other through their sum
    assert counts.value(plac, "before") is None
    shares = t["trimestre_quote"]
    # the share would reveal the hidden 2 permanent of 5 placements
    assert shares.value(0, "permanent_share") is None and shares.value(1, "permanent_share") is None
    # 3 of 4: the 3 is withheld as a partner (its column would otherwise hold only counts below 3)
    assert shares.value(0, "interviewed_within_share") is None
    assert shares.value(1, "interviewed_within_share") is None  # 1 of 3
    _, t = _published(ds, 1)
    assert t["trimestre_conteggi"].value(plac, "change") == pytest.approx(5 / 3 - 1)
    tests = t["confronti_holm"]
    assert len(tests.data) == 9 and tests.value(tests.pos("placements"), "p_holm") == 1.0


def _overview_records(ds, k):
    from ixl_eval.report import Report
    from ixl_eval.report import kpi as kr

    a = kpi.analyse(ds, cutoff="2024-04-30", years=[2023])
    rep = Report("panoramica", ds, cutoff=a.cutoff, lang="it", k=k, output_dir=None)
    tables = kr.overview_tables(a, rep.lang)
    rep.publish(*tables.values(), relations=kr.relations(tables))
    kr.overview_records(rep, a, tables)
    return {r.key: r for r in rep.final_records()}  # the protection applies when the notebook finishes


def test_records_withhold_small_counts_and_shares(ds):
    by_key = _overview_records(ds, 1)  # nothing below 1: every value as computed
    assert by_key["enrolments__year=2023"].value == 4
    assert by_key["placements__year=2023"].value == 4
    assert by_key["persons_placed__year=2023"].value == 3
    assert by_key["first_placed__year=2023"].value == 2
    assert by_key["enrolments_share__citizenship_group=IT__year=2023"].value == 0.5
    assert "placements__year=2022" not in by_key  # 2022 is not complete in the data
    assert all(r.key.count("__") >= 1 for r in by_key.values())
    by_key = _overview_records(ds, 3)
    assert by_key["first_placed__year=2023"].value is None  # 2 < 3
    assert by_key["first_placed__year=2023"].suppressed == "below_threshold"
    assert by_key["first_placed_share__year=2023"].value is None  # would reveal the 2
    assert by_key["enrolments_share__citizenship_group=IT__year=2023"].value is None  # 2 of 4
    # 2023 Q2 has 1 enrolment: with the year the sum of its quarters, the year's 4 is withheld too
    assert by_key["enrolments__year=2023"].suppressed == "secondary"
    for key, r in by_key.items():  # a share never outlives its numerator
        base, _, quals = key.partition("__")
        num = {"enrolments_share": "enrolments", "placements_share": "placements"}.get(base, kpi.SHARES.get(base, [None])[0])
        if num and f"{num}__{quals}" in by_key and by_key[f"{num}__{quals}"].value is None:
            assert r.value is None, key


def test_no_comparison_before_the_data(ds, ind):
    from ixl_eval.report import kpi as kr

    # data start June 2022: Q3 2021 is not "zero placements", it is unknown
    cmp = ind.compare("2022-07-01", "2022-09-30")
    assert not cmp.attrs["before_covered"] and cmp.loc["placements", "now"] == 1
    assert cmp["before"].isna().all() and cmp["p_holm"].isna().all()
    a, t = _published(ds, 1, quarter="2022Q3")
    counts = t["trimestre_conteggi"]
    assert counts.value(counts.pos("placements"), "change") is None
    assert "No comparison" in kr.multiplicity_text(a, "en")
    assert t["confronti_holm"].data.empty and t["confronti_holm"].cols[-1].key == "p_holm"
    first = kr.monitoring_summary(a, t, 0.4, "en", 1)[0]
    assert "no comparison: the data start on 2022-06-01" in first


def test_summary_gives_no_change_that_would_reveal_a_hidden_count(ds):
    from ixl_eval.report import kpi as kr

    a, t = _published(ds, 10)
    first = kr.monitoring_summary(a, t, 0.4, "en", 10)[0]
    assert first == "In the first quarter of 2024 there were <10 job placements."  # no "+67%"
    a, t = _published(ds, 3)  # the 5 of 2024 Q1 is withheld (see above): no change
    first = kr.monitoring_summary(a, t, 0.4, "en", 3)[0]
    assert first == "In the first quarter of 2024 there were c job placements."
    a, t = _published(ds, 1)
    first = kr.monitoring_summary(a, t, 0.4, "en", 1)[0]
    assert "against 3 in the same quarter of 2023 (+67%" in first


def test_projection_of_a_complete_year(ds):
    ind = Indicators().fit(ds, cutoff="2023-12-31")
    proj = ind.projection()
    # 2023 is over: its 4 placements are the total; 2022 is incomplete, so there is no target
    assert proj.complete_ and proj.ytd_ == 4 and proj.total_ == 4 and proj.ci_ == (4, 4)
    assert proj.target_ is None and ind.reference_quarter() == "2023Q4"
    with pytest.raises(ValueError, match="not complete"):
        ind.reference_quarter("2024Q1")


@pytest.mark.parametrize("num,den", [(0, 7), (3, 4), (175, 284), (10, 10), (1, 1000)])
def test_wilson_interval_matches_statsmodels(num, den):
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(num, den, alpha=0.05, method="wilson")
    assert kpi.wilson(num, den) == pytest.approx((lo, hi), abs=1e-12)


def test_breakdowns_are_computed_once_and_handed_out_as_copies(ind):
    first = ind.breakdown("channel", "quarter")
    first.loc["2024Q1", "ips"] = 999  # the caller's copy
    assert ind.breakdown("channel", "quarter").loc["2024Q1", "ips"] == 2
    assert ind.breakdown("citizenship", "year", top=1).columns.tolist() == ["MA", "OTHER"]
    assert len(ind.breakdown("citizenship", "year").columns) > 2  # top is part of the key
