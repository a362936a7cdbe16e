"""Reading and writing IXL data directories (CSV, Italian-style CSV, Parquet, XLSX).

A data directory holds the four tables of :mod:`ixl_eval.contract` plus ``extract.yaml``
(``extracted_on``, ``source``). Each table comes from exactly one source: ``<table>.csv``,
``<table>.parquet`` or a sheet named ``<table>`` of an ``.xlsx`` workbook. CSV files may be written
the way Italian office software writes them: ``;`` separator, ``dd/mm/yyyy`` dates, UTF-8 with or
without BOM, or Windows-1252.

:func:`read_data_dir` reads every value as text and records, for each record, the row number a
person sees when opening the file in a spreadsheet (header = row 1, first record = row 2). It does
not judge the values: :mod:`ixl_eval.validate` does, so that every problem becomes a finding that
names file, row and column. :func:`parse_dates` and :func:`parse_ints` turn text into typed values
and return the mask of values they could not parse, so a bad value is never silently missing.

Examples
--------
>>> import datetime as dt, tempfile
>>> import pandas as pd
>>> from ixl_eval.io import write_data_dir, read_data_dir
>>> frames = {t: pd.DataFrame() for t in ("participants", "interviews", "programmes", "placements")}
>>> frames["participants"] = pd.DataFrame({"participant_id": ["P000001"],
...                                        "enrolled_on": pd.to_datetime(["2023-03-01"])})
>>> d = write_data_dir(frames, dt.date(2024, 4, 30), "synthetic", tempfile.mkdtemp(), fmt="csv-it")
>>> raw = read_data_dir(d)
>>> raw.tables["participants"].frame.to_dict("records")
[{'participant_id': 'P000001', 'enrolled_on': '01/03/2023', '_row': 2}]
>>> raw.extract
{'extracted_on': '2024-04-30', 'source': 'synthetic'}
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io as _io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from .contract import TABLE_ORDER, TABLES
from .exceptions import DataLoadError

__all__ = [
    "FORMATS",
    "RawTable",
    "RawData",
    "read_data_dir",
    "write_data_dir",
    "parse_dates",
    "parse_ints",
    "file_sha256",
]

FORMATS = ("csv", "csv-it", "parquet", "xlsx")
EXTRACT_FILE = "extract.yaml"
WORKBOOK_FILE = "ixl-data.xlsx"
ROW_COLUMN = "_row"  # user-visible row number of each record; "_" columns are never written
_FIRST_DATA_ROW = 2  # row 1 is the header, as a spreadsheet shows it

_CSV_SUFFIXES = (".csv",)
_PARQUET_SUFFIXES = (".parquet", ".pq")
_XLSX_SUFFIXES = (".xlsx", ".xlsm")
_UNSUPPORTED_SUFFIXES = (".xls", ".ods", ".xlsb", ".tsv", ".txt", ".json")


@dataclass(frozen=True)
class RawTable:
    """One table as read from its file: every value as stripped text, ``""`` when empty.

    Attributes
    ----------
    name : str
        Table name of the contract (``participants``, ...).
    label : str
        Where it came from, as the user knows it: ``participants.csv`` or
        ``ixl-data.xlsx[participants]`` (workbook and sheet).
    path : pathlib.Path
    frame : pandas.DataFrame
        The file's columns in file order (names stripped of spaces) plus ``_row``, the row number
        a spreadsheet shows for the record (header is row 1).
    """

    name: str
    label: str
    path: Path
    frame: pd.DataFrame

    def __repr__(self) -> str:
        return f"<RawTable {self.name} from {self.label}: {len(self.frame)} rows>"


@dataclass(frozen=True)
class RawData:
    """Everything found in a data directory, before any judgement.

    Attributes
    ----------
    data_dir : pathlib.Path
    tables : dict
        Table name -> :class:`RawTable`, for the tables found exactly once and readable.
    missing : dict
        Table name -> message, for tables with no source (``extract.yaml`` included).
    duplicates : dict
        Table name -> labels of its two or more sources (none of them is read).
    unreadable : dict
        File label -> reason, for files that exist but cannot be read.
    extract : dict or None
        ``extract.yaml`` fields as text (``{"extracted_on": "2024-04-30", "source": ...}``);
        None when the file is missing or unreadable.
    sha256 : dict
        File name -> SHA-256 hex digest of every file read.
    """

    data_dir: Path
    tables: dict = field(default_factory=dict)
    missing: dict = field(default_factory=dict)
    duplicates: dict = field(default_factory=dict)
    unreadable: dict = field(default_factory=dict)
    extract: dict | None = None
    sha256: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        rows = ", ".join(f"{t}={len(r.frame)}" for t, r in self.tables.items())
        return (
            f"<RawData {self.data_dir} tables: {rows or 'none'}; missing={len(self.missing)} "
            f"duplicates={len(self.duplicates)} unreadable={len(self.unreadable)}>"
        )


# --------------------------------------------------------------------------------------------
# parsing text values
# --------------------------------------------------------------------------------------------


def parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse text dates written ``yyyy-mm-dd`` or ``dd/mm/yyyy``.

    Parameters
    ----------
    values : pandas.Series
        Text; ``""`` or NA means empty.

    Returns
    -------
    parsed : pandas.Series
        ``datetime64[ns]``, ``NaT`` where empty or invalid.
    invalid : pandas.Series
        Boolean, True where a value is present but is not a valid date in either format
        (e.g. ``31/02/2023``, ``2023-01-05 10:30``, ``45000``).

    Examples
    --------
    >>> import pandas as pd
    >>> parsed, invalid = parse_dates(pd.Series(["2023-01-05", "05/01/2023", "", "31/02/2023"]))
    >>> parsed.dt.strftime("%Y-%m-%d").tolist()
    ['2023-01-05', '2023-01-05', nan, nan]
    >>> invalid.tolist()
    [False, False, False, True]
    """
    arr = _arrow_text(values)
    y, m, d, matched = _date_parts(arr)
    # Dates are assembled from their digits with numpy calendar arithmetic: vectorised, and a
    # day that does not exist (31/02) is caught because it rolls over into the next month.
    ok = matched & (m >= 1) & (m <= 12) & (d >= 1) & (y >= 1678) & (y <= 2261)  # datetime64[ns] range
    month = np.where(ok, (y - 1970) * 12 + (m - 1), 0).astype("datetime64[M]")
    day = month.astype("datetime64[D]") + np.where(ok, d - 1, 0)
    ok &= day.astype("datetime64[M]") == month
    parsed = np.full(len(arr), np.datetime64("NaT"), dtype="datetime64[ns]")
    parsed[ok] = day[ok].astype("datetime64[ns]")
    empty = pc.equal(arr, "").to_numpy(zero_copy_only=False)
    return pd.Series(parsed, index=values.index), pd.Series(~ok & ~empty, index=values.index)


_DATE_FORMATS = (  # (fixed-width pattern, (year, month, day) slices, loose pattern)
    (r"^\d{4}-\d{2}-\d{2}$", ((0, 4), (5, 7), (8, 10)), r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$"),
    (r"^\d{2}/\d{2}/\d{4}$", ((6, 10), (3, 5), (0, 2)), r"^(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})$"),
)


def _date_parts(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day digits of ``yyyy-mm-dd`` / ``dd/mm/yyyy`` text, and where either matched.

    Fixed-width values (nearly all) are sliced, which is several times faster than a regex
    capture; the few written without leading zeros (``5/1/2023``) go through the regex.
    """
    n = len(arr)
    parts = [np.zeros(n, dtype="int64") for _ in range(3)]
    matched = np.zeros(n, dtype=bool)
    todo = np.flatnonzero(pc.not_equal(arr, "").to_numpy(zero_copy_only=False))
    for fixed, slices, _ in _DATE_FORMATS:
        if not len(todo):
            break
        sub = arr if len(todo) == n else arr.take(pa.array(todo))
        hit = pc.match_substring_regex(sub, fixed).to_numpy(zero_copy_only=False)
        if hit.any():
            sub = sub.filter(pa.array(hit))
            for out, (start, stop) in zip(parts, slices):
                out[todo[hit]] = pc.cast(pc.utf8_slice_codeunits(sub, start, stop), pa.int64()).to_numpy()
            matched[todo[hit]] = True
            todo = todo[~hit]
    if len(todo):
        sub, idx = arr.take(pa.array(todo)), todo
        for _, _, loose in _DATE_FORMATS:
            caught = pc.extract_regex(sub, loose)
            hit = pc.is_valid(caught).to_numpy(zero_copy_only=False)
            if hit.any():
                got = caught.filter(pa.array(hit))
                for out, name in zip(parts, "ymd"):
                    out[idx[hit]] = pc.cast(pc.struct_field(got, name), pa.int64()).to_numpy()
                matched[idx[hit]] = True
    return parts[0], parts[1], parts[2], matched


def _arrow_text(values: pd.Series) -> pa.Array:
    """Values as one Arrow string array, stripped, ``""`` where missing."""
    arr = pa.array(values, type=pa.string(), from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return pc.utf8_trim_whitespace(pc.fill_null(arr, ""))


_INT_RE = r"[+-]?\d{1,18}"


def parse_ints(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse text integers (digits with an optional sign; no decimals, no thousands separator).

    Returns
    -------
    parsed : pandas.Series
        Nullable ``Int64``, ``<NA>`` where empty or invalid.
    invalid : pandas.Series
        Boolean, True where a value is present but is not an integer.

    Examples
    --------
    >>> import pandas as pd
    >>> parsed, invalid = parse_ints(pd.Series(["1980", "", "19.5", "abc"]))
    >>> parsed.tolist(), invalid.tolist()
    ([1980, <NA>, <NA>, <NA>], [False, False, True, True])
    """
    arr = _arrow_text(values)
    ok = pc.match_substring_regex(arr, f"^{_INT_RE}$")
    empty = pc.equal(arr, "").to_numpy(zero_copy_only=False)
    # Arrow casts the checked digits in C++; a Python int() per value costs seconds at 1M rows.
    ints = pc.cast(pc.if_else(ok, arr, pa.scalar(None, pa.string())), pa.int64())
    parsed = pd.Series(pd.array(ints.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get),
                                dtype="Int64"), index=values.index)
    invalid = ~ok.to_numpy(zero_copy_only=False) & ~empty
    return parsed, pd.Series(invalid, index=values.index)


# --------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (hex), read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _decode(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 with BOM, UTF-8, then Windows-1252 (what Excel writes in Italy)."""
    if data.startswith(b"PK\x03\x04"):
        raise ValueError("this is a zip/Excel file, not text: save the sheet as CSV or name it .xlsx")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValueError("UTF-16 text is not supported: save as 'CSV UTF-8' or plain 'CSV'")
    if b"\x00" in data[:65536]:
        raise ValueError("binary content (NUL bytes): not a CSV file")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as e:
        raise ValueError(f"text is neither UTF-8 nor Windows-1252 (byte {e.start})") from None


def _first_line(text: str) -> str:
    end = text.find("\n")
    return text if end < 0 else text[:end]


def _sniff_separator(header: str) -> str:
    """``;`` or ``,``: whichever the header line holds more of (column names contain neither)."""
    return ";" if header.count(";") > header.count(",") else ","


def _finish(names: list, arrays: list) -> pd.DataFrame:
    """Build the text frame: stripped names and values, rows numbered as a spreadsheet does.

    Columns are Arrow-backed strings (``string[pyarrow]``): the validator's comparisons, regexes
    and look-ups then run as vectorised C++ instead of Python loops over a million objects.
    """
    cols = {}
    n = None
    for name, arr in zip(names, arrays):
        arr = pc.utf8_trim_whitespace(pc.fill_null(arr.cast(pa.string()), ""))
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
        cols[str(name).strip()] = pd.arrays.ArrowStringArray(arr)
        n = len(arr)
    frame = pd.DataFrame(cols)
    if n is None:
        n = 0
    frame[ROW_COLUMN] = np.arange(_FIRST_DATA_ROW, _FIRST_DATA_ROW + n, dtype="int64")
    return frame


def _check_header(columns) -> None:
    names = [str(c).strip() for c in columns]
    if "" in names:
        raise ValueError(f"column {names.index('') + 1} of the header has no name")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"column name(s) {', '.join(dupes)} appear more than once in the header")


def _read_csv(path: Path) -> pd.DataFrame:
    data = path.read_bytes()
    text, encoding = _decode(data)
    first = _first_line(text)
    if not first.strip():
        raise ValueError("the first line is empty: it must hold the column names")
    sep = _sniff_separator(first)
    # Both parsers below rename or reject a repeated name: check the header line itself.
    header = next(csv.reader([first.rstrip("\r")], delimiter=sep))
    _check_header(header)
    utf8 = data[3:] if encoding == "utf-8-sig" else data if encoding == "utf-8" else text.encode("utf-8")
    try:
        import pyarrow.csv as pcsv

        # Fast path (multi-threaded, ~10x pandas): every column as text, nothing becomes null.
        table = pcsv.read_csv(
            _io.BytesIO(utf8),
            parse_options=pcsv.ParseOptions(delimiter=sep, newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pcsv.ConvertOptions(column_types={h: pa.string() for h in header},
                                                strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
        return _finish(table.column_names, table.columns)
    except pa.ArrowInvalid:
        pass  # blank, short or long rows: read them one by one below to say which
    return _read_csv_rows(text, sep)


def _read_csv_rows(text: str, sep: str) -> pd.DataFrame:
    """Slow path for irregular CSV: short and blank rows are kept as rows of empty values (the
    numbering stays as the user sees it and validation reports them); a row with more values
    than the header is an error naming the row; blank rows at the very end are not records."""
    rows = list(csv.reader(_io.StringIO(text), delimiter=sep))
    header, body = rows[0], rows[1:]
    width = len(header)
    while body and not any(v.strip() for v in body[-1]):
        body.pop()
    for i, r in enumerate(body):
        if len(r) > width and any(v.strip() for v in r[width:]):
            raise ValueError(f"row {i + _FIRST_DATA_ROW} has {len(r)} values but the header names {width} columns")
    columns = [pa.array([r[j] if j < len(r) else "" for r in body], type=pa.string()) for j in range(width)]
    return _finish(header, columns)


def _arrow_to_text(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """Render one Parquet column as text the way a CSV export would show it."""
    t = col.type
    if pa.types.is_dictionary(t):
        col = col.cast(t.value_type)
        t = col.type
    if pa.types.is_timestamp(t):
        if t.tz is not None:
            col = col.cast(pa.timestamp(t.unit))
        midnight = pc.equal(col, pc.floor_temporal(col, unit="day"))
        # Midnight timestamps are how pandas stores plain dates; any other time is kept visible
        # so validation reports it as "not a date" instead of dropping the time silently.
        day = pc.strftime(col, format="%Y-%m-%d")
        full = pc.strftime(col.cast(pa.timestamp("s")), format="%Y-%m-%d %H:%M:%S")
        return pc.if_else(midnight, day, full)
    if pa.types.is_date(t) or pa.types.is_integer(t) or pa.types.is_boolean(t):
        return col.cast(pa.string())
    if pa.types.is_floating(t):
        return col.cast(pa.string())  # 1980.0 -> "1980", 19.5 -> "19.5"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return col.cast(pa.string())
    if pa.types.is_null(t):
        return pa.chunked_array([pa.nulls(len(col), pa.string())])
    raise ValueError(f"column type {t} cannot be read as text")


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    _check_header(table.column_names)
    return _finish(table.column_names, [_arrow_to_text(table.column(n)) for n in table.column_names])


def _cell_text(v) -> str:
    """An Excel cell as text: date cells become ``yyyy-mm-dd`` (a time of day is kept visible)."""
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time(0) else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _read_sheet(path: Path, sheet: str) -> pd.DataFrame:
    import openpyxl
    from openpyxl.utils import get_column_letter

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows = wb[sheet].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise ValueError("the sheet is empty (no header row)")
        body = [[_cell_text(v) for v in r] for r in rows]
    finally:
        wb.close()
    width = max([len(header), *map(len, body)])
    body = [r + [""] * (width - len(r)) for r in body]
    names = [_cell_text(h) for h in header] + [""] * (width - len(header))
    # Formatting can stretch a sheet past its data: unnamed empty columns and empty trailing rows
    # are not data. An unnamed column that holds a value is reported with its row.
    keep = []
    for j, name in enumerate(names):
        if name.strip():
            keep.append(j)
            continue
        i = next((i for i, r in enumerate(body) if r[j] != ""), None)
        if i is not None:
            raise ValueError(f"row {i + _FIRST_DATA_ROW} has a value in column {get_column_letter(j + 1)}, "
                             "which has no name in the header")
    while body and all(v == "" for v in body[-1]):
        body.pop()
    names = [names[j] for j in keep]
    _check_header(names)
    return _finish(names, [pa.array([r[j] for r in body], type=pa.string()) for j in keep])


def _read_extract(path: Path) -> dict:
    with open(path, encoding="utf-8-sig") as f:
        # BaseLoader keeps every value as the text written: a wrong date such as 2024-02-30 is
        # then a finding on `extracted_on`, not a YAML error, and 30/04/2024 is accepted too.
        doc = yaml.load(f, Loader=yaml.BaseLoader)
    if not isinstance(doc, dict) or any(not isinstance(v, str) for v in doc.values()):
        raise ValueError("expected lines 'extracted_on: yyyy-mm-dd' and 'source: ...'")
    return {str(k).strip(): v.strip() for k, v in doc.items()}


@dataclass
class _Source:
    table: str
    label: str
    path: Path
    kind: str  # csv | parquet | xlsx
    sheet: str | None = None


def _visible_files(data_dir: Path) -> list[Path]:
    # "~$name.xlsx" are Excel lock files, dot-files are system clutter: neither is data.
    return sorted(p for p in data_dir.iterdir() if p.is_file() and not p.name.startswith(("~$", ".")))


def _sheet_names(path: Path) -> list[str]:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def read_data_dir(data_dir) -> RawData:
    """Find and read the four tables and ``extract.yaml`` of a data directory, all as text.

    Problems are collected, not raised: a missing table, a table found twice (e.g. both
    ``participants.csv`` and a ``participants`` sheet) and an unreadable file are listed in
    :class:`RawData` for :mod:`ixl_eval.validate` to report, and the other tables are still read.
    File and sheet names match without regard to case.

    Parameters
    ----------
    data_dir : path-like

    Raises
    ------
    DataLoadError
        ``data_dir`` does not exist or is not a directory.

    Examples
    --------
    >>> import tempfile
    >>> raw = read_data_dir(tempfile.mkdtemp())
    >>> sorted(raw.missing)
    ['extract.yaml', 'interviews', 'participants', 'placements', 'programmes']
    """
    data_dir = Path(data_dir)
    if not data_dir.exists():
        raise DataLoadError(f"data directory {data_dir} does not exist")
    if not data_dir.is_dir():
        raise DataLoadError(f"{data_dir} is not a directory")
    files = _visible_files(data_dir)
    raw = RawData(data_dir=data_dir)

    sources: dict[str, list[_Source]] = {t: [] for t in TABLE_ORDER}
    unsupported = []
    for p in files:
        stem, suffix = p.stem.strip().lower(), p.suffix.lower()
        if suffix in _XLSX_SUFFIXES:
            try:
                sheets = _sheet_names(p)
            except Exception as e:  # openpyxl raises many types for a damaged workbook
                raw.unreadable[p.name] = f"not a readable .xlsx workbook ({type(e).__name__}: {e})"
                continue
            for s in sheets:
                if s.strip().lower() in sources:
                    sources[s.strip().lower()].append(_Source(s.strip().lower(), f"{p.name}[{s}]", p, "xlsx", s))
        elif stem in sources and suffix in _CSV_SUFFIXES:
            sources[stem].append(_Source(stem, p.name, p, "csv"))
        elif stem in sources and suffix in _PARQUET_SUFFIXES:
            sources[stem].append(_Source(stem, p.name, p, "parquet"))
        elif suffix in _UNSUPPORTED_SUFFIXES and (stem in sources or suffix in (".xls", ".ods", ".xlsb")):
            unsupported.append(p.name)

    hashed: set[Path] = set()
    for table, found in sources.items():
        if not found:
            hint = f" (found {', '.join(unsupported)}: format not supported)" if unsupported else ""
            raw.missing[table] = (
                f"no {table}.csv, {table}.parquet or sheet '{table}' in an .xlsx workbook{hint}"
            )
            continue
        if len(found) > 1:
            raw.duplicates[table] = tuple(s.label for s in found)
            continue
        src = found[0]
        try:
            if src.kind == "csv":
                frame = _read_csv(src.path)
            elif src.kind == "parquet":
                frame = _read_parquet(src.path)
            else:
                frame = _read_sheet(src.path, src.sheet)
        except Exception as e:  # any reader failure is reported against the file, not raised
            reason = str(e) if isinstance(e, (ValueError, UnicodeError)) else f"{type(e).__name__}: {e}"
            raw.unreadable[src.label] = reason
            continue
        raw.tables[table] = RawTable(table, src.label, src.path, frame)
        if src.path not in hashed:
            raw.sha256[src.path.name] = file_sha256(src.path)
            hashed.add(src.path)

    extract = [p for p in files if p.name.lower() in (EXTRACT_FILE, "extract.yml")]
    if not extract:
        raw.missing[EXTRACT_FILE] = "no extract.yaml with 'extracted_on' and 'source'"
    elif len(extract) > 1:
        raw.duplicates[EXTRACT_FILE] = tuple(p.name for p in extract)
    else:
        try:
            object.__setattr__(raw, "extract", _read_extract(extract[0]))
            raw.sha256[extract[0].name] = file_sha256(extract[0])
        except Exception as e:  # YAML syntax errors, bad encoding
            raw.unreadable[extract[0].name] = f"{type(e).__name__}: {e}"
    return raw


# --------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------


def _ordered(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Contract columns first, in contract order, then extra columns; ``_`` columns dropped."""
    known = [c.name for c in TABLES[table].columns if c.name in frame.columns]
    extra = [c for c in frame.columns if c not in known and not str(c).startswith("_")]
    return frame[known + extra]


def _date_columns(frame: pd.DataFrame, table: str) -> list[str]:
    kinds = {c.name: c.kind for c in TABLES[table].columns}
    return [
        c for c in frame.columns
        if kinds.get(c) == "date" or pd.api.types.is_datetime64_any_dtype(frame[c].dtype)
    ]


def _as_timestamps(col: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        return col
    return pd.to_datetime(col)  # datetime.date objects or ISO text from a caller


def _date_text(col: pd.Series, italian: bool) -> pa.Array:
    """Dates as ``yyyy-mm-dd`` or ``dd/mm/yyyy`` text, null when missing."""
    days = pa.array(_as_timestamps(col).astype("datetime64[ns]"), from_pandas=True).cast(pa.date32())
    iso = days.cast(pa.string())
    if not italian:
        return iso
    # A regex over ISO text is ~5x faster than strftime and locale-independent.
    return pc.replace_substring_regex(iso, pattern=r"^(\d{4})-(\d{2})-(\d{2})$", replacement=r"\3/\2/\1")


def _write_csv(frame: pd.DataFrame, table: str, path: Path, italian: bool) -> None:
    sep = ";" if italian else ","
    dates = set(_date_columns(frame, table))
    bom = b"\xef\xbb\xbf" if italian else b""  # Excel in Italy opens UTF-8 correctly only with a BOM
    try:
        import pyarrow.csv as pcsv

        arrays = [_date_text(frame[c], italian) if c in dates else pa.array(frame[c], from_pandas=True)
                  for c in frame.columns]
        body = pa.table(arrays, names=[str(c) for c in frame.columns])
        header = sep.join(str(c) for c in frame.columns) + "\n"
        with open(path, "wb") as f:
            f.write(bom + header.encode("utf-8"))
            # Unquoted like a spreadsheet export; Arrow refuses (ArrowInvalid) when a value holds
            # the separator, a quote or a newline, and pandas then writes with minimal quoting.
            pcsv.write_csv(body, f, pcsv.WriteOptions(include_header=False, delimiter=sep,
                                                      quoting_style="none"))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        out = frame.copy()
        for c in dates:
            out[c] = _date_text(out[c], italian).to_pandas()
        out.to_csv(path, index=False, sep=sep, encoding="utf-8-sig" if italian else "utf-8",
                   lineterminator="\n")


def _write_parquet(frame: pd.DataFrame, table: str, path: Path) -> None:
    import pyarrow.parquet as pq

    out = frame.copy()
    arrays, names = [], []
    dates = set(_date_columns(out, table))
    for c in out.columns:
        if c in dates:
            arr = pa.array(_as_timestamps(out[c]).astype("datetime64[ns]"), from_pandas=True).cast(pa.date32())
        else:
            arr = pa.array(out[c], from_pandas=True)
        arrays.append(arr)
        names.append(str(c))
    pq.write_table(pa.table(arrays, names=names), path)


def _write_xlsx(frames: dict, path: Path) -> None:
    with pd.ExcelWriter(path, engine="openpyxl", date_format="DD/MM/YYYY",
                        datetime_format="DD/MM/YYYY") as xw:
        for table, frame in frames.items():
            out = frame.copy()
            for c in _date_columns(out, table):
                out[c] = _as_timestamps(out[c])
            out.to_excel(xw, sheet_name=table, index=False)


def write_data_dir(frames: dict, extracted_on, source: str, out_dir, fmt: str = "csv") -> Path:
    """Write the four tables and ``extract.yaml`` to a data directory.

    Parameters
    ----------
    frames : dict
        Table name -> DataFrame with contract column names (typed as in
        :class:`ixl_eval.dataset.Dataset`; dates may also be ``datetime.date`` objects). Extra
        columns are written after the contract columns; columns starting with ``_`` are not.
    extracted_on : datetime.date or str
        The data cut-off (``yyyy-mm-dd`` if text).
    source : str
        Free text; ``"synthetic"`` for generated data.
    out_dir : path-like
        Created if needed. Table files a previous write of another format left there are removed,
        so the directory always has one source per table.
    fmt : {"csv", "csv-it", "parquet", "xlsx"}
        ``csv``: ``,`` separator, ISO dates, UTF-8. ``csv-it``: ``;`` separator, ``dd/mm/yyyy``
        dates, UTF-8 with BOM (what Excel writes in Italy as "CSV UTF-8"). Values are quoted only
        when they hold the separator, a quote or a line break. ``parquet``: one file
        per table, dates as ``date32``. ``xlsx``: one workbook ``ixl-data.xlsx``, one sheet per
        table, date cells shown ``DD/MM/YYYY``.

    Returns
    -------
    pathlib.Path
        ``out_dir``.

    Examples
    --------
    >>> import datetime as dt, tempfile
    >>> import pandas as pd
    >>> frames = {t: pd.DataFrame({"participant_id": []}) for t in
    ...           ("participants", "interviews", "programmes", "placements")}
    >>> d = write_data_dir(frames, dt.date(2024, 4, 30), "synthetic", tempfile.mkdtemp(), "parquet")
    >>> sorted(p.name for p in d.iterdir())  # doctest: +NORMALIZE_WHITESPACE
    ['extract.yaml', 'interviews.parquet', 'participants.parquet', 'placements.parquet',
     'programmes.parquet']
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, not {fmt!r}")
    missing = [t for t in TABLE_ORDER if t not in frames]
    if missing:
        raise ValueError(f"frames lacks table(s) {missing}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for t in TABLE_ORDER:
        for suffix in (".csv", ".parquet"):
            (out_dir / f"{t}{suffix}").unlink(missing_ok=True)
    (out_dir / WORKBOOK_FILE).unlink(missing_ok=True)

    ordered = {t: _ordered(frames[t], t) for t in TABLE_ORDER}
    if fmt in ("csv", "csv-it"):
        for t, frame in ordered.items():
            _write_csv(frame, t, out_dir / f"{t}.csv", italian=fmt == "csv-it")
    elif fmt == "parquet":
        for t, frame in ordered.items():
            _write_parquet(frame, t, out_dir / f"{t}.parquet")
    else:
        _write_xlsx(ordered, out_dir / WORKBOOK_FILE)

    if not isinstance(extracted_on, dt.date):
        extracted_on = dt.date.fromisoformat(str(extracted_on))
    if isinstance(extracted_on, dt.datetime):
        extracted_on = extracted_on.date()
    text = yaml.safe_dump({"extracted_on": extracted_on, "source": str(source)}, sort_keys=False,
                          allow_unicode=True)
    (out_dir / EXTRACT_FILE).write_text(text, encoding="utf-8")
    return out_dir
