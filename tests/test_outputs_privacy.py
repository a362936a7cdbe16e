"""No output of a run reveals a participant, placement or employer id, or a birth year column.

Every file of the suite's run folder is scanned: HTML, CSV, XLSX (every cell), JSON and the
executed notebooks (outputs and all).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import openpyxl
import pytest

from ixl_eval.contract import IDENTIFIER_COLUMNS

pytestmark = pytest.mark.slow

_TOKEN = re.compile(r"[A-Za-z0-9_]+")
_BIRTH = re.compile(r"birth_?year|anno[ _]di[ _]nascita", re.I)
_TH_BIRTH = re.compile(r"<th[^>]*>\s*(birth_?year|anno di nascita)", re.I)


def _text(path: Path) -> str:
    if path.suffix == ".xlsx":
        wb = openpyxl.load_workbook(path, read_only=True)
        return "\n".join(
            " ".join("" if v is None else str(v) for v in row) for ws in wb.worksheets for row in ws.iter_rows(values_only=True)
        )
    return path.read_text(encoding="utf-8")


def _outputs_text(path: Path) -> str:
    """What a notebook showed (its outputs), not its source code."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    return json.dumps([c.get("outputs", []) for c in nb["cells"]], ensure_ascii=False)


@pytest.fixture(scope="module")
def identifiers(synth_dataset):
    ids = set()
    for table, column in IDENTIFIER_COLUMNS:
        if column != "birth_year":
            ids |= set(synth_dataset.table(table)[column].dropna().astype(str))
    assert len(ids) > 1000  # participants, placements and employers are all there
    return ids


@pytest.fixture(scope="module")
def run_files(suite_run):
    files = sorted(p for p in suite_run.run_dir.rglob("*") if p.is_file())
    assert {p.suffix for p in files} >= {".html", ".json", ".ipynb"}
    return files


def test_identifier_columns_cover_the_three_ids():
    cols = {c for _, c in IDENTIFIER_COLUMNS}
    assert {"participant_id", "placement_id", "employer_id", "birth_year"} <= cols


def test_no_input_identifier_in_any_output_file(run_files, identifiers):
    leaks = {}
    for p in run_files:
        found = identifiers.intersection(_TOKEN.findall(_text(p)))
        if found:
            leaks[p.name] = sorted(found)[:5]
    assert not leaks, f"identifiers in outputs: {leaks}"


def test_the_scan_would_see_a_leak(tmp_path, identifiers):
    # The scanner itself: an id in a table cell is found (a test that cannot fail proves nothing).
    leaked = sorted(identifiers)[0]
    p = tmp_path / "t.csv"
    p.write_text(f"gruppo,n\n{leaked},12\n")
    assert identifiers.intersection(_TOKEN.findall(_text(p))) == {leaked}


def test_no_birth_year_column_in_tables_or_shown_outputs(run_files):
    # Prose may say that age comes from the year of birth; a column of birth years must never appear.
    for p in run_files:
        if p.suffix == ".csv":
            header = p.read_text(encoding="utf-8").splitlines()[0]
            assert not _BIRTH.search(header), f"{p.name} has a birth year column"
        elif p.suffix == ".xlsx":
            wb = openpyxl.load_workbook(p, read_only=True)
            for ws in wb.worksheets:
                header = " ".join(str(v) for v in next(ws.iter_rows(max_row=1, values_only=True), ()) if v)
                assert not _BIRTH.search(header), f"{p.name}:{ws.title} has a birth year column"
        else:
            shown = _outputs_text(p) if p.suffix == ".ipynb" else _text(p)
            assert "birth_year" not in shown, f"{p.name} shows the birth_year column"
            assert not _TH_BIRTH.search(shown), f"{p.name} shows a birth year column"
