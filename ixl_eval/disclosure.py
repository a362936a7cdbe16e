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
    "is_primary",
    "format_count",
    "protect",
    "Protection",
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


# ------------------------------------------------------------------------------ joint protection


def is_primary(n, k: int) -> bool:
    """A count that must be withheld: between 1 and ``k - 1``.

    Zero is shown: "nobody" identifies no one, and hiding it would make "nobody excluded" read as
    a secret (ONS, *Statistical disclosure control for tables*, 2023: zeros are not disclosive
    unless they reveal an attribute of a whole group, which the complement of a shown total
    already does). A zero is never used to protect another cell either: hiding a known-to-be-small
    zero protects nothing.

    >>> [is_primary(n, 10) for n in (0, 1, 9, 10, None)]
    [False, True, True, False, False]
    """
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return False
    return 0 < float(n) < k


class Protection:
    """The outcome of :func:`protect`: which cell identities are withheld, and why.

    Attributes
    ----------
    primary_ : set
        Identities of counts below the threshold.
    secondary_ : set
        Identities withheld so that no additive line keeps exactly one withheld cell.
    values_ : dict
        The value of every count identity (private: never published).
    """

    def __init__(self, k: int):
        self.k = k
        self.primary_: set = set()
        self.secondary_: set = set()
        self.values_: dict = {}

    def __repr__(self) -> str:
        return f"<Protection k={self.k} primary={len(self.primary_)} secondary={len(self.secondary_)}>"

    def status_of(self, ident) -> int:
        from .report.table import PRIMARY, SECONDARY, SHOWN

        if ident in self.primary_:
            return PRIMARY
        if ident in self.secondary_:
            return SECONDARY
        return SHOWN

    @property
    def hidden_(self) -> set:
        return self.primary_ | self.secondary_


def _lines_of(t, ident_of) -> list:
    """The additive lines of one table, as lists of identities."""
    out = []
    counts = t.counts
    if not counts or t.data.empty:
        return out
    if t.lines == "both":
        for i in range(len(t.data)):
            line = [ident_of(i, c) for c in counts if not _isnan(t.data.at[i, c])]
            if len(line) >= 2:
                out.append(line)
    if t.lines in ("both", "columns"):
        for rows in t.blocks():
            for c in counts:
                line = [ident_of(i, c) for i in rows if not _isnan(t.data.at[i, c])]
                if len(line) >= 2:
                    out.append(line)
    return out


def _isnan(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def protect(tables, k: int, *, relations=(), known=None) -> Protection:
    """Protect the tables a notebook (or a run) publishes, together, and set their status.

    Rules (documented in ``docs/disclosure.md``):

    1. **Primary**: a count from 1 to ``k - 1`` is withheld (shown "<k"); zero is shown.
    2. **One number, one status**: count cells with the same identity (same measure and
       coordinates, see :class:`ixl_eval.report.table.Col`) are the same number in every table,
       and are withheld everywhere if withheld anywhere.
    3. **Secondary**: every additive line (a table's rows and columns, within blocks; and the
       ``relations`` linking tables, e.g. a year and its four quarters) keeps either no withheld
       cell, or at least two of which at least one is not below ``k`` (cells known to lie in
       1..k−1 pin each other through their sum); otherwise its smallest positive shown cell is
       withheld too (so a total is withheld only when no smaller cell can protect). Repeated
       until no line changes.
    4. **Derived values**: a share, rate, change or estimate computed from counts (``base``) is
       withheld wherever one of those counts is; an estimate that only describes a group
       (``rests_on``) is withheld where the group's count is below the threshold.

    Parameters
    ----------
    tables : iterable of Table
        Every table of the notebook; their ``status`` is set in place.
    k : int
        The disclosure threshold.
    relations : iterable of list
        Extra additive lines, each a list of cell identities (``Table.cell_id``) whose sum is
        published or derivable.
    known : Protection, optional
        Identities already withheld elsewhere in the run (kept withheld here).

    Returns
    -------
    Protection

    Examples
    --------
    >>> import pandas as pd
    >>> from ixl_eval.report.table import Col, Table
    >>> t = Table("g", pd.DataFrame({"gender": ["F", "M", "X"], "n": [310, 305, 2], "share": [.50, .49, .003]}),
    ...           [Col("gender", "Genere", "Gender"), Col("n", "Iscritti", "Enrolled", role="count"),
    ...            Col("share", "Quota", "Share", role="share", base=("n",))], coords=["gender"])
    >>> p = protect([t], 10)
    >>> t.status["n"].tolist(), t.status["share"].tolist()   # 2 primary, 305 secondary, shares withheld
    ([0, 2, 1], [0, 3, 3])
    """
    from .report.table import DERIVED, PRIMARY, SHOWN

    tables = list(tables)
    prot = Protection(k)
    if known is not None:
        prot.primary_ |= known.primary_
        prot.secondary_ |= known.secondary_
        prot.values_.update(known.values_)
    # identities: linked cells share one; an unlinked cell is its own
    ident = {}
    for ti, t in enumerate(tables):
        for c in t.counts:
            for i in range(len(t.data)):
                v = t.data.at[i, c]
                if _isnan(v):
                    continue
                cid = t.cell_id(i, c)
                ident[(ti, i, c)] = cid
                old = prot.values_.get(cid)
                if old is not None and float(old) != float(v):
                    raise ValueError(
                        f"disclosure: {cid[0]!r} at {dict(cid[1]) if len(cid) == 2 else cid} is {old} in one table "
                        f"and {v} in table {t.name!r}: linked cells must be the same number"
                    )
                prot.values_[cid] = v
                if is_primary(v, k):
                    prot.primary_.add(cid)
    lines = []
    for ti, t in enumerate(tables):
        lines += _lines_of(t, lambda i, c, ti=ti: ident[(ti, i, c)])
    lines += [list(r) for r in relations if len(r) >= 2]
    changed = True
    while changed:
        changed = False
        hidden = prot.hidden_
        for line in lines:
            members = list(dict.fromkeys(m for m in line if m in prot.values_))
            shut = [m for m in members if m in hidden]
            # a line must not keep a lone withheld cell (it would be its total minus the others),
            # nor only cells below k: each of those is known to lie in 1..k-1, so their sum pins
            # them (two cells summing to 2 or to 2(k-1) are both exact); one withheld cell of k or
            # more (a secondary cell) leaves the others an open range
            if len(members) < 2 or not shut or (len(shut) > 1 and any(m not in prot.primary_ for m in shut)):
                continue
            open_ = [m for m in members if m not in hidden]
            positive = [m for m in open_ if float(prot.values_[m]) > 0]
            pool = positive or open_
            if not pool:
                continue
            partner = min(pool, key=lambda m: (float(prot.values_[m]), repr(m)))
            prot.secondary_.add(partner)
            hidden = prot.hidden_
            changed = True
    for ti, t in enumerate(tables):
        st = pd.DataFrame(np.zeros(t.data.shape, dtype="int8"), columns=[c.key for c in t.cols])
        for c in t.counts:
            st[c] = [prot.status_of(ident[(ti, i, c)]) if (ti, i, c) in ident else SHOWN for i in range(len(t.data))]
        for col in t.cols:
            if col.base:
                h = np.any([st[b].to_numpy() != SHOWN for b in col.base], axis=0)
            elif col.rests_on:
                h = st[col.rests_on].to_numpy() == PRIMARY
            else:
                continue
            st.loc[h & (st[col.key].to_numpy() == SHOWN), col.key] = DERIVED
            for b in col.ci or ():
                st.loc[h & (st[b].to_numpy() == SHOWN), b] = DERIVED
        t.status = st
    return prot
