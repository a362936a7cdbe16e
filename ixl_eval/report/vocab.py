"""Every reader-facing label, Italian and English, in one place.

Columns, levels of the contract's categorical columns, periods and the common words of the
tables. Presentation modules ask here; estimation modules never need a label. One owner, so
"Aziende della rete IXL" cannot be "Aziende IXL" in another report.

Examples
--------
>>> level("gender", "F"), level("gender", "F", "en"), level("enrolment_year", 2023)
('Donne', 'Women', '2023')
>>> level("channel", "ips"), column("employer_size", "en")
('Metodo IPS', 'Employer size')
>>> quarter("2024Q1"), quarter("2024Q1", "en")
('1° trim. 2024', 'Q1 2024')
>>> word("total"), word("total", "en")
('Totale', 'Total')
"""

from __future__ import annotations

import re

__all__ = ["LEVELS", "COLUMNS", "INDICATORS", "level", "column", "quarter", "word", "tr", "indicator"]

_AGE_BANDS = ("<30", "30-39", "40-49", "50+")

# Levels of categorical columns (it, en); levels not listed (years, sector names) show as they are.
LEVELS: dict[str, dict[str, tuple[str, str]]] = {
    "gender": {"F": ("Donne", "Women"), "M": ("Uomini", "Men"), "X": ("Non binario / n.d.", "Non-binary / n.a.")},
    "citizenship_group": {"IT": ("Italiana", "Italian"), "foreign": ("Straniera", "Foreign")},
    "education": {
        "none_or_compulsory": ("Nessuno o obbligo", "None or compulsory"),
        "vocational_qualification": ("Qualifica professionale", "Vocational qualification"),
        "upper_secondary_diploma": ("Diploma", "Upper-secondary diploma"),
        "degree_or_postgraduate": ("Laurea o post-laurea", "Degree or postgraduate"),
    },
    "age_band": {b: (f"{b} anni", f"{b} years") for b in _AGE_BANDS},
    "interview_format": {
        "individual": ("Individuale", "Individual"),
        "plenary": ("Plenaria", "Plenary"),
        "none": ("Nessun colloquio", "No interview"),
    },
    "contract_type": {
        "fixed_term": ("Tempo determinato", "Fixed-term"),
        "permanent": ("Tempo indeterminato", "Permanent"),
        "internship": ("Stage", "Internship"),
        "on_call": ("A chiamata", "On-call"),
        "traineeship": ("Tirocinio", "Traineeship"),
        "self_employment": ("Autoimpiego", "Self-employment"),
    },
    "channel": {
        "ixl_companies": ("Aziende della rete IXL", "IXL partner companies"),
        "ips": ("Metodo IPS", "IPS method"),
        "ixl_training": ("Formazione IXL", "IXL training"),
        "apl": ("Agenzie per il lavoro", "Employment agencies"),
        "orientation": ("Orientamento", "Orientation"),
        "self_employment": ("Autoimpiego", "Self-employment"),
    },
    "employer_size": {
        "micro": ("Micro (meno di 10 addetti)", "Micro (under 10 staff)"),
        "small": ("Piccola", "Small"),
        "medium": ("Media", "Medium"),
        "large": ("Grande (oltre 250 addetti)", "Large (over 250 staff)"),
    },
    "under_40": {"yes": ("Meno di 40 anni", "Under 40"), "no": ("40 anni e più", "40 and over")},
    "citizenship": {
        "IT": ("Italia", "Italy"), "MA": ("Marocco", "Morocco"), "RO": ("Romania", "Romania"),
        "PK": ("Pakistan", "Pakistan"), "NG": ("Nigeria", "Nigeria"), "UA": ("Ucraina", "Ukraine"),
        "BD": ("Bangladesh", "Bangladesh"), "AL": ("Albania", "Albania"), "TN": ("Tunisia", "Tunisia"),
        "MD": ("Moldavia", "Moldova"), "PH": ("Filippine", "Philippines"), "CN": ("Cina", "China"),
        "SN": ("Senegal", "Senegal"), "GH": ("Ghana", "Ghana"), "LK": ("Sri Lanka", "Sri Lanka"),
        "EG": ("Egitto", "Egypt"), "PE": ("Perù", "Peru"), "IN": ("India", "India"),
        "OTHER": ("Altre cittadinanze", "Other citizenships"),
    },
}

# Reasons a person is left out of a cohort (ixl_eval.cohorts: frame.attrs["excluded"]).
LEVELS["exclusion"] = {
    "enrolled_outside_window": ("Iscritti fuori dal periodo scelto", "Enrolled outside the chosen window"),
    "no_time_zero": ("Senza data di inizio (es. nessun colloquio)", "No start date (e.g. never interviewed)"),
    "time_zero_after_cutoff": ("Inizio dopo la data di analisi", "Start after the cut-off"),
    "withdrawn_before_time_zero": ("Usciti prima della data di inizio", "Withdrew before the start date"),
    "placed_before_time_zero": ("Già inseriti prima della data di inizio", "Placed before the start date"),
}

# Column (characteristic) names.
COLUMNS: dict[str, tuple[str, str]] = {
    "gender": ("Genere", "Gender"),
    "age_band": ("Fascia d'età all'iscrizione", "Age band at enrolment"),
    "under_40": ("Età", "Age"),
    "citizenship_group": ("Cittadinanza", "Citizenship"),
    "citizenship": ("Cittadinanza", "Citizenship"),
    "education": ("Titolo di studio", "Education"),
    "enrolment_year": ("Anno di iscrizione", "Enrolment year"),
    "interview_format": ("Colloquio di accoglienza", "Intake interview"),
    "contract_type": ("Tipo di contratto", "Contract type"),
    "channel": ("Canale", "Channel"),
    "employer_size": ("Dimensione dell'azienda", "Employer size"),
    "sector": ("Settore", "Sector"),
    "year": ("Anno", "Year"),
    "quarter": ("Trimestre", "Quarter"),
    # stabilisation (30_stabilizzazione)
    "first_placement_year": ("Anno del primo inserimento", "Year of first placement"),
    "enrolment_cohort": ("Anno di iscrizione (confronto)", "Enrolment cohort"),
}

# Common words of tables and sentences.
_WORDS: dict[str, tuple[str, str]] = {
    "total": ("Totale", "Total"),
    "all": ("Tutti", "All"),
    "others_few": ("Altri (pochi casi)", "Others (few cases)"),
    "other_employers": ("Altre aziende", "Other employers"),
    "employer": ("Azienda", "Employer"),
    "characteristic": ("Caratteristica", "Characteristic"),
    "group": ("Gruppo", "Group"),
    "compared_with": ("Confronto con", "Compared with"),
    "running": (" (in corso)", " (running)"),
    "people": ("persone", "people"),
    "contracts": ("contratti", "contracts"),
    "p_value": ("Valore p", "p-value"),
    # stabilisation (30_stabilizzazione); "{months}" / "{n}" are filled in by the caller
    "stab_contracts": ("Contratti", "Contracts"),
    "stab_fixed_term_contracts": ("Contratti a tempo determinato", "Fixed-term contracts"),
    "stab_converted": ("Trasformati", "Converted"),
    "stab_ended": ("Conclusi senza trasformazione", "Ended without conversion"),
    "stab_converted_within": ("Trasformati entro {months}", "Converted within {months}"),
    "stab_permanent_within": ("A tempo indeterminato entro {months}", "Permanent within {months}"),
    "stab_people_placed": ("Persone inserite", "People placed"),
    "stab_first_permanent": ("Primo contratto già a tempo indeterminato", "First contract already permanent"),
    "stab_permanent_by_cutoff": ("A tempo indeterminato alla data di analisi", "Permanent by the cut-off"),
    "stab_hired_permanent": ("Assunti a tempo indeterminato", "Hired permanent"),
    "stab_converted_from_fixed_term": ("Trasformati da tempo determinato", "Converted from fixed-term"),
    "stab_share_by_conversion": ("Quota da trasformazione", "Share by conversion"),
    "stab_hazard_ratio": ("Rapporto di rischio (HR)", "Hazard ratio (HR)"),
    "stab_rate_per_100": ("Trasformazioni per 100 anni di contratto (ritmo, non quota)",
                          "Conversions per 100 contract-years (a rate, not a share)"),
    "stab_months": ("{n} mesi", "{n} months"),
    "stab_one_month": ("1 mese", "1 month"),
    "stab_month_n": ("Mese {n}", "Month {n}"),
    "stab_item": ("Voce", "Item"),
    "stab_in_data": ("Contratti a tempo determinato nei dati", "Fixed-term contracts in the data"),
    "stab_started_after_cutoff": ("Contratti iniziati dopo la data di analisi", "Contracts started after the cut-off"),
    "stab_not_first_fixed_term": ("Contratti a termine successivi al primo della persona",
                                  "Fixed-term contracts after the person's first"),
    "stab_started_outside_window": ("Contratti iniziati fuori dal periodo scelto",
                                    "Contracts started outside the chosen window"),
    "stab_analysed": ("Contratti analizzati", "Contracts analysed"),
    "stab_not_shown": ("non mostrato", "not shown"),
    "stab_not_yet_observable": ("non ancora osservabile", "not yet observable"),
    # time to placement (notebook 10)
    "pt_item": ("Voce", "Item"),
    "pt_people": ("Persone", "People"),
    "pt_placements": ("Inserimenti", "Placements"),
    "pt_everyone": ("Tutti", "Everyone"),
    "pt_people_in_data": ("Persone nei dati", "People in the data"),
    "pt_people_analysed": ("Persone analizzate", "People analysed"),
    "pt_of_whom_placed": ("di cui: inserimento lavorativo", "of whom: placed"),
    "pt_of_whom_withdrawn": ("di cui: usciti dal programma senza lavoro", "of whom: withdrew without a job"),
    "pt_of_whom_waiting": ("di cui: ancora in attesa alla data di analisi", "of whom: still waiting at the cut-off"),
    "pt_median_days": ("Giorni mediani (IC 95%)", "Median days (95% CI)"),
    "pt_median_lower": ("Giorni mediani, limite inferiore", "Median days, lower limit"),
    "pt_median_upper": ("Giorni mediani, limite superiore", "Median days, upper limit"),
    "pt_within_days": ("Entro {h} giorni", "Within {h} days"),
    "pt_day": ("Giorno {x}", "Day {x}"),
    "pt_days_since_enrolment": ("Giorni dall'iscrizione", "Days since enrolment"),
    "pt_placed_km": ("Inseriti: 1 − Kaplan–Meier", "Placed: 1 − Kaplan–Meier"),
    "pt_placed_cif": ("Inseriti: incidenza cumulata", "Placed: cumulative incidence"),
    "pt_withdrawn_cif": ("Usciti senza lavoro", "Withdrew without a job"),
    "pt_chi2": ("Chi quadrato", "Chi-square"),
    "pt_dof": ("Gradi di libertà", "Degrees of freedom"),
    "pt_p_holm": ("Valore p corretto (Holm)", "Holm-adjusted p-value"),
    "pt_rmst": ("Giorni medi senza lavoro (IC 95%)", "Mean days without a job (95% CI)"),
    "pt_rmst_diff": ("Differenza dal primo gruppo (IC 95%)", "Difference from the first group (95% CI)"),
    "pt_hr": ("Rapporto dei ritmi HR (IC 95%)", "Hazard ratio (95% CI)"),
    "pt_compared_with": ("Confrontato con", "Compared with"),
    "pt_lower": ("limite inferiore", "lower limit"),
    "pt_upper": ("limite superiore", "upper limit"),
    "pt_before_year": ("Prima del {y}", "Before {y}"),
}


# Programme indicators (ixl_eval.kpi): "15" is the intake-interview target, replaced by the
# parameter's value (vocab.indicator).
INDICATORS: dict[str, tuple[str, str]] = {
    "enrolments": ("Iscritti", "Enrolments"),
    "interviewed": ("Persone con colloquio di accoglienza", "People with an intake interview"),
    "interview_eligible": ("Iscritti da almeno 15 giorni", "Enrolled at least 15 days before the cut-off"),
    "interview_done": ("Iscritti da almeno 15 giorni con colloquio", "Of whom interviewed by the cut-off"),
    "interviewed_within": ("Iscritti con colloquio entro 15 giorni", "Enrolled people interviewed within 15 days"),
    "interviewed_within_share": ("Quota con colloquio entro 15 giorni", "Share interviewed within 15 days"),
    "median_days_to_interview": ("Giorni mediani dall'iscrizione al colloquio", "Median days from enrolment to interview"),
    "placements": ("Inserimenti lavorativi", "Job placements"),
    "permanent": ("Inserimenti a tempo indeterminato", "Permanent placements"),
    "permanent_share": ("Quota a tempo indeterminato", "Permanent share"),
    "persons_placed": ("Persone inserite", "Persons placed"),
    "first_placed": ("Persone inserite per la prima volta", "Persons placed for the first time"),
    "first_placed_share": ("Quota di nuovi candidati tra le persone inserite", "Share of new candidates among persons placed"),
}

# Words of the indicator tables (overview and quarterly monitoring).
_WORDS_KPI: dict[str, tuple[str, str]] = {
    "indicator": ("Indicatore", "Indicator"),
    "period": ("Periodo", "Period"),
    "change": ("Variazione", "Change"),
    "change_points": ("Variazione (punti percentuali)", "Change (percentage points)"),
    "p_single": ("p (singolo confronto)", "p (single comparison)"),
    "p_holm": ("p corretto (Holm)", "p adjusted (Holm)"),
    "year_before": ("anno prima", "year before"),
    "code": ("Codice", "Code"),
    "placements_in_q1": ("Inserimenti nel 1° trimestre", "Placements in Q1"),
    "placements_in_q1_before": ("Inserimenti nel 1° trimestre dell'anno prima", "Placements in Q1 of the year before"),
    "change_on_year_before": ("Variazione sull'anno prima", "Change on the year before"),
    "of_which_permanent": ("Di cui a tempo indeterminato", "Of which permanent"),
    "of_which_permanent_before": ("Di cui a tempo indeterminato, anno prima", "Of which permanent, year before"),
    "change_permanent": ("Variazione (indeterminato)", "Change (permanent)"),
    "days": ("giorni", "days"),
}
_WORDS.update(_WORDS_KPI)
# ---- IPS effectiveness (notebook 20_efficacia_ips, presented by ixl_eval.report.ips)
LEVELS["ips_outcome"] = {
    "placed_6m": ("Inserimento entro 6 mesi", "Placed within 6 months"),
    "placed_12m": ("Inserimento entro 12 mesi", "Placed within 12 months"),
    "hazard_ratio": ("Rapidità dell'inserimento (hazard ratio)", "Speed of placement (hazard ratio)"),
    "permanent_12m": ("Contratto a tempo indeterminato entro 12 mesi", "Permanent contract within 12 months"),
    "contracts_rate": ("Contratti per anno di osservazione (rapporto)", "Contracts per year of follow-up (ratio)"),
}
LEVELS["ips_method"] = {
    "naive": ("Confronto grezzo", "Raw comparison"),
    "iptw": ("Ponderazione (IPTW)", "Weighting (IPTW)"),
    "matching": ("Abbinamento", "Matching"),
}
LEVELS["ips_group"] = {"treated": ("IPS", "IPS"), "comparison": ("Confronto", "Comparison")}
LEVELS["ips_exclusion"] = {
    "candidates": ("Persone di partenza", "People to start from"),
    "ips_before_enrolment": ("IPS proposto o avviato prima dell'iscrizione", "IPS offered or started before enrolment"),
    "declined_offer": ("Hanno rifiutato la proposta (solo confronto sulla presa in carico)",
                       "Declined the offer (start contrast only)"),
    "accepted_not_started": ("Proposta accettata ma IPS non ancora avviato", "Offer accepted but IPS not started yet"),
    "withdrawn_before_time_zero": ("Usciti dal programma prima della data indice", "Left the programme before the index date"),
    "placed_before_time_zero": ("Già inseriti prima della data indice", "Already placed before the index date"),
    "time_zero_after_cutoff": ("Data indice dopo la data di analisi", "Index date after the cut-off"),
    "index_before_ips_available": ("Data indice prima che IPS fosse disponibile (prima proposta nei dati)",
                                   "Index date before IPS was available (first offer in the data)"),
    "analysed": ("Persone analizzate", "People analysed"),
}
# why an IPS estimate is inconclusive ({m}: fewest people per group, {b}: balance threshold)
LEVELS["ips_inconclusive"] = {
    "too_few": ("in uno dei due gruppi ci sono meno di {m} persone", "one of the two groups has fewer than {m} people"),
    "not_balanced": ("i due gruppi restano diversi in almeno una caratteristica (differenza standardizzata oltre {b})",
                     "the two groups still differ in at least one characteristic (standardised difference above {b})"),
    "not_estimable": ("il periodo di osservazione non basta per stimarlo", "follow-up is too short to estimate it"),
    "unadjusted": ("è un confronto grezzo, senza tener conto delle differenze tra i gruppi",
                   "it is a raw comparison that ignores differences between the groups"),
}
# what each IPS estimate estimates (codes of ips.ESTIMANDS and of the "estimand"/"scale" fields)
LEVELS["ips_estimand"] = {
    "ITT": ("effetto della proposta (ITT)", "effect of the offer (ITT)"),
    "ATT": ("effetto dell'avvio, tra chi ha iniziato (ATT)", "effect of starting, among starters (ATT)"),
    "crude": ("confronto grezzo", "raw comparison"),
}
LEVELS["ips_estimand_record"] = {
    "ITT": ("effetto della proposta (ITT)", "effect of the offer (ITT)"),
    "ATT": ("effetto dell'avvio tra chi ha iniziato (ATT)", "effect of starting among starters (ATT)"),
    "crude": ("confronto grezzo", "raw comparison"),
}
LEVELS["ips_estimand_contrast"] = {
    "offer": ("l'effetto di ricevere la proposta di IPS (tra chi l'ha ricevuta, anche chi ha rifiutato: "
              "«intenzione di trattare»)",
              "the effect of being offered IPS (among those offered, including those who declined: "
              "intention to treat)"),
    "start": ("l'effetto di iniziare IPS, tra chi lo ha iniziato (effetto medio sui trattati)",
              "the effect of starting IPS, among those who started (average effect on the treated)"),
}
LEVELS["ips_scale"] = {
    "risk_difference": ("differenza di incidenza cumulata", "difference in cumulative incidence"),
    "risk_ratio": ("rapporto di incidenza cumulata", "ratio of cumulative incidence"),
    "marginal_hazard_ratio": ("hazard ratio marginale", "marginal hazard ratio"),
    "marginal_rate_ratio": ("rapporto dei tassi marginale", "marginal rate ratio"),
}
COLUMNS["ips_what"] = ("Che cosa stima", "What it estimates")
COLUMNS["months_since_enrolment"] = ("Mesi dall'iscrizione", "Months since enrolment")
COLUMNS["ips_year_offered"] = ("Anno della proposta", "Year offered")
COLUMNS["ips_offered"] = ("Proposte", "Offered")
COLUMNS["ips_declined"] = ("Rifiutate", "Declined")
COLUMNS["ips_accepted_not_started"] = ("Accettate, non avviate", "Accepted, not started")
COLUMNS["ips_taken_in_charge"] = ("Prese in carico", "Taken in charge")
COLUMNS["ips_employed_during_ips"] = ("Con un lavoro durante IPS", "Employed during IPS")
COLUMNS["ips_share_employed"] = ("Quota con un lavoro", "Share employed")
COLUMNS["ips_contracts_signed"] = ("Contratti firmati", "Contracts signed")
COLUMNS["ips_contracts_per_employed"] = ("Contratti per persona occupata", "Contracts per employed person")
COLUMNS["ips_group"] = ("Gruppo", "Group")
COLUMNS["ips_item"] = ("Voce", "Item")
COLUMNS["ips_people"] = ("Persone", "People")
COLUMNS["ips_outcome"] = ("Esito", "Outcome")
COLUMNS["ips_method"] = ("Metodo", "Method")
COLUMNS["ips_estimate"] = ("Stima (IC 95%)", "Estimate (95% CI)")
COLUMNS["ips_ci_low"] = ("Limite inferiore (IC 95%)", "Lower limit (95% CI)")
COLUMNS["ips_ci_high"] = ("Limite superiore (IC 95%)", "Upper limit (95% CI)")
COLUMNS["ips_n_treated"] = ("Persone IPS", "IPS people")
COLUMNS["ips_n_control"] = ("Persone di confronto", "Comparison people")
COLUMNS["ips_note"] = ("Nota", "Note")
COLUMNS["ips_characteristic"] = ("Caratteristica", "Characteristic")
COLUMNS["ips_smd_before"] = ("Diff. std. prima", "Std. diff. before")
COLUMNS["ips_smd_weighted"] = ("Dopo ponderazione", "After weighting")
COLUMNS["ips_smd_matched"] = ("Dopo abbinamento", "After matching")
COLUMNS["ips_var_ratio"] = ("Rapporto varianze (pond.)", "Variance ratio (weighted)")
COLUMNS["ips_months"] = ("Mesi dalla data indice", "Months since the index date")
COLUMNS["ips_at_risk"] = ("Persone ancora osservate", "People still followed")
_WORDS.update({
    "ips_inconclusive": ("non conclusivo", "inconclusive"),
    "ips_difference": (" — differenza (punti percentuali)", " — difference (percentage points)"),
    "ips_ratio": (" (rapporto)", " (ratio)"),
})


def tr(lang: str, it: str, en: str) -> str:
    """Pick the text for the report language."""
    return it if lang == "it" else en


def level(col: str, value, lang: str = "it") -> str:
    """Reader-facing name of a level of a categorical column."""
    if str(value) == "other":
        return word("others_few", lang)
    pair = LEVELS.get(col, {}).get(str(value))
    if pair is None:
        return str(value)
    return pair[0] if lang == "it" else pair[1]


def column(col: str, lang: str = "it") -> str:
    """Reader-facing name of a column (a characteristic)."""
    pair = COLUMNS.get(col)
    if pair is None:
        return col
    return pair[0] if lang == "it" else pair[1]


def word(key: str, lang: str = "it", **fmt) -> str:
    """A common word of the tables (``fmt`` fills its ``{placeholders}``: ``word("pt_day", x=90)``)."""
    it, en = _WORDS[key]
    s = it if lang == "it" else en
    return s.format(**fmt) if fmt else s


def quarter(label: str, lang: str = "it") -> str:
    """A quarter "2024Q1" as readers write it: "1° trim. 2024" / "Q1 2024"."""
    m = re.fullmatch(r"(\d{4})Q([1-4])", str(label))
    if not m:
        return str(label)
    y, q = m.groups()
    return f"{q}° trim. {y}" if lang == "it" else f"Q{q} {y}"


def indicator(name: str, lang: str = "it", days: int = 15) -> str:
    """Reader-facing name of a programme indicator; the interview ones name the target days.

    >>> indicator("interviewed_within_share", "en", days=10)
    'Share interviewed within 10 days'
    """
    it, en = INDICATORS[name]
    text = it if lang == "it" else en
    return text.replace("15", str(days)) if name.startswith("interview") else text
