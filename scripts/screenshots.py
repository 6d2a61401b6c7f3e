"""SVG screenshots of the terminal UI's main screens at 80x24, for docs/ui.md.

    PYTHONPATH=. .venv/bin/python scripts/screenshots.py [--out docs/screens]

Builds a demo store in a temporary EDGEBOX_HOME from the demo's sample
documents (edgebox/cli/demo.py) with results written here, as the triage
model might have answered: no model is loaded, so the pictures are the same
on every machine (times pinned, shown in UTC). Then drives the UI headless
(Textual's Pilot) and saves one SVG per screen.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from edgebox import config
from edgebox.cli.demo import SAMPLES, sample_sha256
from edgebox.store import DocState, Store

REPO = Path(__file__).resolve().parent.parent
SIZE = (80, 24)

# name -> (received, category, urgency, summary, fields, needs review, flags)
RESULTS: dict[str, tuple[str, str, str, str, dict[str, str], bool, list[str]]] = {
    "referral_pregnancy_convulsion_en.txt": (
        "2026-11-14T07:20", "referral", "emergency",
        "32 weeks pregnant, convulsion this morning, BP 168/112: suspected "
        "eclampsia, referred by ambulance.",
        {"patient_ref": "MAT-2231", "age": "34", "sex": "F"}, True,
        ["convulsion", "BP 168/112"],
    ),
    "labo_paludisme_enfant_fr.txt": (
        "2026-11-15T09:05", "lab_result", "routine",
        "TDR paludisme positif (P. falciparum), paludisme simple, Hb 10,8 g/dL.",
        {"patient_ref": "LAB-5530", "age": "4", "sex": "M"}, True, [],
    ),
    "intake_child_cough_en.txt": (
        "2026-11-16T08:40", "intake_note", "routine",
        "2-year-old, cough and mild fever for 3 days, eating and drinking well.",
        {"patient_ref": "OPD-8812", "age": "2", "sex": "F"}, False, [],
    ),
    "ordonnance_fr.txt": (
        "2026-11-16T10:10", "prescription", "routine",
        "Amoxicilline 500 mg 3 fois par jour 7 jours; paracétamol si douleur.",
        {"patient_ref": "DSP-0457", "age": "45", "sex": "M"}, True, [],
    ),
    "reference_inconscient_fr.txt": (
        "2026-11-17T22:45", "referral", "emergency",
        "Homme diabétique inconscient, SpO2 84 %, TA 86/50, glycémie 2,1 "
        "mmol/L: transfert immédiat.",
        {"patient_ref": "PS-1180", "age": "58", "sex": "M"}, True,
        ["inconscient", "SpO2 84 %"],
    ),
    "lab_full_blood_count_en.txt": (
        "2026-11-17T11:30", "lab_result", "routine",
        "Full blood count normal; HIV and malaria rapid tests negative.",
        {"patient_ref": "LAB-6021", "age": "29", "sex": "M"}, False, [],
    ),
    "progress_note_diabetes_en.txt": (
        "2026-11-18T09:15", "progress_note", "routine",
        "Diabetes and hypertension follow-up, BP 132/84, same treatment.",
        {"patient_ref": "CC-3307", "age": "62", "sex": "F"}, True, [],
    ),
    "admission_deshydratation_fr.txt": (
        "2026-11-18T13:50", "intake_note", "emergency",
        "Nourrisson de 9 mois, déshydratation sévère, ne peut pas boire; "
        "perfusion plan C.",
        {"patient_ref": "PED-0992", "age": "0", "sex": "F"}, True,
        ["ne peut pas boire", "léthargique"],
    ),
    "referral_chest_pain_en.txt": (
        "2026-11-19T10:25", "referral", "urgent",
        "Central chest pain for 2 hours radiating to the left arm: possible "
        "acute coronary syndrome.",
        {"patient_ref": "HC-7745", "age": "54", "sex": "M"}, True, ["chest pain"],
    ),
    "discharge_summary_en.txt": (
        "2026-11-19T15:00", "discharge_summary", "routine",
        "Pneumonia treated, afebrile 72 h; follow-up in one week.",
        {"patient_ref": "DH-4410", "age": "7", "sex": "M"}, False, [],
    ),
}  # fmt: skip

FOLLOW_UP = (
    "follow_up_maternity_en.txt",
    "FOLLOW-UP - Maternity unit, Health Post of Lakeside, 15/11/2026\n"
    "Patient ref MAT-2231. Returned from District Hospital after delivery by\n"
    "caesarean section. BP 138/88. Mother and baby well. Review in one week.\n",
    (
        "2026-11-15T16:30", "progress_note", "routine",
        "Back after caesarean delivery, BP 138/88, mother and baby well.",
        {"patient_ref": "MAT-2231", "age": "34", "sex": "F"}, True, [],
    ),
)  # fmt: skip


def build_store(path: Path) -> dict[str, int]:
    """The demo documents with their results, every time pinned."""
    hashes = sample_sha256()
    items = [(n, t, RESULTS[n], hashes[n]) for n, t in SAMPLES.items()]
    items.append((FOLLOW_UP[0], FOLLOW_UP[1], FOLLOW_UP[2], "f" * 64))
    ids = {}
    with Store(path) as store:
        for name, text, result, sha in items:
            ids[name] = _add(store, name, text, result, sha)
    return ids


def _add(store: Store, name: str, text: str, result: tuple, sha: str) -> int:
    at, category, urgency, summary, fields, review, flags = result
    doc = store.add_document(file_name=name, sha256=sha, size=len(text),
                             state=DocState.EXTRACTED, text=text)  # fmt: skip
    store.record_triage(doc, {
        "category": category, "urgency": urgency, "summary": summary,
        "fields": fields, "needs_review": review, "language": "en",
        "confidence": None if review else 0.9,
        "red_flags": [_flag(text, words, urgency) for words in flags],
        "sources": {"category": "llm", "urgency": "rules" if flags else "llm"},
        "provenance": {"model": "SmolLM2-135M-Instruct.Q4_1.gguf",
                       "prompt_version": "triage-v3",
                       "rules_version": "bundled-2025.1",
                       "review_reasons": ["emergency"] if urgency == "emergency"
                       else []},
        "error": None,
    })  # fmt: skip
    stamp = f"{at}:00.000+00:00"
    with store.atomic():
        store.db.execute("UPDATE documents SET received_at = ?, updated_at = ?"
                         " WHERE id = ?", [stamp, stamp, doc])  # fmt: skip
        store.db.execute("UPDATE triage_revisions SET created_at = ?"
                         " WHERE document_id = ?", [stamp, doc])  # fmt: skip
    return doc


def _flag(text: str, words: str, urgency: str) -> dict[str, Any]:
    start = text.find(words)
    return {"sign": words, "level": urgency, "source": "rules",
            "evidence": words, "at": [start, start + len(words)]}  # fmt: skip


Step = Callable[[Any], Awaitable[None]]


async def _until(pilot: Any, condition: Callable[[], object]) -> None:
    for _ in range(400):
        if condition():
            await pilot.pause(0.2)  # let the last paint land
            return
        await pilot.pause(0.05)
    raise SystemExit(f"the UI did not get there: {condition}")


async def shoot(settings: config.Config, out: Path) -> list[Path]:
    """Drive the UI through its main screens, saving an SVG of each."""
    from edgebox.tui.app import EdgeboxApp
    from edgebox.tui.document import DocumentScreen
    from edgebox.tui.patients import PatientsScreen
    from edgebox.tui.queue import QueueScreen, QueueTable
    from edgebox.tui.status import StatusScreen

    app = EdgeboxApp(settings, refresh_s=600)
    saved: list[Path] = []

    def on(kind: type, ready: Callable[[Any], object] = bool) -> Callable[[], bool]:
        return lambda: isinstance(app.screen, kind) and bool(ready(app.screen))

    def save(name: str) -> None:
        app.save_screenshot(filename=f"{name}.svg", path=str(out))
        saved.append(out / f"{name}.svg")

    async with app.run_test(size=SIZE) as pilot:
        rows = on(QueueScreen, lambda s: s.query_one(QueueTable).row_count >= 8)
        await _until(pilot, rows)
        save("queue")
        await pilot.press("enter")
        await _until(pilot, on(DocumentScreen, lambda s: s.view is not None))
        save("document")
        await pilot.press("r")
        await _until(pilot, lambda: type(app.screen).__name__ == "ReviewScreen")
        save("review")
        await pilot.press("escape", "escape")
        await _until(pilot, on(QueueScreen))
        await pilot.press("s")
        await _until(pilot, on(StatusScreen, lambda s: s.snapshot is not None))
        save("status")
        await pilot.press("escape", "p")
        await _until(pilot, on(PatientsScreen, lambda s: s.shown))
        save("patients")
        await pilot.press(*"mat-")  # the patient with two documents
        table = app.screen.query_one("#patients")
        await _until(pilot, lambda: table.row_count == 1)
        await pilot.press("down", "enter")
        patient = on(QueueScreen, lambda s: s.patient and s.snapshot is not None)
        await _until(pilot, patient)
        save("patient")
        await pilot.press("escape", "escape", "question_mark")
        await _until(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
        save("help")
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screens")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ["TZ"] = "UTC"  # the times as stored, on every machine
    time.tzset()
    with tempfile.TemporaryDirectory() as home:
        os.environ["EDGEBOX_HOME"] = home
        os.environ["EDGEBOX_USER"] = "amina"  # the name in the top bar
        os.environ["EDGEBOX_UI_START_VIEW"] = "to_review"
        settings = config.load(Path(home))
        build_store(settings.db_path)
        for path in asyncio.run(shoot(settings, args.out.resolve())):
            print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)


if __name__ == "__main__":
    main()
