"""Covariates in models: which columns are categories, and what to do with sparse levels.

One rule, used by every design matrix of the package (:func:`ixl_eval.causal.covariate_matrix`,
the propensity score, the balance table and :class:`ixl_eval.survival.CoxModel`):

- **Categorical**: category, text (object/string) and boolean columns, and the numeric columns
  named in :data:`CATEGORICAL_NUMERIC` - calendar time (``enrolment_year``). Calendar time
  enters as one indicator per year, never as one linear number: placement chances and IPS offers
  move with the calendar in ways no straight line follows (the 2020 lockdown, the 2023 boom), and
  a linear term lets a propensity score leave whole years unbalanced while the mean year matches.
  A caller may say otherwise explicitly (``categorical=()``), e.g. the IPS parameter
  ``year_as: linear``.
- **Sparse levels** (:func:`pool_sparse_levels`): a level with too few people (or events) has
  no estimable coefficient of its own - a logistic or Cox coefficient runs off to infinity and,
  in a Cox model, takes the whole model with it. Such levels are pooled, and the pooling is
  returned so the report can say which levels were pooled into what. Ordered levels (years)
  join their nearest neighbour ("2017-2018"); unordered ones join one level :data:`OTHER`, or the
  reference level when the pool is still empty of events (the rule
  :func:`ixl_eval.stabilisation.conversion_cox` already followed).

Examples
--------
>>> import pandas as pd
>>> is_categorical(pd.Series([2019, 2020], name="enrolment_year")), is_categorical(pd.Series([1.5, 2.0], name="x"))
(True, False)
>>> f = pd.DataFrame({"enrolment_year": [2017] * 2 + [2018] * 30 + [2019] * 30, "y": [1] * 62})
>>> g, pooled = pool_sparse_levels(f, ["enrolment_year"], f["y"], min_count=5)
>>> sorted(g["enrolment_year"].unique()), pooled
(['2017-2018', '2019'], {'enrolment_year': {'2017': '2017-2018', '2018': '2017-2018'}})
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["CATEGORICAL_NUMERIC", "ORDERED", "OTHER", "is_categorical", "levels", "pool_sparse_levels"]

# Numeric columns that are categories: calendar time (one indicator per enrolment year).
CATEGORICAL_NUMERIC: tuple[str, ...] = ("enrolment_year",)
# Categorical columns whose levels are ordered: sparse levels join a neighbour, not "other".
ORDERED: tuple[str, ...] = ("enrolment_year", "age_band")
OTHER = "other"  # the level sparse unordered levels are pooled into


def is_categorical(s: pd.Series, categorical=None) -> bool:
    """True when ``s`` enters a model as indicators (see the module notes).

    ``categorical`` lists the numeric columns treated as categories (default
    :data:`CATEGORICAL_NUMERIC`); ``()`` makes every numeric column linear.
    """
    numeric_cats = CATEGORICAL_NUMERIC if categorical is None else tuple(categorical)
    return bool(isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object or pd.api.types.is_bool_dtype(s)
                or pd.api.types.is_string_dtype(s) or s.name in numeric_cats)


def levels(s: pd.Series) -> list:
    """Observed levels of a categorical column, in category order (else sorted)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        present = set(s.dropna().unique())
        return [c for c in s.cat.categories if c in present]
    return sorted(s.dropna().unique(), key=str)


def _merge_ordered(names: list[str], count: dict, min_count: float) -> dict:
    """Merge adjacent ordered levels until each group reaches ``min_count`` (or one group is left)."""
    groups = [[n] for n in names]
    tot = [count[n] for n in names]
    while len(groups) > 1 and min(tot) < min_count:
        i = int(np.argmin(tot))
        if i == 0:
            j = 1
        elif i == len(groups) - 1:
            j = i - 1
        else:
            j = i - 1 if tot[i - 1] <= tot[i + 1] else i + 1
        a, b = sorted((i, j))
        groups[a:b + 1] = [groups[a] + groups[b]]
        tot[a:b + 1] = [tot[a] + tot[b]]
    out = {}
    for g in groups:
        label = g[0] if len(g) == 1 else f"{g[0]}-{g[-1]}"
        for n in g:
            out[n] = label
    return out


def pool_sparse_levels(frame: pd.DataFrame, covariates, counts, *, min_count: float = 5,
                       reference: dict | None = None, categorical=None) -> tuple[pd.DataFrame, dict]:
    """Pool the levels of categorical ``covariates`` whose ``counts`` sum is below ``min_count``.

    Parameters
    ----------
    frame : DataFrame
    covariates : sequence of str
        Only categorical ones (by :func:`is_categorical`) are looked at.
    counts : array-like or callable
        Per-row contribution to a level's count (e.g. the event indicator: levels with fewer than
        ``min_count`` events), or a callable ``f(frame, column) -> Series`` indexed by level (e.g.
        the smaller of treated and comparison people in the level).
    reference : dict, optional
        Reference level per column: never pooled away (an ordered neighbour may join it).

    Returns
    -------
    (DataFrame, dict)
        A copy of the frame with pooled columns as ordered categoricals of strings, and
        ``{column: {old level: new level}}`` for the levels that changed (empty: nothing pooled).
    """
    reference = dict(reference or {})
    out = frame.copy()
    pooled: dict[str, dict[str, str]] = {}
    for c in covariates:
        s = frame[c]
        if not is_categorical(s, categorical):
            continue
        labs = [str(v) for v in levels(s)]
        vals = s.astype(str) if not isinstance(s.dtype, pd.CategoricalDtype) else s.astype(object).astype(str)
        if callable(counts):
            cnt = counts(frame, c)
            cnt = {str(k): float(v) for k, v in cnt.items()}
        else:
            cnt = pd.Series(np.asarray(counts, dtype=float), index=frame.index).groupby(vals.to_numpy()).sum().to_dict()
        cnt = {lab: float(cnt.get(lab, 0.0)) for lab in labs}
        if len(labs) < 2 or min(cnt.values()) >= min_count:
            continue
        ref = str(reference[c]) if c in reference else None
        if c in ORDERED:
            mapping = _merge_ordered(labs, cnt, min_count)
        else:
            sparse = [lab for lab in labs if cnt[lab] < min_count and lab != ref]
            if len(sparse) == 1 and cnt[sparse[0]] > 0:
                sparse = []  # a single small level with some events keeps its name: pooling changes nothing
            into = OTHER if sum(cnt[lab] for lab in sparse) > 0 else (ref if ref is not None else
                                                                       max(labs, key=lambda lab: cnt[lab]))
            mapping = {lab: (into if lab in sparse else lab) for lab in labs}
        changed = {k: v for k, v in mapping.items() if k != v}
        if not changed:
            continue
        pooled[c] = changed
        new = vals.map(mapping)
        order = list(dict.fromkeys(mapping[lab] for lab in labs))
        if OTHER in order:
            order = [o for o in order if o != OTHER] + [OTHER]
        out[c] = pd.Categorical(new, categories=order)
    return out, pooled
