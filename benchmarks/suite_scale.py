"""Benchmark: the real ``ixl-eval run`` end to end on large extracts (not a test).

Runs the command a regional or national evaluator runs, ``ixl-eval run params/default.yaml``, in
a fresh process on Parquet data of about 100k and 1M participants (``ixl-eval synth --scale 11``
and ``--scale 113``), and in the same invocation on the bundled-size data (scale 1) as the
reference. For each run it prints:

- the wall time of the command, and per notebook its own time (kernel start to last cell, from
  the run's ``manifest.json``) with the runner's phases (prepare = parameters and validation,
  notebooks = execution and HTML export, collect = results, workbook, manifest, index);
- the peak resident memory of the whole process tree (the runner and every kernel it starts),
  sampled every 50 ms with psutil as the sum of the tree's RSS (a sum, since the kernels are
  separate processes: this is what the machine must hold at once);
- the ratio of its wall time to the bundled-data run measured just before;
- the CPU seconds of the runner and all its kernels (sampled with the memory, so the last
  50 ms of each process are missed), and their ratio to the bundled run: on a machine shared with other jobs, wall time measures
  the neighbours too, CPU time much less.

Goal at 1M participants on 2 cores: at most 60 s wall and 4 GiB peak, at most 4x the bundled
run. Data are generated once into ``--cache`` (default ``/tmp/ixl-bench-data``) and reused by
later invocations (same seed and scale, same files). Figures also go to
``benchmarks/results/suite_scale.json`` (git-ignored). A run that exceeds ``--timeout`` is
killed; the notebooks finished by then are reported from the runner's progress lines.

Usage::

    .venv/bin/python benchmarks/suite_scale.py                       # bundled, 100k, 1M
    .venv/bin/python benchmarks/suite_scale.py --scales 113 --repeat 3
    .venv/bin/python benchmarks/suite_scale.py --scales 1130 --timeout 1800   # ~10M: how far it gets
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
_PROGRESS = re.compile(r"^\[\d+/\d+\]\s+(\S+)\s+(ok|FAILED)\s+([\d.]+) s")


def _data(cache: Path, scale: float) -> tuple[Path, float]:
    """The Parquet extract at ``scale`` (generated once into the cache); seconds spent generating."""
    d = cache / f"scale-{scale:g}"
    if (d / "extract.yaml").is_file():
        return d, 0.0
    t0 = time.perf_counter()
    subprocess.run([str(BIN / "ixl-eval"), "synth", "--out", str(d), "--scale", f"{scale:g}", "--format", "parquet",
                    "--force"], check=True, cwd=REPO, capture_output=True)
    return d, time.perf_counter() - t0


class _TreeRss:
    """Peak of the summed RSS of a process and all its descendants, sampled in a thread, and the
    CPU seconds each of them had used when last seen (kernels are not always reaped by the
    runner, so ``getrusage`` of children misses them)."""

    def __init__(self, pid: int, every: float = 0.05):
        self.root, self.every, self.peak, self._stop = psutil.Process(pid), every, 0, threading.Event()
        self.cpu: dict[int, float] = {}
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            total = 0
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                break
            for p in procs:
                try:
                    total += p.memory_info().rss
                    c = p.cpu_times()
                    self.cpu[p.pid] = c.user + c.system
                except psutil.Error:
                    pass  # exited between listing and reading
            self.peak = max(self.peak, total)
            self._stop.wait(self.every)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak / 2**30


def run_once(data: Path, params: Path, jobs: int | None, timeout: float) -> dict:
    """One ``ixl-eval run`` in a fresh process: wall time, tree peak RSS, per-notebook times."""
    with tempfile.TemporaryDirectory(prefix="ixl-bench-out-") as out:
        cmd = [str(BIN / "ixl-eval"), "run", str(params), "--data", str(data), "--outputs", out, "--no-compare"]
        if jobs:
            cmd += ["--jobs", str(jobs)]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        rss = _TreeRss(proc.pid)
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
        reader.start()
        try:
            rc = proc.wait(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out, rc = True, None
            for p in psutil.Process(proc.pid).children(recursive=True):
                p.kill()
            proc.kill()
            proc.wait()
        wall = time.perf_counter() - t0
        peak = rss.stop()
        reader.join(5)
        # CPU seconds of the runner and its kernels (as last sampled): less sensitive than wall
        # time to other people's jobs on a shared machine
        cpu = sum(rss.cpu.values())
        res = {"wall_s": round(wall, 2), "cpu_s": round(cpu, 1), "peak_tree_rss_gib": round(peak, 2), "returncode": rc, "timed_out": timed_out,
               "notebooks_s": {}, "phases_s": None, "people": None}
        for ln in lines:
            m = _PROGRESS.match(ln.strip())
            if m:
                res["notebooks_s"][m.group(1)] = float(m.group(3)) if m.group(2) == "ok" else f"FAILED {m.group(3)}"
        runs = [d for d in Path(out).iterdir() if not d.name.startswith(".")]
        if runs:
            man = json.loads((runs[0] / "manifest.json").read_text(encoding="utf-8"))
            res["notebooks_s"] = {n["key"]: n["duration_s"] if n["status"] == "ok" else f"FAILED {n['duration_s']}"
                                  for n in man["notebooks"]}
            res["phases_s"] = man.get("phases_s")
            res["runner_duration_s"] = man.get("duration_s")
            res["people"] = man["data"]["rows"]["participants"]
        if rc not in (0, None):
            res["tail"] = "".join(lines[-15:])
        return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", type=float, nargs="+", default=[11, 113],
                    help="synth scales to run (1 = bundled size, 11 ~ 100k, 113 ~ 1M, 1130 ~ 10M)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per size (median reported)")
    ap.add_argument("--jobs", type=int, default=None, help="notebooks in parallel (default: CPU cores)")
    ap.add_argument("--params", type=Path, default=REPO / "params" / "default.yaml")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "ixl-bench-data")
    ap.add_argument("--timeout", type=float, default=900, help="seconds before a run is killed")
    args = ap.parse_args(argv)

    results = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                           "load_avg_1m_start": round(os.getloadavg()[0], 2)}, "runs": {}}
    base = base_cpu = None
    print(f"ixl-eval run {args.params.name} end to end; {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f} (a shared machine makes timings noisy)")
    for scale in [1.0] + [s for s in args.scales if s != 1]:
        data, gen = _data(args.cache, scale)
        reps = [run_once(data, args.params.resolve(), args.jobs, args.timeout) for _ in range(args.repeat)]
        walls = [r["wall_s"] for r in reps]
        med = sorted(range(len(reps)), key=walls.__getitem__)[len(reps) // 2]
        r = dict(reps[med], wall_runs_s=walls, peak_runs_gib=[x["peak_tree_rss_gib"] for x in reps],
                 generate_s=round(gen, 1))
        wall = statistics.median(walls)
        if scale == 1:
            base, base_cpu = wall, r["cpu_s"]
        r["ratio_to_bundled"] = round(wall / base, 2) if base else None
        r["cpu_ratio_to_bundled"] = round(r["cpu_s"] / base_cpu, 2) if base_cpu else None
        results["runs"][f"{scale:g}"] = r
        people = r["people"] or "?"
        status = "TIMED OUT" if r["timed_out"] else ("ok" if r["returncode"] == 0 else f"rc={r['returncode']}")
        print(f"\nscale {scale:g} ({people} participants): wall {wall:.1f} s (runs: "
              f"{', '.join(f'{w:.1f}' for w in walls)}), CPU {r['cpu_s']:.0f} s, peak tree RSS "
              f"{r['peak_tree_rss_gib']:.2f} GiB, "
              f"{r['ratio_to_bundled']}x bundled (CPU {r['cpu_ratio_to_bundled']}x), {status}")
        for k, d in r["notebooks_s"].items():
            print(f"    {k:<28} {d if isinstance(d, str) else f'{d:6.1f} s'}")
        ph = r.get("phases_s")
        if ph:
            print(f"    phases: prepare {ph['prepare']:.1f} s, notebooks {ph['notebooks']:.1f} s, "
                  f"collect {ph['collect']:.1f} s; process start/exit {wall - r['runner_duration_s']:.1f} s")
        if r.get("tail"):
            print("    " + r["tail"].replace("\n", "\n    "))
    results["machine"]["load_avg_1m_end"] = round(os.getloadavg()[0], 2)
    big = results["runs"].get("113")
    if big:
        print(f"\ngoal at ~1M: <= 60 s wall, <= 4 GiB peak, <= 4x bundled; measured {statistics.median(big['wall_runs_s']):.1f} s, "
              f"{big['peak_tree_rss_gib']:.2f} GiB, {big['ratio_to_bundled']}x")
    res_dir = REPO / "benchmarks" / "results"
    res_dir.mkdir(exist_ok=True)
    (res_dir / "suite_scale.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
