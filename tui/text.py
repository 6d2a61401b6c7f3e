"""How the screens show text: literally (never parsed as markup), clipped,
times as absolute local times, and urgency by symbol and word as well as
colour.

Text from documents is shown as `rich.text.Text` with control characters made
visible: a summary that says "[bold]" or carries an escape sequence is shown
as typed.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from edgebox.i18n import N_, _
from edgebox.terminal import visible
from edgebox.vocabulary import Urgency

# Colour is never the only cue: each urgency has its own symbol and word.
URGENCY_LABEL = {
    Urgency.EMERGENCY: N_("!! EMERG"),
    Urgency.URGENT: N_("!  urgent"),
    Urgency.UNKNOWN: N_("?  unknown"),
    Urgency.ROUTINE: N_("   routine"),
    "none": N_("·  -"),
    "not rated": N_("?  not rated"),
}
URGENCY_STYLE = {
    Urgency.EMERGENCY: "bold reverse red",
    Urgency.URGENT: "bold yellow",
    Urgency.UNKNOWN: "bold magenta",
    Urgency.ROUTINE: "",
    "not rated": "magenta",
}


def literal(text: object, *, style: str = "", one_line: bool = False) -> Text:
    """A renderable that shows `text` exactly, whatever brackets it holds."""
    return Text(visible(text, one_line=one_line), style=style, no_wrap=one_line)


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


DATE_STYLES = ("day-month", "iso")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")  # fmt: skip
_date_style = "day-month"


def use_date_style(style: str) -> None:
    """`day-month` ("04 Mar 08:15": the day first, as staff write it, with the
    month's name so that no one reads it month-first) or `iso` (2025-03-04
    08:15). Set once by the app from `[ui] dates`."""
    global _date_style
    if style not in DATE_STYLES:
        raise ValueError(f"date style must be one of {', '.join(DATE_STYLES)}")
    _date_style = style


def local_time(iso: str | None, *, with_year: bool = False) -> str:
    """An absolute local time (never "3 min ago"), never ambiguous: the same
    on every screen."""
    if not iso:
        return "-"
    try:
        stamp = datetime.fromisoformat(iso).astimezone()
    except ValueError:
        return visible(iso, one_line=True)
    if _date_style == "iso" or with_year:
        return stamp.strftime("%Y-%m-%d %H:%M")
    return f"{stamp.day:02d} {_MONTHS[stamp.month - 1]} {stamp:%H:%M}"


def urgency_text(urgency: str | None) -> Text:
    """The urgency by symbol and word; None: no result yet (not triaged)."""
    urgency = urgency or "none"
    return Text(
        _(URGENCY_LABEL[urgency]) if urgency in URGENCY_LABEL else visible(urgency),
        style=URGENCY_STYLE.get(urgency, ""),
    )
