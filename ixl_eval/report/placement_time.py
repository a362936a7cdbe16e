"""Presentation of the time-to-placement analysis (notebook ``10_tempo_inserimento``).

:func:`ixl_eval.placement_time.analyse` returns numbers and fitted estimators; this module turns
them into what the notebook publishes, in four steps the notebook calls in order:

1. :func:`tables` — every table of the notebook as a :class:`~ixl_eval.report.table.Table` of
   numbers (counts as integers, an estimate and its interval in separate columns, p-values as
   numbers), with the links that make one number one number: the people and placements of a
   group carry the same identity (``measure`` + the ``group`` coordinate) in the time, mean-days
   and number-at-risk tables (day 0 at risk *is* the group's people);
2. :func:`relations` — the additive lines across tables: the cohort funnel (people in the data =
   exclusions + people analysed; analysed = placed + withdrawn + still waiting), every subgroup's
   people, placements and number at risk adding up to the overall ones, the years before the
   focus year adding up to the "before" cohort, and the Cox tables' counts equal to the group
   tables' counts;
3. ``rep.publish(*tables.values(), relations=...)`` protects them together;
4. :func:`record`, the ``describe_*`` sentences and the ``figure_*`` functions read the
   **protected** tables (:meth:`Table.value`, :meth:`Table.shown`), never the raw counts: a chart
   draws only groups whose estimates the table shows, its number-at-risk row is the protected
   table's cells, and curves end where fewer than ``k`` people remain at risk.

Examples
--------
>>> from ixl_eval.cohorts import _toy_dataset
>>> from ixl_eval.placement_time import analyse
>>> from ixl_eval.disclosure import protect
>>> a = analyse(_toy_dataset(), subgroups=("gender",), horizons_days=(30,), rmst_horizon_days=60,
...             cox_covariates=())
>>> tabs = tables(a, lang="en", k=1)
>>> sorted(tabs)[:3]
['a_rischio_complessivo', 'a_rischio_per_gender', 'coorte']
>>> _ = protect(tabs.values(), 1, relations=relations(a, tabs))
>>> summary_sentences(a, tabs, "en")[0]
'Of every 100 people enrolled, ...'
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from . import present
from ..estimate.multiplicity import holm
from .words import tests_sentence as _tests_sentence
from .words import pooled_sentence
from ..estimate.placement_time import COHORT_COL, COX_MIN_EVENTS, PlacementTimeAnalysis
from ..estimate.survival import CoxModel, km_summary
from . import render, vocab
from .table import PRIMARY, SHOWN, Col, Table

__all__ = [
    "tables",
    "relations",
    "record",
    "group_label",
    "subgroup_name",
    "risk_times",
    "summary_sentences",
    "describe_overall",
    "describe_subgroup",
    "describe_competing",
    "describe_cohorts",
    "describe_cox",
    "describe_ph",
    "describe_tests",
    "caveats_text",
    "glossary",
    "glossary_text",
    "pace_words",
    "figure_km",
    "figure_competing",
    "figure_forest",
    "figure_schoenfeld",
]

_ALL = "all"  # the key of the overall tables' measures


# ----------------------------------------------------------------------------------- labels
def _L(lang, it, en):
    return vocab.tr(lang, it, en)


def _w(key, lang, **fmt):
    return vocab.word(key, lang, **fmt)


def group_label(col: str | None, value, lang: str = "it") -> str:
    """Reader-facing name of a group (a level of ``col``; the derived cohort column included)."""
    if col is None:
        return _w("pt_everyone", lang)
    if col == COHORT_COL and str(value).startswith("<"):
        return _w("pt_before_year", lang, y=str(value)[1:])
    return vocab.level(col, value, lang)


def subgroup_name(col: str, lang: str = "it") -> str:
    """Reader-facing name of a subgroup column (including the derived enrolment-cohort column)."""
    return vocab.column(col, lang)


def _term_label(term, lang):
    col, _, lev = term.partition("=")
    if not lev:
        return subgroup_name(col, lang)
    return f"{subgroup_name(col, lang)}: {group_label(col, lev, lang)}"


def risk_times(a: PlacementTimeAnalysis) -> list:
    """The days of the number-at-risk tables (0, the horizons, 730) within the plotted range."""
    base = sorted({0, *a.horizons, 730})
    return [x for x in base if x <= a.plot_max_days]


def _key(col):
    return _ALL if col is None else col


def _fits(a, col):
    return {_ALL: a.km} if col is None else a.by[col]


# ----------------------------------------------------------------------------------- tables
def _count(key, it, en, measure, unit="persone"):
    return Col(key, it, en, role="count", measure=measure, unit=unit)


def _est(key, it, en, *, rests_on="events", pct=False, decimals=0, unit=""):
    lo, hi = f"{key}_lower", f"{key}_upper"
    return [Col(key, it, en, role="estimate", pct=pct, decimals=decimals, rests_on=rests_on, ci=(lo, hi), unit=unit),
            Col(lo, f"{it}, {_w('pt_lower', 'it')}", f"{en}, {_w('pt_lower', 'en')}", role="lower", pct=pct,
                decimals=decimals, unit=unit),
            Col(hi, f"{it}, {_w('pt_upper', 'it')}", f"{en}, {_w('pt_upper', 'en')}", role="upper", pct=pct,
                decimals=decimals, unit=unit)]


def _wd(key):
    return vocab.word(key, "it"), vocab.word(key, "en")


def cohort_table(a: PlacementTimeAnalysis, lang: str = "it") -> Table:
    """Who is in the analysis (the exclusions by reason, zeros shown) and how follow-up ended."""
    f = a.frame
    e = f["event"].value_counts()
    rows = [(_w("pt_people_in_data", lang), int(f.attrs["n_source"]))]
    rows += [(vocab.level("exclusion", k, lang), int(v)) for k, v in f.attrs["excluded"].items()]
    rows += [(_w("pt_people_analysed", lang), len(f)),
             (_w("pt_of_whom_placed", lang), int(e.get(1, 0))),
             (_w("pt_of_whom_withdrawn", lang), int(e.get(2, 0))),
             (_w("pt_of_whom_waiting", lang), int(e.get(0, 0)))]
    data = pd.DataFrame(rows, columns=["item", "n"]).astype({"n": np.int64})
    return Table("coorte", data,
                 [Col("item", *_wd("pt_item")), _count("n", "Persone", "People", "cohort_people")],
                 caption_it="Persone nei dati, escluse dall'analisi (per motivo) e come si conclude il loro percorso",
                 caption_en="People in the data, left out of the analysis (by reason) and how their follow-up ends",
                 coords=["item"], lines="none")


def km_table(a: PlacementTimeAnalysis, col: str | None, lang: str = "it", *, name: str = "",
             caption_it: str = "", caption_en: str = "") -> Table:
    """People, placements, median days and share placed by each horizon (with 95% intervals),
    per level of ``col`` (overall when None). Estimates rest on the placements: withheld where
    those are below the threshold."""
    fits = _fits(a, col)
    s = km_summary(fits, a.horizons)
    data = {"group": [group_label(col, v, lang) for v in s["group"]],
            "n": s["n"].astype(np.int64), "events": s["events"].astype(np.int64),
            "median": s["median"], "median_lower": s["median_lower"], "median_upper": s["median_upper"]}
    key = _key(col)
    cols = [Col("group", "Gruppo", "Group"),
            _count("n", *_wd("pt_people"), f"people__{key}"),
            _count("events", *_wd("pt_placements"), f"placements__{key}"),
            *_est("median", "Giorni mediani", "Median days", unit="giorni")]
    cols[3] = Col("median", *_wd("pt_median_days"), role="estimate", rests_on="events",
                  ci=("median_lower", "median_upper"), unit="giorni")
    for h in a.horizons:
        c = f"share_{h}"
        data[c], data[f"{c}_lower"], data[f"{c}_upper"] = s[c], s[f"{c}_lower"], s[f"{c}_upper"]
        cols += _est(c, vocab.word("pt_within_days", "it", h=h), vocab.word("pt_within_days", "en", h=h), pct=True,
                     unit="quota 0–1")
    df = pd.DataFrame(data)
    notes = []
    if df["median"].isna().any() or df["median_upper"].isna().any():
        notes.append(("«–» nei giorni mediani: non raggiunti (meno della metà ha trovato lavoro); un limite non "
                      "stimabile non è mostrato (si trova nel file CSV quando c'è).",
                      "'–' in median days: not reached (fewer than half found a job); a limit that cannot be "
                      "estimated is not shown (the CSV file has the other one)."))
    if df[[f"share_{h}" for h in a.horizons]].isna().any().any():
        notes.append(("«–» nelle quote: oltre l'ultimo giorno osservato.", "'–' in shares: beyond the last day observed."))
    return Table(name or f"tempo_per_{col}", df, cols, caption_it=caption_it, caption_en=caption_en,
                 coords=["group"], lines="columns", note_it=" ".join(n[0] for n in notes),
                 note_en=" ".join(n[1] for n in notes))


def risk_table(a: PlacementTimeAnalysis, col: str | None, lang: str = "it", *, name: str = "") -> Table:
    """People still followed (neither placed, withdrawn nor censored) on each day of
    :func:`risk_times`: the numbers under the curves. Day 0 is the group's people (the same cell
    as the ``n`` of the time table)."""
    fits = _fits(a, col)
    key = _key(col)
    data = {"group": [group_label(col, v, lang) for v in fits]}
    cols = [Col("group", "Gruppo", "Group")]
    for x in risk_times(a):
        c = f"day_{x:g}"
        data[c] = np.array([int(km.at_risk([x])[0]) for km in fits.values()], dtype=np.int64)
        same_as_n = x == 0 and all(int(v) == km.n_ for v, km in zip(data[c], fits.values()))
        cols.append(_count(c, vocab.word("pt_day", "it", x=f"{x:g}"), vocab.word("pt_day", "en", x=f"{x:g}"),
                           f"people__{key}" if same_as_n else f"at_risk_{x:g}__{key}"))
    return Table(name or f"a_rischio_per_{col}", pd.DataFrame(data), cols,
                 caption_it="Persone ancora seguite nei giorni indicati (i numeri sotto il grafico)",
                 caption_en="People still followed on the days shown (the numbers under the chart)",
                 coords=["group"], lines="columns")


def rmst_table(a: PlacementTimeAnalysis, col: str, lang: str = "it") -> Table:
    """Mean days without placement in the first ``rmst_horizon`` days, and the difference from
    the first group (empty in the first row: it is the reference)."""
    r = a.rmst[col]
    fits = a.by[col]
    diff = r["diff"].astype(float).copy()
    dlo, dhi = r["diff_lower"].astype(float).copy(), r["diff_upper"].astype(float).copy()
    diff.iloc[0] = dlo.iloc[0] = dhi.iloc[0] = np.nan
    data = pd.DataFrame({
        "group": [group_label(col, v, lang) for v in r["group"]],
        "n": r["n"].astype(np.int64),
        "events": np.array([fits[v].n_events_ for v in r["group"]], dtype=np.int64),
        "rmst": r["rmst"], "rmst_lower": r["lower"], "rmst_upper": r["upper"],
        "diff": diff, "diff_lower": dlo, "diff_upper": dhi,
    })
    cols = [Col("group", "Gruppo", "Group"),
            _count("n", *_wd("pt_people"), f"people__{col}"),
            _count("events", *_wd("pt_placements"), f"placements__{col}"),
            *_est("rmst", "Giorni medi senza lavoro", "Mean days without a job", unit="giorni"),
            *_est("diff", "Differenza dal primo gruppo", "Difference from the first group", unit="giorni")]
    cols[3] = Col("rmst", *_wd("pt_rmst"), role="estimate", rests_on="events", ci=("rmst_lower", "rmst_upper"),
                  unit="giorni")
    cols[6] = Col("diff", *_wd("pt_rmst_diff"), role="estimate", rests_on="events", ci=("diff_lower", "diff_upper"),
                  unit="giorni")
    h = int(a.rmst_horizon)
    return Table(f"giorni_medi_per_{col}", data, cols,
                 caption_it=f"Giorni medi senza lavoro nei primi {h} giorni (media ristretta) e differenza dal primo "
                            "gruppo",
                 caption_en=f"Mean days without a job in the first {h} days (restricted mean) and difference from the "
                            "first group",
                 coords=["group"], lines="columns",
                 note_it="Il primo gruppo è il riferimento delle differenze («–»).",
                 note_en="The first group is the reference of the differences ('–').")


def competing_table(a: PlacementTimeAnalysis, lang: str = "it") -> Table:
    """At each horizon: 1 − KM, the Aalen–Johansen share placed and the share withdrawn."""
    km = a.km.cumulative_at(a.horizons)
    pl = a.aj.cif_at(a.horizons, 1)
    data = {"days": [str(h) for h in a.horizons],
            "km": km["cumulative"].to_numpy(float), "km_lower": km["lower"].to_numpy(float),
            "km_upper": km["upper"].to_numpy(float),
            "aj": pl["cif"].to_numpy(float), "aj_lower": pl["lower"].to_numpy(float),
            "aj_upper": pl["upper"].to_numpy(float)}
    cols = [Col("days", *_wd("pt_days_since_enrolment")),
            *_est("km", *_wd("pt_placed_km"), rests_on=None, pct=True, unit="quota 0–1"),
            *_est("aj", *_wd("pt_placed_cif"), rests_on=None, pct=True, unit="quota 0–1")]
    if 2 in a.aj.causes_:
        wd = a.aj.cif_at(a.horizons, 2)
        data.update(wd=wd["cif"].to_numpy(float), wd_lower=wd["lower"].to_numpy(float),
                    wd_upper=wd["upper"].to_numpy(float))
        cols += _est("wd", *_wd("pt_withdrawn_cif"), rests_on=None, pct=True, unit="quota 0–1")
    return Table("inserimenti_e_uscite", pd.DataFrame(data), cols,
                 caption_it="Quota inserita e quota uscita senza lavoro entro i giorni indicati (IC 95%)",
                 caption_en="Share placed and share withdrawn without a job within the days shown (95% CI)",
                 coords=["days"], lines="none")


def logrank_table(a: PlacementTimeAnalysis, lang: str = "it") -> Table:
    """One row per subgroup: chi-square, degrees of freedom, p-value and Holm-adjusted p-value."""
    adjusted = holm([r.p_value for r in a.logrank.values()])
    data = pd.DataFrame({
        "characteristic": [subgroup_name(c, lang) for c in a.logrank],
        "chi2": [float(r.statistic) for r in a.logrank.values()],
        "df": [float(r.df) for r in a.logrank.values()],
        "p": [float(r.p_value) for r in a.logrank.values()],
        "p_holm": np.asarray(adjusted, dtype=float),
    })
    cols = [Col("characteristic", *_wd("characteristic")),
            Col("chi2", *_wd("pt_chi2"), role="number", decimals=1),
            Col("df", *_wd("pt_dof"), role="number"),
            Col("p", *_wd("p_value"), role="p"),
            Col("p_holm", *_wd("pt_p_holm"), role="p")]
    return Table("test_log_rank", data, cols,
                 caption_it="Test log-rank: le curve dei gruppi differiscono più di quanto farebbe il caso? "
                            "(p piccolo: sì)",
                 caption_en="Log-rank tests: do the groups' curves differ more than chance would make them? "
                            "(small p: yes)",
                 coords=["characteristic"], lines="none")


def _cox_rows(model: CoxModel, k: int) -> pd.DataFrame:
    """The Cox terms a table shows: levels with at least ``k`` placements (a ratio resting on a
    handful of people is left out, as in the forest plot)."""
    t = model.hr_table_
    return t.loc[t["events"] >= k].reset_index(drop=True)


def hr_table(a: PlacementTimeAnalysis, model: CoxModel, lang: str, k: int, *, name: str,
             caption_it: str, caption_en: str) -> Table:
    """Hazard ratios with intervals, one block of rows per characteristic. A model table: its
    counts add up to nothing in it (the reference level is not a row), so it has no lines of its
    own; :func:`relations` ties its counts to the same groups' counts in the group tables."""
    t = _cox_rows(model, k)
    data = pd.DataFrame({
        "characteristic": [subgroup_name(c, lang) for c in t["covariate"]],
        "group": [group_label(c, v, lang) for c, v in zip(t["covariate"], t["level"])],
        "reference": [group_label(c, v, lang) for c, v in zip(t["covariate"], t["reference"])],
        "n": t["n"].astype(np.int64), "events": t["events"].astype(np.int64),
        "hr": t["hr"].astype(float), "hr_lower": t["lower"].astype(float), "hr_upper": t["upper"].astype(float),
        "p": t["p"].astype(float),
    })
    cols = [Col("characteristic", *_wd("characteristic")), Col("group", *_wd("group")),
            Col("reference", *_wd("pt_compared_with")),
            _count("n", *_wd("pt_people"), f"people__{name}"),
            _count("events", *_wd("pt_placements"), f"placements__{name}"),
            Col("hr", *_wd("pt_hr"), role="estimate", decimals=2, rests_on="events", ci=("hr_lower", "hr_upper"),
                unit="rapporto"),
            Col("hr_lower", "Rapporto dei ritmi, limite inferiore", "Hazard ratio, lower limit", role="lower",
                decimals=2, unit="rapporto"),
            Col("hr_upper", "Rapporto dei ritmi, limite superiore", "Hazard ratio, upper limit", role="upper",
                decimals=2, unit="rapporto"),
            Col("p", *_wd("p_value"), role="p", rests_on="events")]
    return Table(name, data, cols, caption_it=caption_it, caption_en=caption_en,
                 coords=["characteristic", "group"], by="characteristic", lines="none")


def tables(a: PlacementTimeAnalysis, lang: str = "it", k: int = 10) -> dict:
    """Every table of the notebook, by name (those the notebook shows, and the number-at-risk
    rows of the overall and cohort curves, which only the figures show). ``k`` only chooses which
    Cox terms have a row (levels with at least ``k`` placements); disclosure control is applied by
    ``rep.publish``."""
    out = {"coorte": cohort_table(a, lang)}
    out["tempo_complessivo"] = km_table(
        a, None, lang, name="tempo_complessivo",
        caption_it="Persone, inserimenti, giorni mediani e quota inserita entro i giorni indicati (IC 95%)",
        caption_en="People, placements, median days and share placed within the days shown (95% CI)")
    out["a_rischio_complessivo"] = risk_table(a, None, lang, name="a_rischio_complessivo")
    out["inserimenti_e_uscite"] = competing_table(a, lang)
    out["test_log_rank"] = logrank_table(a, lang)
    for col in a.by:
        if col == COHORT_COL:
            continue
        name = subgroup_name(col, lang).lower()
        out[f"tempo_per_{col}"] = km_table(a, col, lang, caption_it=f"Tempo all'inserimento per {name}",
                                           caption_en=f"Time to placement by {name}")
        out[f"a_rischio_per_{col}"] = risk_table(a, col, lang)
        out[f"giorni_medi_per_{col}"] = rmst_table(a, col, lang)
    if COHORT_COL in a.by:
        out["tempo_per_coorte"] = km_table(a, COHORT_COL, lang, name="tempo_per_coorte",
                                           caption_it="Tempo all'inserimento per anno di iscrizione (confronto)",
                                           caption_en="Time to placement by enrolment cohort")
        out["a_rischio_per_coorte"] = risk_table(a, COHORT_COL, lang, name="a_rischio_per_coorte")
    if a.cox is not None:
        out["rapporti_dei_ritmi"] = hr_table(
            a, a.cox, lang, k, name="rapporti_dei_ritmi",
            caption_it=f"Modello di Cox: rapporti tra i ritmi di inserimento (HR) e intervalli al 95%, gruppi con "
                       f"almeno {k} inserimenti",
            caption_en=f"Cox model: hazard ratios of placement and 95% intervals, groups with at least {k} "
                       "placements")
    if a.cox_stratified is not None:
        out["rapporti_dei_ritmi_stratificato"] = hr_table(
            a, a.cox_stratified, lang, k, name="rapporti_dei_ritmi_stratificato",
            caption_it=f"Modello alternativo, stratificato per le caratteristiche con effetto non costante (gruppi "
                       f"con almeno {k} inserimenti)",
            caption_en=f"Alternative model, stratified by the characteristics with a non-constant effect (groups "
                       f"with at least {k} placements)")
    return out


# ----------------------------------------------------------------------------------- relations
def relations(a: PlacementTimeAnalysis, tabs: dict) -> list:
    """The additive lines that link the tables (lists of cell identities, see
    :func:`ixl_eval.disclosure.protect`). A line is added only when it holds exactly in the data
    (the sum of its parts equals its total), so it is a real way to derive a withheld count."""
    rel = []

    def line(total, parts):
        """``total = sum(parts)`` as a line, each side a list of (table, row, key)."""
        tv = sum(int(t.data.at[i, c]) for t, i, c in total)
        pv = sum(int(t.data.at[i, c]) for t, i, c in parts)
        if tv == pv and len(total) + len(parts) >= 2:
            rel.append([t.cell_id(i, c) for t, i, c in total + parts])

    co = tabs["coorte"]
    n_ex = len(a.frame.attrs["excluded"])
    rows = list(range(len(co.data)))
    source, excl, analysed, ends = rows[0], rows[1:1 + n_ex], rows[1 + n_ex], rows[2 + n_ex:]
    line([(co, source, "n")], [(co, i, "n") for i in excl] + [(co, analysed, "n")])
    line([(co, analysed, "n")], [(co, i, "n") for i in ends])
    overall = tabs["tempo_complessivo"]
    line([(co, analysed, "n")], [(overall, 0, "n")])
    line([(co, ends[0], "n")], [(overall, 0, "events")])
    ar_all = tabs["a_rischio_complessivo"]
    days = [c for c in ar_all.counts if c != "day_0"]
    # every subgroup's groups add up to everyone (people, placements, people at risk each day)
    for col in a.by:
        if col == COHORT_COL:
            continue
        t, r = tabs[f"tempo_per_{col}"], tabs[f"a_rischio_per_{col}"]
        for c in ("n", "events"):
            line([(overall, 0, c)], [(t, i, c) for i in range(len(t.data))])
        for d in days:
            line([(ar_all, 0, d)], [(r, i, d) for i in range(len(r.data))])
    # the cohort comparison: the focus year is that year, "before" is the sum of the years before
    if COHORT_COL in a.by and "enrolment_year" in a.by and "tempo_per_enrolment_year" in tabs:
        y = a.focus_year
        tc, ty = tabs["tempo_per_coorte"], tabs["tempo_per_enrolment_year"]
        rc, ry = tabs["a_rischio_per_coorte"], tabs["a_rischio_per_enrolment_year"]
        years = list(a.by["enrolment_year"])
        before = [i for i, v in enumerate(years) if int(v) < y]
        same = [i for i, v in enumerate(years) if int(v) == y]
        cohort = list(a.by[COHORT_COL])
        for tab_c, tab_y, keys in ((tc, ty, ("n", "events")), (rc, ry, days)):
            for c in keys:
                line([(tab_c, cohort.index(f"<{y}"), c)], [(tab_y, i, c) for i in before])
                line([(tab_c, cohort.index(str(y)), c)], [(tab_y, i, c) for i in same])
    # the Cox tables' people and placements are the group tables' (one number, one status)
    for name, model in (("rapporti_dei_ritmi", a.cox), ("rapporti_dei_ritmi_stratificato", a.cox_stratified)):
        if name not in tabs:
            continue
        t = tabs[name]
        rows = _cox_rows(model, _k_of(t, model))
        for i, (cov, lev) in enumerate(zip(rows["covariate"], rows["level"])):
            if cov not in a.by or cov == COHORT_COL:
                continue
            g = tabs[f"tempo_per_{cov}"]
            j = _level_row(a, cov, lev)
            if j is None:
                continue
            for c in ("n", "events"):
                line([(t, i, c)], [(g, j, c)])
    return rel


def _k_of(t: Table, model: CoxModel) -> float:
    """The fewest placements among a Cox table's rows: its rows are exactly the model's terms with
    at least that many (they were chosen by a threshold at or below it)."""
    return float(t.data["events"].min()) if len(t.data) else math.inf


def _level_row(a: PlacementTimeAnalysis, col: str, level) -> int | None:
    """Row of ``level`` in the group tables of ``col`` (they follow the order of ``a.by[col]``)."""
    levels = [str(x) for x in a.by.get(col, {})]
    return levels.index(str(level)) if str(level) in levels else None


# ----------------------------------------------------------------------------------- records
def record(rep, a: PlacementTimeAnalysis, tabs: dict) -> int:
    """Write the key estimates to ``results.json``, each linked to the protected table cell it
    is (``record_cell``) or to the counts it rests on; returns how many."""
    keys = []

    def cell(t, row, col, key, unit, it, en, n_col=None):
        rep.record_cell(t, row, col, key, unit=unit, label_it=it, label_en=en, n_col=n_col)
        keys.append(key)

    def free(key, value, unit, it, en, ci=None, n=None, rests_on=None):
        rep.record(key, value, ci=ci, n=n, unit=unit, label_it=it, label_en=en, rests_on=rests_on)
        keys.append(key)

    co = tabs["coorte"]
    n_ex = len(a.frame.attrs["excluded"])
    cell(co, 1 + n_ex, "n", "n_people", "people", "Persone analizzate", "People analysed")
    cell(co, 2 + n_ex, "n", "n_placed", "people", "Persone inserite", "People placed")
    cell(co, 3 + n_ex, "n", "n_withdrawn", "people", "Usciti senza lavoro", "Withdrew without a job")
    H = int(a.rmst_horizon)

    def km_records(t, i, suffix, km, rmst_tab=None):
        it, en = "Giorni mediani all'inserimento (Kaplan–Meier)", "Median days to placement (Kaplan–Meier)"
        if math.isnan(t.data.at[i, "median"]):  # not reached: no value, so no interval either
            free(f"km_median_days{suffix}", None, "days", it, en, n=t.data.at[i, "events"],
                 rests_on=t.cell_id(i, "events"))
        else:
            cell(t, i, "median", f"km_median_days{suffix}", "days", it, en, n_col="events")
        for h in a.horizons:
            cell(t, i, f"share_{h}", f"km_share_placed_{h}d{suffix}", "share",
                 f"Quota inserita entro {h} giorni (1 − Kaplan–Meier)",
                 f"Share placed within {h} days (1 − Kaplan–Meier)", n_col="events")
        it, en = f"Giorni medi senza lavoro nei primi {H}", f"Mean days without a job in the first {H}"
        if rmst_tab is not None:
            cell(rmst_tab, i, "rmst", f"rmst_days_{H}{suffix}", "days", it, en, n_col="events")
        else:
            r = km.rmst(a.rmst_horizon)
            free(f"rmst_days_{H}{suffix}", r["rmst"], "days", it, en, ci=(r["lower"], r["upper"]),
                 n=t.data.at[i, "events"], rests_on=t.cell_id(i, "events"))

    overall = tabs["tempo_complessivo"]
    km_records(overall, 0, "", a.km)
    holm_by_col = dict(zip(a.logrank, holm([r.p_value for r in a.logrank.values()])))
    lr = tabs["test_log_rank"]
    for j, (col, fits) in enumerate(a.by.items()):
        t = tabs["tempo_per_coorte" if col == COHORT_COL else f"tempo_per_{col}"]
        rt = tabs.get(f"giorni_medi_per_{col}")
        for i, (lev, km) in enumerate(fits.items()):
            km_records(t, i, f"__{col}={lev}", km, rt)
        name = {"it": subgroup_name(col, "it") if col != COHORT_COL else col,
                "en": subgroup_name(col, "en") if col != COHORT_COL else col}
        row = list(a.logrank).index(col)
        cell(lr, row, "chi2", f"logrank_chi2__{col}", "chi2", f"Log-rank, {name['it']}", f"Log-rank, {name['en']}")
        cell(lr, row, "p", f"logrank_p__{col}", "p", "Valore p del log-rank", "Log-rank p-value")
        cell(lr, row, "p_holm", f"logrank_p_holm__{col}", "p", "Valore p del log-rank, corretto (Holm)",
             "Log-rank p-value, Holm-adjusted")
        assert abs(lr.data.at[row, "p_holm"] - holm_by_col[col]) < 1e-15
        r = a.rmst[col]
        ref = r["group"].iloc[0]
        it = f"Differenza nei giorni medi senza lavoro (rispetto a {ref})"
        en = f"Difference in mean days without a job (vs {ref})"
        # the level as a row of the whole frame gives it (for years, "2018.0": the keys stay as published)
        for i, (_, row) in enumerate(r.iterrows()):
            if i == 0:
                continue
            key = f"rmst_diff_days_{H}__{col}={row['group']}"
            if rt is not None:
                cell(rt, i, "diff", key, "days", it, en, n_col="events")
            else:
                free(key, r["diff"].iloc[i], "days", it, en, ci=(r["diff_lower"].iloc[i], r["diff_upper"].iloc[i]),
                     n=t.data.at[i, "events"], rests_on=t.cell_id(i, "events"))
    ev_id = overall.cell_id(0, "events")
    ce = tabs["inserimenti_e_uscite"]
    for i, h in enumerate(a.horizons):
        free(f"aj_share_placed_{h}d", ce.data.at[i, "aj"], "share",
             f"Quota inserita entro {h} giorni, uscite come evento concorrente",
             f"Share placed within {h} days, withdrawal as competing event",
             ci=(ce.data.at[i, "aj_lower"], ce.data.at[i, "aj_upper"]), n=overall.data.at[0, "events"],
             rests_on=ev_id)
    if "wd" in ce.data.columns:
        wd_id = co.cell_id(3 + n_ex, "n")
        for i, h in enumerate(a.horizons):
            free(f"aj_share_withdrawn_{h}d", ce.data.at[i, "wd"], "share",
                 f"Quota uscita senza lavoro entro {h} giorni", f"Share withdrawn without a job within {h} days",
                 ci=(ce.data.at[i, "wd_lower"], ce.data.at[i, "wd_upper"]), n=co.data.at[3 + n_ex, "n"],
                 rests_on=wd_id)
    for name, model in (("cox", a.cox), ("cox_cohort", a.cohort_cox)):
        if model is None:
            continue
        t = tabs.get("rapporti_dei_ritmi") if name == "cox" else None
        in_table = {} if t is None else {term: i for i, term in enumerate(_cox_rows(model, _k_of(t, model))["term"])}
        for _, r in model.hr_table_.iterrows():
            if name == "cox_cohort" and r["covariate"] != COHORT_COL:
                continue
            key = f"{name}_hr__{r['term']}"
            it = f"Rapporto dei ritmi di inserimento (rispetto a {r['reference']})"
            en = f"Hazard ratio of placement (vs {r['reference']})"
            if r["term"] in in_table:
                cell(t, in_table[r["term"]], "hr", key, "ratio", it, en, n_col="events")
                continue
            # a term without a row (too few placements, or the cohort model): linked to its group's
            # placements in the group table
            g = tabs.get("tempo_per_coorte" if r["covariate"] == COHORT_COL else f"tempo_per_{r['covariate']}")
            j = None if g is None else _level_row(a, r["covariate"], r["level"])
            free(key, r["hr"], "ratio", it, en, ci=(r["lower"], r["upper"]), n=r["events"],
                 rests_on=None if j is None else g.cell_id(j, "events"))
    if a.cox is not None:
        free("cox_concordance", a.cox.concordance_, "index", "Indice di concordanza (C) del modello di Cox",
             "Concordance index (C) of the Cox model")
        free("ph_global_p", a.ph.attrs["global"]["p"], "p", "Test di proporzionalità globale, valore p",
             "Global proportional-hazards test, p-value")
    return len(keys)


# ----------------------------------------------------------------------------------- sentences
def _days(x, lang):
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else present.fmt_num(x, lang, 0)


def _signed(x, lang, d):
    t = present.fmt_num(x + 0.0, lang, d)  # + 0.0 turns -0.0 into 0.0
    return "0" if t.lstrip("-") == present.fmt_num(0, lang, d) else t.replace("-", "−")


def _num_ci(v, lo, hi, lang, d=0):
    """A number with its interval in running text: ``0,52 (tra 0,46 e 0,60)`` (tables keep
    ``X (Y–Z)``, from :mod:`render`)."""
    return _L(lang, f"{_signed(v, lang, d)} (tra {_signed(lo, lang, d)} e {_signed(hi, lang, d)})",
              f"{_signed(v, lang, d)} (between {_signed(lo, lang, d)} and {_signed(hi, lang, d)})")


def _pct_points(x, lang):
    return present.fmt_num(100 * x + 0.0, lang, 0)


def pace_words(hr, lo, hi, lang: str = "it") -> str:
    """A hazard ratio and its interval in plain words, without the ratio itself: "circa 2,1 volte
    più in fretta (tra 1,8 e 2,4 volte)", "a un ritmo più lento di circa il 48% (tra il 40% e il
    54%)". The percentages are 100 × |1 − ratio| of the same (protected) ratio and limits.

    >>> pace_words(0.52, 0.46, 0.60, "it")
    'a un ritmo più lento di circa il 48% (tra il 40% e il 54%)'
    >>> pace_words(2.1, 1.8, 2.4, "en")
    'about 2.1 times as fast (between 1.8 and 2.4 times)'
    """
    clear = lo > 1 or hi < 1
    if hr >= 1.5 and clear:
        f = lambda x: present.fmt_num(x, lang, 1)  # noqa: E731
        return _L(lang, f"circa {f(hr)} volte più in fretta (tra {f(lo)} e {f(hi)} volte)",
                  f"about {f(hr)} times as fast (between {f(lo)} and {f(hi)} times)")
    if hr >= 1 and clear:
        return _L(lang, f"a un ritmo più veloce di circa il {_pct_points(hr - 1, lang)}% (tra il "
                        f"{_pct_points(lo - 1, lang)}% e il {_pct_points(hi - 1, lang)}%)",
                  f"at a pace about {_pct_points(hr - 1, lang)}% faster (between {_pct_points(lo - 1, lang)}% and "
                  f"{_pct_points(hi - 1, lang)}%)")
    if clear:
        return _L(lang, f"a un ritmo più lento di circa il {_pct_points(1 - hr, lang)}% (tra il "
                        f"{_pct_points(1 - hi, lang)}% e il {_pct_points(1 - lo, lang)}%)",
                  f"at a pace about {_pct_points(1 - hr, lang)}% slower (between {_pct_points(1 - hi, lang)}% and "
                  f"{_pct_points(1 - lo, lang)}%)")
    return _L(lang, "con un ritmo simile: la differenza stimata potrebbe essere dovuta al caso",
              "at a similar pace: the estimated difference could be due to chance")


def _p(p, lang):
    if p is None or math.isnan(p):
        return "–"
    return render.fmt_p(p, lang)


def _hr_words(hr, lang):
    """'a pace 20% faster' / 'un ritmo più lento del 45%'."""
    if hr >= 1:
        pct = present.fmt_num(100 * (hr - 1), lang, 0)
        return _L(lang, f"un ritmo più veloce del {pct}%", f"a pace {pct}% faster")
    pct = present.fmt_num(100 * (1 - hr), lang, 0)
    return _L(lang, f"un ritmo più lento del {pct}%", f"a pace {pct}% slower")


def _v(t: Table, i, key):
    """A published value as a float (NaN when withheld or missing)."""
    v = t.value(i, key)
    return float("nan") if v is None else float(v)


def _mid_horizon(a):
    return a.horizons[len(a.horizons) // 2] if len(a.horizons) > 2 else a.horizons[-1]


def describe_overall(a: PlacementTimeAnalysis, tabs: dict, lang: str = "it") -> str:
    """What the curve and table next to it show (1 − Kaplan–Meier: the pace of those who stay in
    the programme), explained once, with the median, from the protected overall table. How many
    people enrolled actually found work (withdrawal accounted for) is :func:`describe_competing`."""
    t = tabs["tempo_complessivo"]
    h = _mid_horizon(a)
    v, lo, hi = (_v(t, 0, f"share_{h}{s}") for s in ("", "_lower", "_upper"))
    if math.isnan(v):
        return _L(lang, "Il gruppo è troppo piccolo per mostrare i tempi di inserimento.",
                  "The group is too small to show the time to placement.")
    pct = lambda x: present.fmt_pct(x, lang)  # noqa: E731
    first = _L(lang,
               f"La curva e la tabella qui sotto mostrano il ritmo di inserimento di chi resta nel programma: tra chi "
               f"resta, il {pct(v)} trova lavoro entro {h} giorni (tra il {pct(lo)} e il {pct(hi)}). Non dicono "
               "quante persone iscritte trovano lavoro, perché trattano chi esce dal programma senza lavoro come se "
               "potesse ancora essere inserito: quante persone trovano davvero lavoro è nella sezione «Inserimenti e "
               "uscite dal programma».",
               f"The curve and table below show the placement pace of those who stay in the programme: of those who "
               f"stay, {pct(v)} find a job within {h} days (between {pct(lo)} and {pct(hi)}). They do not say how "
               "many people enrolled find work, because they treat those who leave the programme without a job as if "
               "they could still be placed: how many people actually find work is in the section 'Placements and "
               "withdrawals'.")
    med, lo_m, hi_m = (_v(t, 0, k) for k in ("median", "median_lower", "median_upper"))
    if math.isnan(med):
        second = _L(lang, "Meno della metà di chi resta ha trovato lavoro nel periodo osservato: il tempo mediano non è "
                          "ancora raggiunto.",
                    "Fewer than half of those who stay found a job in the period observed: the median time is not "
                    "reached yet.")
    else:
        rng = (_L(lang, f"tra {_days(lo_m, lang)} e {_days(hi_m, lang)}", f"between {_days(lo_m, lang)} and "
                                                                            f"{_days(hi_m, lang)}")
               if not math.isnan(hi_m) else
               _L(lang, f"non prima di {_days(lo_m, lang)}: il limite superiore non è ancora stimabile",
                  f"not before {_days(lo_m, lang)}: the upper limit cannot be estimated yet"))
        second = _L(lang, f"Metà di chi resta nel programma trova lavoro entro {_days(med, lang)} giorni "
                          f"({rng}).",
                    f"Half of those who stay in the programme find a job within {_days(med, lang)} days "
                    f"({rng}).")
    return f"{first} {second}"


def _shown_groups(t: Table, key: str) -> dict:
    """{row: value} of the groups whose ``key`` the protected table shows."""
    return {i: float(t.value(i, key)) for i in range(len(t.data)) if t.value(i, key) is not None}


def describe_subgroup(a: PlacementTimeAnalysis, tabs: dict, col: str, lang: str = "it") -> str:
    """Which groups find work faster or slower (among those the table shows), with the log-rank
    test in words."""
    if col not in a.by:
        return _L(lang, "Un solo gruppo con persone: nessun confronto possibile.", "Only one group: nothing to compare.")
    t = tabs["tempo_per_coorte" if col == COHORT_COL else f"tempo_per_{col}"]
    h = _mid_horizon(a)
    shares = _shown_groups(t, f"share_{h}")
    levels = list(a.by[col])
    lr = tabs["test_log_rank"]
    p = _v(lr, list(a.logrank).index(col), "p")
    name = subgroup_name(col, lang).lower()
    if len(shares) < 2:
        return _L(lang, f"Per {name} i gruppi sono troppo piccoli per essere mostrati.",
                  f"For {name} the groups are too small to be shown.")
    hi_g = max(shares, key=shares.get)
    lo_g = min(shares, key=shares.get)
    lab = {i: group_label(col, levels[i], lang) for i in (hi_g, lo_g)}
    parts = _L(lang,
               f"Tra chi resta nel programma, entro {h} giorni ha trovato lavoro il "
               f"{present.fmt_pct(shares[hi_g], lang)} del gruppo «{lab[hi_g]}» contro il "
               f"{present.fmt_pct(shares[lo_g], lang)} del gruppo «{lab[lo_g]}».",
               f"Of those who stay in the programme, {present.fmt_pct(shares[hi_g], lang)} of the group "
               f"'{lab[hi_g]}' found a job within {h} days, against {present.fmt_pct(shares[lo_g], lang)} of "
               f"'{lab[lo_g]}'.")
    ptxt = _p(p, lang) if p < 0.001 else "= " + _p(p, lang)
    if p < 0.05:
        test = _L(lang, f"La differenza tra i gruppi è netta: difficilmente è dovuta al caso (test log-rank, "
                        f"p {ptxt}).",
                  f"The difference between groups is clear: unlikely to be chance (log-rank test, p {ptxt}).")
    else:
        test = _L(lang, f"La differenza potrebbe essere dovuta al caso (test log-rank, p = {_p(p, lang)}): "
                        "non si può dire che un gruppo trovi lavoro più in fretta.",
                  f"The difference could be due to chance (log-rank test, p = {_p(p, lang)}): "
                  "no group can be said to find work faster.")
    note = ""
    if len(_drawn(t)) < len(t.data):
        note = " " + _L(lang, "I gruppi con troppo pochi inserimenti per mostrarne i risultati non sono nel grafico.",
                        "Groups with too few placements for their results to be shown are not drawn.")
    return f"{parts} {test}{note}"


def describe_tests(a: PlacementTimeAnalysis, tabs: dict, lang: str = "it") -> str:
    """How many subgroup tests were run, and how many stay significant after Holm."""
    return _tests_sentence(list(tabs["test_log_rank"].data["p"]), lang)


def _competing_head(a: PlacementTimeAnalysis, tabs: dict, lang: str) -> str:
    """The headline "su 100 persone iscritte" at the last horizon: cumulative incidence of
    placement with withdrawal as a competing event, from the protected table next to it."""
    t = tabs["inserimenti_e_uscite"]
    h = a.horizons[-1]
    i = len(a.horizons) - 1
    v, lo, hi = _v(t, i, "aj"), _v(t, i, "aj_lower"), _v(t, i, "aj_upper")
    if math.isnan(v):
        return _L(lang, "Il gruppo è troppo piccolo per mostrare quante persone trovano lavoro.",
                  "The group is too small to show how many people find work.")
    n = lambda x: present.per100(x, lang).split(" ")[0]  # noqa: E731
    wd = _v(t, i, "wd") if "wd" in t.data.columns else float("nan")
    out_it = (f" e {n(wd)} sono uscite dal programma senza lavoro" if not math.isnan(wd) else "")
    out_en = (f" and {n(wd)} left the programme without one" if not math.isnan(wd) else "")
    return _L(lang,
              f"Su 100 persone iscritte, {n(v)} hanno trovato lavoro entro {h} giorni (tra {n(lo)} e {n(hi)})"
              f"{out_it}.",
              f"Of every 100 people enrolled, {n(v)} found a job within {h} days (between {n(lo)} and {n(hi)})"
              f"{out_en}.")


def _competing_steps(a: PlacementTimeAnalysis, tabs: dict, lang: str) -> str:
    """The same measure at the earlier horizons ("entro 90 giorni 8 su 100, ...")."""
    t = tabs["inserimenti_e_uscite"]
    parts = []
    for i, h in enumerate(a.horizons[:-1]):
        v = _v(t, i, "aj")
        if not math.isnan(v):
            parts.append(_L(lang, f"entro {h} giorni {present.per100(v, lang)}", f"within {h} days {present.per100(v, lang)}"))
    if not parts:
        return ""
    return _L(lang, "Con la stessa misura, hanno trovato lavoro ", "By the same measure, ") + \
        ", ".join(parts) + _L(lang, ".", " had found a job.")


def describe_competing(a: PlacementTimeAnalysis, tabs: dict, lang: str = "it") -> str:
    """How many people enrolled actually found work (cumulative incidence, withdrawal accounted
    for) and why the pace of those who stay (1 − KM, above) is higher, from the protected table
    next to it."""
    t = tabs["inserimenti_e_uscite"]
    i = len(a.horizons) - 1
    km = _v(t, i, "km")
    head = " ".join(x for x in (_competing_head(a, tabs, lang), _competing_steps(a, tabs, lang)) if x)
    if math.isnan(km):
        return head
    return head + " " + _L(
        lang,
        f"Il ritmo di chi resta nel programma (la curva più alta del grafico, {present.fmt_pct(km, lang)} entro "
        f"{a.horizons[-1]} giorni) è più alto perché non conta chi esce senza lavoro: descrive la velocità di chi "
        "resta, non quante persone trovano lavoro.",
        f"The pace of those who stay in the programme (the higher curve in the chart, {present.fmt_pct(km, lang)} "
        f"within {a.horizons[-1]} days) is higher because it leaves out those who leave without a job: it describes "
        "the speed of those who stay, not how many people find work.")


def describe_cohorts(a: PlacementTimeAnalysis, tabs: dict, lang: str = "it") -> str:
    """The focus enrolment year against the years before it."""
    if a.focus_year is None or "tempo_per_coorte" not in tabs:
        return _L(lang, "Il confronto tra anni di iscrizione non è possibile con i dati scelti.",
                  "The comparison between enrolment years is not possible with the data chosen.")
    y = a.focus_year
    t = tabs["tempo_per_coorte"]
    h = min(a.horizons[-1], 365)
    levels = list(a.by[COHORT_COL])
    i_new, i_old = levels.index(str(y)), levels.index(f"<{y}")
    if h not in a.horizons:
        return ""
    s_new, s_old = _v(t, i_new, f"share_{h}"), _v(t, i_old, f"share_{h}")
    if math.isnan(s_new) or math.isnan(s_old):
        return _L(lang, "Il confronto tra anni di iscrizione riguarda gruppi troppo piccoli per essere mostrato.",
                  "The comparison between enrolment years concerns groups too small to be shown.")
    txt = _L(lang,
             f"Tra gli iscritti del {y} che restano nel programma, il {present.fmt_pct(s_new, lang)} ha trovato "
             f"lavoro entro {h} giorni, contro il {present.fmt_pct(s_old, lang)} degli iscritti degli anni "
             "precedenti (ritmo di chi resta, come nel grafico).",
             f"Of those enrolled in {y} who stay in the programme, {present.fmt_pct(s_new, lang)} found a job within "
             f"{h} days, against {present.fmt_pct(s_old, lang)} of those enrolled in earlier years (pace of those "
             "who stay, as in the chart).")
    if a.cohort_cox is not None:
        r = a.cohort_cox.hr_table_.set_index("covariate").loc[COHORT_COL]
        sig = r["lower"] > 1 or r["upper"] < 1
        txt += " " + _L(lang,
                        f"A parità di genere, età, cittadinanza e titolo di studio, gli iscritti del {y} trovano lavoro "
                        f"con {_hr_words(r['hr'], lang)} (rapporto dei ritmi "
                        f"{_num_ci(r['hr'], r['lower'], r['upper'], lang, 2)})"
                        + ("." if sig else ": una differenza che potrebbe essere dovuta al caso."),
                        f"With gender, age, citizenship and education held equal, those enrolled in {y} find work at "
                        f"{_hr_words(r['hr'], lang)} (hazard ratio {_num_ci(r['hr'], r['lower'], r['upper'], lang, 2)})"
                        + ("." if sig else ": a difference that could be due to chance."))
    return txt


def _cox_shown(a, tabs, name="rapporti_dei_ritmi", model=None) -> pd.DataFrame:
    """The Cox terms whose ratio the protected table shows (term, covariate, level, reference,
    hr, lower, upper), from the table's numbers."""
    t = tabs[name]
    model = model or (a.cox if name == "rapporti_dei_ritmi" else a.cox_stratified)
    rows = _cox_rows(model, _k_of(t, model))
    sh = t.shown()
    keep = sh["hr"].notna().to_numpy()
    out = rows.loc[keep, ["term", "covariate", "level", "reference"]].copy()
    out[["hr", "lower", "upper"]] = sh.loc[keep, ["hr", "hr_lower", "hr_upper"]].to_numpy()
    return out.reset_index(drop=True)


def describe_cox(a: PlacementTimeAnalysis, tabs: dict, lang: str = "it") -> str:
    """The clearest differences the Cox model finds (among the ratios the table shows), each
    with its interval."""
    if a.cox is None:
        return _L(lang, f"Il modello di Cox non è stimabile con questi dati ({a.cox_note}).",
                  f"The Cox model cannot be estimated with these data ({a.cox_note}).")
    # what the ratios estimate: total effects (the model has no IPS term), and what was pooled
    total = _L(lang, " Sono effetti «totali»: il modello non contiene IPS, che è proposto più spesso ad alcuni gruppi "
                     "(persone over 50, con titolo di studio basso) e li aiuta a trovare lavoro; le differenze "
                     "includono quindi anche il lavoro trovato grazie a IPS (l'effetto di IPS è nel rapporto sul "
                     "metodo IPS).",
               " These are 'total' effects: the model has no IPS term, and IPS is offered more often to some groups "
               "(people over 50, with little formal education) and helps them find work; the differences therefore "
               "include work found thanks to IPS (the effect of IPS is in the IPS report).")
    pooled = (" " + pooled_sentence(a.cox_pooled, lang, ("inserimenti", "placements"), COX_MIN_EVENTS)
              if a.cox_pooled else "")
    t = _cox_shown(a, tabs)
    t = t.loc[(t["lower"] > 1) | (t["upper"] < 1)]
    if t.empty:
        return _L(lang, "A parità delle altre caratteristiche, nessun gruppo trova lavoro con un ritmo chiaramente "
                        "diverso da quello del gruppo di confronto.",
                  "With the other characteristics held equal, no group finds work at a pace clearly different from "
                  "its comparison group.") + total + pooled
    t = t.assign(dist=np.abs(np.log(t["hr"]))).sort_values("dist", ascending=False, kind="stable").head(3)
    items = []
    for _, r in t.iterrows():
        g, ref = group_label(r["covariate"], r["level"], lang), group_label(r["covariate"], r["reference"], lang)
        hr = _L(lang, f"(rapporto dei ritmi {_num_ci(r['hr'], r['lower'], r['upper'], lang, 2)})",
                f"(hazard ratio {_num_ci(r['hr'], r['lower'], r['upper'], lang, 2)})")
        items.append(_L(lang, f"{g} rispetto a {ref}: {_hr_words(r['hr'], lang)} {hr}",
                        f"{g} compared with {ref}: {_hr_words(r['hr'], lang)} {hr}"))
    head = _L(lang, "A parità delle altre caratteristiche, le differenze più nette sono: ",
              "With the other characteristics held equal, the clearest differences are: ")
    return head + "; ".join(items) + "." + total + pooled


def describe_ph(a: PlacementTimeAnalysis, lang: str = "it") -> str:
    """The proportional-hazards check in plain words, with the stratified alternative (no counts)."""
    if a.cox is None or a.ph is None:
        return ""
    bad = list(a.ph.loc[a.ph["violated"], "covariate"])
    if not bad:
        return _L(lang, "Controllo del modello: l'effetto di ogni caratteristica risulta stabile nel tempo "
                        "(test sui residui di Schoenfeld), come il modello assume.",
                  "Model check: the effect of each characteristic is stable over time (Schoenfeld residual test), "
                  "as the model assumes.")
    names = ", ".join(subgroup_name(c, lang).lower() for c in bad)
    txt = _L(lang,
             f"Attenzione: per {names} l'effetto sembra cambiare con il passare del tempo dall'iscrizione (test sui "
             "residui di Schoenfeld): il rapporto mostrato è una media sul periodo e va letto con il grafico dei "
             "residui.",
             f"Caution: for {names} the effect seems to change with time since enrolment (Schoenfeld residual "
             "test): the ratio shown is an average over the period and should be read with the residual plot.")
    if a.cox_stratified is not None:
        base = a.cox.hr_table_.set_index("term")["hr"]
        alt = a.cox_stratified.hr_table_.set_index("term")["hr"]
        common = base.index.intersection(alt.index)
        change = float(np.max(np.abs(np.log(alt[common] / base[common])))) if len(common) else 0.0
        txt += " " + _L(lang,
                        f"Un modello alternativo che tiene conto di {names} senza assumerne un effetto costante "
                        f"(stratificato) dà per le altre caratteristiche rapporti "
                        + ("quasi identici." if change < 0.05 else "in parte diversi: vedi la tabella alternativa."),
                        f"An alternative model that accounts for {names} without assuming a constant effect "
                        f"(stratified) gives ratios for the other characteristics that are "
                        + ("almost identical." if change < 0.05 else "partly different: see the alternative table."))
    return txt


def _summary_cox(a: PlacementTimeAnalysis, tabs: dict, lang: str) -> str:
    """The two clearest differences of the Cox model in plain words (no ratio, no abbreviation),
    from the ratios the protected table shows."""
    t = _cox_shown(a, tabs)
    t = t.loc[(t["lower"] > 1) | (t["upper"] < 1)]
    if t.empty:
        return _L(lang, "A parità delle altre caratteristiche, nessun gruppo trova lavoro con un ritmo chiaramente "
                        "diverso: le differenze viste potrebbero essere dovute al caso.",
                  "With the other characteristics held equal, no group finds work at a clearly different pace: the "
                  "differences seen could be due to chance.")
    t = t.assign(dist=np.abs(np.log(t["hr"]))).sort_values("dist", ascending=False, kind="stable").head(2)
    items = []
    for _, r in t.iterrows():
        g, ref = group_label(r["covariate"], r["level"], lang), group_label(r["covariate"], r["reference"], lang)
        items.append(_L(lang, f"il gruppo «{g}» trova lavoro {pace_words(r['hr'], r['lower'], r['upper'], lang)} "
                              f"rispetto al gruppo «{ref}»",
                        f"the group '{g}' finds work {pace_words(r['hr'], r['lower'], r['upper'], lang)} compared "
                        f"with '{ref}'"))
    return _L(lang, "A parità delle altre caratteristiche, ", "With the other characteristics held equal, ") + \
        "; ".join(items) + "."


def _summary_cohorts(a: PlacementTimeAnalysis, tabs: dict, lang: str) -> str:
    """The focus year against the years before, as a pace in plain words (the same ratio as the
    cohort record), when the cohort table shows both groups."""
    if a.focus_year is None or a.cohort_cox is None or "tempo_per_coorte" not in tabs:
        return ""
    t, levels = tabs["tempo_per_coorte"], [str(x) for x in a.by.get(COHORT_COL, {})]
    if {str(a.focus_year), f"<{a.focus_year}"} - set(levels) or any(
            t.value(levels.index(x), "events") is None and t.status.at[levels.index(x), "events"] == PRIMARY
            for x in (str(a.focus_year), f"<{a.focus_year}")):
        return ""
    r = a.cohort_cox.hr_table_.set_index("covariate").loc[COHORT_COL]
    y = a.focus_year
    return _L(lang, f"A parità di genere, età, cittadinanza e titolo di studio, chi si è iscritto nel {y} trova lavoro "
                    f"{pace_words(r['hr'], r['lower'], r['upper'], lang)} rispetto agli iscritti degli anni "
                    "precedenti.",
              f"With gender, age, citizenship and education held equal, people enrolled in {y} find work "
              f"{pace_words(r['hr'], r['lower'], r['upper'], lang)} compared with those enrolled in earlier years.")


def summary_sentences(a: PlacementTimeAnalysis, tabs: dict, lang: str = "it") -> list[str]:
    """The "In breve" box, in plain words and one measure: how many people enrolled found work
    (cumulative incidence, withdrawal accounted for; first one the index summary), the same measure
    at the earlier horizons, and which groups find work faster or slower (the pace, in words)."""
    out = [_competing_head(a, tabs, lang), _competing_steps(a, tabs, lang)]
    if a.cox is not None:
        out.append(_summary_cox(a, tabs, lang))
    if "tempo_per_coorte" in tabs:
        out.append(_summary_cohorts(a, tabs, lang))
    return [x for x in out if x]


def caveats_text(a: PlacementTimeAnalysis, lang: str = "it", k: int = 10) -> str:
    """The "Come leggere questi risultati" block (paragraphs separated by blank lines)."""
    tz = a.frame.attrs.get("time_zero", "enrolment")
    start_it = "dal primo colloquio di accoglienza" if tz == "interview" else "dall'iscrizione"
    start_en = "from the first intake interview" if tz == "interview" else "from enrolment"
    gl = "\n\n" + glossary_text(glossary(lang, k), lang)
    if lang == "it":
        return "\n\n".join([
            f"Ogni persona è seguita {start_it} fino al primo inserimento lavorativo, all'uscita dal programma senza "
            "lavoro o alla data di analisi. Chi è ancora in attesa a quella data conta fino a quel giorno (dato "
            "«censurato»): le curve di Kaplan–Meier usano questa informazione parziale senza scartarla.",
            "Le curve «1 − Kaplan–Meier» descrivono il ritmo di inserimento di chi resta nel programma; l'incidenza "
            "cumulata (Aalen–Johansen) dice quante persone iscritte hanno davvero trovato lavoro, tenendo conto di chi "
            "esce. Se molte persone escono, le due misure divergono.",
            "Il rapporto dei ritmi (HR, modello di Cox) confronta gruppi a parità delle altre caratteristiche nel "
            "modello; il modello è stratificato per anno di iscrizione, perché le occasioni di lavoro cambiano con il "
            "calendario. Non dimostra cause: caratteristiche non registrate (esperienza, motivazione, salute) possono "
            "spiegare parte delle differenze.",
            "Gli intervalli (IC 95%) indicano l'incertezza dovuta al numero di persone. Con pochi inserimenti in un "
            f"gruppo le stime sono instabili; gruppi con meno di {k} persone o inserimenti non sono mostrati, e le "
            f"curve si fermano dove restano meno di {k} persone seguite.",
        ]) + gl
    return "\n\n".join([
        f"Each person is followed {start_en} to their first job placement, to leaving the programme without a job or "
        "to the cut-off. Those still waiting at the cut-off count up to that day ('censored'): the Kaplan–Meier "
        "curves use this partial information instead of discarding it.",
        "The '1 − Kaplan–Meier' curves describe the placement pace of those who stay in the programme; the "
        "cumulative incidence (Aalen–Johansen) says how many people enrolled actually found a job, accounting for "
        "those who leave. When many leave, the two measures diverge.",
        "The hazard ratio (HR, Cox model) compares groups with the model's other characteristics held equal; the "
        "model is stratified by enrolment year because job opportunities change with the calendar. It does not show "
        "causes: unrecorded characteristics (experience, motivation, health) may explain part of the differences.",
        "Intervals (95% CI) show the uncertainty due to the number of people. With few placements in a group the "
        f"estimates are unstable; groups with fewer than {k} people or placements are not shown, and curves stop "
        f"where fewer than {k} people are still followed.",
    ]) + gl


# ----------------------------------------------------------------------------------- glossary
_GLOSSARY = [
    ("Incidenza cumulata (Aalen–Johansen)", "Cumulative incidence (Aalen–Johansen)",
     "su 100 persone iscritte, quante hanno trovato lavoro entro un certo giorno, contando chi esce dal programma "
     "senza lavoro come persona che non l'ha trovato. È la misura dei «su 100 persone» di questo rapporto.",
     "of every 100 people enrolled, how many found a job by a given day, counting those who leave the programme "
     "without a job as not placed. It is the measure behind every 'of every 100 people' in this report."),
    ("1 − Kaplan–Meier", "1 − Kaplan–Meier",
     "la quota inserita tra chi resta nel programma: descrive il ritmo di inserimento di chi resta, e per questo è più "
     "alta dell'incidenza cumulata quando molte persone escono.",
     "the share placed among those who stay in the programme: it describes the placement pace of those who stay, "
     "so it is higher than the cumulative incidence when many people leave."),
    ("Dato censurato", "Censored",
     "persona ancora in attesa alla data di analisi: conta per i giorni in cui è stata seguita.",
     "a person still waiting at the cut-off: they count for the days they were followed."),
    ("Intervallo di confidenza (IC 95%)", "Confidence interval (95% CI)",
     "i valori compatibili con i dati («tra X e Y»); nelle tabelle è scritto X (Y–Z). Più persone, intervallo più "
     "stretto.",
     "the values compatible with the data ('between X and Y'); tables write it as X (Y–Z). More people, narrower "
     "interval."),
    ("Rapporto dei ritmi (hazard ratio, HR)", "Hazard ratio (HR)",
     "quante volte più in fretta (sopra 1) o più lentamente (sotto 1) un gruppo trova lavoro rispetto al gruppo di "
     "confronto, a parità delle altre caratteristiche (modello di Cox). «log HR» è il suo logaritmo, usato nel "
     "grafico dei residui.",
     "how many times faster (above 1) or slower (below 1) a group finds work than its comparison group, with the "
     "other characteristics held equal (Cox model). 'log HR' is its logarithm, used in the residual chart."),
    ("Residui di Schoenfeld", "Schoenfeld residuals",
     "un controllo del modello di Cox: dicono se l'effetto di una caratteristica resta uguale nel tempo.",
     "a check of the Cox model: they say whether a characteristic's effect stays the same over time."),
    ("Media ristretta (giorni medi senza lavoro)", "Restricted mean (mean days without a job)",
     "i giorni passati in media senza lavoro nei primi giorni indicati dopo l'inizio.",
     "the average number of days without a job within the first days shown after the start."),
    ("Test log-rank, Chi quadrato, gradi di libertà", "Log-rank test, chi-square, degrees of freedom",
     "il test confronta le curve dei gruppi; il Chi quadrato misura quanto differiscono, i gradi di libertà sono il "
     "numero di gruppi meno uno.",
     "the test compares the groups' curves; the chi-square measures how much they differ, the degrees of freedom "
     "are the number of groups minus one."),
    ("Valore p, correzione di Holm", "p-value, Holm adjustment",
     "la probabilità di vedere una differenza almeno così grande per puro caso; sotto 0,05 la differenza difficilmente "
     "è dovuta al caso. La correzione di Holm tiene conto che si fanno più test insieme.",
     "the chance of seeing a difference at least this large by chance alone; below 0.05 the difference is unlikely "
     "to be chance. The Holm adjustment allows for running several tests together."),
    ("k (soglia di riservatezza)", "k (confidentiality threshold)",
     "i numeri da 1 a k−1 persone non sono mostrati («<k») per tutelare la riservatezza; in questo rapporto k = {k}.",
     "counts of 1 to k−1 people are not shown ('<k') to protect confidentiality; in this report k = {k}."),
]


def glossary(lang: str = "it", k: int = 10) -> list[tuple[str, str]]:
    """The short glossary of the statistical terms of the report: ``(term, meaning)`` pairs in the
    report language.

    >>> glossary("it")[0][0]
    'Incidenza cumulata (Aalen–Johansen)'
    """
    i = 0 if lang == "it" else 1
    return [(g[i], g[2 + i].format(k=k)) for g in _GLOSSARY]


def glossary_text(entries: list[tuple[str, str]], lang: str = "it") -> str:
    """Glossary entries as paragraphs for ``rep.caveats`` (separated by blank lines)."""
    head = _L(lang, "Glossario.", "Glossary.")
    return "\n\n".join([head] + [f"{t}: {m}" for t, m in entries])


# ----------------------------------------------------------------------------------- figures
def _drawn(t: Table) -> list:
    """Rows of a time table whose curve may be drawn: the table shows its estimates (its people
    and placements are not below the threshold)."""
    est = next(c.key for c in t.cols if c.key.startswith("share_"))
    return [i for i in range(len(t.data))
            if t.status.at[i, est] == SHOWN and t.status.at[i, "n"] != PRIMARY]


def figure_km(a: PlacementTimeAnalysis, tabs: dict, col: str | None, lang: str = "it", k: int = 10,
              title: str = ""):
    """1 − KM curves (share placed) for the groups whose estimates the protected table shows, with
    the protected number-at-risk cells under them; each curve ends where fewer than ``k`` people
    remain at risk (:func:`ixl_eval.survplot.plot_km`)."""
    from .survplot import plot_km

    if col is None:
        t, r = tabs["tempo_complessivo"], tabs["a_rischio_complessivo"]
    elif col == COHORT_COL:
        t, r = tabs["tempo_per_coorte"], tabs["a_rischio_per_coorte"]
    else:
        t, r = tabs[f"tempo_per_{col}"], tabs[f"a_rischio_per_{col}"]
    every = _fits(a, col)
    levels = list(every)
    rows = _drawn(t)
    fits = {levels[i]: every[levels[i]] for i in rows}
    labels = {levels[i]: t.data.at[i, "group"] for i in rows}
    xl = _L(lang, "Giorni dal primo colloquio", "Days since the first interview") \
        if a.frame.attrs.get("time_zero") == "interview" else None
    times = risk_times(a)
    keys = [f"day_{x:g}" for x in times]
    text = pd.DataFrame([[render.cell_text(r, i, c, lang, k) for c in keys] for i in rows],
                        index=[levels[i] for i in rows], columns=keys)
    return plot_km(fits, k=k, lang=lang, cumulative=True, risk_times=times, xmax=a.plot_max_days,
                   labels=labels, title=title, xlabel=xl, risk_text=text, note=not_drawn_note(t, lang, k))


def not_drawn_note(t: Table, lang: str = "it", k: int = 10) -> str:
    """The groups of a time table whose curve is not drawn, by name (too few people or placements
    to estimate); empty when every group is drawn."""
    drawn = set(_drawn(t))
    names = [str(t.data.at[i, "group"]).rstrip(".") for i in range(len(t.data)) if i not in drawn]
    if not names:
        return ""
    return _L(lang, f"Non disegnati, perché hanno meno di {k} persone o {k} inserimenti: " + ", ".join(names) + ".",
              f"Not drawn, as they have fewer than {k} people or {k} placements: " + ", ".join(names) + ".")


def figure_competing(a: PlacementTimeAnalysis, lang: str = "it", k: int = 10, title: str = ""):
    """Cumulative incidence of placement and of withdrawal beside 1 − KM (everyone), ending where
    fewer than ``k`` people remain at risk."""
    from .survplot import at_risk_end, plot_cif_vs_km

    xmax = min(a.plot_max_days, at_risk_end(a.km, k))
    return plot_cif_vs_km(a.aj, a.km, lang=lang, xmax=xmax, other_cause=2 if 2 in a.aj.causes_ else None,
                          title=title)


def figure_forest(a: PlacementTimeAnalysis, tabs: dict, lang: str = "it", title: str = "",
                  name: str = "rapporti_dei_ritmi"):
    """Forest plot of the hazard ratios the protected Cox table shows."""
    from .survplot import plot_forest

    t = _cox_shown(a, tabs, name)
    return plot_forest(t, lang=lang, labels={term: _term_label(term, lang) for term in t["term"]}, title=title)


def figure_schoenfeld(a: PlacementTimeAnalysis, tabs: dict, lang: str = "it", title: str = ""):
    """Binned scaled Schoenfeld residuals of the Cox terms the protected table shows."""
    from .survplot import plot_schoenfeld

    terms = list(_cox_shown(a, tabs)["term"])
    return plot_schoenfeld(a.cox, terms=terms, lang=lang, labels={x: _term_label(x, lang) for x in terms},
                           title=title)


# ----------------------------------------------------------------------------------- alt texts
# One sentence per chart: what it shows, from the protected table it is drawn from, and where the
# same numbers are (the image's text alternative; never a copy of its caption).
def _time_table(tabs: dict, col: str | None) -> Table:
    if col is None:
        return tabs["tempo_complessivo"]
    return tabs["tempo_per_coorte"] if col == COHORT_COL else tabs[f"tempo_per_{col}"]


def alt_km(a: PlacementTimeAnalysis, tabs: dict, col: str | None, lang: str = "it", k: int = 10) -> str:
    """Alt text of :func:`figure_km`: who finds work sooner, at the longest horizon every drawn
    group reaches (shares from the protected table), and the groups not drawn."""
    t = _time_table(tabs, col)
    rows = _drawn(t)
    def _has(h):
        return [i for i in rows if t.value(i, f"share_{h:g}") is not None]

    need = min(2, len(rows))
    hs = [h for h in a.horizons if h <= a.plot_max_days and rows and len(_has(h)) >= need]
    see = render.see_table(t, lang)
    note = not_drawn_note(t, lang, k)
    note = (" " + note) if note else ""
    if not rows or not hs:
        return _L(lang, "Nessuna curva: i gruppi sono troppo piccoli per essere mostrati.",
                  "No curve: the groups are too small to be shown.") + note + " " + see
    if col is None:
        parts = [f"{render.pct_text(t.value(0, f'share_{h:g}'), lang)} " + _L(lang, f"entro {h:g} giorni", f"within {h:g} days")
                 for h in hs]
        return _L(lang, "Tra chi resta nel programma, la quota con un lavoro sale nel tempo: ",
                  "Among those who stay in the programme, the share with a job rises over time: ") \
            + ", ".join(parts) + ". " + see
    # the horizon the text beside the chart uses (describe_subgroup), else the longest one reached
    h = _mid_horizon(a) if _mid_horizon(a) in hs else hs[-1]
    vals = sorted(((float(t.value(i, f"share_{h:g}")), str(t.data.at[i, "group"])) for i in _has(h)), reverse=True)
    short = [str(t.data.at[i, "group"]) for i in rows if i not in _has(h)]
    if short:
        note = _L(lang, f" Non ancora seguiti per {h:g} giorni: " + ", ".join(short) + ".",
                  f" Not yet followed for {h:g} days: " + ", ".join(short) + ".") + note
    if len(vals) == 1:
        txt = _L(lang, f"Una sola curva, «{vals[0][1]}»: entro {h:g} giorni ha un lavoro il {render.pct_text(vals[0][0], lang)}.",
                 f"One curve only, “{vals[0][1]}”: {render.pct_text(vals[0][0], lang)} have a job within {h:g} days.")
    else:
        (p_hi, g_hi), (p_lo, g_lo) = vals[0], vals[-1]
        row = {str(t.data.at[i, "group"]): i for i in rows}
        lo_of_hi = t.value(row[g_hi], f"share_{h:g}_lower")
        hi_of_lo = t.value(row[g_lo], f"share_{h:g}_upper")
        if lo_of_hi is not None and hi_of_lo is not None and lo_of_hi <= hi_of_lo:
            txt = _L(lang, f"Le curve sono vicine: entro {h:g} giorni ha un lavoro tra il {render.pct_text(p_lo, lang)} "
                           f"e il {render.pct_text(p_hi, lang)} delle persone di ogni gruppo, una differenza che "
                           "potrebbe essere dovuta al caso.",
                     f"The curves are close: within {h:g} days between {render.pct_text(p_lo, lang)} and "
                     f"{render.pct_text(p_hi, lang)} of each group have a job, a difference that could be due to "
                     "chance.")
            return txt + note + " " + see
        txt = _L(lang, f"Il gruppo «{g_hi}» trova lavoro prima: entro {h:g} giorni ha un lavoro il "
                       f"{render.pct_text(p_hi, lang)}, contro il {render.pct_text(p_lo, lang)} del gruppo «{g_lo}».",
                 f"The “{g_hi}” group finds work sooner: {render.pct_text(p_hi, lang)} have a job within {h:g} days, "
                 f"against {render.pct_text(p_lo, lang)} of the “{g_lo}” group.")
    return txt + note + " " + see


def alt_competing(a: PlacementTimeAnalysis, tabs: dict, lang: str = "it") -> str:
    """Alt text of :func:`figure_competing`: placed, withdrawn and 1 − KM at the last horizon."""
    t = tabs["inserimenti_e_uscite"]
    i = len(t.data) - 1
    h = t.data.at[i, "days"]
    aj, km = t.value(i, "aj"), t.value(i, "km")
    wd = t.value(i, "wd") if "wd" in [c.key for c in t.cols] else None
    if aj is None or km is None:
        return render.see_table(t, lang)
    n = lambda v: render.fmt_num(100 * v, lang, 0)  # noqa: E731
    txt = _L(lang, f"Su 100 persone iscritte, {n(aj)} hanno trovato lavoro entro {h} giorni",
             f"Of every 100 people enrolled, {n(aj)} found a job within {h} days")
    if wd is not None:
        txt += _L(lang, f" e {n(wd)} sono uscite senza", f" and {n(wd)} left without one")
    txt += _L(lang, f"; la curva che ignora le uscite arriva più in alto, al {render.pct_text(km, lang)}.",
              f"; the curve that ignores withdrawals ends higher, at {render.pct_text(km, lang)}.")
    return txt + " " + render.see_table(t, lang)


def alt_forest(a: PlacementTimeAnalysis, tabs: dict, lang: str = "it", name: str = "rapporti_dei_ritmi") -> str:
    """Alt text of :func:`figure_forest`: the ratio farthest from 1, and how many are clearly
    different from their comparison group."""
    t = _cox_shown(a, tabs, name)
    see = render.see_table(tabs[name], lang)
    if t.empty:
        return see
    clear = int(((t["lower"] > 1) | (t["upper"] < 1)).sum())
    r = t.iloc[int(np.argmax(np.abs(np.log(t["hr"].to_numpy(float)))))]
    g, ref = group_label(r["covariate"], r["level"], lang), group_label(r["covariate"], r["reference"], lang)
    hr = render.fmt_num(r["hr"], lang, 2)
    txt = _L(lang, f"La differenza più grande è tra «{g}» e «{ref}»: un ritmo di inserimento {hr} volte quello del "
                   f"gruppo di confronto. {clear} gruppi su {len(t)} hanno un intervallo che non comprende 1.",
             f"The largest difference is between “{g}” and “{ref}”: a placement pace {hr} times that of the "
             f"comparison group. {clear} of {len(t)} groups have an interval that excludes 1.")
    return txt + " " + see


def alt_schoenfeld(a: PlacementTimeAnalysis, tabs: dict, lang: str = "it") -> str:
    """Alt text of :func:`figure_schoenfeld`: which effects change over time (the model check)."""
    bad = [] if a.ph is None else list(a.ph.loc[a.ph["violated"], "covariate"])
    if not bad:
        txt = _L(lang, "Per ogni caratteristica la linea resta vicina all'effetto costante: gli effetti sono stabili nel tempo.",
                 "For every characteristic the line stays near the constant effect: the effects are stable over time.")
    else:
        names = ", ".join(subgroup_name(c, lang).lower() for c in bad)
        txt = _L(lang, f"Per {names} la linea si allontana dall'effetto costante (l'effetto cambia nel tempo); per "
                       "le altre caratteristiche resta vicina.",
                 f"For {names} the line moves away from the constant effect (the effect changes over time); for "
                 "the other characteristics it stays near it.")
    return txt + " " + render.see_table(tabs["rapporti_dei_ritmi"], lang)
