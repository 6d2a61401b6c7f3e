"""The model manifest (`models/manifest.toml`) and checksums of model files."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgebox.errors import ModelError

MANIFEST_NAME = "manifest.toml"


@dataclass(frozen=True)
class ModelEntry:
    name: str
    file: str
    sha256: str
    licence: str
    context_length: int
    chat_format: str
    architecture: str = "llama"
    default: bool = False
    wheel: str = ""
    member: str = ""
    votes: dict[str, Any] = field(default_factory=dict)
    """`[model.votes]`: for each task (category, urgency) whether the model's
    label may vote, as `edgebox eval --votes` measured (a model must beat the
    rules alone on a fixed held-out subset), with `measured` saying how and when.
    A model with no record gets no vote."""
    summaries: str = "abstractive"
    """"abstractive": show the model's summary when it passes the checks;
    "extractive": show the document's key sentences only (a model whose
    summaries fail the checks too often; measured with `edgebox eval --summaries`)."""


def load_manifest(models_dir: Path) -> list[ModelEntry]:
    """Every model the manifest lists; an empty list when there is no manifest."""
    path = models_dir / MANIFEST_NAME
    if not path.is_file():
        return []
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
        return [ModelEntry(**entry) for entry in raw.get("model", [])]
    except (tomllib.TOMLDecodeError, TypeError) as exc:
        raise ModelError(f"{path} is not a valid model manifest: {exc}") from exc


def find_entry(models_dir: Path, file_name: str) -> ModelEntry | None:
    """The manifest entry for a model file name, if the manifest lists it."""
    return next((m for m in load_manifest(models_dir) if m.file == file_name), None)


def llm_vote_tasks(models_dir: Path, file_name: str) -> frozenset[str]:
    """The tasks whose label this model may vote: those its manifest entry
    records as measured better than the rules alone; none for a GGUF the
    manifest does not list (any GGUF loads, but it earns its vote)."""
    entry = find_entry(models_dir, file_name)
    if entry is None:
        return frozenset()
    return frozenset(
        task for task in ("category", "urgency") if entry.votes.get(task) is True
    )


SUMMARY_MODES = ("abstractive", "extractive")


def summary_mode(models_dir: Path, file_name: str) -> str:
    """How summaries are written with this model: its manifest entry's
    setting; a model the manifest does not list may try abstractive ones."""
    entry = find_entry(models_dir, file_name)
    mode = entry.summaries if entry else "abstractive"
    if mode not in SUMMARY_MODES:
        raise ModelError(
            f"{models_dir / MANIFEST_NAME}: summaries = {mode!r} for {file_name}"
            f" must be one of {', '.join(SUMMARY_MODES)}"
        )
    return mode


def default_entry(models_dir: Path) -> ModelEntry:
    """The model that set-up fetches."""
    entries = load_manifest(models_dir)
    for entry in entries:
        if entry.default:
            return entry
    raise ModelError(f"no model is marked default in {models_dir / MANIFEST_NAME}")


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path: Path, entry: ModelEntry) -> str:
    """Check a file against its manifest checksum; return the sha256."""
    actual = sha256_file(path)
    if actual != entry.sha256:
        raise ModelError(
            f"{path} does not match models/manifest.toml: sha256 {actual}, "
            f"expected {entry.sha256} (a partial download or a different file)"
        )
    return actual
