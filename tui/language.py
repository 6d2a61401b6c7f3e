"""The UI in the nurse's language: key labels translated where the footer
reads them, and the store's words (states, categories) translated at display.

Bindings are declared on the classes at import, before `[ui] language` is
read, so each screen translates its footer's descriptions when it shows them
(the `active_bindings` the footer reads) rather than at declaration.
"""

from __future__ import annotations

from dataclasses import replace

from textual.binding import ActiveBinding

from edgebox.i18n import N_, _

STATE_WORDS = (
    N_("received"),
    N_("extracted"),
    N_("provisional"),
    N_("triaged"),
    N_("reviewed"),
    N_("duplicate"),
    N_("quarantined"),
    N_("failed"),
    N_("to review"),
)
"""Document states as the store keeps them; shown through `_()`."""

URGENCY_WORDS = (N_("emergency"), N_("urgent"), N_("unknown"), N_("routine"))
"""Urgency levels as the store keeps them; shown through `_()`."""

FIELD_NAMES = (N_("patient_ref"), N_("age"), N_("sex"), N_("date"), N_("facility"))
"""The fields the model reads, by their stored names; shown through `_()`
(any other name the model wrote is shown as written)."""


class TranslatedKeys:
    """Mixed into a Screen: its footer shows key labels in the UI's language."""

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        shown = super().active_bindings  # the Screen this is mixed into
        return {
            key: active._replace(
                binding=replace(
                    active.binding, description=_(active.binding.description)
                )
            )
            for key, active in shown.items()
        }
