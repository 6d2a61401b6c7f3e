"""Signing staff in and out, and the admin pages: devices, users, audit.

Every login, successful or not, is a row in the attempts table and the audit
table; failed attempts per user name or per address over a window are counted
in the database, so the limit holds across server processes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from edgebox.errors import SyncError
from edgebox.sync.central.auth import new_token
from edgebox.sync.central.console.app import (
    PREFIX,
    Console,
    Refusal,
    csv_response,
)
from edgebox.sync.central.console.security import (
    SESSION_COOKIE,
    hash_secret,
    new_secret,
    password_matches,
)
from edgebox.sync.payload import DEVICE_PATTERN

SESSION_TTL = timedelta(hours=12)
ATTEMPT_WINDOW = timedelta(minutes=15)


def router(console: Console) -> APIRouter:
    routes = APIRouter(prefix=PREFIX, include_in_schema=False)
    _login_routes(routes, console)
    _device_routes(routes, console)
    _admin_lists(routes, console)
    return routes


def _login_routes(routes: APIRouter, console: Console) -> None:
    @routes.get("/login")
    async def login_page(request: Request) -> Response:
        return console.render(request, "login.html")

    @routes.post("/login")
    async def login(request: Request) -> Response:
        fields = await console.form(request)
        name = fields.get("name", "")[:100]
        address = request.client.host if request.client else "?"
        since = (datetime.now(UTC) - ATTEMPT_WINDOW).isoformat(timespec="milliseconds")
        failed = await console.run(console.db.failed_attempts, name, address, since)
        if failed >= console.max_failed:
            await console.run(console.db.record_attempt, name, address, ok=False)
            await console.run(console.db.audit, name, "login_refused", None, why="rate")
            return console.render(request, "login.html", status=429, error="too_many")
        user = await console.run(console.db.user, name)
        stored = user["password_hash"] if user and not user["disabled"] else None
        ok = password_matches(fields.get("password", ""), stored)
        await console.run(console.db.record_attempt, name, address, ok=ok)
        await console.run(console.db.audit, name, "login" if ok else "login_failed")
        if not ok or user is None:
            return console.render(request, "login.html", status=401, error="bad_login")
        token = new_secret()
        await console.run(
            console.db.add_session, hash_secret(token), int(user["id"]), SESSION_TTL
        )
        response = RedirectResponse(f"{PREFIX}/", 303)
        ttl = int(SESSION_TTL.total_seconds())
        console.cookie(response, SESSION_COOKIE, token, max_age=ttl)
        return response

    @routes.post("/logout")
    async def logout(request: Request) -> Response:
        staff = await console.staff(request)
        await console.form(request)
        token = request.cookies.get(SESSION_COOKIE, "")
        await console.run(console.db.end_session, hash_secret(token))
        await console.run(console.db.audit, staff.name, "logout")
        response = RedirectResponse(f"{PREFIX}/login", 303)
        response.delete_cookie(SESSION_COOKIE, path=PREFIX)
        return response


def _device_routes(routes: APIRouter, console: Console) -> None:
    db = console.db

    @routes.get("/devices")
    async def devices(request: Request) -> Response:
        staff = await console.staff(request, admin=True)
        rows = await console.run(db.clinics)
        if request.query_params.get("format") == "csv":
            columns = ["name", "created_at", "last_seen", "revoked", "app_version"]
            return csv_response("devices", columns, rows)
        return console.render(request, "devices.html", staff, devices=rows)

    @routes.post("/devices")
    async def register(request: Request) -> Response:
        staff = await console.staff(request, admin=True)
        fields = await console.form(request)
        name = fields.get("name", "").strip()
        rotate = fields.get("rotate") == "1"
        if not re.match(DEVICE_PATTERN, name):
            raise Refusal(422, "a device name: letters, digits, '.', '_' or '-'")
        try:
            _, token = await console.run(
                db.central.register_device, name, new_token, rotate=rotate
            )
        except SyncError as exc:
            raise Refusal(409, str(exc)) from exc
        await console.run(
            db.audit, staff.name, "rotate" if rotate else "register", name
        )
        rows = await console.run(db.clinics)
        return console.render(
            request, "devices.html", staff, devices=rows, token=token, named=name
        )

    @routes.post("/devices/{name}/revoke")
    async def revoke(request: Request, name: str) -> Response:
        staff = await console.staff(request, admin=True)
        await console.form(request)
        try:
            await console.run(db.revoke_device, name)
        except SyncError as exc:
            raise Refusal(404, str(exc)) from exc
        await console.run(db.audit, staff.name, "revoke", name)
        return RedirectResponse(f"{PREFIX}/devices", 303)


def _admin_lists(routes: APIRouter, console: Console) -> None:
    # The users page and its forms: console/users.py.
    @routes.get("/audit")
    async def audit(request: Request) -> Response:
        staff = await console.staff(request, admin=True)
        rows = await console.run(console.db.audit_log)
        if request.query_params.get("format") == "csv":
            columns = ["at", "actor", "action", "target", "detail"]
            return csv_response("audit", columns, rows)
        return console.render(request, "audit.html", staff, rows=rows)
