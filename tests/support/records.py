"""Triage results as the engine writes them, and stores filled with them, for
tests that need results in a real store without running the model."""

from __future__ import annotations

import shutil
from pathlib import Path

from edgebox.store import DocState, Store


def ai_result(urgency: str = "urgent", **changes: object) -> dict:
    return {
        "category": "referral",
        "urgency": urgency,
        "summary": "A test summary.",
        "red_flags": [{"sign": "chest pain", "source": "rules"}],
        "fields": {"age": "54"},
        "language": "en",
        "confidence": None,
        "needs_review": False,
        "sources": {"category": "llm", "urgency": "llm"},
        "provenance": {"model": "m.gguf", "prompt_version": "triage-v1"},
        "error": None,
    } | changes


def add(store: Store, name: str = "a.txt", sha: str = "0" * 64) -> int:
    return store.add_document(file_name=name, sha256=sha, size=10)


URGENCIES = ("routine", "urgent", "routine", "emergency", "routine")


def fill_store(path: Path, count: int) -> Path:
    """A clinic store with `count` AI results (every fifth an emergency), in
    one transaction so that it takes seconds, not minutes."""
    with Store(path) as store, store.atomic():
        for n in range(count):
            doc = store.add_document(
                file_name=f"doc{n}.txt", sha256=f"{n:064x}", size=100 + n
            )
            store.record_triage(doc, result(n))
    return path


def result(n: int, **changes: object) -> dict[str, object]:
    return {
        "category": "lab_result" if n % 2 else "referral",
        "urgency": URGENCIES[n % len(URGENCIES)],
        "summary": f"Synthetic result number {n}; malaria RDT positive, Hb 9.1.",
        "red_flags": [{"sign": "fever", "source": "rules"}] if n % 3 == 0 else [],
        "fields": {"patient_ref": f"P-{n:05d}", "age": 20 + n % 60, "sex": "F"},
        "language": "en",
        "confidence": None,
        "needs_review": n % 4 == 0,
        "sources": {"category": "llm", "urgency": "rules"},
        "provenance": {
            "model": "SmolLM2-135M-Instruct.Q4_1.gguf",
            "model_sha256": "ab" * 32,
            "prompt_version": "p3",
            "rules_version": "r2",
        },
        **changes,
    }


def copy_store(template: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, target)
    return target


def record(
    store: Store, name: str, urgency: str, *, text: str | None = None, **kind: object
) -> int:
    """A document read from the inbox and triaged; `error` makes the triage a
    failed one (urgency unknown), as a timed-out model leaves it."""
    doc = store.add_document(
        file_name=name, sha256=name.encode().hex().ljust(64, "0"), size=1,
        state=DocState.EXTRACTED, text=text or f"The note {name}.", archive_path="a",
    )  # fmt: skip
    result = {"category": "letter", "urgency": urgency, "summary": f"About {name}."}
    store.record_triage(doc, result | {"needs_review": urgency != "routine"} | kind)
    return doc
