"""What an install puts into site-packages: the package `edgebox` alone, with
the sync client, the central server and the UI inside it (`edgebox.sync`,
`edgebox.tui`), never top-level `sync` or `tui` that another distribution
may also ship."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import edgebox
from tests.support.paths import REPO

# What a fresh checkout holds, less what is built, installed or fetched here.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache",
    ".hypothesis", "demo", ".bench", "*.gguf", "tests",
)  # fmt: skip

PROBE = """
import importlib.util, json
from importlib import resources
import edgebox, edgebox.sync.client, edgebox.tui
print(json.dumps({
    "edgebox": edgebox.__file__,
    "sync_client": edgebox.sync.client.__file__,
    "tcss": resources.files("edgebox.tui").joinpath("edgebox.tcss").is_file(),
    "rules": resources.files("edgebox").joinpath("data/redflags.toml").is_file(),
    "top_level_sync": importlib.util.find_spec("sync") is not None,
    "top_level_tui": importlib.util.find_spec("tui") is not None,
}))
"""


def probe(*, cwd: Path, env: dict[str, str] | None = None) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel of this checkout (about 2 s), built from a copy (the links kept
    as links) so that no build folder lands in the checkout."""
    tmp_path = tmp_path_factory.mktemp("wheel")
    source = tmp_path / "source"
    shutil.copytree(REPO, source, symlinks=True, ignore=NOT_SOURCE)
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps",
         "--no-build-isolation", "--quiet", "--disable-pip-version-check",
         "-w", str(dist)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return next(dist.glob("edgebox-*.whl"))


def test_the_editable_install_imports_edgebox_alone(tmp_path: Path) -> None:
    # Outside the checkout, so that the folders sync/ and tui/ are not on the
    # path by accident: only what the install provides is found.
    found = probe(cwd=tmp_path)
    assert Path(str(found["edgebox"])).parent == REPO / "edgebox"
    assert Path(str(found["sync_client"])) == REPO / "edgebox/sync/client.py"
    assert found["tcss"] and found["rules"]
    assert not found["top_level_sync"] and not found["top_level_tui"]


def test_the_wheel_holds_edgebox_alone_with_sync_and_tui_inside(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    dist_info = f"edgebox-{edgebox.__version__}.dist-info"
    assert {name.split("/")[0] for name in names} == {"edgebox", dist_info}
    for inside in (
        "edgebox/sync/__init__.py",
        "edgebox/sync/client.py",
        "edgebox/tui/app.py",
        "edgebox/tui/edgebox.tcss",
        "edgebox/data/redflags.toml",
        "edgebox/locale/fr/LC_MESSAGES/edgebox.mo",
    ):
        assert inside in names


def test_pip_install_of_the_wheel_puts_edgebox_alone_into_site_packages(
    wheel: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet",
         "--disable-pip-version-check", "--target", str(site), str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    installed = {path.name for path in site.iterdir()} - {"bin"}
    assert installed == {"edgebox", f"edgebox-{edgebox.__version__}.dist-info"}
    # The installed copy, not the checkout's editable one: PYTHONPATH comes
    # before the editable install's finder.
    found = probe(cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(site)})
    assert Path(str(found["edgebox"])).parent == site / "edgebox"
    assert found["tcss"] and found["rules"]
    assert not found["top_level_sync"] and not found["top_level_tui"]
