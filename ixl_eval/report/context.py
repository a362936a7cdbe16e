"""The one object a notebook talks to: validated data, language, disclosure control, records.

A notebook opens a :class:`Report`, shows what the analysis modules return through it, and
finishes it. The report applies small-cell suppression to every table and result record, writes
tables as CSV and the notebook's fragment (title, one-line summary, records) for the runner, and
renders the banner, headings, text and provenance block in Italian or English.

Examples
--------
>>> import tempfile, pandas as pd
>>> from ixl_eval.synth import write
>>> d = tempfile.mkdtemp()
>>> _ = write(d + "/data", seed=1)                                  # doctest: +SKIP
>>> rep = Report.open("demo", data_dir=d + "/data", output_dir=d)   # doctest: +SKIP
>>> rep.record("people", 1234, unit="people", label_it="Iscritti", label_en="Enrolled").value  # doctest: +SKIP
1234
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
import re
from collections import Counter
from pathlib import Path

import pandas as pd

from .. import disclosure

from . import present
from ..contract import RULES
from ..dataset import Dataset, load_dataset
from ..exceptions import DisclosureError, ParamsError
from ..paths import resolve_data_dir
from ..provenance import code_version
from ..results import ResultRecord
from . import render
from .table import PRIMARY, SHOWN, Table

__all__ = ["Report", "COUNT_UNITS", "FORBIDDEN_COLUMNS"]

# Units whose values are counts of people, contracts or firms: suppressed below the threshold.
COUNT_UNITS = frozenset({"people", "persons", "contracts", "placements", "employers", "interviews", "count"})
# Columns that identify a person or business, or are quasi-identifiers: never in an output table.
FORBIDDEN_COLUMNS = frozenset({"participant_id", "placement_id", "employer_id", "birth_year", "birth_date", "name"})

_STYLE = """<style>
.ixl-banner{padding:12px 16px;border-radius:4px;font-weight:bold;font-size:1.05em;margin:0 0 12px 0}
.ixl-synthetic{background:#B00020;color:#fff;border:3px solid #7a0016}
.ixl-real{background:#eef3f8;color:#123;border:1px solid #9ab}
.ixl-meta{color:#444;font-size:.95em}
.ixl-summary{border-left:5px solid #0072B2;background:#f3f7fb;padding:8px 16px;margin:10px 0}
.ixl-table{border-collapse:collapse;margin:8px 0;font-size:.95em}
.ixl-table caption{caption-side:top;text-align:left;font-weight:bold;padding:4px 0}
.ixl-table th,.ixl-table td{border-bottom:1px solid #ccc;padding:4px 10px;text-align:left}
.ixl-table td.num{text-align:right;font-variant-numeric:tabular-nums}
.ixl-note{font-size:.85em;color:#555;margin:2px 0 12px 0}
.ixl-figure figcaption{font-size:.95em;color:#333;margin:4px 0 14px 0}
.ixl-figure img{max-width:100%;height:auto}
.ixl-caveats{border-left:5px solid #E69F00;background:#fdf8ee;padding:8px 16px;margin:10px 0}
.ixl-provenance{font-size:.85em;color:#333}
</style>"""


def _display_html(s: str):
    from IPython.display import HTML

    return HTML(s)


def _display_md(s: str):
    from IPython.display import Markdown

    return Markdown(s)


def _slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s or "sezione"


def _parse_cutoff(cutoff, ds: Dataset) -> pd.Timestamp:
    if cutoff in (None, ""):
        return ds.cutoff
    try:
        ts = pd.Timestamp(dt.date.fromisoformat(str(cutoff)))
    except ValueError as e:
        raise ParamsError(f"cutoff: {cutoff!r} is not a date in yyyy-mm-dd form") from e
    if ts > ds.cutoff:
        raise ParamsError(
            f"cutoff: {ts.date()} is after the data extraction date {ds.extracted_on}; "
            "results after the extract date would count missing events as non-events"
        )
    return ts


def _split_key(key: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    base, *quals = key.split("__")
    return base, tuple(tuple(q.split("=", 1)) if "=" in q else (q, "") for q in quals)


def _secondary_keys(numbers: dict[str, float], k: int) -> set[str]:
    """Keys to withhold: those below ``k`` and, line by line, the smallest partner of a lone one."""
    hidden = {key for key, v in numbers.items() if disclosure.is_small(v, k)}
    lines: dict[tuple, list[str]] = {}
    for key in numbers:
        base, quals = _split_key(key)
        for j, (col, _) in enumerate(quals):
            rest = tuple(q if i != j else (col, "*") for i, q in enumerate(quals))
            lines.setdefault((base, rest), []).append(key)
    changed = True
    while changed:
        changed = False
        for members in lines.values():
            shut = [m for m in members if m in hidden]
            if len(members) < 2 or len(shut) != 1:
                continue
            partner = min((m for m in members if m not in hidden), key=lambda m: (numbers[m], m))
            hidden.add(partner)
            changed = True
    return hidden


def _ident(x):
    """A cell identity read back from JSON (lists) as the tuples tables use."""
    return tuple(_ident(v) for v in x) if isinstance(x, list) else x


def _withheld_elsewhere(output_dir, k: int):
    """What the other notebooks of the run withheld (``fragments/withhold.json``, written by the
    runner when a notebook showed a count another withheld): kept withheld here too."""
    if output_dir is None:
        return None
    p = Path(output_dir) / "fragments" / "withhold.json"
    if not p.exists():
        return None
    prot = disclosure.Protection(k)
    for key, status in json.loads(p.read_text(encoding="utf-8")).items():
        (prot.primary_ if status == "primary" else prot.secondary_).add(_ident(json.loads(key)))
    return prot


class Report:
    """The reporting context of one notebook run.

    Use :meth:`open`; attributes: ``key`` (notebook key), ``ds`` (:class:`Dataset`), ``cutoff``
    (Timestamp), ``lang`` (``"it"``/``"en"``), ``k`` (disclosure threshold), ``output_dir`` (run
    folder or None), ``records_`` (list of :class:`ResultRecord`).
    """

    def __init__(self, key: str, ds: Dataset, *, cutoff: pd.Timestamp, lang: str, k: int,
                 output_dir: Path | None, params: dict | None = None):
        self.key = key
        self.ds = ds
        self.cutoff = cutoff
        self.lang = lang
        self.k = k
        self.output_dir = output_dir
        self.params = dict(params or {})
        self.records_: list[ResultRecord] = []
        self._raw: dict[str, dict] = {}
        self.tables_: list[str] = []
        self.title_ = {"it": key, "en": key}
        self.summary_: str = ""
        self._slugs: Counter = Counter()
        self.published_: dict[str, Table] = {}
        self._prot = None
        self._links: dict[str, dict] = {}
        self._schemas: list[dict] = []
        self._relations: list = []

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, key: str, *, data_dir: str = "", cutoff: str = "", lang: str = "it",
             disclosure_threshold: int = 10, output_dir: str = "", params: dict | None = None) -> "Report":
        """Load and validate the data, check the common parameters, set the plot theme.

        Raises
        ------
        DataValidationError
            The data break the contract (no analysis runs on invalid data).
        ParamsError
            Unknown language, threshold below 1, cut-off malformed or after the extract date.
        """
        if lang not in ("it", "en"):
            raise ParamsError(f"lang: {lang!r} is not one of 'it', 'en'")
        if int(disclosure_threshold) < 1:
            raise ParamsError(f"disclosure_threshold: {disclosure_threshold!r} must be at least 1")
        ds = load_dataset(resolve_data_dir(data_dir))
        out = Path(output_dir).resolve() if output_dir else None
        present.apply_theme()
        rep = cls(key, ds, cutoff=_parse_cutoff(cutoff, ds), lang=lang, k=int(disclosure_threshold),
                  output_dir=out, params=params)
        rep._prot = _withheld_elsewhere(out, rep.k)
        return rep

    def __repr__(self) -> str:
        return f"<Report {self.key!r} lang={self.lang} k={self.k} cutoff={self.cutoff.date()} {self.ds!r}>"

    # ------------------------------------------------------------------ text
    def t(self, it: str, en: str) -> str:
        """Pick the text in the report language."""
        return present.tr(self.lang, it, en)

    def _id(self, text: str) -> str:
        s = _slug(text)
        self._slugs[s] += 1
        return s if self._slugs[s] == 1 else f"{s}-{self._slugs[s]}"

    def header(self, title_it: str, title_en: str):
        """Banner (synthetic data in red), title, data source and dates."""
        self.title_ = {"it": title_it, "en": title_en}
        title = self.t(title_it, title_en)
        fmt = "%d/%m/%Y" if self.lang == "it" else "%Y-%m-%d"
        extracted = pd.Timestamp(self.ds.extracted_on).strftime(fmt)
        if self.ds.is_synthetic:
            banner = self.t(
                "DATI SINTETICI — questo rapporto è calcolato su dati generati al computer, calibrati sul "
                "Rapporto 2024 di Insieme per il lavoro. I numeri NON descrivono persone reali e non vanno "
                "citati come risultati del programma.",
                "SYNTHETIC DATA — this report is computed on computer-generated data calibrated to the "
                "Insieme per il lavoro 2024 report. The numbers do NOT describe real people and must not "
                "be quoted as programme results.",
            )
            cls_ = "ixl-synthetic"
        else:
            banner = self.t("Dati amministrativi di Insieme per il lavoro — uso riservato.",
                            "Administrative data of Insieme per il lavoro — restricted use.")
            cls_ = "ixl-real"
        source = self.t("dati sintetici", "synthetic data") if self.ds.is_synthetic else html.escape(self.ds.source)
        meta = self.t(
            f"Fonte dei dati: {source} · estrazione del {extracted} · "
            f"analisi alla data del {self.cutoff.strftime(fmt)}",
            f"Data source: {source} · extracted {extracted} · "
            f"analysis cut-off {self.cutoff.strftime(fmt)}",
        )
        return _display_html(
            f'{_STYLE}<div class="ixl-banner {cls_}" role="note">{html.escape(banner)}</div>'
            f'<h1 id="{self._id(title)}">{html.escape(title)}</h1><p class="ixl-meta">{meta}</p>'
        )

    def summary(self, sentences: list[str]):
        """The "In breve" box: the findings that matter, in plain words. The first sentence is the
        one-line summary in the run's index."""
        sentences = [s for s in sentences if s]
        self.summary_ = sentences[0] if sentences else ""
        title = self.t("In breve", "In brief")
        items = "".join(f"<li>{html.escape(s)}</li>" for s in sentences)
        return _display_html(f'<div class="ixl-summary"><h2 id="{self._id(title)}">{title}</h2><ul>{items}</ul></div>')

    def heading(self, it: str, en: str, level: int = 2):
        """A section heading (h2, or h3 with ``level=3``); the HTML table of contents lists them."""
        text = self.t(it, en)
        return _display_html(f'<h{level} id="{self._id(text)}">{html.escape(text)}</h{level}>')

    def text(self, it: str, en: str):
        """A paragraph of Markdown in the report language."""
        return _display_md(self.t(it, en))

    def caveats(self, it: str, en: str):
        """The "Come leggere questi risultati" block: method, assumptions, when it is inconclusive."""
        title = self.t("Come leggere questi risultati", "How to read these results")
        body = self.t(it, en)
        return _display_html(
            f'<div class="ixl-caveats"><h2 id="{self._id(title)}">{title}</h2>'
            + "".join(f"<p>{html.escape(p.strip())}</p>" for p in body.split("\n\n") if p.strip())
            + "</div>"
        )

    # ------------------------------------------------------------------ numbers
    def count(self, n) -> str:
        """A count formatted for text, suppressed below the threshold."""
        return disclosure.format_count(n, self.k, self.lang)

    def record(self, key: str, value, *, ci=None, n=None, unit: str = "", label_it: str = "",
               label_en: str = "", cell=None, base=(), rests_on=None) -> ResultRecord:
        """Record a key estimate for ``results.json``.

        Disclosure (applied when the notebook finishes, with the tables' protection):

        * ``cell``: the identity of the table cell this count is (``Table.cell_id``): the record
          follows that cell's status, so a number is withheld in ``results.json`` wherever a table
          withholds it;
        * ``base``: identities of the counts this share, rate or change is computed from: withheld
          when any of them is;
        * ``rests_on``: the identity of the group's count: the estimate is withheld when the count
          is below the threshold, and ``n`` whenever the count is withheld;
        * unlinked records: a count (``unit`` in :data:`COUNT_UNITS`) or an ``n`` from 1 to k−1 is
          withheld, and records that differ in one ``__column=level`` qualifier form a line
          protected like a table's.

        A withheld value is ``null`` and the field ``suppressed`` says why.
        """
        if key in self._raw:
            raise ValueError(f"result key {key!r} recorded twice in notebook {self.key!r}")
        lo, hi = (None, None) if ci is None else ci
        # the raw numbers stay private to this object: final_records() applies the protection
        self._raw[key] = {"value": value, "n": n, "unit": unit}
        self._links[key] = {"cell": cell, "base": tuple(base), "rests_on": rests_on}
        rec = ResultRecord(self.key, key, value, lo, hi, None if n is None else int(n), unit, label_it, label_en)
        self.records_.append(rec)
        return rec

    def record_cell(self, table: Table, row, col: str, key: str, *, unit: str = "", label_it: str = "",
                    label_en: str = "", n_col: str | None = None) -> ResultRecord:
        """Record one cell of a published table (with its interval, if it has one), linked to the
        table's protection so ``results.json`` and the table can never disagree.

        ``row`` is a position or a dict of label values; ``n_col`` names the count column whose
        value is the record's ``n``.
        """
        i = table.find(row) if isinstance(row, dict) else int(row)
        c = table.col(col)
        v = table.data.at[i, col]
        ci = tuple(table.data.at[i, b] for b in c.ci) if c.ci else None
        n = table.data.at[i, n_col] if n_col else None
        ident = lambda k: table.cell_id(i, k)  # noqa: E731
        if c.role == "count":
            return self.record(key, v, ci=ci, n=n, unit=unit, label_it=label_it, label_en=label_en, cell=ident(col),
                               rests_on=ident(n_col) if n_col else None)
        return self.record(key, v, ci=ci, n=n, unit=unit, label_it=label_it, label_en=label_en,
                           base=tuple(ident(b) for b in c.base),
                           rests_on=ident(c.rests_on or n_col) if (c.rests_on or n_col) else None)

    def publish(self, *tables: Table, relations=()) -> dict:
        """Protect every table the notebook will show, together, before any is shown.

        One call per notebook, right after the analysis: the joint protection
        (:func:`ixl_eval.disclosure.protect`) sees every count at once, so a number withheld in
        one table is withheld in all, and sentences, charts and records then read the same
        protected tables. Returns ``{name: table}`` (also kept in :attr:`published_`).

        A later call may add tables, but not withhold a number an earlier table already showed:
        that would be a leak, and it raises :class:`DisclosureError`.
        """
        tables = [t for t in tables if t is not None]
        for t in tables:
            if t.name in self.published_:
                raise ValueError(f"table {t.name!r} published twice in notebook {self.key!r}")
            bad = FORBIDDEN_COLUMNS.intersection(c.key for c in t.cols)
            if bad:
                raise DisclosureError(f"table {t.name!r} has identifying columns {sorted(bad)}; aggregate first")
        before = set(self._prot.hidden_) if self._prot is not None else set()
        shown_before = set(self._prot.values_) - before if self._prot is not None else set()
        prot = disclosure.protect(list(self.published_.values()) + tables, self.k, relations=relations,
                                  known=self._prot)
        newly = (prot.hidden_ - before) & shown_before
        if newly:
            raise DisclosureError(
                f"notebook {self.key!r}: publishing {[t.name for t in tables]} would withhold numbers that "
                "earlier tables already showed; publish all tables in one call"
            )
        self._prot = prot
        self._relations += [list(r) for r in relations]
        for t in tables:
            self.published_[t.name] = t
        return dict(self.published_)

    def status_of(self, ident) -> int:
        """The status of a count identity (``Table.cell_id``) after :meth:`publish`."""
        return SHOWN if self._prot is None else self._prot.status_of(ident)

    def table(self, t, *, write: bool = True):
        """Show a published :class:`~ixl_eval.report.table.Table` (or the name of one) and write
        it as ``tables/<key>__<name>.csv`` with its schema for the workbook and the audit.

        A table not yet published is published on its own first; publish all tables of a
        notebook together (:meth:`publish`) so they are protected together.
        """
        if isinstance(t, str) and t in self.published_:
            t = self.published_[t]
        if not isinstance(t, Table):
            raise TypeError(
                f"rep.table takes a Table (ixl_eval.report.table), not {type(t).__name__}: build one with "
                "numbers and column roles (Col), so it is protected, rendered and exported as numbers"
            )
        return self._typed_table(self.published_.get(t.name, t), write=write)

    def _typed_table(self, t: Table, *, write: bool = True):
        if t.name not in self.published_:
            self.publish(t)
        if t.name in self.tables_:
            raise ValueError(f"table {t.name!r} shown twice in notebook {self.key!r}")
        self.tables_.append(t.name)
        if write and self.output_dir is not None:
            tdir = self.output_dir / "tables"
            tdir.mkdir(parents=True, exist_ok=True)
            render.write_csv(t, tdir / f"{self.key}__{t.name}.csv", self.lang, self.k)
            self._schemas.append(t.schema(self.key))
        return _display_html(render.html_table(t, self.lang, self.k))

    def figure(self, fig, *, caption_it: str = "", caption_en: str = "", alt_it: str = "", alt_en: str = ""):
        """Show a matplotlib figure as an image with its caption (the figure is then closed).

        ``alt_it``/``alt_en``: the text alternative of the image, one sentence stating what the
        chart shows (its finding, e.g. "Le persone con la laurea trovano lavoro prima: ..."), not
        a copy of the caption, which screen readers would then read twice. Without it the alt
        text says only that the chart is described by its caption.
        """
        import matplotlib.pyplot as plt

        from .render import localise_axes

        localise_axes(fig, self.lang)  # numbers on the axes as in the text: 0,05 and 1.095 in Italian
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=130, bbox_inches="tight")
        plt.close(fig)
        b64 = base64.b64encode(buf.getvalue()).decode("ascii")
        caption = html.escape(self.t(caption_it, caption_en))
        alt = self.t(alt_it, alt_en) or self.t("Grafico descritto nella didascalia e nella tabella che segue.",
                                               "Chart described in its caption and in the table that follows.")
        return _display_html(
            f'<figure class="ixl-figure"><img alt="{html.escape(alt)}" src="data:image/png;base64,{b64}"/>'
            f"<figcaption>{caption}</figcaption></figure>"
        )

    def data_quality(self):
        """The data-quality check in words: the validation warnings (soft anomalies) and the
        month-by-month volume check (months with no records, months far below their usual
        volume, a partial last quarter: :func:`ixl_eval.kpi.activity_gaps`)."""
        by_rule = Counter(f.rule for f in self.ds.warnings)
        labels = {r.id: self.t(r.it, r.en) for r in RULES}
        from ..estimate import kpi
        from . import vocab

        months_words = (("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto",
                         "settembre", "ottobre", "novembre", "dicembre") if self.lang == "it" else
                        ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                         "October", "November", "December"))
        measures = {"enrolments": ("iscrizioni", "enrolments", "Nessuna iscrizione registrata"),
                    "interviews": ("colloqui di accoglienza", "intake interviews", "Nessun colloquio di accoglienza registrato"),
                    "placements": ("inserimenti", "placements", "Nessun inserimento registrato")}

        def by_measure(pairs):
            out = {}
            for measure, month in pairs:
                y, m = str(month).split("-")
                out.setdefault(measure, []).append(f"{months_words[int(m) - 1]} {y}")
            return out

        # The volume check in words. No count is shown (only months and dates), so nothing here
        # needs disclosure control.
        g = kpi.activity_gaps(self.ds, self.cutoff)
        fmt = "%d/%m/%Y" if self.lang == "it" else "%Y-%m-%d"
        gaps = []
        for measure, months in by_measure(g.empty).items():
            it, en, none_it = measures[measure]
            gaps.append(self.t(
                f"**{none_it} in {', '.join(months)}**, mentre negli altri mesi ce ne sono: è probabile che "
                f"l'estrazione sia incompleta. I numeri dei periodi che comprendono questi mesi (trimestre, anno, "
                f"confronti «da inizio anno») sono più bassi del vero: verificare con chi gestisce l'archivio prima "
                f"di usarli.",
                f"**No {en} recorded in {', '.join(months)}**, while the other months have some: the extract is "
                f"probably incomplete. Figures for periods that include these months (quarter, year, year-to-date "
                f"comparisons) are too low: check with the data managers before using them."))
        for measure, months in by_measure(g.low).items():
            it, en, _ = measures[measure]
            gaps.append(self.t(
                f"Volume di {it} molto più basso del solito in {', '.join(months)} (meno della metà dei mesi precedenti, e non per "
                f"il solito calo stagionale): può essere un vero calo di attività o un dato mancante.",
                f"Far fewer {en} than usual in {', '.join(months)} (under half the previous months, and not the "
                f"usual seasonal dip): either a real drop in activity or missing records."))
        if g.partial_quarter is not None:
            q, lo, hi, days, of = g.partial_quarter
            gaps.append(self.t(
                f"L'ultimo trimestre, {vocab.quarter(q, 'it')}, è parziale: i dati vanno dal {lo:{fmt}} al "
                f"{hi:{fmt}} ({days} giorni su {of}). I suoi numeri non vanno confrontati con quelli di un trimestre "
                f"intero.",
                f"The last quarter, {vocab.quarter(q, 'en')}, is partial: the data run from {lo:{fmt}} to {hi:{fmt}} "
                f"({days} of its {of} days). Its figures must not be compared with those of a whole quarter."))
        if not by_rule and not gaps:
            return self.text(
                it="Controllo di qualità: i dati rispettano tutte le regole e i volumi mese per mese non mostrano "
                   "vuoti o cali anomali: nessuna anomalia da segnalare.",
                en="Data quality check: the data meet every rule and the month-by-month volumes show no gaps or "
                   "unusual drops: no anomalies to report.",
            )
        parts = []
        if by_rule:
            lines = [
                f"- {labels.get(rule, rule)}: {self.count(n)} " + self.t("righe", "rows")
                for rule, n in sorted(by_rule.items())
            ]
            parts.append(self.t(
                "Controllo di qualità: i dati sono validi; alcune anomalie non bloccanti meritano una verifica "
                "con chi gestisce l'archivio:",
                "Data quality check: the data are valid; some non-blocking anomalies are worth checking with the "
                "data managers:") + "\n\n" + "\n".join(lines))
        else:
            parts.append(self.t("Controllo di qualità: i dati rispettano tutte le regole di validazione.",
                                "Data quality check: the data meet every validation rule."))
        if gaps:
            parts.append(self.t("Il controllo dei volumi mese per mese segnala:",
                                "The month-by-month volume check finds:")
                         + "\n\n" + "\n".join(f"- {x}" for x in gaps))
        return _display_md("\n\n".join(parts))

    # ------------------------------------------------------------------ closing
    def provenance(self):
        """The provenance block: data, dates, hashes, parameters, code version, run id."""
        cv = code_version()
        fmt = "%d/%m/%Y" if self.lang == "it" else "%Y-%m-%d"

        def value(v) -> str:
            if isinstance(v, bool):
                return self.t("sì", "yes") if v else "no"
            if isinstance(v, (list, tuple)):
                return ", ".join(value(x) for x in v) if v else self.t("(nessuno)", "(none)")
            if isinstance(v, dict):
                return "; ".join(f"{k}: {value(x)}" for k, x in v.items()) if v else self.t("(nessuno)", "(none)")
            if isinstance(v, float):
                return render.fmt_num(v, self.lang, 0 if v == int(v) else 2)
            if v is None or v == "":
                return self.t("(predefinito)", "(default)")
            return str(v)

        # the parameters as a readable list (name: value), not raw JSON; already escaped
        params_html = ('<ul class="ixl-params" style="list-style:none;margin:0;padding:0;text-align:left">' + "".join(
            f"<li><code>{html.escape(str(k))}</code>: <code>{html.escape(value(v))}</code></li>"
            for k, v in sorted(self.params.items())) + "</ul>") if self.params else html.escape(self.t("(nessuno)", "(none)"))
        run_id = self.output_dir.name.removeprefix(".tmp-") if self.output_dir else self.t("(nessuna)", "(none)")
        rows = [
            (self.t("Fonte dei dati", "Data source"),
             self.t("dati sintetici", "synthetic data") if self.ds.is_synthetic else self.ds.source),
            (self.t("Data di estrazione", "Extraction date"), pd.Timestamp(self.ds.extracted_on).strftime(fmt)),
            (self.t("Data di analisi", "Analysis cut-off"), self.cutoff.strftime(fmt)),
            (self.t("Soglia di riservatezza", "Disclosure threshold"), str(self.k)),
            *[(f"SHA-256 {f}", h[:16] + "…") for f, h in sorted(self.ds.sha256.items())],
            (self.t("Parametri", "Parameters"), params_html),
            (self.t("Versione del codice", "Code version"),
             f"ixl-eval {cv['version']} · commit {(cv['commit'] or '–')[:10]}" + (self.t(" (modificato)", " (modified)") if cv["dirty"] else "")),
            (self.t("Esecuzione", "Run"), run_id),
        ]
        title = self.t("Provenienza", "Provenance")
        body = "".join(f"<tr><th>{html.escape(a)}</th><td>{b if b is params_html else html.escape(b)}</td></tr>"
                       for a, b in rows)
        return _display_html(
            f'<div class="ixl-provenance"><h2 id="{self._id(title)}">{title}</h2>'
            f'<table class="ixl-table">{body}</table></div>'
        )

    def final_records(self) -> list[ResultRecord]:
        """The records as published, with the protection of the tables and of their own lines.

        Linked records (``cell``, ``base``, ``rests_on``) follow the protection of the tables
        published by this notebook. Unlinked ones: a count or ``n`` from 1 to k−1 is withheld;
        records whose keys differ only in one ``__column=level`` qualifier form a line (e.g.
        ``x__gender=F``, ``x__gender=M``, ``x__gender=X``) that may not keep exactly one withheld
        count, or it could be recovered from the total recorded beside it.
        """
        prot = self._prot
        status = (lambda ident: SHOWN) if prot is None else prot.status_of
        free = {k for k, l in self._links.items() if l["cell"] is None and not l["base"] and l["rests_on"] is None}
        hidden_n = _secondary_keys({k: r["n"] for k, r in self._raw.items() if k in free and r["n"] is not None}, self.k)
        hidden_v = _secondary_keys(
            {k: r["value"] for k, r in self._raw.items()
             if k in free and r["unit"] in COUNT_UNITS and isinstance(r["value"], (int, float)) and r["value"] == r["value"]},
            self.k,
        )
        out = []
        for r in self.records_:
            link = self._links[r.key]
            raw = self._raw[r.key]
            why_v, why_n = None, None
            if r.key in free:
                if raw["n"] is not None and disclosure.is_primary(raw["n"], self.k):
                    why_v = why_n = "below_threshold"
                elif r.unit in COUNT_UNITS and disclosure.is_primary(raw["value"], self.k):
                    why_v = "below_threshold"
                elif r.key in hidden_v:
                    why_v = "secondary"
                elif r.key in hidden_n:
                    why_n = "secondary"  # its estimate does not give n back: it stays
            else:
                if link["cell"] is not None and status(link["cell"]) != SHOWN:
                    why_v = "below_threshold" if status(link["cell"]) == PRIMARY else "secondary"
                if link["base"] and any(status(b) != SHOWN for b in link["base"]):
                    why_v = why_v or "derived"
                if link["rests_on"] is not None:
                    st = status(link["rests_on"])
                    if st == PRIMARY:
                        why_v = why_v or "below_threshold"
                    if st != SHOWN:
                        why_n = "below_threshold" if st == PRIMARY else "secondary"
                if raw["n"] is not None and disclosure.is_primary(raw["n"], self.k):
                    why_v = why_v or "below_threshold"
                    why_n = why_n or "below_threshold"
            if why_v:
                r = ResultRecord(r.notebook, r.key, None, None, None, None if why_n else r.n, r.unit, r.label_it,
                                 r.label_en, why_v)
            elif why_n:
                r = ResultRecord(r.notebook, r.key, r.value, r.ci_low, r.ci_high, None, r.unit, r.label_it,
                                 r.label_en, "n_" + why_n)
            out.append(r)
        return out

    def finish(self):
        """Write the fragment the runner collects (``fragments/<key>.json``) and show provenance."""
        if self.output_dir is not None:
            fdir = self.output_dir / "fragments"
            fdir.mkdir(parents=True, exist_ok=True)
            fragment = {
                "notebook": self.key,
                "title_it": self.title_["it"],
                "title_en": self.title_["en"],
                "summary": self.summary_,
                "lang": self.lang,
                "records": [r.as_dict() for r in self.final_records()],
                "tables": list(self.tables_),
                # structure only (identities of cells, never values): the run's disclosure audit
                # rebuilds the links between tables and records from these
                # (json writes the identity tuples as lists; json.dumps of either gives one key)
                "relations": [list(r) for r in self._relations],
                "links": {k: v for k, v in self._links.items()
                          if v["cell"] is not None or v["base"] or v["rests_on"] is not None},
            }
            (fdir / f"{self.key}.json").write_text(
                json.dumps(fragment, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
            )
            (fdir / "tables").mkdir(exist_ok=True)
            (fdir / "tables" / f"{self.key}.json").write_text(
                json.dumps(self._schemas, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
            )
        return self.provenance()
