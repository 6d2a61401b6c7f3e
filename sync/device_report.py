"""What a device says about itself with each push: its queue, versions and how
often staff correct the AI (a model drifting at one clinic shows up centrally)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from edgebox import __version__
from edgebox.store import Store, now
from edgebox.sync.payload import PROTOCOL_VERSION

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_PRINTABLE = re.compile(r"^[\x20-\x7e]{0,64}$")


def heartbeat(
    store: Store, records: Sequence[Mapping[str, Any]], *, model_path: Path | None
) -> dict[str, Any]:
    """The heartbeat for a batch of records (dicts of the wire format).

    `pending` is what will be left once this batch is held: the heartbeat lands
    in the batch's own transaction, and a box that is up to date should not
    show as behind by its last batch."""
    counts = store.outbox_counts()
    model_sha256, rules_version = versions(store, records, model_path=model_path)
    stats = store.override_stats()
    beat = {
        "pending": max(0, counts.get("pending", 0) - len(records)),
        "dead": counts.get("dead", 0),
        "app_version": _printable(__version__),
        "model_sha256": model_sha256,
        "rules_version": rules_version,
        "reviewed": int(stats.get("reviewed") or 0),
        "category_override_rate": _rate(stats.get("category")),
        "urgency_override_rate": _rate(stats.get("urgency")),
        "install": store.install_id(),
        "protocol": PROTOCOL_VERSION,
        "clock": now(),
    }
    # Only when there is one. (A centre from before protocol 2 refuses any
    # heartbeat field it does not know, `protocol` and `clock` included:
    # upgrade the centre first, see docs/central-fleet.md.)
    if (bundle := _bundle_version(store)) is not None:
        beat["bundle_version"] = bundle
    return beat


def _bundle_version(store: Store) -> int | None:
    """The bundle the box runs, as the last switch or rollback recorded it."""
    value = store.sync_state().get("bundle_version", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


def versions(
    store: Store, records: Sequence[Mapping[str, Any]], *, model_path: Path | None
) -> tuple[str | None, str | None]:
    """The model sha256 and rules version that made the newest result: from
    the records themselves, else the last ones seen, else the model file."""
    for record in reversed(records):
        provenance = record.get("content", {}).get("provenance")
        if isinstance(provenance, dict) and provenance.get("model_sha256"):
            found = (
                _sha(provenance.get("model_sha256")),
                _printable(provenance.get("rules_version")),
            )
            store.update_sync_state(
                {"model_sha256": found[0] or "", "rules_version": found[1] or ""}
            )
            return found
    state = store.sync_state()
    if state.get("model_sha256"):
        return state["model_sha256"], state.get("rules_version") or None
    return _model_file_sha(store, model_path), None


def _model_file_sha(store: Store, model_path: Path | None) -> str | None:
    """The model file's sha256, hashed once per file version (it is large)."""
    if model_path is None or not model_path.is_file():
        return None
    stat = model_path.stat()
    stamp = f"{os.fspath(model_path)}:{stat.st_size}:{stat.st_mtime_ns}"
    state = store.sync_state()
    if state.get("model_file_stamp") == stamp:
        return state.get("model_file_sha256") or None
    from edgebox.triage.manifest import sha256_file

    digest = sha256_file(model_path)
    store.update_sync_state({"model_file_stamp": stamp, "model_file_sha256": digest})
    return digest


def _rate(stats: Any) -> float | None:
    rate = stats.get("rate") if isinstance(stats, dict) else None
    return float(rate) if isinstance(rate, int | float) and 0 <= rate <= 1 else None


def _sha(value: Any) -> str | None:
    return value if isinstance(value, str) and _SHA256.match(value) else None


def _printable(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)[:64]
    return text if _PRINTABLE.match(text) else None
