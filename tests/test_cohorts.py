"""The time-to-placement frame: event/time rules, exclusions, time zero variants."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ixl_eval.cohorts import EXCLUSION_REASONS, SUBGROUPS, time_to_placement
from ixl_eval.report.vocab import level as level_label
from ixl_eval.dataset import Dataset

D = pd.to_datetime


def _ds() -> Dataset:
    # Each person exercises one rule; the comment says which.
    participants = pd.DataFrame(
        {
            "participant_id": ["A", "B", "C", "D", "E", "F", "G", "H", "I"],
            "enrolled_on": D(["2023-01-10", "2023-02-01", "2023-03-01", "2023-03-01", "2022-06-01",
                              "2023-04-01", "2023-05-01", "2023-06-01", "2024-04-01"]),
            "birth_year": [1995, 1990, 1980, 1960, 1993, 1994, 1970, 1985, 2000],
            "gender": ["F", "M", "F", "M", "X", "F", "M", "F", "M"],
            "citizenship": ["IT", "MA", "IT", "RO", "IT", "UA", "IT", "IT", "PK"],
            "education": ["upper_secondary_diploma", "none_or_compulsory", "degree_or_postgraduate",
                          "vocational_qualification", "upper_secondary_diploma", "none_or_compulsory",
                          "upper_secondary_diploma", "degree_or_postgraduate", "none_or_compulsory"],
            "withdrawn_on": D([None, None, "2023-04-01", "2023-03-20", None, None, "2023-05-11", None, None]),
        }
    )
    interviews = pd.DataFrame(
        {
            "participant_id": ["A", "A", "B", "C", "D", "G", "H"],
            "interviewed_on": D(["2023-01-25", "2023-01-20", "2023-02-10", "2023-03-05", "2023-03-25",
                                 "2023-05-05", "2023-06-20"]),
            "format": ["individual", "plenary", "individual", "individual", "plenary", "plenary", "individual"],
        }
    )
    placements = pd.DataFrame(
        {
            "placement_id": [f"X{i}" for i in range(7)],
            "participant_id": ["A", "A", "B", "C", "D", "F", "H"],
            "started_on": D(["2023-03-11", "2023-02-19", "2023-02-01", "2023-04-01", "2023-03-25",
                             "2023-05-01", "2023-06-10"]),
            "contract_type": ["permanent", "internship", "fixed_term", "fixed_term", "permanent",
                              "fixed_term", "fixed_term"],
        }
    )
    return Dataset(participants=participants, interviews=interviews, programmes=pd.DataFrame(),
                   placements=placements, extracted_on=dt.date(2024, 4, 30), source="test",
                   data_dir=Path("."))


def _row(f, pid):
    return f.set_index("participant_id").loc[pid]


def test_enrolment_time_zero_rules():
    f = time_to_placement(_ds())
    # A: first placement (internship) 40 days after enrolment
    assert (_row(f, "A").time, _row(f, "A").event, _row(f, "A").contract_type) == (40.0, 1, "internship")
    # B: placed on the enrolment day -> half a day, strictly after the start
    assert (_row(f, "B").time, _row(f, "B").event) == (0.5, 1)
    # C: placement on the withdrawal day counts as placement
    assert (_row(f, "C").time, _row(f, "C").event) == (31.0, 1)
    # D: withdrew (03-20) before a placement (03-25): competing event, later placement noted
    assert (_row(f, "D").time, _row(f, "D").event) == (19.0, 2)
    assert f.attrs["notes"]["placed_after_withdrawal_not_counted"] == 1
    # E: never placed nor withdrawn: censored at the extraction date
    e = _row(f, "E")
    assert (e.time, e.event, e.placed) == (float((D("2024-04-30") - D("2022-06-01")).days), 0, False)
    assert e.exit_on == D("2024-04-30")
    assert f["time"].min() >= 0 and f["time"].dtype == float
    assert set(f["event"]) <= {0, 1, 2}
    assert (f["placed"] == (f["event"] == 1)).all()
    assert "birth_year" not in f.columns


def test_covariates():
    f = time_to_placement(_ds()).set_index("participant_id")
    assert f.loc["A", "age_band"] == "<30"       # 2023 - 1995 = 28
    assert f.loc["C", "age_band"] == "40-49"     # 43
    assert f.loc["D", "age_band"] == "50+"       # 63
    assert f.loc["B", "citizenship_group"] == "foreign"
    assert f.loc["A", "citizenship_group"] == "IT"
    assert f.loc["A", "interview_format"] == "plenary"   # the earliest interview
    assert f.loc["F", "interview_format"] == "none"
    assert f.loc["E", "enrolment_year"] == 2022
    assert set(SUBGROUPS) <= set(f.columns)
    assert level_label("citizenship_group", "foreign", "en") == "Foreign"


def test_counts_add_up_and_window():
    ds = _ds()
    f = time_to_placement(ds, enrol_from="2023-01-01", enrol_to="2023-12-31")
    ex = f.attrs["excluded"]
    assert ex["enrolled_outside_window"] == 2  # E (2022) and I (2024)
    assert f.attrs["n_source"] == len(f) + sum(ex.values()) == len(ds.participants)
    assert tuple(ex) == EXCLUSION_REASONS and f.attrs["n_source"] == 9
    # the report's cohort table (typed, zeros shown) says the same
    from ixl_eval.placement_time import PlacementTimeAnalysis
    from ixl_eval.report.placement_time import cohort_table

    t = cohort_table(PlacementTimeAnalysis(frame=f, horizons=(), rmst_horizon=0, plot_max_days=0, subgroups=(),
                                           km=None, aj=None), "en")
    n = t.data["n"].tolist()
    assert n[0] == 9 and n[1:1 + len(ex)] == list(ex.values()) and n[1 + len(ex)] == len(f)


def test_cutoff_before_events_and_after_enrolment():
    f = time_to_placement(_ds(), cutoff="2023-03-01")
    # I enrolled after the cut-off; F, G, H too
    assert f.attrs["excluded"]["time_zero_after_cutoff"] == 4
    # C enrolled on the cut-off day: in, censored at time 0
    assert (_row(f, "C").time, _row(f, "C").event) == (0.0, 0)
    # A placed 02-19 < cut-off: event; D's withdrawal (03-20) is after the cut-off: censored
    assert _row(f, "A").event == 1 and _row(f, "D").event == 0
    with pytest.raises(ValueError, match="after the extraction date"):
        time_to_placement(_ds(), cutoff="2025-01-01")


def test_contract_types_filter():
    f = time_to_placement(_ds(), contract_types=["permanent"])
    # A's internship is not a placement here: the event is the permanent contract
    assert (_row(f, "A").time, _row(f, "A").contract_type) == (60.0, "permanent")
    assert _row(f, "B").event == 0  # fixed-term only
    assert f.attrs["notes"]["placements_of_other_types"] == 5
    with pytest.raises(ValueError, match="unknown contract type"):
        time_to_placement(_ds(), contract_types=["apprenticeship"])


def test_interview_time_zero():
    f = time_to_placement(_ds(), time_zero="interview")
    ex = f.attrs["excluded"]
    assert ex["no_time_zero"] == 3            # E, F, I never interviewed
    assert ex["placed_before_time_zero"] == 2  # B and H were placed before their interview
    assert ex["withdrawn_before_time_zero"] == 1  # D withdrew (03-20) before the interview (03-25)
    assert {"B", "D", "H"}.isdisjoint(f["participant_id"])
    assert (_row(f, "G").time, _row(f, "G").event) == (6.0, 2)
    assert (_row(f, "A").time, _row(f, "A").event) == (30.0, 1)  # from 01-20 to 02-19
    assert f.attrs["n_source"] == len(f) + sum(ex.values())


def test_series_time_zero_keep_prior():
    s = pd.Series(D(["2023-03-01", "2023-06-01"]), index=pd.Index(["A", "H"], name="participant_id"))
    f = time_to_placement(_ds(), time_zero=s, prior_placements="keep")
    assert list(f["participant_id"]) == ["A", "H"]
    assert (_row(f, "A").time, _row(f, "A").contract_type) == (10.0, "permanent")
    assert (_row(f, "H").time, _row(f, "H").event) == (9.0, 1)
    assert f.attrs["notes"]["placed_before_time_zero_kept"] == 1
    assert f.attrs["excluded"]["no_time_zero"] == 7
    with pytest.raises(ValueError, match="not in the data"):
        time_to_placement(_ds(), time_zero=pd.Series(D(["2023-01-01"]), index=["ZZ"]))


def test_frame_has_no_silent_drop_on_synthetic(synth_dir):
    from ixl_eval.dataset import load_dataset

    f = time_to_placement(load_dataset(synth_dir))
    assert f.attrs["n_source"] == len(f) + sum(f.attrs["excluded"].values())
    assert np.isfinite(f["time"]).all()
    assert f["participant_id"].is_unique
