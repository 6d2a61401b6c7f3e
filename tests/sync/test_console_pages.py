"""The console's pages over a real server and database (SQLite, and
PostgreSQL when EDGEBOX_TEST_POSTGRES_URL is set): clinics, emergencies with
keyset pagination, search, a document's revisions, CSV, French."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import httpx
import pytest

from tests.support.central import Central, database_url, running_central
from tests.support.console import add_user, push, signed_in, triage


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def filled(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Central, httpx.Client]]:
    """Two clinics: 60 emergencies and 3 routine results in clinic-a, one
    urgent result in clinic-b; a viewer signed in."""
    folder = tmp_path_factory.mktemp("console")
    with database_url(request.param, folder) as url, running_central(url, folder) as c:
        token_a, token_b = c.add_device("clinic-a"), c.add_device("clinic-b")
        emergencies = [
            triage("emergency", f"Convulsions, case {n}", category="referral")
            for n in range(60)
        ]
        routine = [
            triage("routine", f"Lab result {n}: malaria negative", category="lab")
            for n in range(3)
        ]
        assert push(c, "clinic-a", token_a, emergencies + routine).is_success
        urgent = triage("urgent", "Fever 39.5 C for three days", category="referral")
        assert push(c, "clinic-b", token_b, [urgent]).is_success
        add_user(c, "viewer", "viewer")
        client = signed_in(c, "viewer")
        try:
            yield c, client
        finally:
            client.close()


def _rows(html: str) -> list[str]:
    """The document links of a list page, in order."""
    return re.findall(r'/documents/(\d+)">', html)


def test_the_clinics_page_counts_documents_per_urgency(
    filled: tuple[Central, httpx.Client],
) -> None:
    _, client = filled
    exported = client.get("/console/?format=csv")
    table = {r["name"]: r for r in csv.DictReader(io.StringIO(exported.text))}
    assert sorted(table) == ["clinic-a", "clinic-b"]
    assert table["clinic-a"]["documents"] == "63"
    assert table["clinic-b"]["documents"] == "1"
    page = client.get("/console/").text
    assert "clinic-a" in page and "Silent for over" not in page


def test_emergencies_page_through_with_a_keyset_cursor(
    filled: tuple[Central, httpx.Client],
) -> None:
    _, client = filled
    first = client.get("/console/emergencies").text
    assert len(_rows(first)) == 50
    cursor = re.search(r'id="next" href="\?([^"]+)"', first)
    assert cursor is not None
    second = client.get("/console/emergencies?" + cursor.group(1).replace("&amp;", "&"))
    seen = _rows(first) + _rows(second.text)
    assert len(seen) == 61 and 'id="next"' not in second.text
    # 60 emergencies of clinic-a and the urgent one of clinic-b, no routine.
    assert "Lab result" not in first + second.text


def test_emergencies_filter_by_clinic_urgency_and_review(
    filled: tuple[Central, httpx.Client],
) -> None:
    _, client = filled
    only_b = client.get("/console/emergencies?clinic=clinic-b").text
    assert _rows(only_b) == ["1"] and "Fever 39.5" in only_b
    urgent = client.get("/console/emergencies?urgency=urgent").text
    assert _rows(urgent) == ["1"]
    reviewed = client.get("/console/emergencies?reviewed=yes").text
    assert _rows(reviewed) == []


def test_search_by_summary_words_category_and_dates(
    filled: tuple[Central, httpx.Client],
) -> None:
    _, client = filled
    found = client.get("/console/search?words=MALARIA+negative&category=lab").text
    assert sorted(_rows(found)) == ["61", "62", "63"]
    assert _rows(client.get("/console/search?to=2000-01-01").text) == []
    bad = client.get("/console/search?to=yesterday")
    assert (
        bad.status_code == 422 and "to: &#39;yesterday&#39; is not a date" in bad.text
    )
    assert client.get("/console/search?from=soon").status_code == 422
    assert len(_rows(client.get("/console/search?from=2000-01-01").text)) == 50


def test_a_document_shows_its_revisions_flags_and_fields(
    filled: tuple[Central, httpx.Client],
) -> None:
    _, client = filled
    page = client.get("/console/clinics/clinic-b/documents/1").text
    assert "fitting since morning" in page and "convulsions" in page
    assert "Received (centre)" in page and "Box time" in page
    assert "did not send the text" in page
    missing = client.get("/console/clinics/clinic-b/documents/99")
    assert missing.status_code == 404


def test_csv_export_of_the_emergencies_has_every_row(
    filled: tuple[Central, httpx.Client],
) -> None:
    _, client = filled
    exported = client.get("/console/emergencies?format=csv")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 61
    assert {r["urgency"] for r in rows} == {"emergency", "urgent"}


def test_french_by_query_then_cookie_and_by_accept_language(
    filled: tuple[Central, httpx.Client],
) -> None:
    central, client = filled
    assert "Urgences" in client.get("/console/emergencies?lang=fr").text
    assert "Centres de santé" in client.get("/console/").text  # the cookie
    assert "Clinics" in client.get("/console/?lang=en").text
    fresh = httpx.get(
        central.url + "/console/login", headers={"Accept-Language": "fr-FR,fr;q=0.9"}
    )
    assert "Mot de passe" in fresh.text


def test_a_garbled_cursor_starts_from_the_top(
    filled: tuple[Central, httpx.Client],
) -> None:
    _, client = filled
    page = client.get("/console/emergencies?after=not|a|cursor").text
    assert len(_rows(page)) == 50
