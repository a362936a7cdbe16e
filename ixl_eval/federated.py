"""Several cities, one evaluation, no shared records: site exports and pooled analyses.

A site runs :func:`export_site` on its own records and sends one zip file of aggregates (no
records): risk tables on a coarse time grid, quarterly KPI counts and Cox fits. The coordinating
evaluator runs :func:`pool` on the files of every site. The pooled Kaplan–Meier, Aalen–Johansen
and log-rank results are *exact on the grid*: the same numbers as the grid estimators on all
records together (:func:`grid_table` + :func:`grid_estimates` are used for both). Cox models are
combined by inverse-variance meta-analysis (fixed and DerSimonian–Laird random effects).

Protocol, content of a site file and methods: ``docs/multi-site.md``.

Examples
--------
>>> import numpy as np, pandas as pd
>>> f = pd.DataFrame({"time": [10., 40., 40., 70., 95.], "event": [1, 2, 1, 0, 1], "g": list("aabbb")})
>>> rt = grid_table(f, "g", [0, 30, 60], causes=(1, 2))
>>> rt[["level", "interval", "n_risk", "events_1", "events_2", "censored"]].values.tolist()[:3]
[['a', 0, 2, 1, 0, 0], ['a', 1, 1, 0, 1, 0], ['a', 2, 0, 0, 0, 0]]
>>> est = grid_estimates(rt[rt.level == "b"], causes=(1, 2))
>>> est["survival"].round(3).tolist()
[1.0, 0.667, 0.333]
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .exceptions import SiteFileError

__all__ = [
    "SiteFileError",
    "month_grid",
    "grid_table",
    "grid_estimates",
    "GridSurvival",
    "grid_logrank",
    "coarsen",
    "meta_analysis",
    "export_site",
    "read_site",
    "describe_site",
    "pool",
    "split_dataset",
    "FORMAT_VERSION",
]

FORMAT_VERSION = 1
#: a month on the grid: a twelfth of a mean Gregorian year, in days
MONTH_DAYS = 365.2425 / 12
TTP_CAUSES = (1, 2)          # placement, withdrawal
CONV_CAUSES = (1, 2)         # conversion, end without conversion
COUNT_COLS = ("n_risk", "events_1", "events_2", "censored")
KPI_COUNTS = ("enrolments", "interviewed", "interview_eligible", "interview_too_recent", "interview_done",
              "interviewed_within", "placements", "permanent", "persons_placed", "first_placed")


# ------------------------------------------------------------------------------------ the grid
def month_grid(max_days: float, step_months: int = 1) -> np.ndarray:
    """Interval starts (days) of a grid of ``step_months`` months covering ``[0, max_days]``.

    >>> month_grid(65).round(2).tolist()
    [0.0, 30.44, 60.87]
    """
    step = MONTH_DAYS * step_months
    n = int(math.floor(max(float(max_days), 0.0) / step)) + 1
    return np.arange(n) * step


def grid_table(frame: pd.DataFrame, by: str | None, starts, *, causes=(1, 2), levels=None,
               time_col: str = "time", event_col: str = "event") -> pd.DataFrame:
    """Risk table on a grid: per level and interval ``[starts[j], starts[j+1])`` (the last one
    open), the number at risk at its start, events by cause and censored in it.

    Parameters
    ----------
    frame : DataFrame
        One row per person (or episode): ``time`` (days) and ``event`` (0 censored, else a cause).
    by : str or None
        Grouping column (None: one level ``"all"``).
    starts : array-like
        Interval starts, increasing, the first 0.
    causes : tuple of int
    levels : list, optional
        Levels to include, in this order (default: the levels present, sorted).

    Returns
    -------
    DataFrame
        ``level``, ``interval``, ``start`` (days), ``n_risk``, ``events_<c>`` per cause, ``censored``.
    """
    starts = np.asarray(starts, float)
    t = frame[time_col].to_numpy(float)
    e = frame[event_col].to_numpy()
    g = np.full(len(frame), "all", dtype=object) if by is None else frame[by].astype(str).to_numpy()
    if levels is None:
        levels = sorted(set(g))
    j = np.searchsorted(starts, t, side="right") - 1
    J = len(starts)
    rows = []
    for lev in levels:
        m = g == lev
        jj = j[m]
        ee = e[m]
        exits = np.bincount(jj, minlength=J)
        n_risk = exits[::-1].cumsum()[::-1]
        out = {"level": [str(lev)] * J, "interval": np.arange(J), "start": starts, "n_risk": n_risk}
        for c in causes:
            out[f"events_{c}"] = np.bincount(jj[ee == c], minlength=J)
        out["censored"] = np.bincount(jj[ee == 0], minlength=J)
        rows.append(pd.DataFrame(out))
    if not rows:
        return pd.DataFrame(columns=["level", "interval", "start", "n_risk"]
                            + [f"events_{c}" for c in causes] + ["censored"])
    return pd.concat(rows, ignore_index=True)


def regrid(table: pd.DataFrame, starts, causes=(1, 2)) -> pd.DataFrame:
    """Merge the intervals of a risk table onto coarser ``starts`` (each a start of the table):
    at risk at the new start, events and censored summed."""
    starts = np.asarray(starts, float)
    out = []
    for lev, sub in table.groupby("level", sort=False):
        sub = sub.sort_values("start")
        s = sub["start"].to_numpy(float)
        missing = [x for x in starts if not np.any(np.isclose(s, x, atol=1e-9))]
        if missing:
            raise ValueError(f"level {lev!r}: grid starts {missing[:3]} are not interval starts of the table")
        j = np.searchsorted(starts - 1e-9, s, side="right") - 1
        g = pd.DataFrame({"j": j})
        r = {"level": str(lev), "interval": np.arange(len(starts)), "start": starts}
        n_risk = np.array([sub["n_risk"].to_numpy()[j == q][0] for q in range(len(starts))])
        r["n_risk"] = n_risk
        for col in [f"events_{c}" for c in causes] + ["censored"]:
            r[col] = np.bincount(g["j"], weights=sub[col].to_numpy(float), minlength=len(starts)).round().astype(np.int64)
        out.append(pd.DataFrame(r))
    return pd.concat(out, ignore_index=True)


def grid_estimates(table: pd.DataFrame, causes=(1, 2), *, cause: int = 1, conf_level: float = 0.95) -> pd.DataFrame:
    """Kaplan–Meier and Aalen–Johansen on the grid, from one level's risk table.

    Events in an interval are taken to happen before the censorings of that interval (the
    life-table convention that equals the Kaplan–Meier estimator when times are rounded down to
    the grid). Returned at the *end* of each interval.

    Returns
    -------
    DataFrame
        ``interval``, ``end`` (days; inf for the last), ``survival`` (KM for ``cause``, other
        causes censored), ``lower``, ``upper`` (Greenwood, log-log), ``cif_<c>`` (Aalen–Johansen).
    """
    from scipy.stats import norm

    tb = table.sort_values("start")
    n = tb["n_risk"].to_numpy(float)
    d = {c: tb[f"events_{c}"].to_numpy(float) for c in causes}
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(n > 0, d[cause] / n, 0.0)
        S = np.cumprod(1 - h)
        gw = np.cumsum(np.where((n > 0) & (n > d[cause]), d[cause] / (n * (n - d[cause])), 0.0))
        z = norm.ppf(0.5 + conf_level / 2)
        logS = np.log(S)
        se = np.sqrt(gw) / np.abs(logS)
        lower = np.exp(-np.exp(np.log(-logS) + z * se))
        upper = np.exp(-np.exp(np.log(-logS) - z * se))
        lower = np.where(S >= 1, 1.0, np.where(S <= 0, 0.0, lower))
        upper = np.where(S >= 1, 1.0, np.where(S <= 0, 0.0, upper))
        dall = sum(d.values())
        s_all = np.cumprod(np.where(n > 0, 1 - dall / n, 1.0))
        s_before = np.concatenate([[1.0], s_all[:-1]])
        out = {"interval": tb["interval"].to_numpy(),
               "end": np.concatenate([tb["start"].to_numpy(float)[1:], [np.inf]]),
               "survival": S, "lower": lower, "upper": upper}
        for c in causes:
            out[f"cif_{c}"] = np.cumsum(np.where(n > 0, s_before * d[c] / n, 0.0))
    return pd.DataFrame(out)


class GridSurvival:
    """Kaplan–Meier and Aalen–Johansen of one group on a grid, from its risk table (summed over
    sites, or built from records by :func:`grid_table`): a thin estimator around
    :func:`grid_estimates`.

    Parameters
    ----------
    cause : int
        The event of the Kaplan–Meier curve (other causes censored).
    conf_level : float

    Attributes
    ----------
    table_ : DataFrame
        :func:`grid_estimates` of the table.
    n_ : int
        People at risk at the start of the grid.
    n_events_ : dict
        Events by cause.

    Examples
    --------
    >>> f = pd.DataFrame({"time": [10., 40., 40., 70., 95.], "event": [1, 2, 1, 0, 1]})
    >>> gs = GridSurvival().fit(grid_table(f, None, [0, 30, 60]))
    >>> gs
    <GridSurvival n=5, events={1: 3, 2: 1}, intervals=3>
    >>> gs.table_["cif_1"].round(2).tolist()
    [0.2, 0.4, 0.6]
    """

    def __init__(self, cause: int = 1, conf_level: float = 0.95, causes=(1, 2)):
        self.cause = cause
        self.conf_level = conf_level
        self.causes = tuple(causes)

    def fit(self, table: pd.DataFrame) -> "GridSurvival":
        if table["level"].nunique() > 1:
            raise ValueError("GridSurvival fits one group: select one level of the risk table")
        tb = table.sort_values("start")
        self.table_ = grid_estimates(tb, self.causes, cause=self.cause, conf_level=self.conf_level)
        self.n_ = int(tb["n_risk"].iloc[0]) if len(tb) else 0
        self.n_events_ = {c: int(tb[f"events_{c}"].sum()) for c in self.causes}
        return self

    def __repr__(self) -> str:
        if not hasattr(self, "table_"):
            return "<GridSurvival (not fitted)>"
        return f"<GridSurvival n={self.n_}, events={self.n_events_}, intervals={len(self.table_)}>"


def grid_logrank(table: pd.DataFrame, *, cause: int = 1) -> dict:
    """k-sample log-rank test from a risk table with several levels on one grid (the formula of
    :func:`ixl_eval.survival.logrank`, hypergeometric variance), over the closed intervals (all
    intervals when there is only one)."""
    from scipy.stats import chi2

    # the open last interval is left out when there are closed ones: a site may have ended its
    # follow-up there (see coarsen), so only the closed intervals are the same at every site
    if table["start"].nunique() > 1:
        table = table[table["start"] < table["start"].max()]
    levels = list(dict.fromkeys(table["level"]))
    Y = np.stack([table[table.level == lv].sort_values("start")["n_risk"].to_numpy(float) for lv in levels], axis=1)
    D = np.stack([table[table.level == lv].sort_values("start")[f"events_{cause}"].to_numpy(float) for lv in levels], axis=1)
    Yt, dt_ = Y.sum(1), D.sum(1)
    keep = Yt > 0
    Y, D, Yt, dt_ = Y[keep], D[keep], Yt[keep], dt_[keep]
    P = Y / Yt[:, None]
    expected = (P * dt_[:, None]).sum(0)
    U = D.sum(0) - expected
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(Yt > 1, dt_ * (Yt - dt_) / (Yt - 1), 0.0)
    V = np.diag((P * f[:, None]).sum(0)) - (P * f[:, None]).T @ P
    stat = float(U[:-1] @ np.linalg.pinv(V[:-1, :-1]) @ U[:-1])
    df = len(levels) - 1
    return {"statistic": stat, "df": df, "p_value": float(chi2.sf(stat, df)),
            "levels": levels, "observed": D.sum(0).tolist(), "expected": expected.tolist()}


# ------------------------------------------------------------------------------------ coarsening
def _ok(v, k: int) -> bool:
    return v == 0 or v >= k


#: Interval boundaries (in months) a coarsened grid may keep. Every site cuts only at these, so
#: the sites' grids share most of their boundaries and the pooled grid (the boundaries every site
#: kept) stays fine; free cuts at any month would rarely line up across sites.
LANDMARK_MONTHS = (1, 2, 3, 4, 5, 6, 9, 12, 15, 18, 24, 30, 36, 42, 48, 60, 72, 84, 96, 108, 120)


def landmark_intervals(grid_months: int = 1) -> set:
    """Interval indices (of a grid of ``grid_months`` months) at which :func:`coarsen` may cut:
    the landmark months that fall on the grid, and every whole year.

    >>> sorted(landmark_intervals(3))[:6]
    [1, 2, 3, 4, 5, 6]
    """
    return ({m // grid_months for m in LANDMARK_MONTHS if m % grid_months == 0}
            | {j for j in range(1, 400) if (j * grid_months) % 12 == 0})


SEP = "|"  # joins the levels of a merged group ("M|X"; "+" is in level names such as "50+")


def merge_levels(table: pd.DataFrame, blocks, causes=(1, 2)) -> pd.DataFrame:
    """Sum the levels of a risk table within blocks (lists of levels on one grid); a block is
    labelled by its levels joined with ``+`` in sorted order. Levels absent from the table add
    nothing; a block none of whose levels is present is left out.

    >>> f = pd.DataFrame({"time": [5., 40., 50.], "event": [1, 1, 0], "g": ["a", "b", "c"]})
    >>> merge_levels(grid_table(f, "g", [0, 30]), [["a"], ["c", "b"]])[["level", "n_risk"]].values.tolist()
    [['a', 1], ['a', 0], ['b|c', 2], ['b|c', 2]]
    """
    cols = ["n_risk"] + [f"events_{c}" for c in causes] + ["censored"]
    out = []
    for block in blocks:
        block = sorted(str(x) for x in block)
        sub = table[table["level"].astype(str).isin(block)]
        if not len(sub):
            continue
        g = sub.groupby("interval", sort=True)
        m = g[cols].sum(min_count=1).reset_index()
        m["start"] = g["start"].first().to_numpy()
        m["level"] = SEP.join(block)
        out.append(m[["level", "interval", "start"] + cols])
    return pd.concat(out, ignore_index=True) if out else table.iloc[0:0].copy()


def _cut(table: pd.DataFrame, k: int, cols, landmarks):
    """One greedy pass of :func:`coarsen` on fixed levels: (cuts, truncated, failing levels)."""
    levels = list(dict.fromkeys(table["level"]))
    sub = {lv: table[table.level == lv].sort_values("start") for lv in levels}
    J = len(next(iter(sub.values())))
    ev = {lv: x[cols].to_numpy(np.int64) for lv, x in sub.items()}
    nr = {lv: x["n_risk"].to_numpy(np.int64) for lv, x in sub.items()}
    cuts = [0]
    acc = {lv: np.zeros(len(cols), np.int64) for lv in levels}
    for j in range(J):
        for lv in levels:
            acc[lv] += ev[lv][j]
        if j + 1 < J and (landmarks is None or (j + 1) in landmarks) and \
                all(all(_ok(x, k) for x in acc[lv]) and _ok(nr[lv][j + 1], k) for lv in levels):
            cuts.append(j + 1)
            acc = {lv: np.zeros(len(cols), np.int64) for lv in levels}
    tail_ok = all(all(_ok(x, k) for x in ev[lv][cuts[-1]:].sum(0)) for lv in levels)
    truncated = len(cuts) > 1 and not tail_ok
    bad = [lv for lv in levels if not _ok(nr[lv][0], k)
           or (not truncated and not all(_ok(x, k) for x in ev[lv][cuts[-1]:].sum(0)))]
    return cuts, truncated, bad, nr


def coarsen(table: pd.DataFrame, k: int, causes=(1, 2), landmarks=None) -> tuple[pd.DataFrame, dict]:
    """Merge grid intervals, and levels, until every count is 0 or at least ``k``.

    Intervals are merged from left to right, cutting only at ``landmarks`` (interval indices;
    default anywhere): an interval is closed only when, for every level, its events by cause and
    censored are 0 or ≥ k and the number at risk at the next start is 0 or ≥ k. When what remains
    after the last cut fails, follow-up ends at that cut (the last interval reports everyone
    still at risk as censored there). A level that still fails (fewer than k people, or a count
    in 1..k−1 over its whole follow-up) is **merged** with the smallest other level (``"M|X"``)
    and the grid redone: withholding it instead would let it be recovered as the overall table
    minus the other levels. When one level is left and it fails, the table is withheld.

    Returns
    -------
    (DataFrame, dict)
        The coarsened table and a record of what was done: ``fine_intervals``, ``intervals``,
        ``merged_levels``, ``withheld_levels``, ``follow_up_ends_month``.
    """
    cols = [f"events_{c}" for c in causes] + ["censored"]
    fine = int(table["interval"].max() + 1) if len(table) else 0
    blocks = [[lv] for lv in dict.fromkeys(table["level"].astype(str))]
    while blocks:
        merged = merge_levels(table, blocks, causes)
        cuts, truncated, bad, nr = _cut(merged, k, cols, landmarks)
        if not bad:
            break
        if len(blocks) == 1:
            return table.iloc[0:0].copy(), {"fine_intervals": fine, "intervals": 0, "merged_levels": [],
                                            "withheld_levels": [SEP.join(sorted(blocks[0]))],
                                            "follow_up_ends_month": None}
        label = {SEP.join(sorted(b)): b for b in blocks}
        worst = min(bad, key=lambda lv: (nr[lv][0], lv))
        partner = min((lv for lv in label if lv != worst), key=lambda lv: (nr[lv][0], lv))
        blocks = [b for lv, b in label.items() if lv not in (worst, partner)] + [label[worst] + label[partner]]
    starts = merged[merged.level == merged.level.iloc[0]].sort_values("start")["start"].to_numpy(float)
    out = regrid(merged, starts[cuts], causes)
    if truncated:
        last = out["interval"] == len(cuts) - 1
        for c in cols:
            out.loc[last, c] = 0
        out.loc[last, "censored"] = out.loc[last, "n_risk"]
    return out, {"fine_intervals": fine, "intervals": len(cuts),
                 "merged_levels": [SEP.join(sorted(b)) for b in blocks if len(b) > 1], "withheld_levels": [],
                 "follow_up_ends_month": round(float(starts[cuts[-1]]) / MONTH_DAYS, 2) if truncated else None}


def _protected(table: pd.DataFrame, name: str, k: int, causes=(1, 2)) -> pd.DataFrame:
    """Pass a coarsened risk table through :func:`ixl_eval.disclosure.protect` (the same control
    as a published table); a cell it still withholds is written as missing, never as its value."""
    from .disclosure import protect
    from .report.table import Col, Table

    data = table.copy()
    data["level"] = data["level"].astype(str)
    data["interval"] = data["interval"].astype(str)
    cols = [Col("level", "Gruppo", "Group"), Col("interval", "Intervallo", "Interval"),
            Col("start", "Inizio (giorni)", "Start (days)", role="number"),
            Col("n_risk", "A rischio", "At risk", role="count")]
    cols += [Col(f"events_{c}", f"Eventi {c}", f"Events {c}", role="count") for c in causes]
    cols += [Col("censored", "Censurati", "Censored", role="count")]
    t = Table(name, data, cols, coords=[], lines="none")
    protect([t], k)
    out = table.copy().reset_index(drop=True)
    for c in t.counts:
        h = t.hidden(c)
        if h.any():
            out[c] = out[c].astype(float).where(~h)
    return out


# ------------------------------------------------------------------------------------ meta-analysis
# ------------------------------------------------------------------------------------ KPI periods
KPI_LEVELS = ("quarter", "half", "year")
# Indicators that count distinct people per period: not additive over periods (never coarsened).
NOT_ADDITIVE = ("persons_placed",)


def kpi_label(period: str, level: str) -> str:
    """The label of the ``level`` period holding quarter ``period`` ("2019Q3" -> "2019H2", "2019")."""
    year, q = str(period)[:4], int(str(period)[-1])
    return {"quarter": str(period), "half": f"{year}H{1 if q <= 2 else 2}", "year": year}[level]


def kpi_level(label: str) -> str:
    """The level of a KPI period label: ``quarter`` (2019Q3), ``half`` (2019H2) or ``year`` (2019)."""
    label = str(label)
    return "quarter" if "Q" in label else "half" if "H" in label else "year"


def coarsen_kpi(quarterly: pd.DataFrame, k: int) -> tuple[pd.DataFrame, dict]:
    """Quarterly KPI counts as sent by a site: long rows ``indicator, period, count``.

    For each indicator and calendar year, the quarters are sent when each is 0 or at least ``k``;
    otherwise the half-years (sums of their quarters) when both are; otherwise the year (except
    ``persons_placed``, distinct people per quarter, whose sum over quarters is not a count of
    people: its quarters are sent or withheld, never summed). A year still
    below ``k`` is withheld (missing), and :func:`ixl_eval.disclosure.protect` adds a second withheld
    period where one alone could be recovered from the indicator's total (each indicator's periods
    are an additive line). Returns the table and the manifest record (``coarsened``, ``withheld``).
    """
    from .disclosure import protect
    from .report.table import Col, Table

    q = quarterly.assign(period=quarterly["period"].astype(str)).set_index("period")
    years = sorted({p[:4] for p in q.index})
    tables, coarsened = [], []
    for c in KPI_COUNTS:
        rows = []
        for y in years:
            fine = q.loc[[p for p in q.index if p[:4] == y], c].astype(int)
            # persons placed are distinct people per period: a person placed in two quarters would
            # count twice in their sum, so that indicator is never coarsened (only withheld)
            levels = ("quarter",) if c in NOT_ADDITIVE else KPI_LEVELS
            for level in levels:
                g = fine.groupby([kpi_label(p, level) for p in fine.index], sort=True).sum()
                if level == levels[-1] or all(_ok(v, k) for v in g):
                    break
            if level != "quarter":
                coarsened.append(f"{y}/{c}: {level}")
            rows += [(lab, int(v)) for lab, v in g.items()]
        tables.append(Table(f"kpi_{c}", pd.DataFrame(rows, columns=["period", "count"]),
                            [Col("period", "Periodo", "Period"), Col("count", c, c, role="count")], lines="columns"))
    protect(tables, k)
    out, withheld = [], []
    for c, t in zip(KPI_COUNTS, tables):
        small = t.hidden("count")
        withheld += [f"{p}/{c}" for p in t.data.loc[small, "period"]]
        out.append(pd.DataFrame({"indicator": c, "period": t.data["period"].to_numpy(),
                                 "count": t.data["count"].astype(float).where(~small).to_numpy()}))
    kpi = pd.concat(out, ignore_index=True)
    return kpi, {"table": "kpi", "coarsened": coarsened, "withheld_cells": len(withheld), "withheld": withheld}


def pool_kpi(tables) -> pd.DataFrame:
    """Sum the sites' KPI tables (from :func:`coarsen_kpi`) on a common period grid.

    For each indicator and year the grid is the coarsest any site used; each site's periods are
    summed up to it. A pooled cell is missing when any site withheld a period inside it.
    """
    tabs = [t.assign(period=t["period"].astype(str), year=t["period"].astype(str).str[:4]) for t in tables]
    allt = pd.concat(tabs, ignore_index=True)
    lev = (allt.assign(r=allt["period"].map(lambda p: KPI_LEVELS.index(kpi_level(p))))
           .groupby(["indicator", "year"])["r"].max())
    parts = []
    for t in tabs:
        common = [KPI_LEVELS[lev[(i, y)]] for i, y in zip(t["indicator"], t["year"])]
        lab = [p if kpi_level(p) == L else y if L == "year" else kpi_label(p, "half")
               for p, y, L in zip(t["period"], t["year"], common)]
        parts.append(t.assign(period=lab).groupby(["indicator", "period"])["count"]
                     .agg(lambda v: v.sum() if v.notna().all() else np.nan))
    idx = sorted(set().union(*[set(p.index) for p in parts]), key=lambda ip: (KPI_COUNTS.index(ip[0]), ip[1]))
    total = sum(p.reindex(idx) for p in parts)  # NaN where any site withheld (or lacks) a part
    return total.rename("count").reset_index()


def meta_analysis(coefs, ses) -> dict:
    """Inverse-variance meta-analysis of one coefficient across sites.

    Fixed effect: weights ``1/se²``. Random effects: DerSimonian & Laird (1986) moment estimate
    of the between-site variance ``τ²``. Heterogeneity: Cochran's ``Q`` (chi-square with
    ``S − 1`` df) and ``I² = max(0, (Q − df)/Q)`` (Higgins & Thompson 2002).

    >>> r = meta_analysis([0.1, 0.3, 0.2], [0.1, 0.1, 0.1])
    >>> round(r["fixed"], 3), round(r["fixed_se"], 4), round(r["Q"], 2), r["tau2"]
    (0.2, 0.0577, 2.0, 0.0)
    """
    from scipy.stats import chi2

    b = np.asarray(coefs, float)
    v = np.asarray(ses, float) ** 2
    w = 1 / v
    fixed = float((w * b).sum() / w.sum())
    Q = float((w * (b - fixed) ** 2).sum())
    df = len(b) - 1
    c = w.sum() - (w ** 2).sum() / w.sum()
    tau2 = max(0.0, (Q - df) / c) if df > 0 and c > 0 else 0.0
    wr = 1 / (v + tau2)
    random = float((wr * b).sum() / wr.sum())
    return {"fixed": fixed, "fixed_se": float(1 / math.sqrt(w.sum())), "random": random,
            "random_se": float(1 / math.sqrt(wr.sum())), "Q": Q, "df": df,
            "Q_p": float(chi2.sf(Q, df)) if df > 0 else float("nan"),
            "I2": max(0.0, (Q - df) / Q) if df > 0 and Q > 0 else 0.0, "tau2": float(tau2),
            "weights_fixed": (w / w.sum()).tolist()}


# ------------------------------------------------------------------------------------ site export
def params_fingerprint(pset) -> tuple[str, dict]:
    """The parameter content that must be equal at every site and at the pooling, and its hash
    (the data folder is a site's own business and is left out)."""
    content = pset.resolved()
    for key in ("data_dir", "name", "description"):
        content.pop(key, None)
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest(), content


def _data_sha256(ds) -> str:
    return hashlib.sha256("\n".join(f"{k} {v}" for k, v in sorted(ds.sha256.items())).encode()).hexdigest()


def _ttp_frame(ds, pset):
    from .estimate.cohorts import time_to_placement

    nb = pset.selected().get("tempo_inserimento")
    tz = getattr(nb, "time_zero", "enrolment") if nb is not None else "enrolment"
    f = time_to_placement(ds, time_zero=tz, cutoff=pset.cutoff)
    f["age_band"] = f["age_band"].astype(str)
    return f


def _settings(pset) -> dict:
    nb = pset.selected().get("tempo_inserimento")
    subgroups = list(getattr(nb, "subgroups", None) or ["gender", "age_band", "citizenship_group"])
    cov = list(getattr(nb, "cox_covariates", None) or ["gender", "age_band"])
    strata = list(getattr(nb, "cox_strata", None) or [])
    return {"subgroups": subgroups, "cox_covariates": cov, "cox_strata": strata,
            "conversion_groups": ["employer_size"],
            "grid_months": int(getattr(pset, "multi_site_grid_months", 1))}


def site_tables(ds, pset) -> dict:
    """The fine (un-coarsened) aggregates of one site: ``{name: risk table}`` plus ``kpi``.

    Risk tables are named ``ttp__<grouping>`` (time to placement, causes 1 placement and 2
    withdrawal) and ``conv__<grouping>`` (fixed-term contracts, 1 conversion and 2 end); grouping
    ``all`` is everyone.
    """
    from .estimate.cohorts import fixed_term_episodes
    from .estimate.kpi import Indicators

    st = _settings(pset)
    out = {}
    ttp = _ttp_frame(ds, pset)
    grid = month_grid(ttp["time"].max() if len(ttp) else 0, st["grid_months"])
    for by in [None] + st["subgroups"]:
        out[f"ttp__{by or 'all'}"] = grid_table(ttp, by, grid, causes=TTP_CAUSES)
    ep = fixed_term_episodes(ds, which="first", cutoff=pset.cutoff)
    grid_c = month_grid(ep["time"].max() if len(ep) else 0, st["grid_months"])
    for by in [None] + st["conversion_groups"]:
        out[f"conv__{by or 'all'}"] = grid_table(ep, by, grid_c, causes=CONV_CAUSES)
    kt = Indicators().fit(ds, cutoff=pset.cutoff).table("quarter")
    out["kpi"] = kt[["period"] + list(KPI_COUNTS)].copy()
    return out


def cox_frame(frame: pd.DataFrame, covariates, k: int) -> tuple[pd.DataFrame, list]:
    """The records of a site's Cox fit: people in a covariate level with fewer than ``k``
    placements at the site are left out (a coefficient resting on so few events would come close
    to describing individuals). Returns the frame and the levels left out (``"column=level"``).

    The rule is applied per site, so a test can rebuild the same records for a stratified Cox.
    """
    f = frame.copy()
    dropped = []
    for c in covariates:
        f[c] = f[c].astype(str)
        ev = f.loc[f["event"] == 1, c].value_counts()
        for lev in sorted(f[c].unique()):
            if ev.get(lev, 0) < k:
                dropped.append(f"{c}={lev}")
                f = f[f[c] != lev]
    return f.reset_index(drop=True), dropped


def _cox_fit(ds, pset, k: int) -> tuple[dict | None, str]:
    from .estimate.survival import CoxModel

    st = _settings(pset)
    cov, strata = st["cox_covariates"], st["cox_strata"]
    f, dropped = cox_frame(_ttp_frame(ds, pset), cov, k)
    if len(f) < k or (f["event"] == 1).sum() < k:
        return None, f"Cox fit withheld: fewer than {k} people or placements"
    ref = {c: sorted(f[c].unique())[0] for c in cov}
    m = CoxModel(cov, strata=strata, reference=ref).fit(f, event_of_interest=1)
    fit = {"covariates": cov, "strata": strata, "reference": ref, "terms": list(m.params_.index),
           "coef": [float(x) for x in m.params_], "covariance": m.variance_.to_numpy().tolist(),
           "n": int(m.n_), "events": int(m.n_events_), "levels_left_out": dropped}
    if dropped:
        # with the site's total (the risk tables), n and events would give the left-out people back
        fit["n"] = fit["events"] = None
    return fit, (f"levels left out of the Cox fit (fewer than {k} placements): {dropped}" if dropped else "")


def _check_counts(members: dict, k: int, where: str) -> None:
    """The last gate before writing: no count of a site file lies in 1..k-1."""
    from .exceptions import DisclosureError

    for n, b in members.items():
        if not n.endswith(".parquet"):
            continue
        df = pd.read_parquet(io.BytesIO(b))
        for c in df.columns:
            if c in COUNT_COLS or c in KPI_COUNTS or c == "count":
                v = df[c].dropna().to_numpy(float)
                if ((v > 0) & (v < k)).any():
                    raise DisclosureError(f"{where}: {n} column {c} holds a count below {k}; nothing was written")


def _ips_summary(ds, pset, k: int) -> tuple[dict | None, str]:
    """The site's IPS effect estimates and balance summaries (no per-covariate means: with the
    arm sizes, the mean of an indicator would give a count back).

    Per contrast (``offer``, ``start``) and method (``iptw``, ``matching``): arm sizes, the log
    hazard ratio and the risk difference of the headline outcome with their standard errors
    (from the 95% intervals), the largest |SMD| after adjustment, the number of terms at or above
    the balance threshold, and the verdict. A contrast with an arm below ``k`` is withheld.
    """
    from .estimate import ips

    nb = pset.selected().get("efficacia_ips")
    if nb is None:
        return None, "IPS not in the parameter set"
    kw = {x: getattr(nb, x) for x in ("headline", "trim", "caliper", "min_per_arm", "balance_threshold", "seed")
          if hasattr(nb, x)}
    try:
        a = ips.analyse(ds, cutoff=pset.cutoff, conditional=False, **kw)
    except (ValueError, np.linalg.LinAlgError) as e:
        return None, f"IPS analysis not possible at this site: {e}"
    out, notes = {"headline": a.params["headline"], "balance_threshold": a.params["balance_threshold"]}, []
    z = 1.959963984540054
    for contrast, eff in a.effects.items():
        for method, bal in (("iptw", eff.balance_iptw), ("matching", eff.balance_match)):
            hr, rd = eff.get("hazard_ratio", method), eff.get(a.params["headline"], method)
            nt, nc = int(hr["n_treated"]), int(hr["n_control"])
            if 0 < nt < k or 0 < nc < k:
                notes.append(f"{contrast}/{method} withheld: an arm has fewer than {k} people")
                continue
            smd = bal["smd_after"].abs()
            ok = all(np.isfinite([hr["estimate"], hr["ci_low"], hr["ci_high"], rd["estimate"], rd["ci_low"], rd["ci_high"]]))
            out[f"{contrast}__{method}"] = {
                "n_treated": nt, "n_control": nc,
                "log_hr": float(np.log(hr["estimate"])) if ok else None,
                "log_hr_se": float((np.log(hr["ci_high"]) - np.log(hr["ci_low"])) / (2 * z)) if ok else None,
                "risk_difference": float(rd["estimate"]) if ok else None,
                "risk_difference_se": float((rd["ci_high"] - rd["ci_low"]) / (2 * z)) if ok else None,
                "max_abs_smd_after": float(smd.max()), "terms": int(len(smd)),
                "terms_unbalanced": int((smd >= a.params["balance_threshold"]).sum()),
                "conclusive": bool(eff.verdict[method][0]), "reasons": list(eff.verdict[method][1])}
    return out, "; ".join(notes)


def _parquet_bytes(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def export_site(params_path, data_dir, site: str, out, *, extract_date=None) -> dict:
    """Write a site file: a zip of Parquet tables and ``manifest.json``, aggregates only.

    Every count is 0 or at least the disclosure threshold ``k`` of the parameter set: risk tables
    are coarsened (:func:`coarsen`) and then passed through :func:`ixl_eval.disclosure.protect`;
    KPI counts are sent by quarter, or by half-year or year where a quarter would be below ``k``
    (:func:`coarsen_kpi`); a whole year below ``k`` is withheld. What was coarsened or withheld is
    listed in the manifest (``disclosure``).

    Returns
    -------
    dict
        The manifest.

    Examples
    --------
    >>> export_site("params/default.yaml", "data/synthetic", "bologna", "/tmp/bologna.zip")  # doctest: +SKIP
    """
    import re

    from . import __version__
    from .dataset import load_dataset
    from .params import load_params

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}", site):
        raise SiteFileError(f"site name {site!r}: use letters, digits, '-' or '_' (at most 40)")
    out = Path(out)
    if out.exists():
        raise SiteFileError(f"{out} exists: a site file is never overwritten; choose another --out")
    pset = load_params(params_path)
    ds = load_dataset(data_dir)
    k = int(pset.disclosure_threshold)
    phash, pcontent = params_fingerprint(pset)
    members: dict[str, bytes] = {}
    disclosure = []
    fine = site_tables(ds, pset)
    for name, tb in fine.items():
        if name == "kpi":
            continue
        causes = TTP_CAUSES if name.startswith("ttp") else CONV_CAUSES
        coarse, rec = coarsen(tb, k, causes, landmark_intervals(_settings(pset)["grid_months"]))
        coarse = _protected(coarse, name.replace("__", "_"), k, causes)
        withheld_cells = int(coarse[list(COUNT_COLS)].isna().sum().sum()) if len(coarse) else 0
        rec.update({"table": name, "withheld_cells": withheld_cells})
        disclosure.append(rec)
        members[f"{name}.parquet"] = _parquet_bytes(coarse)
    kpi, rec = coarsen_kpi(fine["kpi"], k)
    disclosure.append(rec)
    members["kpi.parquet"] = _parquet_bytes(kpi)
    cox, why = _cox_fit(ds, pset, k)
    members["cox.json"] = json.dumps(cox, indent=1).encode()
    if why:
        disclosure.append({"table": "cox", "withheld" if cox is None else "coarsened": why})
    ipsd, why = _ips_summary(ds, pset, k)
    members["ips.json"] = json.dumps(ipsd, indent=1).encode()
    if why:
        disclosure.append({"table": "ips", "withheld": why})
    _check_counts(members, k, f"site {site}")
    manifest = {
        "format": FORMAT_VERSION,
        "site": site,
        "extract_date": str(extract_date or ds.extracted_on),
        "created": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "synthetic": bool(ds.is_synthetic),
        "data_sha256": _data_sha256(ds),
        "params_sha256": phash,
        "params": pcontent,
        "package_version": __version__,
        "disclosure_threshold": k,
        "grid": {"unit": "month", "days_per_month": MONTH_DAYS, "months_per_interval": _settings(pset)["grid_months"]},
        "settings": _settings(pset),
        "disclosure": disclosure,
        "members": {n: hashlib.sha256(b).hexdigest() for n, b in sorted(members.items())},
    }
    manifest["content_sha256"] = hashlib.sha256(json.dumps(manifest["members"], sort_keys=True).encode()).hexdigest()
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "x", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", json.dumps(manifest, indent=1, ensure_ascii=False))
        for n, b in sorted(members.items()):
            z.writestr(n, b)
    return manifest


@dataclass
class SiteFile:
    """A site file read and checked: its manifest, its tables and its SHA-256."""

    path: Path
    manifest: dict
    tables: dict = field(default_factory=dict)
    cox: dict | None = None
    ips: dict | None = None
    sha256: str = ""

    @property
    def site(self) -> str:
        return self.manifest["site"]

    def __repr__(self) -> str:
        return f"<SiteFile {self.site!r} tables={len(self.tables)} sha256={self.sha256[:8]}>"


def read_site(path, *, params_sha256: str | None = None, version: str | None = None) -> SiteFile:
    """Read a site file and refuse it when it was tampered with (a member whose SHA-256 differs
    from the manifest), or made with another package version or parameter set.

    Raises
    ------
    SiteFileError
        Naming the file, the site and the mismatch.
    """
    from . import __version__

    path = Path(path)
    try:
        raw = path.read_bytes()
        z = zipfile.ZipFile(io.BytesIO(raw))
        manifest = json.loads(z.read("manifest.json"))
        site = manifest["site"]
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as e:
        raise SiteFileError(f"{path}: not a readable site file ({e})") from None
    where = f"{path.name} (site {site!r})"
    names = set(z.namelist()) - {"manifest.json"}
    listed = manifest.get("members", {})
    if names != set(listed):
        raise SiteFileError(f"{where}: refused, tampered with: files {sorted(names ^ set(listed))} "
                            "are not those listed in its manifest")
    blobs = {}
    for n in sorted(names):
        b = z.read(n)
        if hashlib.sha256(b).hexdigest() != listed[n]:
            raise SiteFileError(f"{where}: refused, tampered with: the SHA-256 of {n} differs from its manifest")
        blobs[n] = b
    if hashlib.sha256(json.dumps(listed, sort_keys=True).encode()).hexdigest() != manifest.get("content_sha256"):
        raise SiteFileError(f"{where}: refused, tampered with: the manifest's content hash does not match")
    want = version or __version__
    if manifest.get("package_version") != want:
        raise SiteFileError(f"{where}: refused, made with ixl-eval {manifest.get('package_version')}, "
                            f"this is {want}: every site must use the same version")
    if params_sha256 is not None and manifest.get("params_sha256") != params_sha256:
        raise SiteFileError(f"{where}: refused, made with another parameter set "
                            f"(hash {str(manifest.get('params_sha256'))[:12]}, expected {params_sha256[:12]})")
    sf = SiteFile(path, manifest, sha256=hashlib.sha256(raw).hexdigest())
    for n, b in blobs.items():
        if n.endswith(".parquet"):
            sf.tables[n[:-8]] = pd.read_parquet(io.BytesIO(b))
        elif n == "cox.json":
            sf.cox = json.loads(b)
        elif n == "ips.json":
            sf.ips = json.loads(b)
    return sf


def describe_site(path, lang: str = "en") -> str:
    """What a site file sends, in words, for the site's data-protection officer."""
    sf = read_site(path)
    m = sf.manifest
    k = m["disclosure_threshold"]
    it = lang == "it"
    lines = []
    if it:
        lines += [f"File del sito {m['site']!r} ({sf.path.name}), estrazione del {m['extract_date']}, "
                  f"ixl-eval {m['package_version']}.",
                  f"Non contiene record di persone: solo conteggi aggregati, ognuno pari a 0 o almeno {k}, "
                  "e i coefficienti di un modello.", ""]
    else:
        lines += [f"Site file of {m['site']!r} ({sf.path.name}), extract of {m['extract_date']}, "
                  f"ixl-eval {m['package_version']}.",
                  f"It holds no records of people: only aggregate counts, each 0 or at least {k}, "
                  "and the coefficients of one model.", ""]
    dis = {d["table"]: d for d in m["disclosure"]}
    for name, tb in sf.tables.items():
        if name == "kpi":
            shown = int(tb["count"].notna().sum())
            co = dis["kpi"].get("coarsened", [])
            lines.append((f"- kpi: conteggi per trimestre ({len(KPI_COUNTS)} indicatori: {', '.join(KPI_COUNTS)}); "
                          f"{shown} celle, {dis['kpi']['withheld_cells']} trattenute (un anno intero sotto {k}, o per proteggerne uno)"
                          + (f"; per {len(co)} anni-indicatore si mandano semestri o l'anno intero invece dei trimestri, "
                             f"perché un trimestre sarebbe sotto {k}: {', '.join(co)}" if co else "") + ".")
                         if it else
                         (f"- kpi: counts by quarter ({len(KPI_COUNTS)} indicators: {', '.join(KPI_COUNTS)}); "
                          f"{shown} cells, {dis['kpi']['withheld_cells']} withheld (a whole year below {k}, or to protect one)"
                          + (f"; for {len(co)} indicator-years half-years or the whole year are sent instead of quarters, "
                             f"because a quarter would be below {k}: {', '.join(co)}" if co else "") + "."))
            continue
        what, by = name.split("__")
        subj = {"ttp": ("tempo all'inserimento (eventi: inserimento, ritiro)", "time to placement (events: placement, withdrawal)"),
                "conv": ("trasformazione dei contratti a termine (eventi: trasformazione, fine)",
                         "conversion of fixed-term contracts (events: conversion, end)")}[what][0 if it else 1]
        d = dis.get(name, {})
        levels = list(dict.fromkeys(tb["level"])) if len(tb) else []
        if it:
            lines.append(f"- {name}: {subj}, per {by} ({len(levels)} gruppi: {', '.join(levels)}); "
                         f"per ogni intervallo: persone a rischio all'inizio, eventi per causa, censurati. "
                         f"{d.get('intervals', 0)} intervalli (da {d.get('fine_intervals', 0)} mesi uniti per protezione)"
                         + (f"; gruppi uniti: {', '.join(d['merged_levels'])}" if d.get("merged_levels") else "")
                         + (f"; follow-up chiuso al mese {d['follow_up_ends_month']}" if d.get("follow_up_ends_month") else "")
                         + (f"; gruppi trattenuti: {', '.join(d['withheld_levels'])}" if d.get("withheld_levels") else "") + ".")
        else:
            lines.append(f"- {name}: {subj}, by {by} ({len(levels)} groups: {', '.join(levels)}); "
                         f"per interval: people at risk at its start, events by cause, censored. "
                         f"{d.get('intervals', 0)} intervals (merged from {d.get('fine_intervals', 0)} months for protection)"
                         + (f"; groups merged: {', '.join(d['merged_levels'])}" if d.get("merged_levels") else "")
                         + (f"; follow-up ends at month {d['follow_up_ends_month']}" if d.get("follow_up_ends_month") else "")
                         + (f"; groups withheld: {', '.join(d['withheld_levels'])}" if d.get("withheld_levels") else "") + ".")
    if sf.cox:
        c = sf.cox
        if it:
            ns = (f"n = {c['n']}, eventi = {c['events']}." if c["n"] is not None else
                  "n ed eventi non inviati (con il totale del sito rivelerebbero i gruppi esclusi).")
            lines.append(f"- cox: modello di Cox del tempo all'inserimento ({', '.join(c['covariates'])}; strati "
                         f"{', '.join(c['strata']) or 'nessuno'}): {len(c['terms'])} coefficienti, la loro covarianza; {ns}")
        else:
            ns = (f"n = {c['n']}, events = {c['events']}." if c["n"] is not None else
                  "n and events not sent (with the site's total they would give the left-out groups back).")
            lines.append(f"- cox: Cox model of time to placement ({', '.join(c['covariates'])}; strata "
                         f"{', '.join(c['strata']) or 'none'}): {len(c['terms'])} coefficients, their covariance; {ns}")
        if c.get("levels_left_out"):
            lines.append(("  Gruppi esclusi dal modello (meno di {k} inserimenti): " if it else
                          "  Groups left out of the model (fewer than {k} placements): ").format(k=k)
                         + ", ".join(c["levels_left_out"]))
    else:
        why = dis.get("cox", {}).get("withheld", "")
        lines.append(f"- cox: {'trattenuto' if it else 'withheld'} ({why}).")
    if sf.ips:
        parts = [x for x in sf.ips if "__" in x]
        lines.append((f"- ips: per confronto e metodo ({', '.join(parts)}): persone per braccio, log hazard ratio e "
                      f"differenza di rischio ({sf.ips['headline']}) con errore standard, massimo |SMD| dopo "
                      "l'aggiustamento e numero di termini non bilanciati, esito (conclusivo o no).") if it else
                     (f"- ips: per contrast and method ({', '.join(parts)}): people per arm, log hazard ratio and risk "
                      f"difference ({sf.ips['headline']}) with standard errors, largest |SMD| after adjustment and "
                      "number of unbalanced terms, verdict (conclusive or not)."))
    lines += ["", ("Identità: SHA-256 dei dati " if it else "Identity: data SHA-256 ") + m["data_sha256"][:16]
              + "…, " + ("parametri " if it else "parameters ") + m["params_sha256"][:16] + "…"]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------ pooling
def common_starts(tables) -> np.ndarray:
    """The finest grid all sites' grids can be merged onto: the interval starts every site has."""
    sets = [np.round(t["start"].to_numpy(float), 6) for t in tables if len(t)]
    if not sets:
        return np.array([0.0])
    common = set(sets[0])
    for x in sets[1:]:
        common &= set(x)
    return np.array(sorted(common))


def level_blocks(labels) -> list:
    """The coarsest common grouping of level labels from several sites: levels merged at one
    site (``"M|X"``) are merged everywhere (connected components of the labels' levels).

    >>> level_blocks(["F", "M|X", "F", "M", "X"])
    [['F'], ['M', 'X']]
    """
    parent = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for lab in labels:
        parts = str(lab).split(SEP)
        for q in parts[1:]:
            parent[find(q)] = find(parts[0])
        find(parts[0])
    comps = {}
    for x in parent:
        comps.setdefault(find(x), []).append(x)
    return sorted(sorted(c) for c in comps.values())


def pool_risk_tables(site_tables: dict, causes=(1, 2)) -> tuple[pd.DataFrame, dict, np.ndarray]:
    """Sum the risk tables of several sites on their common grid and common levels.

    Parameters
    ----------
    site_tables : dict
        ``{site: risk table}`` (one grouping).

    Returns
    -------
    (DataFrame, dict, ndarray)
        The summed table (levels merged as at the site that merged most, see
        :func:`level_blocks`), ``{level: [sites]}`` for the sites that sent no table for the
        grouping (then nothing is pooled), and the common grid.
    """
    tabs = {s: t for s, t in site_tables.items() if len(t)}
    missing = [s for s in site_tables if s not in tabs]
    starts = common_starts(tabs.values())
    blocks = level_blocks([lv for t in tabs.values() for lv in t["level"]])
    if missing:
        return pd.DataFrame(), {SEP.join(b): missing for b in blocks}, starts
    # a merged label's parts are the table's levels for merge_levels
    regr = {}
    for s, t in tabs.items():
        t = regrid(t.assign(start=np.round(t["start"].astype(float), 6)), starts, causes)
        atoms = t.assign(level=t["level"].astype(str))
        exploded = {lab: lab.split(SEP) for lab in atoms["level"].unique()}
        site_blocks = [[lab for lab, parts in exploded.items() if set(parts) <= set(b)] for b in blocks]
        m = merge_levels(atoms, [sb for sb in site_blocks if sb], causes)
        # relabel each site block with the common block's label
        relabel = {SEP.join(sorted(sb)): SEP.join(b) for sb, b in zip(site_blocks, blocks) if sb}
        regr[s] = m.assign(level=m["level"].map(relabel))
    cols = ["n_risk"] + [f"events_{c}" for c in causes] + ["censored"]
    parts = []
    for b in blocks:
        lab = SEP.join(b)
        subs = [t[t.level == lab].sort_values("start").reset_index(drop=True) for t in regr.values()]
        subs = [x for x in subs if len(x)]
        tot = subs[0].copy()
        for c in cols:
            tot[c] = sum(x[c].astype(float) for x in subs)
        parts.append(tot)
    return pd.concat(parts, ignore_index=True), {}, starts


def _words_heterogeneity(m: dict, lang: str) -> str:
    """Heterogeneity of a meta-analysis in plain words (I², τ², Q test), numbers in the language's
    format.

    >>> _words_heterogeneity({"I2": 0.3, "tau2": 0.01, "Q": 2.86, "df": 2, "Q_p": 0.24}, "en")[:40]
    'moderate heterogeneity: 30% of the varia'
    """
    from .report.render import fmt_num, fmt_p

    i2 = 100 * m["I2"]
    tau2 = fmt_num(m["tau2"], lang, 4)
    q = fmt_num(m["Q"], lang, 2)
    p = fmt_p(m["Q_p"], lang)
    if lang == "it":
        lvl = "bassa" if i2 < 25 else "moderata" if i2 < 50 else "alta" if i2 < 75 else "molto alta"
        test = ("le città differiscono più di quanto il caso spieghi"
                if m["Q_p"] < 0.05 else "le differenze tra le città sono compatibili con il caso")
        return (f"eterogeneità {lvl}: il {fmt_num(i2, lang)}% della variabilità tra le stime delle città non è "
                f"attribuibile al caso (I²); varianza tra città τ² = {tau2}; test Q = {q} con {m['df']} gradi di "
                f"libertà, p = {p}: {test}.")
    lvl = "low" if i2 < 25 else "moderate" if i2 < 50 else "high" if i2 < 75 else "very high"
    test = ("the sites differ more than chance explains" if m["Q_p"] < 0.05
            else "the differences between sites are compatible with chance")
    return (f"{lvl} heterogeneity: {fmt_num(i2, lang)}% of the variation between the sites' estimates is not "
            f"due to chance (I²); between-site variance τ² = {tau2}; Q = {q} on {m['df']} df, p = {p}: {test}.")


def meta_cox(fits: dict, conf_level: float = 0.95) -> pd.DataFrame:
    """Per term common to every site's fit: the fixed and DerSimonian–Laird random-effects pooled
    log hazard ratio, with heterogeneity.

    Parameters
    ----------
    fits : dict
        ``{site: cox dict of a site file}``.
    """
    from scipy.stats import norm

    z = norm.ppf(0.5 + conf_level / 2)
    fits = {s: f for s, f in fits.items() if f}
    if not fits:
        return pd.DataFrame()
    terms = [t for t in next(iter(fits.values()))["terms"] if all(t in f["terms"] for f in fits.values())]
    rows = []
    for t in terms:
        b = [f["coef"][f["terms"].index(t)] for f in fits.values()]
        se = [math.sqrt(f["covariance"][f["terms"].index(t)][f["terms"].index(t)]) for f in fits.values()]
        m = meta_analysis(b, se)
        rows.append({"term": t, **{k: v for k, v in m.items() if k != "weights_fixed"},
                     "sites": list(fits), "site_coef": b, "site_se": se, "site_weight": m["weights_fixed"],
                     "hr_fixed": math.exp(m["fixed"]), "lower_fixed": math.exp(m["fixed"] - z * m["fixed_se"]),
                     "upper_fixed": math.exp(m["fixed"] + z * m["fixed_se"]),
                     "hr_random": math.exp(m["random"]), "lower_random": math.exp(m["random"] - z * m["random_se"]),
                     "upper_random": math.exp(m["random"] + z * m["random_se"])})
    return pd.DataFrame(rows)


def _forest_png(meta: pd.DataFrame, lang: str) -> str:
    """A forest plot of the sites and the pooled hazard ratios, as a base64 PNG."""
    import base64

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels, est, lo, hi, bold = [], [], [], [], []
    for _, r in meta.iterrows():
        for s, b, se in zip(r["sites"], r["site_coef"], r["site_se"]):
            labels.append(f"{r['term']} · {s}")
            est.append(math.exp(b)); lo.append(math.exp(b - 1.96 * se)); hi.append(math.exp(b + 1.96 * se)); bold.append(False)
        for kind, name in (("fixed", "effetto fisso" if lang == "it" else "fixed effect"),
                           ("random", "effetti casuali" if lang == "it" else "random effects")):
            labels.append(f"{r['term']} · {name}")
            est.append(r[f"hr_{kind}"]); lo.append(r[f"lower_{kind}"]); hi.append(r[f"upper_{kind}"]); bold.append(True)
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(labels) + 1))
    y = np.arange(len(labels))[::-1]
    for yi, e, a, b, bd in zip(y, est, lo, hi, bold):
        ax.plot([a, b], [yi, yi], color="black" if bd else "#555", lw=2 if bd else 1)
        ax.plot([e], [yi], marker="D" if bd else "s", color="#b00" if bd else "#333", ms=6 if bd else 4)
    ax.axvline(1, color="#999", lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=7)
    ax.set_xlabel("hazard ratio (scala log)" if lang == "it" else "hazard ratio (log scale)")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


_PAGE = """<!DOCTYPE html>
<html lang="{{ lang }}"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45}
table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:right}
th{background:#f4f4f4}.banner{background:#b00;color:#fff;padding:.6rem 1rem;font-weight:bold}caption{text-align:left;font-weight:bold}</style>
</head><body>
{% if synthetic %}<p class="banner" role="alert">{{ banner }}</p>{% endif %}
<h1>{{ title }}</h1>
{% for s in sections %}<h2>{{ s.heading }}</h2>
{% for p in s.paras %}<p>{{ p }}</p>{% endfor %}
{% for h in s.tables %}{{ h | safe }}{% endfor %}
{% if s.image %}<img src="data:image/png;base64,{{ s.image }}" alt="{{ s.alt }}">{% endif %}
{% endfor %}
</body></html>
"""


def pool(params_path, site_files, *, outputs_dir=None) -> Path:
    """Pool the files of several sites into a new run folder (never overwriting one).

    The folder holds ``index.html``, ``pool.html``, ``results.json``, ``manifest.json`` (each
    site's file SHA-256, data SHA-256 and extract date), ``tables/*.csv`` and the structure the
    disclosure audit reads (``fragments/``).

    Raises
    ------
    SiteFileError
        A site file refused (tampered with, another version or parameter set), or a site twice.
    """
    import jinja2

    from . import __version__
    from .disclosure import protect
    from .params import load_params
    from .paths import OUTPUTS_DIR
    from .report import render
    from .report.table import Col, Table
    from .results import ResultRecord
    from .runner import _reserve_tmp, run_id_for

    pset = load_params(params_path)
    lang, k = pset.lang, int(pset.disclosure_threshold)
    T = (lambda it, en: it if lang == "it" else en)
    phash, _ = params_fingerprint(pset)
    sites = [read_site(f, params_sha256=phash) for f in site_files]
    names = [s.site for s in sites]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise SiteFileError(f"site(s) {dup} given twice: each site sends one file")
    if len(sites) < 2:
        raise SiteFileError("pooling needs the files of at least two sites")

    tables, records, sections = [], [], []

    def rec(key, value, **kw):
        records.append(ResultRecord("pool", key, value, **kw).as_dict())

    # --- sites
    site_rows = []
    for s in sites:
        t = s.tables["ttp__all"]
        first = t.sort_values("start").iloc[0] if len(t) else None
        site_rows.append({"site": s.site, "extract_date": s.manifest["extract_date"],
                          "synthetic": T("sì", "yes") if s.manifest["synthetic"] else "no",
                          "people": float(first["n_risk"]) if first is not None else np.nan,
                          "placements": float(t["events_1"].sum()) if len(t) else np.nan,
                          "sha256": s.sha256[:16]})
    t_sites = Table("sites", pd.DataFrame(site_rows),
                    [Col("site", "Città", "Site"), Col("extract_date", "Estrazione", "Extract"),
                     Col("synthetic", "Dati sintetici", "Synthetic data"),
                     Col("people", "Persone", "People", role="count", measure="site_people"),
                     Col("placements", "Inserimenti", "Placements", role="count", measure="site_placements"),
                     Col("sha256", "SHA-256 del file", "File SHA-256", role="text")],
                    caption_it="Le città e i loro file", caption_en="The sites and their files", lines="none")
    tables.append(t_sites)

    # --- survival on the grid
    pooled = {}
    for name in sorted({n for s in sites for n in s.tables if n != "kpi"}):
        causes = TTP_CAUSES if name.startswith("ttp") else CONV_CAUSES
        summed, partial, starts = pool_risk_tables({s.site: s.tables.get(name, pd.DataFrame()) for s in sites}, causes)
        pooled[name] = (summed, partial, starts)
    # tables where a site ended its follow-up at its last cut (coarsen): the pooled open interval
    # then mixes ended and continued follow-up, so no estimate is given for it
    trunc = {name: any(d.get("table") == name and d.get("follow_up_ends_month") for s in sites
                       for d in s.manifest["disclosure"]) for name in pooled}
    est_rows, lr_rows = [], []
    for name, (summed, partial, starts) in pooled.items():
        what, by = name.split("__")
        for lv in dict.fromkeys(summed["level"]) if len(summed) else []:
            e = GridSurvival(cause=1).fit(summed[summed.level == lv]).table_
            tb = summed[summed.level == lv].sort_values("start").reset_index(drop=True)
            if trunc[name]:
                e.loc[e.index[-1], ["survival", "lower", "upper", "cif_1", "cif_2"]] = np.nan
            for i in range(len(e)):
                est_rows.append({"analysis": what, "grouping": by, "level": lv,
                                 "from_month": round(tb["start"][i] / MONTH_DAYS, 2),
                                 "to_month": round(e["end"][i] / MONTH_DAYS, 2) if np.isfinite(e["end"][i]) else np.nan,
                                 "n_risk": tb["n_risk"][i], "events_1": tb["events_1"][i], "events_2": tb["events_2"][i],
                                 "censored": tb["censored"][i], "cum_event": 1 - e["survival"][i],
                                 "cum_lower": 1 - e["upper"][i], "cum_upper": 1 - e["lower"][i],
                                 "cif_1": e["cif_1"][i], "cif_2": e["cif_2"][i]})
        if by != "all" and len(summed) and summed["level"].nunique() >= 2 and not (trunc[name] and len(starts) < 2):
            lr = grid_logrank(summed)
            lr_rows.append({"analysis": what, "grouping": by, "chi2": lr["statistic"], "df": float(lr["df"]),
                            "p": lr["p_value"], "left_out": ", ".join(f"{lv} ({', '.join(m)})" for lv, m in partial.items())})
            rec(f"logrank_p__{what}__{by}", lr["p_value"], unit="p")
    est = pd.DataFrame(est_rows)
    est_cols = [Col("analysis", "Analisi", "Analysis"), Col("grouping", "Raggruppamento", "Grouping"),
                Col("level", "Gruppo", "Group"),
                Col("from_month", "Da mese", "From month", role="number", decimals=1),
                Col("to_month", "A mese", "To month", role="number", decimals=1),
                Col("n_risk", "A rischio all'inizio", "At risk at start", role="count"),
                Col("events_1", "Eventi (inserimento/trasformazione)", "Events (placement/conversion)", role="count"),
                Col("events_2", "Eventi concorrenti (ritiro/fine)", "Competing events (withdrawal/end)", role="count"),
                Col("censored", "Censurati", "Censored", role="count"),
                Col("cum_event", "Quota con l'evento (1 − KM)", "Share with the event (1 − KM)", role="estimate",
                    pct=True, decimals=1, ci=("cum_lower", "cum_upper")),
                Col("cum_lower", "inf.", "lower", role="lower", pct=True, decimals=1),
                Col("cum_upper", "sup.", "upper", role="upper", pct=True, decimals=1),
                Col("cif_1", "Incidenza cumulata (Aalen–Johansen)", "Cumulative incidence (Aalen–Johansen)",
                    role="estimate", pct=True, decimals=1),
                Col("cif_2", "Incidenza cumulata evento concorrente", "Cumulative incidence, competing event",
                    role="estimate", pct=True, decimals=1)]
    t_est = Table("pooled_grid_estimates", est, est_cols, lines="none",
                  caption_it="Stime congiunte sulla griglia (tutte le città sommate)",
                  caption_en="Pooled estimates on the grid (all sites summed)")
    tables.append(t_est)
    t_lr = Table("pooled_logrank", pd.DataFrame(lr_rows, columns=["analysis", "grouping", "chi2", "df", "p", "left_out"]),
                 [Col("analysis", "Analisi", "Analysis"), Col("grouping", "Raggruppamento", "Grouping"),
                  Col("chi2", "Chi quadrato", "Chi-square", role="number", decimals=2),
                  Col("df", "Gradi di libertà", "df", role="number"), Col("p", "p", "p", role="p"),
                  Col("left_out", "Gruppi esclusi (città che li hanno trattenuti)", "Groups left out (sites withholding them)",
                      role="text")],
                 caption_it="Test log-rank dalle tabelle sommate", caption_en="Log-rank tests from the summed tables",
                 lines="none")
    tables.append(t_lr)

    # per-site results beside the pooled ones, on the common grid of the overall table
    side = []
    for name in ("ttp__all", "conv__all"):
        summed, _, starts = pooled.get(name, (pd.DataFrame(), {}, np.array([0.0])))
        if not len(summed):
            continue
        causes = TTP_CAUSES
        for who, tb in [(s.site, regrid(s.tables[name].assign(start=np.round(s.tables[name]["start"].astype(float), 6)),
                                        starts, causes)) for s in sites] + [(T("tutte (congiunta)", "all (pooled)"), summed)]:
            e = grid_estimates(tb, cause=1)
            if trunc[name]:
                e.loc[e.index[-1], ["survival", "lower", "upper"]] = np.nan
            for i in range(len(e)):
                side.append({"analysis": name.split("__")[0], "site": who,
                             "to_month": round(e["end"][i] / MONTH_DAYS, 2) if np.isfinite(e["end"][i]) else np.nan,
                             "n_risk": float(tb.sort_values("start")["n_risk"].iloc[i]),
                             "cum_event": 1 - e["survival"][i], "cum_lower": 1 - e["upper"][i],
                             "cum_upper": 1 - e["lower"][i]})
        last = grid_estimates(summed, cause=1)
        rec(f"cum_event_last__{name.split('__')[0]}", float(1 - last["survival"].iloc[-2]) if len(last) > 1 else None,
            unit="share")
    t_side = Table("by_site", pd.DataFrame(side),
                   [Col("analysis", "Analisi", "Analysis"), Col("site", "Città", "Site"),
                    Col("to_month", "Entro il mese", "By month", role="number", decimals=1),
                    Col("n_risk", "A rischio all'inizio dell'intervallo", "At risk at interval start", role="count"),
                    Col("cum_event", "Quota con l'evento", "Share with the event", role="estimate", pct=True, decimals=1,
                        ci=("cum_lower", "cum_upper")),
                    Col("cum_lower", "inf.", "lower", role="lower", pct=True, decimals=1),
                    Col("cum_upper", "sup.", "upper", role="upper", pct=True, decimals=1)],
                   caption_it="Per città e congiunta, sulla griglia comune", caption_en="By site and pooled, on the common grid",
                   lines="none")
    tables.append(t_side)

    # --- KPI
    kpi_sum = pool_kpi([s.tables["kpi"] for s in sites])
    t_kpi = Table("pooled_kpi", kpi_sum,
                  [Col("indicator", "Indicatore", "Indicator"), Col("period", "Periodo", "Period"),
                   Col("count", "Conteggio", "Count", role="count")],
                  caption_it="Indicatori sommati sulle città, sulla griglia comune (trimestre, semestre o anno: la più grossolana usata da una città)",
                  caption_en="Indicators summed over sites, on the common grid (quarter, half-year or year: the coarsest any site used)",
                  lines="none")
    tables.append(t_kpi)

    # --- Cox meta-analysis
    fits = {s.site: s.cox for s in sites}
    meta = meta_cox(fits)
    cox_rows, meta_rows, words = [], [], []
    if len(meta):
        for _, r in meta.iterrows():
            for s, b, se, w in zip(r["sites"], r["site_coef"], r["site_se"], r["site_weight"]):
                cox_rows.append({"term": r["term"], "site": s, "hr": math.exp(b), "lower": math.exp(b - 1.96 * se),
                                 "upper": math.exp(b + 1.96 * se), "weight": w})
            meta_rows.append({k2: r[k2] for k2 in ("term", "hr_fixed", "lower_fixed", "upper_fixed", "hr_random",
                                                     "lower_random", "upper_random", "Q", "Q_p", "I2", "tau2")})
            words.append(f"{r['term']}: " + _words_heterogeneity(r.to_dict(), lang))
            rec(f"hr_fixed__{r['term'].replace('=', '_').replace('-', '_').replace('+', 'plus').replace('<', 'lt').lower()}"[:60],
                r["hr_fixed"], ci_low=r["lower_fixed"], ci_high=r["upper_fixed"], unit="ratio")
    ci = lambda a, b: (a, b)  # noqa: E731
    t_cox = Table("cox_by_site", pd.DataFrame(cox_rows, columns=["term", "site", "hr", "lower", "upper", "weight"]),
                  [Col("term", "Termine", "Term"), Col("site", "Città", "Site"),
                   Col("hr", "Hazard ratio", "Hazard ratio", role="estimate", decimals=2, ci=ci("lower", "upper")),
                   Col("lower", "inf.", "lower", role="lower", decimals=2), Col("upper", "sup.", "upper", role="upper", decimals=2),
                   Col("weight", "Peso (effetto fisso)", "Weight (fixed effect)", role="share", decimals=1)],
                  caption_it="Modello di Cox per città", caption_en="Cox model by site", lines="none")
    t_meta = Table("cox_meta", pd.DataFrame(meta_rows, columns=["term", "hr_fixed", "lower_fixed", "upper_fixed", "hr_random",
                                                               "lower_random", "upper_random", "Q", "Q_p", "I2", "tau2"]),
                   [Col("term", "Termine", "Term"),
                    Col("hr_fixed", "HR effetto fisso", "HR fixed effect", role="estimate", decimals=2, ci=("lower_fixed", "upper_fixed")),
                    Col("lower_fixed", "inf.", "lower", role="lower", decimals=2), Col("upper_fixed", "sup.", "upper", role="upper", decimals=2),
                    Col("hr_random", "HR effetti casuali (DerSimonian–Laird)", "HR random effects (DerSimonian–Laird)",
                        role="estimate", decimals=2, ci=("lower_random", "upper_random")),
                    Col("lower_random", "inf.", "lower", role="lower", decimals=2),
                    Col("upper_random", "sup.", "upper", role="upper", decimals=2),
                    Col("Q", "Q di Cochran", "Cochran's Q", role="number", decimals=2), Col("Q_p", "p (Q)", "p (Q)", role="p"),
                    Col("I2", "I²", "I²", role="share", decimals=0), Col("tau2", "τ²", "τ²", role="number", decimals=4)],
                   caption_it="Meta-analisi del modello di Cox", caption_en="Meta-analysis of the Cox model", lines="none")
    tables += [t_cox, t_meta]

    # --- IPS: per-site estimates and balance, pooled over the sites whose estimate is conclusive
    ips_rows, ips_meta_rows = [], []
    for contrast in ("offer", "start"):
        for method in ("iptw", "matching"):
            key = f"{contrast}__{method}"
            for s in sites:
                e = (s.ips or {}).get(key)
                if not e:
                    continue
                hr_ok = e["log_hr"] is not None
                ips_rows.append({"contrast": contrast, "method": method, "site": s.site,
                                 "n_treated": e["n_treated"], "n_control": e["n_control"],
                                 "hr": math.exp(e["log_hr"]) if hr_ok else np.nan,
                                 "hr_lower": math.exp(e["log_hr"] - 1.96 * e["log_hr_se"]) if hr_ok else np.nan,
                                 "hr_upper": math.exp(e["log_hr"] + 1.96 * e["log_hr_se"]) if hr_ok else np.nan,
                                 "rd": e["risk_difference"] if hr_ok else np.nan,
                                 "max_smd": e["max_abs_smd_after"], "unbalanced": float(e["terms_unbalanced"]),
                                 "conclusive": T("sì", "yes") if e["conclusive"] else
                                 "no (" + ", ".join(e["reasons"]) + ")"})
            use = [(s.site, s.ips[key]) for s in sites if s.ips and s.ips.get(key) and s.ips[key]["conclusive"]
                   and s.ips[key]["log_hr"] is not None]
            if method == "iptw" and len(use) >= 2:
                for measure, b, se in (("log_hr", "log_hr", "log_hr_se"), ("risk_difference", "risk_difference", "risk_difference_se")):
                    m = meta_analysis([e[b] for _, e in use], [e[se] for _, e in use])
                    tr = math.exp if measure == "log_hr" else (lambda x: x)
                    ips_meta_rows.append({"contrast": contrast, "measure": "hazard_ratio" if measure == "log_hr" else "risk_difference",
                                          "sites": ", ".join(x for x, _ in use),
                                          "fixed": tr(m["fixed"]), "fixed_lower": tr(m["fixed"] - 1.96 * m["fixed_se"]),
                                          "fixed_upper": tr(m["fixed"] + 1.96 * m["fixed_se"]),
                                          "random": tr(m["random"]), "random_lower": tr(m["random"] - 1.96 * m["random_se"]),
                                          "random_upper": tr(m["random"] + 1.96 * m["random_se"]),
                                          "Q": m["Q"], "Q_p": m["Q_p"], "I2": m["I2"], "tau2": m["tau2"]})
                    if measure == "log_hr":
                        rec(f"ips_hr_fixed__{contrast}", math.exp(m["fixed"]), ci_low=math.exp(m["fixed"] - 1.96 * m["fixed_se"]),
                            ci_high=math.exp(m["fixed"] + 1.96 * m["fixed_se"]), unit="ratio")
                        words.append(T(f"IPS ({contrast}, IPTW, hazard ratio): ", f"IPS ({contrast}, IPTW, hazard ratio): ")
                                     + _words_heterogeneity(m, lang))
    t_ips = Table("ips_by_site", pd.DataFrame(ips_rows, columns=["contrast", "method", "site", "n_treated", "n_control", "hr",
                                                                 "hr_lower", "hr_upper", "rd", "max_smd", "unbalanced", "conclusive"]),
                  [Col("contrast", "Confronto", "Contrast"), Col("method", "Metodo", "Method"), Col("site", "Città", "Site"),
                   Col("n_treated", "Persone IPS", "IPS people", role="count", measure="ips_treated"),
                   Col("n_control", "Persone di confronto", "Comparison people", role="count", measure="ips_control"),
                   Col("hr", "Hazard ratio", "Hazard ratio", role="estimate", decimals=2, ci=("hr_lower", "hr_upper")),
                   Col("hr_lower", "inf.", "lower", role="lower", decimals=2), Col("hr_upper", "sup.", "upper", role="upper", decimals=2),
                   Col("rd", "Differenza di rischio", "Risk difference", role="estimate", decimals=1, pct=True),
                   Col("max_smd", "Massimo |SMD| dopo", "Largest |SMD| after", role="number", decimals=3),
                   Col("unbalanced", "Termini non bilanciati", "Unbalanced terms", role="number"),
                   Col("conclusive", "Conclusivo", "Conclusive", role="text")],
                  caption_it="IPS per città: stime e bilanciamento", caption_en="IPS by site: estimates and balance", lines="none")
    t_ips_meta = Table("ips_meta", pd.DataFrame(ips_meta_rows, columns=["contrast", "measure", "sites", "fixed", "fixed_lower",
                                                                       "fixed_upper", "random", "random_lower", "random_upper",
                                                                       "Q", "Q_p", "I2", "tau2"]),
                       [Col("contrast", "Confronto", "Contrast"), Col("measure", "Misura", "Measure"),
                        Col("sites", "Città con stima conclusiva", "Sites with a conclusive estimate", role="text"),
                        Col("fixed", "Effetto fisso", "Fixed effect", role="number", decimals=3),
                        Col("fixed_lower", "inf.", "lower", role="number", decimals=3),
                        Col("fixed_upper", "sup.", "upper", role="number", decimals=3),
                        Col("random", "Effetti casuali", "Random effects", role="number", decimals=3),
                        Col("random_lower", "inf.", "lower", role="number", decimals=3),
                        Col("random_upper", "sup.", "upper", role="number", decimals=3),
                        Col("Q", "Q di Cochran", "Cochran's Q", role="number", decimals=2), Col("Q_p", "p (Q)", "p (Q)", role="p"),
                        Col("I2", "I²", "I²", role="share", decimals=0), Col("tau2", "τ²", "τ²", role="number", decimals=4)],
                       caption_it="IPS: meta-analisi delle stime IPTW delle città", caption_en="IPS: meta-analysis of the sites' IPTW estimates",
                       lines="none")
    tables += [t_ips, t_ips_meta]

    prot = protect(tables, k)
    started = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    outputs = Path(outputs_dir) if outputs_dir else OUTPUTS_DIR
    run_id, tmp = _reserve_tmp(outputs, run_id_for(started.replace(tzinfo=None), f"{pset.name}-pool",
                                                   {s.site: s.sha256 for s in sites}))
    (tmp / "tables").mkdir()
    (tmp / "fragments" / "tables").mkdir(parents=True)
    for t in tables:
        render.write_csv(t, tmp / "tables" / f"pool__{t.name}.csv", lang, k)
    (tmp / "fragments" / "tables" / "pool.json").write_text(json.dumps([t.schema("pool") for t in tables], indent=1,
                                                                       ensure_ascii=False), encoding="utf-8")
    (tmp / "fragments" / "pool.json").write_text(json.dumps({"notebook": "pool", "relations": [], "links": {},
                                                             "records": records, "tables": [t.name for t in tables]}),
                                                 encoding="utf-8")
    (tmp / "results.json").write_text(json.dumps(records, indent=1, ensure_ascii=False), encoding="utf-8")
    synthetic = any(s.manifest["synthetic"] for s in sites)
    ht = lambda t: render.html_table(t, lang, k)  # noqa: E731
    sections = [
        {"heading": T("Città e file", "Sites and files"),
         "paras": [T(f"{len(sites)} città hanno inviato solo conteggi aggregati (ognuno 0 o almeno {k}) e i coefficienti "
                     "di un modello; nessun record di persona ha lasciato una città.",
                     f"{len(sites)} sites sent only aggregate counts (each 0 or at least {k}) and model coefficients; "
                     "no record of a person left a site.")], "tables": [ht(t_sites)]},
        {"heading": T("Tempo all'inserimento e trasformazione dei contratti", "Time to placement and contract conversion"),
         "paras": [T("Kaplan–Meier e Aalen–Johansen sono calcolati esattamente sulla griglia mensile dalle tabelle di rischio "
                     "sommate; gli intervalli sono uniti dove una città ha dovuto unirli per protezione.",
                     "Kaplan–Meier and Aalen–Johansen are computed exactly on the monthly grid from the summed risk tables; "
                     "intervals are merged where a site had to merge them for protection.")],
         "tables": [ht(t_side), ht(t_lr), ht(t_est)]},
        {"heading": T("Indicatori per periodo", "Indicators by period"),
         "paras": [T("Somme dei conteggi delle città, per ogni indicatore e anno sulla griglia più grossolana usata da una città "
                     "(trimestri, semestri o l'anno); una cella è vuota se anche una sola città ne ha trattenuto una parte.",
                     "Sums of the sites' counts, for each indicator and year on the coarsest grid any site used "
                     "(quarters, half-years or the year); a cell is empty when any site withheld part of it.")], "tables": [ht(t_kpi)]},
        {"heading": T("Modello di Cox: meta-analisi", "Cox model: meta-analysis"),
         "paras": words or [T("Nessun modello di Cox comune alle città.", "No Cox model common to the sites.")],
         "tables": [ht(t_meta), ht(t_cox)],
         "image": _forest_png(meta, lang) if len(meta) else None,
         "alt": T("Grafico a foresta degli hazard ratio per città e congiunti", "Forest plot of hazard ratios by site and pooled")},
        {"heading": T("IPS: efficacia per città e congiunta", "IPS: effectiveness by site and pooled"),
         "paras": [T("Ogni città stima l'effetto di IPS con il proprio punteggio di propensione; si combinano solo le stime "
                     "IPTW conclusive (bilanciate, bracci abbastanza grandi).",
                     "Each site estimates the effect of IPS with its own propensity score; only conclusive IPTW estimates "
                     "(balanced, arms large enough) are combined.")],
         "tables": [ht(t_ips_meta), ht(t_ips)]},
    ]
    env = jinja2.Environment(autoescape=True)
    title = T("Analisi congiunta di più città", "Pooled analysis of several sites")
    banner = T("DATI SINTETICI: questi risultati non descrivono persone reali.",
               "SYNTHETIC DATA: these results do not describe real people.")
    (tmp / "pool.html").write_text(env.from_string(_PAGE).render(lang=lang, title=title, synthetic=synthetic, banner=banner,
                                                                sections=sections), encoding="utf-8")
    index = env.from_string(_PAGE).render(lang=lang, title=title, synthetic=synthetic, banner=banner, sections=[
        {"heading": run_id, "paras": [T("Rapporto: pool.html; tabelle: cartella tables/; risultati: results.json.",
                                        "Report: pool.html; tables: tables/ folder; results: results.json.")],
         "tables": ['<p><a href="pool.html">' + jinja2.utils.markupsafe.escape(title) + "</a></p>"]}])
    (tmp / "index.html").write_text(index, encoding="utf-8")
    manifest = {"run_id": run_id, "kind": "pool", "started": started.isoformat(), "package_version": __version__,
                "params": {**pset.resolved(), "disclosure_threshold": k}, "params_sha256": phash,
                "synthetic": synthetic, "withheld_cells": len(prot.hidden_),
                "sites": [{"site": s.site, "file": s.path.name, "sha256": s.sha256, "data_sha256": s.manifest["data_sha256"],
                           "extract_date": s.manifest["extract_date"], "synthetic": s.manifest["synthetic"],
                           "disclosure": s.manifest["disclosure"]} for s in sites],
                "grids": {n: [round(x / MONTH_DAYS, 4) for x in v[2]] for n, v in pooled.items()}}
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    final = outputs / run_id
    tmp.rename(final)
    (final / ".ixl-run-owner").unlink(missing_ok=True)
    return final


# ------------------------------------------------------------------------------------ test sites
def site_of(participant_id: str, enrolled_on: str) -> str:
    """The deterministic rule that splits the bundled synthetic data into three 'cities' of
    different size and case mix: about half the people go to ``bologna``; of the others, people
    enrolled from 2021 go mostly to ``modena`` and earlier ones mostly to ``ferrara``.

    >>> site_of("P000010", "2019-03-01"), site_of("P000017", "2022-05-02"), site_of("P000019", "2018-01-09")
    ('bologna', 'modena', 'ferrara')
    """
    h = int("".join(ch for ch in participant_id if ch.isdigit()) or 0)
    if h % 10 < 5:
        return "bologna"
    late = str(enrolled_on)[:4] >= "2021"
    if h % 10 in (5, 6, 7):
        return "modena" if late else "ferrara"
    return "ferrara" if late else "modena" if h % 10 == 8 else "ferrara"


def split_dataset(data_dir, out_root, rule=site_of) -> dict:
    """Write one data directory per site (``out_root/<site>``) from one data directory, each
    file's rows kept whole (text as read), the extract metadata copied.

    Returns ``{site: Path}``.
    """
    import shutil

    data_dir, out_root = Path(data_dir), Path(out_root)
    part = pd.read_csv(data_dir / "participants.csv", dtype=str, keep_default_na=False)
    site = pd.Series([rule(p, e) for p, e in zip(part["participant_id"], part["enrolled_on"])], index=part["participant_id"])
    out = {}
    for name in sorted(site.unique()):
        d = out_root / name
        d.mkdir(parents=True, exist_ok=True)
        for f in ("participants", "interviews", "programmes", "placements"):
            df = pd.read_csv(data_dir / f"{f}.csv", dtype=str, keep_default_na=False)
            df[df["participant_id"].map(site) == name].to_csv(d / f"{f}.csv", index=False)
        shutil.copy(data_dir / "extract.yaml", d / "extract.yaml")
        out[name] = d
    return out


# ------------------------------------------------------------------------------------ audit
def audit_site_file(path, k: int | None = None):
    """Attack a site file the way :func:`ixl_eval.audit.audit_run` attacks a run folder.

    Reads the zip's tables as any reader would (no hash check) and looks for: a count in
    1..k-1 (``count_below_k``); and a withheld cell that the relations a reader knows pin to one
    value or below ``k`` (``recovered_by_relations``, ``pinned_below_k``, solved with
    ``scipy.optimize.linprog``). The relations: in each risk table and group,
    at_risk[next] = at_risk - events - censored; the overall table equals the sum of a grouping's
    levels (on the grouping's grid); an indicator's periods add up to its year (and the
    enrolments to the people at risk at time zero). Every withheld cell is treated as below ``k``.

    Returns
    -------
    ixl_eval.audit.AuditResult
    """
    import zipfile

    from .audit import AuditResult, _Cells

    path = Path(path)
    with zipfile.ZipFile(path) as z:
        manifest = json.loads(z.read("manifest.json"))
        tables = {n[:-8]: pd.read_parquet(io.BytesIO(z.read(n))) for n in z.namelist() if n.endswith(".parquet")}
    k = int(k if k is not None else manifest["disclosure_threshold"])
    res, cells, eqs = AuditResult(), _Cells(), []

    def add(key, v, where):
        if pd.isna(v):
            cells.add(key, "primary", None, where)
        else:
            cells.add(key, "", float(v), where)
            if 0 < float(v) < k:
                res.findings.append({"rule": "count_below_k", "where": where, "detail": f"{float(v):g} is below {k}"})

    def rkey(name, level, start, col):
        return f"{name}|{level}|{round(float(start), 6)}|{col}"

    for name, tb in tables.items():
        if name == "kpi":
            for c, p, v in zip(tb["indicator"], tb["period"], tb["count"]):
                add(f"kpi|{c}|{p}", v, f"{path.name}:kpi/{p}/{c}")
            continue
        for _, r in tb.iterrows():
            for col in COUNT_COLS:
                add(rkey(name, r["level"], r["start"], col), r[col], f"{path.name}:{name}/{r['level']}/{int(r['interval'])}/{col}")
        for level, g in tb.groupby("level", sort=False):
            g = g.sort_values("start")
            st = g["start"].to_numpy()
            for a, b in zip(st[:-1], st[1:]):
                eqs.append([(1.0, rkey(name, level, b, "n_risk")), (-1.0, rkey(name, level, a, "n_risk"))]
                           + [(1.0, rkey(name, level, a, c)) for c in COUNT_COLS[1:]])
    # the overall table is the sum of a grouping's levels, on the grouping's grid
    for name, tb in tables.items():
        what = name.split("__")[0]
        whole = tables.get(f"{what}__all")
        if name == "kpi" or name.endswith("__all") or whole is None or not len(tb):
            continue
        sa = sorted(round(float(x), 6) for x in whole["start"])
        sg = sorted({round(float(x), 6) for x in tb["start"]})
        if not set(sg) <= set(sa):
            continue
        levels = list(tb["level"].unique())
        for i, s in enumerate(sg):
            eqs.append([(1.0, rkey(f"{what}__all", "all", s, "n_risk"))]
                       + [(-1.0, rkey(name, lv, s, "n_risk")) for lv in levels])
            if i + 1 < len(sg):
                inside = [x for x in sa if s <= x < sg[i + 1]]
                for c in COUNT_COLS[1:]:
                    eqs.append([(1.0, rkey(f"{what}__all", "all", x, c)) for x in inside]
                               + [(-1.0, rkey(name, lv, s, c)) for lv in levels])
    if "kpi" in tables and "ttp__all" in tables and len(tables["ttp__all"]):
        kp = tables["kpi"]
        en = kp[kp["indicator"] == "enrolments"]["period"]
        first = tables["ttp__all"].sort_values("start")["start"].iloc[0]
        eqs.append([(1.0, f"kpi|enrolments|{p}") for p in en] + [(-1.0, rkey("ttp__all", "all", first, "n_risk"))])
        for c, g in kp.groupby("indicator"):
            for y, gy in g.groupby(g["period"].astype(str).str[:4]):
                if str(y) in set(gy["period"].astype(str)) and len(gy) > 1:  # a year sent beside its periods
                    eqs.append([(1.0, f"kpi|{c}|{y}")] + [(-1.0, f"kpi|{c}|{p}") for p in gy["period"] if str(p) != str(y)])
    res.findings += _relations_attack(cells, eqs, k, res)
    return res


def _relations_attack(cells, equations, k: int, res) -> list:
    """Bounds of each withheld cell under the known relations (any value >= 0: a reader does not
    know which cells were below ``k``): a finding when they pin it to one value or below ``k``."""
    from scipy.optimize import linprog

    from .audit import equation_system

    hidden, A, b = equation_system(cells, equations)
    res.withheld = len(hidden)
    res.equations = len(A)
    if not len(A):
        return []
    findings = []
    for j in np.flatnonzero(np.any(A != 0, axis=0)):
        c = np.zeros(len(hidden))
        c[j] = 1.0
        lo = linprog(c, A_eq=A, b_eq=b, bounds=(0, None), method="highs")
        hi = linprog(-c, A_eq=A, b_eq=b, bounds=(0, None), method="highs")
        where = cells.where[hidden[j]][0][0]
        if not lo.success:
            findings.append({"rule": "relations_inconsistent", "where": where, "detail": "the published counts contradict the relations"})
            continue
        if hi.status == 0 and -hi.fun - lo.fun < 0.5:
            findings.append({"rule": "recovered_by_relations", "where": where,
                             "detail": f"the published counts give exactly {lo.fun:.0f}"})
        elif hi.status == 0 and -hi.fun < k - 1e-9:
            findings.append({"rule": "pinned_below_k", "where": where,
                             "detail": f"the published counts bound it between {lo.fun:.0f} and {-hi.fun:.0f}"})
    return findings
