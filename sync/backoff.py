"""How long to wait before the next try: capped exponential backoff, full jitter,
and the server's `Retry-After` honoured. Pure functions, so they are tested alone;
and `Retry`, what a try raises when another try may work.

Full jitter (a random wait between 0 and the exponential bound) keeps many clinic
boxes that lost the same link from coming back in step.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

RETRY_AFTER_CAP_S = 3600.0


def backoff_delay(
    attempt: int,
    *,
    base_s: float,
    cap_s: float,
    jitter: float,
    retry_after_s: float | None = None,
) -> float:
    """Seconds before try number `attempt + 1` (attempt counts from 0).

    `jitter` is a number in [0, 1] (random in use, fixed in tests). The wait is
    at least what the server asked for in `Retry-After`, up to an hour.
    """
    if not 0.0 <= jitter <= 1.0:
        raise ValueError(f"jitter must be in [0, 1], got {jitter}")
    bound = min(cap_s, base_s * math.pow(2, min(attempt, 60)))
    delay = jitter * bound
    if retry_after_s is not None:
        delay = max(delay, min(retry_after_s, RETRY_AFTER_CAP_S))
    return delay


def parse_retry_after(
    value: str | None, *, now: datetime | None = None
) -> float | None:
    """`Retry-After` as seconds: delta-seconds or an HTTP date; None if absent or
    unreadable (then plain backoff applies)."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class Retry(Exception):
    """This try failed in a way that another try may fix (not for people: the
    client turns the last one into a SyncError when it gives up)."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.message, self.retry_after_s = message, retry_after_s
