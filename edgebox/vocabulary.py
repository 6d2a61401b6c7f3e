"""The words edgebox's parts share: urgency levels, the learned tasks, languages.

Each is declared here once. `Urgency` is a `StrEnum`: its members equal the
plain words stored in SQLite and sent to the central server ("emergency" ==
Urgency.EMERGENCY), so rows read back as text compare as they always did.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Urgency(StrEnum):
    """How soon a person must see a document, most urgent first.

    "unknown" is no level a source may give: it is what a failed triage says,
    and it sorts above routine, so that a model failure cannot hide an
    emergency among the routine documents.
    """

    EMERGENCY = "emergency"
    URGENT = "urgent"
    UNKNOWN = "unknown"
    ROUTINE = "routine"

    @property
    def rank(self) -> int:
        """Place in every queue: emergency 0, urgent 1, unknown 2, routine 3."""
        return _RANK[self]

    @classmethod
    def levels(cls) -> tuple[Urgency, ...]:
        """The levels a rule, a model or a person may give, most urgent first."""
        return (cls.EMERGENCY, cls.URGENT, cls.ROUTINE)

    @classmethod
    def highest(cls, levels: Iterable[str | None]) -> Urgency | None:
        """The most urgent of the given levels ("unknown" and None do not
        count); None when there is none."""
        given = [cls(level) for level in levels if level in LEVELS]
        return min(given, key=_RANK.__getitem__) if given else None


_RANK = {urgency: rank for rank, urgency in enumerate(Urgency)}
LEVELS = frozenset(Urgency.levels())
"""The three levels, for membership tests ("unknown" is not one)."""

TASKS = ("category", "urgency")
"""What the learned models and the combination decide, one label each."""

LANGUAGES = {"en": "English", "fr": "French"}
"""Languages of the summaries, the prompt and the red-flag rules."""

NOT_RATED = "not rated yet"
"""The review reason of a label that no source could give on a new box (no
rule fired, no learned model yet, no LLM vote): a person rates it, and the box
learns from such reviews. The UI, `status` and `triage --json` key on it."""
