"""Scale benchmark of the time-to-placement analysis (not a test).

Runs the analysis end to end — cohort, Kaplan–Meier by two subgroups (with log-rank), exact
Aalen–Johansen, Cox with the default covariates stratified by enrolment year (with concordance
and the proportional-hazards test) — on synthetic data of about 10k, 100k and 1M participants
(``ixl_eval.synth.generate(scale=...)``; the bundled population is about 8,900 people), and
prints wall time and peak memory per step. Goal at 1M: all analysis steps together under 20 s
and 3 GiB peak on a 2-core machine.

Each size runs in a fresh subprocess so peak memory is not inherited. Peak memory is the
process's peak resident set (``VmHWM``), reset before each step through
``/proc/self/clear_refs`` (Linux), so a step's figure includes the data already in memory.

Usage::

    .venv/bin/python benchmarks/scale.py                 # 10k, 100k, 1M
    .venv/bin/python benchmarks/scale.py --people 1e7    # one size (e.g. how far 10M gets)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

BUNDLED_PEOPLE = 8865  # participants at scale 1 with the default seed
STEPS = ("cohort", "km_gender+logrank", "km_age_band+logrank", "aalen_johansen", "cox", "concordance", "ph_test")


def _peak_rss_reset() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _peak_rss_gib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 2**20
    return float("nan")


def run_one(people: float) -> dict:
    """Generate ~``people`` participants and time each analysis step (in this process)."""
    from ixl_eval.cohorts import time_to_placement
    from ixl_eval.dataset import Dataset
    from ixl_eval.survival import AalenJohansen, CoxModel, km_by_group, logrank
    from ixl_eval.synth import generate

    t = time.perf_counter()
    res = generate(scale=people / BUNDLED_PEOPLE)
    fr = res.frames
    ds = Dataset(participants=fr["participants"], interviews=fr["interviews"], programmes=fr["programmes"],
                 placements=fr["placements"], extracted_on=res.extracted_on, source="synthetic", data_dir=None)
    out = {"people": len(fr["participants"]), "generate_s": time.perf_counter() - t, "steps": {}}
    del res, fr
    state = {}

    def step(name, fn):
        _peak_rss_reset()
        t0 = time.perf_counter()
        state[name] = fn()
        out["steps"][name] = {"seconds": time.perf_counter() - t0, "peak_gib": _peak_rss_gib()}

    step("cohort", lambda: time_to_placement(ds))
    f = state["cohort"]

    def km_lr(col):
        fits = km_by_group(f, col)
        return fits, logrank(f["time"], f["event"], f[col])

    step("km_gender+logrank", lambda: km_lr("gender"))
    step("km_age_band+logrank", lambda: km_lr("age_band"))
    step("aalen_johansen", lambda: AalenJohansen().fit(f["time"], f["event"]))
    step("cox", lambda: CoxModel(["gender", "age_band", "citizenship_group", "education"],
                                 strata=["enrolment_year"]).fit(f))
    m = state["cox"]
    step("concordance", lambda: m.concordance_)
    step("ph_test", lambda: m.ph_test())
    out["analysis_s"] = sum(s["seconds"] for s in out["steps"].values())
    out["peak_gib"] = max(s["peak_gib"] for s in out["steps"].values())
    out["cox_iterations"] = m.n_iter_
    return out


def _print(r: dict) -> None:
    print(f"\n{r['people']:,} participants (generated in {r['generate_s']:.1f} s, not counted)")
    for name, s in r["steps"].items():
        print(f"  {name:<22} {s['seconds']:7.2f} s   peak {s['peak_gib']:5.2f} GiB")
    print(f"  {'all analysis steps':<22} {r['analysis_s']:7.2f} s   peak {r['peak_gib']:5.2f} GiB"
          f"   (Cox: {r['cox_iterations']} Newton steps)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=float, action="append", help="participants (repeatable); default 1e4 1e5 1e6")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(run_one(args.people[0])))
        return 0
    results = []
    for n in args.people or [1e4, 1e5, 1e6]:
        p = subprocess.run([sys.executable, __file__, "--child", "--people", str(n)], capture_output=True, text=True)
        if p.returncode != 0:
            print(f"\n{int(n):,} participants: FAILED (exit {p.returncode})\n{p.stderr[-2000:]}")
            continue
        r = json.loads(p.stdout.strip().splitlines()[-1])
        results.append(r)
        _print(r)
    big = [r for r in results if r["people"] >= 9e5]
    for r in big:
        ok = r["analysis_s"] < 20 and r["peak_gib"] < 3
        print(f"\ngoal at {r['people']:,}: < 20 s and < 3 GiB -> {'met' if ok else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
