"""What leaves the box: results reach a real central server without free
text or quoted evidence by default, and a patient reference only as the
NGO's pseudonym of it (HMAC-SHA256 with its key), the same on every box."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edgebox.store import Store
from edgebox.sync.client import SyncClient
from edgebox.sync.privacy import pseudonym
from tests.support.central import Central, device_name, sync_settings

NAME = "Mrs Aminata Kone"
KEY = "ngo-secret-for-tests-only"
RESULT = {
    "category": "referral",
    "urgency": "emergency",
    "summary": f"{NAME}, 34 weeks, convulsions at home.",
    "red_flags": [
        {
            "sign": "convulsions",
            "level": "emergency",
            "source": "rules",
            "evidence": f"{NAME} had convulsions",
            "at": [0, 30],
        }
    ],
    "fields": {"patient_ref": NAME, "age": "34", "sex": "F", "bp": "170/115"},
    "language": "en",
    "confidence": None,
    "needs_review": True,
    "sources": {"category": "llm", "urgency": "rules"},
    "provenance": {
        "model": "m.gguf",
        "rejected_summary": f"{NAME} is recovering well",
        "review_reasons": [f"the summary stated what the document does not: {NAME}"],
    },
}


@pytest.fixture
def central(shared_central: Central) -> Central:
    return shared_central


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "edgebox.db") as store:
        doc = store.add_document(file_name="ref.txt", sha256="a" * 64, size=9)
        store.record_triage(doc, RESULT)
        store.record_review(doc, reviewer="amina", changes={}, note=f"called {NAME}")
        yield store


def push(store: Store, central: Central, **settings: Any) -> list[dict[str, Any]]:
    name = device_name()
    token = central.add_device(name)
    with SyncClient(store, sync_settings(central.url, name, token, **settings)) as c:
        assert c.push().ok
    return [r["content"] for r in central.db.records(name)]


def test_by_default_no_free_text_no_evidence_and_no_patient_reference(
    box: Store, central: Central
) -> None:
    held = push(box, central)
    assert len(held) == 2
    for content in held:
        assert NAME not in repr(content)
        assert "summary" not in content and "note" not in content
        assert content["red_flags"] == [
            {"sign": "convulsions", "level": "emergency", "source": "rules"}
        ]
        assert content["fields"] == {"age": "34", "sex": "F", "bp": "170/115"}
        assert content["urgency"] == "emergency" and content["category"] == "referral"
    # The box keeps all of it.
    assert NAME in box.revisions(1)[0]["summary"]


def test_the_patient_reference_leaves_only_as_the_ngo_pseudonym(
    box: Store, central: Central, tmp_path: Path
) -> None:
    held = push(box, central, patient_key=KEY)
    expected = hmac.new(
        KEY.encode(), NAME.casefold().encode(), hashlib.sha256
    ).hexdigest()[:32]
    assert {c["fields"]["patient_ref"] for c in held} == {f"p1-{expected}"}
    assert NAME not in repr(held)
    # Another box of the same NGO, the same patient written another way.
    with Store(tmp_path / "other" / "edgebox.db") as other:
        doc = other.add_document(file_name="lab.txt", sha256="b" * 64, size=9)
        other.record_triage(
            doc, RESULT | {"fields": {"patient_ref": "  mrs aminata  KONE "}}
        )
        (theirs,) = push(other, central, patient_key=KEY)
    assert theirs["fields"]["patient_ref"] == f"p1-{expected}"
    assert pseudonym(NAME, "another-ngo") != f"p1-{expected}"


def test_an_ngo_that_wants_the_text_turns_it_on(box: Store, central: Central) -> None:
    held = push(box, central, send_summary=True, send_evidence=True)
    first = held[0]
    assert first["summary"] == RESULT["summary"]
    assert first["red_flags"][0]["evidence"] == f"{NAME} had convulsions"
    assert held[1]["note"] == f"called {NAME}"
    # Even so, the patient reference needs the key.
    assert "patient_ref" not in first["fields"]
    none = push(box, central, send_fields=False)
    assert all(c["fields"] == {} for c in none)
