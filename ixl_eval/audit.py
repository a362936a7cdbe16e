"""The disclosure audit: attack a finished run's published files and try to recover every
withheld count.

The audit reads only what the run publishes — ``tables/*.csv`` (numbers and their
``__status`` columns), ``results.json`` — plus the structure the reports state openly (which
column is a total, which tables add up to which, which share is computed from which counts),
kept in ``fragments/``. It then tries, as an intruder would:

1. **the same count elsewhere**: a cell withheld in one table but shown in another table or in a
   result record (cells are matched on what they count and where: measure and coordinates);
2. **derived values**: a share, rate, change or interval shown while a count it is computed from
   is withheld (share × total, or a percentage change, gives the count back);
3. **records**: a record of ``results.json`` showing a withheld count, a value derived from one,
   or the ``n`` of a group whose count is withheld;
4. **linear relations** (an interval audit, as τ-Argus audits a table): every published total
   gives an equation (row totals, total rows, and relations between tables such as a year and its
   quarters, or the steps of a funnel). For every count withheld as "<k", two linear programmes
   (``scipy.optimize.linprog``) find the smallest and largest values the published numbers allow.
   The count is *recovered* when that interval holds a single value, and *pinned* when the
   relations alone (not knowing the "<k" mark) bound it below ``k``.

Examples
--------
>>> res = audit_run("outputs/no-such-run")                      # doctest: +SKIP
>>> res.ok, len(res.findings)                                   # doctest: +SKIP
(True, 0)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["AuditResult", "audit_run", "cross_notebook_withholding", "equation_system"]


@dataclass
class AuditResult:
    """What the audit found: a list of findings (each a dict with ``rule``, ``where``, ``detail``)
    and the number of withheld counts it attacked."""

    findings: list = field(default_factory=list)
    withheld: int = 0
    equations: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings

    def __repr__(self) -> str:
        return f"<AuditResult withheld={self.withheld} equations={self.equations} findings={len(self.findings)}>"

    def summary(self) -> str:
        lines = [f"{f['rule']}: {f['where']} — {f['detail']}" for f in self.findings[:20]]
        more = len(self.findings) - 20
        return "\n".join(lines + ([f"... and {more} more"] if more > 0 else []))


def _key(notebook: str, ident) -> str:
    """A cell identity as one string: linked cells are global, unlinked ones are per notebook."""
    ident = json.loads(json.dumps(ident))
    if isinstance(ident, list) and ident and ident[0] == "__cell":
        return notebook + "|" + json.dumps(ident, ensure_ascii=False)
    return json.dumps(ident, ensure_ascii=False)


class _Cells:
    def __init__(self):
        self.value: dict[str, float] = {}   # shown value of an identity
        self.status: dict[str, str] = {}     # "" shown, "primary", "secondary" (worst seen)
        self.where: dict[str, list] = {}
        self.shown_by: dict[str, set] = {}   # notebooks that show an identity

    def add(self, key: str, status: str, value, where: str, notebook: str = ""):
        self.where.setdefault(key, []).append((where, status))
        if status == "" and notebook:
            self.shown_by.setdefault(key, set()).add(notebook)
        if status == "":
            self.value.setdefault(key, float(value))
        old = self.status.get(key)
        rank = {"": 0, "secondary": 1, "primary": 2}
        if old is None or rank[status] > rank[old]:
            self.status[key] = status

    def hidden(self, key: str) -> bool:
        return self.status.get(key, "") != ""


def _status(raw, k: int) -> str:
    if not isinstance(raw, str) or raw == "":
        return ""
    return "primary" if raw == f"<{k}" else "secondary"


def audit_run(run_dir, k: int | None = None) -> AuditResult:
    """Attack the published files of a run folder (see the module docstring).

    Parameters
    ----------
    run_dir : path
        A run folder (``outputs/<run-id>``, or the runner's temporary folder before publishing).
    k : int, optional
        The disclosure threshold; default: from ``manifest.json``, else 10.
    """
    run_dir = Path(run_dir)
    if k is None:
        try:
            k = int(json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))["params"]["disclosure_threshold"])
        except (OSError, KeyError, ValueError, TypeError):
            k = 10
    res = AuditResult()
    cells, equations, derived, record_checks = _read(run_dir, k)
    _attack(cells, equations, derived, record_checks, k, res)
    return res


def cross_notebook_withholding(run_dir, k: int) -> tuple[dict, set]:
    """The run-level step of the protection: counts withheld by one notebook and shown by another.

    Returns ``(withheld, rerun)``: every linked identity withheld anywhere in the run, as
    ``{identity_json: "primary" | "secondary"}`` (what ``fragments/withhold.json`` holds for the
    notebooks' next pass), and the notebooks that showed one of them and must run again.
    """
    cells = _read(Path(run_dir), k)[0]
    withheld = {key: cells.status[key] for key in cells.status
                if cells.hidden(key) and key.startswith("[")}  # linked identities only (see _key)
    rerun = set()
    for key in withheld:
        rerun |= cells.shown_by.get(key, set())
    return withheld, rerun


def _read(run_dir: Path, k: int):
    import pandas as pd

    cells = _Cells()
    equations: list[list[tuple[float, str]]] = []   # sum(coef * cell) == 0
    derived: list[tuple[str, str, list, str]] = []   # (where, column, base keys, kind)

    schemas = [s for f in sorted((run_dir / "fragments" / "tables").glob("*.json"))
               for s in json.loads(f.read_text(encoding="utf-8"))]
    for s in schemas:
        nb, name = s["notebook"], s["name"]
        cols = {c["key"]: c for c in s["cols"]}
        labels = [c["key"] for c in s["cols"] if c["role"] in ("label", "text")]
        df = pd.read_csv(run_dir / "tables" / f"{nb}__{name}.csv", encoding="utf-8-sig",
                         dtype={c: str for c in labels} | {f"{c}__status": str for c in cols},
                         keep_default_na=False, na_values={c: [""] for c in cols if c not in labels})
        counts = [c for c, spec in cols.items() if spec["role"] == "count"]

        def ident(i, c):
            if s["coords"]:
                return _key(nb, [cols[c]["measure"] or c, [[x, str(df.at[i, x])] for x in s["coords"]]])
            return _key(nb, ["__cell", name, int(i), c])

        for c in counts:
            for i in range(len(df)):
                st = _status(df.at[i, f"{c}__status"] if f"{c}__status" in df else "", k)
                v = df.at[i, c]
                if st == "" and (v is None or (isinstance(v, float) and math.isnan(v))):
                    continue
                cells.add(ident(i, c), st, v, f"{nb}/{name} row {i + 1} {c}", nb)
        # equations from totals the table publishes
        tot_cols = [c for c in counts if cols[c]["total"]]
        for tc in tot_cols:
            parts = [c for c in counts if c != tc and not cols[c]["total"]]
            for i in range(len(df)):
                equations.append([(1.0, ident(i, tc))] + [(-1.0, ident(i, p)) for p in parts])
        if s["total_row"]:
            blocks = [np.arange(len(df))] if not s["by"] else list(
                pd.Series(np.arange(len(df))).groupby(df[s["by"]].to_numpy(), sort=False).indices.values())
            for rows in blocks:
                if len(rows) < 2:
                    continue
                for c in counts:
                    equations.append([(1.0, ident(rows[-1], c))] + [(-1.0, ident(r, c)) for r in rows[:-1]])
        # derived values shown beside withheld counts
        for c, spec in cols.items():
            refs = spec["base"] or ([spec["rests_on"]] if spec["rests_on"] else [])
            if not refs:
                continue
            kind = "base" if spec["base"] else "rests_on"
            shown_cols = [c] + (spec["ci"] or [])
            for i in range(len(df)):
                if any(_status(df.at[i, f"{x}__status"] if f"{x}__status" in df else "", k) == "" and
                       not (isinstance(df.at[i, x], float) and math.isnan(df.at[i, x])) for x in shown_cols):
                    derived.append((f"{nb}/{name} row {i + 1} {c}", c, [ident(i, r) for r in refs], kind))

    # result records and their links
    frags = {}
    for f in sorted((run_dir / "fragments").glob("*.json")):
        frag = json.loads(f.read_text(encoding="utf-8"))
        frags[frag["notebook"]] = frag
        for rel in frag.get("relations", []):
            keys = [_key(frag["notebook"], m) for m in rel]
            if len(keys) >= 2:
                equations.append([(1.0, keys[0])] + [(-1.0, m) for m in keys[1:]])
    try:
        records = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    except OSError:
        records = []
    record_checks = []
    for r in records:
        link = frags.get(r["notebook"], {}).get("links", {}).get(r["key"])
        if not link:
            continue
        where = f"results.json {r['notebook']}/{r['key']}"
        if link.get("cell") is not None:
            key = _key(r["notebook"], link["cell"])
            if r["value"] is not None:
                cells.add(key, "", r["value"], where, r["notebook"])
            elif key not in cells.status:
                cells.add(key, "secondary", None, where)
        record_checks.append((where, r, link))
    return cells, equations, derived, record_checks


def _attack(cells, equations, derived, record_checks, k: int, res: AuditResult) -> None:
    # 1. the same count shown somewhere and withheld elsewhere
    for key, seen in cells.where.items():
        sts = {st for _, st in seen}
        if "" in sts and len(sts) > 1:
            shown_at = [w for w, st in seen if st == ""][0]
            hidden_at = [w for w, st in seen if st != ""][0]
            res.findings.append({"rule": "same_count_elsewhere", "where": hidden_at,
                                 "detail": f"withheld here, shown at {shown_at}"})
    # 2. derived values
    for where, col, refs, kind in derived:
        bad = [r for r in refs if (cells.status.get(r) == "primary" if kind == "rests_on" else cells.hidden(r))]
        if bad:
            res.findings.append({"rule": "derived_from_withheld", "where": where,
                                 "detail": f"shown although a count it rests on is withheld ({len(bad)})"})
    # 3. records
    for where, r, link in record_checks:
        if r["value"] is not None:
            if any(cells.hidden(_key(r["notebook"], b)) for b in link.get("base", [])):
                res.findings.append({"rule": "record_derived_from_withheld", "where": where,
                                     "detail": "value shown although a count it is computed from is withheld"})
            if link.get("rests_on") is not None and cells.status.get(_key(r["notebook"], link["rests_on"])) == "primary":
                res.findings.append({"rule": "record_of_small_group", "where": where,
                                     "detail": "estimate shown for a group below the threshold"})
        if r.get("n") is not None and link.get("rests_on") is not None and cells.hidden(_key(r["notebook"], link["rests_on"])):
            res.findings.append({"rule": "record_n_withheld", "where": where, "detail": "n shown although withheld"})
    # 4. linear relations
    res.findings += _interval_audit(cells, equations, k, res)


def equation_system(cells: _Cells, equations):
    """The published relations as ``A x = b`` over the withheld cells ``x``.

    Returns ``(hidden, A, b)``: the withheld identities (sorted) and one row per relation that
    involves at least one of them; a relation with a term published nowhere cannot be used and
    is left out. Shared by the audit of a run and of a site export
    (:func:`ixl_eval.federated.audit_site_file`).
    """
    hidden = sorted(key for key in cells.status if cells.hidden(key))
    index = {key: j for j, key in enumerate(hidden)}
    rows, rhs = [], []
    for eq in equations:
        if not all(key in index or key in cells.value for _, key in eq):
            continue  # a term that is published nowhere: the relation cannot be used
        a = np.zeros(len(hidden))
        b = 0.0
        for coef, key in eq:
            if key in index:
                a[index[key]] += coef
            else:
                b -= coef * cells.value[key]
        if np.any(a != 0):
            rows.append(a)
            rhs.append(b)
    return hidden, np.array(rows).reshape(len(rows), len(hidden)), np.array(rhs)


def _interval_audit(cells: _Cells, equations, k: int, res: AuditResult) -> list:
    from scipy.optimize import linprog

    hidden, A, b = equation_system(cells, equations)
    res.withheld = sum(1 for key in hidden if cells.status[key] == "primary")
    res.equations = len(A)
    if not len(A):
        return []
    used = np.flatnonzero(np.any(A != 0, axis=0))
    findings = []
    marked = [(1, k - 1) if cells.status[key] == "primary" else (0, None) for key in hidden]
    bare = [(0, None)] * len(hidden)
    for j in used:
        key = hidden[j]
        if cells.status[key] != "primary":
            continue
        c = np.zeros(len(hidden))
        c[j] = 1.0
        lo = linprog(c, A_eq=A, b_eq=b, bounds=marked, method="highs")
        hi = linprog(-c, A_eq=A, b_eq=b, bounds=marked, method="highs")
        if not (lo.success and hi.success):
            continue  # infeasible only if the published numbers contradict each other (rounding)
        lo_v, hi_v = lo.fun, -hi.fun
        top = linprog(-c, A_eq=A, b_eq=b, bounds=bare, method="highs")
        where = cells.where[key][0][0]
        if hi_v - lo_v < 0.5:
            findings.append({"rule": "recovered_by_relations", "where": where,
                             "detail": f"the published totals give exactly {lo_v:.0f}"})
        elif top.status == 0 and -top.fun < k - 1e-9:
            findings.append({"rule": "pinned_below_k", "where": where,
                             "detail": f"the published totals alone bound it between {lo_v:.0f} and {-top.fun:.0f}"})
    return findings
