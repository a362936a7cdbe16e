"""Charts of the propensity-score analysis: covariate balance (love plot) and overlap of the scores.

Presentation of :mod:`ixl_eval.estimate.causal`'s results; the estimators never draw.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..estimate.causal import _binary01  # the same 0/1 check as the estimators

__all__ = ["love_plot", "overlap_plot"]


def love_plot(table: pd.DataFrame, *, threshold: float = 0.1, labels: dict | None = None, lang: str = "it",
              after_label: str | None = None):
    """Dot plot of ``|SMD|`` per covariate before and after adjustment, with the threshold line.

    Parameters
    ----------
    table : DataFrame
        From :func:`balance_table`.
    labels : dict, optional
        Reader-facing name per term (e.g. ``{"gender=F": "Donne"}``); missing terms show as they are.
    after_label : str, optional
        Legend text for the adjusted sample (default "dopo la ponderazione" / "after weighting").

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from .present import PALETTE

    labels = labels or {}
    tb = table.copy()
    tb["label"] = [labels.get(t, t) for t in tb.index]
    tb = tb.iloc[::-1]
    y = np.arange(len(tb))
    fig, ax = plt.subplots(figsize=(8.0, 0.38 * len(tb) + 1.6))
    before = np.abs(tb["smd_before"].to_numpy(dtype=float))
    after = np.abs(tb["smd_after"].to_numpy(dtype=float))
    it = lang == "it"
    ax.scatter(before, y, facecolors="none", edgecolors=PALETTE[1], s=50, linewidths=1.5,
               label="prima dell'aggiustamento" if it else "before adjustment", zorder=3)
    ax.scatter(after, y, color=PALETTE[0], s=50,
               label=after_label or ("dopo la ponderazione" if it else "after weighting"), zorder=3)
    ax.axvline(threshold, color="0.3", linestyle="--", linewidth=1)
    ax.set_yticks(y, tb["label"])
    ax.set_xlim(0, max(float(np.nanmax(np.r_[before, after, threshold])) * 1.1, threshold * 2))
    ax.set_xlabel("Differenza standardizzata (valore assoluto)" if it else "Standardised difference (absolute)")
    ax.set_title("Quanto si somigliano i due gruppi" if it else "How alike the two groups are")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


_KDE_EXACT_MAX = 20_000


def _kde(x: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Gaussian kernel density of ``x`` at ``grid``, Scott's bandwidth (as ``scipy.stats.gaussian_kde``).

    Up to :data:`_KDE_EXACT_MAX` points the exact sum (scipy). Beyond, the exact sum costs
    points x grid kernel evaluations (9 s for 850k scores): the points are linearly binned on a
    grid 50 times finer than the bandwidth and the bins convolved with the kernel, which differs
    from the exact density by about (bin / bandwidth)^2 = 4e-4 of it, far below what a drawn
    curve can show (``tests/test_causal.py``).
    """
    if len(x) <= _KDE_EXACT_MAX:
        from scipy.stats import gaussian_kde

        return gaussian_kde(x)(grid)
    n = len(x)
    h = float(np.std(x, ddof=1)) * n ** (-0.2)
    lo = min(float(x.min()), float(grid[0])) - 5 * h
    hi = max(float(x.max()), float(grid[-1])) + 5 * h
    m = int(min(2**22, np.ceil((hi - lo) / (h / 50)) + 1))
    delta = (hi - lo) / (m - 1)
    pos = (x - lo) / delta
    i = np.minimum(np.floor(pos).astype(np.int64), m - 2)
    f = pos - i
    counts = np.bincount(i, weights=1 - f, minlength=m) + np.bincount(i + 1, weights=f, minlength=m)
    half = int(np.ceil(5 * h / delta))
    u = np.arange(-half, half + 1) * delta / h
    kernel = np.exp(-0.5 * u * u) / (math.sqrt(2 * math.pi) * h * n)
    dens = np.convolve(counts[:m], kernel, mode="same")
    return np.interp(grid, lo + delta * np.arange(m), dens)


def overlap_plot(ps, treatment, *, group_labels=("trattati", "confronto"), lang: str = "it"):
    """Smoothed distributions of the propensity score in the two groups (treated above, comparison
    mirrored below), to judge common support. Densities only: no count of people is drawn.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from .present import PALETTE

    t = _binary01(treatment, "treatment")
    p = pd.Series(ps).to_numpy(dtype=float)
    grid = np.linspace(0, 1, 1001)
    fig, ax = plt.subplots(figsize=(8.0, 4.5))
    for sign, grp, colour, label in ((1, 1, PALETTE[0], group_labels[0]), (-1, 0, PALETTE[1], group_labels[1])):
        x = p[t == grp]
        if len(x) >= 2 and np.ptp(x) > 0:
            dens = _kde(x, grid)
            ax.fill_between(grid, 0, sign * dens, color=colour, alpha=0.55, label=label)
    ax.axhline(0, color="0.3", linewidth=0.8)
    # zoom on where the scores are (programme uptake is often rare: all scores near 0)
    ax.set_xlim(0, min(1.0, max(0.1, math.ceil(10 * float(p.max()) * 1.1) / 10)))
    from .render import tick_formatter

    # densities above and below the axis both read as positive, in the report's number format
    ax.yaxis.set_major_formatter(tick_formatter(lang, absolute=True))
    ax.xaxis.set_major_formatter(tick_formatter(lang))
    it = lang == "it"
    ax.set_xlabel("Punteggio di propensione (probabilità stimata di ricevere il trattamento)" if it
                  else "Propensity score (estimated probability of treatment)")
    ax.set_ylabel("Densità" if it else "Density")
    ax.set_title("Sovrapposizione dei punteggi nei due gruppi" if it else "Overlap of scores in the two groups")
    ax.legend(loc="upper right")
    fig.tight_layout()
    return fig
