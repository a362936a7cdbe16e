"""Small-cell suppression: the one place that decides which counts may be shown.

Every number of people (or contracts, or employers) that reaches a reader passes through here:
tables, sentences, plot annotations and the number-at-risk tables under survival curves.

Rules
-----
* **Primary**: a count below the threshold ``k`` (zero included) is shown as ``"<k"``.
* **Secondary**: in a table, a row or column with exactly one suppressed cell could be recovered
  from its total (published elsewhere or shown beside it), so the smallest other cell of that line
  is suppressed too, shown as :data:`SECONDARY_MARK`; repeated until no line has a lone suppressed
  cell.
* Shares and rates computed from a suppressed count are suppressed with it (``linked`` columns).

Examples
--------
>>> format_count(7, 10)
'<10'
>>> format_count(1234, 10, lang="it")
'1.234'
>>> import pandas as pd
>>> t = pd.DataFrame({"group": ["a", "b", "c"], "n": [3, 25, 40]})
>>> suppress_table(t, ["n"], 10)["n"].tolist()
['<10', 'c', '40']
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

__all__ = [
    "SECONDARY_MARK",
    "is_small",
    "format_count",
    "suppress_table",
    "suppression_note",
]

SECONDARY_MARK = "c"


def is_small(n, k: int) -> bool:
    """True when ``n`` is a count that must not be shown (below ``k``; missing is not small)."""
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return False
    return float(n) < k


def _fmt_int(n: float, lang: str) -> str:
    s = f"{int(round(n)):,}"
    return s.replace(",", ".") if lang == "it" else s


def format_count(n, k: int, lang: str = "it") -> str:
    """Format a count for display, suppressed below ``k``.

    Parameters
    ----------
    n : int or float
        The count (``NaN``/``None`` give an empty string).
    k : int
        Disclosure threshold.
    lang : {"it", "en"}
        Thousands separator: ``.`` in Italian, ``,`` in English.
    """
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return ""
    if is_small(n, k):
        return f"<{k}"
    return _fmt_int(float(n), lang)


def _secondary(mask: np.ndarray, values: np.ndarray, axes=(1, 0)) -> np.ndarray:
    """Extend a primary-suppression mask so no row or column has exactly one suppressed cell."""
    mask = mask.copy()
    changed = True
    while changed:
        changed = False
        for axis in axes:  # rows (1), then columns (0)
            lines = mask.shape[0] if axis == 1 else mask.shape[1]
            for i in range(lines):
                line_mask = mask[i, :] if axis == 1 else mask[:, i]
                line_vals = values[i, :] if axis == 1 else values[:, i]
                if line_mask.size < 2 or line_mask.sum() != 1:
                    continue
                candidates = np.where(~line_mask & ~np.isnan(line_vals))[0]
                if candidates.size == 0:
                    continue
                # the smallest other cell protects the suppressed one at the least cost
                j = candidates[np.argmin(line_vals[candidates])]
                if axis == 1:
                    mask[i, j] = True
                else:
                    mask[j, i] = True
                changed = True
    return mask


def suppress_table(
    df: pd.DataFrame,
    count_cols: Iterable[str],
    k: int,
    *,
    linked: Mapping[str, str] | None = None,
    estimates: Mapping[str, str] | None = None,
    lang: str = "it",
    secondary: bool = True,
    lines: str = "both",
    by: str | None = None,
) -> pd.DataFrame:
    """Return a display copy of ``df`` with small counts suppressed.

    Parameters
    ----------
    df : DataFrame
        A table whose ``count_cols`` hold counts of people (or records).
    count_cols : iterable of str
        Columns with counts. Together they form the block on which secondary suppression works
        (rows across these columns, and each column down the rows).
    k : int
        Disclosure threshold.
    linked : mapping, optional
        ``{dependent_column: count_column}``: a share, rate or estimate computed from that count is
        blanked (``"<k"`` or the secondary mark) wherever the count is suppressed. Use the
        dependent column's own formatting beforehand; the value is replaced, not reformatted.
    estimates : mapping, optional
        ``{estimate_column: count_column}``: a statistic resting on that group's people (a median,
        a Kaplan–Meier share, a hazard ratio) that does not give the count back. It is blanked only
        where the count is below ``k`` (too few people to show any result about them), not where
        the count is withheld by secondary suppression, so a large group keeps its results.
    lang : {"it", "en"}
        Number formatting of the counts that are shown.
    secondary : bool
        Apply secondary suppression (default True).
    lines : {"both", "columns"}
        Which lines secondary suppression protects: rows and columns (default), or columns only,
        for tables whose rows add up to nothing published (e.g. levels x years, with a total
        row: a level's counts in different years are not summed anywhere).
    by : str, optional
        A column splitting the rows into blocks that each add up to a total of their own (e.g.
        subgroups stacked in one table: the genders sum to all people, the sectors too): column
        lines are protected within each block, not across blocks (where a lone small cell of one
        block could otherwise be recovered from that block's total).

    Returns
    -------
    DataFrame
        Same shape and index; count columns become strings.
    """
    count_cols = list(count_cols)
    out = df.copy()
    if not count_cols or out.empty:
        return out
    missing = [c for c in count_cols + list((linked or {}).values()) + list((estimates or {}).values())
               if c not in df.columns]
    if missing:
        raise KeyError(f"suppress_table: columns not in table: {missing}")
    values = df[count_cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    primary = np.where(np.isnan(values), False, values < k)
    if lines not in ("both", "columns"):
        raise ValueError("lines must be 'both' or 'columns'")
    axes = (1, 0) if lines == "both" else (0,)
    if not secondary:
        mask = primary
    elif by is None:
        mask = _secondary(primary, values, axes)
    else:
        mask = primary.copy()
        for rows in pd.Series(np.arange(len(df))).groupby(df[by].to_numpy(), sort=False).indices.values():
            mask[rows] = _secondary(primary[rows], values[rows], axes)
    for j, col in enumerate(count_cols):
        shown = []
        for i in range(len(df)):
            v = values[i, j]
            if primary[i, j]:
                shown.append(f"<{k}")
            elif mask[i, j]:
                shown.append(SECONDARY_MARK)
            else:
                shown.append("" if np.isnan(v) else _fmt_int(v, lang))
        out[col] = pd.Series(shown, index=df.index, dtype=object)
    dependents = [(dep, src, True) for dep, src in (linked or {}).items()]
    dependents += [(dep, src, False) for dep, src in (estimates or {}).items()]
    for dep, src, with_secondary in dependents:
        j = count_cols.index(src)
        dep_vals = out[dep].astype(object).copy()
        for i in range(len(df)):
            if primary[i, j]:
                dep_vals.iloc[i] = f"<{k}"
            elif with_secondary and mask[i, j]:
                dep_vals.iloc[i] = SECONDARY_MARK
        out[dep] = dep_vals
    return out


def suppression_note(k: int, lang: str = "it") -> str:
    """The footnote every suppressed table carries."""
    if lang == "it":
        return (
            f"«<{k}»: meno di {k} persone, dato non mostrato per tutelare la riservatezza; "
            f"«{SECONDARY_MARK}»: dato oscurato perché permetterebbe di ricavare un dato «<{k}» dai totali."
        )
    return (
        f"'<{k}': fewer than {k} people, not shown to protect confidentiality; "
        f"'{SECONDARY_MARK}': withheld because it would let a '<{k}' cell be derived from the totals."
    )
