"""The output layer: typed tables, joint protection, exports that keep numbers numbers, and the
audit that attacks a run's published files (issue 10).

These tests build small run folders through the same ``Report`` a notebook uses, so each rule can
be switched off and seen to fail; ``tests/test_disclosure_audit.py`` attacks whole runs.
"""

from __future__ import annotations

import json

import numpy as np
import openpyxl
import pandas as pd
import pytest

from ixl_eval import disclosure
from ixl_eval.audit import audit_run
from ixl_eval.exceptions import DisclosureError
from ixl_eval.report import Col, Report, Table
from ixl_eval.report import render
from ixl_eval.report.table import DERIVED, PRIMARY, SECONDARY, SHOWN
from ixl_eval.runner import _write_tables


def _gender_table(name="per_genere", x=2, m=305):
    df = pd.DataFrame({"gender": ["F", "M", "X"], "label": ["Donne", "Uomini", "Non binario"],
                       "n": [310, m, x], "placed": [120, 100, 1]})
    df["share"] = df["placed"] / df["n"]
    return Table(name, df, [
        Col("gender", "Codice", "Code"), Col("label", "Genere", "Gender"),
        Col("n", "Iscritti", "Enrolled", role="count", measure="enrolled"),
        Col("placed", "Inseriti", "Placed", role="count", measure="placed"),
        Col("share", "Quota inseriti", "Share placed", role="share", base=("placed", "n")),
    ], caption_it="Iscritti per genere", caption_en="Enrolled by gender", coords=["gender"], lines="columns")


def _year_tables():
    years = Table("per_anno", pd.DataFrame({"year": ["2019", "2020"], "enrolled": [40, 50]}),
                  [Col("year", "Anno", "Year"), Col("enrolled", "Iscritti", "Enrolled", role="count")],
                  coords=["year"], lines="none")
    q = pd.DataFrame({"year": ["2019"] * 4 + ["2020"] * 4, "quarter": [f"Q{i}" for i in range(1, 5)] * 2,
                      "enrolled": [12, 13, 11, 4, 10, 15, 12, 13]})
    quarters = Table("per_trimestre", q, [Col("year", "Anno", "Year"), Col("quarter", "Trimestre", "Quarter"),
                                          Col("enrolled", "Iscritti", "Enrolled", role="count")],
                     coords=["year", "quarter"], lines="none")
    rel = [[years.cell_id(y, "enrolled")] + [quarters.cell_id(4 * y + j, "enrolled") for j in range(4)]
           for y in range(2)]
    return years, quarters, rel


# ------------------------------------------------------------------------------ protection rules


def test_zero_is_shown_and_one_to_k_minus_one_is_withheld():
    t = Table("z", pd.DataFrame({"g": ["a", "b", "c", "d"], "n": [0, 1, 9, 10]}),
              [Col("g", "G", "G"), Col("n", "N", "N", role="count")], lines="none")
    disclosure.protect([t], 10)
    assert t.status["n"].tolist() == [SHOWN, PRIMARY, PRIMARY, SHOWN]


def test_secondary_takes_the_smallest_positive_partner_not_the_total():
    t = Table("s", pd.DataFrame({"g": ["a", "b", "c", "tot"], "n": [3, 819, 40, 862]}),
              [Col("g", "G", "G"), Col("n", "N", "N", role="count")], lines="columns", total_row=True)
    disclosure.protect([t], 10)
    assert t.status["n"].tolist() == [PRIMARY, SHOWN, SECONDARY, SHOWN]


def test_withheld_cells_of_a_line_add_up_to_at_least_k():
    t = Table("s", pd.DataFrame({"g": ["a", "b", "c", "d"], "n": [3, 4, 50, 60]}),
              [Col("g", "G", "G"), Col("n", "N", "N", role="count")], lines="columns")
    disclosure.protect([t], 10)
    # 3 + 4 < 10 would pin both below 10: the smallest other cell joins them
    assert t.status["n"].tolist() == [PRIMARY, PRIMARY, SECONDARY, SHOWN]


def test_one_number_has_one_status_in_every_table():
    a, b = _gender_table("a"), _gender_table("b")
    b.lines = "none"  # b alone would show M; linked with a, it may not
    disclosure.protect([a, b], 10)
    assert b.status["n"].tolist() == a.status["n"].tolist() == [SHOWN, SECONDARY, PRIMARY]
    assert b.status["share"].tolist()[1:] == [DERIVED, DERIVED]


def test_relations_protect_a_quarter_against_its_year():
    years, quarters, rel = _year_tables()
    disclosure.protect([years, quarters], 10, relations=rel)
    st = quarters.status["enrolled"].tolist()
    assert st[3] == PRIMARY and sum(s != SHOWN for s in st[:4]) >= 2   # 2019 Q4 = 4 and a partner
    assert all(s == SHOWN for s in st[4:])                               # 2020 has nothing to hide


def test_linked_cells_must_be_the_same_number():
    a, b = _gender_table("a"), _gender_table("b", m=304)
    with pytest.raises(ValueError, match="same number"):
        disclosure.protect([a, b], 10)


def test_tables_hold_numbers_not_text():
    with pytest.raises(TypeError, match="must hold numbers"):
        Table("t", pd.DataFrame({"g": ["a"], "n": ["3.178"]}), [Col("g", "G", "G"), Col("n", "N", "N", role="count")])


# ------------------------------------------------------------------------------ rendering and exports


def test_html_marks_and_italian_numbers():
    t = _gender_table(m=8603)
    disclosure.protect([t], 10)
    h = render.html_table(t, "it", 10)
    # X (2) is below 10; F (310) is its smallest partner, so 8.603 men stay visible
    assert t.status["n"].tolist() == [SECONDARY, SHOWN, PRIMARY]
    assert ">8.603<" in h and "&lt;10" in h and ">c<" in h and 'scope="col"' in h and 'scope="row"' in h
    assert render.cell_text(t, 1, "n", "en", 10) == "8,603"
    assert render.cell_text(t, 0, "share", "it", 10) == "c"   # derived from a withheld count


def test_estimate_with_interval_is_one_cell_in_html_and_three_columns_in_csv(tmp_path):
    df = pd.DataFrame({"g": ["a"], "n": [120], "hr": [0.52], "lo": [0.4567], "hi": [0.6]})
    t = Table("hr", df, [Col("g", "G", "G"), Col("n", "N", "N", role="count"),
                         Col("hr", "HR", "HR", role="estimate", decimals=2, ci=("lo", "hi"), rests_on="n"),
                         Col("lo", "da", "from", role="lower", decimals=2), Col("hi", "a", "to", role="upper", decimals=2)])
    disclosure.protect([t], 10)
    assert render.cell_text(t, 0, "hr", "it", 10) == "0,52 (0,46–0,60)"
    render.write_csv(t, tmp_path / "x.csv", "it", 10)
    back = pd.read_csv(tmp_path / "x.csv")
    assert back["hr"].dtype == float and back["lo"].iloc[0] == pytest.approx(0.4567)


def test_csv_and_workbook_keep_numbers_numbers_and_neutralise_formulas(tmp_path):
    rep = Report("nb", None, cutoff=pd.Timestamp("2024-01-01"), lang="it", k=10, output_dir=tmp_path)
    df = pd.DataFrame({"sector": ["=HYPERLINK(\"http://x\",\"click\")", "Trasporti\x0bmerci", "@SUM(A1)"],
                       "n": [8603, 3178, 12]})
    t = Table("settori", df, [Col("sector", "Settore", "Sector"), Col("n", "Contratti", "Contracts", role="count")],
              lines="none")
    rep.publish(t)
    rep.table(t)
    (tmp_path / "fragments" / "tables").mkdir(parents=True)
    (tmp_path / "fragments" / "tables" / "nb.json").write_text(json.dumps(rep._schemas), encoding="utf-8")
    assert _write_tables(tmp_path, "it", 10) == "tables.xlsx"
    back = pd.read_csv(tmp_path / "tables" / "nb__settori.csv")
    assert back["n"].tolist() == [8603, 3178, 12] and back["n"].sum() == 11793
    assert back["sector"].tolist()[0].startswith("'=") and "\x0b" not in back["sector"].tolist()[1]
    wb = openpyxl.load_workbook(tmp_path / "tables.xlsx")
    assert {"indice", "legenda"} <= set(wb.sheetnames)
    ws = wb[[s for s in wb.sheetnames if s not in ("indice", "legenda")][0]]
    cells = [c for row in ws.iter_rows() for c in row]
    assert not [c for c in cells if c.data_type == "f"]
    nums = [c for c in cells if isinstance(c.value, (int, float))]
    assert [c.value for c in nums] == [8603, 3178, 12] and nums[0].number_format == "#,##0"
    assert all(len(s) <= 31 for s in wb.sheetnames)
    legend = pd.read_csv(tmp_path / "tables" / "legenda.csv")
    assert "n__status" in " ".join(legend["column"].astype(str)) or (legend["column"] == "<column>__status").any()


# ------------------------------------------------------------------------------ the audit


def _run_folder(tmp_path, tables, relations=(), records=(), k=10, protect=True):
    rep = Report("nb", None, cutoff=pd.Timestamp("2024-01-01"), lang="it", k=k, output_dir=tmp_path)
    if protect:
        rep.publish(*tables, relations=relations)
    else:  # a broken protection: publish with every status left "shown"
        rep.published_.update({t.name: t for t in tables})
    for t in tables:
        rep.table(t)
    for args in records:
        rep.record_cell(*args)
    fdir = tmp_path / "fragments"
    (fdir / "tables").mkdir(parents=True, exist_ok=True)
    (fdir / "tables" / "nb.json").write_text(json.dumps(rep._schemas), encoding="utf-8")
    frag = {"notebook": "nb", "records": [r.as_dict() for r in rep.final_records()],
            "relations": [list(r) for r in rep._relations],
            "links": {key: v for key, v in rep._links.items()}}
    (fdir / "nb.json").write_text(json.dumps(frag, default=list), encoding="utf-8")
    (tmp_path / "results.json").write_text(json.dumps(frag["records"]), encoding="utf-8")
    return audit_run(tmp_path, k)


def test_audit_passes_a_protected_run(tmp_path):
    years, quarters, rel = _year_tables()
    g = _gender_table()
    res = _run_folder(tmp_path, [g, years, quarters], rel,
                      records=[(g, {"gender": "M"}, "share", "share_placed__gender=M")])
    assert res.ok, res.summary()
    assert res.withheld >= 2 and res.equations >= 1


def test_audit_recovers_a_quarter_from_its_year_when_the_relation_is_ignored(tmp_path):
    years, quarters, rel = _year_tables()
    disclosure.protect([years, quarters], 10)  # protected one by one: the year total is forgotten
    rep_tables = [years, quarters]
    # publish the already-protected tables as they are, with the relation recorded for the audit
    rep = Report("nb", None, cutoff=pd.Timestamp("2024-01-01"), lang="it", k=10, output_dir=tmp_path)
    rep.published_.update({t.name: t for t in rep_tables})
    rep._relations = [list(r) for r in rel]
    for t in rep_tables:
        rep.table(t)
    (tmp_path / "fragments" / "tables").mkdir(parents=True)
    (tmp_path / "fragments" / "tables" / "nb.json").write_text(json.dumps(rep._schemas), encoding="utf-8")
    (tmp_path / "fragments" / "nb.json").write_text(json.dumps({"notebook": "nb", "relations": rep._relations},
                                                               default=list), encoding="utf-8")
    res = audit_run(tmp_path, 10)
    assert {f["rule"] for f in res.findings} == {"recovered_by_relations"}


def test_audit_finds_a_share_that_gives_back_a_withheld_count(tmp_path):
    g = _gender_table()
    disclosure.protect([g], 10)
    g.status.loc[2, "share"] = SHOWN  # switch the derived rule off for one cell
    rep = Report("nb", None, cutoff=pd.Timestamp("2024-01-01"), lang="it", k=10, output_dir=tmp_path)
    rep.published_[g.name] = g
    rep.table(g)
    (tmp_path / "fragments" / "tables").mkdir(parents=True)
    (tmp_path / "fragments" / "tables" / "nb.json").write_text(json.dumps(rep._schemas), encoding="utf-8")
    assert {f["rule"] for f in audit_run(tmp_path, 10).findings} == {"derived_from_withheld"}


def test_audit_finds_a_count_shown_in_one_table_and_withheld_in_another(tmp_path):
    a, b = _gender_table("a"), _gender_table("b")
    disclosure.protect([a], 10)
    disclosure.protect([b], 10)
    b.status.loc[1, "n"] = SHOWN  # the partner shown in b only
    b.status.loc[1, "share"] = SHOWN
    rep = Report("nb", None, cutoff=pd.Timestamp("2024-01-01"), lang="it", k=10, output_dir=tmp_path)
    rep.published_.update({"a": a, "b": b})
    rep.table(a)
    rep.table(b)
    (tmp_path / "fragments" / "tables").mkdir(parents=True)
    (tmp_path / "fragments" / "tables" / "nb.json").write_text(json.dumps(rep._schemas), encoding="utf-8")
    assert "same_count_elsewhere" in {f["rule"] for f in audit_run(tmp_path, 10).findings}


def test_audit_finds_a_record_showing_a_withheld_share(tmp_path):
    g = _gender_table()
    rep = Report("nb", None, cutoff=pd.Timestamp("2024-01-01"), lang="it", k=10, output_dir=tmp_path)
    rep.publish(g)
    rep.table(g)
    rep.record_cell(g, {"gender": "M"}, "share", "share_placed__gender=M")
    recs = [r.as_dict() for r in rep.final_records()]
    assert recs[0]["value"] is None and recs[0]["suppressed"] == "derived"
    recs[0]["value"] = 0.328  # as if the record had not been protected
    (tmp_path / "fragments" / "tables").mkdir(parents=True)
    (tmp_path / "fragments" / "tables" / "nb.json").write_text(json.dumps(rep._schemas), encoding="utf-8")
    (tmp_path / "fragments" / "nb.json").write_text(json.dumps({"notebook": "nb", "links": rep._links}, default=list),
                                                    encoding="utf-8")
    (tmp_path / "results.json").write_text(json.dumps(recs), encoding="utf-8")
    assert {f["rule"] for f in audit_run(tmp_path, 10).findings} == {"record_derived_from_withheld"}


def test_a_second_publish_may_not_hide_what_was_shown(tmp_path):
    rep = Report("nb", None, cutoff=pd.Timestamp("2024-01-01"), lang="it", k=10, output_dir=tmp_path)
    big = Table("a", pd.DataFrame({"gender": ["F", "M"], "n": [310, 305]}),
                [Col("gender", "G", "G"), Col("n", "N", "N", role="count", measure="enrolled")],
                coords=["gender"], lines="none")
    rep.publish(big)
    with pytest.raises(DisclosureError, match="earlier tables already showed"):
        rep.publish(_gender_table("b"))


def test_a_count_withheld_by_another_notebook_is_withheld_here(tmp_path, synth_dir):
    """The run-level pass: what fragments/withhold.json lists stays withheld in this notebook."""
    from ixl_eval.audit import cross_notebook_withholding

    out = tmp_path / "run"
    (out / "fragments").mkdir(parents=True)
    # notebook "a" withholds men (partner of a small group); notebook "b" shows only F and M
    a = _gender_table("a")
    b = Table("b", pd.DataFrame({"gender": ["F", "M"], "n": [310, 305]}),
              [Col("gender", "G", "G"), Col("n", "N", "N", role="count", measure="enrolled")],
              coords=["gender"], lines="none")
    for key, t in (("nb_a", a), ("nb_b", b)):
        rep = Report.open(key, data_dir=str(synth_dir), output_dir=str(out))
        rep.publish(t)
        rep.table(t)
        rep.finish()
    withheld, rerun = cross_notebook_withholding(out, 10)
    assert rerun == {"nb_b"} and withheld == {'["enrolled", [["gender", "M"]]]': "secondary", '["enrolled", [["gender", "X"]]]': "primary",
                                              '["placed", [["gender", "M"]]]': "secondary", '["placed", [["gender", "X"]]]': "primary"}
    (out / "fragments" / "withhold.json").write_text(json.dumps(withheld), encoding="utf-8")
    b2 = Table("b", pd.DataFrame({"gender": ["F", "M"], "n": [310, 305]}),
               [Col("gender", "G", "G"), Col("n", "N", "N", role="count", measure="enrolled")],
               coords=["gender"], lines="none")
    rep = Report.open("nb_b", data_dir=str(synth_dir), output_dir=str(out))
    rep.publish(b2)
    assert b2.status["n"].tolist() == [SHOWN, SECONDARY]
