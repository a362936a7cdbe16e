"""The data contract has one definition (ixl_eval/contract.py): the pandera schemas are built from
it and docs/data-contract.md is generated from it; both must agree with it."""

from __future__ import annotations

import pandas as pd
import pytest

from ixl_eval import paths
from ixl_eval.cli import main
from ixl_eval.contract import EXTRACT_FIELDS, RULES, TABLE_ORDER, TABLES
from ixl_eval.validate import render_contract_docs, table_schema

DOC = paths.REPO_ROOT / "docs" / "data-contract.md"


def test_docs_file_is_current():
    assert DOC.read_text(encoding="utf-8") == render_contract_docs(), (
        "docs/data-contract.md is stale: run `ixl-eval contract docs --out docs/data-contract.md`"
    )


def test_cli_prints_the_same_text(capsys):
    assert main(["contract", "docs"]) == 0
    assert capsys.readouterr().out == render_contract_docs()


def _doc_rows(section: str) -> dict:
    """Rows of the Markdown table under ``## section``: first cell (unquoted) -> all cells."""
    text = DOC.read_text(encoding="utf-8").split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    cells = [[c.strip() for c in row.strip("|").split(" | ")] for row in rows]
    return {c[0].strip("`"): c for c in cells}


@pytest.mark.parametrize("table", TABLE_ORDER)
def test_each_table_is_documented_column_by_column(table):
    rows = _doc_rows(table)
    assert list(rows) == [c.name for c in TABLES[table].columns]
    for c in TABLES[table].columns:
        _, kind, allowed, nullable, unique, required, it, en = rows[c.name]
        assert nullable == ("yes" if c.nullable else "no")
        assert unique == ("yes" if c.unique else "no")
        assert required.startswith("yes" if c.required else "no")
        assert (it, en) == (c.it, c.en)
        for value in c.allowed or ():
            assert f"`{value}`" in allowed


def test_extract_fields_and_rules_are_documented():
    assert list(_doc_rows("extract.yaml")) == [c.name for c in EXTRACT_FIELDS]
    rules = _doc_rows("Rules / Regole")
    assert list(rules) == [r.id for r in RULES]
    assert all(rules[r.id][1] == r.severity for r in RULES)


@pytest.mark.parametrize("table", TABLE_ORDER)
def test_pandera_schema_mirrors_the_contract(table):
    schema = table_schema(table)
    assert list(schema.columns) == [c.name for c in TABLES[table].columns]
    for c in TABLES[table].columns:
        col = schema.columns[c.name]
        assert (col.nullable, col.unique, col.required) == (c.nullable, c.unique, c.required)
        checks = {ch.name for ch in col.checks}
        assert checks == ({"type"} if c.kind in ("date", "int") else set()) | (
            {"allowed_values"} if c.allowed else set()) | ({"pattern"} if c.pattern else set())


def test_pandera_schema_rejects_what_the_contract_forbids():
    ok = pd.DataFrame({"participant_id": ["P1", "P2"], "enrolled_on": ["2023-01-05", "05/01/2023"],
                       "birth_year": ["1980", "1990"], "gender": ["F", "X"], "citizenship": ["IT", "NA"],
                       "education": ["none_or_compulsory", "degree_or_postgraduate"], "withdrawn_on": [None, None]})
    schema = table_schema("participants")
    schema.validate(ok)
    bad = ok.assign(gender=["F", "female"], citizenship=["IT", "ita"], birth_year=["1980", "19x"])
    with pytest.raises(Exception) as e:
        schema.validate(bad, lazy=True)
    cases = e.value.failure_cases
    assert set(zip(cases["column"], cases["check"])) == {("gender", "allowed_values"),
                                                         ("citizenship", "pattern"), ("birth_year", "type")}
