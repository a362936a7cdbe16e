"""Validation: every rule of the contract fires on a deliberately broken copy of a valid dataset,
naming the right file, row (as a spreadsheet shows it), column and rule; CLI exit codes."""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ixl_eval import paths
from ixl_eval.cli import main
from ixl_eval.contract import RULES, TABLES
from ixl_eval.dataset import Dataset, load_dataset
from ixl_eval.exceptions import DataLoadError, DataValidationError
from ixl_eval.io import write_data_dir
from ixl_eval.validate import Finding, validate_dir

VALID = Path(__file__).parent / "data" / "valid"


@pytest.fixture
def data(tmp_path) -> Path:
    """A fresh copy of the hand-made valid dataset (ISO CSV)."""
    d = tmp_path / "data"
    shutil.copytree(VALID, d)
    return d


# ---- helpers that break a CSV the way a person editing it would -------------------------------


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def _write(path: Path, header, rows) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows([header, *rows])


def set_cell(d: Path, table: str, row: int, column: str, value: str) -> None:
    """Set the cell at spreadsheet row ``row`` (header = 1) of ``table.csv``."""
    header, rows = _rows(d / f"{table}.csv")
    rows[row - 2][header.index(column)] = value
    _write(d / f"{table}.csv", header, rows)


def drop_column(d: Path, table: str, column: str) -> None:
    header, rows = _rows(d / f"{table}.csv")
    j = header.index(column)
    _write(d / f"{table}.csv", header[:j] + header[j + 1:], [r[:j] + r[j + 1:] for r in rows])


def append_row(d: Path, table: str, values: list[str]) -> None:
    header, rows = _rows(d / f"{table}.csv")
    _write(d / f"{table}.csv", header, [*rows, values])


def copy_row(d: Path, table: str, row: int) -> None:
    header, rows = _rows(d / f"{table}.csv")
    _write(d / f"{table}.csv", header, [*rows, rows[row - 2]])


def where(f: Finding) -> tuple:
    return (f.file, f.row, f.column, f.rule)


# ---- one broken dataset per rule ---------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    name: str
    breaks: object  # callable(data_dir)
    expected: tuple  # (file, row, column, rule) of every finding, in report order
    exit_code: int = 3

    @property
    def rules(self) -> set:
        return {e[3] for e in self.expected}


def _write_bytes(name: str, data: bytes):
    return lambda d: (d / name).write_bytes(data)


def _extra_parquet(d: Path) -> None:
    pq.write_table(pa.table({"participant_id": ["P000001"]}), d / "programmes.parquet")


VARIANTS = [
    Variant("missing_table", lambda d: (d / "programmes.csv").unlink(),
            (("programmes", None, None, "file_present"),)),
    Variant("table_twice", _extra_parquet,
            (("programmes.csv, programmes.parquet", None, None, "file_present"),)),
    Variant("missing_extract", lambda d: (d / "extract.yaml").unlink(),
            (("extract.yaml", None, None, "file_present"),)),
    Variant("unreadable_file", _write_bytes("interviews.csv", b"participant_id,format\n\x81\x8d\x8f\x90\n"),
            (("interviews.csv", 2, None, "file_readable"),), exit_code=2),
    Variant("ragged_csv_row", _write_bytes("interviews.csv",
                                           b"participant_id,interviewed_on,format\nP000001,2023-01-20,individual,x\n"),
            (("interviews.csv", 2, None, "file_readable"),), exit_code=2),
    Variant("missing_column", lambda d: drop_column(d, "participants", "gender"),
            (("participants.csv", 1, "gender", "required_column"),)),
    Variant("bad_date", lambda d: set_cell(d, "participants", 4, "enrolled_on", "2023-02-30"),
            (("participants.csv", 4, "enrolled_on", "type"),)),
    Variant("bad_integer", lambda d: set_cell(d, "participants", 3, "birth_year", "19 71"),
            (("participants.csv", 3, "birth_year", "type"),)),
    Variant("bad_extract_date", _write_bytes("extract.yaml", b"extracted_on: 30 aprile 2024\nsource: x\n"),
            (("extract.yaml", None, "extracted_on", "type"),)),
    Variant("empty_required", lambda d: set_cell(d, "interviews", 3, "format", ""),
            (("interviews.csv", 3, "format", "not_null"),)),
    Variant("bad_category", lambda d: set_cell(d, "participants", 2, "gender", "female"),
            (("participants.csv", 2, "gender", "allowed_values"),)),
    Variant("bad_pattern", lambda d: set_cell(d, "participants", 5, "citizenship", "ITA"),
            (("participants.csv", 5, "citizenship", "pattern"),)),
    Variant("duplicate_id", lambda d: set_cell(d, "placements", 6, "placement_id", "C0000001"),
            (("placements.csv", 6, "placement_id", "unique"),)),
    Variant("orphan_participant", lambda d: set_cell(d, "programmes", 2, "participant_id", "P999999"),
            (("programmes.csv", 2, "participant_id", "participant_exists"),)),
    Variant("date_after_extract", lambda d: set_cell(d, "placements", 2, "ended_on", "2024-05-02"),
            (("placements.csv", 2, "ended_on", "not_after_extract"),)),
    Variant("placement_before_enrolment", lambda d: set_cell(d, "placements", 4, "started_on", "2023-03-01"),
            (("placements.csv", 4, "started_on", "placement_after_enrolment"),)),
    Variant("end_before_start", lambda d: set_cell(d, "programmes", 4, "ended_on", "2023-04-05"),
            (("programmes.csv", 4, "ended_on", "end_after_start"),)),
    Variant("end_without_start", lambda d: set_cell(d, "programmes", 5, "ended_on", "2023-08-01"),
            (("programmes.csv", 5, "ended_on", "end_after_start"),)),
    Variant("conversion_on_permanent", lambda d: set_cell(d, "placements", 3, "converted_on", "2024-02-01"),
            (("placements.csv", 3, "converted_on", "conversion_fixed_term_only"),)),
    Variant("conversion_after_end", lambda d: set_cell(d, "placements", 2, "converted_on", "2024-01-15"),
            (("placements.csv", 2, "converted_on", "conversion_within_contract"),)),
    Variant("conversion_at_start", lambda d: set_cell(d, "placements", 2, "converted_on", "2023-04-03"),
            (("placements.csv", 2, "converted_on", "conversion_within_contract"),)),
    Variant("declined_with_start", lambda d: set_cell(d, "programmes", 3, "started_on", "2023-03-10"),
            (("programmes.csv", 3, "started_on", "decision_start_consistent"),)),
    Variant("start_before_offer", lambda d: set_cell(d, "programmes", 2, "started_on", "2023-01-25"),
            (("programmes.csv", 2, "started_on", "start_after_offer"),)),
    Variant("birth_year_too_old", lambda d: set_cell(d, "participants", 2, "birth_year", "1890"),
            (("participants.csv", 2, "birth_year", "plausible_birth_year"),)),
    Variant("birth_year_too_young", lambda d: set_cell(d, "participants", 7, "birth_year", "2015"),
            (("participants.csv", 7, "birth_year", "plausible_birth_year"),)),
    Variant("withdrawn_before_enrolment", lambda d: set_cell(d, "participants", 3, "withdrawn_on", "2023-01-01"),
            (("participants.csv", 3, "withdrawn_on", "withdrawn_after_enrolment"),)),
    # Soft anomalies: listed, not fatal.
    Variant("interview_before_enrolment", lambda d: set_cell(d, "interviews", 2, "interviewed_on", "2023-01-05"),
            (("interviews.csv", 2, "interviewed_on", "interview_before_enrolment"),), exit_code=0),
    Variant("offer_before_enrolment", lambda d: set_cell(d, "programmes", 2, "offered_on", "2023-01-05"),
            (("programmes.csv", 2, "offered_on", "offer_before_enrolment"),), exit_code=0),
    Variant("placement_after_withdrawal",
            lambda d: append_row(d, "placements", ["C0000006", "P000002", "E00005", "small", "Commercio",
                                                   "fixed_term", "apl", "2023-10-15", "", "", ""]),
            (("placements.csv", 7, "started_on", "placement_after_withdrawal"),), exit_code=0),
    Variant("duplicate_record", lambda d: copy_row(d, "interviews", 3),
            (("interviews.csv", 8, "participant_id", "duplicate_record"),), exit_code=0),
    # Issue 14: plausibility and text hygiene.
    Variant("extract_in_the_future", _write_bytes("extract.yaml", b"extracted_on: 2200-01-01\nsource: test\n"),
            (("extract.yaml", None, "extracted_on", "extract_not_in_future"),)),
    Variant("enrolment_before_the_programme", lambda d: set_cell(d, "participants", 3, "enrolled_on", "2016-12-31"),
            (("participants.csv", 3, "enrolled_on", "programme_window"),)),
    Variant("control_character", lambda d: set_cell(d, "placements", 2, "sector", "Trasporti\x0bmerci"),
            (("placements.csv", 2, "sector", "control_characters"),), exit_code=0),
]


def test_valid_fixture_is_valid(data):
    report = validate_dir(data)
    assert report.findings == ()
    assert report.ok
    assert main(["validate", str(data)]) == 0


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_broken_data_is_reported_where_it_is_broken(data, variant, capsys):
    variant.breaks(data)
    report = validate_dir(data)
    assert [where(f) for f in report.findings] == list(variant.expected)
    assert report.ok is (variant.exit_code == 0)
    assert all(f.severity == {r.id: r.severity for r in RULES}[f.rule] for f in report.findings)
    assert main(["validate", str(data)]) == variant.exit_code
    out = capsys.readouterr().out
    for file, row, column, rule in variant.expected:
        assert f"[{rule}]" in out and file in out
        if row is not None:
            assert f"row {row}" in out


def test_every_contract_rule_has_a_broken_dataset():
    assert set().union(*(v.rules for v in VARIANTS)) == {r.id for r in RULES}


def test_finding_names_the_value_as_written(data):
    set_cell(data, "participants", 4, "enrolled_on", "31/02/2023")
    (f,) = validate_dir(data).findings
    assert (f.value, f.table, f.severity) == ("31/02/2023", "participants", "error")
    assert "31/02/2023" in f.message and "yyyy-mm-dd" in f.message


def test_all_problems_are_collected_not_just_the_first(data):
    set_cell(data, "participants", 2, "gender", "female")
    set_cell(data, "participants", 5, "birth_year", "1890")
    set_cell(data, "programmes", 3, "started_on", "2023-03-10")
    set_cell(data, "placements", 3, "converted_on", "2024-02-01")
    (data / "interviews.csv").unlink()
    rules = {f.rule for f in validate_dir(data).findings}
    assert rules == {"allowed_values", "plausible_birth_year", "decision_start_consistent",
                     "conversion_fixed_term_only", "file_present"}


def test_printed_list_is_capped_but_everything_is_counted(data, capsys):
    header, rows = _rows(data / "interviews.csv")
    rows = [[f"P{i:06d}", "2023-02-01", "remote"] for i in range(1, 61)]
    _write(data / "interviews.csv", header, rows)
    report = validate_dir(data)
    assert sum(f.rule == "allowed_values" for f in report.findings) == 60  # all collected
    text = report.format(max_rows=5)
    assert "[allowed_values] 60 x" in text and "... and 55 more" in text
    assert text.count("'remote' is not one of") == 5
    assert main(["validate", str(data), "--json", "--max-rows", "3"]) == 3
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is False and doc["n_errors"] == len(report.errors)
    assert {"file": "interviews.csv", "rule": "allowed_values", "severity": "error", "count": 60} in doc["counts"]
    assert sum(f["rule"] == "allowed_values" for f in doc["findings"]) == 3


def test_load_dataset_refuses_invalid_data(data):
    set_cell(data, "placements", 3, "converted_on", "2024-02-01")
    with pytest.raises(DataValidationError) as e:
        load_dataset(data)
    assert [where(f) for f in e.value.findings] == [
        ("placements.csv", 3, "converted_on", "conversion_fixed_term_only")]
    assert "placements.csv, row 3" in str(e.value)


def test_load_dataset_types_and_keeps_every_row(data):
    header, rows = _rows(data / "participants.csv")
    _write(data / "participants.csv", header + ["note"], [r + [f"n{i}"] for i, r in enumerate(rows)])
    set_cell(data, "interviews", 2, "interviewed_on", "2023-01-05")  # a warning only
    ds = load_dataset(data)
    assert isinstance(ds, Dataset) and not ds.is_synthetic
    assert (len(ds.participants), len(ds.interviews), len(ds.programmes), len(ds.placements)) == (6, 6, 5, 5)
    assert ds.participants["note"].tolist() == [f"n{i}" for i in range(6)]  # extra columns kept
    for t, frame in (("participants", ds.participants), ("placements", ds.placements)):
        for c in TABLES[t].columns:
            expected = {"date": "datetime64[ns]", "int": "int64"}.get(c.kind, "object")
            assert str(frame[c.name].dtype) == expected, (t, c.name)
    assert ds.participants["citizenship"].tolist()[3] == "NA"  # Namibia, not a missing value
    assert ds.programmes["started_on"].isna().sum() == 2
    assert ds.extracted_on.isoformat() == "2024-04-30"
    assert [f.rule for f in ds.warnings] == ["interview_before_enrolment"]
    assert set(ds.sha256) == {"participants.csv", "interviews.csv", "programmes.csv", "placements.csv",
                              "extract.yaml"}


def test_italian_csv_errors_name_the_row_and_the_value_as_written(data, tmp_path):
    ds = load_dataset(data)
    out = write_data_dir({t: ds.table(t) for t in TABLES}, ds.extracted_on, ds.source,
                         tmp_path / "it", fmt="csv-it")
    text = (out / "placements.csv").read_text(encoding="utf-8-sig")
    (out / "placements.csv").write_text(text.replace("31/12/2023;01/10/2023", "31/12/2023;02/01/2024"),
                                        encoding="utf-8-sig")
    (f,) = validate_dir(out).findings
    assert where(f) == ("placements.csv", 2, "converted_on", "conversion_within_contract")
    assert f.value == "02/01/2024"


def test_xlsx_errors_name_workbook_sheet_and_row(data, tmp_path):
    ds = load_dataset(data)
    out = write_data_dir({t: ds.table(t) for t in TABLES}, ds.extracted_on, ds.source,
                         tmp_path / "x", fmt="xlsx")
    wb = openpyxl.load_workbook(out / "ixl-data.xlsx")
    ws = wb["programmes"]
    assert ws["D3"].value == "declined"
    ws["E3"] = "2023-03-10"  # a text date in a declined programme
    ws.insert_rows(5)  # an empty row in the middle: still row 5 to the user
    wb.save(out / "ixl-data.xlsx")
    found = [where(f) for f in validate_dir(out).findings]
    assert ("ixl-data.xlsx[programmes]", 3, "started_on", "decision_start_consistent") in found
    assert ("ixl-data.xlsx[programmes]", 5, "participant_id", "not_null") in found
    assert {f[1] for f in found} == {3, 5}  # the rows below the blank one are not reported


def test_blank_csv_line_keeps_row_numbers(data):
    path = data / "interviews.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(3, "")  # between spreadsheet rows 3 and 4
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("P000005,2023-06-29,individual", "P000005,2023-06-29,online"), encoding="utf-8")
    found = [where(f) for f in validate_dir(data).findings]
    assert ("interviews.csv", 4, "participant_id", "not_null") in found
    assert ("interviews.csv", 7, "format", "allowed_values") in found


def test_parquet_timestamp_with_time_of_day_is_not_a_date(data, tmp_path):
    ds = load_dataset(data)
    out = write_data_dir({t: ds.table(t) for t in TABLES}, ds.extracted_on, ds.source,
                         tmp_path / "p", fmt="parquet")
    frame = ds.interviews.drop(columns="_row")
    frame.loc[1, "interviewed_on"] = pd.Timestamp("2023-02-10 09:30")
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), out / "interviews.parquet")
    (f,) = validate_dir(out).findings
    assert where(f) == ("interviews.parquet", 3, "interviewed_on", "type")
    assert f.value == "2023-02-10 09:30:00"


def test_extract_date_may_be_italian_and_wrong_dates_are_findings(data):
    (data / "extract.yaml").write_text("extracted_on: 30/04/2024\nsource: gestionale\n", encoding="utf-8")
    report = validate_dir(data)
    assert report.ok and report.extracted_on.isoformat() == "2024-04-30" and report.source == "gestionale"
    (data / "extract.yaml").write_text("extracted_on: 2024-02-30\n", encoding="utf-8")
    assert [where(f) for f in validate_dir(data).findings] == [
        ("extract.yaml", None, "extracted_on", "type"), ("extract.yaml", None, "source", "not_null")]


def test_missing_directory_is_unreadable(tmp_path, capsys):
    with pytest.raises(DataLoadError):
        validate_dir(tmp_path / "nope")
    assert main(["validate", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_default_data_dir_is_the_bundled_one(data, monkeypatch):
    monkeypatch.setattr(paths, "DEFAULT_DATA_DIR", data)
    assert validate_dir(None).data_dir == data and validate_dir("").ok


def test_many_rows_validate_vectorised(data, tmp_path):
    """20,000 people built from the fixture: every rule runs on columns, not rows."""
    ds = load_dataset(data)
    rng = np.random.default_rng(7)
    n = 20_000
    p = ds.participants.drop(columns="_row").sample(n, replace=True, random_state=1).reset_index(drop=True)
    p["participant_id"] = [f"P{i:07d}" for i in range(n)]
    i = pd.DataFrame({"participant_id": p["participant_id"],
                      "interviewed_on": p["enrolled_on"] + pd.to_timedelta(rng.integers(0, 30, n), unit="D"),
                      "format": "plenary"})
    frames = {"participants": p, "interviews": i, "programmes": ds.programmes.iloc[:0],
              "placements": ds.placements.iloc[:0]}
    bad = rng.choice(n, 40, replace=False)
    p.loc[bad, "gender"] = "?"
    out = write_data_dir(frames, ds.extracted_on, "synthetic", tmp_path / "big", fmt="csv-it")
    report = validate_dir(out)
    assert sorted(f.row for f in report.findings) == sorted(int(b) + 2 for b in bad)
    assert {f.rule for f in report.findings} == {"allowed_values"}
