"""The core never imports the UI or sync packages, and loads heavy libraries lazily."""

import json
import pkgutil
import shutil
import subprocess
import sys

import edgebox
from tests.conftest import REPO

# Every core module except the CLI entry (the one place that starts the UI or
# sync): a new module is checked without anyone adding it here.
ENTRY = {"edgebox.cli", "edgebox.__main__"}
CORE_MODULES = sorted(
    {
        info.name
        for info in pkgutil.walk_packages(edgebox.__path__, "edgebox.")
        if info.name not in ENTRY
    }
)


def imported_after(modules: list[str]) -> set[str]:
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return set(json.loads(out.stdout))


def test_core_imports_neither_tui_nor_sync() -> None:
    loaded = imported_after(CORE_MODULES)
    assert {m for m in loaded if m.split(".")[0] in ("tui", "sync")} == set()


def test_core_modules_do_not_load_heavy_libraries_at_import() -> None:
    loaded = imported_after(CORE_MODULES)
    assert {"llama_cpp", "torch", "sentence_transformers"} & loaded == set()


def test_import_linter_contract_holds() -> None:
    lint = shutil.which("lint-imports") or str(REPO / ".venv" / "bin" / "lint-imports")
    result = subprocess.run([lint], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
