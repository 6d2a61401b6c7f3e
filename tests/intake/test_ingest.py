"""Taking files from a real inbox folder: exactly once, never lost, junk ignored."""

from __future__ import annotations

import dataclasses
import errno
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePath

import pytest

from edgebox import config
from edgebox.intake import ingest
from edgebox.intake.archive import safe_name
from edgebox.intake.extract import Extraction
from edgebox.intake.ignore import inbox_files, is_ignored
from edgebox.intake.ingest import Ingestor
from edgebox.intake.stability import FileStabilityTracker
from edgebox.intake.watcher import InboxWatcher
from edgebox.service.pipeline import Pipeline, retry_delay_s
from edgebox.service.step import StepOutcome
from edgebox.store import DocState, Store
from tests.support.documents import encrypted_pdf, scanned_image, text_pdf
from tests.support.inbox import FlakyShareReads, drop, without_file_access


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
        handle.write(b" part two\n%%EOF\n")
    assert watcher.poll() == []
    clock.now = 3.0
    assert watcher.poll() == []  # changed at 1.5: quiet for only 1.5 s
    clock.now = 3.6
    assert watcher.poll() == [path]
    assert watcher.poll() == []  # in flight: not handed out twice
    watcher.done(path)


@pytest.mark.parametrize("name", ["scan.pdf", "scan.png"])
def test_a_scan_paused_between_pages_waits_for_its_end(
    settings: config.Config, tmp_path: Path, name: str
) -> None:
    """A scanner pausing between pages for longer than `quiet_s` leaves a file
    without its end marker: taken then, the rest of the scan would be written
    to a file already removed from the inbox."""
    clock = FakeClock()
    watcher = InboxWatcher(
        settings.inbox_dir, quiet_s=2.0, rescan_s=0.0, clock=clock, use_events=False
    )
    whole = made_scan(tmp_path / name)
    path = drop(settings, name, whole[: len(whole) // 2])
    assert watcher.poll() == []
    clock.now = 60.0
    assert watcher.poll() == []  # quiet for a minute, but not whole
    with path.open("ab") as handle:
        handle.write(whole[len(whole) // 2 :])
    clock.now = 61.0
    assert watcher.poll() == []  # changed: quiet for quiet_s first
    clock.now = 63.5
    assert watcher.poll() == [path]
    assert path.read_bytes() == whole


def test_an_unfinished_scan_is_taken_after_incomplete_wait_s(
    settings: config.Config, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A scan abandoned half-way is not kept waiting for ever: it is taken (and
    its extraction quarantines it as damaged) with one warning."""
    clock = FakeClock()
    watcher = InboxWatcher(
        settings.inbox_dir,
        quiet_s=2.0,
        rescan_s=0.0,
        incomplete_wait_s=300.0,
        clock=clock,
        use_events=False,
    )
    whole = made_scan(tmp_path / "scan.pdf")
    path = drop(settings, "scan.pdf", whole[:-200])
    assert watcher.poll() == []
    clock.now = 299.0
    assert watcher.poll() == []
    assert not caplog.records
    clock.now = 300.0
    assert watcher.poll() == [path]
    (said,) = [r.getMessage() for r in caplog.records]
    assert said == "taking scan.pdf, still without its end-of-file marker after 300 s"


def test_other_files_need_no_end_marker(settings: config.Config) -> None:
    """A text file, or a JPEG (phones write data after its end marker), is
    taken once quiet, as before."""
    clock = FakeClock()
    watcher = InboxWatcher(
        settings.inbox_dir, quiet_s=2.0, rescan_s=0.0, clock=clock, use_events=False
    )
    note = drop(settings, "note.txt", "Referral: fever.")
    photo = drop(settings, "photo.jpg", b"\xff\xd8\xff\xe0 half a photo")
    assert watcher.poll() == []
    clock.now = 2.0
    assert sorted(watcher.poll()) == [note, photo]


def made_scan(path: Path) -> bytes:
    """The bytes of a real PDF (text layer) or PNG (typed text), by suffix."""
    if path.suffix == ".pdf":
        text_pdf(path, ["Referral: fever for three days.", "Page two: plan."])
    else:
        scanned_image(path, ["Referral: fever for three days."])
    return path.read_bytes()


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


class Listing:
    """A folder listing taken in advance, used the way os.scandir's is."""

    def __init__(self, entries: list[os.DirEntry]) -> None:
        self.entries = iter(entries)

    def __enter__(self) -> Listing:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def __iter__(self) -> Listing:
        return self

    def __next__(self) -> os.DirEntry:
        return next(self.entries)


class VanishingFolder:
    """Fault injector for os.scandir: a subfolder that is there each time the
    scan lists its parent and gone when the scan goes into it (staff tidying
    folders away while a rescan runs)."""

    def __init__(self, victim: Path) -> None:
        self.victim = victim
        self.real = os.scandir

    def __call__(self, path: str | Path | int = ".") -> Listing:
        at_parent = not isinstance(path, int) and Path(path) == self.victim.parent
        if at_parent:
            self.victim.mkdir()
        with self.real(path) as listing:
            entries = list(listing)
        if at_parent:
            self.victim.rmdir()
        return Listing(entries)


def test_a_subfolder_deleted_during_a_scan_is_skipped(
    settings: config.Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    keep = drop(settings, "keep.txt", "stays")
    monkeypatch.setattr(os, "scandir", VanishingFolder(settings.inbox_dir / "batch"))
    assert inbox_files(settings.inbox_dir) == [keep]
    watcher = InboxWatcher(
        settings.inbox_dir, quiet_s=0.0, rescan_s=0.0, clock=FakeClock(),
        use_events=False,
    )  # fmt: skip
    assert watcher.poll() == [keep]


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


class PowerCut(Exception):
    """What the fault injector raises in place of the machine losing power."""


class PowerCutAfterCommit(Store):
    """Fault injector: the power goes right after the transaction that added a
    document commits, before its inbox file is removed or quarantined."""

    added = False

    def add_document(self, **row) -> int:
        self.added = True
        return super().add_document(**row)

    @contextmanager
    def atomic(self) -> Iterator[None]:
        outermost = not self.db.conn.in_transaction
        with super().atomic():
            yield
        if outermost and self.added:
            raise PowerCut


def test_after_a_crash_a_recorded_file_is_cleared_not_recorded_again(
    settings: config.Config, store: Store
) -> None:
    path = drop(settings, "note.txt", "words")
    with PowerCutAfterCommit(settings.db_path) as dying, pytest.raises(PowerCut):
        Ingestor(settings, dying).ingest(path)
    assert path.exists()
    again = Ingestor(settings, store).ingest(path)
    assert again.result == "cleared"
    assert store.counts_by_state()["received"] == 1
    assert not path.exists()


def test_the_same_file_dropped_again_with_its_mtime_is_a_duplicate(
    settings: config.Config, store: Store
) -> None:
    """cp -p and Explorer keep the mtime: a re-drop is not a crash's leftover."""
    ingestor = Ingestor(settings, store)
    first = ingestor.ingest(drop(settings, "referral.txt", "Referral for X."))
    mtime_ns = store.document(first.doc_id)["mtime_ns"]
    path = drop(settings, "referral.txt", "Referral for X.")
    os.utime(path, ns=(mtime_ns, mtime_ns))
    again = ingestor.ingest(path)
    assert again.result == "duplicate"
    doc = store.document(again.doc_id)
    assert (doc["state"], doc["duplicate_of"]) == ("duplicate", first.doc_id)
    assert [e["action"] for e in store.audit_log(again.doc_id)] == ["received"]
    assert not path.exists()


class RewrittenDuringCommit(Store):
    """Fault injector: the writer saves the file again while the ingestor
    commits (between its checks and its delete)."""

    def __init__(self, db_path: Path, *, target: Path, content: str) -> None:
        super().__init__(db_path)
        self.target, self.content = target, content

    def add_document(self, **row) -> int:
        doc_id = super().add_document(**row)
        self.target.write_text(self.content)
        return doc_id


def test_a_file_rewritten_while_being_taken_is_kept_and_taken_again(
    settings: config.Config,
) -> None:
    path = drop(settings, "lab.txt", "Hb 12.0 (draft)")
    corrected = "Hb 6.1 CORRECTED - transfuse"
    with RewrittenDuringCommit(
        settings.db_path, target=path, content=corrected
    ) as racing:
        Ingestor(settings, racing).ingest(path)
    assert path.read_text() == corrected  # not deleted with the draft
    with Store(settings.db_path) as store:
        assert Ingestor(settings, store).ingest(path).result == "recorded"
        read_only(settings, store).run_once()
        texts = [d["text"] for d in store.documents_in_state(DocState.EXTRACTED)]
    assert texts == ["Hb 12.0 (draft)", corrected]
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


def test_a_link_to_a_folder_is_refused_and_the_inbox_goes_idle(
    settings: config.Config, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "other.txt").write_text("another patient's note")
    (settings.inbox_dir / "shortcut").symlink_to(outside, target_is_directory=True)
    result = subprocess.run(
        [sys.executable, "-m", "edgebox", "watch", "--no-triage", "--until-idle"],
        capture_output=True,
        text=True,
        env={**os.environ, "EDGEBOX_INGEST_QUIET_S": "0"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    with Store(settings.db_path) as store:
        (doc,) = store.documents_in_state(DocState.QUARANTINED)
    assert (doc["file_name"], doc["error_code"]) == ("shortcut", "symlink")
    assert (outside / "other.txt").exists()  # never followed, never taken


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


def test_a_name_that_is_not_utf8_is_kept_under_a_printable_name(
    settings: config.Config, store: Store
) -> None:
    """A Latin-1 name from a Windows share or a USB stick (b"r\\xe9sultat")."""
    latin1 = settings.inbox_dir / os.fsdecode(b"r\xe9sultat.txt")
    latin1.write_text("Referral letter. Chest pain.")
    (settings.inbox_dir / os.fsdecode(b"vid\xe9.txt")).write_bytes(b"")
    drop(settings, "normal.txt", "Another note.")
    read_only(settings, store).run_once()
    docs = store.documents_in_state(*DocState)
    assert {d["file_name"]: d["state"] for d in docs} == {
        "r\ufffdsultat.txt": "extracted",
        "vid\ufffd.txt": "quarantined",
        "normal.txt": "extracted",
    }
    (empty,) = store.documents_in_state(DocState.QUARANTINED)
    assert sorted(p.name for p in settings.quarantine_dir.iterdir()) == [
        f"{empty['id']}-vid\ufffd.txt",
        f"{empty['id']}-vid\ufffd.txt.reason.txt",
    ]
    assert not list(settings.inbox_dir.iterdir())


LONG_NAME = "検" * 81 + ".txt"  # 247 bytes in UTF-8: legal, near the 255 limit


def quarantined_names(settings: config.Config) -> list[str]:
    names = sorted(p.name for p in settings.quarantine_dir.iterdir())
    assert all(len(name.encode()) <= 255 for name in names)
    return names


def test_a_long_name_fits_in_the_quarantine_folder(
    settings: config.Config, store: Store
) -> None:
    small = dataclasses.replace(
        settings, ingest=dataclasses.replace(settings.ingest, max_bytes=10)
    )
    outcome = Ingestor(small, store).ingest(drop(settings, LONG_NAME, "over 10 bytes"))
    assert outcome.result == "quarantined"
    moved, reason = quarantined_names(settings)
    assert moved.startswith(f"{outcome.doc_id}-検") and moved.endswith("検.txt")
    assert reason == moved + ".reason.txt"
    assert (settings.quarantine_dir / moved).read_text() == "over 10 bytes"
    drop(settings, LONG_NAME, b"\x00binary junk")  # quarantined by the worker
    read_only(settings, store).run_once()
    assert len(quarantined_names(settings)) == 4
    assert store.counts_by_state()["quarantined"] == 2


def test_a_crash_after_a_refusal_is_committed_never_records_it_twice(
    settings: config.Config, store: Store
) -> None:
    small = dataclasses.replace(
        settings, ingest=dataclasses.replace(settings.ingest, max_bytes=10)
    )
    path = drop(settings, "big.txt", "over 10 bytes")
    with PowerCutAfterCommit(settings.db_path) as dying, pytest.raises(PowerCut):
        Ingestor(small, dying).ingest(path)
    for _ in range(2):  # restarts
        Ingestor(small, store).ingest(path)
    (doc,) = store.documents_in_state(*DocState)
    assert doc["state"] == "quarantined"
    assert store.outbox_counts()["pending"] == 1
    assert quarantined_names(settings) == [
        f"{doc['id']}-big.txt",
        f"{doc['id']}-big.txt.reason.txt",
    ]
    assert not path.exists()


def test_an_unread_file_that_cannot_be_moved_stays_recorded_and_quiet(
    settings: config.Config,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A mode-000 file on an inbox on another file system: moving it into the
    quarantine means reading it. It stays (nothing else holds its content),
    is not logged at every scan, keeps no `--until-idle` waiting (it is stuck),
    and moves once it can."""
    from edgebox.intake import ingest

    small = dataclasses.replace(
        settings, ingest=dataclasses.replace(settings.ingest, max_bytes=10)
    )
    path = drop(settings, "big.txt", "over 10 bytes")
    real_move = ingest._InboxFile.move_to

    def cannot_move(self: object, target: Path) -> None:  # fault injector
        raise PermissionError(13, "Permission denied", str(target))

    monkeypatch.setattr(ingest._InboxFile, "move_to", cannot_move)
    stuck: dict = {}
    ingestor = Ingestor(small, store, stuck=stuck)
    first = ingestor.ingest(path)
    again = [ingestor.ingest(path).result for _ in range(3)]  # rescans
    assert first.result == "quarantined" and again == ["stuck"] * 3
    assert path in stuck and path.read_text() == "over 10 bytes"
    said = [r.getMessage() for r in caplog.records if "cannot move" in r.getMessage()]
    assert len(said) == 1 and "it stays in the inbox" in said[0]
    monkeypatch.setattr(ingest._InboxFile, "move_to", real_move)  # fixed
    assert ingestor.ingest(path).result == "cleared"
    assert not path.exists() and path not in stuck
    moved = settings.quarantine_dir / f"{first.doc_id}-big.txt"
    assert moved.read_text() == "over 10 bytes"
    assert len(store.documents_in_state(*DocState)) == 1


def test_safe_names_fit_with_any_id_in_255_bytes() -> None:
    for name in ("é" * 200 + ".pdf", "x" * 300, "検" * 85):
        cut = safe_name(name)
        assert len(f"{2**63}-{cut}.reason.txt".encode()) <= 255
        assert cut.endswith(".pdf") == name.endswith(".pdf")
    assert safe_name("scan (2).pdf") == "scan (2).pdf"


def test_quarantine_names_hold_no_line_break_nor_terminal_control() -> None:
    """C1 controls (\\x85 is a line break, \\x9b starts an escape) and the
    Unicode line separator too, not only ASCII controls."""
    assert safe_name("a\x85b\u2028c\x9b31m\x1b.txt") == "a_b_c_31m_.txt"


# -- bad input through the worker -------------------------------------------


def test_bad_files_are_quarantined_with_a_reason_and_others_go_on(
    settings: config.Config, store: Store, tmp_path: Path
) -> None:
    drop(settings, "empty.txt", b"")
    drop(settings, "junk.pdf", os.urandom(2048) + b"\x00")
    encrypted_pdf(settings.inbox_dir / "locked.pdf", ["Secret referral"])
    drop(settings, "good.txt", "Referral: cough for two weeks.")
    report = read_only(settings, store).run_once()
    assert (report.recorded, report.quarantined) == (3, 3)  # empty: at once
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


def test_copies_of_a_quarantined_document_are_quarantined_with_their_own_reason(
    settings: config.Config, store: Store
) -> None:
    junk = os.urandom(512) + b"\x00"
    for name, content in (("empty1.txt", b""), ("empty2.txt", b""),
                          ("junk1.bin", junk), ("junk2.bin", junk)):  # fmt: skip
        drop(settings, name, content)
    read_only(settings, store).run_once()  # junk2 is taken before junk1 is read
    drop(settings, "junk3.bin", junk)  # junk1 is quarantined by now
    read_only(settings, store).run_once()
    docs = {d["file_name"]: d for d in store.documents_in_state(*DocState)}
    assert {name: d["state"] for name, d in docs.items()} == dict.fromkeys(
        ["empty1.txt", "empty2.txt", "junk1.bin", "junk2.bin", "junk3.bin"],
        "quarantined",
    )
    assert docs["empty2.txt"]["error_message"] == "empty2.txt: the file is empty"
    for copy in ("junk2.bin", "junk3.bin"):
        assert docs[copy]["error_code"] == "unsupported"
        assert docs[copy]["error_message"].startswith(
            f"{copy}: same content as document {docs['junk1.bin']['id']}"
        )
    assert store.outbox_counts()["pending"] == 5  # one event each
    # junk2 was quarantined with junk1, by the worker: its reason file too.
    for name in ("empty1.txt", "empty2.txt", "junk1.bin", "junk2.bin", "junk3.bin"):
        reason = f"{docs[name]['id']}-{name}.reason.txt"
        assert name in (settings.quarantine_dir / reason).read_text()


def test_a_file_that_never_opens_is_quarantined_after_max_attempts(
    settings: config.Config,
) -> None:
    locked = drop(settings, "locked.txt", "Secret referral")
    locked.chmod(0)
    drop(settings, "ok.txt", "Readable note.")
    result = watch_without_file_access(locked, max_attempts=3)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("cannot read locked.txt yet") == 2
    with Store(settings.db_path) as store:
        (doc,) = store.documents_in_state(DocState.QUARANTINED)
        assert store.counts_by_state()["extracted"] == 1
    assert doc["error_code"] == "unreadable"
    assert doc["error_message"].startswith("locked.txt: cannot read the file")
    assert "Permission denied" in doc["error_message"]
    moved = settings.quarantine_dir / f"{doc['id']}-locked.txt"
    assert moved.stat().st_size == len("Secret referral")  # kept, never lost
    assert (
        "Permission denied" in moved.with_name(moved.name + ".reason.txt").read_text()
    )
    assert not list(settings.inbox_dir.iterdir())


def test_a_file_whose_reads_fail_after_it_opens_is_quarantined_after_max_attempts(
    settings: config.Config, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read error is the file's, like a failed open: counted, and after
    `max_attempts` quarantined with its reason. It used to be taken for the
    archive's trouble and retried for ever."""
    real_open = ingest._InboxFile.open
    monkeypatch.setattr(
        ingest._InboxFile,
        "open",
        lambda self, info: FlakyShareReads(real_open(self, info)),
    )
    path = drop(settings, "scan.pdf", b"%PDF-1.4 referral")
    ingestor = Ingestor(settings, store)
    tries = [ingestor.ingest(path).result for _ in range(settings.ingest.max_attempts)]
    assert tries == ["locked"] * (settings.ingest.max_attempts - 1) + ["quarantined"]
    (doc,) = store.documents_in_state(DocState.QUARANTINED)
    assert doc["error_code"] == "unreadable"
    assert doc["error_message"] == (
        f"scan.pdf: cannot read the file (Input/output error),"
        f" {settings.ingest.max_attempts} tries; copy it again from its source"
    )
    moved = settings.quarantine_dir / f"{doc['id']}-scan.pdf"
    assert moved.read_bytes() == b"%PDF-1.4 referral"  # moved whole, never lost
    assert not path.exists()


def test_an_archive_that_cannot_be_written_never_quarantines_the_file(
    settings: config.Config, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The archive's own trouble (a read-only remount) is the box's, not the
    file's: the file waits in the inbox however often it is tried."""

    def read_only_archive(reader: object, archive: Path) -> None:  # fault injector
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(ingest, "copy_into_archive", read_only_archive)
    path = drop(settings, "scan.txt", "Referral: fever.")
    ingestor = Ingestor(settings, store)
    tries = {ingestor.ingest(path).result for _ in range(settings.ingest.max_attempts)}
    assert tries == {"locked"} and path.exists()
    assert not any(store.counts_by_state().values())


FORGED = "a\nERROR forged line.txt"


def test_a_name_cannot_forge_log_lines(settings: config.Config) -> None:
    """A file named to add a line to the service log is logged escaped, as
    repr shows it: one file, one log line."""
    locked = drop(settings, FORGED, "Secret referral")
    locked.chmod(0)
    result = watch_without_file_access(locked, max_attempts=2)
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stderr.splitlines() if "forged" in line]
    assert "WARNING cannot read a\\nERROR forged line.txt yet (1/2)" in line
    with Store(settings.db_path) as store:
        (doc,) = store.documents_in_state(DocState.QUARANTINED)
    assert doc["file_name"] == FORGED  # stored as it is; escaped only when logged
    assert quarantined_names(settings) == [
        f"{doc['id']}-a_ERROR forged line.txt",
        f"{doc['id']}-a_ERROR forged line.txt.reason.txt",
    ]


def watch_without_file_access(
    locked: Path, *, max_attempts: int
) -> subprocess.CompletedProcess:
    """`edgebox watch --until-idle` by a root that meets `locked` as a mode-000
    file, its rescans quick and its tries `max_attempts`."""
    return subprocess.run(
        without_file_access(
            [sys.executable, "-m", "edgebox", "watch", "--no-triage", "--until-idle"],
            locked,
        ),
        capture_output=True,
        text=True,
        env={**os.environ, "EDGEBOX_INGEST_QUIET_S": "0",
             "EDGEBOX_INGEST_RESCAN_S": "0.2",
             "EDGEBOX_INGEST_MAX_ATTEMPTS": str(max_attempts)},
        timeout=120,
    )  # fmt: skip


class FlakyExtractor:
    """Fault injector: fails transiently `failures` times, then reads the file."""

    def __init__(self, failures: int) -> None:
        self.failures = failures

    def extract(self, path: Path, *, stop: threading.Event | None = None) -> Extraction:
        from edgebox.errors import ExtractError

        if self.failures:
            self.failures -= 1
            raise ExtractError(f"{path}: OCR took too long", code="ocr_timeout",
                               permanent=False)  # fmt: skip
        return Extraction(path.read_text())

    def in_process(self, path: Path) -> bool:
        return True  # read here, at once: the pipeline calls `extract`

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
    assert pipeline.step().outcome is StepOutcome.FAILED
    assert store.document(doc["id"])["attempts"] == 2
    clock.now += retry_delay_s(2)
    assert pipeline.step().outcome is StepOutcome.EXTRACTED
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


def test_a_retry_set_by_a_clock_since_corrected_is_not_stranded(
    settings: config.Config, store: Store
) -> None:
    """A box without a real-time clock boots a year ahead, then NTP corrects
    it: a retry set meanwhile must not wait for next year."""
    clock = FakeClock()
    clock.now = 1_000_000.0 + 365 * 86400  # a year ahead
    pipeline = Pipeline(settings, store, triage=False, clock=clock)
    pipeline.extractor = FlakyExtractor(failures=1)
    drop(settings, "scan.txt", "Typed referral")
    pipeline.run_once()
    (doc,) = store.documents_in_state(DocState.FAILED)
    clock.now = 1_000_000.0  # corrected
    assert pipeline.step().outcome is StepOutcome.EXTRACTED


def test_backoff_doubles_and_is_capped() -> None:
    assert [retry_delay_s(n, base=30, cap=200) for n in (1, 2, 3, 4, 5)] == [
        30, 60, 120, 200, 200,
    ]  # fmt: skip


def test_an_inbox_file_that_cannot_be_removed_is_recorded_once(
    settings: config.Config, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only share: the file is recorded, stays, and is recognised at
    every scan instead of being recorded again (nor stopping the service)."""
    path = drop(settings, "scan.txt", "Referral: fever.")
    real_unlink = os.unlink

    def read_only_share(name: str, *, dir_fd: int | None = None) -> None:  # fault
        if name == path.name and dir_fd is not None:  # removed inside its folder
            raise PermissionError(13, "Permission denied", name)
        real_unlink(name, dir_fd=dir_fd)

    monkeypatch.setattr(os, "unlink", read_only_share)
    ingestor = Ingestor(settings, store)
    first, again = ingestor.ingest(path), ingestor.ingest(path)
    assert (first.result, again.result) == ("recorded", "stuck")
    later = Ingestor(settings, store).ingest(path)  # another run (`process`)
    assert (later.result, later.doc_id) == ("stuck", first.doc_id) and path.exists()
    monkeypatch.setattr(os, "unlink", real_unlink)  # permissions fixed, live
    assert ingestor.ingest(path).result == "cleared" and not path.exists()
    assert store.document(first.doc_id)["inbox_cleared_at"]
    assert store.counts_by_state()["received"] == 1


def test_requeuing_a_copy_sends_back_its_first_and_keeps_the_copy_a_duplicate(
    settings: config.Config, store: Store
) -> None:
    """Once the cause is fixed (OCR installed), copies of one document are read
    and triaged once, not once each."""
    junk = os.urandom(512) + b"\x00"
    drop(settings, "scan1.bin", junk)
    drop(settings, "scan2.bin", junk)
    read_only(settings, store).run_once()
    first, copy = sorted(
        store.documents_in_state(DocState.QUARANTINED), key=lambda d: d["id"]
    )
    assert copy["duplicate_of"] == first["id"]
    requeued = store.requeue(copy["id"])
    assert {doc["id"] for doc in requeued} == {first["id"], copy["id"]}
    assert store.document(first["id"])["state"] == DocState.RECEIVED
    assert store.document(copy["id"])["state"] == DocState.DUPLICATE
    assert store.document(copy["id"])["error_message"] is None
