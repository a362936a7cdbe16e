"""Rendering: the only place where numbers become text ("8.603", "23% (19–27%)", "<10", "c").

Three outputs of one protected :class:`~ixl_eval.report.table.Table`:

* :func:`html_table` — the table in the report, formatted for the language;
* :func:`write_csv` — ``tables/<notebook>__<name>.csv``: UTF-8 with BOM, ``.`` as decimal point,
  one column per quantity, numbers as numbers, withheld cells empty with a ``<column>__status``
  column beside each protected column;
* :func:`write_workbook` — ``tables.xlsx``: numeric cells with display formats (Italian Excel shows
  8.603 and computes with 8603), withheld cells as their marks, an index and a legend sheet.

Text that came from data is made inert on the way out: HTML-escaped in the report, and in CSV
and XLSX written as text with a leading apostrophe when it starts like a formula (OWASP, *CSV
Injection*), with control characters removed.

Examples
--------
>>> fmt_num(8603, "it"), fmt_num(8603, "en"), fmt_num(0.5, "it", 2)
('8.603', '8,603', '0,50')
>>> fmt_p(0.0004, "it"), fmt_p(0.1234, "en")
('<0,001', '0.123')
>>> safe_text("=HYPERLINK(\\"http://x\\")"), safe_text("Trasporti\\x0bmerci")
('\\'=HYPERLINK("http://x")', 'Trasportimerci')
"""

from __future__ import annotations

import csv
import html
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .table import DERIVED, PRIMARY, SECONDARY, SHOWN, STATUS_NAMES, Table

__all__ = [
    "SECONDARY_MARK",
    "fmt_num",
    "fmt_p",
    "cell_text",
    "html_table",
    "legend_rows",
    "safe_text",
    "write_csv",
    "write_workbook",
    "suppression_note",
]

SECONDARY_MARK = "c"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _nan(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or (isinstance(x, np.floating) and np.isnan(x))


def fmt_num(x, lang: str = "it", decimals: int = 0) -> str:
    """A number with the language's separators; "–" when missing. Never "-0"."""
    if _nan(x):
        return "–"
    x = float(x)
    if round(x, decimals) == 0:
        x = 0.0
    s = f"{x:,.{decimals}f}"
    if lang == "it":
        s = s.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")
    return s.replace("-", "−")


def fmt_p(p, lang: str = "it") -> str:
    """A p-value: three decimals, "<0,001" below that."""
    if _nan(p):
        return "–"
    return "<" + fmt_num(0.001, lang, 3) if p < 0.001 else fmt_num(p, lang, 3)


def _fmt_value(col, v, lang: str) -> str:
    if _nan(v):
        return "–"
    if col.role == "count":
        return fmt_num(v, lang, 0)
    if col.role == "share" or col.pct:
        return fmt_num(100 * float(v), lang, col.decimals) + "%"
    if col.role == "p":
        return fmt_p(v, lang)
    return fmt_num(v, lang, col.decimals)


def mark(status: int, k: int) -> str:
    """The mark of a withheld cell: "<k" for a count below the threshold, "c" otherwise."""
    return f"<{k}" if status == PRIMARY else SECONDARY_MARK


def cell_text(t: Table, i: int, key: str, lang: str, k: int) -> str:
    """One cell as the report shows it (an estimate with its interval as "X (L–U)")."""
    col = t.col(key)
    st = int(t.status.at[i, key])
    if st != SHOWN:
        return mark(st, k) if col.role == "count" else SECONDARY_MARK
    v = t.data.at[i, key]
    if col.role in ("label", "text"):
        return "" if _nan(v) else str(v)
    text = _fmt_value(col, v, lang)
    if col.signed and not _nan(v) and not text.startswith(("−", "0")):
        text = "+" + text
    if col.ci and not _nan(v):
        lo, hi = (t.data.at[i, b] for b in col.ci)
        if not (_nan(lo) or _nan(hi)):
            lo_s = _fmt_value(t.col(col.ci[0]), lo, lang).rstrip("%")
            hi_s = _fmt_value(t.col(col.ci[1]), hi, lang)
            # a dash between two negative numbers reads as a minus: space it out
            dash = " – " if (float(lo) < 0 or float(hi) < 0) else "–"
            text = f"{text} ({lo_s}{dash}{hi_s})"
    return text


def _html_cols(t: Table) -> list:
    """Columns shown in HTML: interval bounds are shown inside their estimate's cell."""
    bounds = {b for c in t.cols if c.ci for b in c.ci}
    return [c for c in t.cols if c.key not in bounds]


def suppression_note(k: int, lang: str = "it") -> str:
    """The footnote of every table with withheld cells."""
    if lang == "it":
        return (f"«<{k}»: da 1 a {k - 1} persone, dato non mostrato per tutelare la riservatezza; "
                f"«{SECONDARY_MARK}»: dato riservato, oscurato perché permetterebbe di ricavare un dato «<{k}».")
    return (f"'<{k}': 1 to {k - 1} people, not shown to protect confidentiality; "
            f"'{SECONDARY_MARK}': confidential, withheld because it would let a '<{k}' figure be derived.")


def html_table(t: Table, lang: str, k: int) -> str:
    """The table as accessible HTML: caption, column headers with scope, row labels as headers,
    numbers right-aligned, wide tables scrolling inside their box; every text escaped."""
    cols = _html_cols(t)
    first_label = next((c.key for c in cols if c.role in ("label", "text")), None)
    head = "".join(f'<th scope="col">{html.escape(c.label(lang))}</th>' for c in cols)
    rows = []
    for i in range(len(t.data)):
        cells = []
        for c in cols:
            text = html.escape(cell_text(t, i, c.key, lang, k))
            if c.key == first_label:
                cells.append(f'<th scope="row">{text}</th>')
            elif c.role in ("label", "text"):
                cells.append(f"<td>{text}</td>")
            else:
                cells.append(f'<td class="num">{text}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = t.caption(lang)
    notes = [n for n in (t.note(lang), suppression_note(k, lang) if t.any_hidden() else "") if n]
    foot = "".join(f'<p class="ixl-note">{html.escape(n)}</p>' for n in notes)
    return (
        '<div class="ixl-table-wrap" role="region" tabindex="0" aria-label="' + html.escape(cap or t.name) + '">'
        '<table class="ixl-table">' + (f"<caption>{html.escape(cap)}</caption>" if cap else "")
        + f"<thead><tr>{head}</tr></thead><tbody>" + "".join(rows) + "</tbody></table></div>" + foot
    )


# ------------------------------------------------------------------------------ CSV / XLSX


def safe_text(s) -> str:
    """Text made inert for spreadsheets: control characters removed, and a leading ``= + - @``,
    tab or carriage return prefixed with an apostrophe so no spreadsheet reads a formula."""
    s = _CONTROL.sub("", str(s))
    if s.startswith(_FORMULA_START):
        s = "'" + s
    return s


def _protected_keys(t: Table) -> list:
    return [c.key for c in t.cols if c.role == "count" or c.key in t.dependents]


def csv_frame(t: Table, lang: str, k: int) -> pd.DataFrame:
    """The frame written as CSV: numbers as numbers (withheld: empty) and a status column beside
    each protected column ("" shown, "<k" below the threshold, "c" withheld)."""
    out = {}
    prot = set(_protected_keys(t))
    for c in t.cols:
        v = t.data[c.key]
        h = t.status[c.key].to_numpy() != SHOWN
        if c.role in ("label", "text"):
            out[c.key] = [None if _nan(x) else safe_text(x) for x in v]
        else:
            vals = pd.to_numeric(v, errors="coerce").astype(float).where(~h)
            out[c.key] = vals.astype("Int64") if c.role == "count" else vals
        if c.key in prot:
            out[f"{c.key}__status"] = [
                "" if s == SHOWN else (f"<{k}" if s == PRIMARY and c.role == "count" else SECONDARY_MARK)
                for s in t.status[c.key].to_numpy()
            ]
    return pd.DataFrame(out)


def write_csv(t: Table, path: Path, lang: str, k: int) -> Path:
    """Write the table as CSV (UTF-8 with BOM so Excel detects the encoding; ``,`` separator and
    ``.`` decimal, as ``pandas.read_csv`` and R's ``read.csv`` expect)."""
    path = Path(path)
    csv_frame(t, lang, k).to_csv(path, index=False, encoding="utf-8-sig", quoting=csv.QUOTE_MINIMAL,
                                 float_format="%.10g")
    return path


def legend_rows(schemas: list, k: int) -> list:
    """One row per column of every table: what it holds, its unit, and the marks."""
    role_it = {"label": "etichetta", "text": "testo", "count": "conteggio", "share": "quota (da 0 a 1)",
               "estimate": "stima", "lower": "limite inferiore dell'intervallo al 95%",
               "upper": "limite superiore dell'intervallo al 95%", "p": "valore p", "number": "numero"}
    rows = []
    for s in schemas:
        for c in s["cols"]:
            rows.append({
                "file": f"tables/{s['notebook']}__{s['name']}.csv", "column": c["key"], "label_it": c["it"],
                "label_en": c["en"], "role": c["role"], "meaning_it": role_it[c["role"]] + (" (quota da 0 a 1)" if c["pct"] else ""),
                "unit": c["unit"],
            })
    rows.append({"file": "*", "column": "<column>__status", "label_it": "stato del dato", "label_en": "cell status",
                 "role": "status", "unit": "",
                 "meaning_it": f"vuoto: dato mostrato; «<{k}»: da 1 a {k - 1} persone, non mostrato; «c»: riservato "
                               f"(oscurato perché permetterebbe di ricavare un dato «<{k}»). Il valore è lasciato vuoto."})
    return rows


def _sheet_names(schemas: list) -> list:
    short = {"panoramica": "pan", "tempo_inserimento": "tempo", "efficacia_ips": "ips",
             "stabilizzazione": "stab", "monitoraggio_trimestrale": "mon"}
    used, names = {"indice", "legenda"}, []
    for s in schemas:
        base = re.sub(r"[\[\]:*?/\\']", "_", f"{short.get(s['notebook'], s['notebook'][:6])} {s['name']}")
        name, n = base[:31], 2
        while name.lower() in used:
            suffix = f" {n}"
            name = base[: 31 - len(suffix)] + suffix
            n += 1
        used.add(name.lower())
        names.append(name)
    return names


def _number_format(col: dict) -> str:
    if col["role"] == "count":
        return "#,##0"
    if col["role"] == "share" or col["pct"]:
        f = "0" + ("." + "0" * col["decimals"] if col["decimals"] else "") + "%"
        return f"+{f};-{f};{f}" if col.get("signed") else f
    if col["role"] == "p":
        return "0.000"
    d = col["decimals"]
    return "#,##0" + ("." + "0" * d if d else "")


def write_workbook(run_dir: Path, lang: str, k: int) -> str | None:
    """``tables.xlsx`` from the run's tables (CSV and schemas): an index sheet, a legend sheet,
    one sheet per table with labels as headers, numbers as numeric cells with display formats,
    withheld cells as their marks. Returns the file name, or None when the run has no table."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    run_dir = Path(run_dir)
    schema_files = sorted((run_dir / "fragments" / "tables").glob("*.json"))
    schemas = [s for f in schema_files for s in json.loads(f.read_text(encoding="utf-8"))]
    if not schemas:
        return None
    names = _sheet_names(schemas)
    wb = Workbook()
    ix = wb.active
    ix.title = "indice"
    ix.append(["foglio" if lang == "it" else "sheet", "notebook", "tabella" if lang == "it" else "table",
               "titolo" if lang == "it" else "title", "file CSV"])
    for c in ix[1]:
        c.font = Font(bold=True)
    for name, s in zip(names, schemas):
        ix.append([safe_text(x) for x in (name, s["notebook"], s["name"], s["caption_it" if lang == "it" else "caption_en"],
                                          f"tables/{s['notebook']}__{s['name']}.csv")])
    lg = wb.create_sheet("legenda")
    rows = legend_rows(schemas, k)
    lg.append(list(rows[0].keys()))
    for c in lg[1]:
        c.font = Font(bold=True)
    for r in rows:
        lg.append([safe_text(v) for v in r.values()])
    for name, s in zip(names, schemas):
        ws = wb.create_sheet(name)
        df = pd.read_csv(run_dir / "tables" / f"{s['notebook']}__{s['name']}.csv", encoding="utf-8-sig",
                         keep_default_na=False, na_values=[""], dtype=str)
        cols = s["cols"]
        ws.append([safe_text(c["it" if lang == "it" else "en"]) for c in cols])
        for c in ws[1]:
            c.font = Font(bold=True)
        for i in range(len(df)):
            row = []
            for c in cols:
                raw = df.at[i, c["key"]]
                status = df.at[i, c["key"] + "__status"] if c["key"] + "__status" in df.columns else ""
                if isinstance(status, str) and status:
                    row.append(status)
                elif c["role"] in ("label", "text"):
                    row.append(None if not isinstance(raw, str) else raw)
                elif not isinstance(raw, str) or raw == "":
                    row.append(None)
                else:
                    row.append(int(raw) if c["role"] == "count" else float(raw))
            ws.append(row)
            for cell, c in zip(ws[ws.max_row], cols):
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text is text, never a formula
                elif cell.value is not None:
                    cell.number_format = _number_format(c)
        for j, c in enumerate(cols, start=1):
            ws.column_dimensions[ws.cell(1, j).column_letter].width = min(40, max(10, len(c["it"]) + 2))
    wb.save(run_dir / "tables.xlsx")
    return "tables.xlsx"


def status_name(code: int) -> str:
    return STATUS_NAMES[int(code)]


__all__ += ["mark", "status_name", "csv_frame", "DERIVED", "SECONDARY"]


# ------------------------------------------------------------------------------- chart axes
def _tick_decimals(v: float) -> int:
    s = f"{round(float(v), 6):.6f}".rstrip("0")
    return len(s.split(".")[1])


def tick_formatter(lang: str = "it", *, pct: bool = False, decimals: int | None = None, absolute: bool = False):
    """A matplotlib tick formatter that writes numbers as the report's text does
    (:func:`fmt_num`): decimal comma and thousands point in Italian (``0,05``, ``1.095``),
    the English separators in English. ``pct``: the value is a share, shown as ``20%``;
    ``decimals`` None: as many as the tick needs; ``absolute``: no sign (mirrored axes).

    >>> f = tick_formatter("it")
    >>> [f(v, None) for v in (0.05, 17.5, 1095, -2)]
    ['0,05', '17,5', '1.095', '−2']
    >>> tick_formatter("en", pct=True)(0.25, None)
    '25%'
    """
    from matplotlib.ticker import FuncFormatter

    def fmt(v, _pos=None):
        v = abs(v) if absolute else v
        if pct:
            v = 100 * v
        d = _tick_decimals(v) if decimals is None else decimals
        return fmt_num(v, lang, min(d, 3)) + ("%" if pct else "")

    return FuncFormatter(fmt)


def localise_axes(fig, lang: str = "it") -> None:
    """Give every numeric axis of ``fig`` the language's number format (:func:`tick_formatter`).

    Axes whose labels the chart already set (fixed labels such as years or quarters, percentages
    or its own formatter) are left alone; only matplotlib's default number formatter is
    replaced, on linear axes. Called by :meth:`Report.figure` for every chart.
    """
    from matplotlib.ticker import ScalarFormatter

    for ax in fig.axes:
        for axis, scale in ((ax.xaxis, ax.get_xscale()), (ax.yaxis, ax.get_yscale())):
            if scale == "linear" and type(axis.get_major_formatter()) is ScalarFormatter:
                axis.set_major_formatter(tick_formatter(lang))
__all__ += ["tick_formatter", "localise_axes"]


# ------------------------------------------------------------------------------ chart alt text
def see_table(t: Table, lang: str = "it") -> str:
    """The closing clause of a chart's alt text: where the same numbers are, in a table.

    >>> from .table import Col
    >>> see_table(Table("x", pd.DataFrame({"a": [1]}), [Col("a", "a", "a", role="count")],
    ...                 caption_it="Iscritti per anno (fino al cut-off)", caption_en="Enrolments"), "it")
    'Gli stessi numeri sono nella tabella «Iscritti per anno».'
    """
    cap = (t.caption_it if lang == "it" else t.caption_en) or t.name
    cap = cap.split(";")[0].split(" (")[0].rstrip(". ")
    return f"Gli stessi numeri sono nella tabella «{cap}»." if lang == "it" else \
        f"The same numbers are in the table “{cap}”."


def pct_text(share, lang: str = "it") -> str:
    """A share as a whole percentage (``0,46`` -> ``46%``), "–" when missing."""
    return "–" if _nan(share) else fmt_num(100 * float(share), lang, 0) + "%"


__all__ += ["see_table", "pct_text"]
