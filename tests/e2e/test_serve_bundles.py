"""A running service takes a new bundle without a restart.

Real bundles (signed with a real key, verified and switched by the box's own
`bundles.install`), a real store and real files; the last test runs
`edgebox serve` in a subprocess with the real bundled model while a switch and
a rollback are made beside it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from edgebox import config
from edgebox.service import bundles
from edgebox.service.bundle_format import load_private, new_key, pack
from edgebox.service.pipeline import Pipeline
from edgebox.store import DocState, Store
from edgebox.triage.engine import TriageEngine
from tests.support.processes import wait_for

RULES = b"""version = "ngo-2027.02"

[[rule]]
sign = "zebra fever"
level = "emergency"
patterns = ['\\bzebra fever\\b']
"""

NOTE = "Clinic note. A 6-year-old girl with zebra fever since yesterday."


def make_bundle(folder: Path, key: Path, version: int, files: dict[str, bytes]) -> Path:
    """A signed bundle as the centre makes it, written to a file."""
    content, _ = pack(
        files,
        {"version": version, "created_at": "2027-01-01T00:00:00Z", "group": None},
        load_private(key),
    )
    path = folder / f"bundle-{version}.tar"
    path.write_bytes(content)
    return path


@pytest.fixture
def ngo_key(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "keys" / "ngo.key"
    path.parent.mkdir()
    return path, new_key(path)


def switch(settings: config.Config, key: tuple[Path, str], version: int,
           files: dict[str, bytes], tmp_path: Path) -> None:  # fmt: skip
    archive = make_bundle(tmp_path, key[0], version, files)
    assert bundles.install(settings.data_dir, archive, pinned=key[1], texts=()) == (
        version
    )


def signs(result: Any) -> list[str]:
    return [flag["sign"] for flag in result.red_flags]


def test_the_pipeline_takes_a_switch_and_a_rollback_between_documents(
    edgebox_home: Path, ngo_key: tuple[Path, str], tmp_path: Path
) -> None:
    settings = bundles.applied(config.load(edgebox_home))
    settings.data_dir.mkdir(parents=True)
    with Store(settings.db_path) as store:
        # No LLM: the fast stage (rules, learned models) is what bundles change.
        pipeline = Pipeline(
            settings,
            store,
            engine_loader=lambda: TriageEngine(settings, lazy_model=True),
        )
        assert pipeline.follow_bundle() is False  # nothing changed yet
        before = pipeline.engine.fast(NOTE)
        assert signs(before) == []
        assert "bundle_version" not in before.provenance

        switch(settings, ngo_key, 1, {
            "rules.toml": RULES,
            "settings.toml": b"[triage]\nreview_cut = 0.7\n",
        }, tmp_path)  # fmt: skip
        engine = pipeline.engine
        assert pipeline.follow_bundle() is True
        after = pipeline.engine.fast(NOTE)
        assert signs(after) == ["zebra fever"]
        assert after.urgency == "emergency"
        assert after.provenance["bundle_version"] == 1
        assert after.provenance["rules_version"] == "ngo-2027.02"
        assert pipeline.engine.review_cut == 0.7
        assert pipeline.engine.learned is engine.learned  # kept, not reloaded
        assert pipeline.follow_bundle() is False  # taken once

        # Bundle 2 sets no review_cut: the box's own value comes back, not 1's.
        switch(settings, ngo_key, 2, {"rules.toml": RULES}, tmp_path)
        assert pipeline.follow_bundle() is True
        assert pipeline.engine.review_cut == config.load(edgebox_home).triage.review_cut
        assert pipeline.engine.fast(NOTE).provenance["bundle_version"] == 2

        assert bundles.rollback(settings.data_dir) == 1
        assert pipeline.follow_bundle() is True
        assert pipeline.engine.review_cut == 0.7
        assert pipeline.engine.fast(NOTE).provenance["bundle_version"] == 1

        assert bundles.rollback(settings.data_dir) == 0
        assert pipeline.follow_bundle() is True
        back = pipeline.engine.fast(NOTE)
        assert signs(back) == [] and "bundle_version" not in back.provenance


def test_an_engine_not_yet_loaded_is_built_on_the_bundle_in_use(
    edgebox_home: Path, ngo_key: tuple[Path, str], tmp_path: Path
) -> None:
    """The service loads its engine at the first document: a switch before
    that must not be lost because the loader holds the settings of the start."""
    settings = config.load(edgebox_home)
    settings.data_dir.mkdir(parents=True)
    with Store(settings.db_path) as store:
        pipeline = Pipeline(
            settings,
            store,
            engine_loader=lambda: TriageEngine(settings, lazy_model=True),
        )
        switch(settings, ngo_key, 1, {"rules.toml": RULES}, tmp_path)
        assert pipeline.follow_bundle() is True
        result = pipeline.engine.fast(NOTE)
    assert signs(result) == ["zebra fever"]
    assert result.provenance["bundle_version"] == 1


# -- the service process ------------------------------------------------------


def _revisions(db: Path, name: str) -> list[dict[str, Any]]:
    with Store(db) as store:
        for doc in store.documents_in_state(DocState.TRIAGED):
            if doc["file_name"] == name:
                return [
                    {
                        key: json.loads(value) if isinstance(value, str) else value
                        for key, value in row.items()
                        if key in ("red_flags", "provenance", "provisional")
                    }
                    for row in store.revisions(doc["id"])
                ]
    return []


def _triaged(db: Path, name: str) -> list[dict[str, Any]]:
    return wait_for(
        lambda: (
            [r for r in _revisions(db, name) if not r["provisional"]]
            and _revisions(db, name)
        ),
        timeout_s=300,
        what=f"{name} to be triaged",
    )  # type: ignore[return-value]


@pytest.mark.model
@pytest.mark.slow
def test_a_running_service_takes_a_switch_and_a_rollback_without_a_restart(
    edgebox_home: Path, ngo_key: tuple[Path, str], tmp_path: Path
) -> None:
    settings = config.load(edgebox_home)
    settings.inbox_dir.mkdir(parents=True)
    settings.data_dir.mkdir(parents=True)
    service = subprocess.Popen(
        [sys.executable, "-m", "edgebox", "--home", str(edgebox_home), "serve",
         "--no-sync"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "EDGEBOX_INGEST_QUIET_S": "0.3"},
    )  # fmt: skip
    try:
        (settings.inbox_dir / "before.txt").write_text(NOTE)
        before = _triaged(settings.db_path, "before.txt")

        switch(settings, ngo_key, 1, {"rules.toml": RULES}, tmp_path)
        (settings.inbox_dir / "after.txt").write_text(NOTE + " Seen again.")
        after = _triaged(settings.db_path, "after.txt")

        assert bundles.rollback(settings.data_dir) == 0
        (settings.inbox_dir / "rolled.txt").write_text(NOTE + " Seen a third time.")
        rolled = _triaged(settings.db_path, "rolled.txt")
    finally:
        service.send_signal(signal.SIGTERM)
        _, err = service.communicate(timeout=120)
    assert service.returncode == 0, err[-2000:]
    for revision in before + rolled:  # the fast result and the LLM's
        assert "zebra fever" not in [f["sign"] for f in revision["red_flags"]]
        assert "bundle_version" not in revision["provenance"]
    for revision in after:
        assert "zebra fever" in [f["sign"] for f in revision["red_flags"]]
        assert revision["provenance"]["bundle_version"] == 1
        assert revision["provenance"]["rules_version"] == "ngo-2027.02"
    assert "now triaging on bundle 1" in err
    assert "now triaging on bundle none" in err


def test_retraining_follows_the_bundle_in_use(
    edgebox_home: Path, ngo_key: tuple[Path, str], tmp_path: Path
) -> None:
    """A bundle that lowers min_examples lets the running service's retrainer
    train on the reviews it already has, without a new review or a restart."""
    from edgebox.learn.classifiers import model_path
    from edgebox.service.supervisor import Retrainer
    from tests.support.records import data_rows as _rows
    from tests.support.records import reviewed_store as _reviewed_store

    settings = bundles.applied(config.load(edgebox_home))
    retrainer = Retrainer(settings)
    _reviewed_store(settings, _rows("urgency_train.jsonl")[:12])
    assert not retrainer.check()  # 12 reviews: fewer than min_examples (30)
    assert not retrainer.check()
    switch(settings, ngo_key, 1, {
        "settings.toml": b"[triage]\nmin_examples = 10\nretrain_after = 5\n",
    }, tmp_path)  # fmt: skip
    assert retrainer.check()
    assert model_path(settings.data_dir, "urgency").is_file()
