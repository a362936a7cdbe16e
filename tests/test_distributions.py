"""ixl_eval.distributions returns exactly what scipy.stats returns, inside and outside the support."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from ixl_eval import distributions as dist

RNG = np.random.default_rng(20240430)
EDGES = np.array([-np.inf, -3.0, -1e-12, -0.0, 0.0, 1e-300, 1e-12, 0.5, 1.0, 3.841458820694124, 50.0, 1e6,
                  np.inf, np.nan])
X = np.concatenate([EDGES, RNG.normal(0, 3, 200), RNG.exponential(5, 200)])
Q = np.concatenate([[-0.1, 0.0, 1e-300, 1e-12, 0.025, 0.5, 0.975, 1 - 1e-12, 1.0, 1.1, np.nan],
                    RNG.uniform(0, 1, 200)])
DFS = [-1.0, 0.0, 0.5, 1, 2, 3, 7.5, 40, 2 * 137, np.nan]


def test_norm_matches_scipy_stats_exactly():
    np.testing.assert_array_equal(dist.norm_ppf(Q), stats.norm.ppf(Q))
    np.testing.assert_array_equal(dist.norm_sf(X), stats.norm.sf(X))
    assert float(dist.norm_ppf(0.975)) == float(stats.norm.ppf(0.975))


@pytest.mark.parametrize("df", DFS)
def test_chi2_matches_scipy_stats_exactly(df):
    np.testing.assert_array_equal(dist.chi2_sf(X, df), stats.chi2.sf(X, df))
    np.testing.assert_array_equal(dist.chi2_ppf(Q, df), stats.chi2.ppf(Q, df))


def test_scalars_give_floats_as_scipy_does():
    assert float(dist.chi2_sf(3.2, 1)) == float(stats.chi2.sf(3.2, 1))
    assert float(dist.chi2_ppf(0.025, 2 * 12)) == float(stats.chi2.ppf(0.025, 2 * 12))
    assert np.isnan(float(dist.chi2_sf(1.0, 0)))  # a log-rank test of one group
