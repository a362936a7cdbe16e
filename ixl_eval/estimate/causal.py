"""Causal contrasts from observational data: propensity score, IPTW, matching, balance, E-value.

Everything here targets the **average effect on the treated (ATT)**: what happened to the people
who received a programme, against what would have happened to them without it. The tools are
generic (no IXL column names); :mod:`ixl_eval.ips` applies them to the IPS design.

Conventions (the golden tests check them against R's ``glm``, ``MatchIt`` and ``sandwich`` on the
``lalonde`` job-training data, ``tests/golden/causal_lalonde.R``)
---------------------------------------------------------------------------------------------
- **Propensity score**: logistic regression by maximum likelihood (statsmodels GLM, binomial,
  logit link); categorical covariates enter as indicators with the first level as reference.
- **ATT weights**: treated 1, comparators ``ps / (1 - ps)`` (odds of treatment). *Stabilised*:
  comparators multiplied by ``(1 - p) / p``, ``p`` the share treated, so comparator weights
  average about 1 and sum to about their number (effect estimates are unchanged; weighted counts
  and effective sizes read naturally). *Trimming* (optional): units with a score outside
  ``[lo, hi]`` get weight 0 and are counted, so the estimand becomes the ATT in the region of
  common support.
- **Matching**: 1:1 greedy nearest neighbour without replacement, as MatchIt's
  ``method = "nearest"``: treated units are taken in descending order of the score, each gets the
  closest unmatched comparator on the matching scale (score or its logit); the caliper is given in
  standard deviations (``n - 1``) of that scale over all units. **Tie rule**: treated units with
  equal scores are taken in data order; when the closest comparator below and above are equally
  far, the one below wins; among comparators with identical scores the one nearest in the stable
  (data-order) sort wins - the last in data order below, the first above.
- **Balance**: standardised mean difference ``(mean_treated - mean_comparison) / sd_treated``
  with weighted means and the SD of the treated group in the full, unweighted sample (sample SD
  for continuous covariates, ``sqrt(p (1 - p))`` for 0/1 ones), as MatchIt's ``summary()`` and
  cobalt do for the ATT: the denominator is the same before and after adjustment, so the two are
  comparable. Variance ratio: weighted variance treated / comparison (continuous covariates only,
  reliability-weight formula). Categorical covariates show every level. Balance is achieved when
  every ``|SMD| < 0.1``.
- **Effects**: weighted difference in means with a robust (HC0 sandwich) standard error, or
  clustered by matched pair after matching; 95% intervals from the normal distribution. The
  standard errors treat the propensity score as known, which is usual practice but may misstate
  the uncertainty a little.
- **E-value** (VanderWeele & Ding 2017): the minimum strength of association, on the risk-ratio
  scale, that an unmeasured confounder would need with both treatment and outcome to explain the
  estimate away; hazard and odds ratios of common outcomes are converted to risk ratios first.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(1)
>>> df = pd.DataFrame({"x": rng.normal(size=400), "g": rng.choice(["a", "b"], 400)})
>>> df["t"] = (rng.uniform(size=400) < 1 / (1 + np.exp(-(df["x"] - 1)))).astype(int)
>>> ps = PropensityScore(["x", "g"]).fit(df, "t")
>>> w = IPTW().fit(df["t"], ps.scores_)
>>> bal = balance_table(df, ["x", "g"], "t", w.weights_)
>>> bool(abs(bal.loc["x", "smd_before"]) > 0.5), bool(abs(bal.loc["x", "smd_after"]) < 0.1)
(True, True)
>>> round(evalue(3.9, ci=(1.8, 8.7)).point, 2)
7.26
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import design
from ..exceptions import DataValidationError

__all__ = [
    "PropensityScore",
    "IPTW",
    "NearestNeighbourMatch",
    "Effect",
    "mean_difference",
    "rate_ratio",
    "balance_table",
    "is_balanced",
    "EValue",
    "evalue",
]

_Z975 = 1.959963984540054  # scipy.stats.norm.ppf(0.975), fixed so the module imports no scipy
_EPS = math.sqrt(np.finfo(float).eps)


# ---------------------------------------------------------------------------------------------
# design matrices
# ---------------------------------------------------------------------------------------------
_levels = design.levels


def covariate_matrix(df: pd.DataFrame, covariates, *, all_levels: bool = False, categorical=None) -> pd.DataFrame:
    """Numeric design matrix of ``covariates`` (no intercept).

    Which columns are categories is decided by :func:`ixl_eval.design.is_categorical`, the rule
    :class:`ixl_eval.survival.CoxModel` uses too: category, text and boolean columns and calendar
    time (``enrolment_year``) become 0/1 indicators named ``column=level`` - without the first
    observed level (the reference) unless ``all_levels`` (used for balance tables); other numeric
    columns enter as they are. ``categorical`` overrides the numeric columns taken as categories
    (``()``: none). Missing values are an error: no row is dropped.

    Examples
    --------
    >>> df = pd.DataFrame({"age": [30, 40, 50], "race": ["white", "black", "hispan"]})
    >>> list(covariate_matrix(df, ["age", "race"]).columns)
    ['age', 'race=hispan', 'race=white']
    >>> list(covariate_matrix(df, ["race"], all_levels=True).columns)
    ['race=black', 'race=hispan', 'race=white']
    >>> yr = pd.DataFrame({"enrolment_year": [2019, 2020, 2021]})
    >>> list(covariate_matrix(yr, ["enrolment_year"])), list(covariate_matrix(yr, ["enrolment_year"], categorical=()))
    (['enrolment_year=2020', 'enrolment_year=2021'], ['enrolment_year'])
    """
    covariates = list(covariates)
    missing = [c for c in covariates if c not in df.columns]
    if missing:
        raise KeyError(f"covariates not in the frame: {missing}")
    cols: dict[str, np.ndarray] = {}
    for c in covariates:
        s = df[c]
        n_na = int(s.isna().sum())
        if n_na:
            raise DataValidationError(
                f"covariate {c!r} has {n_na} missing value(s); fill or exclude them explicitly before "
                "estimating a propensity score"
            )
        if not design.is_categorical(s, categorical):
            cols[c] = s.to_numpy(dtype=float)
            continue
        levels = _levels(s)
        for lev in levels if all_levels else levels[1:]:
            cols[f"{c}={lev}"] = (s == lev).to_numpy(dtype=float)
    return pd.DataFrame(cols, index=df.index)


def _aligned(reference, other, what: str, ref_what: str = "treatment"):
    """``other`` in the order of ``reference``: by the pandas index when both have one.

    A frame sorted differently from the scores would otherwise be matched row by row to the
    wrong people. Arrays (no index) must simply have the same length.

    Raises
    ------
    ValueError
        Different lengths, or indexes that do not hold the same labels.
    """
    if other is None:
        return None
    if len(other) != len(reference):
        raise ValueError(f"{what} ({len(other)}) and {ref_what} ({len(reference)}) differ in length: pass one "
                         f"value per unit")
    if isinstance(reference, pd.Series) and isinstance(other, (pd.Series, pd.DataFrame)):
        if other.index.equals(reference.index):
            return other
        if (reference.index.has_duplicates or other.index.has_duplicates
                or not other.index.sort_values().equals(reference.index.sort_values())):
            raise ValueError(f"{what} and {ref_what} have different index labels: take both from the same frame, "
                             "or pass arrays (matched by position)")
        return other.loc[reference.index]
    return other


def _check_weights(w: np.ndarray, t: np.ndarray) -> None:
    """Weights are non-negative and known; both groups keep some weight (0 means left out)."""
    if np.isnan(w).any():
        raise ValueError(f"weights have {int(np.isnan(w).sum())} missing value(s): give every unit a weight "
                         "(0 leaves it out)")
    if (w < 0).any() or not np.isfinite(w).all():
        raise ValueError("weights must be finite and non-negative (0 leaves a unit out)")
    for arm, name in ((1, "treated"), (0, "comparison")):
        if not (w[t == arm] > 0).any():
            raise ValueError(f"every {name} unit has weight 0: no {name} group left to compare")


def _binary01(s, what: str) -> np.ndarray:
    a = pd.Series(s)
    if a.isna().any():
        raise DataValidationError(f"{what} has missing values")
    v = a.to_numpy(dtype=float)
    if not np.isin(v, (0.0, 1.0)).all():
        raise ValueError(f"{what} must be 0/1 (or boolean)")
    return v


# ---------------------------------------------------------------------------------------------
# propensity score
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LogitFit:
    """A fitted logistic regression: coefficients, model-based SEs, deviance, log-likelihood."""

    params: np.ndarray
    bse: np.ndarray
    deviance: float
    llf: float
    n_iter: int
    converged: bool


def _logit_fit(X: np.ndarray, y: np.ndarray, *, tol: float = 1e-13, maxiter: int = 200) -> LogitFit:
    """Logistic regression by the iterations of statsmodels' ``GLM(Binomial()).fit(tol=tol)``.

    The same iteratively reweighted least squares, step for step: start from ``mu = (y + 1/2) / 2``,
    clip ``mu`` to ``[eps, 1 - eps]`` in the weights and the deviance, stop when the deviance
    changes by less than ``tol`` in absolute value (or after ``maxiter`` steps), standard errors
    from the last weighted fit. The difference is the solve: statsmodels' ``lstsq`` of the whole
    n x p design at each step took 15 s for a million people; the normal equations
    ``X' W X b = X' W z`` on columns scaled to unit maximum (incomes in euros beside indicators)
    cost one ``X' W X`` product each. With (quasi-)separation the coefficients of the separated
    terms drift until the deviance stops changing, exactly as they do in statsmodels, so the
    estimates agree with it to rounding (``tests/test_causal.py`` also checks R's ``glm``).
    """
    eps = np.finfo(float).eps
    scale = np.abs(X).max(axis=0)
    scale[scale == 0] = 1.0
    Z = X / scale

    def clean(mu):
        return np.clip(mu, eps, 1 - eps)

    def deviance(mu):
        # statsmodels' Binomial deviance for 0/1 outcomes: 2 sum -log(mu) (y=1) or -log(1-mu) (y=0)
        m = clean(mu)
        return 2.0 * float(np.sum(np.where(y == 1, -np.log(m), -np.log1p(-m))))

    mu = (y + 0.5) / 2
    eta = np.log(mu / (1 - mu))
    dev = deviance(mu)
    converged, it, beta, H = False, 0, np.zeros(Z.shape[1]), None
    for it in range(1, maxiter + 1):
        m = clean(mu)
        w = m * (1 - m)  # 1 / (g'(mu)^2 V(mu)) for the logit link, both clipped as statsmodels does
        z = eta + (y - mu) / w
        H = Z.T @ (Z * w[:, None])
        beta = np.linalg.solve(H, Z.T @ (w * z))
        eta = Z @ beta
        mu = 1.0 / (1.0 + np.exp(-eta))
        old, dev = dev, deviance(mu)
        if abs(dev - old) <= tol:
            converged = True
            break
    cov = np.linalg.inv(H)
    params = beta / scale
    bse = np.sqrt(np.diag(cov)) / scale
    return LogitFit(params, bse, dev, -dev / 2, it, converged)


class PropensityScore:
    """Propensity score by logistic regression (binomial family, logit link; :func:`_logit_fit`).

    Parameters
    ----------
    covariates : sequence of str
        Columns of the frame given to :meth:`fit`; categorical columns (by
        :func:`ixl_eval.design.is_categorical`, calendar year included) become indicators (first
        observed level is the reference). Fixed before looking at outcomes.
    categorical : sequence of str, optional
        Numeric columns to treat as categories (default :data:`ixl_eval.design.CATEGORICAL_NUMERIC`).

    Attributes
    ----------
    scores_ : pandas.Series
        Estimated probability of treatment, indexed like the frame.
    linear_ : pandas.Series
        The linear predictor (logit of the score), the usual matching scale.
    coef_, se_ : pandas.Series
        Coefficients (log odds ratios) and model-based standard errors, ``Intercept`` first.
    result_ : LogitFit
        ``params``, ``bse``, ``deviance``, ``llf``, ``n_iter``, ``converged`` of the fit.
    n_, n_treated_ : int
    separation_ : bool
        Some scores are numerically 0 or 1 (perfect prediction): overlap fails for those people.
    dropped_terms_ : list of str
        Indicator columns left out because they are constant (e.g. a level only one group has);
        reported, never silent.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"x": rng.normal(size=300)})
    >>> df["t"] = (rng.uniform(size=300) < 1 / (1 + np.exp(-2 * df["x"]))).astype(int)
    >>> ps = PropensityScore(["x"]).fit(df, "t")
    >>> ps
    <PropensityScore n=300 treated=141 terms=2>
    >>> round(float(ps.coef_["x"]), 1)  # true value 2
    1.9
    """

    def __init__(self, covariates, categorical=None):
        self.covariates = list(covariates)
        self.categorical = categorical

    def fit(self, df: pd.DataFrame, treatment: str) -> "PropensityScore":
        y = _binary01(df[treatment], f"treatment column {treatment!r}")
        X = covariate_matrix(df, self.covariates, categorical=self.categorical)
        const = [c for c in X.columns if np.ptp(X[c].to_numpy()) == 0]
        self.dropped_terms_ = const
        X = X.drop(columns=const)
        X.insert(0, "Intercept", 1.0)
        res = _logit_fit(X.to_numpy(dtype=float), y.astype(float))
        self.result_ = res
        self.coef_ = pd.Series(res.params, index=X.columns, name="coef")
        self.se_ = pd.Series(res.bse, index=X.columns, name="se")
        lin = X.to_numpy() @ self.coef_.to_numpy()
        self.linear_ = pd.Series(lin, index=df.index, name="logit_ps")
        self.scores_ = pd.Series(1.0 / (1.0 + np.exp(-lin)), index=df.index, name="ps")
        self.n_ = int(len(y))
        self.n_treated_ = int(y.sum())
        p = self.scores_.to_numpy()
        self.separation_ = bool(((p < 1e-8) | (p > 1 - 1e-8)).any())
        return self

    def odds_ratios(self) -> pd.DataFrame:
        """Odds ratios of treatment per covariate term with 95% intervals (no intercept)."""
        b, se = self.coef_.drop("Intercept"), self.se_.drop("Intercept")
        return pd.DataFrame(
            {"odds_ratio": np.exp(b), "ci_low": np.exp(b - _Z975 * se), "ci_high": np.exp(b + _Z975 * se)}
        )

    def __repr__(self) -> str:
        if not hasattr(self, "scores_"):
            return f"<PropensityScore covariates={self.covariates} (not fitted)>"
        return f"<PropensityScore n={self.n_} treated={self.n_treated_} terms={len(self.coef_)}>"


# ---------------------------------------------------------------------------------------------
# weighting
# ---------------------------------------------------------------------------------------------
class IPTW:
    """Inverse-probability-of-treatment weights for the ATT.

    Parameters
    ----------
    stabilize : bool
        Multiply comparator weights by ``(1 - p) / p`` (``p`` = share treated among kept units).
    trim : (float, float), optional
        Keep only units whose score lies in ``[lo, hi]``; the others get weight 0 and are counted
        in ``n_trimmed_`` (the estimand becomes the ATT within common support).

    Attributes
    ----------
    weights_ : pandas.Series
        Treated 1, comparators ``ps / (1 - ps)`` (stabilised if asked), trimmed units 0.
    kept_ : pandas.Series of bool
    n_treated_, n_control_ : int
        Kept units per group.
    n_trimmed_ : dict
        ``{"treated": n, "control": n}`` left out by trimming.
    ess_control_ : float
        Kish effective sample size of the weighted comparison group, ``(sum w)^2 / sum w^2``.
    max_weight_share_ : float
        Largest single comparator weight as a share of all comparator weight (a few people
        carrying the comparison is a warning sign).

    Examples
    --------
    >>> t = pd.Series([1, 1, 0, 0, 0])
    >>> ps = pd.Series([0.6, 0.5, 0.5, 0.2, 0.1])
    >>> w = IPTW(stabilize=False).fit(t, ps)
    >>> w.weights_.round(3).tolist()
    [1.0, 1.0, 1.0, 0.25, 0.111]
    >>> IPTW().fit(t, ps).weights_.round(3).tolist()  # times (1 - 2/5) / (2/5) = 1.5
    [1.0, 1.0, 1.5, 0.375, 0.167]
    >>> IPTW(trim=(0.15, 0.85)).fit(t, ps)
    <IPTW ATT n=4 treated=2 control=2 trimmed=1 ess_control=1.5>
    """

    def __init__(self, stabilize: bool = True, trim: tuple[float, float] | None = None):
        if trim is not None:
            lo, hi = trim
            if not (0 <= lo < hi <= 1):
                raise ValueError("trim must be (lo, hi) with 0 <= lo < hi <= 1")
        self.stabilize = stabilize
        self.trim = trim

    def fit(self, treatment, ps) -> "IPTW":
        t = _binary01(treatment, "treatment")
        ps = pd.Series(_aligned(treatment, ps, "scores"))
        index = ps.index if not isinstance(treatment, pd.Series) else treatment.index
        p = ps.to_numpy(dtype=float)
        if np.isnan(p).any() or (p <= 0).any() or (p >= 1).any():
            raise ValueError("propensity scores must lie strictly between 0 and 1")
        kept = np.ones(len(t), dtype=bool)
        if self.trim is not None:
            kept = (p >= self.trim[0]) & (p <= self.trim[1])
        w = np.where(t == 1, 1.0, p / (1.0 - p))
        n1, n0 = int((kept & (t == 1)).sum()), int((kept & (t == 0)).sum())
        if n1 == 0 or n0 == 0:
            raise ValueError("no treated or no comparison unit left after trimming")
        if self.stabilize:
            w = np.where(t == 1, w, w * n0 / n1)
        w = np.where(kept, w, 0.0)
        self.weights_ = pd.Series(w, index=index, name="weight")
        self.kept_ = pd.Series(kept, index=index, name="kept")
        self.n_treated_, self.n_control_ = n1, n0
        self.n_trimmed_ = {"treated": int((~kept & (t == 1)).sum()), "control": int((~kept & (t == 0)).sum())}
        wc = w[(t == 0) & kept]
        self.ess_control_ = float(wc.sum() ** 2 / (wc**2).sum())
        self.max_weight_share_ = float(wc.max() / wc.sum())
        return self

    def __repr__(self) -> str:
        if not hasattr(self, "weights_"):
            return f"<IPTW ATT stabilize={self.stabilize} trim={self.trim} (not fitted)>"
        return (
            f"<IPTW ATT n={self.n_treated_ + self.n_control_} treated={self.n_treated_} "
            f"control={self.n_control_} trimmed={sum(self.n_trimmed_.values())} "
            f"ess_control={self.ess_control_:.1f}>"
        )


# ---------------------------------------------------------------------------------------------
# matching
# ---------------------------------------------------------------------------------------------
class _Available:
    """Nearest still-available slot to the left/right of a position (union-find with path halving)."""

    def __init__(self, n: int):
        self.left = np.arange(n + 1)  # slot i+1 stands for item i; 0 means "none"
        self.right = np.arange(n + 1)  # slot i stands for item i; n means "none"
        self.n = n

    def find_left(self, i: int) -> int:
        a, s = self.left, i + 1
        while a[s] != s:
            a[s] = a[a[s]]
            s = a[s]
        return s - 1

    def find_right(self, i: int) -> int:
        a, s = self.right, i
        while a[s] != s:
            a[s] = a[a[s]]
            s = a[s]
        return s if s < self.n else -1

    def remove(self, i: int) -> None:
        self.left[i + 1] = i
        self.right[i] = i + 1


class NearestNeighbourMatch:
    """1:1 greedy nearest-neighbour matching on the propensity score, without replacement.

    Parameters
    ----------
    caliper : float or None
        Largest allowed distance, in standard deviations of the matching scale over all units
        (MatchIt's ``std.caliper = TRUE``). Treated units without a comparator that close stay
        unmatched (counted in ``n_unmatched_``). ``None``: no caliper.
    scale : {"logit", "ps"}
        Match on the logit of the score (Austin's recommendation, with ``caliper = 0.2``) or on
        the score itself (MatchIt's default).

    Attributes
    ----------
    pairs_ : pandas.DataFrame
        One row per pair: ``pair`` (1, 2, ...), ``treated`` and ``control`` (index labels),
        ``distance`` (on the matching scale), in the order the pairs were formed.
    weights_ : pandas.Series
        1 for matched units, 0 for the others (use with :func:`balance_table`).
    pair_ : pandas.Series
        Pair number of each matched unit, ``NaN`` otherwise (the cluster for standard errors).
    n_pairs_, n_unmatched_ : int
    caliper_abs_ : float or None
        The caliper on the matching scale.

    Notes
    -----
    Tie rule (identical to MatchIt 4's ``nn_matchC_vec``): units are sorted by the score with a
    stable sort; treated units are processed from the highest score down (ties in data order);
    each takes the closest available comparator on either side, the one below winning a tie in
    distance. With no ties in the scores the result does not depend on data order.

    Examples
    --------
    >>> t = pd.Series([1, 1, 0, 0, 0], index=list("abcde"))
    >>> ps = pd.Series([0.8, 0.4, 0.75, 0.5, 0.1], index=list("abcde"))
    >>> m = NearestNeighbourMatch(caliper=None, scale="ps").fit(t, ps)
    >>> m.pairs_[["treated", "control"]].values.tolist()
    [['a', 'c'], ['b', 'd']]
    >>> m
    <NearestNeighbourMatch pairs=2 unmatched_treated=0 caliper=None scale=ps>
    """

    def __init__(self, caliper: float | None = 0.2, scale: str = "logit"):
        if scale not in ("logit", "ps"):
            raise ValueError("scale must be 'logit' or 'ps'")
        if caliper is not None and caliper <= 0:
            raise ValueError("caliper must be positive (or None)")
        self.caliper = caliper
        self.scale = scale

    def fit(self, treatment, ps) -> "NearestNeighbourMatch":
        t = _binary01(treatment, "treatment")
        ps = pd.Series(_aligned(treatment, ps, "scores"))
        index = treatment.index if isinstance(treatment, pd.Series) else ps.index
        p = ps.to_numpy(dtype=float)
        if self.scale == "logit":
            if (p <= 0).any() or (p >= 1).any():
                raise ValueError("scores must lie strictly between 0 and 1 to match on the logit")
            d = np.log(p / (1.0 - p))
        else:
            d = p
        cal = None if self.caliper is None else float(self.caliper * np.std(d, ddof=1))

        order = np.argsort(d, kind="stable")  # R's sort.list: stable, ties in data order
        ctrl_pos = order[t[order] == 0]  # comparators, ascending distance
        ctrl_d = d[ctrl_pos]
        rank_in_sorted = np.empty(len(d), dtype=int)
        rank_in_sorted[order] = np.arange(len(d))
        ctrl_rank = rank_in_sorted[ctrl_pos]
        treated = np.flatnonzero(t == 1)
        treated = treated[np.argsort(-d[treated], kind="stable")]  # highest score first, ties in data order
        avail = _Available(len(ctrl_pos))
        pairs, n_left = [], len(ctrl_pos)
        for i in treated:
            if n_left == 0:
                break
            # comparators before the treated unit in the stable sort are "to its left"
            r = int(np.searchsorted(ctrl_rank, rank_in_sorted[i]))
            kl = avail.find_left(r - 1) if r > 0 else -1
            kr = avail.find_right(r) if r < len(ctrl_pos) else -1
            dl = abs(ctrl_d[kl] - d[i]) if kl >= 0 else np.inf
            dr = abs(ctrl_d[kr] - d[i]) if kr >= 0 else np.inf
            if cal is not None:
                dl = dl if dl <= cal else np.inf
                dr = dr if dr <= cal else np.inf
            if not np.isfinite(dl) and not np.isfinite(dr):
                continue
            k = kl if dl <= dr else kr
            avail.remove(k)
            n_left -= 1
            pairs.append((i, ctrl_pos[k], min(dl, dr)))

        labels = np.asarray(index)
        self.pairs_ = pd.DataFrame(
            {
                "pair": np.arange(1, len(pairs) + 1),
                "treated": [labels[a] for a, _, _ in pairs],
                "control": [labels[b] for _, b, _ in pairs],
                "distance": [c for _, _, c in pairs],
            }
        )
        pair_no = np.full(len(t), np.nan)
        for j, (a, b, _) in enumerate(pairs, start=1):
            pair_no[a] = pair_no[b] = j
        self.pair_ = pd.Series(pair_no, index=index, name="pair")
        self.weights_ = pd.Series(np.where(np.isnan(pair_no), 0.0, 1.0), index=index, name="weight")
        self.n_pairs_ = len(pairs)
        self.n_unmatched_ = int((t == 1).sum()) - len(pairs)
        self.caliper_abs_ = cal
        return self

    def __repr__(self) -> str:
        if not hasattr(self, "pairs_"):
            return f"<NearestNeighbourMatch caliper={self.caliper} scale={self.scale} (not fitted)>"
        return (
            f"<NearestNeighbourMatch pairs={self.n_pairs_} unmatched_treated={self.n_unmatched_} "
            f"caliper={self.caliper} scale={self.scale}>"
        )


# ---------------------------------------------------------------------------------------------
# effects
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Effect:
    """An effect estimate with its 95% confidence interval.

    ``measure`` says the scale (``"difference"``, ``"ratio"``, ``"hazard_ratio"``, ...);
    ``n_treated``/``n_control`` are the people it rests on (after trimming or matching).
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    n_treated: int
    n_control: int
    measure: str = "difference"
    method: str = ""

    @property
    def p_value(self) -> float:
        """Two-sided p-value of the normal test against no effect (0 for differences, 1 for ratios)."""
        from scipy.stats import norm

        if self.measure == "difference":
            z = self.estimate / self.se
        else:  # ratios: the test is on the log scale
            z = math.log(self.estimate) / self.se
        return float(2 * norm.sf(abs(z)))

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.estimate, self.ci_low, self.ci_high)


def mean_difference(y, treatment, weights=None, *, cluster=None, method: str = "") -> Effect:
    """Weighted difference in mean outcome, treated minus comparison, with a robust 95% CI.

    It is the coefficient of the treatment in a weighted least-squares regression of ``y`` on
    the treatment; the standard error is the HC0 sandwich, or clustered (``cluster``, e.g. the
    matched pair; with the usual ``G/(G-1) (n-1)/(n-k)`` small-sample factor, as R's
    ``sandwich::vcovCL``). Units with weight 0 do not count. For a 0/1 outcome it is the risk
    difference.

    Examples
    --------
    >>> y = pd.Series([3.0, 5.0, 1.0, 2.0, 3.0]); t = pd.Series([1, 1, 0, 0, 0])
    >>> round(mean_difference(y, t).estimate, 6)
    2.0
    >>> round(mean_difference(y, t, pd.Series([1, 1, 2, 1, 1])).estimate, 2)  # control mean 1.75
    2.25
    """
    from statsmodels.regression.linear_model import WLS

    t = _binary01(treatment, "treatment")
    yv = pd.Series(_aligned(treatment, y, "outcome")).to_numpy(dtype=float)
    w = (np.ones(len(t)) if weights is None
         else pd.Series(_aligned(treatment, weights, "weights")).to_numpy(dtype=float))
    if np.isnan(yv).any():
        raise DataValidationError(f"outcome has {int(np.isnan(yv).sum())} missing value(s)")
    _check_weights(w, t)
    cluster = _aligned(treatment, cluster, "cluster")
    keep = w > 0
    X = np.column_stack([np.ones(keep.sum()), t[keep]])
    model = WLS(yv[keep], X, weights=w[keep])
    if cluster is None:
        res = model.fit(cov_type="HC0")
    else:
        groups = pd.Series(cluster).to_numpy()[keep]
        codes = pd.factorize(groups)[0]
        res = model.fit(cov_type="cluster", cov_kwds={"groups": codes})
    est, se = float(res.params[1]), float(res.bse[1])
    return Effect(est, se, est - _Z975 * se, est + _Z975 * se, int((t[keep] == 1).sum()),
                  int((t[keep] == 0).sum()), "difference", method)


def rate_ratio(counts, exposure, treatment, weights=None, *, cluster=None, method: str = "") -> Effect:
    """Ratio of event rates (e.g. contracts per day of follow-up), treated over comparison.

    A weighted Poisson regression of ``counts`` on the treatment with ``log(exposure)`` as
    offset; the standard error is the HC0 sandwich (valid when the counts are overdispersed, so
    no negative-binomial model is needed for the ratio), or clustered by ``cluster`` (as R's
    ``sandwich::vcovCL`` for a GLM: HC0 with the ``G/(G-1)`` adjustment). Units with weight 0 do
    not count. The interval is computed on the log scale.

    Examples
    --------
    >>> c = pd.Series([4, 6, 1, 2, 3]); e = pd.Series([2.0, 2.0, 1.0, 2.0, 3.0]); t = pd.Series([1, 1, 0, 0, 0])
    >>> round(rate_ratio(c, e, t).estimate, 6)  # (10 / 4) / (6 / 6)
    2.5
    """
    t = _binary01(treatment, "treatment")
    y = pd.Series(_aligned(treatment, counts, "counts")).to_numpy(dtype=float)
    ex = pd.Series(_aligned(treatment, exposure, "exposure")).to_numpy(dtype=float)
    w = (np.ones(len(t)) if weights is None
         else pd.Series(_aligned(treatment, weights, "weights")).to_numpy(dtype=float))
    _check_weights(w, t)
    cluster = _aligned(treatment, cluster, "cluster")
    if np.isnan(y).any() or (y < 0).any():
        raise DataValidationError("counts must be non-negative numbers without missing values")
    if np.isnan(ex).any() or (ex <= 0).any():
        raise DataValidationError("exposure must be positive without missing values")
    keep = w > 0
    tk, yk, ek, wk = t[keep], y[keep], ex[keep], w[keep]
    arm = [tk == 0, tk == 1]
    events = [float(wk[a] @ yk[a]) for a in arm]
    if min(events) > 0:
        # The model has one parameter per arm, so its maximum is closed-form (each arm's weighted
        # rate) and the sandwich is a 2 x 2 sum: the same estimate and HC0 / cluster variance as
        # statsmodels' GLM below (tests/test_causal.py checks both against R), without iterating
        # weighted least squares over every person (20 s at a million).
        rate = [events[j] / float(wk[a] @ ek[a]) for j, a in enumerate(arm)]
        b = math.log(rate[1] / rate[0])
        mu = ek * np.where(tk == 1, rate[1], rate[0])
        s_all, s_1 = float(wk @ mu), float(wk[arm[1]] @ mu[arm[1]])
        bread = np.linalg.inv(np.array([[s_all, s_1], [s_1, s_1]]))
        u = wk * (yk - mu)
        scores = np.column_stack([u, u * tk])
        if cluster is None:
            meat, corr = scores.T @ scores, 1.0
        else:
            codes = pd.factorize(pd.Series(cluster).to_numpy()[keep])[0]
            g = np.column_stack([np.bincount(codes, scores[:, j]) for j in range(2)])
            n_g = len(g)
            meat, corr = g.T @ g, n_g / (n_g - 1)  # vcovCL's G / (G - 1)
        se = math.sqrt(corr * (bread @ meat @ bread)[1, 1])
        return Effect(math.exp(b), se, math.exp(b - _Z975 * se), math.exp(b + _Z975 * se),
                      int((tk == 1).sum()), int((tk == 0).sum()), "ratio", method)
    # an arm without events: no finite ratio; statsmodels reports how far its iterations got
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM
    from statsmodels.tools.sm_exceptions import SpecificationWarning

    X = np.column_stack([np.ones(keep.sum()), t[keep]])
    model = GLM(y[keep], X, family=families.Poisson(), offset=np.log(ex[keep]), var_weights=w[keep])
    with warnings.catch_warnings():
        # statsmodels flags robust covariances with var_weights as "not fully supported"; the
        # golden test checks them against R's sandwich package to 1e-6.
        warnings.simplefilter("ignore", SpecificationWarning)
        if cluster is None:
            res = model.fit(cov_type="HC0", tol=1e-12)
        else:
            codes = pd.factorize(pd.Series(cluster).to_numpy()[keep])[0]
            res = model.fit(cov_type="cluster", cov_kwds={"groups": codes}, tol=1e-12)
    b, se = float(res.params[1]), float(res.bse[1])
    if cluster is not None:
        # statsmodels applies G/(G-1) (n-1)/(n-k); vcovCL on a GLM only G/(G-1)
        n = int(keep.sum())
        se *= math.sqrt((n - 2) / (n - 1))
    return Effect(math.exp(b), se, math.exp(b - _Z975 * se), math.exp(b + _Z975 * se),
                  int((t[keep] == 1).sum()), int((t[keep] == 0).sum()), "ratio", method)


# ---------------------------------------------------------------------------------------------
# balance
# ---------------------------------------------------------------------------------------------
def _wvar(x: np.ndarray, w: np.ndarray, binary: bool) -> float:
    """MatchIt's weighted variance: ``p (1 - p)`` for 0/1 data, else with reliability weights."""
    if w.sum() <= 0:
        return np.nan
    w = w / w.sum()
    m = float((w * x).sum())
    if binary:
        return max(0.0, m * (1 - m))  # m may round to just above 1: never a negative variance
    denom = 1 - float((w**2).sum())
    return float((w * (x - m) ** 2).sum() / denom) if denom > 0 else np.nan


def balance_table(df: pd.DataFrame, covariates, treatment, weights=None) -> pd.DataFrame:
    """Covariate balance before and after weighting or matching (ATT conventions).

    Parameters
    ----------
    df : DataFrame
    covariates : sequence of str
        Categorical/text columns show one row per level.
    treatment : str or array-like
        Column name or 0/1 values.
    weights : array-like, optional
        Weights after adjustment (IPTW ``weights_`` or matching ``weights_``). Without them the
        ``_after`` columns repeat the ``_before`` ones.

    Returns
    -------
    DataFrame
        Indexed by term; columns ``mean_treated_before``, ``mean_control_before``,
        ``smd_before``, ``var_ratio_before`` and the same ``_after``; ``binary`` (0/1 term).
        SMD denominator: SD of the treated group before adjustment (see the module notes).

    Examples
    --------
    >>> df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 1.0, 1.5, 2.0], "t": [1, 1, 1, 0, 0, 0]})
    >>> bt = balance_table(df, ["x"], "t")
    >>> round(float(bt.loc["x", "smd_before"]), 6)  # (2 - 1.5) / sd(1, 2, 3)
    0.5
    """
    t = _binary01(df[treatment] if isinstance(treatment, str) else treatment, "treatment")
    X = covariate_matrix(df, covariates, all_levels=True)
    w_after = np.ones(len(t)) if weights is None else pd.Series(weights).to_numpy(dtype=float)
    if len(w_after) != len(t):
        raise ValueError("weights and frame differ in length")
    i1, i0 = t == 1, t == 0
    rows = []
    for term in X.columns:
        x = X[term].to_numpy()
        binary = bool(np.isin(x, (0.0, 1.0)).all())
        sd_t = math.sqrt(_wvar(x[i1], np.ones(i1.sum()), binary))
        if not sd_t > _EPS:  # constant among the treated: MatchIt falls back on the pooled SD
            sd_t = math.sqrt(np.nanmean([_wvar(x[i1], np.ones(i1.sum()), binary),
                                         _wvar(x[i0], np.ones(i0.sum()), binary)]))
        row = {"term": term, "binary": binary}
        for tag, w in (("before", np.ones(len(t))), ("after", w_after)):
            m1 = float(np.average(x[i1], weights=w[i1])) if w[i1].sum() > 0 else np.nan
            m0 = float(np.average(x[i0], weights=w[i0])) if w[i0].sum() > 0 else np.nan
            diff = m1 - m0
            if abs(diff) < _EPS:
                smd = diff  # MatchIt: a null difference is not standardised
            elif sd_t > _EPS:
                smd = diff / sd_t
            else:
                smd = math.copysign(np.inf, diff)  # groups differ but neither varies: never balanced
            vr = np.nan
            if not binary and (w[i1] > 0).sum() >= 2 and (w[i0] > 0).sum() >= 2:
                vr = _wvar(x[i1], w[i1], False) / _wvar(x[i0], w[i0], False)
            row.update({f"mean_treated_{tag}": m1, f"mean_control_{tag}": m0, f"smd_{tag}": smd,
                        f"var_ratio_{tag}": vr})
        rows.append(row)
    cols = ["mean_treated_before", "mean_control_before", "smd_before", "var_ratio_before",
            "mean_treated_after", "mean_control_after", "smd_after", "var_ratio_after", "binary"]
    return pd.DataFrame(rows).set_index("term")[cols]


def is_balanced(table: pd.DataFrame, threshold: float = 0.1, column: str = "smd_after") -> bool:
    """True when every ``|SMD|`` in ``column`` is below ``threshold`` (the 0.1 rule).

    Examples
    --------
    >>> is_balanced(pd.DataFrame({"smd_after": [0.05, -0.09]}))
    True
    >>> is_balanced(pd.DataFrame({"smd_after": [0.05, -0.12]}))
    False
    """
    v = table[column].to_numpy(dtype=float)
    return bool(np.all(np.abs(np.nan_to_num(v, nan=np.inf)) < threshold))


# ---------------------------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------------------------
# ---------------------------------------------------------------------------------------------
# E-value
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EValue:
    """E-values of an estimate and of its confidence limit closer to the null.

    ``rr`` / ``rr_ci`` are the estimate and interval converted to the risk-ratio scale;
    ``point`` is the E-value of the estimate, ``ci`` that of the interval limit closer to 1
    (1 when the interval includes 1; ``None`` without an interval).
    """

    measure: str
    estimate: float
    rr: float
    point: float
    rr_ci: tuple[float, float] | None = None
    ci: float | None = None


def _to_rr(x: float, measure: str, rare: bool) -> float:
    if measure == "RR" or rare:
        return x
    if measure == "HR":  # VanderWeele 2020 conversion for a common outcome (> 15% by the end)
        return (1 - 0.5 ** math.sqrt(x)) / (1 - 0.5 ** math.sqrt(1 / x))
    return math.sqrt(x)  # OR, common outcome


def _e(rr: float) -> float:
    rr = 1 / rr if rr < 1 else rr
    return rr + math.sqrt(rr * (rr - 1))


def evalue(estimate: float, ci: tuple[float, float] | None = None, *, measure: str = "RR",
           rare: bool = False) -> EValue:
    """E-value (VanderWeele & Ding 2017) for a ratio estimate and its confidence interval.

    Parameters
    ----------
    estimate : float
        Risk ratio, hazard ratio or odds ratio (> 0).
    ci : (float, float), optional
        The 95% confidence limits.
    measure : {"RR", "HR", "OR"}
    rare : bool
        The outcome is rare (< 15% by the end of follow-up): HR and OR are taken as risk ratios.
        Otherwise HR uses ``(1 - 0.5**sqrt(HR)) / (1 - 0.5**sqrt(1/HR))`` and OR ``sqrt(OR)``.

    Examples
    --------
    >>> ev = evalue(3.9, ci=(1.8, 8.7))  # breastfeeding and respiratory death, the paper's example
    >>> round(ev.point, 2), round(ev.ci, 2)
    (7.26, 3.0)
    >>> evalue(0.8, ci=(0.6, 1.1)).ci  # interval includes 1
    1.0
    """
    measure = measure.upper()
    if measure not in ("RR", "HR", "OR"):
        raise ValueError("measure must be 'RR', 'HR' or 'OR'")
    if not estimate > 0:
        raise ValueError("estimate must be a positive ratio")
    rr = _to_rr(float(estimate), measure, rare)
    point = 1.0 if rr == 1 else _e(rr)
    if ci is None:
        return EValue(measure, float(estimate), rr, point)
    lo, hi = (float(v) for v in ci)
    if not (0 < lo <= estimate <= hi):
        raise ValueError("ci must satisfy 0 < lo <= estimate <= hi")
    rlo, rhi = _to_rr(lo, measure, rare), _to_rr(hi, measure, rare)
    if rlo <= 1 <= rhi:
        e_ci = 1.0
    else:
        e_ci = _e(rlo if rr > 1 else rhi)
    return EValue(measure, float(estimate), rr, point, (rlo, rhi), e_ci)
