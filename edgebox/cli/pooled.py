"""`edgebox central train` and `edgebox central drift`: pooled learning and
drift at the centre (sync/central/training.py, sync/central/drift.py).

`edgebox.cli.sync` adds them to its `central` group, as it does the console
commands, passing its `--db` option and how it resolves it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from edgebox.config import TriageConfig
from edgebox.errors import SyncError
from edgebox.sync.central.training import CENTRAL_EMERGENCY_RECALL

DbOption = Callable[[Callable[..., Any]], Callable[..., Any]]
DbUrl = Callable[[click.Context, str | None], str]


def drift_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The drift limits, each with its EDGEBOX_CENTRAL_DRIFT_* variable."""
    from edgebox.sync.central.drift import DriftLimits

    defaults = DriftLimits()
    for name, kind, why in reversed(
        [
            ("limit", click.FloatRange(0, 1), "Override rate that flags a clinic."),
            ("rise", click.FloatRange(0, 1), "Rise over earlier windows that flags."),
            ("window_days", click.IntRange(min=1), "Days in one window."),
            ("min_reviews", click.IntRange(min=1), "Fewest reviews a window needs."),
        ]
    ):
        command = click.option(
            f"--drift-{name.replace('_', '-')}",
            f"drift_{name}",
            type=kind,
            default=getattr(defaults, name),
            show_default=True,
            envvar=f"EDGEBOX_CENTRAL_DRIFT_{name.upper()}",
            help=why,
        )(command)
    return command


def limits_from(options: dict[str, Any]) -> Any:
    from edgebox.sync.central.drift import DriftLimits

    return DriftLimits(
        **{
            key.removeprefix("drift_"): value
            for key, value in options.items()
            if key.startswith("drift_")
        }
    )


def add_pooled_commands(group: click.Group, db_option: DbOption, db_url: DbUrl) -> None:
    """Add `train` and `drift` to `group`."""

    @group.command("train")
    @click.option(
        "--from",
        "imports",
        multiple=True,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Labelled JSONL (the `edgebox eval` format) to train on too.",
    )
    @db_option
    @click.option(
        "--out",
        required=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="The candidate's folder (learned/*.joblib and report.json).",
    )
    @click.option(
        "--baseline",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        help="The models published now (same layout), to compare against.",
    )
    @click.option("--seed", type=int, default=0, show_default=True)
    @click.option(
        "--holdout",
        type=click.FloatRange(0, 1, min_open=True, max_open=True),
        default=0.25,
        show_default=True,
        help="Share of each clinic's rows held out for the comparison.",
    )
    @click.option(
        "--min-examples",
        type=click.IntRange(min=2),
        default=TriageConfig.min_examples,
        show_default=True,
        help="Fewest training rows for a task to train (as on a box).",
    )
    @click.option(
        "--emergency-recall",
        type=click.FloatRange(0, 1),
        default=CENTRAL_EMERGENCY_RECALL,
        show_default=True,
        help="The urgency model's emergency recall target (see"
        " docs/pooled-learning.md for why the centre's is 0.90).",
    )
    @click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
    @click.pass_context
    def train_command(
        ctx: click.Context,
        imports: tuple[Path, ...],
        db: str | None,
        out: Path,
        baseline: Path | None,
        seed: int,
        holdout: float,
        min_examples: int,
        emergency_recall: float,
        as_json: bool,
    ) -> None:
        """Train category and urgency on the pooled reviews and --from files."""
        from edgebox.sync.central import training

        rows = [row for path in imports for row in training.imported_rows(path)]
        rows += training.pooled_rows(_pooled(ctx, db, db_url, bool(imports)))
        try:
            report = training.train_candidate(
                rows,
                out,
                baseline=baseline,
                seed=seed,
                holdout=holdout,
                min_examples=min_examples,
                emergency_recall=emergency_recall,
            )
        except ModuleNotFoundError as exc:
            raise SyncError(
                f"central train needs scikit-learn ({exc.name} is missing):"
                " pip install 'edgebox[learn]'"
            ) from None
        if as_json:
            click.echo(json.dumps(report, indent=2))
            return
        for line in report_lines(report):
            click.echo(line)
        click.echo(f"candidate written to {out}")

    @group.command("drift")
    @db_option
    @drift_options
    @click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
    @click.pass_context
    def drift_command(
        ctx: click.Context, db: str | None, as_json: bool, **options: Any
    ) -> None:
        """Override rates per clinic and bundle version; flags drifting clinics."""
        from edgebox.sync.central.database import open_central
        from edgebox.sync.central.drift import drift_report

        central = open_central(db_url(ctx, db), create=False)
        try:
            report = drift_report(central.triage_history(), limits_from(options))
        finally:
            central.close()
        if as_json:
            click.echo(json.dumps(report, indent=2))
            return
        if not report:
            click.echo("no hand reviews synced yet")
        for entry in report:
            click.echo(drift_line(entry))
            for why in entry["why"]:
                click.echo(f"  FLAGGED: {why}")


def _pooled(
    ctx: click.Context, db: str | None, db_url: DbUrl, has_imports: bool
) -> list[dict[str, Any]]:
    """The central database's pooled reviews; none when there is no database
    yet and --from files were given."""
    from edgebox.sync.central.database import open_central

    try:
        central = open_central(db_url(ctx, db), create=False)
    except SyncError:
        if db or not has_imports:
            raise
        return []
    try:
        return central.pooled_reviews()
    finally:
        central.close()


def report_lines(report: dict[str, Any]) -> list[str]:
    """The training report for a terminal."""
    lines = []
    for task, entry in report["tasks"].items():
        if not entry.get("trained"):
            lines.append(f"{task}: not trained, {entry['why']}")
            continue
        mine, theirs = entry["candidate"], entry.get("baseline")
        line = (
            f"{task}: trained on {entry['n_train']}, held out {entry['n_held_out']}:"
            f" {_figures(mine)}"
        )
        if theirs:
            line += f"; baseline {_figures(theirs)}"
        lines.append(line + f" ({entry['why']})")
    verdict = "PUBLISHABLE" if report["publishable"] else "NOT publishable"
    lines.append(f"{verdict}: {report['why']}")
    return lines


def _figures(scores: dict[str, Any]) -> str:
    text = f"macro-F1 {scores['macro_f1']:.3f}"
    if scores.get("emergency_recall") is not None:
        text += f", emergency recall {scores['emergency_recall']:.3f}"
    return text


def drift_line(entry: dict[str, Any]) -> str:
    latest = entry["windows"][-1]
    return (
        f"{entry['clinic']:20} bundle {entry['bundle_version']:10}"
        f" {entry['reviews']} reviews; since {latest['from']}:"
        f" urgency {latest['urgency_override_rate']:.0%},"
        f" category {latest['category_override_rate']:.0%} overridden"
        + (" FLAGGED" if entry["flagged"] else "")
    )
