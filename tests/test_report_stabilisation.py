"""The stabilisation outputs as users read them: typed CSVs equal to results.json, no withheld
count recoverable from the other tables and records of the notebook, no live markup from data.

The leaks these tests attack were found on the outputs before the output layer (issue 10):

* the Cox table showed men's 628 contracts / 80 conversions, which the group table withheld:
  with the total (1.324) and women (691) that gave the hidden non-binary count (5);
* year totals minus the shown quarters gave hidden quarter counts (2019 Q3: 9 hires, 6
  conversions; also 2022 Q3, 2023 Q1, 2024 Q2);
* zero exclusions were shown as "<10" (2.223 − 899 − 1.324 = 0 gave them back anyway).
"""

from __future__ import annotations

import math
import shutil

import numpy as np
import pandas as pd
import pytest

from ixl_eval import stabilisation as st
from ixl_eval.report import Report
from ixl_eval.report import stabilisation as show

K = 10
NB = "stabilizzazione"


def _publish(ds, out, k=K, *, drop_relations=False, **kw):
    """The notebook's steps, in-process: analyse, build, publish (jointly), record, show."""
    a = st.analyse(ds, employer_min_contracts=k, **kw)
    rep = Report(NB, ds, cutoff=ds.cutoff, lang="it", k=k, output_dir=out)
    t = show.tables(a, lang=rep.lang)
    rep.publish(*t.values(), relations=() if drop_relations else show.relations(a, t))
    show.record(rep, a, t)
    for name in t:
        if name != "contratti_in_corso":
            rep.table(t[name])
    return rep, a, t


@pytest.fixture(scope="module")
def published(synth_dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("stab")
    rep, a, t = _publish(synth_dataset, out)
    recs = {r.key: r.as_dict() for r in rep.final_records()}
    csvs = {p.name[len(NB) + 2:-4]: pd.read_csv(p) for p in sorted((out / "tables").glob(f"{NB}__*.csv"))}
    return {"rep": rep, "a": a, "t": t, "recs": recs, "csv": csvs, "out": out}


# ------------------------------------------------------------------------------- (a) typed CSVs


def test_csvs_are_numbers_with_a_status_column(published):
    t, csvs = published["t"], published["csv"]
    assert set(csvs) == set(t) - {"contratti_in_corso"}
    for name, df in csvs.items():
        for c in t[name].cols:
            if c.role in ("label", "text"):
                continue
            assert pd.api.types.is_numeric_dtype(df[c.key]), (name, c.key, df[c.key].dtype)
            if c.role == "count":  # whole numbers: never 8.603 for 8603
                v = df[c.key].dropna()
                assert (v == v.round()).all(), (name, c.key)
        for s in [c for c in df.columns if c.endswith("__status")]:
            assert set(df[s].fillna("")) <= {"", "<10", "c"}, (name, s)
            # a withheld cell is empty, a shown one is a number (or missing: not yet observable)
            assert df.loc[df[s].fillna("") != "", s[: -len("__status")]].isna().all()


def _rel_eq(a, b):
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    return b is not None and not (isinstance(b, float) and math.isnan(b)) and math.isclose(a, b, rel_tol=1e-9)


def test_csv_values_equal_results_json(published):
    a, csvs, recs = published["a"], published["csv"], published["recs"]
    checked = 0
    inc = csvs["trasformazioni_per_gruppo"]
    for i, r in a.incidence.reset_index(drop=True).iterrows():
        tail = "" if r["subgroup"] == "all" else "__" + show._key_part(r["subgroup"], r["group"])
        for h in a.horizons_days:
            rec = recs[f"conversion_cif__months={round(h / (365.25 / 12))}{tail}"]
            assert _rel_eq(rec["value"], inc.at[i, f"cif_{h}"]) and _rel_eq(rec["ci_low"], inc.at[i, f"cif_{h}_lower"])
            n = inc.at[i, "n"]
            assert rec["n"] == (None if pd.isna(n) else int(n))
            checked += 1
    cox = csvs["rapporti_di_rischio"]
    for i, r in a.cox.hr_table_.reset_index(drop=True).iterrows():
        rec = recs["conversion_hr__" + show._key_part(r["covariate"], r["level"])]
        assert _rel_eq(rec["value"], cox.at[i, "hr"]) and _rel_eq(rec["ci_high"], cox.at[i, "upper"])
        checked += 1
    rates = csvs["trasformazioni_per_anno_di_contratto"]
    for i, r in a.rates.reset_index(drop=True).iterrows():
        tail = "" if r["subgroup"] == "all" else "__" + show._key_part(r["subgroup"], r["group"])
        rec = recs[f"conversion_rate_per_year{tail}"]
        v = rates.at[i, "rate_per_100"]
        assert _rel_eq(rec["value"], None if pd.isna(v) else v / 100)  # the table is per 100 contract-years
        checked += 1
    peo = csvs["persone_tempo_indeterminato"]
    for i, r in a.people.reset_index(drop=True).iterrows():
        tail = "" if r["subgroup"] == "all" else "__" + show._key_part(r["subgroup"], r["group"])
        assert _rel_eq(recs[f"people_permanent_share__months=24{tail}"]["value"], peo.at[i, "share"])
        checked += 1
    year = csvs["tempo_indeterminato_per_anno"]
    for i, p in enumerate(a.routes_year["period"]):
        for c in ("at_hire", "by_conversion"):
            v = year.at[i, c]
            assert recs[f"permanent_{c}__year={p}"]["value"] == (None if pd.isna(v) else int(v))
            checked += 1
    assert checked > 100


# --------------------------------------------------------------------------- (b) recoverability


def _known(csvs, name, key_cols, col):
    """{(subgroup, group): value or None} of one count column of a published CSV."""
    df = csvs[name]
    return {tuple(r[k] for k in key_cols): (None if pd.isna(r[col]) else int(r[col])) for _, r in df.iterrows()}


def _attack_groups(csvs, recs=None):
    """Everything an attacker learns about each group's contracts and conversions from the group
    table, the Cox table and the rates table together; returns the cells recovered by difference
    from the "Tutti" row although the group table withholds them."""
    leaks = []
    inc = csvs["trasformazioni_per_gruppo"]
    for col, other in (("n", {"rapporti_di_rischio": "n", "trasformazioni_per_anno_di_contratto": "n"}),
                       ("conversions", {"rapporti_di_rischio": "events", "trasformazioni_per_anno_di_contratto": "conversions"})):
        known = _known(csvs, "trasformazioni_per_gruppo", ("subgroup", "group"), col)
        for name, oc in other.items():
            if name in csvs:
                for key, v in _known(csvs, name, ("subgroup", "group"), oc).items():
                    if v is not None and known.get(key, 0) is None:
                        known[key] = v  # the same group's count, shown in another table
        total = int(inc.at[0, col])
        for sub in dict.fromkeys(inc["subgroup"][1:]):
            block = {g: v for (s, g), v in known.items() if s == sub}
            unknown = [g for g, v in block.items() if v is None]
            if len(unknown) == 1:
                leaks.append((col, sub, unknown[0], total - sum(v for v in block.values() if v is not None)))
    return leaks


def test_cox_counts_have_the_group_tables_status(published):
    """The leak of the Cox table: one number, one status."""
    csvs = published["csv"]
    inc = {k: v for k, v in _known(csvs, "trasformazioni_per_gruppo", ("subgroup", "group"), "n").items()}
    cox = _known(csvs, "rapporti_di_rischio", ("subgroup", "group"), "n")
    linked = [k for k in cox if k in inc]
    assert len(linked) >= 10
    for k in linked:
        assert (cox[k] is None) == (inc[k] is None), k
    # the case found: men are withheld in the group table (secondary), hence in the Cox table too
    men = ("Genere", "Uomini")
    assert inc[men] is None and cox[men] is None
    assert published["recs"]["conversion_hr__gender=M"]["n"] is None


def test_no_group_count_is_recovered_from_the_tables_together(published):
    assert _attack_groups(published["csv"]) == []


def test_no_quarter_is_recovered_from_its_year(published):
    csvs = published["csv"]
    y, q = csvs["tempo_indeterminato_per_anno"], csvs["tempo_indeterminato_per_trimestre"]
    qyear = q["quarter"].str.extract(r"(\d{4})")[0]
    checked = 0
    for c in ("at_hire", "by_conversion", "total"):
        for i, label in enumerate(y["year"]):
            cells = [y.at[i, c]] + q.loc[qyear == label[:4], c].tolist()
            hidden = sum(pd.isna(v) for v in cells)
            assert hidden != 1, (label, c, cells)  # exactly one withheld: the others give it back
            checked += hidden > 0
    assert checked > 0  # some quarters are withheld: the test has something to attack


def test_zero_exclusions_are_shown_and_the_funnel_adds_up(published):
    f = published["csv"]["contratti_analizzati"]
    n = f["n"].tolist()
    assert 0 in n and f["n__status"].fillna("").eq("").all()
    assert n[0] == sum(n[1:])


def test_records_withhold_what_the_tables_withhold(published):
    """No record gives back a withheld count: shares, rates and hazard ratios of a group whose
    counts a table withholds are null, and so is their n."""
    a, t, recs = published["a"], published["t"], published["recs"]
    inc = t["trasformazioni_per_gruppo"]
    for i, r in a.incidence.reset_index(drop=True).iterrows():
        tail = "" if r["subgroup"] == "all" else "__" + show._key_part(r["subgroup"], r["group"])
        rec = recs[f"conversion_cif__months=12{tail}"]
        if inc.value(i, "n") is None:
            assert rec["n"] is None
        if inc.value(i, "n") is None or inc.value(i, "conversions") is None:
            assert rec["value"] is None and rec["suppressed"]
    # share x n cannot give a hidden count: whenever n is published with a share, the count is too
    for key, rec in recs.items():
        if rec["unit"] == "contracts" and rec["value"] is not None:
            assert rec["value"] == 0 or rec["value"] >= K


def test_protection_off_would_leak(synth_dataset, tmp_path):
    """The attack sees the leaks when the relations are left out (the protection is what closes them)."""
    rep, a, t = _publish(synth_dataset, tmp_path, drop_relations=True)
    y, q = t["tempo_indeterminato_per_anno"].shown(), t["tempo_indeterminato_per_trimestre"].shown()
    qyear = a.routes_quarter["period"].str[:4].to_numpy()
    lone = sum(int(sum(pd.isna(v) for v in [y.at[i, c]] + q.loc[qyear == p, c].tolist()) == 1)
               for c in ("at_hire", "by_conversion") for i, p in enumerate(a.routes_year["period"]))
    assert lone > 0


# ------------------------------------------------------------------------------ data as text


XSS = "<img src=x onerror=alert(1)>"
LINK = "[click](http://x)"


def test_md_escape_makes_data_inert():
    import mistune  # the Markdown renderer of nbconvert, which lets raw HTML through

    md = mistune.create_markdown(escape=False)
    assert "<img" in md("In " + XSS) and "<a " in md("In " + LINK)  # unescaped, both would be live
    for raw in (XSS, LINK, "**bold** _x_ `code` # h ! | a"):
        out = md("In «" + show.md_escape(raw) + "».")
        assert "<img" not in out and "<a " not in out and "<strong>" not in out and "<em>" not in out
        assert "<code>" not in out and "<h1>" not in out


def test_sector_and_employer_names_from_data_are_not_live_in_the_report(synth_dir, tmp_path):
    """A sector called like an HTML tag or a Markdown link, and a consenting employer with markup in
    its name, reach the rendered HTML of the notebook as text."""
    from ixl_eval.runner import run

    data = tmp_path / "data"
    shutil.copytree(synth_dir, data)
    pl = pd.read_csv(data / "placements.csv", dtype=str, keep_default_na=False)
    # two sectors only: the sentence names both (highest and lowest share converted)
    sectors = pl["sector"].value_counts().index
    pl["sector"] = np.where(pl["sector"].isin(sectors[::2]), XSS, LINK)
    ft = pl.loc[pl["contract_type"] == "fixed_term", "employer_id"].value_counts().index[0]
    pl.loc[pl["employer_id"] == ft, "employer_name"] = "<b>Evil</b> [srl](http://y)"
    pl.to_csv(data / "placements.csv", index=False)
    for f in ("extract.yaml", "manifest.json"):
        if (data / f).exists() and f == "manifest.json":
            (data / f).unlink()
    params = tmp_path / "p.yaml"
    params.write_text("notebooks:\n  stabilizzazione:\n    consenting_employers: ['<b>Evil</b> [srl](http://y)', "
                      "'<script>x</script>']\n", encoding="utf-8")
    res = run(params, data_dir=data, outputs_dir=tmp_path / "out", compare=False)
    html = next((tmp_path / "out").glob("*/stabilizzazione.html")).read_text(encoding="utf-8")
    assert "onerror=alert(1)" in html and "[click](http://x)" in html  # the sector names are there ...
    # ... as text: no element from data (nbconvert would rewrite a live one as <img ... onerror="alert(1)" src="x"/>)
    assert "<img src=x" not in html and 'onerror="alert(1)"' not in html and 'src="x"' not in html
    assert 'href="http://x"' not in html and 'href="http://y"' not in html
    assert "<b>Evil</b>" not in html and "<script>x</script>" not in html
    assert res is not None


def test_the_notebook_shows_what_the_module_builds(suite_run, published):
    """Through the runner: every table is shown (CSV written), the records are the in-process ones,
    and the HTML holds no formatted number the tables withhold."""
    import json

    run_dir = suite_run.run_dir
    names = {p.name[len(NB) + 2:-4] for p in (run_dir / "tables").glob(f"{NB}__*.csv")}
    assert names == set(published["csv"])
    recs = {r["key"]: r for r in json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
            if r["notebook"] == NB}
    assert recs == published["recs"]
    html = (run_dir / f"{NB}.html").read_text(encoding="utf-8")
    assert "Modello di Cox per la trasformazione" in html
