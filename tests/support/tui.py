"""A seeded store for the UI tests (five realistic documents at fixed times)
and the helpers that drive the app under Textual's Pilot.

Plain helpers; the fixtures built on them (`utc`, `settings`, `seeded`) are in
tests/conftest.py, because UI tests live in more than one folder.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

from edgebox import config
from edgebox.store import DocState, Store
from edgebox.tui.app import EdgeboxApp
from edgebox.tui.queue import QueueScreen, QueueTable

REFERRAL_TEXT = (
    "Referral to District Hospital paediatrics. Child, 3 years, female. "
    "Convulsions since this morning, unable to drink or breastfeed. "
    "Temp 39.4 C. Please see urgently. Ref KE-4471. Facility: Kibera Health Post."
)
LAB_TEXT = (
    "Laboratory result. Patient ref LB-2231, 27 y, male. Malaria RDT positive "
    "(P. falciparum). Haemoglobin 9.1 g/dL. Collected 2025-03-03."
)
RX_TEXT = (
    "Prescription. Amoxicillin 500 mg three times daily for 5 days. "
    "Patient ref RX-0042, 45 y. Review in one week if no improvement."
)
INTAKE_TEXT = "Intake note. Cough for two weeks, night sweats. Weight loss reported."

# (file, text, received, result or None, state override)
SEED: list[dict[str, Any]] = [
    {
        "file": "referral-kibera.txt",
        "text": REFERRAL_TEXT,
        "at": "2025-03-04T08:15:00.000+00:00",
        "result": {
            "category": "referral",
            "urgency": "emergency",
            "summary": "3-year-old girl with convulsions, unable to drink; referred "
            "to district hospital paediatrics.",
            "red_flags": [
                {
                    "sign": "convulsions",
                    "level": "emergency",
                    "source": "rules",
                    "evidence": "Convulsions since this morning",
                    "at": [
                        REFERRAL_TEXT.index("Convulsions"),
                        REFERRAL_TEXT.index(" unable to drink") - 1,
                    ],
                },
                {"sign": "unable to drink", "level": None, "source": "llm"},
            ],
            "fields": {"patient_ref": "KE-4471", "age": "3", "sex": "F"},
            "needs_review": True,
            "confidence": None,
            "sources": {"category": "llm", "urgency": "rules"},
        },
    },
    {
        "file": "lab-malaria.pdf",
        "text": LAB_TEXT,
        "at": "2025-03-04T07:40:00.000+00:00",
        "result": {
            "category": "lab_result",
            "urgency": "urgent",
            "summary": "Malaria RDT positive (P. falciparum), haemoglobin 9.1 g/dL.",
            "red_flags": [],
            "fields": {"patient_ref": "LB-2231", "age": "27", "sex": "M"},
            "needs_review": False,
            "confidence": 0.91,
            "sources": {"category": "learned", "urgency": "learned"},
        },
    },
    {
        "file": "rx-0042.txt",
        "text": RX_TEXT,
        "at": "2025-03-03T16:05:00.000+00:00",
        "result": {
            "category": "prescription",
            "urgency": "routine",
            "summary": "Amoxicillin 500 mg three times daily for 5 days.",
            "red_flags": [],
            "fields": {"patient_ref": "RX-0042", "age": "45"},
            "needs_review": False,
            "confidence": 0.88,
            "sources": {"category": "learned", "urgency": "learned"},
        },
    },
    {
        "file": "intake-0311.txt",
        "text": INTAKE_TEXT,
        "at": "2025-03-04T09:02:00.000+00:00",
        "result": {
            "category": None,
            "urgency": "unknown",
            "summary": "",
            "red_flags": [],
            "fields": {},
            "needs_review": True,
            "confidence": None,
            "sources": {},
            "error": "triage deadline passed (120 s)",
        },
    },
    {
        "file": "scan-0007.png",
        "text": None,
        "at": "2025-03-04T06:30:00.000+00:00",
        "result": None,
        "quarantine": ("ocr_unavailable", "OCR is not installed (tesseract)"),
    },
]


def ai_result(**values: Any) -> dict[str, Any]:
    """A triage record as the engine writes it."""
    return {
        "language": "en",
        "provenance": {
            "model": "SmolLM2-135M-Instruct.Q4_1.gguf",
            "prompt_version": "triage-v3",
            "rules_version": "bundled-2025.1",
            "review_reasons": ["emergency"] if values["urgency"] == "emergency" else [],
        },
        "error": None,
        **values,
    }


def seed(store: Store, entries: list[dict[str, Any]] = SEED) -> dict[str, int]:
    """Write the documents, then pin every timestamp (stable snapshots)."""
    ids: dict[str, int] = {}
    for entry in entries:
        quarantine = entry.get("quarantine")
        doc_id = store.add_document(
            file_name=entry["file"],
            sha256=f"{len(ids):064x}",
            size=len(entry["text"] or "x"),
            state=DocState.QUARANTINED if quarantine else DocState.EXTRACTED,
            text=entry["text"],
            archive_path=f"archive/{len(ids):064x}",
            error_code=quarantine[0] if quarantine else None,
            error_message=quarantine[1] if quarantine else None,
        )
        if entry["result"] is not None:
            store.record_triage(doc_id, ai_result(**entry["result"]))
        pin_times(store, doc_id, entry["at"])
        ids[entry["file"]] = doc_id
    return ids


def pin_times(store: Store, doc_id: int, at: str) -> None:
    with store.atomic():
        store.db.execute(
            "UPDATE documents SET received_at = ?, updated_at = ? WHERE id = ?",
            [at, at, doc_id],
        )
        store.db.execute(
            "UPDATE triage_revisions SET created_at = ? WHERE document_id = ?",
            [at, doc_id],
        )


def make_app(settings: config.Config, **options: Any) -> EdgeboxApp:
    # The refresh timer runs on its own in every test; a short one makes the
    # live-refresh test quick without sleeping in it.
    return EdgeboxApp(settings, refresh_s=options.pop("refresh_s", 0.2), **options)


async def until(
    pilot: Any, condition: Callable[[], object], *, timeout: float = 20.0
) -> None:
    """Let the app run until `condition()` holds (workers finish in threads)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {condition}")
        await pilot.pause(0.05)


async def until_on(
    pilot: Any, screen_type: type, ready: Callable[[Any], object] = bool
) -> Any:
    """Let the app run until it shows a `screen_type` screen that is `ready`."""
    await until(
        pilot,
        lambda: isinstance(pilot.app.screen, screen_type) and ready(pilot.app.screen),
    )
    return pilot.app.screen


async def queue_ready(pilot: Any, count: int) -> QueueTable:
    """The queue's table, once it lists `count` documents."""
    screen = await until_on(
        pilot, QueueScreen, lambda s: s.query_one(QueueTable).row_count == count
    )
    return screen.query_one(QueueTable)


def table_rows(table: Any) -> list[list[str]]:
    """The plain text of every row of a DataTable, in order."""
    return [
        [str(getattr(cell, "plain", cell)) for cell in table.get_row_at(index)]
        for index in range(table.row_count)
    ]


def screen_text(app: Any) -> str:
    """Everything the Static widgets of the top screen show, as plain text."""
    from textual.widgets import Static

    return "\n".join(
        str(getattr(w.content, "plain", w.content)) for w in app.screen.query(Static)
    )


def running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def screen_dump(app: Any) -> str:
    """The terminal as plain text, exactly as a person would see it."""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    console.print(
        app.screen._compositor.render_update(
            full=True, screen_stack=app._background_screens
        )
    )
    return console.export_text()


def workers_done(app: Any, group: str) -> bool:
    """No worker of this group is waiting or running."""
    from textual.worker import WorkerState

    busy = (WorkerState.PENDING, WorkerState.RUNNING)
    return not any(w.group == group and w.state in busy for w in app.workers)


def add_for_patient(store: Store, ref: str, urgency: str, review: bool) -> int:
    """A read document of one patient, with the AI's result."""
    doc = store.add_document(file_name=f"{ref}.txt", sha256="f" * 64, size=3)
    store.set_state(doc, "extracted", text="Follow-up.")
    store.record_ai_result(
        doc,
        ai_result(
            category="lab_result",
            urgency=urgency,
            summary="Follow-up.",
            fields={"patient_ref": ref},
            needs_review=review,
        ),
    )
    return doc
