"""Presentation: plot theme, number formatting and HTML tables in Italian or English.

Nothing here computes a statistic; it only shapes what estimators return for a reader.

Examples
--------
>>> fmt_num(1234.5, "it", 1)
'1.234,5'
>>> fmt_pct(0.5432, "it")
'54%'
>>> fmt_ci(0.08, 0.151, "it", pct=True)
'tra 8% e 15%'
>>> per100(0.54, "it")
'54 su 100'
"""

from __future__ import annotations

import html
import math
import numbers

import pandas as pd

__all__ = [
    "PALETTE",
    "LINESTYLES",
    "INK",
    "apply_theme",
    "fmt_num",
    "fmt_pct",
    "fmt_ci",
    "per100",
    "html_table",
    "tr",
]

# Chart colours. Every one has a contrast of at least 3:1 on white (WCAG 1.4.11, graphical
# objects: 3,55:1 for the teal, the lowest), and any two stay apart under simulated deuteranopia
# and protanopia (Machado et al. 2009, full severity: CIELAB distance >= 20; the light Okabe–Ito
# orange, sky blue and yellow, and the green/pink and blue/pink pairs, failed one or the other).
# Blue, vermillion, black, teal, indigo, brown, wine: the first four are the ones a panel of
# curves uses (at most four groups per panel), each with its own line style as well.
PALETTE = ["#0072B2", "#D55E00", "#000000", "#009988", "#332288", "#8B4513", "#882255"]
# line styles paired with PALETTE (same index): curves differ by more than hue
LINESTYLES = ["-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (8, 2)), (0, (1, 2))]
# text drawn on charts (number-at-risk rows, notes): dark grey, 16:1 on white, readable in print
INK = "#222222"


def apply_theme() -> None:
    """Set the report's plot style: readable on a laptop and in print, colour-blind-safe."""
    import matplotlib as mpl
    import matplotlib.style
    from cycler import cycler

    # seaborn's whitegrid look through the style matplotlib ships: importing seaborn itself costs
    # ~1.5 s in every kernel, for no estimate.
    mpl.style.use("seaborn-v0_8-whitegrid")
    mpl.rcParams.update(
        {
            "axes.prop_cycle": cycler(color=PALETTE),
            "figure.figsize": (9.0, 5.0),
            "figure.dpi": 100,
            "savefig.dpi": 150,
            "savefig.bbox": "tight",
            "font.size": 11,
            "axes.titlesize": 13,
            "axes.titleweight": "bold",
            "axes.labelsize": 11,
            "legend.fontsize": 10,
            "legend.frameon": False,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )


def _isnan(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def fmt_num(x, lang: str = "it", decimals: int = 0) -> str:
    """Format a number with the language's separators (``1.234,5`` in Italian)."""
    if _isnan(x):
        return "–"
    s = f"{float(x):,.{decimals}f}"
    if lang == "it":
        s = s.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")
    return s


def fmt_pct(share, lang: str = "it", decimals: int = 0) -> str:
    """Format a share in [0, 1] as a percentage."""
    if _isnan(share):
        return "–"
    return f"{fmt_num(100 * float(share), lang, decimals)}%"


def fmt_ci(lo, hi, lang: str = "it", *, pct: bool = False, decimals: int = 0, unit: str = "") -> str:
    """Uncertainty interval in words: ``tra 8% e 15%`` / ``between 8% and 15%``."""
    f = (lambda v: fmt_pct(v, lang, decimals)) if pct else (lambda v: fmt_num(v, lang, decimals))
    u = f" {unit}" if unit else ""
    if lang == "it":
        return f"tra {f(lo)} e {f(hi)}{u}"
    return f"between {f(lo)} and {f(hi)}{u}"


def per100(share, lang: str = "it") -> str:
    """A share as "N su 100" / "N in 100", the wording policy staff read most easily."""
    if _isnan(share):
        return "–"
    n = fmt_num(100 * float(share), lang, 0)
    return f"{n} su 100" if lang == "it" else f"{n} in 100"


def tr(lang: str, it: str, en: str) -> str:
    """Pick the text for the report language."""
    return it if lang == "it" else en


def html_table(
    df: pd.DataFrame, *, caption: str = "", note: str = "", index: bool = False, lang: str = "it"
) -> str:
    """A plain, print-friendly HTML table; strings are shown as given (escaped), numbers formatted.

    Floats show two decimals (none when whole) with the language's separators; shares should be
    formatted by the caller (``fmt_pct``) since only it knows they are shares.
    """
    cols = list(df.columns)
    head_cells = ([html.escape(str(df.index.name or ""))] if index else []) + [html.escape(str(c)) for c in cols]
    rows = []
    for idx, row in df.iterrows():
        cells = [f"<th>{html.escape(str(idx))}</th>"] if index else []
        for c in cols:
            v = row[c]
            if _isnan(v):
                text = ""
            elif isinstance(v, float):
                text = fmt_num(v, lang, 0 if float(v).is_integer() else 2)
            elif isinstance(v, numbers.Integral) and not isinstance(v, bool):
                text = fmt_num(v, lang, 0)
            else:
                text = str(v)
            align = ' class="num"' if isinstance(v, numbers.Number) or text[:1].isdigit() or text.startswith("<") else ""
            cells.append(f"<td{align}>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    foot = f'<p class="ixl-note">{html.escape(note)}</p>' if note else ""
    return (
        '<table class="ixl-table">' + cap + "<thead><tr>" + "".join(f"<th>{h}</th>" for h in head_cells)
        + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>" + foot
    )
