"""Reports that read true (issue 11): plain words, one language, numbers that come from the tables.

The file has two halves, owned by two engineers:

* first half: notebooks 10 (``tempo_inserimento``) and 20 (``efficacia_ips``);
* second half: notebooks 00 (``panoramica``), 30 (``stabilizzazione``) and 40
  (``monitoraggio_trimestrale``), and the data-quality section every report shows.

Italian reports come from the session's ``suite_run``; English ones from ONE English run of every
notebook per test session (``suite_run_en`` below), shared by both halves.
"""

from __future__ import annotations

import json
import math
import re

import pytest
from bs4 import BeautifulSoup


@pytest.fixture(scope="session")
def suite_run_en(synth_dir, tmp_path_factory):
    """ONE run of every notebook with English reports (``lang: en``) on ``synth_dir``."""
    from ixl_eval.runner import find_notebooks, run

    out = tmp_path_factory.mktemp("suite_en")
    p = out / "suite_en.yaml"
    p.write_text("name: suite_en\nlang: en\nnotebooks:\n" + "".join(f"  {k}: {{}}\n" for k in find_notebooks()),
                 encoding="utf-8")
    return run(p, data_dir=synth_dir, outputs_dir=out / "outputs", compare=False)


# ------------------------------------------------------------------------------ shared helpers


def _soup(run, key: str) -> BeautifulSoup:
    s = BeautifulSoup((run.run_dir / f"{key}.html").read_text(encoding="utf-8"), "html.parser")
    for t in s(["script", "style", "code", "pre"]):  # code: identifiers (parameter names, file names)
        t.decompose()
    return s


def _text(run, key: str, tables: bool = True) -> str:
    s = _soup(run, key)
    if not tables:
        for t in s(["table"]):
            t.decompose()
    return re.sub(r"\s+", " ", s.get_text(" "))


def _summary(run, key: str) -> list[str]:
    box = _soup(run, key).select_one(".ixl-summary")
    assert box is not None, f"{key}: no 'In breve' box"
    return [re.sub(r"\s+", " ", li.get_text(" ")).strip() for li in box.find_all("li")]


# ==============================================================================================
# first half: notebooks 10 and 20 (the other engineer's section)
# ==============================================================================================


# ==============================================================================================
# second half: notebooks 00, 30, 40 and the data-quality section
# ==============================================================================================

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
    found = _words_found(_text(suite_run, key), _EN_IN_IT)
    assert not found, f"{key}: English words in the Italian report: {found}"


@pytest.mark.parametrize("key", MY_NOTEBOOKS)
def test_w11b_english_reports_have_no_italian(suite_run_en, key):
    found = _words_found(_text(suite_run_en, key), _IT_IN_EN)
    assert not found, f"{key}: Italian words in the English report: {found}"


@pytest.mark.parametrize("key", MY_NOTEBOOKS)
def test_w11b_in_breve_has_no_jargon(suite_run, suite_run_en, key):
    for run in (suite_run, suite_run_en):
        for s in _summary(run, key):
            hits = [w for w in _JARGON if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", s)]
            assert not hits, f"{key}: jargon {hits} in 'In breve': {s!r}"


@pytest.mark.parametrize("key", MY_NOTEBOOKS)
def test_w11b_number_formats(suite_run, key):
    """Italian numbers: no "-0,00", p-values never "0,000", dates dd/mm/yyyy, quarters "1° trim."."""
    text = _text(suite_run, key)
    assert not re.search(r"[-−]0,0+(?!\d*[1-9])\b", text), f"{key}: a negative zero"
    assert not re.search(r"(?<![\d,.])0,000(?!\d)", text), f"{key}: a p-value shown as 0,000"
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", text), f"{key}: an ISO date in an Italian report"
    # quarter codes stay in the tables' "(codice)" column, the key of the CSV; prose says "1° trim. 2024"
    assert not re.search(r"\b\d{4}Q[1-4]\b", _text(suite_run, key, tables=False)), f"{key}: a quarter code in prose"
    assert "synthetic" not in text.lower(), f"{key}: 'synthetic' in an Italian report"


# ---- each number of "In breve" comes from a table or a record of the same run


_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{4}\b|\b\d{4}-\d{2}-\d{2}\b")
_NUM = {"it": re.compile(r"(?<![\w,.])([+\-−]?)(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d+))?(\s*%)?"),
        "en": re.compile(r"(?<![\w,.])([+\-−]?)(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(\s*%)?")}


def _numbers(sentence: str, lang: str):
    """(value, decimals, is_percent, signed) of every number in a sentence, leaving out dates,
    years, quarters ("1° trim."), and the 100 of "su 100" / "in 100"."""
    s = _DATE.sub(" ", sentence)
    s = re.sub(r"«[^»]*»|'[^']*'", " ", s)  # group names ("Grande (oltre 250 addetti)") are labels
    s = re.sub(r"\b(?:superiore|inferiore) a \d+ su 100\b|\b(?:over|under) \d+ in 100\b", " ", s)  # bounds
    s = re.sub(r"\b\d°\s*trim\.", " ", s)
    s = re.sub(r"\b(?:su|in) 100\b", " ", s)
    for m in _NUM[lang].finditer(s):
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
        for s in _summary(run, key):
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
    text = _text(suite_run, "stabilizzazione")
    assert "Per genere non ci sono abbastanza dati" not in text
    assert re.search(r"Per genere le quote entro 12 mesi non sono mostrate, per riservatezza", text)


def test_w11b_stabilisation_rate_is_not_read_as_a_share(suite_run):
    text = _text(suite_run, "stabilizzazione")
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
    summary = _summary(run, "monitoraggio_trimestrale")
    perm = [s for s in summary if s.startswith("Quelli a tempo indeterminato")]
    assert perm, summary
    p_holm = float(rows["Inserimenti a tempo indeterminato"][-2])
    assert p_holm >= 0.05  # the bundled data: +61%, Holm 0,863
    assert "potrebbe essere dovuta al caso" in perm[0]


# ---- data quality that speaks


@pytest.mark.parametrize("key", MY_NOTEBOOKS)
def test_w11b_empty_april_2024_is_flagged(suite_run, suite_run_en, key):
    it = _text(suite_run, key)
    assert "Nessuna iscrizione registrata in aprile 2024" in it, key
    assert "nessuna anomalia" not in it.lower(), key
    assert re.search(r"L'ultimo trimestre, 2° trim\. 2024, è parziale: i dati vanno dal 01/04/2024 al 30/04/2024", it)
    en = _text(suite_run_en, key)
    assert "No enrolments recorded in April 2024" in en, key


def test_w11b_monitoring_warns_where_year_to_date_rests_on_the_gap(suite_run):
    summary = _summary(suite_run, "monitoraggio_trimestrale")
    assert any("nessuna iscrizione in aprile 2024" in s for s in summary), summary
    text = _text(suite_run, "monitoraggio_trimestrale")
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
