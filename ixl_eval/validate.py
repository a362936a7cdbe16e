"""Validation of a data directory against the data contract.

:func:`validate_dir` reads a directory with :func:`ixl_eval.io.read_data_dir`, checks it against
:mod:`ixl_eval.contract` and returns a :class:`ValidationReport` holding every problem as a
:class:`Finding` (file, row as the user sees it, column, offending value, rule) and the typed
tables. Per-column rules (type, not_null, allowed_values, pattern, unique, required_column) run as
pandera schemas built from the contract (:func:`table_schema`); rules across columns and tables
are vectorised pandas. Nothing is dropped: a row with an error makes the data invalid.

Examples
--------
>>> import tempfile
>>> report = validate_dir(tempfile.mkdtemp())  # an empty directory
>>> report.ok
False
>>> sorted({f.rule for f in report.errors})
['file_present']
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pandera
import pyarrow as pa
import pyarrow.compute as pc

from . import contract
from . import limits as _limits
from .contract import EXTRACT_FIELDS, RULES, TABLE_ORDER, TABLES, Table
from .dataset import Dataset
from .exceptions import DataLoadError, DataValidationError
from .io import _DATE_FORMATS, EXTRACT_FILE, ROW_COLUMN, RawData, RawTable, parse_dates, parse_ints, read_data_dir
from .paths import resolve_data_dir

__all__ = [
    "Finding",
    "ValidationReport",
    "validate_dir",
    "table_schema",
    "main_validate",
    "render_contract_docs",
]

_RULES = {r.id: r for r in RULES}
_RULE_ORDER = {r.id: i for i, r in enumerate(RULES)}
_TABLE_RANK = {t: i for i, t in enumerate((EXTRACT_FILE, *TABLE_ORDER))}  # the cut-off first


@dataclass(frozen=True)
class Finding:
    """One problem in the data.

    Attributes
    ----------
    file : str
        As the user knows it: ``participants.csv``, ``ixl-data.xlsx[participants]``,
        ``extract.yaml``; the table name when the table was not found at all.
    row : int or None
        Row number a spreadsheet shows (header is 1, first record is 2); None for a whole file.
    column : str or None
    value : str or None
        The offending value as written in the file.
    rule : str
        A rule id of :data:`ixl_eval.contract.RULES`.
    severity : {"error", "warning"}
    message : str
        What is wrong with this value, in plain words.
    table : str or None
        Contract table name (``extract.yaml`` for the metadata file).
    """

    file: str
    row: int | None
    column: str | None
    value: str | None
    rule: str
    severity: str
    message: str
    table: str | None = None

    def __str__(self) -> str:
        where = self.file + (f", row {self.row}" if self.row is not None else "")
        what = f", {self.column}" if self.column else ""
        val = f" = {self.value!r}" if self.value not in (None, "") else ""
        return f"{where}{what}{val}: {self.message} [{self.rule}]"


def _finding(rule: str, file: str, message: str, *, row=None, column=None, value=None, table=None):
    return Finding(file, None if row is None else int(row), column, value, rule, _RULES[rule].severity,
                   message, table)


class _Findings(list):
    """The findings list, keeping at most ``per_rule`` findings per file and rule.

    A file of junk can break a rule on every one of millions of rows; the findings beyond the cap
    are counted in :attr:`omitted` (``(file, rule, severity) -> n``) instead of being built, so
    memory stays bounded and the report still says how many there are.
    """

    def __init__(self, per_rule: int):
        super().__init__()
        self.per_rule = per_rule
        self.kept: Counter = Counter()
        self.omitted: Counter = Counter()

    def room(self, file: str, rule: str) -> int:
        return max(0, self.per_rule - self.kept[(file, rule)])

    def skip(self, file: str, rule: str, n: int) -> None:
        if n > 0:
            self.omitted[(file, rule, _RULES[rule].severity)] += n

    def append(self, f: Finding) -> None:
        if self.room(f.file, f.rule):
            self.kept[(f.file, f.rule)] += 1
            super().append(f)
        else:
            self.skip(f.file, f.rule, 1)

    def extend(self, fs) -> None:
        for f in fs:
            self.append(f)

    def __iadd__(self, fs):
        self.extend(fs)
        return self


# --------------------------------------------------------------------------------------------
# per-column rules: pandera schemas built from the contract
# --------------------------------------------------------------------------------------------


def _type_check(kind: str, invalid: pd.Series | None):
    """The ``type`` check of a date or int column; reuses masks already computed when parsing."""

    def ok(s: pd.Series) -> pd.Series:
        if invalid is not None:
            same = s.index.equals(invalid.index)
            return ~(invalid if same else invalid.reindex(s.index, fill_value=False))
        return ~(parse_dates if kind == "date" else parse_ints)(s)[1]

    return ok


def table_schema(table: Table | str, invalid: dict | None = None) -> pandera.DataFrameSchema:
    """The pandera schema of one table, built from :mod:`ixl_eval.contract`.

    It validates a table *as read* (all values text, empty cells as missing): required columns,
    ``not_null``, ``unique`` and the checks named after their rule ids (``type``,
    ``allowed_values``, ``pattern``). Extra columns pass through. ``invalid`` (column -> boolean
    mask of unparseable values) lets the validator reuse the parse it needs for typing anyway.

    Examples
    --------
    >>> import pandas as pd
    >>> schema = table_schema("interviews")
    >>> df = pd.DataFrame({"participant_id": ["P1"], "interviewed_on": ["05/01/2023"],
    ...                    "format": ["individual"]})
    >>> schema.validate(df).shape
    (1, 3)
    >>> [c.name for c in schema.columns["format"].checks]
    ['allowed_values']
    """
    if isinstance(table, str):
        table = TABLES[table]
    columns = {}
    for c in table.columns:
        checks = []
        if c.kind in ("date", "int"):
            checks.append(pandera.Check(_type_check(c.kind, (invalid or {}).get(c.name)), name="type"))
        if c.allowed is not None:
            checks.append(pandera.Check(lambda s, a=c.allowed: s.isin(a), name="allowed_values"))
        if c.pattern is not None:
            checks.append(pandera.Check(lambda s, p=c.pattern: s.str.contains(p, regex=True), name="pattern"))
        columns[c.name] = pandera.Column(
            None,  # every value is text as read; the type check parses it
            checks=checks,
            nullable=c.nullable,
            unique=c.unique,
            report_duplicates="exclude_first",
            required=c.required,
            description=c.en,
            title=c.it,
        )
    return pandera.DataFrameSchema(columns, name=table.name, strict=False, description=table.en)


_TYPE_HINT = {"date": "is not a date (write yyyy-mm-dd or dd/mm/yyyy)", "int": "is not a whole number"}


def _column_findings(raw: RawTable, table: Table, text: pd.DataFrame, invalid: dict, out: _Findings) -> None:
    """Run the table's pandera schema lazily and turn every failure case into a Finding.

    On a table with more failures of a rule than findings are kept (a file of junk), pandera would
    build a frame of every failure case (gigabytes for millions of rows): it is then run on the
    rows that make up the kept findings only, and the other failures are counted.
    """
    text, selected = _failing_rows(raw, table, text, invalid, out)
    try:
        table_schema(table, invalid).validate(text, lazy=True)
        return
    except pandera.errors.SchemaErrors as e:
        cases = e.failure_cases
    rows = raw.frame[ROW_COLUMN].to_numpy()
    first_row: dict[str, pd.Series] = {}
    rule_of = {"not_nullable": "not_null", "field_uniqueness": "unique", "type": "type",
               "allowed_values": "allowed_values", "pattern": "pattern"}
    window = _limits.current().programme_start
    for check, col, value, index in zip(cases["check"], cases["column"], cases["failure_case"],
                                        cases["index"]):
        rule = rule_of.get(check)
        if (selected is not None and rule is not None and index is not None and not pd.isna(index)
                and int(index) not in selected.get((col, rule), ())):
            continue  # a row kept for another check; this failure is among those already counted
        if rule is not None and not out.room(raw.label, rule):
            out.skip(raw.label, rule, 1)  # counted, not built: the cap of findings per rule
            continue
        if check == "column_in_dataframe":
            present = ", ".join(c for c in raw.frame.columns if c != ROW_COLUMN)
            out.append(_finding("required_column", raw.label, f"required column '{value}' is missing "
                                f"(the header has: {present})", row=1, column=str(value), table=table.name))
            continue
        if index is None or pd.isna(index):
            raise AssertionError(f"unexpected schema failure {check} on {col}: {value}")  # pragma: no cover
        row = rows[int(index)]
        spec = table.column(col)
        if check == "not_nullable":
            out.append(_finding("not_null", raw.label, "empty, but a value is required", row=row, column=col,
                                value="", table=table.name))
        elif check == "field_uniqueness":
            if col not in first_row:
                s = raw.frame[col]
                first_row[col] = raw.frame[ROW_COLUMN].groupby(s).min()
            out.append(_finding("unique", raw.label, f"already used on row {first_row[col][value]}",
                                row=row, column=col, value=value, table=table.name))
        elif check == "type" and spec.kind == "date" and _calendar_year(value) is not None:
            # A real calendar date outside what the analyses can represent (year 1600, 2300):
            # say which date it is, not "not a date".
            out.append(_finding("programme_window", raw.label,
                                f"{value!r} is a date in the year {_calendar_year(value)}, outside the programme "
                                f"window (from {window:%Y-%m-%d} to the extraction date)", row=row, column=col,
                                value=value, table=table.name))
        elif check == "type":
            out.append(_finding("type", raw.label, f"{value!r} {_TYPE_HINT[spec.kind]}", row=row,
                                column=col, value=value, table=table.name))
        elif check == "allowed_values":
            out.append(_finding("allowed_values", raw.label,
                                f"{value!r} is not one of: {', '.join(spec.allowed)}", row=row, column=col,
                                value=value, table=table.name))
        elif check == "pattern":
            out.append(_finding("pattern", raw.label, f"{value!r} does not have the format {spec.pattern}",
                                row=row, column=col, value=value, table=table.name))
        else:  # pragma: no cover - the schema holds only the checks above
            raise AssertionError(f"unmapped schema check {check!r}")


def _failing_rows(raw: RawTable, table: Table, text: pd.DataFrame, invalid: dict, out: _Findings) -> tuple:
    """``(text, None)``, or only the rows pandera needs when some column check fails more than the
    cap, with the rows selected per ``(column, rule)`` (failures outside them are already counted).

    A cheap screen with the same tests as the schema counts the failures per column and check; when
    none exceeds the room left for its rule, the whole table goes to pandera as always. Otherwise
    the first failures of each check (and, for duplicates, the rows they repeat) are kept and the
    rest are counted as omitted findings.
    """
    n = len(text)
    if n <= out.per_rule:
        return text, None
    masks = []  # (column, rule, mask)
    for c in table.columns:
        if c.name not in text.columns:
            continue
        s = text[c.name]
        present = s.notna().to_numpy()
        if not c.nullable:
            masks.append((c.name, "not_null", ~present))
        if c.name in invalid:
            masks.append((c.name, "type", invalid[c.name].to_numpy(dtype=bool) & present))
        if c.allowed is not None:
            masks.append((c.name, "allowed_values", present & ~s.isin(c.allowed).to_numpy(dtype=bool)))
        if c.pattern is not None:
            ok = s.str.contains(c.pattern, regex=True).fillna(True).to_numpy(dtype=bool)
            masks.append((c.name, "pattern", present & ~ok))
        if c.unique:
            masks.append((c.name, "unique", present & s.duplicated(keep="first").to_numpy()))
    if not any(int(m.sum()) > out.per_rule for _, _, m in masks):
        return text, None
    keep = np.zeros(n, dtype=bool)
    selected: dict = {}
    for col, rule, m in masks:
        idx = np.flatnonzero(m)
        shown = idx[: out.per_rule]
        keep[shown] = True
        out.skip(raw.label, rule, len(idx) - len(shown))
        selected[(col, rule)] = set(shown.tolist())
    for c in table.columns:
        if c.unique and c.name in text.columns:
            # The first occurrence of each kept duplicate, so the subset still shows it as repeated.
            s = text[c.name]
            dup_values = s[keep & s.duplicated(keep="first").to_numpy()]
            if len(dup_values):
                keep |= (s.isin(dup_values.unique()) & ~s.duplicated(keep="first")).to_numpy(dtype=bool)
    return text[keep], selected


def _calendar_year(value) -> int | None:
    """The year of a text that is a real calendar date in either accepted format, else None."""
    text = str(value).strip()
    for _, _, loose in _DATE_FORMATS:
        m = re.match(loose, text)
        if m:
            y, mo, d = int(m["y"]), int(m["m"]), int(m["d"])
            try:
                dt.date(y, mo, d)
            except ValueError:
                return None
            return y
    return None


# --------------------------------------------------------------------------------------------
# typed frames
# --------------------------------------------------------------------------------------------


def _object_text(s: pd.Series) -> pd.Series:
    """Plain ``object`` strings with NaN for empty: what analyses expect (and fast to ``isin``)."""
    values = np.asarray(s.to_numpy(dtype=object, na_value=""), dtype=object)
    values[values == ""] = np.nan
    return pd.Series(values, index=s.index, dtype=object)


def _typed(raw: RawTable | None, table: Table) -> tuple[pd.DataFrame, dict]:
    """Typed copy of a table: contract columns (all of them), then extra columns, then ``_row``.

    Also returns, per date/int column, the mask of values that did not parse: they are NaT / NA in
    the typed frame and become ``type`` findings, so the data are invalid anyway. A contract
    column absent from the file is all-missing, which lets cross-table rules run.
    """
    frame = raw.frame if raw is not None else pd.DataFrame({ROW_COLUMN: pd.Series([], dtype="int64")})
    n = len(frame)
    out, invalid = {}, {}
    for c in table.columns:
        s = frame[c.name] if c.name in frame.columns else pd.Series([""] * n, index=frame.index, dtype=object)
        if c.kind in ("date", "int"):
            out[c.name], invalid[c.name] = (parse_dates if c.kind == "date" else parse_ints)(s)
        else:
            out[c.name] = _object_text(s)
    known = {c.name for c in table.columns}
    for name in frame.columns:
        if name not in known and name != ROW_COLUMN:
            out[name] = _object_text(frame[name])
    out[ROW_COLUMN] = frame[ROW_COLUMN]
    return pd.DataFrame(out, index=pd.RangeIndex(n)), invalid


# --------------------------------------------------------------------------------------------
# rules across columns and tables
# --------------------------------------------------------------------------------------------


class _Checker:
    """Collects findings for masks over a table; one method call per rule."""

    def __init__(self, raw: RawData, findings: list):
        self.raw, self.findings = raw, findings

    def flag(self, table: str, mask: pd.Series, rule: str, column: str, describe) -> None:
        """Add a finding for each True row of ``mask``; ``describe(idx)`` gives the messages."""
        mask = mask.fillna(False).to_numpy(dtype=bool)
        if not mask.any():
            return
        idx = np.flatnonzero(mask)
        src = self.raw.tables[table]
        room = self.findings.room(src.label, rule)
        if len(idx) > room:  # the cap of findings per rule: the rest are counted, not built
            self.findings.skip(src.label, rule, len(idx) - room)
            idx = idx[:room]
            if not len(idx):
                return
        values = src.frame[column].to_numpy()[idx] if column in src.frame.columns else [None] * len(idx)
        rows = src.frame[ROW_COLUMN].to_numpy()[idx]
        for row, value, msg in zip(rows, values, describe(idx)):
            self.findings.append(_finding(rule, src.label, msg, row=row, column=column, value=value,
                                          table=table))


def _d(values) -> list[str]:
    """Timestamps as ``yyyy-mm-dd`` for messages."""
    return [("?" if pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d")) for v in values]


def _cross_findings(raw: RawData, typed: dict, extracted_on: dt.date | None, usable: dict,
                    findings: _Findings) -> None:
    """Rules across columns and tables, each one vectorised over whole columns, added to ``findings``.

    ``usable`` lists, per table, the contract columns present in the file: a rule needing a
    missing column is skipped (the missing column is already a finding).
    """
    unique_findings = [f for f in findings if f.rule == "unique"]
    chk = _Checker(raw, findings)

    def has(t: str, *cols: str) -> bool:
        """The table was read and has these contract columns (else the rule cannot be checked)."""
        return t in raw.tables and all(c in usable[t] for c in cols)

    # Dates after the cut-off: every date column of every table.
    if extracted_on is not None:
        cut = pd.Timestamp(extracted_on)
        for t in TABLE_ORDER:
            if t not in raw.tables:
                continue
            for c in TABLES[t].columns:
                if c.kind == "date" and c.name in usable[t]:
                    col = typed[t][c.name]
                    chk.flag(t, col > cut, "not_after_extract", c.name,
                             lambda i, col=col: [f"{d} is after the extraction date {cut:%Y-%m-%d}"
                                                 for d in _d(col.to_numpy()[i])])

    # Dates before the programme started (an enrolment in 1900 is a typo, not history).
    start = pd.Timestamp(_limits.current().programme_start)
    for t in TABLE_ORDER:
        if t not in raw.tables:
            continue
        for c in TABLES[t].columns:
            if c.kind == "date" and c.name in usable[t]:
                col = typed[t][c.name]
                chk.flag(t, col < start, "programme_window", c.name,
                         lambda i, col=col: [f"{d} is before the programme started ({start:%Y-%m-%d}; the limit "
                                             "programme_start sets it)" for d in _d(col.to_numpy()[i])])

    # Control characters in any text (a vertical tab pasted from a form): not fatal, but they
    # break exports, so they are listed and removed when outputs are written.
    for t, src in raw.tables.items():
        for name in src.frame.columns:
            if name == ROW_COLUMN:
                continue
            arr = pa.array(src.frame[name])
            hit = pc.match_substring_regex(arr, _CONTROL_RE)
            if pc.any(hit).as_py():
                chk.flag(t, pd.Series(hit.to_numpy(zero_copy_only=False)), "control_characters", name,
                         lambda i, arr=arr: [f"holds control character(s) {_controls(v)}"
                                             for v in arr.take(pa.array(i)).to_pylist()])

    # Within participants.
    if has("participants", "participant_id"):
        p = typed["participants"]
        if has("participants", "birth_year", "enrolled_on"):
            age = p["enrolled_on"].dt.year - p["birth_year"].astype("float64")
            chk.flag("participants", (age < 14) | (age > 80), "plausible_birth_year", "birth_year",
                     lambda i: [f"age {int(a)} at enrolment on {d}" for a, d in
                                zip(age.to_numpy()[i], _d(p["enrolled_on"].to_numpy()[i]))])
        if has("participants", "withdrawn_on", "enrolled_on"):
            chk.flag("participants", p["withdrawn_on"] < p["enrolled_on"], "withdrawn_after_enrolment",
                     "withdrawn_on", lambda i: [f"withdrawn before enrolment on {d}"
                                                for d in _d(p["enrolled_on"].to_numpy()[i])])
        # Each record's row in participants (first occurrence; -1 if absent), by Arrow's hash
        # look-up on the text as read: pandas' object look-ups take seconds at 1M ids.
        known = pa.array(raw.tables["participants"].frame["participant_id"])
        person = {}
        for t in ("interviews", "programmes", "placements"):
            if not has(t, "participant_id"):
                continue
            ids = raw.tables[t].frame["participant_id"]
            person[t] = pc.fill_null(pc.index_in(pa.array(ids), value_set=known), -1).to_numpy(zero_copy_only=False)
            chk.flag(t, ids.ne("") & (person[t] < 0), "participant_exists", "participant_id",
                     lambda i, ids=ids: [f"{v!r} is not in the participants table" for v in ids.to_numpy()[i]])

        def of_person(t: str, column: str) -> pd.Series:
            """``participants[column]`` for each record of table ``t`` (NaT if no such person)."""
            values = np.append(p[column].to_numpy(), np.datetime64("NaT", "ns"))
            return pd.Series(values[person[t]], index=typed[t].index)  # -1 picks the NaT
        # Dates compared with the person's enrolment / withdrawal.
        relative = [
            ("placements", "started_on", "enrolled_on", "<", "placement_after_enrolment",
             "placement starts before enrolment on {}"),
            ("interviews", "interviewed_on", "enrolled_on", "<", "interview_before_enrolment",
             "interview before enrolment on {}"),
            ("programmes", "offered_on", "enrolled_on", "<", "offer_before_enrolment",
             "programme offered before enrolment on {}"),
            ("placements", "started_on", "withdrawn_on", ">", "placement_after_withdrawal",
             "placement starts after withdrawal on {}"),
        ]
        for t, col, ref, op, rule, text in relative:
            if not has("participants", ref) or not has(t, "participant_id", col):
                continue
            theirs = of_person(t, ref)
            mine = typed[t][col]
            mask = mine < theirs if op == "<" else mine > theirs
            chk.flag(t, mask, rule, col, lambda i, theirs=theirs, text=text:
                     [text.format(d) for d in _d(theirs.to_numpy()[i])])

    # End before start (and an end with no start).
    for t in ("programmes", "placements"):
        if has(t, "started_on", "ended_on"):
            f = typed[t]
            chk.flag(t, f["ended_on"] < f["started_on"], "end_after_start", "ended_on",
                     lambda i, f=f: [f"ends before it starts on {d}" for d in _d(f["started_on"].to_numpy()[i])])
            # Only a truly empty start: a mistyped one is already a `type` finding.
            no_start = raw.tables[t].frame["started_on"].eq("")
            chk.flag(t, f["ended_on"].notna() & no_start, "end_after_start", "ended_on",
                     lambda i: ["has an end date but no start date"] * len(i))

    # Programmes: decision / start / offer.
    if has("programmes", "decision", "started_on"):
        g = typed["programmes"]
        chk.flag("programmes", g["decision"].eq("declined") & g["started_on"].notna(),
                 "decision_start_consistent", "started_on",
                 lambda i: ["a declined programme has a start date"] * len(i))
    if has("programmes", "offered_on", "started_on"):
        g = typed["programmes"]
        chk.flag("programmes", g["started_on"] < g["offered_on"], "start_after_offer", "started_on",
                 lambda i: [f"starts before the offer on {d}" for d in _d(g["offered_on"].to_numpy()[i])])

    # Placements: conversion to permanent.
    if has("placements", "converted_on", "contract_type"):
        c = typed["placements"]
        chk.flag("placements", c["converted_on"].notna() & c["contract_type"].notna()
                 & c["contract_type"].ne("fixed_term"), "conversion_fixed_term_only", "converted_on",
                 lambda i: [f"converted, but the contract type is {v} (only fixed_term converts)"
                            for v in c["contract_type"].to_numpy()[i]])
    if has("placements", "converted_on", "started_on", "ended_on"):
        c = typed["placements"]
        before = c["converted_on"] <= c["started_on"]
        after = c["converted_on"] > c["ended_on"]
        chk.flag("placements", before | after, "conversion_within_contract", "converted_on",
                 lambda i: [f"not after the start on {s}" if b else f"after the end on {e}" for b, s, e in
                            zip(before.to_numpy()[i], _d(c["started_on"].to_numpy()[i]),
                                _d(c["ended_on"].to_numpy()[i]))])

    # Identical rows (a double export, a pasted block).
    for t, src in raw.tables.items():
        cols = [c for c in src.frame.columns if c != ROW_COLUMN]
        if not cols or len(src.frame) < 2:
            continue
        keys = [c.name for c in TABLES[t].columns if c.unique and c.name in src.frame.columns]
        if keys and not any(f.rule == "unique" and f.table == t for f in unique_findings):
            continue  # rows with distinct identifiers cannot be identical: skip a costly pass
        dup = src.frame.duplicated(subset=cols, keep="first")
        if dup.any():
            # The row each repeat copies: grouped over the repeated rows only (usually few).
            involved = src.frame[src.frame.duplicated(subset=cols, keep=False)]
            first = involved.groupby(cols, sort=False)[ROW_COLUMN].transform("min")
            first_row = pd.Series(0, index=src.frame.index, dtype="int64")
            first_row[first.index] = first.to_numpy()
            chk.flag(t, dup, "duplicate_record", cols[0],
                     lambda i, first_row=first_row: [f"the whole row repeats row {r}"
                                                     for r in first_row.to_numpy()[i]])


# The characters XML 1.0 (and so XLSX) cannot hold, plus DEL: tab, line feed and carriage return
# are ordinary text.
_CONTROL_RE = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]"


def _controls(value: str) -> str:
    """The control characters of a value, as code points (``U+000B``)."""
    found = sorted({ch for ch in value if re.match(_CONTROL_RE, ch)})
    return ", ".join(f"U+{ord(ch):04X}" for ch in found)


# --------------------------------------------------------------------------------------------
# the report
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValidationReport:
    """Every finding for one data directory, plus the typed tables.

    Attributes
    ----------
    data_dir : pathlib.Path
    findings : tuple of Finding
        All of them, errors and warnings, sorted by table, rule and row.
    frames : dict
        Table name -> typed DataFrame (see :class:`ixl_eval.dataset.Dataset`); invalid values
        are NaT/NA there, missing tables are empty frames.
    extracted_on : datetime.date or None
    source : str or None
    sha256 : dict
    labels : dict
        Table name -> file label it was read from.
    omitted : dict
        ``(file, rule, severity)`` -> number of findings beyond the cap of findings per rule
        (limit ``findings_per_rule``): counted, not kept.
    """

    data_dir: Path
    findings: tuple = ()
    frames: dict = field(default_factory=dict)
    extracted_on: dt.date | None = None
    source: str | None = None
    sha256: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)
    omitted: dict = field(default_factory=dict)

    @property
    def n_errors(self) -> int:
        """Every error, those beyond the cap of findings per rule included."""
        return len(self.errors) + sum(n for k, n in self.omitted.items() if k[2] == "error")

    @property
    def n_warnings(self) -> int:
        return len(self.warnings) + sum(n for k, n in self.omitted.items() if k[2] == "warning")

    @property
    def errors(self) -> tuple:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple:
        return tuple(f for f in self.findings if f.severity == "warning")

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not any(f.severity == "error" for f in self.findings)

    @property
    def unreadable(self) -> bool:
        """True when the directory could not be read completely (a file is unreadable)."""
        return any(f.rule == "file_readable" for f in self.findings)

    def __repr__(self) -> str:
        return (f"<ValidationReport {self.data_dir} ok={self.ok} errors={len(self.errors)} "
                f"warnings={len(self.warnings)}>")

    def counts(self) -> list[dict]:
        """One row per (file, rule): how many findings, in report order."""
        c = Counter((f.file, f.rule, f.severity) for f in self.findings)
        c.update(self.omitted)
        return [{"file": k[0], "rule": k[1], "severity": k[2], "count": n} for k, n in c.items()]

    def _groups(self, severity: str) -> dict:
        groups: dict = {}
        for f in self.findings:
            if f.severity == severity:
                groups.setdefault(f.file, {}).setdefault(f.rule, []).append(f)
        return groups

    def format(self, max_rows: int = 50) -> str:
        """Readable text: findings grouped by file and rule, with counts.

        At most ``max_rows`` findings are shown per file and rule; all are counted.

        Examples
        --------
        >>> import tempfile
        >>> print(validate_dir(tempfile.mkdtemp()).format().splitlines()[-1])
        RESULT: NOT VALID / DATI NON VALIDI - 5 errors, 0 warnings.
        """
        lines = [f"Data directory: {self.data_dir}"]
        if self.extracted_on is not None:
            lines.append(f"Extract: {self.extracted_on:%Y-%m-%d} (source: {self.source or '?'})")
        if self.labels:
            lines.append("Read: " + "; ".join(f"{self.labels[t]} ({len(self.frames[t]):,} rows)"
                                              for t in TABLE_ORDER if t in self.labels))
        for severity, title in (("error", "ERRORS / ERRORI"),
                                ("warning", "WARNINGS / AVVISI (listed only, not fatal / solo segnalazioni)")):
            groups = self._groups(severity)
            if not groups:
                continue
            extra = {(k[0], k[1]): n for k, n in self.omitted.items() if k[2] == severity}
            n = sum(len(fs) for g in groups.values() for fs in g.values()) + sum(extra.values())
            lines += ["", f"{title}: {n:,}"]
            for file, by_rule in groups.items():
                lines.append(f"{file}")
                for rule, fs in by_rule.items():
                    r = _RULES[rule]
                    total = len(fs) + extra.get((file, rule), 0)
                    lines.append(f"  [{rule}] {total:,} x  {r.it} / {r.en}")
                    for f in fs[:max_rows]:
                        where = ", ".join(x for x in (f"row {f.row}" if f.row is not None else "", f.column) if x)
                        val = f" = {f.value!r}" if f.value not in (None, "") else ""
                        lines.append(f"    {where}{val}: {f.message}" if where else f"    {f.message}")
                    if total > min(max_rows, len(fs)):
                        lines.append(f"    ... and {total - min(max_rows, len(fs)):,} more")
        verdict = "VALID / DATI VALIDI" if self.ok else "NOT VALID / DATI NON VALIDI"
        if self.omitted:
            lines += ["", f"(Only the first {_limits.current().findings_per_rule:,} findings of each file and rule "
                          "are kept; all are counted. Limit findings_per_rule, see docs/limits.md.)"]
        lines += ["", f"RESULT: {verdict} - {_n(self.n_errors, 'error')}, {_n(self.n_warnings, 'warning')}."]
        return "\n".join(lines) + "\n"

    def to_json(self, max_rows: int | None = None) -> str:
        """Findings as JSON (``max_rows`` per file and rule if given), with per-rule counts."""
        shown, seen = [], Counter()
        for f in self.findings:
            seen[(f.file, f.rule)] += 1
            if max_rows is None or seen[(f.file, f.rule)] <= max_rows:
                shown.append(asdict(f))
        doc = {
            "data_dir": str(self.data_dir),
            "ok": self.ok,
            "extracted_on": None if self.extracted_on is None else self.extracted_on.isoformat(),
            "source": self.source,
            "n_errors": self.n_errors,
            "n_warnings": self.n_warnings,
            "counts": self.counts(),
            "findings": shown,
        }
        return json.dumps(doc, ensure_ascii=False, indent=1, default=str)

    def raise_if_invalid(self) -> Dataset:
        """Return the validated :class:`~ixl_eval.dataset.Dataset`, or raise on any error.

        Raises
        ------
        DataValidationError
            With ``.findings`` (errors and warnings) when there is at least one error.
        """
        if not self.ok:
            head = "; ".join(str(f) for f in self.errors[:3])
            more = f" (and {self.n_errors - 3:,} more)" if self.n_errors > 3 else ""
            raise DataValidationError(
                f"{self.data_dir}: the data break the data contract in {self.n_errors:,} place(s): "
                f"{head}{more}. Run `ixl-eval validate {self.data_dir}` for the full list.",
                findings=self.findings,
            )
        frames = {t: self.frames[t].copy() for t in TABLE_ORDER}
        for t in TABLE_ORDER:
            for c in TABLES[t].columns:
                if c.kind == "int":
                    frames[t][c.name] = frames[t][c.name].astype("int64")  # no NA once valid
        return Dataset(
            **frames,
            extracted_on=self.extracted_on,
            source=self.source,
            data_dir=self.data_dir,
            sha256=dict(self.sha256),
            warnings=self.warnings,
        )


def _n(k: int, noun: str) -> str:
    return f"{k:,} {noun}" + ("" if k == 1 else "s")


def _extract_findings(raw: RawData) -> tuple[list, dt.date | None, str | None]:
    if raw.extract is None:
        return [], None, None
    out, extracted_on = [], None
    spec = {c.name: c for c in EXTRACT_FIELDS}
    value = raw.extract.get("extracted_on", "")
    if value == "":
        out.append(_finding("not_null", EXTRACT_FILE, "'extracted_on: yyyy-mm-dd' is missing",
                            column="extracted_on", value="", table=EXTRACT_FILE))
    else:
        parsed, bad = parse_dates(pd.Series([value]))
        start = _limits.current().programme_start
        if bad.iloc[0] and _calendar_year(value) is not None:
            out.append(_finding("programme_window", EXTRACT_FILE,
                                f"{value!r} is a date in the year {_calendar_year(value)}, outside the programme "
                                f"window (from {start:%Y-%m-%d})", column="extracted_on", value=value,
                                table=EXTRACT_FILE))
        elif bad.iloc[0]:
            out.append(_finding("type", EXTRACT_FILE, f"{value!r} {_TYPE_HINT[spec['extracted_on'].kind]}",
                                column="extracted_on", value=value, table=EXTRACT_FILE))
        else:
            extracted_on = parsed.iloc[0].date()
            # One day of slack: an extract made this evening in Bologna is "tomorrow" on a
            # machine whose clock runs behind. Beyond that, every estimate would be censored at
            # an impossible date.
            today = dt.date.today()
            if extracted_on > today + dt.timedelta(days=1):
                out.append(_finding("extract_not_in_future", EXTRACT_FILE,
                                    f"{extracted_on:%Y-%m-%d} is in the future (today is {today:%Y-%m-%d}): "
                                    "write the date the data were extracted", column="extracted_on", value=value,
                                    table=EXTRACT_FILE))
            elif extracted_on < start:
                out.append(_finding("programme_window", EXTRACT_FILE,
                                    f"{extracted_on:%Y-%m-%d} is before the programme started ({start:%Y-%m-%d})",
                                    column="extracted_on", value=value, table=EXTRACT_FILE))
    source = raw.extract.get("source", "")
    if source == "":
        out.append(_finding("not_null", EXTRACT_FILE, "'source: ...' is missing (e.g. the partner's system)",
                            column="source", value="", table=EXTRACT_FILE))
    return out, extracted_on, source or None


_LINE_RE = re.compile(r"\b(?:line|row) (\d+)\b")


def validate_raw(raw: RawData) -> ValidationReport:
    """Validate what :func:`ixl_eval.io.read_data_dir` read (see :func:`validate_dir`)."""
    findings = _Findings(_limits.current().findings_per_rule)
    for table, message in raw.missing.items():
        findings.append(_finding("file_present", table, f"not found: {message}",
                                 table=table))
    for table, labels in raw.duplicates.items():
        findings.append(_finding("file_present", ", ".join(labels),
                                 f"'{table}' found {len(labels)} times ({', '.join(labels)}): keep exactly one",
                                 table=table))
    for label, reason in raw.unreadable.items():
        m = _LINE_RE.search(reason)
        table = next((t for t in (*TABLE_ORDER, EXTRACT_FILE) if label.lower().startswith(t)
                      or label.lower().endswith(f"[{t}]")), None)
        findings.append(_finding("file_readable", label, f"cannot be read: {reason}",
                                 row=int(m.group(1)) if m else None, table=table))

    extract_findings, extracted_on, source = _extract_findings(raw)
    findings += extract_findings

    typed, usable = {}, {}
    for t in TABLE_ORDER:
        table, src = TABLES[t], raw.tables.get(t)
        typed[t], invalid = _typed(src, table)
        if src is None:
            usable[t] = set()
            continue
        text = src.frame.drop(columns=[ROW_COLUMN]).replace("", None)
        _column_findings(src, table, text, invalid, findings)
        usable[t] = {c.name for c in table.columns if c.name in src.frame.columns}
    _cross_findings(raw, typed, extracted_on, usable, findings)

    findings.sort(key=lambda f: (_TABLE_RANK.get(f.table, 99), f.file, _RULE_ORDER[f.rule],
                                 -1 if f.row is None else f.row, f.column or ""))
    return ValidationReport(
        data_dir=raw.data_dir,
        findings=tuple(findings),
        frames=typed,
        extracted_on=extracted_on,
        source=source,
        sha256=dict(raw.sha256),
        labels={t: r.label for t, r in raw.tables.items()},
        omitted=dict(findings.omitted),
    )


def validate_dir(data_dir=None) -> ValidationReport:
    """Read a data directory and check everything; collect all problems.

    Parameters
    ----------
    data_dir : path-like, optional
        Defaults to the bundled synthetic data (:func:`ixl_eval.paths.resolve_data_dir`).

    Returns
    -------
    ValidationReport
        ``.ok`` tells whether the data may be analysed; ``.raise_if_invalid()`` gives the Dataset.

    Raises
    ------
    DataLoadError
        The directory does not exist or is not a directory.
    """
    return validate_raw(read_data_dir(resolve_data_dir(data_dir)))


def main_validate(data_dir, max_rows: int = 50, as_json: bool = False) -> int:
    """``ixl-eval validate``: print the report; return 0 valid, 3 invalid, 2 unreadable."""
    try:
        report = validate_dir(data_dir)
    except DataLoadError as e:
        print(f"ixl-eval: error: {e}", file=sys.stderr)
        return DataLoadError.exit_code
    sys.stdout.write(report.to_json(max_rows) + "\n" if as_json else report.format(max_rows))
    if report.ok:
        return 0
    return DataLoadError.exit_code if report.unreadable else DataValidationError.exit_code


# --------------------------------------------------------------------------------------------
# the contract as Markdown
# --------------------------------------------------------------------------------------------

_INTRO = """\
# Data contract / Contratto dei dati

<!-- Generated by `ixl-eval contract docs --out docs/data-contract.md` from ixl_eval/contract.py.
     Do not edit by hand: change the contract and regenerate (a test checks the two agree). -->

This page is the contract between the partners' data teams and ixl-eval: what a data directory
must hold for `ixl-eval validate DATA_DIR` to accept it. It is generated from
`ixl_eval/contract.py`, the one definition the validator enforces.

## How to export

A data directory holds the four tables below plus `extract.yaml`:

```yaml
extracted_on: 2024-04-30   # the data cut-off, yyyy-mm-dd
source: gestionale IXL     # free text; "synthetic" marks generated data
```

Each table is present exactly once, in one of these forms:

- **CSV**, one file per table (`participants.csv`, `interviews.csv`, `programmes.csv`,
  `placements.csv`). Both the international style (`,` separator, `yyyy-mm-dd` dates) and the
  Italian office style (`;` separator, `dd/mm/yyyy` dates, as Excel and LibreOffice save "CSV" in
  Italy) are read; encodings UTF-8 (with or without BOM) and Windows-1252, decided per file and
  never mixed: a file that is UTF-8 except in one row is refused with that row named, unless
  `extract.yaml` states the encoding of every file (`encoding: windows-1252`).
- **XLSX**, one workbook (e.g. `ixl-data.xlsx`) with one sheet per table, named like the table.
  Date cells or text dates in either format are accepted.
- **Parquet**, one file per table (`participants.parquet`, ...).

The first row holds the column names below (extra columns are allowed: they are kept but never
shown in outputs). Empty cells are missing values; only columns marked nullable may have them.
Findings name the file (or `workbook.xlsx[sheet]`), the row as a spreadsheet shows it (the header
is row 1, the first record row 2; in Parquet, row n is the (n-1)-th record), the column, the
value and the rule broken. Errors make the data
invalid and no analysis runs on them; warnings are listed only. At most 1,000 findings are kept
per file and rule; the others are counted.

Files are checked against size limits before they are parsed (file size, rows, XLSX dimension and
uncompressed size, size of `extract.yaml`; anchors and aliases are not allowed in YAML). A file
over a limit is refused with the limit named; `--limit NAME=VALUE` raises it (see
`docs/limits.md`). Dates must lie between the start of the programme (`programme_start`,
default 2017-01-01) and the extraction date, which may not be in the future.

The bundled synthetic data (`ixl-eval synth`) have `source: synthetic`; every report made from
them says so in its banner.

Questa pagina è il contratto tra i referenti dati dei partner e ixl-eval. Per ogni tabella: colonne,
tipo, valori ammessi, se può essere vuota e il significato. Separatore `;` e date `gg/mm/aaaa`
(come salva Excel in italiano) sono accettati.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _type_label(c) -> str:
    return {"str": "text", "date": "date", "int": "integer", "category": "category"}[c.kind]


def _allowed_label(c) -> str:
    if c.allowed is not None:
        return ", ".join(f"`{a}`" for a in c.allowed)
    if c.pattern is not None:
        return f"format `{c.pattern}`"
    if c.kind == "date":
        return "`yyyy-mm-dd` or `dd/mm/yyyy`"
    return ""


def _column_table(columns) -> list[str]:
    lines = [
        "| column | type | allowed values | nullable | unique | required | significato | meaning |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in columns:
        lines.append(
            f"| `{c.name}` | {_type_label(c)} | {_cell(_allowed_label(c))} | {'yes' if c.nullable else 'no'} "
            f"| {'yes' if c.unique else 'no'} | {'yes' if c.required else 'no (optional column)'} "
            f"| {_cell(c.it)} | {_cell(c.en)} |"
        )
    return lines


def render_contract_docs() -> str:
    """The data contract as Markdown, generated from :mod:`ixl_eval.contract`.

    Examples
    --------
    >>> text = render_contract_docs()
    >>> "## participants" in text and "`plausible_birth_year`" in text
    True
    """
    lines = [_INTRO.rstrip("\n"), ""]
    for name in TABLE_ORDER:
        t = TABLES[name]
        lines += [f"## {name}", "", f"{t.it}. / {t.en}.", ""]
        lines += _column_table(t.columns)
        lines.append("")
    lines += ["## extract.yaml", "", "Metadati dell'estrazione. / Extract metadata.", ""]
    lines += _column_table(EXTRACT_FIELDS)
    lines += ["", "## Rules / Regole", "",
              "Every rule below is checked by `ixl-eval validate`. / Ogni regola è verificata da "
              "`ixl-eval validate`.", "",
              "| rule | severity | tables | regola | rule (en) |", "|---|---|---|---|---|"]
    for r in RULES:
        tables = ", ".join(r.tables) if r.tables else "all"
        lines.append(f"| `{r.id}` | {r.severity} | {tables} | {_cell(r.it)} | {_cell(r.en)} |")
    identifiers = ", ".join(f"`{t}.{c}`" for t, c in contract.IDENTIFIER_COLUMNS)
    lines += ["", "## Identifiers / Identificativi", "",
              f"These columns identify a person or a business and never appear in any output: {identifiers}.",
              "Queste colonne identificano una persona o un'azienda e non compaiono mai nei risultati.", ""]
    return "\n".join(lines)
