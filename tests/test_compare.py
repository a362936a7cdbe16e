"""What changed since the previous run: estimate flags, data changes, ``changes.json``, the HTML.

Three levels, cheapest first: the flag rule on hand-made records; ``compare_runs`` on two
hand-made run folders over two hand-made extracts (every expected count worked out by hand
below); two real runs through ``ixl_eval.runner.run`` on two synthetic extracts (the second with
an added quarter, a late record, a revised record and a removed one), with one tiny notebook so
the test takes seconds.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from ixl_eval import compare, params
from ixl_eval.dataset import load_dataset
from ixl_eval.exceptions import RunError
from ixl_eval.io import write_data_dir
from ixl_eval.runner import run

VALID = Path(__file__).parent / "data" / "valid"


# ------------------------------------------------------------------ the flag rule, by hand


def _rec(key, value, lo=None, hi=None, *, unit="share", notebook="nb", n=None):
    return {"notebook": notebook, "key": key, "value": value, "ci_low": lo, "ci_high": hi, "n": n, "unit": unit,
            "label_it": f"Etichetta {key}", "label_en": f"Label {key}"}


PREVIOUS = [
    _rec("inside", 0.40, 0.36, 0.44),            # -> 0.42: inside the CI, +5%: not flagged
    _rec("now_outside", 0.40, 0.36, 0.44),       # -> 0.43 with CI (0.425, 0.435): old value outside the new CI
    _rec("on_bound", 0.40, 0.36, 0.44),          # -> 0.44: on the bound is inside; +10% is not over 10%
    _rec("beyond", 0.40, 0.36, 0.44),            # -> 0.45: outside the CI and +12.5%
    _rec("count_up", 100, unit="people"),         # -> 111: no CI, +11%: over the threshold only
    _rec("count_same", 250, unit="people"),       # -> 250: unchanged
    _rec("from_zero", 0, unit="people"),          # -> 12: relative change undefined, flagged
    _rec("zero_zero", 0.0, unit="days"),          # -> 0.0: unchanged
    _rec("hidden_now", 0.30, 0.20, 0.40),        # -> null (suppressed now)
    _rec("hidden_before", None),                  # -> 0.50 (suppressed before)
    _rec("label", "individual", unit=""),         # -> "plenary": text changed
    _rec("gone", 12.5, unit="days"),              # removed
    _rec("old", 3.0, unit="days", notebook="not_run_now"),  # notebook not run now: not compared
]
CURRENT = [
    _rec("inside", 0.42, 0.38, 0.46),
    _rec("now_outside", 0.43, 0.425, 0.435),
    _rec("on_bound", 0.44, 0.40, 0.48),
    _rec("beyond", 0.45, 0.41, 0.49),
    _rec("count_up", 111, unit="people"),
    _rec("count_same", 250, unit="people"),
    _rec("from_zero", 12, unit="people"),
    _rec("zero_zero", 0.0, unit="days"),
    _rec("hidden_now", None),
    _rec("hidden_before", 0.50, 0.40, 0.60),
    _rec("label", "plenary", unit=""),
    _rec("new", 7.0, unit="days"),                # added
]


def _by_key(result):
    return {r["key"]: r for r in result["records"]}


def test_flag_rule_on_hand_made_records():
    res = compare.compare_estimates(PREVIOUS, CURRENT, 0.10, notebooks_before={"nb", "not_run_now"},
                                    notebooks_now={"nb"})
    r = _by_key(res)
    assert (r["inside"]["status"], r["inside"]["flagged"], r["inside"]["outside_ci"]) == ("changed", False, False)
    assert r["inside"]["abs_change"] == 0.02 and r["inside"]["rel_change"] == 0.05
    assert r["now_outside"]["outside_ci"] is True and r["now_outside"]["reasons"] == ["outside_ci"]
    assert r["on_bound"]["outside_ci"] is False and r["on_bound"]["over_threshold"] is False
    assert r["on_bound"]["rel_change"] == 0.1 and not r["on_bound"]["flagged"]
    assert r["beyond"]["reasons"] == ["outside_ci", "over_threshold"] and r["beyond"]["rel_change"] == 0.125
    assert r["count_up"]["outside_ci"] is None and r["count_up"]["reasons"] == ["over_threshold"]
    assert (r["count_up"]["abs_change"], r["count_up"]["rel_change"]) == (11, 0.11)
    assert r["count_same"]["status"] == "unchanged" and r["count_same"]["abs_change"] == 0
    assert r["from_zero"]["rel_change"] is None and r["from_zero"]["reasons"] == ["over_threshold"]
    assert r["zero_zero"]["status"] == "unchanged" and not r["zero_zero"]["flagged"]
    for k in ("hidden_now", "hidden_before"):  # reported as withheld, never compared or rebuilt
        assert r[k]["status"] == "suppressed" and r[k]["abs_change"] is None and not r[k]["flagged"]
    assert r["hidden_now"]["current"] == {"value": None, "ci_low": None, "ci_high": None, "n": None}
    assert r["label"]["reasons"] == ["value_changed"] and r["label"]["abs_change"] is None
    assert r["gone"]["status"] == "removed" and r["gone"]["current"] is None
    assert r["new"]["status"] == "added" and r["new"]["previous"] is None
    assert r["old"]["status"] == "not_compared"
    assert res["summary"] == {
        "relative_threshold": 0.10, "records": 14, "unchanged": 2, "changed": 7, "suppressed": 2, "added": 1,
        "removed": 1, "not_compared": 1, "compared": 9, "flagged": 5, "flagged_ci": 2, "flagged_threshold": 4,
    }
    pairs = [(x["notebook"], x["key"]) for x in res["records"]]
    assert pairs == sorted(pairs) and pairs[-1] == ("not_run_now", "old")


def test_threshold_is_a_parameter():
    loose = compare.compare_estimates(PREVIOUS, CURRENT, 0.20)["summary"]
    strict = compare.compare_estimates(PREVIOUS, CURRENT, 0.04)["summary"]
    # 0.20: only the change from zero and the text stay over; 0.04: +5%, +7.5% and +10% join in
    assert (loose["flagged_threshold"], strict["flagged_threshold"]) == (2, 7)
    with pytest.raises(ValueError):
        compare.compare_estimates(PREVIOUS, CURRENT, -0.1)


# ----------------------------------------------------- two hand-made extracts, counted by hand

# The previous extract, on 30/09/2023, of the people in tests/data/valid (extracted 30/04/2024):
# - participants: P000006 not enrolled yet; P000004's education since corrected;
# - interviews: P000006's not yet; P000003's format since corrected (individual -> plenary);
# - programmes: P000001's IPS had not ended yet (end date since filled in); P000005's IPS offer of
#   01/07/2023 is missing (entered late); P000006's not offered yet;
# - placements: C0000001 had neither ended nor converted yet (both dates since filled in);
#   C0000002 not started yet; C0000009 (P000002, 01/03/2023) was since removed.
PREV_FILES = {
    "extract.yaml": "extracted_on: 2023-09-30\nsource: hand-made test fixture\n",
    "participants.csv": """participant_id,enrolled_on,birth_year,gender,citizenship,education,withdrawn_on
P000001,2023-01-10,1985,F,IT,upper_secondary_diploma,
P000002,2023-02-03,1971,M,MA,none_or_compulsory,2023-09-30
P000003,2023-03-15,1999,X,RO,degree_or_postgraduate,
P000004,2023-05-02,1990,F,NA,none_or_compulsory,
P000005,2023-06-20,2002,M,IT,upper_secondary_diploma,
""",
    "interviews.csv": """participant_id,interviewed_on,format
P000001,2023-01-20,individual
P000002,2023-02-10,plenary
P000003,2023-03-20,individual
P000004,2023-05-10,individual
P000005,2023-06-29,individual
""",
    "programmes.csv": """participant_id,programme,offered_on,decision,started_on,ended_on
P000001,ips,2023-02-01,accepted,2023-02-15,
P000002,training,2023-03-01,declined,,
P000003,orientation,2023-04-01,accepted,2023-04-10,2023-05-10
""",
    "placements.csv": """placement_id,participant_id,employer_id,employer_size,sector,contract_type,channel,started_on,ended_on,converted_on,employer_name
C0000001,P000001,E00001,large,Ristorazione e caffè,fixed_term,ips,2023-04-03,,,Camst
C0000003,P000003,E00003,medium,Logistica,internship,ixl_training,2023-06-01,2023-08-31,,
C0000004,P000004,E00001,large,Pulizie,fixed_term,apl,2023-07-01,,,Camst
C0000005,P000005,E00004,small,Trasporti,on_call,orientation,2023-09-01,2023-09-30,,
C0000009,P000002,E00002,micro,Pulizie,fixed_term,apl,2023-03-01,2023-06-30,,
""",
}

_Z = {"added": 0, "removed": 0, "revised": 0, "corrected": 0}


def _q(closed, **kw):
    return {"closed": closed, **_Z, **kw}


EXPECTED_TABLES = {
    "participants": dict(previous_records=5, current_records=6, added=1, removed=0, revised=1, completed=0,
                         corrected=1, unchanged=4, revised_columns={"education": 1},
                         before_previous_extract={"added": 0, "removed": 0, "revised": 1, "corrected": 1},
                         in_closed_quarters={"added": 0, "removed": 0, "revised": 1, "corrected": 1},
                         by_quarter={"2023Q2": _q(True, revised=1, corrected=1), "2024Q1": _q(False, added=1)}),
    "interviews": dict(previous_records=5, current_records=6, added=1, removed=0, revised=1, completed=0,
                       corrected=1, unchanged=4, revised_columns={"format": 1},
                       before_previous_extract={"added": 0, "removed": 0, "revised": 1, "corrected": 1},
                       in_closed_quarters={"added": 0, "removed": 0, "revised": 1, "corrected": 1},
                       by_quarter={"2023Q1": _q(True, revised=1, corrected=1), "2024Q1": _q(False, added=1)}),
    "programmes": dict(previous_records=3, current_records=5, added=2, removed=0, revised=1, completed=1,
                       corrected=0, unchanged=2, revised_columns={"ended_on": 1},
                       before_previous_extract={"added": 1, "removed": 0, "revised": 1, "corrected": 0},
                       in_closed_quarters={"added": 1, "removed": 0, "revised": 1, "corrected": 0},
                       by_quarter={"2023Q1": _q(True, revised=1), "2023Q3": _q(True, added=1),
                                   "2024Q1": _q(False, added=1)}),
    "placements": dict(previous_records=5, current_records=5, added=1, removed=1, revised=1, completed=1,
                       corrected=0, unchanged=3, revised_columns={"ended_on": 1, "converted_on": 1},
                       before_previous_extract={"added": 0, "removed": 1, "revised": 1, "corrected": 0},
                       in_closed_quarters={"added": 0, "removed": 1, "revised": 1, "corrected": 0},
                       by_quarter={"2023Q1": _q(True, removed=1), "2023Q2": _q(True, revised=1),
                                   "2024Q1": _q(False, added=1)}),
}


@pytest.fixture(scope="module")
def two_extracts(tmp_path_factory):
    d = tmp_path_factory.mktemp("extracts")
    prev = d / "2023-09-30"
    prev.mkdir()
    for name, text in PREV_FILES.items():
        (prev / name).write_text(text, encoding="utf-8")
    now = d / "2024-04-30"
    shutil.copytree(VALID, now)
    return prev, now


def test_extract_changes_counted_by_hand(two_extracts):
    prev, now = (load_dataset(p) for p in two_extracts)
    got = compare.compare_extracts(prev, now)
    assert got["method"] == "records"
    assert (got["previous_extracted_on"], got["current_extracted_on"]) == ("2023-09-30", "2024-04-30")
    for table, want in EXPECTED_TABLES.items():
        t = got["tables"][table]
        assert {k: t[k] for k in want} == want, table
        assert t["duplicate_keys"] == {"previous": 0, "current": 0}
        assert t["key"] == list(compare.RECORD_KEYS[table]) and t["date_column"] == compare.PERIOD_COLUMNS[table]


def test_duplicate_keys_are_matched_not_dropped(two_extracts):
    prev, now = (load_dataset(p) for p in two_extracts)
    twice = pd.concat([now.interviews, now.interviews.iloc[[0]]], ignore_index=True)  # one interview entered twice
    got = compare._table_changes("interviews", prev.interviews, twice, pd.Timestamp(prev.extracted_on))
    assert got["duplicate_keys"] == {"previous": 0, "current": 2}
    assert (got["added"], got["unchanged"], got["revised"]) == (2, 4, 1)
    assert got["by_quarter"]["2023Q1"]["added"] == 1 and got["before_previous_extract"]["added"] == 1


def _manifest(run_id, data_dir, *, lang="it", k=10, notebooks=("nb",), years=(2023,), commit="abc"):
    ds = load_dataset(data_dir)
    return {
        "run_id": run_id, "status": "ok", "cutoff_used": str(ds.extracted_on),
        "params": {"name": "q", "data_dir": "", "cutoff": None, "lang": lang, "disclosure_threshold": k,
                   "notebooks": {n: {"years": list(years)} for n in notebooks}},
        "data": {"dir": str(data_dir), "source": ds.source, "synthetic": False, "extracted_on": str(ds.extracted_on),
                 "sha256": ds.sha256, "rows": {t: len(ds.table(t)) for t in compare.PERIOD_COLUMNS},
                 "rows_by_quarter": compare.rows_by_quarter(ds)},
        "code": {"commit": commit, "version": "0.1", "dirty": False},
        "notebooks": [{"key": n, "status": "ok"} for n in notebooks],
    }


def _run_folder(root: Path, manifest: dict, records: list) -> Path:
    d = root / manifest["run_id"]
    (d / "fragments").mkdir(parents=True)
    (d / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (d / "results.json").write_text(json.dumps(records), encoding="utf-8")
    (d / "fragments" / "nb.json").write_text(json.dumps({"title_it": "Rapporto di prova", "title_en": "Test report"}))
    return d


def test_compare_runs_writes_changes_json_and_italian_html(two_extracts, tmp_path):
    prev_data, now_data = two_extracts
    a = _run_folder(tmp_path, _manifest("20231005-090000_q_aaaaaaaa", prev_data), PREVIOUS[:-1])
    b = _run_folder(tmp_path, _manifest("20240505-090000_q_bbbbbbbb", now_data, years=(2023, 2024), commit="def"),
                    CURRENT)
    html = compare.compare_runs(a, b)
    ch = json.loads((b / "changes.json").read_text(encoding="utf-8"))
    assert (ch["previous_run"], ch["current_run"]) == (a.name, b.name)
    assert ch["previous"]["params_name"] == ch["current"]["params_name"] == "q"
    assert (ch["previous"]["extracted_on"], ch["current"]["extracted_on"]) == ("2023-09-30", "2024-04-30")
    assert (ch["previous"]["cutoff"], ch["current"]["cutoff"]) == ("2023-09-30", "2024-04-30")
    assert ch["parameters_changed"] == ["notebooks.nb.years"] and ch["code_changed"] is True
    assert ch["estimates"]["summary"]["flagged"] == 5 and ch["estimates"]["summary"]["relative_threshold"] == 0.1
    assert ch["data"]["status"] == "compared" and ch["data"]["previous_extract"]["hashes_match"] is True
    assert ch["data"]["current_extract_matches_manifest"] is True
    for table, want in EXPECTED_TABLES.items():
        assert {k: ch["data"]["tables"][table][k] for k in want} == want, table
    text = json.dumps(ch)
    for ident in ("P000001", "P000004", "C0000001", "C0000009", "E00001"):  # counts only, never an identifier
        assert ident not in text and ident not in html
    assert html.startswith('<div class="ixl-changes">')
    assert "Rispetto all&#x27;esecuzione precedente (20231005-090000_q_aaaaaaaa, dati estratti il 30/09/2023" in html
    assert "2 stime cambiate oltre l&#x27;intervallo di confidenza e 4 di oltre il 10% (5 segnalate" in html
    assert "1 stima nuova, 1 non più presente, 2 non confrontabili" in html
    assert "Rapporto di prova" in html and "Etichetta beyond" in html and "Etichetta inside" not in html
    assert "fuori dall&#x27;intervallo di confidenza; variazione oltre il 10%" in html
    assert "+12,5%" in html  # the relative change, Italian style
    assert "&lt;10" in html and "3° trimestre 2023" in html  # small counts of changed records suppressed
    assert "I parametri sono cambiati" in html and "Il codice di analisi è cambiato" in html


def test_html_in_english_with_the_current_threshold(two_extracts, tmp_path):
    prev_data, now_data = two_extracts
    # the previous run showed counts from 5, this one from 12: the same counts are shown as "<12"
    a = _run_folder(tmp_path, _manifest("20231005-090000_q_aaaaaaaa", prev_data, k=5), PREVIOUS)
    b = _run_folder(tmp_path, _manifest("20240505-090000_q_bbbbbbbb", now_data, lang="en", k=12), CURRENT)
    html = compare.compare_runs(a, b, rel_threshold=0.05)
    assert "Compared with the previous run (20231005-090000_q_aaaaaaaa, data extracted on 2023-09-30" in html
    assert "by more than 5%" in html and "Test report" in html and "Label count_up" in html
    assert "Q3 2023" in html and "&lt;12" in html and "Rispetto" not in html
    ch = json.loads((b / "changes.json").read_text())
    assert ch["estimates"]["summary"]["relative_threshold"] == 0.05
    assert ch["parameters_changed"] == ["disclosure_threshold", "lang"]  # data_dir is not a parameter change


def test_html_labels_name_the_period_of_each_estimate():
    r = {"key": "placements__channel=ips__quarter=2024Q1", "label_it": "Inserimenti: Metodo IPS", "label_en": ""}
    assert compare._label(r, "it") == "Inserimenti: Metodo IPS (1° trimestre 2024)"
    assert compare._label(r, "en") == "Inserimenti: Metodo IPS (Q1 2024)"  # no English label: the Italian one
    assert compare._label({"key": "permanent__ytd=2024", "label_en": "Permanent"}, "en") == "Permanent (2024 year to date)"
    assert compare._label({"key": "hr__contrast=ips", "label_it": ""}, "it") == "hr__contrast=ips"
    assert [compare._fmt_threshold(x, "it") for x in (0.1, 0.025, 0.15)] == ["10%", "2,5%", "15%"]


def test_previous_extract_changed_or_gone_falls_back_to_counts(two_extracts, tmp_path):
    prev_data, now_data = two_extracts
    edited = tmp_path / "edited"
    shutil.copytree(prev_data, edited)
    m = _manifest("20231005-090000_q_aaaaaaaa", edited)
    a = _run_folder(tmp_path, m, PREVIOUS)
    b = _run_folder(tmp_path, _manifest("20240505-090000_q_bbbbbbbb", now_data), CURRENT)
    # After the run the data manager overwrote the folder: the 01/03/2023 placement is gone.
    lines = (edited / "placements.csv").read_text(encoding="utf-8").splitlines()
    (edited / "placements.csv").write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    html = compare.compare_runs(a, b)
    d = json.loads((b / "changes.json").read_text())["data"]
    assert d["status"] == "previous_extract_changed" and d["method"] == "aggregate_counts"
    assert d["previous_extract"]["files_changed"] == ["placements.csv"] and not d["previous_extract"]["hashes_match"]
    pl = d["tables"]["placements"]
    # from the manifest's counts: 2023Q1 1 -> 0 (C0000009 removed), 2024Q1 0 -> 1 (C0000002 added)
    assert (pl["previous_records"], pl["current_records"], pl["difference"]) == (5, 5, 0)
    assert pl["by_quarter"] == {"2023Q1": {"closed": True, "previous": 1, "current": 0, "difference": -1},
                                "2024Q1": {"closed": False, "previous": 0, "current": 1, "difference": 1}}
    assert (pl["closed_quarters_changed"], pl["closed_quarters_net_difference"]) == (1, -1)
    assert d["tables"]["programmes"]["by_quarter"]["2023Q3"] == {"closed": True, "previous": 0, "current": 1,
                                                                 "difference": 1}
    assert "l&#x27;impronta SHA-256 non corrisponde più" in html and "1° trimestre 2023" in html

    shutil.rmtree(edited)
    del m["data"]["rows_by_quarter"]  # an older manifest: totals only
    (a / "manifest.json").write_text(json.dumps(m))
    compare.compare_runs(a, b)
    d = json.loads((b / "changes.json").read_text())["data"]
    assert d["status"] == "previous_extract_unreadable" and d["previous_extract"]["readable"] is False
    assert d["tables"]["participants"] == {"previous_records": 5, "current_records": 6, "difference": 1,
                                           "by_quarter": None, "closed_quarters_changed": None,
                                           "closed_quarters_net_difference": None}


def test_missing_run_files_are_a_run_error(two_extracts, tmp_path):
    prev_data, now_data = two_extracts
    a = _run_folder(tmp_path, _manifest("20231005-090000_q_aaaaaaaa", prev_data), PREVIOUS)
    b = tmp_path / "new"
    b.mkdir()
    with pytest.raises(RunError, match="current run"):
        compare.compare_runs(a, b)
    (a / "results.json").unlink()
    with pytest.raises(RunError, match="previous run"):
        compare.compare_runs(a, tmp_path / "20231005-090000_q_aaaaaaaa")


# --------------------------------------------- two real runs on two synthetic extracts

PREV_CUTOFF = pd.Timestamp("2023-12-31")


def _as_of(frames: dict, when: pd.Timestamp) -> dict:
    """The extract as it would have been on ``when``: later records dropped, later dates empty."""
    out = {t: f.drop(columns=[c for c in f.columns if c.startswith("_")]).copy() for t, f in frames.items()}
    p = out["participants"]
    p = p[p["enrolled_on"] <= when].copy()
    p.loc[p["withdrawn_on"] > when, "withdrawn_on"] = pd.NaT
    ids = set(p["participant_id"])
    out["participants"] = p
    i = out["interviews"]
    out["interviews"] = i[(i["interviewed_on"] <= when) & i["participant_id"].isin(ids)]
    g = out["programmes"]
    g = g[(g["offered_on"] <= when) & g["participant_id"].isin(ids)].copy()
    for c in ("started_on", "ended_on"):
        g.loc[g[c] > when, c] = pd.NaT
    out["programmes"] = g
    pl = out["placements"]
    pl = pl[(pl["started_on"] <= when) & pl["participant_id"].isin(ids)].copy()
    for c in ("ended_on", "converted_on"):
        pl.loc[pl[c] > when, c] = pd.NaT
    out["placements"] = pl
    return out


def _tiny_notebook():
    """A stand-in for a report: placements and the permanent share (Wilson 95% CI) per year."""
    cells = [nbformat.v4.new_code_cell("\n".join(c.line() for c in params.parameter_cell("panoramica")))]
    cells[0].metadata["tags"] = ["parameters"]
    cells.append(nbformat.v4.new_code_cell(
        "from statsmodels.stats.proportion import proportion_confint\n"
        "from ixl_eval.report import Report\n"
        'rep = Report.open("panoramica", data_dir=data_dir, cutoff=cutoff, lang=lang,\n'
        "                  disclosure_threshold=disclosure_threshold, output_dir=output_dir)\n"
        'rep.header(title_it="Prova del confronto", title_en="Comparison test")\n'
        "pl = rep.ds.placements\n"
        "for y, g in pl.groupby(pl.started_on.dt.year):\n"
        "    x, n = int((g.contract_type == 'permanent').sum()), len(g)\n"
        "    rep.record(f'placements__year={y}', n, unit='contracts', label_it='Inserimenti', label_en='Placements')\n"
        "    rep.record(f'permanent_share__year={y}', x / n, ci=proportion_confint(x, n, method='wilson'), n=n,\n"
        "               unit='share', label_it='Quota a tempo indeterminato', label_en='Permanent share')\n"
        'rep.summary(["Una frase."])\n'
        "rep.finish()"))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


@pytest.fixture(scope="module")
def quarter_runs(synth_dataset, tmp_path_factory):
    """Run A on the extract of 31/12/2023; run B on the full extract (30/04/2024) where, since A,
    one 2023Q4 placement was entered late, one 2022 placement was removed and one 2022 permanent
    contract was corrected to an internship."""
    root = tmp_path_factory.mktemp("quarters")
    full = {t: synth_dataset.table(t) for t in compare.PERIOD_COLUMNS}
    pl = full["placements"]
    y2022 = pl[pl["started_on"].dt.year == 2022]
    removed = y2022[y2022["ended_on"].notna() & (y2022["ended_on"] <= PREV_CUTOFF)].iloc[0]
    revised = y2022[(y2022["contract_type"] == "permanent") & (y2022["placement_id"] != removed["placement_id"])
                    & (y2022["ended_on"].isna() | (y2022["ended_on"] <= PREV_CUTOFF))].iloc[0]
    late = pl[pl["started_on"].between("2023-10-01", "2023-12-31")].iloc[0]

    a = _as_of(full, PREV_CUTOFF)
    a["placements"] = a["placements"][a["placements"]["placement_id"] != late["placement_id"]]
    b = _as_of(full, pd.Timestamp(synth_dataset.extracted_on))
    bp = b["placements"]
    bp = bp[bp["placement_id"] != removed["placement_id"]].copy()
    bp.loc[bp["placement_id"] == revised["placement_id"], "contract_type"] = "internship"
    b["placements"] = bp
    dir_a = write_data_dir(a, PREV_CUTOFF.date(), "synthetic", root / "extract_a", "csv")
    dir_b = write_data_dir(b, synth_dataset.extracted_on, "synthetic", root / "extract_b", "csv")

    nbdir = root / "notebooks"
    nbdir.mkdir()
    nbformat.write(_tiny_notebook(), str(nbdir / "00_panoramica.ipynb"))
    p = root / "q.yaml"
    p.write_text("name: trimestre\nnotebooks:\n  panoramica: {}\n", encoding="utf-8")
    out = root / "outputs"
    run_a = run(p, data_dir=dir_a, outputs_dir=out, notebooks_dir=nbdir, stream=io.StringIO())
    run_b = run(p, data_dir=dir_b, outputs_dir=out, notebooks_dir=nbdir, stream=io.StringIO())
    return dict(a=a, b=b, run_a=run_a, run_b=run_b, removed=removed, revised=revised, late=late)


@pytest.mark.slow
def test_two_quarterly_runs_produce_the_expected_changes_json(quarter_runs):
    q = quarter_runs
    assert q["run_a"].ok and q["run_b"].ok
    assert not (q["run_a"].run_dir / "changes.json").exists()  # nothing earlier to compare with
    ch = json.loads((q["run_b"].run_dir / "changes.json").read_text(encoding="utf-8"))
    assert (ch["previous_run"], ch["current_run"]) == (q["run_a"].run_id, q["run_b"].run_id)  # found by default
    assert (ch["previous"]["extracted_on"], ch["current"]["extracted_on"]) == ("2023-12-31", "2024-04-30")
    assert ch["previous"]["params_name"] == "trimestre" and ch["parameters_changed"] == []
    m = json.loads((q["run_b"].run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert m["comparison"] == {"previous_run": q["run_a"].run_id, "error": None}
    by_q = m["data"]["rows_by_quarter"]["placements"]  # kept for a later run's fallback
    assert sum(by_q.values()) == len(q["b"]["placements"]) and by_q["2024Q1"] == int(
        (q["b"]["placements"]["started_on"].dt.to_period("Q") == pd.Period("2024Q1")).sum())

    # data: worked out from how the two extracts were built
    a, b = q["a"], q["b"]
    d = ch["data"]
    assert d["status"] == "compared"
    pl = d["tables"]["placements"]
    a_pl = a["placements"]
    completed = int(((a_pl["ended_on"].isna() & _aligned(b, a_pl, "ended_on").notna())
                     | (a_pl["converted_on"].isna() & _aligned(b, a_pl, "converted_on").notna())).sum())
    assert completed > 0
    assert pl["added"] == int((b["placements"]["started_on"] > PREV_CUTOFF).sum()) + 1  # the new quarter + the late one
    assert pl["before_previous_extract"] == {"added": 1, "removed": 1, "revised": completed + 1, "corrected": 1}
    assert (pl["removed"], pl["revised"], pl["corrected"], pl["completed"]) == (1, completed + 1, 1, completed)
    assert pl["revised_columns"]["contract_type"] == 1
    rq, vq, lq = (str(pd.Period(q[x]["started_on"], "Q")) for x in ("removed", "revised", "late"))
    assert pl["by_quarter"][rq]["removed"] == 1 and pl["by_quarter"][vq]["corrected"] == 1
    assert pl["by_quarter"][lq]["added"] == 1 and pl["by_quarter"][lq]["closed"] is True
    assert pl["in_closed_quarters"] == {"added": 1, "removed": 1, "revised": completed + 1, "corrected": 1}
    assert not pl["by_quarter"]["2024Q1"]["closed"]
    part = d["tables"]["participants"]
    assert part["added"] == len(b["participants"]) - len(a["participants"]) > 0
    assert (part["removed"], part["corrected"]) == (0, 0)
    assert part["revised"] == part["completed"] == int(a["participants"]["withdrawn_on"].isna().sum()
                                                       - b["participants"].set_index("participant_id").loc[
                                                           a["participants"]["participant_id"], "withdrawn_on"]
                                                       .isna().sum())
    for t in ("interviews", "programmes"):
        assert d["tables"][t]["removed"] == d["tables"][t]["corrected"] == 0
        assert d["tables"][t]["added"] == len(b[t]) - len(a[t])

    # estimates: placements per year and the permanent share, by hand from the two extracts
    est = {r["key"]: r for r in ch["estimates"]["records"]}
    n22a = int((a_pl["started_on"].dt.year == 2022).sum())
    x22a = int(((a_pl["started_on"].dt.year == 2022) & (a_pl["contract_type"] == "permanent")).sum())
    r = est["placements__year=2022"]
    assert (r["previous"]["value"], r["current"]["value"], r["abs_change"]) == (n22a, n22a - 1, -1)
    assert r["rel_change"] == pytest.approx(-1 / n22a) and not r["flagged"] and r["outside_ci"] is None
    r = est["permanent_share__year=2022"]
    assert r["previous"]["value"] == pytest.approx(x22a / n22a)
    assert r["current"]["value"] == pytest.approx((x22a - 1) / (n22a - 1))  # one fewer permanent, one fewer contract
    assert r["status"] == "changed" and r["outside_ci"] is False and not r["flagged"]
    assert est["placements__year=2023"]["abs_change"] == 1
    assert est["placements__year=2024"]["status"] == est["permanent_share__year=2024"]["status"] == "added"
    assert all(est[f"{k}__year={y}"]["status"] == "unchanged"
               for k in ("placements", "permanent_share") for y in range(2017, 2022)
               if f"{k}__year={y}" in est)
    s = ch["estimates"]["summary"]
    assert (s["added"], s["removed"], s["not_compared"], s["suppressed"]) == (2, 0, 0, 0)

    index = (q["run_b"].run_dir / "index.html").read_text(encoding="utf-8")
    assert "Rispetto all&#x27;esecuzione precedente" in index and "Record cambiati tra le due estrazioni" in index
    assert f"nessuna stima cambiata oltre l&#x27;intervallo di confidenza né di oltre il 10% (su {s['compared']} " in index
    assert "4° trimestre 2023" in index  # the late placement, in a closed quarter
    for x in ("removed", "revised", "late"):
        assert q[x]["placement_id"] not in index and q[x]["placement_id"] not in json.dumps(ch)


def _aligned(b: dict, a_pl: pd.DataFrame, col: str) -> pd.Series:
    """Column ``col`` of extract B's placements, aligned on extract A's placements."""
    return b["placements"].set_index("placement_id")[col].reindex(a_pl["placement_id"]).set_axis(a_pl.index)
