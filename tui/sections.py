"""The document screen's sections as text: result, red flags and where they
were found, fields, provenance, history and the extracted text. Everything from
the document is shown literally (`literal`), never parsed as markup."""

from __future__ import annotations

import json
from collections.abc import Callable

from rich.text import Text

from edgebox.i18n import N_, _
from edgebox.store.review import undo_marker
from edgebox.tui.language import FIELD_NAMES
from edgebox.tui.snapshots import DocumentView
from edgebox.tui.text import literal, local_time, urgency_text

# Enough for any real letter; a bigger text is cut so that the screen stays fast.
MAX_TEXT_CHARS = 200_000


def _section(title: str) -> Text:
    return Text(f"{_(title)}\n", style="bold underline")


def _head(view: DocumentView) -> Text:
    doc = view.document
    line = literal(doc["file_name"], style="bold", one_line=True)
    line.append(f"  #{doc['id']} · {_(doc['state'])}")
    line.append(
        " · "
        + _("received {time}").format(
            time=local_time(doc["received_at"], with_year=True)
        )
    )
    if doc.get("error_code"):
        line.append("\n" + _("error: "), style="bold")
        line.append(literal(f"{doc['error_code']}: {doc['error_message'] or ''}"))
    if view.original is not None:
        line.append("\n" + _("original: "), style="dim")
        line.append(literal(str(view.original), one_line=True))
        line.append(_("  (x exports a copy)"), style="dim")
    unread = _unread_pages(view)
    if unread:
        line.append("\n" + _("NOT ALL PAGES READ, see the original: "), style="bold")
        pages = ", ".join(f"page {p['page']} ({p['reason']})" for p in unread)
        line.append(literal(pages))
    return line


def _unread_pages(view: DocumentView) -> list[dict]:
    return json.loads(view.document.get("unread_pages") or "[]")


def _result(view: DocumentView) -> Text:
    latest = view.latest
    if latest is None:
        return Text(_("Not triaged yet."), style="italic")
    line = urgency_text(latest["urgency"])
    line.append(f"  {latest['category'] or '-'}")
    if latest["needs_review"]:
        line.append(_("  NEEDS REVIEW"), style="bold")
    if latest.get("provisional"):
        line.append(_("  PROVISIONAL"), style="bold")
        line.append(_(" (rules and learned models; the model has not read it yet)"))
    if view.not_rated:
        line.append("\n" + _("NOT RATED YET"), style="bold")
        line.append(
            _(
                ": no danger sign found and this box has not learned yet;"
                " a person rates it (r)"
            )
        )
        if view.to_learn:
            line.append(
                _("; {n} more reviews before the box learns").format(n=view.to_learn)
            )
    line.append("\n")
    line.append(_section(N_("Summary")))
    empty = _("(not written yet)") if latest.get("provisional") else _("(no summary)")
    line.append(literal(latest["summary"] or empty))
    return line


def _flags(view: DocumentView) -> Text:
    flags = view.latest["red_flags"] if view.latest else []
    out = _section(N_("Red flags"))
    if view.latest is None:  # the rules have not read it: say nothing of flags
        return out.append(_("not checked yet (the text is still being read)"))
    if not flags:
        out.append(
            _("none found in the pages read")
            if _unread_pages(view)
            else _("none found")
        )
    for flag in sorted(flags, key=_flag_rank):
        level = flag.get("level")
        out.append("!! " if level == "emergency" else "!  " if level else "*  ")
        out.append(literal(flag.get("sign"), style="bold", one_line=True))
        details = [_(str(v)) for v in (level, flag.get("source")) if v]
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
    out = _section(N_("Fields"))
    if view.latest is None:
        return out.append(_("not read yet"))
    if not fields:
        out.append(_("none found"))
    for name, value in fields.items():
        shown = _(name) if name in FIELD_NAMES else name
        out.append(literal(shown, style="dim", one_line=True))
        out.append(": ")
        out.append(literal(value, one_line=True))
        if name == "patient_ref" and str(value).strip():
            out.append("  p", style="bold")
            out.append(_(" this patient's documents"), style="dim")
        out.append("\n")
    return out


def _provenance(view: DocumentView) -> Text:
    latest = view.latest
    out = _section(N_("Provenance"))
    if latest is None:
        return out.append("-")
    prov, sources = latest["provenance"], latest["sources"]
    confidence = latest["confidence"]
    rows = [
        (N_("model"), prov.get("model")),
        (N_("prompt"), prov.get("prompt_version")),
        (N_("rules"), prov.get("rules_version")),
        (N_("sources"), ", ".join(f"{k}: {v}" for k, v in sources.items())),
        (N_("confidence"), "-" if confidence is None else f"{confidence:.2f}"),
        (N_("review why"), ", ".join(prov.get("review_reasons") or [])),
    ]
    for name, value in rows:
        if value:
            out.append(f"{_(name)}: ", style="dim")
            out.append(literal(value, one_line=True))
            out.append("\n")
    return out


def _history(view: DocumentView) -> Text:
    out = _section(N_("History"))
    for rev in reversed(view.revisions):
        out.append(f"r{rev['revision']} {local_time(rev['created_at'])} ")
        out.append(literal(rev["author"], one_line=True))
        out.append(f" {_(rev['urgency'])} {rev['category'] or '-'}")
        undo = undo_marker(rev)
        if undo:
            out.append(" " + _("(undo of r{n} by ").format(n=undo["undid"]))
            out.append(literal(undo["by"], one_line=True))
            out.append(")")
        if rev.get("note"):
            out.append(_(" note: "), style="dim")
            out.append(literal(rev["note"], one_line=True))
        out.append("\n")
    return out


def _text(view: DocumentView) -> Text:
    text = view.document["text"]
    out = _section(N_("Text"))
    if not text:
        return out.append(_("(no text was extracted)"), style="italic")
    out.append(literal(text[:MAX_TEXT_CHARS]))
    if len(text) > MAX_TEXT_CHARS:
        out.append(
            "\n" + _("… {n} more characters").format(n=len(text) - MAX_TEXT_CHARS),
            style="dim",
        )
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
