"""Regenerate the figures sections of docs/evaluation.md and docs/benchmarks.md.

Measured figures go stale where they are typed by hand (they used to live in
docstrings). Each generated section is rendered from the `--json` output of
the tool that measures it, kept in docs/figures/<section>.json with the exact
command, date and machine, so that a figure can always be traced to the run
that produced it and `--check` can tell a hand edit from a regenerated one.

scripts/gen-docs SECTION...         run the tools, store their JSON, re-render
  [--use LABEL=FILE]                (a run's output saved before, not rerun)
scripts/gen-docs --render           re-render every section from the stored JSON
scripts/gen-docs --check            the docs carry their markers, their
                                    "Regenerate with" line and what the stored
                                    JSON renders to (exit 1 and say where not)
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
FIGURES = "docs/figures"
EVAL_DATA = "../shared/data/eval"  # beside the checkout, not in the repository


@dataclass(frozen=True)
class Run:
    """One command whose --json output feeds a section."""

    label: str
    args: tuple[str, ...]
    """Arguments after the Python interpreter, relative to the repository."""

    def shown(self) -> str:
        return shlex.join([".venv/bin/python", *self.args])


@dataclass(frozen=True)
class Section:
    """A generated part of one doc, between its begin and end markers."""

    name: str
    doc: str
    runs: tuple[Run, ...]
    render: Callable[[list[dict[str, Any]]], list[str]]


def _crossval(label: str, *extra: str, files: tuple[str, ...] = ()) -> Run:
    paths = files or (f"{EVAL_DATA}/category.jsonl", f"{EVAL_DATA}/urgency.jsonl")
    return Run(label, ("scripts/crossval.py", *paths, *extra, "--json"))


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _num(report: dict[str, Any], key: str) -> str:
    value = report.get(key)
    if value is None:
        return "n/a"
    spread = report.get(f"{key}_sd")
    return f"{value:.3f}" + (f" ± {spread:.3f}" if spread is not None else "")


def render_crossval(runs: list[dict[str, Any]]) -> list[str]:
    """One row per task and setting: the headline held-out figures."""
    lines = [
        "| run | task (documents) | macro-F1 | accuracy | emergency recall"
        " (target) | sent to review | right when not reviewed"
        " | calibration error |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        for report in run["output"]:
            target = report.get("emergency_recall_target")
            recall = (
                f"{_num(report, 'emergency_recall')} ({target:.2f})"
                if report["task"] == "urgency"
                else ""
            )
            lines.append(
                f"| {run['label']} | {report['task']} ({report['n']})"
                f" | {_num(report, 'macro_f1')} | {_num(report, 'accuracy')}"
                f" | {recall} | {_pct(report.get('review_rate'))}"
                f" | {_pct(report.get('unreviewed_accuracy'))}"
                f" | {_num(report, 'calibration_error')} |"
            )
    return lines


def render_ceiling(runs: list[dict[str, Any]]) -> list[str]:
    """The best macro-F1 any emergency threshold gives, per recall target."""
    lines = ["| task (documents) | emergency recall target | best macro-F1 (oracle) |"]
    lines.append("|---|---|---|")
    for run in runs:
        for report in run["output"]:
            name = f"{report['task']} ({report['n']})"
            for target, value in report["best_macro_f1_by_recall"].items():
                lines.append(f"| {name} | {target} | {_spread(value)} |")
            lines.append(
                f"| {name} | none (most probable level) |"
                f" {_spread(report['most_probable_macro_f1'])} |"
            )
    return lines


def _spread(value: Any) -> str:
    """A figure that is either a number or {"mean", "sd"}."""
    if isinstance(value, dict):
        return f"{value['mean']:.3f} ± {value['sd']:.3f}"
    return "n/a" if value is None else f"{value:.3f}"


def render_bench(runs: list[dict[str, Any]]) -> list[str]:
    """Every figure of scripts/bench's JSON: each measure beside its baseline."""
    lines = ["| figure | measure | value |", "|---|---|---|"]
    for run in runs:
        for result in run["output"]:
            figure = result["figure"]
            for key, value in result.items():
                if key != "figure":
                    lines.append(f"| {figure} | {key} | {_value(value)} |")
                    figure = ""
    return lines


def _value(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_value(v)}" for k, v in value.items())
    return (
        "n/a"
        if value is None
        else f"{value:,}"
        if isinstance(value, int)
        else str(value)
    )


SECTIONS = (
    Section(
        "crossval",
        "docs/evaluation.md",
        (_crossval("defaults"),),
        render_crossval,
    ),
    Section(
        "ceiling",
        "docs/evaluation.md",
        (_crossval("ceiling", "--ceiling", files=(f"{EVAL_DATA}/urgency.jsonl",)),),
        render_ceiling,
    ),
    Section(
        "bench-cheap",
        "docs/benchmarks.md",
        (
            Run("ingest", ("scripts/bench.py", "--only", "ingest", "--json")),
            Run("sync", ("scripts/bench.py", "--only", "sync", "--json")),
        ),
        render_bench,
    ),
)


def begin_marker(name: str) -> str:
    return f"<!-- begin generated: {name} (scripts/gen-docs; do not edit by hand) -->"


def end_marker(name: str) -> str:
    return f"<!-- end generated: {name} -->"


def regenerate_line(name: str) -> str:
    return f"Regenerate with: `scripts/gen-docs {name}`"


def body(section: Section, stored: dict[str, Any]) -> list[str]:
    """The section's lines between its markers, from its stored JSON."""
    lines = [
        f"{regenerate_line(section.name)} (last run {stored['date']},"
        f" {stored['machine']}), which runs:",
        "",
    ]
    lines += [f"    {run['command']}" for run in stored["runs"]]
    return [*lines, "", *section.render(stored["runs"])]


def figures_path(root: Path, section: Section) -> Path:
    return root / FIGURES / f"{section.name}.json"


def measure(
    section: Section, root: Path, saved: dict[str, Path] | None = None
) -> dict[str, Any]:
    """Run the section's commands and keep their JSON with how it was made;
    a run named in `saved` is taken from that file, its output made before
    by the very same command on this machine."""
    runs = []
    for run in section.runs:
        if saved and run.label in saved:
            output = json.loads(saved[run.label].read_text())
        else:
            output = json.loads(_run(run, root))
        runs.append({"label": run.label, "command": run.shown(), "output": output})
    return {
        "section": section.name,
        "date": datetime.datetime.now(datetime.UTC).date().isoformat(),
        "machine": machine(),
        "runs": runs,
    }


def _run(run: Run, root: Path) -> str:
    print(f"gen-docs: {run.shown()}", file=sys.stderr)
    command = [sys.executable, *run.args]
    done = subprocess.run(command, cwd=root, check=True, capture_output=True, text=True)
    return done.stdout


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}"


def replace_section(text: str, section: Section, lines: list[str]) -> str:
    """`text` with the section between its markers replaced by `lines`."""
    begin, end = begin_marker(section.name), end_marker(section.name)
    start, stop = text.index(begin) + len(begin), text.index(end)
    return text[:start] + "\n" + "\n".join(lines) + "\n" + text[stop:]


def render(root: Path, section: Section) -> None:
    stored = json.loads(figures_path(root, section).read_text())
    doc = root / section.doc
    doc.write_text(replace_section(doc.read_text(), section, body(section, stored)))


def check(root: Path) -> list[str]:
    """What is wrong with the committed docs, one line each (nothing: fine)."""
    problems = []
    for section in SECTIONS:
        problems += _check_section(root, section)
    return problems


def _check_section(root: Path, section: Section) -> list[str]:
    where = f"{section.doc}, section {section.name}"
    text = (root / section.doc).read_text()
    for marker in (begin_marker(section.name), end_marker(section.name)):
        if text.count(marker) != 1:
            return [f"{where}: needs the marker {marker!r} exactly once"]
    if regenerate_line(section.name) not in text:
        return [f"{where}: lacks the line {regenerate_line(section.name)!r}"]
    stored_path = figures_path(root, section)
    if not stored_path.exists():
        return [f"{where}: {stored_path.relative_to(root)} is missing"]
    stored = json.loads(stored_path.read_text())
    if replace_section(text, section, body(section, stored)) != text:
        return [
            f"{where}: differs from what {stored_path.relative_to(root)} renders"
            " (edited by hand? run scripts/gen-docs --render)"
        ]
    return []


def main(argv: list[str] | None = None, root: Path = REPO) -> int:
    names = [s.name for s in SECTIONS]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sections", nargs="*", metavar="SECTION", help=", ".join(names))
    parser.add_argument("--render", action="store_true")
    parser.add_argument("--check", action="store_true")
    parser.add_argument(
        "--use",
        action="append",
        default=[],
        metavar="LABEL=FILE",
        help="take that run's --json output from FILE (made by its exact command)",
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.sections) - set(names))
    if unknown:
        parser.error(
            f"no section {', '.join(unknown)}; the sections: {', '.join(names)}"
        )
    if args.check:
        problems = check(root)
        print("\n".join(problems) or "gen-docs: the docs match their figures")
        return 1 if problems else 0
    chosen = [s for s in SECTIONS if s.name in args.sections or args.render]
    if not chosen:
        parser.error(f"name a section ({', '.join(names)}), --render or --check")
    for section in chosen:
        if not args.render:
            stored = measure(section, root, _saved(parser, args.use))
            figures_path(root, section).write_text(json.dumps(stored, indent=2) + "\n")
        render(root, section)
    return 0


def _saved(parser: argparse.ArgumentParser, pairs: list[str]) -> dict[str, Path]:
    saved = {}
    for pair in pairs:
        label, sep, file = pair.partition("=")
        if not sep or not Path(file).is_file():
            parser.error(f"--use {pair}: give LABEL=FILE, an existing file")
        saved[label] = Path(file)
    return saved


if __name__ == "__main__":
    sys.exit(main())
