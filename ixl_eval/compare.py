"""What changed since the previous run: estimates and data, for ``changes.json`` and ``index.html``.

Every quarter the suite is rerun on a new extract. :func:`compare_runs` sets the new run beside an
earlier one (the runner passes ``--compare-to`` or the latest earlier complete run of the same
parameter set) and answers the two questions policy staff ask first:

* **Estimates.** Every record of ``results.json``, matched on ``(notebook, key)``: previous and
  current value and confidence interval, absolute and relative change, and a flag when

  - ``outside_ci``: the current value lies outside the previous 95% interval, or the previous
    value lies outside the current interval (strictly outside: a value on a bound is inside; only
    assessed where the interval exists), or
  - ``over_threshold``: ``|current - previous| / |previous|`` exceeds the relative threshold
    (default 10%, strictly greater); when the previous value is 0 the relative change is
    undefined (null) and any change is over the threshold; a non-numeric value (text) is flagged
    whenever it differs.

  Suppressed values (null in ``results.json``) are reported as suppressed, never reconstructed
  and never compared. Records only in one run are ``added`` or ``removed`` when the notebook ran
  in both runs, ``not_compared`` when the notebook did not run (or failed) in the other one.
* **Data.** Record by record between the two extracts, counts only (never an identifier): per
  table, records added, removed and revised (same key, different content), revisions split into
  ``completed`` (only empty fields filled in, e.g. an end date) and ``corrected`` (a recorded value
  changed or erased), each by quarter of the record's date; changes dated within the period the
  previous extract covered are retroactive (:data:`RECORD_KEYS`, :data:`PERIOD_COLUMNS`). When the
  previous extract is gone or its files no longer match the SHA-256 digests of its manifest, the
  record-level comparison is impossible: ``changes.json`` says why and compares the number of
  records per table and quarter (:func:`rows_by_quarter`, kept in every manifest) instead.

The HTML fragment shown in ``index.html`` is in the run's language and shows data-change counts
below the run's disclosure threshold as ``"<k"``. ``docs/comparing-runs.md`` documents the file.

Examples
--------
>>> prev = [{"notebook": "nb", "key": "share", "value": 0.40, "ci_low": 0.36, "ci_high": 0.44,
...          "n": 600, "unit": "share", "label_it": "Quota", "label_en": "Share"}]
>>> now = [dict(prev[0], value=0.47, ci_low=0.43, ci_high=0.51)]
>>> est = compare_estimates(prev, now)
>>> r = est["records"][0]
>>> r["status"], r["abs_change"], r["outside_ci"], r["over_threshold"], r["reasons"]
('changed', 0.07, True, True, ['outside_ci', 'over_threshold'])
>>> est["summary"]["flagged"]
1
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from pathlib import Path

import pandas as pd

from . import disclosure

from .report import present
from .contract import TABLE_ORDER, TABLES
from .io import file_sha256
from .paths import resolve_data_dir
from .exceptions import DataLoadError, DataValidationError, RunError

__all__ = [
    "DEFAULT_REL_THRESHOLD",
    "RECORD_KEYS",
    "PERIOD_COLUMNS",
    "compare_runs",
    "compare_estimates",
    "compare_extracts",
    "rows_by_quarter",
]

DEFAULT_REL_THRESHOLD = 0.10
SCHEMA_VERSION = 1

# The columns that identify one record of each table across two extracts. Interviews and
# programmes have no identifier of their own: a composite of person, date (and programme) stands
# in, so a corrected interview format or programme decision is a revision, while a corrected date
# shows as one record removed and one added. Records sharing a key are matched in order of their
# content (and counted under `duplicate_keys`), so no record is ever left out.
RECORD_KEYS: dict[str, tuple[str, ...]] = {
    "participants": ("participant_id",),
    "interviews": ("participant_id", "interviewed_on"),
    "programmes": ("participant_id", "programme", "offered_on"),
    "placements": ("placement_id",),
}

# The date that places a record in a quarter: the event the programme's quarterly figures count.
PERIOD_COLUMNS: dict[str, str] = {
    "participants": "enrolled_on",
    "interviews": "interviewed_on",
    "programmes": "offered_on",
    "placements": "started_on",
}

_UNDATED = "undated"
_TABLE_NAMES = {
    "participants": ("Iscritti", "Enrolled people"),
    "interviews": ("Colloqui di accoglienza", "Intake interviews"),
    "programmes": ("Percorsi proposti", "Programmes offered"),
    "placements": ("Inserimenti lavorativi", "Job placements"),
}
_SHARE_UNITS = frozenset({"share", "proportion"})
_MAX_HTML_ROWS = 30


# ----------------------------------------------------------------------------- estimates


def _num(x) -> float | None:
    """A record value as a float, or None when it is not a number (null, text, yes/no)."""
    if x is None or isinstance(x, bool):
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) or math.isinf(f) else f


def _round(x: float | None) -> float | None:
    # 10 significant digits, as results.json: 0.47 - 0.40 is 0.07, not 0.06999999999999995.
    return None if x is None else float(f"{x:.10g}")


def _outside(value: float | None, lo, hi) -> bool | None:
    lo, hi = _num(lo), _num(hi)
    if value is None or lo is None or hi is None:
        return None
    return value < lo or value > hi


def _side(r: dict | None) -> dict | None:
    return None if r is None else {f: r.get(f) for f in ("value", "ci_low", "ci_high", "n")}


def _compare_record(p: dict | None, c: dict | None, rel_threshold: float, ran_before: bool,
                    ran_now: bool) -> dict:
    ref = c if c is not None else p
    out = {
        "notebook": ref["notebook"], "key": ref["key"], "status": None, "unit": ref.get("unit", ""),
        "label_it": ref.get("label_it", ""), "label_en": ref.get("label_en", ""),
        "previous": _side(p), "current": _side(c),
        "abs_change": None, "rel_change": None, "outside_ci": None, "over_threshold": None,
        "flagged": False, "reasons": [],
    }
    if p is None:
        out["status"] = "added" if ran_before else "not_compared"
        return out
    if c is None:
        out["status"] = "removed" if ran_now else "not_compared"
        return out
    if p.get("value") is None or c.get("value") is None:
        out["status"] = "suppressed"  # withheld on at least one side: never compared, never rebuilt
        return out
    same = all(p.get(f) == c.get(f) for f in ("value", "ci_low", "ci_high"))
    out["status"] = "unchanged" if same else "changed"
    pv, cv = _num(p["value"]), _num(c["value"])
    if pv is None or cv is None:  # text or yes/no values: flagged whenever they differ
        out["over_threshold"] = p["value"] != c["value"]
        out["reasons"] = ["value_changed"] if out["over_threshold"] else []
        out["flagged"] = bool(out["reasons"])
        return out
    diff = cv - pv
    out["abs_change"] = _round(diff)
    out["rel_change"] = None if pv == 0 else _round(diff / abs(pv))
    now_out, before_out = _outside(cv, p.get("ci_low"), p.get("ci_high")), _outside(pv, c.get("ci_low"), c.get("ci_high"))
    out["outside_ci"] = None if now_out is None and before_out is None else bool(now_out or before_out)
    # compared after rounding, so that 0.40 -> 0.44 is +10% exactly, not 10.000000000000009%
    out["over_threshold"] = (diff != 0) if pv == 0 else abs(out["rel_change"]) > rel_threshold
    out["reasons"] = [r for r in ("outside_ci", "over_threshold") if out[r]]
    out["flagged"] = bool(out["reasons"])
    return out


def compare_estimates(previous: list[dict], current: list[dict], rel_threshold: float = DEFAULT_REL_THRESHOLD,
                      *, notebooks_before=None, notebooks_now=None) -> dict:
    """Match two ``results.json`` record lists on ``(notebook, key)`` and flag large changes.

    Parameters
    ----------
    previous, current : list of dict
        Result records (``results.json`` of each run).
    rel_threshold : float
        Relative change above which an estimate is flagged (0.10 means 10%).
    notebooks_before, notebooks_now : iterable of str, optional
        Notebooks that ran successfully in each run. A record missing from a run whose notebook
        did not run there is ``not_compared`` rather than ``added``/``removed``. Default: the
        notebooks that have records in that run.

    Returns
    -------
    dict
        ``summary`` (counts by status and flag, the threshold) and ``records`` (one per
        ``(notebook, key)``, sorted), as described in the module docstring.

    Examples
    --------
    >>> a = [{"notebook": "nb", "key": "n", "value": 100, "unit": "people"}]
    >>> b = [{"notebook": "nb", "key": "n", "value": 108, "unit": "people"},
    ...      {"notebook": "nb", "key": "m", "value": None, "unit": "people"}]
    >>> s = compare_estimates(a, b)["summary"]
    >>> s["changed"], s["flagged"], s["added"]
    (1, 0, 1)
    >>> compare_estimates(a, b, rel_threshold=0.05)["summary"]["flagged_threshold"]
    1
    """
    if not rel_threshold >= 0:
        raise ValueError(f"rel_threshold must be a non-negative share, not {rel_threshold!r}")
    prev = {(r["notebook"], r["key"]): r for r in previous}
    now = {(r["notebook"], r["key"]): r for r in current}
    before = set(notebooks_before) if notebooks_before is not None else {k[0] for k in prev}
    after = set(notebooks_now) if notebooks_now is not None else {k[0] for k in now}
    records = [_compare_record(prev.get(k), now.get(k), rel_threshold, k[0] in before, k[0] in after)
               for k in sorted(set(prev) | set(now))]
    summary = {"relative_threshold": rel_threshold, "records": len(records)}
    for status in ("unchanged", "changed", "suppressed", "added", "removed", "not_compared"):
        summary[status] = sum(r["status"] == status for r in records)
    summary["compared"] = summary["unchanged"] + summary["changed"]
    summary["flagged"] = sum(r["flagged"] for r in records)
    summary["flagged_ci"] = sum(bool(r["outside_ci"]) for r in records)
    summary["flagged_threshold"] = sum(bool(r["over_threshold"]) for r in records)
    return {"summary": summary, "records": records}


# ---------------------------------------------------------------------------------- data


def _quarter(dates: pd.Series) -> pd.Series:
    q = pd.to_datetime(dates).dt.to_period("Q").astype(str)
    return q.where(dates.notna(), _UNDATED)


def rows_by_quarter(ds) -> dict:
    """Number of records of each table by quarter of its date (:data:`PERIOD_COLUMNS`).

    Kept in every run's manifest, so a later run can still compare aggregate counts when the
    extract itself is gone.

    Parameters
    ----------
    ds : Dataset

    Returns
    -------
    dict
        ``{table: {"2023Q4": n, ...}}``, quarters in order; ``"undated"`` counts records without
        the date.

    Examples
    --------
    >>> import types, pandas as pd
    >>> empty = {t: pd.DataFrame({c: pd.Series([], dtype="datetime64[ns]") for c in PERIOD_COLUMNS.values()})
    ...          for t in PERIOD_COLUMNS}
    >>> empty["placements"] = pd.DataFrame({"started_on": pd.to_datetime(["2023-11-02", "2024-01-15", None])})
    >>> rows_by_quarter(types.SimpleNamespace(table=empty.get))["placements"]
    {'2023Q4': 1, '2024Q1': 1, 'undated': 1}
    """
    out = {}
    for t in TABLE_ORDER:
        counts = _quarter(ds.table(t)[PERIOD_COLUMNS[t]]).value_counts()
        out[t] = {str(q): int(counts[q]) for q in sorted(counts.index)}
    return out


def _canonical(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Every compared column as text (dates ISO, empty as ""), so equal values compare equal."""
    out = {}
    for c in columns:
        s = df[c]
        if pd.api.types.is_datetime64_any_dtype(s):
            out[c] = s.dt.strftime("%Y-%m-%d").fillna("")
        else:
            out[c] = s.astype("string").fillna("").astype(object)
    return pd.DataFrame(out, index=df.index)


def _keyed(df: pd.DataFrame, key: list[str], content: list[str], period: str) -> tuple[pd.DataFrame, int]:
    """Canonical table with an occurrence number making the key unique; and the duplicated records."""
    can = _canonical(df, key + content)
    can["_date"] = df[period].to_numpy()
    can = can.sort_values(key + content, kind="stable")
    can["_occ"] = can.groupby(key, sort=False).cumcount()
    dups = int(can.duplicated(key, keep=False).sum())
    return can.set_index(key + ["_occ"]), dups


def _closed(quarter: str, previous_extract: pd.Timestamp) -> bool:
    """A quarter is closed when it had ended by the previous extraction date: already reported."""
    if quarter == _UNDATED:
        return False
    return pd.Period(quarter, "Q").end_time.normalize() <= previous_extract


def _table_changes(t: str, prev: pd.DataFrame, now: pd.DataFrame, previous_extract: pd.Timestamp) -> dict:
    key = list(RECORD_KEYS[t])
    period = PERIOD_COLUMNS[t]
    contract = [c.name for c in TABLES[t].columns]
    content = [c for c in contract if c not in key and c in prev.columns and c in now.columns]
    a, dup_a = _keyed(prev, key, content, period)
    b, dup_b = _keyed(now, key, content, period)
    both = a.index.intersection(b.index)
    removed = a.loc[a.index.difference(b.index)]
    added = b.loc[b.index.difference(a.index)]
    pa, pb = a.loc[both, content], b.loc[both, content]
    differs = pa.ne(pb)
    revised = differs.any(axis=1)
    # A revision that only fills in empty fields (an end date, a conversion) is the record
    # catching up with events; one that changes or erases a recorded value is a correction.
    corrected_cells = differs & pa.ne("")
    corrected = corrected_cells.any(axis=1)
    rev_dates = a.loc[both, "_date"]

    frames = {
        "added": added["_date"],
        "removed": removed["_date"],
        "revised": rev_dates[revised.to_numpy()],
        "corrected": rev_dates[corrected.to_numpy()],
    }
    # Removed and revised records are placed by their previous date (the figure already reported
    # changes), added ones by their current date.
    by_q: dict[str, dict] = {}
    before = {}
    for kind, dates in frames.items():
        dates = pd.Series(dates.to_numpy(), dtype="datetime64[ns]")
        before[kind] = int((dates <= previous_extract).sum())
        for q, n in _quarter(dates).value_counts().items():
            by_q.setdefault(str(q), {"closed": _closed(str(q), previous_extract), "added": 0, "removed": 0,
                                     "revised": 0, "corrected": 0})[kind] = int(n)
    by_q = {q: by_q[q] for q in sorted(by_q)}
    return {
        "key": key,
        "date_column": period,
        "columns_compared": content,
        "columns_only_in_previous": [c for c in contract if c in prev.columns and c not in now.columns],
        "columns_only_in_current": [c for c in contract if c in now.columns and c not in prev.columns],
        "previous_records": int(len(prev)),
        "current_records": int(len(now)),
        "duplicate_keys": {"previous": dup_a, "current": dup_b},
        "unchanged": int((~revised).sum()),
        "added": int(len(added)),
        "removed": int(len(removed)),
        "revised": int(revised.sum()),
        "completed": int((revised & ~corrected).sum()),
        "corrected": int(corrected.sum()),
        "revised_columns": {c: int(differs[c].sum()) for c in content if differs[c].any()},
        "before_previous_extract": before,
        "in_closed_quarters": {k: sum(v[k] for v in by_q.values() if v["closed"])
                               for k in ("added", "removed", "revised", "corrected")},
        "by_quarter": by_q,
    }


def compare_extracts(previous, current) -> dict:
    """Record-by-record changes between two extracts, as counts (no identifier leaves here).

    Parameters
    ----------
    previous, current : Dataset
        The extracts of the previous and of the current run.

    Returns
    -------
    dict
        ``{"method": "records", "previous_extracted_on", "current_extracted_on", "tables":
        {table: {...}}}``; each table: ``added``, ``removed``, ``revised`` (= ``completed`` +
        ``corrected``), ``unchanged``, ``revised_columns``, ``before_previous_extract`` (records
        dated on or before the previous extraction date: late entries among the added ones,
        retroactive removals and revisions), ``in_closed_quarters`` and ``by_quarter`` (quarters
        with any change; ``closed``: the quarter had ended by the previous extraction date).

    Examples
    --------
    >>> import types, pandas as pd
    >>> cols = {c.name: pd.Series([], dtype="datetime64[ns]" if c.kind == "date" else object)
    ...         for t in TABLES.values() for c in t.columns}
    >>> def ds(when, placements):
    ...     tabs = {t: pd.DataFrame({c.name: cols[c.name] for c in TABLES[t].columns}) for t in TABLES}
    ...     tabs["placements"] = placements
    ...     return types.SimpleNamespace(table=tabs.get, extracted_on=pd.Timestamp(when).date())
    >>> p = pd.DataFrame({c.name: ["x"] * 2 for c in TABLES["placements"].columns})
    >>> p["placement_id"] = ["C1", "C2"]
    >>> for c in ("started_on", "ended_on", "converted_on"):
    ...     p[c] = pd.to_datetime(["2023-05-02", "2023-11-20"])
    >>> q = p.copy()
    >>> q.loc[1, "contract_type"] = "permanent"
    >>> t = compare_extracts(ds("2023-12-31", p), ds("2024-03-31", q))["tables"]["placements"]
    >>> t["revised"], t["corrected"], t["by_quarter"]["2023Q4"]["corrected"], t["revised_columns"]
    (1, 1, 1, {'contract_type': 1})
    """
    prev_date = pd.Timestamp(previous.extracted_on)
    return {
        "method": "records",
        "previous_extracted_on": str(previous.extracted_on),
        "current_extracted_on": str(current.extracted_on),
        "tables": {t: _table_changes(t, previous.table(t), current.table(t), prev_date) for t in TABLE_ORDER},
    }


def _compare_counts(prev_counts: dict | None, prev_rows: dict, now_counts: dict, previous_extract) -> dict:
    """Fallback: records per table and quarter, previous vs current (net differences only)."""
    tables = {}
    prev_date = pd.Timestamp(previous_extract)
    for t in TABLE_ORDER:
        now_q = now_counts.get(t, {})
        cur = int(sum(now_q.values()))
        prev_total = prev_rows.get(t)
        entry = {"previous_records": prev_total, "current_records": cur,
                 "difference": None if prev_total is None else cur - int(prev_total), "by_quarter": None,
                 "closed_quarters_changed": None, "closed_quarters_net_difference": None}
        if prev_counts is not None and t in prev_counts:
            pq = prev_counts[t]
            rows = {}
            for q in sorted(set(pq) | set(now_q)):
                a, b = int(pq.get(q, 0)), int(now_q.get(q, 0))
                if a != b:
                    rows[q] = {"closed": _closed(q, prev_date), "previous": a, "current": b, "difference": b - a}
            entry["by_quarter"] = rows
            closed = [v for v in rows.values() if v["closed"]]
            entry["closed_quarters_changed"] = len(closed)
            entry["closed_quarters_net_difference"] = sum(v["difference"] for v in closed)
        tables[t] = entry
    return {"method": "aggregate_counts", "tables": tables}


# ----------------------------------------------------------------------------------- runs


def _read_json(path: Path, what: str):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(f"{what}: {path} does not exist") from None
    except (OSError, ValueError) as e:
        raise RunError(f"{what}: {path} cannot be read ({e})") from None


def _run_info(m: dict) -> dict:
    p, d = m.get("params", {}), m.get("data", {})
    return {
        "run_id": m.get("run_id"), "status": m.get("status"), "params_name": p.get("name"),
        "extracted_on": d.get("extracted_on"), "cutoff": m.get("cutoff_used"), "data_source": d.get("source"),
        "synthetic": d.get("synthetic"), "code_commit": (m.get("code") or {}).get("commit"),
        "code_version": (m.get("code") or {}).get("version"),
    }


def _flat(d, prefix="") -> dict:
    if not isinstance(d, dict):
        return {prefix: d}
    out = {}
    for k, v in d.items():
        out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
    return out


def _params_changed(a: dict, b: dict) -> list[str]:
    fa, fb = _flat(a), _flat(b)
    return sorted(k for k in set(fa) | set(fb) if fa.get(k, "<absent>") != fb.get(k, "<absent>"))


def _ok_notebooks(m: dict) -> set:
    return {n["key"] for n in m.get("notebooks", []) if n.get("status") == "ok"}



def _previous_extract(pdata: dict) -> tuple:
    """The previous extract if it is still exactly what that run read; else None and why."""
    from .dataset import load_dataset

    ddir = pdata.get("dir")
    check = {"dir": ddir, "readable": False, "hashes_match": False, "files_changed": [], "files_missing": [],
             "files_added": []}
    if not ddir:
        return None, "no_data_dir_in_previous_manifest", check
    # Manifests record the folder relative to the repository (older ones: absolute).
    ddir, want = resolve_data_dir(ddir), pdata.get("sha256") or {}
    if not ddir.is_dir():
        return None, "previous_extract_unreadable", check
    # The digests first: an overwritten folder is "changed", whatever its new content is worth.
    check["files_missing"] = sorted(f for f in want if not (ddir / f).is_file())
    check["files_changed"] = sorted(f for f in want if (ddir / f).is_file() and file_sha256(ddir / f) != want[f])
    if not want or check["files_missing"] or check["files_changed"]:
        return None, "previous_extract_changed", check
    try:
        ds = load_dataset(ddir)
    except DataLoadError:
        return None, "previous_extract_unreadable", check
    except DataValidationError:
        return None, "previous_extract_invalid", check
    check["readable"] = True
    check["files_added"] = sorted(f for f in ds.sha256 if f not in want)  # e.g. a second source for a table
    if check["files_added"]:
        return None, "previous_extract_changed", check
    check["hashes_match"] = True
    return ds, None, check


def _data_changes(prev_m: dict, new_m: dict) -> dict:
    """Record-level comparison when the previous extract is intact; aggregate counts otherwise."""
    from .dataset import load_dataset

    pdata, ndata = prev_m.get("data", {}), new_m.get("data", {})
    previous, reason, check = _previous_extract(pdata)
    out = {"status": reason or "compared", "previous_extract": check, "current_extract_matches_manifest": None}
    if reason is None or "rows_by_quarter" not in ndata:
        current = load_dataset(ndata["dir"])
        out["current_extract_matches_manifest"] = current.sha256 == ndata.get("sha256")
        now_counts, now_date = (rows_by_quarter(current) if reason else None), str(current.extracted_on)
    else:  # the counts are all the fallback needs, and this run's manifest has them
        now_counts, now_date = ndata["rows_by_quarter"], ndata.get("extracted_on")
    if reason is None:
        out.update(compare_extracts(previous, current))
    else:
        out.update(_compare_counts(pdata.get("rows_by_quarter"), pdata.get("rows") or {}, now_counts,
                                   pdata.get("extracted_on") or "1900-01-01"))
        out["previous_extracted_on"] = pdata.get("extracted_on")
        out["current_extracted_on"] = now_date
    return out


def _titles(run_dirs, lang: str) -> dict:
    titles = {}
    for d in run_dirs:
        for p in sorted((Path(d) / "fragments").glob("*.json")):
            try:
                f = json.loads(p.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            titles.setdefault(p.stem, f.get(f"title_{lang}") or f.get("title_it") or p.stem)
    return titles


def compare_runs(prev_dir, new_dir, *, rel_threshold: float = DEFAULT_REL_THRESHOLD) -> str:
    """Compare a run with an earlier one: write ``changes.json`` into ``new_dir``, return HTML.

    Parameters
    ----------
    prev_dir : path-like
        The earlier run folder (``manifest.json`` and ``results.json`` are read).
    new_dir : path-like
        The run folder being built; its ``manifest.json`` and ``results.json`` must exist (the
        runner writes both before calling this).
    rel_threshold : float
        Relative change above which an estimate is flagged (default :data:`DEFAULT_REL_THRESHOLD`).

    Returns
    -------
    str
        The section of ``index.html``, in the run's language, data-change counts below the run's
        disclosure threshold shown as ``"<k"``.

    Raises
    ------
    RunError
        A manifest or ``results.json`` of either run is missing or unreadable.
    """
    prev_dir, new_dir = Path(prev_dir), Path(new_dir)
    prev_m = _read_json(prev_dir / "manifest.json", "previous run")
    new_m = _read_json(new_dir / "manifest.json", "current run")
    prev_r = _read_json(prev_dir / "results.json", "previous run")
    new_r = _read_json(new_dir / "results.json", "current run")
    lang = new_m.get("params", {}).get("lang", "it")
    k = int(new_m.get("params", {}).get("disclosure_threshold", 10))

    def without_data_dir(p):
        return {key: v for key, v in (p or {}).items() if key != "data_dir"}

    changes = {
        "schema_version": SCHEMA_VERSION,
        "previous_run": prev_m.get("run_id") or prev_dir.name,
        "current_run": new_m.get("run_id") or new_dir.name,
        "previous": _run_info(prev_m),
        "current": _run_info(new_m),
        "parameters_changed": _params_changed(without_data_dir(prev_m.get("params")),
                                              without_data_dir(new_m.get("params"))),
        "code_changed": _run_info(prev_m)["code_commit"] != _run_info(new_m)["code_commit"],
        "estimates": compare_estimates(prev_r, new_r, rel_threshold, notebooks_before=_ok_notebooks(prev_m),
                                       notebooks_now=_ok_notebooks(new_m)),
        "data": _data_changes(prev_m, new_m),
    }
    (new_dir / "changes.json").write_text(json.dumps(changes, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return _html(changes, lang, k, _titles([new_dir, prev_dir], lang))


# ------------------------------------------------------------------------------------ HTML


def _date(iso, lang: str) -> str:
    if not iso:
        return "–"
    d = dt.date.fromisoformat(str(iso)[:10])
    return f"{d:%d/%m/%Y}" if lang == "it" else d.isoformat()


def _quarter_label(q: str, lang: str) -> str:
    if q == _UNDATED:
        return present.tr(lang, "senza data", "undated")
    y, n = q.split("Q")
    return f"{n}° trimestre {y}" if lang == "it" else f"Q{n} {y}"


def _count_unit(unit: str) -> bool:
    from .report import COUNT_UNITS  # late: report loads the plotting stack

    return unit in COUNT_UNITS


def _fmt_threshold(thr: float, lang: str) -> str:
    pct = 100 * thr
    return present.fmt_num(pct, lang, 0 if float(_round(pct)).is_integer() else 1) + "%"


# Period qualifiers of result keys (`placements__quarter=2024Q1`), which the labels leave out.
# Category qualifiers (`__gender=F`) are already in the labels ("Iscritti: Donne").
_PERIOD_QUALIFIERS = {
    "year": lambda v, lang: v,
    "quarter": _quarter_label,
    "ytd": lambda v, lang: present.tr(lang, f"{v} da inizio anno", f"{v} year to date"),
}


def _label(r: dict, lang: str) -> str:
    label = r.get(f"label_{lang}") or r.get("label_it")
    if not label:
        return r["key"]
    periods = []
    for q in r["key"].split("__")[1:]:
        col, _, level = q.partition("=")
        if col in _PERIOD_QUALIFIERS:
            periods.append(_PERIOD_QUALIFIERS[col](level, lang))
    return f"{label} ({', '.join(periods)})" if periods else label


def _fmt_value(v, unit: str, lang: str, k: int) -> str:
    if v is None:
        return present.tr(lang, "oscurato", "withheld")
    f = _num(v)
    if f is None:
        return str(v)
    if _count_unit(unit):
        return disclosure.format_count(f, k, lang)  # the current threshold, even for last run's counts
    if unit in _SHARE_UNITS:
        return present.fmt_pct(f, lang, 1)
    return present.fmt_num(f, lang, 0 if f.is_integer() else 2)


def _fmt_change(r: dict, lang: str, k: int) -> str:
    d = r["abs_change"]
    if d is None:
        return present.tr(lang, "valore diverso", "different value") if r["reasons"] else ""
    unit = r["unit"]
    if _count_unit(unit) and (disclosure.is_small(r["previous"]["value"], k)
                              or disclosure.is_small(r["current"]["value"], k)):
        return f"<{k}"  # the difference would reveal a suppressed count
    sign = "+" if d > 0 else ""
    if unit in _SHARE_UNITS:  # percentage points, and the relative change the threshold applies to
        text = f"{sign}{present.fmt_num(100 * d, lang, 1)} " + present.tr(lang, "punti", "points")
    else:
        text = f"{sign}{present.fmt_num(d, lang, 0 if float(d).is_integer() else 2)}"
    if r["rel_change"] is not None:
        text += f" ({'+' if r['rel_change'] > 0 else ''}{present.fmt_pct(r['rel_change'], lang, 1)})"
    return text


def _fmt_ci(side: dict | None, unit: str, lang: str) -> str:
    if side is None or _num(side.get("ci_low")) is None or _num(side.get("ci_high")) is None:
        return "–"
    share = unit in _SHARE_UNITS
    return present.fmt_ci(side["ci_low"], side["ci_high"], lang, pct=share, decimals=1 if share else 2)


def _reasons(r: dict, lang: str, threshold: float) -> str:
    words = {
        "outside_ci": present.tr(lang, "fuori dall'intervallo di confidenza", "outside the confidence interval"),
        "over_threshold": present.tr(lang, f"variazione oltre il {_fmt_threshold(threshold, lang)}",
                                     f"change over {_fmt_threshold(threshold, lang)}"),
        "value_changed": present.tr(lang, "valore cambiato", "value changed"),
    }
    return "; ".join(words[x] for x in r["reasons"])


def _table(header: list[str], rows: list[list[str]], caption: str = "") -> str:
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(
            f'<td class="num">{html.escape(c)}</td>' if (c[:1].isdigit() or c[:1] in "<+-") else f"<td>{html.escape(c)}</td>"
            for c in row) + "</tr>"
        for row in rows)
    return f'<table class="ixl-runs">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _p(text: str, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<p{attr}>{html.escape(text)}</p>"


def _html_estimates(ch: dict, lang: str, k: int, titles: dict) -> str:
    t = lambda it, en: present.tr(lang, it, en)  # noqa: E731
    s = ch["estimates"]["summary"]
    thr = _fmt_threshold(s["relative_threshold"], lang)
    prev = ch["previous"]
    def pl(n, one, many):  # "1 stima nuova", "2 stime nuove"
        return f"{n} {one if n == 1 else many}"

    flags_it = (
        f"{pl(s['flagged_ci'], 'stima cambiata', 'stime cambiate')} oltre l'intervallo di confidenza e "
        f"{s['flagged_threshold']} di oltre il {thr} ({pl(s['flagged'], 'segnalata', 'segnalate')} in tutto, su "
        f"{pl(s['compared'], 'confrontata', 'confrontate')}; {pl(s['unchanged'], 'invariata', 'invariate')})"
        if s["flagged"] else
        f"nessuna stima cambiata oltre l'intervallo di confidenza né di oltre il {thr} "
        f"(su {pl(s['compared'], 'confrontata', 'confrontate')}; {pl(s['unchanged'], 'invariata', 'invariate')})")
    flags_en = (
        f"{pl(s['flagged_ci'], 'estimate', 'estimates')} changed beyond the confidence interval and "
        f"{s['flagged_threshold']} by more than {thr} ({s['flagged']} flagged in all, of {s['compared']} compared; "
        f"{s['unchanged']} unchanged)"
        if s["flagged"] else
        f"no estimate changed beyond its confidence interval or by more than {thr} ({s['compared']} compared; "
        f"{s['unchanged']} unchanged)")
    intro = t(
        f"Rispetto all'esecuzione precedente ({ch['previous_run']}, dati estratti il "
        f"{_date(prev['extracted_on'], lang)}, analisi alla data del {_date(prev['cutoff'], lang)}): {flags_it}. "
        f"{pl(s['added'], 'stima nuova', 'stime nuove')}, {pl(s['removed'], 'non più presente', 'non più presenti')}, "
        f"{pl(s['suppressed'], 'non confrontabile', 'non confrontabili')} perché oscurate per riservatezza in una "
        "delle due esecuzioni.",
        f"Compared with the previous run ({ch['previous_run']}, data extracted on "
        f"{_date(prev['extracted_on'], lang)}, analysis cut-off {_date(prev['cutoff'], lang)}): {flags_en}. {pl(s['added'], 'new estimate', 'new estimates')}, {s['removed']} no longer "
        f"present, {s['suppressed']} not comparable because withheld for confidentiality in one of the two runs.")
    parts = [_p(intro)]
    if s["not_compared"]:
        parts.append(_p(t(f"Non confrontate: {pl(s['not_compared'], 'stima', 'stime')} di rapporti eseguiti in una "
                          "sola delle due esecuzioni.",
                          f"Not compared: {pl(s['not_compared'], 'estimate', 'estimates')} of reports run in only "
                          "one of the two runs.")))
    notes = []
    if ch["parameters_changed"]:
        names = ", ".join(ch["parameters_changed"][:10]) + ("…" if len(ch["parameters_changed"]) > 10 else "")
        notes.append(t(f"I parametri sono cambiati ({names}): parte delle differenze può venire da qui.",
                       f"The parameters changed ({names}): some differences may come from this."))
    if ch["code_changed"]:
        notes.append(t("Il codice di analisi è cambiato tra le due esecuzioni: parte delle differenze può venire dal "
                       "metodo, non dai dati.",
                       "The analysis code changed between the two runs: some differences may come from the method, "
                       "not the data."))
    parts += [_p(n, "ixl-meta") for n in notes]
    flagged = [r for r in ch["estimates"]["records"] if r["flagged"]]
    if flagged:
        flagged.sort(key=lambda r: ("outside_ci" not in r["reasons"], -abs(r["rel_change"] or 0)))
        rows = [[titles.get(r["notebook"], r["notebook"]), _label(r, lang),
                 _fmt_value(r["previous"]["value"], r["unit"], lang, k), _fmt_value(r["current"]["value"], r["unit"], lang, k),
                 _fmt_change(r, lang, k), _fmt_ci(r["previous"], r["unit"], lang), _reasons(r, lang, s["relative_threshold"])]
                for r in flagged[:_MAX_HTML_ROWS]]
        parts.append(_table(
            [t("Rapporto", "Report"), t("Stima", "Estimate"), t("Prima", "Before"), t("Ora", "Now"),
             t("Variazione", "Change"), t("Intervallo precedente (95%)", "Previous interval (95%)"),
             t("Motivo della segnalazione", "Why flagged")],
            rows, t("Stime segnalate", "Flagged estimates")))
        if len(flagged) > _MAX_HTML_ROWS:
            parts.append(_p(t(f"Sono mostrate le prime {_MAX_HTML_ROWS} stime su {len(flagged)}: l'elenco completo è "
                              "in changes.json.",
                              f"The first {_MAX_HTML_ROWS} of {len(flagged)} estimates are shown: the full list is "
                              "in changes.json."), "ixl-meta"))
    parts.append(_p(t(
        "Una stima è segnalata quando il nuovo valore cade fuori dall'intervallo di confidenza precedente (o il "
        f"valore precedente fuori da quello nuovo), oppure quando cambia di oltre il {thr}. Le segnalazioni "
        "indicano dove guardare, non sono test statistici: le due esecuzioni usano in gran parte gli stessi dati.",
        "An estimate is flagged when the new value falls outside the previous confidence interval (or the previous "
        f"value outside the new one), or when it changes by more than {thr}. Flags show where to look; they are "
        "not statistical tests: the two runs largely share the same data."), "ixl-meta"))
    return "".join(parts)


def _html_data(ch: dict, lang: str, k: int) -> str:
    t = lambda it, en: present.tr(lang, it, en)  # noqa: E731
    d = ch["data"]
    c = lambda n: disclosure.format_count(n, k, lang)  # noqa: E731
    name = lambda tab: _TABLE_NAMES[tab][0 if lang == "it" else 1]  # noqa: E731
    pe, ce = _date(d.get("previous_extracted_on"), lang), _date(d.get("current_extracted_on"), lang)
    parts = [f"<h3>{html.escape(t('Cosa è cambiato nei dati', 'What changed in the data'))}</h3>"]
    if d["method"] == "records":
        tabs = d["tables"]
        if not any(v["added"] or v["removed"] or v["revised"] for v in tabs.values()):
            parts.append(_p(t(f"Le estrazioni del {pe} e del {ce} contengono gli stessi record.",
                              f"The extracts of {pe} and {ce} hold the same records.")))
            return "".join(parts)
        parts.append(_p(t(
            f"Confronto record per record tra l'estrazione del {pe} e quella del {ce}. Sono «tardivi» i record "
            f"aggiunti con una data già coperta dall'estrazione precedente; sono «corretti» i record in cui un "
            "valore già registrato è cambiato o è stato cancellato (gli altri modificati hanno solo ricevuto un "
            "dato mancante, ad esempio la data di fine).",
            f"Record-by-record comparison of the extracts of {pe} and {ce}. Added records are 'late' when their "
            "date was already covered by the previous extract; records are 'corrected' when a value already recorded "
            "changed or was erased (the other revised records only received a missing value, e.g. an end date).")))
        rows = [[name(tab), c(v["added"]), c(v["before_previous_extract"]["added"]), c(v["removed"]), c(v["revised"]),
                 c(v["corrected"])] for tab, v in tabs.items()]
        parts.append(_table([t("Tabella", "Table"), t("Record aggiunti", "Records added"), t("di cui tardivi", "of which late"),
                             t("Record rimossi", "Records removed"), t("Record modificati", "Records revised"),
                             t("di cui corretti", "of which corrected")], rows,
                            t("Record cambiati tra le due estrazioni", "Records changed between the two extracts")))
        retro = [[name(tab), _quarter_label(q, lang), c(v["added"]), c(v["removed"]), c(v["corrected"])]
                 for tab, tv in tabs.items() for q, v in tv["by_quarter"].items()
                 if v["closed"] and (v["added"] or v["removed"] or v["corrected"])]
        if retro:
            parts.append(_p(t("Correzioni retroattive: record di trimestri già chiusi alla data dell'estrazione "
                              "precedente, che ne cambiano i dati già riportati.",
                              "Retroactive corrections: records of quarters already closed at the previous "
                              "extraction date, which change figures already reported.")))
            parts.append(_table([t("Tabella", "Table"), t("Trimestre", "Quarter"), t("Aggiunti in ritardo", "Added late"),
                                 t("Rimossi", "Removed"), t("Corretti", "Corrected")], retro[:_MAX_HTML_ROWS * 2]))
        else:
            parts.append(_p(t("Nessuna correzione retroattiva: i trimestri già chiusi non sono cambiati.",
                              "No retroactive correction: the quarters already closed did not change.")))
    else:
        why = {
            "previous_extract_changed": t("i file dell'estrazione precedente sono cambiati dopo l'esecuzione "
                                          "precedente (l'impronta SHA-256 non corrisponde più)",
                                          "the files of the previous extract changed after the previous run "
                                          "(their SHA-256 digest no longer matches)"),
            "previous_extract_unreadable": t("l'estrazione precedente non è più leggibile",
                                             "the previous extract can no longer be read"),
            "previous_extract_invalid": t("l'estrazione precedente non supera più i controlli dei dati",
                                          "the previous extract no longer passes the data checks"),
            "no_data_dir_in_previous_manifest": t("l'esecuzione precedente non registra la cartella dei dati",
                                                  "the previous run does not record its data directory"),
        }[d["status"]]
        parts.append(_p(t(f"Non è possibile confrontare i dati record per record perché {why}: si confronta solo il "
                          "numero di record per trimestre, che mostra le differenze nette (un record rimosso e uno "
                          "aggiunto nello stesso trimestre non si vedono).",
                          f"The data cannot be compared record by record because {why}: only the number of records "
                          "per quarter is compared, which shows net differences (a record removed and another added "
                          "in the same quarter cancel out).")))
        rows = []
        for tab, v in d["tables"].items():
            for q, x in (v["by_quarter"] or {}).items():
                if x["closed"]:
                    shown = not (disclosure.is_small(x["previous"], k) or disclosure.is_small(x["current"], k))
                    diff = (f"{'+' if x['difference'] > 0 else ''}{present.fmt_num(x['difference'], lang)}"
                            if shown else f"<{k}")
                    rows.append([name(tab), _quarter_label(q, lang), c(x["previous"]), c(x["current"]), diff])
        if rows:
            parts.append(_table([t("Tabella", "Table"), t("Trimestre", "Quarter"), t("Record prima", "Records before"),
                                 t("Record ora", "Records now"), t("Differenza", "Difference")], rows[:_MAX_HTML_ROWS * 2],
                                t("Trimestri già chiusi il cui numero di record è cambiato",
                                  "Quarters already closed whose number of records changed")))
        elif all(v["by_quarter"] is not None for v in d["tables"].values()):
            parts.append(_p(t("Nessun trimestre già chiuso ha cambiato numero di record.",
                              "No quarter already closed changed its number of records.")))
    parts.append(_p(t(f"Conteggi inferiori a {k} mostrati come «<{k}». Dettagli in changes.json.",
                      f"Counts below {k} shown as '<{k}'. Details in changes.json."), "ixl-meta"))
    return "".join(parts)


def _html(changes: dict, lang: str, k: int, titles: dict) -> str:
    return ('<div class="ixl-changes">' + _html_estimates(changes, lang, k, titles)
            + _html_data(changes, lang, k) + "</div>")
