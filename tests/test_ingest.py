"""Taking files from a real inbox folder: exactly once, never lost, junk ignored."""

import os
from pathlib import Path, PurePath

import pytest

from edgebox import config
from edgebox.ignore import is_ignored
from edgebox.ingest import Ingestor
from edgebox.pipeline import Pipeline, retry_delay_s
from edgebox.stability import FileStabilityTracker
from edgebox.store import DocState, Store
from edgebox.watcher import InboxWatcher
from tests.documents import encrypted_pdf


@pytest.fixture
def settings(edgebox_home: Path) -> config.Config:
    loaded = config.load()
    loaded.inbox_dir.mkdir(parents=True)
    return loaded


@pytest.fixture
def store(settings: config.Config) -> Store:
    with Store(settings.db_path) as opened:
        yield opened


def drop(settings: config.Config, name: str, content: bytes | str) -> Path:
    path = settings.inbox_dir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    return path


def read_only(settings: config.Config, store: Store) -> Pipeline:
    """The pipeline without triage: what is tested here is ingestion."""
    return Pipeline(settings, store, triage=False)


# -- stability and ignore list ----------------------------------------------


def test_a_file_is_ready_only_after_a_quiet_period() -> None:
    tracker = FileStabilityTracker(quiet_s=2.0)
    path = Path("/inbox/scan.pdf")
    tracker.observe(path, size=100, mtime_ns=1, now=0.0)
    assert tracker.ready(1.9) == []
    tracker.observe(path, size=200, mtime_ns=2, now=1.5)  # the scanner wrote more
    assert tracker.ready(3.4) == []
    tracker.observe(path, size=200, mtime_ns=2, now=3.0)  # unchanged: the wait goes on
    assert tracker.ready(3.5) == [path]
    tracker.forget(path)
    assert tracker.ready(10.0) == []


def test_an_mtime_change_alone_restarts_the_wait() -> None:
    tracker = FileStabilityTracker(quiet_s=1.0)
    path = Path("/inbox/a.txt")
    tracker.observe(path, size=5, mtime_ns=1, now=0.0)
    tracker.observe(path, size=5, mtime_ns=9, now=0.8)
    assert tracker.ready(1.5) == []
    assert tracker.ready(1.8) == [path]


@pytest.mark.parametrize(
    "name",
    [".DS_Store", "._scan.pdf", "Thumbs.db", "~$letter.docx", "a.tmp", "scan.pdf.part",
     ".hidden/inner.txt", "notes.txt.reason.txt"],
)  # fmt: skip
def test_junk_is_ignored(name: str) -> None:
    assert is_ignored(PurePath(name))


def test_user_patterns_add_to_the_defaults() -> None:
    assert not is_ignored(PurePath("scan.bak"))
    assert is_ignored(PurePath("scan.bak"), ["*.bak"])
    assert is_ignored(PurePath(".DS_Store"), ["*.bak"])
    assert not is_ignored(PurePath("referral.pdf"), ["*.bak"])


# -- the watcher, driven by its own clock -----------------------------------


class FakeClock:
    """A clock the test moves by hand (the point of these tests)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_file_still_being_written_is_not_taken(settings: config.Config) -> None:
    clock = FakeClock()
    watcher = InboxWatcher(
        settings.inbox_dir, quiet_s=2.0, rescan_s=0.0, clock=clock, use_events=False
    )
    path = drop(settings, "scan.pdf", b"%PDF-1.4 part one")
    assert watcher.poll() == []
    clock.now = 1.5
    with path.open("ab") as handle:
        handle.write(b" part two")
    assert watcher.poll() == []
    clock.now = 3.0
    assert watcher.poll() == []  # changed at 1.5: quiet for only 1.5 s
    clock.now = 3.6
    assert watcher.poll() == [path]
    assert watcher.poll() == []  # in flight: not handed out twice
    watcher.done(path)


def test_rescan_finds_files_without_events(settings: config.Config) -> None:
    clock = FakeClock()
    watcher = InboxWatcher(
        settings.inbox_dir, quiet_s=0.0, rescan_s=30.0, clock=clock, use_events=False
    )
    assert watcher.poll() == []  # the scan at start
    path = drop(settings, "sub/dir/late.txt", "text")
    clock.now = 10.0
    assert watcher.poll() == []  # no event, no rescan yet
    clock.now = 30.0
    assert watcher.poll() == [path]


# -- recording ---------------------------------------------------------------


def test_a_file_is_archived_recorded_and_cleared(
    settings: config.Config, store: Store
) -> None:
    path = drop(settings, "note.txt", "Patient well.")
    outcome = Ingestor(settings, store).ingest(path)
    assert outcome.result == "recorded"
    doc = store.document(outcome.doc_id)
    assert (doc["state"], doc["file_name"], doc["relative_path"]) == (
        "received",
        "note.txt",
        "note.txt",
    )
    archived = Path(doc["archive_path"])
    assert archived.read_text() == "Patient well."
    assert archived.name == doc["sha256"]
    assert not path.exists()


def test_the_same_content_twice_is_a_duplicate_not_triaged_again(
    settings: config.Config, store: Store
) -> None:
    ingestor = Ingestor(settings, store)
    first = ingestor.ingest(drop(settings, "a.txt", "same words"))
    second = ingestor.ingest(drop(settings, "b.txt", "same words"))
    third = ingestor.ingest(drop(settings, "a.txt", "same words"))  # dropped again
    assert [o.result for o in (first, second, third)] == [
        "recorded",
        "duplicate",
        "duplicate",
    ]
    for outcome in (second, third):
        doc = store.document(outcome.doc_id)
        assert (doc["state"], doc["duplicate_of"]) == ("duplicate", first.doc_id)
    assert len(list(settings.archive_dir.rglob("*"))) == 2  # one folder, one file


def test_after_a_crash_a_recorded_file_is_cleared_not_recorded_again(
    settings: config.Config, store: Store
) -> None:
    path = drop(settings, "note.txt", "words")
    kept = path.read_bytes()
    first = Ingestor(settings, store).ingest(path)
    # The crash: the transaction committed but the file was not yet removed.
    path.write_bytes(kept)
    os.utime(path, ns=(store.document(first.doc_id)["mtime_ns"],) * 2)
    again = Ingestor(settings, store).ingest(path)
    assert (again.result, again.doc_id) == ("cleared", first.doc_id)
    assert store.counts_by_state()["received"] == 1
    assert not path.exists()


def test_a_file_deleted_before_the_read_is_simply_gone(
    settings: config.Config, store: Store
) -> None:
    path = drop(settings, "ghost.txt", "x")
    path.unlink()
    assert Ingestor(settings, store).ingest(path).result == "gone"
    assert store.counts_by_state() == {state.value: 0 for state in DocState}


def test_a_symlink_is_never_followed(
    settings: config.Config, store: Store, tmp_path: Path
) -> None:
    secret = tmp_path / "outside.txt"
    secret.write_text("not for the inbox")
    link = settings.inbox_dir / "link.txt"
    link.symlink_to(secret)
    outcome = Ingestor(settings, store).ingest(link)
    doc = store.document(outcome.doc_id)
    assert (doc["state"], doc["error_code"], doc["sha256"]) == (
        "quarantined",
        "symlink",
        "",
    )
    assert secret.read_text() == "not for the inbox"
    assert not link.is_symlink()
    reason = settings.quarantine_dir / f"{doc['id']}-link.txt.reason.txt"
    assert "symbolic link is never followed" in reason.read_text()
    assert not list(settings.archive_dir.rglob("*"))


def test_a_huge_file_is_quarantined_without_being_read(
    settings: config.Config, store: Store
) -> None:
    path = settings.inbox_dir / "huge.pdf"
    with path.open("wb") as handle:
        handle.truncate(2 * 1024**3)  # sparse 2 GB
    outcome = Ingestor(settings, store).ingest(path)
    doc = store.document(outcome.doc_id)
    assert (doc["state"], doc["error_code"], doc["sha256"]) == (
        "quarantined",
        "too_large",
        "",
    )
    moved = settings.quarantine_dir / f"{doc['id']}-huge.pdf"
    assert moved.stat().st_size == 2 * 1024**3  # kept whole, never lost
    assert not path.exists()
    assert not settings.archive_dir.exists() or not list(
        settings.archive_dir.rglob("*")
    )


def test_odd_file_names_are_kept_and_made_safe(
    settings: config.Config, store: Store
) -> None:
    name = "réf é ..\nscan (2).txt"
    path = drop(settings, name, "")  # empty: ends in quarantine with a safe name
    outcome = Ingestor(settings, store).ingest(path)
    assert store.document(outcome.doc_id)["file_name"] == name
    read_only(settings, store).run_once()
    files = sorted(p.name for p in settings.quarantine_dir.iterdir())
    assert files == [f"{outcome.doc_id}-réf é __scan (2).txt",
                     f"{outcome.doc_id}-réf é __scan (2).txt.reason.txt"]  # fmt: skip


# -- bad input through the worker -------------------------------------------


def test_bad_files_are_quarantined_with_a_reason_and_others_go_on(
    settings: config.Config, store: Store, tmp_path: Path
) -> None:
    drop(settings, "empty.txt", b"")
    drop(settings, "junk.pdf", os.urandom(2048) + b"\x00")
    encrypted_pdf(settings.inbox_dir / "locked.pdf", ["Secret referral"])
    drop(settings, "good.txt", "Referral: cough for two weeks.")
    report = read_only(settings, store).run_once()
    assert (report.recorded, report.quarantined) == (4, 3)
    codes = {
        doc["file_name"]: doc["error_code"]
        for doc in store.documents_in_state(DocState.QUARANTINED)
    }
    assert codes == {
        "empty.txt": "empty",
        "junk.pdf": "unsupported",
        "locked.pdf": "encrypted",
    }
    (good,) = store.documents_in_state(DocState.EXTRACTED)
    assert good["text"] == "Referral: cough for two weeks."
    for doc in store.documents_in_state(DocState.QUARANTINED):
        copy = settings.quarantine_dir / f"{doc['id']}-{doc['file_name']}"
        reason = copy.with_name(copy.name + ".reason.txt").read_text()
        assert doc["file_name"] in reason and doc["error_code"] in reason
        assert copy.read_bytes() == Path(doc["archive_path"]).read_bytes()
    assert not list(settings.inbox_dir.iterdir())
    assert store.outbox_counts()["pending"] == 3  # the central server hears of them


class FlakyExtractor:
    """Fault injector: fails transiently `failures` times, then reads the file."""

    def __init__(self, failures: int) -> None:
        self.failures = failures

    def extract(self, path: Path) -> str:
        from edgebox.errors import ExtractError

        if self.failures:
            self.failures -= 1
            raise ExtractError(f"{path}: OCR took too long", code="ocr_timeout",
                               permanent=False)  # fmt: skip
        return path.read_text()

    def close(self) -> None:
        pass


def test_transient_failures_retry_with_backoff(
    settings: config.Config, store: Store
) -> None:
    clock = FakeClock()
    clock.now = 1_000_000.0
    pipeline = Pipeline(settings, store, triage=False, clock=clock)
    pipeline.extractor = FlakyExtractor(failures=2)
    drop(settings, "scan.txt", "Typed referral")
    pipeline.run_once()
    (doc,) = store.documents_in_state(DocState.FAILED)
    assert (doc["attempts"], doc["error_code"]) == (1, "ocr_timeout")
    assert "scan.txt" in doc["error_message"]
    assert pipeline.step() is None  # not due yet
    clock.now += retry_delay_s(1)
    assert pipeline.step()[1] == "failed"
    assert store.document(doc["id"])["attempts"] == 2
    clock.now += retry_delay_s(2)
    assert pipeline.step()[1] == "extracted"
    assert store.document(doc["id"])["text"] == "Typed referral"


def test_transient_failures_end_in_quarantine_after_max_attempts(
    settings: config.Config, store: Store
) -> None:
    clock = FakeClock()
    pipeline = Pipeline(settings, store, triage=False, clock=clock)
    pipeline.extractor = FlakyExtractor(failures=100)
    drop(settings, "scan.txt", "x")
    pipeline.run_once()
    for attempt in range(1, settings.ingest.max_attempts):
        clock.now += retry_delay_s(attempt)
        pipeline.step()
    (doc,) = store.documents_in_state(DocState.QUARANTINED)
    assert doc["error_code"] == "ocr_timeout"


def test_backoff_doubles_and_is_capped() -> None:
    assert [retry_delay_s(n, base=30, cap=200) for n in (1, 2, 3, 4, 5)] == [
        30, 60, 120, 200, 200,
    ]  # fmt: skip
