"""Plain terminal output for the CLI: result tables, progress lines, the doctor."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rich.console import Console
from rich.table import Table

URGENCY_STYLE = {
    "emergency": "bold white on red",
    "urgent": "bold yellow",
    "unknown": "bold magenta",
    "routine": "green",
}


def results_table(rows: Iterable[Mapping[str, Any]], *, title: str) -> None:
    """Documents with their triage, most urgent first as given."""
    table = Table(title=title, expand=True, show_lines=False)
    table.add_column("Urgency", no_wrap=True)
    table.add_column("File", overflow="fold", ratio=2)
    table.add_column("Category", overflow="fold", ratio=1)
    table.add_column("Review", no_wrap=True)
    table.add_column("Summary / red flags", overflow="fold", ratio=4)
    for row in rows:
        urgency = row.get("urgency") or row.get("state") or ""
        flags = ", ".join(str(f["sign"]) for f in row.get("red_flags") or [])
        detail = (
            row.get("summary") or row.get("error_message") or row.get("error") or ""
        )
        if flags:
            detail = (
                f"{detail}\n[red]flags: {flags}[/red]"
                if detail
                else f"[red]{flags}[/red]"
            )
        table.add_row(
            f"[{URGENCY_STYLE.get(urgency, '')}]{urgency}[/]" if urgency else "",
            str(row.get("file_name", "")),
            row.get("category") or "-",
            "yes" if row.get("needs_review") else "",
            detail,
        )
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
            f"[{URGENCY_STYLE.get(urgency, '')}]{urgency}[/]",
            label,
            hit.snippet,
        )
    Console().print(table)


def result_line(doc: Mapping[str, Any], result: Any) -> str | None:
    """One line per finished step that a person cares about."""
    name = doc["file_name"]
    if result == "quarantined":
        return f"quarantined #{doc['id']} {name}"
    if result in ("extracted", "failed"):
        return None if result == "extracted" else f"will retry #{doc['id']} {name}"
    flags = ", ".join(f["sign"] for f in result.red_flags if f.get("source") == "rules")
    review = " [review]" if result.needs_review else ""
    detail = f" ({flags})" if flags else ""
    category = result.category or "-"
    return f"{result.urgency:9} #{doc['id']} {name}: {category}{review}{detail}"


def progress_line(doc: Mapping[str, Any], result: Any) -> str:
    latency = result.provenance.get("latency_s")
    took = f"{latency:.1f} s" if latency is not None else "failed"
    return f"triaged #{doc['id']} {doc['file_name']}: {result.urgency} ({took})"


def doctor_text(checks: Mapping[str, Any]) -> str:
    model, llama, sqlite = checks["model"], checks["llama_cpp"], checks["sqlite"]
    ocr, gpu = checks["ocr"], checks["gpu"]
    lines = [
        f"edgebox     {checks['edgebox']}  Python {checks['python']}",
        f"platform    {checks['platform']}",
        f"home        {checks['home']}  config: {checks['config_file'] or 'defaults'}",
        f"sqlite      {sqlite['version']}  extensions loadable: "
        f"{_yes(sqlite['extensions_loadable'])}",
        f"model       {model['file']}",
    ]
    if model.get("sha256"):
        lines.append(
            f"            sha256 {model['sha256']}  manifest: {model['manifest']}"
        )
    if llama.get("installed"):
        lines.append(
            f"llama.cpp   llama-cpp-python {llama['version']}  GPU offload: "
            f"{_yes(llama['gpu_offload'])}  layers: {llama['gpu_layers_used']} "
            f"(setting {llama['gpu_layers_setting']})"
        )
    else:
        lines.append(f"llama.cpp   not usable: {llama.get('problem')}")
    lines.append(f"gpu         {gpu['detail'] if gpu['present'] else 'none found'}")
    lines.append(f"threads     {checks['threads']}")
    langs = ", ".join(ocr["languages"]) or "-"
    tesseract = f"tesseract ({langs})" if ocr["available"] else "not installed"
    lines.append(f"ocr         {tesseract}")
    for warning in checks["warnings"]:
        lines.append(f"warning: {warning}")
    return "\n".join(lines)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"
