"""The runner: refusals before any kernel, the run folder, failures, no overwrite, HTML for readers.

The full suite runs once per session (fixture ``suite_run`` in conftest.py); the failure test
runs two tiny generated notebooks; everything else is checked without a kernel.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

import nbformat
import openpyxl
import pandas as pd
import pytest

from ixl_eval import params, paths, runner
from ixl_eval.cli import main as cli
from ixl_eval.exceptions import DataValidationError, ParamsError
from ixl_eval.results import RECORD_FIELDS, merge_records

RUN_ID = re.compile(r"^\d{8}-\d{6}_[A-Za-z0-9_-]+_[0-9a-f]{8}(-\d+)?$")


# ------------------------------------------------------------------------ no kernel needed


def test_run_id_format_and_data_hash():
    t = dt.datetime(2024, 5, 2, 9, 30, 0)
    a = runner.run_id_for(t, "default", {"participants.csv": "0" * 64, "placements.csv": "1" * 64})
    b = runner.run_id_for(t, "default", {"placements.csv": "1" * 64, "participants.csv": "0" * 64})
    c = runner.run_id_for(t, "default", {"participants.csv": "0" * 64, "placements.csv": "2" * 64})
    assert a == b != c
    assert a.startswith("20240502-093000_default_") and RUN_ID.match(a)


def test_reserve_never_reuses_a_run_id(tmp_path):
    rid, tmp = runner._reserve_tmp(tmp_path, "20240502-093000_x_abcdef12")
    assert (rid, tmp.name) == ("20240502-093000_x_abcdef12", ".tmp-20240502-093000_x_abcdef12")
    rid2, tmp2 = runner._reserve_tmp(tmp_path, "20240502-093000_x_abcdef12")  # its .tmp exists
    assert rid2.endswith("-2") and tmp2.is_dir()
    (tmp_path / "20240502-093000_x_abcdef12-3").mkdir()  # a finished run holds -3
    rid3, _ = runner._reserve_tmp(tmp_path, "20240502-093000_x_abcdef12")
    assert rid3.endswith("-4")


def test_find_notebooks_orders_by_prefix_and_rejects_duplicate_keys(tmp_path):
    for name in ("20_b.ipynb", "00_a.ipynb", "10_c.ipynb", "notes.ipynb", "1_x.ipynb"):
        (tmp_path / name).write_text("{}")
    assert list(runner.find_notebooks(tmp_path)) == ["a", "c", "b"]
    (tmp_path / "30_a.ipynb").write_text("{}")
    with pytest.raises(ParamsError, match="'a'"):
        runner.find_notebooks(tmp_path)


def test_xlsx_one_sheet_per_table_names_fit_excel(tmp_path):
    (tmp_path / "tables").mkdir()
    long = "tempo_inserimento__" + "x" * 30
    pd.DataFrame({"anno": [2022, 2023], "n": ["615", "<10"], "quota": [0.5, 0.25]}).to_csv(
        tmp_path / "tables" / f"{long}_a.csv", index=False)
    pd.DataFrame({"v": [1]}).to_csv(tmp_path / "tables" / f"{long}_b.csv", index=False)
    pd.DataFrame({"v": [2]}).to_csv(tmp_path / "tables" / "panoramica__iscritti.csv", index=False)
    assert runner._write_xlsx(tmp_path) == "tables.xlsx"
    wb = openpyxl.load_workbook(tmp_path / "tables.xlsx")
    names = wb.sheetnames
    assert names[0] == "indice" and len(names) == 4 and len(set(n.lower() for n in names)) == 4
    assert all(len(n) <= 31 for n in names)
    index = {r[1]: r[0] for r in wb["indice"].iter_rows(min_row=2, values_only=True)}
    ws = wb[index[f"{long}_a"]]
    rows = list(ws.iter_rows(values_only=True))
    assert rows == [("anno", "n", "quota"), (2022, "615", 0.5), (2023, "<10", 0.25)]  # "<10" column stays text
    assert runner._write_xlsx(tmp_path / "nothing") is None


def _nb(cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    return nb


def test_reader_notebook_keeps_only_what_readers_should_see():
    out = nbformat.v4.new_output
    params_cell = nbformat.v4.new_code_cell("lang = 'it'")
    params_cell.metadata["tags"] = ["parameters"]
    injected = nbformat.v4.new_code_cell("lang = 'en'")
    injected.metadata["tags"] = ["injected-parameters"]
    noisy = nbformat.v4.new_code_cell("x", outputs=[
        out("stream", name="stderr", text="UserWarning: careful\n"),
        out("execute_result", data={"text/plain": "ResultRecord(...)"}, execution_count=1),
        out("display_data", data={"text/html": "<h2>Kept</h2>", "text/plain": "<HTML>"}),
        out("stream", name="stdout", text="shown\n"),
    ])
    silent = nbformat.v4.new_code_cell("y = 1", outputs=[out("stream", name="stderr", text="log\n")])
    failed = nbformat.v4.new_code_cell("boom", outputs=[out("error", ename="KeyError", evalue="'P000123'",
                                                            traceback=["KeyError: 'P000123'"])])
    nb = runner._reader_notebook(_nb([params_cell, injected, noisy, silent, failed,
                                       nbformat.v4.new_markdown_cell("## Testo")]), "it")
    assert [c.source for c in nb.cells] == ["x", "boom", "## Testo"]
    assert [o.output_type for o in nb.cells[0].outputs] == ["display_data", "stream"]
    err = nb.cells[1].outputs[0]
    assert err.output_type == "display_data" and "KeyError" in err.data["text/html"]
    assert "P000123" not in err.data["text/html"]  # the message, which may hold data, stays in the .ipynb


def test_toc_lists_h2_and_h3_after_the_title_cell():
    doc = ('<html><head><title>x</title></head><body><main>'
           '<div class="jp-Cell"><div class="ixl-banner">DATI SINTETICI</div><h1 id="t">Titolo ¶</h1></div>'
           '<div class="jp-Cell"><h2 id="in-breve">In breve</h2></div>'
           '<div class="jp-Cell"><h2>Metodo<a class="anchor-link" href="#m">¶</a></h2><h3 id="a">A</h3>'
           '<h3 id="b">B</h3></div><div class="jp-Cell"><h2 id="in-breve">Doppio</h2></div></main></body></html>')
    html = runner._add_toc(doc, "it")
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    nav = soup.find("nav", class_="ixl-toc")
    assert nav.find_previous("h1").get_text(strip=True).startswith("Titolo")
    top = nav.find("ol").find_all("li", recursive=False)
    assert [li.a.get_text() for li in top] == ["In breve", "Metodo", "Doppio"]
    assert [a.get_text() for a in top[1].find("ol").find_all("a")] == ["A", "B"]
    ids = [h["id"] for h in soup.find_all(["h2", "h3"])]
    assert len(ids) == len(set(ids))  # every link has a unique target
    assert [a["href"][1:] for a in nav.find_all("a")] == ids
    assert soup.title.get_text() == "Titolo"


def test_compare_hook_calls_compare_runs_and_shows_its_failure(tmp_path, monkeypatch):
    from ixl_eval import compare

    prev, new = tmp_path / "prev", tmp_path / "new"
    prev.mkdir()
    new.mkdir()
    calls = []
    monkeypatch.setattr(compare, "compare_runs", lambda a, b: calls.append((a, b)) or "<p>3 stime cambiate</p>")
    got = runner._compare(prev, new)
    assert calls == [(prev, new)] and got == {"previous_run": "prev", "html": "<p>3 stime cambiate</p>", "error": None}
    assert runner._compare(None, new) is None

    def broken(a, b):
        raise ValueError("bad previous run")

    monkeypatch.setattr(compare, "compare_runs", broken)
    assert runner._compare(prev, new)["error"] == "ValueError: bad previous run"


def test_latest_run_is_the_last_complete_one_of_the_same_set(tmp_path):
    def mk(name, pname, status):
        d = tmp_path / name
        d.mkdir()
        (d / "manifest.json").write_text(json.dumps({"params": {"name": pname}, "status": status}))

    mk("20240101-000000_q_aaaaaaaa", "q", "ok")
    mk("20240201-000000_q_aaaaaaaa", "q", "ok")
    mk("20240301-000000_q_aaaaaaaa", "q", "failed")
    mk("20240401-000000_other_aaaaaaaa", "other", "ok")
    (tmp_path / ".tmp-20240415-000000_q_aaaaaaaa").mkdir()
    assert runner._latest_run(tmp_path, "q", "20240501-000000_q_bbbbbbbb").name == "20240201-000000_q_aaaaaaaa"
    assert runner._latest_run(tmp_path, "q", "20240115-000000_q_bbbbbbbb").name == "20240101-000000_q_aaaaaaaa"
    assert runner._latest_run(tmp_path, "zzz", "20240501-000000_zzz_bbbbbbbb") is None


# ---------------------------------------------------------- refusals before any kernel


@pytest.fixture
def no_kernel(monkeypatch):
    def forbidden(*a, **k):
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(runner, "_execute", forbidden)
    monkeypatch.setattr(runner, "_kernel", forbidden)


def _assert_nothing_written(out: Path):
    assert not out.exists() or not any(out.iterdir()), f"the refused run left {list(out.iterdir())}"


def test_invalid_params_refused_before_any_kernel(tmp_path, synth_dir, no_kernel, capsys):
    p = tmp_path / "bad.yaml"
    p.write_text("notebooks:\n  panoramica: {yeras: [2023]}\n")
    out = tmp_path / "outputs"
    assert cli(["run", str(p), "--data", str(synth_dir), "--outputs", str(out)]) == 4
    assert "bad.yaml:2: notebooks.panoramica.yeras: unknown key; did you mean 'years'?" in capsys.readouterr().err
    _assert_nothing_written(out)


def test_params_unfit_for_the_data_refused(tmp_path, synth_dir, no_kernel):
    p = tmp_path / "late.yaml"
    p.write_text("cutoff: 2099-01-01\nnotebooks: {panoramica: {}}\n")
    with pytest.raises(ParamsError, match="after the extract date"):
        runner.run(p, data_dir=synth_dir, outputs_dir=tmp_path / "outputs")
    _assert_nothing_written(tmp_path / "outputs")


def test_invalid_data_refused(tmp_path, synth_dir, no_kernel, capsys):
    import shutil

    bad = tmp_path / "data"
    shutil.copytree(synth_dir, bad)
    part = pd.read_csv(bad / "participants.csv", dtype=str, keep_default_na=False)
    part.loc[3, "gender"] = "Q"
    part.to_csv(bad / "participants.csv", index=False)
    p = tmp_path / "ok.yaml"
    p.write_text("notebooks: {panoramica: {}}\n")
    with pytest.raises(DataValidationError):
        runner.run(p, data_dir=bad, outputs_dir=tmp_path / "outputs")
    assert cli(["run", str(p), "--data", str(bad), "--outputs", str(tmp_path / "outputs")]) == 3
    _assert_nothing_written(tmp_path / "outputs")


def test_selected_notebook_without_file_refused(tmp_path, synth_dir, no_kernel):
    p = tmp_path / "ok.yaml"
    p.write_text("notebooks: {panoramica: {}}\n")
    with pytest.raises(ParamsError, match="no notebook file"):
        runner.run(p, data_dir=synth_dir, outputs_dir=tmp_path / "outputs", notebooks_dir=tmp_path)
    _assert_nothing_written(tmp_path / "outputs")


# --------------------------------------------------------- one notebook fails, others finish


def _tiny_notebook(key: str, fail: bool):
    cells = [nbformat.v4.new_code_cell("\n".join(c.line() for c in params.parameter_cell(key)))]
    cells[0].metadata["tags"] = ["parameters"]
    cells.append(nbformat.v4.new_code_cell(
        "from ixl_eval.report import Report\n"
        f'rep = Report.open("{key}", data_dir=data_dir, cutoff=cutoff, lang=lang,\n'
        "                  disclosure_threshold=disclosure_threshold, output_dir=output_dir)\n"
        'rep.header(title_it="Prova", title_en="Test")'))
    cells.append(nbformat.v4.new_code_cell('rep.summary(["Una frase per l\'indice."])'))
    if fail:
        cells.append(nbformat.v4.new_code_cell('raise RuntimeError("deliberate failure for the test")'))
    cells.append(nbformat.v4.new_code_cell("rep.finish()"))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


@pytest.mark.slow
def test_failing_notebook_does_not_sink_the_others(tmp_path, synth_dir, monkeypatch, capsys):
    ok_key, bad_key = sorted(params.NOTEBOOK_PARAMS)[:2]
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    nbformat.write(_tiny_notebook(ok_key, fail=False), str(nbdir / f"10_{ok_key}.ipynb"))
    nbformat.write(_tiny_notebook(bad_key, fail=True), str(nbdir / f"00_{bad_key}.ipynb"))
    p = tmp_path / "two.yaml"
    p.write_text(f"name: two\nnotebooks:\n  {ok_key}: {{}}\n  {bad_key}: {{}}\n")
    out = tmp_path / "outputs"
    monkeypatch.setattr(runner, "NOTEBOOKS_DIR", nbdir)
    assert cli(["run", str(p), "--data", str(synth_dir), "--outputs", str(out), "--jobs", "2"]) == 5
    assert "FAILED" in capsys.readouterr().err
    [run_dir] = list(out.iterdir())
    assert RUN_ID.match(run_dir.name) and "_two_" in run_dir.name
    m = json.loads((run_dir / "manifest.json").read_text())
    assert m["status"] == "failed"
    by_key = {n["key"]: n for n in m["notebooks"]}
    assert by_key[ok_key]["status"] == "ok" and by_key[ok_key]["error"] is None
    err = by_key[bad_key]["error"]
    assert by_key[bad_key]["status"] == "failed"
    assert (err["ename"], err["evalue"]) == ("RuntimeError", "deliberate failure for the test")
    # [5]: parameters, injected parameters, open, summary, then the failing cell
    assert err["execution_count"] == 5 and "raise RuntimeError" in err["cell_source"]
    assert (run_dir / f"{bad_key}.ipynb").is_file()  # kept for debugging, with the traceback
    kept = nbformat.read(str(run_dir / f"{bad_key}.ipynb"), as_version=4)
    assert any(o.output_type == "error" for c in kept.cells if c.cell_type == "code" for o in c.outputs)
    assert (run_dir / f"{ok_key}.html").is_file() and (run_dir / "fragments" / f"{ok_key}.json").is_file()
    index = (run_dir / "index.html").read_text()
    assert "ixl-status-failed" in index and "deliberate failure for the test" in index
    assert f'href="{bad_key}.ipynb"' in index and f'href="{ok_key}.html"' in index
    assert "Una frase per l&#39;indice." in index or "Una frase per l'indice." in index
    assert not [d for d in out.iterdir() if d.name.startswith(".tmp-")]


@pytest.mark.slow
def test_dead_kernel_keeps_what_was_executed(tmp_path, synth_dir, monkeypatch):
    # the notebook is written once, at the end (no save before and after every cell): a kernel
    # dying mid-notebook must still leave the cells run so far for the analyst
    key = sorted(params.NOTEBOOK_PARAMS)[0]
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    nb = _tiny_notebook(key, fail=False)
    nb.cells.insert(3, nbformat.v4.new_code_cell("import os\nos._exit(1)"))
    nbformat.write(nb, str(nbdir / f"00_{key}.ipynb"))
    p = tmp_path / "one.yaml"
    p.write_text(f"name: one\nnotebooks:\n  {key}: {{}}\n")
    monkeypatch.setattr(runner, "NOTEBOOKS_DIR", nbdir)
    res = runner.run(p, data_dir=synth_dir, outputs_dir=tmp_path / "outputs", jobs=1, compare=False,
                     stream=open(tmp_path / "log.txt", "w"))
    [n] = res.notebooks
    assert n.status == "failed" and n.error["ename"] == "DeadKernelError"
    kept = nbformat.read(str(res.run_dir / n.ipynb), as_version=4)
    ran = [c.execution_count for c in kept.cells if c.cell_type == "code"]
    assert ran[:4] == [1, 2, 3, 4] and ran[-1] is None  # parameters (and injected), open, summary; no finish
    assert any(o.get("data", {}).get("text/html", "").startswith('<div class="ixl-summary"')
               for o in kept.cells[3].outputs)
    assert (res.run_dir / f"{key}.html").is_file()


# ------------------------------------------------------------------ the full suite (one run)


@pytest.mark.slow
def test_suite_runs_every_notebook(suite_run):
    failures = {n.key: n.error for n in suite_run.failed}
    assert suite_run.ok, f"notebooks failed: {failures}"
    assert [n.key for n in suite_run.notebooks] == list(runner.find_notebooks())
    assert RUN_ID.match(suite_run.run_id) and suite_run.run_dir.name == suite_run.run_id
    assert not [d for d in suite_run.run_dir.parent.iterdir() if d.name.startswith(".")]


@pytest.mark.slow
def test_run_folder_contents(suite_run):
    d = suite_run.run_dir
    for name in ("index.html", "manifest.json", "results.json"):
        assert (d / name).is_file(), name
    for n in suite_run.notebooks:
        for f in (f"{n.key}.ipynb", f"{n.key}.html", f"fragments/{n.key}.json"):
            assert (d / f).is_file(), f
    every = sorted((d / "tables").glob("*.csv"))
    csvs = [p for p in every if p.name != "legenda.csv"]  # the legend of the typed tables
    keys = {n.key for n in suite_run.notebooks}
    # every table belongs to a notebook; tables/legenda.csv is the run's legend (written once typed tables exist)
    assert all(p.stem.split("__")[0] in keys for p in csvs if p.name != "legenda.csv")
    if csvs:
        # typed tables only: index, legend and one sheet each; while some notebooks still write
        # legacy CSVs, the runner puts every CSV in the workbook (one sheet each, plus an index)
        typed = sum(len(json.loads(f.read_text(encoding="utf-8")))
                    for f in (d / "fragments" / "tables").glob("*.json"))
        wb = openpyxl.load_workbook(d / "tables.xlsx", read_only=True)
        expected = typed + 2 if typed == len(csvs) else len(every) + 1
        assert len(wb.sheetnames) == expected and all(len(s) <= 31 for s in wb.sheetnames)


@pytest.mark.slow
def test_manifest(suite_run, synth_dataset, synth_dir):
    m = json.loads((suite_run.run_dir / "manifest.json").read_text())
    assert m["run_id"] == suite_run.run_id and m["status"] == "ok"
    assert m["data"]["sha256"] == synth_dataset.sha256 and len(m["data"]["sha256"]) >= 4
    # Relative to the repository (issue 14): no absolute path of the machine in the manifest.
    assert m["data"]["synthetic"] is True and m["data"]["dir"] == os.path.relpath(Path(synth_dir).resolve(), paths.REPO_ROOT)
    assert m["params"]["data_dir"] == m["data"]["dir"] and not Path(m["params_file"]).is_absolute()
    assert m["cutoff_used"] == str(synth_dataset.extracted_on)
    assert set(m["params"]["notebooks"]) == {n.key for n in suite_run.notebooks}
    assert m["params"]["lang"] == "it" and m["params"]["disclosure_threshold"] == 10
    assert {"commit", "dirty", "version"} <= set(m["code"])
    assert m["packages"]["papermill"] and m["packages"]["pandas"] and m["python"]
    for n in m["notebooks"]:
        start, end = dt.datetime.fromisoformat(n["started"]), dt.datetime.fromisoformat(n["ended"])
        assert start <= end and n["duration_s"] > 0 and n["status"] == "ok"
    assert dt.datetime.fromisoformat(m["started"]) <= dt.datetime.fromisoformat(m["ended"])


@pytest.mark.slow
def test_results_json_collects_every_fragment_sorted(suite_run):
    d = suite_run.run_dir
    records = json.loads((d / "results.json").read_text())
    fragments = [json.loads(p.read_text())["records"] for p in sorted((d / "fragments").glob("*.json"))]
    assert records == merge_records(fragments)
    assert all(list(r) == list(RECORD_FIELDS) for r in records)
    assert [(r["notebook"], r["key"]) for r in records] == sorted((r["notebook"], r["key"]) for r in records)
    assert {r["notebook"] for r in records} == {n.key for n in suite_run.notebooks}


@pytest.mark.slow
def test_html_reports_are_for_readers(suite_run):
    for n in suite_run.notebooks:
        html = (suite_run.run_dir / n.html).read_text(encoding="utf-8")
        body = html.split("<body", 1)[1]  # the stylesheet names every class; the body must not use them
        assert "jp-InputArea" not in body and "jp-CodeMirrorEditor" not in body, f"{n.key}: code shown"
        assert "In&nbsp;[" not in body and "Out[" not in body, f"{n.key}: prompts shown"
        assert "application/vnd.jupyter.stderr" not in body and "Warning:" not in body, f"{n.key}: stderr shown"
        assert "Traceback" not in body
        assert 'class="ixl-banner ixl-synthetic"' in html, f"{n.key}: no synthetic-data banner"
        assert '<nav aria-label="Indice" class="ixl-toc">' in html, f"{n.key}: no table of contents"
        assert "<script src=" not in html, f"{n.key}: loads scripts from the network"
        assert '<html lang="it">' in html and "@media print" in html


@pytest.mark.slow
def test_index_links_every_report_with_its_summary(suite_run):
    index = (suite_run.run_dir / "index.html").read_text(encoding="utf-8")
    assert 'class="ixl-banner ixl-synthetic"' in index and "ixl-status-ok" in index
    for n in suite_run.notebooks:
        assert f'href="{n.html}"' in index
        assert n.fragment["summary"], f"{n.key}: empty one-line summary"
    for f in ("results.json", "manifest.json"):
        assert f'href="{f}"' in index


@pytest.mark.slow
def test_rerun_makes_a_new_folder_with_identical_results(suite_run, synth_dir, tmp_path):
    key = min(suite_run.notebooks, key=lambda n: n.duration_s).key  # the cheapest to run again
    p = tmp_path / "again.yaml"
    p.write_text(f"name: {suite_run.run_id.split('_')[1]}\nnotebooks:\n  {key}: {{}}\n")
    outputs = suite_run.run_dir.parent
    before = {d.name for d in outputs.iterdir()}
    res = runner.run(p, data_dir=synth_dir, outputs_dir=outputs, compare=False)
    assert res.ok and res.run_dir.name not in before and suite_run.run_dir.is_dir()
    assert {d.name for d in outputs.iterdir()} == before | {res.run_dir.name}
    again = json.loads((res.run_dir / "results.json").read_text())
    first = [r for r in json.loads((suite_run.run_dir / "results.json").read_text()) if r["notebook"] == key]
    assert again == first and again
    for t in sorted((res.run_dir / "tables").glob("*.csv")):
        if t.name == "legenda.csv":  # the legend covers the tables of the run, here one notebook's
            continue
        assert t.read_bytes() == (suite_run.run_dir / "tables" / t.name).read_bytes(), t.name
