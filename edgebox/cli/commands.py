"""The `edgebox` command group and the box's commands (the only package that
may wire in `edgebox.tui` and `edgebox.sync`).

Errors go to stderr as one line (`error: ...`) with a non-zero exit code; a
traceback means a bug in edgebox, never bad input.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click

from edgebox import __version__, i18n
from edgebox import config as config_module
from edgebox.cli.runner import run_group
from edgebox.cli.settings import config_group
from edgebox.cli.users import users_group
from edgebox.clinical.redflags import bundled_rules_text
from edgebox.errors import EdgeboxError, ExtractError
from edgebox.i18n import _
from edgebox.store.schema import DocState
from edgebox.vocabulary import NOT_RATED, Urgency


def main() -> None:
    """Entry point: run the command group, turning EdgeboxError into one line."""
    run_group(cli)


@click.group()
@click.version_option(__version__, prog_name="edgebox")
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of edgebox.toml and all state (default: $EDGEBOX_HOME, ~/edgebox).",
)
@click.pass_context
def cli(ctx: click.Context, home: Path | None) -> None:
    """edgebox: offline triage of clinic documents."""
    ctx.obj = config_module.home_dir(home)


def _config(ctx: click.Context) -> config_module.Config:
    """The settings, with the centre's bundle in use laid over them."""
    from edgebox.service.bundles import applied

    settings = applied(config_module.load(ctx.obj))
    i18n.activate(i18n.choose(settings.ui.language))  # messages, doctor, report
    return settings


@cli.command()
@click.argument(
    "directory", required=False, type=click.Path(file_okay=False, path_type=Path)
)
@click.option("--force", is_flag=True, help="Overwrite an existing edgebox.toml.")
@click.pass_context
def init(ctx: click.Context, directory: Path | None, force: bool) -> None:
    """Write a commented edgebox.toml and the inbox and data folders."""
    home = config_module.home_dir(directory) if directory else ctx.obj
    target = home / config_module.CONFIG_NAME
    if target.exists() and not force:
        raise EdgeboxError(f"{target} already exists (use --force to overwrite it)")
    home.mkdir(parents=True, exist_ok=True)
    target.write_text(config_module.render_default(), encoding="utf-8")
    settings = config_module.load(home)
    rules = settings.home / settings.triage.rules
    if not rules.exists():
        rules.write_bytes(bundled_rules_text())
    settings.inbox_dir.mkdir(parents=True, exist_ok=True)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    from edgebox.store import Store

    Store(settings.db_path).close()  # the store, and with it this install's id
    click.echo(f"wrote {target}")


@cli.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Create a demo workspace: settings (if missing) and sample documents."""
    from edgebox.cli.demo import write_demo_inbox

    home: Path = ctx.obj
    if not (home / config_module.CONFIG_NAME).exists():
        ctx.invoke(init)
    settings = _config(ctx)
    recorded = _recorded_samples(settings.db_path)
    written = write_demo_inbox(settings.inbox_dir, skip=recorded)
    line = f"demo inbox {settings.inbox_dir}: {len(written)} new sample document(s)"
    if recorded:
        line += f" ({len(recorded)} already taken in, not written again)"
    click.echo(line)


def _recorded_samples(db_path: Path) -> set[str]:
    """The sha256 of each sample the store already holds: a rerun of the demo
    (scripts/run) must not drop them again, to be recorded as duplicates."""
    from edgebox.cli.demo import sample_sha256
    from edgebox.store import open_for_reading

    if not db_path.exists():  # a first run: no store yet, nor made here
        return set()
    with open_for_reading(db_path) as store:
        return {sha for sha in sample_sha256().values() if store.find_by_sha256(sha)}


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON object per file on stdout."
)
@click.option(
    "--timeout", type=float, help="Seconds per document (default: model.timeout_s)."
)
@click.pass_context
def triage(
    ctx: click.Context, files: tuple[Path, ...], as_json: bool, timeout: float | None
) -> None:
    """Triage files now and print the results (nothing is stored)."""
    from edgebox.intake.extract import Extraction, extract
    from edgebox.triage.engine import TriageEngine

    settings = _config(ctx)
    texts: list[tuple[Path, Extraction]] = []
    failed = 0
    for path in files:
        try:
            texts.append((path, extract(path)))
        except ExtractError as exc:
            click.echo(f"error: {exc}", err=True)
            failed += 1
    if texts:
        engine = TriageEngine(settings)
        results = [
            (
                p,
                engine.triage(
                    e.text,
                    timeout_s=timeout,
                    unread_pages=[page.to_json() for page in e.unread_pages],
                ),
            )
            for p, e in texts
        ]
        if as_json:
            to_learn = _reviews_to_learn(settings)
            for path, result in results:
                record = {"file": str(path)} | result.to_json()
                record["not_rated"] = (
                    result.urgency == Urgency.UNKNOWN
                    and NOT_RATED in result.review_reasons
                )
                record["reviews_to_learn"] = to_learn
                click.echo(json.dumps(record, ensure_ascii=False))
        else:
            from edgebox.cli.render import results_table

            rows = [{"file_name": p.name} | r.to_json() for p, r in results]
            results_table(rows, title="Triage")
    if failed:
        sys.exit(1)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="The queue as JSON.")
@click.option("--limit", type=int, default=100, show_default=True)
@click.pass_context
def queue(ctx: click.Context, as_json: bool, limit: int) -> None:
    """Documents and their triage, most urgent first."""
    from edgebox.cli.render import results_table
    from edgebox.store import open_for_reading

    settings = _config(ctx)
    settings.require_home()
    with open_for_reading(settings.db_path) as store:
        rows = store.queue(limit=limit)
        total = store.queue_count()
    if as_json:
        # An object, not a bare list: a reader must see that `--limit` cut it.
        page = {"total": total, "limit": limit, "truncated": total > len(rows)}
        click.echo(json.dumps(page | {"documents": rows}, ensure_ascii=False, indent=2))
    else:
        results_table(rows, title=f"Queue: {settings.home}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the queue as JSON.")
@click.pass_context
def process(ctx: click.Context, as_json: bool) -> None:
    """One pass over the inbox: record new files, triage them, show the queue."""
    from edgebox.cli.render import progress_line, results_table
    from edgebox.service.pipeline import Pipeline
    from edgebox.service.workers import Workers
    from edgebox.store import Store

    settings = _config(ctx)
    # A running service takes the inbox's files itself: a pass beside it would
    # triage the same documents twice (and send both results).
    with Workers(settings).lock(), Store(settings.db_path) as store:
        pipeline = Pipeline(settings, store)

        def on_triaged(doc: dict[str, Any], result: Any) -> None:
            if not as_json:
                click.echo(progress_line(doc, result), err=True)

        try:
            report = pipeline.run_once(on_triaged=on_triaged)
        finally:
            pipeline.close()
        queue = store.queue()
    if as_json:
        click.echo(json.dumps(queue, ensure_ascii=False, indent=2))
        return
    click.echo(
        f"recorded {report.recorded}, duplicates {report.duplicates}, "
        f"triaged {report.triaged}, quarantined {report.quarantined}",
        err=True,
    )
    results_table(queue, title=f"Queue: {settings.home}")


_PROGRESS_EVERY = click.option(
    "--progress-every",
    type=float,
    default=10.0,
    show_default=True,
    help="Seconds between progress lines on stderr.",
)
_UNTIL_IDLE = click.option(
    "--until-idle", is_flag=True, help="Stop once the inbox is empty and all is done."
)


@cli.command()
@_UNTIL_IDLE
@click.option("--no-sync", is_flag=True, help="Do not start the sync loop.")
@_PROGRESS_EVERY
@click.pass_context
def serve(
    ctx: click.Context, until_idle: bool, no_sync: bool, progress_every: float
) -> None:
    """The appliance, headless: watch the inbox, triage, retrain, sync.

    Runs until Ctrl-C or SIGTERM. `edgebox tui` (any number of them) works
    beside it on the same store.
    """
    _serve(
        _config(ctx),
        until_idle=until_idle,
        sync=not no_sync,
        triage=True,
        progress_every=progress_every,
    )


@cli.command()
@_UNTIL_IDLE
@click.option(
    "--no-triage", is_flag=True, help="Only take in and read files (no model)."
)
@_PROGRESS_EVERY
@click.pass_context
def watch(
    ctx: click.Context, until_idle: bool, no_triage: bool, progress_every: float
) -> None:
    """Watch the inbox and triage what arrives (`serve` without sync)."""
    _serve(
        _config(ctx),
        until_idle=until_idle,
        sync=False,
        triage=not no_triage,
        progress_every=progress_every,
    )


def _serve(
    settings: config_module.Config,
    *,
    until_idle: bool,
    sync: bool,
    triage: bool,
    progress_every: float,
) -> None:
    import logging
    import signal
    import threading

    from edgebox.cli.render import result_line
    from edgebox.service.step import Step
    from edgebox.service.supervisor import Supervisor

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    sync_loop: Any = None
    if sync and settings.sync.url:
        from edgebox.sync.loop import SyncLoop

        sync_loop = SyncLoop(settings, on_report=_log_sync)

    def on_result(step: Step) -> None:
        _echo_result(result_line(step))
        emergency = step.result and step.result.urgency == Urgency.EMERGENCY
        if sync_loop and emergency:
            sync_loop.wake()  # an emergency leaves as soon as it can

    supervisor = Supervisor(
        settings,
        companions=[("sync", sync_loop)] if sync_loop else [],
        on_result=on_result,
        triage=triage,
    )
    signal.signal(signal.SIGTERM, lambda *_: supervisor.stop_from_signal())
    click.echo(f"watching {settings.inbox_dir} (Ctrl-C to stop)", err=True)
    ticker = threading.Thread(
        target=_report_progress, args=(supervisor, progress_every), daemon=True
    )
    ticker.start()
    try:
        progress = supervisor.run(until_idle=until_idle)
    except KeyboardInterrupt:
        progress = supervisor.progress
    click.echo(progress.line(), err=True)


def _log_sync(report: Any) -> None:
    import logging

    log = logging.getLogger("edgebox.sync")
    if report.ok:
        log.info("sync: sent %d, %d pending", report.acknowledged, report.pending)
    else:
        log.warning("sync: %s (%d pending)", report.error, report.pending)


def _echo_result(line: str | None) -> None:
    if line:
        click.echo(line)


def _report_progress(supervisor: Any, every: float) -> None:
    """A progress line when something changed: an idle night writes none."""
    last = None
    while not supervisor.stop_event.wait(every):
        line = supervisor.progress.line()
        if line != last:
            click.echo(line, err=True)
            last = line


@cli.command()
@click.argument("document_id", type=int, required=False)
@click.option(
    "--all-failed",
    is_flag=True,
    help="Every failed or quarantined document and every failed triage.",
)
@click.pass_context
def requeue(ctx: click.Context, document_id: int | None, all_failed: bool) -> None:
    """Send a failed or quarantined document back to be read and triaged again,
    or a failed triage (urgency unknown) no one has reviewed to be triaged again."""
    from edgebox.intake.archive import clear_quarantine_copy
    from edgebox.store import DocState, Store

    if (document_id is None) == (not all_failed):
        raise click.UsageError("give a DOCUMENT_ID or --all-failed (not both)")
    settings = _config(ctx)
    with Store(settings.db_path) as store:
        if all_failed:
            # A file never read has no original to read again: drop it anew.
            ids = [
                doc["id"]
                for doc in store.requeueable()
                if doc["archive_path"] or doc["state"] == DocState.TRIAGED
            ]
        else:
            ids = [document_id]
        done: set[int] = set()
        for doc_id in ids:
            if doc_id in done:
                continue  # a copy, sent back with its first document
            for doc in store.requeue(doc_id):
                done.add(doc["id"])
                clear_quarantine_copy(
                    settings.quarantine_dir,
                    doc_id=doc["id"],
                    file_name=doc["file_name"],
                )
    click.echo(
        f"requeued {len(done)} document(s) (copies of one document are read"
        " once); the service (edgebox serve) or the next process reads them"
    )


@cli.command()
@click.argument("document_id", type=int)
@click.option(
    "--urgency",
    type=click.Choice([level.value for level in Urgency.levels()]),
    default=Urgency.EMERGENCY.value,
    show_default=True,
)
@click.option("--category", help="Set the category too.")
@click.option("--note", help="Why (kept with the revision).")
@click.pass_context
def escalate(
    ctx: click.Context,
    document_id: int,
    urgency: str,
    category: str | None,
    note: str | None,
) -> None:
    """Set a document's urgency (emergency by default) now, triaged or not:
    the service's later stages keep a person's answer."""
    from edgebox.store import Store
    from edgebox.tui.app import reviewer_name

    settings = _config(ctx)
    settings.require_home()
    if category is not None and category not in settings.categories:
        raise click.BadParameter(
            f"{category!r} is not one of {', '.join(settings.categories)}",
            param_hint="--category",
        )
    reviewer = reviewer_name()
    if reviewer is None:
        raise click.UsageError("set EDGEBOX_USER to the name of who escalates")
    with Store(settings.db_path) as store:
        revision = store.set_by_staff(
            document_id,
            reviewer=reviewer,
            urgency=urgency,
            category=category,
            note=note,
            signed="EDGEBOX_USER" if os.environ.get("EDGEBOX_USER") else "login",
        )
    said = _("document {id}: {urgency}, saved as revision {n}")
    click.echo(said.format(id=document_id, urgency=_(urgency), n=revision))


@cli.command()
@click.option(
    "--since",
    default="24h",
    show_default=True,
    help="Documents received in the last 24h, 7d, ... or since an ISO date.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "html"]),
    default="html",
    show_default=True,
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here instead of standard output.",
)
@click.pass_context
def report(ctx: click.Context, since: str, fmt: str, output: Path | None) -> None:
    """The shift hand-over: emergencies, urgent documents, those waiting for
    a person, and reviews per person, as CSV or printable HTML (A4)."""
    from edgebox.service.handover import period, to_csv, to_html
    from edgebox.store import Store
    from edgebox.store.handover import handover

    settings = _config(ctx)
    settings.require_home()
    try:
        start, end = period(since)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    with Store.open_read_only(settings.db_path) as store:
        found = handover(store.db, since=start, until=end)
    text = to_csv(found) if fmt == "csv" else to_html(found)
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    said = _(
        "{path}: {emergencies} emergencies, {urgent} urgent,"
        " {waiting} waiting for a person"
    )
    click.echo(
        said.format(
            path=output,
            emergencies=len(found.emergencies),
            urgent=len(found.urgent),
            waiting=len(found.to_review),
        )
    )


@cli.command()
@click.argument("document_id", type=int)
@click.argument(
    "directory", type=click.Path(file_okay=False, writable=True, path_type=Path)
)
@click.pass_context
def export(ctx: click.Context, document_id: int, directory: Path) -> None:
    """Copy a document's original file out of the archive into DIRECTORY
    (made if missing), under its own name; never overwrites a file there."""
    from edgebox.intake.archive import archive_path, export_copy
    from edgebox.store import Store

    settings = _config(ctx)
    settings.require_home()
    with Store.open_read_only(settings.db_path) as store:
        doc = store.document(document_id)
    source = archive_path(settings.archive_dir, doc["sha256"])
    if not source.is_file():
        raise click.ClickException(
            f"document {document_id}: its original is not in the archive ({source})"
        )
    target = export_copy(source, doc["file_name"], directory)
    said = _("document {id}: {target} (archived as {source})")
    click.echo(said.format(id=document_id, target=target, source=source))


def _iso_date(value: str | None, param: click.Parameter) -> str | None:
    """A filter date as the store compares it: a mistyped one ("yesterday")
    would otherwise match nothing and look like an empty result."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date like 2026-11-29", param=param
        ) from None


def _search_index(settings: config_module.Config, store: Any) -> Any:
    from edgebox.search.embed import Embedder
    from edgebox.search.index import SearchIndex

    embedder = Embedder(settings.index.model, batch_size=settings.index.batch_size)
    return SearchIndex(store, embedder, settings.index)


@cli.command()
@click.argument("query")
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--category", help="Only this category.")
@click.option("--urgency", type=click.Choice([urgency.value for urgency in Urgency]))
@click.option(
    "--state",
    type=click.Choice([state.value for state in DocState]),
    help="Only documents in this state.",
)
@click.option(
    "--since",
    callback=lambda ctx, param, value: _iso_date(value, param),
    help="Received on or after this date (YYYY-MM-DD).",
)
@click.option(
    "--until",
    callback=lambda ctx, param, value: _iso_date(value, param),
    help="Received on or before this date (YYYY-MM-DD).",
)
@click.option("--json", "as_json", is_flag=True, help="A JSON list of hits.")
@click.pass_context
def search(
    ctx: click.Context,
    query: str,
    limit: int,
    category: str | None,
    urgency: str | None,
    state: str | None,
    since: str | None,
    until: str | None,
    as_json: bool,
) -> None:
    """Find documents by words and meaning (full text + embeddings)."""
    from edgebox.cli.render import hits_table
    from edgebox.search.index import hits_json
    from edgebox.store import open_for_reading
    from edgebox.store.filters import DocumentFilter

    settings = _config(ctx)
    settings.require_home()
    if category is not None and category not in settings.categories:
        known = ", ".join(settings.categories)
        raise click.BadParameter(
            f"{category!r} is not a category of this box ({known})",
            param_hint="'--category'",
        )
    filters = DocumentFilter(
        category=category, urgency=urgency, state=state, since=since, until=until
    )
    with open_for_reading(settings.db_path) as store:
        hits = _search_index(settings, store).search(
            query, limit=limit, filters=filters
        )
    if as_json:
        click.echo(hits_json(hits))
    else:
        hits_table(hits, title=f"Search: {query}")


@cli.command()
@click.argument("document_id", type=int)
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="A JSON list of documents.")
@click.pass_context
def similar(ctx: click.Context, document_id: int, limit: int, as_json: bool) -> None:
    """Documents most like this one, reviewed ones (with their labels) first."""
    from edgebox.cli.render import hits_table
    from edgebox.search.index import hits_json
    from edgebox.store import open_for_reading

    settings = _config(ctx)
    settings.require_home()
    with open_for_reading(settings.db_path) as store:
        store.document(document_id)  # a clear error for an unknown id
        hits = _search_index(settings, store).similar(document_id, limit=limit)
    if as_json:
        click.echo(hits_json(hits))
    else:
        hits_table(hits, title=f"Similar to document {document_id}")


@cli.command()
@click.pass_context
def reindex(ctx: click.Context) -> None:
    """Embed documents again after an embedding-model change (resumable)."""
    from rich.progress import Progress

    from edgebox.store import Store

    settings = _config(ctx)
    with Store(settings.db_path) as store, Progress(transient=True) as bar:
        index = _search_index(settings, store)
        task = bar.add_task("indexing", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        done = index.reindex(progress=advance)
    click.echo(f"indexed {done} document(s) with {index.embedder.name}")


def _retention_report(settings: config_module.Config, store: Any) -> dict[str, Any]:
    """What the sync settings will prune next (sent outbox rows)."""
    from edgebox.store.outbox import sent_cutoff

    cutoff = sent_cutoff(settings.sync.keep_sent_days)
    due = 0 if cutoff is None else store.sent_outbox_due(sent_before=cutoff)
    return {"keep_sent_days": settings.sync.keep_sent_days, "sent_outbox_due": due}


def _retention_lines(retention: dict[str, Any]) -> list[str]:
    lines = []
    for part in ("originals", "text", "results"):
        facts = retention[part]
        if not facts["days"]:
            lines.append(f"retention {part}: kept for ever")
        elif facts["due"]:
            lines.append(f"retention {part}: {facts['due']} document(s) due now")
        elif facts["next_due_at"]:
            lines.append(f"retention {part}: next due {facts['next_due_at']}")
    return lines


@cli.command()
@click.option("--dry-run", is_flag=True, help="Say what is due; delete nothing.")
@click.option("--json", "as_json", is_flag=True, help="The report as JSON.")
@click.pass_context
def retention(ctx: click.Context, dry_run: bool, as_json: bool) -> None:
    """Delete originals, extracted text and whole records older than
    `[retention]` says.

    Never a document whose results the centre has not acknowledged, nor one
    waiting for a person's review; the audit stays.
    """
    from edgebox.service.retention import retention_report, run_retention
    from edgebox.store import Store

    settings = _config(ctx)
    settings.require_home()
    with Store(settings.db_path) as store:
        if dry_run:
            report = retention_report(settings, store)
        else:
            report = run_retention(settings, store)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
        return
    click.echo(report.line())


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Counts as JSON.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Documents per state, review and outbox counts."""
    from edgebox.learn.choice import in_use_report, in_use_words
    from edgebox.learn.classifiers import learned_report
    from edgebox.service.bundles import status as bundle_status
    from edgebox.service.heartbeat import model_words
    from edgebox.service.retention import retention_facts
    from edgebox.service.supervisor import service_report
    from edgebox.store import open_for_reading
    from edgebox.store.alerts import alert_counts

    settings = _config(ctx)
    settings.require_home()
    with open_for_reading(settings.db_path) as store:
        data = {
            "home": str(settings.home),
            "database": str(settings.db_path),
            "documents": store.counts_by_state(),
            "needs_review": store.needs_review_count(),
            "outbox": store.outbox_counts(),
            "retention": _retention_report(settings, store),
            # `[retention]`: originals, text and records, due now and next.
            "document_retention": retention_facts(settings, store),
            "overrides": store.override_stats(review_cut=settings.triage.review_cut),
            "service": service_report(store.service_state()),
            "learned": learned_report(
                settings.data_dir, min_examples=settings.triage.min_examples
            ),
            # Own or the centre's model, per task (edgebox.learn.choice).
            "model_in_use": in_use_report(
                settings.data_dir, min_examples=settings.triage.min_examples
            ),
            "index": _index_report(settings, store),
            "reviews_to_learn": max(
                0, settings.triage.min_examples - store.reviewed_count()
            ),
            "alerts": {
                "command": bool(settings.alerts.command),
                **alert_counts(store.db),
            },
            "bundle": bundle_status(settings.data_dir),
        }
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"home      {data['home']}")
    click.echo(f"database  {data['database']}")
    states = ", ".join(f"{k} {v}" for k, v in data["documents"].items() if v)
    click.echo(f"documents {states or 'none'}")
    click.echo(f"review    {data['needs_review']} waiting for a person")
    outbox = ", ".join(f"{k} {v}" for k, v in data["outbox"].items())
    click.echo(f"outbox    {outbox}")
    if due := data["retention"]["sent_outbox_due"]:
        click.echo(
            f"retention {due} sent outbox row(s) due to be pruned at the next sync"
        )
    for line in _retention_lines(data["document_retention"]):
        click.echo(line)
    service = data["service"]
    click.echo(
        f"service   {'running' if service['running'] else 'not running'}"
        + (f", {model_words(service)}" if service["running"] else "")
    )
    for task, model in data["learned"].items():
        learned = (
            f"{model['n_examples']} reviews"
            + ("" if model["in_use"] else " (too few to use yet)")
            if model
            else "none yet: documents no rule flags are not rated"
            f" ({data['reviews_to_learn']} more reviews before the box learns)"
        )
        click.echo(f"learned   {task}: {learned}")
    for task, entry in data["model_in_use"].items():
        click.echo(f"deciding  {task}: {in_use_words(entry)}")
    alerts = data["alerts"]
    if alerts["command"] or alerts["sent"] or alerts["failed"]:
        click.echo(
            f"alerts    {alerts['sent']} sent, {alerts['pending']} waiting,"
            f" {alerts['failed']} failed for good"
        )
    if data["bundle"]["version"] or data["bundle"]["refused"]:
        from edgebox.cli.bundles import status_lines

        pinned = bool(settings.sync.bundle_public_key)
        for line in status_lines(data["bundle"], pinned=pinned):
            click.echo(line)
    index = data["index"]
    if index.get("problem"):
        click.echo(f"index     {index['problem']}")
    elif index["not_indexed"]:
        click.echo(
            f"index     {index['not_indexed']} triaged document(s) not searchable"
            f" by meaning with {index['model']}: run `edgebox reindex`"
        )
    overrides = data["overrides"]
    if overrides["reviewed"]:
        click.echo(
            f"overrides staff changed the urgency of "
            f"{overrides['urgency']['overridden']} and the category of "
            f"{overrides['category']['overridden']} of {overrides['reviewed']} reviewed"
        )
        if line := _confidence_held(overrides, settings.triage.review_cut):
            click.echo(line)


def _reviews_to_learn(settings: config_module.Config) -> int:
    """Staff reviews still needed before this box trains its own models (all
    of them where there is no store yet)."""
    from edgebox.store import open_for_reading

    needed = settings.triage.min_examples
    if not settings.db_path.is_file():
        return needed
    with open_for_reading(settings.db_path) as store:
        return max(0, needed - store.reviewed_count())


def _index_report(settings: config_module.Config, store: Any) -> dict[str, Any]:
    """Whether search by meaning covers every triaged document: after a change
    of embedding model (or one that failed to load) it quietly does not, until
    `edgebox reindex`. The model is named, not loaded."""
    from edgebox.search.embed import EmbeddingError, resolve_model

    try:
        _source, name = resolve_model(settings.index.model)
    except EmbeddingError as exc:
        return {"model": settings.index.model, "problem": exc.message}
    return {"model": name, "not_indexed": store.count_to_index(name)}


def _confidence_held(overrides: dict[str, Any], cut: float) -> str | None:
    """How often staff kept the labels the AI was sure enough of to skip
    review: about `cut` of the time or more when the confidence holds here."""
    parts = []
    for field in ("urgency", "category"):
        sure = [
            band
            for band in overrides[field]["by_confidence"]
            if band["from"] is not None and band["from"] >= cut
        ]
        if reviewed := sum(band["reviewed"] for band in sure):
            kept = sum(band["kept"] for band in sure)
            parts.append(f"{kept} of {reviewed} {field} labels")
    if not parts:
        return None
    return f"confidence staff kept {' and '.join(parts)} given {cut:g} or more"


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="The full report as JSON.")
@click.pass_context
def doctor(ctx: click.Context, as_json: bool) -> None:
    """Check Python, SQLite, the model, llama.cpp's GPU support, OCR, the
    red-flag rules and the inbox."""
    from edgebox.cli.doctor import report
    from edgebox.cli.render import doctor_text

    checks = report(_config(ctx))
    if as_json:
        click.echo(json.dumps(checks, indent=2))
    else:
        click.echo(doctor_text(checks))
    if (
        not checks["model"].get("ok")
        or not checks["llama_cpp"].get("installed")
        or not checks["rules"]["ok"]
    ):
        sys.exit(1)


@cli.command("eval")
@click.option(
    "--train",
    "train_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--test",
    "test_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--summaries",
    "summaries_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Measure the model's summaries on this JSONL file instead (no labels).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    help="With --summaries: only the first LIMIT documents.",
)
@click.option(
    "--emergency-recall",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    help="Target emergency recall to try (default: [triage] emergency_recall).",
)
@click.option(
    "--votes",
    is_flag=True,
    help="With --test: does the model's label beat the rules alone? (prints"
    " the [model.votes] record for models/manifest.toml)",
)
@click.option(
    "--new-box",
    is_flag=True,
    help="With --test: triage as a box with no reviews (no learned model).",
)
@click.option(
    "--subset",
    type=click.IntRange(min=2),
    help="Use a fixed stratified subset of TEST of this size (seed 2026);"
    " --votes uses 120 unless told.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@click.pass_context
def eval_command(
    ctx: click.Context,
    train_file: Path | None,
    test_file: Path | None,
    summaries_file: Path | None,
    limit: int | None,
    emergency_recall: float | None,
    votes: bool,
    new_box: bool,
    subset: int | None,
    as_json: bool,
) -> None:
    """Train as if staff had reviewed TRAIN, then measure triage on TEST; or
    measure the model's summaries on one file (--summaries); or whether its
    label earns a vote (--votes); or a box with no reviews (--new-box)."""
    from edgebox.evaluation.evaluate import format_report, run_eval

    settings = _config(ctx)
    if summaries_file is not None:
        _summary_benchmark(settings, summaries_file, limit=limit, as_json=as_json)
        return
    if (votes or new_box) and test_file is not None and train_file is None:
        _no_review_eval(settings, test_file, votes=votes, size=subset, as_json=as_json)
        return
    if train_file is None or test_file is None:
        raise click.UsageError(
            "give --train and --test, --test with --votes or --new-box, or --summaries"
        )
    report = run_eval(
        train_file, test_file, config=settings, emergency_recall=emergency_recall
    )
    click.echo(json.dumps(report, indent=2) if as_json else format_report(report))


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def backup(ctx: click.Context, directory: Path) -> None:
    """Copy the store, originals and learned models into a new folder in DIR
    (safe while the service runs)."""
    from edgebox.service.backup import backup as write_backup

    settings = _config(ctx)
    settings.require_home()
    report = write_backup(settings, directory)
    click.echo(f"backed up to {report.path}: {report.originals} original(s)")
    if report.missing:
        click.echo(
            f"warning: {len(report.missing)} original(s) were not in the archive",
            err=True,
        )


@cli.command()
@click.argument(
    "directory", type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.pass_context
def restore(ctx: click.Context, directory: Path) -> None:
    """Put a backup folder made by `edgebox backup` onto this new box."""
    from edgebox.service.backup import restore as read_backup

    report = read_backup(_config(ctx), directory)
    click.echo(f"restored {report.path}: {report.originals} original(s)")


def _no_review_eval(
    settings: config_module.Config,
    test_file: Path,
    *,
    votes: bool,
    size: int | None,
    as_json: bool,
) -> None:
    """`eval --votes` and `eval --new-box`: no training, the box's model."""
    from edgebox.evaluation import votes as vote_check
    from edgebox.evaluation.evaluate import (
        format_report,
        read_jsonl,
        run_new_box,
    )
    from edgebox.triage.engine import TriageEngine

    task, rows = read_jsonl(test_file)
    if votes or size:
        rows = vote_check.stratified_subset(rows, task, size or vote_check.DEFAULT_SIZE)
    engine = TriageEngine(settings, lazy_model=True)
    if not votes:
        report = run_new_box(task, rows, config=settings, engine=engine)
        click.echo(json.dumps(report, indent=2) if as_json else format_report(report))
        return
    report = vote_check.check_votes(engine, task, rows, settings.categories)
    record = vote_check.manifest_lines(settings.model.file, [report])
    if as_json:
        click.echo(json.dumps(report | {"manifest": record}, indent=2))
        return
    click.echo(
        f"{task} on {report['n']} held-out notes: macro-F1 rules alone"
        f" {report['macro_f1_rules_alone']}, with the model's vote"
        f" {report['macro_f1_rules_and_llm']}, with a constant"
        f" '{report['best_constant']}' {report['macro_f1_rules_and_constant']}"
    )
    click.echo(f"the model's labels: {report['llm_labels']}")
    click.echo(
        f"it {'earns' if report['vote'] else 'does not earn'} a vote; for"
        " models/manifest.toml, under its [[model]] entry:\n" + record
    )


def _summary_benchmark(
    settings: config_module.Config, path: Path, *, limit: int | None, as_json: bool
) -> None:
    from edgebox.evaluation.summaries import (
        format_summary_report,
        run_summary_benchmark,
    )

    report = run_summary_benchmark(path, config=settings, limit=limit)
    click.echo(
        json.dumps(report, indent=2) if as_json else format_summary_report(report)
    )


@cli.command("run")
@click.pass_context
def run_command(ctx: click.Context) -> None:
    """The service and the UI at once: one command on a laptop.

    Quitting the UI stops the service too (use `serve` and `tui` apart to keep
    triage running). Without a terminal it runs the service alone.
    """
    settings = _config(ctx)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        _serve(settings, until_idle=False, sync=True, triage=True, progress_every=10.0)
        return
    from edgebox.cli.launch import ServiceProcess
    from edgebox.tui.app import run_app

    with ServiceProcess(settings) as service:
        run_app(settings)
        ended = service.exit_status()
        if ended is None:
            click.echo(
                "stopping the service (the document in hand is taken again at"
                " its next start)",
                err=True,
            )
    if ended:  # it stopped on its own: another service held the workspace, or worse
        click.echo(
            f"the service had stopped on its own (exit {ended});"
            f" see {service.log_path}",
            err=True,
        )
    else:
        click.echo(f"service stopped; its log is {service.log_path}", err=True)


@cli.command()
@click.pass_context
def tui(ctx: click.Context) -> None:
    """The terminal UI: queue, documents, review, search, status (keyboard only)."""
    from edgebox.tui.app import run_app

    settings = _config(ctx)
    settings.require_home()  # not an empty workspace of one's own, no patients
    run_app(settings)


# The CLI entry is the only place where the core meets the sync package.
from edgebox.cli.bundles import bundle_group  # noqa: E402
from edgebox.cli.sync import central_group, sync_command  # noqa: E402

cli.add_command(sync_command)
cli.add_command(central_group)
cli.add_command(users_group)
cli.add_command(config_group)
cli.add_command(bundle_group)
