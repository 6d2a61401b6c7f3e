"""`GET /v1/bundles/latest`: the newest approved bundle for the asking device.

One small request when nothing is new: the box names the version it would
have to beat (`after`) and gets 204 and no body. Otherwise the signed bundle
as bytes, with its version and sha256 in headers (the sha256 lets the box tell
a cut download from a tampered bundle before it reads it). No `from
__future__ import annotations` here: FastAPI must see the dependency itself.
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from edgebox.sync.central.bundle_store import BundleDB
from edgebox.sync.payload import BUNDLES_PATH, MAX_ID, Problem

VERSION_HEADER = "X-Bundle-Version"
SHA256_HEADER = "X-Bundle-Sha256"


def add_bundle_route(
    app: FastAPI,
    db: Any,
    auth: Callable[..., Any],
    errors: dict[int | str, dict[str, Any]],
) -> None:
    """The route, documented with the server's own error answers."""
    bundles = BundleDB(db)

    @app.get(
        BUNDLES_PATH,
        response_class=Response,
        responses={
            200: {"content": {"application/octet-stream": {}}},
            204: {"description": "Nothing newer for this device"},
        }
        | errors,
    )
    async def latest_bundle(
        request: Request,
        device: Annotated[Any, Depends(auth)],
        after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    ) -> Response:
        """The newest approved bundle for this device's group newer than
        `after`, or 204."""
        unknown = sorted(set(request.query_params) - {"after"})
        if unknown:  # a typo (`?afer=7`) would otherwise fetch bundle 1 again
            detail = f"unknown query parameter {unknown[0][:40]!r}"
            return JSONResponse(Problem(detail=detail).model_dump(), 422)
        found = await run_in_threadpool(bundles.newest_for, device.id, after)
        if found is None:
            return Response(status_code=204)
        return Response(
            found["content"],
            media_type="application/octet-stream",
            headers={
                VERSION_HEADER: str(found["version"]),
                SHA256_HEADER: found["sha256"],
            },
        )
