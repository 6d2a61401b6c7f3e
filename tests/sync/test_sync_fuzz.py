"""Fuzz the central API from its own OpenAPI document (schemathesis, every
check it has): whatever arrives, the answer is never a server error, and every
answer is one the document describes (status, body schema, headers, the 405's
`Allow`); data the schema refuses is refused, and data it allows is accepted.
A fixed seed and a bounded number of examples: the same run in CI each time."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from edgebox.sync.central.database import open_central
from edgebox.sync.central.server import create_app
from edgebox.sync.payload import DEVICE_PATTERN, MAX_ID
from tests.support.central import Central, device_name


@pytest.fixture
def device(shared_central: Central) -> tuple[str, str]:
    name = device_name()
    return name, shared_central.add_device(name)


def _document() -> dict[str, Any]:
    """The OpenAPI document the server serves (built here because the schema
    must exist when pytest collects; the test checks that it is the same)."""
    folder = Path(tempfile.mkdtemp(prefix="edgebox-openapi-"))
    db = open_central(str(folder / "schema.db"))
    try:
        return create_app(db).openapi()
    finally:
        db.close()
        shutil.rmtree(folder)


# All checks are on (schemathesis' default set). One expectation is widened,
# for one operation: a chunk that the schema allows may still run past the
# `size` it declares, or complete a file whose bytes are not its `sha256`: a
# 422 that no schema can foresee (positive data is otherwise 2xx, 401, 403,
# 404 or 409 there).
PUT_POSITIVE_STATUSES = ["2xx", "401", "403", "404", "409", "422"]
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20261129,
        "operations": [
            {
                "include-method": "PUT",
                "include-path": "/v1/documents/{document_id}",
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": PUT_POSITIVE_STATUSES
                    }
                },
            }
        ],
    }
)
DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)


def test_the_fuzzed_document_is_the_served_one(shared_central: Central) -> None:
    served = httpx.get(shared_central.url + "/openapi.json").json()
    assert served == json.loads(json.dumps(DOCUMENT))


def _valid_id(value: object) -> bool:
    """What the schema allows for a revision: an integer (3.0 is one too)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return float(value).is_integer() and 0 <= value <= MAX_ID


def _as_this_device(body: object, name: str) -> None:
    """Reach past the 403 and the one rule a schema cannot state (`replaces`
    names an earlier revision), changing only values the schema allows into
    others it allows: what a case negates still reaches the server."""
    if not isinstance(body, dict):
        return
    if isinstance(body.get("device"), str) and re.match(DEVICE_PATTERN, body["device"]):
        body["device"] = name
    records = body.get("records")
    for item in records if isinstance(records, list) else []:
        if not isinstance(item, dict):
            continue
        revision, replaces = item.get("revision"), item.get("replaces")
        if _valid_id(revision) and _valid_id(replaces) and replaces >= revision:  # type: ignore[operator]
            item["replaces"] = None


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    database=None,  # no .hypothesis/ folder in the working tree
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_as_its_document_says(
    case: Any,
    device: tuple[str, str],
    shared_central: Central,
) -> None:
    name, token = device
    _as_this_device(case.body, name)
    case.call_and_validate(
        base_url=shared_central.url, headers={"Authorization": f"Bearer {token}"}
    )


def test_schemathesis_run_with_every_check_passes(
    device: tuple[str, str],
    shared_central: Central,
    tmp_path: Path,
) -> None:
    """`st run --checks all`, as an auditor runs it: its stateful phase too
    (a document put, then read back), which the test above has not. Its
    batches name no registered device (403): the test above reaches the
    records."""
    _, token = device
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        "[[operations]]\n"
        'include-method = "PUT"\n'
        'include-path = "/v1/documents/{document_id}"\n'
        "[operations.checks.positive_data_acceptance]\n"
        f"expected-statuses = {json.dumps(PUT_POSITIVE_STATUSES)}\n"
    )
    run = subprocess.run(
        [
            str(Path(sys.executable).with_name("st")),
            "--config-file", str(config),
            "run", shared_central.url + "/openapi.json",
            "--checks", "all",
            "--seed", "20261129",
            "--max-examples", "20",
            "--workers", "1",
            "--generation-database", "none",
            "--header", f"Authorization: Bearer {token}",
            "--no-color",
        ],
        cwd=tmp_path,  # what it writes (reports) stays there
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
