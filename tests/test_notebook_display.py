"""A notebook shows only a cell's last value: a report call earlier in a cell must be display()ed.

A heading or table produced by ``rep.heading(...)`` in the middle of a cell is silently lost from
the report; this test finds such calls in every notebook (found by glob).
"""

import ast
import json
from pathlib import Path

import pytest

from ixl_eval.paths import NOTEBOOKS_DIR

SHOWN_BY = {"header", "summary", "heading", "text", "caveats", "table", "figure", "data_quality",
            "provenance", "finish"}
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def _is_report_call(st) -> bool:
    if not (isinstance(st, ast.Expr) and isinstance(st.value, ast.Call)):
        return False
    f = st.value.func
    return isinstance(f, ast.Attribute) and f.attr in SHOWN_BY and isinstance(f.value, ast.Name) and f.value.id == "rep"


def lost_calls(source: str) -> list[int]:
    """Line numbers of bare ``rep.<display method>(...)`` statements whose value is never shown:
    any but a cell's last top-level statement, and every one inside a loop, ``if`` or ``with``."""
    lost = []

    def walk(body, top_level):
        for i, st in enumerate(body):
            if _is_report_call(st) and (not top_level or i < len(body) - 1):
                lost.append(st.lineno)
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(st, field, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                    walk(inner, False)
            for h in getattr(st, "handlers", []):
                walk(h.body, False)

    walk(ast.parse(source).body, True)
    return sorted(lost)


def test_the_check_sees_a_lost_heading():
    assert lost_calls('rep.heading(it="a", en="a")\nrep.text(it="b", en="b")') == [1]
    assert lost_calls('display(rep.heading(it="a", en="a"))\nrep.text(it="b", en="b")') == []
    assert lost_calls('for c in cols:\n    rep.table(t, c)') == [2]
    assert lost_calls('if a:\n    display(rep.table(t, "x"))') == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_report_output_is_lost(path: Path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    problems = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            for line in lost_calls("".join(cell["source"])):
                problems.append(f"cell {i}, line {line}")
    assert not problems, f"{path.name}: report output not displayed (wrap in display()): {problems}"
