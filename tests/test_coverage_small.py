"""A small version of the coverage study (``benchmarks/coverage.py``): R = 20 seeds, loose bounds.

About 25 s with two worker processes on the development machine (2 cores, lightly loaded), so it
is in the default run, marked ``slow``. The full study (R = 200) and its table are in ``docs/coverage.md``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow


def _coverage_module():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "coverage.py"
    spec = importlib.util.spec_from_file_location("ixl_coverage_study", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # worker processes (forked) unpickle its functions by this name
    spec.loader.exec_module(mod)
    return mod


def test_small_coverage_study():
    from concurrent.futures import ProcessPoolExecutor

    cov = _coverage_module()
    seeds = list(range(1, 21))
    with ProcessPoolExecutor(max_workers=2) as ex:
        rows = [r for rs in ex.map(cov.one_seed, seeds) for r in rs]
    tab = cov.summarise(pd.DataFrame(rows)).set_index(["analysis", "contrast", "method", "quantity"])
    for c in ("offer", "start"):
        for q in ("placed_6m", "placed_12m", "log_hr"):
            r = tab.loc[("ips", c, "iptw", q)]
            # 20 replicates: coverage of a calibrated 95% interval is >= 16/20 with probability > 98%
            assert r["coverage"] >= 0.8, (c, q, r)
            assert abs(r["bias"]) < 2.5 * r["emp_sd"] / len(seeds) ** 0.5 + 0.02, (c, q, r)
            assert 0.6 < r["mean_se"] / r["emp_sd"] < 1.6, (c, q, r)
    r = tab.loc[("ips_conditional", "start", "tv_cox", "log_hr")]
    assert r["coverage"] >= 0.8
