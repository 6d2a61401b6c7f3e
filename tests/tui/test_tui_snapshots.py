"""Snapshots of each screen at 80x24 with the seeded store (fixed times, UTC).

Update after an intended change with `pytest tests/tui/test_tui_snapshots.py
--snapshot-update` and look at the SVGs before committing them.
"""

from __future__ import annotations

import pytest

from edgebox import config
from edgebox.store import Store
from edgebox.tui.document import DocumentScreen
from edgebox.tui.patients import PatientsScreen
from edgebox.tui.status import StatusScreen
from tests.support.tui import make_app, queue_ready, screen_text, until, until_on

SIZE = (80, 24)


async def queue_painted(pilot) -> None:
    await queue_ready(pilot, 5)


async def document_painted(pilot) -> None:
    await queue_painted(pilot)
    await pilot.press("enter")
    await until_on(
        pilot, DocumentScreen, lambda _: "not indexed yet" in screen_text(pilot.app)
    )


def test_queue(snap_compare, settings: config.Config, seeded: dict[str, int]) -> None:
    app = make_app(settings, refresh_s=600)
    assert snap_compare(app, terminal_size=SIZE, run_before=queue_painted)


def test_document(
    snap_compare, settings: config.Config, seeded: dict[str, int]
) -> None:
    app = make_app(settings, refresh_s=600)
    assert snap_compare(app, terminal_size=SIZE, run_before=document_painted)


def test_review(snap_compare, settings: config.Config, seeded: dict[str, int]) -> None:
    async def review_open(pilot) -> None:
        await document_painted(pilot)
        await pilot.press("r")
        await until(pilot, lambda: "Correct what was read" in screen_text(pilot.app))

    app = make_app(settings, refresh_s=600)
    assert snap_compare(app, terminal_size=SIZE, run_before=review_open)


def test_status(snap_compare, settings: config.Config, seeded: dict[str, int]) -> None:
    with Store(settings.db_path) as store:
        store.update_service_state(
            {
                "state": "running",
                "started_at": "2025-03-04T06:00:00+00:00",
                "heartbeat_at": "2025-03-04T09:30:00+00:00",
                "model": "SmolLM2-135M-Instruct.Q4_1.gguf",
                "device": "CPU",
                "gpu_layers": 0,
                "docs_per_s": 0.4,
                "triaged": 4,
                "waiting": 0,
            }
        )

    async def status_open(pilot) -> None:
        await queue_painted(pilot)
        await pilot.press("s")
        await until_on(pilot, StatusScreen, lambda s: s.snapshot is not None)

    app = make_app(settings, refresh_s=600)
    assert snap_compare(app, terminal_size=SIZE, run_before=status_open)


def test_help(snap_compare, settings: config.Config, seeded: dict[str, int]) -> None:
    async def help_open(pilot) -> None:
        await queue_painted(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: "Everywhere" in screen_text(pilot.app))

    app = make_app(settings, refresh_s=600)
    assert snap_compare(app, terminal_size=SIZE, run_before=help_open)


def test_patients(
    snap_compare, settings: config.Config, seeded: dict[str, int]
) -> None:
    async def patients_open(pilot) -> None:
        await queue_painted(pilot)
        await pilot.press("p")
        await until_on(pilot, PatientsScreen, lambda s: s.shown)

    app = make_app(settings, refresh_s=600)
    assert snap_compare(app, terminal_size=SIZE, run_before=patients_open)


@pytest.mark.parametrize("size", [(160, 48)])
def test_queue_in_a_large_terminal(
    snap_compare, settings: config.Config, seeded: dict[str, int], size: tuple
) -> None:
    app = make_app(settings, refresh_s=600)
    assert snap_compare(app, terminal_size=size, run_before=queue_painted)
