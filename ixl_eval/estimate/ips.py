"""IPS (Individual Placement and Support): the funnel and the effectiveness design.

Question for policy staff: do people offered (or taken in charge by) IPS find work sooner and
more often than comparable people on the usual service, and how sure can we be?

Design (written up with its assumptions in ``docs/caveats/efficacia-ips.md``)
----------------------------------------------------------------------------
- **Two contrasts.** *Offer* (intention to treat): everyone offered IPS, whether they accepted
  or not, against comparable people never offered it; time zero is the offer. *Start*: people
  taken in charge by IPS against the same comparison pool; time zero is the start. Those who
  declined are not in the *start* contrast (counted).
- **No immortal time.** A treated person's index date is their offer (start); each comparator
  gets an index date at the same *time since enrolment*, drawn at random (fixed seed) from the
  treated people's times since enrolment ("prescription time-distribution matching"). Both
  groups must still be in the programme and not yet placed at their index date (the
  time-to-placement frame of :mod:`ixl_eval.cohorts` excludes, and counts, the others), and the
  time since enrolment enters the propensity score. Nobody is credited with the days before
  their index date.
- **Comparison pool**: people never offered IPS up to the cut-off. People offered later are
  not used as comparators; since IPS goes to people who struggle to find work, this pool is, if
  anything, more employable than a "not yet offered" group, so the design does not flatter IPS.
- **Adjustment**: propensity score on the covariates named in the parameters (fixed before any
  outcome is seen), ATT by stabilised inverse-probability weighting and by 1:1 nearest-neighbour
  matching with a caliper (:mod:`ixl_eval.causal`), beside the naive (unadjusted) comparison.
- **Outcomes** from the index date: cumulative share placed by 6 and 12 months (Aalen–Johansen,
  withdrawal from the programme a competing event; risk difference and ratio), hazard ratio of
  placement (Cox, robust/clustered SE, withdrawal censored), any permanent contract within 12
  months, number of contracts per year of follow-up (Poisson rate ratio with exposure, robust SE).
- **Gates**: too few people in an arm, or covariates not balanced (any ``|SMD| >= 0.1`` after
  adjustment), make the result *inconclusive*; the report says so and why instead of showing a
  number as a finding.

Examples
--------
>>> f = ips_funnel(_toy_ips_dataset(), by=None)
>>> f[["offered", "declined", "taken_in_charge", "employed_during_ips", "contracts_signed"]].iloc[0].tolist()
[3, 1, 2, 1, 2]

Presentation (tables, sentences, figures, records) is in :mod:`ixl_eval.report.ips`; this module
returns numbers only (no language, no disclosure threshold, no labels).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import causal, design
from .cohorts import SUBGROUPS, time_to_placement

__all__ = [
    "COVARIATES",
    "OUTCOMES",
    "EXCLUSION_REASONS",
    "FUNNEL_COUNTS",
    "first_ips",
    "ips_funnel",
    "funnel_total",
    "ips_frame",
    "IpsEffect",
    "estimate_effect",
    "IpsAnalysis",
    "analyse",
    "ESTIMANDS",
    "ConditionalEffect",
    "conditional_effect",
]


DAYS_PER_MONTH = 365.25 / 12

# Covariates a parameter set may put in the propensity score: the time-to-placement frame's
# subgroup columns plus the design's time since enrolment (at the index date).
COVARIATES: tuple[str, ...] = (*SUBGROUPS, "months_since_enrolment")

# Outcome keys (the headline is one of them, fixed in the parameters); reader-facing names are
# in :mod:`ixl_eval.report.vocab` (levels of "ips_outcome").
OUTCOMES: tuple[str, ...] = ("placed_6m", "placed_12m", "hazard_ratio", "permanent_12m", "contracts_rate")
_HORIZON = {"placed_6m": 182.625, "placed_12m": 365.25, "permanent_12m": 365.25}

# What each contrast estimates (a plain field on the results; the words are in
# :mod:`ixl_eval.report.vocab`, levels of "ips_estimand"). The offer contrast is an intention-to-treat
# effect: everyone offered, a third of whom decline, and nobody benefits before their start; the
# start contrast is the effect of starting IPS among those who started.
ESTIMANDS: dict[str, str] = {"offer": "ITT", "start": "ATT"}
# The scale of each outcome's contrast: differences in cumulative incidence are collapsible (the
# average of individual differences), the hazard ratio of a weighted Cox model is a marginal one
# (smaller than the conditional ratio of a model with covariates when people differ in their chances).
_REFERENCE = {"gender": "M", "age_band": "<30", "citizenship_group": "IT", "education": "upper_secondary_diploma"}
_SCALE = {"placed_6m": "risk_difference", "placed_12m": "risk_difference", "permanent_12m": "risk_difference",
          "hazard_ratio": "marginal_hazard_ratio", "contracts_rate": "marginal_rate_ratio"}


# Reasons a candidate is left out of a contrast, counted in ``frame.attrs["excluded"]`` (names in
# :mod:`ixl_eval.report.vocab`, levels of "ips_exclusion"); the time-to-placement frame may add others.
EXCLUSION_REASONS: tuple[str, ...] = (
    "ips_before_enrolment", "declined_offer", "accepted_not_started", "withdrawn_before_time_zero",
    "placed_before_time_zero", "time_zero_after_cutoff", "index_before_ips_available",
)
# The count columns of the funnel, in order (offered = declined + accepted_not_started + taken_in_charge).
FUNNEL_COUNTS: tuple[str, ...] = ("offered", "declined", "accepted_not_started", "taken_in_charge",
                                  "employed_during_ips", "contracts_signed")


# ---------------------------------------------------------------------------------------------
# IPS records and funnel
# ---------------------------------------------------------------------------------------------
def _cut(ds, cutoff) -> pd.Timestamp:
    if cutoff is None or (isinstance(cutoff, str) and cutoff == ""):
        return ds.cutoff.normalize()
    cut = pd.Timestamp(cutoff).normalize()
    if cut > ds.cutoff.normalize():
        raise ValueError(f"cutoff {cut.date()} is after the extraction date {ds.extracted_on}")
    return cut


def first_ips(ds, cutoff=None) -> pd.DataFrame:
    """Each person's first IPS offer known at the cut-off (one row per person offered).

    Dates after the cut-off are unknown at the cut-off: an offer after it is ignored, a start or
    an end after it is blank. ``attrs["repeat_offers"]`` counts later offers to the same person
    (set aside, not lost: the first offer defines the person's IPS episode).

    Returns
    -------
    DataFrame
        Indexed by ``participant_id``: ``offered_on``, ``decision``, ``started_on``, ``ended_on``.

    Examples
    --------
    >>> first_ips(_toy_ips_dataset())["decision"].to_dict()
    {'A1': 'accepted', 'A2': 'accepted', 'A3': 'declined'}
    """
    cut = _cut(ds, cutoff)
    pr = ds.programmes
    ips = pr.loc[(pr["programme"] == "ips") & (pr["offered_on"] <= cut),
                 ["participant_id", "offered_on", "decision", "started_on", "ended_on"]]
    ips = ips.sort_values(["participant_id", "offered_on"], kind="stable")
    first = ips.drop_duplicates("participant_id").set_index("participant_id").copy()
    first["started_on"] = first["started_on"].where(first["started_on"] <= cut)
    first["ended_on"] = first["ended_on"].where(first["ended_on"] <= cut)
    first.attrs["repeat_offers"] = int(len(ips) - len(first))
    return first


def _during_ips(ds, first: pd.DataFrame, cut: pd.Timestamp) -> pd.DataFrame:
    """Placements starting while the person was in IPS (from start to end, or to the cut-off)."""
    started = first.loc[first["started_on"].notna()]
    pl = ds.placements.loc[ds.placements["participant_id"].isin(started.index), ["participant_id", "started_on"]]
    pl = pl.rename(columns={"started_on": "contract_on"}).merge(
        started[["started_on", "ended_on"]], left_on="participant_id", right_index=True)
    end = pl["ended_on"].fillna(cut)
    return pl.loc[(pl["contract_on"] >= pl["started_on"]) & (pl["contract_on"] <= end)]


def ips_funnel(ds, cutoff=None, *, by: str | None = "year") -> pd.DataFrame:
    """The IPS funnel: offered, declined, taken in charge, employed during IPS, contracts signed.

    Parameters
    ----------
    by : {"year", None}
        One row per calendar year of the offer, or one row for all offers (``year`` missing).
        The total over years is :func:`funnel_total`; a report adds it as a row of its own.

    Returns
    -------
    DataFrame
        ``year`` (of the offer, Int64), ``offered``, ``declined``, ``accepted_not_started``,
        ``taken_in_charge`` (started), ``employed_during_ips`` (people with a contract starting
        between their IPS start and end, or the cut-off), ``share_employed`` (of those taken in
        charge), ``contracts_signed`` (contracts starting during IPS) and
        ``contracts_per_employed``. Every person offered is in exactly one of declined, accepted
        but not (yet) started, and taken in charge: ``offered = declined + accepted_not_started +
        taken_in_charge`` in every row.
    """
    if by not in ("year", None):
        raise ValueError("by must be 'year' or None")
    cut = _cut(ds, cutoff)
    first = first_ips(ds, cut)
    during = _during_ips(ds, first, cut)
    emp = during.groupby("participant_id").size()
    f = first.assign(
        year=first["offered_on"].dt.year.astype("int64"),
        declined=first["decision"] == "declined",
        started=first["started_on"].notna(),
        n_contracts=emp.reindex(first.index, fill_value=0),
    )
    f["accepted_not_started"] = ~f["declined"] & ~f["started"]
    f["employed"] = f["n_contracts"] > 0
    rows = [_funnel_row(g, y) for y, g in f.groupby("year")] if by == "year" else [_funnel_row(f, None)]
    out = pd.DataFrame(rows, columns=["year", *_FUNNEL_COLUMNS])
    out["year"] = out["year"].astype("Int64")
    return out


_FUNNEL_COLUMNS = ("offered", "declined", "accepted_not_started", "taken_in_charge", "employed_during_ips",
                   "share_employed", "contracts_signed", "contracts_per_employed")


def _funnel_counts(year, offered, declined, accepted_not_started, taken, employed, contracts) -> dict:
    return {
        "year": year,
        "offered": int(offered),
        "declined": int(declined),
        "accepted_not_started": int(accepted_not_started),
        "taken_in_charge": int(taken),
        "employed_during_ips": int(employed),
        "share_employed": float(employed / taken) if taken else math.nan,
        "contracts_signed": int(contracts),
        "contracts_per_employed": float(contracts / employed) if employed else math.nan,
    }


def _funnel_row(g: pd.DataFrame, year) -> dict:
    return _funnel_counts(year, len(g), g["declined"].sum(), g["accepted_not_started"].sum(), g["started"].sum(),
                          g["employed"].sum(), g["n_contracts"].sum())


def funnel_total(funnel: pd.DataFrame) -> pd.Series:
    """The funnel over all years of offer: counts summed, shares and rates recomputed.

    Examples
    --------
    >>> funnel_total(ips_funnel(_toy_ips_dataset()))[["offered", "taken_in_charge", "share_employed"]].tolist()
    [3, 2, 0.5]
    """
    s = funnel[list(FUNNEL_COUNTS)].sum()
    return pd.Series(_funnel_counts(None, s["offered"], s["declined"], s["accepted_not_started"],
                                    s["taken_in_charge"], s["employed_during_ips"], s["contracts_signed"]), dtype=object)


# ---------------------------------------------------------------------------------------------
# the analysis frame
# ---------------------------------------------------------------------------------------------
def ips_frame(ds, *, contrast: str = "offer", cutoff=None, seed: int = 20240430, enrol_from=None,
              enrol_to=None) -> pd.DataFrame:
    """One row per person in the contrast: treated (IPS) or comparator, with index date and outcomes.

    Parameters
    ----------
    contrast : {"offer", "start"}
        Time zero is the first IPS offer (everyone offered is treated, intention to treat) or
        the IPS start (people taken in charge; those who declined are left out, counted).
    seed : int
        Seed of the random index dates of comparators (same seed, same frame).
    enrol_from, enrol_to : date-like, optional
        Enrolment window of both groups.

    Returns
    -------
    DataFrame
        The columns of :func:`ixl_eval.cohorts.time_to_placement` (``t0`` is the index date,
        ``time``/``event`` the time to first placement with withdrawal as event 2) plus
        ``treated`` (0/1), ``days_since_enrolment``, ``months_since_enrolment``,
        ``perm_time``/``perm_event`` (first permanent contract), ``n_contracts`` (contracts
        starting from the index date to the cut-off or withdrawal) and ``exposure_days``.
        ``attrs["excluded"]`` is ``{"treated": {reason: n}, "comparison": {reason: n}}`` and
        ``attrs["n_candidates"]`` the people each group started from: nobody is lost silently.
    """
    if contrast not in ("offer", "start"):
        raise ValueError("contrast must be 'offer' or 'start'")
    cut = _cut(ds, cutoff)
    part = ds.participants.set_index("participant_id")
    if enrol_from is not None:
        part = part.loc[part["enrolled_on"] >= pd.Timestamp(enrol_from)]
    if enrol_to is not None:
        part = part.loc[part["enrolled_on"] <= pd.Timestamp(enrol_to)]
    first = first_ips(ds, cut)
    first = first.loc[first.index.isin(part.index)]
    ex_t: dict[str, int] = dict.fromkeys(EXCLUSION_REASONS, 0)
    ex_c: dict[str, int] = dict.fromkeys(EXCLUSION_REASONS, 0)

    date_col = "offered_on" if contrast == "offer" else "started_on"
    if contrast == "start":
        ex_t["declined_offer"] = int((first["decision"] == "declined").sum())
        # accepted but not yet started at the cut-off: no start date, so not in this contrast either
        not_started = int(((first["decision"] != "declined") & first["started_on"].isna()).sum())
        if not_started:
            ex_t["accepted_not_started"] = not_started
    treated = first.loc[first[date_col].notna(), date_col]
    n_treated_candidates = int(len(first))  # everyone offered; "start" then counts who is left out
    d_treated = (treated - part.loc[treated.index, "enrolled_on"]).dt.days
    early = d_treated < 0
    ex_t["ips_before_enrolment"] = int(early.sum())
    treated, d_treated = treated.loc[~early], d_treated.loc[~early]

    pool = part.index.difference(first.index)  # never offered IPS up to the cut-off
    rng = np.random.default_rng(seed)
    if len(d_treated) == 0:
        raise ValueError("nobody was offered/started IPS in the chosen window: no contrast to estimate")
    d_pool = pd.Series(rng.choice(d_treated.to_numpy(), size=len(pool), replace=True), index=pool)
    t0_pool = part.loc[pool, "enrolled_on"] + pd.to_timedelta(d_pool, unit="D")
    # Nobody could be offered IPS before the first offer in the data: comparators whose index date
    # falls earlier would compare IPS with a period when it did not exist (positivity).
    available = first["offered_on"].min()
    before = t0_pool < available
    ex_c["index_before_ips_available"] = int(before.sum())
    t0_pool, d_pool = t0_pool.loc[~before], d_pool.loc[~before]

    frames = []
    for label, t0, d, ex in (("treated", treated, d_treated, ex_t), ("comparison", t0_pool, d_pool, ex_c)):
        f = time_to_placement(ds, time_zero=t0, cutoff=cut, prior_placements="exclude")
        outside = len(ds.participants) - len(t0)  # everyone else appears as "no time zero"
        for reason, n in f.attrs["excluded"].items():
            n = n - outside if reason == "no_time_zero" else n
            if reason in ex:
                ex[reason] += int(n)
            elif n:
                ex[reason] = int(n)
        f["treated"] = 1 if label == "treated" else 0
        f["days_since_enrolment"] = f["participant_id"].map(d).to_numpy(dtype=float)
        frames.append(f)
    frame = pd.concat(frames, ignore_index=True)
    for col in ("gender", "age_band", "citizenship_group", "education", "interview_format"):
        frame[col] = frame[col].astype(frames[0][col].dtype)
    frame["months_since_enrolment"] = frame["days_since_enrolment"] / DAYS_PER_MONTH

    # permanent contract: same people and index dates, first permanent contract on or after t0
    t0_all = frame.set_index("participant_id")["t0"]
    perm = time_to_placement(ds, time_zero=t0_all, cutoff=cut, contract_types=["permanent"], prior_placements="keep")
    perm = perm.set_index("participant_id").reindex(frame["participant_id"])
    frame["perm_time"] = perm["time"].to_numpy()
    frame["perm_event"] = perm["event"].to_numpy()

    # contracts from the index date to the cut-off (or withdrawal) and the days observed
    wd = frame["participant_id"].map(part["withdrawn_on"])
    end = wd.where(wd.notna() & (wd <= cut), cut)
    pl = ds.placements[["participant_id", "started_on"]].merge(
        pd.DataFrame({"participant_id": frame["participant_id"], "t0": frame["t0"], "end": end}), on="participant_id")
    pl = pl.loc[(pl["started_on"] >= pl["t0"]) & (pl["started_on"] <= pl["end"])]
    frame["n_contracts"] = frame["participant_id"].map(pl.groupby("participant_id").size()).fillna(0).astype(int)
    frame["exposure_days"] = ((end - frame["t0"]).dt.days + 1).astype(float)  # the index day counts

    frame.attrs = {
        "contrast": contrast,
        "cutoff": str(cut.date()),
        "seed": seed,
        "excluded": {"treated": ex_t, "comparison": ex_c},
        "n_candidates": {"treated": n_treated_candidates, "comparison": int(len(pool))},
        "repeat_offers": first.attrs.get("repeat_offers", 0),
    }
    return frame


# ---------------------------------------------------------------------------------------------
# effect estimation
# ---------------------------------------------------------------------------------------------
def _cif(frame: pd.DataFrame, w: np.ndarray, time_col: str, event_col: str, horizon: float):
    """Weighted cumulative incidence of event 1 at ``horizon`` and its SE (NaN beyond follow-up)."""
    from .survival import AalenJohansen

    keep = w > 0
    aj = AalenJohansen().fit(frame[time_col].to_numpy()[keep], frame[event_col].to_numpy()[keep],
                             weights=None if np.all(w[keep] == 1) else w[keep])
    at = aj.cif_at([horizon])
    return float(at["cif"].iloc[0]), float(at["std_err"].iloc[0])


def _risk_contrast(frame, w, time_col, event_col, horizon, method):
    """Risk difference and ratio at ``horizon`` between arms (independent-arm normal intervals)."""
    t = frame["treated"].to_numpy()
    c1, s1 = _cif(frame.loc[t == 1], w[t == 1], time_col, event_col, horizon)
    c0, s0 = _cif(frame.loc[t == 0], w[t == 0], time_col, event_col, horizon)
    n1, n0 = int(((t == 1) & (w > 0)).sum()), int(((t == 0) & (w > 0)).sum())
    z = causal._Z975
    se = math.hypot(s1, s0)
    rd = causal.Effect(c1 - c0, se, c1 - c0 - z * se, c1 - c0 + z * se, n1, n0, "difference", method)
    if c1 > 0 and c0 > 0:
        sl = math.hypot(s1 / c1, s0 / c0)
        rr = causal.Effect(c1 / c0, sl, c1 / c0 * math.exp(-z * sl), c1 / c0 * math.exp(z * sl), n1, n0, "ratio", method)
    else:
        rr = causal.Effect(math.nan, math.nan, math.nan, math.nan, n1, n0, "ratio", method)
    return rd, rr, (c1, c0)


def _cox_hr(frame, w, cluster, method):
    """Cox hazard ratio of placement, treated vs comparison (withdrawal censored).

    Model-based variance when unweighted and unclustered (naive); otherwise the robust sandwich,
    per person when weighted (IPTW, as R's ``coxph(weights=, robust=TRUE)``) and summed by
    matched pair when clustered (matching, as ``coxph(cluster=)``). :class:`survival.CoxModel`
    is used rather than lifelines: same Efron estimate, but its robust variance is computed in
    O(n) and handles tied times as R does (lifelines' is quadratic and ignores ties).
    """
    from .survival import CoxModel

    keep = w > 0
    df = pd.DataFrame({"time": frame["time"].to_numpy()[keep], "event": (frame["event"].to_numpy()[keep] == 1).astype(int),
                       "treated": frame["treated"].to_numpy()[keep].astype(float)})
    kw = {}
    weighted = not np.all(w[keep] == 1)
    if weighted:
        df["w"] = w[keep]
        kw["weights_col"] = "w"
    if cluster is not None:
        df["cl"] = pd.factorize(pd.Series(cluster).to_numpy()[keep])[0]
        kw["cluster_col"] = "cl"
    cph = CoxModel(["treated"]).fit(df, robust=weighted or cluster is not None, **kw)
    b, se = float(cph.params_["treated"]), float(np.sqrt(cph.variance_.loc["treated", "treated"]))
    z = causal._Z975
    t = df["treated"].to_numpy()
    return causal.Effect(math.exp(b), se, math.exp(b - z * se), math.exp(b + z * se), int((t == 1).sum()),
                         int((t == 0).sum()), "hazard_ratio", method)


@dataclass
class IpsEffect:
    """Everything the IPS notebook shows about one contrast (offer or start).

    Attributes
    ----------
    contrast : str
    ps : causal.PropensityScore
    iptw : causal.IPTW
    match : causal.NearestNeighbourMatch
    balance_iptw, balance_match : DataFrame
        From :func:`ixl_eval.causal.balance_table`.
    estimates : DataFrame
        One row per outcome and method (``naive``, ``iptw``, ``matching``): ``outcome``,
        ``method``, ``measure``, ``estimate``, ``ci_low``, ``ci_high``, ``n_treated``,
        ``n_control``, ``risk_treated``, ``risk_control`` (for shares).
    verdict : dict
        ``{method: (conclusive: bool, reasons: list of reason keys)}``.
    headline : str
        The outcome fixed in the parameters.
    evalue : causal.EValue or None
        For the headline estimate of the main method (IPTW) when conclusive.
    estimand : str
        ``"ITT"`` (offer: the effect of being offered IPS) or ``"ATT"`` (start: the effect of
        starting IPS among those who started); ``estimates`` repeats it per row with ``contrast``
        and ``scale`` (``risk_difference``: collapsible difference in cumulative incidence;
        ``marginal_hazard_ratio``; ``marginal_rate_ratio``).
    pooled : dict
        Sparse levels pooled before the propensity score (``{column: {level: pooled level}}``).
    year_as : str
        How the enrolment year entered the score (``categories`` or ``linear``).
    """

    contrast: str
    covariates: list
    ps: causal.PropensityScore
    iptw: causal.IPTW
    match: causal.NearestNeighbourMatch
    balance_iptw: pd.DataFrame
    balance_match: pd.DataFrame
    estimates: pd.DataFrame
    verdict: dict
    headline: str
    min_per_arm: int
    balance_threshold: float
    evalue: causal.EValue | None = None
    weights: dict = field(default_factory=dict)
    estimand: str = ""
    pooled: dict = field(default_factory=dict)
    year_as: str = "categories"
    min_level: int = 5

    def get(self, outcome: str, method: str = "iptw") -> pd.Series:
        """The estimate row of one outcome and method."""
        e = self.estimates
        return e.loc[(e["outcome"] == outcome) & (e["method"] == method)].iloc[0]

    def conclusive(self, method: str = "iptw") -> bool:
        return bool(self.verdict[method][0])

    def __repr__(self) -> str:
        h = self.get(self.headline)
        return (f"<IpsEffect {self.contrast} estimand={self.estimand} n_treated={int(h['n_treated'])} "
                f"n_control={int(h['n_control'])} "
                f"headline={self.headline} iptw={h['estimate']:.3f} conclusive={self.conclusive()}>")


def _arm_counts(frame: pd.DataFrame, col: str) -> pd.Series:
    """People per level in the smaller arm (a level with no IPS or no comparison person cannot be
    weighted: its propensity score runs off to 0 or 1)."""
    v = frame[col].astype(str)
    return pd.crosstab(v, frame["treated"]).reindex(columns=[0, 1], fill_value=0).min(axis=1)


def estimate_effect(frame: pd.DataFrame, covariates, *, headline: str = "placed_12m", trim: float = 0.0,
                    caliper: float = 0.2, min_per_arm: int = 30, balance_threshold: float = 0.1,
                    year_as: str = "categories", min_level: int = 5) -> IpsEffect:
    """Propensity score, weights, matching, balance, all outcomes and the gates, for one contrast.

    Parameters
    ----------
    frame : DataFrame
        From :func:`ips_frame`.
    covariates : sequence of str
        Keys of :data:`COVARIATES`.
    headline : str
        Key of :data:`OUTCOMES`, fixed in the parameters before looking at results.
    trim : float
        Keep people with a propensity score in ``[trim, 1 - trim]`` (0 = no trimming).
    caliper : float
        Matching caliper in SDs of the logit of the score.
    min_per_arm : int
        Fewer people than this in either arm (after trimming/matching) makes the result inconclusive.
    balance_threshold : float
        Largest acceptable ``|SMD|`` after adjustment. Every level of every categorical covariate
        counts (each enrolment year too), so a propensity score that leaves some years unbalanced
        fails the gate even when the average year matches.
    year_as : {"categories", "linear"}
        How the enrolment year enters the propensity score: one indicator per year (default, the
        package rule of :mod:`ixl_eval.design`) or one linear number. The balance table always shows
        every year.
    min_level : int
        Levels with fewer people than this in either arm are pooled with a neighbouring level
        (years) or into "others" before the score is estimated (:func:`ixl_eval.design.pool_sparse_levels`);
        ``pooled`` says which.
    """
    if year_as not in ("categories", "linear"):
        raise ValueError("year_as must be 'categories' or 'linear'")
    unknown = sorted(set(covariates) - set(COVARIATES))
    if unknown:
        raise ValueError(f"unknown covariate(s) {unknown}; allowed: {list(COVARIATES)}")
    if headline not in OUTCOMES:
        raise ValueError(f"headline must be one of {list(OUTCOMES)}")
    covariates = list(covariates)
    t = frame["treated"]
    contrast = frame.attrs.get("contrast", "")
    numeric_cats = () if year_as == "linear" else None  # the parameter that says otherwise
    pframe, pooled = design.pool_sparse_levels(frame, covariates, _arm_counts, min_count=min_level,
                                               reference=_REFERENCE, categorical=numeric_cats)
    ps = causal.PropensityScore(covariates, categorical=numeric_cats).fit(pframe, "treated")
    iptw = causal.IPTW(stabilize=True, trim=(trim, 1 - trim) if trim > 0 else None).fit(t, ps.scores_)
    match = causal.NearestNeighbourMatch(caliper=caliper, scale="logit").fit(t, ps.scores_)
    # balance per level of every categorical covariate, calendar years included, whatever the score used
    bal_w = causal.balance_table(pframe, covariates, t, iptw.weights_)
    bal_m = causal.balance_table(pframe, covariates, t, match.weights_)

    methods = {
        "naive": (np.ones(len(frame)), None),
        "iptw": (iptw.weights_.to_numpy(), None),
        "matching": (match.weights_.to_numpy(), match.pair_.to_numpy()),
    }
    rows = []
    for m, (w, cl) in methods.items():
        for outcome in ("placed_6m", "placed_12m", "permanent_12m"):
            tc, ec = ("perm_time", "perm_event") if outcome == "permanent_12m" else ("time", "event")
            rd, rr, (c1, c0) = _risk_contrast(frame, w, tc, ec, _HORIZON[outcome], m)
            for eff, suffix in ((rd, ""), (rr, "_ratio")):
                rows.append({"outcome": outcome + suffix, "method": m, "measure": eff.measure, "estimate": eff.estimate,
                             "ci_low": eff.ci_low, "ci_high": eff.ci_high, "n_treated": eff.n_treated,
                             "n_control": eff.n_control, "risk_treated": c1, "risk_control": c0})
        hr = _cox_hr(frame, w, cl, m)
        rows.append({"outcome": "hazard_ratio", "method": m, "measure": hr.measure, "estimate": hr.estimate,
                     "ci_low": hr.ci_low, "ci_high": hr.ci_high, "n_treated": hr.n_treated,
                     "n_control": hr.n_control, "risk_treated": math.nan, "risk_control": math.nan})
        years = frame["exposure_days"] / 365.25
        rrate = causal.rate_ratio(frame["n_contracts"], years, t, w, cluster=cl, method=m)
        rows.append({"outcome": "contracts_rate", "method": m, "measure": "ratio", "estimate": rrate.estimate,
                     "ci_low": rrate.ci_low, "ci_high": rrate.ci_high, "n_treated": rrate.n_treated,
                     "n_control": rrate.n_control, "risk_treated": math.nan, "risk_control": math.nan})
    est = pd.DataFrame(rows)
    est["contrast"] = contrast
    est["estimand"] = np.where(est["method"] == "naive", "crude", ESTIMANDS.get(contrast, ""))
    est["scale"] = [("risk_ratio" if _base(o)[1] else _SCALE[_base(o)[0]]) for o in est["outcome"]]

    verdict = {}
    for m in methods:
        reasons = []
        row = est.loc[(est["outcome"] == headline) & (est["method"] == m)].iloc[0]
        if min(row["n_treated"], row["n_control"]) < min_per_arm:
            reasons.append("too_few")
        if m == "iptw" and not causal.is_balanced(bal_w, balance_threshold):
            reasons.append("not_balanced")
        if m == "matching" and not causal.is_balanced(bal_m, balance_threshold):
            reasons.append("not_balanced")
        if not np.isfinite(row["estimate"]):
            reasons.append("not_estimable")
        if m == "naive":
            reasons.append("unadjusted")
        verdict[m] = (not reasons, reasons)

    ev = None
    h = est.loc[(est["method"] == "iptw")]
    if verdict["iptw"][0]:
        if headline == "hazard_ratio":
            r = h.loc[h["outcome"] == "hazard_ratio"].iloc[0]
            ev = causal.evalue(r["estimate"], (r["ci_low"], r["ci_high"]), measure="HR", rare=False)
        elif headline == "contracts_rate":
            r = h.loc[h["outcome"] == "contracts_rate"].iloc[0]
            ev = causal.evalue(r["estimate"], (r["ci_low"], r["ci_high"]), measure="RR")
        else:
            r = h.loc[h["outcome"] == headline + "_ratio"].iloc[0]
            if np.isfinite(r["estimate"]):
                ev = causal.evalue(r["estimate"], (r["ci_low"], r["ci_high"]), measure="RR")
    return IpsEffect(contrast, covariates, ps, iptw, match, bal_w, bal_m, est, verdict,
                     headline, min_per_arm, balance_threshold, ev,
                     {"iptw": iptw.weights_, "matching": match.weights_},
                     estimand=ESTIMANDS.get(contrast, ""), pooled=pooled, year_as=year_as,
                     min_level=min_level)


def _base(outcome: str) -> tuple[str, bool]:
    """``("placed_12m", True)`` for ``placed_12m_ratio``: the outcome key and whether it is its risk ratio."""
    if outcome.endswith("_ratio") and outcome.removesuffix("_ratio") in _HORIZON:
        return outcome.removesuffix("_ratio"), True
    return outcome, False


def _toy_ips_dataset():
    """A five-person dataset for the examples (not public API)."""
    import datetime as dt
    from pathlib import Path
    from types import SimpleNamespace

    D = pd.to_datetime
    participants = pd.DataFrame({
        "participant_id": ["A1", "A2", "A3", "B1", "B2"],
        "enrolled_on": D(["2023-01-01"] * 5),
        "birth_year": [1990] * 5,
        "gender": ["F", "M", "F", "M", "F"],
        "citizenship": ["IT"] * 5,
        "education": ["upper_secondary_diploma"] * 5,
        "withdrawn_on": D([None] * 5),
    })
    programmes = pd.DataFrame({
        "participant_id": ["A1", "A2", "A3"],
        "programme": ["ips"] * 3,
        "offered_on": D(["2023-03-01", "2023-04-01", "2023-05-01"]),
        "decision": ["accepted", "accepted", "declined"],
        "started_on": D(["2023-03-10", "2023-04-15", None]),
        "ended_on": D(["2023-09-10", None, None]),
    })
    placements = pd.DataFrame({
        "placement_id": ["p1", "p2", "p3"],
        "participant_id": ["A1", "A1", "B1"],
        "started_on": D(["2023-05-01", "2023-07-01", "2023-02-01"]),
        "contract_type": ["fixed_term", "permanent", "fixed_term"],
    })
    interviews = pd.DataFrame({"participant_id": [], "interviewed_on": D([]), "format": []})
    return SimpleNamespace(participants=participants, interviews=interviews, programmes=programmes,
                           placements=placements, extracted_on=dt.date(2024, 4, 30), source="synthetic",
                           data_dir=Path("."), cutoff=pd.Timestamp("2024-04-30"))


# ---------------------------------------------------------------------------------------------
# the whole analysis, for the notebook
# ---------------------------------------------------------------------------------------------
@dataclass
class IpsAnalysis:
    """The funnel (one row per year of offer), both contrasts (offer = intention to treat, start =
    taken in charge) and the conditional whole-cohort model. Numbers only: see :mod:`ixl_eval.report.ips`."""

    funnel: pd.DataFrame
    frames: dict
    effects: dict
    params: dict
    conditional: "ConditionalEffect | None" = None

    @property
    def total(self) -> pd.Series:
        """The funnel over all years (:func:`funnel_total`)."""
        return funnel_total(self.funnel)

    def __repr__(self) -> str:
        return (f"<IpsAnalysis offered={int(self.total['offered'])} "
                + " ".join(f"{c}={e!r}" for c, e in self.effects.items()) + ">")


def analyse(ds, *, cutoff=None, covariates=("gender", "age_band", "citizenship_group", "education",
                                            "enrolment_year", "months_since_enrolment"),
            headline: str = "placed_12m", trim: float = 0.0, caliper: float = 0.2, min_per_arm: int = 30,
            balance_threshold: float = 0.1, seed: int = 20240430, year_as: str = "categories",
            conditional: bool = True) -> IpsAnalysis:
    """Funnel, analysis frames and effect estimates for both contrasts, with the given parameters,
    and (``conditional``) the whole-cohort Cox model with IPS as a time-varying covariate."""
    funnel = ips_funnel(ds, cutoff)
    frames, effects = {}, {}
    for contrast in ("offer", "start"):
        frames[contrast] = ips_frame(ds, contrast=contrast, cutoff=cutoff, seed=seed)
        effects[contrast] = estimate_effect(frames[contrast], covariates, headline=headline, trim=trim,
                                            caliper=caliper, min_per_arm=min_per_arm,
                                            balance_threshold=balance_threshold, year_as=year_as)
    params = dict(covariates=list(covariates), headline=headline, trim=trim, caliper=caliper,
                  min_per_arm=min_per_arm, balance_threshold=balance_threshold, seed=seed, year_as=year_as)
    cond = conditional_effect(ds, cutoff, [c for c in covariates if c != "months_since_enrolment"]) if conditional else None
    return IpsAnalysis(funnel, frames, effects, params, cond)


# ---------------------------------------------------------------------------------------------
# the conditional model (sensitivity analysis)
# ---------------------------------------------------------------------------------------------
@dataclass
class ConditionalEffect:
    """Cox model on the whole cohort with IPS as a time-varying covariate (a sensitivity analysis).

    Everyone enrolled is followed from enrolment; a person taken in charge by IPS moves from
    "no IPS" to "IPS" on the start day, so nobody is credited with time before it. The hazard
    ratio is *conditional* on the covariates of the model (held equal), not marginal: with people
    who differ in their chances it is larger than the marginal ATT ratio of the weighted analysis
    (non-collapsibility), and it is the quantity the synthetic generator's ``ips_log_hr`` defines.

    Attributes
    ----------
    estimand, contrast, scale : str
        ``"conditional"``, ``"start"``, ``"conditional_hazard_ratio"``.
    hr, ci_low, ci_high, se : float
        Hazard ratio of placement from the IPS start, its 95% interval and the SE of its log.
    n_people, n_ips, n_events : int
    model : ixl_eval.survival.CoxModel or None
    pooled : dict
        Sparse levels pooled (fewer than 5 placements).
    note : str
        Why the model could not be fitted ("" when it was).
    """

    hr: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    se: float = math.nan
    n_people: int = 0
    n_ips: int = 0
    n_events: int = 0
    model: object = None
    pooled: dict = field(default_factory=dict)
    note: str = ""
    estimand: str = "conditional"
    contrast: str = "start"
    scale: str = "conditional_hazard_ratio"

    def __repr__(self) -> str:
        return (f"<ConditionalEffect n={self.n_people} ips={self.n_ips} events={self.n_events} "
                f"hr={self.hr:.3f} ({self.ci_low:.3f}, {self.ci_high:.3f})>")


def conditional_effect(ds, cutoff=None, covariates=("gender", "age_band", "citizenship_group", "education",
                                                    "enrolment_year"), *, min_events: int = 5) -> ConditionalEffect:
    """Fit the whole-cohort Cox model with IPS as a time-varying covariate (see :class:`ConditionalEffect`).

    Counting-process rows: ``(0, s]`` without IPS and ``(s, time]`` with IPS for a person whose IPS
    start ``s`` falls before their end of follow-up (the split is half a day before the start day, so
    a placement on the start day counts as after it). The enrolment year, when among the
    covariates, is a stratum (its own baseline hazard: calendar effects need not be proportional);
    ``months_since_enrolment`` is the time scale itself and is left out. Withdrawal is censored
    (cause-specific hazard of placement, as in the weighted analysis).
    """
    from .survival import CoxModel

    cut = _cut(ds, cutoff)
    f = time_to_placement(ds, cutoff=cut)
    f = f.loc[f["time"] > 0].copy()
    starts = first_ips(ds, cut)["started_on"].dropna()
    s = (f["participant_id"].map(starts) - f["t0"]).dt.days.to_numpy(dtype=float) - 0.5
    s = np.where(np.isnan(s), np.inf, np.maximum(s, 0.0))
    t = f["time"].to_numpy(dtype=float)
    split = s < t
    before = f.assign(start=0.0, stop=np.where(split, s, t), ips=np.where(s <= 0, 1.0, 0.0),
                      event=np.where(split, 0, f["event"].to_numpy()))
    before = before.loc[before["stop"] > before["start"]]
    after = f.loc[split & (s > 0)].assign(start=s[split & (s > 0)], stop=t[split & (s > 0)], ips=1.0)
    rows = pd.concat([before, after], ignore_index=True)
    covs = [c for c in covariates if c in SUBGROUPS and c != "enrolment_year"]
    strata = ["enrolment_year"] if "enrolment_year" in covariates else []
    ref = dict(_REFERENCE)
    rows, pooled = design.pool_sparse_levels(rows, covs, (rows["event"] == 1).to_numpy(), min_count=min_events,
                                             reference=ref)
    covs = [c for c in covs if rows[c].nunique() > 1]
    out = ConditionalEffect(n_people=int(len(f)), n_ips=int(np.isfinite(s).sum()), n_events=int((f["event"] == 1).sum()),
                            pooled=pooled)
    try:
        m = CoxModel(covs + ["ips"], strata=strata, reference={c: v for c, v in ref.items() if c in covs}).fit(
            rows, time_col="stop", start_col="start", event_of_interest=1)
    except ValueError as err:
        out.note = str(err)
        return out
    r = m.hr_table_.set_index("term").loc["ips"]
    out.model, out.hr, out.ci_low, out.ci_high, out.se = m, float(r["hr"]), float(r["lower"]), float(r["upper"]), float(r["se"])
    return out
