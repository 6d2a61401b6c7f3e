"""`edgebox backup DIR` and `edgebox restore DIR`: one box into a folder and
back onto a new box.

A backup is taken while the service runs: first the store's snapshot (SQLite's
online backup API), then the archived originals that snapshot names. The
archive only grows and each original lands before its record commits, so
every original the snapshot names is there to copy. The backup is written
under a `.partial-` name and renamed when whole: a folder named
`edgebox-backup-*` is always complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from edgebox import __version__
from edgebox.config import CONFIG_NAME, Config
from edgebox.errors import EdgeboxError
from edgebox.intake.archive import archive_path
from edgebox.service.lock import InstanceLock
from edgebox.service.workers import LOCK_NAME
from edgebox.store.backup import (
    archived_sha256,
    check_copy,
    copy_database,
    holds_nothing,
    move_archive_paths,
)

MANIFEST = "backup.json"
DB_NAME = "edgebox.db"


def _folders(config: Config) -> dict[str, Path]:
    """Folders carried whole, by their name in a backup."""
    return {"learned": config.data_dir / "learned", "quarantine": config.quarantine_dir}


class BackupError(EdgeboxError):
    title = "backup failed"


@dataclass(frozen=True)
class BackupReport:
    path: Path
    originals: int
    missing: list[str]
    """Originals the store names that were not in the archive (none expected)."""


def backup(config: Config, into: Path) -> BackupReport:
    """Write a complete backup folder of this box inside `into`."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    final = into / f"edgebox-backup-{stamp}"
    partial = into / f".partial-{final.name}"
    partial.mkdir(parents=True)
    try:
        report = _write(config, partial, final)
        os.replace(partial, final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return report


def _write(config: Config, partial: Path, final: Path) -> BackupReport:
    copy_database(config.db_path, partial / DB_NAME)
    shas = archived_sha256(partial / DB_NAME)
    missing = [
        sha for sha in shas if not _copy_original(config.archive_dir, partial, sha)
    ]
    for name, folder in _folders(config).items():
        if folder.is_dir():
            shutil.copytree(folder, partial / name)
    if (config.home / CONFIG_NAME).is_file():
        shutil.copy2(config.home / CONFIG_NAME, partial / CONFIG_NAME)
    manifest = {
        "edgebox": __version__,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "originals": len(shas) - len(missing),
        "missing": missing,
    }
    (partial / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return BackupReport(final, len(shas) - len(missing), missing)


def _copy_original(archive_dir: Path, partial: Path, sha: str) -> bool:
    source = archive_path(archive_dir, sha)
    if not source.is_file():
        return False
    target = archive_path(partial / "archive", sha)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)
    return True


def restore(config: Config, source: Path) -> BackupReport:
    """Put a backup folder onto this box, which must not have a store yet."""
    manifest = _manifest(source)
    # No service may open the store while it is replaced.
    with InstanceLock(config.data_dir / LOCK_NAME):
        _clear_a_new_store(config.db_path)
        return _restore(config, source, manifest)


def _clear_a_new_store(db_path: Path) -> None:
    """Remove the empty store `init` made; refuse one that holds anything."""
    if not db_path.exists():
        return
    if not holds_nothing(db_path):
        raise BackupError(
            f"{db_path} already holds documents: restore only onto a new box "
            "(move its data folder away first)"
        )
    for suffix in ("-wal", "-shm", ""):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)


def _restore(config: Config, source: Path, manifest: dict[str, object]) -> BackupReport:
    check_copy(source / DB_NAME)
    shas = archived_sha256(source / DB_NAME)
    places = {
        sha: str(_restore_original(source, config.archive_dir, sha))
        for sha in shas
        if _in(source, sha)
    }
    for name, folder in _folders(config).items():
        if (source / name).is_dir():
            shutil.copytree(source / name, folder, dirs_exist_ok=True)
    if not (config.home / CONFIG_NAME).exists() and (source / CONFIG_NAME).is_file():
        shutil.copy2(source / CONFIG_NAME, config.home / CONFIG_NAME)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    staged = config.data_dir / f".restoring-{DB_NAME}"
    shutil.copy2(source / DB_NAME, staged)
    move_archive_paths(staged, places)
    os.replace(staged, config.db_path)  # the store appears whole or not at all
    return BackupReport(source, len(places), list(manifest.get("missing", [])))


def _in(source: Path, sha: str) -> bool:
    return archive_path(source / "archive", sha).is_file()


def _manifest(source: Path) -> dict[str, object]:
    try:
        return dict(json.loads((source / MANIFEST).read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise BackupError(
            f"{source} is not an edgebox backup folder (cannot read its {MANIFEST}: "
            f"{exc})"
        ) from exc


def _restore_original(source: Path, archive_dir: Path, sha: str) -> Path:
    """Copy one original into the archive, refusing one whose bytes are not
    the content its name says (a damaged backup medium)."""
    origin = archive_path(source / "archive", sha)
    with origin.open("rb") as file:
        digest = hashlib.file_digest(file, "sha256").hexdigest()
    if digest != sha:
        raise BackupError(
            f"the backup's original {origin} is damaged (sha256 {digest})"
        )
    target = archive_path(archive_dir, sha)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(origin, target)
    return target
