"""The shared words: urgency levels equal the plain words SQLite stores and the
central server receives, and rank the same way everywhere."""

import json
import sqlite3

from edgebox.vocabulary import LANGUAGES, TASKS, Urgency


def test_urgency_levels_are_the_stored_words() -> None:
    assert [str(u) for u in Urgency] == ["emergency", "urgent", "unknown", "routine"]
    assert Urgency.EMERGENCY == "emergency" and Urgency("unknown") is Urgency.UNKNOWN
    assert {"routine": 1}[Urgency.ROUTINE] == 1  # hashes as its word
    assert json.dumps({Urgency.URGENT: Urgency.URGENT}) == '{"urgent": "urgent"}'
    row = sqlite3.connect(":memory:").execute("SELECT ?", [Urgency.URGENT]).fetchone()
    assert row == ("urgent",)


def test_the_queue_rank_puts_a_failed_triage_above_routine() -> None:
    ranks = {u: u.rank for u in Urgency}
    assert ranks == {"emergency": 0, "urgent": 1, "unknown": 2, "routine": 3}


def test_only_three_levels_may_be_given() -> None:
    assert Urgency.levels() == ("emergency", "urgent", "routine")
    assert Urgency.UNKNOWN not in Urgency.levels()


def test_the_highest_level_ignores_unknown_and_none() -> None:
    assert Urgency.highest(["routine", "emergency", "urgent"]) is Urgency.EMERGENCY
    assert Urgency.highest(["routine", "unknown", None]) is Urgency.ROUTINE
    assert Urgency.highest(["unknown", None]) is None
    assert Urgency.highest([]) is None


def test_tasks_and_languages() -> None:
    assert TASKS == ("category", "urgency")
    assert set(LANGUAGES) == {"en", "fr"}
