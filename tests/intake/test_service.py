"""The headless service on a real inbox with real watchdog events."""

import errno
import json
import os
import threading
from pathlib import Path
from typing import BinaryIO

import pytest

from edgebox import config
from edgebox.intake.extract.ocr import ocr_available
from edgebox.service.workers import Workers
from edgebox.store import DocState, Store
from edgebox.triage.engine import TriageEngine
from tests.support.documents import scanned_image
from tests.support.processes import run_cli, wait_for


def fast_settings(monkeypatch: pytest.MonkeyPatch) -> config.Config:
    monkeypatch.setenv("EDGEBOX_INGEST_QUIET_S", "0.3")
    monkeypatch.setenv("EDGEBOX_INGEST_RESCAN_S", "60")  # events must do the work
    settings = config.load()
    settings.inbox_dir.mkdir(parents=True)
    return settings


def run_in_background(service: Workers) -> threading.Thread:
    thread = threading.Thread(target=service.run)
    thread.start()
    return thread


def counts(settings: config.Config) -> dict[str, int]:
    with Store(settings.db_path) as store:
        return store.counts_by_state()


def test_a_folder_of_500_files_dropped_at_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = fast_settings(monkeypatch)
    batch = tmp_path / "batch"
    batch.mkdir()
    for i in range(500):
        (batch / f"note-{i:03}.txt").write_text(f"Note {i}: patient seen, stable.")
    service = Workers(settings, triage=False)
    thread = run_in_background(service)
    try:
        # The scan at start has seen the empty inbox: only events find the batch.
        assert service.scanned.wait(timeout=60)
        batch.rename(settings.inbox_dir / "batch")  # one event for the folder
        wait_for(
            lambda: counts(settings)["extracted"] == 500,
            timeout_s=120,
            what="the 500 files to be extracted",
        )
    finally:
        service.stop_event.set()
        thread.join()
    assert not [p for p in settings.inbox_dir.rglob("*") if p.is_file()]
    with Store(settings.db_path) as store:
        names = {
            doc["relative_path"] for doc in store.documents_in_state(DocState.EXTRACTED)
        }
    assert names == {f"batch/note-{i:03}.txt" for i in range(500)}


def test_a_file_renamed_into_the_inbox_is_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = fast_settings(monkeypatch)
    partial = settings.inbox_dir / "scan0001.part"  # a scanner writing: ignored
    partial.write_text("Referral: fever")
    (settings.inbox_dir / "marker.txt").write_text("Seen with the partial scan.")
    service = Workers(settings, triage=False)
    thread = run_in_background(service)
    try:
        # Both were seen by the same scan: the marker taken, the partial not.
        wait_for(lambda: counts(settings)["extracted"] == 1, what="the marker")
        assert partial.exists()
        partial.rename(settings.inbox_dir / "scan0001.txt")
        wait_for(lambda: counts(settings)["extracted"] == 2, what="the renamed scan")
    finally:
        service.stop_event.set()
        thread.join()


def test_until_idle_ends_beside_a_file_the_inbox_will_not_let_go(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A read-only share: the file is recorded once, not read again at every
    rescan (here more often than the quiet period), and `--until-idle` ends."""
    fast_settings(monkeypatch)
    monkeypatch.setenv("EDGEBOX_INGEST_RESCAN_S", "0.2")
    settings = config.load()
    stuck = settings.inbox_dir / "scan.txt"
    stuck.write_text("Referral: fever.")
    real_unlink = os.unlink

    def read_only_share(name: str, *, dir_fd: int | None = None) -> None:  # fault
        if name == stuck.name and dir_fd is not None:  # removed inside its folder
            raise PermissionError(13, "Permission denied", name)
        real_unlink(name, dir_fd=dir_fd)

    from edgebox.intake import ingest

    reads: list[BinaryIO] = []
    real_copy = ingest.copy_into_archive

    def counted_copy(reader: BinaryIO, archive: Path):  # spy: how often it is read
        reads.append(reader)
        return real_copy(reader, archive)

    monkeypatch.setattr(os, "unlink", read_only_share)
    monkeypatch.setattr(ingest, "copy_into_archive", counted_copy)
    progress = Workers(settings, triage=False).run(until_idle=True)
    assert progress.ingested == 1 and stuck.exists()
    assert counts(settings)["extracted"] == 1 and len(reads) == 1


def test_until_idle_returns_when_everything_is_done(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = fast_settings(monkeypatch)
    for i in range(5):
        (settings.inbox_dir / f"{i}.txt").write_text(f"note {i}")
    progress = Workers(settings, triage=False).run(until_idle=True)
    assert progress.ingested == 5
    assert counts(settings)["extracted"] == 5


def test_a_full_disk_is_waited_out_not_a_crash(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Under systemd a crash on a full disk is a restart loop of tracebacks:
    the service says it in one line and tries again, losing nothing."""
    import sqlite3

    settings = fast_settings(monkeypatch)
    for i in range(3):
        (settings.inbox_dir / f"{i}.txt").write_text(f"note {i}")
    full = {"add_document": 1, "set_state": 2}  # fault injector: writes that fail

    def failing(name: str):
        real = getattr(Store, name)

        def write(self: Store, *args: object, **kwargs: object) -> object:
            if full[name]:
                full[name] -= 1
                raise sqlite3.OperationalError("database or disk is full")
            return real(self, *args, **kwargs)

        return write

    for name in full:
        monkeypatch.setattr(Store, name, failing(name))
    from edgebox.intake import ingest

    real_copy, archive_full = ingest.copy_into_archive, [1]

    def copy_on_a_full_disk(reader, archive):  # fault injector: the first write
        if archive_full[0]:
            archive_full[0] -= 1
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_copy(reader, archive)

    monkeypatch.setattr(ingest, "copy_into_archive", copy_on_a_full_disk)
    service = Workers(settings, triage=False)
    service.disk_full_wait_s = 0.05
    progress = service.run(until_idle=True)
    assert full == {"add_document": 0, "set_state": 0}  # the faults were met
    assert archive_full == [0]
    assert progress.ingested == 3 and counts(settings)["extracted"] == 3
    said = [r.getMessage() for r in caplog.records if "disk is full" in r.getMessage()]
    assert len(said) == 4 and all("MB free under" in line for line in said)


class StopDuringAnswer:
    """Fault injector: the real bundled model, with the service asked to stop
    just as the model starts answering (systemd's SIGTERM mid-document)."""

    def __init__(self, real: object, stop: threading.Event) -> None:
        self.real, self.stop, self.calls = real, stop, 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)

    def chat_json(self, messages: list, **options: object) -> object:
        self.calls += 1
        self.stop.set()
        return self.real.chat_json(messages, **options)


@pytest.mark.model
def test_a_stop_abandons_the_answer_and_the_next_start_triages_the_document(
    monkeypatch: pytest.MonkeyPatch, engine: TriageEngine
) -> None:
    """A large model's answer can take minutes on a 2-core box: a stop must
    not wait it out, nor record the document as a failed triage."""
    settings = fast_settings(monkeypatch)
    (settings.inbox_dir / "referral.txt").write_text(
        "Referral. 54-year-old man, chest pain for two hours, BP 150/95."
    )
    service = Workers(settings)
    stopping = StopDuringAnswer(engine.model, service.stop_event)
    service.engine_loader = lambda: TriageEngine(settings, model=stopping)
    progress = service.run()  # it returns: the stop came from inside
    assert stopping.calls == 1
    assert (progress.triaged, progress.failed) == (0, 0)
    assert counts(settings)["extracted"] == 1  # left as it was
    restarted = Workers(
        settings, engine_loader=lambda: TriageEngine(settings, model=engine.model)
    )
    assert restarted.run(until_idle=True).triaged == 1
    with Store(settings.db_path) as store:
        [doc] = store.documents_in_state(DocState.TRIAGED)
        # The fast stage's provisional result, then the LLM stage's: no failed
        # triage was recorded for the abandoned answer.
        fast, final = store.revisions(doc["id"])
        assert (fast["provisional"], final["provisional"]) == (True, False)
        assert fast["error"] is None and final["error"] is None


@pytest.mark.skipif(not ocr_available(), reason="Tesseract is not installed")
def test_requeue_after_ocr_is_installed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = fast_settings(monkeypatch)
    scanned_image(settings.inbox_dir / "scan.png", ["Patient unresponsive"])
    no_ocr = tmp_path / "bin-without-tesseract"
    no_ocr.mkdir()
    result = run_cli("process", "--json", env={"PATH": str(no_ocr)})
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert (row["state"], row["error_code"]) == ("quarantined", "ocr_unavailable")
    reason = settings.quarantine_dir / f"{row['document_id']}-scan.png.reason.txt"
    assert "OCR not available" in reason.read_text()
    requeue = run_cli("requeue", str(row["document_id"]))
    assert requeue.returncode == 0, requeue.stderr
    assert not reason.exists()
    progress = Workers(settings, triage=False).run(until_idle=True)
    assert progress.quarantined == 0
    with Store(settings.db_path) as store:
        doc = store.document(row["document_id"])
    assert doc["state"] == "extracted" and "unresponsive" in doc["text"]


def test_requeue_refuses_a_document_that_did_not_fail(edgebox_home: Path) -> None:
    settings = config.load()
    with Store(settings.db_path) as store:
        doc = store.add_document(file_name="a.txt", sha256="a" * 64, size=1)
    result = run_cli("requeue", str(doc))
    assert result.returncode == 1
    assert "only failed or quarantined documents can be requeued" in result.stderr


def test_requeue_needs_an_id_or_all_failed() -> None:
    assert run_cli("requeue").returncode == 2


# A copy into the archive that is killed after its first megabyte reached the
# disk: the reader hands over patient text, then hangs until the kill.
_KILLED_COPY = """
import sys, time
from pathlib import Path
from edgebox.intake.archive import copy_into_archive

class Hangs:
    def __init__(self):
        self.reads = 0

    def read(self, size=-1):
        self.reads += 1
        if self.reads == 1:
            return b"Patient: A. Example, HIV positive. " * 30000
        print("copying", flush=True)
        time.sleep(600)
        return b""

copy_into_archive(Hangs(), Path(sys.argv[1]))
"""


def leave_a_killed_copy(archive_dir: Path) -> Path:
    """Kill a real copy into the archive with SIGKILL, as `kill -9` or a power
    cut would, and return the temporary file it leaves behind."""
    import signal
    import subprocess
    import sys

    copier = subprocess.Popen(
        [sys.executable, "-c", _KILLED_COPY, str(archive_dir)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert copier.stdout is not None
        assert copier.stdout.readline() == "copying\n"
    finally:
        copier.send_signal(signal.SIGKILL)
        copier.wait(timeout=60)
    (left,) = archive_dir.glob(".incoming-*")
    assert b"HIV positive" in left.read_bytes()
    return left


def test_a_copy_killed_mid_way_is_removed_when_the_service_starts(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    settings = fast_settings(monkeypatch)
    left = leave_a_killed_copy(settings.archive_dir)
    (settings.inbox_dir / "note.txt").write_text("Referral: cough for a week.")
    progress = Workers(settings, triage=False).run(until_idle=True)
    assert not left.exists()
    assert f"removed {left.name}: an unfinished archive copy" in caplog.text
    assert progress.ingested == 1  # and the archive works as before
    with Store(settings.db_path) as store:
        (doc,) = store.documents_in_state(DocState.EXTRACTED)
    archived = [p.name for p in settings.archive_dir.rglob("*") if p.is_file()]
    assert archived == [doc["sha256"]]


def test_a_refused_second_service_leaves_the_archive_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While a service holds the workspace, a file being copied in is its own:
    the refused one must not sweep it away."""
    from edgebox.service.lock import InstanceLock, ServiceRunning

    settings = fast_settings(monkeypatch)
    copying = leave_a_killed_copy(settings.archive_dir)  # as if under way
    with InstanceLock(settings.data_dir / "service.lock"):
        with pytest.raises(ServiceRunning):
            Workers(settings, triage=False).run(until_idle=True)
    assert copying.exists()
