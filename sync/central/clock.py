"""Each box's clock against the centre's: offline boxes drift, and a clinic
whose clock is hours off stamps its documents with the wrong times.

The skew is measured once per batch, from the box's heartbeat (its own UTC
time when it sent the batch) and the centre's time when the batch arrived.
Transmission time counts in it, which is seconds at most on a working link:
far below the limits worth a warning. The centre's lists go by the received
time, never by the box's, so a skewed box cannot hide a document from "the
last 24 hours".
"""

from __future__ import annotations

from datetime import UTC, datetime

MAX_CLOCK_SKEW_S = 300.0
"""The default limit past which a clinic's clock is shown with a warning."""


def clock_skew(received_at: str, clock: str | None) -> float | None:
    """Seconds the centre's clock is ahead of the box's (negative: the box is
    ahead), or None when the box did not say its time. A clock without a zone
    is taken as UTC, as the protocol says."""
    if clock is None:
        return None
    try:
        box = datetime.fromisoformat(clock.replace("Z", "+00:00"))
        centre = datetime.fromisoformat(received_at)
    except ValueError:
        return None
    if box.tzinfo is None:
        box = box.replace(tzinfo=UTC)
    if centre.tzinfo is None:
        centre = centre.replace(tzinfo=UTC)
    return round((centre - box).total_seconds(), 3)


def skew_too_large(skew_s: float | None, limit_s: float) -> bool:
    """Whether a clinic's clock is off by more than `limit_s` either way."""
    return skew_s is not None and abs(skew_s) > limit_s


def shown_skew(skew_s: float | None) -> str:
    """A skew as people read it: `+3 s`, `-2 h 05 min` (sign as stored)."""
    if skew_s is None:
        return "-"
    sign = "-" if skew_s < 0 else "+"
    seconds = round(abs(skew_s))
    if seconds < 120:
        return f"{sign}{seconds} s"
    hours, minutes = divmod(seconds // 60, 60)
    if hours == 0:
        return f"{sign}{minutes} min"
    return f"{sign}{hours} h {minutes:02d} min"
