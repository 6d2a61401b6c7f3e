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


def model_words(state: Mapping[str, str]) -> str:
    """The model and where it runs, as the service last said it. An idle
    service has not loaded it (it loads for the first document): "on loading"
    read as stuck."""
    model, device = state.get("model", "?"), state.get("device", "?")
    if device == "loading":
        return f"{model} (not loaded yet: it loads for the first document)"
    if device == "none":
        return f"{model} (not used: the service only takes files in)"
    layers = state.get("gpu_layers")
    return f"{model} on {device}" + (f", {layers} layers" if layers else "")
