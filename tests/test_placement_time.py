"""The time-to-placement analysis of notebook 10: estimation, its typed tables, their joint
protection, and what an attacker can derive from everything the notebook publishes."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from ixl_eval import placement_time as pt  # noqa: E402
from ixl_eval.disclosure import protect  # noqa: E402
from ixl_eval.report import placement_time as ptr  # noqa: E402
from ixl_eval.report.context import Report  # noqa: E402
from ixl_eval.report.table import PRIMARY, SHOWN  # noqa: E402
from ixl_eval.survplot import at_risk_end  # noqa: E402

K = 10


@pytest.fixture(scope="module")
def analysis(synth_dataset):
    return pt.analyse(synth_dataset)


def _published(a, k=K, lang="it", relations=True):
    tabs = ptr.tables(a, lang, k)
    protect(tabs.values(), k, relations=ptr.relations(a, tabs) if relations else ())
    return tabs


@pytest.fixture(scope="module")
def tabs(analysis):
    return _published(analysis)


def _report(ds, a, tabs, k=K):
    rep = Report("tempo_inserimento", ds, cutoff=ds.cutoff, lang="it", k=k, output_dir=None)
    rep.publish(*tabs.values(), relations=ptr.relations(a, tabs))
    ptr.record(rep, a, tabs)
    return rep


# ----------------------------------------------------------------------------------- estimation
def test_analysis_is_consistent(analysis):
    a = analysis
    f = a.frame
    assert a.km.n_ == len(f) and a.km.n_events_ == int((f["event"] == 1).sum())
    # with withdrawals as a competing event, fewer people are placed than 1 - KM suggests
    for h in a.horizons:
        km = float(a.km.cumulative_at([h])["cumulative"].iloc[0])
        aj = float(a.aj.cif_at([h], 1)["cif"].iloc[0])
        assert 0 < aj < km < 1
    assert set(a.by) >= {"gender", "age_band", "education", pt.COHORT_COL}
    for col, fits in a.by.items():
        sub = f if col != pt.COHORT_COL else f.loc[f[col].notna()]
        assert sum(km.n_ for km in fits.values()) == len(sub)
        assert a.logrank[col].table["n"].sum() == len(sub)
    assert a.cox is not None and a.cox.strata == ["enrolment_year"]
    assert {"covariate", "p", "violated"} <= set(a.ph.columns)


def test_estimation_takes_no_language_threshold_or_report():
    import inspect

    params = set(inspect.signature(pt.analyse).parameters)
    assert not params & {"k", "lang", "rep", "disclosure_threshold"}
    assert not hasattr(pt, "TableSpec") and not hasattr(pt, "record_analysis")


def test_interview_time_zero_and_window(synth_dataset):
    a = pt.analyse(synth_dataset, time_zero="interview", enrol_from="2022-01-01", subgroups=("gender",),
                   cox_covariates=("age_band",))
    ex = a.frame.attrs["excluded"]
    assert ex["no_time_zero"] > 0 and ex["enrolled_outside_window"] > 0
    assert (a.frame["enrolment_year"] >= 2022).all()
    assert "primo colloquio" in ptr.caveats_text(a, "it", K)
    assert np.isfinite(a.cox.hr_table_["hr"]).all()
    tabs = _published(a)
    co = tabs["coorte"]
    assert co.data["n"].iloc[0] == co.data["n"].iloc[1:1 + len(ex)].sum() + co.data["n"].iloc[1 + len(ex)]


def test_a_level_without_placements_is_pooled_not_fatal(synth_dataset):
    """A sparse level (here: gender X with every placement removed) used to make the whole Cox model
    disappear ("does not converge"); it is now pooled with the reference level, and the report says so."""
    import dataclasses

    ds = synth_dataset
    x = ds.participants.loc[ds.participants["gender"] == "X", "participant_id"]
    assert len(x) > 0
    ds2 = dataclasses.replace(ds, placements=ds.placements.loc[~ds.placements["participant_id"].isin(x)])
    a = pt.analyse(ds2)
    assert a.cox is not None, a.cox_note
    assert a.cox_pooled == {"gender": {"X": "M"}}
    assert not any(t.startswith("gender=X") for t in a.cox.hr_table_["term"])
    assert len(a.cox.hr_table_) == 8
    tabs = _published(a)
    assert "pooled" in ptr.describe_cox(a, tabs, "en") and "riuniti" in ptr.describe_cox(a, tabs, "it")
    assert "total" in ptr.describe_cox(a, tabs, "en")
    # the unpooled data keep every level (nothing pooled when no level is sparse)
    assert pt.analyse(ds).cox_pooled == {}


# ----------------------------------------------------------------------------------- tables
def test_tables_are_numbers(tabs):
    for t in tabs.values():
        for c in t.cols:
            if c.role in ("label", "text"):
                assert t.data[c.key].map(lambda v: isinstance(v, str)).all()
            else:
                assert pd.api.types.is_numeric_dtype(t.data[c.key]), (t.name, c.key)
                if c.role == "count":
                    assert pd.api.types.is_integer_dtype(t.data[c.key]), (t.name, c.key)
                if c.pct or c.role == "share":
                    v = t.data[c.key].dropna()
                    assert ((v >= 0) & (v <= 1)).all(), (t.name, c.key)


def test_tables_protect_and_link(analysis, tabs):
    t = tabs["tempo_per_gender"]
    x = t.find({"group": "Non binario / n.d."})
    m = t.find({"group": "Uomini"})
    # gender X: fewer than 10 placements; its estimates go with them
    assert t.status.at[x, "events"] == PRIMARY and t.value(x, "median") is None and t.value(x, "share_365") is None
    # men: a count withheld only to protect X's keeps its estimates
    assert t.status.at[m, "events"] != SHOWN and t.value(m, "median") is not None
    # one number, one status: the mean-days table withholds the same cells
    g = tabs["giorni_medi_per_gender"]
    assert (g.status["events"].to_numpy() == t.status["events"].to_numpy()).all()
    assert (g.status["n"].to_numpy() == t.status["n"].to_numpy()).all()
    # day 0 at risk is the group's people: one cell
    r = tabs["a_rischio_per_gender"]
    assert (r.data["day_0"].to_numpy() == t.data["n"].to_numpy()).all()
    assert r.col("day_0").what == t.col("n").what
    hr = tabs["rapporti_dei_ritmi"]
    assert (hr.data["events"] >= K).all() and "Non binario / n.d." not in set(hr.data["group"])
    rk = tabs["a_rischio_per_age_band"]
    assert (np.diff(rk.data[rk.counts].to_numpy(), axis=1) <= 0).all()  # at risk only decreases
    c = tabs["coorte"]
    n_ex = len(analysis.frame.attrs["excluded"])
    assert c.data["n"].iloc[1 + n_ex] == len(analysis.frame) == c.data["n"].iloc[-3:].sum()
    # zero exclusions are shown as 0, not as a small count
    assert (c.data["n"].iloc[1:1 + n_ex] == 0).all() and (c.status["n"] == SHOWN).all()


@pytest.mark.parametrize("lang", ["it", "en"])
def test_sentences_are_plain_and_complete(analysis, lang):
    a = analysis
    tabs = _published(a, lang=lang)
    texts = ptr.summary_sentences(a, tabs, lang) + [
        ptr.describe_overall(a, tabs, lang), ptr.describe_competing(a, tabs, lang),
        ptr.describe_subgroup(a, tabs, "age_band", lang), ptr.describe_cohorts(a, tabs, lang),
        ptr.describe_cox(a, tabs, lang), ptr.describe_ph(a, lang), ptr.caveats_text(a, lang, K),
        ptr.describe_tests(a, tabs, lang)]
    for s in texts:
        assert s and "nan" not in s.lower().split() and "None" not in s.replace("None or compulsory", "")
    assert texts[0].startswith("Su 100 persone" if lang == "it" else "Of every 100 people")
    if lang == "it":
        assert "," in ptr.describe_cox(a, tabs, lang)  # decimal comma


def test_sentences_use_only_published_values(analysis, tabs):
    # the gender sentence compares the groups whose share the table shows: never gender X
    s = ptr.describe_subgroup(analysis, tabs, "gender", "it")
    assert "Non binario" not in s and "non sono nel grafico" in s


def test_records(synth_dataset, analysis, tabs):
    rep = _report(synth_dataset, analysis, tabs)
    recs = {r.key: r for r in rep.final_records()}
    assert len(recs) > 50
    r = recs["km_median_days"]
    assert r.value == analysis.km.median_
    r = recs["cox_hr__age_band=50+"]
    assert r.ci_low < r.value < r.ci_high < 1
    assert 0 <= recs["ph_global_p"].value <= 1
    assert "cox_cohort_hr__enrolment_cohort=2023" in recs
    # the group whose placements are below k: every estimate withheld, and its n
    for key, rec in recs.items():
        if key.endswith("gender=X"):
            assert rec.value is None and rec.n is None, key
    # men: placements withheld (secondary), estimates kept, their n withheld
    m = recs["km_median_days__gender=M"]
    assert m.value is not None and m.n is None and m.suppressed == "n_secondary"


# ----------------------------------------------------------------------------------- figures
def _lines(fig):
    return [ln for ln in fig.axes[0].get_lines() if ln.get_linewidth() >= 2]


def test_figures_draw_only_what_tables_show(analysis, tabs):
    import matplotlib.pyplot as plt

    a = analysis
    fig = ptr.figure_km(a, tabs, "gender", "it", K)
    t, r = tabs["tempo_per_gender"], tabs["a_rischio_per_gender"]
    drawn = [i for i in range(len(t.data)) if t.value(i, "share_90") is not None]
    assert len(_lines(fig)) == len(drawn) == 2  # gender X (fewer than k placements) is not drawn
    counts = [x.get_text() for x in fig.axes[1].texts]
    from ixl_eval.report.render import cell_text

    assert counts == [cell_text(r, i, c, "it", K) for i in drawn for c in r.counts]
    # each curve ends where fewer than k people remain at risk
    for ln, lev in zip(_lines(fig), [list(a.by["gender"])[i] for i in drawn]):
        end = at_risk_end(a.by["gender"][lev], K)
        assert max(ln.get_xdata()) <= end
        km = a.by["gender"][lev]
        jumps = np.asarray(ln.get_xdata())[1:][np.diff(np.asarray(ln.get_ydata())) != 0]
        assert (km.at_risk(jumps) >= K).all()
    for f in (fig, ptr.figure_competing(a, "en", K), ptr.figure_forest(a, tabs, "it"),
              ptr.figure_schoenfeld(a, tabs, "it")):
        plt.close(f)


# ----------------------------------------------------------------------------------- the attacker
def _equations(a, tabs):
    """What a reader knows links the published numbers (written here, apart from
    ``ptr.relations``): ``(total, parts)`` pairs of cells ``(table, row, column)``; an equality is
    a total with one part."""
    eq = []
    co = tabs["coorte"]
    n_ex = len(a.frame.attrs["excluded"])
    an = 1 + n_ex
    eq.append(([("coorte", 0, "n")], [("coorte", i, "n") for i in range(1, an + 1)]))
    eq.append(([("coorte", an, "n")], [("coorte", i, "n") for i in range(an + 1, len(co.data))]))
    eq.append(([("coorte", an, "n")], [("tempo_complessivo", 0, "n")]))
    eq.append(([("coorte", an + 1, "n")], [("tempo_complessivo", 0, "events")]))
    days = [c for c in tabs["a_rischio_complessivo"].counts]
    eq.append(([("tempo_complessivo", 0, "n")], [("a_rischio_complessivo", 0, "day_0")]))
    for col in a.by:
        name = "coorte" if col == pt.COHORT_COL else col
        t, r = f"tempo_per_{name}", f"a_rischio_per_{name}"
        rows = range(len(tabs[t].data))
        for i in rows:
            eq.append(([(t, i, "n")], [(r, i, "day_0")]))
            if f"giorni_medi_per_{col}" in tabs:
                for c in ("n", "events"):
                    eq.append(([(t, i, c)], [(f"giorni_medi_per_{col}", i, c)]))
        if col != pt.COHORT_COL:
            for c in ("n", "events"):
                eq.append(([("tempo_complessivo", 0, c)], [(t, i, c) for i in rows]))
            for d in days:
                eq.append(([("a_rischio_complessivo", 0, d)], [(r, i, d) for i in rows]))
    if pt.COHORT_COL in a.by and "enrolment_year" in a.by:
        y = a.focus_year
        years = [int(v) for v in a.by["enrolment_year"]]
        coh = list(a.by[pt.COHORT_COL])
        for tc, ty, cols in (("tempo_per_coorte", "tempo_per_enrolment_year", ("n", "events")),
                             ("a_rischio_per_coorte", "a_rischio_per_enrolment_year", days)):
            for c in cols:
                eq.append(([(tc, coh.index(f"<{y}"), c)], [(ty, i, c) for i, v in enumerate(years) if v < y]))
                eq.append(([(tc, coh.index(str(y)), c)], [(ty, i, c) for i, v in enumerate(years) if v == y]))
    for name, model in (("rapporti_dei_ritmi", a.cox), ("rapporti_dei_ritmi_stratificato", a.cox_stratified)):
        if name not in tabs:
            continue
        t = tabs[name]
        rows = model.hr_table_.loc[model.hr_table_["events"] >= t.data["events"].min()].reset_index(drop=True)
        for i, (cov, lev) in enumerate(zip(rows["covariate"], rows["level"])):
            if cov in a.by:
                j = [str(v) for v in a.by[cov]].index(str(lev))
                for c in ("n", "events"):
                    eq.append(([(name, i, c)], [(f"tempo_per_{cov}", j, c)]))
    return eq


def attack(a, tabs, records=()):
    """Every hidden count an attacker pins down from the published cells, the linear links above
    and the records' counts (``n`` is a group's placements): ``[(cell, value)]``."""
    known, hidden = {}, {}
    for name, t in tabs.items():
        for c in t.counts:
            for i in range(len(t.data)):
                v = t.data.at[i, c]
                if t.status.at[i, c] == SHOWN:
                    known[(name, i, c)] = int(v)
                else:
                    hidden[(name, i, c)] = int(v)
    # the records: n of a group's estimates is its placements; count records are cells
    for r in records:
        if r.n is None or "__" not in r.key or r.key.startswith(("cox_", "aj_", "logrank")):
            continue
        col, lev = r.key.split("__", 1)[1].split("=", 1)
        name = "tempo_per_coorte" if col == pt.COHORT_COL else f"tempo_per_{col}"
        levels = [str(v) for v in a.by[col]]
        lev = lev.removesuffix(".0") if lev.removesuffix(".0") in levels else lev
        known.setdefault((name, levels.index(lev), "events"), int(r.n))
    eqs = _equations(a, tabs)
    changed = True
    while changed:
        changed = False
        for total, parts in eqs:
            cells = total + parts
            unknown = [x for x in cells if x not in known]
            if len(unknown) != 1 or any(x not in known and x not in hidden for x in cells):
                continue
            x = unknown[0]
            s_tot = sum(known.get(y, 0) for y in total if y != x)
            s_par = sum(known.get(y, 0) for y in parts if y != x)
            known[x] = (s_par - s_tot) if x in total else (s_tot - s_par)
            changed = True
    return [(x, known[x]) for x in hidden if x in known and 0 < hidden[x] < 10**9]


def test_no_hidden_count_is_recovered(synth_dataset, analysis, tabs):
    rep = _report(synth_dataset, analysis, tabs)
    assert attack(analysis, tabs, rep.final_records()) == []


@pytest.mark.parametrize("k", [20, 50, 120])
def test_no_hidden_count_is_recovered_at_other_thresholds(analysis, k):
    tabs = _published(analysis, k=k)
    assert attack(analysis, tabs) == []


def _measures(line):
    return " ".join(str(m[0]) for m in line)


@pytest.mark.parametrize("link", ["rapporti_dei_ritmi", "enrolment_cohort"])
def test_the_attack_finds_a_leak_when_a_protection_is_off(analysis, link):
    # switch one protection off: drop the relations tying the Cox table's counts to the group
    # tables, or the cohort's counts to the years. At k = 50 the attacker then pins a hidden count
    # (the group table hides Donne's people, the Cox table shows them; "before 2023" minus the
    # years shown gives 2022's placements). A test that cannot fail proves nothing.
    k = 50
    tabs = ptr.tables(analysis, "it", k)
    rel = [r for r in ptr.relations(analysis, tabs) if link not in _measures(r)]
    protect(tabs.values(), k, relations=rel)
    assert attack(analysis, tabs) != []
    tabs = _published(analysis, k=k)
    assert attack(analysis, tabs) == []


def test_hidden_cells_recovered_exactly_in_figures_before(analysis):
    # the leaks of the old figures, now closed: (1) gender X's curve (fewer than k placements)
    # was drawn, its steps counting its placements; (2) curves went on where fewer than k were at
    # risk, each step's height giving the number at risk (a "<10" of the table)
    import matplotlib.pyplot as plt

    tabs = _published(analysis)
    fig = ptr.figure_km(analysis, tabs, "gender", "it", K)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "Non binario / n.d." not in labels
    plt.close(fig)
    fig = ptr.figure_km(analysis, tabs, "age_band", "it", K)
    for ln, km in zip(_lines(fig), analysis.by["age_band"].values()):
        x, y = np.asarray(ln.get_xdata()), np.asarray(ln.get_ydata())
        steps = np.flatnonzero(np.diff(y) != 0)
        if len(steps):
            # the last step: the height of a single event's jump would give n at risk = S/(ΔS);
            # it is at least k
            assert km.at_risk([x[steps[-1] + 1]])[0] >= K
    plt.close(fig)


# ----------------------------------------------------------------------------------- the run's files
@pytest.mark.slow
def test_csv_are_numbers_equal_to_results(suite_run):
    import json

    run = suite_run.run_dir
    recs = {r["key"]: r for r in json.loads((run / "results.json").read_text(encoding="utf-8"))
            if r["notebook"] == "tempo_inserimento"}
    files = sorted((run / "tables").glob("tempo_inserimento__*.csv"))
    assert len(files) >= 20
    frames = {}
    for p in files:
        df = pd.read_csv(p, encoding="utf-8-sig")
        frames[p.stem.split("__", 1)[1]] = df
        labels = {"group", "item", "days", "characteristic", "reference"}
        for c in df.columns:
            if c in labels or c.endswith("__status"):
                continue
            assert pd.api.types.is_numeric_dtype(df[c]), (p.name, c, df[c].dtype)
    t = frames["tempo_complessivo"]
    assert math.isclose(t.at[0, "median"], recs["km_median_days"]["value"])
    assert t.at[0, "events"] == recs["n_placed"]["value"]
    g = frames["tempo_per_gender"]
    for i, lev in enumerate(["F", "M", "X"]):
        r = recs[f"km_share_placed_365d__gender={lev}"]
        if r["value"] is None:
            assert np.isnan(g.at[i, "share_365"]) and g.at[i, "share_365__status"] == "c"
        else:
            assert math.isclose(g.at[i, "share_365"], r["value"], rel_tol=1e-9)
            assert math.isclose(g.at[i, "share_365_lower"], r["ci_low"], rel_tol=1e-9)
    h = frames["rapporti_dei_ritmi"]
    for _, row in h.iterrows():
        hits = [r for k, r in recs.items() if k.startswith("cox_hr__") and r["value"] is not None
                and math.isclose(r["value"], row["hr"], rel_tol=1e-9)]
        assert len(hits) == 1 and hits[0]["n"] == row["events"]
    co = frames["coorte"]
    assert (co["n"].iloc[1:6] == 0).all() and co["n__status"].fillna("").eq("").all()


def test_stratified_cox_table_is_linked_and_safe(synth_dataset):
    # a looser proportional-hazards check moves age and education to the strata: the alternative
    # table is published, its counts tied to the group tables like the main one's
    a = pt.analyse(synth_dataset, ph_alpha=0.2)
    assert a.cox_stratified is not None
    tabs = _published(a)
    s = tabs["rapporti_dei_ritmi_stratificato"]
    assert len(s.data) and attack(a, tabs) == []
    ids = {m for line in ptr.relations(a, tabs) for m in line}
    assert {s.cell_id(i, "events") for i in range(len(s.data))} <= ids
    for k in (50, 120):
        assert attack(a, _published(a, k=k)) == []


def test_curves_end_where_fewer_than_k_remain():
    # five people left at day 90 all placed: drawing that step would show their timing, and even the
    # flat stretch from day 60 to 90 describes those five (none placed in between)
    import matplotlib.pyplot as plt

    from ixl_eval.survival import KaplanMeier
    from ixl_eval.survplot import plot_km

    km = KaplanMeier().fit([10, 20, 20, 40, 60, 90] * 5, [1, 1, 0, 1, 0, 1] * 5)
    fig = plot_km({"a": km}, k=10, xmax=120)
    line = _lines(fig)[0]
    assert max(line.get_xdata()) == at_risk_end(km, 10) == 60  # the last day with 10 at risk
    assert km.at_risk([60.0])[0] >= 10 and km.at_risk([61.0])[0] < 10
    assert max(line.get_ydata()) < 0.6  # the jump to 100% at day 90 is not drawn
    assert fig.axes[1].texts == [] or all(t.get_text() == "" for t in fig.axes[1].texts)  # no counts of its own
    plt.close(fig)
