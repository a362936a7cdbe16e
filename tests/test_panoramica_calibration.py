"""The overview notebook reproduces the report's figures on the synthetic data (issue 3).

The notebook runs through the runner users use (the session fixture ``suite_run``, one run of
every notebook shared by the suite); this file reads the records it wrote to ``results.json``
and compares them with ``published-figures.yaml`` (targets are read from the file, never typed
here) within the calibration tolerances of issue 2: enrolments per year exact, the 2023 mix
within 2 percentage points, everything else within 5% (relative, shares too).
"""

from __future__ import annotations

import pytest
import yaml

from ixl_eval import paths
from ixl_eval.results import read_results

FIG = yaml.safe_load(paths.PUBLISHED_FIGURES.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def records(suite_run):
    recs = read_results(suite_run.run_dir / "results.json")
    by_nb: dict[str, dict] = {}
    for r in recs:
        by_nb.setdefault(r["notebook"], {})[r["key"]] = r
    assert "panoramica" in by_nb, f"the overview did not record anything; failed: {suite_run.failed}"
    return by_nb


def _targets():
    """(id, record key(s), target, tolerance, kind): a record's value, or the sum of several."""
    e, pl, iv = FIG["enrolments"], FIG["placements"], FIG["intake_interviews"]
    out = [(f"enrolments_{y}", [f"enrolments__year={y}"], v, 0, "abs") for y, v in e["by_year"].items()]
    for y in (2022, 2023):
        out.append((f"under_40_share_{y}", [f"enrolments_share__under_40=yes__year={y}"],
                    e[f"under_40_{y}"] / e["by_year"][y], 0.02, "abs"))
    out.append(("under_40_count_2023", ["enrolments__under_40=yes__year=2023"], e["under_40_2023"], 0.02, "rel"))
    out.append(("foreign_share_2023", ["enrolments_share__citizenship_group=foreign__year=2023"],
                e["foreign_origin_2023"]["share"], 0.02, "abs"))
    out.append(("foreign_share_2022", ["enrolments_share__citizenship_group=foreign__year=2022"],
                e["foreign_origin_share_2022"], 0.02, "abs"))
    for c, v in e["top_citizenships_2023_share"].items():
        out.append((f"citizenship_{c}_2023", [f"foreign_enrolments_share__citizenship={c}__year=2023"], v, 0.02, "abs"))
    total_edu = sum(e["education_2023"].values())  # the report's counts sum to 2043, not 2047
    for lvl, v in e["education_2023"].items():
        out.append((f"education_{lvl}_2023", [f"enrolments_share__education={lvl}__year=2023"], v / total_edu,
                    0.02, "abs"))
    for y, v in pl["by_year"].items():
        out.append((f"placements_{y}", [f"placements__year={y}"], v, 0.05, "rel"))
    out.append(("persons_placed_2023", ["persons_placed__year=2023"], pl["persons_placed_2023"], 0.05, "rel"))
    out.append(("first_placed_2023", ["first_placed__year=2023"], pl["persons_first_placed_2023"], 0.05, "rel"))
    for t, v in pl["contract_type_2023"].items():
        if isinstance(v, dict):
            out.append((f"contract_{t}_share_2023", [f"placements_share__contract_type={t}__year=2023"], v["share"],
                        0.05, "rel"))
    groups = {"large_over_250": ["large"], "medium_and_small": ["medium", "small"], "micro_under_10": ["micro"]}
    for g, v in pl["employer_size_share_2023"].items():
        out.append((f"employer_{g}_share_2023", [f"placements_share__employer_size={s}__year=2023" for s in groups[g]],
                    v, 0.05, "rel"))
    for y, v in pl["q1"].items():
        out.append((f"placements_q1_{y}", [f"placements__quarter={y}Q1"], v, 0.05, "rel"))
    for y, v in pl["permanent_q1"].items():
        out.append((f"permanent_q1_{y}", [f"permanent__quarter={y}Q1"], v, 0.05, "rel"))
    out.append(("interviews_2023", ["interviewed__year=2023"], iv["done_2023"], 0.05, "rel"))
    return out


TARGETS = _targets()


@pytest.mark.slow
@pytest.mark.parametrize("name,keys,target,tol,kind", TARGETS, ids=[t[0] for t in TARGETS])
def test_overview_matches_the_report(records, name, keys, target, tol, kind):
    pan = records["panoramica"]
    missing = [k for k in keys if k not in pan]
    assert not missing, f"{name}: no record {missing} in results.json"
    values = [pan[k]["value"] for k in keys]
    assert None not in values, f"{name}: a record is withheld (below the disclosure threshold)"
    got = sum(values)
    if kind == "abs":
        assert abs(got - target) <= tol, f"{name}: {got} vs report {target} (tolerance ±{tol})"
    else:
        assert abs(got - target) <= tol * target, f"{name}: {got} vs report {target} (tolerance ±{tol:.0%})"


@pytest.mark.slow
def test_monitoring_q1_2024_agrees_with_the_overview_and_the_report(records):
    mon = records.get("monitoraggio_trimestrale")
    assert mon is not None, "the quarterly monitoring did not record anything"
    pan = records["panoramica"]
    q1 = FIG["placements"]["q1"]
    for key in ("placements__quarter=2024Q1", "permanent__quarter=2024Q1", "placements__quarter=2023Q1"):
        assert mon[key]["value"] == pan[key]["value"], key  # one definition, two notebooks
    now, before = mon["placements__quarter=2024Q1"]["value"], mon["placements__quarter=2023Q1"]["value"]
    ch = mon["placements_change__quarter=2024Q1"]
    assert ch["value"] == pytest.approx(now / before - 1)
    assert ch["ci_low"] < ch["value"] < ch["ci_high"]
    # the report's +49% (152 against 102), within what the 5% calibration of both counts allows
    report = q1[2024] / q1[2023] - 1
    assert abs((1 + ch["value"]) / (1 + report) - 1) <= 0.105
