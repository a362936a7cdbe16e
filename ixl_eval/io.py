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
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from . import limits as _limits
from .contract import TABLE_ORDER, TABLES
from .exceptions import DataLoadError, LimitError

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


#: Encodings a user may state in ``extract.yaml`` (``encoding: windows-1252``), by spelling.
ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "windows-1252": "cp1252", "cp1252": "cp1252",
             "iso-8859-1": "latin-1", "latin-1": "latin-1", "latin1": "latin-1", "iso-8859-15": "iso8859-15"}

# A UTF-8 multi-byte sequence: in a Windows-1252 file it would be two or three unlikely symbols in
# a row ("Ã " for "à"), so finding one means the file was written as UTF-8.
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _line_of(data: bytes, offset: int) -> int:
    """1-based line of a byte offset (the header is line 1, as a spreadsheet numbers rows)."""
    return data.count(b"\n", 0, offset) + 1


def _decode(data: bytes, stated: str | None = None) -> tuple[str, str]:
    """Decode CSV bytes, deciding the encoding once for the whole file.

    With ``stated`` (from ``extract.yaml``), that encoding is used and a byte it cannot decode is
    an error naming the row. Otherwise: UTF-8 with BOM, UTF-8, then Windows-1252 (what Excel
    writes in Italy), but only when the file holds no UTF-8 at all: a UTF-8 file with one row in
    another encoding is an error naming that row, never read entirely as Windows-1252.
    """
    if data.startswith(b"PK\x03\x04"):
        raise ValueError("this is a zip/Excel file, not text: save the sheet as CSV or name it .xlsx")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValueError("UTF-16 text is not supported: save as 'CSV UTF-8' or plain 'CSV'")
    if b"\x00" in data[:65536]:
        raise ValueError("binary content (NUL bytes): not a CSV file")
    bom = data.startswith(b"\xef\xbb\xbf")
    if stated is not None:
        codec = ENCODINGS[stated]
        body = data[3:] if bom and codec == "utf-8" else data
        try:
            return body.decode(codec), "utf-8-sig" if bom and codec == "utf-8" else codec
        except UnicodeDecodeError as e:
            row = _line_of(data, e.start + (len(data) - len(body)))
            raise ValueError(f"row {row}: byte 0x{body[e.start]:02x} is not valid {stated}, the encoding stated "
                             "in extract.yaml") from None
    body = data[3:] if bom else data
    try:
        return body.decode("utf-8"), "utf-8-sig" if bom else "utf-8"
    except UnicodeDecodeError as e:
        bad = e.start
    if bom or _UTF8_SEQUENCE.search(body):
        row = _line_of(data, bad + (3 if bom else 0))
        raise ValueError(
            f"row {row}: byte 0x{body[bad]:02x} is not valid UTF-8, but the rest of the file is UTF-8 "
            "(mixed encodings: probably one row pasted from another program). Fix that row, or state the "
            "encoding of the whole file in extract.yaml (e.g. 'encoding: windows-1252')")
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as e:
        raise ValueError(f"row {_line_of(data, e.start)}: text is neither UTF-8 nor Windows-1252 "
                         f"(byte {e.start})") from None


def _check_size(path: Path) -> int:
    """Refuse a file larger than the ``file_mb`` limit before reading a byte of it."""
    size = path.stat().st_size
    lim = _limits.current()
    if size > lim.file_bytes:
        raise LimitError(f"the file is {size / (1 << 20):,.0f} MiB, more than the limit file_mb = {lim.file_mb} MiB; "
                         + _limits.hint("file_mb"))
    return size


def _check_rows(n: int, what: str = "records") -> None:
    lim = _limits.current()
    if n > lim.rows:
        raise LimitError(f"{n:,} {what}, more than the limit rows = {lim.rows:,}; " + _limits.hint("rows"))


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


def _read_csv(path: Path, encoding: str | None = None) -> pd.DataFrame:
    _check_size(path)
    data = path.read_bytes()
    # Counting line ends is one pass in C over bytes already in memory; the parsers below hold
    # several copies of the text, so a file with too many rows is refused before them.
    _check_rows(data.count(b"\n"), "lines")
    text, encoding = _decode(data, encoding)
    first = _first_line(text)
    if not first.strip():
        raise ValueError("the first line is empty: it must hold the column names")
    sep = _sniff_separator(first)
    # Both parsers below rename or reject a repeated name: check the header line itself.
    header = next(csv.reader([first.rstrip("\r")], delimiter=sep))
    _check_header(header)
    utf8 = data[3:] if encoding == "utf-8-sig" else data if encoding == "utf-8" else text.encode("utf-8")
    del data
    try:
        import pyarrow.csv as pcsv

        # Fast path (multi-threaded, ~10x pandas): every column as text, nothing becomes null.
        table = pcsv.read_csv(
            _io.BytesIO(utf8),
            parse_options=pcsv.ParseOptions(delimiter=sep, newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pcsv.ConvertOptions(column_types={h: pa.string() for h in header},
                                                strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
        return _drop_trailing_blank(_finish(table.column_names, table.columns))
    except pa.ArrowInvalid:
        pass  # blank, short or long rows: read them one by one below to say which
    del utf8  # the slow path needs only the text
    return _read_csv_rows(text, sep)


def _drop_trailing_blank(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows at the very end with no value at all (blank lines, or separators only, that hand edits
    and spreadsheets leave) are not records; a blank row between records stays and is reported."""
    cols = [c for c in frame.columns if c != ROW_COLUMN]
    if not len(frame) or not cols:
        return frame
    blank = np.ones(len(frame), dtype=bool)
    for c in cols:
        blank &= frame[c].eq("").to_numpy(dtype=bool, na_value=True)
    if not blank[-1]:
        return frame
    keep = len(blank) - int(np.argmin(blank[::-1])) if not blank.all() else 0
    return frame.iloc[:keep]


def _iter_lines(text: str):
    """The lines of ``text`` with their endings, one at a time (``io.StringIO`` would copy the
    whole text into a 4-bytes-per-character buffer first)."""
    start, n = 0, len(text)
    while start < n:
        end = text.find("\n", start)
        end = n if end < 0 else end + 1
        yield text[start:end]
        start = end


def _read_csv_rows(text: str, sep: str) -> pd.DataFrame:
    """Slow path for irregular CSV: short and blank rows are kept as rows of empty values (the
    numbering stays as the user sees it and validation reports them); a row with more values
    than the header is an error naming the row; blank rows at the very end are not records."""
    # Two passes over the text, neither holding the rows: the first finds a row with too many
    # values (junk usually has one early), the second fills one list per column.
    reader = csv.reader(_iter_lines(text), delimiter=sep)
    header = next(reader)
    width = len(header)
    last = 0  # index of the last row with a value: blank rows after it are not records
    for i, r in enumerate(reader):
        if len(r) > width and any(v.strip() for v in r[width:]):
            raise ValueError(f"row {i + _FIRST_DATA_ROW} has {len(r)} values but the header names {width} columns")
        if any(v.strip() for v in r):
            last = i + 1
    columns: list[list[str]] = [[] for _ in range(width)]
    for i, r in enumerate(csv.reader(_iter_lines(text), delimiter=sep)):
        if i == 0:
            continue
        if i > last:
            break
        for j in range(width):
            columns[j].append(r[j] if j < len(r) else "")
    return _finish(header, [pa.array(c, type=pa.string()) for c in columns])


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

    _check_size(path)
    try:
        meta = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as e:
        raise ValueError(f"not a readable Parquet file ({_first_sentence(e)})") from None
    # The names are checked from the footer before reading: Arrow refuses a repeated name with a
    # dump of the whole schema, which names nothing a user can act on.
    names = list(meta.schema_arrow.names)
    _check_header(names)
    _check_rows(meta.metadata.num_rows)
    table = meta.read()
    return _finish(table.column_names, [_arrow_to_text(table.column(n)) for n in table.column_names])


def _first_sentence(e: Exception) -> str:
    """An exception's first line, without the schema or stack dumps Arrow appends."""
    return (str(e).strip().splitlines() or [type(e).__name__])[0][:300]


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


def _check_workbook(path: Path) -> None:
    """Refuse a workbook whose file or inflated size exceeds the limits, before openpyxl opens it.

    The sizes are read from the zip directory: a zip bomb is small on disk and huge inflated.
    """
    _check_size(path)
    lim = _limits.current()
    try:
        with zipfile.ZipFile(path) as z:
            total = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, OSError):
        return  # not a zip at all: openpyxl says so in its own words
    if total > lim.xlsx_uncompressed_bytes:
        raise LimitError(f"the workbook inflates to {total / (1 << 20):,.0f} MiB, more than the limit "
                         f"xlsx_uncompressed_mb = {lim.xlsx_uncompressed_mb} MiB; " + _limits.hint("xlsx_uncompressed_mb"))


def _check_dimension(ws) -> None:
    """Refuse a sheet that declares more rows or columns than the limits (``A1:XFD1048576``)."""
    from openpyxl.utils.cell import range_boundaries

    lim = _limits.current()
    try:
        ref = ws.calculate_dimension(force=False)
        _, _, max_col, max_row = range_boundaries(ref)
    except (ValueError, TypeError):
        return  # no declared dimension: the rows are counted while reading
    if max_row is not None and max_row - 1 > lim.rows:
        raise LimitError(f"the sheet declares {max_row:,} rows ({ref}), more than the limit rows = {lim.rows:,}; "
                         + _limits.hint("rows"))
    if max_col is not None and max_col > lim.xlsx_columns:
        raise LimitError(f"the sheet declares {max_col:,} columns ({ref}), more than the limit xlsx_columns = "
                         f"{lim.xlsx_columns}; " + _limits.hint("xlsx_columns"))


def _read_sheet(path: Path, sheet: str) -> pd.DataFrame:
    import openpyxl
    from openpyxl.utils import get_column_letter

    _check_workbook(path)
    lim = _limits.current()
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        ws = wb[sheet]
        _check_dimension(ws)
        rows = _sheet_rows(ws, lim)
        header = next(rows, None)
        if header is None:
            raise ValueError("the sheet is empty (no header row)")
        body = []
        trailing = 0  # empty rows since the last row with a value: only counted, not stored
        for r in rows:
            if not r:
                trailing += 1
                continue
            body.extend([] for _ in range(trailing))
            trailing = 0
            body.append([_cell_text(v) for v in r])
            if len(body) > lim.rows:
                _check_rows(len(body))
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


def _sheet_rows(ws, lim):
    """The values of a read-only worksheet, row by row, each cut after its last value.

    openpyxl's ``iter_rows`` pads every row to the widest cell of the sheet: a styled empty cell in
    column XFD makes each row a tuple of 16,384 values, and 300,000 such rows take minutes and
    gigabytes. The sheet's own parser yields only the cells present, so an empty styled cell
    costs nothing and a value beyond ``xlsx_columns`` is refused, not dropped. (openpyxl has no
    public API for this; ``WorkSheetParser`` is what ``iter_rows`` itself uses.)
    """
    from openpyxl.worksheet._reader import WorkSheetParser

    wb = ws.parent
    expected = 1
    with ws._get_source() as src:
        parser = WorkSheetParser(src, ws._shared_strings, data_only=wb.data_only, epoch=wb.epoch,
                                 date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)
        for idx, cells in parser.parse():
            if idx - 1 > lim.rows:
                _check_rows(idx - 1, "rows")
            for _ in range(expected, idx):
                yield ()  # rows absent from the XML are empty rows
            expected = idx + 1
            values = {c["column"]: c["value"] for c in cells if c["value"] is not None and c["value"] != ""}
            if not values:
                yield ()
                continue
            width = max(values)
            if width > lim.xlsx_columns:
                raise LimitError(f"row {idx} has a value in column {width:,}, more than the limit xlsx_columns = "
                                 f"{lim.xlsx_columns}; " + _limits.hint("xlsx_columns"))
            yield tuple(values.get(j) for j in range(1, width + 1))


def read_yaml_text(path: Path, what: str) -> str:
    """The text of a small YAML file, refused before parsing if it is too large, not UTF-8 text,
    or uses anchors and aliases (an alias can expand a few lines into gigabytes: "billion laughs").

    Raises
    ------
    LimitError
        Larger than the ``yaml_kb`` limit.
    ValueError
        Binary, UTF-16 or otherwise not UTF-8; anchors or aliases (the message names the line).
    """
    size = path.stat().st_size
    lim = _limits.current()
    if size > lim.yaml_bytes:
        raise LimitError(f"{path.name}: {size / 1024:,.0f} KiB, more than the limit yaml_kb = {lim.yaml_kb} KiB for "
                         f"{what}; " + _limits.hint("yaml_kb"))
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValueError(f"{path.name} is UTF-16 text: save it as UTF-8")
    if b"\x00" in data:
        raise ValueError(f"{path.name} is not a text file (NUL bytes): {what} must be YAML text in UTF-8")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValueError(f"{path.name}, line {_line_of(data, e.start)}: not UTF-8 text "
                         f"(byte 0x{data[e.start]:02x}); save {what} as UTF-8") from None
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise ValueError(f"{path.name}, line {event.start_mark.line + 1}: YAML anchors and aliases "
                                 f"(&name, *name) are not allowed in {what}; write the values out")
    except yaml.YAMLError:
        pass  # the caller's own parse reports the syntax error with its line
    return text


def _read_extract(path: Path) -> dict:
    text = read_yaml_text(path, "extract.yaml")
    # BaseLoader keeps every value as the text written: a wrong date such as 2024-02-30 is
    # then a finding on `extracted_on`, not a YAML error, and 30/04/2024 is accepted too.
    doc = yaml.load(text, Loader=yaml.BaseLoader)
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

    _check_workbook(path)
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
            except LimitError as e:
                raw.unreadable[p.name] = str(e)
                continue
            except Exception as e:  # openpyxl raises many types for a damaged workbook
                raw.unreadable[p.name] = f"not a readable .xlsx workbook ({type(e).__name__}: {_first_sentence(e)})"
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

    extract = [p for p in files if p.name.lower() in (EXTRACT_FILE, "extract.yml")]
    if not extract:
        raw.missing[EXTRACT_FILE] = "no extract.yaml with 'extracted_on' and 'source'"
    elif len(extract) > 1:
        raw.duplicates[EXTRACT_FILE] = tuple(p.name for p in extract)
    else:
        try:
            object.__setattr__(raw, "extract", _read_extract(extract[0]))
        except (ValueError, LimitError) as e:  # too large, binary, not UTF-8, aliases
            raw.unreadable[extract[0].name] = str(e)
        except Exception as e:  # YAML syntax errors
            raw.unreadable[extract[0].name] = f"{type(e).__name__}: {e}"
    # The encoding the user states for the CSV files (else it is decided per file).
    stated = (raw.extract or {}).get("encoding") or None
    if stated is not None and stated.lower() not in ENCODINGS:
        raw.unreadable[extract[0].name] = (f"encoding {stated!r} is not supported; use one of "
                                           f"{', '.join(sorted(set(ENCODINGS)))}")
        stated = None
    stated = stated.lower() if stated else None

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
                frame = _read_csv(src.path, stated)
            elif src.kind == "parquet":
                frame = _read_parquet(src.path)
            else:
                frame = _read_sheet(src.path, src.sheet)
        except Exception as e:  # any reader failure is reported against the file, not raised
            reason = (str(e) if isinstance(e, (ValueError, UnicodeError, LimitError))
                      else f"{type(e).__name__}: {_first_sentence(e)}")
            raw.unreadable[src.label] = reason
            continue
        raw.tables[table] = RawTable(table, src.label, src.path, frame)
        if src.path not in hashed:
            raw.sha256[src.path.name] = file_sha256(src.path)
            hashed.add(src.path)
    if raw.extract is not None:
        raw.sha256[extract[0].name] = file_sha256(extract[0])
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
