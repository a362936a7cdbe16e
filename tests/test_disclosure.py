"""Small-cell suppression: primary, secondary and linked cells."""

import numpy as np
import pandas as pd
import pytest

from ixl_eval.disclosure import SECONDARY_MARK, format_count, is_small, suppress_table


@pytest.mark.parametrize(
    "n, k, lang, expected",
    [(0, 10, "it", "<10"), (9, 10, "it", "<10"), (10, 10, "it", "10"), (1234, 10, "it", "1.234"),
     (1234, 10, "en", "1,234"), (4, 5, "en", "<5"), (float("nan"), 10, "it", "")],
)
def test_format_count(n, k, lang, expected):
    assert format_count(n, k, lang) == expected


def test_is_small_ignores_missing():
    assert not is_small(None, 10) and not is_small(float("nan"), 10) and is_small(3, 10)


def _unsuppressed(shown: pd.DataFrame, cols) -> np.ndarray:
    return shown[cols].apply(lambda s: ~s.isin([SECONDARY_MARK]) & ~s.str.startswith("<")).to_numpy()


def test_no_line_keeps_a_lone_suppressed_cell():
    rng = np.random.default_rng(7)
    df = pd.DataFrame(rng.integers(0, 40, size=(8, 5)), columns=list("abcde"))
    shown = suppress_table(df, list("abcde"), 10)
    hidden = ~_unsuppressed(shown, list("abcde"))
    # every small value is hidden as "<10"
    assert (shown.to_numpy()[df.to_numpy() < 10] == "<10").all()
    # no row or column with exactly one hidden cell: it could be recovered from the margins
    assert not (hidden.sum(axis=1) == 1).any()
    assert not (hidden.sum(axis=0) == 1).any()


def test_secondary_picks_the_smallest_other_cell():
    df = pd.DataFrame({"year": [2022, 2023], "F": [5, 30], "M": [50, 12]})
    shown = suppress_table(df, ["F", "M"], 10)
    assert shown.loc[0, "F"] == "<10"
    # row 0: M (50) must go; column F: 30 must go; then row 1 has F hidden -> M (12) hidden too
    assert shown.loc[0, "M"] == SECONDARY_MARK
    assert shown.loc[1, "F"] == SECONDARY_MARK
    assert shown.loc[1, "M"] == SECONDARY_MARK
    assert shown["year"].tolist() == [2022, 2023]


def test_linked_share_is_hidden_with_its_count():
    df = pd.DataFrame({"group": ["a", "b", "c"], "n": [4, 20, 30], "share": ["7%", "37%", "56%"]})
    shown = suppress_table(df, ["n"], 10, linked={"share": "n"})
    assert shown["share"].tolist() == ["<10", SECONDARY_MARK, "56%"]


def test_unknown_column_is_an_error():
    with pytest.raises(KeyError):
        suppress_table(pd.DataFrame({"n": [1]}), ["m"], 10)
