"""Device tokens: shown once, kept only as a hash, compared in constant time.

A token is `<device id>.<secret>`: the id finds the device's row without
searching by secret, and the secret (256 random bits) is compared as a sha256
hash with `hmac.compare_digest`. A slow password hash is not needed: the secret
is random, not chosen by a person.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

# Compared against when the device id is unknown, so that case takes as long.
_NO_DEVICE = hashlib.sha256(b"no such device").hexdigest()


def new_token(device_id: int) -> str:
    return f"{device_id}.{secrets.token_urlsafe(32)}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def device_id_of(token: str) -> int | None:
    """The device id a token claims, or None when it is not shaped like one."""
    head, dot, secret = token.partition(".")
    if not dot or not secret or not head.isascii() or not head.isdigit():
        return None
    if len(head) > 18:
        return None
    return int(head)


def token_matches(token: str, stored_hash: str | None) -> bool:
    expected = stored_hash if stored_hash is not None else _NO_DEVICE
    return hmac.compare_digest(hash_token(token), expected) and stored_hash is not None
