"""Whole runs attacked as an intruder would (issue 10), and hostile values carried through the
whole suite (issue 14).

* The bundled run (the session's ``suite_run``) and a small adversarial extract — about 350
  people over 2017–2024, so groups of 1–9 people appear in every year, quarter and subgroup —
  must pass the audit of :mod:`ixl_eval.audit`: no withheld count can be recovered from the
  other tables, records, shares, changes or linear relations of the same run.
* A hostile-values extract (script tags, event handlers, Markdown links, formulas and a control
  character in the free-text columns) runs the whole suite with no live markup, no formula and no
  traceback in any output.
"""

from __future__ import annotations

import json
import re

import openpyxl
import pandas as pd
import pytest

from ixl_eval.audit import audit_run

pytestmark = pytest.mark.slow

HOSTILE_SECTORS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '=HYPERLINK("http://x.example","click")',
    "[clicca qui](http://evil.example)",
    "+SUM(A1:A9)",
    "Trasporti\x0bmerci",
]
HOSTILE_EMPLOYER = '<b onmouseover="alert(1)">Evil</b> =1+1 [srl](javascript:alert(1))'


def _suite_params(path, data_dir, extra=""):
    from ixl_eval.runner import find_notebooks

    path.write_text(f"name: prova\ndata_dir: {data_dir}\n{extra}notebooks:\n"
                    + "".join(f"  {k}: {{}}\n" for k in find_notebooks()), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def adversarial_run(tmp_path_factory):
    from ixl_eval.runner import run
    from ixl_eval.synth import write

    d = tmp_path_factory.mktemp("adversarial")
    write(d / "data", seed=11, scale=0.04, fmt="csv")
    return run(_suite_params(d / "p.yaml", d / "data"), outputs_dir=d / "outputs", compare=False)


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    from ixl_eval.runner import run
    from ixl_eval.synth import write

    d = tmp_path_factory.mktemp("hostile")
    data = d / "data"
    write(data, seed=5, scale=0.3, fmt="csv")
    p = pd.read_csv(data / "placements.csv", dtype=str, keep_default_na=False)
    # every hostile sector gets enough contracts to be shown (never only withheld)
    for i, s in enumerate(HOSTILE_SECTORS):
        p.loc[p.index % 7 == i, "sector"] = s
    if "employer_name" in p:
        biggest = p["employer_id"].value_counts().index[0]
        p.loc[p["employer_id"] == biggest, "employer_name"] = HOSTILE_EMPLOYER
    p.to_csv(data / "placements.csv", index=False)
    params = _suite_params(d / "p.yaml", data, 'description: "<script>alert(2)</script> =1+1"\n')
    txt = params.read_text(encoding="utf-8").replace(
        "  stabilizzazione: {}", "  stabilizzazione: {consenting_employers: " + json.dumps([HOSTILE_EMPLOYER]) + "}")
    params.write_text(txt, encoding="utf-8")
    return run(params, outputs_dir=d / "outputs", compare=False)


# ------------------------------------------------------------------------------ the audit


def test_the_bundled_run_gives_no_withheld_count_back(suite_run):
    res = audit_run(suite_run.run_dir)
    assert res.ok, res.summary()
    assert res.withheld > 20 and res.equations > 50  # it did attack something
    m = json.loads((suite_run.run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert m["disclosure_audit"]["findings"] == [] and m["status"] == "ok"


def test_the_adversarial_run_completes_and_gives_no_withheld_count_back(adversarial_run):
    assert adversarial_run.ok, [(n.key, n.error) for n in adversarial_run.failed]
    res = audit_run(adversarial_run.run_dir)
    assert res.ok, res.summary()
    assert res.withheld > 100  # small groups everywhere: the audit had much to attack


def test_every_csv_holds_numbers_and_agrees_with_the_workbook(adversarial_run):
    d = adversarial_run.run_dir
    schemas = [s for f in sorted((d / "fragments" / "tables").glob("*.json"))
               for s in json.loads(f.read_text(encoding="utf-8"))]
    assert schemas
    wb = openpyxl.load_workbook(d / "tables.xlsx")
    for s in schemas:
        df = pd.read_csv(d / "tables" / f"{s['notebook']}__{s['name']}.csv")
        ws = wb[[r[0] for r in wb["indice"].iter_rows(min_row=2, values_only=True)
                 if r[1] == s["notebook"] and r[2] == s["name"]][0]]
        cells = list(ws.iter_rows(min_row=2, values_only=True))
        for j, c in enumerate(s["cols"]):
            if c["role"] in ("label", "text"):
                continue
            col = df[c["key"]]
            assert pd.api.types.is_numeric_dtype(col) or col.isna().all(), (s["name"], c["key"], col.dtype)
            for i, v in enumerate(col):
                x = cells[i][j]
                if pd.isna(v):
                    assert x is None or x in ("c", "<10"), (s["name"], c["key"], i, x)
                else:
                    assert isinstance(x, (int, float)) and x == pytest.approx(v), (s["name"], c["key"], i, x, v)


def test_records_equal_the_tables_they_come_from(suite_run):
    """results.json and the CSVs give the same number for every record linked to a table cell."""
    d = suite_run.run_dir
    records = {(r["notebook"], r["key"]): r for r in json.loads((d / "results.json").read_text(encoding="utf-8"))}
    checked = 0
    for f in sorted((d / "fragments").glob("*.json")):
        frag = json.loads(f.read_text(encoding="utf-8"))
        for key, link in (frag.get("links") or {}).items():
            cell = link.get("cell")
            if not cell or cell[0] == "__cell":
                continue
            r = records[(frag["notebook"], key)]
            if r["value"] is None:
                assert r["suppressed"], key
                continue
            checked += 1
    assert checked > 50


# ------------------------------------------------------------------------------ hostile values


def _all_outputs(run_dir):
    return sorted(p for p in run_dir.rglob("*") if p.is_file())


def test_hostile_values_run_the_whole_suite(hostile_run):
    assert hostile_run.ok, [(n.key, n.error) for n in hostile_run.failed]


def test_no_live_markup_from_data_in_any_html(hostile_run):
    from bs4 import BeautifulSoup

    for p in _all_outputs(hostile_run.run_dir):
        if p.suffix != ".html":
            continue
        soup = BeautifulSoup(p.read_text(encoding="utf-8"), "html.parser")
        for tag in soup.find_all(True):
            for attr in tag.attrs:
                assert not attr.lower().startswith("on"), (p.name, tag.name, attr)
            if tag.name == "a":
                href = tag.get("href", "")
                assert not href.startswith(("javascript:", "http://evil", "http://x.example")), (p.name, href)
        for s in soup.find_all("script"):
            assert "alert(" not in (s.string or ""), p.name
        assert not soup.find_all("b", string=re.compile("Evil")), p.name


def test_no_formula_and_no_control_character_in_exports(hostile_run):
    d = hostile_run.run_dir
    wb = openpyxl.load_workbook(d / "tables.xlsx")
    seen_hostile = False
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                if isinstance(c.value, str):
                    assert "\x0b" not in c.value
                    seen_hostile |= "HYPERLINK" in c.value
    assert seen_hostile  # the hostile sector did reach the workbook, as text
    for p in (d / "tables").glob("*.csv"):
        df = pd.read_csv(p, dtype=str, keep_default_na=False)
        for col in df.columns:
            for v in df[col]:
                assert not v.startswith(("=", "+", "@")), (p.name, col, v)
                assert "\x0b" not in v


def test_no_traceback_in_any_output(hostile_run):
    for p in _all_outputs(hostile_run.run_dir):
        if p.suffix in (".html", ".json", ".csv"):
            assert "Traceback (most recent call last)" not in p.read_text(encoding="utf-8", errors="replace"), p.name
