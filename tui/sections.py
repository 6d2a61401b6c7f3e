"""The document screen's sections as text: result, red flags and where they
were found, fields, provenance, history and the extracted text. Everything from
the document is shown literally (`literal`), never parsed as markup."""

from __future__ import annotations

import json
from collections.abc import Callable

from rich.text import Text

from edgebox.store.review import undo_marker
from edgebox.tui.snapshots import DocumentView
from edgebox.tui.text import literal, local_time, urgency_text

# Enough for any real letter; a bigger text is cut so that the screen stays fast.
MAX_TEXT_CHARS = 200_000


def _section(title: str) -> Text:
    return Text(f"{title}\n", style="bold underline")


def _head(view: DocumentView) -> Text:
    doc = view.document
    line = literal(doc["file_name"], style="bold", one_line=True)
    line.append(f"  #{doc['id']} · {doc['state']}")
    line.append(f" · received {local_time(doc['received_at'], with_year=True)}")
    if doc.get("error_code"):
        line.append("\nerror: ", style="bold")
        line.append(literal(f"{doc['error_code']}: {doc['error_message'] or ''}"))
    if view.original is not None:
        line.append("\noriginal: ", style="dim")
        line.append(literal(str(view.original), one_line=True))
        line.append("  (x exports a copy)", style="dim")
    unread = _unread_pages(view)
    if unread:
        line.append("\nNOT ALL PAGES READ, see the original: ", style="bold")
        pages = ", ".join(f"page {p['page']} ({p['reason']})" for p in unread)
        line.append(literal(pages))
    return line


def _unread_pages(view: DocumentView) -> list[dict]:
    return json.loads(view.document.get("unread_pages") or "[]")


def _result(view: DocumentView) -> Text:
    latest = view.latest
    if latest is None:
        return Text("Not triaged yet.", style="italic")
    line = urgency_text(latest["urgency"])
    line.append(f"  {latest['category'] or '-'}")
    if latest["needs_review"]:
        line.append("  NEEDS REVIEW", style="bold")
    if latest.get("provisional"):
        line.append("  PROVISIONAL", style="bold")
        line.append(" (rules and learned models; the model has not read it yet)")
    if view.not_rated:
        line.append("\nNOT RATED YET", style="bold")
        line.append(": no danger sign found and this box has not learned yet;")
        line.append(" a person rates it (r)")
        if view.to_learn:
            line.append(f"; {view.to_learn} more reviews before the box learns")
    line.append("\n")
    line.append(_section("Summary"))
    empty = "(not written yet)" if latest.get("provisional") else "(no summary)"
    line.append(literal(latest["summary"] or empty))
    return line


def _flags(view: DocumentView) -> Text:
    flags = view.latest["red_flags"] if view.latest else []
    out = _section("Red flags")
    if view.latest is None:  # the rules have not read it: say nothing of flags
        return out.append("not checked yet (the text is still being read)")
    if not flags:
        out.append("none found" + (" in the pages read" if _unread_pages(view) else ""))
    for flag in sorted(flags, key=_flag_rank):
        level = flag.get("level")
        out.append("!! " if level == "emergency" else "!  " if level else "*  ")
        out.append(literal(flag.get("sign"), style="bold", one_line=True))
        details = [str(v) for v in (level, flag.get("source")) if v]
        out.append(f" ({', '.join(details)})" if details else "")
        if flag.get("evidence"):
            out.append(": “")
            out.append(literal(flag["evidence"], one_line=True))
            out.append("”")
        out.append("\n")
    return out


def _flag_rank(flag: dict) -> int:
    """Emergency signs first, then urgent, then the model's unlevelled ones."""
    return {"emergency": 0, "urgent": 1}.get(str(flag.get("level")), 2)


def _fields(view: DocumentView) -> Text:
    fields = view.latest["fields"] if view.latest else {}
    out = _section("Fields")
    if view.latest is None:
        return out.append("not read yet")
    if not fields:
        out.append("none found")
    for name, value in fields.items():
        out.append(literal(name, style="dim", one_line=True))
        out.append(": ")
        out.append(literal(value, one_line=True))
        if name == "patient_ref" and str(value).strip():
            out.append("  p", style="bold")
            out.append(" this patient's documents", style="dim")
        out.append("\n")
    return out


def _provenance(view: DocumentView) -> Text:
    latest = view.latest
    out = _section("Provenance")
    if latest is None:
        return out.append("-")
    prov, sources = latest["provenance"], latest["sources"]
    confidence = latest["confidence"]
    rows = [
        ("model", prov.get("model")),
        ("prompt", prov.get("prompt_version")),
        ("rules", prov.get("rules_version")),
        ("sources", ", ".join(f"{k}: {v}" for k, v in sources.items())),
        ("confidence", "-" if confidence is None else f"{confidence:.2f}"),
        ("review why", ", ".join(prov.get("review_reasons") or [])),
    ]
    for name, value in rows:
        if value:
            out.append(f"{name}: ", style="dim")
            out.append(literal(value, one_line=True))
            out.append("\n")
    return out


def _history(view: DocumentView) -> Text:
    out = _section("History")
    for rev in reversed(view.revisions):
        out.append(f"r{rev['revision']} {local_time(rev['created_at'])} ")
        out.append(literal(rev["author"], one_line=True))
        out.append(f" {rev['urgency']} {rev['category'] or '-'}")
        undo = undo_marker(rev)
        if undo:
            out.append(f" (undo of r{undo['undid']} by ")
            out.append(literal(undo["by"], one_line=True))
            out.append(")")
        if rev.get("note"):
            out.append(" note: ", style="dim")
            out.append(literal(rev["note"], one_line=True))
        out.append("\n")
    return out


def _text(view: DocumentView) -> Text:
    text = view.document["text"]
    out = _section("Text")
    if not text:
        return out.append("(no text was extracted)", style="italic")
    out.append(literal(text[:MAX_TEXT_CHARS]))
    if len(text) > MAX_TEXT_CHARS:
        out.append(f"\n… {len(text) - MAX_TEXT_CHARS} more characters", style="dim")
    return out


SECTIONS: dict[str, Callable[[DocumentView], Text]] = {
    "head": _head,
    "result": _result,
    "flags": _flags,
    "fields": _fields,
    "provenance": _provenance,
    "history": _history,
    "text": _text,
}
"""Each Static of the document screen, by id, and how its text is built."""
