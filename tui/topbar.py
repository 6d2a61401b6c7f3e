"""The one-line bar at the top of every screen: where you are and as whom."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from edgebox.i18n import _
from edgebox.terminal import visible


class TopBar(Static):
    """`edgebox · <screen> · reviewer · read-only`."""

    def __init__(self, where: str) -> None:
        super().__init__(id="topbar")
        self.where = where

    def on_mount(self) -> None:
        self.show()

    def show(self) -> None:
        """Draw the bar again (the reviewer signed in or out)."""
        app = self.app
        line = Text.assemble(("edgebox", "bold"), f" · {self.where}")
        reviewer = getattr(app, "reviewer", None)
        asks = getattr(app, "sign_in_required", False)
        nobody = _("(sign in)") if asks else _("(ask)")
        who = visible(reviewer, one_line=True) or nobody
        line.append(" · " + _("reviewer: {who}").format(who=who))
        if getattr(app, "read_only", False):
            line.append(_(" · READ-ONLY"), style="bold")
        self.update(line)
