"""Fuzz the central API from its own OpenAPI document (schemathesis): whatever
arrives, the answer is never a server error."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from edgebox.sync.central.database import open_central
from edgebox.sync.central.server import create_app
from tests.sync_fixtures import Central, device_name, shared_central  # noqa: F401


@pytest.fixture
def device(shared_central: Central) -> tuple[str, str]:  # noqa: F811
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


DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(DOCUMENT)


def test_the_fuzzed_document_is_the_served_one(shared_central: Central) -> None:  # noqa: F811
    served = httpx.get(shared_central.url + "/openapi.json").json()
    assert served == json.loads(json.dumps(DOCUMENT))


@schema.parametrize()
@settings(
    max_examples=60,
    deadline=None,
    database=None,  # no .hypothesis/ folder in the working tree
    suppress_health_check=list(HealthCheck),
)
def test_no_input_makes_a_server_error(
    case: Any,
    device: tuple[str, str],
    shared_central: Central,  # noqa: F811
) -> None:
    name, token = device
    if isinstance(case.body, dict) and "device" in case.body:
        case.body["device"] = name  # reach past the 403 into the records
    case.call_and_validate(
        base_url=shared_central.url,
        headers={"Authorization": f"Bearer {token}"},
        checks=[not_a_server_error],
    )
