"""Contract stabilisation: how many fixed-term placements become permanent, how fast, and where.

The analyses of issue 6, on top of the episode frame :func:`ixl_eval.cohorts.fixed_term_episodes`
(one row per fixed-term contract; event 1 conversion, 2 ended without conversion, 0 censored) and
the estimators of :mod:`ixl_eval.survival`:

- **people view** (:func:`first_permanent`, :func:`people_view`): of the people placed, how many
  hold a permanent contract within a horizon (24 months) of their *first* placement, by the year
  of that first placement;
- **year view** (:func:`permanent_routes`): permanent contracts per year or quarter, split into
  permanent at hire and fixed-term converted;
- **conversion** (:func:`conversion_incidence`, :func:`conversion_cox`, :func:`conversion_test`):
  cumulative incidence of conversion (exact Aalen–Johansen, the contract ending without
  conversion a competing event), cause-specific Cox hazard ratios, group comparison;
- **employer view** (:func:`employer_view`): conversion by employer, only for employers with at
  least ``k`` contracts, named only when they consented, otherwise "Azienda A", "Azienda B", ...

:func:`analyse` runs them all (the notebook's one computation call) into a
:class:`StabilisationAnalysis`. Estimators return numbers in tidy frames; :func:`display` turns
them into reader-facing tables (column names in the report language, shares formatted and blanked
wherever a count they derive from is suppressed); the ``describe_*`` / ``*_paragraph`` functions
build the plain-language sentences, the ``plot_*`` functions the figures and
:func:`record_analysis` the result records, all with the tables' suppression mask. Rules and
caveats are in ``docs/caveats/stabilizzazione.md``.

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

from . import disclosure, present
from .cohorts import EPISODE_SUBGROUPS, level_label
from .multiplicity import holm, tests_sentence

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
    "employer_view",
    # presentation: tables, sentences, figures, records
    "display",
    "DisplayTable",
    "summary_sentences",
    "record_analysis",
    "group_label",
    "months_to_days",
]

_DAYS_PER_MONTH = 365.25 / 12

# Reader-facing names of levels not known to ``cohorts.level_label`` (it, en).
_LEVELS = {
    "employer_size": {
        "micro": ("Micro (meno di 10 addetti)", "Micro (under 10 staff)"),
        "small": ("Piccola", "Small"),
        "medium": ("Media", "Medium"),
        "large": ("Grande (oltre 250 addetti)", "Large (over 250 staff)"),
    },
    "channel": {
        "ixl_companies": ("Aziende IXL", "IXL companies"),
        "ips": ("IPS", "IPS"),
        "ixl_training": ("Formazione IXL", "IXL training"),
        "apl": ("Agenzia per il lavoro", "Employment agency"),
        "orientation": ("Orientamento", "Orientation"),
        "self_employment": ("Autoimpiego", "Self-employment"),
    },
}


def months_to_days(months) -> int:
    """A horizon in months as whole days (average month of 365.25/12 days).

    Examples
    --------
    >>> [months_to_days(m) for m in (6, 12, 24)]
    [183, 365, 730]
    """
    return int(round(float(months) * _DAYS_PER_MONTH))


def group_label(column: str, value, lang: str = "it") -> str:
    """Reader-facing name of a level of an episode subgroup.

    Examples
    --------
    >>> group_label("employer_size", "micro"), group_label("gender", "F", "en"), group_label("sector", "Logistica")
    ('Micro (meno di 10 addetti)', 'Women', 'Logistica')
    """
    if str(value) == "other":
        return present.tr(lang, "Altri (pochi casi)", "Others (few cases)")
    pair = _LEVELS.get(column, {}).get(str(value))
    if pair is not None:
        return pair[0] if lang == "it" else pair[1]
    return level_label(column, value, lang)


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


def _letters(i: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: spreadsheet-style labels, never running out."""
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _norm(name) -> str:
    return " ".join(str(name).split()).casefold()


def _employer_table(episodes: pd.DataFrame, k: int, consenting=(), lang: str = "it") -> pd.DataFrame:
    """Which employers may be shown and under which label (one row per employer; internal).

    Employers with at least ``k`` contracts are shown, ordered by contracts (most first; ties by
    conversions, then by the pseudonymous id so the order is reproducible). A shown employer is
    named when its ``employer_name`` (the most frequent one in its rows) matches an entry of
    ``consenting`` (case and spacing ignored); the others get "Azienda A", "Azienda B", ... in
    that order. The ``employer_id`` stays internal: it is never a label.
    """
    g = episodes.groupby("employer_id", observed=True)
    emp = pd.DataFrame({"contracts": g.size(), "conversions": g["converted"].sum().astype("int64")})
    names = episodes.dropna(subset=["employer_name"]).groupby("employer_id")["employer_name"].agg(
        lambda s: s.value_counts().index[0])
    emp["name"] = names.reindex(emp.index)
    emp = emp.reset_index().sort_values(["contracts", "conversions", "employer_id"],
                                        ascending=[False, False, True]).reset_index(drop=True)
    emp["shown"] = emp["contracts"] >= k
    wanted = {_norm(c): c for c in consenting if str(c).strip()}
    emp["consented"] = emp["name"].map(lambda n: isinstance(n, str) and _norm(n) in wanted)
    prefix = "Azienda" if lang == "it" else "Employer"
    labels, anon = [], 0
    for shown, consented, name in emp[["shown", "consented", "name"]].itertuples(index=False):
        if not shown:
            labels.append(None)
        elif consented:
            labels.append(" ".join(str(name).split()))
        else:
            labels.append(f"{prefix} {_letters(anon)}")
            anon += 1
    emp["label"] = labels
    # Two consenting employer ids with one name (e.g. two branches) stay apart, numbered.
    dup = emp["label"].notna() & emp["consented"] & emp.duplicated("label", keep=False)
    emp.loc[dup, "label"] = emp.loc[dup, "label"] + " (" + (emp.loc[dup].groupby("label").cumcount() + 1).astype(str) + ")"
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


def employer_view(episodes: pd.DataFrame, *, k: int, consenting_employers=(), horizon_days: int = 365,
                  top: int | None = None, lang: str = "it") -> pd.DataFrame:
    """Conversion by employer, for employers with at least ``k`` fixed-term contracts.

    Each shown employer gets its contracts, conversions (by the cut-off) and the cumulative
    incidence of conversion within ``horizon_days`` (Aalen–Johansen). It is named only if its
    ``employer_name`` is in ``consenting_employers``; otherwise it is "Azienda A", "Azienda B",
    ... (letters by number of contracts, most first). Employers below ``k`` contracts, and those
    beyond the ``top`` largest (unless they consented to be named), are pooled in one last row,
    so the table accounts for every contract. No identifier, size or sector is
    shown beside an anonymised label: together they could name it.

    Returns
    -------
    pandas.DataFrame
        ``label``, ``named`` (bool), ``employers`` (1, or how many are pooled), ``contracts``,
        ``conversions``, ``cif``, ``cif_lower``, ``cif_upper``. ``attrs``: ``horizon``,
        ``consent_not_found`` (consenting names not in the data), ``consented_not_shown``
        (consenting employers below the threshold).

    Examples
    --------
    >>> from ixl_eval.cohorts import _toy_episodes_dataset, fixed_term_episodes
    >>> ep = fixed_term_episodes(_toy_episodes_dataset(), which="all", cutoff="2024-04-30")
    >>> ep["employer_name"] = ep["employer_id"].map({"E1": "Trasporti Srl"})
    >>> t = employer_view(ep, k=2, consenting_employers=["trasporti srl"], horizon_days=90)
    >>> t[["label", "named", "employers", "contracts", "conversions", "cif"]].round(3)
               label  named  employers  contracts  conversions    cif
    0  Trasporti Srl   True          1          3            1  0.667
    1  Altre aziende  False          2          2            0  0.000
    """
    emp = _employer_table(episodes, k, consenting_employers, lang)
    if top is not None:
        # the largest ``top`` employers (emp is sorted by contracts), plus any consenting one above k
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

    for eid, label, consented in shown[["employer_id", "label", "consented"]].itertuples(index=False):
        rows.append((label, bool(consented), 1, episodes.iloc[rows_of([eid])]))
    rest = emp.loc[~emp["shown"], "employer_id"]
    if len(rest):
        rows.append(("Altre aziende" if lang == "it" else "Other employers", False, len(rest),
                     episodes.iloc[rows_of(rest.to_numpy())]))
    out = []
    for label, named, n_emp, sub in rows:
        ci = ConversionIncidence().fit(sub).table([horizon_days]).iloc[0]
        out.append({"label": label, "named": named, "employers": n_emp, "contracts": int(ci["n"]),
                    "conversions": int(ci["conversions"]), "cif": ci[f"cif_{horizon_days}"],
                    "cif_lower": ci[f"cif_{horizon_days}_lower"], "cif_upper": ci[f"cif_{horizon_days}_upper"]})
    out = pd.DataFrame(out, columns=["label", "named", "employers", "contracts", "conversions", "cif",
                                     "cif_lower", "cif_upper"])
    out.attrs.update(kind="employers", horizon=int(horizon_days),
                     consent_not_found=emp.attrs["consent_not_found"],
                     consented_not_shown=emp.loc[emp["consented"] & ~emp["shown"], "name"].tolist())
    return out


# ------------------------------------------------------------------------------ presentation


@dataclass(frozen=True)
class DisplayTable:
    """A reader-facing table with the suppression settings it needs, for
    ``Report.table(t.df, name, count_cols=t.count_cols, by=t.by, lines=t.lines)``.

    ``by`` names the column whose blocks (stacked subgroups) add up to a total of their own;
    ``lines`` is ``"columns"`` when a row's counts are nested (contracts, of which converted) and
    add up to nothing published, ``"both"`` when they sum to a total shown beside them.
    """

    df: pd.DataFrame
    count_cols: list
    by: str | None = None
    lines: str = "both"


def _subgroup_name(sub: str, lang: str) -> str:
    if sub == "all":
        return present.tr(lang, "Tutti", "All")
    if sub == "cohort":
        return present.tr(lang, "Anno del primo inserimento", "Year of first placement")
    spec = EPISODE_SUBGROUPS.get(sub)
    return sub if spec is None else spec[lang if lang in spec else "it"]


def _group_name(sub: str, group, lang: str) -> str:
    if sub == "all":
        return present.tr(lang, "Tutti", "All")
    return group_label(sub, group, lang)


def _share_ci(v, lo, hi, lang: str) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "–"
    if lo is None or np.isnan(lo) or np.isnan(hi):
        return present.fmt_pct(v, lang)
    return f"{present.fmt_pct(v, lang)} ({present.fmt_num(100 * lo, lang)}–{present.fmt_pct(hi, lang)})"


def _num_ci(v, lo, hi, lang: str, decimals: int = 2) -> str:
    if v is None or np.isnan(v):
        return "–"
    return f"{present.fmt_num(v, lang, decimals)} ({present.fmt_num(lo, lang, decimals)}–{present.fmt_num(hi, lang, decimals)})"


def _p(p, lang: str) -> str:
    if p is None or np.isnan(p):
        return "–"
    return "<" + present.fmt_num(0.001, lang, 3) if p < 0.001 else present.fmt_num(p, lang, 3)


def _months(days: int, lang: str) -> str:
    m = int(round(days / _DAYS_PER_MONTH))
    return present.tr(lang, f"{m} mesi" if m != 1 else "1 mese", f"{m} months" if m != 1 else "1 month")


def _blank(out: pd.DataFrame, src: pd.DataFrame, count_cols: list, dependents: dict, k: int, by, lines) -> pd.DataFrame:
    """Blank each dependent column wherever one of its source counts is suppressed.

    The mask is the one :func:`ixl_eval.disclosure.suppress_table` computes (primary and
    secondary, same ``by`` and ``lines``), so the shares go exactly where the counts go in the
    published table.
    """
    if not count_cols or src.empty:
        return out
    src = src[count_cols].reset_index(drop=True)
    if by is not None:
        src[by] = out[by].to_numpy()
    shown = disclosure.suppress_table(src, count_cols, k, by=by, lines=lines)
    prim = {c: shown[c].to_numpy() == f"<{k}" for c in count_cols}
    sec = {c: shown[c].to_numpy() == disclosure.SECONDARY_MARK for c in count_cols}
    for dep, sources in dependents.items():
        col = out[dep].astype(object).to_numpy().copy()
        p = np.any([prim[s] for s in sources], axis=0)
        s = np.any([sec[s] for s in sources], axis=0) & ~p
        col[p] = f"<{k}"
        col[s] = disclosure.SECONDARY_MARK
        out[dep] = col
    return out


def display(table, lang: str = "it", k: int = 10) -> DisplayTable:
    """Turn a result frame of this module (or a fitted Cox model) into a reader-facing table.

    Column names in the report language, levels named for readers, shares as ``23% (19–27%)``,
    "–" where an estimate is not yet observable. Every share or ratio is blanked wherever a count
    it derives from is suppressed (below ``k``, or secondary suppression), using the same rule as
    :func:`ixl_eval.disclosure.suppress_table`; the counts themselves are left as numbers for
    ``Report.table`` to suppress. Identifiers never reach the result.

    Examples
    --------
    >>> t = pd.DataFrame({"period": ["2023", "2024"], "at_hire": [56, 4], "by_conversion": [73, 30],
    ...                   "total": [129, 34], "share_by_conversion": [0.566, 0.882], "complete": [True, False]})
    >>> t.attrs["kind"] = "routes"
    >>> d = display(t, "it", 10)
    >>> d.count_cols
    ['Assunti a tempo indeterminato', 'Trasformati da tempo determinato', 'Totale']
    >>> d.df["Quota da trasformazione"].tolist()  # 4 hires is <10; 56 is withheld so 4 cannot be derived
    ['c', '<10']
    """
    if hasattr(table, "hr_table_"):  # a fitted CoxModel
        table = table.hr_table_.copy()
        table.attrs["kind"] = "cox"
    kind = table.attrs.get("kind")
    L = lambda it, en: present.tr(lang, it, en)  # noqa: E731 - a short alias keeps the specs readable
    t = table.reset_index(drop=True)
    out = pd.DataFrame(index=t.index)
    if kind == "routes":
        freq = table.attrs.get("freq", "year")
        per = L("Anno", "Year") if freq == "year" else L("Trimestre", "Quarter")
        out[per] = [p if c else p + L(" (in corso)", " (running)") for p, c in zip(t["period"], t["complete"])]
        counts = {"at_hire": L("Assunti a tempo indeterminato", "Hired permanent"),
                  "by_conversion": L("Trasformati da tempo determinato", "Converted from fixed-term"),
                  "total": L("Totale", "Total")}
        deps = {"share_by_conversion": (L("Quota da trasformazione", "Share by conversion"),
                                        [present.fmt_pct(v, lang) for v in t["share_by_conversion"]],
                                        ["at_hire", "by_conversion"])}
    elif kind == "incidence":
        out[L("Caratteristica", "Characteristic")] = [_subgroup_name(s, lang) for s in t["subgroup"]]
        out[L("Gruppo", "Group")] = [_group_name(s, g, lang) for s, g in zip(t["subgroup"], t["group"])]
        counts = {"n": L("Contratti", "Contracts"), "conversions": L("Trasformati", "Converted"),
                  "ended": L("Conclusi senza trasformazione", "Ended without conversion")}
        deps = {f"cif_{h}": (L(f"Trasformati entro {_months(h, lang)}", f"Converted within {_months(h, lang)}"),
                             [_share_ci(*v, lang) for v in t[[f"cif_{h}", f"cif_{h}_lower", f"cif_{h}_upper"]].to_numpy()],
                             ["n", "conversions"])
                for h in _horizons(table)}
    elif kind == "people":
        h = table.attrs["horizon"]
        out[L("Caratteristica", "Characteristic")] = [_subgroup_name(s, lang) for s in t["subgroup"]]
        out[L("Gruppo", "Group")] = [_group_name(s, g, lang) for s, g in zip(t["subgroup"], t["group"])]
        counts = {"n": L("Persone inserite", "People placed"),
                  "permanent_first": L("Primo contratto già a tempo indeterminato", "First contract already permanent"),
                  "reached": L("A tempo indeterminato alla data di analisi", "Permanent by the cut-off")}
        deps = {"share": (L(f"A tempo indeterminato entro {_months(h, lang)}", f"Permanent within {_months(h, lang)}"),
                          [_share_ci(*v, lang) for v in t[["share", "lower", "upper"]].to_numpy()],
                          ["n", "reached"])}
    elif kind == "employers":
        h = table.attrs["horizon"]
        out[L("Azienda", "Employer")] = [lab if e == 1 else f"{lab} ({e})" for lab, e in zip(t["label"], t["employers"])]
        counts = {"contracts": L("Contratti a tempo determinato", "Fixed-term contracts"),
                  "conversions": L("Trasformati", "Converted")}
        deps = {"cif": (L(f"Trasformati entro {_months(h, lang)}", f"Converted within {_months(h, lang)}"),
                        [_share_ci(*v, lang) for v in t[["cif", "cif_lower", "cif_upper"]].to_numpy()],
                        ["contracts", "conversions"])}
    elif kind == "cox":
        out[L("Caratteristica", "Characteristic")] = [_subgroup_name(s, lang) for s in t["covariate"]]
        out[L("Gruppo", "Group")] = [group_label(c, g, lang) for c, g in zip(t["covariate"], t["level"])]
        out[L("Confronto con", "Compared with")] = [group_label(c, g, lang) for c, g in zip(t["covariate"], t["reference"])]
        counts = {"n": L("Contratti", "Contracts"), "events": L("Trasformati", "Converted")}
        deps = {"hr": (L("Rapporto di rischio (HR)", "Hazard ratio (HR)"),
                       [_num_ci(*v, lang) for v in t[["hr", "lower", "upper"]].to_numpy()], ["n", "events"]),
                "p": (L("Valore p", "p-value"), [_p(p, lang) for p in t["p"]], ["n", "events"])}
    elif kind == "rates":
        out[L("Caratteristica", "Characteristic")] = [_subgroup_name(s, lang) for s in t["subgroup"]]
        out[L("Gruppo", "Group")] = [_group_name(s, g, lang) for s, g in zip(t["subgroup"], t["group"])]
        counts = {"n": L("Contratti", "Contracts"), "conversions": L("Trasformati", "Converted")}
        deps = {"rate": (L("Trasformazioni ogni 100 contratti in un anno", "Conversions per 100 contract-years"),
                         [_num_ci(100 * r, 100 * lo, 100 * hi, lang, 0)
                          for r, lo, hi in t[["rate", "lower", "upper"]].to_numpy()], ["n", "conversions"])}
    else:
        raise ValueError(f"display: unknown table kind {kind!r}")
    for src, name in counts.items():
        out[name] = t[src].astype("int64").to_numpy()
    for src, (name, values, _) in deps.items():
        out[name] = values
    # stacked subgroups are blocks with their own totals; nested counts (of which ...) are column-only
    by = L("Caratteristica", "Characteristic") if kind in ("incidence", "people", "cox", "rates") else None
    lines = "both" if kind == "routes" else "columns"
    src_counts = t[list(counts)].rename(columns=counts)
    out = _blank(out, src_counts, list(counts.values()),
                 {name: [counts[s] for s in sources] for _, (name, _, sources) in deps.items()}, k, by, lines)
    return DisplayTable(out, list(counts.values()), by, lines)


# ----------------------------------------------------------------------------- sentences (it/en)


def _ok(n, k: int) -> bool:
    return n is not None and not disclosure.is_small(n, k)


# _masks() results by table content: the sentences, figures and records of one analysis ask for
# the masks of the same few tables dozens of times (35 calls, 7 tables, in the default notebook).
_MASKS_SEEN: dict = {}
_DISPLAY_ATTRS = ("kind", "freq", "horizon", "horizons")  # the attrs display() reads


def _masks(table, k: int):
    """What the published table withholds: ``(counts, rows)`` where ``counts`` maps each raw count
    column to a boolean array (suppressed, primary or secondary) and ``rows`` flags the rows whose
    estimates are blanked. Sentences, figures and result records use it, so none of them shows a
    number the table hides (e.g. a share that, with the totals, would give a suppressed cell)."""
    src = table.hr_table_ if hasattr(table, "hr_table_") else table
    try:
        key = (_kind(table), int(k), tuple(map(str, src.columns)),
               tuple(repr(src.attrs.get(a)) for a in _DISPLAY_ATTRS),
               pd.util.hash_pandas_object(src, index=True).to_numpy().tobytes())
    except TypeError:  # unhashable cells: compute every time
        key = None
    hit = _MASKS_SEEN.get(key) if key is not None else None
    if hit is not None and hit[0].equals(src):  # same content for sure, not just the same hash
        counts, rows = hit[1]
    else:
        counts, rows = _compute_masks(table, k)
        if key is not None:
            if len(_MASKS_SEEN) >= 64:
                _MASKS_SEEN.clear()
            _MASKS_SEEN[key] = (src.copy(), (counts, rows))
    return {c: m.copy() for c, m in counts.items()}, rows.copy()  # callers may edit their copy


def _compute_masks(table, k: int):
    d = display(table, "it", k)
    src = table.hr_table_ if hasattr(table, "hr_table_") else table
    shown = disclosure.suppress_table(d.df, d.count_cols, k, by=d.by, lines=d.lines)
    hidden = shown[d.count_cols].isin([f"<{k}", disclosure.SECONDARY_MARK])
    raw = _COUNT_SOURCES[_kind(table)]
    counts = {r: hidden[c].to_numpy() for r, c in zip(raw, d.count_cols)}
    deps = [c for c in d.df.columns if c not in d.count_cols and d.df[c].isin([f"<{k}", disclosure.SECONDARY_MARK]).any()]
    rows = d.df[deps].isin([f"<{k}", disclosure.SECONDARY_MARK]).any(axis=1).to_numpy() if deps else np.zeros(len(src), bool)
    return counts, rows


def _kind(table) -> str:
    return "cox" if hasattr(table, "hr_table_") else table.attrs.get("kind")


def _horizons(table) -> list:
    """The horizons (days) of an incidence table: from its attrs, else from its ``cif_<h>`` columns."""
    import re

    return table.attrs.get("horizons") or [int(c[4:]) for c in table.columns if re.fullmatch(r"cif_\d+", c)]


def _as(table: pd.DataFrame, kind: str) -> pd.DataFrame:
    """``table`` marked as ``kind`` (a copy when it was not), for frames built by hand."""
    if table.attrs.get("kind") == kind:
        return table
    t = table.copy()
    t.attrs["kind"] = kind
    return t


# The raw count columns of each table kind, in the order display() shows them.
_COUNT_SOURCES = {
    "routes": ["at_hire", "by_conversion", "total"],
    "incidence": ["n", "conversions", "ended"],
    "people": ["n", "permanent_first", "reached"],
    "employers": ["contracts", "conversions"],
    "cox": ["n", "events"],
    "rates": ["n", "conversions"],
}


def _per100_ci(v, lo, hi, lang: str) -> str:
    """"24 su 100 (tra 22 e 26 su 100)" / "24 in 100 (between 22 and 26 in 100)"."""
    a, b = present.fmt_num(100 * lo, lang), present.fmt_num(100 * hi, lang)
    return present.tr(lang, f"{present.per100(v, lang)} (tra {a} e {b} su 100)",
                      f"{present.per100(v, lang)} (between {a} and {b} in 100)")


def describe_incidence(table: pd.DataFrame, lang: str = "it", k: int = 10, *, which: str = "all") -> str:
    """The headline: how many fixed-term contracts become permanent, and how fast.

    ``which`` is the episode choice of :func:`ixl_eval.cohorts.fixed_term_episodes`: ``"all"``
    speaks of contracts, ``"first"`` of people on their first fixed-term contract.

    Examples
    --------
    >>> t = pd.DataFrame({"subgroup": ["all"], "group": ["all"], "n": [2216], "conversions": [519], "ended": [1546],
    ...                   "running": [151], "cif_365": [0.238], "cif_365_lower": [0.22], "cif_365_upper": [0.257],
    ...                   "cif_730": [0.247], "cif_730_lower": [0.228], "cif_730_upper": [0.265]})
    >>> t.attrs["horizons"] = [365, 730]
    >>> describe_incidence(t, "it", 10)
    'Su 100 contratti a tempo determinato, 24 (tra 22 e 26) diventano a tempo indeterminato entro 12 mesi dall’inizio e 25 entro 24 mesi; gli altri si concludono senza trasformazione o sono ancora in corso (2.216 contratti analizzati).'
    """
    table = _as(table, "incidence").reset_index(drop=True)
    _, hidden = _masks(table, k)
    i = int(np.flatnonzero(table["subgroup"].to_numpy() == "all")[0])
    row = table.iloc[i]
    hs = [h for h in _horizons(table) if not np.isnan(row[f"cif_{h}"])]
    if not hs or hidden[i]:
        return present.tr(lang, "Troppo pochi contratti trasformati per stimare quanti diventano a tempo indeterminato.",
                          "Too few conversions to estimate how many contracts become permanent.")
    main = 365 if 365 in hs else hs[0]
    last = hs[-1]
    v = lambda x: present.fmt_num(100 * x, lang)  # noqa: E731 - "24" of "24 su 100"
    lo, hi = v(row[f"cif_{main}_lower"]), v(row[f"cif_{main}_upper"])
    n = disclosure.format_count(row["n"], k, lang)
    m_main, m_last = _months(main, lang), _months(last, lang)
    if which == "first":
        it = (f"Su 100 persone al primo contratto a tempo determinato, {v(row[f'cif_{main}'])} (tra {lo} e {hi}) lo vedono "
              f"trasformato a tempo indeterminato entro {m_main} dall’inizio")
        en = (f"Of 100 people on their first fixed-term contract, {v(row[f'cif_{main}'])} (between {lo} and {hi}) have it "
              f"converted to permanent within {m_main} of the start")
        it_rest = f"; per gli altri il contratto si conclude senza trasformazione o è ancora in corso ({n} persone analizzate)."
        en_rest = f"; for the others it ends without conversion or is still running ({n} people analysed)."
    else:
        it = (f"Su 100 contratti a tempo determinato, {v(row[f'cif_{main}'])} (tra {lo} e {hi}) diventano a tempo "
              f"indeterminato entro {m_main} dall’inizio")
        en = (f"Of 100 fixed-term contracts, {v(row[f'cif_{main}'])} (between {lo} and {hi}) become permanent within "
              f"{m_main} of the start")
        it_rest = f"; gli altri si concludono senza trasformazione o sono ancora in corso ({n} contratti analizzati)."
        en_rest = f"; the others end without conversion or are still running ({n} contracts analysed)."
    if last != main:
        it += f" e {v(row[f'cif_{last}'])} entro {m_last}"
        en += f" and {v(row[f'cif_{last}'])} within {m_last}"
    return present.tr(lang, it + it_rest, en + en_rest)


def describe_groups(table: pd.DataFrame, by: str, horizon_days: int = 365, lang: str = "it", k: int = 10) -> str:
    """Which groups of ``by`` convert most and least within the horizon (groups with enough data only).

    Examples
    --------
    >>> t = pd.DataFrame({"subgroup": ["employer_size"] * 2, "group": ["micro", "large"], "n": [337, 1009],
    ...                   "conversions": [56, 278], "ended": [259, 663], "cif_365": [0.171, 0.28],
    ...                   "cif_365_lower": [0.132, 0.252], "cif_365_upper": [0.214, 0.308]})
    >>> describe_groups(t, "employer_size", 365, "en")
    "Within 12 months, by employer size: highest in 'Large (over 250 staff)' (28 in 100, between 25 and 31 in 100), lowest in 'Micro (under 10 staff)' (17 in 100, between 13 and 21 in 100)."
    """
    col = f"cif_{horizon_days}"
    table = _as(table, "incidence").reset_index(drop=True)
    _, hidden = _masks(table, k)
    sub = table.loc[(table["subgroup"] == by).to_numpy() & table[col].notna().to_numpy() & ~hidden]
    name = _subgroup_name(by, lang).lower()
    if len(sub) < 2:
        return present.tr(lang, f"Per {name} non ci sono abbastanza dati per un confronto.",
                          f"By {name}: not enough data for a comparison.")
    hi, lo = sub.loc[sub[col].idxmax()], sub.loc[sub[col].idxmin()]

    def part(r):
        v = present.per100(r[col], lang)
        a, b = present.fmt_num(100 * r[f"{col}_lower"], lang), present.fmt_num(100 * r[f"{col}_upper"], lang)
        return present.tr(lang, f"«{group_label(by, r['group'], lang)}» ({v}, tra {a} e {b} su 100)",
                          f"'{group_label(by, r['group'], lang)}' ({v}, between {a} and {b} in 100)")

    return present.tr(
        lang,
        f"Entro {_months(horizon_days, lang)}, per {name}: la quota più alta è in {part(hi)}, la più bassa in {part(lo)}.",
        f"Within {_months(horizon_days, lang)}, by {name}: highest in {part(hi)}, lowest in {part(lo)}.",
    )


def describe_test(result, by: str, lang: str = "it", alpha: float = 0.05) -> str:
    """The group comparison in words (log-rank test of the conversion hazard).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> describe_test(SimpleNamespace(statistic=18.2, df=3, p_value=0.0004), "employer_size")
    "Le differenze per dimensione dell'azienda nel ritmo delle trasformazioni sono troppo ampie per essere dovute al caso (test log-rank, p <0,001)."
    """
    name = _subgroup_name(by, lang).lower()
    p = _p(result.p_value, lang)
    p = p if p.startswith("<") else "= " + p
    if result.p_value < alpha:
        return present.tr(lang, f"Le differenze per {name} nel ritmo delle trasformazioni sono troppo ampie per essere "
                                f"dovute al caso (test log-rank, p {p}).",
                          f"The differences by {name} in the pace of conversions are too large to be chance "
                          f"(log-rank test, p {p}).")
    return present.tr(lang, f"Le differenze per {name} nel ritmo delle trasformazioni potrebbero essere dovute al caso "
                            f"(test log-rank, p {p}): i dati non permettono di dire che un gruppo converta più di un altro.",
                      f"The differences by {name} in the pace of conversions could be chance (log-rank test, p {p}): "
                      f"the data do not show that one group converts more than another.")


def describe_hazard_ratios(model, covariate: str, lang: str = "it", k: int = 10) -> str:
    """The Cox hazard ratios of one covariate in words ("a parità di altre caratteristiche ...").

    Levels with fewer than ``k`` contracts or conversions are not described.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> hr = pd.DataFrame({"covariate": ["employer_size"], "level": ["micro"], "reference": ["large"], "n": [337],
    ...                    "events": [56], "hr": [0.52], "lower": [0.38], "upper": [0.71], "p": [0.0001]})
    >>> describe_hazard_ratios(SimpleNamespace(hr_table_=hr, covariates=["employer_size", "sector"]), "employer_size", "en")
    "Other characteristics being equal (sector), fixed-term contracts convert at 0.52 times the pace of 'Large (over 250 staff)' in 'Micro (under 10 staff)' (between 0.38 and 0.71)."
    """
    _, hidden = _masks(model, k)
    hr = model.hr_table_.reset_index(drop=True)
    t = hr.loc[(hr["covariate"] == covariate).to_numpy() & ~hidden]
    others = [_subgroup_name(c, lang).lower() for c in model.covariates if c != covariate]
    if t.empty:
        return present.tr(lang, f"Per {_subgroup_name(covariate, lang).lower()} i dati sono troppo pochi per un confronto.",
                          f"By {_subgroup_name(covariate, lang).lower()}: too few data for a comparison.")
    ref = group_label(covariate, t["reference"].iloc[0], lang)
    parts = []
    for r in t.itertuples():
        hr, lo, hi = (present.fmt_num(x, lang, 2) for x in (r.hr, r.lower, r.upper))
        lab = group_label(covariate, r.level, lang)
        parts.append(present.tr(lang, f"{hr} volte in «{lab}» (tra {lo} e {hi})", f"{hr} times the pace of '{ref}' in "
                                f"'{lab}' (between {lo} and {hi})"))
    if lang == "it":
        cond = f"A parità di altre caratteristiche ({', '.join(others)})" if others else "Senza altre variabili nel modello"
        return f"{cond}, il ritmo delle trasformazioni rispetto a «{ref}» è " + "; ".join(parts) + "."
    cond = f"Other characteristics being equal ({', '.join(others)})" if others else "With no other variable in the model"
    return f"{cond}, fixed-term contracts convert at " + "; ".join(parts) + "."


def describe_people(table: pd.DataFrame, lang: str = "it", k: int = 10) -> str:
    """The people view in words: share permanent within the horizon of the first placement.

    Examples
    --------
    >>> t = pd.DataFrame({"subgroup": ["all", "cohort", "cohort"], "group": ["all", 2022, 2023], "n": [1730, 226, 175],
    ...                   "permanent_first": [121, 16, 12], "reached": [774, 85, 62], "followed": [1300, 226, 0],
    ...                   "share": [0.41, 0.40, np.nan], "lower": [0.39, 0.34, np.nan], "upper": [0.44, 0.48, np.nan]})
    >>> t.attrs["horizon"] = 730
    >>> describe_people(t, "it")
    'Delle persone inserite al lavoro dal programma, 41 su 100 (tra 39 e 44 su 100) hanno un contratto a tempo indeterminato entro 24 mesi dal primo inserimento (7 su 100 già al primo contratto); tra le persone inserite per la prima volta nel 2022 sono 40 su 100.'
    """
    h = table.attrs["horizon"]
    table = _as(table, "people").reset_index(drop=True)
    counts, hidden = _masks(table, k)
    i = int(np.flatnonzero(table["subgroup"].to_numpy() == "all")[0])
    allr = table.iloc[i]
    if np.isnan(allr["share"]) or hidden[i]:
        return present.tr(lang, "Troppo poche persone inserite per stimare quante arrivano al tempo indeterminato.",
                          "Too few people placed to estimate how many reach a permanent contract.")
    head = _per100_ci(allr["share"], allr["lower"], allr["upper"], lang)
    first = allr["permanent_first"] / allr["n"]
    first_txt = (present.tr(lang, f" ({present.per100(first, lang)} già al primo contratto)",
                            f" ({present.per100(first, lang)} already at their first contract)")
                 if not counts["permanent_first"][i] else "")
    coh = table.loc[(table["subgroup"] != "all").to_numpy() & table["share"].notna().to_numpy() & ~hidden]
    last = ""
    if len(coh):
        r = coh.iloc[-1]
        last = present.tr(lang, f"; tra le persone inserite per la prima volta nel {r['group']} sono {present.per100(r['share'], lang)}",
                          f"; among people first placed in {r['group']} it is {present.per100(r['share'], lang)}")
    return present.tr(
        lang,
        f"Delle persone inserite al lavoro dal programma, {head} hanno un contratto a tempo indeterminato entro "
        f"{_months(h, lang)} dal primo inserimento{first_txt}{last}.",
        f"Of the people the programme placed in work, {head} hold a permanent contract within {_months(h, lang)} "
        f"of their first placement{first_txt}{last}.",
    )


def describe_routes(table: pd.DataFrame, lang: str = "it", k: int = 10) -> str:
    """The year view in words: last complete year's split, the record year of conversions, and the
    share hired permanent from the start in the running year against the previous one.

    Examples
    --------
    >>> t = pd.DataFrame({"period": ["2022", "2023", "2024"], "at_hire": [57, 56, 40], "by_conversion": [80, 73, 30],
    ...                   "total": [137, 129, 70], "share_by_conversion": [0.584, 0.566, 0.429],
    ...                   "complete": [True, True, False]})
    >>> print(describe_routes(t, "en"))
    In 2023 there were 129 new permanent contracts: 73 from converting a fixed-term contract and 56 hired permanent from the start. The year with most conversions was 2022 (80). In 2024 so far, 57 in 100 new permanent contracts are hires permanent from the start (43 in 100 in 2023).
    """
    table = _as(table, "routes").reset_index(drop=True)
    hidden, _ = _masks(table, k)
    shown = lambda i, *cols: all(not hidden[c][i] for c in cols)  # noqa: E731 - as in the published table
    fmt = lambda n: disclosure.format_count(n, k, lang)  # noqa: E731
    full = np.flatnonzero(table["complete"].to_numpy())
    if not len(full):
        return ""
    out = []
    i = full[-1]
    last = table.iloc[i]
    if shown(i, "at_hire", "by_conversion", "total"):
        out.append(present.tr(
            lang,
            f"Nel {last['period']} i nuovi contratti a tempo indeterminato sono stati {fmt(last['total'])}: "
            f"{fmt(last['by_conversion'])} per trasformazione di un contratto a termine e {fmt(last['at_hire'])} "
            f"assunzioni dirette a tempo indeterminato.",
            f"In {last['period']} there were {fmt(last['total'])} new permanent contracts: {fmt(last['by_conversion'])} "
            f"from converting a fixed-term contract and {fmt(last['at_hire'])} hired permanent from the start."))
    j = full[int(np.argmax(table["by_conversion"].to_numpy()[full]))]
    if shown(j, "by_conversion"):
        rec = table.iloc[j]
        out.append(present.tr(lang, f"L’anno con più trasformazioni è stato il {rec['period']} ({fmt(rec['by_conversion'])}).",
                              f"The year with most conversions was {rec['period']} ({fmt(rec['by_conversion'])})."))
    running = np.flatnonzero(~table["complete"].to_numpy())
    if len(running) and shown(running[-1], "at_hire", "by_conversion") and shown(i, "at_hire", "by_conversion"):
        r = table.iloc[running[-1]]
        now, before = 1 - r["share_by_conversion"], 1 - last["share_by_conversion"]
        out.append(present.tr(
            lang,
            f"Nel {r['period']} finora {present.per100(now, lang)} nuovi contratti a tempo indeterminato sono assunzioni "
            f"dirette ({present.per100(before, lang)} nel {last['period']}).",
            f"In {r['period']} so far, {present.per100(now, lang)} new permanent contracts are hires permanent from the "
            f"start ({present.per100(before, lang)} in {last['period']})."))
    return " ".join(out)


def describe_employers(table: pd.DataFrame, lang: str = "it", k: int = 10) -> str:
    """The employer view in words: how many employers are shown, the spread, the consent rules.

    Examples
    --------
    >>> t = pd.DataFrame({"label": ["Camst", "Azienda A", "Altre aziende"], "named": [True, False, False],
    ...                   "employers": [1, 1, 40], "contracts": [338, 140, 500], "conversions": [95, 41, 100],
    ...                   "cif": [0.28, 0.31, 0.2], "cif_lower": [0.24, 0.23, 0.17], "cif_upper": [0.33, 0.39, 0.24]})
    >>> t.attrs.update(horizon=365, consent_not_found=["Hera"], consented_not_shown=[])
    >>> print(describe_employers(t, "it"))
    Sono mostrate 2 aziende con almeno 10 contratti a tempo determinato (le altre 40 sono raggruppate): la quota di contratti trasformati entro 12 mesi va da 28 a 31 su 100. Il nome compare solo per le aziende che hanno dato il consenso (1); le altre sono indicate con una lettera. Nessuna azienda con questo nome nei dati: Hera.
    """
    h = table.attrs["horizon"]
    emp = table.loc[table["employers"] == 1]
    if not (table["named"] | (table["employers"] == 1)).any():
        return present.tr(lang, f"Nessuna azienda ha almeno {k} contratti a tempo determinato: nessun dato per azienda.",
                          f"No employer has at least {k} fixed-term contracts: no employer-level figures.")
    _, hidden = _masks(_as(table, "employers").reset_index(drop=True), k)
    ok = table.reset_index(drop=True).loc[(table["employers"] == 1).to_numpy() & ~hidden & table["cif"].notna().to_numpy()]
    rest = table.loc[table["employers"] > 1, "employers"]
    rest_txt = present.tr(lang, f" (le altre {int(rest.iloc[0])} sono raggruppate)", f" (the other {int(rest.iloc[0])} are pooled)") \
        if len(rest) else ""
    spread = ""
    if len(ok) >= 2:
        lo_, hi_ = (present.fmt_num(100 * ok["cif"].min(), lang), present.fmt_num(100 * ok["cif"].max(), lang))
        spread = present.tr(lang, f": la quota di contratti trasformati entro {_months(h, lang)} va da {lo_} a {hi_} su 100",
                            f": the share converted within {_months(h, lang)} ranges from {lo_} to {hi_} in 100")
    out = [present.tr(lang, f"Sono mostrate {len(emp)} aziende con almeno {k} contratti a tempo determinato{rest_txt}{spread}.",
                      f"{len(emp)} employers with at least {k} fixed-term contracts are shown{rest_txt}{spread}.")]
    n_named = int(table["named"].sum())
    if n_named:
        out.append(present.tr(lang, f"Il nome compare solo per le aziende che hanno dato il consenso ({n_named}); le altre "
                                    "sono indicate con una lettera.",
                              f"Names appear only for employers that consented ({n_named}); the others are shown as a "
                              "letter."))
    else:
        out.append(present.tr(lang, "Nessuna azienda mostrata ha dato il consenso a comparire con il nome: sono indicate "
                                    "con una lettera.",
                              "No employer shown consented to be named: they are shown as a letter."))
    if table.attrs.get("consent_not_found"):
        out.append(present.tr(lang, "Nessuna azienda con questo nome nei dati: ", "No employer with this name in the data: ")
                   + ", ".join(table.attrs["consent_not_found"]) + ".")
    if table.attrs.get("consented_not_shown"):
        out.append(present.tr(lang, "Aziende con consenso ma troppo pochi contratti per essere mostrate: ",
                              "Consenting employers with too few contracts to be shown: ")
                   + ", ".join(table.attrs["consented_not_shown"]) + ".")
    return " ".join(out)


# ------------------------------------------------------------------------------- result records


def _key_part(column: str, value) -> str:
    """``column=value`` safe for a result key (accents dropped, spaces and symbols to ``_``)."""
    import re
    import unicodedata

    v = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode("ascii")
    return f"{column}=" + re.sub(r"[^A-Za-z0-9_.+<>-]+", "_", v).strip("_")


def record_estimates(rep, *, incidence=None, rates=None, cox=None, people=None, routes=None, tests=None) -> int:
    """Write the key estimates to the report's result records (``results.json``); returns how many.

    Keys (stable across runs): ``conversion_cif__months=12`` and ``...__employer_size=large``;
    ``conversion_rate_per_year__employer_size=micro``; ``conversion_hr__employer_size=micro``;
    ``conversion_logrank_p__by=employer_size``; ``people_permanent_share__months=24`` and
    ``...__cohort=2021``; ``permanent_at_hire__year=2023``, ``permanent_by_conversion__year=2023``.
    Whatever the published table withholds (primary or secondary suppression, :func:`display`)
    is withheld here too (null value, interval or n), so ``results.json`` cannot undo it.
    """
    k = rep.k
    n0 = len(rep.records_)

    def rec(key, value, ci, n, hide_value, hide_n, unit, it, en):
        if hide_value or value is None or (isinstance(value, float) and np.isnan(value)):
            value, ci = None, None
        rep.record(key, value, ci=ci, n=None if hide_n else int(n), unit=unit, label_it=it, label_en=en)

    def lab(sub, group, lang):
        return "" if sub == "all" else f" ({_subgroup_name(sub, lang)}: {group_label(sub, group, lang)})"

    if incidence is not None:
        t = incidence.reset_index(drop=True)
        counts, hidden = _masks(t, k)
        for i, r in enumerate(t.to_dict("records")):
            tail = "" if r["subgroup"] == "all" else "__" + _key_part(r["subgroup"], r["group"])
            for h in _horizons(t):
                m = int(round(h / _DAYS_PER_MONTH))
                rec(f"conversion_cif__months={m}{tail}", r[f"cif_{h}"], (r[f"cif_{h}_lower"], r[f"cif_{h}_upper"]),
                    r["n"], hidden[i], counts["n"][i], "share",
                    f"Contratti a termine trasformati entro {m} mesi{lab(r['subgroup'], r['group'], 'it')}",
                    f"Fixed-term contracts converted within {m} months{lab(r['subgroup'], r['group'], 'en')}")
    if rates is not None:
        t = rates.reset_index(drop=True)
        counts, hidden = _masks(t, k)
        for i, r in enumerate(t.to_dict("records")):
            tail = "" if r["subgroup"] == "all" else "__" + _key_part(r["subgroup"], r["group"])
            rec(f"conversion_rate_per_year{tail}", r["rate"], (r["lower"], r["upper"]), r["n"], hidden[i],
                counts["n"][i], "per year",
                f"Trasformazioni per anno di contratto a termine{lab(r['subgroup'], r['group'], 'it')}",
                f"Conversions per contract-year{lab(r['subgroup'], r['group'], 'en')}")
    if cox is not None:
        counts, hidden = _masks(cox, k)
        for i, r in enumerate(cox.hr_table_.to_dict("records")):
            rec("conversion_hr__" + _key_part(r["covariate"], r["level"]), r["hr"], (r["lower"], r["upper"]), r["n"],
                hidden[i], counts["n"][i], "HR",
                f"Rapporto di rischio di trasformazione: {group_label(r['covariate'], r['level'], 'it')} rispetto a "
                f"{group_label(r['covariate'], r['reference'], 'it')}",
                f"Conversion hazard ratio: {group_label(r['covariate'], r['level'], 'en')} vs "
                f"{group_label(r['covariate'], r['reference'], 'en')}")
    tests = tests or {}
    for (by, res), p_holm in zip(tests.items(), holm([r.p_value for r in tests.values()])):
        rep.record(f"conversion_logrank_p__by={by}", res.p_value, unit="p",
                   label_it=f"Test log-rank della trasformazione per {_subgroup_name(by, 'it').lower()}",
                   label_en=f"Log-rank test of conversion by {_subgroup_name(by, 'en').lower()}")
        rep.record(f"conversion_logrank_p_holm__by={by}", p_holm, unit="p",
                   label_it=f"Test log-rank per {_subgroup_name(by, 'it').lower()}, corretto (Holm)",
                   label_en=f"Log-rank test by {_subgroup_name(by, 'en').lower()}, Holm-adjusted")
    if people is not None:
        t = people.reset_index(drop=True)
        counts, hidden = _masks(t, k)
        m = int(round(t.attrs["horizon"] / _DAYS_PER_MONTH))
        for i, r in enumerate(t.to_dict("records")):
            tail = "" if r["subgroup"] == "all" else "__" + _key_part(r["subgroup"], r["group"])
            rec(f"people_permanent_share__months={m}{tail}", r["share"], (r["lower"], r["upper"]), r["n"], hidden[i],
                counts["n"][i], "share",
                f"Persone a tempo indeterminato entro {m} mesi dal primo inserimento"
                + ("" if r["subgroup"] == "all" else f" (primo inserimento nel {r['group']})"),
                f"People permanent within {m} months of their first placement"
                + ("" if r["subgroup"] == "all" else f" (first placed in {r['group']})"))
    if routes is not None:
        t = routes.reset_index(drop=True)
        counts, _ = _masks(t, k)
        unit = "year" if t.attrs.get("freq", "year") == "year" else "quarter"
        for i, r in enumerate(t.to_dict("records")):
            for col, it, en in (("at_hire", "Assunzioni a tempo indeterminato", "Permanent hires"),
                                ("by_conversion", "Trasformazioni a tempo indeterminato", "Conversions to permanent")):
                rep.record(f"permanent_{col}__{unit}={r['period']}", None if counts[col][i] else int(r[col]),
                           unit="contracts", label_it=f"{it}, {r['period']}", label_en=f"{en}, {r['period']}")
    return len(rep.records_) - n0


# --------------------------------------------------------------------------------- the analysis


@dataclass
class StabilisationAnalysis:
    """Everything the stabilisation notebook shows, computed once by :func:`analyse`."""

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

    def __repr__(self) -> str:
        e = self.episodes
        return (f"<StabilisationAnalysis which={self.which} contracts={len(e)} conversions={int((e['event'] == 1).sum())} "
                f"ended={int((e['event'] == 2).sum())} censored={int((e['event'] == 0).sum())} "
                f"people placed={len(self.people_frame)}>")


def analyse(ds, *, cutoff=None, episodes: str = "first", horizons_months=(6, 12, 24),
            subgroups=("employer_size", "sector", "channel", "enrolment_year", "gender", "citizenship_group"),
            cox_covariates=("employer_size", "sector", "channel", "gender", "citizenship_group", "enrolment_year"),
            people_horizon_months: int = 24, employer_horizon_months: int = 12, employer_top: int = 15,
            consenting_employers=(), k: int = 10, lang: str = "it") -> StabilisationAnalysis:
    """Run the whole stabilisation analysis (the notebook's one computation call).

    Parameters mirror the notebook's (``ixl_eval.params.StabilizzazioneParams``); ``k`` is the
    disclosure threshold (the employer view shows only employers with at least ``k`` contracts)
    and ``lang`` names the anonymised employers ("Azienda A" / "Employer A").

    Examples
    --------
    >>> from ixl_eval.cohorts import _toy_episodes_dataset
    >>> a = analyse(_toy_episodes_dataset(), cutoff="2024-04-30", episodes="all", subgroups=["employer_size"],
    ...             cox_covariates=["employer_size"], k=1)
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
        employers=employer_view(ep_all, k=k, consenting_employers=consenting_employers,
                                horizon_days=months_to_days(employer_horizon_months), top=employer_top, lang=lang),
    )


def summary_sentences(a: StabilisationAnalysis, lang: str = "it", k: int = 10) -> list:
    """The "In breve" sentences: conversion headline, people view, employer size, year view."""
    out = [describe_incidence(a.incidence, lang, k, which=a.which), describe_people(a.people, lang, k)]
    if "employer_size" in set(a.incidence["subgroup"]):
        out.append(describe_groups(a.incidence, "employer_size", 365 if 365 in a.horizons_days else a.horizons_days[0],
                                   lang, k))
    out.append(describe_routes(a.routes_year, lang, k))
    return [s for s in out if s]


def record_analysis(rep, a: StabilisationAnalysis) -> int:
    """Record the analysis' key estimates (:func:`record_estimates`) in the report."""
    return record_estimates(rep, incidence=a.incidence, rates=a.rates, cox=a.cox, people=a.people,
                            routes=a.routes_year, tests=a.tests)


# ------------------------------------------------------------------------------------- figures


def _suppressed_note(ax, k: int, lang: str) -> None:
    ax.annotate(present.tr(lang, f"«<{k}»: meno di {k}, non mostrato", f"'<{k}': fewer than {k}, not shown"),
                xy=(1, -0.13), xycoords="axes fraction", ha="right", va="top", fontsize=9, color="#555")


def plot_routes(routes: pd.DataFrame, lang: str = "it", k: int = 10):
    """Stacked bars per period: permanent at hire and by conversion; counts below ``k`` are not
    drawn but marked "<k", so no bar reveals a small count.

    Examples
    --------
    >>> from ixl_eval.cohorts import _toy_episodes_dataset
    >>> fig = plot_routes(permanent_routes(_toy_episodes_dataset(), cutoff="2024-04-30"), "it", 10)
    >>> [t.get_text() for t in fig.axes[0].texts][:2]
    ['<10', '<10']
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.5))
    x = np.arange(len(routes))
    base = np.zeros(len(routes))
    parts = (("at_hire", present.tr(lang, "Assunti a tempo indeterminato", "Hired permanent"), present.PALETTE[0]),
             ("by_conversion", present.tr(lang, "Trasformati da tempo determinato", "Converted from fixed-term"),
              present.PALETTE[1]))
    for col, label, colour in parts:
        v = routes[col].to_numpy(dtype=float)
        small = np.array([disclosure.is_small(n, k) for n in v])
        shown = np.where(small, 0.0, v)
        ax.bar(x, shown, bottom=base, color=colour, label=label, width=0.7)
        for i in np.flatnonzero(small):
            ax.text(x[i], base[i] + 0.5, f"<{k}", ha="center", va="bottom", fontsize=9, color=colour)
        for i in np.flatnonzero(~small & (v > 0)):
            ax.text(x[i], base[i] + shown[i] / 2, disclosure.format_count(v[i], k, lang), ha="center", va="center",
                    fontsize=9, color="white")
        base = base + shown
    labels = [p if c else p + "*" for p, c in zip(routes["period"], routes["complete"])]
    ax.set_xticks(x, labels, rotation=0 if len(x) <= 10 else 90)
    ax.set_ylabel(present.tr(lang, "Nuovi contratti a tempo indeterminato", "New permanent contracts"))
    ax.set_title(present.tr(lang, "Tempo indeterminato: assunzioni dirette e trasformazioni",
                            "Permanent contracts: direct hires and conversions"))
    ax.legend(loc="upper left")
    if not routes["complete"].all():
        ax.annotate(present.tr(lang, "* periodo in corso alla data di analisi", "* period still running at the cut-off"),
                    xy=(0, -0.13), xycoords="axes fraction", ha="left", va="top", fontsize=9, color="#555")
    _suppressed_note(ax, k, lang)
    return fig


def _xmax(upper) -> float:
    """Right end of a 0–100 share axis: a little past the largest upper limit shown."""
    upper = np.asarray(upper, dtype=float)
    top = np.nanmax(upper) * 100 if upper.size and np.isfinite(upper).any() else 100.0
    return float(min(100.0, 10 * np.ceil(top * 1.1 / 10)))


def _ci_dots(ax, labels, est, lo, hi, colour):
    y = np.arange(len(labels))[::-1]
    ax.errorbar(est, y, xerr=[est - lo, hi - est], fmt="o", color=colour, ecolor=colour, capsize=3)
    ax.set_yticks(y, labels)
    return y


def plot_people(people: pd.DataFrame, lang: str = "it", k: int = 10):
    """Share permanent within the horizon of the first placement, by cohort, with intervals; groups
    whose count is suppressed, or not yet observable, are listed but not drawn."""
    import matplotlib.pyplot as plt

    _, hidden = _masks(_as(people, "people").reset_index(drop=True), k)
    keep = (people["subgroup"] != "all").to_numpy()
    t = people.loc[keep].reset_index(drop=True)
    ok = ~hidden[keep] & t["share"].notna().to_numpy()
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(t) + 1.8))
    why = [present.tr(lang, "non mostrato", "not shown") if h else present.tr(lang, "non ancora osservabile", "not yet observable")
           for h in hidden[keep]]
    labels = [str(g) if o else f"{g} ({w})" for g, o, w in zip(t["group"], ok, why)]
    est = np.where(ok, t["share"], np.nan) * 100
    _ci_dots(ax, labels, est, np.where(ok, t["lower"], np.nan) * 100, np.where(ok, t["upper"], np.nan) * 100,
             present.PALETTE[0])
    h = _months(people.attrs["horizon"], lang)
    ax.set_xlabel(present.tr(lang, f"Su 100 persone: a tempo indeterminato entro {h} dal primo inserimento",
                             f"Per 100 people: permanent within {h} of the first placement"))
    ax.set_title(present.tr(lang, "Arrivare al tempo indeterminato, per anno del primo inserimento",
                            "Reaching a permanent contract, by year of first placement"))
    ax.set_xlim(0, _xmax(t["upper"].to_numpy()[ok]))
    return fig


def plot_employers(employers: pd.DataFrame, lang: str = "it", k: int = 10):
    """Share converted within the horizon per shown employer (named or "Azienda A", ...), with
    intervals; rows whose conversions are suppressed are listed but not drawn."""
    import matplotlib.pyplot as plt

    t = employers.reset_index(drop=True)
    _, hidden = _masks(_as(t, "employers"), k)
    ok = ~hidden & t["cif"].notna().to_numpy()
    labels = [(lab if e == 1 else f"{lab} ({e})") + ("" if o else f" ({present.tr(lang, 'non mostrato', 'not shown')})")
              for lab, e, o in zip(t["label"], t["employers"], ok)]
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(t) + 1.8))
    _ci_dots(ax, labels, np.where(ok, t["cif"], np.nan) * 100, np.where(ok, t["cif_lower"], np.nan) * 100,
             np.where(ok, t["cif_upper"], np.nan) * 100, present.PALETTE[2])
    h = _months(employers.attrs["horizon"], lang)
    ax.set_xlabel(present.tr(lang, f"Su 100 contratti a tempo determinato: trasformati entro {h}",
                             f"Per 100 fixed-term contracts: converted within {h}"))
    ax.set_title(present.tr(lang, "Trasformazioni per azienda", "Conversions by employer"))
    ax.set_xlim(0, _xmax(t["cif_upper"].to_numpy()[ok]))
    return fig


# ------------------------------------------------------------------------------ report paragraphs


def groups_paragraph(a: StabilisationAnalysis, lang: str = "it", k: int = 10) -> str:
    """One bullet per subgroup: highest and lowest share converted, and the log-rank test."""
    h = 365 if 365 in a.horizons_days else a.horizons_days[0]
    lines = []
    for by in dict.fromkeys(a.incidence["subgroup"]):
        if by == "all":
            continue
        line = describe_groups(a.incidence, by, h, lang, k)
        if by in a.tests:
            line += " " + describe_test(a.tests[by], by, lang)
        lines.append("- " + line)
    if len(a.tests) > 1:  # several subgroups tested at once: say how many, and what survives Holm
        lines.append("\n" + tests_sentence([r.p_value for r in a.tests.values()], lang))
    return "\n".join(lines)


def cox_paragraph(a: StabilisationAnalysis, lang: str = "it", k: int = 10) -> str:
    """The Cox model in words: what a hazard ratio is, the employer-size ratios, pooled levels, the
    proportional-hazards check."""
    L = lambda it, en: present.tr(lang, it, en)  # noqa: E731
    if a.cox is None:
        return L("Troppo poche trasformazioni per un modello che confronti i gruppi a parità di condizioni.",
                 "Too few conversions for a model comparing groups other things being equal.")
    out = [L("Il rapporto di rischio (HR) confronta il ritmo con cui i contratti ancora in corso vengono trasformati: "
             "1 vuol dire stesso ritmo del gruppo di confronto, 2 il doppio, 0,5 la metà; l'intervallo dice quanto la "
             "stima è incerta.",
             "The hazard ratio (HR) compares the pace at which contracts still running are converted: 1 means the same "
             "pace as the comparison group, 2 twice, 0.5 half; the interval says how uncertain the estimate is.")]
    if "employer_size" in a.cox.covariates:
        out.append(describe_hazard_ratios(a.cox, "employer_size", lang, k))
    pooled = getattr(a.cox, "pooled_", {})
    if pooled:
        items = "; ".join(f"{_subgroup_name(c, lang).lower()}: {', '.join(group_label(c, v, lang) for v in levels)}"
                          for c, levels in pooled.items())
        out.append(L(f"Gruppi con meno di 5 trasformazioni, riuniti in «Altri (pochi casi)» o, se senza alcuna "
                     f"trasformazione, con il gruppo di confronto: {items}".rstrip(".") + ".",
                     f"Groups with fewer than 5 conversions, pooled into 'Others (few cases)' or, with no conversion "
                     f"at all, into the comparison group: {items}".rstrip(".") + "."))
    try:
        ph = a.cox.ph_test()
    except Exception:  # noqa: BLE001 - the check is advisory; a failure must not stop the report
        ph = None
    if ph is not None:
        bad = [_subgroup_name(c, lang).lower() for c in ph.loc[ph["violated"], "covariate"]]
        out.append(L("Controllo dell'ipotesi di rischi proporzionali: nessun problema rilevato." if not bad else
                     f"Attenzione: per {', '.join(bad)} il rapporto tra i ritmi sembra cambiare nel corso del contratto "
                     "(test sui residui di Schoenfeld); leggere quei rapporti come una media sul periodo.",
                     "Proportional-hazards check: no problem found." if not bad else
                     f"Caution: for {', '.join(bad)} the ratio of paces seems to change over the contract (Schoenfeld "
                     "residual test); read those ratios as an average over time."))
    return " ".join(out)


def caveats_text(a: StabilisationAnalysis, lang: str = "it") -> str:
    """The "Come leggere questi risultati" block (paragraphs separated by blank lines)."""
    first = a.which == "first"
    hs = [int(round(h / _DAYS_PER_MONTH)) for h in a.horizons_days]
    h_it = ", ".join(map(str, hs[:-1])) + (" o " if len(hs) > 1 else "") + str(hs[-1])
    h_en = ", ".join(map(str, hs[:-1])) + (" or " if len(hs) > 1 else "") + str(hs[-1])
    if lang == "it":
        return "\n\n".join([
            "Ogni contratto a tempo determinato mediato dal programma è seguito dalla data di inizio. Può finire in "
            "due modi: trasformato a tempo indeterminato nella stessa azienda, oppure concluso senza trasformazione. "
            "I contratti ancora in corso alla data di analisi contano fino a quel giorno (dato «censurato»).",
            ("Si considera il primo contratto a tempo determinato di ogni persona. " if first else
             "Si considerano tutti i contratti a tempo determinato: una persona può contare più volte, e gli "
             "intervalli ne tengono conto. ")
            + f"La quota trasformata entro {h_it} mesi è stimata con il metodo di Aalen–Johansen, che tiene conto "
            "dei contratti che finiscono prima di poter essere trasformati; «–» indica un periodo non ancora "
            "osservabile con i dati disponibili.",
            "I confronti tra gruppi (test log-rank e modello di Cox) riguardano il ritmo delle trasformazioni e "
            "mostrano associazioni, non cause: un'azienda grande può trasformare di più per il tipo di lavoro, non per "
            "la dimensione in sé. Differenze piccole o su pochi contratti possono essere dovute al caso.",
            "Si vedono solo i contratti registrati dal programma: un contratto a tempo indeterminato trovato altrove non "
            "compare. Nella vista per persona, chi ha lasciato il programma resta nel conteggio: se ha trovato un "
            "contratto stabile altrove la quota è sottostimata.",
            "Per riservatezza i numeri sotto la soglia sono mostrati come «<k» e le aziende sono indicate per nome solo "
            "se hanno dato il consenso; le altre sono «Azienda A», «Azienda B»... e compaiono solo se hanno almeno k "
            "contratti. Dettagli: docs/caveats/stabilizzazione.md.",
        ])
    return "\n\n".join([
        "Each fixed-term contract mediated by the programme is followed from its start. It can end in two ways: "
        "converted to permanent at the same employer, or ended without conversion. Contracts still running at the "
        "cut-off count up to that day ('censored').",
        ("Each person's first fixed-term contract is analysed. " if first else
         "Every fixed-term contract is analysed: a person can count more than once, and the intervals allow for it. ")
        + f"The share converted within {h_en} months is the Aalen–Johansen estimate, which accounts for contracts "
        "ending before they could be converted; '–' marks a period not yet observable with the data available.",
        "Comparisons between groups (log-rank test and Cox model) are about the pace of conversion and show "
        "associations, not causes: a large employer may convert more because of the kind of work, not its size. Small "
        "differences, or differences on few contracts, may be chance.",
        "Only contracts recorded by the programme are seen: a permanent contract found elsewhere does not appear. In "
        "the people view, people who left the programme stay in the count: if they found a stable job elsewhere the "
        "share is underestimated.",
        "For confidentiality, numbers below the threshold show as '<k' and employers are named only if they "
        "consented; the others are 'Employer A', 'Employer B'... and appear only with at least k contracts. Details: "
        "docs/caveats/stabilizzazione.md.",
    ])


def plot_incidence(a: StabilisationAnalysis, by: str | None = "employer_size", lang: str = "it", k: int = 10,
                   max_months: int | None = None):
    """Cumulative incidence of conversion (Aalen–Johansen) over months since the start, overall and
    by ``by``, with 95% bands and a number-at-risk table whose counts pass through
    :func:`ixl_eval.disclosure.format_count`. Groups with fewer than ``k`` contracts or conversions
    are not drawn (their steps would reveal small counts); the legend says so."""
    import matplotlib.pyplot as plt

    months = max_months or int(round(max(a.horizons_days) / _DAYS_PER_MONTH))
    tmax = months * _DAYS_PER_MONTH
    ep = a.episodes
    by = by if by is not None and by in ep else None
    # the groups the incidence table withholds are not drawn either (same suppression mask)
    inc = conversion_incidence(ep, a.horizons_days, by=[by] if by else [])
    _, hidden = _masks(inc, k)
    curves = []
    for i, (sub_name, lev) in enumerate(zip(inc["subgroup"], inc["group"])):
        sub = ep if sub_name == "all" else ep.loc[ep[by] == lev]
        label = present.tr(lang, "Tutti", "All") if sub_name == "all" else group_label(by, lev, lang)
        colour, style = ("#000000", "--") if sub_name == "all" else (present.PALETTE[(i - 1) % 7], "-")
        curves.append((sub_name, label, sub, colour, style, hidden[i]))
    fig, (ax, tab) = plt.subplots(2, 1, figsize=(9, 6.2), gridspec_kw={"height_ratios": [4, 1.3]}, sharex=True)
    ticks = np.arange(0, months + 1, 6 if months > 12 else 3)
    for sub_name, label, sub, colour, style, hide in curves:
        if hide:
            ax.plot([], [], color=colour, label=f"{label} ({present.tr(lang, 'non mostrato', 'not shown')})")
            continue
        fit = ConversionIncidence().fit(sub).fits_["all"]
        t = fit.table_
        keep = t["time"].to_numpy() <= tmax
        x = np.concatenate([[0.0], t["time"].to_numpy()[keep]]) / _DAYS_PER_MONTH
        y = np.concatenate([[0.0], t["cif_1"].to_numpy()[keep]]) * 100
        lo = np.concatenate([[0.0], t["lower_1"].to_numpy()[keep]]) * 100
        hi = np.concatenate([[0.0], t["upper_1"].to_numpy()[keep]]) * 100
        ax.step(x, y, where="post", color=colour, linestyle=style, label=label)
        if sub_name != "all":
            ax.fill_between(x, lo, hi, step="post", color=colour, alpha=0.15, linewidth=0)
    # number at risk: every group (drawn or not), suppressed as a table whose group rows add up to
    # the "all" row at each time, so no small count can be recovered by difference
    risk = pd.DataFrame({f"m{m}": [int((c[2]["time"] >= m * _DAYS_PER_MONTH).sum()) for c in curves] for m in ticks})
    risk["block"] = ["all" if c[0] == "all" else "groups" for c in curves]
    shown = disclosure.suppress_table(risk, [f"m{m}" for m in ticks], k, lang=lang, by="block", lines="columns")
    rows = [(c[1], shown.loc[i, [f"m{m}" for m in ticks]].tolist()) for i, c in enumerate(curves)]
    ax.set_ylabel(present.tr(lang, "Trasformati (su 100 contratti)", "Converted (per 100 contracts)"))
    ax.set_title(present.tr(lang, "Contratti a termine trasformati a tempo indeterminato",
                            "Fixed-term contracts converted to permanent"))
    ax.set_xlim(0, months)
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", fontsize=9)
    # number-at-risk table: one row per drawn curve, counts through format_count
    ys = np.arange(len(rows))[::-1]
    for y, (label, counts) in zip(ys, rows):
        for m, c in zip(ticks, counts):
            tab.text(m, y, c, ha="center", va="center", fontsize=8)
    tab.set_yticks(ys, [r[0] for r in rows], fontsize=8)
    tab.set_ylim(-0.6, len(rows) - 0.4)
    tab.tick_params(left=False, pad=22)  # room for the counts at month 0
    tab.grid(False)
    for side in ("top", "right", "left", "bottom"):
        tab.spines[side].set_visible(False)
    tab.set_title(present.tr(lang, "Contratti ancora in corso", "Contracts still running"), fontsize=9, loc="left")
    tab.set_xticks(ticks)
    ax.set_xticks(ticks)
    tab.set_xlabel(present.tr(lang, "Mesi dall'inizio del contratto", "Months since the contract start"))
    fig.tight_layout()
    return fig


def plot_forest(a: StabilisationAnalysis, lang: str = "it", k: int = 10):
    """Forest plot of the Cox hazard ratios (log scale) with 95% intervals; levels with fewer than
    ``k`` contracts or conversions are left out (named in the caption of the notebook)."""
    import matplotlib.pyplot as plt

    if a.cox is None:
        fig, ax = plt.subplots(figsize=(6, 1.5))
        ax.set_axis_off()
        ax.text(0.5, 0.5, present.tr(lang, "Nessun modello: troppo poche trasformazioni", "No model: too few conversions"),
                ha="center", va="center")
        return fig
    _, hidden = _masks(a.cox, k)
    t = a.cox.hr_table_.reset_index(drop=True).loc[~hidden].reset_index(drop=True)
    labels = [f"{_subgroup_name(c, lang)}: {group_label(c, lev, lang)} "
              f"({present.tr(lang, 'vs', 'vs')} {group_label(c, ref, lang)})"
              for c, lev, ref in zip(t["covariate"], t["level"], t["reference"])]
    fig, ax = plt.subplots(figsize=(9, 0.38 * len(t) + 1.6))
    if len(t):
        _ci_dots(ax, labels, t["hr"].to_numpy(), t["lower"].to_numpy(), t["upper"].to_numpy(), present.PALETTE[0])
        ax.set_xscale("log")
        lo, hi = float(t["lower"].min()), float(t["upper"].max())
        ticks = [v for v in (0.1, 0.2, 0.25, 0.5, 1, 2, 4, 5, 10) if min(lo, 1) / 1.3 <= v <= max(hi, 1) * 1.3]
        ax.set_xticks(ticks, [present.fmt_num(v, lang, 2 if v < 1 else 0) for v in ticks])
        ax.minorticks_off()
    ax.axvline(1.0, color="#555", linewidth=1)
    ax.set_xlabel(present.tr(lang, "Rapporto di rischio di trasformazione (scala logaritmica)",
                             "Conversion hazard ratio (log scale)"))
    ax.set_title(present.tr(lang, "Chi trasforma più in fretta, a parità di altre condizioni",
                            "Who converts faster, other things being equal"))
    return fig
