"""UI start-up benchmark: seconds from a fresh process to the queue painted with
its rows, `edgebox tui` against a bare Textual app that reads the same rows
with one SQL query into a DataTable, both headless, in the same run.

The issue's goal is under 2 s on the box; the ratio says what edgebox adds
(its imports, the store, the live refresh) over Textual itself.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from edgebox import config
from edgebox.store import Store

REPO = Path(__file__).resolve().parent.parent

_EDGEBOX = """
import asyncio, sys, time
started, home = float(sys.argv[1]), sys.argv[2]
from edgebox import config
from edgebox.tui.app import EdgeboxApp
from edgebox.tui.queue import QueueTable

async def main():
    app = EdgeboxApp(config.load(home), reviewer="bench")
    async with app.run_test(size=(80, 24)) as pilot:
        while not any(t.row_count for t in app.screen.query(QueueTable)):
            await pilot.pause(0.005)
    print(time.time() - started)

asyncio.run(main())
"""

_BARE = """
import asyncio, sqlite3, sys, time
started, home = float(sys.argv[1]), sys.argv[2]
from textual.app import App
from textual.widgets import DataTable

class Bare(App):
    def compose(self):
        yield DataTable()

    def on_mount(self):
        table = self.query_one(DataTable)
        table.add_columns("urgency", "category", "summary", "received", "state")
        db = sqlite3.connect(f"{home}/data/edgebox.db")
        table.add_rows(db.execute(
            "SELECT t.urgency, t.category, t.summary, d.received_at, d.state"
            " FROM documents d JOIN triage_revisions t ON t.document_id = d.id"
            " ORDER BY d.received_at LIMIT 500").fetchall())

async def main():
    app = Bare()
    async with app.run_test(size=(80, 24)) as pilot:
        while not app.query_one(DataTable).row_count:
            await pilot.pause(0.005)
    print(time.time() - started)

asyncio.run(main())
"""


def _seed(home: Path, documents: int) -> None:
    settings = config.load(home)
    urgencies = ("routine", "urgent", "routine", "emergency")
    with Store(settings.db_path) as store, store.atomic():
        for n in range(documents):
            doc = store.add_document(
                file_name=f"note-{n}.txt", sha256=f"{n:064x}", size=100
            )
            store.record_triage(
                doc,
                {
                    "category": "referral",
                    "urgency": urgencies[n % len(urgencies)],
                    "summary": f"Synthetic note {n}: cough and fever for 3 days.",
                    "needs_review": n % 3 == 0,
                },
            )


def _start_s(code: str, home: Path) -> float:
    out = subprocess.run(
        [sys.executable, "-c", code, str(time.time()), str(home)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        timeout=120,
    )
    return float(out.stdout.strip().splitlines()[-1])


def tui_startup(documents: int = 1000, rounds: int = 3) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        _seed(home, documents)
        edgebox, bare = [], []
        for _ in range(rounds):  # interleaved: a busy moment hits both
            edgebox.append(_start_s(_EDGEBOX, home))
            bare.append(_start_s(_BARE, home))
    median_edgebox, median_bare = statistics.median(edgebox), statistics.median(bare)
    return {
        "figure": f"UI start-up to a painted queue ({documents} documents)",
        "documents": documents,
        "rounds": rounds,
        "edgebox_tui_s": round(median_edgebox, 4),
        "bare_textual_s": round(median_bare, 4),
        "ratio_tui_to_bare": round(median_edgebox / median_bare, 3),
    }
