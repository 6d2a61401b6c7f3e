"""`edgebox triage` beside a busy service, against `edgebox triage` alone.

Both are real processes with the bundled model. The service has a backlog
of documents and works through it; the machine-wide model lock makes the
two take turns on llama.cpp instead of spinning against each other. The
figure is docs/s of `edgebox triage` on the same files alone and beside
the service, in the same run, and their ratio: about the share of the model
the one-off command gets while the service is busy (a half is fair).
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from edgebox.cli.demo import SAMPLES
from edgebox.store import DocState, Store

REPO = Path(__file__).resolve().parent.parent
EDGEBOX = REPO / ".venv" / "bin" / "edgebox"


def triage_beside_service(docs: int = 4, backlog: int = 30) -> dict:
    root = Path(tempfile.mkdtemp(prefix="edgebox-bench-beside-"))
    files = _write(root / "files", docs, "bench")
    alone_s = _triage(files, root / "alone")
    service = _busy_service(root / "box", backlog)
    try:
        done_before = _triaged(root / "box")
        beside_s = _triage(files, root / "beside")
        done_beside = _triaged(root / "box") - done_before
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(timeout=300)
    return {
        "figure": f"edgebox triage beside a busy service ({docs} documents)",
        "docs": docs,
        "alone_docs_per_s": round(docs / alone_s, 3),
        "beside_docs_per_s": round(docs / beside_s, 3),
        "ratio_beside_to_alone": round(alone_s / beside_s, 3),
        "service_docs_meanwhile": done_beside,
    }


def _write(folder: Path, count: int, tag: str) -> list[Path]:
    """`count` demo documents, each made unique by a first line."""
    folder.mkdir(parents=True, exist_ok=True)
    texts = list(SAMPLES.values())
    paths = []
    for n in range(count):
        path = folder / f"{tag}-{n}.txt"
        path.write_text(f"Document {tag} {n}\n{texts[n % len(texts)]}")
        paths.append(path)
    return paths


def _triage(files: list[Path], home: Path) -> float:
    """Seconds for one `edgebox triage FILES` (model load included)."""
    env = {**os.environ, "EDGEBOX_HOME": str(home)}
    started = time.perf_counter()
    subprocess.run(
        [str(EDGEBOX), "triage", "--json", *map(str, files)],
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def _busy_service(home: Path, backlog: int) -> subprocess.Popen:
    """`edgebox serve --no-sync` with a backlog, once it is triaging."""
    env = {**os.environ, "EDGEBOX_HOME": str(home), "EDGEBOX_INGEST_QUIET_S": "0"}
    subprocess.run(  # its "wrote ..." must not land in bench's --json output
        [str(EDGEBOX), "init", str(home)],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    _write(home / "inbox", backlog, "backlog")
    service = subprocess.Popen(
        [str(EDGEBOX), "serve", "--no-sync"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 600
    while _triaged(home) < 1:
        if service.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the service in {home} did not start triaging")
        time.sleep(0.5)
    return service


def _triaged(home: Path) -> int:
    db = home / "data" / "edgebox.db"
    if not db.exists():
        return 0
    with Store.open_read_only(db, timeout=30) as store:
        return store.counts_by_state()[DocState.TRIAGED]
