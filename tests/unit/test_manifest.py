from pathlib import Path

import pytest

from edgebox.errors import ModelError
from edgebox.triage.manifest import (
    default_entry,
    find_entry,
    load_manifest,
    sha256_file,
    verify,
)
from tests.support.paths import REPO

MODELS = REPO / "models"


def test_the_manifest_describes_the_default_model() -> None:
    entry = default_entry(MODELS)
    assert entry.file == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert entry.licence == "Apache-2.0"
    assert entry.chat_format == "chatml"
    assert entry.context_length == 8192
    assert len(entry.sha256) == 64


def test_the_fetched_model_matches_its_checksum() -> None:
    entry = default_entry(MODELS)
    assert verify(MODELS / entry.file, entry) == entry.sha256


def test_a_different_file_fails_the_check_and_is_named(tmp_path: Path) -> None:
    entry = default_entry(MODELS)
    fake = tmp_path / entry.file
    fake.write_bytes(b"GGUF not really")
    with pytest.raises(ModelError, match=str(fake)):
        verify(fake, entry)


def test_sha256_file(tmp_path: Path) -> None:
    path = tmp_path / "x"
    path.write_bytes(b"abc")
    expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert sha256_file(path) == expected


def test_unlisted_files_and_missing_manifests(tmp_path: Path) -> None:
    assert find_entry(MODELS, "my-own-model.gguf") is None
    assert load_manifest(tmp_path) == []
