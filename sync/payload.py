"""The sync protocol (v1): one schema shared by the device client and the server.

A batch carries the device's name, a heartbeat and records. A record is keyed by
(kind, document_id, revision) within its device; like an ODK submission ID, the
key is made on the device, so an identical re-send is recognised and the same key
with other content is a conflict. `replaces` points a staff review at the
revision it corrects. Every string the server stores is constrained here, so bad
input fails validation (422) and never reaches the database.
"""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    StrictFloat,
    ValidationError,
    model_validator,
)
from pydantic import Strict as StrictNumber

from edgebox.config import MAX_BATCH_RECORDS

API_VERSION = "v1"
BATCHES_PATH = "/v1/batches"
HEALTH_PATH = "/v1/health"
DOCUMENTS_PATH = "/v1/documents"
BUNDLES_PATH = "/v1/bundles/latest"
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_RECORDS = MAX_BATCH_RECORDS
MAX_ID = 2**62
DEVICE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
KEY_PATTERN = r"^[A-Za-z0-9_-]{8,128}$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"
PRINTABLE = r"^[\x20-\x7e]{0,64}$"
TIMESTAMP = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{8,15}(Z|[+-][0-9]{2}:[0-9]{2})?$"


def _integral(value: Any) -> Any:
    """JSON Schema's integer is a number without a fraction: 3.0 is one."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# Integers as JSON writes them: never a string ("0") nor a boolean. The bounds
# come before the conversion, so that the JSON schema states them (as minimum
# and maximum) where a generator and a reader of the document look.
_AS_JSON = (StrictNumber(), BeforeValidator(_integral))
Count = Annotated[int, Field(ge=0, le=MAX_ID), *_AS_JSON]
Id = Annotated[int, Field(ge=1, le=MAX_ID), *_AS_JSON]


INSTALL_PATTERN = r"^[0-9a-f]{32}$"


class Kind(StrEnum):
    TRIAGE = "triage"
    QUARANTINE = "quarantine"


PROTOCOL_VERSION = 2
"""What the box's heartbeat says it speaks: 2 added `protocol`, `clock` and
`bundle_version`; a heartbeat without `protocol` is from a box of protocol 1."""


class Strict(BaseModel):
    """Numbers only as JSON numbers: `"revision": "0"` or `"pending": true` is
    refused, not converted. A field the schema does not name is ignored, not
    refused: a fleet never upgrades at once, and a centre must take a newer
    box's batch (whose extra fields it cannot use yet) as well as an older
    box's (without the fields added since)."""

    model_config = ConfigDict(extra="ignore")


class Heartbeat(Strict):
    """What the device reports about itself with every push."""

    pending: Count
    dead: Count = 0
    app_version: str | None = Field(default=None, pattern=PRINTABLE)
    model_sha256: str | None = Field(default=None, pattern=SHA256_PATTERN)
    rules_version: str | None = Field(default=None, pattern=PRINTABLE)
    reviewed: Count = 0
    category_override_rate: StrictFloat | None = Field(default=None, ge=0, le=1)
    urgency_override_rate: StrictFloat | None = Field(default=None, ge=0, le=1)
    install: str | None = Field(default=None, pattern=INSTALL_PATTERN)
    """The box's per-install identity: a new one under an old device name is a
    reinstalled box, not a replay."""
    protocol: Count | None = None
    """The protocol version the box speaks (PROTOCOL_VERSION on its side)."""
    clock: str | None = Field(default=None, pattern=TIMESTAMP)
    """The box's own UTC time when it sent the batch: the centre's received
    time minus this is the box's clock skew."""
    bundle_version: Count | None = None
    """The centre's bundle the box runs (None: none yet)."""


MAX_SHARED_CHARS = 50_000
"""The longest document text a shared review carries (the box cuts it): a
whole long scan would make the record too large for a batch, and the
classifiers read words, headers and the opening lines."""


class SharedReview(Strict):
    """`content.shared_review` of a staff review sent with `[sync]
    share_reviews`: the document's text and the labels a person chose."""

    text: str = Field(min_length=1, max_length=MAX_SHARED_CHARS)
    category: str | None = Field(default=None, pattern=PRINTABLE)
    urgency: str | None = Field(default=None, pattern=PRINTABLE)
    reviewed_at: str = Field(pattern=TIMESTAMP)


class Record(Strict):
    """One outbox row: a triage revision, a staff review or a quarantine event."""

    kind: Kind
    document_id: Id
    revision: Count
    replaces: Count | None = None
    created_at: str = Field(pattern=TIMESTAMP)
    content: dict[str, JsonValue]

    @model_validator(mode="after")
    def _replaces_an_earlier_revision(self) -> Record:
        if self.replaces is not None and self.replaces >= self.revision:
            raise ValueError("replaces must name an earlier revision")
        return self

    @model_validator(mode="after")
    def _shared_review_is_well_formed(self) -> Record:
        shared = self.content.get("shared_review")
        if shared is not None:
            try:
                SharedReview.model_validate(shared)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(part) for part in first["loc"]) or "itself"
                raise ValueError(f"shared_review {where}: {first['msg']}") from None
        return self

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.kind.value, self.document_id, self.revision)

    def content_sha256(self) -> str:
        """The hash that tells an identical replay from a conflict."""
        return hashlib.sha256(canonical_json(self.stored()).encode()).hexdigest()

    def stored(self) -> dict[str, Any]:
        return {"replaces": self.replaces, "content": self.content}


class Batch(Strict):
    """`POST /v1/batches`: the device's records and its heartbeat (records may
    be empty: a heartbeat alone)."""

    device: str = Field(pattern=DEVICE_PATTERN)
    heartbeat: Heartbeat
    records: list[Record] = Field(max_length=MAX_RECORDS)


class Envelope(Strict):
    """A batch read before its records: they are validated one by one, so one
    bad record can be named (and dead-lettered) without failing the rest."""

    device: str = Field(pattern=DEVICE_PATTERN)
    heartbeat: Heartbeat
    records: list[Any] = Field(max_length=MAX_RECORDS)


class RecordResult(BaseModel):
    kind: Kind
    document_id: int
    revision: int
    status: Literal["created", "duplicate", "conflict"]


class BatchAck(BaseModel):
    """The only answer that counts as success: it echoes the idempotency key."""

    batch_id: str
    device: str
    results: list[RecordResult]


class InvalidRecord(BaseModel):
    index: int
    reason: str


class Problem(BaseModel):
    """Every error answer: a sentence, and for a 422 the records at fault."""

    detail: str
    invalid: list[InvalidRecord] = Field(default_factory=list)


class DocumentProgress(BaseModel):
    """How much of a raw document the server holds (for resuming an upload)."""

    document_id: int
    sha256: str
    size: int
    received: int
    complete: bool


class Health(BaseModel):
    status: Literal["ok"]
    api: str
    version: str


def canonical_json(value: Any) -> str:
    """One spelling per value: sorted keys, no spaces, ASCII only (safe in any
    text column, including a NUL or a lone surrogate inside a string)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def batch_key(device: str, records: list[dict[str, Any]]) -> str:
    """An idempotency key that the same records always get, across restarts."""
    digest = hashlib.sha256(device.encode())
    for record in records:
        digest.update(canonical_json(record).encode())
    return digest.hexdigest()[:40]
