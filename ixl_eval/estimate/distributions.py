"""The few distribution functions the survival and stabilisation estimators need, without scipy.stats.

Each function calls the :mod:`scipy.special` function that :mod:`scipy.stats` itself evaluates
(``norm.ppf`` is ``ndtri``, ``chi2.sf`` is ``chdtrc``, ...) and returns what ``scipy.stats``
returns, also outside the support (``tests/test_distributions.py`` checks them against it).
Importing ``scipy.stats`` builds hundreds of distribution objects: about half a second in every
notebook kernel that only needs a p-value or a quantile.

Examples
--------
>>> round(float(norm_ppf(0.975)), 6)
1.959964
>>> round(float(chi2_sf(3.841459, 1)), 6)
0.05
>>> round(float(chi2_ppf(0.025, 4)), 6)
0.484419
"""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["norm_ppf", "norm_sf", "chi2_sf", "chi2_ppf"]


def norm_ppf(q):
    """Standard normal quantile, as ``scipy.stats.norm.ppf`` (NaN outside [0, 1])."""
    return special.ndtri(np.asarray(q, dtype=float))


def norm_sf(x):
    """Standard normal upper tail probability, as ``scipy.stats.norm.sf``."""
    return special.ndtr(-np.asarray(x, dtype=float))


def chi2_sf(x, df):
    """Chi-square upper tail probability, as ``scipy.stats.chi2.sf``: 1 for ``x <= 0``, NaN for
    ``df <= 0``."""
    x, df = np.asarray(x, dtype=float), np.asarray(df, dtype=float)
    return np.where(df > 0, special.chdtrc(df, np.maximum(x, 0.0)), np.nan)


def chi2_ppf(q, df):
    """Chi-square quantile, as ``scipy.stats.chi2.ppf``: NaN for ``df <= 0`` or ``q`` outside [0, 1]."""
    q, df = np.asarray(q, dtype=float), np.asarray(df, dtype=float)
    return np.where(df > 0, 2 * special.gammaincinv(df / 2, q), np.nan)
