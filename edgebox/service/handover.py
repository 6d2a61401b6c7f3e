"""The shift hand-over as CSV (for a spreadsheet or a message) and as HTML
that prints on one or more A4 pages, for `edgebox report` and the UI's status
screen. The report stays on the box: it names documents and shows their
summaries, as the inbox does.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any

from edgebox.i18n import N_, _, language
from edgebox.store.handover import Handover, HandoverRow

_DURATION = re.compile(r"^\s*(\d+)\s*([hd])\s*$")

CSV_COLUMNS = (
    "section",
    "document_id",
    "received_at",
    "urgency",
    "category",
    "reviewed_by",
    "needs_review",
    "red_flags",
    "summary",
)


def period(since: str, *, now: datetime | None = None) -> tuple[str, str]:
    """`24h`, `7d` or an ISO date/time, as the [since, until) the store compares
    received times with (ISO UTC text). Raises ValueError naming the value."""
    end = now or datetime.now(UTC)
    match = _DURATION.match(since)
    if match:
        amount, unit = int(match[1]), match[2]
        start = end - (
            timedelta(hours=amount) if unit == "h" else timedelta(days=amount)
        )
    else:
        try:
            start = datetime.fromisoformat(since)
        except ValueError:
            raise ValueError(
                f"{since!r} is neither a duration (24h, 7d) nor an ISO date"
            ) from None
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
    return _iso(start), _iso(end)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def _sections(report: Handover) -> list[tuple[str, str, list[HandoverRow]]]:
    return [
        ("emergency", N_("Emergencies"), report.emergencies),
        ("urgent", N_("Urgent"), report.urgent),
        ("to_review", N_("Waiting for a person"), report.to_review),
    ]


def to_csv(report: Handover) -> str:
    """One row per listed document (a document may be in two sections: an
    emergency still to review), then one row per reviewer with their count."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for key, _heading, rows in _sections(report):
        for row in rows:
            writer.writerow(
                [
                    key,
                    row.document_id,
                    row.received_at,
                    row.urgency,
                    row.category or "",
                    row.reviewed_by or "",
                    "yes" if row.needs_review else "no",
                    "; ".join(row.red_flags),
                    _csv_safe(row.summary),
                ]
            )
    for reviewer, count in report.reviews_by.items():
        writer.writerow(["reviewer", "", "", "", "", reviewer, "", "", str(count)])
    return out.getvalue()


def _csv_safe(text: str) -> str:
    """A cell a spreadsheet would run as a formula (=, +, -, @) is quoted with
    an apostrophe: a document's text must never become a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


_STYLE = """
@page { size: A4; margin: 15mm; }
body { font: 10pt/1.35 sans-serif; color: #000; }
h1 { font-size: 14pt; margin: 0 0 2mm; }
h2 { font-size: 12pt; margin: 6mm 0 2mm; break-after: avoid; }
table { width: 100%; border-collapse: collapse; }
th, td { border: 0.3mm solid #888; padding: 1mm 1.5mm; text-align: left;
         vertical-align: top; }
tr { break-inside: avoid; }
th { background: #eee; }
.emergency { font-weight: bold; }
p.none { font-style: italic; }
"""


def to_html(report: Handover, *, title: str = "") -> str:
    """A self-contained page (no script, no external file) in the active
    language; every value from a document is escaped."""
    title = title or _("edgebox hand-over")
    parts = [
        "<!doctype html>",
        f'<html lang="{language()}"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        "<p>"
        + escape(
            _("Documents received from {start} to {end} (UTC).").format(
                start=_shown(report.since), end=_shown(report.until)
            )
        )
        + "</p>",
    ]
    for _key, heading, rows in _sections(report):
        parts.append(f"<h2>{escape(_(heading))} ({len(rows)})</h2>")
        if not rows:
            parts.append(f'<p class="none">{escape(_("None."))}</p>')
            continue
        parts.append(_table_head())
        for row in rows:
            css = ' class="emergency"' if row.urgency == "emergency" else ""
            urgency = _(row.urgency) + (_(" (provisional)") if row.provisional else "")
            parts.append(
                f"<tr{css}><td>{row.document_id}</td>"
                f"<td>{escape(_shown(row.received_at))}</td>"
                f"<td>{escape(urgency)}</td><td>{escape(row.category or '')}</td>"
                f"<td>{escape('; '.join(row.red_flags))}</td>"
                f"<td>{escape(row.summary)}</td>"
                f"<td>{escape(row.reviewed_by or _('not yet'))}</td></tr>"
            )
        parts.append("</tbody></table>")
    parts.append(f"<h2>{escape(_('Reviews by person'))}</h2>")
    if report.reviews_by:
        heads = (_("Reviewer"), _("Revisions"))
        cells = "".join(f"<th>{escape(head)}</th>" for head in heads)
        parts.append(f"<table><thead><tr>{cells}</tr>")
        parts.append("</thead><tbody>")
        for reviewer, count in report.reviews_by.items():
            parts.append(f"<tr><td>{escape(reviewer)}</td><td>{count}</td></tr>")
        parts.append("</tbody></table>")
    else:
        none = escape(_("No reviews in this period."))
        parts.append(f'<p class="none">{none}</p>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


_HEADS = (
    "#",
    N_("Received"),
    N_("Urgency"),
    N_("Category"),
    N_("Red flags"),
    N_("Summary"),
    N_("Reviewed by"),
)


def _table_head() -> str:
    cells = "".join(f"<th>{escape(_(head))}</th>" for head in _HEADS)
    return f"<table><thead><tr>{cells}</tr></thead><tbody>"


def _shown(iso: str) -> str:
    """ISO time without seconds' fraction, unambiguous (year first)."""
    return iso[:16].replace("T", " ")


def write_handover(store_db: Any, reports_dir: Path, *, since: str = "24h") -> Path:
    """The last `since` as an HTML page in `reports_dir` (mode 600: it holds
    patients' summaries); returns its path."""
    from edgebox.store.handover import handover

    start, end = period(since)
    found = handover(store_db, since=start, until=end)
    reports_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path = reports_dir / f"handover-{stamp}.html"
    path.touch(mode=0o600)
    path.write_text(to_html(found), encoding="utf-8")
    return path
