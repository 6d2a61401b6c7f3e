"""`edgebox doctor`: what this box has, and what is wrong with it, in plain words.

The most common silent failure of llama-cpp-python is a CPU-only build on a
machine with a GPU: it runs, slowly, and says nothing. The doctor says it.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import sqlite3
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from edgebox import __version__
from edgebox.cli.at_rest import AT_REST_WARNING, at_rest_report
from edgebox.config import Config, TriageConfig
from edgebox.errors import ConfigError, EdgeboxError, ModelError
from edgebox.service.bundles import status as bundle_status
from edgebox.triage.cpu_quirks import extra_buffers_safe
from edgebox.triage.llm import check_gguf, gpu_offload_supported, resolve_gpu_layers
from edgebox.triage.manifest import find_entry, llm_vote_tasks, sha256_file

CUDA_HINT = (
    'reinstall llama-cpp-python with CMAKE_ARGS="-DGGML_CUDA=on" '
    "(see docs/operations.md, GPU)"
)


def report(config: Config) -> dict[str, Any]:
    """Everything the doctor checks, as plain data."""
    checks: dict[str, Any] = {
        "edgebox": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "home": str(config.home),
        "config_file": str(config.source) if config.source else None,
        "sqlite": {
            "version": sqlite3.sqlite_version,
            "extensions_loadable": sqlite_extensions_loadable(),
        },
        "model": model_report(config),
        "llama_cpp": llama_report(config),
        "gpu": gpu_present(),
        "threads": config.model.threads or os.cpu_count(),
        "ocr": ocr_report(),
        "rules": rules_report(config),
        "inbox": inbox_report(config),
        "privacy": privacy_report(config),
        "disk": disk_report(config),
        "at_rest": at_rest_report(config.data_dir),
        "retention": retention_check(config),
    }
    checks["warnings"] = list(config.notices) + warnings(checks)
    checks["bundle"] = bundle_status(config.data_dir)
    if refused := checks["bundle"]["refused"]:
        checks["warnings"].append(
            f"the centre's bundle {refused['version']} was refused at"
            f" {refused['at']}: {refused['reason']}"
        )
    return checks


def rules_report(config: Config) -> dict[str, Any]:
    """Which red-flag rules the service will use, and whether they load: a
    typo in the NGO's file would otherwise stop triage at its first document."""
    from edgebox.clinical.redflags import load_rules

    path = config.rules_path
    where = str(path) if path else "bundled"
    if path is None and config.triage.rules != TriageConfig().rules:
        missing = config.home / config.triage.rules
        return {
            "file": where,
            "ok": False,
            "problem": f"[triage] rules names {missing}, which does not exist",
        }
    try:
        rules = load_rules(path)
    except (ConfigError, OSError) as exc:
        return {"file": where, "ok": False, "problem": str(exc)}
    bundled = load_rules()
    return {
        "file": where,
        "ok": True,
        "version": rules.version,
        "bundled_version": bundled.version,
        "missing_signs": sorted(bundled.signs - rules.signs),
    }


def _version_key(version: str) -> tuple[int, ...]:
    """ "2026.11-3" -> (2026, 11, 3); anything unreadable sorts first."""
    parts = re.findall(r"\d+", version)
    return tuple(int(p) for p in parts)


def inbox_report(config: Config) -> dict[str, Any]:
    """Whether the drop folder is there: a scanner share that is not mounted
    looks like an empty inbox, and the service would create a local one."""
    inbox = config.inbox_dir
    exists = inbox.is_dir()
    return {
        "path": str(inbox),
        "exists": exists,
        "is_mount": inbox.is_mount() if exists else False,
        # Files are removed once recorded: an inbox this user cannot write
        # would have every file recognised again at each scan, never cleared.
        "writable": exists and os.access(inbox, os.W_OK | os.X_OK),
    }


def privacy_report(config: Config) -> dict[str, Any]:
    """Where the box's secrets and patients' data could be read by others: a
    token written in edgebox.toml, files other accounts may read."""
    import tomllib

    token_in_file = key_in_file = False
    if config.source is not None:
        try:
            raw = tomllib.loads(config.source.read_text(encoding="utf-8"))
            sync = raw.get("sync", {})
            token_in_file = bool(str(sync.get("token", "")).strip())
            key_in_file = bool(str(sync.get("patient_key", "")).strip())
        except (OSError, ValueError):
            pass  # config.load already said what is wrong with the file
    candidates = [config.source, config.db_path, config.data_dir]
    readable = [
        str(path)
        for path in candidates
        if path is not None and path.exists() and path.stat().st_mode & 0o004
    ]
    return {
        "token_in_config_file": token_in_file,
        "patient_key_in_config_file": key_in_file,
        "readable_by_others": readable,
    }


def retention_check(config: Config) -> dict[str, Any]:
    """What `[retention]` makes due, and when next (nothing is deleted)."""
    from edgebox.service.retention import retention_facts
    from edgebox.store import open_for_reading

    if not config.db_path.exists():
        return {}
    try:
        with open_for_reading(config.db_path) as store:
            return retention_facts(config, store)
    except (EdgeboxError, OSError):
        return {}  # a store that does not open: `edgebox status` names why


LOW_SPACE_BYTES = 500 * 1024 * 1024
"""Below this much free space under the data folder, the doctor warns: the
archive keeps every original, and on a full disk the service pauses."""


def disk_report(config: Config) -> dict[str, Any]:
    """Free space where the store and the archive grow."""
    where = config.data_dir
    while not where.exists() and where != where.parent:
        where = where.parent  # not created yet: the disk it will be on
    return {"path": str(where), "free_bytes": shutil.disk_usage(where).free}


def low_space(disk: dict[str, Any], *, floor: int = LOW_SPACE_BYTES) -> str | None:
    """The warning for a disk close to full, or None."""
    if disk["free_bytes"] >= floor:
        return None
    return (
        f"only {disk['free_bytes'] / 2**20:.0f} MB free under {disk['path']}: the"
        " archive keeps every original, and on a full disk the service pauses"
        " until space is freed"
    )


def sqlite_extensions_loadable() -> bool:
    """Whether this Python's sqlite3 can load extensions (sqlite-vec and the like)."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.enable_load_extension(True)
        return True
    except (AttributeError, sqlite3.OperationalError):
        return False
    finally:
        conn.close()


def model_report(config: Config) -> dict[str, Any]:
    path = config.model_path
    result: dict[str, Any] = {"file": str(path), "exists": path.is_file()}
    try:
        check_gguf(path)
    except ModelError as exc:
        return result | {"ok": False, "problem": str(exc)}
    digest = sha256_file(path)
    entry = find_entry(config.models_dir, path.name)
    if entry is None:
        verdict = "not listed in models/manifest.toml"
    else:
        verdict = "match" if entry.sha256 == digest else "MISMATCH"
    return result | {
        "ok": verdict != "MISMATCH",
        "size_bytes": path.stat().st_size,
        "sha256": digest,
        "manifest": verdict,
        "name": entry.name if entry else None,
        "licence": entry.licence if entry else None,
        # Labels the model may vote (its [model.votes] record); none: a new
        # box rates with the rules only, and the rest waits for a person.
        "votes": sorted(llm_vote_tasks(config.models_dir, path.name)),
    }


def llama_report(config: Config) -> dict[str, Any]:
    try:
        version = metadata.version("llama-cpp-python")
        offload = gpu_offload_supported()
    except (metadata.PackageNotFoundError, ImportError, OSError) as exc:
        return {"installed": False, "problem": str(exc)}
    layers = resolve_gpu_layers(config.model.gpu_layers, offload_supported=offload)
    return {
        "installed": True,
        "version": version,
        "gpu_offload": offload,
        "gpu_layers_setting": config.model.gpu_layers,
        "gpu_layers_used": layers,
        # Off where the CPU advertises AMX: llama.cpp's AMX kernels crash.
        "extra_buffers": extra_buffers_safe(),
    }


def gpu_present() -> dict[str, Any]:
    """An NVIDIA GPU (desktop or Jetson) that this machine could use, if any."""
    for device in ("/dev/nvidia0", "/dev/nvhost-ctrl-gpu", "/dev/nvgpu/igpu0/ctrl"):
        if Path(device).exists():
            return {"present": True, "detail": device}
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            out = subprocess.run(
                [smi, "-L"], capture_output=True, text=True, timeout=10, check=False
            )
            if out.returncode == 0 and out.stdout.strip():
                return {"present": True, "detail": out.stdout.strip().splitlines()[0]}
        except (OSError, subprocess.TimeoutExpired):
            pass
    return {"present": False, "detail": None}


PDF_PAGES = (
    "PDFs are read page by page: a page with no text layer, or with a little text"
    " (a banner, a watermark) over a scan, is OCR'd"
)
UNREAD_PAGES = (
    "a PDF whose other pages hold text goes to review naming the pages not read;"
    " a scan alone is quarantined until OCR is installed (then `edgebox requeue`)"
)


def ocr_report() -> dict[str, Any]:
    """Whether scans can be read: Tesseract for images, and poppler's pdftoppm
    as well for the scanned pages of a PDF."""
    tesseract = shutil.which("tesseract")
    pdf_pages = tesseract is not None and shutil.which("pdftoppm") is not None
    missing = {"available": False, "pdf_pages": False, "languages": []}
    if not tesseract:
        return missing
    try:
        out = subprocess.run(
            [tesseract, "--list-langs"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return missing
    languages = [line.strip() for line in out.stdout.splitlines()[1:] if line.strip()]
    return {
        "available": True,
        "pdf_pages": pdf_pages,
        "pdf_policy": PDF_PAGES if pdf_pages else None,
        "path": tesseract,
        "languages": languages,
    }


def warnings(checks: dict[str, Any]) -> list[str]:
    found = []
    model, llama = checks["model"], checks["llama_cpp"]
    if not model.get("ok"):
        found.append(
            model.get("problem") or f"model file {model['file']} fails its checksum"
        )
    if not llama.get("installed"):
        found.append(f"llama-cpp-python is not usable: {llama.get('problem')}")
    elif checks["gpu"]["present"] and not llama["gpu_offload"]:
        found.append(
            f"a GPU is present ({checks['gpu']['detail']}) but this llama-cpp-python "
            f"build cannot offload to it: the model runs on the CPU; {CUDA_HINT}"
        )
    rules = checks["rules"]
    if not rules["ok"]:
        found.append(f"the red-flag rules do not load: {rules['problem']}")
    elif (
        _version_key(rules["version"])  # the NGO's own scheme: not comparable
        and _version_key(rules["bundled_version"]) > _version_key(rules["version"])
    ):
        # `edgebox init` copied the rules once; an upgrade never edits the
        # NGO's copy, so its new signs (and fixes) wait for a person.
        found.append(
            f"the red-flag rules in {rules['file']} are version {rules['version']};"
            f" this edgebox ships version {rules['bundled_version']}: merge the"
            " new rules (edgebox/data/redflags.toml) into your copy"
        )
    if rules["ok"] and rules["missing_signs"]:
        found.append(
            f"the red-flag rules in {rules['file']} lack signs that the bundled"
            f" rules raise: {', '.join(rules['missing_signs'])}"
        )
    if not checks["inbox"]["exists"]:
        found.append(
            f"the inbox {checks['inbox']['path']} does not exist: `edgebox serve`"
            " creates it empty; if it is a scanner share, mount it first"
        )
    elif not checks["inbox"]["writable"]:
        found.append(
            f"the inbox {checks['inbox']['path']} cannot be written by this user:"
            " recorded files cannot be cleared from it"
        )
    privacy = checks["privacy"]
    if privacy["token_in_config_file"]:
        found.append(
            f"the sync token is written in {checks['config_file']}: put it in"
            " EDGEBOX_SYNC_TOKEN (the service's EnvironmentFile, mode 600) and"
            " delete it from the file"
        )
    if privacy["patient_key_in_config_file"]:
        found.append(
            f"the patient pseudonym key is written in {checks['config_file']}:"
            " put it in EDGEBOX_SYNC_PATIENT_KEY (the service's EnvironmentFile,"
            " mode 600) and delete it from the file"
        )
    for path in privacy["readable_by_others"]:
        found.append(
            f"{path} can be read by every account on this machine, and it"
            " holds patients' data or the box's settings: chmod o-rwx"
        )
    for part, facts in checks["retention"].items():
        if facts["due"]:
            found.append(
                f"retention: the {part} of {facts['due']} document(s) are past"
                f" [retention] {part}_days and still kept: the service deletes"
                " them within the hour, or run `edgebox retention`"
            )
    if (disk := low_space(checks["disk"])) is not None:
        found.append(disk)
    if checks["at_rest"]["encrypted"] is False:
        found.append(AT_REST_WARNING.format(**checks["at_rest"]))
    if not checks["ocr"]["available"]:
        found.append(
            "Tesseract OCR is not installed: scanned documents and scanned PDF"
            f" pages cannot be read; {UNREAD_PAGES}"
        )
    elif not checks["ocr"]["pdf_pages"]:
        found.append(
            "poppler-utils (pdftoppm) is not installed: scanned PDF pages cannot"
            f" be read; {UNREAD_PAGES}"
        )
    return found
