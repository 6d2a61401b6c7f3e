"""The package's layers hold (import-linter), the core never imports the UI or
sync packages, and it loads heavy libraries lazily."""

import json
import pkgutil
import shutil
import subprocess
import sys
import tomllib

import edgebox
from tests.support.paths import REPO

# The faces on the core: the CLI entry (the one place that starts the UI or
# sync), the UI and sync. Every other module is core: a new module is checked
# without anyone adding it here.
FACES = ("edgebox.__main__", "edgebox.cli", "edgebox.tui", "edgebox.sync")
EVERY_MODULE = sorted(
    info.name for info in pkgutil.walk_packages(edgebox.__path__, "edgebox.")
)
CORE_MODULES = [
    name
    for name in EVERY_MODULE
    if not any(name == face or name.startswith(f"{face}.") for face in FACES)
]


def imported_after(modules: list[str]) -> set[str]:
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    # From the checkout, where the folders sync/ and tui/ could be imported
    # as top-level packages by mistake: the tests below would see them.
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO
    )
    assert out.returncode == 0, out.stderr
    return set(json.loads(out.stdout))


def in_package(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(f"{p}.") for p in packages)


def test_core_imports_neither_tui_nor_sync() -> None:
    loaded = imported_after(CORE_MODULES)
    faces = ("edgebox.tui", "edgebox.sync", "tui", "sync")
    assert {m for m in loaded if in_package(m, *faces)} == set()


def test_no_module_imports_sync_or_tui_as_top_level_packages() -> None:
    """They are `edgebox.sync` and `edgebox.tui` once installed: an import of
    `sync.client` works in the checkout and fails everywhere else."""
    # __main__ runs the CLI when imported.
    loaded = imported_after([m for m in EVERY_MODULE if m != "edgebox.__main__"])
    assert {m for m in loaded if in_package(m, "tui", "sync")} == set()


def test_core_modules_do_not_load_heavy_libraries_at_import() -> None:
    loaded = imported_after(CORE_MODULES)
    assert {"llama_cpp", "torch", "sentence_transformers"} & loaded == set()


def test_import_linter_contract_holds() -> None:
    lint = shutil.which("lint-imports") or str(REPO / ".venv" / "bin" / "lint-imports")
    result = subprocess.run([lint], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "edgebox in layers, each importing only those below it KEPT" in (
        result.stdout
    )


def test_the_layers_contract_places_the_ui_and_sync_and_every_package() -> None:
    settings = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]
    (layers,) = [
        c for c in settings["importlinter"]["contracts"] if c["type"] == "layers"
    ]
    assert layers["containers"] == ["edgebox"] and layers["exhaustive"] is True
    assert layers["layers"][:3] == ["__main__", "cli", "tui | sync"]
