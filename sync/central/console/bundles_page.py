"""The console's bundles page: each bundle with its evaluation report in
view, and for admins a form (CSRF like every other form) that approves it.
Approval is a row in the audit table, as from `edgebox central bundle approve`.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from edgebox.errors import BundleError
from edgebox.sync.central.bundle_store import BundleDB
from edgebox.sync.central.console.app import PREFIX, Console, Refusal


def router(console: Console) -> APIRouter:
    routes = APIRouter(prefix=PREFIX, include_in_schema=False)
    bundles = BundleDB(console.db.central)

    @routes.get("/bundles")
    async def bundle_list(request: Request) -> Response:
        staff = await console.staff(request, admin=True)
        rows = await console.run(bundles.bundles)
        for row in rows:
            manifest = json.loads(row["manifest"])
            row["files"] = sorted(manifest.get("files", {}))
            row["sklearn"] = manifest.get("sklearn_version")
            row["report"] = json.dumps(manifest.get("report"), indent=2)
        rows.reverse()  # the newest, the one waiting for approval, first
        return console.render(request, "bundles.html", staff, bundles=rows)

    @routes.post("/bundles/{version}/approve")
    async def approve(request: Request, version: int) -> Response:
        staff = await console.staff(request, admin=True)
        await console.form(request)
        try:
            await console.run(bundles.approve, version, staff.name)
        except BundleError as exc:
            raise Refusal(404, str(exc)) from exc
        await console.run(console.db.audit, staff.name, "bundle_approve", str(version))
        return RedirectResponse(f"{PREFIX}/bundles", 303)

    return routes
