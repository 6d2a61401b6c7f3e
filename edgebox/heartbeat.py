"""Whether the service is alive, read from the heartbeat it writes in the store.

One definition for `edgebox status` and the UI, both of which run apart from
the service and must not load what it loads.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

STALE_AFTER_S = 30.0
"""A heartbeat older than this means the service is not running (it crashed
or was killed without writing "stopped")."""


def heartbeat_age_s(
    state: Mapping[str, str], *, now: datetime | None = None
) -> float | None:
    """Seconds since the last heartbeat; None when there is none readable."""
    try:
        beat = datetime.fromisoformat(state.get("heartbeat_at", ""))
    except ValueError:
        return None
    if beat.tzinfo is None:
        beat = beat.replace(tzinfo=UTC)
    return ((now or datetime.now(UTC)) - beat).total_seconds()


def service_running(state: Mapping[str, str], *, now: datetime | None = None) -> bool:
    """True when the service says it runs and its heartbeat is recent."""
    age = heartbeat_age_s(state, now=now)
    return state.get("state") == "running" and age is not None and age <= STALE_AFTER_S
