"""Result records: the machine-readable key estimates of a run (``results.json``).

A record is written once, where its number is computed; the HTML, ``results.json`` and the
comparison with the previous quarter all read the same record. Records are flat and tidy, so two
quarters can be diffed record by record on ``(notebook, key)``.

Examples
--------
>>> r = ResultRecord("tempo_inserimento", "km_median_days", 182.0, 150.0, 210.0, 1200, "days",
...                  "Tempo mediano all'inserimento", "Median time to placement")
>>> r.as_dict()["key"]
'km_median_days'
>>> merge_records([[r]])[0]["value"]
182.0
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["RECORD_FIELDS", "ResultRecord", "merge_records", "write_results", "read_results"]

RECORD_FIELDS = ("notebook", "key", "value", "ci_low", "ci_high", "n", "unit", "label_it", "label_en", "suppressed")
# snake_case name, then optional "__column=level" qualifiers (levels may hold letters, digits, = . + < > -)
_KEY = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)*(__[\w=.+<>-]+)*$")


def _clean(x):
    """JSON-safe, platform-stable number: NaN/inf become null, floats rounded to 10 significant digits."""
    if x is None:
        return None
    if isinstance(x, bool):
        return x
    try:
        f = float(x)
    except (TypeError, ValueError):
        return x
    if math.isnan(f) or math.isinf(f):
        return None
    if f.is_integer() and abs(f) < 2**53:
        return int(f) if isinstance(x, int) or type(x).__name__.startswith("int") else f
    return float(f"{f:.10g}")


@dataclass(frozen=True)
class ResultRecord:
    """One key estimate: value with optional confidence interval, the n it rests on, unit, labels."""

    notebook: str
    key: str
    value: float | int | str | None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int | None = None
    unit: str = ""
    label_it: str = ""
    label_en: str = ""
    # why a value (or its n) is null: "below_threshold", "secondary", "derived", or "n_..." when
    # only n is withheld; None when nothing is withheld
    suppressed: str | None = None

    def __post_init__(self):
        if not _KEY.match(self.key):
            raise ValueError(
                f"result key {self.key!r} must be snake_case, optionally followed by "
                "'__column=level' parts (e.g. 'km_median_days__gender=F')"
            )

    def as_dict(self) -> dict:
        d = asdict(self)
        for f in ("value", "ci_low", "ci_high", "n"):
            d[f] = _clean(d[f])
        return {f: d[f] for f in RECORD_FIELDS}


def merge_records(groups: Iterable[Iterable]) -> list[dict]:
    """Merge records (objects or dicts) from several notebooks into one sorted, de-duplicated list.

    Raises
    ------
    ValueError
        If two records share ``(notebook, key)``: a key must name one number.
    """
    out: dict[tuple[str, str], dict] = {}
    for group in groups:
        for r in group:
            d = r.as_dict() if isinstance(r, ResultRecord) else {f: r.get(f) for f in RECORD_FIELDS}
            k = (d["notebook"], d["key"])
            if k in out:
                raise ValueError(f"duplicate result record {k}")
            out[k] = d
    return [out[k] for k in sorted(out)]


def write_results(records: list[dict], path: Path) -> None:
    """Write ``results.json`` deterministically (sorted records, fixed formatting)."""
    Path(path).write_text(json.dumps(records, ensure_ascii=False, indent=1, sort_keys=False) + "\n", encoding="utf-8")


def read_results(path: Path) -> list[dict]:
    """Read a ``results.json`` written by :func:`write_results`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
