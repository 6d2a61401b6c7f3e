"""Search and similar cases with the real embedding model (slow: it loads)."""

from __future__ import annotations

import pytest

from edgebox import config
from edgebox.index import SearchIndex
from edgebox.store import Store
from tests.test_tui_fixtures import (
    make_app,
    queue_ready,
    screen_text,
    table_rows,
    until,
    until_on,
)
from tui.document import DocumentScreen
from tui.search import SearchScreen, SearchTools

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
pytest_plugins = ["tests.test_tui_fixtures"]


@pytest.fixture
def indexed(settings: config.Config, seeded: dict[str, int], embedder) -> dict:
    with Store(settings.db_path) as store:
        SearchIndex(store, embedder, settings.index).reindex()
    return seeded


async def search(pilot, words: str) -> SearchScreen:
    await queue_ready(pilot, 5)
    await pilot.press("slash")
    await until_on(pilot, SearchScreen)
    await pilot.press(*words, "enter")
    return pilot.app.screen


async def test_search_finds_by_meaning_and_opens_the_document(
    settings: config.Config, indexed: dict[str, int], embedder
) -> None:
    app = make_app(settings)
    app.search_tools = SearchTools(app, embedder)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await search(pilot, "malaria parasites in blood")
        await until(pilot, lambda: "by words and meaning" in screen_text(app))
        table = screen.query_one("#hits")
        assert table_rows(table)[0][:2] == ["!  urgent", "lab_result"]
        await pilot.press("down", "enter")
        await until(
            pilot,
            lambda: (
                isinstance(app.screen, DocumentScreen)
                and app.screen.doc_id == indexed["lab-malaria.pdf"]
            ),
        )
        await until(pilot, lambda: "Similar cases (enter opens)" in screen_text(app))
        similar = app.screen.query_one("#similar")
        assert similar.option_count == 3  # the other indexed documents


async def test_without_an_embedding_model_words_still_find(
    settings: config.Config, seeded: dict[str, int], tmp_path, monkeypatch
) -> None:
    empty = tmp_path / "no-model"
    empty.mkdir()
    monkeypatch.setenv("EDGEBOX_INDEX_MODEL", str(empty))
    app = make_app(config.load(settings.home))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await search(pilot, "malaria")
        await until(pilot, lambda: "by meaning unavailable" in screen_text(app))
        assert [row[1] for row in table_rows(screen.query_one("#hits"))] == [
            "lab_result"
        ]
