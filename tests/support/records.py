"""Triage results as the engine writes them, and stores filled with them, for
tests that need results in a real store without running the model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from edgebox.config import Config, load
from edgebox.store import DocState, Store
from tests.support.paths import DATA


def learned_result(**provenance: object) -> dict:
    """A result whose labels came from a learned model ("urgent" intake note,
    sent to review), as the pooled-learning and drift tests record it."""
    return {
        "category": "intake_note",
        "urgency": "urgent",
        "summary": "",
        "red_flags": [],
        "fields": {},
        "language": "en",
        "confidence": None,
        "needs_review": True,
        "sources": {"category": "learned", "urgency": "learned"},
        "provenance": dict(provenance),
    }


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


def handover_documents(home: Path) -> dict[str, int]:
    """Four documents: an emergency reviewed by amina, an urgent one left to
    review, a routine one nobody needs to see, and a duplicate."""
    settings = load()
    settings.inbox_dir.mkdir(parents=True, exist_ok=True)
    ids: dict[str, int] = {}
    with Store(settings.db_path) as store:
        for name, urgency, review, summary in (
            ("eclampsia.txt", "emergency", True, "<b>Eclampsia</b>, 34 weeks"),
            ("fever.txt", "urgent", True, '=HYPERLINK("x") fever 39.5'),
            ("dental.txt", "routine", False, "Dental prescription."),
        ):
            doc = store.add_document(file_name=name, sha256=name[0] * 64, size=5)
            store.record_ai_result(
                doc,
                ai_result(
                    urgency,
                    summary=summary,
                    needs_review=review,
                    red_flags=[{"sign": "convulsions", "source": "rules"}]
                    if urgency == "emergency"
                    else [],
                ),
            )
            ids[name] = doc
        store.record_review(
            ids["eclampsia.txt"], reviewer="amina", changes={"urgency": "emergency"}
        )
    return ids


def reviewed_store(settings: Config, rows: list[dict]) -> None:
    """Labelled rows as documents a nurse reviewed (to train on)."""
    with Store(settings.db_path) as store:
        for n, row in enumerate(rows):
            doc = store.add_document(
                file_name=f"{row['id']}.txt",
                sha256=f"{row['id']}-{n}".encode().hex().ljust(64, "0"),
                size=len(row["text"]),
                text=row["text"],
            )
            store.record_triage(
                doc, {"category": "other", "urgency": "routine", "summary": "-"}
            )
            store.record_review(
                doc, reviewer="nurse", changes={"urgency": row["urgency"]}
            )


def data_rows(name: str) -> list[dict]:
    """The rows of a labelled JSONL file in tests/data."""
    return [json.loads(line) for line in (DATA / name).read_text().splitlines()]


def untriaged(name: str = "scan.txt") -> int:
    """A document recorded but not read yet."""
    settings = load()
    settings.inbox_dir.mkdir(parents=True, exist_ok=True)
    with Store(settings.db_path) as store:
        return store.add_document(file_name=name, sha256="a" * 64, size=5)
