"""The central server: an ASGI app (FastAPI) that receives the devices' batches.

The order of checks is the point: the token first (401), then the declared type
(415: UTF-8 JSON for a batch, bytes for a document chunk), then the declared size
(413, before a byte of the body is read), then the body read with the same
limit and gunzipped with limits of its own, counted as it is unpacked (413:
a small gzip can unpack to gigabytes, or 30 MB of JSON to ten million objects;
it is refused before it is parsed), then the envelope (422), the device (403)
and each record (422 naming the records at fault, so the client can dead-letter
exactly those). Only then one transaction stores the batch. Bad input never
reaches the database, so it never becomes a 500.
"""

import json
import math
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.routing import Match

from edgebox import __version__
from edgebox.errors import CentralUnavailable, DocumentConflict, DocumentInvalid
from edgebox.sync.central.auth import device_id_of, token_matches
from edgebox.sync.central.bundle_api import add_bundle_route
from edgebox.sync.central.clock import MAX_CLOCK_SKEW_S
from edgebox.sync.central.console.app import mount_console
from edgebox.sync.central.database import CentralDB
from edgebox.sync.payload import (
    API_VERSION,
    BATCHES_PATH,
    DOCUMENTS_PATH,
    HEALTH_PATH,
    KEY_PATTERN,
    MAX_ID,
    SHA256_PATTERN,
    Batch,
    BatchAck,
    DocumentProgress,
    Envelope,
    Health,
    InvalidRecord,
    Problem,
    Record,
    RecordResult,
)

MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_JSON_BYTES = 32 * 1024 * 1024
MAX_JSON_ITEMS = 1_000_000
"""The most values and object members one batch may hold, counted before it
is parsed: empty records by the million fit in the byte limit (and gzip to
almost nothing), yet take far more memory as Python objects (the figures:
docs/benchmarks.md). A result record holds about 60 to 120."""
MAX_DOCUMENT_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class Device:
    id: int
    name: str


class ApiProblem(Exception):
    """An answer other than success, with its status and a sentence."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        invalid: list[InvalidRecord] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail
        self.invalid, self.headers, self.extra = invalid or [], headers, extra or {}

    def response(self) -> JSONResponse:
        body = Problem(detail=self.detail, invalid=self.invalid).model_dump()
        return JSONResponse(body | self.extra, self.status, headers=self.headers)


class Conflict(Problem):
    received: int


JSON = "application/json"
OCTETS = "application/octet-stream"

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "description": text}
    for code, text in {
        401: "No valid device token",
        403: "Records of another device",
        413: "Body over the size limit",
        415: "Another Content-Type or charset, or an unknown Content-Encoding",
        422: "Malformed data (invalid records are listed)",
        503: "Database unavailable: retry later",
    }.items()
}
_ERRORS[401]["headers"] = {
    "WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}
}
_ERRORS[503]["headers"] = {
    "Retry-After": {"description": "Seconds", "schema": {"type": "integer"}}
}


def create_app(
    db: CentralDB,
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
    max_json_bytes: int = MAX_JSON_BYTES,
    max_json_items: int = MAX_JSON_ITEMS,
    close_db: bool = True,
    secure_cookies: bool = False,
    max_clock_skew_s: float = MAX_CLOCK_SKEW_S,
) -> FastAPI:
    """The central ASGI app over an open database."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if close_db:
            db.close()

    app = FastAPI(
        title="edgebox central",
        version=__version__,
        docs_url=None,  # the Swagger page loads scripts from a CDN: not offline
        redoc_url=None,
        lifespan=lifespan,
    )
    # Acknowledgements name every record: gzip them too, the link is metered.
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    _handlers(app)
    auth = _authenticator(db)
    _batch_route(app, db, auth, max_body_bytes, (max_json_bytes, max_json_items))
    _document_routes(app, db, auth, max_body_bytes)
    # Signed bundles down to the boxes.
    add_bundle_route(app, db, auth, {k: _ERRORS[k] for k in (401, 422, 503)})
    # Staff pages: a session cookie there, a device token here, never crossed.
    mount_console(
        app, db, secure_cookies=secure_cookies, max_clock_skew_s=max_clock_skew_s
    )

    @app.get(HEALTH_PATH, responses={503: _ERRORS[503]})
    async def health() -> Health:
        """Liveness and database reachability (also the client's online probe)."""
        await run_in_threadpool(db.ping)
        return Health(status="ok", api=API_VERSION, version=__version__)

    app.openapi = _openapi_with_batch(app)  # type: ignore[method-assign]
    return app


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiProblem)
    async def on_problem(_: Request, exc: ApiProblem) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def on_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return ApiProblem(422, _reason(exc.errors())).response()

    @app.exception_handler(CentralUnavailable)
    async def on_down(_: Request, exc: CentralUnavailable) -> JSONResponse:
        retry = {"Retry-After": "5"}
        return ApiProblem(503, "the database is unavailable", headers=retry).response()

    @app.exception_handler(HTTPException)
    async def on_http(request: Request, exc: HTTPException) -> JSONResponse:
        """Starlette's own answers (404, 405) in the same shape as the others;
        a 405 names every method of its path (Starlette names only those of
        the first route it matched: GET for /v1/documents/{id}, not PUT)."""
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return ApiProblem(exc.status_code, str(exc.detail), headers=headers).response()


def _allowed_methods(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


def _authenticator(db: CentralDB) -> Callable[..., Device]:
    bearer = HTTPBearer(auto_error=False, description="The device token")

    def authenticate(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Device:
        token = credentials.credentials if credentials else ""
        device_id = device_id_of(token)
        held = db.token_hash(device_id) if device_id is not None else None
        if device_id is None or not token_matches(token, held[1] if held else None):
            raise ApiProblem(
                401,
                "a valid device token is required",
                headers={"WWW-Authenticate": "Bearer"},
            )
        assert held is not None
        return Device(device_id, held[0])

    return authenticate


def _batch_route(
    app: FastAPI,
    db: CentralDB,
    auth: Callable[..., Device],
    limit: int,
    unpacked: tuple[int, int],
) -> None:
    body_doc = {
        "required": True,
        "content": {JSON: {"schema": {"$ref": "#/components/schemas/Batch"}}},
    }

    @app.post(
        BATCHES_PATH,
        responses={k: _ERRORS[k] for k in (401, 403, 413, 415, 422, 503)},
        openapi_extra={"requestBody": body_doc},
    )
    async def post_batch(
        request: Request,
        device: Annotated[Device, Depends(auth)],
        idempotency_key: Annotated[str, Header(pattern=KEY_PATTERN)],
    ) -> BatchAck:
        """Store a batch of records (UTF-8 JSON, gzipped welcome: as
        `Content-Encoding: gzip`, one gzip member); replays are harmless."""
        _require_media_type(request, JSON)
        body = await _read_body(request, limit)
        encoding = request.headers.get("content-encoding", "")
        # In a worker thread: a large batch takes a while to unpack, parse and
        # validate, and the event loop must keep answering (the health check).
        envelope, records = await run_in_threadpool(
            lambda: _validate(_decode_json(body, encoding, *unpacked), device)
        )
        statuses = await run_in_threadpool(
            db.store_batch, device.id, idempotency_key, envelope.heartbeat, records
        )
        results = [
            RecordResult(
                kind=r.kind, document_id=r.document_id, revision=r.revision, status=s
            )
            for r, s in zip(records, statuses, strict=True)
        ]
        return BatchAck(batch_id=idempotency_key, device=device.name, results=results)


def _document_routes(
    app: FastAPI, db: CentralDB, auth: Callable[..., Device], limit: int
) -> None:
    doc_id = Path(ge=1, le=MAX_ID)

    @app.get(
        DOCUMENTS_PATH + "/{document_id}",
        responses={k: _ERRORS[k] for k in (401, 422, 503)}
        | {404: {"model": Problem, "description": "Not uploaded yet"}},
    )
    async def document_progress(
        document_id: Annotated[int, doc_id],
        device: Annotated[Device, Depends(auth)],
    ) -> DocumentProgress:
        """How much of a raw document the server holds: where to resume."""
        held = await run_in_threadpool(db.document, device.id, document_id)
        if held is None:
            raise ApiProblem(404, "no upload of this document yet")
        return DocumentProgress(**held)

    @app.put(
        DOCUMENTS_PATH + "/{document_id}",
        responses={k: _ERRORS[k] for k in (401, 413, 415, 422, 503)}
        | {409: {"model": Conflict, "description": "Resume elsewhere"}},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {OCTETS: {"schema": {"type": "string", "format": "binary"}}},
            }
        },
    )
    async def put_chunk(
        request: Request,
        document_id: Annotated[int, doc_id],
        device: Annotated[Device, Depends(auth)],
        sha256: Annotated[str, Query(pattern=SHA256_PATTERN)],
        size: Annotated[int, Query(ge=0, le=MAX_DOCUMENT_BYTES)],
        start: Annotated[int, Query(ge=0, le=MAX_DOCUMENT_BYTES)],
    ) -> DocumentProgress:
        """Add the chunk of a raw document that starts at byte `start`."""
        _require_media_type(request, OCTETS)
        data = await _read_body(request, limit)
        try:
            held = await run_in_threadpool(
                lambda: db.append_chunk(
                    device.id, document_id, sha256=sha256, size=size, start=start,
                    data=data,
                )
            )  # fmt: skip
        except DocumentConflict as exc:
            raise ApiProblem(409, str(exc), extra={"received": exc.received}) from exc
        except DocumentInvalid as exc:
            raise ApiProblem(422, str(exc)) from exc
        return DocumentProgress(**held)


def _require_media_type(request: Request, expected: str) -> None:
    """415 unless the body is declared as `expected` (JSON only in UTF-8:
    RFC 8259 allows no other charset between systems)."""
    media, *params = request.headers.get("content-type", "").split(";")
    if media.strip().lower() != expected:
        shown = media.strip()[:40] or "none"
        raise ApiProblem(415, f"the body must be {expected} (Content-Type: {shown})")
    for param in params:
        name, _, value = param.partition("=")
        charset = value.strip().strip('"').lower()
        if expected == JSON and name.strip().lower() == "charset":
            if charset not in ("utf-8", "utf8"):
                raise ApiProblem(415, f"JSON must be UTF-8, not {charset[:20]!r}")


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it is known to be too big."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiProblem(413, f"the body is over the limit of {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ApiProblem(413, f"the body is over the limit of {limit} bytes")
    return bytes(body)


def _decode_json(body: bytes, encoding: str, limit: int, items: int) -> Any:
    """The JSON value of a body. Its size and its number of items are counted
    while it is unpacked, and it is refused as soon as either is over its
    limit: before it is parsed, never after."""
    encoding = encoding.strip().lower()
    text: bytes | bytearray = body
    if encoding == "gzip":
        text = _gunzip(body, limit, items)
    elif encoding in ("", "identity"):
        _counted(body, 0, items)
    else:
        raise ApiProblem(415, f"unsupported Content-Encoding {encoding[:32]!r}")
    try:
        # Decoded here: json.loads would take UTF-16 and UTF-32 as well.
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiProblem(422, "the body is not valid JSON: not UTF-8") from exc
    try:
        return json.loads(decoded, parse_constant=_no_constant, parse_float=_finite)
    except (ValueError, RecursionError) as exc:
        raise ApiProblem(422, "the body is not valid JSON") from exc


_PIECE = 1024 * 1024


def _gunzip(body: bytes, limit: int, items: int) -> bytearray:
    """The unpacked body, a megabyte at a time: a gzip of ten million empty
    records stops being unpacked at its first million items."""
    inflater = zlib.decompressobj(wbits=31)
    data, counted, pending = bytearray(), 0, body
    try:
        while not inflater.eof:
            piece = inflater.decompress(pending, _PIECE)
            pending = inflater.unconsumed_tail
            if not piece and not pending:
                break  # the input ended before the gzip did
            data += piece
            if len(data) > limit:
                raise ApiProblem(413, f"the unpacked body is over {limit} bytes")
            counted = _counted(piece, counted, items)
    except zlib.error as exc:
        raise ApiProblem(422, "the body is not valid gzip") from exc
    if not inflater.eof:
        raise ApiProblem(422, "the gzip body is truncated")
    if inflater.unused_data:  # what a reader of the first member never sees
        raise ApiProblem(422, "the gzip body goes on after its end (one member only)")
    return data


def _counted(text: bytes, counted: int, items: int) -> int:
    """`counted` plus the items in `text`; 413 once over `items`."""
    counted += _json_items(text)
    if counted > items:
        raise ApiProblem(413, f"the body holds over {items} JSON values")
    return counted


def _json_items(text: bytes) -> int:
    """At least the number of values and object members in a JSON text, from
    its punctuation: each is opened by `[` or `{`, or follows `,` or `:`. The
    marks inside strings count too, so a batch rich in punctuation may be
    refused as too large (the client then sends it in halves), but nothing is
    parsed and no Python object is made per item."""
    return sum(text.count(mark) for mark in (b",", b":", b"[", b"{"))


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value


def _validate(raw: Any, device: Device) -> tuple[Envelope, list[Record]]:
    try:
        envelope = Envelope.model_validate(raw)
    except ValidationError as exc:
        raise ApiProblem(422, _reason(exc.errors())) from None
    if envelope.device != device.name:
        raise ApiProblem(403, "this token may only write its own device's records")
    records: list[Record] = []
    invalid: list[InvalidRecord] = []
    for index, item in enumerate(envelope.records):
        try:
            records.append(Record.model_validate(item))
        except ValidationError as exc:
            invalid.append(InvalidRecord(index=index, reason=_reason(exc.errors())))
    if invalid:
        raise ApiProblem(422, f"{len(invalid)} invalid record(s)", invalid=invalid)
    return envelope, records


def _reason(errors: Any) -> str:
    """The first validation error, where and what, never the input value (which
    may be document text)."""
    if not errors:
        return "invalid data"
    first = errors[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    return f"{where}: {first.get('msg', 'invalid')}"[:300]


def _openapi_with_batch(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """FastAPI's document plus the batch schemas the route reads by hand."""
    from fastapi.openapi.utils import get_openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, routes=app.routes
            )
            models: list[tuple[type[BaseModel], Any]] = [(Batch, "validation")]
            _, defs = models_json_schema(
                models, ref_template="#/components/schemas/{model}"
            )
            schema.setdefault("components", {}).setdefault("schemas", {}).update(
                defs["$defs"]
            )
            app.openapi_schema = schema
        return app.openapi_schema

    return openapi
