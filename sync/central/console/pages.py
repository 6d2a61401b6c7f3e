"""The pages every staff member may read: clinics, emergencies, search and a
document. Lists go newest received first with keyset pagination (a cursor of
the last row shown), so page 500 costs what page 1 does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from edgebox.sync.central.clock import skew_too_large
from edgebox.sync.central.console.app import (
    PREFIX,
    Console,
    Refusal,
    Staff,
    csv_response,
)

PAGE_SIZE = 50
CSV_LIMIT = 100_000
LIST_CSV = [
    "clinic", "document_id", "revision", "author", "category", "urgency",
    "summary", "reviewed", "created_at", "received_at",
]  # fmt: skip
CLINIC_CSV = [
    "name", "last_seen", "pending", "dead", "app_version", "model_sha256",
    "rules_version", "documents", "reviewed_docs", "category_override_rate",
    "urgency_override_rate", "delay_s", "clock_skew_s", "box_clock", "protocol",
    "bundle_version",
]  # fmt: skip
WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7)}


def router(console: Console) -> APIRouter:
    routes = APIRouter(prefix=PREFIX, include_in_schema=False)

    @routes.get("/")
    async def clinics(request: Request) -> Response:
        staff = await console.staff(request)
        rows = await console.run(console.db.clinics)
        if request.query_params.get("format") == "csv":
            return csv_response("clinics", CLINIC_CSV, rows)
        flags = await console.run(_drift, console.db.central)
        for row in rows:
            row["silent"] = _silent(row.get("last_seen"), console.silent_hours)
            row["drift"] = flags.get(row["name"], [])
            row["skewed"] = skew_too_large(
                row.get("clock_skew_s"), console.max_clock_skew_s
            )
        return console.render(
            request, "clinics.html", staff, clinics=rows,
            silent_hours=console.silent_hours,
            max_clock_skew_s=console.max_clock_skew_s,
        )  # fmt: skip

    @routes.get("/emergencies")
    async def emergencies(request: Request) -> Response:
        staff = await console.staff(request)
        query = request.query_params
        window = query.get("window") if query.get("window") in WINDOWS else "24h"
        level = query.get("urgency", "")
        urgencies = (level,) if level in ("emergency", "urgent") else (
            "emergency", "urgent"
        )  # fmt: skip
        filters = _common(query) | {"urgencies": urgencies, "since": _ago(window)}
        return await _listing(console, request, staff, "emergencies", filters)

    @routes.get("/search")
    async def search(request: Request) -> Response:
        staff = await console.staff(request)
        query = request.query_params
        level = query.get("urgency", "")
        filters = _common(query) | {
            "urgencies": (level,) if level else (),
            "since": _day(query.get("from"), "from"),
            "until": _day(query.get("to"), "to", after=True),
            "words": query.get("words") or None,
        }
        return await _listing(console, request, staff, "search", filters)

    @routes.get("/clinics/{name}")
    async def clinic(request: Request, name: str) -> Response:
        staff = await console.staff(request)
        filters = _common(request.query_params) | {"clinic": name}
        return await _listing(console, request, staff, "clinic", filters)

    @routes.get("/clinics/{name}/documents/{document_id}")
    async def document(request: Request, name: str, document_id: int) -> Response:
        staff = await console.staff(request)
        revisions = await console.run(console.db.revisions, name, document_id)
        if not revisions:
            raise Refusal(404, f"no document {document_id} from {name}")
        return console.render(
            request, "document.html", staff, clinic=name, document_id=document_id,
            revisions=revisions, latest=revisions[-1]["content"],
        )  # fmt: skip

    return routes


async def _listing(
    console: Console,
    request: Request,
    staff: Staff,
    page: str,
    filters: dict[str, Any],
) -> Response:
    """One page of documents (or all of them, up to CSV_LIMIT, as CSV)."""
    query = request.query_params
    if query.get("format") == "csv":
        rows = await console.run(console.db.document_list, **filters, limit=CSV_LIMIT)
        return csv_response(page, LIST_CSV, rows)
    after = _cursor(query.get("after", ""))
    rows = await console.run(
        console.db.document_list, **filters, after=after, limit=PAGE_SIZE + 1
    )
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    last = rows[-1] if rows else None
    cursor = (
        f"{last['received_at']}|{last['device_id']}|{last['document_id']}"
        if more and last
        else ""
    )
    return console.render(
        request, "documents.html", staff, page=page, rows=rows, cursor=cursor,
        query=dict(query),
        clinic=filters.get("clinic"),
    )  # fmt: skip


def _common(query: Any) -> dict[str, Any]:
    reviewed = {"yes": True, "no": False}.get(query.get("reviewed", ""))
    return {
        "clinic": query.get("clinic") or None,
        "category": query.get("category") or None,
        "reviewed": reviewed,
    }


def _cursor(text: str) -> tuple[str, int, int] | None:
    """The keyset cursor `received_at|device_id|document_id`, or None (a
    garbled one starts from the top rather than failing)."""
    received, _, rest = text.partition("|")
    device, _, document = rest.partition("|")
    if not (received and device.isdigit() and document.isdigit()):
        return None
    return received, int(device), int(document)


def _ago(window: str) -> str:
    return (datetime.now(UTC) - WINDOWS[window]).isoformat(timespec="milliseconds")


def _day(text: str | None, name: str, *, after: bool = False) -> str | None:
    """A date filter as a time to compare with; `to` is inclusive, so it
    means the start of the day after."""
    if not text:
        return None
    try:
        day = datetime.fromisoformat(text) + timedelta(days=int(after))
    except ValueError as exc:
        raise Refusal(422, f"{name}: {text[:20]!r} is not a date (YYYY-MM-DD)") from exc
    return day.date().isoformat()


def _drift(central: Any) -> dict[str, list[str]]:
    """Why each drifting clinic is flagged (`edgebox central drift`, default
    limits)."""
    from edgebox.sync.central.drift import drift_report, flagged_clinics

    return flagged_clinics(drift_report(central.triage_history()))


def _silent(last_seen: str | None, hours: int) -> bool:
    if not last_seen:
        return True
    seen = datetime.fromisoformat(last_seen)
    return datetime.now(UTC) - seen > timedelta(hours=hours)
