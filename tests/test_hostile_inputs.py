"""Issue 14: hostile, broken or careless inputs get a clear refusal; nothing is left behind.

One test per case of the issue (the output-escaping cases 1, 2 and 4-at-export live with the
output layer). The oversized inputs are built small here by lowering the limits (the builders of
``benchmarks/hostile_inputs.py`` make the full-size ones used to measure peak memory).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ixl_eval import causal, limits, params, runner, survival
from ixl_eval.cli import main as cli
from ixl_eval.exceptions import LimitError, ParamsError, RunError
from ixl_eval.io import read_data_dir
from ixl_eval.validate import validate_dir

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import hostile_inputs  # noqa: E402

VALID = Path(__file__).parent / "data" / "valid"
SEED = 14


@pytest.fixture
def data(tmp_path) -> Path:
    d = tmp_path / "data"
    shutil.copytree(VALID, d)
    return d


@pytest.fixture
def tight(monkeypatch):
    """Lower the limits for one test (as ``--limit`` raises them), through the same variable."""

    def set_(**kw):
        limits.use(limits.parse_overrides([f"{k}={v}" for k, v in kw.items()]))

    monkeypatch.delenv(limits.LIMITS_ENV, raising=False)
    yield set_
    os.environ.pop(limits.LIMITS_ENV, None)


def _findings(d: Path):
    return [(f.file, f.row, f.column, f.rule) for f in validate_dir(d).findings]


# ------------------------------------------------------------------ 3. bounded resources


def test_file_over_the_size_limit_is_refused_before_reading(data, tight, capsys):
    tight(file_mb=1)
    (data / "interviews.csv").write_bytes(b"participant_id,interviewed_on,format\n" + b"x,y,z\n" * 200_000)
    (f,) = validate_dir(data).findings
    assert (f.file, f.rule) == ("interviews.csv", "file_readable")
    assert "file_mb = 1 MiB" in f.message and "--limit file_mb=" in f.message
    assert cli(["validate", str(data), "--limit", "file_mb=2"]) != 0  # raised: read, then judged
    assert "file_mb" not in capsys.readouterr().out


def test_too_many_rows_is_refused_naming_the_limit(data, tight):
    tight(rows=3)
    (f,) = [f for f in validate_dir(data).findings if f.rule == "file_readable"][:1]
    assert "limit rows = 3" in f.message and "--limit rows=" in f.message


def test_xlsx_declaring_a_huge_dimension_is_refused(data, tmp_path):
    (data / "participants.csv").unlink()
    hostile_inputs.xlsx_bomb(data / "ixl-data.xlsx", empty_rows=2000)
    (f,) = [f for f in validate_dir(data).findings if f.rule == "file_readable"]
    assert f.file == "ixl-data.xlsx[participants]" and "A1:XFD1048576" in f.message
    assert "xlsx_columns" in f.message


def test_xlsx_styled_empty_cells_far_right_cost_nothing(data, tmp_path):
    """A bogus small dimension with styled cells in column XFD: rows are not padded to XFD."""
    import zipfile

    (data / "participants.csv").unlink()
    src = pd.read_csv(VALID / "participants.csv", dtype=str, keep_default_na=False)
    book = data / "ixl-data.xlsx"
    src.to_excel(book, sheet_name="participants", index=False)
    with zipfile.ZipFile(book) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    name = next(n for n in parts if n.startswith("xl/worksheets/sheet"))
    rows = "".join(f'<row r="{r}"><c r="XFD{r}" s="0"/></row>' for r in range(len(src) + 2, 20_000))
    parts[name] = parts[name].replace(b"</sheetData>", rows.encode() + b"</sheetData>")
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as z:
        for n, b in parts.items():
            z.writestr(n, b)
    t0 = time.perf_counter()
    raw = read_data_dir(data)
    assert "participants" in raw.tables and len(raw.tables["participants"].frame) == len(src)
    assert time.perf_counter() - t0 < 30  # generous: padding each row to XFD took minutes


def test_xlsx_uncompressed_size_is_checked_from_the_zip_directory(data, tight):
    (data / "participants.csv").unlink()
    pd.read_csv(VALID / "participants.csv", dtype=str).to_excel(data / "ixl-data.xlsx", sheet_name="participants",
                                                                index=False)
    import zipfile

    with zipfile.ZipFile(data / "ixl-data.xlsx", "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/padding.bin", b"\0" * (3 << 20))  # inflates to 3 MiB, a few KiB on disk
    tight(xlsx_uncompressed_mb=2)
    (f,) = [f for f in validate_dir(data).findings if f.rule == "file_readable"]
    assert "xlsx_uncompressed_mb" in f.message and f.file == "ixl-data.xlsx"


def test_findings_are_capped_per_rule_and_the_rest_counted(data, tight, capsys):
    tight(findings_per_rule=5)
    header = "participant_id,interviewed_on,format\n"
    (data / "interviews.csv").write_text(header + "".join(f"P000001,2023-02-01,bad{i}\n" for i in range(40)))
    report = validate_dir(data)
    assert sum(f.rule == "allowed_values" for f in report.findings) == 5
    assert report.omitted[("interviews.csv", "allowed_values", "error")] == 35
    text = report.format()
    assert "[allowed_values] 40 x" in text and "... and 35 more" in text and "findings_per_rule" in text


def test_junk_table_is_validated_on_a_bounded_number_of_rows(data, tight):
    """More failures than kept: pandera sees only the rows behind the kept findings; counts exact."""
    tight(findings_per_rule=3)
    rng = np.random.default_rng(SEED)
    junk = ["".join(rng.choice(list("abcxyz"), 6)) for _ in range(50)]
    (data / "interviews.csv").write_text("participant_id,interviewed_on,format\n"
                                         + "".join(f"{j},{j},{j}\n" for j in junk))
    report = validate_dir(data)
    counts = {(c["rule"]): c["count"] for c in report.counts() if c["file"] == "interviews.csv"}
    assert counts["type"] == 50 and counts["allowed_values"] == 50 and counts["participant_exists"] == 50
    assert all(sum(f.rule == r for f in report.findings) <= 3 for r in counts)


def test_billion_laughs_params_refused_without_expanding(tmp_path, capsys):
    p = hostile_inputs.billion_laughs(tmp_path / "laughs.yaml")
    with pytest.raises(ParamsError) as e:
        params.load_params(p)
    assert "anchors and aliases" in str(e.value) and e.value.problems[0].line == 1
    assert cli(["params", "check", str(p)]) == ParamsError.exit_code


def test_alias_in_extract_yaml_is_a_finding(data):
    (data / "extract.yaml").write_text("d: &d 2024-04-30\nextracted_on: *d\nsource: x\n")
    (f,) = validate_dir(data).findings
    assert f.rule == "file_readable" and "anchors and aliases" in f.message


def test_params_file_over_the_yaml_limit(tmp_path, tight, capsys):
    tight(yaml_kb=1)
    p = tmp_path / "big.yaml"
    p.write_text("description: '" + "x" * 2000 + "'\n")
    assert cli(["params", "check", str(p)]) == LimitError.exit_code
    assert "yaml_kb" in capsys.readouterr().err


def test_limit_option_is_validated(capsys):
    with pytest.raises(LimitError, match="file_mb, rows"):
        limits.parse_overrides(["bogus=1"])
    assert cli(["validate", str(VALID), "--limit", "rows=lots"]) == LimitError.exit_code
    assert "rows must be a whole number" in capsys.readouterr().err


# ------------------------------------------------------------------ 4-5. text hygiene


def test_control_character_is_a_warning_naming_row_and_column(data):
    df = pd.read_csv(data / "placements.csv", dtype=str, keep_default_na=False)
    df.loc[1, "sector"] = "Trasporti\x0bmerci"
    df.to_csv(data / "placements.csv", index=False)
    report = validate_dir(data)
    (f,) = report.findings
    assert (f.file, f.row, f.column, f.rule, f.severity) == ("placements.csv", 3, "sector", "control_characters",
                                                             "warning")
    assert "U+000B" in f.message and report.ok


def test_utf8_file_with_one_windows_1252_row_is_an_error_naming_the_row(data):
    lines = (data / "placements.csv").read_bytes().split(b"\n")
    assert "caffè".encode("utf-8") in lines[1]  # the file is UTF-8 ...
    lines[3] = lines[3].replace(b"Logistica", "Sanità".encode("cp1252"))  # ... but for row 4
    (data / "placements.csv").write_bytes(b"\n".join(lines))
    (f,) = validate_dir(data).findings
    assert (f.file, f.row, f.rule) == ("placements.csv", 4, "file_readable")
    assert "mixed encodings" in f.message and "encoding: windows-1252" in f.message


def test_stated_encoding_reads_the_whole_file_that_way(data):
    text = (data / "placements.csv").read_text(encoding="utf-8")
    (data / "placements.csv").write_bytes(text.encode("cp1252"))
    (data / "extract.yaml").write_text("extracted_on: 2024-04-30\nsource: x\nencoding: windows-1252\n")
    report = validate_dir(data)
    assert report.ok and (report.frames["placements"]["sector"] == "Ristorazione e caffè").any()


def test_stated_encoding_names_the_row_it_cannot_decode(data):
    p = data / "placements.csv"
    p.write_bytes(p.read_bytes().replace(b"Logistica", b"Logistica \x81"))
    (data / "extract.yaml").write_text("extracted_on: 2024-04-30\nsource: x\nencoding: windows-1252\n")
    (f,) = validate_dir(data).findings
    assert (f.row, f.rule) == (4, "file_readable") and "stated in extract.yaml" in f.message


def test_windows_1252_file_without_utf8_is_still_read_as_such(data):
    text = (data / "placements.csv").read_text(encoding="utf-8")
    (data / "placements.csv").write_bytes(text.encode("cp1252"))
    report = validate_dir(data)
    assert report.ok and (report.frames["placements"]["sector"] == "Ristorazione e caffè").any()


# ------------------------------------------------------------------ 5. plausibility


def test_extract_date_in_the_future_is_an_error(data):
    (data / "extract.yaml").write_text("extracted_on: 2200-01-01\nsource: x\n")
    assert _findings(data) == [("extract.yaml", None, "extracted_on", "extract_not_in_future")]


def test_extract_date_tomorrow_is_accepted(data):
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    (data / "extract.yaml").write_text(f"extracted_on: {tomorrow}\nsource: x\n")
    assert "extract_not_in_future" not in {f.rule for f in validate_dir(data).findings}


def test_enrolment_in_1900_is_outside_the_programme_window(data):
    df = pd.read_csv(data / "participants.csv", dtype=str, keep_default_na=False)
    df.loc[0, "enrolled_on"] = "1900-03-01"
    df.loc[0, "birth_year"] = "1870"  # keeps the age plausible: only the window is wrong
    df.to_csv(data / "participants.csv", index=False)
    assert _findings(data) == [("participants.csv", 2, "enrolled_on", "programme_window")]


def test_programme_window_is_configurable(data, tight):
    df = pd.read_csv(data / "participants.csv", dtype=str, keep_default_na=False)
    df.loc[0, "enrolled_on"] = "2016-06-01"
    df.to_csv(data / "participants.csv", index=False)
    assert _findings(data) == [("participants.csv", 2, "enrolled_on", "programme_window")]
    tight(programme_start="2015-01-01")
    assert _findings(data) == []


def test_year_1600_is_reported_as_a_date_outside_the_window_not_as_not_a_date(data):
    df = pd.read_csv(data / "participants.csv", dtype=str, keep_default_na=False)
    df.loc[2, "withdrawn_on"] = "15/03/1600"
    df.to_csv(data / "participants.csv", index=False)
    (f,) = validate_dir(data).findings
    assert (f.row, f.column, f.rule) == (4, "withdrawn_on", "programme_window")
    assert "year 1600" in f.message and "not a date" not in f.message


# ------------------------------------------------------------------ 10. trailing blank lines


@pytest.mark.parametrize("tail", [b"\n\n\n", b"\r\n\r\n", b",,,,,,\n,,,,,,\n", b"  \n\n"])
def test_trailing_blank_lines_are_not_records(data, tail):
    p = data / "participants.csv"
    p.write_bytes(p.read_bytes() + tail)
    assert _findings(data) == []


def test_blank_line_between_records_is_still_reported(data):
    p = data / "interviews.csv"
    lines = p.read_bytes().split(b"\n")
    p.write_bytes(b"\n".join(lines[:3] + [b""] + lines[3:]))
    assert ("interviews.csv", 4, "participant_id", "not_null") in _findings(data)


# ------------------------------------------------------------------ 7. params check


@pytest.fixture(scope="module")
def ds(synth_dataset):
    return synth_dataset


def _check(tmp_path, ds, text: str):
    p = tmp_path / "p.yaml"
    p.write_text(text)
    return [str(x) for x in params.check_against_data(params.load_params(p), ds)]


def test_quarter_after_the_cutoff_is_caught_by_params_check(tmp_path, ds):
    (msg,) = _check(tmp_path, ds, "notebooks: {monitoraggio_trimestrale: {quarter: 2099Q1}}\n")
    assert "notebooks.monitoraggio_trimestrale.quarter" in msg and "not complete" in msg


def test_quarter_before_the_data_is_caught(tmp_path, ds):
    (msg,) = _check(tmp_path, ds, "notebooks: {monitoraggio_trimestrale: {quarter: 2010Q1}}\n")
    assert "before the data" in msg


def test_empty_enrolment_window_is_caught(tmp_path, ds):
    (msg,) = _check(tmp_path, ds, "notebooks:\n  tempo_inserimento: {enrol_from: 2016-01-01, enrol_to: 2016-12-31}\n")
    assert "nobody enrolled from 2016-01-01 to 2016-12-31" in msg and "p.yaml:2: notebooks.tempo_inserimento" in msg


def test_covariate_also_in_strata_is_a_schema_error(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text("notebooks:\n  tempo_inserimento: {cox_covariates: [gender, enrolment_year]}\n")
    with pytest.raises(ParamsError, match="enrolment_year is in both cox_covariates and cox_strata"):
        params.load_params(p)


@pytest.mark.parametrize("k", [1, 4])
def test_disclosure_threshold_below_5_is_refused(tmp_path, k):
    p = tmp_path / "p.yaml"
    p.write_text(f"disclosure_threshold: {k}\nnotebooks: {{panoramica: {{}}}}\n")
    with pytest.raises(ParamsError, match="greater than or equal to 5"):
        params.load_params(p)


# ------------------------------------------------------------------ 8. messages, not tracebacks


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n\x00\x00\x00", "lang: it\n".encode("utf-16"),
                                     b"lang: \xe8\n"])
def test_binary_or_utf16_params_file_is_a_message(tmp_path, content, capsys):
    p = tmp_path / "p.yaml"
    p.write_bytes(content)
    assert cli(["params", "check", str(p)]) == ParamsError.exit_code
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err and "p.yaml" in out.out


def test_parquet_with_duplicate_columns_is_a_finding_not_a_schema_dump(data):
    (data / "interviews.csv").unlink()
    table = pa.table([pa.array(["P000001"]), pa.array(["2023-02-01"]), pa.array(["individual"]),
                      pa.array(["x"])], names=["participant_id", "interviewed_on", "format", "format"])
    pq.write_table(table, data / "interviews.parquet")
    (f,) = validate_dir(data).findings
    assert f.rule == "file_readable" and "format appear more than once" in f.message
    assert "schema" not in f.message.lower()


def _one_notebook(tmp_path) -> Path:
    p = tmp_path / "one.yaml"
    p.write_text("notebooks: {panoramica: {}}\n")
    return p


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores permissions")
def test_read_only_outputs_folder_is_a_message(tmp_path, synth_dir, capsys, monkeypatch):
    monkeypatch.setattr(runner, "_execute", lambda *a, **k: pytest.fail("a notebook started"))
    out = tmp_path / "outputs"
    out.mkdir()
    out.chmod(0o500)
    try:
        code = cli(["run", str(_one_notebook(tmp_path)), "--data", str(synth_dir), "--outputs", str(out)])
    finally:
        out.chmod(0o700)
    err = capsys.readouterr().err
    assert code == 7 and "cannot write the run folder" in err and "--outputs" in err and "Traceback" not in err


def test_outputs_path_that_is_a_file_or_unwritable_is_a_message(tmp_path, synth_dir, capsys, monkeypatch):
    monkeypatch.setattr(runner, "_execute", lambda *a, **k: pytest.fail("a notebook started"))
    out = tmp_path / "outputs"
    out.write_text("not a folder")
    assert cli(["run", str(_one_notebook(tmp_path)), "--data", str(synth_dir), "--outputs", str(out)]) == 7
    assert "cannot write the run folder" in capsys.readouterr().err

    def denied(self, *a, **k):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", denied)  # what a read-only folder does, also under root
    assert cli(["run", str(_one_notebook(tmp_path)), "--data", str(synth_dir), "--outputs",
                str(tmp_path / "ro")]) == 7
    err = capsys.readouterr().err
    assert "Permission denied" in err and "Traceback" not in err


@pytest.mark.parametrize("make", [lambda d: None, lambda d: d.mkdir(),
                                  lambda d: (d.mkdir(), (d / "manifest.json").write_text("{not json"))])
def test_unusable_compare_to_exits_non_zero_before_any_kernel(tmp_path, synth_dir, capsys, monkeypatch, make):
    monkeypatch.setattr(runner, "_execute", lambda *a, **k: pytest.fail("a notebook started"))
    prev = tmp_path / "prev"
    make(prev)
    code = cli(["run", str(_one_notebook(tmp_path)), "--data", str(synth_dir), "--outputs", str(tmp_path / "o"),
                "--compare-to", str(prev)])
    assert code == RunError.exit_code and "--compare-to" in capsys.readouterr().err
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


# ------------------------------------------------------------------ 6. lifecycle


def test_stale_tmp_and_kernel_folders_of_dead_runs_are_cleaned(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "_kernel_root", lambda: tmp_path / "tmp")
    (tmp_path / "tmp").mkdir()
    outputs = tmp_path / "outputs"
    dead = outputs / ".tmp-20240101-000000_x_deadbeef"
    dead.mkdir(parents=True)
    (dead / runner._OWNER_FILE).write_text(f"{runner.socket.gethostname()} 999999999\n")
    alive = outputs / ".tmp-20240101-000001_x_alive000"
    alive.mkdir()
    runner._mark_owner(alive)  # this process: alive
    kernel = tmp_path / "tmp" / "ixl-kernel-abc"
    kernel.mkdir()
    (kernel / "dataset.pickle").write_bytes(b"records")
    old = time.time() - 7 * 3600  # an earlier version's folder (no owner file), hours old
    os.utime(kernel, (old, old))
    removed = runner.clean_stale(outputs)
    assert not dead.exists() and not kernel.exists() and alive.exists()
    assert sorted(removed) == sorted([runner._shown(dead), "ixl-kernel-abc"])


def test_kernel_folder_is_private_and_removed(synth_dataset):
    with runner._kernel(1, synth_dataset) as (_, sockets):
        folder = sockets.parent
        assert (folder.stat().st_mode & 0o777) == 0o700
        assert (folder / "dataset.pickle").is_file()
        assert os.environ["JUPYTER_RUNTIME_DIR"].startswith(str(folder))
    assert not folder.exists()


def test_interrupt_cancels_queued_notebooks_and_leaves_no_tmp(tmp_path, synth_dir, monkeypatch):
    """Ctrl-C while the first notebook runs: the queued ones never start, no .tmp-* stays."""
    started = []

    def fake_execute(key, *a, **k):
        started.append(key)
        raise KeyboardInterrupt  # as if Ctrl-C arrived while this notebook ran

    monkeypatch.setattr(runner, "_execute", fake_execute)
    killed = []
    monkeypatch.setattr(runner, "_stop_kernels", lambda: killed.append(1) or 0)
    p = tmp_path / "all.yaml"
    p.write_text("notebooks:\n" + "".join(f"  {k}: {{}}\n" for k in runner.find_notebooks()))
    out = tmp_path / "outputs"
    with pytest.raises(KeyboardInterrupt):
        runner.run(p, data_dir=synth_dir, outputs_dir=out, jobs=1, compare=False)
    assert started == [next(iter(runner.find_notebooks()))]
    assert killed and not list(out.glob(".tmp-*"))


# ------------------------------------------------------------------ 9. public API


T = np.array([5.0, 8, 12, 3, 9, 15, 7, 11])
E = np.array([1, 0, 1, 1, 0, 1, 1, 0])


@pytest.mark.parametrize("call, match", [
    (lambda: survival.KaplanMeier().fit(T, E[:-1]), "differ in length"),
    (lambda: survival.logrank(T, E, ["a", "b"] * 3), "differ in length"),
    (lambda: survival.KaplanMeier().fit(np.r_[T[:-1], np.inf], E), "finite"),
    (lambda: survival.KaplanMeier().fit(T, np.r_[E[:-1], 1.7]), "whole numbers"),
    (lambda: survival.KaplanMeier().fit(T, np.r_[E[:-1], 0.5]), "whole numbers"),
    (lambda: survival.KaplanMeier().fit(T, E).rmst(-1), "tau must be a positive"),
    (lambda: survival.KaplanMeier(conf_level=1.5), "conf_level"),
    (lambda: survival.AalenJohansen(conf_level=0), "conf_level"),
    (lambda: survival.KaplanMeier().fit(T, E + 1), "R's coding"),
    (lambda: survival.concordance(T, E, np.r_[T[:-1], np.nan]), "missing"),
    (lambda: survival.AalenJohansen().fit(T, E).cif_at([5], cause=3), "cause 3 is not among"),
])
def test_survival_api_refuses_with_a_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def _cox_frame(n=200, seed=SEED):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"time": rng.exponential(100, n).round() + 1, "event": rng.integers(0, 2, n),
                         "x": rng.normal(size=n), "const": 1.0, "g": rng.choice(["a", "b"], n)})


def test_cox_constant_covariate_is_a_value_error_not_an_overflow():
    with pytest.raises(ValueError, match="'const' has the same value for everybody"):
        survival.CoxModel(["x", "const"]).fit(_cox_frame())


def test_cox_empty_frame_and_negative_times():
    with pytest.raises(ValueError, match="no rows"):
        survival.CoxModel(["x"]).fit(_cox_frame().iloc[:0])
    f = _cox_frame()
    f.loc[0, "time"] = -3
    with pytest.raises(ValueError, match="non-negative"):
        survival.CoxModel(["x"]).fit(f)


def test_ph_test_with_one_event_is_a_value_error():
    rng = np.random.default_rng(SEED)
    f = pd.DataFrame({"time": rng.exponential(100, 200).round() + 1, "event": 0, "x": rng.normal(size=200)})
    f.loc[0, "event"] = 1
    with pytest.raises(ValueError, match="at least two events"):
        survival.CoxModel(["x"]).fit(f).ph_test()
    f.loc[1, ["event", "time"]] = [1, f.loc[0, "time"]]  # two events, one time: no time trend to test
    with pytest.raises(ValueError, match="two or more distinct times"):
        survival.CoxModel(["x"]).fit(f).ph_test()


def test_aalen_johansen_takes_cause_codes_as_given():
    aj = survival.AalenJohansen().fit([1, 2, 3, 4], [1, 99, 0, 10**9])
    assert aj.causes_ == [1, 99, 10**9]
    assert "cif_99" in aj.table_ and "cif_2" not in aj.table_
    assert aj.cif_at([4], cause=99)["cif"].iloc[0] == pytest.approx(0.25)


def test_aalen_johansen_same_numbers_for_dense_codes():
    rng = np.random.default_rng(SEED)
    t, e = rng.exponential(10, 300), rng.integers(0, 3, 300)
    a = survival.AalenJohansen().fit(t, e).table_
    b = survival.AalenJohansen().fit(t, np.where(e == 2, 7, e)).table_
    np.testing.assert_allclose(a["cif_2"], b["cif_7"])
    np.testing.assert_allclose(a["cif_1"], b["cif_1"])


def test_mean_difference_refuses_bad_weights_and_lengths():
    y, t = pd.Series([3.0, 5, 1, 2, 3]), pd.Series([1, 1, 0, 0, 0])
    with pytest.raises(ValueError, match="differ in length"):
        causal.mean_difference(y[:4], t)
    with pytest.raises(ValueError, match="every comparison unit has weight 0"):
        causal.mean_difference(y, t, pd.Series([1.0, 1, 0, 0, 0]))
    with pytest.raises(ValueError, match="non-negative"):
        causal.mean_difference(y, t, pd.Series([1.0, 1, -1, 1, 1]))
    with pytest.raises(ValueError, match="missing"):
        causal.rate_ratio(pd.Series([1, 2, 1, 1, 1]), pd.Series([1.0] * 5), t, pd.Series([1, 1, np.nan, 1, 1]))


def test_estimators_align_on_the_pandas_index():
    rng = np.random.default_rng(SEED)
    n = 400
    df = pd.DataFrame({"t": rng.integers(0, 2, n), "y": rng.normal(size=n), "ps": rng.uniform(0.2, 0.8, n)},
                      index=rng.permutation(np.arange(1000, 1000 + n)))
    shuffled = df.sample(frac=1, random_state=SEED)
    w1 = causal.IPTW().fit(df["t"], df["ps"]).weights_
    w2 = causal.IPTW().fit(df["t"], shuffled["ps"]).weights_
    pd.testing.assert_series_equal(w1, w2)
    e1 = causal.mean_difference(df["y"], df["t"], w1)
    e2 = causal.mean_difference(shuffled["y"], df["t"], w1.sample(frac=1, random_state=1))
    assert e1.estimate == pytest.approx(e2.estimate)
    m1 = causal.NearestNeighbourMatch().fit(df["t"], df["ps"])
    m2 = causal.NearestNeighbourMatch().fit(df["t"], shuffled["ps"])
    pd.testing.assert_series_equal(m1.weights_, m2.weights_)
    with pytest.raises(ValueError, match="different index labels"):
        causal.IPTW().fit(df["t"], df["ps"].reset_index(drop=True))


def test_trimmed_units_weight_zero_gives_a_hint_in_km():
    rng = np.random.default_rng(SEED)
    t, ps = pd.Series(rng.integers(0, 2, 100)), pd.Series(rng.uniform(0.01, 0.99, 100))
    w = causal.IPTW(trim=(0.05, 0.95)).fit(t, ps).weights_
    with pytest.raises(ValueError, match="IPTW.kept_"):
        survival.KaplanMeier().fit(rng.exponential(5, 100), rng.integers(0, 2, 100), w)


def test_limits_doc_lists_every_limit_with_its_default():
    text = (Path(__file__).resolve().parents[1] / "docs" / "limits.md").read_text(encoding="utf-8")
    assert limits.describe() in text


@pytest.mark.slow
def test_run_records_no_absolute_path_of_the_machine(suite_run, synth_dir):
    from ixl_eval.paths import REPO_ROOT

    d = suite_run.run_dir
    absolute = [str(REPO_ROOT), str(Path(synth_dir).resolve()), str(d.parent / f".tmp-{suite_run.run_id}")]
    for f in [d / "manifest.json", *d.glob("*.ipynb")]:
        text = f.read_text(encoding="utf-8")
        for path in absolute:
            # relative paths may end with the same folders ("../../tmp/..."), never start with them
            assert f'"{path}' not in text and f"'{path}" not in text and f" {path}" not in text, (f.name, path)
        assert ".tmp-" not in text, f.name
    m = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    assert (REPO_ROOT / m["data"]["dir"]).resolve() == Path(synth_dir).resolve()
