"""Benchmark: the whole suite through the runner against the floor cost of papermill.

Measures, on this machine and in this environment:

(a) one bare papermill run of an empty notebook (``python -m papermill``, a fresh process: its
    imports, a kernel start, one empty cell) — the floor cost of any notebook;
(b) the full ``ixl-eval run params/default.yaml`` (a fresh process: validation, every notebook,
    HTML export, results, workbook, manifest, index),

and prints both with the ratio (b) / (number of notebooks x a). Goal: ratio <= 1.5 on a 2-core
machine. The run uses freshly generated synthetic data and a temporary outputs folder, so it
neither needs ``make data`` nor leaves a run in ``outputs/``. Figures also go to
``benchmarks/results/suite.json`` (git-ignored).

Usage::

    .venv/bin/python benchmarks/suite.py [--repeat 3] [--jobs N] [--params params/default.yaml]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _timed(cmd: list[str], cwd: Path) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return dt


def bare_papermill(tmp: Path, repeat: int) -> list[float]:
    """(a): `python -m papermill` on a notebook with one empty cell, in a fresh process each time."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    src = tmp / "empty.ipynb"
    nbformat.write(nb, str(src))
    cmd = [sys.executable, "-m", "papermill", "--no-progress-bar", str(src), str(tmp / "empty-out.ipynb")]
    return [_timed(cmd, tmp) for _ in range(repeat)]


def full_run(tmp: Path, params: Path, jobs: int | None, data: Path) -> tuple[float, dict]:
    """(b): `ixl-eval run` in a fresh process; returns wall time and the run's manifest."""
    out = tmp / f"outputs-{time.monotonic_ns()}"
    cmd = [str(BIN / "ixl-eval"), "run", str(params), "--data", str(data), "--outputs", str(out), "--no-compare"]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    wall = _timed(cmd, REPO)
    [run_dir] = [d for d in out.iterdir() if not d.name.startswith(".")]
    return wall, json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="repetitions of each measurement (median reported)")
    ap.add_argument("--jobs", type=int, default=None, help="notebooks in parallel (default: CPU cores)")
    ap.add_argument("--params", type=Path, default=REPO / "params" / "default.yaml")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="ixl-bench-") as t:
        tmp = Path(t)
        data = tmp / "data"
        _timed([str(BIN / "ixl-eval"), "synth", "--out", str(data)], REPO)
        a_runs = bare_papermill(tmp, args.repeat)
        b_runs, manifests = [], []
        for _ in range(args.repeat):
            wall, m = full_run(tmp, args.params.resolve(), args.jobs, data)
            b_runs.append(wall)
            manifests.append(m)

    a, b = statistics.median(a_runs), statistics.median(b_runs)
    m = manifests[sorted(range(len(b_runs)), key=b_runs.__getitem__)[len(b_runs) // 2]]  # the median run
    n = len(m["notebooks"])
    ratio = b / (n * a)
    per_nb = {x["key"]: x["duration_s"] for x in m["notebooks"]}
    result = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "load_avg_1m": os.getloadavg()[0]},
        "a_bare_papermill_s": [round(x, 2) for x in a_runs],
        "b_full_run_s": [round(x, 2) for x in b_runs],
        "notebooks": n,
        "jobs": m["jobs"],
        "ratio": round(ratio, 2),
        "notebook_durations_s": per_nb,
        "sum_of_notebook_durations_s": round(sum(per_nb.values()), 2),
        "status": m["status"],
        "phases_s": m.get("phases_s"),
    }
    print(f"(a) bare papermill run, empty notebook: median {a:5.1f} s  (runs: {', '.join(f'{x:.1f}' for x in a_runs)})")
    print(f"(b) ixl-eval run {args.params.name}:     median {b:5.1f} s  (runs: {', '.join(f'{x:.1f}' for x in b_runs)})")
    print(f"    {n} notebooks, {m['jobs']} in parallel; each notebook's own time (kernel start to last cell):")
    for k, d in per_nb.items():
        print(f"      {k:<28} {d:6.1f} s")
    ph = m.get("phases_s", {})
    print(f"    sum {sum(per_nb.values()):.1f} s; CPUs {os.cpu_count()}; load average {os.getloadavg()[0]:.1f}")
    if ph:
        print(f"    runner phases: prepare {ph['prepare']:.1f} s (params, data validation), notebooks "
              f"{ph['notebooks']:.1f} s (execution + HTML), collect {ph['collect']:.1f} s; process start/exit "
              f"{b - m['duration_s']:.1f} s")
    print(f"ratio (b) / (notebooks x a) = {b:.1f} / ({n} x {a:.1f}) = {ratio:.2f}   (goal <= 1.5)")
    res_dir = REPO / "benchmarks" / "results"
    res_dir.mkdir(exist_ok=True)
    (res_dir / "suite.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
