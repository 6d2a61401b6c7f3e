"""The one-line bar at the top of every screen: where you are and as whom."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

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
        nobody = "(sign in)" if getattr(app, "sign_in_required", False) else "(ask)"
        line.append(f" · reviewer: {visible(reviewer, one_line=True) or nobody}")
        if getattr(app, "read_only", False):
            line.append(" · READ-ONLY", style="bold")
        self.update(line)
