"""The retry signal: which `x-stainless-retry-count` values mark a request as a retry."""

from __future__ import annotations

from woz.api.core.intake import is_retry


def test_only_a_count_of_one_or_more_marks_a_retry() -> None:
    """A first attempt (0), a missing header and anything not a plain number are not retries."""
    values = ["", "0", "00", "1", "02", "17", "-1", "+1", " 1", "one", "1.0", "\u00b9"]
    assert [v for v in values if is_retry(v)] == ["1", "02", "17"]
