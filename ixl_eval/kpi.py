"""Programme indicators by period: counts and shares by year and quarter, comparisons, targets.

:class:`Indicators` turns a validated dataset into the figures of the activity report and of the
quarterly monitoring: enrolments and their mix, intake interviews, placements, persons placed and
placed for the first time, by year or quarter, year to date, and against the same period of the
previous year. :class:`AnnualProjection` projects the year's placements from the year to date.
:func:`holm` adjusts p-values when many comparisons are made at once. The ``*_table``,
``*_summary``, ``*_records`` and ``plot_*`` functions shape these numbers for a report; every
count they show passes through :mod:`ixl_eval.disclosure`.

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

import numpy as np
import pandas as pd

from . import disclosure, present
from .contract import CHANNELS, CONTRACT_TYPES, EDUCATION_LEVELS, EMPLOYER_SIZES, GENDERS
from .dataset import person_codes
from .multiplicity import holm

__all__ = [
    # numbers
    "INDICATORS",
    "TOP_CITIZENSHIPS",
    "Indicators",
    "AnnualProjection",
    "rate_ratio_test",
    "holm",
    "quarter_bounds",
    # for reports: tables, records, sentences, charts
    "comparison_table",
    "period_table",
    "breakdown_table",
    "q1_table",
    "overview_records",
    "monitoring_records",
    "record_all",
    "overview_summary",
    "monitoring_summary",
    "interview_text",
    "projection_text",
    "multiplicity_text",
    "left_out_text",
    "plot_by_year",
    "plot_mix_by_year",
    "plot_q1",
    "plot_quarterly",
    "plot_interviews",
    "plot_channels",
    "plot_cumulative",
]

INTERVIEW_DAYS = 15
TOP_CITIZENSHIPS = 8  # foreign citizenships shown one by one; the report names six, two more show the ranking

# Indicator -> (kind, Italian label, English label). kind: "count" (people or contracts), "share"
# (numerator / denominator named in _SHARES) or "days".
INDICATORS: dict[str, tuple[str, str, str]] = {
    "enrolments": ("count", "Iscritti", "Enrolments"),
    "interviewed": ("count", "Persone con colloquio di accoglienza", "People with an intake interview"),
    "interview_eligible": ("count", "Iscritti da almeno 15 giorni", "Enrolled at least 15 days before the cut-off"),
    "interviewed_within": ("count", "Iscritti con colloquio entro 15 giorni", "Enrolled people interviewed within 15 days"),
    "interviewed_within_share": ("share", "Quota con colloquio entro 15 giorni", "Share interviewed within 15 days"),
    "median_days_to_interview": ("days", "Giorni mediani dall'iscrizione al colloquio",
                                 "Median days from enrolment to interview"),
    "placements": ("count", "Inserimenti lavorativi", "Job placements"),
    "permanent": ("count", "Inserimenti a tempo indeterminato", "Permanent placements"),
    "permanent_share": ("share", "Quota a tempo indeterminato", "Permanent share"),
    "persons_placed": ("count", "Persone inserite", "Persons placed"),
    "first_placed": ("count", "Persone inserite per la prima volta", "Persons placed for the first time"),
    "first_placed_share": ("share", "Quota di nuovi candidati tra le persone inserite",
                           "Share of new candidates among persons placed"),
}
# share -> (numerator, denominator)
_SHARES = {
    "interviewed_within_share": ("interviewed_within", "interview_eligible"),
    "permanent_share": ("permanent", "placements"),
    "first_placed_share": ("first_placed", "persons_placed"),
}
# Counts whose change against last year is tested (rate ratio); the rest are shown, not tested.
_TESTED = ("enrolments", "interviewed", "placements", "permanent", "persons_placed", "first_placed")

_LEVELS: dict[str, dict[str, tuple[str, str]]] = {
    "contract_type": {
        "fixed_term": ("Tempo determinato", "Fixed-term"),
        "permanent": ("Tempo indeterminato", "Permanent"),
        "internship": ("Stage", "Internship"),
        "on_call": ("A chiamata", "On-call"),
        "traineeship": ("Tirocinio", "Traineeship"),
        "self_employment": ("Autoimpiego", "Self-employment"),
    },
    "channel": {
        "ixl_companies": ("Aziende della rete IXL", "IXL partner companies"),
        "ips": ("Metodo IPS", "IPS method"),
        "ixl_training": ("Formazione IXL", "IXL training"),
        "apl": ("Agenzie per il lavoro", "Employment agencies"),
        "orientation": ("Orientamento", "Orientation"),
        "self_employment": ("Autoimpiego", "Self-employment"),
    },
    "employer_size": {
        "micro": ("Micro (meno di 10 addetti)", "Micro (under 10 staff)"),
        "small": ("Piccola", "Small"),
        "medium": ("Media", "Medium"),
        "large": ("Grande (oltre 250 addetti)", "Large (over 250 staff)"),
    },
    "under_40": {"yes": ("Meno di 40 anni", "Under 40"), "no": ("40 anni e più", "40 and over")},
    "citizenship": {
        "IT": ("Italia", "Italy"), "MA": ("Marocco", "Morocco"), "RO": ("Romania", "Romania"),
        "PK": ("Pakistan", "Pakistan"), "NG": ("Nigeria", "Nigeria"), "UA": ("Ucraina", "Ukraine"),
        "BD": ("Bangladesh", "Bangladesh"), "AL": ("Albania", "Albania"), "TN": ("Tunisia", "Tunisia"),
        "MD": ("Moldavia", "Moldova"), "PH": ("Filippine", "Philippines"), "CN": ("Cina", "China"),
        "SN": ("Senegal", "Senegal"), "GH": ("Ghana", "Ghana"), "LK": ("Sri Lanka", "Sri Lanka"),
        "EG": ("Egitto", "Egypt"), "PE": ("Perù", "Peru"), "IN": ("India", "India"),
        "OTHER": ("Altre cittadinanze", "Other citizenships"),
    },
}
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
_COLUMN_LABELS = {
    "contract_type": ("Tipo di contratto", "Contract type"),
    "channel": ("Canale", "Channel"),
    "employer_size": ("Dimensione dell'azienda", "Employer size"),
    "gender": ("Genere", "Gender"),
    "age_band": ("Fascia d'età", "Age band"),
    "under_40": ("Età", "Age"),
    "citizenship_group": ("Cittadinanza", "Citizenship"),
    "citizenship": ("Cittadinanza", "Citizenship"),
    "education": ("Titolo di studio", "Education"),
}
_PERSON_COLUMNS = ("gender", "age_band", "under_40", "citizenship_group", "citizenship", "education")
_PLACEMENT_COLUMNS = ("contract_type", "channel", "employer_size")


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


def level_label(column: str, value, lang: str = "it") -> str:
    """Reader-facing name of a level of a breakdown column (falls back to the cohorts' labels).

    Examples
    --------
    >>> level_label("channel", "ips"), level_label("gender", "F", "en"), level_label("citizenship", "MA")
    ('Metodo IPS', 'Women', 'Marocco')
    """
    pair = _LEVELS.get(column, {}).get(str(value))
    if pair is not None:
        return pair[0] if lang == "it" else pair[1]
    from .cohorts import level_label as cohort_label

    return cohort_label(column, value, lang)


def _period_label(label: str, lang: str) -> str:
    """``2024Q1`` -> ``1° trim. 2024`` / ``Q1 2024``; years stay as they are."""
    s = str(label)
    if "Q" in s:
        y, q = s.split("Q")
        return f"{q}° trim. {y}" if lang == "it" else f"Q{q} {y}"
    return s


def _quarter_words(label: str, lang: str) -> str:
    y, q = str(label).split("Q")
    if lang == "it":
        return f"{('primo', 'secondo', 'terzo', 'quarto')[int(q) - 1]} trimestre {y}"
    return f"{('first', 'second', 'third', 'fourth')[int(q) - 1]} quarter of {y}"


def _fmt_change(x, lang: str, decimals: int = 0) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    s = present.fmt_pct(abs(x), lang, decimals)
    return ("+" if x >= 0 else "-") + s


def _label(name: str, lang: str, days: int = INTERVIEW_DAYS) -> str:
    """Reader-facing name of an indicator; the interview ones name the target days."""
    _, it, en = INDICATORS[name]
    text = it if lang == "it" else en
    return text.replace("15", str(days)) if name.startswith("interview") else text


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


def _wilson(num: int, den: int, level: float = 0.95) -> tuple[float, float]:
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
        f = "Y" if freq == "year" else "Q"
        if column in _PLACEMENT_COLUMNS:
            df, date = self.placements_, "started_on"
        elif column in _PERSON_COLUMNS:
            df, date = self.people_, "enrolled_on"
        else:
            raise ValueError(f"no breakdown by {column!r}; choose among {_PLACEMENT_COLUMNS + _PERSON_COLUMNS}")
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
        for name, (kind, _, _) in INDICATORS.items():
            a, b = now[name], before[name]
            row = {"kind": kind, "now": a, "before": b}
            if name in _TESTED:
                row.update({k: v for k, v in rate_ratio_test(a, b, level).items() if k.startswith(("change", "p_"))})
            elif kind == "count":  # denominators of shares: the change is shown, not tested
                row["change"] = _change(a, b)
            elif kind == "share":
                num, den = _SHARES[name]
                row["change"] = a - b
                row["now_low"], row["now_high"] = _wilson(now[num], now[den], level)
                row["before_low"], row["before_high"] = _wilson(before[num], before[den], level)
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


# ============================================================================ display tables


# Secondary suppression protects the columns of these tables: a column's counts add up to a
# published total (the year's enrolments, the quarter's placements). Their rows add up to nothing
# published (a level's counts in different years, or different indicators of one period).
_LINES = "columns"


def _mask(values: pd.DataFrame, count_cols, k: int, lines: str = _LINES) -> pd.DataFrame:
    """Which count cells the report will hide: the same call ``Report.table`` makes."""
    shown = disclosure.suppress_table(values, list(count_cols), k, lines=lines)
    return shown[list(count_cols)].apply(lambda c: c.astype(str).str.startswith("<") | (c == disclosure.SECONDARY_MARK))


def _fmt_value(kind: str, v, lang: str) -> str:
    if kind == "share":
        return present.fmt_pct(v, lang)
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else (
        present.fmt_num(v, lang, 1 if not float(v).is_integer() else 0) + (" giorni" if lang == "it" else " days"))


def _span_label(lo: pd.Timestamp, hi: pd.Timestamp, lang: str) -> str:
    q = lo.to_period("Q")
    if lo == q.start_time.normalize() and hi == q.end_time.normalize():
        return _period_label(str(q), lang)
    if lang == "it":
        return f"dal {lo:%d/%m/%Y} al {hi:%d/%m/%Y}"
    return f"{lo:%Y-%m-%d} to {hi:%Y-%m-%d}"


_COUNT_ROWS = ("enrolments", "interviewed", "placements", "permanent", "persons_placed", "first_placed")
_SHARE_ROWS = ("interviewed_within_share", "median_days_to_interview", "permanent_share", "first_placed_share")


def _counts_hidden(cmp: pd.DataFrame, rows, k: int) -> pd.DataFrame:
    counts = cmp.loc[list(rows), ["now", "before"]].astype(float)
    return _mask(counts, ["now", "before"], k)


def comparison_table(cmp: pd.DataFrame, lang: str, k: int, *, what: str = "counts",
                     now_label: str | None = None, before_label: str | None = None) -> pd.DataFrame:
    """The reader's table of :meth:`Indicators.compare`, one row per indicator.

    Parameters
    ----------
    what : {"counts", "shares", "tests"}
        ``counts``: the counts with their change in percent and its 95% interval; ``shares``: the
        shares and the median days with their difference; ``tests``: every tested count
        (channels included) with p-values raw and Holm-adjusted.

    Counts stay integers (the report suppresses them: pass ``**table.attrs`` to
    ``Report.table``); everything derived from a hidden count (a change, a share whose numerator
    or denominator is hidden) is hidden with it. Column labels default to the compared spans
    (``1° trim. 2024``).
    """
    if what not in ("counts", "shares", "tests"):
        raise ValueError("what must be 'counts', 'shares' or 'tests'")
    t = present.tr
    now_label = now_label or _span_label(cmp.attrs["start"], cmp.attrs["end"], lang)
    before_label = before_label or _span_label(cmp.attrs["before_start"], cmp.attrs["before_end"], lang)
    days = cmp.attrs.get("interview_days", INTERVIEW_DAYS)
    name_col = t(lang, "Indicatore", "Indicator")
    ch_col = t(lang, "Variazione", "Change")
    ci_col = t(lang, "Intervallo al 95%", "95% interval")
    out = []
    if what == "shares":
        hidden = _counts_hidden(cmp, _COUNT_ROWS, k)  # as in the counts table shown beside
        for i in _SHARE_ROWS:
            r = cmp.loc[i]
            line = {name_col: _label(i, lang, days), now_label: _fmt_value(r["kind"], r["now"], lang),
                    before_label: _fmt_value(r["kind"], r["before"], lang)}
            if r["kind"] == "share":
                line[ch_col] = _points(r["change"], lang)
                line[ci_col] = present.fmt_ci(r["now_low"], r["now_high"], lang, pct=True) if pd.notna(r["now_low"]) else "–"
                num, den = _SHARES[i]
            else:
                line[ch_col] = _days_change(r["change"], lang)
                line[ci_col] = ""
                num, den = "interviewed_within", "interview_eligible"
            # a share shows its numerator to anyone who knows the denominator: hidden with it
            for col, side in ((now_label, "now"), (before_label, "before")):
                if pd.isna(cmp.loc[num, side]):
                    continue  # nothing to compare with: shown as "–"
                small = disclosure.is_small(cmp.loc[num, side], k) or disclosure.is_small(cmp.loc[den, side], k)
                if small or (num in hidden.index and hidden.loc[num, side]):
                    line[col] = f"<{k}" if small else disclosure.SECONDARY_MARK
                    line[ch_col] = disclosure.SECONDARY_MARK
                    if side == "now" and line[ci_col]:  # the interval is the current share's
                        line[ci_col] = disclosure.SECONDARY_MARK
            out.append(line)
        df = pd.DataFrame(out)
        df.attrs.update(count_cols=[])
        return df

    rows = list(_COUNT_ROWS) if what == "counts" else [
        i for i in cmp.index if cmp.loc[i, "kind"] == "count" and pd.notna(cmp.loc[i, "p_value"])]
    columns = [name_col, now_label, before_label, ch_col, ci_col]
    if what == "tests":
        columns += [t(lang, "p (singolo confronto)", "p (single comparison)"), t(lang, "p corretto (Holm)", "p adjusted (Holm)")]
    hidden = _counts_hidden(cmp, rows, k)
    for i in rows:
        r = cmp.loc[i]
        if "__channel=" in i:
            label = t(lang, "Inserimenti: ", "Placements: ") + level_label("channel", i.split("=", 1)[1], lang)
        else:
            label = _label(i, lang, days)
        line = {name_col: label, now_label: int(r["now"]),
                before_label: int(r["before"]) if pd.notna(r["before"]) else np.nan,
                ch_col: _fmt_change(r["change"], lang),
                ci_col: (f"{_fmt_change(r['change_low'], lang)} / {_fmt_change(r['change_high'], lang)}"
                         if pd.notna(r["change_low"]) else "–")}
        if what == "tests":
            line[t(lang, "p (singolo confronto)", "p (single comparison)")] = present.fmt_num(r["p_value"], lang, 3)
            line[t(lang, "p corretto (Holm)", "p adjusted (Holm)")] = present.fmt_num(r["p_holm"], lang, 3)
        if hidden.loc[i].any():  # the change and its test would let a hidden count be derived
            for c in list(line)[3:]:
                line[c] = disclosure.SECONDARY_MARK
        out.append(line)
    df = pd.DataFrame(out, columns=columns)  # the header even without rows (no test possible)
    df.attrs.update(count_cols=[now_label, before_label], lines=_LINES)
    return df


def period_table(ind: Indicators, freq: str, lang: str, k: int, *, complete_only: bool = False,
                 last: int | None = None) -> pd.DataFrame:
    """Indicators by year or quarter for the reader: counts (suppressed by the report) and shares.

    Pass ``**table.attrs`` (count columns, linked shares, suppression lines) to ``Report.table``.
    """
    t = present.tr
    tab = ind.table(freq)
    if complete_only:
        tab = tab[tab["complete"]]
    if last:
        tab = tab.tail(last)
    label = t(lang, "Periodo", "Period")
    out = pd.DataFrame({label: [
        _period_label(p, lang) + ("" if c else t(lang, f" (fino al {e:%d/%m/%Y})", f" (to {e:%Y-%m-%d})"))
        for p, c, e in zip(tab["period"], tab["complete"], tab["end"])]})
    linked = {}
    for name in ("enrolments", "interviewed", "interviewed_within", "interviewed_within_share",
                 "median_days_to_interview", "placements", "permanent", "permanent_share", "persons_placed",
                 "first_placed", "first_placed_share"):
        kind = INDICATORS[name][0]
        col = _label(name, lang, ind.interview_days)
        col = col[:1].upper() + col[1:]
        if kind == "count":
            out[col] = tab[name].astype("int64").to_numpy()
        elif kind == "share":
            out[col] = [present.fmt_pct(v, lang) for v in tab[name]]
            num = _label(_SHARES[name][0], lang, ind.interview_days)
            linked[col] = num[:1].upper() + num[1:]
        else:
            out[col] = [present.fmt_num(v, lang, 1) if pd.notna(v) else "–" for v in tab[name]]
            num = _label("interviewed_within", lang, ind.interview_days)
            linked[col] = num[:1].upper() + num[1:]
    out.attrs.update(count_cols=[c for c in out.columns if pd.api.types.is_integer_dtype(out[c])], linked=linked,
                     lines=_LINES)
    return out


def breakdown_table(ind: Indicators, column: str, years, lang: str, *, top: int | None = None) -> pd.DataFrame:
    """Counts and shares by level for the given years, with a total row (for ``Report.table``,
    with ``**table.attrs``)."""
    t = present.tr
    mix = ind.mix(column, years, top=top)
    lab = _COLUMN_LABELS.get(column, (column, column))
    out = pd.DataFrame({t(lang, *lab): [level_label(column, lv, lang) for lv in mix["level"].unique()]
                        + [t(lang, "Totale", "Total")]})
    linked = {}
    for y in years:
        m = mix[mix["year"] == int(y)]
        n_col, s_col = f"{y} n", f"{y} %"
        out[n_col] = np.append(m["n"].to_numpy(), m["total"].iloc[0]).astype("int64")
        out[s_col] = [present.fmt_pct(v, lang) for v in m["share"]] + ["100%"]
        linked[s_col] = n_col
    out.attrs.update(count_cols=[f"{y} n" for y in years], linked=linked, lines=_LINES)
    return out


def q1_table(ind: Indicators, lang: str) -> pd.DataFrame:
    """First-quarter placements and permanent contracts of every year, with the change on the
    previous year's first quarter (for ``Report.table``, with ``**table.attrs``)."""
    t = present.tr
    tab = ind.table("quarter")
    q1 = tab[tab["period"].str.endswith("Q1") & tab["complete"]].reset_index(drop=True)
    rows = []
    for i, r in q1.iterrows():
        prev = q1.iloc[i - 1] if i > 0 and int(q1.loc[i - 1, "period"][:4]) == int(r["period"][:4]) - 1 else None
        ch = _change(r["placements"], prev["placements"]) if prev is not None else float("nan")
        chp = _change(r["permanent"], prev["permanent"]) if prev is not None else float("nan")
        rows.append({t(lang, "Anno", "Year"): r["period"][:4],
                     t(lang, "Inserimenti nel 1° trimestre", "Placements in Q1"): int(r["placements"]),
                     t(lang, "Variazione sull'anno prima", "Change on the year before"): _fmt_change(ch, lang),
                     t(lang, "Di cui a tempo indeterminato", "Of which permanent"): int(r["permanent"]),
                     t(lang, "Variazione (indeterminato)", "Change (permanent)"): _fmt_change(chp, lang)})
    out = pd.DataFrame(rows)
    cc = [t(lang, "Inserimenti nel 1° trimestre", "Placements in Q1"), t(lang, "Di cui a tempo indeterminato", "Of which permanent")]
    out.attrs["count_cols"] = cc
    out.attrs["lines"] = _LINES
    out.attrs["linked"] = {t(lang, "Variazione sull'anno prima", "Change on the year before"): cc[0],
                           t(lang, "Variazione (indeterminato)", "Change (permanent)"): cc[1]}
    return out


# ============================================================================ result records


def _rec(key, value, unit, it, en, n=None, ci=None, numerator=None) -> dict:
    return {"key": key, "value": value, "unit": unit, "label_it": it, "label_en": en, "n": n, "ci": ci,
            "numerator": numerator}


def _indicator_records(row: dict, suffix: str, names=None, days: int = INTERVIEW_DAYS) -> list[dict]:
    out = []
    for name in names or INDICATORS:
        kind = INDICATORS[name][0]
        it, en = _label(name, "it", days), _label(name, "en", days)
        v = row[name]
        if kind == "count":
            out.append(_rec(f"{name}{suffix}", int(v), "people" if name not in ("placements", "permanent")
                            else "placements", it, en))
        elif kind == "share":
            num, den = _SHARES[name]
            out.append(_rec(f"{name}{suffix}", None if math.isnan(v) else float(v), "share", it, en,
                            n=int(row[den]), ci=_wilson(row[num], row[den]), numerator=int(row[num])))
        else:
            out.append(_rec(f"{name}{suffix}", None if math.isnan(v) else float(v), "days", it, en,
                            n=int(row["interview_done"])))
    return out


def overview_records(ind: Indicators, years) -> list[dict]:
    """The headline figures of the overview, as record specs for :func:`record_all`.

    Per complete year: every indicator (``placements__year=2023``...). For ``years``: the
    enrolment mix (``enrolments_share__gender=F__year=2023``, ``enrolments__under_40=yes__year=...``,
    top foreign citizenships ``foreign_enrolments_share__citizenship=MA__year=2023``, a share of the
    people of foreign citizenship) and the placement mix by
    contract type, employer size and channel (``placements_share__contract_type=fixed_term__year=2023``).
    Per complete first quarter: ``placements__quarter=2024Q1``, ``permanent__quarter=2024Q1``.
    """
    recs: list[dict] = []
    ytab = ind.table("year")
    for _, r in ytab[ytab["complete"]].iterrows():
        recs += _indicator_records(r.to_dict(), f"__year={r['period']}", days=ind.interview_days)
    for column in ("gender", "age_band", "under_40", "citizenship_group", "education", "citizenship"):
        mix = ind.mix(column, years, top=TOP_CITIZENSHIPS if column == "citizenship" else None)
        for _, m in mix.iterrows():
            lab = level_label(column, m["level"], "it"), level_label(column, m["level"], "en")
            suffix = f"__{column}={m['level']}__year={m['year']}"
            if column == "citizenship":  # shares among people of foreign citizenship, as in the report
                if m["level"] == "OTHER":
                    continue
                recs.append(_rec(f"foreign_enrolments{suffix}", int(m["n"]), "people",
                                 f"Iscritti stranieri: {lab[0]}", f"Foreign enrolments: {lab[1]}"))
                recs.append(_rec(f"foreign_enrolments_share{suffix}", m["share"], "share",
                                 f"Quota tra gli iscritti stranieri: {lab[0]}", f"Share of foreign enrolments: {lab[1]}",
                                 n=int(m["total"]), ci=_wilson(m["n"], m["total"]), numerator=int(m["n"])))
                continue
            recs.append(_rec(f"enrolments{suffix}", int(m["n"]), "people", f"Iscritti: {lab[0]}", f"Enrolments: {lab[1]}"))
            recs.append(_rec(f"enrolments_share{suffix}", m["share"], "share", f"Quota di iscritti: {lab[0]}",
                             f"Share of enrolments: {lab[1]}", n=int(m["total"]), ci=_wilson(m["n"], m["total"]),
                             numerator=int(m["n"])))
    for column in _PLACEMENT_COLUMNS:
        for _, m in ind.mix(column, years).iterrows():
            lab = level_label(column, m["level"], "it"), level_label(column, m["level"], "en")
            suffix = f"__{column}={m['level']}__year={m['year']}"
            recs.append(_rec(f"placements{suffix}", int(m["n"]), "placements", f"Inserimenti: {lab[0]}",
                             f"Placements: {lab[1]}"))
            recs.append(_rec(f"placements_share{suffix}", m["share"], "share", f"Quota di inserimenti: {lab[0]}",
                             f"Share of placements: {lab[1]}", n=int(m["total"]), ci=_wilson(m["n"], m["total"]),
                             numerator=int(m["n"])))
    q = ind.table("quarter")
    for _, r in q[q["period"].str.endswith("Q1") & q["complete"]].iterrows():
        recs += _indicator_records(r.to_dict(), f"__quarter={r['period']}", ["placements", "permanent"])
    return recs


def monitoring_records(ind: Indicators, quarter: str, cmp_q: pd.DataFrame, cmp_ytd: pd.DataFrame,
                       proj: AnnualProjection | None) -> list[dict]:
    """The headline figures of the quarterly monitoring, as record specs for :func:`record_all`.

    Every indicator of every complete quarter (``placements__quarter=2024Q1``: a revised record
    in an earlier quarter shows up when two runs are compared), the changes of the reference
    quarter and of the year to date on last year (``placements_change__quarter=2024Q1``,
    ``placements_change__ytd=2024``, with intervals and Holm-adjusted p-values as
    ``..._p_holm``), year-to-date indicators and the projection (``placements_projected__year=2024``).
    """
    recs: list[dict] = []
    q = ind.table("quarter")
    for _, r in q[q["complete"]].iterrows():
        recs += _indicator_records(r.to_dict(), f"__quarter={r['period']}", days=ind.interview_days)
    year = ind.cutoff_.year
    ytd_row = ind.period(*ind.ytd_bounds())
    recs += _indicator_records(ytd_row, f"__ytd={year}", days=ind.interview_days)
    for cmp, suffix in ((cmp_q, f"__quarter={quarter}"), (cmp_ytd, f"__ytd={year}")):
        for name, r in cmp.iterrows():
            if pd.isna(r["p_value"]):
                continue
            base, _, ch = name.partition("__")
            key = f"{base}_change" + (f"__{ch}" if ch else "") + suffix
            lab = (INDICATORS[base][1], INDICATORS[base][2])
            if ch:
                lv = ch.split("=", 1)[1]
                lab = (f"{lab[0]}: {level_label('channel', lv, 'it')}", f"{lab[1]}: {level_label('channel', lv, 'en')}")
            n = min(int(r["now"]), int(r["before"]))  # the change reveals both counts: the smaller rules
            recs.append(_rec(key, None if not math.isfinite(r["change"]) else float(r["change"]), "ratio_change",
                             f"Variazione sullo stesso periodo dell'anno prima: {lab[0]}",
                             f"Change on the same period last year: {lab[1]}", n=n,
                             ci=(r["change_low"], r["change_high"] if math.isfinite(r["change_high"]) else None)))
            if ch:  # channel counts themselves
                recs.append(_rec(f"{base}__{ch}{suffix}", int(r["now"]), "placements", lab[0], lab[1]))
            recs.append(_rec(f"{key.replace('_change', '_change_p_holm', 1)}", float(r["p_holm"]), "p_value",
                             f"p corretto (Holm): {lab[0]}", f"Holm-adjusted p: {lab[1]}", n=n))
    if proj is not None:
        recs.append(_rec(f"placements_projected__year={proj.year_}", proj.total_, "placements",
                         "Inserimenti previsti nell'anno", "Projected placements in the year", ci=proj.ci_))
        if proj.target_ is not None:
            recs.append(_rec(f"placements_target__year={proj.year_}", proj.target_, "placements",
                             "Obiettivo di inserimenti nell'anno", "Placement target for the year"))
            recs.append(_rec(f"placements_target_probability__year={proj.year_}", proj.prob_target_, "probability",
                             "Probabilità di raggiungere l'obiettivo (modello)",
                             "Probability of reaching the target (model)"))
    return recs


def record_all(rep, recs: list[dict]) -> list:
    """Record every spec through ``rep.record``; a share whose numerator is below the threshold is
    withheld like the count itself (the share and its n would reveal it)."""
    out = []
    for r in recs:
        r = dict(r)
        num = r.pop("numerator", None)
        value = r.pop("value")
        if num is not None and disclosure.is_small(num, rep.k):
            value, r["ci"] = None, None
        ci = r.pop("ci")
        if ci is not None and (ci[0] is None or (isinstance(ci[0], float) and math.isnan(ci[0]))):
            ci = None
        out.append(rep.record(r.pop("key"), value, ci=ci, **r))
    return out


# ============================================================================ sentences


def _chance(p: float, lang: str) -> str:
    """A probability as "di circa N su 100", without claiming certainty at the extremes."""
    if p > 0.99:
        return present.tr(lang, "superiore a 99 su 100", "over 99 in 100")
    if p < 0.01:
        return present.tr(lang, "inferiore a 1 su 100", "under 1 in 100")
    return present.tr(lang, "di circa ", "about ") + present.per100(p, lang)


def _points(diff: float, lang: str) -> str:
    """A difference of shares in percentage points: "+17 punti", "invariata"."""
    if pd.isna(diff):
        return "–"
    pts = round(100 * diff)
    if pts == 0:
        return present.tr(lang, "invariata", "unchanged")
    unit = present.tr(lang, " punto" if abs(pts) == 1 else " punti", " point" if abs(pts) == 1 else " points")
    return ("+" if pts > 0 else "-") + present.fmt_num(abs(pts), lang) + unit


def _days_change(diff: float, lang: str) -> str:
    if pd.isna(diff):
        return "–"
    if diff == 0:
        return present.tr(lang, "invariati", "unchanged")
    d = present.fmt_num(abs(diff), lang, 0 if float(diff).is_integer() else 1)
    return ("+" if diff > 0 else "-") + d + present.tr(lang, " giorni", " days")


def _n100(share, lang) -> str:
    """The "N" of "N su 100"."""
    return present.fmt_num(100 * float(share), lang, 0)


def _c(n, k, lang):
    return disclosure.format_count(n, k, lang)


def overview_summary(ind: Indicators, years, lang: str, k: int) -> list[str]:
    """The "In breve" sentences of the overview, about the last of ``years`` and the year before."""
    t = present.tr
    y = int(max(years))
    ytab = ind.table("year").set_index("period")
    now = ytab.loc[str(y)]
    prev = ytab.loc[str(y - 1)] if str(y - 1) in ytab.index else None
    partial = "" if now["complete"] else t(lang, f" (fino al {now['end']:%d/%m/%Y})", f" (to {now['end']:%Y-%m-%d})")
    out = []
    s = t(lang, f"Nel {y}{partial} si sono iscritte {_c(now['enrolments'], k, lang)} persone",
          f"In {y}{partial}, {_c(now['enrolments'], k, lang)} people enrolled")
    if prev is not None and prev["complete"] and now["complete"]:
        ch = _change(now["enrolments"], prev["enrolments"])
        s += _versus(now["enrolments"], prev["enrolments"], ch, lang, k, it=f"nel {y - 1}", en=f"in {y - 1}")
    out.append(s + ".")
    mix_age = ind.mix("under_40", [y]).set_index("level")
    mix_cit = ind.mix("citizenship_group", [y]).set_index("level")
    if not disclosure.is_small(mix_age.loc["yes", "n"], k) and not disclosure.is_small(mix_cit.loc["foreign", "n"], k):
        out.append(t(lang,
                     f"Su 100 iscritti nel {y}, {_n100(mix_age.loc['yes', 'share'], lang)} avevano "
                     f"meno di 40 anni e {_n100(mix_cit.loc['foreign', 'share'], lang)} una "
                     "cittadinanza straniera.",
                     f"Of every 100 people enrolled in {y}, {_n100(mix_age.loc['yes', 'share'], lang)} "
                     f"were under 40 and {_n100(mix_cit.loc['foreign', 'share'], lang)} had a "
                     "foreign citizenship."))
    s = t(lang, f"Gli inserimenti lavorativi sono stati {_c(now['placements'], k, lang)}",
          f"There were {_c(now['placements'], k, lang)} job placements")
    if prev is not None and prev["complete"] and now["complete"]:
        ch = _change(now["placements"], prev["placements"])
        s += _versus(now["placements"], prev["placements"], ch, lang, k, it=f"nel {y - 1}", en=f"in {y - 1}")
    s += t(lang, f", per {_c(now['persons_placed'], k, lang)} persone; per {_c(now['first_placed'], k, lang)} di loro "
           "è stato il primo inserimento con il progetto.",
           f", for {_c(now['persons_placed'], k, lang)} people; for {_c(now['first_placed'], k, lang)} of them it was "
           "their first placement with the programme.")
    out.append(s)
    ct = ind.mix("contract_type", [y]).set_index("level")
    if not disclosure.is_small(ct.loc["fixed_term", "n"], k) and not disclosure.is_small(ct.loc["permanent", "n"], k):
        out.append(t(lang,
                     f"Su 100 inserimenti, {_n100(ct.loc['fixed_term', 'share'], lang)} erano a "
                     f"tempo determinato e {_n100(ct.loc['permanent', 'share'], lang)} a tempo "
                     "indeterminato.",
                     f"Of every 100 placements, {_n100(ct.loc['fixed_term', 'share'], lang)} were "
                     f"fixed-term and {_n100(ct.loc['permanent', 'share'], lang)} permanent."))
    q = ind.table("quarter").set_index("period")
    q1s = [p for p in q.index if p.endswith("Q1") and q.loc[p, "complete"]]
    if len(q1s) >= 2 and int(q1s[-1][:4]) - int(q1s[-2][:4]) == 1 and not (
            disclosure.is_small(q.loc[q1s[-1], "placements"], k) or disclosure.is_small(q.loc[q1s[-2], "placements"], k)):
        a, b = q.loc[q1s[-1]], q.loc[q1s[-2]]
        r = {"change": _change(a["placements"], b["placements"])}
        out.append(t(lang,
                     f"Nel {_quarter_words(q1s[-1], lang)} gli inserimenti sono stati {_c(a['placements'], k, lang)}, "
                     f"{_fmt_change(r['change'], lang)} rispetto allo stesso trimestre del {q1s[-2][:4]} "
                     f"({_c(b['placements'], k, lang)}).",
                     f"In the {_quarter_words(q1s[-1], lang)} there were {_c(a['placements'], k, lang)} placements, "
                     f"{_fmt_change(r['change'], lang)} on the same quarter of {q1s[-2][:4]} "
                     f"({_c(b['placements'], k, lang)})."))
    return out


def interview_text(ind: Indicators, year: int, lang: str, k: int) -> str:
    """Intake interviews of a year in words: how many, and how soon after enrolment."""
    t = present.tr
    r = ind.period(f"{year}-01-01", f"{year}-12-31")
    D = ind.interview_days
    s = t(lang, f"Nel {year} {_c(r['interviewed'], k, lang)} persone hanno svolto il colloquio di accoglienza.",
          f"In {year}, {_c(r['interviewed'], k, lang)} people had their intake interview.")
    if r["interview_eligible"] and not disclosure.is_small(r["interviewed_within"], k):
        s += t(lang,
               f" Su 100 persone iscritte nell'anno, {_n100(r['interviewed_within_share'], lang)} "
               f"hanno avuto il colloquio entro {D} giorni dall'iscrizione (l'obiettivo del team); per chi ha avuto il "
               f"colloquio, l'attesa mediana è stata di {present.fmt_num(r['median_days_to_interview'], lang)} giorni.",
               f" Of every 100 people enrolled in the year, {_n100(r['interviewed_within_share'], lang)} "
               f"had their interview within {D} days of enrolment (the team's target); for those interviewed, the "
               f"median wait was {present.fmt_num(r['median_days_to_interview'], lang)} days.")
    not_yet = r["interview_eligible"] - r["interview_done"]
    if not_yet:
        s += t(lang, f" {_c(not_yet, k, lang)} iscritti dell'anno non risultano ancora intervistati alla data di analisi.",
               f" {_c(not_yet, k, lang)} people enrolled that year have no interview recorded by the cut-off.")
    return s


def projection_text(ind: Indicators, proj: "AnnualProjection | None", growth_target: float, lang: str, k: int) -> str:
    """The annual placement target, the year to date and the projection, in words."""
    t = present.tr
    if proj is None:
        return t(lang, "Non è possibile stimare il totale dell'anno: servono almeno un anno completo di dati "
                       f"precedente ({ind.projection_problem_}).",
                 f"The year's total cannot be projected: at least one complete earlier year of data is needed "
                 f"({ind.projection_problem_}).")
    if proj.complete_:
        return _target_sentence(proj, growth_target, lang, k) if proj.target_ is not None else t(
            lang, f"L'anno si è chiuso con {_c(proj.ytd_, k, lang)} inserimenti.",
            f"The year ended with {_c(proj.ytd_, k, lang)} placements.")
    yrs = ", ".join(map(str, proj.past_years_))
    s = t(lang,
          f"Da inizio anno al {proj.cutoff_:%d/%m/%Y} gli inserimenti sono {_c(proj.ytd_, k, lang)}. Negli anni "
          f"{yrs}, entro la stessa data dell'anno si era realizzato il {present.fmt_pct(proj.seasonal_share_, lang)} "
          f"degli inserimenti dell'intero anno. Se il {proj.year_} segue lo stesso andamento, l'anno si chiuderà con "
          f"circa {present.fmt_num(proj.total_, lang)} inserimenti ({present.fmt_ci(*proj.ci_, lang)}, con una "
          f"probabilità del {present.fmt_pct(proj.level, lang)}).",
          f"From 1 January to {proj.cutoff_:%Y-%m-%d} there were {_c(proj.ytd_, k, lang)} placements. In {yrs}, "
          f"{present.fmt_pct(proj.seasonal_share_, lang)} of the year's placements had happened by the same date. "
          f"If {proj.year_} follows the same pattern, the year will end with about "
          f"{present.fmt_num(proj.total_, lang)} placements ({present.fmt_ci(*proj.ci_, lang)}, with "
          f"{present.fmt_pct(proj.level, lang)} probability).")
    lo, hi = proj.seasonal_range_
    s += t(lang,
           f" Usando l'andamento di un solo anno alla volta, la stima va da {present.fmt_num(lo, lang)} a "
           f"{present.fmt_num(hi, lang)}.",
           f" Using one past year's pattern at a time, the projection ranges from {present.fmt_num(lo, lang)} to "
           f"{present.fmt_num(hi, lang)}.")
    if proj.target_ is not None:
        gt = present.fmt_num(100 * growth_target, lang)
        s += t(lang,
               f" L'obiettivo (+{gt}% sul {proj.year_ - 1}) è di {present.fmt_num(proj.target_, lang)} inserimenti: "
               f"ne è stato raggiunto il {present.fmt_pct(proj.ytd_ / proj.target_, lang)}, e la probabilità di "
               f"raggiungerlo entro fine anno è {_chance(proj.prob_target_, lang)}.",
               f" The target (+{gt}% on {proj.year_ - 1}) is {present.fmt_num(proj.target_, lang)} placements: "
               f"{present.fmt_pct(proj.ytd_ / proj.target_, lang)} of it is reached, and the chance of reaching it by "
               f"the end of the year is {_chance(proj.prob_target_, lang)}.")
    return s


def multiplicity_text(cmp: pd.DataFrame, lang: str) -> str:
    """How many comparisons were tested and what the Holm correction changes, in words."""
    t = present.tr
    p = cmp["p_value"].dropna()
    m = len(p)
    if m == 0:
        return t(lang, "Non è stato possibile alcun confronto con lo stesso periodo dell'anno prima.",
                 "No comparison with the same period last year was possible.")
    raw = int((p < 0.05).sum())
    adj = int((cmp.loc[p.index, "p_holm"] < 0.05).sum())
    return t(lang,
             f"In questa sezione sono stati fatti {m} confronti con lo stesso periodo dell'anno prima (indicatori e "
             f"canali). Quando si fanno molti confronti, qualcuno può sembrare una variazione vera solo per caso: per "
             f"questo accanto al valore p di ogni confronto c'è il valore corretto con il metodo di Holm, che tiene "
             f"conto di tutti i {m} confronti insieme. Sotto la soglia di 0,05 restano {adj} confronti su {m} con la "
             f"correzione ({raw} senza).",
             f"This section makes {m} comparisons with the same period last year (indicators and channels). With many "
             f"comparisons some can look like real changes by chance alone, so each p-value is shown beside its "
             f"Holm-adjusted value, which accounts for all {m} comparisons together. {adj} of {m} comparisons stay "
             f"below 0.05 after adjustment ({raw} before).")


def left_out_text(ind: Indicators, lang: str, k: int) -> str:
    """Records dated after the cut-off, which the indicators leave out, in words."""
    t = present.tr
    lo = ind.left_out_
    n = sum(lo.values())
    if not n:
        return t(lang, "Tutti i record dei dati sono datati entro la data di analisi e sono stati considerati.",
                 "Every record in the data is dated on or before the analysis cut-off and was used.")
    names = {
        "participants_enrolled_after_cutoff": ("iscrizioni", "enrolments"),
        "interviews_after_cutoff": ("colloqui", "interviews"),
        "interviews_of_people_enrolled_after_cutoff": ("colloqui di persone iscritte dopo", "interviews of people enrolled later"),
        "placements_after_cutoff": ("inserimenti", "placements"),
    }
    parts = [f"{_c(v, k, lang)} {names[key][0 if lang == 'it' else 1]}" for key, v in lo.items() if v]
    return t(lang, f"Non sono considerati perché successivi alla data di analisi ({ind.cutoff_:%d/%m/%Y}): "
                   + ", ".join(parts) + ".",
             f"Left out because dated after the analysis cut-off ({ind.cutoff_:%Y-%m-%d}): " + ", ".join(parts) + ".")


def _versus(now, before, change, lang: str, k: int, *, it: str, en: str) -> str:
    """", contro 102 nel 2023 (+49%)": the comparison clause, or nothing when a count is hidden
    (the change would reveal it) or missing."""
    if pd.isna(before) or disclosure.is_small(now, k) or disclosure.is_small(before, k):
        return ""
    t = present.tr
    return t(lang, f", contro {_c(before, k, lang)} {it} ({_fmt_change(change, lang)})",
             f", against {_c(before, k, lang)} {en} ({_fmt_change(change, lang)})")


def _target_sentence(proj: "AnnualProjection", growth_target: float, lang: str, k: int) -> str:
    t = present.tr
    gt = present.fmt_num(100 * growth_target, lang)
    head = t(lang, f"Obiettivo {proj.year_}: {present.fmt_num(proj.target_, lang)} inserimenti (+{gt}% sul "
                   f"{proj.year_ - 1}).",
             f"Target for {proj.year_}: {present.fmt_num(proj.target_, lang)} placements (+{gt}% on {proj.year_ - 1}).")
    reached = proj.ytd_ >= proj.target_
    if proj.complete_:
        return head + t(lang,
                        f" L'anno si è chiuso con {_c(proj.ytd_, k, lang)} inserimenti "
                        f"({present.fmt_pct(proj.ytd_ / proj.target_, lang)} dell'obiettivo): obiettivo "
                        + ("raggiunto." if reached else "non raggiunto."),
                        f" The year ended with {_c(proj.ytd_, k, lang)} placements "
                        f"({present.fmt_pct(proj.ytd_ / proj.target_, lang)} of the target): target "
                        + ("reached." if reached else "not reached."))
    return head + t(lang,
                    f" Da inizio anno sono {_c(proj.ytd_, k, lang)}; se il resto dell'anno segue l'andamento abituale "
                    f"si arriverà a circa {present.fmt_num(proj.total_, lang)} ({present.fmt_ci(*proj.ci_, lang)}); "
                    f"la probabilità di raggiungere l'obiettivo è {_chance(proj.prob_target_, lang)}.",
                    f" So far this year: {_c(proj.ytd_, k, lang)}; if the rest of the year follows the usual pattern "
                    f"it will end at about {present.fmt_num(proj.total_, lang)} ({present.fmt_ci(*proj.ci_, lang)}); "
                    f"the chance of reaching the target is {_chance(proj.prob_target_, lang)}.")


def _change_words(r, lang: str) -> str:
    """Whether a change is larger than chance, in words."""
    t = present.tr
    if pd.isna(r["p_value"]):
        return ""
    if r["p_value"] < 0.05:
        return t(lang, "una differenza difficilmente dovuta al caso", "a difference unlikely to be due to chance")
    return t(lang, "una differenza che potrebbe essere dovuta al caso", "a difference that could be due to chance")


def monitoring_summary(ind: Indicators, quarter: str, cmp_q: pd.DataFrame, proj: AnnualProjection | None,
                       new_candidates_target: float, lang: str, k: int, *, growth_target: float = 0.15) -> list[str]:
    """The "In breve" sentences of the quarterly monitoring."""
    t = present.tr
    out = []
    qw = _quarter_words(quarter, lang)
    pq = f"{int(quarter[:4]) - 1}"
    r = cmp_q.loc["placements"]
    vs = _versus(r["now"], r["before"], r["change"], lang, k, it=f"nello stesso trimestre del {pq}",
                 en=f"in the same quarter of {pq}")
    words = _change_words(r, lang) if vs else ""
    if vs and words:
        vs = vs[:-1] + f": {words})"
    if not cmp_q.attrs.get("before_covered", True):
        vs = t(lang, f" (nessun confronto: i dati iniziano il {ind.data_start_:%d/%m/%Y})",
               f" (no comparison: the data start on {ind.data_start_:%Y-%m-%d})")
    out.append(t(lang, f"Nel {qw} gli inserimenti lavorativi sono stati {_c(r['now'], k, lang)}{vs}.",
                 f"In the {qw} there were {_c(r['now'], k, lang)} job placements{vs}."))
    rp = cmp_q.loc["permanent"]
    vs = _versus(rp["now"], rp["before"], rp["change"], lang, k, it="un anno prima", en="a year earlier")
    if vs:
        out.append(t(lang, f"Quelli a tempo indeterminato sono stati {_c(rp['now'], k, lang)}{vs}.",
                     f"Permanent contracts numbered {_c(rp['now'], k, lang)}{vs}."))
    if proj is not None and proj.target_ is not None:
        out.append(_target_sentence(proj, growth_target, lang, k))
    ytd = ind.period(*ind.ytd_bounds())
    if not disclosure.is_small(ytd["first_placed"], k) and not disclosure.is_small(ytd["persons_placed"], k):
        lo, hi = _wilson(ytd["first_placed"], ytd["persons_placed"])
        share = ytd["first_placed_share"]
        verdict = (t(lang, "sopra", "above") if lo > new_candidates_target else
                   t(lang, "sotto", "below") if hi < new_candidates_target else t(lang, "in linea con", "in line with"))
        out.append(t(lang,
                     f"Su 100 persone inserite da inizio anno, {_n100(share, lang)} non erano mai "
                     f"state inserite prima (tra {present.fmt_num(100 * lo, lang)} e {present.fmt_num(100 * hi, lang)} "
                     f"su 100): {verdict} l'obiettivo di {present.fmt_num(100 * new_candidates_target, lang)} su 100.",
                     f"Of every 100 people placed this year, {_n100(share, lang)} had never been "
                     f"placed before (between {present.fmt_num(100 * lo, lang)} and {present.fmt_num(100 * hi, lang)} "
                     f"in 100): {verdict} the target of {present.fmt_num(100 * new_candidates_target, lang)} in 100."))
    qi = ind.period(*quarter_bounds(quarter))
    if not disclosure.is_small(qi["interview_eligible"], k) and not disclosure.is_small(qi["interviewed_within"], k):
        out.append(t(lang,
                     f"Degli iscritti nel trimestre, {present.per100(qi['interviewed_within_share'], lang)} hanno avuto "
                     f"il colloquio di accoglienza entro {ind.interview_days} giorni dall'iscrizione.",
                     f"Of the people enrolled in the quarter, {present.per100(qi['interviewed_within_share'], lang)} had "
                     f"their intake interview within {ind.interview_days} days of enrolment."))
    return out


# ============================================================================ charts


def _shown(values: pd.DataFrame, k: int, lines: str = _LINES) -> pd.DataFrame:
    """Boolean frame: which counts a chart may draw (the same suppression as the tables)."""
    return ~_mask(values, list(values.columns), k, lines)


def _add_note(fig, note: str):
    """A footnote under the whole figure (below rotated tick labels too)."""
    if note:
        fig.tight_layout()
        fig.text(0.01, -0.01, note.strip(), fontsize=9, va="top", ha="left")


_MONTHS = {"it": ["gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic"],
           "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]}


def _suppressed_note(n_hidden: int, k: int, lang: str) -> str:
    if not n_hidden:
        return ""
    return present.tr(lang, f" Valori sotto {k} (e quelli che li rivelerebbero) non sono disegnati.",
                      f" Values below {k} (and those that would reveal them) are not drawn.")


def plot_by_year(ind: Indicators, lang: str, k: int):
    """Bars of enrolments and placements by year (an incomplete year drawn lighter)."""
    import matplotlib.pyplot as plt

    t = present.tr
    tab = ind.table("year")
    vals = tab[["enrolments", "placements"]].astype(float)
    ok = _shown(vals, k)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    x = np.arange(len(tab))
    for j, (col, colour, lab) in enumerate([("enrolments", present.PALETTE[0], t(lang, "Iscritti", "Enrolments")),
                                            ("placements", present.PALETTE[1], t(lang, "Inserimenti", "Placements"))]):
        h = vals[col].where(ok[col])
        bars = ax.bar(x + (j - 0.5) * 0.4, h, width=0.4, color=colour, label=lab)
        for b, c in zip(bars, tab["complete"]):
            if not c:
                b.set_alpha(0.45)
                b.set_hatch("//")
    ax.set_xticks(x, [p if c else f"{p}*" for p, c in zip(tab["period"], tab["complete"])])
    ax.set_ylabel(t(lang, "Numero", "Number"))
    ax.set_title(t(lang, "Iscritti e inserimenti per anno", "Enrolments and placements by year"))
    ax.legend()
    _add_note(fig, t(lang, "* anno non completo (fino alla data di analisi)", "* incomplete year (to the cut-off)")
              + _suppressed_note(int((~ok).to_numpy().sum()), k, lang))
    return fig


def plot_mix_by_year(ind: Indicators, column: str, years, lang: str, k: int, *, top: int | None = None):
    """100% stacked bars: the share of each level in each year. Levels hidden in the table are
    drawn together as one grey "not shown" segment."""
    import matplotlib.pyplot as plt

    t = present.tr
    wide = ind.breakdown(column, "year", top=top).loc[[str(y) for y in years]]
    # suppression as in the table: levels x years with the total row
    block = pd.concat([wide.T, wide.sum(axis=1).to_frame("total").T]).astype(float)
    ok = _shown(block, k).drop(index="total").T
    share = wide.div(wide.sum(axis=1), axis=0).where(ok)
    rest = 1 - share.sum(axis=1)
    fig, ax = plt.subplots(figsize=(9, 1.6 + 0.6 * len(years)))
    left = np.zeros(len(years))
    colours = (present.PALETTE * 3)[: wide.shape[1]]
    ylab = [str(y) for y in years]
    for lv, colour in zip(wide.columns, colours):
        v = share[lv].fillna(0).to_numpy()
        if not v.any():
            continue
        ax.barh(ylab, v, left=left, color=colour, label=level_label(column, lv, lang))
        for i, (val, l0) in enumerate(zip(v, left)):
            if val >= 0.06:
                ax.text(l0 + val / 2, i, present.fmt_pct(val, lang), ha="center", va="center", fontsize=9,
                        color="white" if colour in ("#0072B2", "#000000", "#D55E00", "#009E73") else "black")
        left += v
    if (rest > 1e-9).any():
        ax.barh(ylab, rest.to_numpy(), left=left, color="#BBBBBB",
                label=t(lang, f"Non mostrati (meno di {k} persone)", f"Not shown (fewer than {k} people)"))
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(lambda v, _: present.fmt_pct(v, lang))
    ax.invert_yaxis()
    ax.legend(ncol=min(4, wide.shape[1] + 1), loc="upper left", bbox_to_anchor=(0, -0.12 if len(years) > 2 else -0.2))
    ax.set_title(t(lang, f"{_COLUMN_LABELS[column][0]}: composizione per anno",
                   f"{_COLUMN_LABELS[column][1]}: mix by year"))
    return fig


def plot_q1(ind: Indicators, lang: str, k: int):
    """First-quarter placements by year, with the permanent ones."""
    import matplotlib.pyplot as plt

    t = present.tr
    tab = ind.table("quarter")
    q1 = tab[tab["period"].str.endswith("Q1") & tab["complete"]]
    vals = q1[["placements", "permanent"]].astype(float).reset_index(drop=True)
    ok = _shown(vals, k)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    years = q1["period"].str[:4].tolist()
    ax.bar(years, vals["placements"].where(ok["placements"]), color=present.PALETTE[0],
           label=t(lang, "Inserimenti", "Placements"))
    ax.bar(years, vals["permanent"].where(ok["permanent"]), color=present.PALETTE[1], width=0.5,
           label=t(lang, "di cui a tempo indeterminato", "of which permanent"))
    ax.set_ylabel(t(lang, "Inserimenti nel 1° trimestre", "Placements in Q1"))
    ax.set_title(t(lang, "Inserimenti nel primo trimestre di ogni anno", "Placements in the first quarter of each year"))
    ax.legend()
    _add_note(fig, _suppressed_note(int((~ok).to_numpy().sum()), k, lang))
    return fig


def _quarter_axis(ax, labels, lang):
    """One tick per quarter, the year written under its first quarter."""
    q1 = [i for i, p in enumerate(labels) if p.endswith("Q1")]
    ax.set_xticks(q1, [labels[i][:4] for i in q1])
    ax.set_xticks(range(len(labels)), minor=True)
    ax.tick_params(axis="x", which="minor", length=3)
    ax.set_xlabel(present.tr(lang, "Trimestri (l'anno è segnato sul primo trimestre)",
                             "Quarters (the year marks its first quarter)"))


def plot_quarterly(ind: Indicators, indicator: str, lang: str, k: int, *, growth_target: float | None = None,
                   share_target: float | None = None):
    """An indicator over all complete quarters, with its target drawn.

    For a count, ``growth_target`` draws, for the quarters of the cut-off's year, the level that
    is ``(1 + growth_target)`` times the same quarter of the year before. For a share,
    ``share_target`` draws a horizontal line.
    """
    import matplotlib.pyplot as plt

    t = present.tr
    kind = INDICATORS[indicator][0]
    name = _label(indicator, lang, ind.interview_days)
    tab = ind.table("quarter")
    tab = tab[tab["complete"]].reset_index(drop=True)
    labels = tab["period"].tolist()
    fig, ax = plt.subplots(figsize=(10, 4.5))
    hidden = 0
    if kind == "count":
        ok = _shown(tab[[indicator]].astype(float), k)[indicator]
        hidden = int((~ok).sum())
        y = tab[indicator].astype(float).where(ok)
    else:
        num, den = _SHARES.get(indicator, ("interviewed_within", "interview_eligible"))
        ok = _shown(tab[[num]].astype(float), k)[num] & ~tab[den].map(lambda v: disclosure.is_small(v, k))
        hidden = int((~ok).sum())
        y = tab[indicator].astype(float).where(ok)
    ax.plot(range(len(labels)), y, marker="o", color=present.PALETTE[0], label=name)
    if kind == "count" and growth_target is not None:
        year = str(ind.cutoff_.year)
        xs, ys = [], []
        for i, p in enumerate(labels):
            prev = f"{int(p[:4]) - 1}Q{p[-1]}"
            if p.startswith(year) and prev in labels:
                xs.append(i)
                ys.append((1 + growth_target) * tab.loc[labels.index(prev), indicator])
        if xs:
            ax.scatter(xs, ys, marker="_", s=600, linewidths=3, color=present.PALETTE[5], zorder=3,
                       label=t(lang, f"Obiettivo: +{present.fmt_num(100 * growth_target, lang)}% sullo stesso trimestre "
                                     "dell'anno prima",
                               f"Target: +{present.fmt_num(100 * growth_target, lang)}% on the same quarter last year"))
    if kind == "share":
        ax.yaxis.set_major_formatter(lambda v, _: present.fmt_pct(v, lang))
        ax.set_ylim(0, 1.05)
        if share_target is not None:
            ax.axhline(share_target, color=present.PALETTE[5], linestyle="--",
                       label=t(lang, f"Obiettivo: {present.fmt_pct(share_target, lang)}",
                               f"Target: {present.fmt_pct(share_target, lang)}"))
    _quarter_axis(ax, labels, lang)
    ax.set_title(name[:1].upper() + name[1:] + t(lang, " per trimestre", " by quarter"))
    ax.legend(loc="best")
    if kind != "share":
        ax.set_ylim(bottom=0)
    _add_note(fig, _suppressed_note(hidden, k, lang))
    return fig


def plot_interviews(ind: Indicators, lang: str, k: int):
    """Two panels over complete quarters: share interviewed within the target days, median days."""
    import matplotlib.pyplot as plt

    t = present.tr
    tab = ind.table("quarter")
    tab = tab[tab["complete"]].reset_index(drop=True)
    labels = tab["period"].tolist()
    ok = _shown(tab[["interviewed_within"]].astype(float), k)["interviewed_within"] & ~tab["interview_eligible"].map(
        lambda v: disclosure.is_small(v, k))
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.2))
    D = ind.interview_days
    a1.plot(range(len(labels)), tab["interviewed_within_share"].where(ok), marker="o", color=present.PALETTE[0])
    a1.yaxis.set_major_formatter(lambda v, _: present.fmt_pct(v, lang))
    a1.set_ylim(0, 1.05)
    a1.set_title(t(lang, f"Colloquio entro {D} giorni (quota)", f"Interviewed within {D} days (share)"))
    a2.plot(range(len(labels)), tab["median_days_to_interview"].where(ok), marker="o", color=present.PALETTE[2])
    a2.axhline(D, color=present.PALETTE[5], linestyle="--", label=t(lang, f"Obiettivo: {D} giorni", f"Target: {D} days"))
    a2.set_title(t(lang, "Giorni mediani dall'iscrizione al colloquio", "Median days from enrolment to interview"))
    a2.legend()
    for a in (a1, a2):
        _quarter_axis(a, labels, lang)
    a2.set_ylim(bottom=0)
    _add_note(fig, _suppressed_note(int((~ok).sum()), k, lang))
    return fig


def plot_channels(ind: Indicators, lang: str, k: int):
    """Placements by channel and year, stacked (the current year to the cut-off, marked *).

    Years rather than quarters: most channels place fewer than ten people a quarter, which
    the disclosure rules would hide. Hidden cells are not drawn.
    """
    import matplotlib.pyplot as plt

    t = present.tr
    wide = ind.breakdown("channel", "year")
    complete = ind.table("year").set_index("period")["complete"]
    ok = _shown(wide.astype(float), k, lines="both")  # channels add up to the year's total
    fig, ax = plt.subplots(figsize=(10, 4.8))
    bottom = np.zeros(len(wide))
    labels = [p if complete[p] else f"{p}*" for p in wide.index]
    for c, colour in zip(wide.columns, present.PALETTE):
        v = wide[c].astype(float).where(ok[c]).fillna(0).to_numpy()
        if not v.any():
            continue
        ax.bar(labels, v, bottom=bottom, color=colour, label=level_label("channel", c, lang))
        bottom += v
    ax.set_ylabel(t(lang, "Inserimenti", "Placements"))
    ax.set_title(t(lang, "Inserimenti per canale e anno", "Placements by channel and year"))
    ax.legend(ncol=2, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    _add_note(fig, t(lang, "* anno non completo (fino alla data di analisi).", "* incomplete year (to the cut-off).")
              + _suppressed_note(int((~ok).to_numpy().sum()), k, lang))
    return fig


def plot_cumulative(ind: Indicators, proj: AnnualProjection | None, lang: str, k: int):
    """This year's placements day by day against the target path and the projection.

    The target path is last year's cumulative placements times the target ratio, so it carries
    last year's seasonality; the projection interval is drawn at 31 December. Without a
    projection (``None``) only this year's line is drawn.
    """
    import matplotlib.pyplot as plt

    t = present.tr
    year = ind.cutoff_.year
    d = ind.placements_["started_on"]
    days = pd.date_range(f"{year}-01-01", f"{year}-12-31")
    fig, ax = plt.subplots(figsize=(10, 4.8))
    this = d[d.dt.year == year].dt.dayofyear.value_counts().reindex(range(1, len(days) + 1), fill_value=0).cumsum()
    upto = (ind.cutoff_ - pd.Timestamp(year=year, month=1, day=1)).days + 1
    y_this = this.iloc[:upto].astype(float)
    # a running total below k would reveal a small count: start drawing once it reaches k
    y_this = y_this.where(y_this >= k)
    ax.plot(days[:upto], y_this.to_numpy(), color=present.PALETTE[0], lw=2.5,
            label=t(lang, f"Inserimenti {year}", f"Placements {year}"))
    if proj is not None and proj.target_ is not None:
        prev = d[d.dt.year == year - 1]
        ratio = proj.target_ / max(len(prev), 1)
        n_prev = len(pd.date_range(f"{year - 1}-01-01", f"{year - 1}-12-31"))
        cum_prev = prev.dt.dayofyear.value_counts().reindex(range(1, n_prev + 1), fill_value=0).cumsum()
        path = (cum_prev * ratio).reindex(range(1, len(days) + 1)).ffill().to_numpy()
        ax.plot(days, path, color=present.PALETTE[5], linestyle="--",
                label=t(lang, f"Percorso dell'obiettivo ({present.fmt_num(proj.target_, lang)} a fine anno)",
                        f"Target path ({present.fmt_num(proj.target_, lang)} by year end)"))
    if proj is not None:
        end = days[-1]
        ax.errorbar([end], [proj.total_], yerr=[[proj.total_ - proj.ci_[0]], [proj.ci_[1] - proj.total_]], fmt="o",
                    color=present.PALETTE[2], capsize=6, lw=2,
                    label=t(lang, f"Previsione a fine anno (intervallo al {present.fmt_pct(proj.level, lang)})",
                            f"Year-end projection ({present.fmt_pct(proj.level, lang)} interval)"))
        ax.plot([days[upto - 1], end], [proj.ytd_, proj.total_], color=present.PALETTE[2], linestyle=":")
    ax.set_ylim(bottom=0)
    ticks = pd.date_range(f"{year}-01-01", f"{year}-12-01", freq="MS")
    ax.set_xticks(ticks, [_MONTHS[lang][m.month - 1] for m in ticks])
    ax.set_ylabel(t(lang, "Inserimenti da inizio anno", "Placements since 1 January"))
    ax.set_title(t(lang, f"Inserimenti {year}: andamento verso l'obiettivo", f"Placements {year}: progress to target"))
    ax.legend(loc="upper left")
    return fig


# ============================================================================ example data


def _toy_dataset():
    """The hand-made dataset of the examples and of ``tests/test_kpi.py`` (not public API)."""
    import datetime as dt
    from pathlib import Path

    from .dataset import Dataset

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
