"""The bundle file the centre signs and a box verifies: one format, both sides.

A bundle is an uncompressed tar of `manifest.json`, `manifest.sig` and the
files the manifest lists. The manifest names each file's sha256, the bundle's
version, its target group, the scikit-learn version its models need and the
evaluation report; the Ed25519 signature covers the manifest's exact bytes, so
it covers every file through their hashes. A bundle holds pickled models:
whoever signs one can run code on every box, so a box reads nothing of a
bundle (and unpickles nothing) before its signature and hashes check out.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgebox.errors import BundleError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

FORMAT = 1
"""The bundle format this edgebox reads and writes; a box refuses another."""
KEY_PREFIX = "ed25519:"
MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"
RULES, TAXONOMY, SETTINGS, REPORT = (
    "rules.toml",
    "taxonomy.toml",
    "settings.toml",
    "report.json",
)
MODEL_FILES = {
    "category": "learned/category.joblib",
    "urgency": "learned/urgency.joblib",
}
CONTENT = frozenset({RULES, TAXONOMY, SETTINGS, REPORT, *MODEL_FILES.values()})
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_BUNDLE_BYTES = 4 * MAX_FILE_BYTES
SETTINGS_KEYS: dict[str, type] = {
    "language": str,
    "min_examples": int,
    "retrain_after": int,
    "emergency_recall": float,
    "review_cut": float,
    "llm_votes": str,
}
"""The `[triage]` keys a bundle may set on a box. Paths, the model and
anything that touches the machine stay the box's own."""


@dataclass(frozen=True)
class Verified:
    """A bundle whose signature and file hashes checked out."""

    manifest: dict[str, Any]
    files: dict[str, bytes]

    @property
    def version(self) -> int:
        return int(self.manifest["version"])


# -- keys -------------------------------------------------------------------


def new_key(out: Path) -> str:
    """Write a new private key (PEM, mode 0600, never over a file) and return
    the public key as text for `[sync] bundle_public_key`."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BundleError(f"{out} exists: a key is never overwritten") from None
    except OSError as exc:
        raise BundleError(f"cannot write the key to {out}: {exc.strerror}") from exc
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return public_text(key.public_key())


def load_private(path: Path) -> Ed25519PrivateKey:
    """The signing key in `path` (as `edgebox central keygen` wrote it)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise BundleError(f"cannot read the key {path}: {exc.strerror}") from exc
    except (ValueError, TypeError) as exc:
        raise BundleError(f"{path} is not a PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise BundleError(f"{path} is not an Ed25519 key")
    return key


def public_text(key: Ed25519PublicKey) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return KEY_PREFIX + base64.b64encode(raw).decode()


def load_public(text: str, *, where: str = "the public key") -> Ed25519PublicKey:
    """A public key from its text form (`ed25519:` and 32 bytes in base64)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    body = text.strip().removeprefix(KEY_PREFIX)
    try:
        raw = base64.b64decode(body, validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise BundleError(
            f"{where} is not an Ed25519 public key (expected {KEY_PREFIX} and 44"
            " base64 characters, as `edgebox central keygen` prints it)"
        ) from None


# -- packing ----------------------------------------------------------------


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def pack(
    files: Mapping[str, bytes],
    manifest: Mapping[str, Any],
    key: Ed25519PrivateKey,
) -> tuple[bytes, dict[str, Any]]:
    """The signed tar of `files`, and `manifest` as completed by their hashes."""
    unknown = set(files) - CONTENT
    if unknown:
        raise BundleError(f"a bundle cannot hold {', '.join(sorted(unknown))}")
    full = dict(manifest) | {
        "format": FORMAT,
        "files": {name: sha256(data) for name, data in sorted(files.items())},
        "signer": public_text(key.public_key()),
    }
    text = canonical(full)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        members = {MANIFEST: text, SIGNATURE: key.sign(text), **files}
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue(), full


# -- verifying --------------------------------------------------------------


def verify(path: Path, trusted: Iterable[str]) -> Verified:
    """The bundle at `path` if a trusted key signed it and every file matches
    its manifest hash; BundleError naming what is wrong otherwise."""
    members = _read_members(path)
    text, signature = members.pop(MANIFEST, None), members.pop(SIGNATURE, None)
    if text is None or signature is None:
        raise BundleError("unsigned bundle: it has no manifest or no signature")
    signer = _signer(text, signature, trusted)
    try:
        manifest = json.loads(text)
    except ValueError:
        raise BundleError("the signed manifest is not JSON") from None
    if manifest.get("format") != FORMAT:
        raise BundleError(
            f"bundle format {manifest.get('format')!r}: this edgebox reads"
            f" format {FORMAT} (upgrade the box)"
        )
    listed = manifest.get("files")
    if not isinstance(listed, dict) or set(listed) != set(members):
        raise BundleError("tampered bundle: its files are not those its manifest lists")
    for name, data in members.items():
        if sha256(data) != listed[name]:
            raise BundleError(f"tampered bundle: {name} does not match its sha256")
    if not isinstance(manifest.get("version"), int) or manifest["version"] < 1:
        raise BundleError("the signed manifest has no valid version")
    manifest["verified_by"] = signer
    return Verified(manifest, members)


def _signer(text: bytes, signature: bytes, trusted: Iterable[str]) -> str:
    from cryptography.exceptions import InvalidSignature

    keys = list(trusted)
    for key in keys:
        try:
            load_public(key).verify(signature, text)
            return key
        except InvalidSignature:
            continue
    if not keys:
        raise BundleError("no bundle public key is pinned on this box")
    raise BundleError(
        "bad signature: the bundle was not signed by the pinned key"
        " (another key, or a tampered manifest)"
    )


def _read_members(path: Path) -> dict[str, bytes]:
    """The regular files of the tar, by name; only names a bundle may hold,
    each at most MAX_FILE_BYTES (never extracted by tarfile onto disk)."""
    allowed = CONTENT | {MANIFEST, SIGNATURE}
    members: dict[str, bytes] = {}
    try:
        with tarfile.open(path, mode="r:") as tar:
            for info in tar:
                if not info.isfile() or info.name not in allowed:
                    raise BundleError(
                        f"the bundle holds {info.name!r}, which this edgebox cannot"
                        " use (a newer centre? upgrade the box)"
                    )
                if info.size > MAX_FILE_BYTES or info.name in members:
                    raise BundleError(f"the bundle's {info.name} is too large or twice")
                handle = tar.extractfile(info)
                assert handle is not None  # a regular file always has one
                members[info.name] = handle.read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BundleError(f"the bundle file is damaged or incomplete: {exc}") from exc
    return members
