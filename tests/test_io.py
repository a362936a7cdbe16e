"""Reading and writing data directories: the same data as CSV, Italian-style CSV (UTF-8 with BOM
and Windows-1252), Parquet and XLSX load to identical frames; text parsing never loses a value."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from ixl_eval.contract import TABLE_ORDER
from ixl_eval.dataset import load_dataset
from ixl_eval.exceptions import DataLoadError
from ixl_eval.io import FORMATS, parse_dates, parse_ints, read_data_dir, write_data_dir

VALID = Path(__file__).parent / "data" / "valid"


@pytest.fixture(scope="module")
def reference():
    """The hand-made valid dataset, loaded from its ISO CSV files."""
    return load_dataset(VALID)


def _frames(ds) -> dict:
    return {t: ds.table(t) for t in TABLE_ORDER}


def _assert_same(a, b) -> None:
    for t in TABLE_ORDER:
        pd.testing.assert_frame_equal(a.table(t), b.table(t), check_dtype=True, obj=t)
    assert (a.extracted_on, a.source) == (b.extracted_on, b.source)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_loads_to_identical_frames(reference, tmp_path, fmt):
    out = write_data_dir(_frames(reference), reference.extracted_on, reference.source, tmp_path / fmt, fmt=fmt)
    _assert_same(load_dataset(out), reference)


def test_italian_csv_looks_like_an_italian_excel_export(reference, tmp_path):
    out = write_data_dir(_frames(reference), reference.extracted_on, reference.source, tmp_path, fmt="csv-it")
    raw = (out / "placements.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfplacement_id;participant_id;")
    text = raw.decode("utf-8-sig")
    assert ("C0000001;P000001;E00001;large;Ristorazione e caffè;fixed_term;ips;"
            "03/04/2023;31/12/2023;01/10/2023;Camst") in text
    assert ";Commercio, alberghi;" in text  # a comma needs no quotes when the separator is ';'


def test_windows_1252_italian_csv_loads_identically(reference, tmp_path):
    """What Excel in Italy saves as plain "CSV": ';', dd/mm/yyyy, Windows-1252, CRLF."""
    out = write_data_dir(_frames(reference), reference.extracted_on, reference.source, tmp_path, fmt="csv-it")
    for t in TABLE_ORDER:
        text = (out / f"{t}.csv").read_text(encoding="utf-8-sig")
        (out / f"{t}.csv").write_bytes(text.replace("\n", "\r\n").encode("cp1252"))
    assert b"Ristorazione e caff\xe8;" in (out / "placements.csv").read_bytes()
    ds = load_dataset(out)
    _assert_same(ds, reference)
    assert "Ristorazione e caffè" in ds.placements["sector"].tolist()


def test_hand_written_italian_csv_with_quotes_and_short_dates(tmp_path):
    """A file typed by hand: quoted separator, single-digit days, spaces, UTF-8 without BOM."""
    shutil.copytree(VALID, tmp_path / "d")
    (tmp_path / "d" / "interviews.csv").write_text(
        "participant_id ; interviewed_on ; format\n"
        "P000001;20/1/2023;individual\n"
        '"P000002";10/02/2023; plenary \n'
        "P000003;20/03/2023;plenary\nP000004;10/05/2023;individual\n"
        "P000005;29/06/2023;individual\nP000006;15/01/2024;plenary\n",
        encoding="utf-8",
    )
    ds = load_dataset(tmp_path / "d")
    assert ds.interviews["interviewed_on"].dt.strftime("%Y-%m-%d").tolist()[:2] == ["2023-01-20", "2023-02-10"]
    assert ds.interviews["format"].tolist()[1] == "plenary"
    _assert_same(ds, load_dataset(VALID))


def test_write_parquet_and_xlsx_files(reference, tmp_path):
    pq_dir = write_data_dir(_frames(reference), reference.extracted_on, "synthetic", tmp_path / "p", "parquet")
    assert sorted(p.name for p in pq_dir.iterdir()) == sorted([f"{t}.parquet" for t in TABLE_ORDER] + ["extract.yaml"])
    xl_dir = write_data_dir(_frames(reference), reference.extracted_on, "synthetic", tmp_path / "x", "xlsx")
    assert sorted(p.name for p in xl_dir.iterdir()) == ["extract.yaml", "ixl-data.xlsx"]
    raw = read_data_dir(xl_dir)
    assert [r.label for r in raw.tables.values()] == [f"ixl-data.xlsx[{t}]" for t in TABLE_ORDER]
    assert yaml.safe_load((xl_dir / "extract.yaml").read_text()) == {"extracted_on": dt.date(2024, 4, 30),
                                                                     "source": "synthetic"}


def test_xlsx_extra_sheets_and_columns_are_kept_apart_from_stray_values(reference, tmp_path):
    import openpyxl

    out = write_data_dir(_frames(reference), reference.extracted_on, "synthetic", tmp_path, "xlsx")
    wb = openpyxl.load_workbook(out / "ixl-data.xlsx")
    wb["participants"]["H1"], wb["participants"]["H3"] = "note", "x"  # a named extra column
    wb["participants"]["K40"].number_format = "0.00"  # formatting far below the data
    wb["interviews"]["E4"] = "stray"  # a value under no column name
    wb.create_sheet("Note")["A1"] = "a sheet of notes is ignored"
    wb.save(out / "ixl-data.xlsx")
    raw = read_data_dir(out)
    p = raw.tables["participants"].frame
    assert len(p) == 6 and p["note"].tolist() == ["", "x", "", "", "", ""]
    assert raw.unreadable == {"ixl-data.xlsx[interviews]": "row 4 has a value in column E, which has no name "
                                                           "in the header"}


def test_rewriting_in_another_format_leaves_one_source_per_table(reference, tmp_path):
    write_data_dir(_frames(reference), reference.extracted_on, "synthetic", tmp_path, "csv")
    write_data_dir(_frames(reference), reference.extracted_on, "synthetic", tmp_path, "parquet")
    raw = read_data_dir(tmp_path)
    assert not raw.duplicates and not raw.missing and set(raw.tables) == set(TABLE_ORDER)


def test_writer_puts_contract_columns_first_and_drops_private_ones(reference, tmp_path):
    frames = _frames(reference)
    frames["participants"] = frames["participants"].assign(note="x")[["note", *frames["participants"].columns]]
    write_data_dir(frames, "2024-04-30", "synthetic", tmp_path, "csv")
    header = (tmp_path / "participants.csv").read_text().splitlines()[0]
    assert header == "participant_id,enrolled_on,birth_year,gender,citizenship,education,withdrawn_on,note"


def test_raw_read_keeps_text_as_written_with_row_numbers_and_hashes(tmp_path):
    shutil.copytree(VALID, tmp_path / "d")
    raw = read_data_dir(tmp_path / "d")
    p = raw.tables["participants"].frame
    assert p["_row"].tolist() == [2, 3, 4, 5, 6, 7]
    assert p.loc[3, "citizenship"] == "NA" and p.loc[0, "withdrawn_on"] == ""
    assert raw.extract == {"extracted_on": "2024-04-30", "source": "hand-made test fixture"}
    digest = hashlib.sha256((VALID / "placements.csv").read_bytes()).hexdigest()
    assert raw.sha256["placements.csv"] == digest


def test_missing_duplicate_and_unreadable_sources_are_collected(tmp_path):
    shutil.copytree(VALID, tmp_path / "d")
    d = tmp_path / "d"
    (d / "interviews.csv").unlink()
    (d / "Programmes.PARQUET").write_bytes(b"")  # names match regardless of case
    (d / "placements.csv").write_bytes(b"\xff\xfep\x00l\x00")  # UTF-16, as "Unicode text" exports
    (d / "~$ixl-data.xlsx").write_bytes(b"lock")  # Excel's lock file is ignored
    raw = read_data_dir(d)
    assert set(raw.tables) == {"participants"}
    assert set(raw.missing) == {"interviews"}
    assert raw.duplicates == {"programmes": ("Programmes.PARQUET", "programmes.csv")}
    assert "UTF-16" in raw.unreadable["placements.csv"]


def test_not_a_directory_raises(tmp_path):
    with pytest.raises(DataLoadError, match="does not exist"):
        read_data_dir(tmp_path / "missing")
    (tmp_path / "f.csv").write_text("x")
    with pytest.raises(DataLoadError, match="not a directory"):
        read_data_dir(tmp_path / "f.csv")


def test_write_rejects_unknown_format_and_missing_tables(reference, tmp_path):
    with pytest.raises(ValueError, match="fmt"):
        write_data_dir(_frames(reference), "2024-04-30", "s", tmp_path, fmt="ods")
    with pytest.raises(ValueError, match="placements"):
        write_data_dir({t: f for t, f in _frames(reference).items() if t != "placements"}, "2024-04-30", "s", tmp_path)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2023-01-05", "2023-01-05"),
        ("05/01/2023", "2023-01-05"),
        ("5/1/2023", "2023-01-05"),
        ("2023-1-5", "2023-01-05"),
        ("29/02/2024", "2024-02-29"),
        ("2000-02-29", "2000-02-29"),
        (" 31/12/1999 ", "1999-12-31"),
        ("", None),
    ],
)
def test_parse_dates_accepts_iso_and_italian(text, expected):
    parsed, invalid = parse_dates(pd.Series([text]))
    got = None if pd.isna(parsed[0]) else parsed[0].strftime("%Y-%m-%d")
    assert (got, bool(invalid[0])) == (expected, False)


@pytest.mark.parametrize(
    "text",
    ["31/02/2023", "2023-02-29", "1900-02-29", "2023-13-01", "00/01/2023", "2023/01/05", "05-01-2023",
     "05/01/23", "2023-01-05 10:30", "45000", "0023-01-01", "gennaio 2023", "1/13/2023"],
)
def test_parse_dates_flags_anything_else(text):
    parsed, invalid = parse_dates(pd.Series(["2023-01-05", text]))
    assert pd.isna(parsed[1]) and invalid.tolist() == [False, True]


def test_parse_dates_keeps_index_and_dtype():
    s = pd.Series(["05/01/2023", None, "2023-01-06"], index=[10, 11, 12])
    parsed, invalid = parse_dates(s)
    assert parsed.dtype == "datetime64[ns]" and list(parsed.index) == [10, 11, 12]
    assert parsed.isna().tolist() == [False, True, False] and not invalid.any()


def test_parse_ints():
    parsed, invalid = parse_ints(pd.Series(["1980", "", "19.5", "1 980", "-3", "abc", None]))
    assert parsed.tolist()[:2] == [1980, pd.NA] and parsed[4] == -3
    assert invalid.tolist() == [False, False, True, True, False, True, False]


def test_italian_writer_is_vectorised_at_scale(tmp_path):
    """200,000 rows of dates go through Arrow, not Python: the file is right at every row."""
    n = 200_000
    days = np.datetime64("2017-01-01") + np.arange(n) % 2600
    frame = pd.DataFrame({"participant_id": [f"P{i:07d}" for i in range(n)],
                          "enrolled_on": days.astype("datetime64[ns]")})
    frames = {t: pd.DataFrame() for t in TABLE_ORDER} | {"participants": frame}
    write_data_dir(frames, "2024-04-30", "synthetic", tmp_path, "csv-it")
    lines = (tmp_path / "participants.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == n + 1
    k = 123_457
    assert lines[k + 1] == f"P{k:07d};{pd.Timestamp(days[k]):%d/%m/%Y}"
    raw = read_data_dir(tmp_path).tables["participants"].frame
    assert parse_dates(raw["enrolled_on"])[0].equals(frame["enrolled_on"])
