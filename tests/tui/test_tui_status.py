"""The status screen: service facts from the store, sync, overrides, requeue."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from edgebox import config
from edgebox.store import DocState, Store
from edgebox.tui.confirm import ConfirmScreen
from edgebox.tui.status import StatusScreen
from tests.support.tui import (
    make_app,
    screen_dump,
    screen_text,
    table_rows,
    until,
    until_on,
)

pytestmark = pytest.mark.anyio


async def open_status(pilot) -> StatusScreen:
    await pilot.press("s")
    return await until_on(pilot, StatusScreen, lambda s: s.snapshot is not None)


async def test_status_shows_a_running_service_sync_and_override_rate(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    with Store(settings.db_path) as store:
        store.update_service_state(
            {
                "state": "running",
                "started_at": "2025-03-04T06:00:00+00:00",
                "heartbeat_at": datetime.now(UTC).isoformat(),
                "model": "SmolLM2-135M-Instruct.Q4_1.gguf",
                "device": "GPU",
                "gpu_layers": 31,
                "docs_per_s": 1.7,
                "triaged": 4,
                "waiting": 2,
            }
        )
        store.update_sync_state(
            {
                "last_success": "2025-03-04T09:00:00+00:00",
                "last_error": "connection refused",
                "last_error_at": "2025-03-04T09:10:00+00:00",
            }
        )
        store.record_review(
            seeded["lab-malaria.pdf"], reviewer="amina", changes={"urgency": "routine"}
        )
    # Two files sit in the drop folder (junk is not counted).
    settings.inbox_dir.mkdir(parents=True, exist_ok=True)
    for name in ("scan-1.pdf", "scan-2.jpg", ".DS_Store"):
        (settings.inbox_dir / name).write_bytes(b"x")
    async with make_app(settings).run_test(size=(80, 24)) as pilot:
        await open_status(pilot)
        text = screen_text(pilot.app)
        assert "running since 04 Mar 06:00" in text
        assert "SmolLM2-135M-Instruct.Q4_1.gguf on GPU, 31 layers" in text
        assert "1.7 docs/s" in text
        assert "2 files in the drop folder" in text
        assert "pending 6, sent 0, dead 0" in text
        assert "2025-03-04 09:10 connection refused" in text
        assert "urgency      1 changed (100%)" in text


async def test_a_silent_service_is_shown_as_not_running(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    with Store(settings.db_path) as store:
        store.update_service_state(
            {"state": "running", "heartbeat_at": "2025-03-04T09:00:00+00:00"}
        )
    async with make_app(settings).run_test(size=(80, 24)) as pilot:
        await open_status(pilot)
        assert "service not running (last heard 2025-03-04 09:00)" in screen_text(
            pilot.app
        )


async def test_a_quarantined_document_is_listed_with_its_reason_and_requeued(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    doc_id = seeded["scan-0007.png"]
    copy = settings.quarantine_dir / f"{doc_id}-scan-0007.png"
    copy.parent.mkdir(parents=True)
    copy.write_bytes(b"png")
    async with make_app(settings).run_test(size=(80, 24)) as pilot:
        screen = await open_status(pilot)
        table = screen.query_one("#problems")
        assert table_rows(table)[1] == [
            str(doc_id),
            "scan-0007.png",
            "quarantined",
            "ocr_unavailable: OCR is not ins…",
        ]
        await pilot.press("down")  # below the failed triage
        reason = "ocr_unavailable: OCR is not installed (tesseract)"
        await until(
            pilot,
            lambda: f"#{doc_id} scan-0007.png: {reason}" in screen_dump(pilot.app),
        )
        await pilot.press("r")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        assert f"Reason: {reason}" in screen_text(pilot.app)
        assert "reads it again from the start" in screen_text(pilot.app)
        await pilot.press("y")
        await until(pilot, lambda: table.row_count == 1)
        assert "Quarantined and failed (1)" in screen_text(pilot.app)
    with Store(settings.db_path) as store:
        assert store.document(doc_id)["state"] == DocState.RECEIVED
        audit = store.audit_log(doc_id)[-1]
        assert (audit["actor"], audit["action"]) == ("staff:amina", "requeue")
    assert not copy.exists()


async def test_moving_in_the_problem_table_brings_the_row_and_its_reason_into_view(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    reason = (
        "llama.cpp returned an invalid JSON answer after 3 attempts; the document"
        " was set aside for a person to read"
    )
    with Store(settings.db_path) as store:
        for n in range(3):
            store.add_document(
                file_name=f"broken-{n}.pdf", sha256=f"b{n:063x}", size=1,
                state=DocState.FAILED, error_code="triage_error", error_message=reason,
            )  # fmt: skip
    async with make_app(settings).run_test(size=(80, 24)) as pilot:
        screen = await open_status(pilot)
        table = screen.query_one("#problems")
        assert table.row_count == 5
        assert "broken-2.pdf" not in screen_dump(pilot.app)  # below the fold
        await pilot.press("down", "down", "down", "down")
        await until(pilot, lambda: "  broken-2.pdf" in screen_dump(pilot.app))
        shown = screen.query_one("#problem-reason").content.plain
        assert shown == f"#{table.coordinate_to_cell_key((4, 0)).row_key.value}" + (
            f" broken-2.pdf: triage_error: {reason}"
        )
        await until(pilot, lambda: "for a person to read" in screen_dump(pilot.app))


async def test_a_failed_triage_is_listed_counted_and_triaged_again_on_requeue(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    doc_id = seeded["intake-0311.txt"]  # the model's deadline passed
    async with make_app(settings).run_test(size=(80, 24)) as pilot:
        screen = await open_status(pilot)
        assert "failed       1 (1 triage)" in screen_text(pilot.app)
        table = screen.query_one("#problems")
        reason = "triage_failed: triage deadline passed (120 s)"
        assert table_rows(table)[0] == [
            str(doc_id),
            "intake-0311.txt",
            "triaged",
            "triage_failed: triage deadline …",
        ]
        shown = screen.query_one("#problem-reason").content.plain
        assert shown == f"#{doc_id} intake-0311.txt: {reason}"
        await pilot.press("r")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        assert "The service triages it again." in screen_text(pilot.app)
        assert f"Reason: {reason}" in screen_text(pilot.app)
        await pilot.press("y")
        await until(pilot, lambda: table.row_count == 1)  # the quarantined scan
        assert "failed       0" in screen_text(pilot.app)
    with Store(settings.db_path) as store:
        assert store.document(doc_id)["state"] == DocState.EXTRACTED
        audit = store.audit_log(doc_id)[-1]
        assert (audit["actor"], audit["action"]) == ("staff:amina", "requeue")
        assert len(store.revisions(doc_id)) == 1  # the failed answer is kept


async def test_a_failed_triage_a_nurse_reviewed_is_not_offered_for_requeue(
    settings: config.Config, seeded: dict[str, int]
) -> None:
    with Store(settings.db_path) as store:
        store.record_review(
            seeded["intake-0311.txt"], reviewer="amina", changes={"urgency": "urgent"}
        )
    async with make_app(settings).run_test(size=(80, 24)) as pilot:
        screen = await open_status(pilot)
        rows = table_rows(screen.query_one("#problems"))
        assert [row[1] for row in rows] == ["scan-0007.png"]
        assert "failed       0" in screen_text(pilot.app)


def _install(settings: config.Config, key: tuple[Path, str], version: int) -> None:
    """A real signed bundle (red-flag rules only), verified and switched to."""
    from edgebox.service import bundles
    from edgebox.service.bundle_format import load_private, pack

    rules = b'version = "ngo-%d"\n\n[[rule]]\nsign = "zebra fever"\n' % version
    rules += b"level = \"emergency\"\npatterns = ['zebra fever']\n"
    content, _ = pack(
        {"rules.toml": rules},
        {"version": version, "created_at": "2027-01-05T08:00:00+00:00"},
        load_private(key[0]),
    )
    archive = key[0].parent / f"bundle-{version}.tar"
    archive.write_bytes(content)
    bundles.install(settings.data_dir, archive, pinned=key[1], texts=())


async def test_status_shows_the_bundle_in_use_a_refusal_and_a_hold(
    settings: config.Config, seeded: dict[str, int], tmp_path: Path
) -> None:
    from edgebox.service import bundles
    from edgebox.service.bundle_format import new_key

    key_file = tmp_path / "ngo.key"
    key = (key_file, new_key(key_file))
    async with make_app(settings).run_test(size=(100, 60)) as pilot:
        screen = await open_status(pilot)
        assert "Centre's bundle" not in screen_text(pilot.app)  # never had one

        _install(settings, key, 1)
        _install(settings, key, 2)
        bundles.refuse(
            settings.data_dir,
            3,
            "bad signature: the bundle was not signed by the pinned key",
            for_good=True,
        )
        screen.reload()
        await until(pilot, lambda: "Centre's bundle" in screen_text(pilot.app))
        text = screen_text(pilot.app)
        assert "in use       bundle 2 (made 2027-01-05 08:00)" in text
        assert "previous     bundle 1 (edgebox bundle rollback)" in text
        assert (
            "refused      bundle 3 at" in text
            and ": bad signature: the bundle was not signed by the pinned key" in text
        )

        bundles.rollback(settings.data_dir)
        screen.reload()
        await until(pilot, lambda: "held " in screen_text(pilot.app))
        text = screen_text(pilot.app)
        assert "in use       bundle 1" in text
        assert "held         rolled back from bundle 2" in text
        assert "previous" not in text
