"""Programme indicators by period: counts and shares by year and quarter, comparisons, targets.

:class:`Indicators` turns a validated dataset into the figures of the activity report and of the
quarterly monitoring: enrolments and their mix, intake interviews, placements, persons placed and
placed for the first time, by year or quarter, year to date, and against the same period of the
previous year. :class:`AnnualProjection` projects the year's placements from the year to date.
:func:`holm` adjusts p-values when many comparisons are made at once. :func:`analyse` computes
everything both reports need in one call and returns a :class:`KpiResult` of plain numbers (no
language, no disclosure threshold): the tables, sentences, charts and records of the reports are
built from it in :mod:`ixl_eval.report.kpi`.

Definitions (also in ``docs/caveats/panoramica.md`` and ``docs/caveats/monitoraggio.md``)
------------------------------------------------------------------------------------------
- Only records dated on or before the analysis cut-off count; each counts in the period of its
  own date. A period running past the cut-off is cut at the cut-off and flagged incomplete.
- **Enrolments**: people whose ``enrolled_on`` falls in the period.
- **Intake interviews** (``interviewed``): people whose *first* intake interview falls in the
  period (one intake per person; later rows are follow-ups or repeats).
- **Interview within 15 days**: among people enrolled in the period *at least 15 days before the
  cut-off*, the share whose first interview came at most 15 days after enrolment. People enrolled
  fewer than 15 days before the cut-off are left out of the denominator (their 15 days are not
  over: counting them as "not yet" would understate the share) and counted as
  ``interview_too_recent``. An interview recorded before enrolment counts as day 0.
- **Median days to interview**: among the same people, those interviewed by the cut-off; people
  not interviewed yet are not in the median (their number is ``interview_eligible -
  interview_done``).
- **Placements**: contracts whose ``started_on`` falls in the period; **permanent** likewise,
  ``contract_type == "permanent"``.
- **Persons placed**: distinct people with at least one placement starting in the period.
- **First placed**: persons whose first-ever placement (earliest ``started_on`` in the whole
  extract, up to the cut-off) starts in the period. They are a subset of the persons placed, and
  **share of new candidates** = first placed / persons placed (the report's 40% target).
- **Age**: reference year minus birth year (at enrolment: enrolment year minus birth year, from
  :func:`ixl_eval.cohorts.time_to_placement`); birth years are never shown.
- **Same period last year**: the same calendar dates one year earlier (29 February becomes 28).

Examples
--------
>>> from ixl_eval.kpi import Indicators, _toy_dataset
>>> ind = Indicators().fit(_toy_dataset(), cutoff="2024-04-30")
>>> ind
<Indicators: 10 people enrolled, 11 placements, cut-off 2024-04-30 (1 record(s) after it left out)>
>>> q = ind.table("quarter").set_index("period")
>>> q.loc["2024Q1", ["placements", "permanent", "persons_placed", "first_placed"]].astype(int).tolist()
[5, 2, 4, 2]
>>> cmp = ind.compare("2024-01-01", "2024-03-31")
>>> round(float(cmp.loc["placements", "change"]), 3)   # 5 placements against 3 in 2023 Q1
0.667
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..contract import CHANNELS, CONTRACT_TYPES, EDUCATION_LEVELS, EMPLOYER_SIZES, GENDERS
from ..dataset import person_codes
from .multiplicity import holm

__all__ = [
    "INDICATORS",
    "SHARES",
    "TESTED",
    "INTERVIEW_DAYS",
    "TOP_CITIZENSHIPS",
    "PERSON_COLUMNS",
    "PLACEMENT_COLUMNS",
    "Indicators",
    "AnnualProjection",
    "KpiResult",
    "analyse",
    "ActivityGaps",
    "activity_gaps",
    "rate_ratio_test",
    "wilson",
    "holm",
    "quarter_bounds",
]

INTERVIEW_DAYS = 15
TOP_CITIZENSHIPS = 8  # foreign citizenships shown one by one; the report names six, two more show the ranking

# Indicator -> kind: "count" (people or contracts), "share" (numerator / denominator named in
# SHARES) or "days". Reader-facing names: ixl_eval.report.vocab.indicator().
INDICATORS: dict[str, str] = {
    "enrolments": "count",
    "interviewed": "count",
    "interview_eligible": "count",
    "interviewed_within": "count",
    "interviewed_within_share": "share",
    "median_days_to_interview": "days",
    "placements": "count",
    "permanent": "count",
    "permanent_share": "share",
    "persons_placed": "count",
    "first_placed": "count",
    "first_placed_share": "share",
}
# share -> (numerator, denominator)
SHARES = {
    "interviewed_within_share": ("interviewed_within", "interview_eligible"),
    "permanent_share": ("permanent", "placements"),
    "first_placed_share": ("first_placed", "persons_placed"),
}
# Counts whose change against last year is tested (rate ratio); the rest are shown, not tested.
TESTED = ("enrolments", "interviewed", "placements", "permanent", "persons_placed", "first_placed")

# Level order of the breakdowns (the contract's order, which reads naturally).
_ORDER = {
    "contract_type": CONTRACT_TYPES,
    "channel": CHANNELS,
    "employer_size": EMPLOYER_SIZES,
    "gender": GENDERS,
    "education": EDUCATION_LEVELS,
    "citizenship_group": ("IT", "foreign"),
    "under_40": ("yes", "no"),
}
PERSON_COLUMNS = ("gender", "age_band", "under_40", "citizenship_group", "citizenship", "education")
PLACEMENT_COLUMNS = ("contract_type", "channel", "employer_size")


# ============================================================================ small helpers


def _day(x, what: str) -> pd.Timestamp:
    try:
        return pd.Timestamp(x).normalize()
    except (ValueError, TypeError) as e:
        raise ValueError(f"{what}: not a date: {x!r}") from e


_NO_DAY = np.iinfo(np.int64).min  # a missing date as a day number: below every period


def _day_number(d: pd.Timestamp) -> int:
    return int(np.datetime64(d.normalize(), "D").astype(np.int64))


def _day_numbers(dates: pd.Series) -> np.ndarray:
    """Dates (midnight) as int64 days since 1970-01-01, :data:`_NO_DAY` where missing."""
    v = dates.to_numpy(dtype="datetime64[D]").astype(np.int64)  # NaT becomes int64 min
    return np.where(np.asarray(pd.isna(dates)), _NO_DAY, v)


def _count_by_period(dates: pd.Series, values: pd.Series, periods: pd.PeriodIndex, order: list) -> np.ndarray:
    """Rows by period (rows) and level (columns, in ``order``), as an int64 array.

    What ``pd.crosstab(dates.dt.to_period(f), values.astype(str))`` reindexed to ``periods`` and
    ``order`` gives, counted with one ``bincount`` on integer codes: the crosstab (a pivot
    table) and turning a million categorical values into strings took seconds per breakdown.
    Rows without a date, outside ``periods`` or with a level not in ``order`` are not counted.
    """
    months = dates.to_numpy(dtype="datetime64[M]").astype(np.int64)  # NaT: int64 min
    valid = np.asarray(dates.notna())
    quarterly = periods.freqstr.startswith("Q")
    year = months // 12 + 1970
    key = year * 4 + (months % 12) // 3 if quarterly else year
    pkeys = periods.year.to_numpy() * 4 + periods.quarter.to_numpy() - 1 if quarterly else periods.year.to_numpy()
    p_idx = np.where(valid, pd.Index(pkeys).get_indexer(key), -1)
    levels = pd.Index(order, dtype=object)
    if isinstance(values.dtype, pd.CategoricalDtype):
        lut = levels.get_indexer(values.cat.categories.astype(str))
        codes = values.cat.codes.to_numpy()
        v_idx = np.where(codes >= 0, lut[np.maximum(codes, 0)], -1)
    else:
        v_idx = levels.get_indexer(values.to_numpy(dtype=object))
    ok = (p_idx >= 0) & (v_idx >= 0)
    flat = np.bincount(p_idx[ok] * len(levels) + v_idx[ok], minlength=len(periods) * len(levels))
    return flat.reshape(len(periods), len(levels)).astype(np.int64)


def _in(dates: pd.Series, lo: pd.Timestamp, hi: pd.Timestamp) -> np.ndarray:
    return ((dates >= lo) & (dates <= hi)).to_numpy()


def _last_year(d: pd.Timestamp) -> pd.Timestamp:
    # DateOffset maps 29 February to 28 February, the same calendar span one year earlier.
    return d - pd.DateOffset(years=1)


def quarter_bounds(label: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day of a quarter given as ``"2024Q1"``.

    Examples
    --------
    >>> [d.date().isoformat() for d in quarter_bounds("2024Q1")]
    ['2024-01-01', '2024-03-31']
    """
    try:
        p = pd.Period(str(label).strip().upper(), freq="Q")
    except (ValueError, TypeError) as e:
        raise ValueError(f"quarter {label!r} is not of the form 2024Q1") from e
    return p.start_time.normalize(), p.end_time.normalize()


def _share(num, den) -> float:
    return float(num) / float(den) if den else float("nan")


# ============================================================================ statistics


def rate_ratio_test(now: int, before: int, level: float = 0.95) -> dict:
    """Exact test and interval for the ratio of two counts over equal spans of time.

    Treats both counts as Poisson. Given their sum, ``now`` is binomial with probability
    ``r / (1 + r)`` where ``r`` is the rate ratio, so the Clopper–Pearson interval for that
    probability gives an exact interval for ``r`` and the binomial test of probability 1/2 tests
    "no change" (the same as R's ``poisson.test(c(now, before))``).

    Returns
    -------
    dict
        ``ratio``, ``ratio_low``, ``ratio_high``, ``change`` (ratio - 1), ``change_low``,
        ``change_high``, ``p_value``; NaN where undefined (both counts zero), ``inf`` when
        ``before`` is zero.

    Examples
    --------
    >>> r = rate_ratio_test(152, 102)            # placements Q1 2024 against Q1 2023
    >>> round(r["change"], 2), round(r["ratio_low"], 2), round(r["ratio_high"], 2), round(r["p_value"], 4)
    (0.49, 1.15, 1.93, 0.002)
    """
    from scipy.stats import binomtest

    now, before = int(now), int(before)
    if now < 0 or before < 0:
        raise ValueError("counts must be non-negative")
    n = now + before
    if n == 0:
        nan = float("nan")
        return dict(ratio=nan, ratio_low=nan, ratio_high=nan, change=nan, change_low=nan, change_high=nan,
                    p_value=nan)
    res = binomtest(now, n, 0.5)
    ci = res.proportion_ci(confidence_level=level, method="exact")

    def to_ratio(p):
        return float("inf") if p >= 1 else p / (1 - p)

    ratio = float("inf") if before == 0 else now / before
    lo, hi = to_ratio(ci.low), to_ratio(ci.high)
    return dict(ratio=ratio, ratio_low=lo, ratio_high=hi, change=ratio - 1, change_low=lo - 1,
                change_high=hi - 1, p_value=float(res.pvalue))


def wilson(num: int, den: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a share (the closed form: importing statsmodels for it would add
    seconds to every notebook start; ``tests/test_kpi.py`` checks it against statsmodels)."""
    from scipy.special import ndtri

    if not den:
        return float("nan"), float("nan")
    n, p = float(den), float(num) / float(den)
    z = float(ndtri(1 - (1 - level) / 2))
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _change(now, before) -> float:
    """Relative change ``now / before - 1`` (inf from zero, NaN for 0 against 0)."""
    if before:
        return float(now) / float(before) - 1
    return float("inf") if now else float("nan")


# ============================================================================ indicators


class Indicators:
    """Programme indicators (see the module docstring for every definition).

    Parameters
    ----------
    interview_days : int
        The intake-interview target: first interview at most this many days after enrolment.

    Attributes
    ----------
    cutoff_ : Timestamp
    people_ : DataFrame
        One row per person enrolled by the cut-off, indexed by ``participant_id``:
        ``enrolled_on``, ``first_interview_on``, ``interview_format``, ``first_placement_on`` and
        the covariates ``gender``, ``age_band``, ``under_40``, ``citizenship_group``,
        ``citizenship``, ``education``, ``enrolment_year``.
    placements_ : DataFrame
        Placements started by the cut-off (``participant_id``, ``started_on``,
        ``contract_type``, ``channel``, ``employer_size``).
    data_start_ : Timestamp
        First day of the month of the first enrolment: periods before it are not shown, a
        period starting before it is incomplete.
    left_out_ : dict
        Records dated after the cut-off, by table (never dropped silently).

    Examples
    --------
    >>> ind = Indicators().fit(_toy_dataset(), cutoff="2024-04-30")
    >>> ind.period("2024-01-01", "2024-03-31")["interviewed_within_share"]
    0.75
    """

    def __init__(self, interview_days: int = INTERVIEW_DAYS):
        if int(interview_days) < 1:
            raise ValueError("interview_days must be at least 1")
        self.interview_days = int(interview_days)

    def __repr__(self) -> str:
        if not hasattr(self, "cutoff_"):
            return f"<Indicators (not fitted) interview_days={self.interview_days}>"
        out = sum(self.left_out_.values())
        return (f"<Indicators: {len(self.people_)} people enrolled, {len(self.placements_)} placements, "
                f"cut-off {self.cutoff_.date()} ({out} record(s) after it left out)>")

    # ------------------------------------------------------------------ fitting
    def fit(self, ds, cutoff=None) -> "Indicators":
        """Prepare per-person dates and covariates as known at the cut-off.

        Parameters
        ----------
        ds : Dataset
            Validated data.
        cutoff : date-like, optional
            Analysis cut-off (default: the extraction date); not after the extraction date.

        Returns
        -------
        self
        """
        from .cohorts import time_to_placement

        extract = pd.Timestamp(ds.extracted_on).normalize()
        cut = extract if cutoff is None or str(cutoff) == "" else _day(cutoff, "cutoff")
        if cut > extract:
            raise ValueError(f"cutoff {cut.date()} is after the extraction date {extract.date()}: nothing is known then")
        part = ds.participants
        enrolled = part["enrolled_on"] <= cut
        # The covariates (age band, citizenship group, ...) come from the analysis frame so every
        # notebook derives them the same way; with time zero = enrolment and earlier placements
        # kept, the frame holds exactly the people enrolled by the cut-off.
        frame = time_to_placement(ds, cutoff=cut, prior_placements="keep")
        if len(frame) != int(enrolled.sum()):
            raise RuntimeError(
                f"the time-to-placement frame has {len(frame)} people but {int(enrolled.sum())} were enrolled "
                f"by the cut-off; excluded: {frame.attrs.get('excluded')}"
            )
        cov_cols = ["gender", "age_band", "citizenship_group", "education", "enrolment_year", "interview_format"]
        people = part.loc[enrolled, ["participant_id", "enrolled_on", "citizenship"]].set_index("participant_id")
        if np.array_equal(frame["participant_id"].to_numpy(), people.index.to_numpy()):
            # the frame keeps the participants' order: join by position, not by hashing a million ids
            for c in cov_cols:
                people[c] = frame[c].array
        else:
            people = people.join(frame.set_index("participant_id")[cov_cols])
        people["under_40"] = pd.Categorical(
            np.where(people["age_band"].isin(["<30", "30-39"]), "yes", "no"), categories=["yes", "no"]
        )
        # first interview and first placement per person, on integer person codes
        mine = enrolled.to_numpy()
        who = np.flatnonzero(mine)

        def first_date(table: str, dates: pd.Series, known: np.ndarray) -> np.ndarray:
            codes = person_codes(ds, table)
            sel = known & (codes >= 0) & dates.notna().to_numpy()
            sel[sel] = mine[codes[sel]]
            first = np.full(len(part), np.iinfo(np.int64).max)
            np.minimum.at(first, codes[sel], dates.to_numpy(dtype="datetime64[ns]")[sel].view(np.int64))
            first = first[who]
            return np.where(first == np.iinfo(np.int64).max, np.datetime64("NaT", "ns"),
                            first.view("datetime64[ns]"))

        iv = ds.interviews
        iv_known = (iv["interviewed_on"] <= cut).to_numpy()
        iv_code = person_codes(ds, "interviews")
        iv_people = (iv_code >= 0) & mine[np.maximum(iv_code, 0)]
        people["first_interview_on"] = first_date("interviews", iv["interviewed_on"], iv_known)

        pl = ds.placements
        pl_known = pl["started_on"] <= cut
        cols = ["participant_id", "started_on", "contract_type", "channel", "employer_size"]
        placements = pl.loc[pl_known, cols].reset_index(drop=True)
        people["first_placement_on"] = first_date("placements", pl["started_on"], pl_known.to_numpy())

        self.cutoff_ = cut
        self.people_ = people
        self.placements_ = placements
        # table() per freq and breakdown() per (column, freq, top): the fitted data never change
        self._tables: dict[str, pd.DataFrame] = {}
        self._arrays = None  # built by _day_arrays() on first use
        self._breakdowns: dict[tuple, pd.DataFrame] = {}
        # Data are taken to start on the first day of the month of the first enrolment: a
        # programme opening on 9 January has a complete first year, one opening in June has not.
        first = people["enrolled_on"].min() if len(people) else cut
        self.data_start_ = pd.Timestamp(year=first.year, month=first.month, day=1)
        self.left_out_ = {
            "participants_enrolled_after_cutoff": int((~enrolled).sum()),
            "interviews_after_cutoff": int((~iv_known).sum()),
            "interviews_of_people_enrolled_after_cutoff": int((iv_known & ~iv_people).sum()),
            "placements_after_cutoff": int((~pl_known).sum()),
        }
        return self

    def _check(self):
        if not hasattr(self, "cutoff_"):
            raise RuntimeError("call fit() first")

    # ------------------------------------------------------------------ one period
    def period(self, start, end) -> dict:
        """Every indicator for the days ``start`` to ``end`` (both included, cut at the cut-off).

        Returns
        -------
        dict
            Indicator name -> value (counts are ``int``, shares and days ``float``, NaN when the
            denominator is empty), plus ``interview_done`` (eligible people interviewed by the
            cut-off), ``interview_too_recent``, ``start``, ``end`` and ``complete``.
        """
        self._check()
        lo, hi_asked = _day(start, "start"), _day(end, "end")
        hi = min(hi_asked, self.cutoff_)
        a = self._day_arrays()
        lo_d, hi_d = _day_number(lo), _day_number(hi)
        out: dict = {"start": lo, "end": hi, "complete": bool(hi_asked <= self.cutoff_)}

        def within(days):
            return (days >= lo_d) & (days <= hi_d)  # missing dates are _NO_DAY: never within

        enrolled = within(a["enrolled"])
        out["enrolments"] = int(enrolled.sum())
        out["interviewed"] = int(within(a["first_interview"]).sum())

        # Interview timeliness: only people whose interview_days are over by the cut-off.
        D = self.interview_days
        eligible = enrolled & (a["enrolled"] + D <= _day_number(self.cutoff_))
        e_days = a["days_to_interview"][eligible]
        done = ~np.isnan(e_days)
        out["interview_eligible"] = int(eligible.sum())
        out["interview_too_recent"] = int((enrolled & ~eligible).sum())
        out["interview_done"] = int(done.sum())
        out["interviewed_within"] = int((e_days[done] <= D).sum())
        out["interviewed_within_share"] = _share(out["interviewed_within"], out["interview_eligible"])
        out["median_days_to_interview"] = float(np.median(e_days[done])) if done.any() else float("nan")

        in_pl = within(a["placement_start"])
        out["placements"] = int(in_pl.sum())
        out["permanent"] = int((in_pl & a["permanent"]).sum())
        out["permanent_share"] = _share(out["permanent"], out["placements"])
        out["persons_placed"] = int(len(np.unique(a["placement_person"][in_pl])))
        out["first_placed"] = int(within(a["first_placement"]).sum())
        out["first_placed_share"] = _share(out["first_placed"], out["persons_placed"])
        return out

    def _day_arrays(self) -> dict:
        """The fitted dates as int64 day numbers (and the per-person constants), built once.

        :meth:`period` runs for every quarter and year; comparing datetime Series, subtracting
        dates and comparing contract types as strings on every call cost ~0.25 s a period at
        a million people, for arrays that never change after :meth:`fit`.
        """
        a = getattr(self, "_arrays", None)
        if a is None:
            p, pl = self.people_, self.placements_
            enrolled, first_iv = _day_numbers(p["enrolled_on"]), _day_numbers(p["first_interview_on"])
            days = np.where((first_iv == _NO_DAY) | (enrolled == _NO_DAY), np.nan,
                            np.maximum(first_iv - enrolled, 0).astype(float))
            a = self._arrays = {
                "enrolled": enrolled,
                "first_interview": first_iv,
                "first_placement": _day_numbers(p["first_placement_on"]),
                "days_to_interview": days,
                "placement_start": _day_numbers(pl["started_on"]),
                "permanent": (pl["contract_type"] == "permanent").to_numpy(),
                # persons placed are counted on integer codes (participant_id is never missing)
                "placement_person": pd.factorize(pl["participant_id"])[0],
            }
        return a

    def _periods(self, freq: str) -> pd.PeriodIndex:
        if freq not in ("year", "quarter"):
            raise ValueError("freq must be 'year' or 'quarter'")
        f = "Y" if freq == "year" else "Q"
        return pd.period_range(self.data_start_.to_period(f), self.cutoff_.to_period(f), freq=f)

    def table(self, freq: str = "quarter") -> pd.DataFrame:
        """Every indicator for every year or quarter from the first enrolment to the cut-off.

        Returns
        -------
        DataFrame
            One row per period: ``period`` (``"2024"`` or ``"2024Q1"``), ``start``, ``end``,
            ``complete`` (False for the period cut by the cut-off, and for a first period that
            starts before the first enrolment), then the indicators of :meth:`period`.
        """
        self._check()
        if freq in self._tables:
            return self._tables[freq].copy()
        rows = []
        for per in self._periods(freq):
            start, end = per.start_time.normalize(), per.end_time.normalize()
            row = {"period": str(per), **self.period(start, end)}
            row["start"] = start
            row["complete"] = row["complete"] and start >= self.data_start_
            rows.append(row)
        self._tables[freq] = pd.DataFrame(rows)
        return self._tables[freq].copy()

    def breakdown(self, column: str, freq: str = "year", top: int | None = None) -> pd.DataFrame:
        """Counts by level of ``column`` and period: placements by a placement column
        (``contract_type``, ``channel``, ``employer_size``), enrolments by a person column
        (``gender``, ``age_band``, ``under_40``, ``citizenship_group``, ``citizenship``,
        ``education``).

        Parameters
        ----------
        top : int, optional
            For ``citizenship``: keep the ``top`` citizenships of the whole table (by count) and
            group the others as ``OTHER``. The ``citizenship`` breakdown counts people of
            foreign citizenship only (Italian or foreign is ``citizenship_group``), as the
            report ranks them.

        Returns
        -------
        DataFrame
            Index ``period``, one integer column per level (every allowed level, zeros included).
        """
        self._check()
        key = (column, freq, top)
        if key in self._breakdowns:  # the overview asks for the same breakdowns many times
            return self._breakdowns[key].copy()
        if column in PLACEMENT_COLUMNS:
            df, date = self.placements_, "started_on"
        elif column in PERSON_COLUMNS:
            df, date = self.people_, "enrolled_on"
        else:
            raise ValueError(f"no breakdown by {column!r}; choose among {PLACEMENT_COLUMNS + PERSON_COLUMNS}")
        values = df[column]
        if column == "citizenship":
            values = values.astype(str)
            # The report ranks citizenships among people of foreign citizenship (MA 12.5% of them)
            df = df[values != "IT"]
            values = values[values != "IT"]
            ranked = values.value_counts().sort_values(ascending=False, kind="stable").index
            keep = list(ranked[: (top or len(ranked))])
            values = values.where(values.isin(keep), "OTHER")
            order = keep + (["OTHER"] if (values == "OTHER").any() else [])
        elif column == "age_band":
            from .cohorts import AGE_BANDS

            order = list(AGE_BANDS)
        else:
            order = list(_ORDER[column])
        periods = self._periods(freq)
        counts = _count_by_period(df[date], values, periods, order)
        wide = pd.DataFrame(counts, index=pd.Index(periods.astype(str), name="period"),
                            columns=pd.Index(order, dtype=object, name=column))
        self._breakdowns[key] = wide
        return self._breakdowns[key].copy()

    def mix(self, column: str, years, top: int | None = None) -> pd.DataFrame:
        """The enrolments (or placements) of the given years by level: counts and shares.

        Returns
        -------
        DataFrame
            Tidy: ``year``, ``level``, ``n``, ``total`` (of the year), ``share`` (``n / total``).

        Examples
        --------
        >>> ind = Indicators().fit(_toy_dataset(), cutoff="2024-04-30")
        >>> ind.mix("contract_type", [2024]).query("n > 0")[["level", "n", "share"]].values.tolist()
        [['fixed_term', 3, 0.5], ['permanent', 2, 0.3333333333333333], ['internship', 1, 0.16666666666666666]]
        """
        wide = self.breakdown(column, "year", top=top)
        rows = []
        for y in years:
            if str(y) not in wide.index:
                raise ValueError(f"year {y} has no data (data from {self.data_start_.year} to {self.cutoff_.year})")
            line = wide.loc[str(y)]
            total = int(line.sum())
            for level, n in line.items():
                rows.append({"year": int(y), "level": level, "n": int(n), "total": total, "share": _share(n, total)})
        return pd.DataFrame(rows)

    # ------------------------------------------------------------------ windows
    def last_complete_quarter(self) -> str:
        """The latest quarter that ends on or before the cut-off, e.g. ``"2024Q1"``."""
        self._check()
        q = self.cutoff_.to_period("Q")
        return str(q if self.cutoff_ == q.end_time.normalize() else q - 1)

    def last_complete_year(self) -> int:
        self._check()
        y = self.cutoff_.year
        return y if self.cutoff_ == pd.Timestamp(year=y, month=12, day=31) else y - 1

    def reference_quarter(self, quarter: str = "") -> str:
        """The quarter a monitoring report is about: ``quarter`` if given (it must be complete at
        the cut-off and not before the data), else :meth:`last_complete_quarter`.

        Raises
        ------
        ValueError
            Malformed, incomplete at the cut-off, or before the data.
        """
        self._check()
        if not quarter:
            return self.last_complete_quarter()
        lo, hi = quarter_bounds(quarter)
        if hi > self.cutoff_:
            raise ValueError(f"quarter {quarter} ends after the cut-off {self.cutoff_.date()}: it is not complete")
        if hi < self.data_start_:
            raise ValueError(f"quarter {quarter} is before the data (first enrolment {self.data_start_.date()})")
        return str(pd.Period(quarter.upper(), freq="Q"))

    def ytd_bounds(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """Year to date: 1 January of the cut-off's year to the cut-off."""
        self._check()
        return pd.Timestamp(year=self.cutoff_.year, month=1, day=1), self.cutoff_

    # ------------------------------------------------------------------ comparison
    def compare(self, start, end, *, level: float = 0.95) -> pd.DataFrame:
        """The period against the same dates one year earlier, indicator by indicator.

        Counts (and placements by channel, rows ``placements__channel=<level>``) get the change in
        percent with an exact interval and p-value from :func:`rate_ratio_test`; ``p_holm`` adjusts
        all those p-values together (Holm), since many are read at once. Shares get the
        difference (``change`` in share points) with Wilson intervals of both shares; the median
        days get the difference in days.

        Returns
        -------
        DataFrame
            Indexed by indicator: ``kind``, ``now``, ``before``, ``change``, ``change_low``,
            ``change_high``, ``p_value``, ``p_holm``, ``now_low``, ``now_high``, ``before_low``,
            ``before_high`` (Wilson intervals of shares). When the year-earlier span starts before
            the data (``attrs["before_covered"]`` False) ``before`` and everything compared are NaN.
        """
        self._check()
        lo, hi = _day(start, "start"), min(_day(end, "end"), self.cutoff_)
        now = self.period(lo, hi)
        before = self.period(_last_year(lo), _last_year(hi))
        rows = {}
        for name, kind in INDICATORS.items():
            a, b = now[name], before[name]
            row = {"kind": kind, "now": a, "before": b}
            if name in TESTED:
                row.update({k: v for k, v in rate_ratio_test(a, b, level).items() if k.startswith(("change", "p_"))})
            elif kind == "count":  # denominators of shares: the change is shown, not tested
                row["change"] = _change(a, b)
            elif kind == "share":
                num, den = SHARES[name]
                row["change"] = a - b
                row["now_low"], row["now_high"] = wilson(now[num], now[den], level)
                row["before_low"], row["before_high"] = wilson(before[num], before[den], level)
            else:
                row["change"] = a - b
            rows[name] = row
        ch_now = self._channel_counts(lo, hi)
        ch_before = self._channel_counts(_last_year(lo), _last_year(hi))
        for c in CHANNELS:
            a, b = int(ch_now[c]), int(ch_before[c])
            r = rate_ratio_test(a, b, level)
            rows[f"placements__channel={c}"] = {"kind": "count", "now": a, "before": b,
                                                **{k: v for k, v in r.items() if k.startswith(("change", "p_"))}}
        out = pd.DataFrame.from_dict(rows, orient="index")
        for c in ("change_low", "change_high", "p_value", "now_low", "now_high", "before_low", "before_high"):
            if c not in out:
                out[c] = np.nan
        # A year earlier than the data is not "zero": there is nothing to compare with.
        covered = bool(_last_year(lo) >= self.data_start_)
        if not covered:
            out["before"] = np.nan
            out[["change", "change_low", "change_high", "p_value", "before_low", "before_high"]] = np.nan
        out["p_holm"] = holm(out["p_value"].astype(float))
        out.attrs.update(start=lo, end=hi, before_start=_last_year(lo), before_end=_last_year(hi),
                         interview_days=self.interview_days, before_covered=covered)
        return out[["kind", "now", "before", "change", "change_low", "change_high", "p_value", "p_holm",
                    "now_low", "now_high", "before_low", "before_high"]]

    def _channel_counts(self, lo, hi) -> pd.Series:
        pl = self.placements_
        sel = pl.loc[_in(pl["started_on"], lo, hi), "channel"]
        return sel.value_counts().reindex(list(CHANNELS), fill_value=0)

    # ------------------------------------------------------------------ targets
    def projection(self, *, growth_target: float = 0.15, past_years: int = 3,
                   level: float = 0.90) -> "AnnualProjection | None":
        """Project this year's placements and compare with ``(1 + growth_target)`` x last year's.

        Returns
        -------
        AnnualProjection or None
            Fitted on the placement start dates; ``target_`` is None when last year is not
            complete in the data. None when no projection is possible (no complete past year,
            or no placement by this day in the past years); ``projection_problem_`` says why.
        """
        self._check()
        year = self.cutoff_.year
        prev = self.period(f"{year - 1}-01-01", f"{year - 1}-12-31")
        prev_complete = prev["complete"] and self.data_start_ <= pd.Timestamp(year=year - 1, month=1, day=1)
        target = (1 + growth_target) * prev["placements"] if prev_complete else None
        self.projection_problem_ = None
        try:
            return AnnualProjection(past_years=past_years, level=level).fit(
                self.placements_["started_on"], cutoff=self.cutoff_, data_start=self.data_start_, target=target
            )
        except ValueError as e:  # too little history: the report says so instead of failing
            self.projection_problem_ = str(e)
            return None


# ============================================================================ projection


class AnnualProjection:
    """Projection of a year's total count from its year to date and the usual seasonality.

    Method, in words: in the past complete years, a share ``s`` of the year's events had happened
    by this calendar day (pooled over ``past_years`` years). If this year follows the same
    pattern, the total will be about ``year_to_date / s``. The uncertainty interval adds chance:
    the events still to come are Poisson with a rate learned from the year to date (Jeffreys
    prior), which makes the remaining count negative binomial with size ``ytd + 1/2`` and
    probability ``s``. The interval does *not* cover a change of seasonality or of policy; the
    range of totals implied by each past year's own share is given beside it
    (``seasonal_range_``) to show how much that matters.

    Parameters
    ----------
    past_years : int
        How many complete previous years define the seasonal pattern (fewer if the data are
        shorter).
    level : float
        Coverage of the uncertainty interval.

    Attributes
    ----------
    year_, complete_ (the cut-off is 31 December), ytd_, past_years_ (list), shares_ (year ->
    share of the total by this day),
    seasonal_share_, total_, ci_ (low, high), seasonal_range_ (low, high), target_,
    prob_target_ (probability of reaching the target under the model; None without target).

    Examples
    --------
    >>> import pandas as pd
    >>> dates = pd.Series(pd.to_datetime(["2022-02-01", "2022-08-01", "2023-03-01", "2023-09-01",
    ...                                   "2023-10-01", "2024-02-01", "2024-03-01"]))
    >>> p = AnnualProjection(past_years=2).fit(dates, cutoff="2024-04-30", data_start="2022-01-01", target=4)
    >>> p.seasonal_share_, p.total_   # 2 of the 5 events of 2022-2023 came by 30 April
    (0.4, 5.0)
    >>> p
    <AnnualProjection 2024: 2 by 2024-04-30, projected 5 (90%: 2 to 12), based on 2022-2023>
    """

    def __init__(self, past_years: int = 3, level: float = 0.90):
        if int(past_years) < 1:
            raise ValueError("past_years must be at least 1")
        if not 0 < level < 1:
            raise ValueError("level must be between 0 and 1")
        self.past_years = int(past_years)
        self.level = float(level)

    def __repr__(self) -> str:
        if not hasattr(self, "total_"):
            return f"<AnnualProjection (not fitted) past_years={self.past_years}>"
        yrs = (f"{self.past_years_[0]}-{self.past_years_[-1]}" if len(self.past_years_) > 1
               else str(self.past_years_[0]) if self.past_years_ else "the whole year")
        return (f"<AnnualProjection {self.year_}: {self.ytd_} by {self.cutoff_.date()}, projected "
                f"{self.total_:.0f} ({self.level:.0%}: {self.ci_[0]} to {self.ci_[1]}), based on {yrs}>")

    def fit(self, dates, cutoff, data_start=None, target: float | None = None) -> "AnnualProjection":
        """Fit on event dates (e.g. placement start dates).

        Parameters
        ----------
        dates : Series of datetime
            One date per event; dates after ``cutoff`` are ignored (not known then).
        cutoff : date-like
            The year to project is the cut-off's year; its events up to the cut-off are the
            year to date.
        data_start : date-like, optional
            Start of the data: only years starting on or after it are complete. Default: the
            first event date.
        target : float, optional
            A total to reach; gives ``prob_target_``.

        Raises
        ------
        ValueError
            No complete past year, or no event by this day in the past years (no pattern). When
            the cut-off is 31 December the year is complete and its total is the year to date.
        """
        from scipy.stats import nbinom

        cut = _day(cutoff, "cutoff")
        d = pd.to_datetime(pd.Series(dates)).dropna()
        d = d[d <= cut]
        start = _day(data_start, "data_start") if data_start is not None else (d.min() if len(d) else cut)
        year = cut.year
        complete = bool(cut.month == 12 and cut.day == 31)  # the year is over: nothing to project
        years = [] if complete else [
            y for y in range(year - self.past_years, year) if pd.Timestamp(year=y, month=1, day=1) >= start]
        if not years and not complete:
            raise ValueError(f"no complete year before {year} in the data (data start {start.date()}); "
                             "a projection needs at least one")
        shares, by_day, totals = {}, 0, 0
        for y in years:
            in_year = d[d.dt.year == y]
            upto = _last_year(cut) if y == year - 1 else cut - pd.DateOffset(years=year - y)
            k = int((in_year <= upto).sum())
            shares[y] = _share(k, len(in_year))
            by_day += k
            totals += len(in_year)
        if by_day == 0 and not complete:
            raise ValueError(f"no event by {cut.strftime('%d %B')} in {years}: the seasonal pattern is unknown")
        s = 1.0 if complete else by_day / totals
        ytd = int((d >= pd.Timestamp(year=year, month=1, day=1)).sum())
        a = (1 - self.level) / 2
        if s >= 1:  # the whole year is known
            rest_lo = rest_hi = 0
            dist = None
        else:
            dist = nbinom(ytd + 0.5, s)
            rest_lo, rest_hi = int(dist.ppf(a)), int(dist.ppf(1 - a))
        finite = [v for v in shares.values() if v > 0] or [s]
        self.cutoff_ = cut
        self.year_ = year
        self.complete_ = complete
        self.ytd_ = ytd
        self.past_years_ = years
        self.shares_ = shares
        self.seasonal_share_ = float(s)
        self.total_ = ytd / s
        self.ci_ = (ytd + rest_lo, ytd + rest_hi)
        self.seasonal_range_ = (ytd / max(finite), ytd / min(finite))
        self.target_ = None if target is None else float(target)
        if target is None:
            self.prob_target_ = None
        else:
            need = math.ceil(float(target) - 1e-9) - ytd  # events still needed
            if need <= 0:
                self.prob_target_ = 1.0
            elif dist is None:
                self.prob_target_ = 0.0
            else:
                self.prob_target_ = float(dist.sf(need - 1))
        return self




# ============================================================================ the analysis of both reports


@dataclass
class KpiResult:
    """Everything the overview and the quarterly monitoring show, as numbers.

    Attributes
    ----------
    ind : Indicators
        The fitted indicators (breakdowns and mixes are asked of it).
    by_year, by_quarter : DataFrame
        :meth:`Indicators.table` by year and by quarter (every period from the data start to the
        cut-off, incomplete ones flagged).
    years : tuple of int
        The years of the overview's breakdowns.
    quarter : str
        The reference quarter of the monitoring (``"2024Q1"``).
    compare_quarter, compare_ytd : DataFrame
        :meth:`Indicators.compare` of the reference quarter and of the year to date.
    projection : AnnualProjection or None
        With ``projection_problem`` saying why when None.
    growth_target : float
        The placement growth target the projection is compared with.
    gaps : ActivityGaps
        Months with no records or far below their usual volume, and a partial last quarter
        (:func:`activity_gaps`), so the reports can warn where a comparison rests on a gap.
    """

    ind: Indicators
    by_year: pd.DataFrame
    by_quarter: pd.DataFrame
    years: tuple
    quarter: str
    compare_quarter: pd.DataFrame
    compare_ytd: pd.DataFrame
    projection: "AnnualProjection | None"
    projection_problem: str | None
    growth_target: float
    gaps: "ActivityGaps | None" = None

    @property
    def interview_days(self) -> int:
        return self.ind.interview_days

    @property
    def cutoff(self) -> pd.Timestamp:
        return self.ind.cutoff_


def analyse(ds, cutoff=None, *, years=(), quarter: str = "", interview_days: int = INTERVIEW_DAYS,
            growth_target: float = 0.15, past_years: int = 3) -> KpiResult:
    """The indicators of both reports: by year and quarter, the reference quarter and the year to
    date against last year, the projection of the year's placements.

    Examples
    --------
    >>> a = analyse(_toy_dataset(), cutoff="2024-04-30", years=[2023])
    >>> a.quarter, int(a.compare_quarter.loc["placements", "now"]), a.by_year["period"].tolist()
    ('2024Q1', 5, ['2022', '2023', '2024'])
    """
    ind = Indicators(interview_days=interview_days).fit(ds, cutoff=cutoff)
    ref = ind.reference_quarter(quarter)
    proj = ind.projection(growth_target=growth_target, past_years=past_years)
    return KpiResult(ind=ind, by_year=ind.table("year"), by_quarter=ind.table("quarter"),
                     years=tuple(int(y) for y in years), quarter=ref,
                     compare_quarter=ind.compare(*quarter_bounds(ref)), compare_ytd=ind.compare(*ind.ytd_bounds()),
                     projection=proj, projection_problem=ind.projection_problem_, growth_target=float(growth_target),
                     gaps=activity_gaps(ds, ind.cutoff_))


# ============================================================================ gaps in the data


@dataclass(frozen=True)
class ActivityGaps:
    """Months and quarters whose record counts say the extract may be incomplete (numbers only;
    the words are :meth:`ixl_eval.report.context.Report.data_quality`'s).

    Attributes
    ----------
    monthly : DataFrame
        One row per (measure, month) from the first month of the data to the cut-off's month:
        ``measure`` (``enrolments``, ``interviews``, ``placements``), ``month`` (``"2024-04"``),
        ``count``, ``days`` (days of the month covered up to the cut-off), ``usual`` (median
        count of the previous ``window`` months, scaled to ``days``; NaN with fewer than 3 earlier
        months) and ``flag`` (``"empty"``, ``"low"`` or ``""``).
    empty, low : list of (measure, month)
        Months with no record at all while the months around them have some, and months far
        below their usual volume (``count < low_ratio * usual``).
    partial_quarter : tuple (quarter, first day, last day covered, days covered, days in quarter) or None
        The cut-off's quarter when the cut-off is not its last day.
    low_ratio : float
    """

    monthly: pd.DataFrame
    empty: list
    low: list
    partial_quarter: tuple | None
    low_ratio: float


def activity_gaps(ds, cutoff=None, *, low_ratio: float = 0.5, window: int = 12) -> ActivityGaps:
    """Flag months with no records, months far below their usual volume, and a partial last
    quarter, for enrolments, intake interviews and placements (dates up to the cut-off).

    A month is *empty* when it has no record of a measure although the data hold records of that
    measure both before and after it, or it is the cut-off's month after a year with records every
    month (a whole month with nothing is an extract problem far more often than a real stop). A
    month is *low* when its count is below ``low_ratio`` times the median of the ``window``
    previous months (at least 3, median at least 10), scaled to the days the month covers, and
    not a seasonal dip (it is not at least ``low_ratio`` times the same month a year earlier).

    Examples
    --------
    >>> g = activity_gaps(_toy_dataset(), cutoff="2024-03-31")
    >>> g.partial_quarter is None, ("enrolments", "2023-04") in g.empty
    (True, True)
    >>> q, first_day, last_day, days, of = activity_gaps(_toy_dataset(), cutoff="2024-04-30").partial_quarter
    >>> q, str(first_day.date()), days, of
    ('2024Q2', '2024-04-01', 30, 91)
    """
    extract = pd.Timestamp(ds.extracted_on).normalize()
    cut = extract if cutoff is None or str(cutoff) == "" else _day(cutoff, "cutoff")
    series = {
        "enrolments": ds.participants["enrolled_on"],
        "interviews": ds.interviews["interviewed_on"],
        "placements": ds.placements["started_on"],
    }
    first = ds.participants["enrolled_on"].min()
    rows, empty, low = [], [], []
    if pd.notna(first) and first <= cut:
        months = pd.period_range(first.to_period("M"), cut.to_period("M"), freq="M")
        for measure, dates in series.items():
            d = dates[dates.notna() & (dates <= cut)]
            counts = d.dt.to_period("M").value_counts().reindex(months, fill_value=0).astype(int)
            has = counts.to_numpy() > 0
            if not has.any():
                continue
            first_i = int(np.argmax(has))
            for j, m in enumerate(months):
                days_in = m.days_in_month
                days = min(cut, m.end_time.normalize()).day if m == months[-1] else days_in
                past = counts.iloc[max(0, j - window):j].to_numpy()
                usual = float(np.median(past)) * days / days_in if len(past) >= 3 else float("nan")
                n = int(counts.iloc[j])
                flag = ""
                if n == 0 and j > first_i:
                    later = has[j + 1:].any()
                    if later or (j >= 12 and has[j - 12:j].all()):
                        flag = "empty"
                elif n > 0 and math.isfinite(usual) and usual >= 10 and n < low_ratio * usual:
                    # a seasonal dip (every August) is no gap: the same month a year earlier was
                    # not low as well
                    year_ago = int(counts.iloc[j - 12]) * days / days_in if j >= 12 else float("nan")
                    if not (math.isfinite(year_ago) and n >= low_ratio * year_ago):
                        flag = "low"
                if flag == "empty":
                    empty.append((measure, str(m)))
                elif flag == "low":
                    low.append((measure, str(m)))
                rows.append({"measure": measure, "month": str(m), "count": n, "days": int(days),
                             "usual": usual, "flag": flag})
    monthly = pd.DataFrame(rows, columns=["measure", "month", "count", "days", "usual", "flag"])
    q = cut.to_period("Q")
    q_end = q.end_time.normalize()
    partial = None
    if cut < q_end:
        q_start = q.start_time.normalize()
        partial = (str(q), q_start, cut, int((cut - q_start).days) + 1, int((q_end - q_start).days) + 1)
    return ActivityGaps(monthly=monthly, empty=empty, low=low, partial_quarter=partial, low_ratio=float(low_ratio))


# ============================================================================ example data


def _toy_dataset():
    """The hand-made dataset of the examples and of ``tests/test_kpi.py`` (not public API)."""
    import datetime as dt
    from pathlib import Path

    from ..dataset import Dataset

    D = pd.to_datetime
    ids = [f"P{i:02d}" for i in range(1, 11)]
    participants = pd.DataFrame({
        "participant_id": ids,
        "enrolled_on": D(["2023-01-10", "2023-02-01", "2023-03-15", "2023-05-02", "2024-01-05", "2024-02-10",
                          "2024-03-01", "2024-03-20", "2024-04-20", "2022-06-01"]),
        "birth_year": [1990, 1985, 1970, 2000, 1995, 1960, 1988, 1999, 1980, 1975],
        "gender": ["F", "M", "F", "M", "F", "M", "F", "M", "F", "M"],
        "citizenship": ["IT", "MA", "IT", "RO", "IT", "IT", "MA", "IT", "PK", "IT"],
        "education": ["upper_secondary_diploma"] * 10,
        "withdrawn_on": D([None] * 10),
    })
    interviews = pd.DataFrame({
        "participant_id": ["P01", "P02", "P02", "P04", "P05", "P05", "P06", "P07", "P08", "P09", "P10"],
        "interviewed_on": D(["2023-01-20", "2023-02-20", "2023-04-05", "2023-04-28", "2024-01-15", "2024-02-01",
                             "2024-02-25", "2024-03-17", "2024-03-22", "2024-04-25", "2022-06-05"]),
        "format": ["individual", "plenary", "individual", "plenary", "individual", "individual", "plenary",
                   "plenary", "individual", "plenary", "individual"],
    })
    pl = [  # participant, start, contract type, channel, employer size
        ("P10", "2022-07-01", "fixed_term", "ips", "large"),
        ("P10", "2023-02-01", "permanent", "ixl_companies", "large"),
        ("P01", "2023-02-15", "fixed_term", "ixl_companies", "medium"),
        ("P01", "2023-03-20", "fixed_term", "ixl_companies", "medium"),
        ("P02", "2023-06-01", "permanent", "apl", "small"),
        ("P01", "2024-01-20", "permanent", "ixl_companies", "large"),
        ("P05", "2024-02-01", "fixed_term", "ips", "micro"),
        ("P06", "2024-03-01", "permanent", "ixl_training", "large"),
        ("P06", "2024-03-31", "fixed_term", "ixl_training", "large"),
        ("P10", "2024-03-15", "fixed_term", "ips", "medium"),
        ("P07", "2024-04-10", "internship", "ixl_companies", "small"),
        ("P08", "2024-05-10", "fixed_term", "ixl_companies", "large"),
    ]
    placements = pd.DataFrame({
        "placement_id": [f"C{i:03d}" for i in range(len(pl))],
        "participant_id": [r[0] for r in pl],
        "employer_id": [f"E{i:02d}" for i in range(len(pl))],
        "employer_size": [r[4] for r in pl],
        "sector": ["Ristorazione"] * len(pl),
        "contract_type": [r[2] for r in pl],
        "channel": [r[3] for r in pl],
        "started_on": D([r[1] for r in pl]),
        "ended_on": D([None] * len(pl)),
        "converted_on": D([None] * len(pl)),
    })
    programmes = pd.DataFrame(columns=["participant_id", "programme", "offered_on", "decision", "started_on",
                                       "ended_on"])
    return Dataset(participants=participants, interviews=interviews, programmes=programmes, placements=placements,
                   extracted_on=dt.date(2024, 5, 31), source="synthetic (toy example)", data_dir=Path("."))
