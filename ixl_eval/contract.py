"""The data contract: IXL's administrative extract as four tables plus extract metadata.

This module is the single definition of tables, columns, types, allowed values and rules.
:mod:`ixl_eval.validate` enforces it and ``docs/data-contract.md`` is generated from it
(``ixl-eval contract docs``; a test keeps the file current). Column names are fixed: partners'
data teams export to them. Extra columns are allowed and kept, but never shown in outputs.

Examples
--------
>>> from ixl_eval.contract import TABLES
>>> [c.name for c in TABLES["interviews"].columns]
['participant_id', 'interviewed_on', 'format']
>>> TABLES["participants"].column("gender").allowed
('F', 'M', 'X')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "Column",
    "Table",
    "Rule",
    "TABLES",
    "TABLE_ORDER",
    "EXTRACT_FIELDS",
    "RULES",
    "IDENTIFIER_COLUMNS",
    "GENDERS",
    "EDUCATION_LEVELS",
    "PROGRAMMES",
    "DECISIONS",
    "INTERVIEW_FORMATS",
    "EMPLOYER_SIZES",
    "CONTRACT_TYPES",
    "CHANNELS",
]

Kind = Literal["str", "date", "int", "category"]

GENDERS = ("F", "M", "X")
EDUCATION_LEVELS = (
    "none_or_compulsory",
    "vocational_qualification",
    "upper_secondary_diploma",
    "degree_or_postgraduate",
)
INTERVIEW_FORMATS = ("individual", "plenary")
PROGRAMMES = ("ips", "training", "self_employment", "orientation")
DECISIONS = ("accepted", "declined")
EMPLOYER_SIZES = ("micro", "small", "medium", "large")
CONTRACT_TYPES = ("fixed_term", "permanent", "internship", "on_call", "traineeship", "self_employment")
CHANNELS = ("ixl_companies", "ips", "ixl_training", "apl", "orientation", "self_employment")


@dataclass(frozen=True)
class Column:
    """One column of a table.

    ``kind`` is the logical type: ``str`` (free text / identifier), ``date`` (calendar day, ISO
    ``yyyy-mm-dd`` or Italian ``dd/mm/yyyy`` in CSV), ``int`` or ``category`` (one of ``allowed``).
    """

    name: str
    kind: Kind
    it: str
    en: str
    allowed: tuple[str, ...] | None = None
    nullable: bool = False
    unique: bool = False
    required: bool = True
    pattern: str | None = None
    identifier: bool = False  # personal or business identifier: never allowed in an output


@dataclass(frozen=True)
class Table:
    """One table of the extract: its columns, in their canonical order."""

    name: str
    it: str
    en: str
    columns: tuple[Column, ...]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


@dataclass(frozen=True)
class Rule:
    """A validation rule: ``error`` rules make data invalid, ``warning`` rules are listed only."""

    id: str
    severity: Literal["error", "warning"]
    it: str
    en: str
    tables: tuple[str, ...] = field(default_factory=tuple)


_PID = dict(
    it="Codice pseudonimo della persona iscritta",
    en="Pseudonymous person identifier",
    identifier=True,
)

TABLES: dict[str, Table] = {
    "participants": Table(
        "participants",
        it="Iscritti: una riga per persona",
        en="Enrolled people: one row per person",
        columns=(
            Column("participant_id", "str", unique=True, **_PID),
            Column("enrolled_on", "date", it="Data di iscrizione", en="Enrolment date"),
            Column(
                "birth_year",
                "int",
                it="Anno di nascita (mai mostrato nei risultati)",
                en="Year of birth (never shown in outputs)",
                identifier=True,
            ),
            Column("gender", "category", allowed=GENDERS, it="Genere (F, M, X non binario/non dichiarato)",
                   en="Gender (F, M, X non-binary/undeclared)"),
            Column("citizenship", "str", pattern=r"^[A-Z]{2}$",
                   it="Cittadinanza, codice ISO 3166-1 alpha-2 (IT = italiana)",
                   en="Citizenship, ISO 3166-1 alpha-2 code (IT = Italian)"),
            Column("education", "category", allowed=EDUCATION_LEVELS, it="Titolo di studio", en="Education"),
            Column("withdrawn_on", "date", nullable=True,
                   it="Data di uscita dal programma senza inserimento (vuota se ancora iscritto o inserito)",
                   en="Date the person left the programme unplaced (empty if still enrolled or placed)"),
        ),
    ),
    "interviews": Table(
        "interviews",
        it="Colloqui di accoglienza",
        en="Intake interviews",
        columns=(
            Column("participant_id", "str", **_PID),
            Column("interviewed_on", "date", it="Data del colloquio", en="Interview date"),
            Column("format", "category", allowed=INTERVIEW_FORMATS, it="Modalità: individuale o plenaria",
                   en="Format: individual or plenary"),
        ),
    ),
    "programmes": Table(
        "programmes",
        it="Percorsi proposti (IPS, formazione, autoimpiego, orientamento)",
        en="Programmes offered (IPS, training, self-employment, orientation)",
        columns=(
            Column("participant_id", "str", **_PID),
            Column("programme", "category", allowed=PROGRAMMES, it="Percorso", en="Programme"),
            Column("offered_on", "date", it="Data della proposta", en="Date offered"),
            Column("decision", "category", allowed=DECISIONS, it="Esito della proposta: accettata o rifiutata",
                   en="Decision: accepted or declined"),
            Column("started_on", "date", nullable=True, it="Data di presa in carico / inizio (vuota se rifiutata)",
                   en="Start / taken-in-charge date (empty if declined)"),
            Column("ended_on", "date", nullable=True, it="Data di fine percorso (vuota se in corso)",
                   en="End date (empty if ongoing)"),
        ),
    ),
    "placements": Table(
        "placements",
        it="Inserimenti lavorativi: un contratto per riga",
        en="Job placements: one contract per row",
        columns=(
            Column("placement_id", "str", unique=True, identifier=True,
                   it="Codice dell'inserimento", en="Placement identifier"),
            Column("participant_id", "str", **_PID),
            Column("employer_id", "str", identifier=True, it="Codice pseudonimo dell'azienda",
                   en="Pseudonymous employer identifier"),
            Column("employer_size", "category", allowed=EMPLOYER_SIZES,
                   it="Dimensione azienda: micro (<10), piccola, media, grande (>250 addetti)",
                   en="Employer size: micro (<10), small, medium, large (>250 staff)"),
            Column("sector", "str", it="Settore economico", en="Economic sector"),
            Column("contract_type", "category", allowed=CONTRACT_TYPES,
                   it="Contratto: tempo determinato, indeterminato, stage, a chiamata, tirocinio, autoimpiego",
                   en="Contract: fixed-term, permanent, internship, on-call, traineeship, self-employment"),
            Column("channel", "category", allowed=CHANNELS,
                   it="Canale: aziende IXL, IPS, formazione IXL, agenzia per il lavoro, orientamento, autoimpiego",
                   en="Channel: IXL companies, IPS, IXL training, employment agency, orientation, self-employment"),
            Column("started_on", "date", it="Data di inizio del contratto", en="Contract start date"),
            Column("ended_on", "date", nullable=True, it="Data di fine del contratto (vuota se in corso)",
                   en="Contract end date (empty if ongoing)"),
            Column("converted_on", "date", nullable=True,
                   it="Data di trasformazione a tempo indeterminato presso la stessa azienda (solo tempo determinato)",
                   en="Date a fixed-term contract became permanent at the same employer (fixed-term only)"),
            Column("employer_name", "str", nullable=True, required=False, identifier=False,
                   it="Ragione sociale (facoltativa; mostrata solo per aziende che hanno dato il consenso)",
                   en="Employer name (optional; shown only for employers that consented)"),
        ),
    ),
}

TABLE_ORDER: tuple[str, ...] = ("participants", "interviews", "programmes", "placements")

EXTRACT_FIELDS: tuple[Column, ...] = (
    Column("extracted_on", "date", it="Data di estrazione: la data di cut-off dei dati",
           en="Extraction date: the data cut-off"),
    Column("source", "str", it="Fonte dei dati (testo libero; 'synthetic' per dati generati)",
           en="Data source (free text; 'synthetic' for generated data)"),
    Column("encoding", "category", allowed=("utf-8", "windows-1252", "iso-8859-1", "iso-8859-15"),
           nullable=True, required=False,
           it="Codifica di tutti i file CSV, se dichiarata; vuota: decisa file per file (UTF-8 o Windows-1252, "
              "mai mescolate)",
           en="Encoding of every CSV file, when stated; empty: decided per file (UTF-8 or Windows-1252, "
              "never mixed)"),
)

# Columns whose values identify a person or a business: a run's outputs are scanned for them.
IDENTIFIER_COLUMNS: tuple[tuple[str, str], ...] = tuple(
    (t.name, c.name) for t in TABLES.values() for c in t.columns if c.identifier
)

RULES: tuple[Rule, ...] = (
    Rule("file_present", "error",
         "Ogni tabella è presente una sola volta (CSV, Parquet o foglio XLSX), così come extract.yaml",
         "Each table is present exactly once (CSV, Parquet or XLSX sheet), and so is extract.yaml"),
    Rule("file_readable", "error",
         "Il file si legge: formato, codifica (UTF-8 o Windows-1252) e intestazione riconosciuti",
         "The file can be read: format, encoding (UTF-8 or Windows-1252) and header recognised"),
    Rule("required_column", "error", "Le colonne obbligatorie sono presenti", "Required columns are present"),
    Rule("type", "error", "Il valore ha il tipo della colonna (data, intero, testo)",
         "The value has the column's type (date, integer, text)"),
    Rule("not_null", "error", "Il valore obbligatorio non è vuoto", "A required value is not empty"),
    Rule("allowed_values", "error", "Il valore è tra quelli ammessi", "The value is one of the allowed values"),
    Rule("pattern", "error", "Il valore ha il formato previsto (es. codice paese di due lettere)",
         "The value has the expected format (e.g. two-letter country code)"),
    Rule("unique", "error", "Il codice è unico nella tabella", "The identifier is unique in the table"),
    Rule("participant_exists", "error", "La persona esiste nella tabella participants",
         "The person exists in the participants table", ("interviews", "programmes", "placements")),
    Rule("not_after_extract", "error", "Nessuna data è successiva alla data di estrazione",
         "No date is after the extraction date"),
    Rule("extract_not_in_future", "error",
         "La data di estrazione non è nel futuro (più di un giorno dopo l'orologio del computer)",
         "The extraction date is not in the future (more than a day after the machine's clock)",
         ("extract.yaml",)),
    Rule("programme_window", "error",
         "Nessuna data è precedente all'inizio del programma (dal 2017-01-01; limite programme_start)",
         "No date is before the programme started (from 2017-01-01; limit programme_start)"),
    Rule("placement_after_enrolment", "error", "L'inserimento non inizia prima dell'iscrizione",
         "A placement does not start before enrolment", ("placements",)),
    Rule("end_after_start", "error", "La data di fine non è precedente alla data di inizio",
         "The end date is not before the start date", ("programmes", "placements")),
    Rule("conversion_fixed_term_only", "error", "Solo un contratto a tempo determinato può essere trasformato",
         "Only a fixed-term contract can be converted", ("placements",)),
    Rule("conversion_within_contract", "error",
         "La trasformazione avviene dopo l'inizio e non dopo la fine del contratto",
         "The conversion falls after the start and not after the end of the contract", ("placements",)),
    Rule("decision_start_consistent", "error",
         "Un percorso rifiutato non ha data di inizio; uno iniziato è stato accettato",
         "A declined programme has no start date; a started one was accepted", ("programmes",)),
    Rule("start_after_offer", "error", "Il percorso inizia non prima della proposta",
         "A programme starts no earlier than it was offered", ("programmes",)),
    Rule("plausible_birth_year", "error", "Età all'iscrizione tra 14 e 80 anni",
         "Age at enrolment between 14 and 80", ("participants",)),
    Rule("withdrawn_after_enrolment", "error", "L'uscita non è precedente all'iscrizione",
         "Withdrawal is not before enrolment", ("participants",)),
    Rule("interview_before_enrolment", "warning", "Colloquio registrato prima dell'iscrizione",
         "Interview recorded before enrolment", ("interviews",)),
    Rule("offer_before_enrolment", "warning", "Percorso proposto prima dell'iscrizione",
         "Programme offered before enrolment", ("programmes",)),
    Rule("placement_after_withdrawal", "warning", "Inserimento dopo la data di uscita dal programma",
         "Placement after the withdrawal date", ("placements",)),
    Rule("duplicate_record", "warning", "Riga identica a un'altra riga della stessa tabella",
         "Row identical to another row of the same table"),
    Rule("control_characters", "warning",
         "Il testo non contiene caratteri di controllo (tolti nei risultati esportati)",
         "The text holds no control characters (removed from exported outputs)"),
)
