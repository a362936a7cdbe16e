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
    "first_ips",
    "ips_funnel",
    "ips_frame",
    "exclusion_table",
    "IpsEffect",
    "estimate_effect",
    "describe_effect",
    "describe_evalue",
    "estimates_table",
    "balance_display",
    "plot_cumulative",
    "IpsAnalysis",
    "analyse",
    "summary_sentences",
    "record_results",
    "effect_paragraph",
    "ESTIMANDS",
    "ConditionalEffect",
    "conditional_effect",
    "estimand_text",
    "agreement_text",
    "conditional_text",
]

DAYS_PER_MONTH = 365.25 / 12

# Covariates a parameter set may put in the propensity score: the time-to-placement frame's
# subgroup columns plus the design's time since enrolment (at the index date).
COVARIATES: dict[str, dict[str, str]] = {
    **SUBGROUPS,
    "months_since_enrolment": {"it": "Mesi dall'iscrizione", "en": "Months since enrolment"},
}

# Outcome keys (the headline is one of them, fixed in the parameters).
OUTCOMES: dict[str, dict[str, str]] = {
    "placed_6m": {"it": "Inserimento entro 6 mesi", "en": "Placed within 6 months"},
    "placed_12m": {"it": "Inserimento entro 12 mesi", "en": "Placed within 12 months"},
    "hazard_ratio": {"it": "Rapidità dell'inserimento (hazard ratio)", "en": "Speed of placement (hazard ratio)"},
    "permanent_12m": {"it": "Contratto a tempo indeterminato entro 12 mesi",
                      "en": "Permanent contract within 12 months"},
    "contracts_rate": {"it": "Contratti per anno di osservazione (rapporto)",
                       "en": "Contracts per year of follow-up (ratio)"},
}
_HORIZON = {"placed_6m": 182.625, "placed_12m": 365.25, "permanent_12m": 365.25}

# What each contrast estimates (plain fields on the results, words in the texts). The offer contrast
# is an intention-to-treat effect: everyone offered, a third of whom decline, and nobody benefits
# before their start; the start contrast is the effect of starting IPS among those who started.
ESTIMANDS: dict[str, dict[str, str]] = {
    "offer": {"estimand": "ITT",
              "it": "l'effetto di ricevere la proposta di IPS (tra chi l'ha ricevuta, anche chi ha rifiutato: "
                    "«intenzione di trattare»)",
              "en": "the effect of being offered IPS (among those offered, including those who declined: "
                    "intention to treat)"},
    "start": {"estimand": "ATT",
              "it": "l'effetto di iniziare IPS, tra chi lo ha iniziato (effetto medio sui trattati)",
              "en": "the effect of starting IPS, among those who started (average effect on the treated)"},
}
# The scale of each outcome's contrast: differences in cumulative incidence are collapsible (the
# average of individual differences), the hazard ratio of a weighted Cox model is a marginal one
# (smaller than the conditional ratio of a model with covariates when people differ in their chances).
_ESTIMAND_WORDS = {"ITT": ("effetto della proposta (ITT)", "effect of the offer (ITT)"),
                   "ATT": ("effetto dell'avvio, tra chi ha iniziato (ATT)", "effect of starting, among starters (ATT)")}
_SCALE_WORDS = {"risk_difference": ("differenza di incidenza cumulata", "difference in cumulative incidence"),
                "risk_ratio": ("rapporto di incidenza cumulata", "ratio of cumulative incidence"),
                "marginal_hazard_ratio": ("hazard ratio marginale", "marginal hazard ratio"),
                "marginal_rate_ratio": ("rapporto dei tassi marginale", "marginal rate ratio")}
_REFERENCE = {"gender": "M", "age_band": "<30", "citizenship_group": "IT", "education": "upper_secondary_diploma"}
_SCALE = {"placed_6m": "risk_difference", "placed_12m": "risk_difference", "permanent_12m": "risk_difference",
          "hazard_ratio": "marginal_hazard_ratio", "contracts_rate": "marginal_rate_ratio"}

_EXCLUSIONS = {
    "ips_before_enrolment": ("IPS proposto o avviato prima dell'iscrizione", "IPS offered or started before enrolment"),
    "declined_offer": ("Hanno rifiutato la proposta (solo confronto sulla presa in carico)",
                       "Declined the offer (start contrast only)"),
    "accepted_not_started": ("Proposta accettata ma IPS non ancora avviato", "Offer accepted but IPS not started yet"),
    "withdrawn_before_time_zero": ("Usciti dal programma prima della data indice", "Left the programme before the index date"),
    "placed_before_time_zero": ("Già inseriti prima della data indice", "Already placed before the index date"),
    "time_zero_after_cutoff": ("Data indice dopo la data di analisi", "Index date after the cut-off"),
    "index_before_ips_available": ("Data indice prima che IPS fosse disponibile (prima proposta nei dati)",
                                   "Index date before IPS was available (first offer in the data)"),
}


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


def ips_funnel(ds, cutoff=None, *, by: str | None = "year", lang: str = "it") -> pd.DataFrame:
    """The IPS funnel: offered, declined, taken in charge, employed during IPS, contracts signed.

    Parameters
    ----------
    by : {"year", None}
        One row per calendar year of the offer plus a total row, or the total only.

    Returns
    -------
    DataFrame
        ``period``, ``offered``, ``declined``, ``taken_in_charge`` (started), ``employed_during_ips``
        (people with a contract starting between their IPS start and end, or the cut-off),
        ``share_employed`` (of those taken in charge), ``contracts_signed`` (contracts starting
        during IPS) and ``contracts_per_employed``. Offers accepted but not (yet) started are
        neither declined nor taken in charge (``accepted_not_started``).
    """
    cut = _cut(ds, cutoff)
    first = first_ips(ds, cut)
    during = _during_ips(ds, first, cut)
    emp = during.groupby("participant_id").size()
    f = first.assign(
        period=first["offered_on"].dt.year.astype("int64"),
        declined=first["decision"] == "declined",
        started=first["started_on"].notna(),
        n_contracts=emp.reindex(first.index, fill_value=0),
    )
    f["accepted_not_started"] = ~f["declined"] & ~f["started"]
    f["employed"] = f["n_contracts"] > 0

    def row(g: pd.DataFrame, label) -> dict:
        taken, employed, contracts = int(g["started"].sum()), int(g["employed"].sum()), int(g["n_contracts"].sum())
        return {
            "period": label,
            "offered": len(g),
            "declined": int(g["declined"].sum()),
            "accepted_not_started": int(g["accepted_not_started"].sum()),
            "taken_in_charge": taken,
            "employed_during_ips": employed,
            "share_employed": employed / taken if taken else math.nan,
            "contracts_signed": contracts,
            "contracts_per_employed": contracts / employed if employed else math.nan,
        }

    rows = [] if by is None else [row(g, str(y)) for y, g in f.groupby("period")]
    rows.append(row(f, "Totale" if lang == "it" else "Total"))
    return pd.DataFrame(rows)


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
    ex_t: dict[str, int] = dict.fromkeys(_EXCLUSIONS, 0)
    ex_c: dict[str, int] = dict.fromkeys(_EXCLUSIONS, 0)

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


def exclusion_table(frame: pd.DataFrame, lang: str = "it") -> pd.DataFrame:
    """Who entered each group and who was left out, by reason: columns ``gruppo``/``group``,
    ``voce``/``item``, ``n`` (one count column, so suppression works down the groups).

    Examples
    --------
    >>> f = ips_frame(_toy_ips_dataset(), contrast="start", seed=1)
    >>> exclusion_table(f, "en").values.tolist()[:3]
    [['IPS', 'People to start from', 3], ['IPS', 'Declined the offer (start contrast only)', 1], ['IPS', 'People analysed', 2]]
    """
    i = 0 if lang == "it" else 1
    ex = frame.attrs["excluded"]
    cand = frame.attrs["n_candidates"]
    rows = []
    for g, glabel in (("treated", "IPS"), ("comparison", ("Confronto", "Comparison")[i])):
        rows.append((glabel, ("Persone di partenza", "People to start from")[i], cand[g]))
        for reason, n in ex[g].items():
            if n:
                rows.append((glabel, _EXCLUSIONS.get(reason, (reason.replace("_", " "),) * 2)[i], n))
        n_in = int((frame["treated"] == (1 if g == "treated" else 0)).sum())
        rows.append((glabel, ("Persone analizzate", "People analysed")[i], n_in))
    return pd.DataFrame(rows, columns=["gruppo", "voce", "n"] if i == 0 else ["group", "item", "n"])


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
    est["estimand"] = np.where(est["method"] == "naive", "crude", ESTIMANDS.get(contrast, {}).get("estimand", ""))
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
                     estimand=ESTIMANDS.get(contrast, {}).get("estimand", ""), pooled=pooled, year_as=year_as,
                     min_level=min_level)


# ---------------------------------------------------------------------------------------------
# words and pictures
# ---------------------------------------------------------------------------------------------
_REASONS = {
    "too_few": ("in uno dei due gruppi ci sono meno di {m} persone", "one of the two groups has fewer than {m} people"),
    "not_balanced": ("i due gruppi restano diversi in almeno una caratteristica (differenza standardizzata oltre {b})",
                     "the two groups still differ in at least one characteristic (standardised difference above {b})"),
    "not_estimable": ("il periodo di osservazione non basta per stimarlo", "follow-up is too short to estimate it"),
    "unadjusted": ("è un confronto grezzo, senza tener conto delle differenze tra i gruppi",
                   "it is a raw comparison that ignores differences between the groups"),
}


def reasons_text(effect: IpsEffect, method: str = "iptw", lang: str = "it") -> str:
    """Why a result is inconclusive, in plain words ("" when it is conclusive)."""
    i = 0 if lang == "it" else 1
    reasons = effect.verdict[method][1]
    parts = [_REASONS[r][i].format(m=effect.min_per_arm, b=str(effect.balance_threshold).replace(".", "," if i == 0 else "."))
             for r in reasons]
    return "; ".join(parts)


def describe_effect(effect: IpsEffect, lang: str = "it", k: int = 10) -> list[str]:
    """Plain-language sentences on the headline result of the main (IPTW) estimate.

    The first sentence is the "Su 100 persone simili ..." summary, or says in plain words that
    the result is inconclusive and why. Counts go through :func:`ixl_eval.disclosure.format_count`.
    """
    from .disclosure import format_count
    from .present import fmt_num, per100

    it = lang == "it"
    h = effect.headline
    who = ("a cui è stato proposto IPS" if effect.contrast == "offer" else "prese in carico da IPS") if it else \
        ("offered IPS" if effect.contrast == "offer" else "taken in charge by IPS")
    if not effect.conclusive("iptw"):
        why = reasons_text(effect, "iptw", lang)
        return [("Il confronto tra le persone " + who + " e persone simili che non lo hanno ricevuto non è conclusivo: "
                 + why + ". Non va letto come prova che IPS funzioni o non funzioni.") if it else
                ("The comparison between people " + who + " and similar people who did not receive it is inconclusive: "
                 + why + ". It is not evidence that IPS works or does not work.")]
    out = []
    if h in ("placed_6m", "placed_12m", "permanent_12m"):
        r = effect.get(h)
        months = "6" if h == "placed_6m" else "12"
        what = ("trovano lavoro" if h != "permanent_12m" else "ottengono un contratto a tempo indeterminato") if it else \
            ("find work" if h != "permanent_12m" else "get a permanent contract")
        lo, hi = _r(100 * r["ci_low"]), _r(100 * r["ci_high"])
        diff = _r(100 * r["estimate"])
        if it:
            s = (f"Su 100 persone {who}, {per100(r['risk_treated'], lang).split()[0]} {what} entro {months} mesi; "
                 f"su 100 persone simili seguite dal servizio abituale, {per100(r['risk_control'], lang).split()[0]}. ")
            s += (f"La differenza è di {fmt_num(diff, lang)} su 100 (plausibilmente tra {fmt_num(lo, lang)} e "
                  f"{fmt_num(hi, lang)} su 100)")
            s += "." if (r["ci_low"] > 0 or r["ci_high"] < 0) else ", quindi i dati sono compatibili anche con nessun effetto."
        else:
            s = (f"Of 100 people {who}, {per100(r['risk_treated'], lang).split()[0]} {what} within {months} months; "
                 f"of 100 similar people on the usual service, {per100(r['risk_control'], lang).split()[0]}. ")
            s += (f"The difference is {fmt_num(diff, lang)} in 100 (plausibly between {fmt_num(lo, lang)} and "
                  f"{fmt_num(hi, lang)} in 100)")
            s += "." if (r["ci_low"] > 0 or r["ci_high"] < 0) else ", so the data are also compatible with no effect."
        out.append(s)
    else:
        r = effect.get(h)
        what = (("la probabilità di trovare lavoro in ogni momento" if h == "hazard_ratio" else
                 "il numero di contratti per anno") if it else
                ("the chance of finding work at any moment" if h == "hazard_ratio" else "the number of contracts per year"))
        if it:
            s = (f"Rispetto a persone simili, per le persone {who} {what} è {fmt_num(r['estimate'], lang, 2)} volte "
                 f"quella del servizio abituale (plausibilmente tra {fmt_num(r['ci_low'], lang, 2)} e "
                 f"{fmt_num(r['ci_high'], lang, 2)}).")
        else:
            s = (f"Compared with similar people, for people {who} {what} is {fmt_num(r['estimate'], lang, 2)} times "
                 f"that of the usual service (plausibly between {fmt_num(r['ci_low'], lang, 2)} and "
                 f"{fmt_num(r['ci_high'], lang, 2)}).")
        out.append(s)
    n1, n0 = int(effect.get(h)["n_treated"]), int(effect.get(h)["n_control"])
    out.append(
        f"Il confronto riguarda {format_count(n1, k, lang)} persone IPS e {format_count(n0, k, lang)} persone di "
        "confronto, rese simili per le caratteristiche note (ponderazione sul punteggio di propensione)." if it else
        f"The comparison covers {format_count(n1, k, lang)} IPS people and {format_count(n0, k, lang)} comparison "
        "people, made alike on the known characteristics (propensity-score weighting).")
    if effect.evalue is not None:
        out.append(describe_evalue(effect.evalue, lang))
    return out


def describe_evalue(ev: causal.EValue, lang: str = "it") -> str:
    """The E-value in one plain sentence."""
    from .present import fmt_num

    if lang == "it":
        s = (f"Per spiegare del tutto questo risultato con qualcosa che non abbiamo misurato (ad esempio la motivazione), "
             f"quel fattore dovrebbe rendere sia la presa in carico IPS sia il trovare lavoro circa "
             f"{fmt_num(ev.point, lang, 1)} volte più probabili")
        if ev.ci is not None:
            s += (f"; per rendere il risultato compatibile con nessun effetto basterebbe un fattore di "
                  f"{fmt_num(ev.ci, lang, 1)}" if ev.ci > 1 else
                  "; già ora i dati sono compatibili con nessun effetto")
        return s + "."
    s = (f"To explain this result away entirely, something we did not measure (motivation, for example) would have "
         f"to make both IPS and finding work about {fmt_num(ev.point, lang, 1)} times more likely")
    if ev.ci is not None:
        s += (f"; a factor of {fmt_num(ev.ci, lang, 1)} would be enough to make the result compatible with no effect"
              if ev.ci > 1 else "; the data are already compatible with no effect")
    return s + "."


def _r(x: float, decimals: int = 0) -> float:
    """Round for display so that -0.3 shows as 0, not -0."""
    return round(float(x), decimals) + 0.0


def _base(outcome: str) -> tuple[str, bool]:
    """``("placed_12m", True)`` for ``placed_12m_ratio``: the outcome key and whether it is its risk ratio."""
    if outcome.endswith("_ratio") and outcome.removesuffix("_ratio") in _HORIZON:
        return outcome.removesuffix("_ratio"), True
    return outcome, False


def estimates_table(effect: IpsEffect, lang: str = "it") -> pd.DataFrame:
    """The estimates side by side (naive, IPTW, matching), formatted for a reader.

    Shares are in points per 100; ratios as multiples. A method whose verdict is inconclusive is
    marked in the ``nota``/``note`` column. Counts stay integers for the disclosure control.
    """
    from .present import fmt_num

    it = lang == "it"
    method_label = {"naive": ("Confronto grezzo", "Raw comparison"), "iptw": ("Ponderazione (IPTW)", "Weighting (IPTW)"),
                    "matching": ("Abbinamento", "Matching")}
    rows = []
    for _, r in effect.estimates.iterrows():
        base, is_ratio = _base(r["outcome"])
        if base in _HORIZON and is_ratio:
            continue  # risk ratios are in results.json; the table shows differences in points per 100
        lab = OUTCOMES[base]["it" if it else "en"]
        if base in _HORIZON:
            val = (f"{fmt_num(_r(100 * r['estimate']), lang)} ({fmt_num(_r(100 * r['ci_low']), lang)}; "
                   f"{fmt_num(_r(100 * r['ci_high']), lang)})")
            lab += " — differenza su 100" if it else " — difference in 100"
        else:
            val = f"{fmt_num(r['estimate'], lang, 2)} ({fmt_num(r['ci_low'], lang, 2)}; {fmt_num(r['ci_high'], lang, 2)})"
        ok, _ = effect.verdict[r["method"]]
        note = "" if ok else ("non conclusivo" if it else "inconclusive")
        scale = _SCALE_WORDS.get(r["scale"], ("", ""))[0 if it else 1]
        what = scale if r["method"] != "naive" else ("confronto grezzo" if it else "raw comparison")
        rows.append({("esito" if it else "outcome"): lab, ("metodo" if it else "method"): method_label[r["method"]][0 if it else 1],
                     ("che cosa stima" if it else "what it estimates"):
                         f"{_ESTIMAND_WORDS.get(r['estimand'], ('', ''))[0 if it else 1]}; {what}" if r["method"] != "naive" else what,
                     ("stima (IC 95%)" if it else "estimate (95% CI)"): val,
                     ("persone IPS" if it else "IPS people"): int(r["n_treated"]),
                     ("persone di confronto" if it else "comparison people"): int(r["n_control"]),
                     ("nota" if it else "note"): note})
    return pd.DataFrame(rows)


def balance_display(effect: IpsEffect, lang: str = "it") -> pd.DataFrame:
    """Balance table for readers: SMD before, after weighting, after matching; variance ratios."""
    from .present import fmt_num

    it = lang == "it"
    bw, bm = effect.balance_iptw, effect.balance_match
    rows = []
    for term in bw.index:
        rows.append({
            ("caratteristica" if it else "characteristic"): term_label(term, lang),
            ("diff. std. prima" if it else "std. diff. before"): fmt_num(bw.loc[term, "smd_before"], lang, 2),
            ("dopo ponderazione" if it else "after weighting"): fmt_num(bw.loc[term, "smd_after"], lang, 2),
            ("dopo abbinamento" if it else "after matching"): fmt_num(bm.loc[term, "smd_after"], lang, 2),
            ("rapporto varianze (pond.)" if it else "variance ratio (weighted)"):
                "" if bw.loc[term, "binary"] else fmt_num(bw.loc[term, "var_ratio_after"], lang, 2),
        })
    return pd.DataFrame(rows)


def term_label(term: str, lang: str = "it") -> str:
    """Reader-facing name of a covariate term (``gender=F`` -> ``Genere: Donne``)."""
    from .cohorts import level_label

    i = "it" if lang == "it" else "en"
    if "=" in term:
        col, lev = term.split("=", 1)
        return f"{COVARIATES.get(col, {i: col})[i]}: {level_label(col, lev, lang)}"
    return COVARIATES.get(term, {i: term})[i]


def plot_cumulative(frame: pd.DataFrame, weights=None, *, lang: str = "it", k: int = 10, horizon_days: float = 730.5,
                    title: str | None = None):
    """Cumulative share placed since the index date, IPS vs comparison (weighted Aalen–Johansen),
    with the number of people still followed under the plot (suppressed below ``k``).
    """
    import matplotlib.pyplot as plt

    from .disclosure import format_count
    from .present import PALETTE
    from .survival import AalenJohansen

    it = lang == "it"
    w = np.ones(len(frame)) if weights is None else np.asarray(weights, dtype=float)
    t = frame["treated"].to_numpy()
    fig, (ax, axt) = plt.subplots(2, 1, figsize=(9.0, 6.0), gridspec_kw={"height_ratios": [5, 1]}, sharex=True)
    ticks = np.arange(0, horizon_days + 1, 182.625)
    labels = (("IPS", "Confronto") if it else ("IPS", "Comparison"))
    for j, (grp, colour, lab) in enumerate(((1, PALETTE[0], labels[0]), (0, PALETTE[1], labels[1]))):
        m = (t == grp) & (w > 0)
        aj = AalenJohansen().fit(frame["time"].to_numpy()[m], frame["event"].to_numpy()[m],
                                 weights=None if np.all(w[m] == 1) else w[m])
        tab = aj.table_
        keep = tab["time"] <= horizon_days
        x = np.r_[0, tab["time"][keep]]
        y = np.r_[0, tab["cif_1"][keep]] * 100
        lo = np.r_[0, tab["lower_1"][keep]] * 100
        hi = np.r_[0, tab["upper_1"][keep]] * 100
        ax.step(x, y, where="post", color=colour, label=lab, linewidth=2)
        ax.fill_between(x, lo, hi, step="post", color=colour, alpha=0.15, linewidth=0)
        tt = frame["time"].to_numpy()[m]
        for tk in ticks:
            axt.text(tk, 1 - j, format_count(int((tt >= tk).sum()), k, lang), ha="center", va="center", fontsize=9,
                     color=colour)
    ax.set_ylabel("Persone con un lavoro (su 100)" if it else "People placed (per 100)")
    ax.set_ylim(0, min(100, max(10, 10 * math.ceil(ax.get_ylim()[1] / 10))))
    ax.set_title(title or ("Quante persone trovano lavoro dopo la data indice" if it else
                           "How many people find work after the index date"))
    ax.legend(loc="upper left")
    axt.set_ylim(-0.5, 1.5)
    axt.set_yticks([1, 0], labels)
    axt.set_xticks(ticks, [f"{int(round(tk / DAYS_PER_MONTH))}" for tk in ticks])
    axt.set_xlabel("Mesi dalla data indice (proposta o avvio IPS; per il confronto la stessa distanza dall'iscrizione)"
                   if it else "Months since the index date (IPS offer or start; for comparators the same time since enrolment)")
    axt.grid(False)
    for s in ("top", "right", "left", "bottom"):
        axt.spines[s].set_visible(False)
    axt.tick_params(axis="y", length=0)
    axt.set_title("Persone ancora osservate" if it else "People still followed", fontsize=9, loc="left")
    fig.tight_layout()
    return fig


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
    """The funnel and both contrasts (offer = intention to treat, start = taken in charge)."""

    funnel: pd.DataFrame
    frames: dict
    effects: dict
    params: dict
    conditional: "ConditionalEffect | None" = None

    def __repr__(self) -> str:
        return (f"<IpsAnalysis offered={int(self.funnel['offered'].iloc[-1])} "
                + " ".join(f"{c}={e!r}" for c, e in self.effects.items()) + ">")


def analyse(ds, *, cutoff=None, covariates=("gender", "age_band", "citizenship_group", "education",
                                            "enrolment_year", "months_since_enrolment"),
            headline: str = "placed_12m", trim: float = 0.0, caliper: float = 0.2, min_per_arm: int = 30,
            balance_threshold: float = 0.1, seed: int = 20240430, lang: str = "it", year_as: str = "categories",
            conditional: bool = True) -> IpsAnalysis:
    """Funnel, analysis frames and effect estimates for both contrasts, with the given parameters,
    and (``conditional``) the whole-cohort Cox model with IPS as a time-varying covariate."""
    funnel = ips_funnel(ds, cutoff, lang=lang)
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


def summary_sentences(analysis: IpsAnalysis, lang: str = "it", k: int = 10) -> list[str]:
    """The "In breve" sentences: headline of the offer contrast first, then the start, then the funnel."""
    from .disclosure import format_count
    from .present import fmt_pct

    it = lang == "it"
    offer = describe_effect(analysis.effects["offer"], lang, k)[0]
    out = [("Effetto della proposta di IPS (intenzione di trattare, anche chi ha rifiutato): " if it else
            "Effect of being offered IPS (intention to treat, including those who declined): ") + offer[0].lower() + offer[1:]]
    start = describe_effect(analysis.effects["start"], lang, k)[0]
    out.append(("Effetto di iniziare IPS, tra chi è stato effettivamente preso in carico: " if it else
                "Effect of starting IPS, among people actually taken in charge: ") + start[0].lower() + start[1:])
    tot = analysis.funnel.iloc[-1]
    taken = int(tot["taken_in_charge"])
    share = fmt_pct(tot["share_employed"], lang) if taken >= k and int(tot["employed_during_ips"]) >= k else f"<{k}"
    out.append(
        f"Dall'avvio, IPS è stato proposto a {format_count(tot['offered'], k, lang)} persone; "
        f"{format_count(taken, k, lang)} sono state prese in carico e il {share} di loro ha trovato lavoro "
        "durante il percorso." if it else
        f"Since it began, IPS was offered to {format_count(tot['offered'], k, lang)} people; "
        f"{format_count(taken, k, lang)} were taken in charge and {share} of them found work during IPS.")
    out.append("Le stime vengono da dati osservazionali: tengono conto delle differenze note tra i gruppi, non di "
               "quelle non misurate (vedi «Come leggere questi risultati»)." if it else
               "The estimates come from observational data: they allow for known differences between the groups, "
               "not for unmeasured ones (see “How to read these results”).")
    return out


def funnel_display(funnel: pd.DataFrame, lang: str = "it") -> pd.DataFrame:
    """The funnel with reader-facing column names; shares formatted, counts left as integers."""
    from .present import fmt_num, fmt_pct

    it = lang == "it"
    names = {
        "period": ("Anno della proposta", "Year offered"),
        "offered": ("Proposte", "Offered"),
        "declined": ("Rifiutate", "Declined"),
        "accepted_not_started": ("Accettate, non avviate", "Accepted, not started"),
        "taken_in_charge": ("Prese in carico", "Taken in charge"),
        "employed_during_ips": ("Con un lavoro durante IPS", "Employed during IPS"),
        "share_employed": ("Quota con un lavoro", "Share employed"),
        "contracts_signed": ("Contratti firmati", "Contracts signed"),
        "contracts_per_employed": ("Contratti per persona occupata", "Contracts per employed person"),
    }
    f = funnel.copy()
    f["share_employed"] = [fmt_pct(v, lang) for v in f["share_employed"]]
    f["contracts_per_employed"] = [fmt_num(v, lang, 1) for v in f["contracts_per_employed"]]
    if not f["accepted_not_started"].any():
        f = f.drop(columns="accepted_not_started")
    return f.rename(columns={c: names[c][0 if it else 1] for c in f.columns})


def funnel_count_cols(table: pd.DataFrame, lang: str = "it") -> tuple[list[str], dict]:
    """Count columns and linked share columns of a :func:`funnel_display` table for ``Report.table``."""
    it = lang == "it"
    counts = (["Proposte", "Rifiutate", "Accettate, non avviate", "Prese in carico", "Con un lavoro durante IPS",
               "Contratti firmati"] if it else
              ["Offered", "Declined", "Accepted, not started", "Taken in charge", "Employed during IPS",
               "Contracts signed"])
    linked = ({"Quota con un lavoro": "Con un lavoro durante IPS", "Contratti per persona occupata": "Con un lavoro durante IPS"}
              if it else {"Share employed": "Employed during IPS", "Contracts per employed person": "Employed during IPS"})
    return [c for c in counts if c in table.columns], linked


def record_results(rep, analysis: IpsAnalysis) -> int:
    """Write the key estimates to the report's result records; returns how many were written.

    Keys: ``ips_offered`` ... (funnel totals), ``<outcome>__contrast=<c>__method=<m>`` for every
    estimate (shares as differences in proportion, ratios as ratios; the label names the estimand:
    ITT for the offer, ATT for the start, marginal for hazard and rate ratios), ``conclusive__...``
    (1/0), ``evalue__contrast=<c>`` (with the E-value of the CI limit as ``ci_low``) and
    ``hazard_ratio__contrast=start__method=conditional_cox`` (the conditional sensitivity model).
    """
    tot = analysis.funnel.iloc[-1]
    n = 0
    for key, col, unit, it, en in (
        ("ips_offered", "offered", "people", "Persone a cui è stato proposto IPS", "People offered IPS"),
        ("ips_declined", "declined", "people", "Proposte IPS rifiutate", "IPS offers declined"),
        ("ips_taken_in_charge", "taken_in_charge", "people", "Persone prese in carico da IPS", "People taken in charge by IPS"),
        ("ips_employed_during", "employed_during_ips", "people", "Persone con un lavoro durante IPS", "People employed during IPS"),
        ("ips_contracts_signed", "contracts_signed", "contracts", "Contratti firmati durante IPS", "Contracts signed during IPS"),
    ):
        rep.record(key, int(tot[col]), unit=unit, label_it=it, label_en=en)
        n += 1
    rep.record("ips_share_employed", float(tot["share_employed"]), n=int(tot["taken_in_charge"]), unit="share",
               label_it="Quota di persone prese in carico con un lavoro durante IPS",
               label_en="Share of people taken in charge employed during IPS")
    n += 1
    for c, eff in analysis.effects.items():
        for _, r in eff.estimates.iterrows():
            base, _ = _base(r["outcome"])
            ratio = r["measure"] != "difference"
            unit = "ratio" if ratio else "share_difference"
            lab_it = OUTCOMES[base]["it"] + (" (rapporto)" if ratio and base in _HORIZON else "")
            lab_en = OUTCOMES[base]["en"] + (" (ratio)" if ratio and base in _HORIZON else "")
            est_it = {"ITT": "effetto della proposta (ITT)", "ATT": "effetto dell'avvio tra chi ha iniziato (ATT)",
                      "crude": "confronto grezzo"}.get(r["estimand"], c)
            est_en = {"ITT": "effect of the offer (ITT)", "ATT": "effect of starting among starters (ATT)",
                      "crude": "raw comparison"}.get(r["estimand"], c)
            marg = (", marginale" if r["scale"].startswith("marginal") else "", ", marginal" if r["scale"].startswith("marginal") else "")
            rep.record(f"{r['outcome']}__contrast={c}__method={r['method']}", float(r["estimate"]),
                       ci=(float(r["ci_low"]), float(r["ci_high"])), n=int(r["n_treated"]), unit=unit,
                       label_it=f"{lab_it} — {c}, {r['method']}: {est_it}{marg[0]}",
                       label_en=f"{lab_en} — {c}, {r['method']}: {est_en}{marg[1]}")
            n += 1
        for m, (ok, _) in eff.verdict.items():
            rep.record(f"conclusive__contrast={c}__method={m}", int(ok), unit="flag",
                       label_it=f"Risultato conclusivo (1 sì, 0 no) — {c}, {m}",
                       label_en=f"Conclusive result (1 yes, 0 no) — {c}, {m}")
            n += 1
        if eff.evalue is not None:
            rep.record(f"evalue__contrast={c}", float(eff.evalue.point), ci=(eff.evalue.ci, None), unit="ratio",
                       label_it=f"E-value della stima principale (ci_low: del limite dell'intervallo) — {c}",
                       label_en=f"E-value of the main estimate (ci_low: of the interval limit) — {c}")
            n += 1
    cond = analysis.conditional
    if cond is not None and cond.model is not None:
        rep.record("hazard_ratio__contrast=start__method=conditional_cox", cond.hr, ci=(cond.ci_low, cond.ci_high),
                   n=cond.n_ips, unit="ratio",
                   label_it="Rapidità dell'inserimento dopo l'avvio di IPS — modello di Cox su tutti gli iscritti, IPS "
                            "covariata nel tempo: effetto condizionato (analisi di sensibilità)",
                   label_en="Speed of placement after the IPS start — Cox model on everyone enrolled, IPS time-varying: "
                            "conditional effect (sensitivity analysis)")
        n += 1
    return n


def design_text(analysis: IpsAnalysis, lang: str = "it") -> str:
    """How the comparison is built, in a short plain paragraph (Markdown)."""
    p = analysis.params
    if lang == "it":
        return (
            "Per capire se IPS aiuta, confrontiamo le persone IPS con persone **simili** che non hanno ricevuto "
            "IPS. Facciamo due confronti: dalla **proposta** di IPS (tutte le persone a cui è stato proposto, anche "
            "chi ha rifiutato) e dalla **presa in carico**. Alle persone di confronto assegniamo una data di "
            "partenza alla stessa distanza dall'iscrizione delle persone IPS, così nessuno dei due gruppi viene "
            "favorito dai giorni già passati senza lavoro. Entrambi i gruppi devono essere ancora iscritti e non "
            "ancora inseriti a quella data. Le differenze note (genere, età, cittadinanza, titolo di studio, anno "
            "di iscrizione, preso anno per anno, tempo dall'iscrizione) sono bilanciate con un punteggio di propensione; l'esito "
            f"principale, fissato prima di guardare i risultati, è «{OUTCOMES[p['headline']]['it']}»."
        )
    return (
        "To see whether IPS helps, we compare IPS people with **similar** people who did not receive IPS. There are "
        "two comparisons: from the IPS **offer** (everyone offered, including those who declined) and from being "
        "**taken in charge**. Comparison people get a start date at the same time since enrolment as IPS people, so "
        "neither group is favoured by days already spent without work. Both groups must still be enrolled and not "
        "yet placed on that date. Known differences (gender, age, citizenship, education, enrolment year, taken "
        "year by year, time since enrolment) are balanced with a propensity score; the headline outcome, fixed before looking at the "
        f"results, is “{OUTCOMES[p['headline']]['en']}”."
    )


def caveats_text(analysis: IpsAnalysis, lang: str = "it") -> str:
    """The "how to read these results" block: method, assumptions, when the result is inconclusive."""
    p = analysis.params
    b = str(p["balance_threshold"])
    if lang == "it":
        b = b.replace(".", ",")
        return (
            "Metodo. Le persone IPS sono confrontate con persone mai contattate per IPS, rese simili con un "
            "punteggio di propensione (regressione logistica): ponderazione (stima principale) e abbinamento uno a "
            "uno, accanto al confronto grezzo. Le quote di persone con un lavoro tengono conto di chi esce dal "
            "programma; il rapporto di rischio (hazard ratio) misura quanto più in fretta si trova lavoro.\n\n"
            "Ipotesi. Il metodo corregge solo per le differenze misurate. Se chi riceve IPS differisce per qualcosa "
            "che i dati non registrano (motivazione, salute, rete di contatti), la stima può essere distorta: "
            "l'E-value dice quanto forte dovrebbe essere un tale fattore per annullare il risultato. Il gruppo di "
            "confronto esclude chi ha ricevuto IPS più tardi: se IPS va a chi fatica di più, il confronto tende a "
            "sottostimare, non a gonfiare, l'effetto.\n\n"
            f"Quando il risultato non è conclusivo. Se in un gruppo ci sono meno di {p['min_per_arm']} persone, o "
            f"se dopo l'aggiustamento i gruppi differiscono ancora (differenza standardizzata di almeno {b} in una "
            "caratteristica, anno di iscrizione per anno di iscrizione), il rapporto lo dice e non presenta il numero "
            "come un risultato. I dettagli sono in docs/caveats/efficacia-ips.md."
        ) + ("\n\n" + conditional_text(analysis, "it") if getattr(analysis, "conditional", None) is not None else "")
    return (
        "Method. IPS people are compared with people never approached for IPS, made alike with a propensity score "
        "(logistic regression): weighting (main estimate) and one-to-one matching, beside the raw comparison. Shares "
        "placed allow for people leaving the programme; the hazard ratio measures how much faster people find work.\n\n"
        "Assumptions. The method only corrects for measured differences. If IPS people differ in something the data "
        "do not record (motivation, health, contacts), the estimate can be biased: the E-value says how strong such a "
        "factor would have to be to explain the result away. The comparison group leaves out people who received "
        "IPS later: if IPS goes to those who struggle most, the comparison tends to understate, not inflate, the "
        "effect.\n\n"
        f"When the result is inconclusive. With fewer than {p['min_per_arm']} people in a group, or groups still "
        f"differing after adjustment (standardised difference of {b} or more in a characteristic, enrolment year by "
        "enrolment year), the report says so and does not present the number as a finding. Details are in "
        "docs/caveats/efficacia-ips.md."
    ) + ("\n\n" + conditional_text(analysis, "en") if getattr(analysis, "conditional", None) is not None else "")


def effect_paragraph(effect: IpsEffect, lang: str = "it", k: int = 10) -> str:
    """The result of one contrast in words: headline, size of the comparison, E-value, and which
    estimates are inconclusive and why (Markdown)."""
    it = lang == "it"
    parts = [estimand_text(effect, lang)] + describe_effect(effect, lang, k)
    names = {"iptw": ("la ponderazione", "weighting"), "matching": ("l'abbinamento", "matching")}
    for m in ("matching",):
        if not effect.conclusive(m):
            parts.append((f"La stima con {names[m][0]} non è conclusiva: " if it else
                          f"The {names[m][1]} estimate is inconclusive: ") + reasons_text(effect, m, lang) + ".")
    agree = agreement_text(effect, lang)
    if agree:
        parts.append(agree)
    if effect.pooled:
        parts.append(design.pooled_sentence(effect.pooled, lang, ("persone IPS o di confronto",
                                                                  "IPS or comparison people"), effect.min_level))
    if effect.year_as == "linear":
        parts.append("L'anno di iscrizione entra nel punteggio come un numero (parametro year_as), non anno per anno." if it
                     else "The enrolment year enters the score as one number (parameter year_as), not year by year.")
    parts.append("Il confronto grezzo è mostrato solo per capire quanto contano le differenze tra i gruppi." if it else
                 "The raw comparison is shown only to see how much the differences between the groups matter.")
    return " ".join(parts)


def love_plot(effect: IpsEffect, lang: str = "it"):
    """Love plot of the weighted balance with reader-facing covariate names."""
    labels = {t: term_label(t, lang) for t in effect.balance_iptw.index}
    return causal.love_plot(effect.balance_iptw, threshold=effect.balance_threshold, labels=labels, lang=lang)


def overlap_plot(effect: IpsEffect, frame: pd.DataFrame, lang: str = "it"):
    """Propensity-score overlap of IPS and comparison people."""
    return causal.overlap_plot(effect.ps.scores_, frame["treated"],
                               group_labels=("IPS", "confronto" if lang == "it" else "comparison"), lang=lang)


# ---------------------------------------------------------------------------------------------
# the conditional model (sensitivity analysis) and the estimands in words
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


def estimand_text(effect: IpsEffect, lang: str = "it") -> str:
    """What the contrast estimates, in plain words (Italian terms of the trade in brackets)."""
    e = ESTIMANDS.get(effect.contrast)
    if e is None:
        return ""
    if lang == "it":
        s = (f"Che cosa misura: {e['it']}. Le quote di persone con un lavoro a 6 e 12 mesi (incidenza cumulata) sono "
             "il risultato principale: si leggono direttamente («su 100 persone…») e la loro differenza è la media "
             "delle differenze tra le singole persone. L'hazard ratio è invece un rapporto «marginale» sul gruppo "
             "nel suo insieme: di solito è più piccolo del rapporto tra persone con le stesse caratteristiche "
             "(non collassabilità), quindi non va confrontato con il modello condizionato.")
        if effect.contrast == "offer":
            s += (" Poiché circa un terzo rifiuta e nessuno ne beneficia prima dell'avvio, l'effetto della proposta "
                  "è più piccolo di quello della presa in carico.")
        return s
    s = (f"What it measures: {e['en']}. The shares placed at 6 and 12 months (cumulative incidence) are the main "
         "result: they read directly (\"of 100 people…\") and their difference is the average of the differences "
         "between individual people. The hazard ratio is a \"marginal\" ratio over the group as a whole: it is "
         "usually smaller than the ratio between people with the same characteristics (non-collapsibility), so it "
         "should not be compared with the conditional model.")
    if effect.contrast == "offer":
        s += (" Since about a third decline and nobody benefits before their start, the effect of the offer is "
              "smaller than the effect of being taken in charge.")
    return s


def agreement_text(effect: IpsEffect, lang: str = "it") -> str:
    """What it means when weighting and matching disagree, or one of them fails its gate ("" when
    both are conclusive and their headline intervals overlap)."""
    it = lang == "it"
    ok_w, ok_m = effect.conclusive("iptw"), effect.conclusive("matching")
    h = effect.headline
    w, m = effect.get(h, "iptw"), effect.get(h, "matching")
    if ok_w and not ok_m:
        return ("La ponderazione è la stima principale; l'abbinamento non supera i controlli: il suo numero non conferma "
                "né smentisce la stima principale. Succede spesso con pochi casi IPS: l'abbinamento uno a uno scarta "
                "persone e lascia differenze che la ponderazione corregge." if it else
                "Weighting is the main estimate; matching fails its checks, so its number neither confirms nor "
                "contradicts the main estimate. This is common with few IPS people: one-to-one matching discards "
                "people and leaves differences that weighting corrects.")
    if ok_m and not ok_w:
        return ("La ponderazione non supera i controlli mentre l'abbinamento sì: i due gruppi, pesati, restano diversi. "
                "La stima con l'abbinamento riguarda solo le persone IPS per cui si è trovato un confronto simile; "
                "il risultato va letto con cautela e non generalizzato a tutte le persone IPS." if it else
                "Weighting fails its checks while matching passes: the weighted groups still differ. The matching "
                "estimate covers only the IPS people for whom a similar comparison person was found; read it with "
                "caution and do not generalise it to all IPS people.")
    if not ok_w and not ok_m:
        return ("Né la ponderazione né l'abbinamento superano i controlli: con questi dati non si può dire se IPS "
                "funzioni." if it else
                "Neither weighting nor matching passes its checks: with these data one cannot say whether IPS works.")
    if w["ci_high"] < m["ci_low"] or m["ci_high"] < w["ci_low"]:
        return ("Ponderazione e abbinamento danno stime diverse oltre i loro intervalli. Guardano popolazioni un po' "
                "diverse (l'abbinamento scarta le persone IPS senza un confronto simile) e dipendono in modo diverso "
                "dal modello del punteggio di propensione: la differenza è un segnale che il risultato dipende da "
                "come si costruisce il confronto, quindi la stima principale va presa con cautela." if it else
                "Weighting and matching disagree beyond their intervals. They look at slightly different populations "
                "(matching drops IPS people without a similar comparison person) and depend differently on the "
                "propensity-score model: the gap signals that the result depends on how the comparison is built, so "
                "the main estimate should be taken with caution.")
    return ""


def conditional_text(analysis: "IpsAnalysis", lang: str = "it") -> str:
    """The conditional (whole-cohort, time-varying) Cox model in words, as a sensitivity analysis."""
    from .present import fmt_num

    c = getattr(analysis, "conditional", None)
    it = lang == "it"
    if c is None:
        return ""
    if c.model is None:
        return (f"Analisi di sensibilità: il modello di Cox su tutte le persone iscritte non è stimabile ({c.note})."
                if it else f"Sensitivity analysis: the Cox model on everyone enrolled cannot be estimated ({c.note}).")
    ci = f"{fmt_num(c.ci_low, lang, 2)}–{fmt_num(c.ci_high, lang, 2)}"
    s = (f"Analisi di sensibilità (modello condizionato): un modello di Cox su tutte le persone iscritte, in cui IPS "
         f"conta solo dal giorno dell'avvio (covariata che cambia nel tempo) e a parità di genere, età, cittadinanza, "
         f"titolo di studio e anno di iscrizione, stima che dopo l'avvio il ritmo con cui si trova lavoro sia "
         f"{fmt_num(c.hr, lang, 2)} volte quello senza IPS (IC 95% {ci}). È un confronto tra persone con le stesse "
         "caratteristiche (effetto condizionato), per questo è più grande dell'hazard ratio marginale della "
         "ponderazione: le due stime rispondono a domande diverse e non devono coincidere." if it else
         f"Sensitivity analysis (conditional model): a Cox model on everyone enrolled, where IPS counts only from the "
         f"start day (a time-varying covariate) and with gender, age, citizenship, education and enrolment year held "
         f"equal, estimates that after the start people find work {fmt_num(c.hr, lang, 2)} times as fast as without "
         f"IPS (95% CI {ci}). It compares people with the same characteristics (a conditional effect), which is why "
         "it is larger than the marginal hazard ratio of the weighting: the two answer different questions and need "
         "not agree.")
    if c.pooled:
        s += " " + design.pooled_sentence(c.pooled, lang, ("inserimenti", "placements"))
    return s
