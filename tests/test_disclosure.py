"""Small-cell suppression: primary, secondary and linked cells."""

import pytest

from ixl_eval.disclosure import format_count, is_small


@pytest.mark.parametrize(
    "n, k, lang, expected",
    [(0, 10, "it", "<10"), (9, 10, "it", "<10"), (10, 10, "it", "10"), (1234, 10, "it", "1.234"),
     (1234, 10, "en", "1,234"), (4, 5, "en", "<5"), (float("nan"), 10, "it", "")],
)
def test_format_count(n, k, lang, expected):
    assert format_count(n, k, lang) == expected


def test_is_small_ignores_missing():
    assert not is_small(None, 10) and not is_small(float("nan"), 10) and is_small(3, 10)


# The joint protection of typed tables (primary, secondary, derived, linked) is tested in
# tests/test_output_layer.py and, against a whole run, in tests/test_disclosure_audit.py.
