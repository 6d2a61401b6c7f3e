"""The box's half of bundles: one request per sync, then verify, try, switch.

The download goes to `bundles/download.partial` and is checked against the
sha256 the centre sent before anything reads it: a box killed or cut off
mid-download keeps running its bundle and simply fetches again next time. A
bundle that arrived whole but fails its signature, its hashes, its version or
its try is refused for good (remembered, not downloaded again) with the
reason, until the centre publishes a newer one.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from edgebox.errors import BundleError
from edgebox.service import bundles
from edgebox.service.bundle_format import MAX_BUNDLE_BYTES, load_public
from edgebox.sync.payload import BUNDLES_PATH

if TYPE_CHECKING:
    from edgebox.sync.client import SyncClient

TRY_TEXTS = 5
"""Stored documents the new models predict on before the switch."""


def fetch_bundle(client: SyncClient, data_dir: Path, pinned: str) -> str | None:
    """Ask for a newer bundle and take it; a line saying what happened, None
    when nothing was new."""
    from edgebox.sync.client import network_problem

    try:  # a key that cannot be one: no download would ever be taken
        load_public(pinned, where="[sync] bundle_public_key")
    except BundleError as exc:
        return str(exc)
    partial = bundles.root(data_dir) / bundles.DOWNLOAD
    after = bundles.asking_after(data_dir)
    try:
        got = _download(client, after, partial)
    except httpx.HTTPError as exc:
        return (
            f"bundle download interrupted ({network_problem(exc)}); the box keeps"
            " its bundle and fetches again at the next sync"
        )
    except (BundleError, OSError) as exc:  # OSError: the disk is full, say
        partial.unlink(missing_ok=True)
        return f"bundle check failed: {exc}"
    if got is None:
        return None
    try:
        version = bundles.install(
            data_dir,
            partial,
            pinned=pinned,
            texts=client.store.recent_texts(TRY_TEXTS),
        )
    except BundleError as exc:
        bundles.refuse(data_dir, got, str(exc), for_good=True)
        return f"bundle {got} refused: {exc}"
    except OSError as exc:  # the box's own trouble, not the bundle's: try again
        return f"bundle {got} could not be unpacked here: {exc}"
    finally:
        partial.unlink(missing_ok=True)
    client.store.update_sync_state({"bundle_version": version})
    return f"switched to bundle {version}"


def _download(client: SyncClient, after: int, partial: Path) -> int | None:
    """The offered version, its bytes written to `partial` and matched to the
    sha256 the centre sent; None for 204."""
    from edgebox.sync.client import _refuse_auth

    with client.http.stream("GET", BUNDLES_PATH, params={"after": after}) as answer:
        _refuse_auth(answer)
        if answer.status_code == 204:
            return None
        if answer.status_code != 200:
            raise BundleError(f"HTTP {answer.status_code}")
        try:
            version = int(answer.headers["x-bundle-version"])
            expected = answer.headers["x-bundle-sha256"]
        except (KeyError, ValueError):
            raise BundleError("an answer without its version") from None
        digest, size = hashlib.sha256(), 0
        partial.parent.mkdir(parents=True, exist_ok=True)
        with partial.open("wb") as out:
            for chunk in answer.iter_bytes():
                size += len(chunk)
                if size > MAX_BUNDLE_BYTES:
                    raise BundleError(f"bundle {version} is over {MAX_BUNDLE_BYTES}")
                digest.update(chunk)
                out.write(chunk)
    if digest.hexdigest() != expected:
        raise BundleError(
            f"bundle {version} arrived damaged (sha256 differs); fetched again"
            " at the next sync"
        )
    return version
