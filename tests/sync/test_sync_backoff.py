"""The backoff function alone: exponential, capped, jittered, Retry-After as a
floor (itself capped at an hour)."""

from datetime import UTC, datetime

import pytest

from edgebox.sync.backoff import RETRY_AFTER_CAP_S, backoff_delay, parse_retry_after


def test_grows_exponentially_up_to_the_cap() -> None:
    waits = [backoff_delay(n, base_s=1.0, cap_s=60.0, jitter=1.0) for n in range(10)]
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0, 60.0]


def test_full_jitter_scales_the_bound() -> None:
    assert backoff_delay(3, base_s=1.0, cap_s=60.0, jitter=0.0) == 0.0
    assert backoff_delay(3, base_s=1.0, cap_s=60.0, jitter=0.25) == 2.0


def test_a_huge_attempt_number_does_not_overflow() -> None:
    assert backoff_delay(10_000, base_s=0.5, cap_s=30.0, jitter=1.0) == 30.0


def test_retry_after_is_a_floor_and_capped() -> None:
    assert backoff_delay(0, base_s=1, cap_s=60, jitter=0.5, retry_after_s=7) == 7.0
    assert backoff_delay(6, base_s=1, cap_s=60, jitter=1.0, retry_after_s=7) == 60.0
    huge = backoff_delay(0, base_s=1, cap_s=60, jitter=0.0, retry_after_s=10**9)
    assert huge == RETRY_AFTER_CAP_S == 3600.0


def test_jitter_outside_the_unit_interval_is_a_bug() -> None:
    with pytest.raises(ValueError, match="jitter"):
        backoff_delay(0, base_s=1, cap_s=2, jitter=1.5)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("120", 120.0),
        (" 30 ", 30.0),
        ("Sun, 29 Nov 2026 05:01:00 GMT", 60.0),
        ("Sun, 29 Nov 2026 04:59:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    now = datetime(2026, 11, 29, 5, 0, 0, tzinfo=UTC)
    assert parse_retry_after(header, now=now) == seconds
