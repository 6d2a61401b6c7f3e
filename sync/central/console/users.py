"""The users page: an admin lists staff accounts, adds one, disables one.

Only admins reach it (a viewer gets 403, on the page and on its forms); each
form carries the CSRF token; each change is a row in the audit table. An
account is disabled, never deleted, so the audit trail keeps naming a real
account, and its sessions end at once. An admin cannot disable their own
account: the last admin would lock everyone out of the console.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from edgebox.errors import SyncError
from edgebox.sync.central.console.app import PREFIX, Console, Refusal, csv_response
from edgebox.sync.central.console.security import hash_password
from edgebox.sync.central.console_db import ROLES

USER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$"
MIN_PASSWORD = 8
USER_CSV = ["name", "role", "disabled", "created_at"]


def router(console: Console) -> APIRouter:
    routes = APIRouter(prefix=PREFIX, include_in_schema=False)
    db = console.db

    @routes.get("/users")
    async def users(request: Request) -> Response:
        staff = await console.staff(request, admin=True)
        rows = await console.run(db.users)
        if request.query_params.get("format") == "csv":
            return csv_response("users", USER_CSV, rows)
        return console.render(request, "users.html", staff, users=rows, roles=ROLES)

    @routes.post("/users")
    async def add(request: Request) -> Response:
        staff = await console.staff(request, admin=True)
        fields = await console.form(request)
        name, role = fields.get("name", "").strip(), fields.get("role", "")
        _check(name, role, fields.get("password", ""))
        password_hash = await console.run(hash_password, fields["password"])
        try:
            await console.run(db.add_user, name, role, password_hash)
        except SyncError as exc:
            raise Refusal(409, str(exc)) from exc
        await console.run(db.audit, staff.name, "user_add", name, role=role)
        rows = await console.run(db.users)
        return console.render(
            request, "users.html", staff, users=rows, roles=ROLES, added=name
        )

    @routes.post("/users/{name}/disable")
    async def disable(request: Request, name: str) -> Response:
        staff = await console.staff(request, admin=True)
        await console.form(request)
        if name == staff.name:
            raise Refusal(409, "you cannot disable your own account")
        try:
            await console.run(db.disable_user, name)
        except SyncError as exc:
            raise Refusal(404, str(exc)) from exc
        await console.run(db.audit, staff.name, "user_disable", name)
        return RedirectResponse(f"{PREFIX}/users", 303)

    return routes


def _check(name: str, role: str, password: str) -> None:
    """422 naming the field at fault."""
    if not re.match(USER_PATTERN, name):
        raise Refusal(422, "name: letters, digits, '.', '_', '@' or '-', at most 64")
    if role not in ROLES:
        raise Refusal(422, f"role: one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise Refusal(422, f"password: at least {MIN_PASSWORD} characters")
