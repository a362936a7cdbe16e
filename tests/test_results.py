"""Result records: key format, JSON cleaning, merge determinism."""

import math

import numpy as np
import pytest

from ixl_eval.results import RECORD_FIELDS, ResultRecord, merge_records


def test_record_fields_are_the_fixed_interface():
    # the nine original fields, in order, then the reason a value is withheld (issue 10)
    assert RECORD_FIELDS == ("notebook", "key", "value", "ci_low", "ci_high", "n", "unit", "label_it", "label_en",
                             "suppressed")


def test_nan_becomes_null_and_numpy_ints_stay_ints():
    d = ResultRecord("nb", "x", float("nan"), np.float64(0.1), math.inf, np.int64(12)).as_dict()
    assert d["value"] is None and d["ci_high"] is None and d["n"] == 12 and isinstance(d["n"], int)
    assert d["ci_low"] == 0.1


@pytest.mark.parametrize("key", ["Bad Key", "x__", "median days"])
def test_bad_keys_are_refused(key):
    with pytest.raises(ValueError):
        ResultRecord("nb", key, 1)


def test_merge_sorts_and_refuses_duplicates():
    a = [ResultRecord("b", "k", 1), ResultRecord("a", "z", 2)]
    b = [{"notebook": "a", "key": "a", "value": 3}]
    merged = merge_records([a, b])
    assert [(r["notebook"], r["key"]) for r in merged] == [("a", "a"), ("a", "z"), ("b", "k")]
    with pytest.raises(ValueError):
        merge_records([a, a])
