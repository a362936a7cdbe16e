"""Presentation of the stabilisation analysis: typed tables, sentences, figures and records.

The estimation (:mod:`ixl_eval.stabilisation`) returns numbers; this module turns a
:class:`~ixl_eval.stabilisation.StabilisationAnalysis` into the notebook's outputs:

* :func:`tables` — every table the notebook publishes, as :class:`~ixl_eval.report.table.Table`
  objects of numbers (counts as ints, shares and estimates as proportions, intervals in their
  own columns), labels from :mod:`ixl_eval.report.vocab`;
* :func:`relations` — the sums that link those tables (a year and its quarters, the funnel of
  contracts analysed, the Cox model's pooled level and the groups it pools), for the joint
  protection of ``Report.publish``;
* sentences (``describe_*``, ``*_paragraph``), figures (``plot_*``) and :func:`record` — all
  read the *protected* tables (:meth:`Table.shown`, :meth:`Table.value`), so none of them shows
  a number a table withholds.

Counts of the same thing in two tables are linked (same ``measure`` and coordinates
``subgroup``/``group``): the contracts and conversions of a group in the incidence table, the
rates table, the Cox model and the number-at-risk table under the chart are one number with one
status. Text that comes from the data (sector and employer names) is escaped with
:func:`md_escape` in every Markdown sentence.

Examples
--------
>>> md_escape("[click](http://x) <b>")
'\\\\[click\\\\]\\\\(http://x\\\\) &lt;b&gt;'
>>> months_label(365, "it"), months_label(30, "en")
('12 mesi', '1 month')
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import present
from ..estimate import stabilisation as est
from ..estimate import multiplicity
from . import render, vocab, words
from .table import SHOWN, Col, Table

__all__ = [
    "md_escape",
    "group_label",
    "subgroup_name",
    "months_label",
    "tables",
    "relations",
    "record",
    "summary_sentences",
    "describe_incidence",
    "describe_groups",
    "describe_test",
    "describe_hazard_ratios",
    "describe_people",
    "describe_routes",
    "describe_employers",
    "groups_paragraph",
    "rates_paragraph",
    "cox_paragraph",
    "caveats_text",
    "plot_incidence",
    "plot_forest",
    "plot_people",
    "plot_routes",
    "plot_employers",
]

_DPM = 365.25 / 12
_MD_SPECIAL = "\\[]()*_`#!|"


# ------------------------------------------------------------------------------------ words


def md_escape(text) -> str:
    """Text from the data made inert in Markdown: ``& < >`` as HTML entities (no tag from data is
    ever live) and Markdown punctuation ``[ ] ( ) * _ ` # ! |`` (and the backslash) escaped, so a
    sector called ``[click](http://x)`` is shown as written, never as a link.

    >>> md_escape("<img src=x onerror=alert(1)>")
    '&lt;img src=x onerror=alert\\\\(1\\\\)&gt;'
    >>> md_escape("Pulizie & servizi_1")
    'Pulizie &amp; servizi\\\\_1'
    """
    s = str(text)
    s = "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in s)
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _plain(text) -> str:
    return str(text)


def group_label(column: str, value, lang: str = "it") -> str:
    """Reader-facing name of a level of an episode subgroup (the Cox model's pooled level
    :data:`ixl_eval.stabilisation.OTHER` is "Altri (pochi casi)").

    >>> group_label("employer_size", "micro"), group_label("gender", "F", "en"), group_label("sector", "Logistica")
    ('Micro (meno di 10 addetti)', 'Women', 'Logistica')
    """
    return vocab.level(column, value, lang)


def subgroup_name(sub: str, lang: str = "it") -> str:
    """Reader-facing name of a subgroup ("all" is "Tutti", "cohort" the year of first placement).

    >>> subgroup_name("employer_size"), subgroup_name("cohort", "en"), subgroup_name("all")
    ("Dimensione dell'azienda", 'Year of first placement', 'Tutti')
    """
    if sub == "all":
        return vocab.word("all", lang)
    if sub == "cohort":
        return vocab.column("first_placement_year", lang)
    return vocab.column(sub, lang)


def _group_name(sub: str, group, lang: str) -> str:
    return vocab.word("all", lang) if sub == "all" else group_label(sub, group, lang)


def months_label(days: int, lang: str = "it") -> str:
    """A horizon in days as whole months in words ("12 mesi", "1 month")."""
    m = int(round(days / _DPM))
    return vocab.word("stab_one_month", lang) if m == 1 else vocab.word("stab_months", lang).format(n=m)


def _w(key: str, lang: str, **kw) -> str:
    s = vocab.word(key, lang)
    return s.format(**kw) if kw else s


def _pct100(x, lang: str) -> str:
    """A proportion as "24" of "24 su 100"."""
    return render.fmt_num(100 * float(x), lang)


def _per100(x, lang: str) -> str:
    return f"{_pct100(x, lang)} su 100" if lang == "it" else f"{_pct100(x, lang)} in 100"


def _count_text(t: Table, i: int, key: str, lang: str, k: int) -> str:
    """A count as published: the number, or its mark when the table withholds it."""
    return render.cell_text(t, i, key, lang, k)


def _letters(i: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: spreadsheet-style labels of anonymous employers, never running out."""
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _employer_label(kind: str, name, rank: int, employers: int, lang: str) -> str:
    if kind == "named":
        return str(name)
    if kind == "anonymous":
        return f"{vocab.word('employer', lang)} {_letters(int(rank))}"
    return f"{vocab.word('other_employers', lang)} ({int(employers)})"


# ------------------------------------------------------------------------------------ tables


def _horizons(inc: pd.DataFrame) -> list:
    return list(inc.attrs.get("horizons") or [int(c[4:]) for c in inc.columns
                                              if c.startswith("cif_") and c[4:].isdigit()])


def _sub_group_cols(frame: pd.DataFrame, lang: str, sub_col: str = "subgroup", group_col: str = "group") -> dict:
    return {
        "subgroup": [subgroup_name(s, lang) for s in frame[sub_col]],
        "group": [_group_name(s, g, lang) for s, g in zip(frame[sub_col], frame[group_col])],
    }


def _label_cols(lang: str) -> list:
    return [Col("subgroup", vocab.word("characteristic", "it"), vocab.word("characteristic", "en")),
            Col("group", vocab.word("group", "it"), vocab.word("group", "en"))]


def _word_pair(key: str, **kw) -> tuple:
    return _w(key, "it", **kw), _w(key, "en", **kw)


def incidence_table(inc: pd.DataFrame, lang: str = "it") -> Table:
    """The share converted within each horizon, overall and by group (``trasformazioni_per_gruppo``)."""
    inc = inc.reset_index(drop=True)
    data = pd.DataFrame(_sub_group_cols(inc, lang))
    cols = _label_cols(lang)
    for key, word, measure in (("n", "stab_contracts", "contracts"), ("conversions", "stab_converted", "conversions"),
                               ("ended", "stab_ended", "ended")):
        data[key] = inc[key].astype("int64").to_numpy()
        cols.append(Col(key, *_word_pair(word), role="count", measure=measure, unit="contratti"))
    for h in _horizons(inc):
        it, en = (_w("stab_converted_within", lg, months=months_label(h, lg)) for lg in ("it", "en"))
        for suffix in ("", "_lower", "_upper"):
            data[f"cif_{h}{suffix}"] = inc[f"cif_{h}{suffix}"].astype(float).to_numpy()
        cols += [Col(f"cif_{h}", it, en, role="estimate", pct=True, base=("n", "conversions"),
                     ci=(f"cif_{h}_lower", f"cif_{h}_upper"), unit="quota 0–1"),
                 Col(f"cif_{h}_lower", it + " (min)", en + " (lower)", role="lower", pct=True, unit="quota 0–1"),
                 Col(f"cif_{h}_upper", it + " (max)", en + " (upper)", role="upper", pct=True, unit="quota 0–1")]
    return Table("trasformazioni_per_gruppo", data, cols,
                 caption_it="Contratti trasformati a tempo indeterminato entro i mesi indicati dall'inizio, per gruppo "
                            "(tra parentesi l'intervallo di confidenza al 95%; «–»: non ancora osservabile)",
                 caption_en="Contracts converted to permanent within the months shown since the start, by group "
                            "(95% confidence interval in brackets; '–': not yet observable)",
                 coords=["subgroup", "group"], by="subgroup", lines="columns")


def cox_table(model, lang: str = "it") -> Table:
    """The Cox model's hazard ratios (``rapporti_di_rischio``); its counts are the incidence
    table's counts of the same groups (linked), its pooled level a sum of them (:func:`relations`)."""
    hr = model.hr_table_.reset_index(drop=True)
    data = pd.DataFrame(_sub_group_cols(hr, lang, "covariate", "level"))
    data["reference"] = [group_label(c, r, lang) for c, r in zip(hr["covariate"], hr["reference"])]
    data["n"] = hr["n"].astype("int64").to_numpy()
    data["events"] = hr["events"].astype("int64").to_numpy()
    for c in ("hr", "lower", "upper", "p"):
        data[c] = hr[c].astype(float).to_numpy()
    hr_it, hr_en = _word_pair("stab_hazard_ratio")
    cols = _label_cols(lang) + [
        Col("reference", *_word_pair("compared_with"), role="text"),
        Col("n", *_word_pair("stab_contracts"), role="count", measure="contracts", unit="contratti"),
        Col("events", *_word_pair("stab_converted"), role="count", measure="conversions", unit="contratti"),
        Col("hr", hr_it, hr_en, role="estimate", decimals=2, base=("n", "events"), ci=("lower", "upper"), unit="HR"),
        Col("lower", hr_it + " (min)", hr_en + " (lower)", role="lower", decimals=2, unit="HR"),
        Col("upper", hr_it + " (max)", hr_en + " (upper)", role="upper", decimals=2, unit="HR"),
        Col("p", *_word_pair("p_value"), role="p", base=("n", "events")),
    ]
    return Table("rapporti_di_rischio", data, cols,
                 caption_it="Modello di Cox per la trasformazione: rapporti di rischio e intervalli al 95%",
                 caption_en="Cox model of conversion: hazard ratios and 95% intervals",
                 coords=["subgroup", "group"], lines="none")


def rates_table(rates: pd.DataFrame, lang: str = "it") -> Table:
    """Conversions per 100 contract-years (``trasformazioni_per_anno_di_contratto``); the rate
    column is per 100 contract-years (``results.json`` keeps it per year)."""
    r = rates.reset_index(drop=True)
    data = pd.DataFrame(_sub_group_cols(r, lang))
    data["n"] = r["n"].astype("int64").to_numpy()
    data["conversions"] = r["conversions"].astype("int64").to_numpy()
    for c in ("rate", "lower", "upper"):
        data[f"{c}_per_100" if c == "rate" else c] = 100 * r[c].astype(float).to_numpy()
    it, en = _word_pair("stab_rate_per_100")
    cols = _label_cols(lang) + [
        Col("n", *_word_pair("stab_contracts"), role="count", measure="contracts", unit="contratti"),
        Col("conversions", *_word_pair("stab_converted"), role="count", measure="conversions", unit="contratti"),
        Col("rate_per_100", it, en, role="estimate", base=("n", "conversions"), ci=("lower", "upper"),
            unit="per 100 anni-contratto"),
        Col("lower", it + " (min)", en + " (lower)", role="lower", unit="per 100 anni-contratto"),
        Col("upper", it + " (max)", en + " (upper)", role="upper", unit="per 100 anni-contratto"),
    ]
    return Table("trasformazioni_per_anno_di_contratto", data, cols,
                 caption_it="Ritmo delle trasformazioni, per dimensione dell'azienda: trasformazioni ogni 100 anni "
                            "di contratti a termine in corso (non è una quota di contratti; tra parentesi "
                            "l'intervallo al 95%)",
                 caption_en="Pace of conversion by employer size: conversions per 100 years of fixed-term contracts "
                            "running (not a share of contracts; 95% interval in brackets)",
                 coords=["subgroup", "group"], by="subgroup", lines="columns")


def people_table(people: pd.DataFrame, lang: str = "it") -> Table:
    """People placed and permanent within the horizon, by year of first placement
    (``persone_tempo_indeterminato``)."""
    p = people.reset_index(drop=True)
    data = pd.DataFrame(_sub_group_cols(p, lang))
    for c in ("n", "permanent_first", "reached"):
        data[c] = p[c].astype("int64").to_numpy()
    for c in ("share", "lower", "upper"):
        data[c] = p[c].astype(float).to_numpy()
    h = people.attrs["horizon"]
    it, en = (_w("stab_permanent_within", lg, months=months_label(h, lg)) for lg in ("it", "en"))
    cols = _label_cols(lang) + [
        Col("n", *_word_pair("stab_people_placed"), role="count", measure="people_placed", unit="persone"),
        Col("permanent_first", *_word_pair("stab_first_permanent"), role="count", measure="people_first_permanent",
            unit="persone"),
        Col("reached", *_word_pair("stab_permanent_by_cutoff"), role="count", measure="people_permanent",
            unit="persone"),
        Col("share", it, en, role="estimate", pct=True, base=("n", "reached"), ci=("lower", "upper"), unit="quota 0–1"),
        Col("lower", it + " (min)", en + " (lower)", role="lower", pct=True, unit="quota 0–1"),
        Col("upper", it + " (max)", en + " (upper)", role="upper", pct=True, unit="quota 0–1"),
    ]
    return Table("persone_tempo_indeterminato", data, cols,
                 caption_it="Persone inserite e contratto a tempo indeterminato, per anno del primo inserimento",
                 caption_en="People placed and permanent contracts, by year of first placement",
                 coords=["subgroup", "group"], by="subgroup", lines="columns")


def routes_table(routes: pd.DataFrame, lang: str = "it") -> Table:
    """Permanent contracts per year (``tempo_indeterminato_per_anno``) or quarter
    (``tempo_indeterminato_per_trimestre``): at hire, by conversion, total."""
    r = routes.reset_index(drop=True)
    freq = routes.attrs.get("freq", "year")
    key = "year" if freq == "year" else "quarter"
    running = vocab.word("running", lang)
    label = [(p if freq == "year" else vocab.quarter(p, lang)) + ("" if c else running)
             for p, c in zip(r["period"], r["complete"])]
    data = pd.DataFrame({key: label})
    for c in ("at_hire", "by_conversion", "total"):
        data[c] = r[c].astype("int64").to_numpy()
    data["share_by_conversion"] = r["share_by_conversion"].astype(float).to_numpy()
    cols = [
        Col(key, vocab.column(key, "it"), vocab.column(key, "en")),
        Col("at_hire", *_word_pair("stab_hired_permanent"), role="count", measure="permanent_at_hire",
            unit="contratti"),
        Col("by_conversion", *_word_pair("stab_converted_from_fixed_term"), role="count",
            measure="permanent_by_conversion", unit="contratti"),
        Col("total", *_word_pair("total"), role="count", measure="permanent_total", unit="contratti", total=True),
        Col("share_by_conversion", *_word_pair("stab_share_by_conversion"), role="share",
            base=("at_hire", "by_conversion"), unit="quota 0–1"),
    ]
    if freq == "year":
        return Table("tempo_indeterminato_per_anno", data, cols,
                     caption_it="Nuovi contratti a tempo indeterminato per anno e modalità",
                     caption_en="New permanent contracts per year and route", coords=[key], lines="both")
    return Table("tempo_indeterminato_per_trimestre", data, cols,
                 caption_it="Nuovi contratti a tempo indeterminato per trimestre e modalità",
                 caption_en="New permanent contracts per quarter and route", coords=[key], lines="both")


def employers_table(emp: pd.DataFrame, lang: str = "it") -> Table:
    """Fixed-term contracts and conversions by employer (``trasformazioni_per_azienda``): named
    employers by their consented name, the others "Azienda A", ..., the rest pooled."""
    e = emp.reset_index(drop=True)
    data = pd.DataFrame({"employer": [_employer_label(k, n, r, m, lang) for k, n, r, m in
                                      e[["kind", "name", "rank", "employers"]].itertuples(index=False)]})
    data["contracts"] = e["contracts"].astype("int64").to_numpy()
    data["conversions"] = e["conversions"].astype("int64").to_numpy()
    for c in ("cif", "cif_lower", "cif_upper"):
        data[c] = e[c].astype(float).to_numpy()
    h = emp.attrs["horizon"]
    it, en = (_w("stab_converted_within", lg, months=months_label(h, lg)) for lg in ("it", "en"))
    cols = [
        Col("employer", *_word_pair("employer")),
        Col("contracts", *_word_pair("stab_fixed_term_contracts"), role="count", measure="employer_contracts",
            unit="contratti"),
        Col("conversions", *_word_pair("stab_converted"), role="count", measure="employer_conversions", unit="contratti"),
        Col("cif", it, en, role="estimate", pct=True, base=("contracts", "conversions"), ci=("cif_lower", "cif_upper"),
            unit="quota 0–1"),
        Col("cif_lower", it + " (min)", en + " (lower)", role="lower", pct=True, unit="quota 0–1"),
        Col("cif_upper", it + " (max)", en + " (upper)", role="upper", pct=True, unit="quota 0–1"),
    ]
    return Table("trasformazioni_per_azienda", data, cols,
                 caption_it="Contratti a tempo determinato e trasformazioni per azienda",
                 caption_en="Fixed-term contracts and conversions by employer", lines="columns")


_EXCLUSION_WORDS = {"started_after_cutoff": "stab_started_after_cutoff",
                    "not_first_fixed_term": "stab_not_first_fixed_term",
                    "started_outside_window": "stab_started_outside_window"}


def exclusions_table(episodes: pd.DataFrame, lang: str = "it") -> Table:
    """The funnel of contracts (``contratti_analizzati``): in the data = left out by each reason +
    analysed (one additive column)."""
    rows = [(vocab.word("stab_in_data", lang), int(episodes.attrs["n_source"]))]
    rows += [(vocab.word(_EXCLUSION_WORDS.get(r, r), lang) if r in _EXCLUSION_WORDS else r, int(v))
             for r, v in episodes.attrs["excluded"].items()]
    rows.append((vocab.word("stab_analysed", lang), len(episodes)))
    data = pd.DataFrame(rows, columns=["item", "n"])
    return Table("contratti_analizzati", data,
                 [Col("item", *_word_pair("stab_item")),
                  Col("n", "n", "n", role="count", measure="contracts_funnel", unit="contratti")],
                 caption_it="Contratti a tempo determinato nei dati, esclusi per motivo, e analizzati",
                 caption_en="Fixed-term contracts in the data, left out by reason, and analysed",
                 coords=["item"], lines="columns")


def at_risk_table(risk: pd.DataFrame, months, lang: str = "it") -> Table:
    """The number-at-risk series under the incidence chart (``contratti_in_corso``): published
    with the tables (month 0 is the incidence table's contract count, linked), drawn from its
    protected values."""
    r = risk.reset_index(drop=True)
    data = pd.DataFrame(_sub_group_cols(r, lang))
    cols = _label_cols(lang)
    for m in months:
        data[f"m{m}"] = r[f"m{m}"].astype("int64").to_numpy()
        cols.append(Col(f"m{m}", *_word_pair("stab_month_n", n=m), role="count",
                        measure="contracts" if m == 0 else f"running_m{m}", unit="contratti"))
    return Table("contratti_in_corso", data, cols,
                 caption_it="Contratti ancora in corso nei mesi dall'inizio, per gruppo",
                 caption_en="Contracts still running in the months since the start, by group",
                 coords=["subgroup", "group"], by="subgroup", lines="columns")


def tables(a: est.StabilisationAnalysis, lang: str = "it") -> dict:
    """Every table the notebook publishes, by name (unprotected: pass them all to
    ``Report.publish`` with :func:`relations`). ``rapporti_di_rischio`` is absent without a Cox
    model; ``contratti_in_corso`` is the chart's number-at-risk series (published, not shown as
    a table)."""
    out = {"trasformazioni_per_gruppo": incidence_table(a.incidence, lang)}
    if a.cox is not None:
        out["rapporti_di_rischio"] = cox_table(a.cox, lang)
    out["trasformazioni_per_anno_di_contratto"] = rates_table(a.rates, lang)
    out["persone_tempo_indeterminato"] = people_table(a.people, lang)
    out["tempo_indeterminato_per_anno"] = routes_table(a.routes_year, lang)
    out["tempo_indeterminato_per_trimestre"] = routes_table(a.routes_quarter, lang)
    out["trasformazioni_per_azienda"] = employers_table(a.employers, lang)
    out["contratti_analizzati"] = exclusions_table(a.episodes, lang)
    if a.at_risk is not None:
        out["contratti_in_corso"] = at_risk_table(a.at_risk, a.risk_months, lang)
    return out


def relations(a: est.StabilisationAnalysis, t: dict) -> list:
    """The additive lines across tables, as lists of cell identities (``Table.cell_id``):

    * each year's permanent contracts (at hire, by conversion, total) = the sum of its quarters;
    * the contracts analysed (funnel) = the incidence table's "all" contracts (an equality: one
      withheld means both are);
    * each pooled Cox level ("Altri (pochi casi)"): its contracts and conversions = the sum of
      the incidence table's groups it pools.
    """
    out = []
    year, quarter = t["tempo_indeterminato_per_anno"], t["tempo_indeterminato_per_trimestre"]
    qy = a.routes_quarter["period"].astype(str).str[:4].to_numpy()
    for i, p in enumerate(a.routes_year["period"].astype(str)):
        rows = np.flatnonzero(qy == p)
        if len(rows) == 0:
            continue
        for c in ("at_hire", "by_conversion", "total"):
            out.append([year.cell_id(i, c)] + [quarter.cell_id(j, c) for j in rows])
    inc = t["trasformazioni_per_gruppo"]
    all_row = np.flatnonzero(a.incidence["subgroup"].to_numpy() == "all")
    funnel = t["contratti_analizzati"]
    if len(all_row):
        out.append([funnel.cell_id(len(funnel.data) - 1, "n"), inc.cell_id(int(all_row[0]), "n")])
    cox = t.get("rapporti_di_rischio")
    if cox is not None:
        hr = a.cox.hr_table_.reset_index(drop=True)
        pooled = getattr(a.cox, "pooled_", {})
        for i, (c, lev) in enumerate(zip(hr["covariate"], hr["level"])):
            if lev != est.OTHER or c not in pooled:
                continue
            sub = a.incidence["subgroup"].to_numpy() == c
            members = [j for j in np.flatnonzero(sub) if str(a.incidence.at[j, "group"]) in pooled[c]]
            for ck, ik in (("n", "n"), ("events", "conversions")):
                out.append([cox.cell_id(i, ck)] + [inc.cell_id(j, ik) for j in members])
    return out


# ------------------------------------------------------------------------------------ records


def _key_part(column: str, value) -> str:
    """``column=value`` safe for a result key (accents dropped, spaces and symbols to ``_``)."""
    import re
    import unicodedata

    v = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode("ascii")
    return f"{column}=" + re.sub(r"[^A-Za-z0-9_.+<>-]+", "_", v).strip("_")


def _lab(sub, group, lang) -> str:
    return "" if sub == "all" else f" ({subgroup_name(sub, lang)}: {group_label(sub, group, lang)})"


def record(rep, a: est.StabilisationAnalysis, t: dict) -> int:
    """Write the key estimates to ``results.json`` from the published tables; returns how many.

    Keys (stable across runs): ``conversion_cif__months=12`` and ``...__employer_size=large``;
    ``conversion_rate_per_year__employer_size=micro``; ``conversion_hr__employer_size=micro``;
    ``conversion_logrank_p__by=employer_size`` (and ``_holm``); ``people_permanent_share__months=24``
    and ``...__cohort=2021``; ``permanent_at_hire__year=2023``, ``permanent_by_conversion__year=2023``.
    Each record is linked to its table cell (``record_cell``) or to the counts it rests on, so
    ``results.json`` withholds exactly what the tables withhold.
    """
    n0 = len(rep.records_)
    inc, tinc = a.incidence.reset_index(drop=True), t["trasformazioni_per_gruppo"]
    for i, r in inc.iterrows():
        tail = "" if r["subgroup"] == "all" else "__" + _key_part(r["subgroup"], r["group"])
        for h in _horizons(a.incidence):
            m = int(round(h / _DPM))
            rep.record_cell(tinc, i, f"cif_{h}", f"conversion_cif__months={m}{tail}", unit="share", n_col="n",
                            label_it=f"Contratti a termine trasformati entro {m} mesi{_lab(r['subgroup'], r['group'], 'it')}",
                            label_en=f"Fixed-term contracts converted within {m} months{_lab(r['subgroup'], r['group'], 'en')}")
    rates, trat = a.rates.reset_index(drop=True), t["trasformazioni_per_anno_di_contratto"]
    for i, r in rates.iterrows():
        tail = "" if r["subgroup"] == "all" else "__" + _key_part(r["subgroup"], r["group"])
        n_id, c_id = trat.cell_id(i, "n"), trat.cell_id(i, "conversions")
        rep.record(f"conversion_rate_per_year{tail}", float(r["rate"]), ci=(float(r["lower"]), float(r["upper"])),
                   n=int(r["n"]), unit="per year", base=(n_id, c_id), rests_on=n_id,
                   label_it=f"Trasformazioni per anno di contratto a termine{_lab(r['subgroup'], r['group'], 'it')}",
                   label_en=f"Conversions per contract-year{_lab(r['subgroup'], r['group'], 'en')}")
    if a.cox is not None:
        tcox = t["rapporti_di_rischio"]
        for i, r in a.cox.hr_table_.reset_index(drop=True).iterrows():
            rep.record_cell(tcox, i, "hr", "conversion_hr__" + _key_part(r["covariate"], r["level"]), unit="HR",
                            n_col="n",
                            label_it=f"Rapporto di rischio di trasformazione: {group_label(r['covariate'], r['level'], 'it')} "
                                     f"rispetto a {group_label(r['covariate'], r['reference'], 'it')}",
                            label_en=f"Conversion hazard ratio: {group_label(r['covariate'], r['level'], 'en')} vs "
                                     f"{group_label(r['covariate'], r['reference'], 'en')}")
    tests = a.tests or {}
    for (by, res), p_holm in zip(tests.items(), multiplicity.holm([r.p_value for r in tests.values()])):
        rep.record(f"conversion_logrank_p__by={by}", res.p_value, unit="p",
                   label_it=f"Test log-rank della trasformazione per {subgroup_name(by, 'it').lower()}",
                   label_en=f"Log-rank test of conversion by {subgroup_name(by, 'en').lower()}")
        rep.record(f"conversion_logrank_p_holm__by={by}", p_holm, unit="p",
                   label_it=f"Test log-rank per {subgroup_name(by, 'it').lower()}, corretto (Holm)",
                   label_en=f"Log-rank test by {subgroup_name(by, 'en').lower()}, Holm-adjusted")
    people, tpeo = a.people.reset_index(drop=True), t["persone_tempo_indeterminato"]
    m = int(round(a.people.attrs["horizon"] / _DPM))
    for i, r in people.iterrows():
        tail = "" if r["subgroup"] == "all" else "__" + _key_part(r["subgroup"], r["group"])
        rep.record_cell(tpeo, i, "share", f"people_permanent_share__months={m}{tail}", unit="share", n_col="n",
                        label_it=f"Persone a tempo indeterminato entro {m} mesi dal primo inserimento"
                                 + ("" if r["subgroup"] == "all" else f" (primo inserimento nel {r['group']})"),
                        label_en=f"People permanent within {m} months of their first placement"
                                 + ("" if r["subgroup"] == "all" else f" (first placed in {r['group']})"))
    routes, tyear = a.routes_year.reset_index(drop=True), t["tempo_indeterminato_per_anno"]
    unit = "year" if a.routes_year.attrs.get("freq", "year") == "year" else "quarter"
    for i, r in routes.iterrows():
        for col, it, en in (("at_hire", "Assunzioni a tempo indeterminato", "Permanent hires"),
                            ("by_conversion", "Trasformazioni a tempo indeterminato", "Conversions to permanent")):
            rep.record_cell(tyear, i, col, f"permanent_{col}__{unit}={r['period']}", unit="contracts",
                            label_it=f"{it}, {r['period']}", label_en=f"{en}, {r['period']}")
    return len(rep.records_) - n0


# ------------------------------------------------------------------------------------ sentences


def _rows_of(a_frame: pd.DataFrame, sub: str) -> np.ndarray:
    return np.flatnonzero(a_frame["subgroup"].to_numpy() == sub)


def describe_incidence(t: Table, which: str = "all", lang: str = "it", k: int = 10) -> str:
    """The headline: how many fixed-term contracts become permanent, and how fast (row "Tutti"
    of the protected incidence table).

    ``which`` is the episode choice of :func:`ixl_eval.cohorts.fixed_term_episodes`: ``"all"``
    speaks of contracts, ``"first"`` of people on their first fixed-term contract.
    """
    i = 0  # the incidence table starts with the "all" row
    hs = [int(c.key[4:]) for c in t.cols if c.role == "estimate" and c.key.startswith("cif_")]
    hs = [h for h in hs if t.value(i, f"cif_{h}") is not None]
    if not hs:
        return present.tr(lang, "Troppo pochi contratti trasformati per stimare quanti diventano a tempo indeterminato.",
                          "Too few conversions to estimate how many contracts become permanent.")
    main = 365 if 365 in hs else hs[0]
    last = hs[-1]
    v = lambda key: _pct100(t.value(i, key), lang)  # noqa: E731 - "24" of "24 su 100"
    lo, hi = v(f"cif_{main}_lower"), v(f"cif_{main}_upper")
    n = _count_text(t, i, "n", lang, k)
    m_main, m_last = months_label(main, lang), months_label(last, lang)
    if which == "first":
        it = (f"Su 100 persone al primo contratto a tempo determinato, {v(f'cif_{main}')} (tra {lo} e {hi}) lo vedono "
              f"trasformato a tempo indeterminato entro {m_main} dall’inizio")
        en = (f"Of 100 people on their first fixed-term contract, {v(f'cif_{main}')} (between {lo} and {hi}) have it "
              f"converted to permanent within {m_main} of the start")
        it_rest = f"; per gli altri il contratto si conclude senza trasformazione o è ancora in corso ({n} persone analizzate)."
        en_rest = f"; for the others it ends without conversion or is still running ({n} people analysed)."
    else:
        it = (f"Su 100 contratti a tempo determinato, {v(f'cif_{main}')} (tra {lo} e {hi}) diventano a tempo "
              f"indeterminato entro {m_main} dall’inizio")
        en = (f"Of 100 fixed-term contracts, {v(f'cif_{main}')} (between {lo} and {hi}) become permanent within "
              f"{m_main} of the start")
        it_rest = f"; gli altri si concludono senza trasformazione o sono ancora in corso ({n} contratti analizzati)."
        en_rest = f"; the others end without conversion or are still running ({n} contracts analysed)."
    if last != main:
        it += f" e {v(f'cif_{last}')} entro {m_last}"
        en += f" and {v(f'cif_{last}')} within {m_last}"
    return present.tr(lang, it + it_rest, en + en_rest)


def describe_groups(t: Table, inc: pd.DataFrame, by: str, horizon_days: int = 365, lang: str = "it",
                    md: bool = True) -> str:
    """Which groups of ``by`` convert most and least within the horizon (groups the protected
    table shows only). ``md``: the sentence is Markdown (group names from data escaped)."""
    esc = md_escape if md else _plain
    col = f"cif_{horizon_days}"
    inc = inc.reset_index(drop=True)
    all_rows = _rows_of(inc, by)
    rows = [i for i in all_rows if t.value(int(i), col) is not None]
    name = subgroup_name(by, lang).lower()
    if len(rows) < 2:
        hidden = [esc(group_label(by, inc.at[int(i), "group"], lang)) for i in all_rows
                  if t.value(int(i), col) is None and t.value(int(i), "n") is None]
        if len(all_rows) >= 2 and hidden:
            # the groups exist, but the protected table withholds their counts: say so, with the
            # names of the groups (never a number the table does not show)
            quoted = [f"«{h}»" if lang == "it" else f"'{h}'" for h in hidden]
            names = quoted[0] if len(quoted) == 1 else (", ".join(quoted[:-1]) + present.tr(lang, " e ", " and ")
                                                        + quoted[-1])
            m = months_label(horizon_days, lang)
            return present.tr(
                lang,
                f"Per {name} le quote entro {m} non sono mostrate, per riservatezza: il numero di contratti di "
                f"{names} è oscurato nella tabella, quindi non c'è un confronto tra gruppi da riportare.",
                f"By {name}, the shares within {m} are not shown, for confidentiality: the number of contracts of "
                f"{names} is withheld in the table, so there is no comparison between groups to report.")
        return present.tr(lang, f"Per {name} non ci sono abbastanza dati per un confronto.",
                          f"By {name}: not enough data for a comparison.")
    vals = [float(t.value(int(i), col)) for i in rows]
    hi, lo = int(rows[int(np.argmax(vals))]), int(rows[int(np.argmin(vals))])

    def part(i):
        v = _per100(t.value(i, col), lang)
        a_, b_ = _pct100(t.value(i, f"{col}_lower"), lang), _pct100(t.value(i, f"{col}_upper"), lang)
        lab = esc(group_label(by, inc.at[i, "group"], lang))
        return present.tr(lang, f"«{lab}» ({v}, tra {a_} e {b_} su 100)", f"'{lab}' ({v}, between {a_} and {b_} in 100)")

    m = months_label(horizon_days, lang)
    return present.tr(lang, f"Entro {m}, per {name}: la quota più alta è in {part(hi)}, la più bassa in {part(lo)}.",
                      f"Within {m}, by {name}: highest in {part(hi)}, lowest in {part(lo)}.")


def describe_test(result, by: str, lang: str = "it", alpha: float = 0.05) -> str:
    """The group comparison in words (log-rank test of the conversion hazard).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> describe_test(SimpleNamespace(statistic=18.2, df=3, p_value=0.0004), "employer_size")
    "Le differenze per dimensione dell'azienda nel ritmo delle trasformazioni sono troppo ampie per essere dovute al caso (test log-rank, p <0,001)."
    """
    name = subgroup_name(by, lang).lower()
    p = render.fmt_p(result.p_value, lang)
    p = p if p.startswith("<") else "= " + p
    if result.p_value < alpha:
        return present.tr(lang, f"Le differenze per {name} nel ritmo delle trasformazioni sono troppo ampie per essere "
                                f"dovute al caso (test log-rank, p {p}).",
                          f"The differences by {name} in the pace of conversions are too large to be chance "
                          f"(log-rank test, p {p}).")
    return present.tr(lang, f"Le differenze per {name} nel ritmo delle trasformazioni potrebbero essere dovute al caso "
                            f"(test log-rank, p {p}): i dati non permettono di dire che un gruppo converta più di un altro.",
                      f"The differences by {name} in the pace of conversions could be chance (log-rank test, p {p}): "
                      f"the data do not show that one group converts more than another.")


def describe_hazard_ratios(t: Table, model, covariate: str, lang: str = "it", md: bool = True) -> str:
    """The Cox hazard ratios of one covariate in words, for the levels the protected table shows."""
    esc = md_escape if md else _plain
    hr = model.hr_table_.reset_index(drop=True)
    rows = [i for i in np.flatnonzero(hr["covariate"].to_numpy() == covariate) if t.value(int(i), "hr") is not None]
    others = [subgroup_name(c, lang).lower() for c in model.covariates if c != covariate]
    if not rows:
        return present.tr(lang, f"Per {subgroup_name(covariate, lang).lower()} i dati sono troppo pochi per un confronto.",
                          f"By {subgroup_name(covariate, lang).lower()}: too few data for a comparison.")
    ref = esc(group_label(covariate, hr.at[int(rows[0]), "reference"], lang))
    parts = []
    for i in map(int, rows):
        x, lo, hi = (render.fmt_num(t.value(i, c), lang, 2) for c in ("hr", "lower", "upper"))
        lab = esc(group_label(covariate, hr.at[i, "level"], lang))
        parts.append(present.tr(lang, f"{x} volte in «{lab}» (tra {lo} e {hi})",
                                f"{x} times the pace of '{ref}' in '{lab}' (between {lo} and {hi})"))
    if lang == "it":
        cond = f"A parità di altre caratteristiche ({', '.join(others)})" if others else "Senza altre variabili nel modello"
        return f"{cond}, il ritmo delle trasformazioni rispetto a «{ref}» è " + "; ".join(parts) + "."
    cond = f"Other characteristics being equal ({', '.join(others)})" if others else "With no other variable in the model"
    return f"{cond}, fixed-term contracts convert at " + "; ".join(parts) + "."


def describe_people(t: Table, people: pd.DataFrame, lang: str = "it") -> str:
    """The people view in words: share permanent within the horizon of the first placement."""
    h = people.attrs["horizon"]
    p = people.reset_index(drop=True)
    i = int(_rows_of(p, "all")[0])
    share = t.value(i, "share")
    if share is None:
        return present.tr(lang, "Troppo poche persone inserite per stimare quante arrivano al tempo indeterminato.",
                          "Too few people placed to estimate how many reach a permanent contract.")
    a_, b_ = _pct100(t.value(i, "lower"), lang), _pct100(t.value(i, "upper"), lang)
    head = present.tr(lang, f"{_per100(share, lang)} (tra {a_} e {b_} su 100)",
                      f"{_per100(share, lang)} (between {a_} and {b_} in 100)")
    pf, n = t.value(i, "permanent_first"), t.value(i, "n")
    first_txt = ""
    if pf is not None and n:  # both published: their ratio gives nothing back
        first_txt = present.tr(lang, f" ({_per100(pf / n, lang)} già al primo contratto)",
                               f" ({_per100(pf / n, lang)} already at their first contract)")
    shown = [j for j in range(len(p)) if p.at[j, "subgroup"] != "all" and t.value(j, "share") is not None]
    last = ""
    if shown:
        j = shown[-1]
        last = present.tr(lang, f"; tra le persone inserite per la prima volta nel {p.at[j, 'group']} sono "
                                f"{_per100(t.value(j, 'share'), lang)}",
                          f"; among people first placed in {p.at[j, 'group']} it is {_per100(t.value(j, 'share'), lang)}")
    m = months_label(h, lang)
    return present.tr(
        lang,
        f"Delle persone inserite al lavoro dal programma, {head} hanno un contratto a tempo indeterminato entro "
        f"{m} dal primo inserimento{first_txt}{last}.",
        f"Of the people the programme placed in work, {head} hold a permanent contract within {m} "
        f"of their first placement{first_txt}{last}.",
    )


def describe_routes(t: Table, routes: pd.DataFrame, lang: str = "it", k: int = 10) -> str:
    """The year view in words: last complete year's split, the record year of conversions, and the
    share hired permanent from the start in the running year against the previous one — each
    only when the protected table shows what it rests on."""
    r = routes.reset_index(drop=True)
    shown = lambda i, *cols: all(t.value(i, c) is not None for c in cols)  # noqa: E731
    fmt = lambda i, c: render.fmt_num(t.value(i, c), lang)  # noqa: E731
    full = np.flatnonzero(r["complete"].to_numpy())
    if not len(full):
        return ""
    out = []
    i = int(full[-1])
    per = r.at[i, "period"]
    if shown(i, "at_hire", "by_conversion", "total"):
        out.append(present.tr(
            lang,
            f"Nel {per} i nuovi contratti a tempo indeterminato sono stati {fmt(i, 'total')}: "
            f"{fmt(i, 'by_conversion')} per trasformazione di un contratto a termine e {fmt(i, 'at_hire')} "
            f"assunzioni dirette a tempo indeterminato.",
            f"In {per} there were {fmt(i, 'total')} new permanent contracts: {fmt(i, 'by_conversion')} "
            f"from converting a fixed-term contract and {fmt(i, 'at_hire')} hired permanent from the start."))
    j = int(full[int(np.argmax(r["by_conversion"].to_numpy()[full]))])
    if shown(j, "by_conversion"):
        out.append(present.tr(lang, f"L’anno con più trasformazioni è stato il {r.at[j, 'period']} ({fmt(j, 'by_conversion')}).",
                              f"The year with most conversions was {r.at[j, 'period']} ({fmt(j, 'by_conversion')})."))
    running = np.flatnonzero(~r["complete"].to_numpy())
    if len(running):
        q = int(running[-1])
        now, before = t.value(q, "share_by_conversion"), t.value(i, "share_by_conversion")
        if now is not None and before is not None:
            out.append(present.tr(
                lang,
                f"Nel {r.at[q, 'period']} finora {_per100(1 - now, lang)} nuovi contratti a tempo indeterminato sono "
                f"assunzioni dirette ({_per100(1 - before, lang)} nel {per}).",
                f"In {r.at[q, 'period']} so far, {_per100(1 - now, lang)} new permanent contracts are hires permanent "
                f"from the start ({_per100(1 - before, lang)} in {per})."))
    return " ".join(out)


def describe_employers(t: Table, emp: pd.DataFrame, lang: str = "it", md: bool = True) -> str:
    """The employer view in words: how many employers are shown, the spread, the consent rules.
    Employer names (from the data and the parameters) are escaped when ``md``."""
    esc = md_escape if md else _plain
    h = emp.attrs["horizon"]
    kmin = emp.attrs.get("min_contracts", 10)
    e = emp.reset_index(drop=True)
    single = (e["employers"] == 1).to_numpy()
    if not single.any():
        return present.tr(lang, f"Nessuna azienda ha almeno {kmin} contratti a tempo determinato: nessun dato per azienda.",
                          f"No employer has at least {kmin} fixed-term contracts: no employer-level figures.")
    cif = [t.value(i, "cif") for i in np.flatnonzero(single)]
    cif = [float(x) for x in cif if x is not None]
    rest = e.loc[e["kind"] == "other", "employers"]
    rest_txt = present.tr(lang, f" (le altre {int(rest.iloc[0])} sono raggruppate)",
                          f" (the other {int(rest.iloc[0])} are pooled)") if len(rest) else ""
    spread = ""
    if len(cif) >= 2:
        lo_, hi_ = _pct100(min(cif), lang), _pct100(max(cif), lang)
        m = months_label(h, lang)
        spread = present.tr(lang, f": la quota di contratti trasformati entro {m} va da {lo_} a {hi_} su 100",
                            f": the share converted within {m} ranges from {lo_} to {hi_} in 100")
    n_single = int(single.sum())
    out = [present.tr(lang, f"Sono mostrate {n_single} aziende con almeno {kmin} contratti a tempo determinato{rest_txt}{spread}.",
                      f"{n_single} employers with at least {kmin} fixed-term contracts are shown{rest_txt}{spread}.")]
    n_named = int((e["kind"] == "named").sum())
    if n_named:
        out.append(present.tr(lang, f"Il nome compare solo per le aziende che hanno dato il consenso ({n_named}); le altre "
                                    "sono indicate con una lettera.",
                              f"Names appear only for employers that consented ({n_named}); the others are shown as a "
                              "letter."))
    else:
        out.append(present.tr(lang, "Nessuna azienda mostrata ha dato il consenso a comparire con il nome: sono indicate "
                                    "con una lettera.",
                              "No employer shown consented to be named: they are shown as a letter."))
    if emp.attrs.get("consent_not_found"):
        out.append(present.tr(lang, "Nessuna azienda con questo nome nei dati: ", "No employer with this name in the data: ")
                   + ", ".join(esc(x) for x in emp.attrs["consent_not_found"]) + ".")
    if emp.attrs.get("consented_not_shown"):
        out.append(present.tr(lang, "Aziende con consenso ma troppo pochi contratti per essere mostrate: ",
                              "Consenting employers with too few contracts to be shown: ")
                   + ", ".join(esc(x) for x in emp.attrs["consented_not_shown"]) + ".")
    return " ".join(out)


def _main_horizon(a) -> int:
    return 365 if 365 in a.horizons_days else a.horizons_days[0]


def summary_sentences(a: est.StabilisationAnalysis, t: dict, lang: str = "it", k: int = 10) -> list:
    """The "In breve" sentences (plain text: ``Report.summary`` escapes them as HTML)."""
    inc = t["trasformazioni_per_gruppo"]
    out = [describe_incidence(inc, a.which, lang, k), describe_people(t["persone_tempo_indeterminato"], a.people, lang)]
    if "employer_size" in set(a.incidence["subgroup"]):
        out.append(describe_groups(inc, a.incidence, "employer_size", _main_horizon(a), lang, md=False))
    out.append(describe_routes(t["tempo_indeterminato_per_anno"], a.routes_year, lang, k))
    return [s for s in out if s]


def groups_paragraph(a: est.StabilisationAnalysis, t: dict, lang: str = "it") -> str:
    """One Markdown bullet per subgroup: highest and lowest share converted, and the log-rank test."""
    h = _main_horizon(a)
    lines = []
    for by in dict.fromkeys(a.incidence["subgroup"]):
        if by == "all":
            continue
        line = describe_groups(t["trasformazioni_per_gruppo"], a.incidence, by, h, lang, md=True)
        if by in a.tests:
            line += " " + describe_test(a.tests[by], by, lang)
        lines.append("- " + line)
    if len(a.tests) > 1:  # several subgroups tested at once: say how many, and what survives Holm
        lines.append("\n" + words.tests_sentence([r.p_value for r in a.tests.values()], lang))
    return "\n".join(lines)


def rates_paragraph(a: est.StabilisationAnalysis, t: dict, lang: str = "it") -> str:
    """What the conversions per 100 contract-years measure, and why that number is larger than the
    share converted within 12 months (the headline measure), with one group's two numbers side by
    side when both protected tables show them."""
    L = lambda it, en: present.tr(lang, it, en)  # noqa: E731
    h = _main_horizon(a)
    m = months_label(h, lang)
    out = L(f"La tabella che segue misura il ritmo, non una quota: conta le trasformazioni ogni 100 anni di contratto "
            f"a termine in corso (un contratto in corso per sei mesi conta mezzo anno). Molti contratti finiscono "
            f"prima di un anno, quindi questo numero è più alto della quota di contratti trasformati entro {m}, che "
            f"resta la misura principale di questo rapporto.",
            f"The next table measures a pace, not a share: it counts conversions per 100 years of fixed-term contracts "
            f"running (a contract running for six months counts as half a year). Many contracts end before a year, "
            f"so this number is higher than the share of contracts converted within {m}, which remains this report's "
            f"main measure.")
    rt, inc_t = t["trasformazioni_per_anno_di_contratto"], t["trasformazioni_per_gruppo"]
    r, inc = a.rates.reset_index(drop=True), a.incidence.reset_index(drop=True)
    best = None
    for i in range(len(r)):
        rate = rt.value(i, "rate_per_100")
        if rate is None:
            continue
        j = [int(x) for x in _rows_of(inc, r.at[i, "subgroup"]) if inc.at[int(x), "group"] == r.at[i, "group"]]
        share = inc_t.value(j[0], f"cif_{h}") if j else None
        if share is not None and (best is None or rate > best[0]):
            best = (rate, share, group_label(r.at[i, "subgroup"], r.at[i, "group"], lang))
    if best is not None:
        rate, share, lab = best
        out += " " + L(f"Per esempio, in «{md_escape(lab)}»: {render.fmt_num(rate, lang)} trasformazioni ogni 100 anni "
                       f"di contratto, ma solo {_pct100(share, lang)} contratti su 100 trasformati entro {m}.",
                       f"For example, in '{md_escape(lab)}': {render.fmt_num(rate, lang)} conversions per 100 "
                       f"contract-years, but only {_pct100(share, lang)} contracts in 100 converted within {m}.")
    return out


def cox_paragraph(a: est.StabilisationAnalysis, t: dict, lang: str = "it") -> str:
    """The Cox model in Markdown: what a hazard ratio is, the employer-size ratios, pooled levels
    (names escaped), the proportional-hazards check."""
    L = lambda it, en: present.tr(lang, it, en)  # noqa: E731
    if a.cox is None:
        return L("Troppo poche trasformazioni per un modello che confronti i gruppi a parità di condizioni.",
                 "Too few conversions for a model comparing groups other things being equal.")
    out = [L("Il rapporto di rischio (HR) confronta il ritmo con cui i contratti ancora in corso vengono trasformati: "
             "1 vuol dire stesso ritmo del gruppo di confronto, 2 il doppio, 0,5 la metà; l'intervallo dice quanto la "
             "stima è incerta.",
             "The hazard ratio (HR) compares the pace at which contracts still running are converted: 1 means the same "
             "pace as the comparison group, 2 twice, 0.5 half; the interval says how uncertain the estimate is.")]
    if "employer_size" in a.cox.covariates:
        out.append(describe_hazard_ratios(t["rapporti_di_rischio"], a.cox, "employer_size", lang, md=True))
    pooled = getattr(a.cox, "pooled_", {})
    if pooled:
        items = "; ".join(f"{subgroup_name(c, lang).lower()}: {', '.join(md_escape(group_label(c, v, lang)) for v in levels)}"
                          for c, levels in pooled.items())
        out.append(L(f"Gruppi con meno di 5 trasformazioni, riuniti in «Altri (pochi casi)» o, se senza alcuna "
                     f"trasformazione, con il gruppo di confronto: {items}".rstrip(".") + ".",
                     f"Groups with fewer than 5 conversions, pooled into 'Others (few cases)' or, with no conversion "
                     f"at all, into the comparison group: {items}".rstrip(".") + "."))
    try:
        ph = a.cox.ph_test()
    except Exception:  # noqa: BLE001 - the check is advisory; a failure must not stop the report
        ph = None
    if ph is not None:
        bad = [subgroup_name(c, lang).lower() for c in ph.loc[ph["violated"], "covariate"]]
        out.append(L("Controllo dell'ipotesi di rischi proporzionali: nessun problema rilevato." if not bad else
                     f"Attenzione: per {', '.join(bad)} il rapporto tra i ritmi sembra cambiare nel corso del contratto "
                     "(test sui residui di Schoenfeld); leggere quei rapporti come una media sul periodo.",
                     "Proportional-hazards check: no problem found." if not bad else
                     f"Caution: for {', '.join(bad)} the ratio of paces seems to change over the contract (Schoenfeld "
                     "residual test); read those ratios as an average over time."))
    return " ".join(out)


def caveats_text(a: est.StabilisationAnalysis, lang: str = "it") -> str:
    """The "Come leggere questi risultati" block (paragraphs separated by blank lines)."""
    first = a.which == "first"
    hs = [int(round(h / _DPM)) for h in a.horizons_days]
    h_it = ", ".join(map(str, hs[:-1])) + (" o " if len(hs) > 1 else "") + str(hs[-1])
    h_en = ", ".join(map(str, hs[:-1])) + (" or " if len(hs) > 1 else "") + str(hs[-1])
    if lang == "it":
        return "\n\n".join([
            "Ogni contratto a tempo determinato mediato dal programma è seguito dalla data di inizio. Può finire in "
            "due modi: trasformato a tempo indeterminato nella stessa azienda, oppure concluso senza trasformazione. "
            "I contratti ancora in corso alla data di analisi contano fino a quel giorno (dato «censurato»).",
            ("Si considera il primo contratto a tempo determinato di ogni persona. " if first else
             "Si considerano tutti i contratti a tempo determinato: una persona può contare più volte, e gli "
             "intervalli ne tengono conto. ")
            + f"La quota trasformata entro {h_it} mesi è stimata con il metodo di Aalen–Johansen, che tiene conto "
            "dei contratti che finiscono prima di poter essere trasformati; «–» indica un periodo non ancora "
            "osservabile con i dati disponibili.",
            "I confronti tra gruppi (test log-rank e modello di Cox) riguardano il ritmo delle trasformazioni e "
            "mostrano associazioni, non cause: un'azienda grande può trasformare di più per il tipo di lavoro, non per "
            "la dimensione in sé. Differenze piccole o su pochi contratti possono essere dovute al caso.",
            "Si vedono solo i contratti registrati dal programma: un contratto a tempo indeterminato trovato altrove non "
            "compare. Nella vista per persona, chi ha lasciato il programma resta nel conteggio: se ha trovato un "
            "contratto stabile altrove la quota è sottostimata.",
            "Per riservatezza i numeri sotto la soglia sono mostrati come «<k» e le aziende sono indicate per nome solo "
            "se hanno dato il consenso; le altre sono «Azienda A», «Azienda B»... e compaiono solo se hanno almeno k "
            "contratti. Dettagli: docs/caveats/stabilizzazione.md.",
            "Glossario. Dato censurato: contratto ancora in corso alla data di analisi, di cui non si sa ancora come "
            "finirà. Metodo di Aalen–Johansen: stima la quota di contratti trasformati entro una data tenendo conto "
            "di quelli che finiscono prima. Intervallo al 95% («tra X e Y»): i valori compatibili con i dati. Test "
            "log-rank: verifica se i gruppi si trasformano a ritmi diversi; valore p: quanto sarebbe probabile una "
            "differenza almeno così grande se i gruppi fossero uguali (sotto 0,05 la si considera difficilmente "
            "dovuta al caso). Correzione di Holm: rende più severo il valore p quando si fanno molti test insieme. "
            "Modello di Cox: confronta i ritmi dei gruppi a parità delle altre caratteristiche; rapporto di rischio "
            "(HR): quante volte più veloce (sopra 1) o più lento (sotto 1) è il ritmo rispetto al gruppo di "
            "confronto. Residui di Schoenfeld: il controllo che il rapporto tra i ritmi resti simile nel tempo. Anni "
            "di contratto: la somma dei periodi in cui i contratti sono in corso (un contratto di sei mesi conta "
            "mezzo anno).",
        ])
    return "\n\n".join([
        "Each fixed-term contract mediated by the programme is followed from its start. It can end in two ways: "
        "converted to permanent at the same employer, or ended without conversion. Contracts still running at the "
        "cut-off count up to that day ('censored').",
        ("Each person's first fixed-term contract is analysed. " if first else
         "Every fixed-term contract is analysed: a person can count more than once, and the intervals allow for it. ")
        + f"The share converted within {h_en} months is the Aalen–Johansen estimate, which accounts for contracts "
        "ending before they could be converted; '–' marks a period not yet observable with the data available.",
        "Comparisons between groups (log-rank test and Cox model) are about the pace of conversion and show "
        "associations, not causes: a large employer may convert more because of the kind of work, not its size. Small "
        "differences, or differences on few contracts, may be chance.",
        "Only contracts recorded by the programme are seen: a permanent contract found elsewhere does not appear. In "
        "the people view, people who left the programme stay in the count: if they found a stable job elsewhere the "
        "share is underestimated.",
        "For confidentiality, numbers below the threshold show as '<k' and employers are named only if they "
        "consented; the others are 'Employer A', 'Employer B'... and appear only with at least k contracts. Details: "
        "docs/caveats/stabilizzazione.md.",
        "Glossary. Censored: a contract still running at the cut-off, whose outcome is not yet known. "
        "Aalen–Johansen method: estimates the share of contracts converted by a time, allowing for those that end "
        "first. 95% interval ('between X and Y'): the values compatible with the data. Log-rank test: checks whether "
        "groups convert at different paces; p-value: how likely a difference at least this large would be if the "
        "groups were alike (below 0.05 it is taken as unlikely to be chance). Holm correction: makes p-values "
        "stricter when many tests are run at once. Cox model: compares the groups' paces with the other "
        "characteristics held equal; hazard ratio (HR): how many times faster (above 1) or slower (below 1) the "
        "pace is than the comparison group's. Schoenfeld residuals: the check that the ratio of paces stays similar "
        "over time. Contract-years: the sum of the time contracts are running (a six-month contract counts as half "
        "a year).",
    ])


# ------------------------------------------------------------------------------------ figures


def _xmax(upper) -> float:
    """Right end of a 0–100 share axis: a little past the largest upper limit shown."""
    upper = np.asarray(upper, dtype=float)
    top = np.nanmax(upper) * 100 if upper.size and np.isfinite(upper).any() else 100.0
    return float(min(100.0, 10 * np.ceil(top * 1.1 / 10)))


def _ci_dots(ax, labels, est_, lo, hi, colour):
    y = np.arange(len(labels))[::-1]
    ax.errorbar(est_, y, xerr=[est_ - lo, hi - est_], fmt="o", color=colour, ecolor=colour, capsize=3)
    ax.set_yticks(y, labels)
    return y


def plot_incidence(a: est.StabilisationAnalysis, t: dict, lang: str = "it", k: int = 10):
    """Cumulative incidence of conversion over months since the start, overall and by
    ``a.curve_by``, with 95% bands, and the number still running below (from the protected
    ``contratti_in_corso`` series). A group is drawn only where the incidence table shows its
    estimates, and each curve ends where fewer than ``k`` contracts remain at risk."""
    import matplotlib.pyplot as plt

    months = int(round(max(a.horizons_days) / _DPM))
    tmax = months * _DPM
    inc, tinc = a.incidence.reset_index(drop=True), t["trasformazioni_per_gruppo"]
    first_h = f"cif_{a.horizons_days[0]}"
    risk = t.get("contratti_in_corso")
    rows = [(sub, lev) for sub, lev in zip(a.at_risk["subgroup"], a.at_risk["group"])] if a.at_risk is not None else []
    fig, (ax, tab) = plt.subplots(2, 1, figsize=(9, 6.2), gridspec_kw={"height_ratios": [4, 1.3]}, sharex=True)
    labels = []
    for i, (sub, lev) in enumerate(rows):
        label = vocab.word("all", lang) if sub == "all" else group_label(sub, lev, lang)
        labels.append(label)
        # everyone: black dashed; each group its own colour and line style (never black, never dashed)
        colours = [c for c in present.PALETTE if c != "#000000"]
        styles = [x for x in present.LINESTYLES if x != "--"]
        colour, style = ("#000000", "--") if sub == "all" else (colours[(i - 1) % len(colours)],
                                                                 styles[(i - 1) % len(styles)])
        j = [r for r in range(len(inc)) if inc.at[r, "subgroup"] == sub and str(inc.at[r, "group"]) == str(lev)]
        drawn = bool(j) and all(tinc.status.at[j[0], c] == SHOWN for c in ("n", "conversions", first_h))
        curve = (a.curves or {}).get((sub, lev))
        if not drawn or curve is None:
            ax.plot([], [], color=colour, label=f"{label} ({vocab.word('stab_not_shown', lang)})")
            continue
        keep = (curve["time"].to_numpy() <= tmax) & (curve["n_risk"].to_numpy() >= k)
        x = np.concatenate([[0.0], curve["time"].to_numpy()[keep]]) / _DPM
        y = np.concatenate([[0.0], curve["cif"].to_numpy()[keep]]) * 100
        lo = np.concatenate([[0.0], curve["lower"].to_numpy()[keep]]) * 100
        hi = np.concatenate([[0.0], curve["upper"].to_numpy()[keep]]) * 100
        ax.step(x, y, where="post", color=colour, linestyle=style, label=label, linewidth=2)
        if sub != "all":
            ax.fill_between(x, lo, hi, step="post", color=colour, alpha=0.12, linewidth=0)
    ax.set_ylabel(present.tr(lang, "Trasformati (su 100 contratti)", "Converted (per 100 contracts)"))
    ax.set_title(present.tr(lang, "Contratti a termine trasformati a tempo indeterminato",
                            "Fixed-term contracts converted to permanent"))
    ax.set_xlim(0, months)
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", fontsize=9, handlelength=3.2)
    ticks = list(a.risk_months or [])
    ys = np.arange(len(rows))[::-1]
    if risk is not None:
        for y, i in zip(ys, range(len(rows))):
            for m in ticks:
                tab.text(m, y, render.cell_text(risk, i, f"m{m}", lang, k), ha="center", va="center", fontsize=8)
    tab.set_yticks(ys, labels, fontsize=8)
    tab.set_ylim(-0.6, len(rows) - 0.4)
    tab.tick_params(left=False, pad=22)  # room for the counts at month 0
    tab.grid(False)
    for side in ("top", "right", "left", "bottom"):
        tab.spines[side].set_visible(False)
    tab.set_title(present.tr(lang, "Contratti ancora in corso", "Contracts still running"), fontsize=9, loc="left")
    tab.set_xticks(ticks)
    ax.set_xticks(ticks)
    tab.set_xlabel(present.tr(lang, "Mesi dall'inizio del contratto", "Months since the contract start"))
    fig.tight_layout()
    render.localise_axes(fig, lang)
    return fig


def plot_forest(a: est.StabilisationAnalysis, t: dict, lang: str = "it"):
    """Forest plot of the Cox hazard ratios (log scale) with 95% intervals, for the levels the
    protected Cox table shows."""
    import matplotlib.pyplot as plt

    if a.cox is None:
        fig, ax = plt.subplots(figsize=(6, 1.5))
        ax.set_axis_off()
        ax.text(0.5, 0.5, present.tr(lang, "Nessun modello: troppo poche trasformazioni", "No model: too few conversions"),
                ha="center", va="center")
        return fig
    tc = t["rapporti_di_rischio"]
    s = tc.shown()
    hr = a.cox.hr_table_.reset_index(drop=True)
    ok = s["hr"].notna().to_numpy()
    labels = [f"{subgroup_name(c, lang)}: {group_label(c, lev, lang)} (vs {group_label(c, ref, lang)})"
              for c, lev, ref, o in zip(hr["covariate"], hr["level"], hr["reference"], ok) if o]
    s = s.loc[ok]
    fig, ax = plt.subplots(figsize=(9, 0.38 * len(s) + 1.6))
    if len(s):
        _ci_dots(ax, labels, s["hr"].to_numpy(), s["lower"].to_numpy(), s["upper"].to_numpy(), present.PALETTE[0])
        ax.set_xscale("log")
        lo, hi = float(s["lower"].min()), float(s["upper"].max())
        ticks = [v for v in (0.1, 0.2, 0.25, 0.5, 1, 2, 4, 5, 10) if min(lo, 1) / 1.3 <= v <= max(hi, 1) * 1.3]
        ax.set_xticks(ticks, [render.fmt_num(v, lang, 2 if v < 1 else 0) for v in ticks])
        ax.minorticks_off()
    ax.axvline(1.0, color="#555", linewidth=1)
    ax.set_xlabel(present.tr(lang, "Rapporto di rischio di trasformazione (scala logaritmica)",
                             "Conversion hazard ratio (log scale)"))
    ax.set_title(present.tr(lang, "Chi trasforma più in fretta, a parità di altre condizioni",
                            "Who converts faster, other things being equal"))
    render.localise_axes(fig, lang)
    return fig


def plot_people(a: est.StabilisationAnalysis, t: dict, lang: str = "it"):
    """Share permanent within the horizon of the first placement, by cohort, with intervals, from
    the protected people table: withheld or not yet observable groups are listed, not drawn."""
    import matplotlib.pyplot as plt

    tp = t["persone_tempo_indeterminato"]
    s = tp.shown()
    p = a.people.reset_index(drop=True)
    keep = (p["subgroup"] != "all").to_numpy()
    withheld = np.array([tp.status.at[i, "share"] != SHOWN for i in range(len(p))])[keep]
    s, p = s.loc[keep].reset_index(drop=True), p.loc[keep].reset_index(drop=True)
    ok = s["share"].notna().to_numpy()
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(p) + 1.8))
    why = [vocab.word("stab_not_shown" if w else "stab_not_yet_observable", lang) for w in withheld]
    labels = [str(g) if o else f"{g} ({w})" for g, o, w in zip(p["group"], ok, why)]
    _ci_dots(ax, labels, s["share"].to_numpy() * 100, s["lower"].to_numpy() * 100, s["upper"].to_numpy() * 100,
             present.PALETTE[0])
    h = months_label(a.people.attrs["horizon"], lang)
    ax.set_xlabel(present.tr(lang, f"Su 100 persone: a tempo indeterminato entro {h} dal primo inserimento",
                             f"Per 100 people: permanent within {h} of the first placement"))
    ax.set_title(present.tr(lang, "Arrivare al tempo indeterminato, per anno del primo inserimento",
                            "Reaching a permanent contract, by year of first placement"))
    ax.set_xlim(0, _xmax(s["upper"].to_numpy()[ok]))
    render.localise_axes(fig, lang)
    return fig


def plot_routes(a: est.StabilisationAnalysis, t: dict, lang: str = "it", k: int = 10):
    """Stacked bars per year: permanent at hire and by conversion, from the protected year table;
    a withheld count is not drawn but marked ("<k" or "c")."""
    import matplotlib.pyplot as plt

    ty = t["tempo_indeterminato_per_anno"]
    s = ty.shown()
    r = a.routes_year.reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    x = np.arange(len(r))
    base = np.zeros(len(r))
    parts = (("at_hire", vocab.word("stab_hired_permanent", lang), present.PALETTE[0]),
             ("by_conversion", vocab.word("stab_converted_from_fixed_term", lang), present.PALETTE[1]))
    for col, label, colour in parts:
        v = s[col].to_numpy(dtype=float)
        hidden = np.isnan(v)
        drawn = np.where(hidden, 0.0, v)
        ax.bar(x, drawn, bottom=base, color=colour, label=label, width=0.7)
        for i in np.flatnonzero(hidden):
            ax.text(x[i], base[i] + 0.5, render.mark(int(ty.status.at[i, col]), k), ha="center", va="bottom",
                    fontsize=9, color=present.INK)
        for i in np.flatnonzero(~hidden & (drawn > 0)):
            ax.text(x[i], base[i] + drawn[i] / 2, render.fmt_num(drawn[i], lang), ha="center", va="center",
                    fontsize=9, color="white")
        base = base + drawn
    labels = [p if c else p + "*" for p, c in zip(r["period"], r["complete"])]
    ax.set_xticks(x, labels, rotation=0 if len(x) <= 10 else 90)
    ax.set_ylabel(present.tr(lang, "Nuovi contratti a tempo indeterminato", "New permanent contracts"))
    ax.set_title(present.tr(lang, "Tempo indeterminato: assunzioni dirette e trasformazioni",
                            "Permanent contracts: direct hires and conversions"))
    ax.legend(loc="upper left")
    if not r["complete"].all():
        ax.annotate(present.tr(lang, "* periodo in corso alla data di analisi", "* period still running at the cut-off"),
                    xy=(0, -0.13), xycoords="axes fraction", ha="left", va="top", fontsize=9, color="#555")
    if ty.any_hidden():
        ax.annotate(render.suppression_note(k, lang), xy=(1, -0.13), xycoords="axes fraction", ha="right", va="top",
                    fontsize=7, color="#555", wrap=True)
    render.localise_axes(fig, lang)
    return fig


def plot_employers(a: est.StabilisationAnalysis, t: dict, lang: str = "it"):
    """Share converted within the horizon per employer row, with intervals, from the protected
    employer table: withheld rows are listed, not drawn."""
    import matplotlib.pyplot as plt

    te = t["trasformazioni_per_azienda"]
    s = te.shown()
    ok = s["cif"].notna().to_numpy()
    labels = [lab + ("" if o else f" ({vocab.word('stab_not_shown', lang)})") for lab, o in zip(te.data["employer"], ok)]
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(s) + 1.8))
    _ci_dots(ax, labels, s["cif"].to_numpy() * 100, s["cif_lower"].to_numpy() * 100, s["cif_upper"].to_numpy() * 100,
             present.PALETTE[2])
    h = months_label(a.employers.attrs["horizon"], lang)
    ax.set_xlabel(present.tr(lang, f"Su 100 contratti a tempo determinato: trasformati entro {h}",
                             f"Per 100 fixed-term contracts: converted within {h}"))
    ax.set_title(present.tr(lang, "Trasformazioni per azienda", "Conversions by employer"))
    ax.set_xlim(0, _xmax(s["cif_upper"].to_numpy()[ok]))
    render.localise_axes(fig, lang)
    return fig



# ----------------------------------------------------------------------------------- alt texts
# One sentence per chart: what it shows, from the protected table it is drawn from, and where the
# same numbers are (the image's text alternative; never a copy of its caption).
def _mid_h(a: est.StabilisationAnalysis) -> int:
    hs = sorted(a.horizons_days)
    return hs[len(hs) // 2]


def alt_incidence(a: est.StabilisationAnalysis, t: dict, lang: str = "it") -> str:
    """Alt text of :func:`plot_incidence`: share converted overall and the highest and lowest
    group of ``a.curve_by`` at the middle horizon."""
    tg = t["trasformazioni_per_gruppo"]
    h = _mid_h(a)
    key = f"cif_{h}"
    inc = a.incidence.reset_index(drop=True)
    see = render.see_table(tg, lang)
    hm = months_label(h, lang)
    tot = [i for i in range(len(inc)) if inc.at[i, "subgroup"] == "all"]
    if not tot or tg.value(tot[0], key) is None:
        return see
    txt = present.tr(lang, f"Entro {hm} è trasformato a tempo indeterminato il {render.pct_text(tg.value(tot[0], key), lang)} "
                           "dei contratti a termine",
                     f"Within {hm} {render.pct_text(tg.value(tot[0], key), lang)} of fixed-term contracts are "
                     "converted to permanent")
    grp = [(float(tg.value(i, key)), str(tg.data.at[i, "group"])) for i in range(len(inc))
           if inc.at[i, "subgroup"] == a.curve_by and tg.value(i, key) is not None]
    if len(grp) >= 2:
        grp.sort(reverse=True)
        txt += present.tr(lang, f"; più spesso con «{grp[0][1]}» ({render.pct_text(grp[0][0], lang)}), meno con "
                                f"«{grp[-1][1]}» ({render.pct_text(grp[-1][0], lang)})",
                          f"; most often with “{grp[0][1]}” ({render.pct_text(grp[0][0], lang)}), least with "
                          f"“{grp[-1][1]}” ({render.pct_text(grp[-1][0], lang)})")
    return txt + ". " + see


def alt_forest(a: est.StabilisationAnalysis, t: dict, lang: str = "it") -> str:
    """Alt text of :func:`plot_forest`: the ratio farthest from 1 among those the table shows."""
    if a.cox is None or "rapporti_di_rischio" not in t:  # no model on these data: the chart says so
        return present.tr(lang, "Nessun modello: troppo poche trasformazioni per stimare i rapporti di rischio.",
                          "No model: too few conversions to estimate hazard ratios.")
    tc = t["rapporti_di_rischio"]
    s = tc.shown()
    see = render.see_table(tc, lang)
    ok = s["hr"].notna().to_numpy()
    if a.cox is None or not ok.any():
        return see
    hr = s["hr"].astype(float)
    i = int(np.nanargmax(np.abs(np.log(hr.to_numpy()))))
    clear = int(((s["lower"] > 1) | (s["upper"] < 1)).sum())
    v = render.fmt_num(hr[i], lang, 2)
    return present.tr(lang,
                      f"La differenza più grande è per «{s.at[i, 'group']}» rispetto a «{s.at[i, 'reference']}»: un "
                      f"ritmo di trasformazione {v} volte quello del gruppo di confronto. {clear} gruppi su "
                      f"{int(ok.sum())} hanno un intervallo che non comprende 1.",
                      f"The largest difference is for “{s.at[i, 'group']}” against “{s.at[i, 'reference']}”: a "
                      f"conversion pace {v} times that of the comparison group. {clear} of {int(ok.sum())} groups "
                      "have an interval that excludes 1.") + " " + see


def alt_people(a: est.StabilisationAnalysis, t: dict, lang: str = "it") -> str:
    """Alt text of :func:`plot_people`: the lowest and highest year shown, and the overall share."""
    tp = t["persone_tempo_indeterminato"]
    s = tp.shown()
    p = a.people.reset_index(drop=True)
    h = months_label(a.people.attrs["horizon"], lang)
    see = render.see_table(tp, lang)
    yrs = [(float(s.at[i, "share"]), str(p.at[i, "group"])) for i in range(len(p))
           if p.at[i, "subgroup"] != "all" and pd.notna(s.at[i, "share"])]
    if not yrs:
        return see
    yrs.sort()
    (lo, ylo), (hi, yhi) = yrs[0], yrs[-1]
    return present.tr(lang,
                      f"Su 100 persone inserite, quelle con un contratto a tempo indeterminato entro {h} vanno da "
                      f"{render.fmt_num(100 * lo, lang)} (primo inserimento nel {ylo}) a {render.fmt_num(100 * hi, lang)} "
                      f"(nel {yhi}).",
                      f"Of 100 people placed, those with a permanent contract within {h} range from "
                      f"{render.fmt_num(100 * lo, lang)} (first placed in {ylo}) to {render.fmt_num(100 * hi, lang)} "
                      f"(in {yhi}).") + " " + see


def alt_routes(a: est.StabilisationAnalysis, t: dict, lang: str = "it", k: int = 10) -> str:
    """Alt text of :func:`plot_routes`: the last complete year whose two routes are shown."""
    ty = t["tempo_indeterminato_per_anno"]
    r = a.routes_year.reset_index(drop=True)
    see = render.see_table(ty, lang)
    rows = [i for i in range(len(r)) if bool(r.at[i, "complete"])
            and ty.value(i, "at_hire") is not None and ty.value(i, "by_conversion") is not None]
    if not rows:
        return see
    i = rows[-1]
    y, tot = r.at[i, "period"], render.cell_text(ty, i, "total", lang, k)
    hire, conv = render.cell_text(ty, i, "at_hire", lang, k), render.cell_text(ty, i, "by_conversion", lang, k)
    return present.tr(lang,
                      f"Nel {y} i nuovi contratti a tempo indeterminato sono {tot}: {hire} assunzioni dirette e "
                      f"{conv} trasformazioni di contratti a termine.",
                      f"In {y} there were {tot} new permanent contracts: {hire} direct hires and {conv} conversions "
                      "of fixed-term contracts.") + " " + see


def alt_employers(a: est.StabilisationAnalysis, t: dict, lang: str = "it") -> str:
    """Alt text of :func:`plot_employers`: the range of the shares shown, and how many rows are
    withheld."""
    te = t["trasformazioni_per_azienda"]
    s = te.shown()
    see = render.see_table(te, lang)
    rows = [(float(s.at[i, "cif"]), str(te.data.at[i, "employer"])) for i in range(len(s)) if pd.notna(s.at[i, "cif"])]
    hidden = len(s) - len(rows)
    h = months_label(a.employers.attrs["horizon"], lang)
    if not rows:
        return see
    rows.sort()
    txt = present.tr(lang,
                     f"Tra le aziende mostrate, la quota di contratti trasformati entro {h} va da "
                     f"{render.pct_text(rows[0][0], lang)} ({rows[0][1]}) a {render.pct_text(rows[-1][0], lang)} "
                     f"({rows[-1][1]})",
                     f"Among the employers shown, the share of contracts converted within {h} ranges from "
                     f"{render.pct_text(rows[0][0], lang)} ({rows[0][1]}) to {render.pct_text(rows[-1][0], lang)} "
                     f"({rows[-1][1]})")
    if hidden:
        txt += present.tr(lang, f"; per {hidden} aziende i dati sono troppo pochi per essere mostrati",
                          f"; for {hidden} employers the data are too few to be shown")
    return txt + ". " + see
