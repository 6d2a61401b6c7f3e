"""The bundles a box holds: verify, try, switch atomically, roll back.

Under `<data_dir>/bundles/`: one folder per version (`v7/`), the links
`current` and `previous` to two of them, `state.json` (a rollback's hold, the
last refusal, keys announced by trusted bundles) and, while a download runs,
`download.partial`. A switch replaces the `current` link in one rename, so a
box killed at any moment runs either the old bundle or the new one; a bundle
is unpacked into a folder of its own before any link points at it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from edgebox.config import Config
from edgebox.errors import BundleError
from edgebox.service import bundle_use
from edgebox.service.bundle_format import MANIFEST, Verified, verify
from edgebox.store.schema import now

log = logging.getLogger(__name__)

DOWNLOAD = "download.partial"


def root(data_dir: Path) -> Path:
    return data_dir / "bundles"


def current_dir(data_dir: Path) -> Path | None:
    """The unpacked bundle in use, or None: the centre's learned models are at
    `edgebox.learn.classifiers.model_path(current_dir(...), task)`."""
    link = root(data_dir) / "current"
    return link.resolve() if link.is_dir() else None


def applied(config: Config) -> Config:
    """The settings with the bundle in use laid over them (rules, taxonomy,
    whitelisted `[triage]` keys)."""
    config = config.unbundled or config  # a bundle is laid over the box's own
    folder = current_dir(config.data_dir)
    laid = bundle_use.applied(config, folder)
    if laid is config:
        return config  # none, or one that cannot be read (logged)
    return dataclasses.replace(
        laid, bundle_version=version_of(folder), unbundled=config
    )


def in_use(data_dir: Path) -> tuple[str, int] | None:
    """What `current` points at now (its folder and manifest's mtime), or None:
    a change means a switch or a rollback happened since it was last read."""
    link = root(data_dir) / "current"
    try:
        return os.readlink(link), (link / MANIFEST).stat().st_mtime_ns
    except OSError:
        return None


def version_of(folder: Path | None) -> int:
    """The version of an unpacked bundle; 0 for none."""
    if folder is None:
        return 0
    try:
        return int(json.loads((folder / MANIFEST).read_text())["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def asking_after(data_dir: Path) -> int:
    """The version the box asks the centre to beat: what it runs, what a
    rollback holds it below, and a version it refused for good."""
    state = read_state(data_dir)
    return max(
        version_of(current_dir(data_dir)),
        int(state.get("held_from") or 0),
        int(state.get("refused_for_good") or 0),
    )


def trusted_keys(data_dir: Path, pinned: str) -> list[str]:
    """The pinned key, and the keys that bundles signed by trusted keys
    announced (key rotation)."""
    announced = read_state(data_dir).get("announced_keys") or []
    return [key for key in [pinned.strip(), *announced] if key]


def install(data_dir: Path, archive: Path, *, pinned: str, texts: Sequence[str]) -> int:
    """Verify, try and switch to the bundle in `archive`; its version. On
    BundleError nothing the box runs has changed."""
    bundle = verify(archive, trusted_keys(data_dir, pinned))
    running = version_of(current_dir(data_dir))
    if bundle.version <= running:
        raise BundleError(
            f"bundle {bundle.version} is not newer than bundle {running}, which"
            " this box runs (a replayed or older bundle)"
        )
    folder = _unpack(data_dir, bundle)
    try:
        bundle_use.try_bundle(folder, bundle.manifest, texts)
    except BundleError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    _switch(data_dir, folder)
    announced = bundle.manifest.get("next_public_key")
    if announced:
        _announce(data_dir, str(announced))
    update_state(data_dir, {"held_from": None, "refused": None})
    log.info("switched to bundle %d", bundle.version)
    return bundle.version


def _unpack(data_dir: Path, bundle: Verified) -> Path:
    folder = root(data_dir) / f"v{bundle.version}"
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.rmtree(folder, ignore_errors=True)  # an old try of this version
    files = bundle.files | {
        MANIFEST: json.dumps(bundle.manifest, indent=2).encode(),
    }
    for name, data in files.items():
        target = partial / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    os.replace(partial, folder)
    return folder


def _switch(data_dir: Path, folder: Path) -> None:
    """current -> folder in one rename; the old current becomes previous, and
    folders neither link names are deleted."""
    base = root(data_dir)
    old = current_dir(data_dir)
    if old is not None and old != folder:
        _link(base / "previous", old)
    _link(base / "current", folder)
    keep = {p for p in (current_dir(data_dir), _previous(data_dir)) if p}
    for child in base.glob("v*"):
        if child.is_dir() and child.resolve() not in keep:
            shutil.rmtree(child, ignore_errors=True)


def _link(link: Path, target: Path) -> None:
    fresh = link.with_name(link.name + ".new")
    fresh.unlink(missing_ok=True)
    fresh.symlink_to(target.name)
    os.replace(fresh, link)


def _previous(data_dir: Path) -> Path | None:
    link = root(data_dir) / "previous"
    return link.resolve() if link.is_dir() else None


def rollback(data_dir: Path) -> int:
    """Go back to the previous bundle (or to none) and hold there until the
    centre publishes one newer than the version left; the version now run."""
    current = current_dir(data_dir)
    if current is None:
        raise BundleError("no bundle is in use: nothing to roll back")
    left = version_of(current)
    previous = _previous(data_dir)
    base = root(data_dir)
    if previous is not None:
        _link(base / "current", previous)
        (base / "previous").unlink()
    else:
        (base / "current").unlink()
    update_state(data_dir, {"held_from": left})
    log.warning("rolled back from bundle %d to %d", left, version_of(previous))
    return version_of(previous)


# -- state --------------------------------------------------------------------


def read_state(data_dir: Path) -> dict[str, Any]:
    path = root(data_dir) / "state.json"
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def update_state(data_dir: Path, values: dict[str, Any]) -> None:
    """Merge `values` into state.json (written whole, then renamed)."""
    path = root(data_dir) / "state.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    state = read_state(data_dir) | values
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(state, indent=2, sort_keys=True))
    os.replace(partial, path)


def refuse(data_dir: Path, version: int | None, reason: str, *, for_good: bool) -> None:
    """Remember why a bundle was refused (status and doctor say it); one
    refused for good is not downloaded again."""
    values: dict[str, Any] = {
        "refused": {"version": version, "reason": reason, "at": now()}
    }
    if for_good and version:
        values["refused_for_good"] = version
    update_state(data_dir, values)
    log.warning("bundle %s refused: %s", version or "?", reason)


def _announce(data_dir: Path, key: str) -> None:
    from edgebox.service.bundle_format import load_public

    load_public(key, where="the announced next key")
    keys = read_state(data_dir).get("announced_keys") or []
    if key not in keys:
        update_state(data_dir, {"announced_keys": [*keys, key]})


def status(data_dir: Path) -> dict[str, Any]:
    """What `edgebox bundle status` and `edgebox status` show."""
    current = current_dir(data_dir)
    state = read_state(data_dir)
    manifest: dict[str, Any] = {}
    if current is not None:
        try:
            manifest = json.loads((current / MANIFEST).read_text())
        except (OSError, ValueError):
            manifest = {}
    return {
        "version": version_of(current) or None,
        "previous": version_of(_previous(data_dir)) or None,
        "created_at": manifest.get("created_at"),
        "group": manifest.get("group"),
        "files": sorted((manifest.get("files") or {}).keys()),
        "held_from": state.get("held_from"),
        "refused": state.get("refused"),
        "announced_keys": state.get("announced_keys") or [],
    }
