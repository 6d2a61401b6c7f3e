"""Two-stage triage benchmark: a backlog of text documents dropped at once into
a live inbox (the service's own watcher and worker), emergencies at random
positions. Measured against a single-stage baseline run in the same process on
the same files: each document read and sent through the whole engine (LLM
included) in arrival order, as edgebox did before the fast stage.

Figures: time from the drop until every emergency shows as emergency in the
queue, and until all LLM work is done; and, apart, a one-page scanned
emergency in the same backlog (OCR must run before any rule reads it).

Then a long scan (LONG_SCAN_PAGES pages of OCR) dropped with a text emergency
behind it: time until the emergency shows, against the two-stage pipeline
that reads files one by one in arrival order (the scan's OCR first), as
edgebox did before scans were read in the background.
"""

from __future__ import annotations

import os
import random
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

from edgebox import config
from edgebox.cli.demo import SAMPLES
from edgebox.intake.extract.ocr import ocr_available
from edgebox.service import workers as workers_module
from edgebox.service.pipeline import Pipeline
from edgebox.service.step import Step, StepOutcome
from edgebox.service.workers import Workers
from edgebox.store import DocState, Store
from edgebox.triage.engine import TriageEngine

EMERGENCY = "referral_pregnancy_convulsion_en.txt"
LONG_SCAN_PAGES = 10
SCANNED_LINES = [
    "Referral: pregnant woman, 34 weeks.",
    "She had convulsions this morning.",
    "BP 170/115. Please see urgently.",
]


class SingleStage(Pipeline):
    """The baseline: no fast stage; the LLM takes documents oldest first."""

    def step(self, *, block: bool = True) -> Step | None:
        received = self.store.documents_in_state(DocState.RECEIVED, limit=1)
        if received:
            enabled, self.triage_enabled = self.triage_enabled, False
            try:
                return self.extract(received[0])
            finally:
                self.triage_enabled = enabled
        extracted = self.store.documents_in_state(DocState.EXTRACTED, limit=1)
        if extracted:
            doc = extracted[0]
            return Step(doc, StepOutcome.TRIAGED, self.triage(doc))
        return None


class ReadInOrder(Pipeline):
    """The baseline behind a long scan: two stages, but each file read in
    arrival order, a scan's OCR holding back the text that came after it."""

    def step(self, *, block: bool = True) -> Step | None:
        received = self.store.documents_in_state(DocState.RECEIVED, limit=1)
        if received:
            return self.extract(received[0])
        pending = self.store.llm_pending(limit=1)
        if pending:
            doc = pending[0]
            return Step(doc, StepOutcome.TRIAGED, self.triage(doc))
        return None


def _backlog(folder: Path, docs: int, emergencies: int, seed: int) -> list[str]:
    """Files named in drop order; returns the emergencies' names."""
    rng = random.Random(seed)
    others = [n for n in SAMPLES if n != EMERGENCY]
    where = set(rng.sample(range(docs), min(emergencies, docs)))
    names = []
    for i in range(docs):
        kind = EMERGENCY if i in where else others[i % len(others)]
        name = f"{i:03}-{kind}"
        # Each copy its own content: the same text twice is a duplicate.
        (folder / name).write_text(f"{SAMPLES[kind]}\nRef {seed}-{i}\n")
        if i in where:
            names.append(name)
    return names


def _text_backlog(
    docs: int, emergencies: int
) -> Callable[[Path], tuple[list[str], Path | None]]:
    def fill(staging: Path) -> tuple[list[str], Path | None]:
        names = _backlog(staging, docs, emergencies, seed=18)
        if not ocr_available():
            return names, None
        from tests.support.documents import scanned_image

        path = staging / f"{docs // 2:03}-scan.png"
        return names, scanned_image(path, SCANNED_LINES)

    return fill


def _behind_a_long_scan(staging: Path) -> tuple[list[str], Path | None]:
    """A long scan first, a text emergency right behind it."""
    from tests.support.documents import paged_pdf

    pages = [
        {"scan": [f"Discharge summary, page {n}.", "Routine review in 3 months."]}
        for n in range(1, LONG_SCAN_PAGES + 1)
    ]
    paged_pdf(staging / "000-long-scan.pdf", pages)
    name = f"001-{EMERGENCY}"
    (staging / name).write_text(SAMPLES[EMERGENCY])
    return [name], None


def _run(
    engine: TriageEngine,
    fill: Callable[[Path], tuple[list[str], Path | None]],
    pipeline: type[Pipeline],
) -> dict[str, float | None]:
    home = Path(tempfile.mkdtemp(prefix="edgebox-bench-stages-"))
    os.environ["EDGEBOX_INGEST_QUIET_S"] = "0.2"
    settings = config.load(home)
    staging = home / "staging"
    staging.mkdir()
    settings.inbox_dir.mkdir(parents=True)
    names, scanned = fill(staging)
    with mock.patch.object(workers_module, "Pipeline", pipeline):
        service = Workers(settings, engine_loader=lambda: engine)
        thread = threading.Thread(target=service.run, kwargs={"until_idle": True})
        thread.start()
        assert service.scanned.wait(timeout=60)
        started = time.monotonic()
        staging.rename(settings.inbox_dir / "batch")  # one drop, all at once
        times = _watch(settings, names, scanned, started, thread)
    return times


def _watch(
    settings: config.Config,
    names: list[str],
    scanned: Path | None,
    started: float,
    thread: threading.Thread,
) -> dict[str, float | None]:
    """Poll the queue as `queue --json` reads it until the service is idle."""
    seen: dict[str, float] = {}
    wanted = set(names) | ({scanned.name} if scanned else set())
    while thread.is_alive():
        with Store(settings.db_path) as store:
            for row in store.queue(limit=1000):
                name = row["file_name"]
                emergency = row["urgency"] == "emergency"
                if name in wanted and name not in seen and emergency:
                    seen[name] = time.monotonic() - started
        time.sleep(0.05)
    done = time.monotonic() - started
    texts = [seen[n] for n in names if n in seen]
    return {
        "emergencies_shown_s": max(texts) if len(texts) == len(names) else None,
        "all_done_s": done,
        "scanned_emergency_s": seen.get(scanned.name) if scanned else None,
    }


def two_stage(docs: int = 60, emergencies: int = 5) -> list[dict]:
    engine = TriageEngine(config.Config(home=Path(tempfile.mkdtemp()), source=None))
    fill = _text_backlog(docs, emergencies)
    single = _run(engine, fill, SingleStage)
    double = _run(engine, fill, Pipeline)
    shown = _ratio(single["emergencies_shown_s"], double["emergencies_shown_s"])
    done = _ratio(double["all_done_s"], single["all_done_s"])
    results = [
        {
            "figure": f"two-stage triage: {docs} text documents dropped at once,"
            f" {emergencies} emergencies",
            "emergencies shown, single (s)": single["emergencies_shown_s"],
            "emergencies shown, two-stage (s)": double["emergencies_shown_s"],
            "emergencies shown sooner (x)": shown,
            "all LLM work done, single (s)": single["all_done_s"],
            "all LLM work done, two-stage (s)": double["all_done_s"],
            "all done, two-stage / single": done,
            "scanned emergency, single (s)": single["scanned_emergency_s"],
            "scanned emergency, two-stage (s)": double["scanned_emergency_s"],
        }
    ]
    if ocr_available():
        results.append(_long_scan(engine))
    return results


def _long_scan(engine: TriageEngine) -> dict:
    before = _run(engine, _behind_a_long_scan, ReadInOrder)
    after = _run(engine, _behind_a_long_scan, Pipeline)
    return {
        "figure": f"a text emergency dropped behind a {LONG_SCAN_PAGES}-page scan",
        "emergency shown, read in order (s)": before["emergencies_shown_s"],
        "emergency shown, scan aside (s)": after["emergencies_shown_s"],
        "emergency shown sooner (x)": _ratio(
            before["emergencies_shown_s"], after["emergencies_shown_s"]
        ),
        "all done, read in order (s)": before["all_done_s"],
        "all done, scan aside (s)": after["all_done_s"],
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None
