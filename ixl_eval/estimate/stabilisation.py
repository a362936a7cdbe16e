"""Contract stabilisation: how many fixed-term placements become permanent, how fast, and where.

The estimation layer of issue 6, on top of the episode frame :func:`ixl_eval.cohorts.fixed_term_episodes`
(one row per fixed-term contract; event 1 conversion, 2 ended without conversion, 0 censored) and
the estimators of :mod:`ixl_eval.survival`:

- **people view** (:func:`first_permanent`, :func:`people_view`): of the people placed, how many
  hold a permanent contract within a horizon (24 months) of their *first* placement, by the year
  of that first placement;
- **year view** (:func:`permanent_routes`): permanent contracts per year or quarter, split into
  permanent at hire and fixed-term converted;
- **conversion** (:func:`conversion_incidence`, :func:`conversion_cox`, :func:`conversion_test`,
  :func:`incidence_curves`): cumulative incidence of conversion (exact Aalen–Johansen, the
  contract ending without conversion a competing event), cause-specific Cox hazard ratios,
  group comparison;
- **employer view** (:func:`employer_view`): conversion by employer, for employers with at least
  ``min_contracts`` contracts; each row has a neutral key (``kind`` "named" with the consented
  name, "anonymous" with a ``rank``, or "other" for the pooled rest), never a label.

:func:`analyse` runs them all (the notebook's one computation call) into a
:class:`StabilisationAnalysis`. Everything here returns numbers: no language, no disclosure
threshold, no report. Tables, sentences, figures and records are built from these results by
:mod:`ixl_eval.report.stabilisation`. Rules and caveats are in ``docs/caveats/stabilizzazione.md``.

Examples
--------
>>> from ixl_eval.cohorts import _toy_episodes_dataset
>>> ds = _toy_episodes_dataset()
>>> permanent_routes(ds, cutoff="2024-04-30")[["period", "at_hire", "by_conversion"]]
  period  at_hire  by_conversion
0   2023        1              1
1   2024        0              0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


__all__ = [
    # the analysis: one call, one result object
    "analyse",
    "StabilisationAnalysis",
    # the estimators it is made of
    "permanent_routes",
    "first_permanent",
    "people_view",
    "ConversionIncidence",
    "conversion_incidence",
    "conversion_rates",
    "conversion_cox",
    "conversion_test",
    "incidence_curves",
    "at_risk",
    "employer_view",
    "months_to_days",
    "OTHER",
]

_DAYS_PER_MONTH = 365.25 / 12

def months_to_days(months) -> int:
    """A horizon in months as whole days (average month of 365.25/12 days).

    Examples
    --------
    >>> [months_to_days(m) for m in (6, 12, 24)]
    [183, 365, 730]
    """
    return int(round(float(months) * _DAYS_PER_MONTH))


def _cutoff(ds, cutoff) -> pd.Timestamp:
    if cutoff is None or (isinstance(cutoff, str) and cutoff == ""):
        return ds.cutoff.normalize()
    cut = pd.Timestamp(cutoff).normalize()
    if cut > ds.cutoff.normalize():
        raise ValueError(f"cutoff {cut.date()} is after the extraction date {ds.extracted_on}: nothing is known then")
    return cut


# --------------------------------------------------------------------------------- year view


def permanent_routes(ds, *, cutoff=None, freq: str = "year") -> pd.DataFrame:
    """Permanent contracts per period: hired permanent from the start vs fixed-term converted.

    A permanent hire counts in the period of its ``started_on``; a conversion in the period of its
    ``converted_on`` (the day the contract became permanent), whenever the fixed-term contract
    started. Events after the cut-off are not counted. Every period from the first to the
    cut-off's is listed, with zeros where nothing happened.

    Parameters
    ----------
    ds : Dataset
    cutoff : date-like, optional
        Default: the extraction date.
    freq : {"year", "quarter"}

    Returns
    -------
    pandas.DataFrame
        ``period`` (``"2023"`` or ``"2023Q1"``), ``at_hire``, ``by_conversion``, ``total`` (ints),
        ``share_by_conversion`` (float, NaN when ``total`` is 0), ``complete`` (False for the
        period still running at the cut-off).

    Examples
    --------
    >>> from ixl_eval.cohorts import _toy_episodes_dataset
    >>> t = permanent_routes(_toy_episodes_dataset(), cutoff="2024-04-30", freq="quarter")
    >>> t.loc[t["total"] > 0, ["period", "at_hire", "by_conversion", "complete"]].to_dict("list")
    {'period': ['2023Q2', '2023Q3'], 'at_hire': [0, 1], 'by_conversion': [1, 0], 'complete': [True, True]}
    """
    if freq not in ("year", "quarter"):
        raise ValueError("freq must be 'year' or 'quarter'")
    cut = _cutoff(ds, cutoff)
    pl = ds.placements
    hire = pl.loc[(pl["contract_type"] == "permanent") & (pl["started_on"] <= cut), "started_on"]
    conv = pl.loc[pl["converted_on"].notna() & (pl["converted_on"] <= cut), "converted_on"]
    code = "Y" if freq == "year" else "Q"
    dates = pd.concat([hire, conv])
    if dates.empty:
        periods = pd.PeriodIndex([cut.to_period(code)])
    else:
        periods = pd.period_range(dates.min().to_period(code), cut.to_period(code), freq=code)
    at_hire = hire.dt.to_period(code).value_counts().reindex(periods, fill_value=0)
    by_conv = conv.dt.to_period(code).value_counts().reindex(periods, fill_value=0)
    total = at_hire + by_conv
    out = pd.DataFrame(
        {
            "period": [str(p) for p in periods],
            "at_hire": at_hire.to_numpy(dtype="int64"),
            "by_conversion": by_conv.to_numpy(dtype="int64"),
            "total": total.to_numpy(dtype="int64"),
            "share_by_conversion": np.where(total > 0, by_conv / total.where(total > 0, 1), np.nan),
            "complete": [p.end_time.normalize() <= cut for p in periods],
        }
    )
    out.attrs.update(kind="routes", cutoff=str(cut.date()), freq=freq)
    return out


# ------------------------------------------------------------------------------- people view


def first_permanent(ds, *, cutoff=None) -> pd.DataFrame:
    """One row per placed person: time from the first placement to the first permanent contract.

    Time zero is the start of the person's first placement of any type (by the cut-off). The
    event (``event = 1``) is the first day the person holds a permanent contract mediated by the
    programme: the start of a permanent placement or the conversion of a fixed-term one, whichever
    comes first; a permanent first placement is an event on day 0 (``time = 0.5``, the rule of
    :mod:`ixl_eval.cohorts`). Everyone else is censored at the cut-off (``event = 0``). There is
    no competing event: leaving the programme does not stop a person from reaching a permanent
    contract later, but only contracts the programme records are seen (see the caveats).

    Returns
    -------
    pandas.DataFrame
        ``participant_id``, ``cohort`` (year of the first placement), ``gender``,
        ``citizenship_group``, ``first_type`` (contract type of the first placement), ``t0``,
        ``exit_on``, ``time`` (days), ``event`` (0/1), ``route`` (``"at_hire"``,
        ``"conversion"`` or missing). ``attrs``: ``n_source`` (people in the data),
        ``excluded`` (``{"never_placed": n}``), ``cutoff``.

    Examples
    --------
    >>> from ixl_eval.cohorts import _toy_episodes_dataset
    >>> f = first_permanent(_toy_episodes_dataset(), cutoff="2024-04-30")
    >>> f[["participant_id", "cohort", "time", "event", "route"]]
      participant_id  cohort   time  event       route
    0             P1    2023   90.0      1  conversion
    1             P2    2023  212.0      1     at_hire
    2             P3    2024  120.0      0         NaN
    3             P4    2024   60.0      0         NaN
    """
    from .cohorts import _days

    cut = _cutoff(ds, cutoff)
    pl = ds.placements.loc[ds.placements["started_on"] <= cut]
    first = (pl.sort_values(["participant_id", "started_on", "placement_id"])
             .drop_duplicates("participant_id").set_index("participant_id"))
    hires = pl.loc[pl["contract_type"] == "permanent", ["participant_id", "started_on"]]
    convs = pl.loc[pl["converted_on"].notna() & (pl["converted_on"] <= cut), ["participant_id", "converted_on"]]
    perm = pd.concat([
        hires.rename(columns={"started_on": "on"}).assign(route="at_hire"),
        convs.rename(columns={"converted_on": "on"}).assign(route="conversion"),
    ])
    # A same-day hire and conversion is one permanent contract: the hire route is listed first.
    perm = perm.sort_values(["participant_id", "on", "route"]).drop_duplicates("participant_id").set_index("participant_id")

    ids = first.index.to_series()
    part = ds.participants.set_index("participant_id")
    t0 = first["started_on"]
    perm_on = ids.map(perm["on"])
    event = perm_on.notna().to_numpy()
    exit_on = perm_on.where(event, cut)
    time = _days(exit_on, t0)
    time = np.where((time == 0) & event, 0.5, time)
    cit = ids.map(part["citizenship"])
    out = pd.DataFrame(
        {
            "participant_id": ids.to_numpy(),
            "cohort": t0.dt.year.astype("int64").to_numpy(),
            "gender": ids.map(part["gender"]).to_numpy(),
            "citizenship_group": np.where(cit.to_numpy() == "IT", "IT", "foreign"),
            "first_type": first["contract_type"].to_numpy(),
            "t0": t0.to_numpy(),
            "exit_on": pd.to_datetime(exit_on).to_numpy(),
            "time": time.astype(float),
            "event": event.astype(np.int8),
            "route": ids.map(perm["route"]).to_numpy(),
        }
    ).sort_values(["t0", "participant_id"]).reset_index(drop=True)
    out.attrs.update(n_source=len(ds.participants), excluded={"never_placed": len(ds.participants) - len(out)},
                     cutoff=str(cut.date()))
    return out


# ----------------------------------------------------------------------------- employer view


def _norm(name) -> str:
    return " ".join(str(name).split()).casefold()


def _employer_table(episodes: pd.DataFrame, min_contracts: int, consenting=()) -> pd.DataFrame:
    """Which employers get a row of their own, and under which key (one row per employer; internal).

    Employers with at least ``min_contracts`` contracts get a row, ordered by contracts (most
    first; ties by conversions, then by the pseudonymous id so the order is reproducible). A shown
    employer is ``named`` when its ``employer_name`` (the most frequent one in its rows) matches an
    entry of ``consenting`` (case and spacing ignored); the others are anonymous, ranked 0, 1, ...
    in that order (the report writes "Azienda A", "Azienda B", ...). The ``employer_id`` stays
    internal: it is never a key.
    """
    g = episodes.groupby("employer_id", observed=True)
    emp = pd.DataFrame({"contracts": g.size(), "conversions": g["converted"].sum().astype("int64")})
    names = episodes.dropna(subset=["employer_name"]).groupby("employer_id")["employer_name"].agg(
        lambda s: s.value_counts().index[0])
    emp["name"] = names.reindex(emp.index)
    emp = emp.reset_index().sort_values(["contracts", "conversions", "employer_id"],
                                        ascending=[False, False, True]).reset_index(drop=True)
    emp["shown"] = emp["contracts"] >= min_contracts
    wanted = {_norm(c): c for c in consenting if str(c).strip()}
    emp["consented"] = emp["name"].map(lambda n: isinstance(n, str) and _norm(n) in wanted)
    shown_name, rank, anon = [], [], 0
    for shown, consented, name in emp[["shown", "consented", "name"]].itertuples(index=False):
        if shown and consented:
            shown_name.append(" ".join(str(name).split()))
            rank.append(-1)
        elif shown:
            shown_name.append(None)
            rank.append(anon)
            anon += 1
        else:
            shown_name.append(None)
            rank.append(-1)
    emp["shown_name"] = shown_name
    emp["rank"] = rank
    # Two consenting employer ids with one name (e.g. two branches) stay apart, numbered.
    dup = emp["shown_name"].notna() & emp.duplicated("shown_name", keep=False)
    emp.loc[dup, "shown_name"] = (emp.loc[dup, "shown_name"] + " ("
                                  + (emp.loc[dup].groupby("shown_name").cumcount() + 1).astype(str) + ")")
    found = {_norm(n) for n in emp["name"].dropna()}
    emp.attrs["consent_not_found"] = [c for key, c in wanted.items() if key not in found]
    return emp


# --------------------------------------------------------------------------- conversion models


class ConversionIncidence:
    """Cumulative incidence of conversion (exact Aalen–Johansen), overall or by a subgroup.

    Conversion (``event = 1``) and the contract ending without conversion (``event = 2``) compete:
    the share converted by a horizon is the Aalen–Johansen cumulative incidence, not 1 − KM,
    which would count ended contracts as if they could still convert.

    Parameters
    ----------
    by : str, optional
        A column of the episode frame (:data:`ixl_eval.cohorts.EPISODE_SUBGROUPS`); None: overall.
    conf_level : float

    Attributes
    ----------
    fits_ : dict
        ``{level: ixl_eval.survival.AalenJohansen}`` in category order (levels without contracts
        are absent).
    n_, n_conversions_, n_ended_, n_censored_ : int

    Examples
    --------
    >>> from ixl_eval.cohorts import _toy_episodes_dataset, fixed_term_episodes
    >>> ep = fixed_term_episodes(_toy_episodes_dataset(), which="all", cutoff="2024-04-30")
    >>> ci = ConversionIncidence().fit(ep)
    >>> ci
    <ConversionIncidence overall: n=5, conversions=1, ended=2, censored=2>
    >>> ci.table([90])[["group", "n", "conversions", "cif_90"]].round(3)
      group  n  conversions  cif_90
    0   all  5            1   0.267
    """

    def __init__(self, by: str | None = None, *, conf_level: float = 0.95):
        self.by = by
        self.conf_level = conf_level

    def fit(self, episodes: pd.DataFrame):
        from .survival import AalenJohansen

        if self.by is None:
            groups = [("all", episodes)]
        else:
            col = episodes[self.by]
            if col.isna().any():
                raise ValueError(f"{self.by!r} has missing values: they would be left out silently")
            levels = (list(col.cat.categories) if isinstance(col.dtype, pd.CategoricalDtype)
                      else sorted(col.unique()))
            grouped = dict(list(episodes.groupby(self.by, observed=True, sort=False)))
            groups = [(lev, grouped[lev]) for lev in levels if lev in grouped]
        self.fits_ = {}
        self.counts_ = {}
        self.max_time_ = {}
        for lev, sub in groups:
            ev = sub["event"].to_numpy()
            self.counts_[lev] = (len(sub), int((ev == 1).sum()), int((ev == 2).sum()), int((ev == 0).sum()))
            self.max_time_[lev] = float(sub["time"].max())
            # An AJ fit needs at least one event of some cause: a group with only running contracts
            # has an incidence of 0 so far, kept as a row with no curve.
            if (ev > 0).any():
                self.fits_[lev] = AalenJohansen(conf_level=self.conf_level, label=str(lev)).fit(
                    sub["time"].to_numpy(), np.where(ev == 2, 2, ev), None)
        tot = np.array(list(self.counts_.values())).sum(axis=0)
        self.n_, self.n_conversions_, self.n_ended_, self.n_censored_ = (int(x) for x in tot)
        return self

    def __repr__(self) -> str:
        if not hasattr(self, "fits_"):
            return "<ConversionIncidence (unfitted)>"
        what = "overall" if self.by is None else f"by {self.by}"
        return (f"<ConversionIncidence {what}: n={self.n_}, conversions={self.n_conversions_}, "
                f"ended={self.n_ended_}, censored={self.n_censored_}>")

    def table(self, horizons_days=(183, 365, 730)) -> pd.DataFrame:
        """One row per group: counts and the cumulative incidence of conversion at each horizon.

        Columns ``subgroup``, ``group``, ``n``, ``conversions``, ``ended``, ``running``, then per
        horizon h ``cif_<h>``, ``cif_<h>_lower``, ``cif_<h>_upper`` (NaN beyond the group's
        follow-up: not yet observable).
        """
        rows = []
        for lev, (n, conv, ended, running) in self.counts_.items():
            r = {"subgroup": self.by or "all", "group": lev, "n": n, "conversions": conv, "ended": ended,
                 "running": running}
            fit = self.fits_.get(lev)
            at = _cif_at(fit, horizons_days) if fit is not None else None
            for i, h in enumerate(horizons_days):
                if at is None:  # no event yet: nothing converted up to the last follow-up time
                    vals = (0.0, 0.0, 0.0) if h <= self.max_time_[lev] else (np.nan,) * 3
                else:
                    vals = tuple(float(at[c].iloc[i]) for c in ("cif", "lower", "upper"))
                r[f"cif_{h}"], r[f"cif_{h}_lower"], r[f"cif_{h}_upper"] = vals
            rows.append(r)
        out = pd.DataFrame(rows)
        out.attrs.update(kind="incidence", horizons=list(horizons_days))
        return out


def _cif_at(fit, horizons_days) -> pd.DataFrame:
    """Conversion incidence at horizons, defined past the last time when nobody is left at risk.

    ``AalenJohansen.cif_at`` is NaN beyond the last observed time, since a contract censored
    there could still convert. When the last contract left through an event (all-cause survival
    0), nothing can change any more and the curve stays flat: fixed-term contracts are capped
    (24 months in Italian law), so the longest horizon often lies past every contract's end.
    """
    at = fit.cif_at(list(horizons_days), cause=1)
    tab = fit.table_
    if tab["survival"].iloc[-1] == 0:
        beyond = at["time"].to_numpy() > tab["time"].iloc[-1]
        for col, src in (("cif", "cif_1"), ("lower", "lower_1"), ("upper", "upper_1"), ("std_err", "se_1")):
            at.loc[beyond, col] = float(tab[src].iloc[-1])
    return at


def conversion_incidence(episodes: pd.DataFrame, horizons_days=(183, 365, 730), by=()) -> pd.DataFrame:
    """Cumulative incidence of conversion at horizons, overall then by each subgroup (one table).

    Examples
    --------
    >>> from ixl_eval.cohorts import _toy_episodes_dataset, fixed_term_episodes
    >>> ep = fixed_term_episodes(_toy_episodes_dataset(), which="all", cutoff="2024-04-30")
    >>> t = conversion_incidence(ep, [90, 150], by=["employer_size"])
    >>> t[["subgroup", "group", "n", "cif_90", "cif_150"]].round(3)
            subgroup  group  n  cif_90  cif_150
    0            all    all  5   0.267      NaN
    1  employer_size  micro  1   0.000    0.000
    2  employer_size  small  1   0.000      NaN
    3  employer_size  large  3   0.667    0.667

    Micro's only contract ended on day 30: its curve is settled for good. Small's only contract is
    still running after 120 days: day 150 is not yet observable.
    """
    parts = [ConversionIncidence(b).fit(episodes).table(horizons_days) for b in [None, *by]]
    out = pd.concat(parts, ignore_index=True)
    out.attrs.update(kind="incidence", horizons=list(horizons_days))
    return out


OTHER = "other"  # the level sparse levels are pooled into in the Cox model


def conversion_cox(episodes: pd.DataFrame, covariates=("employer_size", "sector", "channel", "gender",
                                                       "citizenship_group", "enrolment_year"),
                   *, reference: dict | None = None, min_events: int = 5):
    """Cause-specific Cox model of the conversion hazard (ended contracts censored at their end).

    The hazard ratio compares the *rate* at which running contracts convert between groups, other
    covariates held equal. Reference levels default to the most common level of each covariate
    (the most precise comparisons). Levels with fewer than ``min_events`` conversions have no
    estimable ratio of their own (with none, the estimate runs off to zero): they are pooled into
    one level :data:`OTHER` ("Altri (pochi casi)"), listed in ``model.pooled_``; if the pool still
    has no conversion it joins the reference level. Covariates left with a single level are not in
    the model (``model.dropped_``). No contract is ever left out. With several contracts per
    person (``which="all"``) the intervals are cluster-robust by person.

    Returns
    -------
    ixl_eval.survival.CoxModel
        Fitted; ``hr_table_`` has one row per level against its reference.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> n = 600
    >>> size = rng.choice(["micro", "large"], n)
    >>> t_conv = rng.exponential(400 / np.where(size == "large", 2.0, 1.0))
    >>> t_end = rng.exponential(300, n)
    >>> ep = pd.DataFrame({"time": np.minimum(t_conv, t_end), "event": np.where(t_conv < t_end, 1, 2),
    ...                    "participant_id": np.arange(n).astype(str),
    ...                    "employer_size": pd.Categorical(size, ["micro", "small", "medium", "large"])})
    >>> m = conversion_cox(ep, ["employer_size"], reference={"employer_size": "micro"})
    >>> m.hr_table_[["level", "reference"]].values.tolist()
    [['large', 'micro']]
    >>> bool(1.4 < m.hr_table_["hr"].iloc[0] < 2.8)
    True
    """
    from .survival import CoxModel

    if int((episodes["event"] == 1).sum()) == 0:
        raise ValueError("no conversions: nothing to model")
    reference = dict(reference or {})
    conv = episodes["event"].to_numpy() == 1
    frame = episodes.copy()
    kept, dropped, pooled = [], [], {}
    for c in covariates:
        if frame[c].isna().any():
            raise ValueError(f"{c!r} has missing values: they would be left out silently")
        values = frame[c].astype(str) if c == "enrolment_year" else frame[c].astype(object)
        counts = values.value_counts()
        ref = reference.get(c, counts.index[0])
        ref = str(ref) if c == "enrolment_year" else ref
        events = pd.Series(conv).groupby(values.to_numpy()).sum()
        sparse = [lev for lev in counts.index if events.get(lev, 0) < min_events and lev != ref]
        if len(sparse) == 1 and events.get(sparse[0], 0) > 0:
            sparse = []  # a single small level keeps its name: pooling would change nothing
        if sparse:
            pooled[c] = sorted(map(str, sparse))
            into = OTHER if sum(events.get(lev, 0) for lev in sparse) > 0 else ref
            values = values.where(~values.isin(sparse), into)
        levels = values.value_counts()
        if len(levels) < 2:
            dropped.append(c)
            continue
        order = [lev for lev in (frame[c].cat.categories if isinstance(frame[c].dtype, pd.CategoricalDtype)
                                 else sorted(levels.index, key=str)) if lev in levels.index]
        if c == "enrolment_year":
            order = sorted(levels.index[levels.index != OTHER], key=str)
        order += [OTHER] if OTHER in levels.index and OTHER not in order else []
        frame[c] = pd.Categorical(values, categories=order)
        kept.append(c)
        reference[c] = ref
    if not kept:
        raise ValueError("no covariate has two levels among the contracts")
    clustered = "participant_id" in frame and frame["participant_id"].duplicated().any()
    model = CoxModel(kept, reference={c: reference[c] for c in kept})
    model.fit(frame, event_of_interest=1, cluster_col="participant_id" if clustered else None)
    model.dropped_ = dropped
    model.pooled_ = pooled
    return model


def conversion_test(episodes: pd.DataFrame, by: str):
    """Do conversion rates differ between the levels of ``by``? (log-rank on the conversion hazard)

    The k-sample log-rank test compares the cause-specific hazards of conversion (ended contracts
    censored at their end), the quantity the Cox model's hazard ratios describe. Gray's test, which
    compares cumulative incidences, can differ when groups also differ in how often contracts end.

    Returns
    -------
    ixl_eval.survival.LogRankResult

    Examples
    --------
    >>> from ixl_eval.cohorts import _toy_episodes_dataset, fixed_term_episodes
    >>> ep = fixed_term_episodes(_toy_episodes_dataset(), which="all", cutoff="2024-04-30")
    >>> conversion_test(ep, "employer_size").df
    2
    """
    from .survival import logrank

    sub = episodes.loc[episodes[by].notna()]
    if len(sub) != len(episodes):
        raise ValueError(f"{by!r} has missing values: they would be left out silently")
    return logrank(sub["time"].to_numpy(), sub["event"].to_numpy(), sub[by].astype(str).to_numpy(),
                   event_of_interest=1)


def conversion_rates(episodes: pd.DataFrame, by: str | None = None, *, conf_level: float = 0.95) -> pd.DataFrame:
    """Conversions per year of running fixed-term contract, with exact Poisson intervals.

    The rate is conversions divided by the contract-years at risk (time from start to
    conversion, end or cut-off); under a constant conversion hazard it estimates that hazard
    per year, and the intervals are Garwood's exact Poisson limits (chi-square quantiles).

    Returns
    -------
    pandas.DataFrame
        ``subgroup``, ``group``, ``n``, ``conversions``, ``years_at_risk``, ``rate``, ``lower``,
        ``upper`` (per year).

    Examples
    --------
    >>> ep = pd.DataFrame({"time": [365.25, 365.25, 730.5], "event": [1, 2, 1]})
    >>> r = conversion_rates(ep)
    >>> r[["n", "conversions", "years_at_risk", "rate"]].to_dict("records")
    [{'n': 3, 'conversions': 2, 'years_at_risk': 4.0, 'rate': 0.5}]
    >>> round(float(r["lower"].iloc[0]), 4), round(float(r["upper"].iloc[0]), 4)
    (0.0606, 1.8062)
    """
    from .distributions import chi2_ppf

    alpha = 1 - conf_level
    if by is None:
        groups = [("all", episodes)]
    else:
        if episodes[by].isna().any():
            raise ValueError(f"{by!r} has missing values: they would be left out silently")
        groups = list(episodes.groupby(by, observed=True, sort=True))
    rows = []
    for lev, sub in groups:
        d = int((sub["event"] == 1).sum())
        py = float(sub["time"].sum()) / 365.25
        lo = chi2_ppf(alpha / 2, 2 * d) / 2 / py if d > 0 else 0.0
        hi = chi2_ppf(1 - alpha / 2, 2 * d + 2) / 2 / py
        rows.append({"subgroup": by or "all", "group": lev, "n": len(sub), "conversions": d,
                     "years_at_risk": py, "rate": d / py, "lower": float(lo), "upper": float(hi)})
    out = pd.DataFrame(rows)
    out.attrs.update(kind="rates")
    return out


def people_view(frame: pd.DataFrame, horizon_days: int = 730, by: str = "cohort") -> pd.DataFrame:
    """Share of placed people holding a permanent contract within ``horizon_days`` of their first
    placement (1 − Kaplan–Meier on :func:`first_permanent`), overall then by ``by``.

    The Kaplan–Meier estimate uses everyone, including people placed less than ``horizon_days``
    before the cut-off (censored there); for a group whose follow-up never reaches the horizon the
    share is NaN (not yet observable), never extrapolated.

    Returns
    -------
    pandas.DataFrame
        ``subgroup``, ``group``, ``n`` (people placed), ``permanent_first`` (first placement
        already permanent), ``reached`` (permanent by the cut-off), ``followed`` (placed at least
        ``horizon_days`` before the cut-off), ``share``, ``lower``, ``upper``.

    Examples
    --------
    >>> from ixl_eval.cohorts import _toy_episodes_dataset
    >>> f = first_permanent(_toy_episodes_dataset(), cutoff="2024-04-30")
    >>> people_view(f, 100)[["group", "n", "permanent_first", "reached", "share"]].round(3)
      group  n  permanent_first  reached  share
    0   all  4                0        2  0.333
    1  2023  2                0        2  0.500
    2  2024  2                0        0  0.000
    """
    from .survival import km_by_group

    cut = pd.Timestamp(frame.attrs["cutoff"])
    rows = []
    for sub_name, col in (("all", None), (by, by)):
        fits = km_by_group(frame, col)
        groups = {"all": frame} if col is None else dict(list(frame.groupby(col, sort=True)))
        for lev, km in fits.items():
            sub = groups[lev]
            at = km.cumulative_at([horizon_days])
            rows.append({
                "subgroup": sub_name, "group": lev, "n": len(sub),
                "permanent_first": int((sub["first_type"] == "permanent").sum()),
                "reached": int(sub["event"].sum()),
                "followed": int((sub["t0"] + pd.Timedelta(days=horizon_days) <= cut).sum()),
                "share": float(at["cumulative"].iloc[0]), "lower": float(at["lower"].iloc[0]),
                "upper": float(at["upper"].iloc[0]),
            })
    out = pd.DataFrame(rows)
    out.attrs.update(kind="people", horizon=int(horizon_days))
    return out


def employer_view(episodes: pd.DataFrame, *, min_contracts: int = 10, consenting_employers=(),
                  horizon_days: int = 365, top: int | None = None) -> pd.DataFrame:
    """Conversion by employer, for employers with at least ``min_contracts`` fixed-term contracts.

    Each employer with a row of its own gets its contracts, conversions (by the cut-off) and the
    cumulative incidence of conversion within ``horizon_days`` (Aalen–Johansen). Its key is
    neutral: ``kind == "named"`` with ``name`` when its ``employer_name`` is in
    ``consenting_employers``; otherwise ``kind == "anonymous"`` with ``rank`` 0, 1, ... (by
    number of contracts, most first), which the report shows as "Azienda A", "Azienda B", ...
    Employers below ``min_contracts`` contracts, and those beyond the ``top`` largest (unless they
    consented to be named), are pooled in one last row (``kind == "other"``), so the view accounts
    for every contract. No identifier, size or sector is returned beside an anonymous row:
    together they could name it.

    Returns
    -------
    pandas.DataFrame
        ``kind``, ``name`` (consented name or None), ``rank`` (−1 unless anonymous),
        ``employers`` (1, or how many are pooled), ``contracts``, ``conversions``, ``cif``,
        ``cif_lower``, ``cif_upper``. ``attrs``: ``horizon``, ``min_contracts``,
        ``consent_not_found`` (consenting names not in the data), ``consented_not_shown``
        (consenting employers below ``min_contracts``).

    Examples
    --------
    >>> from ixl_eval.cohorts import _toy_episodes_dataset, fixed_term_episodes
    >>> ep = fixed_term_episodes(_toy_episodes_dataset(), which="all", cutoff="2024-04-30")
    >>> ep["employer_name"] = ep["employer_id"].map({"E1": "Trasporti Srl"})
    >>> t = employer_view(ep, min_contracts=2, consenting_employers=["trasporti srl"], horizon_days=90)
    >>> t[["kind", "name", "rank", "employers", "contracts", "conversions", "cif"]].round(3)
        kind           name  rank  employers  contracts  conversions    cif
    0  named  Trasporti Srl    -1          1          3            1  0.667
    1  other           None    -1          2          2            0  0.000
    """
    emp = _employer_table(episodes, min_contracts, consenting_employers)
    if top is not None:
        # the largest ``top`` employers (emp is sorted by contracts), plus any consenting one above the minimum
        emp.loc[(emp.index >= top) & ~emp["consented"], "shown"] = False
    shown = emp.loc[emp["shown"]]
    rows = []
    # Each employer's rows from one hash pass over the identifiers: a comparison of every row
    # per shown employer, or numpy's isin on strings, grew with people x employers (27 s at 1M).
    codes, uniques = pd.factorize(episodes["employer_id"].to_numpy())
    uniques = pd.Index(uniques)
    by_code = pd.Series(np.arange(len(codes))).groupby(codes, sort=False).indices
    none = np.empty(0, dtype=np.intp)

    def rows_of(eids) -> np.ndarray:
        pos = uniques.get_indexer(eids)
        parts = [by_code.get(c, none) for c in pos if c >= 0]
        return np.sort(np.concatenate(parts)) if parts else none  # original row order

    for eid, name, rank, consented in shown[["employer_id", "shown_name", "rank", "consented"]].itertuples(index=False):
        rows.append(("named" if consented else "anonymous", name if consented else None, int(rank), 1,
                     episodes.iloc[rows_of([eid])]))
    rest = emp.loc[~emp["shown"], "employer_id"]
    if len(rest):
        rows.append(("other", None, -1, len(rest), episodes.iloc[rows_of(rest.to_numpy())]))
    out = []
    for kind, name, rank, n_emp, sub in rows:
        ci = ConversionIncidence().fit(sub).table([horizon_days]).iloc[0]
        out.append({"kind": kind, "name": name, "rank": rank, "employers": n_emp, "contracts": int(ci["n"]),
                    "conversions": int(ci["conversions"]), "cif": ci[f"cif_{horizon_days}"],
                    "cif_lower": ci[f"cif_{horizon_days}_lower"], "cif_upper": ci[f"cif_{horizon_days}_upper"]})
    out = pd.DataFrame(out, columns=["kind", "name", "rank", "employers", "contracts", "conversions", "cif",
                                     "cif_lower", "cif_upper"])
    out["name"] = out["name"].astype(object).where(out["name"].notna(), None)
    out.attrs.update(kind="employers", horizon=int(horizon_days), min_contracts=int(min_contracts),
                     consent_not_found=emp.attrs["consent_not_found"],
                     consented_not_shown=emp.loc[emp["consented"] & ~emp["shown"], "name"].tolist())
    return out


def incidence_curves(episodes: pd.DataFrame, by: str | None = None, *, conf_level: float = 0.95) -> dict:
    """The cumulative incidence curves of conversion (Aalen–Johansen), overall then by ``by``.

    Returns
    -------
    dict
        ``{(subgroup, group): DataFrame}`` with ``time`` (days), ``cif``, ``lower``, ``upper`` and
        ``n_risk`` (contracts still running just before ``time``); ``("all", "all")`` first, then
        the levels of ``by`` in category order. A group without any event has no curve (absent).

    Examples
    --------
    >>> from ixl_eval.cohorts import _toy_episodes_dataset, fixed_term_episodes
    >>> ep = fixed_term_episodes(_toy_episodes_dataset(), which="all", cutoff="2024-04-30")
    >>> c = incidence_curves(ep, "employer_size")
    >>> list(c), list(c[("all", "all")].columns)
    ([('all', 'all'), ('employer_size', 'micro'), ('employer_size', 'large')], ['time', 'cif', 'lower', 'upper', 'n_risk'])
    """
    out = {}
    for b in [None, by] if by else [None]:
        fits = ConversionIncidence(b, conf_level=conf_level).fit(episodes).fits_
        for lev, fit in fits.items():
            t = fit.table_
            out[("all" if b is None else b, lev)] = pd.DataFrame({
                "time": t["time"].to_numpy(dtype=float), "cif": t["cif_1"].to_numpy(dtype=float),
                "lower": t["lower_1"].to_numpy(dtype=float), "upper": t["upper_1"].to_numpy(dtype=float),
                "n_risk": t["n_risk"].to_numpy(dtype=float)})
    return out


def at_risk(episodes: pd.DataFrame, by: str | None, months) -> pd.DataFrame:
    """Contracts still running (time ≥ m months) at each month of ``months``, overall then by ``by``.

    Returns
    -------
    pandas.DataFrame
        ``subgroup``, ``group``, then one int column ``m<m>`` per month (``m0`` is every contract
        of the group).

    Examples
    --------
    >>> ep = pd.DataFrame({"time": [10.0, 200.0, 400.0], "event": [1, 2, 0], "g": ["a", "a", "b"]})
    >>> at_risk(ep, "g", [0, 6, 12])
      subgroup group  m0  m6  m12
    0      all   all   3   2    1
    1        g     a   2   1    0
    2        g     b   1   1    1
    """
    groups = [("all", "all", episodes)]
    if by is not None:
        col = episodes[by]
        levels = list(col.cat.categories) if isinstance(col.dtype, pd.CategoricalDtype) else sorted(col.unique())
        grouped = dict(list(episodes.groupby(by, observed=True, sort=False)))
        groups += [(by, lev, grouped[lev]) for lev in levels if lev in grouped]
    rows = []
    for sub, lev, frame in groups:
        t = frame["time"].to_numpy(dtype=float)
        rows.append({"subgroup": sub, "group": lev, **{f"m{m}": int((t >= m * _DAYS_PER_MONTH).sum()) for m in months}})
    return pd.DataFrame(rows)


@dataclass
class StabilisationAnalysis:
    """Everything the stabilisation notebook shows, computed once by :func:`analyse` (numbers only)."""

    which: str
    horizons_days: list
    episodes: pd.DataFrame  # per ``which``: the conversion analyses
    episodes_all: pd.DataFrame  # every fixed-term contract: the employer view
    incidence: pd.DataFrame
    rates: pd.DataFrame
    cox: object
    tests: dict
    people_frame: pd.DataFrame
    people: pd.DataFrame
    routes_year: pd.DataFrame
    routes_quarter: pd.DataFrame
    employers: pd.DataFrame
    curve_by: str | None = None
    curves: dict | None = None  # incidence_curves(episodes, curve_by)
    risk_months: list | None = None
    at_risk: pd.DataFrame | None = None  # at_risk(episodes, curve_by, risk_months)

    def __repr__(self) -> str:
        e = self.episodes
        return (f"<StabilisationAnalysis which={self.which} contracts={len(e)} conversions={int((e['event'] == 1).sum())} "
                f"ended={int((e['event'] == 2).sum())} censored={int((e['event'] == 0).sum())} "
                f"people placed={len(self.people_frame)}>")


def risk_months(horizons_days) -> list:
    """The months of the number-at-risk table under the incidence chart: every 6 months up to the
    longest horizon (every 3 when it is 12 months or less).

    >>> risk_months([183, 365, 730]), risk_months([183, 365])
    ([0, 6, 12, 18, 24], [0, 3, 6, 9, 12])
    """
    months = int(round(max(horizons_days) / _DAYS_PER_MONTH))
    return [int(m) for m in np.arange(0, months + 1, 6 if months > 12 else 3)]


def analyse(ds, *, cutoff=None, episodes: str = "first", horizons_months=(6, 12, 24),
            subgroups=("employer_size", "sector", "channel", "enrolment_year", "gender", "citizenship_group"),
            cox_covariates=("employer_size", "sector", "channel", "gender", "citizenship_group", "enrolment_year"),
            people_horizon_months: int = 24, employer_horizon_months: int = 12, employer_top: int = 15,
            consenting_employers=(), employer_min_contracts: int = 10,
            curve_by: str | None = "employer_size") -> StabilisationAnalysis:
    """Run the whole stabilisation analysis (the notebook's one computation call).

    Parameters mirror the notebook's (``ixl_eval.params.StabilizzazioneParams``);
    ``employer_min_contracts`` is the fewest contracts an employer needs for a row of its own in
    the employer view (the notebook passes its disclosure threshold); ``curve_by`` the subgroup of
    the incidence curves.

    Examples
    --------
    >>> from ixl_eval.cohorts import _toy_episodes_dataset
    >>> a = analyse(_toy_episodes_dataset(), cutoff="2024-04-30", episodes="all", subgroups=["employer_size"],
    ...             cox_covariates=["employer_size"], employer_min_contracts=1)
    >>> a
    <StabilisationAnalysis which=all contracts=5 conversions=1 ended=2 censored=2 people placed=4>
    """
    from .cohorts import fixed_term_episodes

    horizons = [months_to_days(m) for m in horizons_months]
    ep = fixed_term_episodes(ds, which=episodes, cutoff=cutoff)
    ep_all = ep if episodes == "all" else fixed_term_episodes(ds, which="all", cutoff=cutoff)
    testable = [b for b in subgroups if ep[b].nunique() >= 2]
    tests = {b: conversion_test(ep, b) for b in testable} if (ep["event"] == 1).any() else {}
    cox = None
    if int((ep["event"] == 1).sum()) >= 1:
        try:
            cox = conversion_cox(ep, cox_covariates)
        except ValueError:  # e.g. every covariate has a single level: the report says no model was fitted
            cox = None
    pf = first_permanent(ds, cutoff=cutoff)
    curve_by = curve_by if curve_by is not None and curve_by in ep else None
    months = risk_months(horizons)
    return StabilisationAnalysis(
        which=episodes,
        horizons_days=horizons,
        episodes=ep,
        episodes_all=ep_all,
        incidence=conversion_incidence(ep, horizons, by=list(subgroups)),
        rates=conversion_rates(ep, "employer_size"),
        cox=cox,
        tests=tests,
        people_frame=pf,
        people=people_view(pf, months_to_days(people_horizon_months), by="cohort"),
        routes_year=permanent_routes(ds, cutoff=cutoff, freq="year"),
        routes_quarter=permanent_routes(ds, cutoff=cutoff, freq="quarter"),
        employers=employer_view(ep_all, min_contracts=employer_min_contracts, consenting_employers=consenting_employers,
                                horizon_days=months_to_days(employer_horizon_months), top=employer_top),
        curve_by=curve_by,
        curves=incidence_curves(ep, curve_by),
        risk_months=months,
        at_risk=at_risk(ep, curve_by, months),
    )
