"""The notebooks in the repository: stripped, code-free of definitions, parameters as the schema says."""

from __future__ import annotations

import ast
import re

import nbformat
import pytest

from ixl_eval import params
from ixl_eval.runner import find_notebooks

NOTEBOOKS = find_notebooks()


def _code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def _python(src: str) -> str:
    # IPython magics and shell escapes are not Python; blank them so ast can parse the rest.
    return "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in src.splitlines())


@pytest.fixture(scope="module", params=sorted(NOTEBOOKS), ids=str)
def notebook(request):
    key = request.param
    return key, nbformat.read(str(NOTEBOOKS[key]), as_version=4)


def test_there_are_notebooks():
    assert "panoramica" in NOTEBOOKS


def test_every_notebook_has_a_parameter_model_and_every_model_a_notebook():
    assert set(NOTEBOOKS) == set(params.NOTEBOOK_PARAMS), (
        f"notebooks without a model: {sorted(set(NOTEBOOKS) - set(params.NOTEBOOK_PARAMS))}; "
        f"models without a notebook: {sorted(set(params.NOTEBOOK_PARAMS) - set(NOTEBOOKS))}"
    )


def test_committed_without_outputs(notebook):
    key, nb = notebook
    for i, c in enumerate(_code_cells(nb)):
        assert c.outputs == [], f"{key}: code cell {i} has outputs (strip them: nbstripout)"
        assert c.execution_count is None, f"{key}: code cell {i} has an execution count"
    assert "papermill" not in nb.metadata, f"{key}: executed-notebook metadata committed"


def test_no_function_or_class_definitions(notebook):
    key, nb = notebook
    for i, c in enumerate(_code_cells(nb)):
        for node in ast.walk(ast.parse(_python(c.source))):
            assert not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)), (
                f"{key}: cell {i} defines {node.name!r}; put it in the ixl_eval package"
            )


def test_first_code_cell_is_the_parameters_cell_matching_the_schema(notebook):
    key, nb = notebook
    first = _code_cells(nb)[0]
    assert "parameters" in first.metadata.get("tags", []), f"{key}: first code cell not tagged 'parameters'"
    got = [(c.name, c.type, c.default) for c in params.parse_parameter_cell(first.source)]
    want = [(c.name, c.type, c.default) for c in params.parameter_cell(key)]
    assert got == want, f"{key}: parameters cell disagrees with params.py; expected lines:\n" + "\n".join(
        c.line() for c in params.parameter_cell(key)
    )


def test_parameters_cell_is_readable_by_papermill(notebook):
    # papermill skips (with a warning) any line with a second "=", e.g. in the help comment.
    from ixl_eval.runner import _skip_slow_iri_checker

    _skip_slow_iri_checker()  # as the runner does: importing papermill stays quick
    from papermill.translators import PythonTranslator

    key, nb = notebook
    first = _code_cells(nb)[0]
    found = [p.name for p in PythonTranslator.inspect(first)]
    assert found == [c.name for c in params.parameter_cell(key)], f"{key}: papermill reads only {found}"
    assert all(p.help for p in PythonTranslator.inspect(first)), f"{key}: a parameter has no help comment"


def test_second_cell_opens_the_report_with_the_notebook_key(notebook):
    key, nb = notebook
    src = _code_cells(nb)[1].source
    assert re.search(rf"""Report\.open\(\s*["']{key}["']""", src), f"{key}: second cell must Report.open({key!r}, ...)"
    for name in ("data_dir", "cutoff", "lang", "disclosure_threshold", "output_dir"):
        assert f"{name}={name}" in src.replace(" ", ""), f"{key}: Report.open does not pass {name}"


def test_report_is_finished(notebook):
    key, nb = notebook
    assert any("rep.finish()" in c.source for c in _code_cells(nb)), f"{key}: never calls rep.finish()"
