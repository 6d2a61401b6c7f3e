"""Mounting the console on the central app, and what every page shares: the
signed-in user, the language, the CSRF cookie, rendering and refusals.

A page is opened only by a staff session cookie. A device's bearer token is
never looked at here, and the batch API never looks at the cookie, so neither
credential opens the other's door.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from edgebox.sync.central.clock import MAX_CLOCK_SKEW_S, shown_skew
from edgebox.sync.central.console.messages import choose_language, translator
from edgebox.sync.central.console.security import (
    CSRF_COOKIE,
    CSRF_FIELD,
    SESSION_COOKIE,
    csrf_ok,
    hash_secret,
    new_secret,
)
from edgebox.sync.central.console_db import ConsoleDB

PREFIX = "/console"
_HERE = Path(__file__).parent


@dataclass(frozen=True)
class Staff:
    id: int
    name: str
    role: str

    @property
    def admin(self) -> bool:
        return self.role == "admin"


class Refusal(Exception):
    """A page not shown: a redirect to the login page, or a status with a
    sentence (rendered as a page, never as the API's JSON)."""

    def __init__(self, status: int, message: str = "", location: str = "") -> None:
        super().__init__(message)
        self.status, self.message, self.location = status, message, location


@dataclass
class Console:
    """What the console's routes share."""

    db: ConsoleDB
    env: Environment
    secure_cookies: bool
    max_failed: int
    silent_hours: int
    max_clock_skew_s: float = MAX_CLOCK_SKEW_S

    async def run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(lambda: fn(*args, **kwargs))

    async def staff(self, request: Request, *, admin: bool = False) -> Staff:
        """The signed-in user, or a redirect to the login page (403 for a
        viewer on an admin page)."""
        token = request.cookies.get(SESSION_COOKIE)
        found = None
        if token:
            found = await self.run(self.db.session_user, hash_secret(token))
        if found is None:
            raise Refusal(303, location=f"{PREFIX}/login")
        staff = Staff(int(found["id"]), found["name"], found["role"])
        if admin and not staff.admin:
            raise Refusal(403, "admins only")
        return staff

    async def form(self, request: Request) -> dict[str, str]:
        """The urlencoded form, refused (403) unless it repeats the CSRF cookie."""
        body = (await request.body()).decode("utf-8", "replace")
        fields = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
        if not csrf_ok(request.cookies.get(CSRF_COOKIE), fields.get(CSRF_FIELD)):
            raise Refusal(403, "the form's CSRF token is missing or wrong")
        return fields

    def render(
        self,
        request: Request,
        template: str,
        staff: Staff | None = None,
        status: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        lang = choose_language(
            request.query_params.get("lang"),
            request.cookies.get("lang"),
            request.headers.get("accept-language", ""),
        )
        csrf = request.cookies.get(CSRF_COOKIE) or new_secret()
        html = self.env.get_template(template).render(
            t=translator(lang), lang=lang, staff=staff, csrf=csrf, prefix=PREFIX,
            request=request, **context,
        )  # fmt: skip
        response = HTMLResponse(html, status)
        if request.cookies.get(CSRF_COOKIE) != csrf:
            self.cookie(response, CSRF_COOKIE, csrf)
        if request.query_params.get("lang") == lang:
            self.cookie(response, "lang", lang)
        return response

    def cookie(
        self, response: Response, name: str, value: str, max_age: int | None = None
    ) -> None:
        response.set_cookie(
            name, value, max_age=max_age, path=PREFIX, httponly=True,
            samesite="strict" if name == SESSION_COOKIE else "lax",
            secure=self.secure_cookies,
        )  # fmt: skip


def csv_response(
    name: str, columns: list[str], rows: Iterable[dict[str, Any]]
) -> Response:
    """A list as CSV; a cell a spreadsheet would run as a formula is quoted."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    headers = {"Content-Disposition": f'attachment; filename="{name}.csv"'}
    return Response(out.getvalue(), media_type="text/csv", headers=headers)


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return "" if value is None else value


def shown_time(stamp: str | None) -> str:
    """An ISO time as people read it, in UTC to the second (the CSV keeps
    the stored text)."""
    if not stamp:
        return ""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def mount_console(
    app: FastAPI,
    central: Any,
    *,
    secure_cookies: bool = False,
    max_failed: int = 5,
    silent_hours: int = 24,
    max_clock_skew_s: float = MAX_CLOCK_SKEW_S,
) -> None:
    """Add the console's pages under /console to the central app."""
    from edgebox.sync.central.console import access, bundles_page, pages, users

    env = Environment(
        loader=FileSystemLoader(_HERE / "templates"),
        autoescape=select_autoescape(["html"], default=True),
    )
    env.filters["when"] = shown_time
    env.filters["skew"] = shown_skew
    console = Console(
        ConsoleDB(central), env, secure_cookies, max_failed, silent_hours,
        max_clock_skew_s,
    )  # fmt: skip

    @app.exception_handler(Refusal)
    async def on_refusal(request: Request, exc: Refusal) -> Response:
        if exc.location:
            return RedirectResponse(exc.location, exc.status)
        return console.render(request, "error.html", status=exc.status, error=exc)

    app.mount(
        f"{PREFIX}/static", StaticFiles(directory=_HERE / "static"), "console-static"
    )
    app.include_router(access.router(console))
    app.include_router(pages.router(console))
    app.include_router(bundles_page.router(console))
    app.include_router(users.router(console))
