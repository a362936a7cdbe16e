"""Disclosure control: the one place that decides which counts may be published.

:func:`protect` works on the typed tables of a notebook (``ixl_eval.report.table.Table``), all
at once, and sets a status per cell; rendering (``ixl_eval.report.render``) then writes the marks.
The rules (``docs/disclosure.md``):

* **Primary**: a count from 1 to ``k - 1`` is withheld («<k»); zero is shown.
* **One number, one status**: linked cells (same measure and coordinates) share their status.
* **Secondary**: no additive line (rows, columns, declared relations) keeps a lone withheld cell,
  or only cells below ``k``; the smallest positive partner is withheld too («c»).
* **Derived**: shares, rates, changes and intervals go with the counts they rest on.

:mod:`ixl_eval.audit` then attacks what a run publishes.

Examples
--------
>>> format_count(7, 10)
'<10'
>>> format_count(1234, 10, lang="it")
'1.234'
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = [
    "SECONDARY_MARK",
    "is_small",
    "is_primary",
    "format_count",
    "protect",
    "Protection",
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
