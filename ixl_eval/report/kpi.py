"""The programme indicators as reports: tables, relations, sentences, charts and records.

Presentation of :mod:`ixl_eval.kpi` for the overview (``00_panoramica``) and the quarterly
monitoring (``40_monitoraggio_trimestrale``). A notebook calls :func:`ixl_eval.kpi.analyse` once,
then :func:`overview_tables` or :func:`monitoring_tables`, publishes every table together with
:func:`relations` (``rep.publish(*tables.values(), relations=kpi_report.relations(tables))``) and
tells the story from the PROTECTED tables: sentences read :meth:`Table.value`, charts
:meth:`Table.shown`, records carry the identity of the cells they repeat.

Linking (the same number, one status)
-------------------------------------
Every count cell has an identity ``(measure, ((coordinate, value), ...))``:
``("placements", (("year", "2023"),))``, ``("enrolments", (("gender", "X"), ("year", "2022")))``,
``("placements", (("channel", "ips"), ("quarter", "2024Q1")))``. Both notebooks build their tables
from the same :class:`~ixl_eval.kpi.KpiResult` with the same measures and coordinates (years as
``"2019"``, quarters as ``"2019Q3"``, other spans as ``"2023-01-01/2023-04-30"``), so a run-level
audit can link them. Tables whose cells do not sit on one coordinate per row (a comparison: "now"
and "a year before" side by side; a breakdown: levels by year) are :class:`LinkedTable`: a
:class:`~ixl_eval.report.table.Table` with an explicit identity per count cell.

Relations (sums across tables): a year is the sum of its quarters (every count measure, persons
placed too, conservatively: a person placed in two quarters counts once in the year); the
placements of a period are the sum of its channels; under 40 is the sum of the age bands under 40;
a year-to-date span starting on 1 January and ending on a quarter end is the sum of those quarters.
Each notebook publishes the by-year and the by-quarter indicator tables (one of them without
showing it), so the year/quarter relations protect it on its own.

Examples
--------
>>> from ixl_eval import kpi
>>> a = kpi.analyse(kpi._toy_dataset(), cutoff="2024-04-30", years=[2023])
>>> tables = overview_tables(a, "en")
>>> from ixl_eval.disclosure import protect
>>> _ = protect(tables.values(), 3, relations=relations(tables))
>>> t = tables["primo_trimestre"]
>>> t.data[["quarter", "placements", "placements_prev", "placements_change"]].values.tolist()
[['2023Q1', 3, nan, nan], ['2024Q1', 5, 3.0, 0.6666666666666667]]

2024 to the cut-off (6 placements) is the sum of Q1 (5) and Q2 (1, below 3): Q1 is withheld so
the 1 cannot be derived, and the change with it. 2023 Q1 (3) is withheld too: the quarters'
column would otherwise withhold only counts below 3, which pin each other through their sum.

>>> t.shown()[["quarter", "placements", "placements_prev", "placements_change"]].values.tolist()
[['2023Q1', nan, nan, nan], ['2024Q1', nan, nan, nan]]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import disclosure

from ..estimate import kpi

from . import present
from . import render, vocab
from .table import Col, Table

__all__ = [
    "LinkedTable",
    "ident",
    "overview_tables",
    "monitoring_tables",
    "relations",
    "known_ids",
    "overview_records",
    "monitoring_records",
    "overview_summary",
    "monitoring_summary",
    "ytd_text",
    "gap_warning",
    "interview_text",
    "projection_text",
    "multiplicity_text",
    "left_out_text",
    "plot_by_year",
    "plot_mix_by_year",
    "plot_q1",
    "plot_quarterly",
    "plot_interviews",
    "plot_channels",
    "plot_cumulative",
]

PERIOD_INDICATORS = ("enrolments", "interviewed", "interview_eligible", "interview_done", "interviewed_within",
                     "interviewed_within_share", "median_days_to_interview", "placements", "permanent",
                     "permanent_share", "persons_placed", "first_placed", "first_placed_share")
COUNT_MEASURES = tuple(m for m in PERIOD_INDICATORS if m in kpi.INDICATORS and kpi.INDICATORS[m] == "count") + (
    "interview_done",)
_COUNT_ROWS = ("enrolments", "interviewed", "placements", "permanent", "persons_placed", "first_placed")
_CONTRACT_MEASURES = ("placements", "permanent")
# Overview breakdowns: column -> (table name, measure); the order is the notebook's.
OVERVIEW_BREAKDOWNS = {
    "age_band": "iscritti_per_eta",
    "under_40": "iscritti_under_40",
    "gender": "iscritti_per_genere",
    "citizenship_group": "iscritti_per_cittadinanza",
    "citizenship": "iscritti_stranieri_per_paese",
    "education": "iscritti_per_titolo",
    "contract_type": "inserimenti_per_contratto",
    "employer_size": "inserimenti_per_dimensione_azienda",
    "channel": "inserimenti_per_canale",
}
_CAPTIONS = {
    "indicatori_per_anno": ("Indicatori per anno", "Indicators by year"),
    "indicatori_per_trimestre": ("Indicatori per trimestre", "Indicators by quarter"),
    "iscritti_per_eta": ("Iscritti per fascia d'età", "Enrolments by age band"),
    "iscritti_under_40": ("Iscritti con meno di 40 anni", "Enrolments under 40"),
    "iscritti_per_genere": ("Iscritti per genere", "Enrolments by gender"),
    "iscritti_per_cittadinanza": ("Iscritti con cittadinanza italiana e straniera",
                                  "Enrolments with Italian and foreign citizenship"),
    "iscritti_stranieri_per_paese": (
        "Iscritti con cittadinanza straniera: le cittadinanze più frequenti (quote sul totale degli stranieri)",
        "Enrolments with foreign citizenship: the most frequent citizenships (shares of all foreign citizens)"),
    "iscritti_per_titolo": ("Iscritti per titolo di studio", "Enrolments by education"),
    "inserimenti_per_contratto": ("Inserimenti per tipo di contratto", "Placements by contract type"),
    "inserimenti_per_dimensione_azienda": ("Inserimenti per dimensione dell'azienda", "Placements by employer size"),
    "inserimenti_per_canale": ("Inserimenti per canale", "Placements by channel"),
    "primo_trimestre": ("Inserimenti nel primo trimestre", "Placements in the first quarter"),
    "trimestre_conteggi": ("Il trimestre e lo stesso trimestre dell'anno prima: conteggi",
                           "The quarter and the same quarter last year: counts"),
    "trimestre_quote": ("Il trimestre e lo stesso trimestre dell'anno prima: quote e tempi",
                        "The quarter and the same quarter last year: shares and waiting times"),
    "da_inizio_anno_conteggi": ("Da inizio anno, e lo stesso periodo dell'anno prima: conteggi",
                                "Year to date, and the same period last year: counts"),
    "da_inizio_anno_quote": ("Da inizio anno, e lo stesso periodo dell'anno prima: quote e tempi",
                             "Year to date, and the same period last year: shares and waiting times"),
    "confronti_holm": ("Confronti con lo stesso trimestre dell'anno prima: valori p e correzione di Holm",
                       "Comparisons with the same quarter last year: p-values and Holm adjustment"),
    "confronti_da_inizio_anno": ("Confronti da inizio anno con lo stesso periodo dell'anno prima: valori p",
                                 "Year-to-date comparisons with the same period last year: p-values"),
    "inserimenti_per_canale_anno": ("Inserimenti per canale e anno", "Placements by channel and year"),
}


# ============================================================================ identities


def ident(measure: str, *coords) -> tuple:
    """The identity of a count: ``ident("placements", ("channel", "ips"), ("year", 2023))``."""
    return (measure, tuple((str(k), str(v)) for k, v in coords))


def _period_coord(label: str) -> tuple:
    s = str(label)
    return ("quarter", s) if "Q" in s else ("year", s)


def _span_coord(lo: pd.Timestamp, hi: pd.Timestamp, cutoff: pd.Timestamp) -> tuple:
    """The coordinate of a span of days: a quarter, a year (both possibly cut at the cut-off) or
    the span itself."""
    q = lo.to_period("Q")
    if lo == q.start_time.normalize() and (hi == q.end_time.normalize() or (hi == cutoff and hi < q.end_time)):
        return ("quarter", str(q))
    y = lo.to_period("Y")
    if lo == y.start_time.normalize() and (hi == y.end_time.normalize() or (hi == cutoff and hi < y.end_time)):
        return ("year", str(y))
    return ("span", f"{lo:%Y-%m-%d}/{hi:%Y-%m-%d}")


@dataclass(repr=False)
class LinkedTable(Table):
    """A :class:`Table` whose count cells carry an explicit identity (``ids[(row, key)]``), for
    tables where a row does not sit on one coordinate: a comparison (the same indicator now and a
    year before), a breakdown (levels by year). A workaround until :class:`Col` can name fixed
    coordinates of its own (see the module docstring)."""

    ids: dict = field(default_factory=dict)
    row_keys: list = field(default_factory=list)

    def pos(self, key: str) -> int:
        """Position of the row with machine key ``key`` (a level code such as ``"X"``, an indicator
        such as ``"placements"``); the keys are in the schema (``row_keys``), not a column, so the
        report shows only reader-facing labels."""
        return self.row_keys.index(str(key))

    def cell_id(self, i: int, key: str):
        got = self.ids.get((int(i), key))
        return got if got is not None else super().cell_id(i, key)

    def schema(self, notebook: str) -> dict:
        out = super().schema(notebook)
        out["row_keys"] = list(self.row_keys)
        out["cell_ids"] = [{"row": i, "col": k, "measure": v[0], "coords": dict(v[1])}
                           for (i, k), v in sorted(self.ids.items())]
        return out


def known_ids(tables) -> set:
    """Every count identity the tables publish (records may only link to these)."""
    out = set()
    for t in tables:
        for c in t.counts:
            for i in range(len(t.data)):
                v = t.data.at[i, c]
                if v is None or (isinstance(v, float) and math.isnan(v)):
                    continue
                cid = t.cell_id(i, c)
                if cid is not None:
                    out.add(cid)
    return out


# ============================================================================ columns


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _ind_col(name: str, lang_days: int, *, key: str | None = None, ci=None) -> Col:
    it = _cap(vocab.indicator(name, "it", lang_days))
    en = _cap(vocab.indicator(name, "en", lang_days))
    kind = kpi.INDICATORS.get(name, "count")
    key = key or name
    if kind == "count":
        return Col(key, it, en, role="count", measure=name,
                   unit="contratti" if name in _CONTRACT_MEASURES else "persone")
    if kind == "share":
        return Col(key, it, en, role="share", base=kpi.SHARES[name], ci=ci, unit="quota 0–1")
    return Col(key, it, en, role="number", decimals=1, rests_on="interview_done", unit="giorni")


def _period_text(label: str, lang: str) -> str:
    return vocab.quarter(label, lang) if "Q" in str(label) else str(label)


# ============================================================================ period tables


def period_table(a: kpi.KpiResult, freq: str, lang: str) -> Table:
    """Every indicator by year (``indicatori_per_anno``) or quarter (``indicatori_per_trimestre``):
    counts, shares (withheld with their numerator or denominator) and the median days."""
    tab = a.by_year if freq == "year" else a.by_quarter
    coord = "year" if freq == "year" else "quarter"
    label = [_period_text(p, lang) + ("" if c else vocab.tr(lang, f" (fino al {e:%d/%m/%Y})", f" (to {e:%Y-%m-%d})"))
             for p, c, e in zip(tab["period"], tab["complete"], tab["end"])]
    data = {"period_label": label, coord: tab["period"].astype(str).tolist()}
    cols = [Col("period_label", vocab.word("period"), vocab.word("period", "en")),
            Col(coord, vocab.column(coord) + " (" + vocab.word("code").lower() + ")",
                vocab.column(coord, "en") + " (" + vocab.word("code", "en").lower() + ")")]
    for name in PERIOD_INDICATORS:
        col = _ind_col(name, a.interview_days)
        data[name] = tab[name].astype("int64").to_numpy() if col.role == "count" else tab[name].astype(float).to_numpy()
        cols.append(col)
    name = "indicatori_per_anno" if freq == "year" else "indicatori_per_trimestre"
    return Table(name, pd.DataFrame(data), cols, *_CAPTIONS[name], coords=[coord], lines="columns")


# ============================================================================ overview


def breakdown_table(a: kpi.KpiResult, column: str, lang: str) -> LinkedTable:
    """Counts and shares by level for the overview's years, with the total row (the year's
    enrolments or placements, or for the citizenships the enrolments of foreign citizenship)."""
    top = kpi.TOP_CITIZENSHIPS if column == "citizenship" else None
    mix = a.ind.mix(column, a.years, top=top)
    measure = "placements" if column in kpi.PLACEMENT_COLUMNS else "enrolments"
    levels = list(mix["level"].unique())
    data = {"level": [vocab.level(column, lv, lang) for lv in levels] + [vocab.word("total", lang)]}
    cols = [Col("level", vocab.column(column), vocab.column(column, "en"))]
    ids = {}
    unit = "contratti" if measure == "placements" else "persone"
    for y in a.years:
        m = mix[mix["year"] == int(y)]
        n_key, s_key = f"n_{y}", f"share_{y}"
        data[n_key] = np.append(m["n"].to_numpy(), m["total"].iloc[0]).astype("int64")
        data[s_key] = np.append(m["share"].to_numpy(dtype=float), 1.0)
        cols += [Col(n_key, f"{y} n", f"{y} n", role="count", measure=measure, unit=unit),
                 Col(s_key, f"{y} %", f"{y} %", role="share", base=(n_key,), unit="quota 0–1")]
        for i, lv in enumerate(levels):
            ids[(i, n_key)] = ident(measure, (column, lv), ("year", y))
        ids[(len(levels), n_key)] = (ident("enrolments", ("citizenship_group", "foreign"), ("year", y))
                                     if column == "citizenship" else ident(measure, ("year", y)))
    name = OVERVIEW_BREAKDOWNS[column]
    return LinkedTable(name, pd.DataFrame(data), cols, *_CAPTIONS[name], lines="columns", total_row=True, ids=ids,
                       row_keys=[str(lv) for lv in levels] + ["total"])


def q1_table(a: kpi.KpiResult, lang: str) -> LinkedTable:
    """First-quarter placements and permanent contracts of every year, beside the first quarter of
    the year before and the change (withheld with either count)."""
    tab = a.by_quarter
    q1 = tab[tab["period"].str.endswith("Q1") & tab["complete"]].reset_index(drop=True)
    by = dict(zip(q1["period"], range(len(q1))))
    data = {"year": q1["period"].str[:4].tolist(), "quarter": q1["period"].tolist()}
    ids = {}
    for m in ("placements", "permanent"):
        now = q1[m].astype("int64").to_numpy()
        prev = np.full(len(q1), np.nan)
        for i, p in enumerate(q1["period"]):
            pp = f"{int(p[:4]) - 1}Q1"
            if pp in by:
                prev[i] = now[by[pp]]
                ids[(i, f"{m}_prev")] = ident(m, ("quarter", pp))
            ids[(i, m)] = ident(m, ("quarter", p))
        with np.errstate(divide="ignore", invalid="ignore"):
            change = np.where(prev > 0, now / prev - 1, np.nan)
        data[m], data[f"{m}_prev"], data[f"{m}_change"] = now, prev, change
    w = vocab.word
    cols = [Col("year", vocab.column("year"), vocab.column("year", "en")),
            Col("quarter", vocab.column("quarter") + " (" + w("code").lower() + ")", vocab.column("quarter", "en") + " (code)"),
            Col("placements", w("placements_in_q1"), w("placements_in_q1", "en"), role="count", measure="placements",
                unit="contratti"),
            Col("placements_prev", w("placements_in_q1_before"), w("placements_in_q1_before", "en"), role="count",
                measure="placements", unit="contratti"),
            Col("placements_change", w("change_on_year_before"), w("change_on_year_before", "en"), role="estimate", signed=True,
                pct=True, base=("placements", "placements_prev"), unit="variazione relativa"),
            Col("permanent", w("of_which_permanent"), w("of_which_permanent", "en"), role="count", measure="permanent",
                unit="contratti"),
            Col("permanent_prev", w("of_which_permanent_before"), w("of_which_permanent_before", "en"), role="count",
                measure="permanent", unit="contratti"),
            Col("permanent_change", w("change_permanent"), w("change_permanent", "en"), role="estimate", pct=True, signed=True,
                base=("permanent", "permanent_prev"), unit="variazione relativa")]
    df = pd.DataFrame(data)[[c.key for c in cols]]
    # first quarters of different years add up to nothing published: no line of their own
    return LinkedTable("primo_trimestre", df, cols, *_CAPTIONS["primo_trimestre"], lines="none", ids=ids)


def overview_tables(a: kpi.KpiResult, lang: str) -> dict:
    """Every table of the overview, by name, in the order shown; ``indicatori_per_trimestre`` is
    published (its quarters sum to the years) but not shown."""
    out = {"indicatori_per_anno": period_table(a, "year", lang)}
    for column in OVERVIEW_BREAKDOWNS:
        out[OVERVIEW_BREAKDOWNS[column]] = breakdown_table(a, column, lang)
    out["primo_trimestre"] = q1_table(a, lang)
    out["indicatori_per_trimestre"] = period_table(a, "quarter", lang)
    return out


# ============================================================================ monitoring


def _span_label(lo: pd.Timestamp, hi: pd.Timestamp, lang: str) -> str:
    q = lo.to_period("Q")
    if lo == q.start_time.normalize() and hi == q.end_time.normalize():
        return vocab.quarter(str(q), lang)
    return vocab.tr(lang, f"dal {lo:%d/%m/%Y} al {hi:%d/%m/%Y}", f"{lo:%Y-%m-%d} to {hi:%Y-%m-%d}")


def _finite(x) -> float:
    x = float(x)
    return x if math.isfinite(x) else float("nan")


def comparison_table(a: kpi.KpiResult, cmp: pd.DataFrame, name: str, lang: str, *, tests: bool = False) -> LinkedTable:
    """Counts now and a year before, the change with its 95% interval (and, with ``tests``, every
    tested count, channels included, with raw and Holm-adjusted p-values). The change and the
    p-values are withheld with either count."""
    cut = a.cutoff
    at = cmp.attrs
    c_now = _span_coord(at["start"], at["end"], cut)
    c_before = _span_coord(at["before_start"], at["before_end"], cut)
    rows = list(_COUNT_ROWS) if not tests else [
        i for i in cmp.index if cmp.loc[i, "kind"] == "count" and pd.notna(cmp.loc[i, "p_value"])]
    data = {k: [] for k in ("indicator", "now", "before", "change", "change_low", "change_high",
                            "p_value", "p_holm")}
    ids = {}
    for i, key in enumerate(rows):
        r = cmp.loc[key]
        base, _, ch = key.partition("__channel=")
        if ch:
            label = vocab.tr(lang, "Inserimenti: ", "Placements: ") + vocab.level("channel", ch, lang)
            extra = (("channel", ch),)
        else:
            label = _cap(vocab.indicator(key, lang, a.interview_days))
            extra = ()
        data["indicator"].append(label)
        data["now"].append(float(r["now"]))
        data["before"].append(float(r["before"]))
        for k in ("change", "change_low", "change_high", "p_value", "p_holm"):
            data[k].append(_finite(r[k]) if pd.notna(r[k]) else float("nan"))
        ids[(i, "now")] = ident(base, *extra, c_now)
        if pd.notna(r["before"]):
            ids[(i, "before")] = ident(base, *extra, c_before)
    df = pd.DataFrame(data)
    w = vocab.word
    now_l = _span_label(at["start"], at["end"], "it"), _span_label(at["start"], at["end"], "en")
    bef_l = _span_label(at["before_start"], at["before_end"], "it"), _span_label(at["before_start"], at["before_end"], "en")
    cols = [Col("indicator", w("indicator"), w("indicator", "en")),
            Col("now", *now_l, role="count", unit="persone o contratti"),
            Col("before", *bef_l, role="count", unit="persone o contratti"),
            Col("change", w("change"), w("change", "en"), role="estimate", pct=True, signed=True, ci=("change_low", "change_high"),
                base=("now", "before"), unit="variazione relativa"),
            Col("change_low", "Limite inferiore (95%)", "Lower bound (95%)", role="lower", pct=True),
            Col("change_high", "Limite superiore (95%)", "Upper bound (95%)", role="upper", pct=True)]
    if tests:
        cols += [Col("p_value", w("p_single"), w("p_single", "en"), role="p", base=("now", "before")),
                 Col("p_holm", w("p_holm"), w("p_holm", "en"), role="p", base=("now", "before"))]
    else:
        df = df.drop(columns=["p_value", "p_holm"])
    # rows are different indicators (no line); the channels' sum is a relation (see relations())
    return LinkedTable(name, df, cols, *_CAPTIONS[name], lines="none", ids=ids, row_keys=list(rows))


def shares_table(a: kpi.KpiResult, cmp: pd.DataFrame, name: str, lang: str) -> LinkedTable:
    """The shares and the median wait now and a year before (one row per span), with the counts
    they are computed from and the Wilson interval of each share."""
    at = cmp.attrs
    ind = a.ind
    spans = [(at["start"], at["end"])]
    if at.get("before_covered", True):
        spans.append((at["before_start"], at["before_end"]))
    rows = [ind.period(lo, hi) for lo, hi in spans]
    data = {"period_label": [_span_label(lo, hi, lang) for lo, hi in spans]}
    cols = [Col("period_label", vocab.word("period"), vocab.word("period", "en"))]
    ids = {}
    order = ("interview_eligible", "interviewed_within", "interviewed_within_share", "interview_done",
             "median_days_to_interview", "placements", "permanent", "permanent_share", "persons_placed",
             "first_placed", "first_placed_share")
    for name_ in order:
        kind = kpi.INDICATORS.get(name_, "count")
        if kind == "share":
            num, den = kpi.SHARES[name_]
            data[name_] = [float(r[name_]) for r in rows]
            ci = [kpi.wilson(r[num], r[den]) for r in rows]
            data[name_ + "_low"] = [c[0] for c in ci]
            data[name_ + "_high"] = [c[1] for c in ci]
            cols += [_ind_col(name_, a.interview_days, ci=(name_ + "_low", name_ + "_high")),
                     Col(name_ + "_low", "Limite inferiore (95%)", "Lower bound (95%)", role="lower", pct=True),
                     Col(name_ + "_high", "Limite superiore (95%)", "Upper bound (95%)", role="upper", pct=True)]
        else:
            col = _ind_col(name_, a.interview_days)
            data[name_] = [int(r[name_]) if col.role == "count" else float(r[name_]) for r in rows]
            cols.append(col)
            if col.role == "count":
                for i, (lo, hi) in enumerate(spans):
                    ids[(i, name_)] = ident(name_, _span_coord(lo, hi, a.cutoff))
    return LinkedTable(name, pd.DataFrame(data)[[c.key for c in cols]], cols, *_CAPTIONS[name], lines="none", ids=ids)


def channel_year_table(a: kpi.KpiResult, lang: str) -> LinkedTable:
    """Placements by channel (rows, with the total) and year (columns; the current year to the
    cut-off): the channels of a year add up to its placements, a line protected like a column."""
    wide = a.ind.breakdown("channel", "year")
    complete = a.by_year.set_index("period")["complete"]
    chans = list(wide.columns)
    data = {"channel": [vocab.level("channel", c, lang) for c in chans] + [vocab.word("total", lang)]}
    cols = [Col("channel", vocab.column("channel"), vocab.column("channel", "en"))]
    ids = {}
    for y in wide.index:
        key = f"n_{y}"
        data[key] = np.append(wide.loc[y].to_numpy(), wide.loc[y].sum()).astype("int64")
        lab = y if complete[y] else f"{y}*"
        cols.append(Col(key, lab, lab, role="count", measure="placements", unit="contratti"))
        for i, c in enumerate(chans):
            ids[(i, key)] = ident("placements", ("channel", c), ("year", y))
        ids[(len(chans), key)] = ident("placements", ("year", y))
    return LinkedTable("inserimenti_per_canale_anno", pd.DataFrame(data), cols,
                       *_CAPTIONS["inserimenti_per_canale_anno"],
                       note_it="* anno non completo (fino alla data di analisi).",
                       note_en="* incomplete year (to the cut-off).", lines="columns", total_row=True, ids=ids,
                       row_keys=chans + ["total"])


def monitoring_tables(a: kpi.KpiResult, lang: str) -> dict:
    """Every table of the quarterly monitoring, by name, in the order shown;
    ``confronti_da_inizio_anno`` and ``indicatori_per_anno`` are published (records and sums rest
    on them) but not shown."""
    return {
        "trimestre_conteggi": comparison_table(a, a.compare_quarter, "trimestre_conteggi", lang),
        "trimestre_quote": shares_table(a, a.compare_quarter, "trimestre_quote", lang),
        "da_inizio_anno_conteggi": comparison_table(a, a.compare_ytd, "da_inizio_anno_conteggi", lang),
        "da_inizio_anno_quote": shares_table(a, a.compare_ytd, "da_inizio_anno_quote", lang),
        "indicatori_per_trimestre": period_table(a, "quarter", lang),
        "inserimenti_per_canale_anno": channel_year_table(a, lang),
        "confronti_holm": comparison_table(a, a.compare_quarter, "confronti_holm", lang, tests=True),
        "confronti_da_inizio_anno": comparison_table(a, a.compare_ytd, "confronti_da_inizio_anno", lang, tests=True),
        "indicatori_per_anno": period_table(a, "year", lang),
    }


# ============================================================================ relations


def _quarters_in(year: str, quarters: set) -> int:
    """How many quarters of ``year`` the by-quarter table must hold for the sum to be exact: all
    those from its first to its last (the table runs from the data start to the cut-off)."""
    qs = sorted(q for q in quarters if q.startswith(year))
    return int(qs[-1][-1]) - int(qs[0][-1]) + 1 if qs else 1


def relations(tables: dict) -> list:
    """The sums that link the tables: a year and its quarters, a period's placements and its
    channels, under 40 and its age bands, a year-to-date span and its quarters (every count
    measure; identities no table publishes are ignored by the protection)."""
    ids = known_ids(tables.values())
    out = []
    by_measure: dict = {}
    for m, coords in ids:
        by_measure.setdefault(m, set()).add(coords)
    for m, coords_set in by_measure.items():
        years = {dict(c)["year"] for c in coords_set if len(c) == 1 and c[0][0] == "year"}
        quarters = {dict(c)["quarter"] for c in coords_set if len(c) == 1 and c[0][0] == "quarter"}
        for y in sorted(years):
            qs = [ident(m, ("quarter", q)) for q in sorted(quarters) if q.startswith(y)]
            if len(qs) < _quarters_in(y, quarters):
                continue
            if qs:
                out.append([ident(m, ("year", y))] + qs)
        for c in coords_set:  # a span from 1 January to a quarter's end
            if len(c) == 1 and c[0][0] == "span":
                lo, hi = (pd.Timestamp(x) for x in c[0][1].split("/"))
                q = hi.to_period("Q")
                if lo == lo.to_period("Y").start_time.normalize() and hi == q.end_time.normalize():
                    qs = [ident(m, ("quarter", f"{lo.year}Q{j}")) for j in range(1, q.quarter + 1)]
                    out.append([ident(m, c[0])] + qs)
        # breakdowns by channel (and other levels) of one period sum to the period's total
        periods = {c[-1] for c in coords_set if len(c) == 2}
        for p in periods:
            for column in ("channel", "contract_type", "employer_size", "gender", "age_band", "under_40",
                           "citizenship_group", "education"):
                members = [ident(m, c[0], p) for c in coords_set if len(c) == 2 and c[-1] == p and c[0][0] == column]
                if members:
                    out.append([ident(m, p)] + members)
            under = [ident(m, ("age_band", b), p) for b in ("<30", "30-39")]
            over = [ident(m, ("age_band", b), p) for b in ("40-49", "50+")]
            out.append([ident(m, ("under_40", "yes"), p)] + under)
            out.append([ident(m, ("under_40", "no"), p)] + over)
        # a channel's year is the sum of its quarters (when every quarter of the year is published)
        for c in coords_set:
            if len(c) == 2 and c[1][0] == "year":
                y = c[1][1]
                qs = {dict(x)["quarter"] for x in coords_set if len(x) == 2 and x[0] == c[0] and x[1][0] == "quarter"
                      and x[1][1].startswith(y)}
                if qs and qs == {q for q in quarters if q.startswith(y)}:
                    out.append([ident(m, *c)] + [ident(m, c[0], ("quarter", q)) for q in sorted(qs)])
    # a sum is a relation only when every term is published (a partial sum is no line)
    return [r for r in out if len(r) >= 2 and all(x in ids for x in r)]


# ============================================================================ records


def _rec_label(name: str, days: int):
    return vocab.indicator(name, "it", days), vocab.indicator(name, "en", days)


def _check_links(rep, tables):
    ids = known_ids(tables.values())

    def rec(key, value, **kw):
        links = [kw.get("cell"), kw.get("rests_on"), *kw.get("base", ())]
        missing = [x for x in links if x is not None and x not in ids]
        if missing:
            raise ValueError(f"record {key!r} links to {missing}, which no published table holds")
        return rep.record(key, value, **kw)

    return rec


def _indicator_records(rec, row: dict, coord: tuple, suffix: str, days: int, names=None):
    """Every indicator of one period (``row``: :meth:`Indicators.period`), linked to the cells of
    the period's identity ``coord``."""
    out = []
    for name in names or kpi.INDICATORS:
        kind = kpi.INDICATORS[name]
        it, en = _rec_label(name, days)
        v = row[name]
        if kind == "count":
            out.append(rec(f"{name}{suffix}", int(v), unit="placements" if name in _CONTRACT_MEASURES else "people",
                           label_it=it, label_en=en, cell=ident(name, coord)))
        elif kind == "share":
            num, den = kpi.SHARES[name]
            ci = kpi.wilson(row[num], row[den])
            ci = None if math.isnan(ci[0]) else ci
            out.append(rec(f"{name}{suffix}", None if math.isnan(v) else float(v), ci=ci, n=int(row[den]),
                           unit="share", label_it=it, label_en=en,
                           base=(ident(num, coord), ident(den, coord)), rests_on=ident(den, coord)))
        else:
            out.append(rec(f"{name}{suffix}", None if math.isnan(v) else float(v), n=int(row["interview_done"]),
                           unit="days", label_it=it, label_en=en, rests_on=ident("interview_done", coord)))
    return out


def overview_records(rep, a: kpi.KpiResult, tables: dict) -> list:
    """The headline figures of the overview (keys as ``placements__year=2023``,
    ``enrolments_share__gender=F__year=2023``, ``placements__quarter=2024Q1``), each linked to the
    published cells it repeats or is computed from."""
    rec = _check_links(rep, tables)
    out = []
    yt = a.by_year
    for _, r in yt[yt["complete"]].iterrows():
        out += _indicator_records(rec, r.to_dict(), ("year", r["period"]), f"__year={r['period']}", a.interview_days)
    for column in ("gender", "age_band", "under_40", "citizenship_group", "education", "citizenship"):
        mix = a.ind.mix(column, a.years, top=kpi.TOP_CITIZENSHIPS if column == "citizenship" else None)
        for _, m in mix.iterrows():
            lab = vocab.level(column, m["level"], "it"), vocab.level(column, m["level"], "en")
            y = int(m["year"])
            suffix = f"__{column}={m['level']}__year={y}"
            n_id = ident("enrolments", (column, m["level"]), ("year", y))
            ci = kpi.wilson(m["n"], m["total"])
            if column == "citizenship":  # shares among people of foreign citizenship, as in the report
                if m["level"] == "OTHER":
                    continue
                tot_id = ident("enrolments", ("citizenship_group", "foreign"), ("year", y))
                out.append(rec(f"foreign_enrolments{suffix}", int(m["n"]), unit="people",
                               label_it=f"Iscritti stranieri: {lab[0]}", label_en=f"Foreign enrolments: {lab[1]}",
                               cell=n_id))
                out.append(rec(f"foreign_enrolments_share{suffix}", m["share"], ci=ci, n=int(m["total"]), unit="share",
                               label_it=f"Quota tra gli iscritti stranieri: {lab[0]}",
                               label_en=f"Share of foreign enrolments: {lab[1]}", base=(n_id, tot_id), rests_on=tot_id))
                continue
            tot_id = ident("enrolments", ("year", y))
            out.append(rec(f"enrolments{suffix}", int(m["n"]), unit="people", label_it=f"Iscritti: {lab[0]}",
                           label_en=f"Enrolments: {lab[1]}", cell=n_id))
            out.append(rec(f"enrolments_share{suffix}", m["share"], ci=ci, n=int(m["total"]), unit="share",
                           label_it=f"Quota di iscritti: {lab[0]}", label_en=f"Share of enrolments: {lab[1]}",
                           base=(n_id, tot_id), rests_on=tot_id))
    for column in kpi.PLACEMENT_COLUMNS:
        for _, m in a.ind.mix(column, a.years).iterrows():
            lab = vocab.level(column, m["level"], "it"), vocab.level(column, m["level"], "en")
            y = int(m["year"])
            suffix = f"__{column}={m['level']}__year={y}"
            n_id, tot_id = ident("placements", (column, m["level"]), ("year", y)), ident("placements", ("year", y))
            out.append(rec(f"placements{suffix}", int(m["n"]), unit="placements", label_it=f"Inserimenti: {lab[0]}",
                           label_en=f"Placements: {lab[1]}", cell=n_id))
            out.append(rec(f"placements_share{suffix}", m["share"], ci=kpi.wilson(m["n"], m["total"]), n=int(m["total"]),
                           unit="share", label_it=f"Quota di inserimenti: {lab[0]}",
                           label_en=f"Share of placements: {lab[1]}", base=(n_id, tot_id), rests_on=tot_id))
    q = a.by_quarter
    for _, r in q[q["period"].str.endswith("Q1") & q["complete"]].iterrows():
        out += _indicator_records(rec, r.to_dict(), ("quarter", r["period"]), f"__quarter={r['period']}",
                                  a.interview_days, ["placements", "permanent"])
    return out


def monitoring_records(rep, a: kpi.KpiResult, tables: dict) -> list:
    """The headline figures of the quarterly monitoring: every indicator of every complete
    quarter, the year to date, the changes on last year (with Holm-adjusted p-values) and the
    projection, each linked to the published cells it repeats or rests on."""
    rec = _check_links(rep, tables)
    out = []
    q = a.by_quarter
    days = a.interview_days
    for _, r in q[q["complete"]].iterrows():
        out += _indicator_records(rec, r.to_dict(), ("quarter", r["period"]), f"__quarter={r['period']}", days)
    year = a.cutoff.year
    ytd_row = a.ind.period(*a.ind.ytd_bounds())
    ytd_coord = _span_coord(*a.ind.ytd_bounds(), a.cutoff)
    out += _indicator_records(rec, ytd_row, ytd_coord, f"__ytd={year}", days)
    for cmp, suffix in ((a.compare_quarter, f"__quarter={a.quarter}"), (a.compare_ytd, f"__ytd={year}")):
        at = cmp.attrs
        c_now = _span_coord(at["start"], at["end"], a.cutoff)
        c_before = _span_coord(at["before_start"], at["before_end"], a.cutoff)
        for name, r in cmp.iterrows():
            if pd.isna(r["p_value"]):
                continue
            base, _, ch = name.partition("__")
            key = f"{base}_change" + (f"__{ch}" if ch else "") + suffix
            lab = _rec_label(base, days)
            extra = ()
            if ch:
                lv = ch.split("=", 1)[1]
                lab = (f"{lab[0]}: {vocab.level('channel', lv, 'it')}", f"{lab[1]}: {vocab.level('channel', lv, 'en')}")
                extra = (("channel", lv),)
            now_id, before_id = ident(base, *extra, c_now), ident(base, *extra, c_before)
            small_id = now_id if int(r["now"]) <= int(r["before"]) else before_id
            n = min(int(r["now"]), int(r["before"]))  # the change reveals both counts: the smaller rules
            ci = (r["change_low"], r["change_high"] if math.isfinite(r["change_high"]) else None)
            if ci[0] is None or (isinstance(ci[0], float) and math.isnan(ci[0])):
                ci = None
            out.append(rec(key, None if not math.isfinite(r["change"]) else float(r["change"]), ci=ci, n=n,
                           unit="ratio_change", label_it=f"Variazione sullo stesso periodo dell'anno prima: {lab[0]}",
                           label_en=f"Change on the same period last year: {lab[1]}", base=(now_id, before_id),
                           rests_on=small_id))
            if ch:  # channel counts themselves
                out.append(rec(f"{base}__{ch}{suffix}", int(r["now"]), unit="placements", label_it=lab[0],
                               label_en=lab[1], cell=now_id))
            out.append(rec(key.replace("_change", "_change_p_holm", 1), float(r["p_holm"]), n=n, unit="p_value",
                           label_it=f"p corretto (Holm): {lab[0]}", label_en=f"Holm-adjusted p: {lab[1]}",
                           base=(now_id, before_id), rests_on=small_id))
    proj = a.projection
    if proj is not None:
        ytd_id = ident("placements", ytd_coord)
        out.append(rec(f"placements_projected__year={proj.year_}", proj.total_, ci=proj.ci_, unit="placements",
                       label_it="Inserimenti previsti nell'anno", label_en="Projected placements in the year",
                       base=(ytd_id,)))
        if proj.target_ is not None:
            prev_id = ident("placements", ("year", proj.year_ - 1))
            out.append(rec(f"placements_target__year={proj.year_}", proj.target_, unit="placements",
                           label_it="Obiettivo di inserimenti nell'anno", label_en="Placement target for the year",
                           base=(prev_id,)))
            out.append(rep.record(f"placements_target_probability__year={proj.year_}", proj.prob_target_,
                                  unit="probability", label_it="Probabilità di raggiungere l'obiettivo (modello)",
                                  label_en="Probability of reaching the target (model)"))
    return out


# ============================================================================ sentences

t_ = present.tr


def _count(t: Table, row, key: str, lang: str, k: int) -> str:
    """A published count as the table shows it ("1.234", "<10", "c")."""
    i = t.find(row) if isinstance(row, dict) else int(row)
    return render.cell_text(t, i, key, lang, k)


def _small_text(n, k: int, lang: str) -> str:
    """A count published nowhere else (records left out, people not yet interviewed): "<k" from
    1 to k−1, zero shown (the rule of :func:`ixl_eval.disclosure.is_primary`)."""
    return f"<{k}" if disclosure.is_primary(n, k) else render.fmt_num(n, lang)


def _fmt_change(x, lang: str) -> str:
    if x is None or not math.isfinite(float(x)):
        return "–"
    return ("+" if x >= 0 else "-") + present.fmt_pct(abs(x), lang)


def _n100(share, lang) -> str:
    return present.fmt_num(100 * float(share), lang, 0)


def _chance(p: float, lang: str) -> str:
    if p > 0.99:
        return t_(lang, "superiore a 99 su 100", "over 99 in 100")
    if p < 0.01:
        return t_(lang, "inferiore a 1 su 100", "under 1 in 100")
    return t_(lang, "di circa ", "about ") + present.per100(p, lang)


def _quarter_words(label: str, lang: str) -> str:
    y, q = str(label).split("Q")
    if lang == "it":
        return f"{('primo', 'secondo', 'terzo', 'quarto')[int(q) - 1]} trimestre {y}"
    return f"{('first', 'second', 'third', 'fourth')[int(q) - 1]} quarter of {y}"


def overview_summary(a: kpi.KpiResult, tables: dict, lang: str, k: int) -> list[str]:
    """The "In breve" sentences of the overview, about the last of the years and the year before,
    from the protected tables (a change is given only where both counts are shown)."""
    yt = tables["indicatori_per_anno"]
    y = int(max(a.years))
    i = yt.find({"year": y})
    prev = yt.find({"year": y - 1}) if str(y - 1) in set(yt.data["year"]) else None
    complete = a.by_year.set_index("period")["complete"]
    end = a.by_year.set_index("period")["end"]
    partial = "" if complete[str(y)] else t_(lang, f" (fino al {end[str(y)]:%d/%m/%Y})", f" (to {end[str(y)]:%Y-%m-%d})")
    both_complete = prev is not None and complete[str(y)] and complete[str(y - 1)]

    def versus(m):
        if not both_complete:
            return ""
        now, before = yt.value(i, m), yt.value(prev, m)
        if now is None or before is None or not before:
            return ""
        return t_(lang, f", contro {_count(yt, prev, m, lang, k)} nel {y - 1} ({_fmt_change(now / before - 1, lang)})",
                  f", against {_count(yt, prev, m, lang, k)} in {y - 1} ({_fmt_change(now / before - 1, lang)})")

    out = [t_(lang, f"Nel {y}{partial} si sono iscritte {_count(yt, i, 'enrolments', lang, k)} persone",
              f"In {y}{partial}, {_count(yt, i, 'enrolments', lang, k)} people enrolled") + versus("enrolments") + "."]
    age, cit = tables["iscritti_under_40"], tables["iscritti_per_cittadinanza"]
    s_age = age.value(age.pos("yes"), f"share_{y}")
    s_for = cit.value(cit.pos("foreign"), f"share_{y}")
    if s_age is not None and s_for is not None:
        out.append(t_(lang,
                      f"Su 100 iscritti nel {y}, {_n100(s_age, lang)} avevano meno di 40 anni e {_n100(s_for, lang)} "
                      "una cittadinanza straniera.",
                      f"Of every 100 people enrolled in {y}, {_n100(s_age, lang)} were under 40 and "
                      f"{_n100(s_for, lang)} had a foreign citizenship."))
    s = t_(lang, f"Gli inserimenti lavorativi sono stati {_count(yt, i, 'placements', lang, k)}",
           f"There were {_count(yt, i, 'placements', lang, k)} job placements") + versus("placements")
    s += t_(lang, f", per {_count(yt, i, 'persons_placed', lang, k)} persone; per {_count(yt, i, 'first_placed', lang, k)} "
            "di loro è stato il primo inserimento con il progetto.",
            f", for {_count(yt, i, 'persons_placed', lang, k)} people; for {_count(yt, i, 'first_placed', lang, k)} of "
            "them it was their first placement with the programme.")
    out.append(s)
    ct = tables["inserimenti_per_contratto"]
    s_ft, s_pe = ct.value(ct.pos("fixed_term"), f"share_{y}"), ct.value(ct.pos("permanent"), f"share_{y}")
    if s_ft is not None and s_pe is not None:
        out.append(t_(lang, f"Su 100 inserimenti, {_n100(s_ft, lang)} erano a tempo determinato e {_n100(s_pe, lang)} "
                            "a tempo indeterminato.",
                      f"Of every 100 placements, {_n100(s_ft, lang)} were fixed-term and {_n100(s_pe, lang)} permanent."))
    q1 = tables["primo_trimestre"]
    if len(q1.data) >= 1:
        j = len(q1.data) - 1
        ch = q1.value(j, "placements_change")
        if ch is not None:
            cur = q1.data.at[j, "quarter"]
            before = str(int(cur[:4]) - 1)
            out.append(t_(lang,
                          f"Nel {_quarter_words(cur, lang)} gli inserimenti sono stati {_count(q1, j, 'placements', lang, k)}, "
                          f"{_fmt_change(ch, lang)} rispetto allo stesso trimestre del {before[:4]} "
                          f"({_count(q1, j, 'placements_prev', lang, k)}).",
                          f"In the {_quarter_words(cur, lang)} there were {_count(q1, j, 'placements', lang, k)} placements, "
                          f"{_fmt_change(ch, lang)} on the same quarter of {before[:4]} "
                          f"({_count(q1, j, 'placements_prev', lang, k)})."))
    return out


def interview_text(a: kpi.KpiResult, tables: dict, year: int, lang: str, k: int) -> str:
    """Intake interviews of a year in words, from the by-year table."""
    yt = tables["indicatori_per_anno"]
    i = yt.find({"year": year})
    D = a.interview_days
    s = t_(lang, f"Nel {year} {_count(yt, i, 'interviewed', lang, k)} persone hanno svolto il colloquio di accoglienza.",
           f"In {year}, {_count(yt, i, 'interviewed', lang, k)} people had their intake interview.")
    share, med = yt.value(i, "interviewed_within_share"), yt.value(i, "median_days_to_interview")
    if share is not None and med is not None:
        s += t_(lang,
                f" Su 100 persone iscritte nell'anno, {_n100(share, lang)} hanno avuto il colloquio entro {D} giorni "
                f"dall'iscrizione (l'obiettivo del team); per chi ha avuto il colloquio, l'attesa mediana è stata di "
                f"{present.fmt_num(med, lang)} giorni.",
                f" Of every 100 people enrolled in the year, {_n100(share, lang)} had their interview within {D} days "
                f"of enrolment (the team's target); for those interviewed, the median wait was "
                f"{present.fmt_num(med, lang)} days.")
    elig, done = yt.value(i, "interview_eligible"), yt.value(i, "interview_done")
    if elig is not None and done is not None and elig - done:
        not_yet = _small_text(int(elig - done), k, lang)
        s += t_(lang, f" {not_yet} iscritti dell'anno non risultano ancora intervistati alla data di analisi.",
                f" {not_yet} people enrolled that year have no interview recorded by the cut-off.")
    return s


def _target_sentence(a: kpi.KpiResult, tables: dict, lang: str, k: int) -> str:
    proj = a.projection
    yt = tables["indicatori_per_anno"]
    i = yt.find({"year": proj.year_})
    ytd = yt.value(i, "placements")
    ytd_s = _count(yt, i, "placements", lang, k)
    gt = present.fmt_num(100 * a.growth_target, lang)
    head = t_(lang, f"Obiettivo {proj.year_}: {present.fmt_num(proj.target_, lang)} inserimenti (+{gt}% sul "
                    f"{proj.year_ - 1}).",
              f"Target for {proj.year_}: {present.fmt_num(proj.target_, lang)} placements (+{gt}% on {proj.year_ - 1}).")
    reached = proj.ytd_ >= proj.target_
    if ytd is None:
        return head
    if proj.complete_:
        return head + t_(lang,
                         f" L'anno si è chiuso con {ytd_s} inserimenti ({present.fmt_pct(ytd / proj.target_, lang)} "
                         "dell'obiettivo): obiettivo " + ("raggiunto." if reached else "non raggiunto."),
                         f" The year ended with {ytd_s} placements ({present.fmt_pct(ytd / proj.target_, lang)} of the "
                         "target): target " + ("reached." if reached else "not reached."))
    return head + t_(lang,
                     f" Da inizio anno sono {ytd_s}; se il resto dell'anno segue l'andamento abituale si arriverà a circa "
                     f"{present.fmt_num(proj.total_, lang)} ({present.fmt_ci(*proj.ci_, lang)}); la probabilità di "
                     f"raggiungere l'obiettivo è {_chance(proj.prob_target_, lang)}.",
                     f" So far this year: {ytd_s}; if the rest of the year follows the usual pattern it will end at about "
                     f"{present.fmt_num(proj.total_, lang)} ({present.fmt_ci(*proj.ci_, lang)}); the chance of reaching "
                     f"the target is {_chance(proj.prob_target_, lang)}.")


def _target_shown(a: kpi.KpiResult, tables: dict) -> bool:
    """The target is last year's placements times a known factor: shown only with that count."""
    proj = a.projection
    if proj is None or proj.target_ is None:
        return False
    yt = tables["indicatori_per_anno"]
    return yt.value({"year": proj.year_ - 1}, "placements") is not None


def projection_text(a: kpi.KpiResult, tables: dict, lang: str, k: int) -> str:
    """The annual placement target, the year to date and the projection, in words."""
    proj = a.projection
    if proj is None:
        return t_(lang, "Non è possibile stimare il totale dell'anno: servono almeno un anno completo di dati "
                        f"precedente ({a.projection_problem}).",
                  f"The year's total cannot be projected: at least one complete earlier year of data is needed "
                  f"({a.projection_problem}).")
    yt = tables["indicatori_per_anno"]
    i = yt.find({"year": proj.year_})
    ytd_s = _count(yt, i, "placements", lang, k)
    if yt.value(i, "placements") is None:  # the projection is the year to date over a shown share
        return t_(lang, f"Da inizio anno gli inserimenti sono {ytd_s}: troppo pochi per una stima dell'anno.",
                  f"Placements so far this year: {ytd_s}, too few to project the year.")
    if proj.complete_:
        return _target_sentence(a, tables, lang, k) if _target_shown(a, tables) else t_(
            lang, f"L'anno si è chiuso con {ytd_s} inserimenti.", f"The year ended with {ytd_s} placements.")
    yrs = ", ".join(map(str, proj.past_years_))
    s = t_(lang,
           f"Da inizio anno al {proj.cutoff_:%d/%m/%Y} gli inserimenti sono {ytd_s}. Negli anni "
           f"{yrs}, entro la stessa data dell'anno si era realizzato il {present.fmt_pct(proj.seasonal_share_, lang)} "
           f"degli inserimenti dell'intero anno. Se il {proj.year_} segue lo stesso andamento, l'anno si chiuderà con "
           f"circa {present.fmt_num(proj.total_, lang)} inserimenti ({present.fmt_ci(*proj.ci_, lang)}, con una "
           f"probabilità del {present.fmt_pct(proj.level, lang)}).",
           f"From 1 January to {proj.cutoff_:%Y-%m-%d} there were {ytd_s} placements. In {yrs}, "
           f"{present.fmt_pct(proj.seasonal_share_, lang)} of the year's placements had happened by the same date. "
           f"If {proj.year_} follows the same pattern, the year will end with about "
           f"{present.fmt_num(proj.total_, lang)} placements ({present.fmt_ci(*proj.ci_, lang)}, with "
           f"{present.fmt_pct(proj.level, lang)} probability).")
    lo, hi = proj.seasonal_range_
    s += t_(lang,
            f" Usando l'andamento di un solo anno alla volta, la stima va da {present.fmt_num(lo, lang)} a "
            f"{present.fmt_num(hi, lang)}.",
            f" Using one past year's pattern at a time, the projection ranges from {present.fmt_num(lo, lang)} to "
            f"{present.fmt_num(hi, lang)}.")
    if _target_shown(a, tables):
        gt = present.fmt_num(100 * a.growth_target, lang)
        s += t_(lang,
                f" L'obiettivo (+{gt}% sul {proj.year_ - 1}) è di {present.fmt_num(proj.target_, lang)} inserimenti: "
                f"ne è stato raggiunto il {present.fmt_pct(proj.ytd_ / proj.target_, lang)}, e la probabilità di "
                f"raggiungerlo entro fine anno è {_chance(proj.prob_target_, lang)}.",
                f" The target (+{gt}% on {proj.year_ - 1}) is {present.fmt_num(proj.target_, lang)} placements: "
                f"{present.fmt_pct(proj.ytd_ / proj.target_, lang)} of it is reached, and the chance of reaching it by "
                f"the end of the year is {_chance(proj.prob_target_, lang)}.")
    return s


def multiplicity_text(a: kpi.KpiResult, lang: str) -> str:
    """How many comparisons were tested and what the Holm correction changes, in words."""
    cmp = a.compare_quarter
    p = cmp["p_value"].dropna()
    m = len(p)
    if m == 0:
        return t_(lang, "Non è stato possibile alcun confronto con lo stesso periodo dell'anno prima.",
                  "No comparison with the same period last year was possible.")
    raw = int((p < 0.05).sum())
    adj = int((cmp.loc[p.index, "p_holm"] < 0.05).sum())
    return t_(lang,
              f"In questa sezione sono stati fatti {m} confronti con lo stesso periodo dell'anno prima (indicatori e "
              f"canali). Quando si fanno molti confronti, qualcuno può sembrare una variazione vera solo per caso: per "
              f"questo accanto al valore p di ogni confronto c'è il valore corretto con il metodo di Holm, che tiene "
              f"conto di tutti i {m} confronti insieme. Sotto la soglia di 0,05 restano {adj} confronti su {m} con la "
              f"correzione ({raw} senza).",
              f"This section makes {m} comparisons with the same period last year (indicators and channels). With many "
              f"comparisons some can look like real changes by chance alone, so each p-value is shown beside its "
              f"Holm-adjusted value, which accounts for all {m} comparisons together. {adj} of {m} comparisons stay "
              f"below 0.05 after adjustment ({raw} before).")


def left_out_text(a: kpi.KpiResult, lang: str, k: int) -> str:
    """Records dated after the cut-off, which the indicators leave out, in words."""
    lo = a.ind.left_out_
    if not sum(lo.values()):
        return t_(lang, "Tutti i record dei dati sono datati entro la data di analisi e sono stati considerati.",
                  "Every record in the data is dated on or before the analysis cut-off and was used.")
    names = {
        "participants_enrolled_after_cutoff": ("iscrizioni", "enrolments"),
        "interviews_after_cutoff": ("colloqui", "interviews"),
        "interviews_of_people_enrolled_after_cutoff": ("colloqui di persone iscritte dopo", "interviews of people enrolled later"),
        "placements_after_cutoff": ("inserimenti", "placements"),
    }
    parts = [f"{_small_text(v, k, lang)} {names[key][0 if lang == 'it' else 1]}" for key, v in lo.items() if v]
    return t_(lang, f"Non sono considerati perché successivi alla data di analisi ({a.cutoff:%d/%m/%Y}): "
                    + ", ".join(parts) + ".",
              f"Left out because dated after the analysis cut-off ({a.cutoff:%Y-%m-%d}): " + ", ".join(parts) + ".")


_MONTH_NAMES = {"it": ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre",
                  "ottobre", "novembre", "dicembre"),
           "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                  "November", "December")}
_GAP_WORDS = {"enrolments": ("nessuna iscrizione", "no enrolments"),
              "interviews": ("nessun colloquio di accoglienza", "no intake interviews"),
              "placements": ("nessun inserimento", "no placements")}


def _month_text(month: str, lang: str) -> str:
    y, m = str(month).split("-")
    return f"{_MONTH_NAMES['it' if lang == 'it' else 'en'][int(m) - 1]} {y}"


def _empty_in(a: kpi.KpiResult, lo: pd.Timestamp, hi: pd.Timestamp) -> list:
    """(measure, month) of the empty months (:func:`ixl_eval.kpi.activity_gaps`) between two dates."""
    if a.gaps is None:
        return []
    lo_m, hi_m = lo.to_period("M"), hi.to_period("M")
    return [(m, mo) for m, mo in a.gaps.empty if lo_m <= pd.Period(mo, freq="M") <= hi_m]


def gap_warning(a: kpi.KpiResult, lang: str) -> str:
    """One plain sentence when the year to date holds a month with no records of a measure (the
    comparisons with last year then rest on missing data); empty otherwise."""
    lo, hi = a.ind.ytd_bounds()
    empty = _empty_in(a, lo, hi)
    if not empty:
        return ""
    what = "; ".join(t_(lang, f"{_GAP_WORDS[m][0]} in {_month_text(mo, lang)}", f"{_GAP_WORDS[m][1]} in {_month_text(mo, lang)}")
                     for m, mo in empty)
    return t_(lang, f"Attenzione: nei dati non risulta {what}. È probabile che l'estrazione sia incompleta: i confronti "
                    "da inizio anno per questi dati non sono affidabili (vedi «Qualità dei dati»).",
              f"Caution: the data hold {what}. The extract is probably incomplete: year-to-date comparisons of these "
              "figures are not reliable (see 'Data quality').")


def ytd_text(a: kpi.KpiResult, lang: str) -> str:
    """What the year-to-date comparison compares (the same days in both years), and a warning
    when the span holds a month with no records."""
    at = a.compare_ytd.attrs
    s = t_(lang,
           f"Il confronto usa gli stessi giorni nei due anni: dal {at['start']:%d/%m/%Y} al {at['end']:%d/%m/%Y} e dal "
           f"{at['before_start']:%d/%m/%Y} al {at['before_end']:%d/%m/%Y}.",
           f"The comparison uses the same days in both years: {at['start']:%Y-%m-%d} to {at['end']:%Y-%m-%d} and "
           f"{at['before_start']:%Y-%m-%d} to {at['before_end']:%Y-%m-%d}.")
    w = gap_warning(a, lang)
    return s + (" " + w if w else "")


def monitoring_summary(a: kpi.KpiResult, tables: dict, new_candidates_target: float, lang: str, k: int) -> list[str]:
    """The "In breve" sentences of the quarterly monitoring, from the protected tables."""
    out = []
    quarter = a.quarter
    qw = _quarter_words(quarter, lang)
    pq = f"{int(quarter[:4]) - 1}"
    ct, tests = tables["trimestre_conteggi"], tables["confronti_holm"]

    def versus(m, it, en):
        i = ct.pos(m)
        ch, before = ct.value(i, "change"), ct.value(i, "before")
        if ch is None or before is None:
            return ""
        s = t_(lang, f", contro {_count(ct, i, 'before', lang, k)} {it} ({_fmt_change(ch, lang)}",
               f", against {_count(ct, i, 'before', lang, k)} {en} ({_fmt_change(ch, lang)}")
        # Many comparisons are read at once: a change is "unlikely to be chance" only when it
        # stays significant after Holm's correction (the p-values of ``confronti_holm``).
        p = tests.value(tests.pos(m), "p_holm") if m in tests.row_keys else None
        if p is not None:
            s += ": " + (t_(lang, "una differenza difficilmente dovuta al caso", "a difference unlikely to be due to chance")
                         if p < 0.05 else
                         t_(lang, "una differenza che potrebbe essere dovuta al caso",
                            "a difference that could be due to chance"))
        return s + ")"

    vs = versus("placements", f"nello stesso trimestre del {pq}", f"in the same quarter of {pq}")
    if not a.compare_quarter.attrs.get("before_covered", True):
        vs = t_(lang, f" (nessun confronto: i dati iniziano il {a.ind.data_start_:%d/%m/%Y})",
                f" (no comparison: the data start on {a.ind.data_start_:%Y-%m-%d})")
    i = ct.pos("placements")
    out.append(t_(lang, f"Nel {qw} gli inserimenti lavorativi sono stati {_count(ct, i, 'now', lang, k)}{vs}.",
                  f"In the {qw} there were {_count(ct, i, 'now', lang, k)} job placements{vs}."))
    vs = versus("permanent", "un anno prima", "a year earlier")
    if vs:
        i = ct.pos("permanent")
        out.append(t_(lang, f"Quelli a tempo indeterminato sono stati {_count(ct, i, 'now', lang, k)}{vs}.",
                      f"Permanent contracts numbered {_count(ct, i, 'now', lang, k)}{vs}."))
    if _target_shown(a, tables):
        out.append(_target_sentence(a, tables, lang, k))
    yq = tables["da_inizio_anno_quote"]
    fp, pp = yq.value(0, "first_placed"), yq.value(0, "persons_placed")
    share = yq.value(0, "first_placed_share")
    lo, hi = yq.value(0, "first_placed_share_low"), yq.value(0, "first_placed_share_high")
    if (fp is not None and pp is not None and share is not None and lo is not None and hi is not None
            and not disclosure.is_small(fp, k)):
        verdict = (t_(lang, "sopra", "above") if lo > new_candidates_target else
                   t_(lang, "sotto", "below") if hi < new_candidates_target else t_(lang, "in linea con", "in line with"))
        out.append(t_(lang,
                      f"Su 100 persone inserite da inizio anno, {_n100(share, lang)} non erano mai state inserite prima "
                      f"(tra {present.fmt_num(100 * lo, lang)} e {present.fmt_num(100 * hi, lang)} su 100): {verdict} "
                      f"l'obiettivo di {present.fmt_num(100 * new_candidates_target, lang)} su 100.",
                      f"Of every 100 people placed this year, {_n100(share, lang)} had never been placed before "
                      f"(between {present.fmt_num(100 * lo, lang)} and {present.fmt_num(100 * hi, lang)} in 100): "
                      f"{verdict} the target of {present.fmt_num(100 * new_candidates_target, lang)} in 100."))
    qq = tables["trimestre_quote"]
    share = qq.value(0, "interviewed_within_share")
    if share is not None and not disclosure.is_small(qq.value(0, "interviewed_within") or 0, k):
        out.append(t_(lang,
                      f"Degli iscritti nel trimestre, {present.per100(share, lang)} hanno avuto il colloquio di "
                      f"accoglienza entro {a.interview_days} giorni dall'iscrizione.",
                      f"Of the people enrolled in the quarter, {present.per100(share, lang)} had their intake interview "
                      f"within {a.interview_days} days of enrolment."))
    out.append(gap_warning(a, lang))
    return [x for x in out if x]


# ============================================================================ charts


def _add_note(fig, note: str):
    if note:
        fig.tight_layout()
        fig.text(0.01, -0.01, note.strip(), fontsize=9, va="top", ha="left")


_MONTHS = {"it": ["gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic"],
           "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]}


def _suppressed_note(n_hidden: int, k: int, lang: str) -> str:
    if not n_hidden:
        return ""
    return t_(lang, f" Valori sotto {k} (e quelli che li rivelerebbero) non sono disegnati.",
              f" Values below {k} (and those that would reveal them) are not drawn.")


def plot_by_year(a: kpi.KpiResult, t: Table, lang: str, k: int):
    """Bars of enrolments and placements by year, from the protected by-year table (an incomplete
    year drawn lighter, withheld values not drawn)."""
    import matplotlib.pyplot as plt

    shown = t.shown()
    complete = a.by_year.set_index("period").loc[shown["year"], "complete"].tolist()
    fig, ax = plt.subplots(figsize=(9, 4.5))
    x = np.arange(len(shown))
    for j, (col, colour, lab) in enumerate([("enrolments", present.PALETTE[0], t_(lang, "Iscritti", "Enrolments")),
                                            ("placements", present.PALETTE[1], t_(lang, "Inserimenti", "Placements"))]):
        bars = ax.bar(x + (j - 0.5) * 0.4, shown[col].astype(float), width=0.4, color=colour, label=lab)
        for b, c in zip(bars, complete):
            if not c:
                b.set_alpha(0.45)
                b.set_hatch("//")
    ax.set_xticks(x, [p if c else f"{p}*" for p, c in zip(shown["year"], complete)])
    ax.set_ylabel(t_(lang, "Numero", "Number"))
    ax.set_title(t_(lang, "Iscritti e inserimenti per anno", "Enrolments and placements by year"))
    ax.legend()
    hidden = int(t.hidden("enrolments").sum() + t.hidden("placements").sum())
    _add_note(fig, t_(lang, "* anno non completo (fino alla data di analisi)", "* incomplete year (to the cut-off)")
              + _suppressed_note(hidden, k, lang))
    render.localise_axes(fig, lang)
    return fig


def plot_mix_by_year(t: Table, column: str, years, lang: str, k: int):
    """100% stacked bars: the share of each level in each year, from the protected breakdown
    table. Withheld levels are drawn together as one grey "not shown" segment."""
    import matplotlib.pyplot as plt

    shown = t.shown()
    body = shown.iloc[:-1]  # without the total row
    fig, ax = plt.subplots(figsize=(9, 1.6 + 0.6 * len(years)))
    left = np.zeros(len(years))
    colours = (present.PALETTE * 3)[: len(body)]
    ylab = [str(y) for y in years]
    share = np.array([[body.iloc[r][f"share_{y}"] for y in years] for r in range(len(body))], dtype=float)
    for r, colour in enumerate(colours):
        v = np.nan_to_num(share[r])
        if not v.any():
            continue
        ax.barh(ylab, v, left=left, color=colour, label=body.iloc[r]["level"])
        for i, (val, l0) in enumerate(zip(v, left)):
            if val >= 0.06:
                ax.text(l0 + val / 2, i, present.fmt_pct(val, lang), ha="center", va="center", fontsize=9,
                        color="black" if colour == "#009988" else "white")  # the higher contrast on each colour
        left += v
    rest = 1 - left
    if (rest > 1e-9).any():
        ax.barh(ylab, rest, left=left, color="#BBBBBB",
                label=t_(lang, f"Non mostrati (meno di {k} persone)", f"Not shown (fewer than {k} people)"))
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(lambda v, _: present.fmt_pct(v, lang))
    ax.invert_yaxis()
    ax.legend(ncol=min(4, len(body) + 1), loc="upper left", bbox_to_anchor=(0, -0.12 if len(years) > 2 else -0.2))
    ax.set_title(t_(lang, f"{vocab.column(column)}: composizione per anno", f"{vocab.column(column, 'en')}: mix by year"))
    render.localise_axes(fig, lang)
    return fig


def plot_q1(t: Table, lang: str, k: int):
    """First-quarter placements by year, with the permanent ones, from the protected Q1 table."""
    import matplotlib.pyplot as plt

    shown = t.shown()
    fig, ax = plt.subplots(figsize=(9, 4.5))
    years = shown["year"].tolist()
    ax.bar(years, shown["placements"].astype(float), color=present.PALETTE[0], label=t_(lang, "Inserimenti", "Placements"))
    ax.bar(years, shown["permanent"].astype(float), color=present.PALETTE[1], width=0.5,
           label=t_(lang, "di cui a tempo indeterminato", "of which permanent"))
    ax.set_ylabel(t_(lang, "Inserimenti nel 1° trimestre", "Placements in Q1"))
    ax.set_title(t_(lang, "Inserimenti nel primo trimestre di ogni anno", "Placements in the first quarter of each year"))
    ax.legend()
    _add_note(fig, _suppressed_note(int(t.hidden("placements").sum() + t.hidden("permanent").sum()), k, lang))
    render.localise_axes(fig, lang)
    return fig


def _quarter_axis(ax, labels, lang):
    q1 = [i for i, p in enumerate(labels) if p.endswith("Q1")]
    ax.set_xticks(q1, [labels[i][:4] for i in q1])
    ax.set_xticks(range(len(labels)), minor=True)
    ax.tick_params(axis="x", which="minor", length=3)
    ax.set_xlabel(t_(lang, "Trimestri (l'anno è segnato sul primo trimestre)", "Quarters (the year marks its first quarter)"))


def _complete_quarters(a: kpi.KpiResult, t: Table) -> pd.DataFrame:
    shown = t.shown()
    done = set(a.by_quarter.loc[a.by_quarter["complete"], "period"])
    return shown[shown["quarter"].isin(done)].reset_index(drop=True)


def plot_quarterly(a: kpi.KpiResult, t: Table, indicator: str, lang: str, k: int, *,
                   growth_target: float | None = None, share_target: float | None = None):
    """An indicator over all complete quarters, from the protected by-quarter table, with its
    target (for a count: ``(1 + growth_target)`` times the same quarter a year before, drawn only
    where that quarter is shown; for a share: a horizontal line)."""
    import matplotlib.pyplot as plt

    kind = kpi.INDICATORS[indicator]
    name = vocab.indicator(indicator, lang, a.interview_days)
    tab = _complete_quarters(a, t)
    labels = tab["quarter"].tolist()
    fig, ax = plt.subplots(figsize=(10, 4.5))
    y = tab[indicator].astype(float)
    ax.plot(range(len(labels)), y, marker="o", color=present.PALETTE[0], label=name)
    if kind == "count" and growth_target is not None:
        year = str(a.cutoff.year)
        xs, ys = [], []
        for i, p in enumerate(labels):
            prev = f"{int(p[:4]) - 1}Q{p[-1]}"
            if p.startswith(year) and prev in labels and pd.notna(y[labels.index(prev)]):
                xs.append(i)
                ys.append((1 + growth_target) * y[labels.index(prev)])
        if xs:
            ax.scatter(xs, ys, marker="_", s=600, linewidths=3, color=present.PALETTE[5], zorder=3,
                       label=t_(lang, f"Obiettivo: +{present.fmt_num(100 * growth_target, lang)}% sullo stesso trimestre "
                                      "dell'anno prima",
                                f"Target: +{present.fmt_num(100 * growth_target, lang)}% on the same quarter last year"))
    if kind == "share":
        ax.yaxis.set_major_formatter(lambda v, _: present.fmt_pct(v, lang))
        ax.set_ylim(0, 1.05)
        if share_target is not None:
            ax.axhline(share_target, color=present.PALETTE[5], linestyle="--",
                       label=t_(lang, f"Obiettivo: {present.fmt_pct(share_target, lang)}",
                                f"Target: {present.fmt_pct(share_target, lang)}"))
    _quarter_axis(ax, labels, lang)
    ax.set_title(name[:1].upper() + name[1:] + t_(lang, " per trimestre", " by quarter"))
    ax.legend(loc="best")
    if kind != "share":
        ax.set_ylim(bottom=0)
    _add_note(fig, _suppressed_note(int(y.isna().sum()), k, lang))
    render.localise_axes(fig, lang)
    return fig


def plot_interviews(a: kpi.KpiResult, t: Table, lang: str, k: int):
    """Two panels over complete quarters, from the protected by-quarter table: share interviewed
    within the target days, median days (withheld values not drawn)."""
    import matplotlib.pyplot as plt

    tab = _complete_quarters(a, t)
    labels = tab["quarter"].tolist()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.2))
    D = a.interview_days
    share, med = tab["interviewed_within_share"].astype(float), tab["median_days_to_interview"].astype(float)
    a1.plot(range(len(labels)), share, marker="o", color=present.PALETTE[0])
    a1.yaxis.set_major_formatter(lambda v, _: present.fmt_pct(v, lang))
    a1.set_ylim(0, 1.05)
    a1.set_title(t_(lang, f"Colloquio entro {D} giorni (quota)", f"Interviewed within {D} days (share)"))
    a2.plot(range(len(labels)), med, marker="o", color=present.PALETTE[2])
    a2.axhline(D, color=present.PALETTE[5], linestyle="--", label=t_(lang, f"Obiettivo: {D} giorni", f"Target: {D} days"))
    a2.set_title(t_(lang, "Giorni mediani dall'iscrizione al colloquio", "Median days from enrolment to interview"))
    a2.legend()
    for ax in (a1, a2):
        _quarter_axis(ax, labels, lang)
    a2.set_ylim(bottom=0)
    _add_note(fig, _suppressed_note(int(share.isna().sum() + med.isna().sum()), k, lang))
    render.localise_axes(fig, lang)
    return fig


def plot_channels(t: Table, lang: str, k: int):
    """Placements by channel and year, stacked, from the protected channel table (withheld cells
    not drawn; the current year, to the cut-off, marked *)."""
    import matplotlib.pyplot as plt

    shown = t.shown().iloc[:-1]  # without the total row
    years = [c for c in t.counts]
    labels = [t.col(c).it if lang == "it" else t.col(c).en for c in years]
    fig, ax = plt.subplots(figsize=(10, 4.8))
    bottom = np.zeros(len(years))
    hidden = 0
    for r, colour in zip(range(len(shown)), present.PALETTE * 3):  # never drop a channel
        v = shown.iloc[r][years].astype(float)
        hidden += int(v.isna().sum())
        v = v.fillna(0).to_numpy()
        if not v.any():
            continue
        ax.bar(labels, v, bottom=bottom, color=colour, label=shown.iloc[r]["channel"])
        bottom += v
    ax.set_ylabel(t_(lang, "Inserimenti", "Placements"))
    ax.set_title(t_(lang, "Inserimenti per canale e anno", "Placements by channel and year"))
    ax.legend(ncol=2, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    _add_note(fig, t_(lang, "* anno non completo (fino alla data di analisi).", "* incomplete year (to the cut-off).")
              + _suppressed_note(hidden, k, lang))
    render.localise_axes(fig, lang)
    return fig


def plot_cumulative(a: kpi.KpiResult, tables: dict, lang: str, k: int):
    """This year's placements day by day against the target path and the projection.

    The running total is drawn from the day it reaches ``k``; the target path (last year's
    running total times the target ratio) only when last year's placements are shown.
    """
    import matplotlib.pyplot as plt

    proj = a.projection
    ind = a.ind
    year = a.cutoff.year
    d = ind.placements_["started_on"]
    days = pd.date_range(f"{year}-01-01", f"{year}-12-31")
    fig, ax = plt.subplots(figsize=(10, 4.8))
    this = d[d.dt.year == year].dt.dayofyear.value_counts().reindex(range(1, len(days) + 1), fill_value=0).cumsum()
    upto = (a.cutoff - pd.Timestamp(year=year, month=1, day=1)).days + 1
    y_this = this.iloc[:upto].astype(float)
    y_this = y_this.where(y_this >= k)
    ax.plot(days[:upto], y_this.to_numpy(), color=present.PALETTE[0], lw=2.5,
            label=t_(lang, f"Inserimenti {year}", f"Placements {year}"))
    if _target_shown(a, tables):
        prev = d[d.dt.year == year - 1]
        ratio = proj.target_ / max(len(prev), 1)
        n_prev = len(pd.date_range(f"{year - 1}-01-01", f"{year - 1}-12-31"))
        cum_prev = prev.dt.dayofyear.value_counts().reindex(range(1, n_prev + 1), fill_value=0).cumsum()
        path = (cum_prev * ratio).reindex(range(1, len(days) + 1)).ffill().to_numpy()
        ax.plot(days, path, color=present.PALETTE[5], linestyle="--",
                label=t_(lang, f"Percorso dell'obiettivo ({present.fmt_num(proj.target_, lang)} a fine anno)",
                         f"Target path ({present.fmt_num(proj.target_, lang)} by year end)"))
    ytd_shown = tables["indicatori_per_anno"].value({"year": year}, "placements") is not None
    if proj is not None and ytd_shown:
        end = days[-1]
        ax.errorbar([end], [proj.total_], yerr=[[proj.total_ - proj.ci_[0]], [proj.ci_[1] - proj.total_]], fmt="o",
                    color=present.PALETTE[2], capsize=6, lw=2,
                    label=t_(lang, f"Previsione a fine anno (intervallo al {present.fmt_pct(proj.level, lang)})",
                             f"Year-end projection ({present.fmt_pct(proj.level, lang)} interval)"))
        ax.plot([days[upto - 1], end], [proj.ytd_, proj.total_], color=present.PALETTE[2], linestyle=":")
    ax.set_ylim(bottom=0)
    ticks = pd.date_range(f"{year}-01-01", f"{year}-12-01", freq="MS")
    ax.set_xticks(ticks, [_MONTHS[lang][m.month - 1] for m in ticks])
    ax.set_ylabel(t_(lang, "Inserimenti da inizio anno", "Placements since 1 January"))
    ax.set_title(t_(lang, f"Inserimenti {year}: andamento verso l'obiettivo", f"Placements {year}: progress to target"))
    ax.legend(loc="upper left")
    render.localise_axes(fig, lang)
    return fig



# ----------------------------------------------------------------------------------- alt texts
# One sentence per chart stating what it shows, from the same protected table the chart draws,
# and where the numbers are: the text alternative of the image (never a copy of its caption).
def _lbl(t: Table, key: str, lang: str) -> str:
    c = t.col(key)
    return c.it if lang == "it" else c.en


def alt_by_year(a: kpi.KpiResult, t: Table, lang: str, k: int) -> str:
    """Alt text of :func:`plot_by_year`: the complete years with most enrolments and placements."""
    s = t.shown()
    done = a.by_year.set_index("period").loc[s["year"], "complete"].tolist()
    out = []
    for col, it_, en_ in (("enrolments", "gli iscritti", "enrolments"), ("placements", "gli inserimenti", "placements")):
        cand = [(float(s.at[i, col]), i) for i in range(len(s)) if done[i] and pd.notna(s.at[i, col])]
        if cand:
            v, i = max(cand)
            out.append(t_(lang, f"{it_} sono stati di più nel {s.at[i, 'year']} ({render.fmt_num(v, lang)})",
                          f"{en_} peaked in {s.at[i, 'year']} ({render.fmt_num(v, lang)})"))
    head = t_(lang, "Tra gli anni completi, ", "Among complete years, ") + t_(lang, " e ", " and ").join(out) + "."
    return head + " " + render.see_table(t, lang)


def alt_mix_by_year(t: Table, column: str, years, lang: str, k: int) -> str:
    """Alt text of :func:`plot_mix_by_year`: the largest group in the first and last year."""
    body = t.shown().iloc[:-1]
    top = {}
    for y in (years[0], years[-1]):
        sh = body[f"share_{y}"].astype(float)
        if sh.notna().any():
            i = int(sh.idxmax())
            top[y] = (str(body.at[i, "level"]), render.pct_text(sh[i], lang))
    if not top:
        return render.see_table(t, lang)
    y0, y1 = years[0], years[-1]
    if y1 in top and y0 in top and top[y0][0] == top[y1][0] and y0 != y1:
        txt = t_(lang, f"Il gruppo più numeroso è «{top[y1][0]}» sia nel {y0} ({top[y0][1]}) sia nel {y1} ({top[y1][1]}).",
                 f"The largest group is “{top[y1][0]}” both in {y0} ({top[y0][1]}) and in {y1} ({top[y1][1]}).")
    else:
        parts = [t_(lang, f"nel {y} il gruppo più numeroso è «{g}» ({p})", f"in {y} the largest group is “{g}” ({p})")
                 for y, (g, p) in top.items()]
        txt = "; ".join(parts) + "."
        txt = txt[:1].upper() + txt[1:]
    return txt + " " + render.see_table(t, lang)


def alt_q1(t: Table, lang: str, k: int) -> str:
    """Alt text of :func:`plot_q1`: the last first quarter against the one before."""
    i = len(t.data) - 1
    y = t.data.at[i, "year"]
    n, perm = render.cell_text(t, i, "placements", lang, k), render.cell_text(t, i, "permanent", lang, k)
    txt = t_(lang, f"Nel primo trimestre del {y} gli inserimenti sono stati {n}, di cui {perm} a tempo indeterminato",
             f"In the first quarter of {y} there were {n} placements, {perm} of them permanent")
    if i > 0:
        txt += t_(lang, f"; nel {t.data.at[i - 1, 'year']} erano {render.cell_text(t, i - 1, 'placements', lang, k)}.",
                  f"; in {t.data.at[i - 1, 'year']} there were {render.cell_text(t, i - 1, 'placements', lang, k)}.")
    else:
        txt += "."
    return txt + " " + render.see_table(t, lang)


def _val_text(v, kind: str, lang: str) -> str:
    if pd.isna(v):
        return t_(lang, "non mostrato", "not shown")
    return render.pct_text(v, lang) if kind == "share" else render.fmt_num(v, lang)


def alt_quarterly(a: kpi.KpiResult, t: Table, indicator: str, lang: str, k: int, *,
                  share_target: float | None = None) -> str:
    """Alt text of :func:`plot_quarterly`: the last complete quarter, the highest one, the target."""
    kind = kpi.INDICATORS[indicator]
    name = vocab.indicator(indicator, lang, a.interview_days)
    tab = _complete_quarters(a, t)
    if tab.empty:
        return render.see_table(t, lang)
    y = tab[indicator].astype(float)
    last = len(tab) - 1
    txt = t_(lang, f"{_cap(name)}: nell'ultimo trimestre completo ({tab.at[last, 'period_label']}) "
                   f"{_val_text(y[last], kind, lang)}",
             f"{_cap(name)}: in the last complete quarter ({tab.at[last, 'period_label']}) "
             f"{_val_text(y[last], kind, lang)}")
    if y.notna().any():
        i = int(y.idxmax())
        if i == last or y[i] == y[last]:
            txt += t_(lang, ", il valore più alto della serie", ", the highest of the series")
        else:
            txt += t_(lang, f"; il valore più alto è del {tab.at[i, 'period_label']} ({_val_text(y[i], kind, lang)})",
                      f"; the highest was in {tab.at[i, 'period_label']} ({_val_text(y[i], kind, lang)})")
    if share_target is not None:
        txt += t_(lang, f"; l'obiettivo è {render.pct_text(share_target, lang)}",
                  f"; the target is {render.pct_text(share_target, lang)}")
    return txt + ". " + render.see_table(t, lang)


def alt_interviews(a: kpi.KpiResult, t: Table, lang: str, k: int) -> str:
    """Alt text of :func:`plot_interviews`: the last complete quarter against the target days."""
    tab = _complete_quarters(a, t)
    if tab.empty:
        return render.see_table(t, lang)
    i, D = len(tab) - 1, a.interview_days
    share, med = tab.at[i, "interviewed_within_share"], tab.at[i, "median_days_to_interview"]
    return t_(lang,
              f"Nell'ultimo trimestre completo ({tab.at[i, 'period_label']}) ha avuto il colloquio entro {D} giorni "
              f"il {_val_text(share, 'share', lang)} degli iscritti, con un'attesa mediana di "
              f"{_val_text(med, 'count', lang)} giorni (obiettivo: {D}).",
              f"In the last complete quarter ({tab.at[i, 'period_label']}) {_val_text(share, 'share', lang)} of "
              f"enrolments were interviewed within {D} days, with a median wait of {_val_text(med, 'count', lang)} "
              f"days (target: {D}).") + " " + render.see_table(t, lang)


def alt_channels(t: Table, lang: str, k: int) -> str:
    """Alt text of :func:`plot_channels`: the channel with most placements, year by year."""
    s = t.shown()
    body, total = s.iloc[:-1], s.iloc[-1]
    years = list(t.counts)
    tops = {}
    for c in years:
        v = body[c].astype(float)
        if v.notna().any():
            tops[c] = int(v.idxmax())
    if not tops:
        return render.see_table(t, lang)
    last = years[-2] if len(years) > 1 and years[-2] in tops else list(tops)[-1]
    i = tops[last]
    ch = str(body.at[i, "channel"])
    n, tot = render.fmt_num(body.at[i, last], lang), render.fmt_num(total[last], lang)
    y = _lbl(t, last, lang)
    if len(set(tops.values())) == 1:
        txt = t_(lang, f"In ogni anno il canale con più inserimenti è «{ch}» (nel {y}: {n} su {tot}).",
                 f"Every year the channel with most placements is “{ch}” ({y}: {n} of {tot}).")
    else:
        txt = t_(lang, f"Nel {y} il canale con più inserimenti è «{ch}» ({n} su {tot}); in altri anni prevale un altro canale.",
                 f"In {y} the channel with most placements is “{ch}” ({n} of {tot}); other years another channel leads.")
    return txt + " " + render.see_table(t, lang)


def alt_cumulative(a: kpi.KpiResult, tables: dict, lang: str, k: int) -> str:
    """Alt text of :func:`plot_cumulative`: placements so far, the projection and the target (each
    only where the chart draws it)."""
    year, proj = a.cutoff.year, a.projection
    t = tables["indicatori_per_anno"]
    ytd = t.value({"year": year}, "placements")
    day = a.cutoff.strftime("%d/%m/%Y") if lang == "it" else f"{a.cutoff.day} {a.cutoff.strftime('%B %Y')}"
    if ytd is None:
        return t_(lang, f"Gli inserimenti del {year} sono troppo pochi per essere mostrati.",
                  f"The placements of {year} are too few to be shown.") + " " + render.see_table(t, lang)
    txt = t_(lang, f"Dal 1° gennaio al {day} gli inserimenti sono {render.fmt_num(ytd, lang)}",
             f"From 1 January to {day} there were {render.fmt_num(ytd, lang)} placements")
    if proj is not None:
        txt += t_(lang, f"; la previsione di fine anno è {render.fmt_num(proj.total_, lang)} (tra "
                        f"{render.fmt_num(proj.ci_[0], lang)} e {render.fmt_num(proj.ci_[1], lang)})",
                  f"; the year-end projection is {render.fmt_num(proj.total_, lang)} (between "
                  f"{render.fmt_num(proj.ci_[0], lang)} and {render.fmt_num(proj.ci_[1], lang)})")
        if _target_shown(a, tables):
            txt += t_(lang, f", contro un obiettivo di {render.fmt_num(proj.target_, lang)}",
                      f", against a target of {render.fmt_num(proj.target_, lang)}")
    return txt + ". " + render.see_table(t, lang)
