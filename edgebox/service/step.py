"""What one step of the pipeline did to a document.

A module of its own, without the pipeline's imports, so that the CLI's log
line for a step can read it without loading the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edgebox.triage.engine import TriageResult


class StepOutcome(StrEnum):
    EXTRACTED = "extracted"
    """Its text was read and given its fast, provisional result; the LLM
    stage comes next."""
    FAILED = "failed"
    """Reading it failed this time; it is tried again later (with backoff)."""
    QUARANTINED = "quarantined"
    """It cannot be read; staff find it, with the reason, in quarantine/."""
    TRIAGED = "triaged"
    """It has its triage result."""


@dataclass(frozen=True)
class Step:
    """One piece of work `Pipeline.step` did."""

    document: dict[str, Any]
    """The document's row as the step found it."""
    outcome: StepOutcome
    result: TriageResult | None = None
    """The triage result: the LLM stage's when TRIAGED, the fast stage's
    (provisional) when EXTRACTED with triage on."""
