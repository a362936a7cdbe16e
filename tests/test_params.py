"""Parameter sets: schema, YAML problems with key and line, checks against the data, docs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic import Field, ValidationError

from ixl_eval import params
from ixl_eval.cli import main as cli
from ixl_eval.cohorts import _toy_dataset
from ixl_eval.exceptions import ParamsError
from ixl_eval.paths import PARAMS_DIR, REPO_ROOT

PARAM_FILES = sorted(PARAMS_DIR.glob("*.yaml"))


def _write(tmp_path: Path, text: str, name: str = "p.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _problems(path: Path) -> list:
    with pytest.raises(ParamsError) as ei:
        params.load_params(path)
    return list(ei.value.problems)


def test_params_dir_has_the_default_set():
    assert PARAMS_DIR / "default.yaml" in PARAM_FILES


@pytest.mark.parametrize("path", PARAM_FILES, ids=lambda p: p.name)
def test_every_params_file_checks_against_the_synthetic_data(path, synth_dir, capsys):
    assert cli(["params", "check", str(path), "--data", str(synth_dir)]) == 0, capsys.readouterr().out
    assert capsys.readouterr().out.startswith("OK ")


def test_default_set_runs_every_notebook_in_the_repo():
    from ixl_eval.runner import find_notebooks

    ps = params.load_params(PARAMS_DIR / "default.yaml")
    assert ps.name == "default" and ps.lang == "it" and ps.disclosure_threshold == 10
    assert set(find_notebooks()) <= set(ps.selected())


def test_name_defaults_to_file_stem_and_omitted_notebooks_mean_all(tmp_path):
    ps = params.load_params(_write(tmp_path, "lang: en\n", "quarterly-q1.yaml"))
    assert ps.name == "quarterly-q1"
    assert list(ps.selected()) == list(params.NOTEBOOK_PARAMS)
    assert ps.selected()["panoramica"] == params.PanoramicaParams()


def test_null_notebook_entry_means_defaults(tmp_path):
    ps = params.load_params(_write(tmp_path, "notebooks:\n  panoramica:\n"))
    assert list(ps.selected()) == ["panoramica"]
    assert ps.selected()["panoramica"].years == (2022, 2023)


def test_models_are_frozen_and_forbid_extra():
    ps = params.ParamSet(notebooks={"panoramica": {}})
    with pytest.raises(ValidationError):
        ps.lang = "en"
    with pytest.raises(ValidationError):
        params.CommonParams(langg="en")
    for key, model in params.NOTEBOOK_PARAMS.items():
        assert model.model_config.get("frozen") and model.model_config.get("extra") == "forbid", key
        for name, f in model.model_fields.items():
            assert f.description, f"{key}.{name} has no help text"
            assert not f.is_required(), f"{key}.{name} has no default: the notebook must run on its own"


def test_unknown_top_level_key_names_line_and_hint(tmp_path):
    p = _write(tmp_path, "name: q1\ndescription: x\nlnag: en\n")
    [pr] = _problems(p)
    assert (pr.path, pr.line) == ("lnag", 3)
    assert "did you mean 'lang'" in pr.message
    assert str(pr).startswith("p.yaml:3: lnag: unknown key")


def test_unknown_nested_key_and_unknown_notebook(tmp_path):
    p = _write(tmp_path, "notebooks:\n  panoramica:\n    yeras: [2023]\n  panoramca: {}\n")
    probs = _problems(p)
    by_path = {pr.path: pr for pr in probs}
    assert by_path["notebooks.panoramica.yeras"].line == 3
    assert "did you mean 'years'" in by_path["notebooks.panoramica.yeras"].message
    assert by_path["notebooks.panoramca"].line == 4
    assert "did you mean 'panoramica'" in by_path["notebooks.panoramca"].message


def test_all_problems_are_reported_with_lines(tmp_path):
    p = _write(tmp_path, "lang: fr\ndisclosure_threshold: ten\ncutoff: 2024-13-01\nnotebooks:\n  panoramica:\n"
                         "    years: [2023, nineteen]\n")
    probs = _problems(p)
    got = {pr.path: pr.line for pr in probs}
    assert got == {"lang": 1, "disclosure_threshold": 2, "cutoff": 3, "notebooks.panoramica.years[1]": 6}
    msg = {pr.path: pr.message for pr in probs}
    assert "'it' or 'en'" in msg["lang"] and "'fr'" in msg["lang"]
    assert "integer" in msg["disclosure_threshold"] and "'ten'" in msg["disclosure_threshold"]


def test_value_out_of_range_and_bad_name(tmp_path):
    probs = _problems(_write(tmp_path, "name: my params\ndisclosure_threshold: 0\n"))
    assert {pr.path for pr in probs} == {"name", "disclosure_threshold"}


def test_duplicate_key_and_yaml_syntax_errors(tmp_path):
    [pr] = _problems(_write(tmp_path, "lang: it\nlang: en\n"))
    assert (pr.path, pr.line) == ("lang", 2) and "duplicate" in pr.message
    [pr] = _problems(_write(tmp_path, "lang: it\nnotebooks: [panoramica\n"))
    assert pr.line == 3 and "not valid YAML" in pr.message
    [pr] = _problems(_write(tmp_path, "- a\n- b\n"))
    assert "mapping" in pr.message


def test_no_notebook_selected_is_an_error(tmp_path):
    [pr] = _problems(_write(tmp_path, "notebooks: {}\n"))
    assert "no notebook selected" in pr.message


def test_empty_cutoff_string_is_the_extract_date(tmp_path):
    assert params.load_params(_write(tmp_path, 'cutoff: ""\n')).cutoff is None
    assert params.load_params(_write(tmp_path, "cutoff: 2024-03-31\n")).cutoff == dt.date(2024, 3, 31)


def test_missing_file_is_a_params_error(tmp_path):
    with pytest.raises(ParamsError, match="cannot read"):
        params.load_params(tmp_path / "nope.yaml")


# ------------------------------------------------------------------------- against the data


def test_cutoff_after_extract_is_reported_with_line(tmp_path, synth_dataset):
    after = synth_dataset.extracted_on + dt.timedelta(days=1)
    ps = params.load_params(_write(tmp_path, f"lang: it\ncutoff: {after}\nnotebooks:\n  panoramica: {{}}\n"))
    [pr] = params.check_against_data(ps, synth_dataset)
    assert (pr.path, pr.line) == ("cutoff", 2)
    assert str(synth_dataset.extracted_on) in pr.message


def test_cutoff_before_any_enrolment(synth_dataset):
    first = synth_dataset.participants["enrolled_on"].min().date()
    ps = params.ParamSet(cutoff=first - dt.timedelta(days=1), notebooks={"panoramica": {}})
    [pr] = params.check_against_data(ps, synth_dataset)
    assert "before the first enrolment" in pr.message


def test_report_years_must_have_data(tmp_path, synth_dataset):
    ps = params.load_params(_write(tmp_path, "notebooks:\n  panoramica:\n    years: [2016, 2023, 2025]\n"))
    [pr] = params.check_against_data(ps, synth_dataset)
    assert pr.path == "notebooks.panoramica.years" and pr.line == 3
    assert "[2016, 2025]" in pr.message


def test_cli_check_exit_codes(tmp_path, synth_dir, capsys):
    bad = _write(tmp_path, "lnag: en\n")
    assert cli(["params", "check", str(bad), "--data", str(synth_dir)]) == 4
    assert "did you mean 'lang'" in capsys.readouterr().out
    late = _write(tmp_path, "cutoff: 2099-01-01\nnotebooks: {panoramica: {}}\n", "late.yaml")
    assert cli(["params", "check", str(late), "--data", str(synth_dir)]) == 4
    assert "late.yaml:1: cutoff: cut-off 2099-01-01 is after the extract date" in capsys.readouterr().out
    assert cli(["params", "check", str(late), "--data", str(tmp_path / "no-data")]) == 2


class _Probe(params._Frozen):
    """A model using every data-checked type (independent of which notebooks exist)."""

    subgroups: params.Subgroups = Field(("gender",), description="x")
    levels: params.SubgroupLevels = Field({}, description="x")
    horizons_days: params.HorizonsDays = Field((30,), description="x")
    enrol_from: params.EnrolFrom = Field(None, description="x")


def _probe_set(**kw):
    # check_against_data reads only these attributes of a parameter set.
    return SimpleNamespace(selected=lambda: {"probe": _Probe(**kw)}, cutoff=None, _lines={}, _source=None)


def test_subgroups_levels_and_horizons_checked_against_data():
    ds = _toy_dataset()  # 5 people enrolled 2024-01-01..2024-05-01, extract 2024-05-31, no gender X
    assert params.check_against_data(_probe_set(), ds) == []
    probs = params.check_against_data(
        _probe_set(subgroups=("gender", "education"), levels={"gender": ("F", "X")}, horizons_days=(90, 200)), ds
    )
    msgs = {p.path: p.message for p in probs}
    assert "single level" in msgs["notebooks.probe.subgroups"] and "education" in msgs["notebooks.probe.subgroups"]
    assert "['X']" in msgs["notebooks.probe.levels.gender"]
    assert "horizon 200 days exceeds" in msgs["notebooks.probe.horizons_days"]
    assert "151 days" in msgs["notebooks.probe.horizons_days"]  # 2024-01-01 .. 2024-05-31
    # An enrolment window shortens the follow-up the horizons are checked against.
    [pr] = params.check_against_data(_probe_set(horizons_days=(90,), enrol_from=dt.date(2024, 3, 15)), ds)
    assert "77 days from 2024-03-15" in pr.message


def test_unknown_subgroup_name_is_a_schema_error():
    with pytest.raises(ValidationError, match="gender"):
        _Probe(subgroups=("sex",))


# ------------------------------------------------------------------ notebook cells and docs


def test_parameter_cell_round_trips_through_the_parser():
    for key in params.NOTEBOOK_PARAMS:
        cell = params.parameter_cell(key)
        parsed = params.parse_parameter_cell("\n".join(c.line() for c in cell))
        assert [(c.name, c.type, c.default) for c in parsed] == [(c.name, c.type, c.default) for c in cell]
        assert [c.name for c in cell[:5]] == ["data_dir", "cutoff", "lang", "disclosure_threshold", "output_dir"]


def test_parse_parameter_cell_rejects_code():
    with pytest.raises(ValueError, match="line 2"):
        params.parse_parameter_cell('lang: str = "it"\nimport os\n')


def test_notebook_parameters_are_what_the_cell_declares():
    ps = params.ParamSet(cutoff="2024-03-31", lang="en", notebooks={k: {} for k in params.NOTEBOOK_PARAMS})
    for key in params.NOTEBOOK_PARAMS:
        values = params.notebook_parameters(ps, key, data_dir="/d", output_dir="/o")
        cell = params.parameter_cell(key)
        assert list(values) == [c.name for c in cell]
        assert values["cutoff"] == "2024-03-31" and values["lang"] == "en" and values["output_dir"] == "/o"
        assert {c.name: c.default for c in cell[5:]} == {c.name: values[c.name] for c in cell[5:]}


def test_common_parameters_match_developing_md():
    text = (REPO_ROOT / "docs" / "developing.md").read_text(encoding="utf-8")
    for c in params.parameter_cell("panoramica")[:5]:
        assert c.line() in text


def test_parameters_doc_is_current():
    doc = REPO_ROOT / "docs" / "parameters.md"
    assert doc.read_text(encoding="utf-8") == params.render_docs(), (
        "docs/parameters.md is stale: run `ixl-eval params docs --out docs/parameters.md`"
    )


def test_docs_list_every_parameter():
    doc = params.render_docs()
    for key, model in params.NOTEBOOK_PARAMS.items():
        assert f"### `{key}`" in doc
        for name in model.model_fields:
            assert f"| `{name}` |" in doc
    for name in params.ParamSet.model_fields:
        assert f"| `{name}` |" in doc
