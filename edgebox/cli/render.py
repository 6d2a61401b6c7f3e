"""Plain terminal output for the CLI: result tables, progress lines, the doctor."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from edgebox.i18n import N_, _
from edgebox.service.step import Step, StepOutcome
from edgebox.terminal import visible
from edgebox.vocabulary import Urgency

URGENCY_STYLE = {
    Urgency.EMERGENCY: "bold white on red",
    Urgency.URGENT: "bold yellow",
    Urgency.UNKNOWN: "bold magenta",
    Urgency.ROUTINE: "green",
}


def _plain(text: object, style: str = "") -> Text:
    """A table cell that shows `text` as it is: never parsed as rich markup
    (a file named `a[/b].txt` or a summary with `[link=...]` stays text)."""
    return Text(visible(text), style=style)


def results_table(rows: Iterable[Mapping[str, Any]], *, title: str) -> None:
    """Documents with their triage, most urgent first as given; stored ones
    with their id, which `requeue` and `similar` take."""
    rows = list(rows)
    stored = any("document_id" in row for row in rows)
    table = Table(title=title, expand=True, show_lines=False)
    if stored:
        table.add_column("ID", no_wrap=True, justify="right")
    table.add_column("Urgency", no_wrap=True)
    table.add_column("File", overflow="fold", ratio=2)
    table.add_column("Category", overflow="fold", ratio=1)
    table.add_column("Review", no_wrap=True)
    table.add_column("Summary / red flags", overflow="fold", ratio=4)
    for row in rows:
        urgency = row.get("urgency") or row.get("state") or ""
        flags = ", ".join(str(f["sign"]) for f in row.get("red_flags") or [])
        detail = _plain(
            row.get("summary") or row.get("error_message") or row.get("error") or ""
        )
        if flags:
            detail.append(("\nflags: " if detail else "") + visible(flags), "red")
        cells = [
            _plain(urgency, URGENCY_STYLE.get(urgency, "")),
            _plain(row.get("file_name", "")),
            _plain(row.get("category") or "-"),
            "yes" if row.get("needs_review") else "",
            detail,
        ]
        if stored:
            cells.insert(0, str(row.get("document_id", "")))
        table.add_row(*cells)
    Console().print(table)


def hits_table(hits: Iterable[Any], *, title: str) -> None:
    table = Table(title=title, expand=True)
    table.add_column("#", no_wrap=True)
    table.add_column("Score", no_wrap=True)
    table.add_column("Urgency", no_wrap=True)
    table.add_column("File / category", overflow="fold", ratio=2)
    table.add_column("Snippet", overflow="fold", ratio=4)
    for hit in hits:
        urgency = hit.urgency or hit.state
        label = f"{hit.file}\n{hit.category or '-'}" + (
            " (reviewed)" if hit.reviewed else ""
        )
        table.add_row(
            str(hit.document_id),
            f"{hit.score:.4f}",
            _plain(urgency, URGENCY_STYLE.get(urgency, "")),
            _plain(label),
            _plain(hit.snippet),
        )
    Console().print(table)


def result_line(step: Step) -> str | None:
    """The service log's line per finished step that a person cares about.

    By document id only: file names are often patients' names, and red flags
    are health details; the UI, `edgebox queue` and `quarantine/` show them
    to those who may see them."""
    doc_id, result = step.document["id"], step.result
    if step.outcome is StepOutcome.QUARANTINED:
        return f"quarantined #{doc_id} (reason in quarantine/)"
    if step.outcome is StepOutcome.FAILED:
        return f"will retry #{doc_id}"
    if result is None:  # extracted without triage
        return None
    review = " [review]" if result.needs_review else ""
    stage = " [provisional]" if result.provisional else ""
    return f"{result.urgency:9} #{doc_id}: {result.category or '-'}{review}{stage}"


def progress_line(doc: Mapping[str, Any], result: Any) -> str:
    latency = result.provenance.get("latency_s")
    took = f"{latency:.1f} s" if latency is not None else "failed"
    name = visible(doc["file_name"], one_line=True)
    return f"triaged #{doc['id']} {name}: {result.urgency} ({took})"


def doctor_text(checks: Mapping[str, Any]) -> str:
    """The checks as aligned lines in the active language (`--json` stays
    English: scripts read it). The warnings' own text is still English."""
    model, llama, sqlite = checks["model"], checks["llama_cpp"], checks["sqlite"]
    ocr, gpu = checks["ocr"], checks["gpu"]
    config_file = checks["config_file"] or _("defaults")
    lines = [
        _row(N_("edgebox"), f"{checks['edgebox']}  Python {checks['python']}"),
        _row(N_("platform"), checks["platform"]),
        _row(N_("home"), f"{checks['home']}  " + _("config: ") + str(config_file)),
        _row(
            N_("sqlite"),
            f"{sqlite['version']}  "
            + _("extensions loadable: ")
            + _yes(sqlite["extensions_loadable"]),
        ),
        _row(N_("model"), model["file"]),
    ]
    if model.get("sha256"):
        lines.append(
            _row("", f"sha256 {model['sha256']}  ")
            + _("manifest: ")
            + _(str(model["manifest"]))
        )
        votes = ", ".join(model.get("votes") or []) or _(
            "none (no [model.votes] record shows it beats the rules: until the"
            " box learns, what no rule flags is not rated)"
        )
        lines.append(_row("", _("its labels vote on: ") + votes))
    lines += _llama_lines(llama)
    lines.append(_row(N_("gpu"), gpu["detail"] if gpu["present"] else _("none found")))
    lines.append(_row(N_("threads"), str(checks["threads"])))
    langs = ", ".join(ocr["languages"]) or "-"
    tesseract = f"tesseract ({langs})" if ocr["available"] else _("not installed")
    lines.append(_row(N_("ocr"), tesseract))
    if ocr.get("pdf_policy"):
        lines.append(_row("", ocr["pdf_policy"]))
    lines += _store_lines(checks)
    for warning in checks["warnings"]:
        lines.append(_("warning: ") + warning)
    return "\n".join(lines)


def _row(label: str, text: str) -> str:
    """`label` in its 12-column gutter (translated), then the text."""
    return f"{_(label):<11} {text}"


def _llama_lines(llama: Mapping[str, Any]) -> list[str]:
    if not llama.get("installed"):
        return [_row(N_("llama.cpp"), _("not usable: ") + str(llama.get("problem")))]
    lines = [
        _row(
            N_("llama.cpp"),
            _("llama-cpp-python {version}  GPU offload: {offload}  layers: {layers}"
              " (setting {setting})").format(
                version=llama["version"],
                offload=_yes(llama["gpu_offload"]),
                layers=llama["gpu_layers_used"],
                setting=llama["gpu_layers_setting"],
            ),
        )
    ]  # fmt: skip
    if not llama.get("extra_buffers", True):
        lines.append(
            _row(
                "",
                _("weight repacking off: this CPU advertises AMX,"
                  " whose llama.cpp kernels crash"),
            )
        )  # fmt: skip
    return lines


def _store_lines(checks: Mapping[str, Any]) -> list[str]:
    """Rules, inbox, encryption at rest and retention."""
    rules, inbox, at_rest = checks["rules"], checks["inbox"], checks["at_rest"]
    rules_state = (
        _("version {version}").format(version=rules["version"])
        if rules["ok"]
        else _("DO NOT LOAD")
    )
    inbox_state = (
        _("missing")
        if not inbox["exists"]
        else _("mounted")
        if inbox["is_mount"]
        else _("ok")
    )
    sealed = {True: N_("encrypted"), False: N_("NOT encrypted"), None: N_("unknown")}
    lines = [
        _row(N_("rules"), f"{rules['file']}  {rules_state}"),
        _row(N_("inbox"), f"{inbox['path']}  {inbox_state}"),
        _row(N_("at rest"), f"{_(sealed[at_rest['encrypted']])}: {at_rest['how']}"),
    ]
    for part, facts in checks.get("retention", {}).items():
        kept = _("{n} days").format(n=facts["days"]) if facts["days"] else _("for ever")
        when = _(", {n} due now").format(n=facts["due"]) if facts["due"] else ""
        if not facts["due"] and facts["next_due_at"]:
            when = _(", next due {at}").format(at=facts["next_due_at"])
        said = _("{part} kept {kept}{when}").format(part=_(part), kept=kept, when=when)
        lines.append(_row(N_("retention"), said))
    return lines


def _yes(flag: bool) -> str:
    return _("yes") if flag else _("no")
