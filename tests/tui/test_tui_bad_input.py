"""Bad input never crashes the UI: empty stores, huge or missing text, markup
and control characters in summaries, and store files that cannot be used."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from edgebox import config
from edgebox.store import Store
from edgebox.tui.document import DocumentScreen
from edgebox.tui.queue import QueueScreen, QueueTable
from tests.support.paths import REPO
from tests.support.processes import as_unprivileged, run_cli
from tests.support.tui import make_app, screen_dump, screen_text, seed, until

pytestmark = pytest.mark.anyio

HOSTILE = (
    "[bold]loud[/] [link=https://evil.example]click[/link] [/] "
    "\x1b[31mred\x1b[0m bell\x07 \u202eevil"
)


def one(text: str | None, summary: str, name: str = "odd.txt") -> dict:
    return {
        "file": name,
        "text": text,
        "at": "2025-03-04T10:00:00+00:00",
        "result": {
            "category": "letter",
            "urgency": "urgent",
            "summary": summary,
            "red_flags": [{"sign": "[red]x[/red]", "source": "llm"}],
            "fields": {"patient_ref": "[b]P-1[/b]"},
            "needs_review": True,
        },
    }


async def test_an_empty_store_shows_where_documents_come_from(
    settings: config.Config, utc: None
) -> None:
    app = make_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "No documents yet" in screen_text(app))
        assert app.screen.query_one(QueueTable).row_count == 0
        await pilot.press("enter", "r", "s")  # nothing selected: nothing breaks
        await until(pilot, lambda: "never reported" in screen_text(app))


async def test_markup_and_control_characters_are_shown_literally(
    settings: config.Config, utc: None
) -> None:
    with Store(settings.db_path) as store:
        seed(store, [one("[bold]text[/bold] \x1b]0;title\x07", HOSTILE)])
    app = make_app(settings, refresh_s=60)
    async with app.run_test(size=(160, 40)) as pilot:
        await until(pilot, lambda: app.screen.query_one(QueueTable).row_count == 1)
        queue = screen_dump(app)
        assert "[bold]loud[/] [link=https://evil.example]click[/link] [/]" in queue
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DocumentScreen))
        await until(pilot, lambda: "[b]P-1[/b]" in screen_dump(app))
        page = screen_dump(app)
        assert "[link=https://evil.example]click[/link]" in page
        assert "*  [red]x[/red] (llm)" in page
        assert "[bold]text[/bold]" in page
        for control in ("\x1b", "\x07", "\u202e"):
            assert control not in queue + page
        assert "\N{REPLACEMENT CHARACTER}[31mred" in page


async def test_a_huge_text_and_a_missing_text_open(
    settings: config.Config, utc: None
) -> None:
    huge = ("Fever and cough for three days. " * 1700)[:50_000] + "THE END"
    with Store(settings.db_path) as store:
        seed(store, [one(huge, "long", "long.txt"), one(None, "empty", "none.txt")])
    app = make_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.screen.query_one(QueueTable).row_count == 2)
        await pilot.press("enter")
        await until(pilot, lambda: "THE END" in screen_text(app))
        await pilot.press("end")  # the text scrolls to its end
        await until(pilot, lambda: "THE END" in screen_dump(app))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, QueueScreen))
        await pilot.press("down", "enter")
        await until(pilot, lambda: "(no text was extracted)" in screen_text(app))


def test_not_sqlite_is_one_clear_line_and_no_traceback(
    settings: config.Config,
) -> None:
    settings.db_path.parent.mkdir(parents=True)
    settings.db_path.write_bytes(b"%PDF-1.7 not a database at all\n" * 100)
    result = run_cli("--home", str(settings.home), "tui")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        f"error: cannot open the store {settings.db_path}: "
        "it is not an edgebox database (not an SQLite file)"
    )


@pytest.mark.parametrize("command", ["queue", "tui"])
def test_another_programs_sqlite_file_is_refused_and_left_untouched(
    settings: config.Config, command: str
) -> None:
    """A plain SQLite file with tables of its own (a mistyped path, another
    program's file): edgebox used to add its 14 tables to it."""
    settings.db_path.parent.mkdir(parents=True)
    foreign = sqlite3.connect(settings.db_path)
    foreign.execute("CREATE TABLE stock (item TEXT, count INTEGER)")
    foreign.commit()
    foreign.close()
    before = settings.db_path.read_bytes()
    result = run_cli("--home", str(settings.home), command)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        f"error: {settings.db_path} is not an edgebox database (it holds other"
        " tables: stock); edgebox leaves it untouched"
    )
    assert settings.db_path.read_bytes() == before
    assert not settings.db_path.with_name("edgebox.db-wal").exists()


def test_an_empty_sqlite_file_becomes_a_store(settings: config.Config) -> None:
    settings.db_path.parent.mkdir(parents=True)
    sqlite3.connect(settings.db_path).close()  # zero bytes: new
    with Store(settings.db_path) as store:
        assert "documents" in store.db.table_names()


def test_a_locked_store_is_one_clear_line(settings: config.Config) -> None:
    with Store(settings.db_path) as store:
        store.db.execute("PRAGMA journal_mode=DELETE")  # WAL would let readers in
    locker = sqlite3.connect(settings.db_path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        result = run_cli("--home", str(settings.home), "tui")
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert str(settings.db_path) in result.stderr
    assert "locked by another program" in result.stderr


def test_a_read_only_store_opens_read_only(shared_home: Path) -> None:
    settings = config.load(shared_home)
    with Store(settings.db_path) as store:
        seed(store, [one("text", "still readable")])
    settings.db_path.chmod(0o444)
    settings.db_path.parent.chmod(0o555)
    probe = (
        "import sys; from pathlib import Path;"
        "from edgebox.tui.snapshots import open_store;"
        "opener = open_store(Path(sys.argv[1]));"
        "store = opener(); rows = store.queue_page();"
        "print(opener.read_only, rows[0]['summary'])"
    )
    result = subprocess.run(
        as_unprivileged([sys.executable, "-c", probe, str(settings.db_path)]),
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "HOME": str(shared_home)},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True still readable"
