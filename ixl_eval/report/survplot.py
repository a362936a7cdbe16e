"""Figures of survival analyses: curves with number-at-risk tables, competing risks, forest plots.

Every number of people drawn on a figure (the number-at-risk row) is given by the caller as
text: the cells of a protected :class:`~ixl_eval.report.table.Table`, rendered by
:func:`ixl_eval.report.render.cell_text`, so a figure prints exactly what the table beside it
shows. Curves end at the last time with at least ``k`` people at risk, never past the group's
follow-up (:func:`at_risk_end`); curves of groups whose estimates a table withholds are not passed
in (callers filter them and name them in ``note``: a curve of five people shows each one's
timing). At most four curves share a panel, each with its own colour and line style; more are
drawn as small multiples. Labels and axis numbers are Italian or English; colours come from
:data:`ixl_eval.present.PALETTE` (each at least 3:1 on white, apart under colour blindness).

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import pandas as pd
>>> from ixl_eval.survival import KaplanMeier
>>> km = KaplanMeier(label="tutti").fit([10, 20, 20, 40, 60, 90] * 5, [1, 1, 0, 1, 0, 1] * 5)
>>> fig = plot_km({"tutti": km}, k=10, lang="it", risk_times=[0, 30, 75],
...               risk_text=pd.DataFrame([["30", "15", "<10"]]))
>>> [t.get_text() for t in fig.axes[1].texts][:3]
['30', '15', '<10']
>>> fig = plot_km({"tutti": km}, k=10, lang="it", xmax=120)
>>> line = fig.axes[0].get_lines()[0]    # ends at day 60, the last with 10 at risk: after it only 5 remain
>>> float(line.get_xdata()[-1]), round(float(line.get_ydata().max()), 3)
(60.0, 0.556)
>>> fig.axes[0].yaxis.get_major_formatter()(0.25, None), fig.axes[1].xaxis.get_major_formatter()(1095, None)
('25%', '1.095')
"""

from __future__ import annotations

import numpy as np

from .present import PALETTE

__all__ = ["plot_km", "at_risk_end", "plot_cif_vs_km", "plot_forest", "plot_schoenfeld"]


def _step_xy(table, col, xmax):
    t = np.concatenate([[0.0], table["time"].to_numpy()])
    y = np.concatenate([[1.0], table[col].to_numpy()])
    keep = t <= xmax
    t, y = t[keep], y[keep]
    return np.append(t, xmax), np.append(y, y[-1])


def _day_ticks(xmax: float):
    for step in (30, 90, 180, 365, 730):
        if xmax / step <= 8:
            return np.arange(0, xmax + 1, step)
    return np.linspace(0, xmax, 6).round()


def at_risk_end(km, k: int) -> float:
    """Where a curve must end: the last time at which at least ``k`` people are still at risk,
    and never past the group's last follow-up. From there on fewer than ``k`` remain (a step, or
    even a flat stretch, would describe a handful of people), or nobody is followed at all.
    ``0.0`` when fewer than ``k`` people start.

    >>> from ixl_eval.survival import KaplanMeier
    >>> at_risk_end(KaplanMeier().fit(list(range(1, 31)), [1] * 30), 10)
    21.0
    >>> at_risk_end(KaplanMeier().fit([5, 10, 120] * 10, [1, 0, 0] * 10), 10)   # 10 followed to day 120
    120.0
    """
    tab = km.table_
    ok = tab["time"].to_numpy()[tab["n_risk_count"].to_numpy() >= k]
    return float(ok[-1]) if len(ok) else 0.0


def _panels(groups: list, per_panel: int) -> list[list]:
    """Split groups into panels of at most ``per_panel``, as even as possible (8 -> 4 + 4)."""
    n = len(groups)
    m = max(1, -(-n // per_panel))
    size = -(-n // m) if n else 0
    return [groups[i:i + size] for i in range(0, n, size)] or [[]]


def plot_km(fits: dict, *, k: int, lang: str = "it", cumulative: bool = True, risk_times=None,
            xmax: float | None = None, labels: dict | None = None, title: str = "",
            xlabel: str | None = None, ylabel: str | None = None, risk_text=None, per_panel: int = 4,
            note: str = ""):
    """Kaplan–Meier curves by group with confidence bands, censor marks and a number-at-risk table.

    Each curve ends at the last time at which at least ``k`` people of its group are at risk, and
    never past its group's follow-up (:func:`at_risk_end`). Groups differ by colour *and* line
    style; more than ``per_panel`` groups are drawn as small multiples (panels side by side with
    the same axes). Numbers on the axes and under the curves follow the language's format; the
    number-at-risk rows are dark text, readable in print.

    Parameters
    ----------
    fits : dict
        ``{group: KaplanMeier}`` in the order to draw.
    k : int
        Disclosure threshold: where curves end.
    cumulative : bool
        Draw 1 − KM (share who had the event) rather than KM.
    risk_times : sequence of float, optional
        Times of the number-at-risk columns (default: the x ticks).
    xmax : float, optional
        Right end of the time axis (default: the longest follow-up).
    labels : dict, optional
        ``{group: legend text}``.
    risk_text : DataFrame, optional
        The number-at-risk cells to print (rows = ``fits`` in order, columns = ``risk_times``):
        the protected table's cells as text. None: no numbers are printed (a figure never
        decides on its own which counts may be shown).
    per_panel : int
        Most curves in one panel (4; beyond it, small multiples).
    note : str
        A line under the chart (e.g. the groups too small to be drawn, by name).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from .present import INK, LINESTYLES
    from .render import tick_formatter

    labels = labels or {}
    groups = list(fits)
    if xmax is None:
        xmax = max([float(km.table_["time"].max()) for km in fits.values()] or [365.0])
    ticks = _day_ticks(xmax) if risk_times is None else [x for x in risk_times if x <= xmax]
    risk_times = ticks
    panels = _panels(groups, per_panel)
    ncol = min(2, len(panels))
    nrow = -(-len(panels) // ncol)
    rows_max = max(len(p) for p in panels)
    width = 9.0 if ncol == 1 else 12.0
    fig = plt.figure(figsize=(width, nrow * (5.2 + 0.32 * rows_max) + (0.3 if note else 0)))
    outer = fig.add_gridspec(nrow, ncol, hspace=0.32, wspace=0.22)
    pos = {g: i for i, g in enumerate(groups)}
    first = None
    for p_i, panel in enumerate(panels):
        gs = outer[p_i // ncol, p_i % ncol].subgridspec(2, 1, height_ratios=[5.2, 0.45 + 0.32 * rows_max],
                                                        hspace=0.16)
        ax = fig.add_subplot(gs[0], sharex=first, sharey=first)
        axt = fig.add_subplot(gs[1], sharex=ax)
        first = first or ax
        n_rows = len(panel)
        for i, g in enumerate(panel):
            km = fits[g]
            colour, style = PALETTE[i % len(PALETTE)], LINESTYLES[i % len(LINESTYLES)]
            end = min(xmax, at_risk_end(km, k))
            tab = km.table_.loc[(km.table_["n_risk_count"] >= k) & (km.table_["time"] <= end)]
            if len(tab) and end > 0:
                x, s = _step_xy(tab, "survival", end)
                _, lo = _step_xy(tab.fillna({"lower": 0.0}), "lower", end)
                _, hi = _step_xy(tab.fillna({"upper": 1.0}), "upper", end)
                if cumulative:
                    s, lo, hi = 1 - s, 1 - hi, 1 - lo
                ax.step(x, s, where="post", color=colour, lw=2, ls=style, label=labels.get(g, str(g)))
                ax.fill_between(x, lo, hi, step="post", color=colour, alpha=0.10, lw=0)
                cens = tab.loc[tab["n_censor_count"] > 0]
                if len(cens):
                    y = cens["survival"].to_numpy()
                    ax.plot(cens["time"], 1 - y if cumulative else y, ls="none", marker="|", ms=5, mew=0.8,
                            color=colour, alpha=0.6)
            for j, x_ in enumerate(risk_times if risk_text is not None else ()):
                axt.text(x_, n_rows - 1 - i, risk_text.iloc[pos[g], j], ha="center", va="center", fontsize=9,
                         color=INK)
        # a margin left of day 0 keeps the first column of counts clear of the row labels
        ax.set_xlim(-0.06 * xmax, xmax * 1.04)
        ax.set_ylim(0, 1)
        ax.set_xticks(ticks)
        ax.yaxis.set_major_formatter(tick_formatter(lang, pct=True, decimals=0))
        if p_i % ncol == 0:
            if ylabel is None:
                ylabel = (("Quota con inserimento" if lang == "it" else "Share placed") if cumulative
                          else ("Quota ancora senza inserimento" if lang == "it" else "Share not yet placed"))
            ax.set_ylabel(ylabel)
        ax.tick_params(labelbottom=False)
        if len(panels) == 1 and title:
            ax.set_title(title, loc="left")
        if n_rows > 1 or any(labels.values()):
            ax.legend(loc="upper left" if cumulative else "upper right", handlelength=3.2)
        axt.set_ylim(-0.6, rows_max - 0.4)
        axt.set_yticks(range(n_rows))
        # each row label carries the line style of its curve
        axt.set_yticklabels([labels.get(g, str(g)) for g in reversed(panel)], fontsize=9, color=INK)
        axt.set_xticks(ticks)
        axt.xaxis.set_major_formatter(tick_formatter(lang, decimals=0))
        axt.grid(False)
        for side in ("left", "right", "top"):
            axt.spines[side].set_visible(False)
        axt.set_xlabel(xlabel or ("Giorni dall'iscrizione" if lang == "it" else "Days since enrolment"))
        axt.set_title("Persone ancora seguite (a rischio)" if lang == "it" else "People still followed (at risk)",
                      loc="left", fontsize=9, fontweight="normal")
    if len(panels) > 1 and title:
        fig.suptitle(title, x=0.01, ha="left", fontsize=13, fontweight="bold")
    if note:
        fig.text(0.01, 0.0, note, ha="left", va="top", fontsize=9, color=INK, wrap=True)
    return fig


def plot_cif_vs_km(aj, km, *, lang: str = "it", xmax: float | None = None, cause: int = 1,
                   other_cause: int | None = 2, title: str = "", xlabel: str | None = None):
    """Cumulative incidence (Aalen–Johansen) beside 1 − Kaplan–Meier for the same event.

    1 − KM treats the competing event (withdrawal) as if those people could still be placed
    later; the Aalen–Johansen curve counts them as never placed. The gap between the two is
    what withdrawals cost.
    """
    import matplotlib.pyplot as plt

    if xmax is None:
        xmax = float(aj.table_["time"].max())
    fig, ax = plt.subplots(figsize=(9.0, 5.0))
    tab = km.table_
    x, s = _step_xy(tab, "survival", xmax)
    _, lo = _step_xy(tab.fillna({"lower": 0.0}), "lower", xmax)
    _, hi = _step_xy(tab.fillna({"upper": 1.0}), "upper", xmax)
    ax.step(x, 1 - s, where="post", color=PALETTE[1], lw=2, ls="--",
            label="1 − Kaplan–Meier (" + ("se nessuno uscisse" if lang == "it" else "if nobody withdrew") + ")")
    ax.fill_between(x, 1 - hi, 1 - lo, step="post", color=PALETTE[1], alpha=0.15, lw=0)
    at = aj.table_
    t = np.concatenate([[0.0], at["time"].to_numpy()])
    keep = t <= xmax
    for c, colour, style, lab in ((cause, PALETTE[0], "-", ("Inserimento (incidenza cumulata)", "Placement (cumulative incidence)")),
                                  (other_cause, "#666666", ":", ("Uscita senza lavoro", "Withdrawal without a job"))):
        if c is None:
            continue
        f = np.concatenate([[0.0], at[f"cif_{c}"].to_numpy()])[keep]
        flo = np.concatenate([[0.0], at[f"lower_{c}"].fillna(0).to_numpy()])[keep]
        fhi = np.concatenate([[0.0], at[f"upper_{c}"].fillna(0).to_numpy()])[keep]
        xx = np.append(t[keep], xmax)
        ax.step(xx, np.append(f, f[-1]), where="post", color=colour, lw=2, ls=style,
                label=lab[0] if lang == "it" else lab[1])
        ax.fill_between(xx, np.append(flo, flo[-1]), np.append(fhi, fhi[-1]), step="post", color=colour,
                        alpha=0.18, lw=0)
    from .render import tick_formatter

    ax.set_xlim(0, xmax * 1.02)
    ax.set_ylim(0, 1)
    ax.set_xticks(_day_ticks(xmax))
    ax.xaxis.set_major_formatter(tick_formatter(lang, decimals=0))
    ax.yaxis.set_major_formatter(tick_formatter(lang, pct=True, decimals=0))
    ax.set_ylabel("Quota delle persone iscritte" if lang == "it" else "Share of people enrolled")
    ax.set_xlabel(xlabel or ("Giorni dall'iscrizione" if lang == "it" else "Days since enrolment"))
    if title:
        ax.set_title(title, loc="left")
    ax.legend(loc="upper left", handlelength=3.2)
    return fig


def plot_forest(hr_table, *, lang: str = "it", labels: dict | None = None, title: str = ""):
    """Forest plot of hazard ratios with intervals (log scale), one row per level.

    Parameters
    ----------
    hr_table : DataFrame
        :attr:`ixl_eval.survival.CoxModel.hr_table_` (or a subset, e.g. levels of groups large
        enough to show).
    labels : dict, optional
        ``{term: text}`` for the rows (default: the term).
    """
    import matplotlib.pyplot as plt

    labels = labels or {}
    tab = hr_table.reset_index(drop=True)
    n = len(tab)
    fig, ax = plt.subplots(figsize=(9.0, 1.2 + 0.42 * n))
    y = np.arange(n)[::-1]
    colours = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(dict.fromkeys(tab["covariate"]))}
    for yi, (_, r) in zip(y, tab.iterrows()):
        c = colours[r["covariate"]]
        ax.plot([r["lower"], r["upper"]], [yi, yi], color=c, lw=2)
        ax.plot([r["hr"]], [yi], marker="s", color=c, ms=7)
    ax.axvline(1.0, color="#444444", lw=1, ls="--")
    ax.set_xscale("log")
    lo = min(float(tab["lower"].min()), 0.8)
    hi = max(float(tab["upper"].max()), 1.25)
    ax.set_xlim(lo / 1.1, hi * 1.1)
    ticks = [t for t in (0.25, 0.33, 0.5, 0.67, 0.8, 1, 1.25, 1.5, 2, 3, 4) if lo / 1.1 <= t <= hi * 1.1]
    ax.set_xticks(ticks)
    dec = "," if lang == "it" else "."
    ax.set_xticklabels([f"{t:g}".replace(".", dec) for t in ticks])
    ax.minorticks_off()
    ax.set_yticks(y)
    ax.set_yticklabels([labels.get(t, t) for t in tab["term"]])
    ax.set_ylim(-0.7, n - 0.3)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("Rapporto tra i ritmi di inserimento (HR, scala logaritmica): >1 più veloce, <1 più lento"
                  if lang == "it" else "Hazard ratio of placement (log scale): >1 faster, <1 slower")
    if title:
        ax.set_title(title, loc="left")
    return fig


def plot_schoenfeld(cox, *, terms=None, lang: str = "it", bins: int = 20, labels: dict | None = None,
                    title: str = ""):
    """Scaled Schoenfeld residuals against time, binned: a flat line means a constant effect.

    Events are grouped into ``bins`` groups of equal size by time; each point is the group mean
    of the scaled residual (an estimate of the log hazard ratio at that time) with a 95% band
    from the within-group spread. The dashed line is the model's constant estimate. Binning
    keeps the plot readable (and free of individual points) at any size.
    """
    import matplotlib.pyplot as plt

    labels = labels or {}
    res = cox.scaled_schoenfeld()
    terms = list(terms or cox.design_)
    ncol = min(3, len(terms))
    nrow = int(np.ceil(len(terms) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.4 * ncol, 2.6 * nrow), squeeze=False, sharex=True)
    edges = np.unique(np.quantile(res["time"], np.linspace(0, 1, bins + 1)))
    b = np.clip(np.searchsorted(edges, res["time"], side="right") - 1, 0, len(edges) - 2)
    mid = np.array([res["time"][b == i].median() for i in range(len(edges) - 1)])
    for ax, term in zip(axes.flat, terms):
        v = res[term].to_numpy()
        m = np.array([v[b == i].mean() for i in range(len(edges) - 1)])
        se = np.array([v[b == i].std(ddof=1) / np.sqrt(max((b == i).sum(), 1)) for i in range(len(edges) - 1)])
        ax.plot(mid, m, marker="o", ms=3, color=PALETTE[0])
        ax.fill_between(mid, m - 1.96 * se, m + 1.96 * se, color=PALETTE[0], alpha=0.2, lw=0)
        ax.axhline(float(cox.params_[term]), color="#444444", ls="--", lw=1)
        ax.set_title(labels.get(term, term), fontsize=10, loc="left")
        ax.tick_params(labelsize=8)
    for ax in list(axes.flat)[len(terms):]:
        ax.set_visible(False)
    fig.supxlabel("Giorni (tempo dell'evento)" if lang == "it" else "Days (time of the event)", fontsize=10)
    fig.supylabel("Effetto stimato (log HR) nel tempo" if lang == "it" else "Estimated effect (log HR) over time",
                  fontsize=10)
    if title:
        fig.suptitle(title, x=0.01, ha="left", fontsize=12, fontweight="bold")
    from .render import localise_axes

    localise_axes(fig, lang)
    fig.tight_layout()
    return fig
