"""IPS effectiveness, presented: the tables, sentences, figures and records of notebook 20.

:mod:`ixl_eval.ips` estimates (numbers only); this module turns an
:class:`~ixl_eval.ips.IpsAnalysis` into typed :class:`~ixl_eval.report.table.Table` objects, and
then, from the *protected* tables, into sentences, figures and result records. The notebook calls:

>>> tables = ips_report.tables(analysis, lang=rep.lang)            # doctest: +SKIP
>>> rep.publish(*tables.values(), relations=ips_report.relations(tables))  # doctest: +SKIP

and then shows ``rep.table(tables[...])``, ``rep.figure(...)``, ``rep.text(...)``.

Tables (every count linked for the joint disclosure control)
-------------------------------------------------------------
* ``imbuto_ips`` — the funnel by year of offer, with a total row added here (the estimate has no
  "Totale" row): ``offered = declined + accepted_not_started + taken_in_charge`` in every row
  (a relation), and each column adds up over the years to the total row.
* ``persone_confronto_proposta`` / ``persone_confronto_presa_in_carico`` — who enters each
  contrast: in each group, people to start from = exclusions + people analysed (a block line).
  The IPS people to start from are the funnel's offers, and in the start contrast those who
  declined (accepted without starting) are the funnel's declined (accepted, not started) total.
* ``stime_proposta`` / ``stime_presa_in_carico`` — the estimates with their intervals in separate
  columns, and the people in each arm (the unadjusted arms are the people analysed above).
* ``equilibrio_proposta`` — standardised differences (no counts).
* ``a_rischio_proposta`` / ``a_rischio_presa_in_carico`` — the people still followed under the
  cumulative-incidence charts (published with the chart, not as a table): month 0 is the people
  analysed; a curve ends where fewer than ``k`` people remain.

Examples
--------
>>> from ixl_eval import ips
>>> f = ips.ips_funnel(ips._toy_ips_dataset())
>>> t = funnel_table(f, "en")
>>> t.data[["period", "offered", "declined", "taken_in_charge"]].values.tolist()
[['2023', 3, 1, 2], ['Total', 3, 1, 2]]
>>> [c.key for c in t.cols if c.role == "count"]
['offered', 'declined', 'taken_in_charge', 'employed_during_ips', 'contracts_signed']
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..estimate import causal
from ..estimate.ips import _HORIZON, DAYS_PER_MONTH, IpsAnalysis, IpsEffect, funnel_total
from . import causal_plots, render, vocab, words
from .table import PRIMARY, SHOWN, Col, Table

__all__ = [
    "CONTRASTS",
    "tables",
    "relations",
    "funnel_table",
    "exclusion_table",
    "estimates_table",
    "balance_table",
    "at_risk_table",
    "summary_sentences",
    "design_text",
    "caveats_text",
    "effect_paragraph",
    "describe_effect",
    "describe_evalue",
    "estimand_text",
    "agreement_text",
    "conditional_text",
    "reasons_text",
    "glossary",
    "glossary_text",
    "term_label",
    "love_plot",
    "overlap_plot",
    "plot_cumulative",
    "record_results",
]

# contrast -> table-name suffix
CONTRASTS = {"offer": "proposta", "start": "presa_in_carico"}
TICKS_DAYS = np.arange(0, 730.5 + 1, 182.625)  # 0, 6, 12, 18, 24 months


def _col(key: str, vkey: str, role: str = "label", **kw) -> Col:
    """A column whose it/en labels are the vocabulary's ``COLUMNS[vkey]``."""
    return Col(key, vocab.column(vkey, "it"), vocab.column(vkey, "en"), role=role, **kw)


def _lv(col: str, key, lang: str) -> str:
    return vocab.level(col, key, lang)


# ---------------------------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------------------------
def funnel_table(funnel: pd.DataFrame, lang: str = "it") -> Table:
    """``imbuto_ips``: the funnel by year of offer with its total row (added here, in ``lang``).

    Counts are integers, the share employed a proportion (withheld with either of its counts),
    contracts per employed person a number (withheld with either of its counts). The column
    "accepted, not started" is left out when it is zero in every year (as before).
    """
    tot = funnel_total(funnel)
    rows = [{**r, "period": str(r["year"])} for r in funnel.to_dict("records")]
    rows.append({**tot.to_dict(), "period": vocab.word("total", lang)})
    data = pd.DataFrame(rows)
    cols = [
        _col("period", "ips_year_offered"),
        _col("offered", "ips_offered", "count", measure="ips_offered", unit="persone"),
        _col("declined", "ips_declined", "count", measure="ips_declined", unit="persone"),
        _col("accepted_not_started", "ips_accepted_not_started", "count", measure="ips_accepted_not_started",
             unit="persone"),
        _col("taken_in_charge", "ips_taken_in_charge", "count", measure="ips_taken_in_charge", unit="persone"),
        _col("employed_during_ips", "ips_employed_during_ips", "count", measure="ips_employed_during_ips",
             unit="persone"),
        _col("share_employed", "ips_share_employed", "share", base=("employed_during_ips", "taken_in_charge"),
             unit="quota 0–1"),
        _col("contracts_signed", "ips_contracts_signed", "count", measure="ips_contracts_signed", unit="contratti"),
        _col("contracts_per_employed", "ips_contracts_per_employed", "number", decimals=1,
             base=("contracts_signed", "employed_during_ips"), unit="contratti per persona"),
    ]
    if not data["accepted_not_started"].any():
        cols = [c for c in cols if c.key != "accepted_not_started"]
    data = data[[c.key for c in cols]]
    for c in cols:
        if c.role == "count":
            data[c.key] = data[c.key].astype("int64")
    return Table("imbuto_ips", data, cols,
                 caption_it="Proposte, prese in carico e lavoro durante IPS",
                 caption_en="Offers, people taken in charge and work during IPS",
                 coords=["period"], lines="columns", total_row=True)


def exclusion_table(frame: pd.DataFrame, lang: str = "it", name: str | None = None) -> Table:
    """``persone_confronto_<contrast>``: who entered each group and who was left out, by reason.

    One block per group (``by="group"``): people to start from = the exclusions + the people
    analysed, a line of the disclosure control. Reasons with nobody are not listed.
    """
    contrast = frame.attrs.get("contrast", "offer")
    ex = frame.attrs["excluded"]
    cand = frame.attrs["n_candidates"]
    rows = []
    for g in ("treated", "comparison"):
        glabel = _lv("ips_group", g, lang)
        rows.append((glabel, _lv("ips_exclusion", "candidates", lang), int(cand[g])))
        for reason, n in ex[g].items():
            if n:
                text = _lv("ips_exclusion", reason, lang)
                rows.append((glabel, text if text != reason else reason.replace("_", " "), int(n)))
        n_in = int((frame["treated"] == (1 if g == "treated" else 0)).sum())
        rows.append((glabel, _lv("ips_exclusion", "analysed", lang), n_in))
    data = pd.DataFrame(rows, columns=["group", "item", "n"])
    return Table(name or f"persone_confronto_{CONTRASTS[contrast]}", data,
                 [_col("group", "ips_group"), _col("item", "ips_item"),
                  _col("n", "ips_people", "count", measure=f"ips_{contrast}_people", unit="persone")],
                 caption_it=("Chi entra nel confronto dalla proposta di IPS" if contrast == "offer" else
                             "Chi entra nel confronto dalla presa in carico"),
                 caption_en=("Who enters the comparison from the IPS offer" if contrast == "offer" else
                             "Who enters the comparison from being taken in charge"),
                 coords=["group", "item"], by="group", lines="columns")


def _split(outcome: str) -> tuple[str, bool]:
    """``("placed_12m", True)`` for ``placed_12m_ratio``: the outcome key and whether it is its risk ratio."""
    if outcome.endswith("_ratio") and outcome.removesuffix("_ratio") in _HORIZON:
        return outcome.removesuffix("_ratio"), True
    return outcome, False


def estimates_table(effect: IpsEffect, lang: str = "it") -> Table:
    """``stime_<contrast>``: the estimates side by side (raw, IPTW, matching).

    Differences in the share placed are proportions (shown as percentage points), ratios as
    multiples, each with its 95% interval in two columns; the risk ratios of the shares are in
    ``results.json`` only. An estimate is withheld where its IPS arm has fewer than ``k`` people.
    """
    rows = []
    for _, r in effect.estimates.iterrows():
        base, is_ratio = _split(r["outcome"])
        if base in _HORIZON and is_ratio:
            continue
        share = base in _HORIZON
        ok, _ = effect.verdict[r["method"]]
        nan = math.nan
        scale = _lv("ips_scale", r["scale"], lang) if "scale" in r else ""
        if r["method"] == "naive" or "estimand" not in r:
            what = _lv("ips_estimand", "crude", lang) if r["method"] == "naive" else scale
        else:
            what = f"{_lv('ips_estimand', r['estimand'], lang)}; {scale}"
        rows.append({
            "outcome": _lv("ips_outcome", base, lang),
            "method": _lv("ips_method", r["method"], lang),
            "what": what,
            "difference": float(r["estimate"]) if share else nan,
            "difference_low": float(r["ci_low"]) if share else nan,
            "difference_high": float(r["ci_high"]) if share else nan,
            "ratio": nan if share else float(r["estimate"]),
            "ratio_low": nan if share else float(r["ci_low"]),
            "ratio_high": nan if share else float(r["ci_high"]),
            "n_treated": int(r["n_treated"]),
            "n_control": int(r["n_control"]),
            "note": "" if ok else f"{vocab.word('ips_inconclusive', lang)}: {reasons_text(effect, r['method'], lang)}",
        })
    c = effect.contrast or "offer"
    cols = [
        _col("outcome", "ips_outcome"),
        _col("method", "ips_method"),
        _col("what", "ips_what", "text"),
        Col("difference", "Differenza (punti percentuali)", "Difference (percentage points)", role="estimate",
            pct=True, ci=("difference_low", "difference_high"), rests_on="n_treated", unit="differenza di quote"),
        _col("difference_low", "ips_ci_low", "lower", pct=True, unit="differenza di quote"),
        _col("difference_high", "ips_ci_high", "upper", pct=True, unit="differenza di quote"),
        Col("ratio", "Rapporto", "Ratio", role="estimate", decimals=2, ci=("ratio_low", "ratio_high"),
            rests_on="n_treated", unit="rapporto"),
        _col("ratio_low", "ips_ci_low", "lower", decimals=2, unit="rapporto"),
        _col("ratio_high", "ips_ci_high", "upper", decimals=2, unit="rapporto"),
        _col("n_treated", "ips_n_treated", "count", measure=f"ips_{c}_n_treated", unit="persone"),
        _col("n_control", "ips_n_control", "count", measure=f"ips_{c}_n_control", unit="persone"),
        _col("note", "ips_note", "text"),
    ]
    return Table(f"stime_{CONTRASTS[c]}", pd.DataFrame(rows, columns=[x.key for x in cols]), cols,
                 caption_it=("Stime a confronto (proposta di IPS); tra parentesi l'intervallo di confidenza al 95%"
                             if c == "offer" else
                             "Stime a confronto (presa in carico); tra parentesi l'intervallo di confidenza al 95%"),
                 caption_en=("Estimates side by side (IPS offer); 95% confidence interval in brackets"
                             if c == "offer" else
                             "Estimates side by side (taken in charge); 95% confidence interval in brackets"),
                 coords=["outcome", "method"], lines="none")


def term_label(term: str, lang: str = "it") -> str:
    """Reader-facing name of a covariate term (``gender=F`` -> ``Genere: Donne``).

    >>> term_label("gender=F"), term_label("months_since_enrolment", "en")
    ('Genere: Donne', 'Months since enrolment')
    """
    if "=" in term:
        col, lev = term.split("=", 1)
        return f"{vocab.column(col, lang)}: {vocab.level(col, lev, lang)}"
    return vocab.column(term, lang)


def balance_table(effect: IpsEffect, lang: str = "it") -> Table:
    """``equilibrio_<contrast>``: standardised differences before, after weighting, after matching,
    and the weighted variance ratio (continuous covariates only). No counts."""
    bw, bm = effect.balance_iptw, effect.balance_match
    data = pd.DataFrame({
        "characteristic": [term_label(t, lang) for t in bw.index],
        "smd_before": bw["smd_before"].to_numpy(dtype=float),
        "smd_weighted": bw["smd_after"].to_numpy(dtype=float),
        "smd_matched": bm.loc[bw.index, "smd_after"].to_numpy(dtype=float),
        "var_ratio": np.where(bw["binary"].to_numpy(dtype=bool), np.nan, bw["var_ratio_after"].to_numpy(dtype=float)),
    })
    cols = [_col("characteristic", "ips_characteristic"),
            _col("smd_before", "ips_smd_before", "number", decimals=2, unit="differenza standardizzata"),
            _col("smd_weighted", "ips_smd_weighted", "number", decimals=2, unit="differenza standardizzata"),
            _col("smd_matched", "ips_smd_matched", "number", decimals=2, unit="differenza standardizzata"),
            _col("var_ratio", "ips_var_ratio", "number", decimals=2, unit="rapporto")]
    c = effect.contrast or "offer"
    return Table(f"equilibrio_{CONTRASTS[c]}", data, cols,
                 caption_it=("Differenze standardizzate tra persone IPS e di confronto (proposta)" if c == "offer" else
                             "Differenze standardizzate tra persone IPS e di confronto (presa in carico)"),
                 caption_en=("Standardised differences between IPS and comparison people (offer)" if c == "offer" else
                             "Standardised differences between IPS and comparison people (taken in charge)"))


def _followed(frame: pd.DataFrame, weights, grp: int) -> np.ndarray:
    w = np.ones(len(frame)) if weights is None else np.asarray(weights, dtype=float)
    m = (frame["treated"].to_numpy() == grp) & (w > 0)
    return frame["time"].to_numpy()[m]


def at_risk_table(frame: pd.DataFrame, weights=None, lang: str = "it") -> Table:
    """``a_rischio_<contrast>``: people still followed at 0, 6, 12, 18 and 24 months, by group
    (the numbers under the cumulative-incidence chart). Not additive: ``lines="none"``."""
    c = frame.attrs.get("contrast", "offer")
    rows = []
    for key, grp in (("treated", 1), ("comparison", 0)):
        tt = _followed(frame, weights, grp)
        rows.append({"group": _lv("ips_group", key, lang),
                     **{f"m{int(round(tk / DAYS_PER_MONTH))}": int((tt >= tk).sum()) for tk in TICKS_DAYS}})
    months = [f"m{int(round(tk / DAYS_PER_MONTH))}" for tk in TICKS_DAYS]
    cols = [_col("group", "ips_group")] + [
        Col(m, f"{m[1:]} mesi", f"{m[1:]} months", role="count", measure=f"ips_{c}_at_risk_{m}", unit="persone")
        for m in months]
    return Table(f"a_rischio_{CONTRASTS[c]}", pd.DataFrame(rows), cols,
                 caption_it="Persone ancora osservate", caption_en="People still followed",
                 coords=["group"], lines="none")


def tables(analysis: IpsAnalysis, lang: str = "it") -> dict:
    """Every table the notebook shows or draws, unprotected: pass them all to ``Report.publish``
    with :func:`relations`."""
    out = {}
    t = funnel_table(analysis.funnel, lang)
    out[t.name] = t
    for c, suffix in CONTRASTS.items():
        frame, eff = analysis.frames[c], analysis.effects[c]
        for t in (exclusion_table(frame, lang), estimates_table(eff, lang),
                  at_risk_table(frame, eff.weights.get("iptw"), lang)):
            out[t.name] = t
    t = balance_table(analysis.effects["offer"], lang)
    out[t.name] = t
    return out


def _equal(a: Table, ia: int, ka: str, b: Table, ib: int, kb: str) -> list:
    """A two-cell line for two cells holding the same number (withheld together)."""
    if a.data.at[ia, ka] != b.data.at[ib, kb]:
        return []
    return [[a.cell_id(ia, ka), b.cell_id(ib, kb)]]


def relations(tabs: dict) -> list:
    """The additive lines across (and within) the tables that their own rows/columns do not say,
    each a list of cell identities whose first member is the sum of the others (a two-member
    line: the same number in two places).

    * funnel, every row: offered = declined (+ accepted, not started) + taken in charge;
    * who enters a contrast, each group: people to start from = exclusions + people analysed
      (also a line of the table, through ``by="group"``; stated here for the run's audit);
    * funnel total offers = IPS people to start from, in both contrasts; funnel total declined
      (accepted, not started) = the start contrast's IPS exclusions for that reason;
    * in each contrast, people analysed in each group = the raw (and IPTW, without trimming)
      estimate's arm sizes = the people followed at month 0 under the chart;
    * 1:1 matching: the matched comparison arm is as large as the matched IPS arm.
    """
    out = []
    f = tabs["imbuto_ips"]
    parts = [c for c in ("offered", "declined", "accepted_not_started", "taken_in_charge") if c in f.data.columns]
    for i in range(len(f.data)):
        out.append([f.cell_id(i, c) for c in parts])
    tot = len(f.data) - 1
    for c, suffix in CONTRASTS.items():
        ex, est, ar = tabs[f"persone_confronto_{suffix}"], tabs[f"stime_{suffix}"], tabs[f"a_rischio_{suffix}"]
        items = {(g, it): i for i, (g, it) in enumerate(zip(ex.data["group"], ex.data["item"]))}
        groups = list(dict.fromkeys(ex.data["group"]))  # IPS, comparison (in the table's language)
        treated, comparison = groups[0], groups[-1]
        for g in groups:  # people to start from (the first row of a block) = exclusions + analysed
            rows = [i for (gg, _), i in items.items() if gg == g]
            out.append([ex.cell_id(i, "n") for i in rows])
        cand = next(i for (g, _), i in items.items() if g == treated)  # first row of the IPS block
        out += _equal(f, tot, "offered", ex, cand, "n")
        if c == "start":
            for col, reason in (("declined", "declined_offer"), ("accepted_not_started", "accepted_not_started")):
                for lang in ("it", "en"):
                    key = (treated, vocab.level("ips_exclusion", reason, lang))
                    if key in items and col in f.data.columns:
                        out += _equal(f, tot, col, ex, items[key], "n")
        for g, ncol, arow in ((treated, "n_treated", 0), (comparison, "n_control", 1)):
            last = max(i for (gg, _), i in items.items() if gg == g)  # "people analysed": last row of the block
            for i in range(len(est.data)):
                out += _equal(ex, last, "n", est, i, ncol)
            out += _equal(ex, last, "n", ar, arow, "m0")
        # 1:1 matching: as many comparators as IPS people matched, so the two arms are one number
        for i in range(len(est.data)):
            out += _equal(est, i, "n_treated", est, i, "n_control") if est.data.at[i, "method"] == _lv(
                "ips_method", "matching", _lang_of(est)) else []
    return [r for r in out if len(r) >= 2]


# ---------------------------------------------------------------------------------------------
# words
# ---------------------------------------------------------------------------------------------
def _count_text(t: Table, row, key: str, lang: str, k: int) -> str:
    """A count of a protected table for a sentence: the rendered number, "<k" when below the
    threshold, or "un numero riservato di" when withheld to protect another (it reads before the noun)."""
    i = t.find(row) if isinstance(row, dict) else int(row)
    st = int(t.status.at[i, key])
    if st == SHOWN:
        return render.cell_text(t, i, key, lang, k)
    if st == PRIMARY:
        return f"<{k}"
    return vocab.tr(lang, "un numero riservato di", "a confidential number of")


def _num(x, lang: str, decimals: int = 0) -> str:
    return render.fmt_num(x, lang, decimals)


def _per100(share, lang: str) -> str:
    return _num(100 * float(share), lang, 0)


def reasons_text(effect: IpsEffect, method: str = "iptw", lang: str = "it") -> str:
    """Why a result is inconclusive, in plain words ("" when it is conclusive)."""
    b = str(effect.balance_threshold).replace(".", "," if lang == "it" else ".")
    return "; ".join(vocab.level("ips_inconclusive", r, lang).format(m=effect.min_per_arm, b=b)
                     for r in effect.verdict[method][1])


def _headline_row(effect: IpsEffect, est: Table) -> int:
    base = effect.headline
    return est.find({"outcome": _lv("ips_outcome", base, _lang_of(est)), "method": _lv("ips_method", "iptw", _lang_of(est))})


def _lang_of(t: Table) -> str:
    """The language a table was built in (from its method labels)."""
    return "it" if (t.data["method"] == vocab.level("ips_method", "iptw", "it")).any() else "en"


def describe_effect(effect: IpsEffect, est: Table, lang: str = "it", k: int = 10) -> list[str]:
    """Plain-language sentences on the headline result of the main (IPTW) estimate, from the
    protected estimates table ``est`` (:func:`estimates_table` after ``Report.publish``).

    The first sentence is the "Su 100 persone simili ..." summary, or says in plain words that
    the result is inconclusive and why. The arm sizes are the table's (withheld where it withholds).
    """
    it = lang == "it"
    h = effect.headline
    who = ("a cui è stato proposto IPS" if effect.contrast == "offer" else "prese in carico da IPS") if it else \
        ("offered IPS" if effect.contrast == "offer" else "taken in charge by IPS")
    if not effect.conclusive("iptw"):
        why = reasons_text(effect, "iptw", lang)
        return [("Il confronto tra le persone " + who + " e persone simili che non lo hanno ricevuto non è conclusivo: "
                 + why + ". Non va letto come prova che IPS funzioni o non funzioni.") if it else
                ("The comparison between people " + who + " and similar people who did not receive it is inconclusive: "
                 + why + ". It is not evidence that IPS works or does not work.")]
    i = _headline_row(effect, est)
    col = "difference" if h in _HORIZON else "ratio"
    if est.value(i, col) is None:
        return [(f"Le persone {who} sono meno di {k}: il risultato non è mostrato per tutelare la riservatezza.") if it
                else (f"Fewer than {k} people were {who}: the result is not shown to protect confidentiality.")]
    out = []
    r = effect.get(h)
    if h in _HORIZON:
        months = "6" if h == "placed_6m" else "12"
        what = ("trovano lavoro" if h != "permanent_12m" else "ottengono un contratto a tempo indeterminato") if it else \
            ("find work" if h != "permanent_12m" else "get a permanent contract")
        diff, lo, hi = (_num(100 * est.data.at[i, c], lang) for c in ("difference", "difference_low", "difference_high"))
        if it:
            s = (f"Su 100 persone {who}, {_per100(r['risk_treated'], lang)} {what} entro {months} mesi; "
                 f"su 100 persone simili seguite dal servizio abituale, {_per100(r['risk_control'], lang)}. ")
            s += f"La differenza è di {diff} su 100 (plausibilmente tra {lo} e {hi} su 100)"
            s += "." if (r["ci_low"] > 0 or r["ci_high"] < 0) else (
                ": la differenza potrebbe essere dovuta al caso (i dati sono compatibili anche con nessun effetto).")
        else:
            s = (f"Of 100 people {who}, {_per100(r['risk_treated'], lang)} {what} within {months} months; "
                 f"of 100 similar people on the usual service, {_per100(r['risk_control'], lang)}. ")
            s += f"The difference is {diff} in 100 (plausibly between {lo} and {hi} in 100)"
            s += "." if (r["ci_low"] > 0 or r["ci_high"] < 0) else (
                ": the difference could be due to chance (the data are also compatible with no effect).")
        out.append(s)
    else:
        what = (("la probabilità di trovare lavoro in ogni momento" if h == "hazard_ratio" else
                 "il numero di contratti per anno") if it else
                ("the chance of finding work at any moment" if h == "hazard_ratio" else "the number of contracts per year"))
        est_, lo, hi = (_num(est.data.at[i, c], lang, 2) for c in ("ratio", "ratio_low", "ratio_high"))
        clear = est.data.at[i, "ratio_low"] > 1 or est.data.at[i, "ratio_high"] < 1
        if it:
            s = (f"Rispetto a persone simili, per le persone {who} {what} è {est_} volte "
                 f"quella del servizio abituale (plausibilmente tra {lo} e {hi})")
            s += "." if clear else ": la differenza potrebbe essere dovuta al caso."
        else:
            s = (f"Compared with similar people, for people {who} {what} is {est_} times "
                 f"that of the usual service (plausibly between {lo} and {hi})")
            s += "." if clear else ": the difference could be due to chance."
        out.append(s)
    n1, n0 = _count_text(est, i, "n_treated", lang, k), _count_text(est, i, "n_control", lang, k)
    out.append(
        f"Il confronto riguarda {n1} persone IPS e {n0} persone di "
        "confronto, rese simili per le caratteristiche note (ponderazione sul punteggio di propensione)." if it else
        f"The comparison covers {n1} IPS people and {n0} comparison "
        "people, made alike on the known characteristics (propensity-score weighting).")
    if effect.evalue is not None:
        out.append(describe_evalue(effect.evalue, lang))
    return out


def describe_evalue(ev: causal.EValue, lang: str = "it") -> str:
    """The E-value in one plain sentence."""
    if lang == "it":
        s = (f"Per spiegare del tutto questo risultato con qualcosa che non abbiamo misurato (ad esempio la motivazione), "
             f"quel fattore dovrebbe rendere sia la presa in carico IPS sia il trovare lavoro circa "
             f"{_num(ev.point, lang, 1)} volte più probabili")
        if ev.ci is not None:
            s += (f"; per rendere il risultato compatibile con nessun effetto basterebbe un fattore di "
                  f"{_num(ev.ci, lang, 1)}" if ev.ci > 1 else
                  "; già ora i dati sono compatibili con nessun effetto")
        return s + "."
    s = (f"To explain this result away entirely, something we did not measure (motivation, for example) would have "
         f"to make both IPS and finding work about {_num(ev.point, lang, 1)} times more likely")
    if ev.ci is not None:
        s += (f"; a factor of {_num(ev.ci, lang, 1)} would be enough to make the result compatible with no effect"
              if ev.ci > 1 else "; the data are already compatible with no effect")
    return s + "."


def summary_sentences(analysis: IpsAnalysis, tabs: dict, lang: str = "it", k: int = 10) -> list[str]:
    """The "In breve" sentences: headline of the offer contrast first, then the start, then the
    funnel (from the protected funnel table: a withheld count or share is not shown)."""
    it = lang == "it"
    offer = describe_effect(analysis.effects["offer"], tabs["stime_proposta"], lang, k)[0]
    out = [("Effetto della proposta di IPS (contando tutte le persone a cui è stato proposto, anche chi ha "
            "rifiutato): " if it else
            "Effect of being offered IPS (counting everyone who was offered it, including those who declined): ")
           + offer[0].lower() + offer[1:]]
    start = describe_effect(analysis.effects["start"], tabs["stime_presa_in_carico"], lang, k)[0]
    out.append(("Effetto di iniziare IPS, tra chi è stato effettivamente preso in carico: " if it else
                "Effect of starting IPS, among people actually taken in charge: ") + start[0].lower() + start[1:])
    f = tabs["imbuto_ips"]
    tot = len(f.data) - 1
    offered, taken = _count_text(f, tot, "offered", lang, k), _count_text(f, tot, "taken_in_charge", lang, k)
    share = f.value(tot, "share_employed")
    if share is not None:
        share_it = f"il {render.cell_text(f, tot, 'share_employed', lang, k)} di loro ha trovato lavoro durante il percorso"
        share_en = f"{render.cell_text(f, tot, 'share_employed', lang, k)} of them found work during IPS"
    else:
        share_it = "la quota di chi ha trovato lavoro durante il percorso non è mostrata per tutelare la riservatezza"
        share_en = "the share who found work during IPS is withheld to protect confidentiality"
    out.append(
        f"Dall'avvio, IPS è stato proposto a {offered} persone; {taken} sono state prese in carico e {share_it}."
        if it else
        f"Since it began, IPS was offered to {offered} people; {taken} were taken in charge and {share_en}.")
    out.append("Le stime vengono da dati osservazionali: tengono conto delle differenze note tra i gruppi, non di "
               "quelle non misurate (vedi «Come leggere questi risultati»)." if it else
               "The estimates come from observational data: they allow for known differences between the groups, "
               "not for unmeasured ones (see “How to read these results”).")
    return out


def effect_paragraph(effect: IpsEffect, est: Table, lang: str = "it", k: int = 10) -> str:
    """The result of one contrast in words: headline, size of the comparison, E-value, and which
    estimates are inconclusive and why (Markdown)."""
    it = lang == "it"
    parts = [estimand_text(effect, lang)] + describe_effect(effect, est, lang, k)
    names = {"iptw": ("la ponderazione", "weighting"), "matching": ("l'abbinamento", "matching")}
    for m in ("matching",):
        if not effect.conclusive(m):
            parts.append((f"La stima con {names[m][0]} non è conclusiva: " if it else
                          f"The {names[m][1]} estimate is inconclusive: ") + reasons_text(effect, m, lang) + ".")
    agree = agreement_text(effect, lang)
    if agree:
        parts.append(agree)
    if getattr(effect, "pooled", None):
        parts.append(words.pooled_sentence(effect.pooled, lang, ("persone IPS o di confronto",
                                                                  "IPS or comparison people"), effect.min_level))
    if getattr(effect, "year_as", "categories") == "linear":
        parts.append("L'anno di iscrizione entra nel punteggio come un numero (parametro year_as), non anno per anno." if it
                     else "The enrolment year enters the score as one number (parameter year_as), not year by year.")
    parts.append("Il confronto grezzo è mostrato solo per capire quanto contano le differenze tra i gruppi." if it else
                 "The raw comparison is shown only to see how much the differences between the groups matter.")
    return " ".join(parts)


def design_text(analysis: IpsAnalysis, lang: str = "it") -> str:
    """How the comparison is built, in a short plain paragraph (Markdown)."""
    p = analysis.params
    headline = vocab.level("ips_outcome", p["headline"], lang)
    if lang == "it":
        return (
            "Per capire se IPS aiuta, confrontiamo le persone IPS con persone **simili** che non hanno ricevuto "
            "IPS. Facciamo due confronti: dalla **proposta** di IPS (tutte le persone a cui è stato proposto, anche "
            "chi ha rifiutato) e dalla **presa in carico**. Alle persone di confronto assegniamo una data di "
            "partenza alla stessa distanza dall'iscrizione delle persone IPS, così nessuno dei due gruppi viene "
            "favorito dai giorni già passati senza lavoro. Entrambi i gruppi devono essere ancora iscritti e non "
            "ancora inseriti a quella data. Le differenze note (genere, età, cittadinanza, titolo di studio, anno "
            "di iscrizione, preso anno per anno, tempo dall'iscrizione) sono bilanciate con un punteggio di propensione; l'esito "
            f"principale, fissato prima di guardare i risultati, è «{headline}»."
        )
    return (
        "To see whether IPS helps, we compare IPS people with **similar** people who did not receive IPS. There are "
        "two comparisons: from the IPS **offer** (everyone offered, including those who declined) and from being "
        "**taken in charge**. Comparison people get a start date at the same time since enrolment as IPS people, so "
        "neither group is favoured by days already spent without work. Both groups must still be enrolled and not "
        "yet placed on that date. Known differences (gender, age, citizenship, education, enrolment year, taken "
        "year by year, time since enrolment) are balanced with a propensity score; the headline outcome, fixed before looking at the "
        f"results, is “{headline}”."
    )


def caveats_text(analysis: IpsAnalysis, lang: str = "it", k: int = 10) -> str:
    """The "how to read these results" block: method, assumptions, when the result is inconclusive."""
    p = analysis.params
    b = str(p["balance_threshold"])
    gl = "\n\n" + glossary_text(glossary(analysis, lang, k), lang)
    if lang == "it":
        b = b.replace(".", ",")
        return (
            "Metodo. Le persone IPS sono confrontate con persone mai contattate per IPS, rese simili con un "
            "punteggio di propensione (regressione logistica): ponderazione (stima principale) e abbinamento uno a "
            "uno, accanto al confronto grezzo. Le quote di persone con un lavoro tengono conto di chi esce dal "
            "programma; il rapporto di rischio (hazard ratio) misura quanto più in fretta si trova lavoro.\n\n"
            "Ipotesi. Il metodo corregge solo per le differenze misurate. Se chi riceve IPS differisce per qualcosa "
            "che i dati non registrano (motivazione, salute, rete di contatti), la stima può essere distorta: "
            "l'E-value dice quanto forte dovrebbe essere un tale fattore per annullare il risultato. Il gruppo di "
            "confronto esclude chi ha ricevuto IPS più tardi: se IPS va a chi fatica di più, il confronto tende a "
            "sottostimare, non a gonfiare, l'effetto.\n\n"
            f"Quando il risultato non è conclusivo. Se in un gruppo ci sono meno di {p['min_per_arm']} persone, o "
            f"se dopo l'aggiustamento i gruppi differiscono ancora (differenza standardizzata di almeno {b} in una "
            "caratteristica, anno di iscrizione per anno di iscrizione), il rapporto lo dice e non presenta il numero "
            "come un risultato. I dettagli sono nelle note di metodo collegate in cima al rapporto."
        ) + ("\n\n" + conditional_text(analysis, "it") if getattr(analysis, "conditional", None) is not None else "") + gl
    return (
        "Method. IPS people are compared with people never approached for IPS, made alike with a propensity score "
        "(logistic regression): weighting (main estimate) and one-to-one matching, beside the raw comparison. Shares "
        "placed allow for people leaving the programme; the hazard ratio measures how much faster people find work.\n\n"
        "Assumptions. The method only corrects for measured differences. If IPS people differ in something the data "
        "do not record (motivation, health, contacts), the estimate can be biased: the E-value says how strong such a "
        "factor would have to be to explain the result away. The comparison group leaves out people who received "
        "IPS later: if IPS goes to those who struggle most, the comparison tends to understate, not inflate, the "
        "effect.\n\n"
        f"Inconclusive results: with fewer than {p['min_per_arm']} people in a group, or groups still "
        f"differing after adjustment (standardised difference of {b} or more in a characteristic, enrolment year by "
        "enrolment year), the report says so and does not present the number as a finding. Details are in the "
        "method notes linked at the top of the report."
    ) + ("\n\n" + conditional_text(analysis, "en") if getattr(analysis, "conditional", None) is not None else "") + gl


def estimand_text(effect: IpsEffect, lang: str = "it") -> str:
    """What the contrast estimates, in plain words (Italian terms of the trade in brackets)."""
    if effect.contrast not in vocab.LEVELS["ips_estimand_contrast"]:
        return ""
    e = {"it": vocab.level("ips_estimand_contrast", effect.contrast, "it"),
         "en": vocab.level("ips_estimand_contrast", effect.contrast, "en")}
    if lang == "it":
        s = (f"Che cosa misura: {e['it']}. Le quote di persone con un lavoro a 6 e 12 mesi (incidenza cumulata) sono "
             "il risultato principale: si leggono direttamente («su 100 persone…») e la loro differenza è la media "
             "delle differenze tra le singole persone. L'hazard ratio è invece un rapporto «marginale» sul gruppo "
             "nel suo insieme: di solito è più piccolo del rapporto tra persone con le stesse caratteristiche "
             "(non collassabilità), quindi non va confrontato con il modello condizionato.")
        if effect.contrast == "offer":
            s += (" Poiché circa un terzo rifiuta e nessuno ne beneficia prima dell'avvio, l'effetto della proposta "
                  "è più piccolo di quello della presa in carico.")
        return s
    s = (f"What it measures: {e['en']}. The shares placed at 6 and 12 months (cumulative incidence) are the main "
         "result: they read directly (\"of 100 people…\") and their difference is the average of the differences "
         "between individual people. The hazard ratio is a \"marginal\" ratio over the group as a whole: it is "
         "usually smaller than the ratio between people with the same characteristics (non-collapsibility), so it "
         "should not be compared with the conditional model.")
    if effect.contrast == "offer":
        s += (" Since about a third decline and nobody benefits before their start, the effect of the offer is "
              "smaller than the effect of being taken in charge.")
    return s


def agreement_text(effect: IpsEffect, lang: str = "it") -> str:
    """What it means when weighting and matching disagree, or one of them fails its gate ("" when
    both are conclusive and their headline intervals overlap)."""
    it = lang == "it"
    ok_w, ok_m = effect.conclusive("iptw"), effect.conclusive("matching")
    h = effect.headline
    w, m = effect.get(h, "iptw"), effect.get(h, "matching")
    if ok_w and not ok_m:
        return ("La ponderazione è la stima principale; l'abbinamento non supera i controlli: il suo numero non conferma "
                "né smentisce la stima principale. Succede spesso con pochi casi IPS: l'abbinamento uno a uno scarta "
                "persone e lascia differenze che la ponderazione corregge." if it else
                "Weighting is the main estimate; matching fails its checks, so its number neither confirms nor "
                "contradicts the main estimate. This is common with few IPS people: one-to-one matching discards "
                "people and leaves differences that weighting corrects.")
    if ok_m and not ok_w:
        return ("La ponderazione non supera i controlli mentre l'abbinamento sì: i due gruppi, pesati, restano diversi. "
                "La stima con l'abbinamento riguarda solo le persone IPS per cui si è trovato un confronto simile; "
                "il risultato va letto con cautela e non generalizzato a tutte le persone IPS." if it else
                "Weighting fails its checks while matching passes: the weighted groups still differ. The matching "
                "estimate covers only the IPS people for whom a similar comparison person was found; read it with "
                "caution and do not generalise it to all IPS people.")
    if not ok_w and not ok_m:
        return ("Né la ponderazione né l'abbinamento superano i controlli: con questi dati non si può dire se IPS "
                "funzioni." if it else
                "Neither weighting nor matching passes its checks: with these data one cannot say whether IPS works.")
    if w["ci_high"] < m["ci_low"] or m["ci_high"] < w["ci_low"]:
        return ("Ponderazione e abbinamento danno stime diverse oltre i loro intervalli. Guardano popolazioni un po' "
                "diverse (l'abbinamento scarta le persone IPS senza un confronto simile) e dipendono in modo diverso "
                "dal modello del punteggio di propensione: la differenza è un segnale che il risultato dipende da "
                "come si costruisce il confronto, quindi la stima principale va presa con cautela." if it else
                "Weighting and matching disagree beyond their intervals. They look at slightly different populations "
                "(matching drops IPS people without a similar comparison person) and depend differently on the "
                "propensity-score model: the gap signals that the result depends on how the comparison is built, so "
                "the main estimate should be taken with caution.")
    return ""


def conditional_text(analysis: IpsAnalysis, lang: str = "it") -> str:
    """The conditional (whole-cohort, time-varying) Cox model in words, as a sensitivity analysis."""
    fmt_num = render.fmt_num
    c = getattr(analysis, "conditional", None)
    it = lang == "it"
    if c is None:
        return ""
    if c.model is None:
        return (f"Analisi di sensibilità: il modello di Cox su tutte le persone iscritte non è stimabile ({c.note})."
                if it else f"Sensitivity analysis: the Cox model on everyone enrolled cannot be estimated ({c.note}).")
    ci = vocab.tr(lang, f"tra {fmt_num(c.ci_low, lang, 2)} e {fmt_num(c.ci_high, lang, 2)}",
                  f"between {fmt_num(c.ci_low, lang, 2)} and {fmt_num(c.ci_high, lang, 2)}")
    s = (f"Analisi di sensibilità (modello condizionato): un modello di Cox su tutte le persone iscritte, in cui IPS "
         f"conta solo dal giorno dell'avvio (covariata che cambia nel tempo) e a parità di genere, età, cittadinanza, "
         f"titolo di studio e anno di iscrizione, stima che dopo l'avvio il ritmo con cui si trova lavoro sia "
         f"{fmt_num(c.hr, lang, 2)} volte quello senza IPS ({ci}). È un confronto tra persone con le stesse "
         "caratteristiche (effetto condizionato), per questo è più grande dell'hazard ratio marginale della "
         "ponderazione: le due stime rispondono a domande diverse e non devono coincidere." if it else
         f"Sensitivity analysis (conditional model): a Cox model on everyone enrolled, where IPS counts only from the "
         f"start day (a time-varying covariate) and with gender, age, citizenship, education and enrolment year held "
         f"equal, estimates that after the start people find work {fmt_num(c.hr, lang, 2)} times as fast as without "
         f"IPS ({ci}). It compares people with the same characteristics (a conditional effect), which is why "
         "it is larger than the marginal hazard ratio of the weighting: the two answer different questions and need "
         "not agree.")
    if c.pooled:
        s += " " + words.pooled_sentence(c.pooled, lang, ("inserimenti", "placements"))
    return s


# ---------------------------------------------------------------------------------------------
# glossary
# ---------------------------------------------------------------------------------------------
_GLOSSARY = [
    ("Incidenza cumulata", "Cumulative incidence",
     "su 100 persone, quante hanno trovato lavoro entro un certo tempo, contando chi esce dal programma senza lavoro "
     "come persona che non l'ha trovato. È la misura dei «su 100 persone» di questo rapporto.",
     "of every 100 people, how many found a job within a given time, counting those who leave the programme without "
     "a job as not placed. It is the measure behind every 'of 100 people' in this report."),
    ("Punteggio di propensione", "Propensity score",
     "la probabilità, stimata dalle caratteristiche note, di ricevere IPS; serve a rendere simili i due gruppi.",
     "the probability of receiving IPS, estimated from the known characteristics; it is used to make the two groups "
     "alike."),
    ("Ponderazione (IPTW)", "Weighting (IPTW)",
     "ogni persona di confronto conta di più o di meno secondo il suo punteggio, così che il gruppo di confronto "
     "somigli alle persone IPS. È la stima principale.",
     "each comparison person counts more or less according to their score, so that the comparison group resembles "
     "the IPS people. It is the main estimate."),
    ("Abbinamento", "Matching",
     "a ogni persona IPS si affianca una persona di confronto con un punteggio simile; chi non trova un abbinamento "
     "è escluso.",
     "each IPS person is paired with a comparison person with a similar score; those without a pair are left out."),
    ("Confronto grezzo", "Raw comparison",
     "il confronto senza tener conto delle differenze tra i gruppi: mostrato solo per vedere quanto contano.",
     "the comparison that ignores differences between the groups: shown only to see how much they matter."),
    ("Differenza standardizzata", "Standardised difference",
     "quanto i due gruppi differiscono in una caratteristica; oltre {b} i gruppi non sono considerati simili.",
     "how much the two groups differ in a characteristic; above {b} the groups are not considered alike."),
    ("Intenzione di trattare (ITT)", "Intention to treat (ITT)",
     "l'effetto della proposta di IPS su tutte le persone a cui è stata fatta, anche chi ha rifiutato.",
     "the effect of the IPS offer on everyone who received it, including those who declined."),
    ("Effetto sui trattati (ATT)", "Effect on the treated (ATT)",
     "l'effetto di iniziare IPS tra le persone effettivamente prese in carico.",
     "the effect of starting IPS among the people actually taken in charge."),
    ("Hazard ratio (rapporto dei ritmi)", "Hazard ratio",
     "quante volte più in fretta un gruppo trova lavoro rispetto all'altro; «marginale» vuol dire calcolato sul "
     "gruppo nel suo insieme, «condizionato» tra persone con le stesse caratteristiche (non collassabilità: i due "
     "non coincidono).",
     "how many times faster one group finds work than the other; 'marginal' means over the group as a whole, "
     "'conditional' between people with the same characteristics (non-collapsibility: the two differ)."),
    ("E-value", "E-value",
     "quanto forte dovrebbe essere un fattore non misurato (ad esempio la motivazione) per spiegare del tutto il "
     "risultato.",
     "how strong an unmeasured factor (motivation, for example) would have to be to explain the result away."),
    ("Intervallo di confidenza (IC 95%)", "Confidence interval (95% CI)",
     "i valori compatibili con i dati («tra X e Y»); nelle tabelle è scritto X (Y–Z).",
     "the values compatible with the data ('between X and Y'); tables write it as X (Y–Z)."),
    ("Non conclusivo", "Inconclusive",
     "il numero non va letto come un risultato; il rapporto dice sempre perché (gruppi troppo piccoli, gruppi non "
     "abbastanza simili, periodo troppo breve, confronto grezzo).",
     "the number should not be read as a finding; the report always says why (groups too small, groups not alike "
     "enough, follow-up too short, raw comparison)."),
    ("k (soglia di riservatezza)", "k (confidentiality threshold)",
     "i numeri da 1 a k−1 persone non sono mostrati («<k») per tutelare la riservatezza; in questo rapporto k = {k}.",
     "counts of 1 to k−1 people are not shown ('<k') to protect confidentiality; in this report k = {k}."),
]


def glossary(analysis: IpsAnalysis | None = None, lang: str = "it", k: int = 10) -> list[tuple[str, str]]:
    """The short glossary of the statistical terms of the IPS report: ``(term, meaning)`` pairs in
    the report language.

    >>> glossary(None, "en")[1][0]
    'Propensity score'
    """
    i = 0 if lang == "it" else 1
    b = str((analysis.params if analysis is not None else {}).get("balance_threshold", 0.1))
    if lang == "it":
        b = b.replace(".", ",")
    return [(g[i], g[2 + i].format(k=k, b=b)) for g in _GLOSSARY]


def glossary_text(entries: list[tuple[str, str]], lang: str = "it") -> str:
    """Glossary entries as paragraphs for ``rep.caveats`` (separated by blank lines)."""
    return "\n\n".join([vocab.tr(lang, "Glossario.", "Glossary.")] + [f"{t}: {m}" for t, m in entries])


# ---------------------------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------------------------
def love_plot(effect: IpsEffect, lang: str = "it"):
    """Love plot of the weighted balance with reader-facing covariate names (no counts)."""
    labels = {t: term_label(t, lang) for t in effect.balance_iptw.index}
    return causal_plots.love_plot(effect.balance_iptw, threshold=effect.balance_threshold, labels=labels, lang=lang)


def overlap_plot(effect: IpsEffect, frame: pd.DataFrame, lang: str = "it"):
    """Propensity-score overlap of IPS and comparison people (densities only, no counts)."""
    return causal_plots.overlap_plot(effect.ps.scores_, frame["treated"],
                               group_labels=(vocab.level("ips_group", "treated", lang),
                                             vocab.level("ips_group", "comparison", lang).lower()), lang=lang)


def plot_cumulative(frame: pd.DataFrame, at_risk: Table, weights=None, *, lang: str = "it", k: int = 10,
                    title: str | None = None):
    """Cumulative share placed since the index date, IPS vs comparison (weighted Aalen–Johansen).

    Under the plot, the people still followed from the *protected* table ``at_risk``
    (:func:`at_risk_table` after ``Report.publish``): a withheld number shows as its mark. Each
    curve ends where fewer than ``k`` people of its group remain followed, so the chart draws
    nothing that rests on fewer than ``k`` people.
    """
    import matplotlib.pyplot as plt

    from .present import INK, LINESTYLES, PALETTE
    from ..estimate.survival import AalenJohansen

    it = lang == "it"
    w = np.ones(len(frame)) if weights is None else np.asarray(weights, dtype=float)
    t = frame["treated"].to_numpy()
    fig, (ax, axt) = plt.subplots(2, 1, figsize=(9.0, 6.0), gridspec_kw={"height_ratios": [5, 1]}, sharex=True)
    horizon_days = float(TICKS_DAYS[-1])
    labels = (vocab.level("ips_group", "treated", lang), vocab.level("ips_group", "comparison", lang))
    months = [c.key for c in at_risk.cols if c.role == "count"]
    for j, (grp, colour, lab) in enumerate(((1, PALETTE[0], labels[0]), (0, PALETTE[1], labels[1]))):
        m = (t == grp) & (w > 0)
        tt = frame["time"].to_numpy()[m]
        # the last time at which at least k people of the group are still followed
        end = np.sort(tt)[-k] if len(tt) >= k else -1.0
        aj = AalenJohansen().fit(tt, frame["event"].to_numpy()[m], weights=None if np.all(w[m] == 1) else w[m])
        tab = aj.table_
        keep = (tab["time"] <= min(horizon_days, end)).to_numpy()
        if end >= 0:
            x = np.r_[0, tab["time"][keep], min(horizon_days, end)]
            y = np.r_[0, tab["cif_1"][keep], (tab["cif_1"][keep].iloc[-1] if keep.any() else 0)] * 100
            lo = np.r_[0, tab["lower_1"][keep], (tab["lower_1"][keep].iloc[-1] if keep.any() else 0)] * 100
            hi = np.r_[0, tab["upper_1"][keep], (tab["upper_1"][keep].iloc[-1] if keep.any() else 0)] * 100
            ax.step(x, y, where="post", color=colour, label=lab, linewidth=2, linestyle=LINESTYLES[j])
            ax.fill_between(x, lo, hi, step="post", color=colour, alpha=0.12, linewidth=0)
        for tk, mk in zip(TICKS_DAYS, months):
            axt.text(tk, 1 - j, render.cell_text(at_risk, j, mk, lang, k), ha="center", va="center", fontsize=9,
                     color=INK)
    ax.set_ylabel("Persone con un lavoro (su 100)" if it else "People placed (per 100)")
    ax.set_ylim(0, min(100, max(10, 10 * math.ceil(ax.get_ylim()[1] / 10))))
    ax.set_title(title or ("Quante persone trovano lavoro dopo la data indice" if it else
                           "How many people find work after the index date"))
    ax.legend(loc="upper left", handlelength=3.2)
    ax.yaxis.set_major_formatter(render.tick_formatter(lang))
    axt.set_ylim(-0.5, 1.5)
    axt.set_yticks([1, 0], labels)
    axt.set_xticks(TICKS_DAYS, [f"{int(round(tk / DAYS_PER_MONTH))}" for tk in TICKS_DAYS])
    axt.set_xlabel("Mesi dalla data indice (proposta o avvio IPS; per il confronto la stessa distanza dall'iscrizione)"
                   if it else "Months since the index date (IPS offer or start; for comparators the same time since enrolment)")
    axt.grid(False)
    for s in ("top", "right", "left", "bottom"):
        axt.spines[s].set_visible(False)
    axt.tick_params(axis="y", length=0)
    axt.set_title(vocab.column("ips_at_risk", lang), fontsize=9, loc="left")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------
# records
# ---------------------------------------------------------------------------------------------
def record_results(rep, analysis: IpsAnalysis, tabs: dict) -> int:
    """Write the key estimates to ``results.json`` from the protected tables; returns how many.

    Keys: ``ips_offered`` ... (funnel totals, linked to the funnel's total row),
    ``<outcome>__contrast=<c>__method=<m>`` for every estimate (shares as differences in
    proportion, ratios as ratios; linked to the estimates tables, the risk ratios resting on the
    same arm sizes), ``conclusive__...`` (1/0) and ``evalue__contrast=<c>`` (with the E-value of
    the CI limit as ``ci_low``).
    """
    f = tabs["imbuto_ips"]
    tot = len(f.data) - 1
    total = analysis.total
    n = 0
    for key, col, unit, it, en in (
        ("ips_offered", "offered", "people", "Persone a cui è stato proposto IPS", "People offered IPS"),
        ("ips_declined", "declined", "people", "Proposte IPS rifiutate", "IPS offers declined"),
        ("ips_taken_in_charge", "taken_in_charge", "people", "Persone prese in carico da IPS", "People taken in charge by IPS"),
        ("ips_employed_during", "employed_during_ips", "people", "Persone con un lavoro durante IPS", "People employed during IPS"),
        ("ips_contracts_signed", "contracts_signed", "contracts", "Contratti firmati durante IPS", "Contracts signed during IPS"),
    ):
        rep.record_cell(f, tot, col, key, unit=unit, label_it=it, label_en=en)
        n += 1
    assert int(f.data.at[tot, "offered"]) == int(total["offered"])
    rep.record_cell(f, tot, "share_employed", "ips_share_employed", unit="share", n_col="taken_in_charge",
                    label_it="Quota di persone prese in carico con un lavoro durante IPS",
                    label_en="Share of people taken in charge employed during IPS")
    n += 1
    for c, eff in analysis.effects.items():
        est = tabs[f"stime_{CONTRASTS[c]}"]
        lang = _lang_of(est)
        for _, r in eff.estimates.iterrows():
            base, is_ratio = _split(r["outcome"])
            ratio = r["measure"] != "difference"
            unit = "ratio" if ratio else "share_difference"
            lab_it = vocab.level("ips_outcome", base, "it") + (vocab.word("ips_ratio", "it") if ratio and base in _HORIZON else "")
            lab_en = vocab.level("ips_outcome", base, "en") + (vocab.word("ips_ratio", "en") if ratio and base in _HORIZON else "")
            key = f"{r['outcome']}__contrast={c}__method={r['method']}"
            est_it = vocab.level("ips_estimand_record", r["estimand"], "it") if r.get("estimand") else c
            est_en = vocab.level("ips_estimand_record", r["estimand"], "en") if r.get("estimand") else c
            marginal = str(r.get("scale", "")).startswith("marginal")
            label_it = f"{lab_it} — {c}, {r['method']}: {est_it}" + (", marginale" if marginal else "")
            label_en = f"{lab_en} — {c}, {r['method']}: {est_en}" + (", marginal" if marginal else "")
            i = est.find({"outcome": _lv("ips_outcome", base, lang), "method": _lv("ips_method", r["method"], lang)})
            if base in _HORIZON and is_ratio:
                # not in the table: the risk ratio rests on the same IPS arm as the difference beside it
                rep.record(key, float(r["estimate"]), ci=(float(r["ci_low"]), float(r["ci_high"])),
                           n=int(r["n_treated"]), unit=unit, label_it=label_it, label_en=label_en,
                           rests_on=est.cell_id(i, "n_treated"))
            else:
                rep.record_cell(est, i, "difference" if base in _HORIZON else "ratio", key, unit=unit,
                                label_it=label_it, label_en=label_en, n_col="n_treated")
            n += 1
        i_h = None
        for _, r in eff.estimates.iterrows():
            base, is_ratio = _split(r["outcome"])
            if r["method"] != "iptw" or base not in _HORIZON or is_ratio:
                continue
            i_h = est.find({"outcome": _lv("ips_outcome", base, lang), "method": _lv("ips_method", "iptw", lang)})
            for arm, col, n_col, it, en in (("ips", "risk_treated", "n_treated", "persone IPS", "IPS people"),
                                            ("comparison", "risk_control", "n_control", "persone di confronto simili",
                                             "similar comparison people")):
                # the "su 100 persone" of each arm in the sentences; rests on that arm's people
                rep.record(f"{base}__arm={arm}__contrast={c}__method=iptw", float(r[col]), unit="share",
                           label_it=f"{vocab.level('ips_outcome', base, 'it')}: quota tra le {it} — {c}",
                           label_en=f"{vocab.level('ips_outcome', base, 'en')}: share among {en} — {c}",
                           rests_on=est.cell_id(i_h, n_col if arm == "comparison" else "n_treated"))
                n += 1
        for m, (ok, _) in eff.verdict.items():
            rep.record(f"conclusive__contrast={c}__method={m}", int(ok), unit="flag",
                       label_it=f"Risultato conclusivo (1 sì, 0 no) — {c}, {m}",
                       label_en=f"Conclusive result (1 yes, 0 no) — {c}, {m}")
            n += 1
        if eff.evalue is not None:
            rep.record(f"evalue__contrast={c}", float(eff.evalue.point), ci=(eff.evalue.ci, None), unit="ratio",
                       label_it=f"E-value della stima principale (ci_low: del limite dell'intervallo) — {c}",
                       label_en=f"E-value of the main estimate (ci_low: of the interval limit) — {c}")
            n += 1
    cond = getattr(analysis, "conditional", None)
    if cond is not None and cond.model is not None:
        # n: people with an IPS start in the whole cohort (a count published nowhere else)
        rep.record("hazard_ratio__contrast=start__method=conditional_cox", cond.hr, ci=(cond.ci_low, cond.ci_high),
                   n=cond.n_ips, unit="ratio",
                   label_it="Rapidità dell'inserimento dopo l'avvio di IPS — modello di Cox su tutti gli iscritti, IPS "
                            "covariata nel tempo: effetto condizionato (analisi di sensibilità)",
                   label_en="Speed of placement after the IPS start — Cox model on everyone enrolled, IPS time-varying: "
                            "conditional effect (sensitivity analysis)")
        n += 1
    return n


# ---------------------------------------------------------------------------------------------
# alt texts and the overlap in words
# ---------------------------------------------------------------------------------------------
def overlap_share(effect: IpsEffect, frame: pd.DataFrame) -> float:
    """The area the two smoothed score distributions of :func:`overlap_plot` have in common
    (0 to 1), rounded to 5 points: a property of the drawn curves, not a count of people."""
    from scipy.stats import gaussian_kde

    p = pd.Series(effect.ps.scores_).to_numpy(dtype=float)
    t = frame["treated"].to_numpy()
    grid = np.linspace(0, 1, 2001)
    dens = []
    for grp in (1, 0):
        x = p[t == grp]
        if len(x) < 2 or np.ptp(x) == 0:
            return float("nan")
        dens.append(gaussian_kde(x)(grid))
    m = np.minimum(*dens)
    common = float(np.sum((m[1:] + m[:-1]) / 2 * np.diff(grid)))
    return round(20 * min(1.0, max(0.0, common))) / 20


def overlap_text(effect: IpsEffect, frame: pd.DataFrame, lang: str = "it") -> str:
    """What the overlap chart shows, in one or two sentences: its text equivalent (and alt text)."""
    share = overlap_share(effect, frame)
    if math.isnan(share):
        return ("Il grafico di sovrapposizione non è disegnabile: un gruppo ha troppo pochi punteggi diversi."
                if lang == "it" else "The overlap chart cannot be drawn: one group has too few distinct scores.")
    p = render.pct_text(share, lang)
    if lang == "it":
        words = ("si sovrappongono quasi del tutto" if share >= 0.8 else
                 "si sovrappongono in parte" if share >= 0.5 else "si sovrappongono poco")
        tail = (": per le persone IPS ci sono persone di confronto con un punteggio simile." if share >= 0.8 else
                ": per alcune persone IPS mancano persone di confronto con un punteggio simile, e il confronto "
                "vale soprattutto per le altre.")
        return f"Le due aree {words} (hanno in comune il {p} della superficie){tail}"
    words = ("overlap almost entirely" if share >= 0.8 else "overlap in part" if share >= 0.5 else "overlap little")
    tail = (": for IPS people there are comparison people with a similar score." if share >= 0.8 else
            ": some IPS people have no comparison people with a similar score, and the comparison holds mainly "
            "for the others.")
    return f"The two areas {words} (they share {p} of their surface){tail}"


def alt_love(effect: IpsEffect, balance: Table, lang: str = "it") -> str:
    """Alt text of :func:`love_plot`, from the protected balance table: the largest difference
    before and after weighting against the threshold."""
    s = balance.shown()
    b = s["smd_before"].abs().astype(float)
    w = s["smd_weighted"].abs().astype(float)
    ib, iw = int(b.idxmax()), int(w.idxmax())
    thr = render.fmt_num(effect.balance_threshold, lang, 2)
    f = lambda v: render.fmt_num(v, lang, 2)  # noqa: E731
    ok = bool((w < effect.balance_threshold).all())
    if lang == "it":
        txt = (f"Prima della ponderazione la differenza più grande è per «{s.at[ib, 'characteristic']}» ({f(b[ib])}); "
               f"dopo, la più grande è {f(w[iw])} («{s.at[iw, 'characteristic']}»): "
               + (f"tutte sotto la soglia di {thr}, i gruppi sono confrontabili." if ok else
                  f"non tutte sotto la soglia di {thr}."))
    else:
        txt = (f"Before weighting the largest difference is for “{s.at[ib, 'characteristic']}” ({f(b[ib])}); after, "
               f"the largest is {f(w[iw])} (“{s.at[iw, 'characteristic']}”): "
               + (f"all below the threshold of {thr}, the groups are comparable." if ok else
                  f"not all below the threshold of {thr}."))
    return txt + " " + render.see_table(balance, lang)


def alt_cumulative(effect: IpsEffect, est: Table, lang: str = "it") -> str:
    """Alt text of :func:`plot_cumulative`: the headline difference (weighted) between IPS and
    comparison people, from the protected estimates table."""
    see = render.see_table(est, lang)
    try:
        i = _headline_row(effect, est)
    except KeyError:
        return see
    d, lo, hi = (est.value(i, c) for c in ("difference", "difference_low", "difference_high"))
    if d is None or lo is None or hi is None:
        r, rlo, rhi = (est.value(i, c) for c in ("ratio", "ratio_low", "ratio_high"))
        if r is None or rlo is None or rhi is None:
            return see
        g = lambda v: render.fmt_num(v, lang, 2)  # noqa: E731
        out = str(est.data.at[i, "outcome"])
        return (f"«{out}»: persone IPS contro persone di confronto, rapporto {g(r)} (tra {g(rlo)} e {g(rhi)}). "
                if lang == "it" else
                f"“{out}”: IPS people against comparison people, ratio {g(r)} (between {g(rlo)} and {g(rhi)}). ") + see
    out = str(est.data.at[i, "outcome"])
    f = lambda v: render.fmt_num(100 * v, lang, 0)  # noqa: E731
    more = d >= 0
    if lang == "it":
        txt = (f"La curva delle persone IPS sta {'sopra' if more else 'sotto'} quella delle persone di confronto: "
               f"«{out.lower()}», {f(abs(d))} su 100 in {'più' if more else 'meno'} (tra {f(lo)} e {f(hi)}).")
    else:
        txt = (f"The IPS curve lies {'above' if more else 'below'} the comparison curve: "
               f"“{out.lower()}”, {f(abs(d))} in 100 {'more' if more else 'fewer'} (between {f(lo)} and {f(hi)}).")
    return txt + " " + see
