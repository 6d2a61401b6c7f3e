"""Making a bundle on the centre: gather the files, check them as a box
would, sign the manifest and store it under the next version (unapproved).

Every file is read and checked here, so that a bad rules file or a settings
key no box may take is refused at `bundle create`, naming the file, rather
than by every box in the fleet.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgebox import __version__
from edgebox.errors import BundleError
from edgebox.service import bundle_use
from edgebox.service.bundle_format import (
    MODEL_FILES,
    REPORT,
    RULES,
    SETTINGS,
    TAXONOMY,
    canonical,
    load_private,
    load_public,
    pack,
    sha256,
)
from edgebox.store.schema import now
from edgebox.sync.central.bundle_store import BundleDB


@dataclass(frozen=True)
class BundleSources:
    """What `edgebox central bundle create` was given."""

    models: Path | None = None
    rules: Path | None = None
    taxonomy: Path | None = None
    settings: Path | None = None
    group: str | None = None
    next_public_key: str | None = None
    sklearn_version: str | None = None
    """Only to make a bundle for another scikit-learn (the box-side refusal
    test); else the version the models record."""


def create_bundle(db: BundleDB, key_file: Path, sources: BundleSources) -> int:
    """Sign and store a bundle; its version (not served until approved)."""
    key = load_private(key_file)
    if sources.next_public_key:
        load_public(sources.next_public_key, where="--next-key")
    files = _files(sources)
    if not files:
        raise BundleError("nothing to bundle: give --models, --rules, --taxonomy"
                          " or --settings")  # fmt: skip
    _check_as_a_box(files)
    report = json.loads(files[REPORT]) if REPORT in files else None
    sklearn_version = sources.sklearn_version or _models_sklearn(sources.models)

    def make(version: int) -> tuple[bytes, str, str, str | None]:
        manifest: dict[str, Any] = {
            "version": version,
            "created_at": now(),
            "group": sources.group,
            "sklearn_version": sklearn_version,
            "edgebox_version": __version__,
            "report": report,
            "next_public_key": sources.next_public_key,
        }
        content, full = pack(files, manifest, key)
        return content, sha256(content), canonical(full).decode(), sources.group

    return db.add(make)


def _files(sources: BundleSources) -> dict[str, bytes]:
    named = {
        RULES: sources.rules,
        TAXONOMY: sources.taxonomy,
        SETTINGS: sources.settings,
    }
    files = {name: _read(path) for name, path in named.items() if path is not None}
    if sources.models is not None:
        if not sources.models.is_dir():
            raise BundleError(f"--models {sources.models} is not a folder")
        for name in (*MODEL_FILES.values(), REPORT):
            if (sources.models / name).is_file():
                files[name] = _read(sources.models / name)
        if not any(name in files for name in MODEL_FILES.values()):
            raise BundleError(f"--models {sources.models} holds no learned/*.joblib")
    if REPORT in files:
        try:
            if not isinstance(json.loads(files[REPORT]), dict):
                raise ValueError("not an object")
        except ValueError as exc:
            raise BundleError(f"{sources.models}/{REPORT}: not a JSON object") from exc
    return files


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise BundleError(f"cannot read {path}: {exc.strerror}") from exc


def _check_as_a_box(files: dict[str, bytes]) -> None:
    """Rules, taxonomy and settings read by the box's own readers."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for name in (RULES, TAXONOMY, SETTINGS):
            if name in files:
                (folder / name).write_bytes(files[name])
        bundle_use.rules_file(folder)
        bundle_use.taxonomy(folder)
        bundle_use.settings(folder)


def _models_sklearn(models: Path | None) -> str | None:
    """The scikit-learn version the models were built with, which must be
    the centre's own (the one a box must run)."""
    if models is None:
        return None
    try:
        import sklearn

        from edgebox.learn.classifiers import load
    except ImportError:
        raise BundleError(
            "bundling models needs scikit-learn on the centre (pip install"
            " edgebox[box]), the version the boxes run"
        ) from None
    for task, name in MODEL_FILES.items():
        if (models / name).is_file() and load(models, task) is None:
            raise BundleError(
                f"{models / name} does not load here: built by another edgebox"
                f" or scikit-learn than this centre's ({sklearn.__version__})"
            )
    return str(sklearn.__version__)
