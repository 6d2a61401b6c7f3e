"""The labelled JSONL files of `edgebox eval` and `edgebox central train`: one
document a line, `{"text", "category"}` or `{"text", "urgency"}`.

Kept apart from `evaluate` so that the central trainer reads the same format
without the triage engine (and its box-only libraries).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from edgebox.errors import EdgeboxError

TASK_FIELDS = ("category", "urgency")


class EvalError(EdgeboxError):
    title = "eval error"


def read_jsonl(path: Path) -> tuple[str, list[dict[str, Any]]]:
    """The rows of a JSONL file and the task their label field names; any
    problem is one EvalError naming the file (and the line)."""
    rows = _numbered_rows(path)
    task = _task(path, rows)
    return task, [row for _, row in rows]


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a JSONL file, each with a text, labelled or not."""
    return [row for _, row in _numbered_rows(path)]


def _numbered_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    rows: list[tuple[int, dict[str, Any]]] = []
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()  # BOM or not
    except OSError as exc:
        raise EvalError(f"cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise EvalError(f"{path} is not UTF-8 text ({exc.reason})") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalError(f"{path}:{number} is not valid JSON: {exc.msg}") from exc
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise EvalError(f"{path}:{number} needs a string 'text' field")
        rows.append((number, row))
    if not rows:
        raise EvalError(f"{path} has no rows")
    return rows


def _task(path: Path, rows: list[tuple[int, dict[str, Any]]]) -> str:
    """The one label field every row has, as a non-empty string."""
    first = [t for t in TASK_FIELDS if t in rows[0][1]]
    if len(first) != 1:
        raise EvalError(
            f"{path}:{rows[0][0]} needs exactly one label field, category or urgency"
        )
    task = first[0]
    for number, row in rows:
        label = row.get(task)
        if not isinstance(label, str) or not label.strip():
            raise EvalError(f"{path}:{number} needs a non-empty text '{task}' label")
    return task
