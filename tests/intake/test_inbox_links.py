"""Links in the inbox, parent folders included: nothing outside it is ever read,
archived or removed, even when a folder is swapped for a link after its file
was seen (the security audit's `mv sub sub.old; ln -s ../outside sub`)."""

import dataclasses
import os
from pathlib import Path

import pytest

from edgebox import config
from edgebox.intake.ingest import Ingestor
from edgebox.intake.watcher import InboxWatcher
from edgebox.store import DocState, Store

SECRET = "outside file, must not be touched"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder next to the inbox holding a file someone wants taken."""
    folder = tmp_path / "outside3"
    folder.mkdir()
    (folder / "notes.txt").write_text(SECRET)
    return folder


def drop_in_subfolder(settings: config.Config, content: str) -> Path:
    path = settings.inbox_dir / "sub" / "notes.txt"
    path.parent.mkdir()
    path.write_text(content)
    return path


def swap_for_link(folder: Path, target: Path) -> None:
    """What the audit did: the seen folder renamed away, a link in its place."""
    folder.rename(folder.with_name(folder.name + ".old"))
    folder.symlink_to(target, target_is_directory=True)


def archived_texts(settings: config.Config) -> list[str]:
    return [p.read_text() for p in settings.archive_dir.rglob("*") if p.is_file()]


def assert_untouched(outside: Path, settings: config.Config) -> None:
    assert (outside / "notes.txt").read_text() == SECRET
    assert SECRET not in archived_texts(settings)
    quarantined = [p for p in settings.quarantine_dir.rglob("*") if p.is_file()]
    assert all(SECRET not in p.read_text() for p in quarantined)


@pytest.mark.parametrize("max_bytes", [None, 10], ids=["read", "too-large"])
def test_a_folder_swapped_for_a_link_after_its_file_was_seen_is_refused(
    settings: config.Config,
    store: Store,
    outside: Path,
    max_bytes: int | None,
) -> None:
    """Read, it would be archived and deleted; too large, moved into the
    quarantine. Either way only the link is refused, and removed."""
    if max_bytes is not None:
        ingest = dataclasses.replace(settings.ingest, max_bytes=max_bytes)
        settings = dataclasses.replace(settings, ingest=ingest)
    path = drop_in_subfolder(settings, "x")  # seen while a real folder
    swap_for_link(path.parent, outside)
    outcome = Ingestor(settings, store).ingest(path)
    assert_untouched(outside, settings)
    (doc,) = store.documents_in_state(*DocState)
    assert (doc["relative_path"], doc["state"], doc["error_code"]) == (
        "sub",
        "quarantined",
        "symlink",
    )
    assert (outcome.path, outcome.result, outcome.doc_id) == (
        path,
        "quarantined",
        doc["id"],
    )
    reason = settings.quarantine_dir / f"{doc['id']}-sub.reason.txt"
    assert reason.read_text().startswith("sub: a symbolic link is never followed")
    assert not (settings.inbox_dir / "sub").is_symlink()
    assert (settings.inbox_dir / "sub.old" / "notes.txt").read_text() == "x"


class SwapBeforeTheRead(Store):
    """Fault injector: between the ingestor's look at the file (lstat) and
    its read, the file is replaced by a link to the outside file, with the
    same size and mtime as the file that was looked at."""

    def __init__(self, db_path: Path, *, target: Path, outside: Path) -> None:
        super().__init__(db_path)
        self.target, self.outside = target, outside

    def find_recorded_file(self, **row) -> dict | None:
        if not self.target.is_symlink():
            self.target.unlink()
            self.target.symlink_to(self.outside)
        return super().find_recorded_file(**row)


def test_a_file_swapped_for_a_link_after_the_look_is_never_read(
    settings: config.Config, outside: Path
) -> None:
    secret = outside / "notes.txt"
    path = settings.inbox_dir / "notes.txt"
    path.write_text("x" * len(SECRET))
    stamp = secret.stat().st_mtime_ns
    os.utime(path, ns=(stamp, stamp))
    with SwapBeforeTheRead(settings.db_path, target=path, outside=secret) as racing:
        first = Ingestor(settings, racing).ingest(path)
    assert first.result == "changed"  # looked at again, as the link it is now
    assert_untouched(outside, settings)
    with Store(settings.db_path) as store:
        again = Ingestor(settings, store).ingest(path)
        doc = store.document(again.doc_id)
    assert (again.result, doc["error_code"], doc["sha256"]) == (
        "quarantined",
        "symlink",
        "",
    )
    assert_untouched(outside, settings)
    assert not path.is_symlink()


class SwapBeforeTheRemoval(Store):
    """Fault injector: after the file is read and while its document is added,
    its folder is swapped for a link to a folder holding a file of the same
    name, size and mtime."""

    def __init__(self, db_path: Path, *, folder: Path, outside: Path) -> None:
        super().__init__(db_path)
        self.folder, self.outside = folder, outside

    def add_document(self, **row) -> int:
        doc_id = super().add_document(**row)
        swap_for_link(self.folder, self.outside)
        return doc_id


def test_a_folder_swapped_for_a_link_before_the_removal_removes_only_its_file(
    settings: config.Config, outside: Path
) -> None:
    path = drop_in_subfolder(settings, "y" * len(SECRET))
    stamp = (outside / "notes.txt").stat().st_mtime_ns
    os.utime(path, ns=(stamp, stamp))
    with SwapBeforeTheRemoval(
        settings.db_path, folder=path.parent, outside=outside
    ) as racing:
        outcome = Ingestor(settings, racing).ingest(path)
    assert outcome.result == "recorded"
    assert_untouched(outside, settings)
    assert archived_texts(settings) == ["y" * len(SECRET)]
    assert not (settings.inbox_dir / "sub.old" / "notes.txt").exists()  # the one read


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_watcher_drops_a_seen_file_once_its_folder_is_a_link(
    settings: config.Config, outside: Path
) -> None:
    clock = FakeClock()
    watcher = InboxWatcher(
        settings.inbox_dir, quiet_s=1.0, rescan_s=0.0, clock=clock, use_events=False
    )
    path = drop_in_subfolder(settings, "x")
    assert watcher.poll() == []  # seen, not quiet yet
    swap_for_link(path.parent, outside)
    clock.now = 5.0
    assert watcher.poll() == []  # the link and the renamed folder: just seen
    clock.now = 7.0
    inbox = settings.inbox_dir
    assert sorted(watcher.poll()) == [inbox / "sub", inbox / "sub.old" / "notes.txt"]
    assert path not in watcher.tracked()


def test_an_inbox_that_is_a_link_to_a_scanner_mount_works(
    edgebox_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`inbox -> /mnt/scanner` is a common set-up: the link is the operator's,
    its files are the inbox's. It used to be recorded (and deleted) as a link,
    then to be waited on forever."""
    from edgebox.service.workers import Workers

    scanner = tmp_path / "scanner"
    (scanner / "sub").mkdir(parents=True)
    (scanner / "s1.txt").write_text("Referral one.")
    (scanner / "sub" / "s2.txt").write_text("Referral two.")
    edgebox_home.mkdir(parents=True, exist_ok=True)
    (edgebox_home / "inbox").symlink_to(scanner, target_is_directory=True)
    monkeypatch.setenv("EDGEBOX_INGEST_QUIET_S", "0.1")
    settings = config.load()
    progress = Workers(settings, triage=False).run(until_idle=True)
    assert progress.ingested == 2 and progress.quarantined == 0
    assert (edgebox_home / "inbox").is_symlink()  # the operator's link stays
    assert [p for p in scanner.rglob("*") if p.is_file()] == []
    with Store(settings.db_path) as store:
        taken = store.documents_in_state(DocState.EXTRACTED)
    assert sorted(d["relative_path"] for d in taken) == ["s1.txt", "sub/s2.txt"]


def test_a_subfolder_that_cannot_be_entered_waits_and_stops_nothing(
    settings: config.Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`chmod 644 inbox/nox`: its names can be listed, its files not looked at
    (EACCES); `Path.is_file()` raised and stopped the service at start."""
    from edgebox.intake.ignore import inbox_files

    locked = settings.inbox_dir / "nox"
    locked.mkdir()
    (locked / "n.txt").write_text("behind a folder without search permission")
    (settings.inbox_dir / "ok.txt").write_text("Referral.")
    real_stat, real_lstat = Path.stat, Path.lstat

    def no_search(real):  # fault injector: root ignores modes, so EACCES is made
        def look(self: Path, *args: object, **kwargs: object) -> os.stat_result:
            if self.parent == locked:
                raise PermissionError(13, "Permission denied", str(self))
            return real(self, *args, **kwargs)

        return look

    monkeypatch.setattr(Path, "stat", no_search(real_stat))
    monkeypatch.setattr(Path, "lstat", no_search(real_lstat))
    assert inbox_files(settings.inbox_dir) == [settings.inbox_dir / "ok.txt"]
    watcher = InboxWatcher(settings.inbox_dir, quiet_s=0.0, rescan_s=0.0,
                           use_events=False)  # fmt: skip
    handed_out = watcher.poll() + watcher.poll()
    assert handed_out == [settings.inbox_dir / "ok.txt"]
