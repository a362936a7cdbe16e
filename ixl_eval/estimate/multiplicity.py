"""Many tests at once: Holm-adjusted p-values (the sentence saying how many tests were run is
:func:`ixl_eval.report.words.tests_sentence`).

When a parameter set compares many subgroups, some p-values fall below 0.05 by chance alone;
every report that shows several tests shows the Holm-adjusted p-value beside the raw one and says
how many tests were run.

Examples
--------
>>> holm([0.01, 0.04, 0.03, float("nan")]).round(3).tolist()
[0.03, 0.06, 0.06, nan]
"""

from __future__ import annotations

import numpy as np

__all__ = ["holm"]


def holm(pvalues) -> np.ndarray:
    """Holm-adjusted p-values (family-wise error control), NaN entries left out and kept NaN.

    Computed as :func:`statsmodels.stats.multitest.multipletests` with ``method="holm"`` does
    (sorted p-values times ``m, m-1, ..., 1``, running maximum, capped at 1; equal results
    checked in ``tests/test_kpi.py``), without importing statsmodels' multitest module: about
    two seconds in each notebook kernel that needs nothing else from it.
    """
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        q = p[ok]
        order = np.argsort(q)
        adj = np.maximum.accumulate(q[order] * np.arange(len(q), 0, -1))
        adj = np.minimum(adj, 1.0)
        res = np.empty_like(adj)
        res[order] = adj
        out[ok] = res
    return out
