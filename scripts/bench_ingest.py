"""Ingestion benchmark: files/s taken from the inbox (no triage) against a
baseline that does the bare minimum of the same I/O in the same run: read,
sha256, write a copy, fsync, rename, delete the original.
"""

from __future__ import annotations

import hashlib
import os
import random
import tempfile
import time
from pathlib import Path

from edgebox import config
from edgebox.intake.ingest import Ingestor
from edgebox.service.pipeline import Pipeline
from edgebox.store import Store


def _make_files(folder: Path, count: int, seed: int) -> None:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        words = " ".join(rng.choice(["fever", "cough", "BP", "120/80", "stable"])
                         for _ in range(rng.randint(100, 600)))  # fmt: skip
        (folder / f"note-{seed}-{i:04}.txt").write_text(f"Note {i}. {words}")


def _baseline(folder: Path, target: Path) -> float:
    target.mkdir(parents=True, exist_ok=True)
    files = sorted(folder.iterdir())
    started = time.perf_counter()
    for path in files:
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        tmp = target / f".tmp-{digest}"
        with tmp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(target / digest)
        path.unlink()
    return len(files) / (time.perf_counter() - started)


def ingest_throughput(files: int = 300) -> dict:
    root = Path(tempfile.mkdtemp(prefix="edgebox-bench-"))
    settings = config.Config(home=root, source=None)
    _make_files(root / "baseline-in", files, seed=1)
    baseline = _baseline(root / "baseline-in", root / "baseline-out")
    _make_files(settings.inbox_dir, files, seed=2)
    with Store(settings.db_path) as store:
        ingestor = Ingestor(settings, store)
        paths = sorted(settings.inbox_dir.iterdir())
        started = time.perf_counter()
        for path in paths:
            ingestor.ingest(path)
        ingest_rate = len(paths) / (time.perf_counter() - started)
        pipeline = Pipeline(settings, store, triage=False)
        started = time.perf_counter()
        while pipeline.step() is not None:
            pass
        extract_rate = len(paths) / (time.perf_counter() - started)
        pipeline.close()
    return {
        "figure": "ingestion throughput (no triage)",
        "files": files,
        "ingest_files_per_s": round(ingest_rate, 2),
        "baseline_copy_hash_fsync_files_per_s": round(baseline, 2),
        "ratio_ingest_to_baseline": round(ingest_rate / baseline, 3),
        "extract_text_files_per_s": round(extract_rate, 1),
    }
