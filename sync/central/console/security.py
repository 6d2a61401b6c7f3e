"""Staff passwords, session tokens and CSRF tokens for the web console.

Passwords are chosen by people, so they get a slow, salted hash (scrypt from
hashlib: no new dependency). Session tokens are random, so the database keeps
only their sha256, as it does for device tokens: a leaked database row opens
nothing. CSRF is a double-submit token: a random cookie that every form must
repeat in a hidden field; another site can make a browser send the cookie but
cannot read it to fill the field.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

_N, _R, _P = 2**14, 8, 1
SESSION_COOKIE = "edgebox_session"
CSRF_COOKIE = "edgebox_csrf"
CSRF_FIELD = "csrf_token"


def hash_password(password: str) -> str:
    """`scrypt$n$r$p$salt$hash`, the parameters kept so they can be raised."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


# Checked when the user is unknown, so that case takes as long as a real one.
_DUMMY = hash_password("no such user")


def password_matches(password: str, stored: str | None) -> bool:
    scheme, n, r, p, salt, digest = (stored or _DUMMY).split("$")
    if scheme != "scrypt":
        return False
    computed = hashlib.scrypt(
        password.encode(),
        salt=bytes.fromhex(salt),
        n=int(n),
        r=int(r),
        p=int(p),
        dklen=len(digest) // 2,
    )
    return hmac.compare_digest(computed.hex(), digest) and stored is not None


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def csrf_ok(cookie: str | None, field: str | None) -> bool:
    """The form repeats the cookie's token (both present, compared in constant
    time)."""
    if not cookie or not field:
        return False
    return hmac.compare_digest(cookie.encode(), field.encode())
