"""The indicator reports on the new output layer (issue 10): typed tables, joint protection, and
attacks on what the overview and the quarterly monitoring publish.

The attacks are the ones the issue found on the bundled data before the rebuild:

* share x total in ``results.json`` (men's share 0.49593 x 615 = 305 gave the hidden
  "Non binario" count 2 in 2022);
* a percentage change from a hidden base ("+67%" in 2018 gave the hidden 2017 count 6);
* a year minus its quarters (2019: permanent 49 - 12 - 10 - 18 gave the hidden Q3 count 9);
* the same number shown in one table and withheld in another, or in a record;
* a chart drawing a value its table withholds.

Each attack is a function over protected tables (fast, on the synthetic data with the default
seed, the same numbers as the bundled data) and, marked slow, over the files of the suite's run.
Tests named ``..._would_find_...`` switch one protection off and show the attack then succeeds: a
test that cannot fail proves nothing.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from ixl_eval import kpi
from ixl_eval.disclosure import protect
from ixl_eval.report import kpi as kr
from ixl_eval.report.table import PRIMARY, SHOWN, Col

K = 10


@pytest.fixture(scope="module")
def analysis(synth_dataset):
    return kpi.analyse(synth_dataset, years=[2022, 2023])


def _protected(a, which, k=K, rel=True):
    tables = (kr.overview_tables if which == "overview" else kr.monitoring_tables)(a, "it")
    protect(tables.values(), k, relations=kr.relations(tables) if rel else ())
    return tables


@pytest.fixture(scope="module")
def overview(analysis):
    return _protected(analysis, "overview")


@pytest.fixture(scope="module")
def monitoring(analysis):
    return _protected(analysis, "monitoring")


# ============================================================================ attacks


def attack_year_minus_quarters(year_t, quarter_t) -> list:
    """A year shown with exactly one of its quarters withheld gives that quarter back."""
    found = []
    for m in kr.COUNT_MEASURES:
        for i, y in enumerate(year_t.data["year"]):
            if year_t.hidden(m)[i]:
                continue
            rows = np.flatnonzero(quarter_t.data["quarter"].str.startswith(y).to_numpy())
            hid = [r for r in rows if quarter_t.hidden(m)[r]]
            if len(hid) == 1:
                rest = sum(int(quarter_t.data.at[r, m]) for r in rows if r != hid[0])
                found.append((m, quarter_t.data.at[hid[0], "quarter"], int(year_t.data.at[i, m]) - rest))
    return found


def attack_derived(tables) -> list:
    """A shown share, change or p-value whose base count is withheld gives the count back (with
    the other base count, or the total)."""
    found = []
    for t in tables.values():
        for c in t.cols:
            if not c.base:
                continue
            for i in range(len(t.data)):
                if t.status.at[i, c.key] == SHOWN and any(t.hidden(b)[i] for b in c.base):
                    found.append((t.name, i, c.key))
    return found


def attack_same_number(tables) -> list:
    """One identity, two statuses: the number shown in one table reveals it in the other."""
    seen, found = {}, []
    for t in tables.values():
        for c in t.counts:
            for i in range(len(t.data)):
                cid = t.cell_id(i, c)
                if cid is None or pd.isna(t.data.at[i, c]):
                    continue
                hidden = bool(t.hidden(c)[i])
                if cid in seen and seen[cid] != hidden:
                    found.append(cid)
                seen.setdefault(cid, hidden)
    return found


def attack_totals(tables) -> list:
    """A line (a column of a breakdown, the channels of a year, a year's quarters) with exactly one
    withheld cell: the total minus the others gives it back."""
    found = []
    for t in tables.values():
        if not t.total_row:
            continue
        for c in t.counts:
            hid = np.flatnonzero(t.hidden(c))
            if len(hid) == 1:
                found.append((t.name, c, int(hid[0])))
    return found


def attack_records(records: dict, tables=None) -> list:
    """``results.json``: a shown share with its n (the denominator) gives the numerator; a shown
    change gives both counts. Leak: the numerator's own record is withheld."""
    found = []
    for key, r in records.items():
        base, _, quals = key.partition("__")
        if r["value"] is None or r["n"] is None:
            continue
        if base.endswith("_share"):
            num = {"enrolments_share": "enrolments", "foreign_enrolments_share": "foreign_enrolments",
                   "placements_share": "placements"}.get(base) or kpi.SHARES.get(base, (None,))[0]
            twin = records.get(f"{num}__{quals}")
            if twin is not None and twin["value"] is None:
                found.append((key, round(r["value"] * r["n"])))
    return found


# ============================================================================ typed tables


def test_tables_hold_numbers_and_reader_labels(overview, monitoring):
    for t in list(overview.values()) + list(monitoring.values()):
        for c in t.cols:
            col = t.data[c.key]
            if c.role in ("label", "text"):
                assert col.map(lambda v: isinstance(v, str)).all(), (t.name, c.key)
            else:
                assert pd.api.types.is_numeric_dtype(col), (t.name, c.key, col.dtype)
    q = monitoring["indicatori_per_trimestre"]
    assert q.data.at[0, "period_label"] == "1° trim. 2017" and q.data.at[0, "quarter"] == "2017Q1"
    ct = monitoring["trimestre_conteggi"]
    assert ct.value(ct.pos("placements"), "change") == pytest.approx(152 / 102 - 1)
    assert ct.cell_id(ct.pos("placements"), "now") == kr.ident("placements", ("quarter", "2024Q1"))


def test_zero_counts_are_shown(monitoring):
    ch = monitoring["inserimenti_per_canale_anno"]
    i = ch.pos("ips")
    assert ch.data.at[i, "n_2017"] == 0 and ch.value(i, "n_2017") == 0  # nobody, not "<10"


def test_the_same_counts_carry_the_same_identity_in_both_notebooks(overview, monitoring):
    ids_o, ids_m = kr.known_ids(overview.values()), kr.known_ids(monitoring.values())
    assert kr.ident("permanent", ("quarter", "2019Q3")) in ids_o & ids_m
    assert kr.ident("placements", ("year", "2023")) in ids_o & ids_m
    # and the year/quarter cells get the same protection in both
    for m in kr.COUNT_MEASURES:
        for name in ("indicatori_per_anno", "indicatori_per_trimestre"):
            assert (overview[name].status[m].to_numpy() == monitoring[name].status[m].to_numpy()).all(), (name, m)


# ============================================================================ the leaks, closed


def test_year_minus_quarters_gives_nothing_back(overview, monitoring):
    assert attack_year_minus_quarters(overview["indicatori_per_anno"], overview["indicatori_per_trimestre"]) == []
    assert attack_year_minus_quarters(monitoring["indicatori_per_anno"], monitoring["indicatori_per_trimestre"]) == []
    # across notebooks: the overview's years against the monitoring's quarters
    assert attack_year_minus_quarters(overview["indicatori_per_anno"], monitoring["indicatori_per_trimestre"]) == []


def test_year_minus_quarters_would_find_2019q3_without_the_relations(analysis):
    # the leak of the issue: permanent 2019 = 49, Q1 12, Q2 10, Q4 18, so Q3 = 9
    t = _protected(analysis, "monitoring", rel=False)
    found = attack_year_minus_quarters(t["indicatori_per_anno"], t["indicatori_per_trimestre"])
    assert ("permanent", "2019Q3", 9) in found


def test_no_share_change_or_p_value_rests_on_a_withheld_count(overview, monitoring):
    assert attack_derived(overview) == [] and attack_derived(monitoring) == []
    q1 = overview["primo_trimestre"]
    i = q1.find({"quarter": "2018Q1"})
    assert q1.value(i, "permanent_prev") is None and q1.value(i, "permanent_change") is None  # was "+67%" of 6


def test_a_change_would_give_its_base_back_without_the_base_link(analysis):
    t = _protected(analysis, "overview")["primo_trimestre"]
    t.cols = [replace(c, base=()) if c.key == "permanent_change" else c for c in t.cols]
    protect([t], K)
    # with the base link dropped the change of 2018 is shown while 2017's count is withheld
    assert t.value(t.find({"quarter": "2018Q1"}), "permanent_change") is not None
    assert t.value(t.find({"quarter": "2018Q1"}), "permanent_prev") is None


def test_english_threshold_20_hides_the_2023_permanent_count_behind_the_61_percent(analysis):
    t = _protected(analysis, "overview", k=20)["primo_trimestre"]
    i = t.find({"quarter": "2024Q1"})
    assert t.data.at[i, "permanent_prev"] == 18 and t.status.at[i, "permanent_prev"] == PRIMARY
    assert t.value(i, "permanent_change") is None  # was "+61%", giving 29 / 1.61 = 18


def test_one_number_one_status_and_no_lone_withheld_cell(overview, monitoring):
    assert attack_same_number(overview) == [] and attack_same_number(monitoring) == []
    assert attack_totals(overview) == [] and attack_totals(monitoring) == []
    g = overview["iscritti_per_genere"]
    assert g.status.at[g.pos("X"), "n_2022"] == PRIMARY  # 2 people
    assert g.value(g.pos("M"), "share_2022") is None  # 0.49593 x 615 = 305 no more


def test_charts_draw_only_what_the_tables_show(analysis, monitoring):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    q = monitoring["indicatori_per_trimestre"]
    fig = kr.plot_quarterly(analysis, q, "permanent_share", "it", K)
    y = fig.axes[0].lines[0].get_ydata()
    shown = kr._complete_quarters(analysis, q)["permanent_share"].to_numpy()
    assert np.array_equal(np.isnan(y), np.isnan(shown)) and np.isnan(y).any()
    plt.close(fig)
    fig = kr.plot_interviews(analysis, q, "it", K)
    for ax, key in zip(fig.axes, ("interviewed_within_share", "median_days_to_interview")):
        got = ax.lines[0].get_ydata()
        want = kr._complete_quarters(analysis, q)[key].to_numpy()
        assert np.allclose(got, want, equal_nan=True)
    plt.close(fig)


# ============================================================================ records


def _records(a, which, k=K):
    from ixl_eval.report import Report

    rep = Report(which, None, cutoff=a.cutoff, lang="it", k=k, output_dir=None)
    tables = (kr.overview_tables if which == "panoramica" else kr.monitoring_tables)(a, "it")
    rep.publish(*tables.values(), relations=kr.relations(tables))
    (kr.overview_records if which == "panoramica" else kr.monitoring_records)(rep, a, tables)
    return {r.key: r.as_dict() for r in rep.final_records()}, rep.published_


def test_records_equal_the_tables_and_give_no_hidden_count_back(analysis):
    for which in ("panoramica", "monitoraggio_trimestrale"):
        recs, tables = _records(analysis, which)
        assert attack_records(recs) == [], which
        yt = tables["indicatori_per_anno"]
        for i, y in enumerate(yt.data["year"]):
            r = recs.get(f"placements__year={y}") or recs.get(f"placements__ytd={y}")
            if r is not None:
                assert r["value"] == yt.value(i, "placements")
    recs, _ = _records(analysis, "panoramica")
    assert recs["enrolments_share__gender=M__year=2022"]["value"] is None
    assert recs["enrolments_share__gender=M__year=2022"]["suppressed"] == "derived"
    assert recs["enrolments__gender=X__year=2022"]["suppressed"] == "below_threshold"


def test_records_would_give_the_men_count_back_without_the_base_links(analysis, monkeypatch):
    orig = kr._check_links

    def unlinked(rep, tables):
        rec = orig(rep, tables)
        return lambda key, value, **kw: rec(key, value, **{**kw, "base": ()} if "share" in key else kw)

    monkeypatch.setattr(kr, "_check_links", unlinked)
    recs, _ = _records(analysis, "panoramica")
    assert ("enrolments_share__gender=M__year=2022", 305) in attack_records(recs)


def test_a_record_cannot_link_to_a_cell_no_table_publishes(analysis):
    from ixl_eval.report import Report

    rep = Report("panoramica", None, cutoff=analysis.cutoff, lang="it", k=K, output_dir=None)
    tables = kr.overview_tables(analysis, "it")
    rec = kr._check_links(rep, tables)
    with pytest.raises(ValueError, match="no published table"):
        rec("x__year=2023", 1, cell=kr.ident("nothing", ("year", 2023)))


# ============================================================================ the files of a run


def _run_files(run_dir, notebook):
    recs = {r["key"]: r for r in json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
            if r["notebook"] == notebook}
    schemas = json.loads((run_dir / "fragments" / "tables" / f"{notebook}.json").read_text(encoding="utf-8"))
    csvs = {s["name"]: pd.read_csv(run_dir / "tables" / f"{notebook}__{s['name']}.csv", encoding="utf-8-sig")
            for s in schemas}
    return recs, {s["name"]: s for s in schemas}, csvs


@pytest.mark.slow
@pytest.mark.parametrize("notebook", ["panoramica", "monitoraggio_trimestrale"])
def test_csv_columns_are_numbers_equal_to_results_json(suite_run, notebook):
    recs, schemas, csvs = _run_files(suite_run.run_dir, notebook)
    assert csvs
    for name, df in csvs.items():
        for c in schemas[name]["cols"]:
            if c["role"] in ("label", "text"):
                continue
            assert pd.api.types.is_numeric_dtype(df[c["key"]]), (name, c["key"], df[c["key"]].dtype)
    pairs = []  # (record key, table, row filter, column)
    if notebook == "panoramica":
        yt = csvs["indicatori_per_anno"]
        for y in yt["year"]:
            for m in kpi.INDICATORS:
                pairs.append((f"{m}__year={y}", "indicatori_per_anno", {"year": y}, m))
        for column, name in kr.OVERVIEW_BREAKDOWNS.items():
            measure = "placements" if column in kpi.PLACEMENT_COLUMNS else (
                "foreign_enrolments" if column == "citizenship" else "enrolments")
            for lv in schemas[name]["row_keys"]:
                for y in (2022, 2023):
                    pairs.append((f"{measure}__{column}={lv}__year={y}", name, lv, f"n_{y}"))
                    pairs.append((f"{measure}_share__{column}={lv}__year={y}", name, lv, f"share_{y}"))
    else:
        qt = csvs["indicatori_per_trimestre"]
        for q in qt["quarter"]:
            for m in kpi.INDICATORS:
                pairs.append((f"{m}__quarter={q}", "indicatori_per_trimestre", {"quarter": q}, m))
        for code in schemas["confronti_holm"]["row_keys"]:
            base, _, ch = code.partition("__")
            key = f"{base}_change" + (f"__{ch}" if ch else "") + "__quarter=2024Q1"
            pairs.append((key, "confronti_holm", code, "change"))
            pairs.append((key.replace("_change", "_change_p_holm", 1), "confronti_holm", code, "p_holm"))
        for c in schemas["inserimenti_per_canale_anno"]["row_keys"]:
            pairs.append((f"placements__channel={c}__ytd=2024", "inserimenti_per_canale_anno", c, "n_2024"))
    checked = 0
    for key, name, where, col in pairs:
        if key not in recs:
            continue
        df = csvs[name]
        if isinstance(where, str):  # a row key of the schema (the table shows only labels)
            row = df.iloc[[schemas[name]["row_keys"].index(where)]]
        else:
            row = df[np.logical_and.reduce([df[k].astype(str) == str(v) for k, v in where.items()])]
        assert len(row) == 1, (key, name, where)
        v = row[col].iloc[0]
        r = recs[key]["value"]
        if r is None:
            assert pd.isna(v) or recs[key]["suppressed"] is None, (key, v)
            assert pd.isna(v), (key, "withheld in results.json but shown in", name)
        else:
            assert v == pytest.approx(r, rel=1e-9), (key, v, r)
        checked += 1
    assert checked > 100


@pytest.mark.slow
def test_the_run_files_give_no_hidden_count_back(suite_run):
    run = suite_run.run_dir
    recs = {}
    for nb in ("panoramica", "monitoraggio_trimestrale"):
        r, schemas, csvs = _run_files(run, nb)
        assert attack_records(r) == [], nb
        recs[nb] = (r, csvs)
    pan_y = recs["panoramica"][1]["indicatori_per_anno"]
    mon_q = recs["monitoraggio_trimestrale"][1]["indicatori_per_trimestre"]
    for m in kr.COUNT_MEASURES:  # the overview's years against the monitoring's quarters, from the CSVs
        for _, row in pan_y.iterrows():
            if pd.isna(row[m]):
                continue
            qs = mon_q[mon_q["quarter"].str.startswith(str(row["year"]))]
            assert qs[m].isna().sum() != 1, (m, row["year"], "a year minus its quarters gives a withheld quarter")
    q1 = recs["panoramica"][1]["primo_trimestre"]
    for m in ("placements", "permanent"):  # no change beside a withheld count
        bad = q1[q1[f"{m}_change"].notna() & (q1[m].isna() | q1[f"{m}_prev"].isna())]
        assert bad.empty, bad
    g = recs["panoramica"][1]["iscritti_per_genere"]
    assert g.loc[g["level"] == "Non binario / n.d.", "n_2022__status"].iloc[0] == "<10"
    assert pd.isna(g.loc[g["level"] == "Uomini", "share_2022"].iloc[0])


def test_doc_example_runs(analysis):
    # the toy example of the module docstring, with the threshold of the report
    tables = kr.overview_tables(kpi.analyse(kpi._toy_dataset(), cutoff="2024-04-30", years=[2023]), "en")
    protect(tables.values(), K, relations=kr.relations(tables))
    assert tables["primo_trimestre"].value(1, "placements") is None  # 5 < 10
    assert isinstance(tables["primo_trimestre"].cols[0], Col)
