"""The device side: push the outbox to the central server, store-and-forward.

A row leaves the `pending` state only two ways: the server's acknowledgement
names it (then `sent`), or the server says it can never be accepted (invalid,
or another version already holds its key: then `dead`, with the reason, out of
the queue's way). Anything else (no link, a cut connection, a timeout, 429,
5xx, a captive portal's 200 page) leaves it pending and is retried with capped,
jittered backoff; a run gives up after a bounded number of tries and a time
limit, and the next run starts again. Replays are harmless: the server keys
every record by (device, kind, document, revision).
"""

from __future__ import annotations

import gzip
import json
import os
import random
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import ValidationError

from edgebox import __version__
from edgebox.config import SyncConfig
from edgebox.errors import StoreError, SyncError
from edgebox.store import Store, now
from edgebox.store.outbox import OutboxRow, sent_cutoff
from edgebox.sync.backoff import Retry, backoff_delay, parse_retry_after
from edgebox.sync.device_report import heartbeat
from edgebox.sync.payload import (
    BATCHES_PATH,
    HEALTH_PATH,
    IDEMPOTENCY_HEADER,
    BatchAck,
    Problem,
    batch_key,
    canonical_json,
)
from edgebox.sync.privacy import outgoing
from edgebox.sync.sharing import SHARED_KEY, is_shared_review, shared_review

T = TypeVar("T")


@dataclass
class PushReport:
    """What one run did; `error` is None when everything pending was sent."""

    acknowledged: int = 0
    duplicates: int = 0
    dead: int = 0
    requests: int = 0
    bytes_sent: int = 0
    documents: int = 0
    pending: int = 0
    error: str | None = None
    problems: list[str] | None = None
    """Raw documents that could not be sent (missing or damaged original,
    another file under the id): named, and never a reason to think the link
    is down. None: the documents were not looked at in this run."""
    bundle: str | None = None
    """What the bundle check did (switched, refused and why, interrupted);
    None when nothing was new or bundles are off."""

    @property
    def ok(self) -> bool:
        return self.error is None


class SyncClient:
    """Pushes one store's outbox to the central server named in the settings."""

    def __init__(
        self,
        store: Store,
        settings: SyncConfig,
        *,
        model_path: Path | None = None,
        data_dir: Path | None = None,
        max_attempts: int = 6,
        backoff_base_s: float = 1.0,
        backoff_cap_s: float = 60.0,
        max_run_s: float = 900.0,
        stop: threading.Event | None = None,
        sleep: Callable[[float], object] | None = None,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        missing = missing_settings(settings)
        if missing:
            raise SyncError(f"sync is off: {missing}")
        self.store, self.settings, self.model_path = store, settings, model_path
        self.data_dir = data_dir
        """Where the box keeps its bundles; None: no bundle is fetched."""
        self.max_attempts, self.max_run_s = max_attempts, max_run_s
        self.backoff = (backoff_base_s, backoff_cap_s)
        # A backoff wait ends early when the service stops: shutdown never
        # waits out a retry (systemd would kill the box mid-write).
        self.stop_event = stop or threading.Event()
        self._sleep = sleep or self.stop_event.wait
        self._clock, self._jitter = clock, jitter
        try:  # httpx reads SSL_CERT_FILE (a private CA) here
            self.http = httpx.Client(
                base_url=settings.url.rstrip("/"),
                timeout=settings.timeout_s,
                headers={
                    "Authorization": f"Bearer {settings.token}",
                    "User-Agent": f"edgebox/{__version__}",
                },
            )
        except OSError as exc:  # ssl.SSLError is one too
            raise SyncError(_unreadable_trust(exc)) from None

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- one run -----------------------------------------------------------

    def push(self) -> PushReport:
        """Send what is pending (emergencies first), then the raw documents if
        the settings say so; never raises for network trouble."""
        report = PushReport()
        deadline = self._clock() + self.max_run_s
        self.store.update_sync_state({"last_attempt": now()})
        try:
            self._push_records(report, deadline)
            if self.settings.send_documents:
                from edgebox.sync.uploads import push_documents

                push_documents(self, report, deadline)
            if self.data_dir is not None and self.settings.bundle_public_key:
                from edgebox.sync.bundle_fetch import fetch_bundle

                key = self.settings.bundle_public_key
                report.bundle = fetch_bundle(self, self.data_dir, key)
        except SyncError as exc:
            report.error = str(exc)
        finally:
            self._record_run(report)
            self._prune_sent()
        return report

    def _prune_sent(self) -> None:
        """Sent rows past `[sync] keep_sent_days` leave the outbox (the audit
        keeps that they went)."""
        if (cutoff := sent_cutoff(self.settings.keep_sent_days)) is not None:
            self.store.prune_sent_outbox(sent_before=cutoff)

    def probe(self) -> bool:
        """One cheap connection attempt: is the central server reachable now?"""
        timeout = min(10.0, self.settings.timeout_s)
        try:
            response = self.http.get(HEALTH_PATH, timeout=timeout)
            return response.status_code == 200 and response.json().get("api") == "v1"
        except (httpx.HTTPError, ValueError, AttributeError):
            return False

    def _push_records(self, report: PushReport, deadline: float) -> None:
        limit = max(1, self.settings.batch_records)
        beat_sent = False
        while True:
            self._check_stop()
            if self._clock() > deadline:
                raise SyncError("the run's time limit passed; the rest waits")
            rows, records = self._next_batch(limit, report)
            if not rows and beat_sent:
                return
            outcome = self._send_batch(rows, records, report, deadline)
            beat_sent = True
            if outcome == "too_large":
                if len(rows) == 1:
                    self._dead(rows[0], "too large for the central server", report)
                limit = max(1, len(rows) // 2)
            else:
                limit = min(self.settings.batch_records, limit * 2)

    def _next_batch(
        self, limit: int, report: PushReport
    ) -> tuple[list[OutboxRow], list[dict[str, Any]]]:
        """Pending rows in priority order, cut at the byte budget (at least one)."""
        rows: list[OutboxRow] = []
        records: list[dict[str, Any]] = []
        size = 0
        for row in self.store.pending_outbox(limit=limit):
            try:
                record = wire_record(row, self.settings, text_of=self._text_of)
            except ValueError as exc:
                self._dead(row, f"unreadable outbox payload: {exc}", report)
                continue
            grows = len(canonical_json(record))
            if rows and size + grows > self.settings.batch_bytes:
                break
            rows.append(row)
            records.append(record)
            size += grows
        return rows, records

    def _text_of(self, doc_id: int) -> str | None:
        """A document's extracted text (None once retention removed it)."""
        try:
            return self.store.document(doc_id).get("text")
        except StoreError:
            return None

    def _send_batch(
        self,
        rows: list[OutboxRow],
        records: list[dict[str, Any]],
        report: PushReport,
        deadline: float,
    ) -> str:
        key = batch_key(self.settings.device, records)
        body = {
            "device": self.settings.device,
            "heartbeat": heartbeat(self.store, records, model_path=self.model_path),
            "records": records,
        }
        headers = {
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
            IDEMPOTENCY_HEADER: key,
        }

        def send() -> httpx.Response:
            # The clock as of this try, not the first: the centre reads the
            # box's clock skew from it, and a retry may come minutes later.
            body["heartbeat"]["clock"] = now()
            data = gzip.compress(
                json.dumps(body, separators=(",", ":")).encode(), compresslevel=6
            )
            report.requests += 1
            report.bytes_sent += len(data)
            return self.http.post(BATCHES_PATH, content=data, headers=headers)

        def accept(response: httpx.Response) -> str:
            return self._answer(response, key, rows, report)

        try:
            return self.with_retries(send, accept, deadline)
        except Retry as exc:
            self.store.note_outbox_failure([row.id for row in rows], exc.message)
            raise SyncError(
                f"no acknowledgement from the server: {exc.message}"
            ) from None

    def _answer(
        self, response: httpx.Response, key: str, rows: list[OutboxRow],
        report: PushReport,
    ) -> str:  # fmt: skip
        status = response.status_code
        if status == 200:
            self._apply_ack(_ack(response, key, self.settings.device), rows, report)
            return "ok"
        if status == 413:
            return "too_large"
        if status == 422:
            self._dead_letter(response, rows, report)
            return "ok"
        raise Retry(f"HTTP {status}")

    def _apply_ack(
        self, ack: BatchAck, rows: list[OutboxRow], report: PushReport
    ) -> None:
        by_key = {(r.kind, r.document_id, r.revision): r for r in rows}
        sent: list[int] = []
        for result in ack.results:
            row = by_key.pop(
                (result.kind.value, result.document_id, result.revision), None
            )
            if row is None:
                continue
            if result.status == "conflict":
                reason = (
                    "conflict: the central server holds other content for it"
                    " (a box reinstalled under an existing device name? register"
                    " it under a new name with `edgebox central add-device`)"
                )
                self._dead(row, reason, report)
            else:
                sent.append(row.id)
                report.duplicates += result.status == "duplicate"
        if rows and not sent and len(by_key) == len(rows):
            raise Retry("the acknowledgement names none of the records sent")
        self.store.mark_outbox_sent(sent)
        report.acknowledged += len(sent)
        self.store.update_sync_state({"last_success": now()})

    def _dead_letter(
        self, response: httpx.Response, rows: list[OutboxRow], report: PushReport
    ) -> None:
        try:
            problem = Problem.model_validate_json(response.content)
        except ValidationError:
            raise Retry("HTTP 422 without the server's explanation") from None
        named = [item for item in problem.invalid if 0 <= item.index < len(rows)]
        if not named:
            raise SyncError(f"the central server refused the batch: {problem.detail}")
        for item in named:
            self._dead(rows[item.index], f"rejected as invalid: {item.reason}", report)

    def _dead(self, row: OutboxRow, reason: str, report: PushReport) -> None:
        self.store.mark_outbox_dead(row.id, reason)
        report.dead += 1

    # -- retries -----------------------------------------------------------

    def with_retries(
        self,
        send: Callable[[], httpx.Response],
        accept: Callable[[httpx.Response], T],
        deadline: float,
    ) -> T:
        """Try `send` until `accept` takes its answer, with capped, jittered
        backoff; raises Retry (the last problem) when tries or time run out."""
        base_s, cap_s = self.backoff
        problem = Retry("no try was made")
        for attempt in range(self.max_attempts):
            try:
                return accept(_refuse_auth(_retry_server_errors(send())))
            except httpx.RequestError as exc:
                # Transport trouble, and also a reply that cannot be decoded (a
                # captive portal's broken gzip) or a redirect loop: all retried.
                problem = Retry(network_problem(exc))
            except Retry as exc:
                problem = exc
            delay = backoff_delay(
                attempt,
                base_s=base_s,
                cap_s=cap_s,
                jitter=self._jitter(),
                retry_after_s=problem.retry_after_s,
            )
            if attempt + 1 >= self.max_attempts or self._clock() + delay > deadline:
                break
            self._sleep(delay)
            self._check_stop()
        raise problem

    def _check_stop(self) -> None:
        if self.stop_event.is_set():
            raise SyncError("the service is stopping; the rest waits for next time")

    def _record_run(self, report: PushReport) -> None:
        counts = self.store.outbox_counts()
        report.pending = counts.get("pending", 0)
        state = self.store.sync_state()
        values: dict[str, Any] = {
            "pending": report.pending,
            "dead": counts.get("dead", 0),
            "bytes_sent": int(state.get("bytes_sent") or 0) + report.bytes_sent,
            "records_sent": int(state.get("records_sent") or 0) + report.acknowledged,
            "last_error": report.error or "",
        }
        if report.problems is not None:  # the documents were looked at
            more = len(report.problems) - 3
            values["document_problems"] = "; ".join(report.problems[:3]) + (
                f" (and {more} more)" if more > 0 else ""
            )
        if report.error:
            values["last_error_at"] = now()
        self.store.update_sync_state(values)


def missing_settings(settings: SyncConfig) -> str:
    """What a push still needs from the settings, in words that say where to
    set it; empty when nothing is missing."""
    if not settings.url:
        return "set [sync] url in edgebox.toml"
    if not settings.device:
        return "set [sync] device in edgebox.toml (the name given to add-device)"
    if not settings.token:
        return (
            "set EDGEBOX_SYNC_TOKEN to the token `edgebox central add-device` printed"
        )
    return ""


# OpenSSL's verification error codes that a volunteer fixes otherwise than by
# trusting a CA: the name in [sync] url, or the box's clock.
_NAME_MISMATCH = (62, 64)  # X509_V_ERR_HOSTNAME_MISMATCH, _IP_ADDRESS_MISMATCH
_OUTSIDE_DATES = (9, 10)  # X509_V_ERR_CERT_NOT_YET_VALID, _CERT_HAS_EXPIRED


def network_problem(exc: BaseException) -> str:
    """A failed request in words a volunteer can act on. A certificate the box
    refuses is named as such: "ConnectError" sends people to the cable while
    the fix is a CA file, the url's host name or the clock."""
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, ssl.SSLCertVerificationError):
        cause = cause.__cause__ or cause.__context__
    if cause is None:
        return f"network error ({type(exc).__name__})"
    return f"network error: {_certificate_problem(cause)}"


def _certificate_problem(error: ssl.SSLCertVerificationError) -> str:
    reason = str(error.verify_message or error.reason or error).rstrip(".")
    if error.verify_code in _NAME_MISMATCH:
        return (
            f"the server's certificate is for another name ({reason}); use the"
            f" name it was made for in [sync] url (or a captive portal answered)"
        )
    if error.verify_code in _OUTSIDE_DATES:
        return (
            f"the server's certificate is not valid now ({reason}); check this"
            f" box's date and time (`date`), then the certificate's dates"
        )
    return (
        f"the server's certificate is not trusted ({reason}); set SSL_CERT_FILE"
        f" to your CA's certificate (for a self-signed one: the server's own"
        f" certificate file)"
    )


def _unreadable_trust(exc: OSError) -> str:
    """Why TLS could not be set up: most likely an SSL_CERT_FILE that names no
    readable PEM file (a typo in the path, a DER file)."""
    why = exc.strerror or str(exc)
    path = os.environ.get("SSL_CERT_FILE")
    if path:
        return f"SSL_CERT_FILE={path} cannot be used: {why}; it must name a PEM file"
    return f"cannot set up TLS for sync: {why}"


def wire_record(
    row: OutboxRow,
    settings: SyncConfig,
    *,
    text_of: Callable[[int], str | None] | None = None,
) -> dict[str, Any]:
    """An outbox row as a protocol record, carrying what the settings let
    leave the box (sync/privacy.py); a staff review names the revision it
    replaces, and with `share_reviews` carries its document's text
    (sync/sharing.py; `text_of` reads it)."""
    content = json.loads(row.payload)
    if not isinstance(content, dict):
        raise ValueError("the payload is not a JSON object")
    shared = None
    if settings.share_reviews and text_of is not None and is_shared_review(content):
        shared = shared_review(content, text_of(row.document_id), row.created_at)
    content = outgoing(content, settings)
    if shared is not None:
        content[SHARED_KEY] = shared
    json.dumps(content, allow_nan=False)  # NaN is not JSON: the server refuses it
    revision = int(row.revision)
    replaces = revision - 1 if row.kind == "triage" and revision > 1 else None
    return {
        "kind": row.kind,
        "document_id": int(row.document_id),
        "revision": revision,
        "replaces": replaces,
        "created_at": row.created_at,
        "content": content,
    }


def _ack(response: httpx.Response, key: str, device: str) -> BatchAck:
    """The server's acknowledgement, or Retry: a captive portal answers 200 too,
    but it cannot echo the idempotency key."""
    if "json" not in response.headers.get("content-type", ""):
        raise Retry("a 200 answer that is not the server's (captive portal?)")
    try:
        ack = BatchAck.model_validate_json(response.content)
    except ValidationError:
        raise Retry("a 200 answer that is not an acknowledgement") from None
    if ack.batch_id != key or ack.device != device:
        raise Retry("an acknowledgement of another batch")
    return ack


def _retry_server_errors(response: httpx.Response) -> httpx.Response:
    status = response.status_code
    if status == 429 or status >= 500 or 300 <= status < 400:
        wait = parse_retry_after(response.headers.get("retry-after"))
        raise Retry(f"HTTP {status}", wait)
    return response


def _refuse_auth(response: httpx.Response) -> httpx.Response:
    if response.status_code == 401:
        raise SyncError("the central server refused the device token (HTTP 401)")
    if response.status_code == 403:
        raise SyncError(
            "the central server refused this device's records (HTTP 403): the"
            " token belongs to another device than [sync] device says"
        )
    return response


def sync_status(store: Store) -> dict[str, Any]:
    """Sync state for `edgebox status` / `edgebox sync --status`: counts, times,
    bytes, and each dead-lettered row with its reason."""
    dead = [
        {
            "outbox_id": row.id,
            "kind": row.kind,
            "document_id": row.document_id,
            "revision": row.revision,
            "reason": row.last_error,
        }
        for row in store.dead_outbox()
    ]
    state = store.sync_state()
    keys = (
        "last_attempt",
        "last_success",
        "last_error",
        "last_error_at",
        "document_problems",
    )
    return {
        "outbox": store.outbox_counts(),
        **{key: state.get(key) or None for key in keys},
        "bytes_sent": int(state.get("bytes_sent") or 0),
        "records_sent": int(state.get("records_sent") or 0),
        "dead": dead,
    }
