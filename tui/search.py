"""Search (`/`): full-text hits at once, then the hybrid ranking once the
embedding model has loaded (seconds, the first time); and the similar cases of
a document, which need only the stored vectors.

`edgebox.search.index` and `.embed` (numpy, and torch when the model loads) are
imported inside the workers, so that the UI starts without them.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static
from textual.worker import get_current_worker

from edgebox.i18n import _
from edgebox.terminal import visible
from edgebox.tui.language import TranslatedKeys
from edgebox.tui.text import clip, literal, urgency_text
from edgebox.tui.topbar import TopBar

if TYPE_CHECKING:
    from edgebox.search.embed import Embedder
    from edgebox.search.index import Hit
    from edgebox.tui.app import EdgeboxApp

SEARCH_LIMIT = 50
_MARKED = re.compile(r"\[(\w+)\]")
"""A word the full-text index marked as matching in a snippet."""
_WORD = re.compile(r"\w+")


class SearchTools:
    """The embedder (its model loads on first encode) and the vectors, kept
    for the life of the app: loading either again costs seconds."""

    def __init__(self, app: EdgeboxApp, embedder: Embedder | None = None) -> None:
        from edgebox.search.embed import Embedder
        from edgebox.search.index import VectorMatrix

        settings = app.config.index
        self.embedder = embedder or Embedder(
            settings.model, batch_size=settings.batch_size
        )
        self.matrix = VectorMatrix(self.embedder.name)

    @property
    def model_loaded(self) -> bool:
        return self.embedder._model is not None

    def index(self, app: EdgeboxApp, store: Any) -> Any:
        from edgebox.search.index import SearchIndex

        index = SearchIndex(store, self.embedder, app.config.index)
        index.matrix = self.matrix
        return index


def search_tools(app: EdgeboxApp) -> SearchTools:
    """The app's search tools; call with `app.search_lock` held."""
    if app.search_tools is None:
        app.search_tools = SearchTools(app)
    return cast(SearchTools, app.search_tools)


def similar_cases(app: EdgeboxApp, doc_id: int, *, limit: int) -> tuple[list[Hit], str]:
    """(hits, a note when there are none); stored vectors only, no model."""
    from edgebox.search.index import SearchError

    with app.search_lock, app.opener() as store:
        try:
            hits = search_tools(app).index(app, store).similar(doc_id, limit=limit)
        except SearchError as exc:
            return [], exc.message
    return hits, "" if hits else "none close enough yet"


class SearchScreen(TranslatedKeys, Screen):
    """Type words, enter; down moves to the results; enter opens one."""

    BINDINGS = [
        Binding("escape", "back", "back"),
        Binding("down", "results", "results", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.query_text = ""
        self._shown_query = ""
        """The search whose results the table holds (the cursor is kept when
        the same search's ranking by meaning replaces its word hits)."""

    @property
    def edgebox(self) -> EdgeboxApp:
        return cast("EdgeboxApp", self.app)

    def compose(self) -> Any:
        yield TopBar(_("search"))
        yield Input(placeholder="words to find, then enter", id="query")
        yield Static(
            _("Words and meaning: fever, chest pain, référence…"), id="search-state"
        )
        yield DataTable(id="hits", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#hits", DataTable)
        table.add_column("urgency", width=10, key="urgency")
        table.add_column("category", width=13, key="category")
        table.add_column("found", key="found")
        self.query_one("#query", Input).focus()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_results(self) -> None:
        self.query_one("#hits", DataTable).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        query = event.value.strip()
        if not query:
            return
        self.query_text = query
        self._state("searching…")
        self._search(query)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        from edgebox.tui.document import DocumentScreen

        if event.row_key.value is not None:
            self.app.push_screen(DocumentScreen(int(event.row_key.value)))

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _search(self, query: str) -> None:
        try:
            with self.edgebox.opener() as store:
                words = store.text_search(query, limit=SEARCH_LIMIT)
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            self.edgebox.report("search", exc)
            return
        rows = [(r["document_id"], r["urgency"], r["category"], r["snippet"])
                for r in words]  # fmt: skip
        self._post(query, rows, f"{len(rows)} found by words; {self._meaning_note()}")
        hits, note = self._hybrid(query)
        if hits is not None:
            rows = [(h.document_id, h.urgency, h.category, h.snippet or h.file)
                    for h in hits]  # fmt: skip
        self._post(query, rows, note)

    def _meaning_note(self) -> str:
        tools = self.edgebox.search_tools
        if tools is not None and tools.model_loaded:
            return "now by meaning…"
        return "loading the embedding model (seconds, the first time)…"

    def _hybrid(self, query: str) -> tuple[list[Hit] | None, str]:
        """The fused ranking, or None and why it is unavailable."""
        from edgebox.errors import EdgeboxError

        try:
            with self.edgebox.search_lock, self.edgebox.opener() as store:
                index = search_tools(self.edgebox).index(self.edgebox, store)
                hits = index.search(query, limit=SEARCH_LIMIT)
        except EdgeboxError as exc:
            return None, f"by words only; by meaning unavailable: {exc.message}"
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            return None, f"by words only; by meaning failed: {exc}"
        return hits, f"{len(hits)} found by words and meaning"

    def _post(self, query: str, rows: list[tuple[Any, ...]], note: str) -> None:
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, query, rows, note)

    def _show(self, query: str, rows: list[tuple[Any, ...]], note: str) -> None:
        if query != self.query_text:
            return  # an older search finishing late
        table = self.query_one("#hits", DataTable)
        # Keep the nurse's place only if she is in the list: while she is
        # still in the search box, the better ranking starts at its top.
        same = query == self._shown_query and table.has_focus
        keep = self._highlighted() if same else None
        table.clear()
        width = max(20, self.size.width - 10 - 13 - 8)
        words = {_fold(word) for word in _WORD.findall(query)}
        for doc_id, urgency, category, found in rows:
            table.add_row(
                urgency_text(urgency),
                literal(clip(str(category or "-"), 13), one_line=True),
                snippet_text(found, words, width),
                key=str(doc_id),
            )
        self._shown_query = query
        if keep is not None and keep in table.rows:
            table.move_cursor(row=table.get_row_index(keep), animate=False)
        self._state(note)

    def _highlighted(self) -> str | None:
        table = self.query_one("#hits", DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def _state(self, note: str) -> None:
        """One line; a longer note (why meaning is unavailable) is also sent in
        full as a message, so that nothing is cut unread."""
        width = self.size.width - 2
        if len(note) > width:
            self.notify(note, title="search", severity="warning", markup=False)
        line = literal(clip(note, width), one_line=True)
        self.query_one("#search-state", Static).update(line)


def snippet_text(found: object, words: set[str], width: int) -> Text:
    """A snippet as the text has it: the index marks a match as [word]; the
    match is shown in bold instead of in brackets that the text never had.
    (A text's own brackets around a searched word come doubled: [[word]].)"""
    text = visible(found, one_line=True)
    out = Text(no_wrap=True, end="")
    last = 0
    for match in _MARKED.finditer(text):
        if _fold(match.group(1)) in words:
            out.append(text[last : match.start()])
            out.append(match.group(1), style="bold underline")
            last = match.end()
    out.append(text[last:])
    out.truncate(width, overflow="ellipsis")
    return out


def _fold(word: str) -> str:
    """As the index compares words: any case, without diacritics."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))
