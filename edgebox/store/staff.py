"""Named reviewers: who may sign a review, and their PINs.

Staff often share one login over SSH, so the OS user name says nothing about
who reviewed. Each person gets a name and a PIN (kept as a salted scrypt hash,
from the standard library); the UI asks for both, and the store refuses a
signature by a disabled name. With no staff registered, a box works as before
(`EDGEBOX_USER` or the login name), which scripts keep using.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlite_utils import Database

from edgebox.errors import StoreError
from edgebox.store.schema import now

if TYPE_CHECKING:
    from edgebox.store.core import Store

ROLES = ("admin", "staff")
MIN_PIN = 4
# scrypt's cost (its time a try: docs/benchmarks.md) means a
# stolen store's PINs cannot be tried by the million; a 4-digit PIN still
# falls to a patient attacker, which is why the store should sit on an
# encrypted disk (docs/operations.md, "At rest").
_N, _R, _P = 2**14, 8, 1


@dataclass(frozen=True)
class StaffMember:
    name: str
    role: str
    created_at: str
    disabled_at: str | None


def hash_pin(pin: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def _pin_matches(pin: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        again = hashlib.scrypt(
            pin.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p)
        )
    except ValueError:
        return False
    return hmac.compare_digest(again.hex(), digest)


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > 80 or not cleaned.isprintable():
        raise StoreError(f"{name!r} cannot be a reviewer's name (1 to 80 characters)")
    return cleaned


def add_staff(store: Store, name: str, pin: str, *, role: str = "staff") -> str:
    """Register a reviewer; returns the name as stored."""
    cleaned = _clean_name(name)
    if role not in ROLES:
        raise StoreError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if len(pin) < MIN_PIN:
        raise StoreError(f"a PIN has at least {MIN_PIN} characters")
    with store.atomic():
        taken = _row(store.db, cleaned)
        if taken is not None:
            raise StoreError(f"{taken['name']} is already registered")
        store.db.execute(
            "INSERT INTO staff (name, pin_hash, role, created_at) VALUES (?, ?, ?, ?)",
            [cleaned, hash_pin(pin), role, now()],
        )
        _audit(store, cleaned, "staff added", role)
    return cleaned


def disable_staff(store: Store, name: str) -> None:
    """The name keeps its history; it can no longer sign in or sign."""
    with store.atomic():
        row = _row(store.db, name)
        if row is None:
            raise StoreError(f"no reviewer named {name!r}")
        store.db.execute(
            "UPDATE staff SET disabled_at = ? WHERE name = ? AND disabled_at IS NULL",
            [now(), row["name"]],
        )
        _audit(store, row["name"], "staff disabled", row["role"])


def list_staff(db: Database) -> list[StaffMember]:
    if "staff" not in db.table_names():
        return []
    return [
        StaffMember(r["name"], r["role"], r["created_at"], r["disabled_at"])
        for r in db.query("SELECT * FROM staff ORDER BY name")
    ]


def staff_registered(db: Database) -> bool:
    """Whether the UI must ask for a name and PIN."""
    if "staff" not in db.table_names():
        return False
    return next(db.query("SELECT COUNT(*) AS n FROM staff"))["n"] > 0


def sign_in(db: Database, name: str, pin: str) -> str | None:
    """The registered name when the PIN matches and the name is enabled."""
    row = _row(db, " ".join(name.split()))
    if row is None or row["disabled_at"] is not None:
        # Spend the same time as a real check: no telling names apart.
        _pin_matches(pin, hash_pin("not-a-pin"))
        return None
    return row["name"] if _pin_matches(pin, row["pin_hash"]) else None


def check_may_sign(db: Database, reviewer: str) -> None:
    """Refuse a signature by a disabled reviewer (one who signed in before
    being disabled, or a script naming them)."""
    row = _row(db, reviewer)
    if row is not None and row["disabled_at"] is not None:
        raise StoreError(
            f"{row['name']} is disabled and cannot sign; nothing was saved",
            title="reviewer disabled",
        )


def signature(
    author: str, signed: str | None
) -> tuple[str, str, dict[str, str]] | None:
    """The audit row of a staff revision saying how its name was vouched for;
    None keeps record_triage's default row."""
    return None if signed is None else (author, "triage", {"signed": signed})


def _row(db: Database, name: str) -> dict | None:
    if "staff" not in db.table_names():
        return None
    return next(db.query("SELECT * FROM staff WHERE name = ?", [name]), None)


def _audit(store: Store, name: str, action: str, role: str) -> None:
    store._audit("admin", action, None, {"name": name, "role": role})
