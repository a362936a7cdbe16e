"""The two layers (issue 10): estimation knows no language, threshold or report; the earlier
module names stay importable as the same module objects."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import ixl_eval

ESTIMATE = Path(ixl_eval.__file__).parent / "estimate"


@pytest.mark.parametrize("path", sorted(ESTIMATE.glob("*.py")), ids=lambda p: p.name)
def test_estimation_modules_import_no_report_and_take_no_language(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            mod = ("." * node.level) + (node.module or "")
            assert "report" not in mod and "disclosure" not in mod, (path.name, mod)
            assert not (node.level == 2 and node.module is None
                        and {a.name for a in node.names} & {"report", "disclosure", "present"}), path.name
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            args = {a.arg for a in node.args.args + node.args.kwonlyargs}
            assert not args & {"lang", "rep"}, (path.name, node.name, args & {"lang", "rep"})
            if node.name in ("analyse", "fit"):
                assert "k" not in args, (path.name, node.name)


@pytest.mark.parametrize("old,new", [("survival", "estimate.survival"), ("causal", "estimate.causal"),
                                     ("kpi", "estimate.kpi"), ("present", "report.present")])
def test_earlier_module_names_are_the_same_modules(old, new):
    assert importlib.import_module(f"ixl_eval.{old}") is importlib.import_module(f"ixl_eval.{new}")
    from ixl_eval import survival

    assert survival.CoxModel.__module__ == "ixl_eval.estimate.survival"
