"""Resource limits checked before any input is parsed, and the plausibility window of dates.

A careless export or a hostile file must be refused with a message, not take the machine's
memory: every reader checks the size of what it is about to parse against these limits first
(file bytes, rows, XLSX declared dimension and uncompressed size, YAML bytes), and validation
keeps at most ``findings_per_rule`` findings per file and rule (the rest are counted).

The defaults fit the programme's data with a wide margin (the bundled extract is under 1 MB; a
1M-person extract is about 60 MB per table) and keep peak memory well under 2 GiB before a
refusal. They are raised on the command line with ``--limit NAME=VALUE`` (``ixl-eval validate``,
``run`` and ``params check``), which sets :data:`LIMITS_ENV` so the notebook kernels of a run
read the data under the same limits. ``docs/limits.md`` lists them.

Examples
--------
>>> current().file_mb
256
>>> parse_overrides(["rows=5000000"]).rows
5000000
>>> parse_overrides(["rows=abc"])
Traceback (most recent call last):
...
ixl_eval.exceptions.LimitError: --limit rows=abc: rows must be a whole number
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from dataclasses import dataclass

from .exceptions import LimitError

__all__ = ["Limits", "DEFAULT", "LIMITS_ENV", "current", "parse_overrides", "use", "describe", "hint"]

#: Environment variable holding the limits raised on the command line (JSON), inherited by kernels.
LIMITS_ENV = "IXL_EVAL_LIMITS"


@dataclass(frozen=True)
class Limits:
    """The limits (see ``docs/limits.md``).

    Attributes
    ----------
    file_mb : int
        Largest data file (CSV, Parquet, XLSX workbook) in MiB.
    rows : int
        Most records per table (CSV lines, Parquet rows, XLSX rows, declared or found).
    xlsx_columns : int
        Most columns a worksheet may declare or hold.
    xlsx_uncompressed_mb : int
        Largest total uncompressed size of an XLSX workbook's parts, in MiB (a zip bomb is small
        on disk and huge once inflated).
    yaml_kb : int
        Largest parameter set or ``extract.yaml``, in KiB.
    findings_per_rule : int
        Findings kept per file and rule; the others are counted, not stored.
    programme_start : datetime.date
        No date in the data may be earlier (IXL started in 2017).
    """

    file_mb: int = 256
    rows: int = 3_000_000
    xlsx_columns: int = 200
    xlsx_uncompressed_mb: int = 512
    yaml_kb: int = 256
    findings_per_rule: int = 1000
    programme_start: dt.date = dt.date(2017, 1, 1)

    @property
    def file_bytes(self) -> int:
        return self.file_mb << 20

    @property
    def xlsx_uncompressed_bytes(self) -> int:
        return self.xlsx_uncompressed_mb << 20

    @property
    def yaml_bytes(self) -> int:
        return self.yaml_kb << 10


DEFAULT = Limits()

_DOC = {
    "file_mb": "largest data file (CSV, Parquet, XLSX), MiB",
    "rows": "most records per table",
    "xlsx_columns": "most columns a worksheet may declare or hold",
    "xlsx_uncompressed_mb": "largest uncompressed size of an XLSX workbook, MiB",
    "yaml_kb": "largest parameter set or extract.yaml, KiB",
    "findings_per_rule": "findings kept per file and rule (the rest are counted)",
    "programme_start": "earliest date accepted in the data (yyyy-mm-dd)",
}


def _convert(name: str, text: str):
    kind = type(getattr(DEFAULT, name))
    if kind is dt.date:
        try:
            return dt.date.fromisoformat(str(text))
        except ValueError:
            raise LimitError(f"--limit {name}={text}: {name} must be a date yyyy-mm-dd") from None
    try:
        value = int(str(text))
    except ValueError:
        raise LimitError(f"--limit {name}={text}: {name} must be a whole number") from None
    if value < 1:
        raise LimitError(f"--limit {name}={text}: {name} must be at least 1")
    return value


def parse_overrides(items) -> Limits:
    """Limits with ``NAME=VALUE`` overrides applied on top of :func:`current`.

    Raises
    ------
    LimitError
        Unknown name (the known ones are listed) or a value of the wrong type.
    """
    changes = {}
    for item in items or ():
        name, sep, value = str(item).partition("=")
        name = name.strip()
        if not sep or name not in _DOC:
            raise LimitError(f"--limit {item}: expected NAME=VALUE with NAME one of {', '.join(_DOC)}")
        changes[name] = _convert(name, value.strip())
    return dataclasses.replace(current(), **changes)


def current() -> Limits:
    """The limits in force: the defaults, with those raised through :data:`LIMITS_ENV`."""
    raw = os.environ.get(LIMITS_ENV)
    if not raw:
        return DEFAULT
    try:
        doc = json.loads(raw)
        return dataclasses.replace(DEFAULT, **{k: _convert(k, v) for k, v in doc.items() if k in _DOC})
    except (ValueError, TypeError, LimitError):
        return DEFAULT  # a garbled variable must not lift the limits; the defaults are safe


def use(limits: Limits) -> None:
    """Make ``limits`` the limits of this process and of the kernels it starts."""
    changed = {k: str(getattr(limits, k)) for k in _DOC if getattr(limits, k) != getattr(DEFAULT, k)}
    if changed:
        os.environ[LIMITS_ENV] = json.dumps(changed)
    else:
        os.environ.pop(LIMITS_ENV, None)


def hint(name: str) -> str:
    """How to raise one limit, for error messages."""
    return f"raise it with --limit {name}=VALUE (now {getattr(current(), name)}; see docs/limits.md)"


def describe() -> str:
    """The limits as a Markdown table (``docs/limits.md`` includes it)."""
    rows = ["| limit | default | what it bounds |", "|---|---|---|"]
    rows += [f"| `{k}` | {getattr(DEFAULT, k)} | {v} |" for k, v in _DOC.items()]
    return "\n".join(rows)
