"""Wording of the rendered reports, read as policy staff read them (issue 11).

The rendered HTML of a run is turned into text and checked for:

(a) no stock words of the other language (Italian reports in Italian, English ones in English),
    and no statistical jargon in the "In breve" box;
(b) every number of an "In breve" sentence is a number the same run publishes with the same
    meaning: a cell of one of the notebook's tables (``tables/<key>__*.csv``) or a record of
    ``results.json`` ("su 100" and "%" are shares × 100 — or, for a ratio, 100 × |1 − ratio| —
    rounded to the digits shown; days, counts and years are matched as they are).

Sections: the shared helpers and fixtures first; then notebooks 10 (``tempo_inserimento``) and
20 (``efficacia_ips``); the KPI and stabilisation notebooks have their own section below.
"""

from __future__ import annotations

import csv
import json
import math
import re

import pytest
from bs4 import BeautifulSoup

bs4 = pytest.importorskip("bs4")


# ----------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def english_run(suite_run_en):
    """The session's English run (``suite_run_en`` in conftest.py)."""
    return suite_run_en


def _run_of(lang, suite_run, english_run):
    return suite_run if lang == "it" else english_run


# ----------------------------------------------------------------------------------- helpers
def _soup(run, key):
    html = (run.run_dir / f"{key}.html").read_text(encoding="utf-8")
    s = bs4.BeautifulSoup(html, "html.parser")
    for t in s(["script", "style", "code", "pre"]):
        t.decompose()
    return s


# Proper names that contain stock words of the other language.
PROPER_NAMES = ["Insieme per il lavoro", "Insieme per il Lavoro"]


def page_text(run, key) -> str:
    """The text a reader sees (scripts, styles and code left out, proper names removed), whitespace
    collapsed."""
    text = re.sub(r"\s+", " ", _soup(run, key).get_text(" "))
    for name in PROPER_NAMES:
        text = text.replace(name, " ")
    return f" {text} "


def summary_items(run, key) -> list[str]:
    """The sentences of the "In breve" box."""
    return [re.sub(r"\s+", " ", li.get_text(" ")).strip() for li in _soup(run, key).select("div.ixl-summary li")]


# Stock words of each language: common enough to appear in any paragraph, rare in the other
# language's text (no proper names, no words shared by both).
STOCK = {
    "it": [" il ", " della ", " delle ", " persone ", " entro ", " sono ", " anche ", " lavoro ", " gruppo ",
           " che ", " non ", " dati "],
    "en": [" the ", " of the ", " people ", " within ", " which ", " found ", " with ", " and ", " who ",
           " were ", " this ", " cut-off "],
}

# Statistical terms that belong in "Come leggere questi risultati", never in "In breve".
JARGON = [r"\bHR\b", r"hazard", r"Kaplan", r"Aalen", r"\bCox\b", r"IPTW", r"\bITT\b", r"\bATT\b", r"E-value",
          r"[Cc]hi quadrato", r"chi-square", r"gradi di libert", r"degrees of freedom", r"Schoenfeld", r"log HR",
          r"media ristretta", r"restricted mean", r"incidenza cumulata", r"cumulative incidence", r"\bIC\b",
          r"\bCI\b", r"log-rank", r"\bp [=<]", r"valore p", r"p-value", r"propensi", r"rapporto dei ritmi",
          r"intenzione di trattare", r"intention to treat", r"standardizzat", r"standardised", r"\bk\b"]

_NUM = re.compile(r"(?<![\w])(\d+(?:[.,]\d+)*)")


def numbers(text: str, lang: str) -> list[tuple[float, int, str]]:
    """``(value, decimals shown, kind)`` of every number in ``text``; kind is ``"share"`` for a
    number read per 100 ("N%", "N su 100", and the other numbers of a "su 100" clause before the
    next semicolon or full stop), ``"plain"`` otherwise.

    >>> numbers("Su 100 persone iscritte, 20 hanno trovato lavoro entro 365 giorni (tra 19 e 21)", "it")
    [(20.0, 0, 'share'), (365.0, 0, 'plain'), (19.0, 0, 'share'), (21.0, 0, 'share')]
    >>> numbers("3.677 persone; 0,52", "it")
    [(3677.0, 0, 'plain'), (0.52, 2, 'plain')]
    """
    thou, dec = (".", ",") if lang == "it" else (",", ".")
    out = []
    per100 = re.compile(r"\b(su|in|of|Of|Su|every) 100\b")
    # clauses: a "su 100" clause makes its numbers shares, except days/months/years that follow
    for clause in re.split(r"[;:]|\.\s", text):
        share_clause = bool(per100.search(clause))
        clause_ = per100.sub(" ", clause)
        for m in _NUM.finditer(clause_):
            raw = m.group(1)
            parts = raw.split(dec)
            whole = parts[0].replace(thou, "")
            frac = parts[1] if len(parts) > 1 else ""
            if not whole.isdigit() or (frac and not frac.isdigit()):
                continue
            v = float(f"{whole}.{frac}" if frac else whole)
            after = clause_[m.end():m.end() + 12]
            unit_after = re.match(r"\s*(giorni|days|mesi|months|anni|years)\b", after)
            if after.startswith("%") or after.startswith(" %") or re.match(r"\s*su 100|\s*in 100", after):
                kind = "share"
            elif unit_after or re.match(r"(19|20)\d\d$", raw):
                kind = "plain"
            else:
                kind = "share" if share_clause else "plain"
            out.append((v, len(frac), kind))
    return out


def _floats(text: str) -> list[float]:
    """Every number in a table cell or column name (both number styles of the CSV)."""
    out = []
    for m in re.finditer(r"\d+(?:\.\d+)?(?:e-?\d+)?", text):
        try:
            out.append(float(m.group(0)))
        except ValueError:
            pass
    return out


def published(run, key) -> dict:
    """The numbers a notebook publishes: ``{"plain": [...], "share": [...]}``. Plain: every
    number in a shown cell or column name of its tables and every record value and interval
    limit. Share: shares × 100, and 100 × |1 − ratio| for ratios."""
    plain, share = set(), set()
    for f in sorted((run.run_dir / "tables").glob(f"{key}__*.csv")):
        with open(f, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        head, body = rows[0], rows[1:]
        for h in head:
            plain.update(_floats(h))
        for r in body:
            for h, cell in zip(head, r):
                if h.endswith("__status") or cell == "":
                    continue
                for x in _floats(cell):
                    plain.add(x)
                    if -1 <= x <= 1:
                        share.add(100 * abs(x))
                    if h.startswith("hr") or "ratio" in h:
                        share.add(100 * abs(1 - x))
    recs = json.loads((run.run_dir / "results.json").read_text(encoding="utf-8"))
    recs = recs if isinstance(recs, list) else recs.get("records", [])
    for r in recs:
        if r.get("notebook") != key:
            continue
        for f in ("value", "ci_low", "ci_high", "n"):
            v = r.get(f)
            if v is None or (isinstance(v, float) and math.isnan(v)):
                continue
            v = float(v)
            plain.add(abs(v))
            if str(r.get("unit", "")).startswith("share") and f != "n":
                share.add(100 * abs(v))
            if r.get("unit") == "ratio" and f != "n":
                share.add(100 * abs(1 - v))
    return {"plain": plain, "share": share}


def _matches(v: float, d: int, pool) -> bool:
    tol = 0.5 * 10 ** -d + 1e-9
    return any(abs(abs(c) - v) <= tol for c in pool)


def unpublished_numbers(run, key, lang) -> list[str]:
    """Numbers of the "In breve" sentences that the run does not publish with the same meaning."""
    pub = published(run, key)
    bad = []
    for s in summary_items(run, key):
        for v, d, kind in numbers(s, lang):
            pool = pub["share"] if kind == "share" else pub["plain"] | pub["share"]
            if not _matches(v, d, pool):
                bad.append(f"{v:g} ({kind}) in: {s}")
    return bad


_INTERVAL = re.compile(r"\((?:plausibilmente |plausibly )?(?:tra|between) (?:il )?(\d+(?:[.,]\d+)*)%?(?: volte| times)? "
                       r"(?:e|and) (?:il )?(\d+(?:[.,]\d+)*)%?")


def _parse(raw: str, lang: str) -> tuple[float, int]:
    thou, dec = (".", ",") if lang == "it" else (",", ".")
    whole, _, frac = raw.partition(dec)
    return float(whole.replace(thou, "") + (f".{frac}" if frac else "")), len(frac)


def interval_triples(sentence: str, lang: str) -> list[tuple]:
    """``((value, d), (low, d), (high, d))`` for each "X ... (tra Y e Z)" of a sentence: the
    interval and the number it qualifies (the last number before it that is not a number of days,
    months or years)."""
    out = []
    for m in _INTERVAL.finditer(sentence):
        prefix = re.sub(r"\b(su|in|of|every) 100\b", " ", sentence[:m.start()])
        cands = [x for x in _NUM.finditer(prefix)
                 if not re.match(r"\s*(giorni|days|mesi|months|anni|years)\b", prefix[x.end():x.end() + 10])]
        if cands:
            out.append((_parse(cands[-1].group(1), lang), _parse(m.group(1), lang), _parse(m.group(2), lang)))
    return out


def published_units(run, key) -> list[list[float]]:
    """The numbers of each table row and of each record (value and interval) of a notebook: one
    list per row or record, the units a sentence's value and interval must come from together."""
    units = []
    for f in sorted((run.run_dir / "tables").glob(f"{key}__*.csv")):
        with open(f, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        head = rows[0]
        for r in rows[1:]:
            units.append([x for h, c in zip(head, r) if not h.endswith("__status") and c for x in _floats(c)])
    recs = json.loads((run.run_dir / "results.json").read_text(encoding="utf-8"))
    recs = recs if isinstance(recs, list) else recs.get("records", [])
    for r in recs:
        if r.get("notebook") == key:
            units.append([float(r[f]) for f in ("value", "ci_low", "ci_high") if r.get(f) is not None])
    return units


def unmatched_intervals(run, key, lang) -> list[str]:
    """"X (tra Y e Z)" of the "In breve" sentences whose three numbers do not come from one table
    row or one record under one reading (as is, × 100, or 100 × |1 − ratio|)."""
    units = published_units(run, key)
    reads = (lambda x: x, lambda x: 100 * x, lambda x: 100 * abs(1 - x))
    bad = []
    for s in summary_items(run, key):
        for trip in interval_triples(s, lang):
            ok = any(all(_matches(v, d, [f(x) for x in u]) for v, d in trip) for u in units for f in reads)
            if not ok:
                bad.append(f"{trip} in: {s}")
    return bad


def other_language_words(run, key, lang) -> list[str]:
    """Stock words of the other language found in the rendered page."""
    text = page_text(run, key)
    other = "en" if lang == "it" else "it"
    return [w for w in STOCK[other] if w in text]


def jargon_in_summary(run, key) -> list[str]:
    return [f"{p!r} in: {s}" for s in summary_items(run, key) for p in JARGON if re.search(p, s)]


# ================================================================ notebooks 10 and 20 (w11a)
MINE = ["tempo_inserimento", "efficacia_ips"]


@pytest.mark.parametrize("lang", ["it", "en"])
@pytest.mark.parametrize("key", MINE)
def test_placement_and_ips_speak_one_language(key, lang, suite_run, english_run):
    run = _run_of(lang, suite_run, english_run)
    assert not other_language_words(run, key, lang), other_language_words(run, key, lang)


@pytest.mark.parametrize("lang", ["it", "en"])
@pytest.mark.parametrize("key", MINE)
def test_placement_and_ips_summary_has_no_jargon(key, lang, suite_run, english_run):
    run = _run_of(lang, suite_run, english_run)
    assert summary_items(run, key), "no In breve box"
    assert not jargon_in_summary(run, key), jargon_in_summary(run, key)


@pytest.mark.parametrize("lang", ["it", "en"])
@pytest.mark.parametrize("key", MINE)
def test_placement_and_ips_summary_numbers_are_published(key, lang, suite_run, english_run):
    run = _run_of(lang, suite_run, english_run)
    assert not unpublished_numbers(run, key, lang), unpublished_numbers(run, key, lang)
    # a value and its interval come from the same table row or record, with the same meaning
    assert not unmatched_intervals(run, key, lang), unmatched_intervals(run, key, lang)
    n = sum(len(interval_triples(s, lang)) for s in summary_items(run, key))
    assert n >= 2, "expected intervals in 'In breve'"


def test_placement_one_measure_per_question(suite_run):
    """Every "su 100 persone" of the time-to-placement report is the cumulative incidence (the
    table "inserimenti e uscite"), and 1 − Kaplan–Meier is named only as the pace of those who
    stay: no "su 100" figure for it, and the subgroup figures of "In breve" use no other measure."""
    run = suite_run
    text = page_text(run, "tempo_inserimento")
    pub = published(run, "tempo_inserimento")
    with open(run.run_dir / "tables" / "tempo_inserimento__inserimenti_e_uscite.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    aj = {100 * float(r[c]) for r in rows for c in ("aj", "aj_lower", "aj_upper", "wd") if r.get(c)}
    for m in re.finditer(r"Su 100 persone iscritte, [^.]*\.", text):
        for v, d, kind in numbers(m.group(0), "it"):
            if kind == "share":
                assert _matches(v, d, aj), (v, m.group(0))
    assert "contando come ancora in attesa" not in text
    for s in summary_items(run, "tempo_inserimento"):
        assert "%" not in s or "ritmo" in s, s  # percentages in "In breve" only as a pace, in words
    assert pub["share"]


@pytest.mark.parametrize("lang", ["it", "en"])
def test_placement_and_ips_intervals_in_words(lang, suite_run, english_run):
    """Running text writes intervals as "tra X e Y" / "between X and Y", never "(X–Y)" or
    "(X; Y)"; p-values never "0,000"; no "-0,00"; inconclusive always says why."""
    run = _run_of(lang, suite_run, english_run)
    for key in MINE:
        s = _soup(run, key)
        for t in s(["table", "figure", "figcaption"]):
            t.decompose()
        paras = [re.sub(r"\s+", " ", p.get_text(" ")) for p in s.select("p, li")]
        for p in paras:
            assert not re.search(r"\(\s*[−-]?\d+(?:[.,]\d+)?\s*[–;]\s*[−-]?\d", p), p
            assert "0,000" not in p and "0.000" not in p and "-0,00" not in p and "−0,00" not in p, p
        txt = page_text(run, key)
        for m in re.finditer(r"(non conclusiv[oa]|inconclusive)([^.;]{0,3})", txt):
            assert m.group(2).lstrip().startswith(":"), txt[m.start() - 80:m.end() + 80]


def test_placement_and_ips_glossary():
    from ixl_eval.report import ips, placement_time

    for lang in ("it", "en"):
        for g in (placement_time.glossary(lang, 10), ips.glossary(None, lang, 10)):
            assert len(g) >= 8 and all(t and m for t, m in g)
    terms = " ".join(t for t, _ in placement_time.glossary("it"))
    for w in ("Kaplan", "Aalen", "Schoenfeld", "Chi quadrato", "gradi di libertà", "Media ristretta", "k ",
              "Intervallo di confidenza", "hazard ratio"):
        assert w in terms, w
    terms = " ".join(t for t, _ in ips.glossary(None, "it"))
    for w in ("IPTW", "E-value", "Hazard ratio", "propensione", "Non conclusivo"):
        assert w in terms, w


# ==============================================================================================
# second half: notebooks 00, 30, 40 and the data-quality section
# ==============================================================================================

def _b_soup(run, key: str) -> BeautifulSoup:
    s = BeautifulSoup((run.run_dir / f"{key}.html").read_text(encoding="utf-8"), "html.parser")
    for t in s(["script", "style", "code", "pre"]):  # code: identifiers (parameter names, file names)
        t.decompose()
    return s


def _b_text(run, key: str, tables: bool = True) -> str:
    s = _b_soup(run, key)
    if not tables:
        for t in s(["table"]):
            t.decompose()
    return re.sub(r"\s+", " ", s.get_text(" "))


def _b_summary(run, key: str) -> list[str]:
    box = _b_soup(run, key).select_one(".ixl-summary")
    assert box is not None, f"{key}: no 'In breve' box"
    return [re.sub(r"\s+", " ", li.get_text(" ")).strip() for li in box.find_all("li")]



MY_NOTEBOOKS = ("panoramica", "stabilizzazione", "monitoraggio_trimestrale")

# Stock words of the other language, tuned against false hits (names from the data such as
# sectors, file names, and identifiers in <code> are not prose).
_EN_IN_IT = ("the", "and", "of", "between", "people", "placements", "enrolments", "contracts", "within",
             "synthetic", "which", "with", "year", "share", "data source", "cut-off", "inconclusive")
_IT_IN_EN = ("della", "degli", "delle", "sono", "anche", "persone", "iscritti", "inserimenti", "contratti",
             "trasformazioni", "tempo indeterminato", "quota", "rispetto", "entro", "dati", "fonte", "trimestre",
             "sintetici", "nessuna", "potrebbe")
# Words a policy officer should not meet in "In breve" (they live in "Come leggere" with a glossary).
_JARGON = ("HR", "IPTW", "E-value", "log-rank", "Cox", "Kaplan", "Aalen", "Schoenfeld", "Holm", "p =", "p <",
           "valore p", "p-value", "IC", "CI", "chi quadrato", "chi-square", "gradi di libertà", "RMST", "SMD",
           "censurat", "censored", "hazard", "cut-off", "Poisson", "Wilson", "95%")


def _words_found(text: str, words) -> list[str]:
    text = re.sub(r"\S+\.(?:csv|xlsx|json|yaml|md|html|parquet)\b", " ", text)
    return [w for w in words if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text, flags=re.IGNORECASE)]


@pytest.mark.parametrize("key", MY_NOTEBOOKS)
def test_w11b_italian_reports_have_no_english(suite_run, key):
    found = _words_found(_b_text(suite_run, key), _EN_IN_IT)
    assert not found, f"{key}: English words in the Italian report: {found}"


@pytest.mark.parametrize("key", MY_NOTEBOOKS)
def test_w11b_english_reports_have_no_italian(suite_run_en, key):
    found = _words_found(_b_text(suite_run_en, key), _IT_IN_EN)
    assert not found, f"{key}: Italian words in the English report: {found}"


@pytest.mark.parametrize("key", MY_NOTEBOOKS)
def test_w11b_in_breve_has_no_jargon(suite_run, suite_run_en, key):
    for run in (suite_run, suite_run_en):
        for s in _b_summary(run, key):
            hits = [w for w in _JARGON if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", s)]
            assert not hits, f"{key}: jargon {hits} in 'In breve': {s!r}"


@pytest.mark.parametrize("key", MY_NOTEBOOKS)
def test_w11b_number_formats(suite_run, key):
    """Italian numbers: no "-0,00", p-values never "0,000", dates dd/mm/yyyy, quarters "1° trim."."""
    text = _b_text(suite_run, key)
    assert not re.search(r"[-−]0,0+(?!\d*[1-9])\b", text), f"{key}: a negative zero"
    assert not re.search(r"(?<![\d,.])0,000(?!\d)", text), f"{key}: a p-value shown as 0,000"
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", text), f"{key}: an ISO date in an Italian report"
    # quarter codes stay in the tables' "(codice)" column, the key of the CSV; prose says "1° trim. 2024"
    assert not re.search(r"\b\d{4}Q[1-4]\b", _b_text(suite_run, key, tables=False)), f"{key}: a quarter code in prose"
    assert "synthetic" not in text.lower(), f"{key}: 'synthetic' in an Italian report"


# ---- each number of "In breve" comes from a table or a record of the same run


_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{4}\b|\b\d{4}-\d{2}-\d{2}\b")
_b_NUM = {"it": re.compile(r"(?<![\w,.])([+\-−]?)(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d+))?(\s*%)?"),
        "en": re.compile(r"(?<![\w,.])([+\-−]?)(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(\s*%)?")}


def _numbers(sentence: str, lang: str):
    """(value, decimals, is_percent, signed) of every number in a sentence, leaving out dates,
    years, quarters ("1° trim."), and the 100 of "su 100" / "in 100"."""
    s = _DATE.sub(" ", sentence)
    s = re.sub(r"«[^»]*»|'[^']*'", " ", s)  # group names ("Grande (oltre 250 addetti)") are labels
    s = re.sub(r"\b(?:superiore|inferiore) a \d+ su 100\b|\b(?:over|under) \d+ in 100\b", " ", s)  # bounds
    s = re.sub(r"\b\d°\s*trim\.", " ", s)
    s = re.sub(r"\b(?:su|in) 100\b", " ", s)
    for m in _b_NUM[lang].finditer(s):
        sign, whole, dec, pct = m.groups()
        grouped = ("." if lang == "it" else ",") in whole
        whole = whole.replace("." if lang == "it" else ",", "")
        v = float(whole + ("." + dec if dec else ""))
        if not dec and not sign and not pct and not grouped and 1990 <= v <= 2100:
            continue  # a year
        after = s[m.end():m.end() + 12]
        if re.match(r"\s*(?:mesi|mese|giorni|months?|days)\b", after):
            continue  # a horizon or a target set in the parameters
        yield (-v if sign in ("-", "−") else v), len(dec or ""), bool(pct), bool(sign)


def _pool(run, key: str):
    """Every number the run publishes for a notebook: its tables (CSV) and its records, plus its
    parameters (targets such as +15% or 40 in 100 are parameters)."""
    vals = []
    for p in (run.run_dir / "tables").glob(f"{key}__*.csv"):
        for line in p.read_text(encoding="utf-8-sig").splitlines()[1:]:
            for cell in line.split(","):
                try:
                    vals.append(float(cell))
                except ValueError:
                    pass
    for r in json.loads((run.run_dir / "results.json").read_text(encoding="utf-8")):
        if r["notebook"] == key:
            vals += [float(r[c]) for c in ("value", "ci_low", "ci_high", "n") if r.get(c) is not None]
    nb = json.loads((run.run_dir / f"{key}.ipynb").read_text(encoding="utf-8"))
    for c in nb["cells"]:
        if set(c.get("metadata", {}).get("tags", [])) & {"parameters", "injected-parameters"}:
            vals += [float(x) for x in re.findall(r"(?<![\w.])\d+(?:\.\d+)?", "".join(c["source"]))]
    return [v for v in vals if math.isfinite(v)]


def _explained(v: float, dec: int, pct: bool, signed: bool, pool) -> bool:
    for x in pool:
        if pct or signed:  # a share or a change in percent: the table keeps it as a proportion
            if round(100 * x, dec) == v or (not signed and round(100 * abs(x), dec) == abs(v)):
                return True
        if dec:
            if round(x, dec) == v or round(100 * x, dec) == v:
                return True
        elif not pct and (x == v or (0 <= x <= 1 and round(100 * x) == v) or round(x) == v):
            # a count, a share written "N su 100", or a rounded projection / median
            return True
    return False


@pytest.mark.parametrize("key", MY_NOTEBOOKS)
def test_w11b_in_breve_numbers_come_from_the_run(suite_run, suite_run_en, key):
    for run, lang in ((suite_run, "it"), (suite_run_en, "en")):
        pool = _pool(run, key)
        for s in _b_summary(run, key):
            nums = list(_numbers(s, lang))
            # a change in percent may be the ratio of two counts the same sentence shows
            ratios = [100 * (a / b - 1) for a, *_ in nums for b, *_ in nums if b]
            for v, dec, pct, signed in nums:
                if pct and signed and any(round(r, dec) == v for r in ratios):
                    continue
                assert _explained(v, dec, pct, signed, pool), (
                    f"{key} ({lang}): {v} in 'In breve' is in no table, record or parameter of the run: {s!r}")


def test_w11b_number_parser():
    got = list(_numbers("Nel 2023 1.324 persone (+61%), tra 0,17 e 0,61; dal 01/01/2024; su 100, 13 entro 12 mesi, "
                        "in «Grande (oltre 250 addetti)», 2.047", "it"))
    assert got == [(1324.0, 0, False, False), (61.0, 0, True, True), (0.17, 2, False, False),
                   (0.61, 2, False, False), (13.0, 0, False, False), (2047.0, 0, False, False)]


# ---- contradictions named in the issue


def test_w11b_stabilisation_gender_sentence_agrees_with_the_tables(suite_run):
    """The gender sentence says why no shares are compared when the table withholds them, and never
    claims 'not enough data' next to a table with hundreds of contracts."""
    text = _b_text(suite_run, "stabilizzazione")
    assert "Per genere non ci sono abbastanza dati" not in text
    assert re.search(r"Per genere le quote entro 12 mesi non sono mostrate, per riservatezza", text)


def test_w11b_stabilisation_rate_is_not_read_as_a_share(suite_run):
    text = _b_text(suite_run, "stabilizzazione")
    assert "ogni 100 contratti in un anno" not in text
    assert "misura il ritmo, non una quota" in text


def test_w11b_monitoring_says_when_a_change_could_be_chance(suite_run):
    """A change not significant after Holm says so in words, in "In breve"."""
    run = suite_run
    tables = run.run_dir / "tables"
    rows = {}
    for line in (tables / "monitoraggio_trimestrale__confronti_holm.csv").read_text(encoding="utf-8-sig").splitlines()[1:]:
        cells = line.split(",")
        rows[cells[0]] = cells
    summary = _b_summary(run, "monitoraggio_trimestrale")
    perm = [s for s in summary if s.startswith("Quelli a tempo indeterminato")]
    assert perm, summary
    p_holm = float(rows["Inserimenti a tempo indeterminato"][-2])
    assert p_holm >= 0.05  # the bundled data: +61%, Holm 0,863
    assert "potrebbe essere dovuta al caso" in perm[0]


# ---- data quality that speaks


@pytest.mark.parametrize("key", MY_NOTEBOOKS)
def test_w11b_empty_april_2024_is_flagged(suite_run, suite_run_en, key):
    it = _b_text(suite_run, key)
    assert "Nessuna iscrizione registrata in aprile 2024" in it, key
    assert "nessuna anomalia" not in it.lower(), key
    assert re.search(r"L'ultimo trimestre, 2° trim\. 2024, è parziale: i dati vanno dal 01/04/2024 al 30/04/2024", it)
    en = _b_text(suite_run_en, key)
    assert "No enrolments recorded in April 2024" in en, key


def test_w11b_monitoring_warns_where_year_to_date_rests_on_the_gap(suite_run):
    summary = _b_summary(suite_run, "monitoraggio_trimestrale")
    assert any("nessuna iscrizione in aprile 2024" in s for s in summary), summary
    text = _b_text(suite_run, "monitoraggio_trimestrale")
    assert "dal 01/01/2024 al 30/04/2024 e dal 01/01/2023 al 30/04/2023" in text


def test_w11b_year_to_date_uses_the_same_days(synth_dataset):
    from ixl_eval import kpi

    import pandas as pd

    for cutoff in ("2024-04-30", "2024-02-29", "2023-12-31"):
        a = kpi.analyse(synth_dataset, cutoff=cutoff, years=[2023])
        at = a.compare_ytd.attrs
        assert at["start"] == pd.Timestamp(year=a.cutoff.year, month=1, day=1)
        assert at["before_start"] == at["start"] - pd.DateOffset(years=1)
        assert at["before_end"] == at["end"] - pd.DateOffset(years=1)
        assert (at["end"] - at["start"]).days - (at["before_end"] - at["before_start"]).days in (0, 1)


def test_w11b_activity_gaps_on_the_bundled_data(synth_dataset):
    from ixl_eval import kpi

    g = kpi.activity_gaps(synth_dataset)
    assert ("enrolments", "2024-04") in g.empty
    assert g.partial_quarter[0] == "2024Q2" and g.partial_quarter[3:] == (30, 91)
    m = g.monthly.set_index(["measure", "month"])
    assert m.loc[("enrolments", "2024-04"), "count"] == 0
