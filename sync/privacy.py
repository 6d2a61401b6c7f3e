"""What a result carries when it leaves the box.

The outbox keeps the box's whole result; what is sent is cut down here, at
send time, by `[sync]` settings, so that a change of mind covers the rows not
sent yet. By default a result leaves with its labels, levels, red-flag signs,
confidences and versions, and the structured fields (age, sex, date,
facility, vital signs), but without free text: no summary (it may be the
document's opening lines, with names in them), no staff note, no red-flag
evidence (words quoted from the document), no review reasons (they may quote
the model's words). A patient reference never leaves as it is: the box may
keep a name or a register number to group a patient's documents, and sends
only an HMAC-SHA256 pseudonym of it made with the NGO's secret key
(`[sync] patient_key`, better set as EDGEBOX_SYNC_PATIENT_KEY); the same
patient gets the same pseudonym on every box of the NGO; without a key no
patient reference is sent at all.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from edgebox.config import SyncConfig

FREE_TEXT = ("summary", "note")
"""Result keys whose text a person or the model wrote about the document."""
PROVENANCE_FREE_TEXT = ("rejected_summary", "review_reasons", "unread_pages")
EVIDENCE_KEYS = ("evidence", "at")
PSEUDONYM_PREFIX = "p1-"


def pseudonym(patient_ref: str, key: str) -> str:
    """The same for every box with the same key; no way back without it.
    Spaces and case do not matter ("KE 4471" and "ke-4471" differ, though)."""
    normal = " ".join(patient_ref.split()).casefold()
    digest = hmac.new(key.encode(), normal.encode(), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:32]


def outgoing(content: dict[str, Any], settings: SyncConfig) -> dict[str, Any]:
    """The record content as it may leave the box under these settings."""
    out = dict(content)
    if not settings.send_summary:
        for key in FREE_TEXT:
            out.pop(key, None)
        provenance = out.get("provenance")
        if isinstance(provenance, dict):
            out["provenance"] = {
                k: v for k, v in provenance.items() if k not in PROVENANCE_FREE_TEXT
            }
    if not settings.send_evidence and isinstance(out.get("red_flags"), list):
        out["red_flags"] = [
            {k: v for k, v in flag.items() if k not in EVIDENCE_KEYS}
            if isinstance(flag, dict)
            else flag
            for flag in out["red_flags"]
        ]
    fields = out.get("fields")
    if isinstance(fields, dict):
        out["fields"] = _fields(fields, settings)
    return out


def _fields(fields: dict[str, Any], settings: SyncConfig) -> dict[str, Any]:
    if not settings.send_fields:
        return {}
    kept = {k: v for k, v in fields.items() if k != "patient_ref"}
    ref = fields.get("patient_ref")
    if ref and settings.patient_key:
        kept["patient_ref"] = pseudonym(str(ref), settings.patient_key)
    return kept
