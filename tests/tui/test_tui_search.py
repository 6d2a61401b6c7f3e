"""Search and similar cases with the real embedding model (slow: it loads)."""

from __future__ import annotations

import pytest

from edgebox import config
from edgebox.search.index import SearchIndex
from edgebox.store import Store
from edgebox.tui.document import DocumentScreen
from edgebox.tui.search import SearchScreen, SearchTools, snippet_text
from tests.support.tui import (
    make_app,
    queue_ready,
    screen_text,
    table_rows,
    until,
    until_on,
)

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


@pytest.fixture
def indexed(settings: config.Config, seeded: dict[str, int], embedder) -> dict:
    with Store(settings.db_path) as store:
        SearchIndex(store, embedder, settings.index).reindex()
    return seeded


async def search(pilot, words: str, *, documents: int = 5) -> SearchScreen:
    await queue_ready(pilot, documents)
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
        found = table.get_row_at(0)[2]  # the match in bold, not in brackets
        assert found.plain == "lab-malaria.pdf"  # the index had "lab-[malaria].pdf"
        spans = [found.plain[s.start : s.end].lower() for s in found.spans]
        assert spans == ["malaria"]
        await pilot.press("down", "enter")
        await until(
            pilot,
            lambda: (
                isinstance(app.screen, DocumentScreen)
                and app.screen.doc_id == indexed["lab-malaria.pdf"]
            ),
        )
        # The other indexed documents are about other things: none is shown
        # as similar to a malaria result (search's similarity floor).
        await until(
            pilot, lambda: "Similar cases: none close enough yet" in screen_text(app)
        )
        assert app.screen.query_one("#similar").option_count == 0


def test_a_snippet_shows_matches_in_bold_and_the_text_as_it_is() -> None:
    found = snippet_text(
        "…prendre si [douleur] ou [[fièvre]], [3] fois", {"douleur", "fievre"}, 80
    )
    assert found.plain == "…prendre si douleur ou [fièvre], [3] fois"
    assert [found.plain[s.start : s.end] for s in found.spans] == [
        "douleur",
        "fièvre",
    ]
    assert snippet_text("a [b] c", {"b"}, 4).plain == "a b…"


async def test_tab_to_the_similar_cases_highlights_the_first_and_enter_opens_it(
    settings: config.Config, indexed: dict[str, int], embedder
) -> None:
    app = make_app(settings)
    app.search_tools = SearchTools(app, embedder)
    async with app.run_test(size=(80, 24)) as pilot:
        await queue_ready(pilot, 5)
        await pilot.press("enter")  # the emergency referral
        await until_on(pilot, DocumentScreen)
        await until(pilot, lambda: "Similar cases (enter opens)" in screen_text(app))
        similar = app.screen.query_one("#similar")
        await pilot.press("tab")
        await until(pilot, lambda: similar.highlighted == 0)
        first = int(similar.get_option_at_index(0).id)
        await pilot.press("enter")
        await until(pilot, lambda: getattr(app.screen, "doc_id", None) == first)


async def test_the_ranking_by_meaning_keeps_the_highlighted_document(
    settings: config.Config, indexed: dict[str, int], embedder
) -> None:
    app = make_app(settings)
    app.search_tools = SearchTools(app, embedder)
    async with app.run_test(size=(80, 24)) as pilot:
        with app.search_lock:  # the ranking by meaning waits: the model "loads"
            screen = await search(pilot, "patient ref")
            await until(pilot, lambda: "found by words;" in screen_text(app))
            table = screen.query_one("#hits")
            await pilot.press("down", "down")  # to the second word hit
            kept = table.coordinate_to_cell_key((1, 0)).row_key
            assert table.cursor_row == 1
        await until(pilot, lambda: "by words and meaning" in screen_text(app))
        assert table.get_row_index(kept) != 0  # it moved; the cursor went with it
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key == kept
        await pilot.press("enter")
        await until(pilot, lambda: getattr(app.screen, "doc_id", 0) == int(kept.value))


async def test_untouched_results_start_at_the_top_of_the_better_ranking(
    settings: config.Config, indexed: dict[str, int], embedder
) -> None:
    app = make_app(settings)
    app.search_tools = SearchTools(app, embedder)
    async with app.run_test(size=(80, 24)) as pilot:
        with app.search_lock:  # the ranking by meaning waits: the model "loads"
            screen = await search(pilot, "patient ref")
            await until(pilot, lambda: "found by words;" in screen_text(app))
            table = screen.query_one("#hits")
            first_by_words = table.coordinate_to_cell_key((0, 0)).row_key
        await until(pilot, lambda: "by words and meaning" in screen_text(app))
        assert table.get_row_index(first_by_words) != 0  # the ranking changed
        assert table.cursor_row == 0  # and the nurse, still typing, sees its top


@pytest.fixture
def no_model(settings: config.Config, tmp_path, monkeypatch) -> config.Config:
    """Settings whose embedding model folder is empty: search by words only."""
    empty = tmp_path / "no-model"
    empty.mkdir()
    monkeypatch.setenv("EDGEBOX_INDEX_MODEL", str(empty))
    return config.load(settings.home)


async def test_without_an_embedding_model_words_still_find(
    no_model: config.Config, seeded: dict[str, int]
) -> None:
    app = make_app(no_model)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await search(pilot, "malaria")
        await until(pilot, lambda: "by meaning unavailable" in screen_text(app))
        assert [row[1] for row in table_rows(screen.query_one("#hits"))] == [
            "lab_result"
        ]
        # The reason is longer than the line: cut there, in full as a message.
        line = screen_text(app).splitlines()[1]
        assert len(line) <= 78 and line.endswith("…")
        said = [n.message for n in app._notifications]
        assert any(m.startswith(line[:-1]) and "no-model" in m for m in said)


async def test_a_document_not_triaged_yet_shows_no_urgency_not_unknown(
    no_model: config.Config, seeded: dict[str, int]
) -> None:
    with Store(no_model.db_path) as store:  # a new arrival
        store.add_document(
            file_name="smear.txt", sha256="f" * 64, size=1, text="Malaria smear"
        )
    app = make_app(no_model)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await search(pilot, "malaria", documents=6)
        await until(pilot, lambda: "by meaning unavailable" in screen_text(app))
        rows = table_rows(screen.query_one("#hits"))
        assert sorted(row[:2] for row in rows) == [
            ["!  urgent", "lab_result"],
            ["·  -", "-"],  # as in the queue
        ]
