"""Compare two results.json files record by record (value, ci_low, ci_high, n).

Usage: python benchmarks/compare_results.py BEFORE.json AFTER.json [--rtol 1e-9]

Prints, per notebook, the records that changed, appeared, disappeared or became withheld, so a
refactoring can show that every number that was right stayed right.
"""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter


def _same(a, b, rtol):
    if a is None or b is None:
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=rtol, abs_tol=1e-12)
    return a == b


def compare(before: list, after: list, rtol: float = 1e-9) -> dict:
    b = {(r["notebook"], r["key"]): r for r in before}
    a = {(r["notebook"], r["key"]): r for r in after}
    out = {"same": [], "changed": [], "newly_withheld": [], "newly_shown": [], "only_before": [], "only_after": []}
    for k in sorted(set(b) | set(a)):
        if k not in a:
            out["only_before"].append(k)
            continue
        if k not in b:
            out["only_after"].append(k)
            continue
        rb, ra = b[k], a[k]
        if rb["value"] is not None and ra["value"] is None:
            out["newly_withheld"].append((k, rb["value"], ra.get("suppressed")))
        elif rb["value"] is None and ra["value"] is not None:
            out["newly_shown"].append((k, ra["value"]))
        elif all(_same(rb.get(f), ra.get(f), rtol) for f in ("value", "ci_low", "ci_high", "n")):
            out["same"].append(k)
        else:
            out["changed"].append((k, {f: (rb.get(f), ra.get(f)) for f in ("value", "ci_low", "ci_high", "n")
                                       if not _same(rb.get(f), ra.get(f), rtol)}))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--rtol", type=float, default=1e-9)
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    res = compare(json.load(open(a.before, encoding="utf-8")), json.load(open(a.after, encoding="utf-8")), a.rtol)
    for cat, items in res.items():
        by_nb = Counter(x[0][0] if isinstance(x[0], tuple) else x[0] for x in items)
        print(f"{cat:15s} {len(items):5d}  " + ", ".join(f"{k}: {v}" for k, v in sorted(by_nb.items())))
        if a.verbose and cat != "same":
            for x in items[:400]:
                print("    ", x)


if __name__ == "__main__":
    main()
