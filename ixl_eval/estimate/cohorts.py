"""Analysis frames: one row per person (or episode), ready for survival estimators.

The frame every time-to-event notebook starts from is :func:`time_to_placement`: for each
enrolled person, time zero, the time to the first placement (or to withdrawal, a competing
event, or to the cut-off, censoring) and the covariates subgroups are built from. Other analyses
reuse it with their own time zero (e.g. the IPS start date, passed as a Series).

Rules (also in ``docs/caveats/tempo-inserimento.md``)
-----------------------------------------------------
- ``time`` is in days from time zero, measured as whole calendar days between dates. An event on
  the day of time zero gets ``time = 0.5``: it happened during the first day, strictly after
  the start (estimators and log-time plots need positive event times). Censoring at the cut-off
  on the day of time zero gives ``time = 0``.
- The event is the first placement of a counted contract type starting on or after time zero
  and on or before the cut-off (``event = 1``); withdrawal from the programme is a competing
  event (``event = 2``); everyone else is censored at the cut-off (``event = 0``). A placement
  on the withdrawal day counts as a placement (the data contract says withdrawal is "unplaced").
  A placement after withdrawal is not counted (the person had left); it is noted.
- People are excluded, counted by reason, never silently: enrolled outside the window, no time
  zero (e.g. never interviewed), time zero after the cut-off, withdrawn before time zero, and
  (by default) placed before time zero. ``frame.attrs["n_source"] == len(frame) +
  sum(frame.attrs["excluded"].values())`` always holds.
- Age is taken at enrolment as enrolment year minus birth year (the contract has the birth year
  only), so it can be up to one year above the exact age. The birth year is never output.

Examples
--------
>>> import pandas as pd
>>> from ixl_eval.cohorts import time_to_placement
>>> ds = _toy_dataset()
>>> f = time_to_placement(ds, cutoff="2024-04-30")
>>> f[["participant_id", "time", "event", "placed", "age_band"]]
  participant_id   time  event  placed age_band
0             P1   30.0      1    True      <30
1             P2    0.5      1    True    30-39
2             P3   10.0      2   False      50+
3             P4  119.0      0   False    40-49
>>> f.attrs["excluded"]
{'enrolled_outside_window': 0, 'no_time_zero': 0, 'time_zero_after_cutoff': 1, 'withdrawn_before_time_zero': 0, 'placed_before_time_zero': 0}
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from ..contract import EDUCATION_LEVELS, GENDERS
from ..dataset import person_codes, person_index

__all__ = [
    "time_to_placement",
    "SUBGROUPS",
    "AGE_BANDS",
    "EVENT_CODES",
    "EXCLUSION_REASONS",
    "fixed_term_episodes",
    "EPISODE_EXCLUSION_REASONS",
    "EPISODE_EVENT_CODES",
    "EPISODE_SUBGROUPS",
]

AGE_BANDS = ("<30", "30-39", "40-49", "50+")
EVENT_CODES = {0: "censored", 1: "placement", 2: "withdrawal"}

# The subgroup vocabulary: columns of the time-to-placement frame a parameter set may name
# (their reader-facing names are in ixl_eval.report.vocab.COLUMNS).
SUBGROUPS: tuple[str, ...] = ("gender", "age_band", "citizenship_group", "education", "enrolment_year",
                              "interview_format")


# Why a person is left out of the time-to-placement cohort, in the order reported (labels: LEVELS["exclusion"]
# in ixl_eval.report.vocab).
EXCLUSION_REASONS = ("enrolled_outside_window", "no_time_zero", "time_zero_after_cutoff",
                     "withdrawn_before_time_zero", "placed_before_time_zero")


def _as_day(x, what: str) -> pd.Timestamp | None:
    if x is None or (isinstance(x, str) and x == ""):
        return None
    try:
        return pd.Timestamp(x).normalize()
    except (ValueError, TypeError) as e:
        raise ValueError(f"{what}: not a date: {x!r}") from e


def _age_band(age: np.ndarray) -> pd.Categorical:
    codes = np.select([age < 30, age < 40, age < 50], [0, 1, 2], 3)
    return pd.Categorical.from_codes(codes, categories=list(AGE_BANDS), ordered=True)


def _day_number(ts: pd.Timestamp) -> int:
    """Days since 1970-01-01 of a date (the integer day scale cohorts compute on)."""
    return int(np.datetime64(ts.date(), "D").astype(np.int64))


def _days(later: pd.Series, earlier: pd.Series) -> np.ndarray:
    return ((later - earlier).dt.days).to_numpy(dtype=float)


def time_to_placement(
    ds,
    *,
    enrol_from=None,
    enrol_to=None,
    contract_types=None,
    time_zero: Literal["enrolment", "interview"] | pd.Series = "enrolment",
    cutoff=None,
    prior_placements: Literal["exclude", "keep"] = "exclude",
) -> pd.DataFrame:
    """Build the time-to-placement frame: one row per person in the cohort.

    Parameters
    ----------
    ds : Dataset
        Validated data (:func:`ixl_eval.dataset.load_dataset`).
    enrol_from, enrol_to : date-like, optional
        Enrolment window, both ends included. Default: everyone.
    contract_types : sequence of str, optional
        Contract types that count as a placement (``contract.CONTRACT_TYPES``). Default: all.
        Placements of other types are not events: the person stays at risk.
    time_zero : {"enrolment", "interview"} or pandas.Series
        Start of follow-up: the enrolment date, the first intake interview, or any date per
        person (Series indexed by ``participant_id``; people missing from it or with ``NaT``
        are excluded as ``no_time_zero``).
    cutoff : date-like, optional
        End of follow-up; default the extraction date. It cannot be after the extraction date.
    prior_placements : {"exclude", "keep"}
        People with a counted placement before time zero are excluded (``"exclude"``: time to
        *first* placement) or kept, the event being the first placement on or after time zero
        (``"keep"``, e.g. for time from an IPS start to a job).

    Returns
    -------
    pandas.DataFrame
        Columns ``participant_id``, ``gender``, ``age_band``, ``citizenship_group``,
        ``education``, ``enrolment_year``, ``interview_format``, ``t0``, ``exit_on`` (date of the
        event or of censoring), ``time`` (days, float >= 0), ``event`` (0 censored, 1 placement,
        2 withdrawal), ``placed`` (bool), ``contract_type`` (of the counted placement, else
        missing). ``attrs`` hold ``n_source``, ``excluded`` (reason -> count), ``notes``
        (reason -> count of records set aside but not excluding anyone), ``cutoff``,
        ``time_zero``, ``contract_types``.

    Raises
    ------
    ValueError
        Unknown contract type, bad ``time_zero``, a cut-off after the extraction date.

    Examples
    --------
    >>> f = time_to_placement(_toy_dataset(), time_zero="interview", cutoff="2024-04-30")
    >>> f[["participant_id", "time", "event"]].to_dict("list")
    {'participant_id': ['P1', 'P3'], 'time': [20.0, 5.0], 'event': [1, 2]}
    >>> f.attrs["excluded"]["no_time_zero"]  # P2, P4, P5 were never interviewed
    3
    """
    from ..contract import CONTRACT_TYPES

    part = ds.participants
    n_source = len(part)
    cut = _as_day(cutoff, "cutoff") or ds.cutoff.normalize()
    if cut > ds.cutoff.normalize():
        raise ValueError(f"cutoff {cut.date()} is after the extraction date {ds.extracted_on}: nothing is known then")
    if contract_types is None or len(contract_types) == 0:
        types = tuple(CONTRACT_TYPES)
    else:
        types = tuple(contract_types)
        unknown = sorted(set(types) - set(CONTRACT_TYPES))
        if unknown:
            raise ValueError(f"unknown contract type(s) {unknown}; allowed: {list(CONTRACT_TYPES)}")
    if prior_placements not in ("exclude", "keep"):
        raise ValueError("prior_placements must be 'exclude' or 'keep'")

    excluded = dict.fromkeys(EXCLUSION_REASONS, 0)
    notes: dict[str, int] = {}
    # Work on integer person codes and int64 day numbers: hashing and sorting a million string
    # identifiers once, not at every step, keeps a 1M-person cohort at about a second.
    ids = person_index(ds)
    NAT = np.iinfo(np.int64).max  # "no date": sorts after every real date
    cut_d = _day_number(cut)

    def days_of(s) -> np.ndarray:
        # Dataset dates are datetime64 already; pd.to_datetime would still scan every value
        # (tens of ms a column, six cohorts per IPS analysis)
        s = s if pd.api.types.is_datetime64_dtype(s) else pd.to_datetime(s)
        v = s.to_numpy(dtype="datetime64[D]").astype(np.int64)
        return np.where(np.asarray(pd.isna(s)), NAT, v)

    enr = days_of(part["enrolled_on"])
    wd = days_of(part["withdrawn_on"])
    wd = np.where(wd <= cut_d, wd, NAT)  # a withdrawal after the cut-off is not known then

    # 1. enrolment window
    keep = np.ones(n_source, dtype=bool)
    lo, hi = _as_day(enrol_from, "enrol_from"), _as_day(enrol_to, "enrol_to")
    if lo is not None:
        keep &= enr >= _day_number(lo)
    if hi is not None:
        keep &= enr <= _day_number(hi)
    excluded["enrolled_outside_window"] = int((~keep).sum())

    # 2. time zero; the first interview (earliest date, then file order) gives the format too
    iv = ds.interviews
    iv_code = person_codes(ds, "interviews")
    iv_day = days_of(iv["interviewed_on"])
    o = np.lexsort((iv_day, iv_code))
    firsts = o[np.r_[True, iv_code[o][1:] != iv_code[o][:-1]]] if len(o) else o
    first_iv_day = np.full(n_source, NAT)
    first_iv_day[iv_code[firsts]] = iv_day[firsts]
    fmt = np.full(n_source, "none", dtype=object)
    fmt[iv_code[firsts]] = iv["format"].to_numpy()[firsts]
    if isinstance(time_zero, pd.Series):
        pos = ids.get_indexer(time_zero.index)
        # duplicates found on the integer positions: Index.has_duplicates would hash the
        # (up to a million) string identifiers a second time
        if len(pos) and (pos >= 0).all() and np.bincount(pos).max() > 1 or (
                (pos < 0).any() and time_zero.index.has_duplicates):
            raise ValueError("time_zero Series has duplicate participant_id in its index")
        if (pos < 0).any():
            unknown_ids = time_zero.index[pos < 0]
            raise ValueError(f"time_zero names {len(unknown_ids)} participant_id(s) not in the data, "
                             f"e.g. {list(unknown_ids[:3])}")
        t0 = np.full(n_source, NAT)
        t0[pos] = days_of(time_zero)
        tz_label = "custom"
    elif isinstance(time_zero, str) and time_zero == "enrolment":
        t0 = enr.copy()
        tz_label = "enrolment"
    elif isinstance(time_zero, str) and time_zero == "interview":
        t0 = first_iv_day.copy()
        early = int((keep & (t0 != NAT) & (t0 < enr)).sum())
        if early:
            notes["interview_before_enrolment"] = early
        tz_label = "interview"
    else:
        raise ValueError("time_zero must be 'enrolment', 'interview' or a Series of dates")
    missing = keep & (t0 == NAT)
    excluded["no_time_zero"] = int(missing.sum())
    keep &= ~missing
    after = keep & (t0 > cut_d)
    excluded["time_zero_after_cutoff"] = int(after.sum())
    keep &= ~after
    wd_before = keep & (wd < t0)
    excluded["withdrawn_before_time_zero"] = int(wd_before.sum())
    keep &= ~wd_before

    # 3. placements of a counted type started by the cut-off, of people still in
    pl = ds.placements
    pl_code = person_codes(ds, "placements")
    pl_day = days_of(pl["started_on"])
    counted = pl["contract_type"].isin(types).to_numpy()
    mine = (pl_code >= 0) & keep[np.maximum(pl_code, 0)]
    n_other = int((mine & ~counted).sum())
    if n_other:
        notes["placements_of_other_types"] = n_other
    sel = mine & counted & (pl_day <= cut_d)
    pc, pd_, ptype = pl_code[sel], pl_day[sel], pl["contract_type"].to_numpy()[sel]
    before = pd_ < t0[pc]
    placed_before = np.zeros(n_source, dtype=bool)
    placed_before[pc[before]] = True
    if prior_placements == "exclude":
        excluded["placed_before_time_zero"] = int(placed_before.sum())
        keep &= ~placed_before
    elif placed_before.any():
        notes["placed_before_time_zero_kept"] = int((placed_before & keep).sum())
    a = ~before & keep[pc]
    pc, pd_, ptype = pc[a], pd_[a], ptype[a]
    o = np.lexsort((ptype.astype(str), pd_, pc))  # earliest, then contract type name: deterministic
    firsts = o[np.r_[True, pc[o][1:] != pc[o][:-1]]] if len(o) else o
    pl_on = np.full(n_source, NAT)
    pl_on[pc[firsts]] = pd_[firsts]
    pl_type = np.full(n_source, None, dtype=object)
    pl_type[pc[firsts]] = ptype[firsts]

    # 4. event and time: placement wins ties with withdrawal; a later placement is not counted
    idx = np.flatnonzero(keep)
    t0, pl_on, wd, pl_type = t0[idx], pl_on[idx], wd[idx], pl_type[idx]
    has_pl, has_wd = pl_on != NAT, wd != NAT
    pl_first = has_pl & (pl_on <= wd)
    wd_first = has_wd & ~pl_first
    n_after_wd = int((has_pl & wd_first).sum())
    if n_after_wd:
        notes["placed_after_withdrawal_not_counted"] = n_after_wd
    event = np.where(pl_first, 1, np.where(wd_first, 2, 0)).astype(np.int8)
    exit_d = np.where(pl_first, pl_on, np.where(wd_first, wd, cut_d))
    time = (exit_d - t0).astype(float)
    time = np.where((time == 0) & (event > 0), 0.5, time)

    p = part.iloc[idx]
    year = (enr[idx].astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970)
    age = year - p["birth_year"].to_numpy()
    out = pd.DataFrame(
        {
            "participant_id": p["participant_id"].to_numpy(),
            "gender": pd.Categorical(p["gender"].to_numpy(), categories=list(GENDERS)),
            "age_band": _age_band(age),
            "citizenship_group": pd.Categorical(np.where(p["citizenship"].to_numpy() == "IT", "IT", "foreign"),
                                                categories=["IT", "foreign"]),
            "education": pd.Categorical(p["education"].to_numpy(), categories=list(EDUCATION_LEVELS), ordered=True),
            "enrolment_year": year.astype("int64"),
            "interview_format": pd.Categorical(fmt[idx], categories=["individual", "plenary", "none"]),
            "t0": t0.astype("datetime64[D]").astype("datetime64[ns]"),
            "exit_on": exit_d.astype("datetime64[D]").astype("datetime64[ns]"),
            "time": time,
            "event": event,
            "placed": event == 1,
            "contract_type": np.where(pl_first, pl_type, None),
        }
    )
    out.attrs.update(
        n_source=n_source,
        excluded=excluded,
        notes=notes,
        cutoff=str(cut.date()),
        time_zero=tz_label,
        contract_types=list(types),
    )
    return out


def _toy_dataset():
    """A four-person dataset for the examples (not public API)."""
    import datetime as dt
    from pathlib import Path
    from types import SimpleNamespace

    D = pd.to_datetime
    participants = pd.DataFrame(
        {
            "participant_id": ["P1", "P2", "P3", "P4", "P5"],
            "enrolled_on": D(["2024-01-01", "2024-01-01", "2024-01-01", "2024-01-02", "2024-05-01"]),
            "birth_year": [2000, 1990, 1970, 1980, 1990],
            "gender": ["F", "M", "F", "M", "F"],
            "citizenship": ["IT", "MA", "IT", "RO", "IT"],
            "education": ["upper_secondary_diploma"] * 5,
            "withdrawn_on": D([None, None, "2024-01-11", None, None]),
        }
    )
    interviews = pd.DataFrame(
        {"participant_id": ["P1", "P3"], "interviewed_on": D(["2024-01-11", "2024-01-06"]),
         "format": ["individual", "plenary"]}
    )
    placements = pd.DataFrame(
        {
            "participant_id": ["P1", "P2", "P3"],
            "started_on": D(["2024-01-31", "2024-01-01", "2024-03-01"]),
            "contract_type": ["fixed_term", "permanent", "fixed_term"],
        }
    )
    return SimpleNamespace(participants=participants, interviews=interviews, placements=placements,
                           programmes=pd.DataFrame(), extracted_on=dt.date(2024, 5, 31), source="synthetic",
                           data_dir=Path("."), cutoff=pd.Timestamp("2024-05-31"))


# --------------------------------------------------------------------------- fixed-term episodes
# (stabilisation analysis, issue 6: ``ixl_eval/stabilisation.py`` and ``notebooks/30_stabilizzazione``)

EPISODE_EVENT_CODES = {0: "censored", 1: "conversion", 2: "ended_without_conversion"}

# The subgroup vocabulary of the episode frame (columns a parameter set may name; names in vocab).
EPISODE_SUBGROUPS: tuple[str, ...] = ("employer_size", "sector", "channel", "enrolment_year", "gender",
                                      "citizenship_group")

# Why a fixed-term contract is left out of the episodes (reader-facing words: report/vocab.py).
EPISODE_EXCLUSION_REASONS = ("started_after_cutoff", "not_first_fixed_term", "started_outside_window")


def fixed_term_episodes(
    ds,
    *,
    which: Literal["first", "all"] = "first",
    cutoff=None,
    start_from=None,
    start_to=None,
) -> pd.DataFrame:
    """Build the fixed-term episode frame: one row per fixed-term placement, from its start.

    Time zero is the contract start (``started_on``). The event is the conversion to a permanent
    contract at the same employer (``converted_on``, ``event = 1``); the contract ending without
    conversion is a competing event (``event = 2``); a contract still running at the cut-off is
    censored there (``event = 0``). Dates after the cut-off are unknown at the cut-off, so a
    conversion or an end after it is censoring. A conversion on the contract's last day counts as a
    conversion. Times follow the rules of :func:`time_to_placement` (whole days; an event on the
    start day gets ``0.5``).

    Parameters
    ----------
    ds : Dataset
        Validated data (:func:`ixl_eval.dataset.load_dataset`).
    which : {"first", "all"}
        ``"first"``: each person's first fixed-term contract started by the cut-off (earliest
        ``started_on``, ties broken by ``placement_id``); ``"all"``: every fixed-term contract
        (a person can then contribute several episodes: use cluster-robust errors).
    cutoff : date-like, optional
        End of follow-up; default the extraction date; not after it.
    start_from, start_to : date-like, optional
        Keep contracts started in this window (both ends included). With ``which="first"`` the
        window applies to the first contract: a person whose first fixed-term contract started
        before ``start_from`` is excluded, not represented by a later contract.

    Returns
    -------
    pandas.DataFrame
        Columns ``placement_id``, ``participant_id``, ``employer_id`` (pseudonymous: for grouping,
        never for output), ``employer_name`` (missing unless the optional column is in the data),
        covariates ``employer_size``, ``sector``, ``channel``, ``gender``, ``citizenship_group``,
        ``enrolment_year``, ``start_year``, ``start_quarter`` (e.g. ``"2023Q1"``), ``t0``,
        ``exit_on`` (date of the event or of censoring), ``time`` (days, float >= 0), ``event``
        (0, 1, 2: :data:`EPISODE_EVENT_CODES`), ``converted`` (bool). ``attrs`` hold ``n_source``
        (fixed-term placements in the data), ``excluded`` (reason -> count), ``cutoff``,
        ``which``; ``n_source == len(frame) + sum(excluded.values())`` always holds.

    Raises
    ------
    ValueError
        Bad ``which``, a cut-off after the extraction date, a malformed date.

    Examples
    --------
    >>> f = fixed_term_episodes(_toy_episodes_dataset(), which="all", cutoff="2024-04-30")
    >>> f[["placement_id", "time", "event", "employer_size"]]
      placement_id   time  event employer_size
    0           C1   90.0      1         large
    1           C2   30.0      2         micro
    2           C3  120.0      0         small
    3           C4    0.5      2         large
    4           C5   20.0      0         large
    >>> fixed_term_episodes(_toy_episodes_dataset(), cutoff="2024-04-30").attrs["excluded"]
    {'started_after_cutoff': 1, 'not_first_fixed_term': 1, 'started_outside_window': 0}
    """
    from ..contract import EMPLOYER_SIZES

    if which not in ("first", "all"):
        raise ValueError("which must be 'first' or 'all'")
    cut = _as_day(cutoff, "cutoff") or ds.cutoff.normalize()
    if cut > ds.cutoff.normalize():
        raise ValueError(f"cutoff {cut.date()} is after the extraction date {ds.extracted_on}: nothing is known then")
    lo, hi = _as_day(start_from, "start_from"), _as_day(start_to, "start_to")

    pl = ds.placements
    ft = pl.loc[pl["contract_type"] == "fixed_term"].copy()
    n_source = len(ft)
    excluded = dict.fromkeys(EPISODE_EXCLUSION_REASONS, 0)

    late = (ft["started_on"] > cut).to_numpy()
    excluded["started_after_cutoff"] = int(late.sum())
    ft = ft.loc[~late]
    if which == "first":
        ft = ft.sort_values(["participant_id", "started_on", "placement_id"])
        later = ft.duplicated("participant_id", keep="first").to_numpy()
        excluded["not_first_fixed_term"] = int(later.sum())
        ft = ft.loc[~later]
    inside = pd.Series(True, index=ft.index)
    if lo is not None:
        inside &= ft["started_on"] >= lo
    if hi is not None:
        inside &= ft["started_on"] <= hi
    excluded["started_outside_window"] = int((~inside).sum())
    ft = ft.loc[inside].sort_values(["started_on", "placement_id"]).reset_index(drop=True)

    # Event: conversion known by the cut-off wins over the end (conversion on the last day counts);
    # the contract rules guarantee started_on < converted_on <= ended_on.
    conv = ft["converted_on"].where(ft["converted_on"] <= cut)
    end = ft["ended_on"].where(ft["ended_on"] <= cut)
    is_conv = conv.notna().to_numpy()
    is_end = end.notna().to_numpy() & ~is_conv
    event = np.where(is_conv, 1, np.where(is_end, 2, 0)).astype(np.int8)
    exit_on = pd.Series(cut, index=ft.index).where(~is_conv, conv).where(~is_end, end)
    time = _days(exit_on, ft["started_on"])
    time = np.where((time == 0) & (event > 0), 0.5, time)

    pid = ft["participant_id"]
    pos = person_index(ds).get_indexer(pid)  # one look-up for the three person columns

    def person(col: str) -> pd.Series:
        s = ds.participants[col].iloc[np.maximum(pos, 0)].reset_index(drop=True)
        return s.where(pos >= 0) if (pos < 0).any() else s

    cit = person("citizenship")
    name = ft["employer_name"] if "employer_name" in ft.columns else pd.Series(np.nan, index=ft.index, dtype=object)
    sectors = sorted(ft["sector"].dropna().unique())
    out = pd.DataFrame(
        {
            "placement_id": ft["placement_id"].to_numpy(),
            "participant_id": pid.to_numpy(),
            "employer_id": ft["employer_id"].to_numpy(),
            "employer_name": name.to_numpy(dtype=object),
            "employer_size": pd.Categorical(ft["employer_size"], categories=list(EMPLOYER_SIZES), ordered=True),
            "sector": pd.Categorical(ft["sector"], categories=sectors),
            "channel": pd.Categorical(ft["channel"]),
            "gender": pd.Categorical(person("gender"), categories=list(GENDERS)),
            "citizenship_group": pd.Categorical(np.where(cit.to_numpy() == "IT", "IT", "foreign"),
                                                categories=["IT", "foreign"]),
            "enrolment_year": person("enrolled_on").dt.year.astype("int64").to_numpy(),
            "start_year": ft["started_on"].dt.year.astype("int64").to_numpy(),
            "start_quarter": ft["started_on"].dt.to_period("Q").astype(str).to_numpy(),
            "t0": ft["started_on"].to_numpy(),
            "exit_on": pd.to_datetime(exit_on).to_numpy(),
            "time": time.astype(float),
            "event": event,
            "converted": event == 1,
        }
    )
    out.attrs.update(n_source=n_source, excluded=excluded, cutoff=str(cut.date()), which=which)
    return out


def _toy_episodes_dataset():
    """Four people, six fixed-term contracts and one permanent one, for the examples (not public API)."""
    import datetime as dt
    from pathlib import Path
    from types import SimpleNamespace

    D = pd.to_datetime
    participants = pd.DataFrame(
        {
            "participant_id": ["P1", "P2", "P3", "P4"],
            "enrolled_on": D(["2022-01-10", "2022-05-01", "2023-01-15", "2023-06-01"]),
            "gender": ["F", "M", "F", "M"],
            "citizenship": ["IT", "MA", "IT", "RO"],
        }
    )
    placements = pd.DataFrame(
        {
            "placement_id": ["C1", "C2", "C3", "C4", "C5", "C6"],
            "participant_id": ["P1", "P2", "P3", "P4", "P1", "P4"],
            "employer_id": ["E1", "E2", "E3", "E1", "E1", "E2"],
            "employer_size": ["large", "micro", "small", "large", "large", "micro"],
            "sector": ["Trasporti", "Ristorazione", "Logistica", "Trasporti", "Trasporti", "Pulizie"],
            "contract_type": ["fixed_term", "fixed_term", "fixed_term", "fixed_term", "fixed_term", "fixed_term"],
            "channel": ["ixl_companies", "ips", "apl", "ixl_companies", "ixl_companies", "ips"],
            "started_on": D(["2023-01-01", "2023-02-01", "2024-01-01", "2024-03-01", "2024-04-10", "2024-05-02"]),
            "ended_on": D(["2023-06-30", "2023-03-03", None, "2024-03-01", None, None]),
            "converted_on": D(["2023-04-01", None, None, None, None, None]),
        }
    )
    placements = pd.concat([placements, pd.DataFrame({
        "placement_id": ["C7"], "participant_id": ["P2"], "employer_id": ["E3"], "employer_size": ["small"],
        "sector": ["Logistica"], "contract_type": ["permanent"], "channel": ["apl"],
        "started_on": D(["2023-09-01"]), "ended_on": D([None]), "converted_on": D([None]),
    })], ignore_index=True)
    return SimpleNamespace(participants=participants, placements=placements, interviews=pd.DataFrame(),
                           programmes=pd.DataFrame(), extracted_on=dt.date(2024, 5, 31), source="synthetic",
                           data_dir=Path("."), cutoff=pd.Timestamp("2024-05-31"))
