"""Alerts: the NGO's command runs once per emergency, beside triage (real
store, real subprocesses, the real service and model), and every open UI
shows a banner and rings (Pilot)."""

from __future__ import annotations

import dataclasses
import json
import os
import stat
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edgebox import config
from edgebox.service.alerts import AlertSender
from edgebox.store import Store
from edgebox.store.alerts import alert_counts
from edgebox.tui.alert import EmergencyBanner
from edgebox.tui.document import DocumentScreen
from tests.support.processes import run_cli
from tests.support.records import ai_result
from tests.support.tui import make_app, queue_ready, screen_text, until, until_on


def script(tmp_path: Path, name: str, body: str) -> Path:
    """A real executable the service will run as its alert command."""
    path = tmp_path / name
    path.write_text(f"#!{sys.executable}\nimport sys, time\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def recorder(tmp_path: Path) -> tuple[Path, Path]:
    calls = tmp_path / "calls.jsonl"
    path = script(
        tmp_path,
        "record-alert",
        f"line = __import__('json').dumps(sys.argv[1:]) + '\\n'\n"
        f"open({str(calls)!r}, 'a').write(line)",
    )
    return path, calls


def calls_in(path: Path) -> list[list[str]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def box(home: Path, command: Path, **alerts: object) -> config.Config:
    settings = config.load(home)
    return dataclasses.replace(
        settings,
        alerts=dataclasses.replace(settings.alerts, command=str(command), **alerts),
    )


def triaged(store: Store, name: str, urgency: str, category: str = "referral") -> int:
    doc = store.add_document(file_name=name, sha256=name[0] * 64, size=5)
    store.record_ai_result(doc, ai_result(urgency, category=category))
    return doc


def test_the_command_rings_once_per_emergency_with_no_text(
    edgebox_home: Path, tmp_path: Path
) -> None:
    command, calls = recorder(tmp_path)
    settings = box(edgebox_home, command)
    with Store(settings.db_path) as store:
        emergency = triaged(store, "eclampsia.txt", "emergency")
        triaged(store, "dental.txt", "routine", category="prescription")
    sender = AlertSender(settings)
    assert sender.run_once() == [(emergency, "sent")]
    assert calls_in(calls) == [[str(emergency), "emergency", "referral"]]
    # A later revision (a nurse confirms it) and a restart do not ring again.
    with Store(settings.db_path) as store:
        store.record_review(emergency, reviewer="amina", changes={})
    assert AlertSender(settings).run_once() == []
    assert len(calls_in(calls)) == 1
    with Store(settings.db_path) as store:
        (audit,) = store.db.query(
            "SELECT action, detail FROM audit WHERE action LIKE 'alert%'"
        )
        assert alert_counts(store.db) == {"pending": 0, "sent": 1, "failed": 0}
    assert audit["action"] == "alert sent"
    assert "eclampsia" not in audit["detail"]


def test_a_hanging_command_is_stopped_retried_then_given_up(
    edgebox_home: Path, tmp_path: Path
) -> None:
    hangs = script(tmp_path, "hang", "time.sleep(60)")
    settings = box(edgebox_home, hangs, timeout_s=1.0, retry_s=60.0, attempts=2)
    with Store(settings.db_path) as store:
        doc = triaged(store, "eclampsia.txt", "emergency")
    sender = AlertSender(settings)
    start = datetime.now(UTC)  # a clock moved by hand: retry_s is a minute
    assert sender.run_once(at=start) == [(doc, "pending")]
    assert sender.run_once(at=start + timedelta(seconds=30)) == []  # not yet due
    assert sender.run_once(at=start + timedelta(seconds=61)) == [(doc, "failed")]
    assert sender.run_once(at=start + timedelta(hours=1)) == []
    with Store(settings.db_path) as store:
        (row,) = store.db.query("SELECT attempts, last_error FROM alerts")
    assert row == {"attempts": 2, "last_error": "the alert command ran over 1 s"}


def test_a_missing_or_failing_command_is_an_error_not_a_crash(
    edgebox_home: Path, tmp_path: Path
) -> None:
    fails = script(tmp_path, "fail", "sys.exit(3)")
    settings = box(edgebox_home, fails, attempts=1)
    with Store(settings.db_path) as store:
        doc = triaged(store, "eclampsia.txt", "emergency")
        other = triaged(store, "fit.txt", "emergency")
    assert AlertSender(settings).run_once() == [(doc, "failed"), (other, "failed")]
    missing = box(edgebox_home, tmp_path / "no-such-script", attempts=1)
    with Store(missing.db_path) as store:
        third = triaged(store, "bleeding.txt", "emergency")
        assert AlertSender(missing).run_once() == [(third, "failed")]
        errors = [
            r["last_error"] for r in store.db.query("SELECT last_error FROM alerts")
        ]
    assert errors[:2] == ["the alert command exited with 3"] * 2
    assert errors[2].startswith("the alert command could not start")


def test_old_emergencies_do_not_ring(edgebox_home: Path, tmp_path: Path) -> None:
    command, calls = recorder(tmp_path)
    settings = box(edgebox_home, command, within_hours=24.0)
    with Store(settings.db_path) as store:
        triaged(store, "eclampsia.txt", "emergency")
        store.db.execute(
            "UPDATE documents SET received_at = '2020-01-01T00:00:00.000+00:00'"
        )
    assert AlertSender(settings).run_once() == []
    assert calls_in(calls) == []


def test_the_service_rings_for_an_emergency_dropped_in_the_inbox(
    edgebox_home: Path, tmp_path: Path
) -> None:
    """The real service and model: the emergency is triaged and rings once;
    the routine note does not ring; status counts the alert."""
    command, calls = recorder(tmp_path)
    assert run_cli("init").returncode == 0
    inbox = edgebox_home / "inbox"
    (inbox / "eclampsia.txt").write_text(
        "Referral: woman 34 weeks pregnant, convulsions this morning, BP 170/115."
    )
    (inbox / "dental.txt").write_text("Dental prescription: amoxicillin 500 mg.")
    env = {"EDGEBOX_ALERTS_COMMAND": str(command), "EDGEBOX_INGEST_QUIET_S": "0"}
    served = run_cli("serve", "--until-idle", "--no-sync", env=env)
    assert served.returncode == 0, served.stderr
    queue = json.loads(run_cli("queue", "--json").stdout)["documents"]
    emergencies = [d["document_id"] for d in queue if d["urgency"] == "emergency"]
    assert len(emergencies) == 1
    assert [call[:2] for call in calls_in(calls)] == [
        [str(emergencies[0]), "emergency"]
    ]
    status = json.loads(run_cli("status", "--json", env=env).stdout)["alerts"]
    assert status == {"command": True, "pending": 0, "sent": 1, "failed": 0}
    assert "eclampsia" not in json.dumps(calls_in(calls))
    assert os.environ.get("EDGEBOX_ALERTS_COMMAND") is None


@pytest.mark.anyio
async def test_an_emergency_arriving_shows_a_banner_until_acknowledged(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    app = make_app(settings)
    rings: list[None] = []
    app.bell = lambda: rings.append(None)  # type: ignore[method-assign]  # counts rings
    async with app.run_test(size=(80, 24)) as pilot:
        await queue_ready(pilot, 5)
        await pilot.pause(0.5)  # the first check learns the seeded emergency
        assert rings == [] and not isinstance(app.screen, EmergencyBanner)
        with Store(settings.db_path) as store:
            doc = triaged(store, "zz-eclampsia.txt", "emergency")
        banner = await until_on(pilot, EmergencyBanner)
        await until(pilot, lambda: f"document {doc}  referral" in screen_text(app))
        assert rings == [None]
        await pilot.press("a", "enter", "escape")  # typing does not dismiss it
        assert app.screen is banner
        await pilot.press("A")
        await until(pilot, lambda: not isinstance(app.screen, EmergencyBanner))
        with Store(settings.db_path) as store:
            second = triaged(store, "yy-fit.txt", "emergency")
        await until_on(pilot, EmergencyBanner)
        await pilot.press("o")
        screen = await until_on(pilot, DocumentScreen, lambda s: s.view is not None)
        assert screen.doc_id == second and len(rings) == 2
