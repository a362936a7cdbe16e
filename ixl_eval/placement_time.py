"""Time to placement: the analysis behind notebook ``10_tempo_inserimento``, in one call.

:func:`analyse` builds the cohort (:func:`ixl_eval.cohorts.time_to_placement`) and fits every
estimator the report shows (Kaplan–Meier overall and by subgroup with log-rank tests and
restricted means, the Aalen–Johansen cumulative incidence with withdrawal as a competing event,
the Cox model with its proportional-hazards check and stratified alternative, the enrolment-cohort
comparison). The other functions turn the fitted result into what the notebook shows: display
tables (counts left for :meth:`ixl_eval.report.Report.table` to suppress, estimates linked to
the counts they rest on), figures, result records and plain-language sentences in Italian or
English. The notebook only calls them.

Examples
--------
>>> from ixl_eval.cohorts import _toy_dataset
>>> a = analyse(_toy_dataset(), subgroups=("gender",), horizons_days=(30,), rmst_horizon_days=60,
...             cox_covariates=(), k=1)
>>> a
<PlacementTimeAnalysis n=5, placed=2, withdrawn=1, censored=2>
>>> describe_overall(a, "en").split(", counting")[0]
'Of every 100 people enrolled, 47 found a job through the programme within 30 days (between 14 and 93 in 100)'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import present
from .cohorts import SUBGROUPS, exclusion_table, level_label, time_to_placement
from .multiplicity import holm, tests_sentence
from .survival import AalenJohansen, CoxModel, KaplanMeier, km_by_group, km_summary, logrank, rmst_table

__all__ = [
    "COHORT_COL",
    "PlacementTimeAnalysis",
    "TableSpec",
    "subgroup_name",
    "analyse",
    "record_analysis",
    "summary_sentences",
    "describe_overall",
    "describe_subgroup",
    "describe_competing",
    "describe_cohorts",
    "describe_cox",
    "describe_ph",
    "caveats_text",
    "cohort_table",
    "km_table",
    "risk_table",
    "logrank_table",
    "describe_tests",
    "rmst_display",
    "competing_table",
    "hr_display",
    "figure_km",
    "figure_competing",
    "figure_forest",
    "figure_schoenfeld",
]

COHORT_COL = "enrolment_cohort"  # derived column: the focus enrolment year vs the years before it


@dataclass(frozen=True)
class TableSpec:
    """A display table and how :meth:`ixl_eval.report.Report.table` must protect it.

    ``count_cols`` hold counts of people; ``estimates`` maps each estimate column to the count it
    rests on (blanked when that count is below the threshold; an estimate does not give a count
    back, so a group whose count is withheld only by secondary suppression keeps its results); ``lines="columns"`` because the rows of these tables are not
    parts of a total (people and placements are different counts), only the columns add up to
    published totals; ``by`` splits stacked blocks (one per characteristic).
    """

    df: pd.DataFrame
    count_cols: list
    estimates: dict = field(default_factory=dict)
    lines: str = "columns"
    by: str | None = None


@dataclass
class PlacementTimeAnalysis:
    """Everything the notebook shows, fitted once. Attributes are plain estimator objects."""

    frame: pd.DataFrame
    k: int
    horizons: tuple
    rmst_horizon: float
    plot_max_days: float
    subgroups: tuple
    km: KaplanMeier
    aj: AalenJohansen
    by: dict = field(default_factory=dict)          # subgroup -> {level: KaplanMeier}
    logrank: dict = field(default_factory=dict)     # subgroup -> LogRankResult
    rmst: dict = field(default_factory=dict)        # subgroup -> rmst_table
    focus_year: int | None = None
    cox: CoxModel | None = None
    cox_note: str = ""
    ph: pd.DataFrame | None = None
    cox_stratified: CoxModel | None = None
    cohort_cox: CoxModel | None = None

    def __repr__(self) -> str:
        e = self.frame["event"].value_counts()
        return (f"<PlacementTimeAnalysis n={len(self.frame)}, placed={int(e.get(1, 0))}, "
                f"withdrawn={int(e.get(2, 0))}, censored={int(e.get(0, 0))}>")


def _L(lang, it, en):
    return it if lang == "it" else en


def _label(col, value, lang):
    if col == COHORT_COL:
        return str(value) if not str(value).startswith("<") else _L(lang, f"Prima del {str(value)[1:]}",
                                                                       f"Before {str(value)[1:]}")
    return level_label(col, value, lang)


def subgroup_name(col: str, lang: str = "it") -> str:
    """Reader-facing name of a subgroup column (including the derived enrolment-cohort column)."""
    if col == COHORT_COL:
        return _L(lang, "Anno di iscrizione (confronto)", "Enrolment cohort")
    return SUBGROUPS[col][lang]


def analyse(ds, *, cutoff=None, enrol_from=None, enrol_to=None, contract_types=(), time_zero="enrolment",
            subgroups=("gender", "age_band", "citizenship_group", "education", "enrolment_year"),
            horizons_days=(90, 180, 365), rmst_horizon_days=365, plot_max_days=730,
            cox_covariates=("gender", "age_band", "citizenship_group", "education"),
            cox_strata=("enrolment_year",), cox_reference=None, focus_year=2023, ph_alpha=0.01,
            k: int = 10) -> PlacementTimeAnalysis:
    """Build the cohort and fit every estimator of the time-to-placement report.

    Parameters mirror the notebook's (see ``TempoInserimentoParams`` in :mod:`ixl_eval.params`).
    ``cox_reference`` defaults to men, under 30, Italian, upper-secondary diploma. The Cox model
    is stratified by ``cox_strata`` (default the enrolment year: placement chances move with the
    calendar, and the synthetic-data recovery test shows the unstratified model is biased by it).
    A covariate failing the proportional-hazards check at ``ph_alpha`` is moved to the strata in
    the alternative model ``cox_stratified``.
    """
    f = time_to_placement(ds, enrol_from=enrol_from, enrol_to=enrol_to, contract_types=list(contract_types) or None,
                          time_zero=time_zero, cutoff=cutoff)
    if len(f) == 0:
        raise ValueError("nobody in the cohort: check the enrolment window and the cut-off")
    horizons = tuple(sorted(int(h) for h in horizons_days))
    km = KaplanMeier(label="all").fit(f["time"], f["event"], event_of_interest=1)
    aj = AalenJohansen().fit(f["time"], f["event"])
    a = PlacementTimeAnalysis(frame=f, k=int(k), horizons=horizons, rmst_horizon=float(rmst_horizon_days),
                              plot_max_days=float(min(plot_max_days, f["time"].max())), subgroups=tuple(subgroups),
                              km=km, aj=aj)
    cols = list(subgroups)
    years = f["enrolment_year"]
    if focus_year is not None and (years == focus_year).any() and (years < focus_year).any():
        a.focus_year = int(focus_year)
        f[COHORT_COL] = pd.Categorical(np.where(years == focus_year, str(focus_year),
                                                np.where(years < focus_year, f"<{focus_year}", "")),
                                       categories=[f"<{focus_year}", str(focus_year)])
        cols.append(COHORT_COL)
    for col in cols:
        sub = f.loc[f[col].notna()] if col == COHORT_COL else f
        fits = km_by_group(sub, col)
        if len(fits) < 2:
            continue
        a.by[col] = fits
        a.logrank[col] = logrank(sub["time"], sub["event"], sub[col])
        a.rmst[col] = rmst_table(fits, a.rmst_horizon)

    ref = {"gender": "M", "age_band": "<30", "citizenship_group": "IT", "education": "upper_secondary_diploma"}
    ref.update(cox_reference or {})
    covs = [c for c in cox_covariates if c not in cox_strata]
    if covs:
        try:
            a.cox = CoxModel(covs, strata=list(cox_strata), reference={c: v for c, v in ref.items() if c in covs}).fit(f)
            a.ph = a.cox.ph_test(alpha=ph_alpha)
            bad = list(a.ph.loc[a.ph["violated"], "covariate"])
            keep = [c for c in covs if c not in bad]
            if bad and keep:
                a.cox_stratified = CoxModel(keep, strata=list(cox_strata) + bad,
                                            reference={c: v for c, v in ref.items() if c in keep}).fit(f)
        except ValueError as err:  # e.g. a level with no placements: say so instead of failing the report
            a.cox, a.cox_note = None, str(err)
    if a.focus_year is not None and covs:
        sub = f.loc[f[COHORT_COL].notna()]
        try:
            cc = [c for c in covs if sub[c].nunique() > 1]
            a.cohort_cox = CoxModel(cc + [COHORT_COL], reference={**{c: v for c, v in ref.items() if c in cc},
                                                                   COHORT_COL: f"<{a.focus_year}"}).fit(sub)
        except ValueError:
            a.cohort_cox = None
    return a


# ----------------------------------------------------------------------------------- formatting
def _days(x, lang):
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else present.fmt_num(x, lang, 0)


def _median_text(km, lang):
    if math.isnan(km.median_):
        return _L(lang, "non raggiunto", "not reached")
    lo, hi = km.median_ci_
    hi_t = _L(lang, "non stimabile", "not estimable") if math.isnan(hi) else _days(hi, lang)
    return f"{_days(km.median_, lang)} ({_days(lo, lang)}–{hi_t})"


def _pct_ci(v, lo, hi, lang):
    if v is None or math.isnan(v):
        return "–"
    return f"{present.fmt_pct(v, lang)} ({present.fmt_pct(lo, lang)}–{present.fmt_pct(hi, lang)})"


def _signed(x, lang, d):
    t = present.fmt_num(x + 0.0, lang, d)  # + 0.0 turns -0.0 into 0.0
    return "0" if t.lstrip("-") == present.fmt_num(0, lang, d) else t.replace("-", "−")


def _num_ci(v, lo, hi, lang, d=0):
    if min(v, lo, hi) < 0:  # a dash between negative numbers reads as a minus: use a semicolon
        return f"{_signed(v, lang, d)} ({_signed(lo, lang, d)}; {_signed(hi, lang, d)})"
    return f"{present.fmt_num(v, lang, d)} ({present.fmt_num(lo, lang, d)}–{present.fmt_num(hi, lang, d)})"


def _p(p, lang):
    if p is None or math.isnan(p):
        return "–"
    if p < 0.001:
        return "<0,001" if lang == "it" else "<0.001"
    return present.fmt_num(p, lang, 3)


def _hr_words(hr, lang):
    """'a pace 20% faster' / 'un ritmo più lento del 45%'."""
    if hr >= 1:
        pct = present.fmt_num(100 * (hr - 1), lang, 0)
        return _L(lang, f"un ritmo più veloce del {pct}%", f"a pace {pct}% faster")
    pct = present.fmt_num(100 * (1 - hr), lang, 0)
    return _L(lang, f"un ritmo più lento del {pct}%", f"a pace {pct}% slower")


# ----------------------------------------------------------------------------------- tables
def cohort_table(a: PlacementTimeAnalysis, lang: str = "it") -> TableSpec:
    """Who is in the analysis and how their follow-up ended (column ``n``: counts to suppress)."""
    t = exclusion_table(a.frame, lang)
    e = a.frame["event"].value_counts()
    rows = [(_L(lang, "di cui: inserimento lavorativo", "of whom: placed"), int(e.get(1, 0))),
            (_L(lang, "di cui: usciti dal programma senza lavoro", "of whom: withdrew without a job"), int(e.get(2, 0))),
            (_L(lang, "di cui: ancora in attesa alla data di analisi", "of whom: still waiting at the cut-off"),
             int(e.get(0, 0)))]
    return TableSpec(pd.concat([t, pd.DataFrame(rows, columns=t.columns)], ignore_index=True), ["n"])


def km_table(a: PlacementTimeAnalysis, col: str | None, lang: str = "it") -> TableSpec:
    """People, placements, median days and share placed by each horizon, per level of ``col``.

    Every estimate is linked to the placements count, so a group with fewer than k placements
    shows no estimate.
    """
    fits = {"all": a.km} if col is None else a.by[col]
    s = km_summary(fits, a.horizons)
    g = _L(lang, "Gruppo", "Group")
    n, ev = _L(lang, "Persone", "People"), _L(lang, "Inserimenti", "Placements")
    med = _L(lang, "Giorni mediani (IC 95%)", "Median days (95% CI)")
    out = pd.DataFrame({
        g: [_L(lang, "Tutti", "Everyone") if col is None else _label(col, v, lang) for v in s["group"]],
        n: s["n"].astype(np.int64), ev: s["events"].astype(np.int64),
        med: [_median_text(km, lang) for km in fits.values()],
    })
    estimates = {med: ev}
    for h in a.horizons:
        c = _L(lang, f"Entro {h} giorni", f"Within {h} days")
        out[c] = [_pct_ci(v, lo, hi, lang) for v, lo, hi in
                  zip(s[f"share_{h}"], s[f"share_{h}_lower"], s[f"share_{h}_upper"])]
        estimates[c] = ev
    return TableSpec(out, [n, ev], estimates)


def risk_table(a: PlacementTimeAnalysis, col: str | None, lang: str = "it", times=None) -> TableSpec:
    """Number of people still followed (neither placed, withdrawn nor censored) at each time:
    the same numbers as under the curves."""
    fits = {"all": a.km} if col is None else a.by[col]
    times = list(times or _risk_times(a))
    g = _L(lang, "Gruppo", "Group")
    rows = {g: [_L(lang, "Tutti", "Everyone") if col is None else _label(col, v, lang) for v in fits]}
    cols = []
    for x in times:
        c = _L(lang, f"Giorno {x:g}", f"Day {x:g}")
        rows[c] = [int(km.at_risk([x])[0]) for km in fits.values()]
        cols.append(c)
    return TableSpec(pd.DataFrame(rows), cols)


def _risk_times(a):
    base = sorted({0, *a.horizons, 730})
    return [x for x in base if x <= a.plot_max_days]


def logrank_table(a: PlacementTimeAnalysis, lang: str = "it") -> TableSpec:
    """One row per subgroup: chi-square, degrees of freedom, p-value and Holm-adjusted p-value
    (several subgroups are tested at once; no counts)."""
    rows = []
    adjusted = holm([r.p_value for r in a.logrank.values()])
    for (col, r), p_adj in zip(a.logrank.items(), adjusted):
        rows.append({_L(lang, "Caratteristica", "Characteristic"): subgroup_name(col, lang),
                     _L(lang, "Chi quadrato", "Chi-square"): present.fmt_num(r.statistic, lang, 1),
                     _L(lang, "Gradi di libertà", "Degrees of freedom"): str(r.df),
                     _L(lang, "Valore p", "p-value"): _p(r.p_value, lang),
                     _L(lang, "Valore p corretto (Holm)", "Holm-adjusted p-value"): _p(p_adj, lang)})
    return TableSpec(pd.DataFrame(rows), [])


def describe_tests(a: PlacementTimeAnalysis, lang: str = "it") -> str:
    """How many subgroup tests were run, and how many stay significant after Holm."""
    return tests_sentence([r.p_value for r in a.logrank.values()], lang)


def rmst_display(a: PlacementTimeAnalysis, col: str, lang: str = "it") -> TableSpec:
    """Mean days without placement in the first ``rmst_horizon`` days, and the difference from
    the first group."""
    r = a.rmst[col]
    fits = a.by[col]
    g = _L(lang, "Gruppo", "Group")
    n, ev = _L(lang, "Persone", "People"), _L(lang, "Inserimenti", "Placements")
    m = _L(lang, "Giorni medi senza lavoro (IC 95%)", "Mean days without a job (95% CI)")
    d = _L(lang, "Differenza dal primo gruppo (IC 95%)", "Difference from the first group (95% CI)")
    out = pd.DataFrame({
        g: [_label(col, v, lang) for v in r["group"]],
        n: r["n"].astype(np.int64),
        ev: np.array([fits[v].n_events_ for v in r["group"]], dtype=np.int64),
        m: [_num_ci(v, lo, hi, lang) for v, lo, hi in zip(r["rmst"], r["lower"], r["upper"])],
        d: [_L(lang, "riferimento", "reference") if i == 0 else _num_ci(v, lo, hi, lang)
            for i, (v, lo, hi) in enumerate(zip(r["diff"], r["diff_lower"], r["diff_upper"]))],
    })
    return TableSpec(out, [n, ev], {m: ev, d: ev})


def competing_table(a: PlacementTimeAnalysis, lang: str = "it") -> TableSpec:
    """At each horizon: 1 − KM, the Aalen–Johansen share placed and the share withdrawn."""
    km = a.km.cumulative_at(a.horizons)
    pl = a.aj.cif_at(a.horizons, 1)
    wd = a.aj.cif_at(a.horizons, 2) if 2 in a.aj.causes_ else None
    out = pd.DataFrame({
        _L(lang, "Giorni dall'iscrizione", "Days since enrolment"): [str(h) for h in a.horizons],
        _L(lang, "Inseriti: 1 − Kaplan–Meier", "Placed: 1 − Kaplan–Meier"):
            [_pct_ci(v, lo, hi, lang) for v, lo, hi in zip(km["cumulative"], km["lower"], km["upper"])],
        _L(lang, "Inseriti: incidenza cumulata", "Placed: cumulative incidence"):
            [_pct_ci(v, lo, hi, lang) for v, lo, hi in zip(pl["cif"], pl["lower"], pl["upper"])],
    })
    if wd is not None:
        out[_L(lang, "Usciti senza lavoro", "Withdrew without a job")] = [
            _pct_ci(v, lo, hi, lang) for v, lo, hi in zip(wd["cif"], wd["lower"], wd["upper"])]
    return TableSpec(out, [])


def _term_label(term, lang):
    col, _, lev = term.partition("=")
    if not lev:
        return subgroup_name(col, lang) if col in SUBGROUPS or col == COHORT_COL else col
    return f"{subgroup_name(col, lang)}: {_label(col, lev, lang)}"


def hr_display(a: PlacementTimeAnalysis, lang: str = "it", model: CoxModel | None = None) -> TableSpec:
    """Hazard ratios with intervals, one block of rows per characteristic.

    Levels with fewer than k placements are left out (as in the forest plot): their ratio
    rests on a handful of people, and a suppressed cell would force others to be hidden too.
    ``df.attrs["left_out"]`` lists them for the caption.
    """
    model = model or a.cox
    t = model.hr_table_
    left_out = [_term_label(x, lang) for x in t.loc[t["events"] < a.k, "term"]]
    t = t.loc[t["events"] >= a.k]
    n, ev = _L(lang, "Persone", "People"), _L(lang, "Inserimenti", "Placements")
    hr = _L(lang, "Rapporto dei ritmi HR (IC 95%)", "Hazard ratio (95% CI)")
    p = _L(lang, "Valore p", "p-value")
    out = pd.DataFrame({
        _L(lang, "Caratteristica", "Characteristic"): [subgroup_name(c, lang) for c in t["covariate"]],
        _L(lang, "Gruppo", "Group"): [_label(c, v, lang) for c, v in zip(t["covariate"], t["level"])],
        _L(lang, "Confrontato con", "Compared with"): [_label(c, v, lang) for c, v in zip(t["covariate"], t["reference"])],
        n: t["n"].astype(np.int64), ev: t["events"].astype(np.int64),
        hr: [_num_ci(v, lo, hi, lang, 2) for v, lo, hi in zip(t["hr"], t["lower"], t["upper"])],
        p: [_p(x, lang) for x in t["p"]],
    })
    out.attrs["left_out"] = left_out
    return TableSpec(out, [n, ev], {hr: ev, p: ev}, by=_L(lang, "Caratteristica", "Characteristic"))


# ----------------------------------------------------------------------------------- records
def record_analysis(rep, a: PlacementTimeAnalysis) -> int:
    """Write the key estimates to the report's result records; returns how many."""
    lang_pairs = []

    def rec(key, value, ci=None, n=None, unit="", it="", en=""):
        rep.record(key, value, ci=ci, n=n, unit=unit, label_it=it, label_en=en)
        lang_pairs.append(key)

    f = a.frame
    e = f["event"].value_counts()
    rec("n_people", len(f), unit="people", it="Persone analizzate", en="People analysed")
    rec("n_placed", int(e.get(1, 0)), unit="people", it="Persone inserite", en="People placed")
    rec("n_withdrawn", int(e.get(2, 0)), unit="people", it="Usciti senza lavoro", en="Withdrew without a job")

    def km_records(km, suffix, n_ref):
        med = km.median_
        rec(f"km_median_days{suffix}", None if math.isnan(med) else med,
            ci=None if math.isnan(med) else km.median_ci_, n=n_ref, unit="days",
            it="Giorni mediani all'inserimento (Kaplan–Meier)", en="Median days to placement (Kaplan–Meier)")
        cum = km.cumulative_at(a.horizons)
        for h, v, lo, hi in zip(a.horizons, cum["cumulative"], cum["lower"], cum["upper"]):
            rec(f"km_share_placed_{h}d{suffix}", v, ci=(lo, hi), n=n_ref, unit="share",
                it=f"Quota inserita entro {h} giorni (1 − Kaplan–Meier)",
                en=f"Share placed within {h} days (1 − Kaplan–Meier)")
        r = km.rmst(a.rmst_horizon)
        rec(f"rmst_days_{int(a.rmst_horizon)}{suffix}", r["rmst"], ci=(r["lower"], r["upper"]), n=n_ref, unit="days",
            it=f"Giorni medi senza lavoro nei primi {int(a.rmst_horizon)}",
            en=f"Mean days without a job in the first {int(a.rmst_horizon)}")

    km_records(a.km, "", a.km.n_events_)
    holm_by_col = dict(zip(a.logrank, holm([r.p_value for r in a.logrank.values()])))
    for col, fits in a.by.items():
        for lev, km in fits.items():
            km_records(km, f"__{col}={lev}", km.n_events_)
        lr = a.logrank[col]
        rec(f"logrank_chi2__{col}", lr.statistic, unit="chi2", it=f"Log-rank, {SUBGROUPS.get(col, {}).get('it', col)}",
            en=f"Log-rank, {SUBGROUPS.get(col, {}).get('en', col)}")
        rec(f"logrank_p__{col}", lr.p_value, unit="p", it="Valore p del log-rank", en="Log-rank p-value")
        rec(f"logrank_p_holm__{col}", holm_by_col[col], unit="p", it="Valore p del log-rank, corretto (Holm)",
            en="Log-rank p-value, Holm-adjusted")
        rt = a.rmst[col]
        for _, r in rt.iloc[1:].iterrows():
            rec(f"rmst_diff_days_{int(a.rmst_horizon)}__{col}={r['group']}", r["diff"],
                ci=(r["diff_lower"], r["diff_upper"]), n=a.by[col][r["group"]].n_events_, unit="days",
                it=f"Differenza nei giorni medi senza lavoro (rispetto a {rt['group'].iloc[0]})",
                en=f"Difference in mean days without a job (vs {rt['group'].iloc[0]})")
    pl = a.aj.cif_at(a.horizons, 1)
    for h, v, lo, hi in zip(a.horizons, pl["cif"], pl["lower"], pl["upper"]):
        rec(f"aj_share_placed_{h}d", v, ci=(lo, hi), n=a.km.n_events_, unit="share",
            it=f"Quota inserita entro {h} giorni, uscite come evento concorrente",
            en=f"Share placed within {h} days, withdrawal as competing event")
    if 2 in a.aj.causes_:
        wd = a.aj.cif_at(a.horizons, 2)
        for h, v, lo, hi in zip(a.horizons, wd["cif"], wd["lower"], wd["upper"]):
            rec(f"aj_share_withdrawn_{h}d", v, ci=(lo, hi), n=a.aj.n_events_[2], unit="share",
                it=f"Quota uscita senza lavoro entro {h} giorni", en=f"Share withdrawn without a job within {h} days")
    for name, model in (("cox", a.cox), ("cox_cohort", a.cohort_cox)):
        if model is None:
            continue
        for _, r in model.hr_table_.iterrows():
            if name == "cox_cohort" and r["covariate"] != COHORT_COL:
                continue
            rec(f"{name}_hr__{r['term']}", r["hr"], ci=(r["lower"], r["upper"]), n=r["events"], unit="ratio",
                it=f"Rapporto dei ritmi di inserimento (rispetto a {r['reference']})",
                en=f"Hazard ratio of placement (vs {r['reference']})")
    if a.cox is not None:
        rec("cox_concordance", a.cox.concordance_, unit="index", it="Indice di concordanza (C) del modello di Cox",
            en="Concordance index (C) of the Cox model")
        rec("ph_global_p", a.ph.attrs["global"]["p"], unit="p", it="Test di proporzionalità globale, valore p",
            en="Global proportional-hazards test, p-value")
    return len(lang_pairs)


# ----------------------------------------------------------------------------------- sentences
def describe_overall(a: PlacementTimeAnalysis, lang: str = "it") -> str:
    """The overall picture: share placed by the horizons (1 − KM) and the median, in words."""
    km = a.km
    cum = km.cumulative_at(a.horizons)
    h = a.horizons[-1] if len(a.horizons) <= 2 else a.horizons[len(a.horizons) // 2]
    i = a.horizons.index(h)
    v, lo, hi = cum["cumulative"].iloc[i], cum["lower"].iloc[i], cum["upper"].iloc[i]
    first = _L(lang,
               f"Su 100 persone iscritte, {present.per100(v, lang).split(' ')[0]} hanno trovato lavoro tramite il "
               f"programma entro {h} giorni (tra {present.per100(lo, lang).split(' ')[0]} e "
               f"{present.per100(hi, lang)}), contando come ancora in attesa chi è uscito dal programma.",
               f"Of every 100 people enrolled, {present.per100(v, lang).split(' ')[0]} found a job through the "
               f"programme within {h} days (between {present.per100(lo, lang).split(' ')[0]} and "
               f"{present.per100(hi, lang)}), counting those who left the programme as still waiting.")
    if math.isnan(km.median_):
        second = _L(lang, "Meno della metà ha trovato lavoro nel periodo osservato: il tempo mediano non è ancora "
                          "raggiunto.",
                    "Fewer than half found a job in the period observed: the median time is not reached yet.")
    else:
        lo_m, hi_m = km.median_ci_
        rng = (_L(lang, f"tra {_days(lo_m, lang)} e {_days(hi_m, lang)}", f"between {_days(lo_m, lang)} and "
                                                                            f"{_days(hi_m, lang)}")
               if not math.isnan(hi_m) else
               _L(lang, f"non prima di {_days(lo_m, lang)}: il limite superiore non è ancora stimabile",
                  f"not before {_days(lo_m, lang)}: the upper limit cannot be estimated yet"))
        second = _L(lang, f"Metà di chi resta nel programma trova lavoro entro {_days(km.median_, lang)} giorni "
                          f"({rng}).",
                    f"Half of those who stay in the programme find a job within {_days(km.median_, lang)} days "
                    f"({rng}).")
    return f"{first} {second}"


def _group_share(a, col, h):
    fits = a.by[col]
    return {lev: float(km.cumulative_at([h])["cumulative"].iloc[0]) for lev, km in fits.items() if km.n_ >= a.k}


def describe_subgroup(a: PlacementTimeAnalysis, col: str, lang: str = "it") -> str:
    """Which groups find work faster or slower, with the log-rank test in words."""
    if col not in a.by:
        return _L(lang, "Un solo gruppo con persone: nessun confronto possibile.", "Only one group: nothing to compare.")
    h = a.horizons[len(a.horizons) // 2] if len(a.horizons) > 2 else a.horizons[-1]
    shares = _group_share(a, col, h)
    lr = a.logrank[col]
    name = subgroup_name(col, lang).lower()
    if len(shares) < 2:
        return _L(lang, f"Per {name} i gruppi sono troppo piccoli per essere mostrati.",
                  f"For {name} the groups are too small to be shown.")
    hi_g = max(shares, key=shares.get)
    lo_g = min(shares, key=shares.get)
    parts = _L(lang,
               f"Entro {h} giorni ha trovato lavoro il {present.fmt_pct(shares[hi_g], lang)} del gruppo "
               f"«{_label(col, hi_g, lang)}» contro il {present.fmt_pct(shares[lo_g], lang)} del gruppo "
               f"«{_label(col, lo_g, lang)}».",
               f"Within {h} days {present.fmt_pct(shares[hi_g], lang)} of the group '{_label(col, hi_g, lang)}' "
               f"found a job, against {present.fmt_pct(shares[lo_g], lang)} of '{_label(col, lo_g, lang)}'.")
    if lr.p_value < 0.05:
        test = _L(lang, f"La differenza tra i gruppi è netta: difficilmente è dovuta al caso (test log-rank, "
                        f"p {_p(lr.p_value, lang) if lr.p_value < 0.001 else '= ' + _p(lr.p_value, lang)}).",
                  f"The difference between groups is clear: unlikely to be chance (log-rank test, "
                  f"p {_p(lr.p_value, lang) if lr.p_value < 0.001 else '= ' + _p(lr.p_value, lang)}).")
    else:
        test = _L(lang, f"Le differenze sono compatibili con il caso (test log-rank, p = {_p(lr.p_value, lang)}): "
                        "non si può dire che un gruppo trovi lavoro più in fretta.",
                  f"The differences are compatible with chance (log-rank test, p = {_p(lr.p_value, lang)}): "
                  "no group can be said to find work faster.")
    hidden = [lev for lev, km in a.by[col].items() if km.n_ < a.k]
    note = ""
    if hidden:
        note = " " + _L(lang, f"Gruppi con meno di {a.k} persone non sono mostrati nel grafico.",
                        f"Groups with fewer than {a.k} people are not drawn.")
    return f"{parts} {test}{note}"


def describe_competing(a: PlacementTimeAnalysis, lang: str = "it") -> str:
    """Why the cumulative incidence is lower than 1 − KM, with the numbers at the last horizon."""
    h = a.horizons[-1]
    km = float(a.km.cumulative_at([h])["cumulative"].iloc[0])
    pl = a.aj.cif_at([h], 1)
    wd = float(a.aj.cif_at([h], 2)["cif"].iloc[0]) if 2 in a.aj.causes_ else 0.0
    v, lo, hi = float(pl["cif"].iloc[0]), float(pl["lower"].iloc[0]), float(pl["upper"].iloc[0])
    return _L(lang,
              f"Su 100 persone iscritte, {present.per100(v, lang).split(' ')[0]} hanno effettivamente trovato lavoro "
              f"entro {h} giorni (tra {present.per100(lo, lang).split(' ')[0]} e {present.per100(hi, lang)}) e "
              f"{present.per100(wd, lang)} sono uscite dal programma senza lavoro. La curva di Kaplan–Meier "
              f"({present.fmt_pct(km, lang)}) è più alta perché tratta chi esce come se potesse ancora essere "
              "inserito: descrive il ritmo di chi resta, non quante persone trovano lavoro.",
              f"Of every 100 people enrolled, {present.per100(v, lang).split(' ')[0]} actually found a job within "
              f"{h} days (between {present.per100(lo, lang).split(' ')[0]} and {present.per100(hi, lang)}) and "
              f"{present.per100(wd, lang)} left the programme without one. The Kaplan–Meier curve "
              f"({present.fmt_pct(km, lang)}) is higher because it treats those who leave as if they could still "
              "be placed: it describes the pace of those who stay, not how many people find work.")


def describe_cohorts(a: PlacementTimeAnalysis, lang: str = "it") -> str:
    """The focus enrolment year against the years before it."""
    if a.focus_year is None or COHORT_COL not in a.by:
        return _L(lang, "Il confronto tra anni di iscrizione non è possibile con i dati scelti.",
                  "The comparison between enrolment years is not possible with the data chosen.")
    y = a.focus_year
    fits = a.by[COHORT_COL]
    h = min(a.horizons[-1], 365)
    s_new = float(fits[str(y)].cumulative_at([h])["cumulative"].iloc[0])
    s_old = float(fits[f"<{y}"].cumulative_at([h])["cumulative"].iloc[0])
    txt = _L(lang,
             f"Tra gli iscritti del {y}, il {present.fmt_pct(s_new, lang)} ha trovato lavoro entro {h} giorni, "
             f"contro il {present.fmt_pct(s_old, lang)} degli iscritti degli anni precedenti.",
             f"Of those enrolled in {y}, {present.fmt_pct(s_new, lang)} found a job within {h} days, against "
             f"{present.fmt_pct(s_old, lang)} of those enrolled in earlier years.")
    if a.cohort_cox is not None:
        r = a.cohort_cox.hr_table_.set_index("covariate").loc[COHORT_COL]
        sig = r["lower"] > 1 or r["upper"] < 1
        txt += " " + _L(lang,
                        f"A parità di genere, età, cittadinanza e titolo di studio, gli iscritti del {y} trovano lavoro "
                        f"con {_hr_words(r['hr'], lang)} (HR {_num_ci(r['hr'], r['lower'], r['upper'], lang, 2)})"
                        + ("." if sig else ": una differenza compatibile con il caso."),
                        f"With gender, age, citizenship and education held equal, those enrolled in {y} find work at "
                        f"{_hr_words(r['hr'], lang)} (HR {_num_ci(r['hr'], r['lower'], r['upper'], lang, 2)})"
                        + ("." if sig else ": a difference compatible with chance."))
    return txt


def describe_cox(a: PlacementTimeAnalysis, lang: str = "it") -> str:
    """The clearest differences the Cox model finds, each with its interval."""
    if a.cox is None:
        return _L(lang, f"Il modello di Cox non è stimabile con questi dati ({a.cox_note}).",
                  f"The Cox model cannot be estimated with these data ({a.cox_note}).")
    t = a.cox.hr_table_
    t = t.loc[(t["events"] >= a.k) & ((t["lower"] > 1) | (t["upper"] < 1))]
    if t.empty:
        return _L(lang, "A parità delle altre caratteristiche, nessun gruppo trova lavoro con un ritmo chiaramente "
                        "diverso da quello del gruppo di confronto.",
                  "With the other characteristics held equal, no group finds work at a pace clearly different from "
                  "its comparison group.")
    t = t.assign(dist=np.abs(np.log(t["hr"]))).sort_values("dist", ascending=False).head(3)
    items = []
    for _, r in t.iterrows():
        items.append(_L(lang,
                        f"{_label(r['covariate'], r['level'], lang)} rispetto a {_label(r['covariate'], r['reference'], lang)}: "
                        f"{_hr_words(r['hr'], lang)} (HR {_num_ci(r['hr'], r['lower'], r['upper'], lang, 2)})",
                        f"{_label(r['covariate'], r['level'], lang)} compared with "
                        f"{_label(r['covariate'], r['reference'], lang)}: {_hr_words(r['hr'], lang)} "
                        f"(HR {_num_ci(r['hr'], r['lower'], r['upper'], lang, 2)})"))
    head = _L(lang, "A parità delle altre caratteristiche, le differenze più nette sono: ",
              "With the other characteristics held equal, the clearest differences are: ")
    return head + "; ".join(items) + "."


def describe_ph(a: PlacementTimeAnalysis, lang: str = "it") -> str:
    """The proportional-hazards check in plain words, with the stratified alternative."""
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


def summary_sentences(a: PlacementTimeAnalysis, lang: str = "it") -> list[str]:
    """The three or four findings for the "In breve" box, first one the index summary."""
    out = [describe_competing(a, lang).split(". La curva")[0].split(". The Kaplan")[0] + "."]
    out.append(describe_overall(a, lang).split(". ", 1)[-1])
    if a.cox is not None:
        out.append(describe_cox(a, lang))
    if a.focus_year is not None and COHORT_COL in a.by:
        out.append(describe_cohorts(a, lang))
    return out


def caveats_text(a: PlacementTimeAnalysis, lang: str = "it") -> str:
    """The "Come leggere questi risultati" block (paragraphs separated by blank lines)."""
    tz = a.frame.attrs.get("time_zero", "enrolment")
    start_it = "dal primo colloquio di accoglienza" if tz == "interview" else "dall'iscrizione"
    start_en = "from the first intake interview" if tz == "interview" else "from enrolment"
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
            f"gruppo le stime sono instabili; gruppi con meno di {a.k} persone o inserimenti non sono mostrati.",
        ])
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
        f"estimates are unstable; groups with fewer than {a.k} people or placements are not shown.",
    ])


# ----------------------------------------------------------------------------------- figures
def figure_km(a: PlacementTimeAnalysis, col: str | None, lang: str = "it", title: str = ""):
    """1 − KM curves (share placed) for the levels of ``col`` with at least k people, with the
    number-at-risk table under them."""
    from .survplot import plot_km, risk_counts_shown

    every = {"all": a.km} if col is None else a.by[col]
    fits = {lev: km for lev, km in every.items() if col is None or km.n_ >= a.k}
    labels = {"all": _L(lang, "Tutti", "Everyone")} if col is None else {lev: _label(col, lev, lang) for lev in fits}
    xl = _L(lang, "Giorni dal primo colloquio", "Days since the first interview") \
        if a.frame.attrs.get("time_zero") == "interview" else None
    times = [x for x in _risk_times(a) if x <= a.plot_max_days]
    # suppression decided on every group, drawn or not: the same cells as the report's table
    text = risk_counts_shown(every, times, a.k, lang).set_axis(list(every)).loc[list(fits)]
    return plot_km(fits, k=a.k, lang=lang, cumulative=True, risk_times=times, xmax=a.plot_max_days,
                   labels=labels, title=title, xlabel=xl, risk_text=text)


def figure_competing(a: PlacementTimeAnalysis, lang: str = "it", title: str = ""):
    """Cumulative incidence of placement and of withdrawal beside 1 − KM."""
    from .survplot import plot_cif_vs_km

    return plot_cif_vs_km(a.aj, a.km, lang=lang, xmax=a.plot_max_days, other_cause=2 if 2 in a.aj.causes_ else None,
                          title=title)


def figure_forest(a: PlacementTimeAnalysis, lang: str = "it", title: str = "", model: CoxModel | None = None):
    """Forest plot of the hazard ratios of levels with at least k placements."""
    from .survplot import plot_forest

    model = model or a.cox
    t = model.hr_table_.loc[model.hr_table_["events"] >= a.k]
    return plot_forest(t, lang=lang, labels={term: _term_label(term, lang) for term in t["term"]}, title=title)


def figure_schoenfeld(a: PlacementTimeAnalysis, lang: str = "it", title: str = ""):
    """Binned scaled Schoenfeld residuals of the Cox terms (levels with at least k placements)."""
    from .survplot import plot_schoenfeld

    t = a.cox.hr_table_.loc[a.cox.hr_table_["events"] >= a.k, "term"]
    return plot_schoenfeld(a.cox, terms=list(t), lang=lang, labels={x: _term_label(x, lang) for x in t}, title=title)
