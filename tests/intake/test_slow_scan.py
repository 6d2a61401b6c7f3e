"""A long scan does not hold back what arrives after it: its OCR runs in the
extraction worker process while plain text behind it is read and rated, and a
power cut mid-OCR loses nothing and takes the file once."""

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from edgebox import config
from edgebox.cli.demo import SAMPLES
from edgebox.intake.extract.ocr import ocr_available
from edgebox.intake.ingest import Ingestor
from edgebox.service.pipeline import Pipeline
from edgebox.service.step import StepOutcome
from edgebox.service.workers import Workers
from edgebox.store import Store
from edgebox.triage.engine import TriageEngine
from edgebox.triage.manifest import sha256_file
from tests.support.documents import paged_pdf
from tests.support.processes import wait_for

needs_ocr = pytest.mark.skipif(
    not ocr_available(), reason="Tesseract is not installed (scripts/setup installs it)"
)
EMERGENCY = SAMPLES["referral_pregnancy_convulsion_en.txt"]
PAGES = 8


def long_scan(path: Path) -> Path:
    """An image-only PDF of PAGES typed pages: every page goes through OCR."""
    pages = [
        {"scan": [f"Discharge summary, page {n}.", "Routine follow-up in 3 months."]}
        for n in range(1, PAGES + 1)
    ]
    return paged_pdf(path, pages)


def state_of(settings: config.Config, name: str) -> dict | None:
    if not settings.db_path.exists():
        return None
    with Store(settings.db_path) as store:
        rows = store.queue(limit=1000)
    return next((r for r in rows if r["file_name"] == name), None)


@needs_ocr
def test_text_behind_a_scan_is_read_while_the_scan_is_ocrd(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = config.load()
    settings.inbox_dir.mkdir(parents=True)
    long_scan(settings.inbox_dir / "a-scan.pdf")
    (settings.inbox_dir / "b-letter.txt").write_text("A short letter.")
    with Store(settings.db_path) as store:
        ingestor = Ingestor(settings, store)
        for name in ("a-scan.pdf", "b-letter.txt"):
            assert ingestor.ingest(settings.inbox_dir / name).result == "recorded"
        pipeline = Pipeline(settings, store, triage=False)
        try:
            first = pipeline.step(block=False)  # the scan starts; the letter is read
            assert first is not None and first.document["file_name"] == "b-letter.txt"
            assert pipeline.reading
            assert store.document(1)["state"] == "received"
            second = pipeline.step()  # nothing else left: waits for the scan
        finally:
            pipeline.close()
        assert second is not None and second.outcome is StepOutcome.EXTRACTED
        scan = store.document(1)
    assert second.document["file_name"] == "a-scan.pdf" and not pipeline.reading
    assert scan["state"] == "extracted" and f"page {PAGES}" in scan["text"]


@needs_ocr
@pytest.mark.model
def test_a_text_emergency_behind_a_long_scan_shows_before_its_ocr_is_done(
    monkeypatch: pytest.MonkeyPatch, engine: TriageEngine
) -> None:
    monkeypatch.setenv("EDGEBOX_INGEST_QUIET_S", "0.3")
    settings = config.load()
    settings.inbox_dir.mkdir(parents=True)
    service = Workers(settings, engine_loader=lambda: engine)
    thread = threading.Thread(target=service.run)  # until_idle: gone before the drop
    thread.start()
    try:
        assert service.scanned.wait(timeout=60)
        long_scan(settings.inbox_dir / "a-scan.pdf")
        wait_for(lambda: state_of(settings, "a-scan.pdf"), what="the scan recorded")
        (settings.inbox_dir / "z-referral.txt").write_text(EMERGENCY)

        def shown() -> tuple[dict, dict] | None:
            with Store(settings.db_path) as store:
                rows = {r["file_name"]: r for r in store.queue(limit=1000)}
                scan = store.document(rows["a-scan.pdf"]["document_id"])
            row = rows.get("z-referral.txt")
            return (row, scan) if row and row["urgency"] == "emergency" else None

        row, scan = wait_for(shown, timeout_s=120, what="the emergency")
        assert row["provisional"] is True
        assert scan["state"] == "received"  # its OCR is not finished yet

        def triaged() -> bool:
            row = state_of(settings, "a-scan.pdf")
            return bool(row and row["state"] == "triaged")

        wait_for(triaged, timeout_s=300, what="the scan read and triaged")
    finally:
        service.stop_event.set()
        thread.join()


def descendants(pid: int) -> list[int]:
    """The process ids under `pid` (the extraction worker, its tesseract)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def ocr_running(pid: int) -> bool:
    for child in descendants(pid):
        try:
            if Path(f"/proc/{child}/comm").read_text().strip() == "tesseract":
                return True
        except OSError:
            continue
    return False


def start_watch(home: Path, *, until_idle: bool) -> subprocess.Popen:
    env = os.environ | {"EDGEBOX_HOME": str(home), "EDGEBOX_INGEST_QUIET_S": "0"}
    return subprocess.Popen(
        [sys.executable, "-m", "edgebox", "watch", "--no-triage"]
        + (["--until-idle"] if until_idle else []),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@needs_ocr
@pytest.mark.slow
def test_a_kill_during_ocr_loses_nothing_and_takes_the_file_once(
    edgebox_home: Path,
) -> None:
    settings = config.load()
    settings.inbox_dir.mkdir(parents=True)
    sha = sha256_file(long_scan(settings.inbox_dir / "scan.pdf"))
    (settings.inbox_dir / "letter.txt").write_text("A short letter.")
    process = start_watch(edgebox_home, until_idle=False)
    try:
        wait_for(lambda: ocr_running(process.pid), timeout_s=120, what="the OCR")
    finally:
        # Fault injector: a power cut takes the service and its workers at once.
        tree = [process.pid, *descendants(process.pid)]
        for pid in tree:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.wait()
    letter = state_of(settings, "letter.txt")
    assert letter is not None and letter["state"] == "extracted"
    assert state_of(settings, "scan.pdf")["state"] == "received"
    assert start_watch(edgebox_home, until_idle=True).wait(timeout=300) == 0
    with Store(settings.db_path) as store:
        rows = store.queue(limit=1000)
        (scan,) = [r for r in rows if r["file_name"] == "scan.pdf"]
        doc = store.document(scan["document_id"])
    assert len(rows) == 2 and doc["sha256"] == sha
    assert doc["state"] == "extracted" and f"page {PAGES}" in doc["text"]
    assert sha256_file(Path(doc["archive_path"])) == sha
    assert not [p for p in settings.inbox_dir.rglob("*") if p.is_file()]
    assert not list(settings.archive_dir.glob(".incoming-*"))
