"""Soak: does the real service stay flat over time on a steady mixed stream?

`edgebox serve` (real model, real store) runs in a subprocess on a fresh
workspace; documents of five kinds (text, PDF with text, a PDF with a typed
and a scanned page, a scanned PNG, junk bytes) are dropped into its inbox at
`--rate` per minute; a real central server on 127.0.0.1 is stopped and
started every `--flap-seconds`, so the sync loop meets a dead centre and a
live one in turn. Every `--sample-seconds` the service process is measured
from /proc (RSS, open files, threads), the store and its WAL by size, the
queue lag (dropped, not yet through the pipeline) and the sync lag (outbox
rows pending). The samples go to a CSV.

The pass rule (growth that levels off passes, growth that does not fails):
the run is cut in two halves by time and each figure's least-squares slope
(per minute) is taken over each half.
- RSS, open files and threads: the second half's slope must be at most
  `FRACTION` (0.5) of the first half's, or under a floor that is noise
  (RSS 2 MiB/min, open files and threads 0.5/min). The clock starts once a
  first document went through (the models' load is start-up, not growth);
  the first half holds the first documents of each kind; a leak keeps its
  slope after that.
- Queue lag (dropped, without a result yet, provisional or not): the
  second half's slope must be under half of `--rate`: a service that does
  not keep up lets it grow at the rate it falls behind.
- The LLM stage's backlog (a provisional result, no final one yet) is
  reported, not judged: on a shared machine it waits on the machine-wide
  model lock while other processes run the model, which is no fault of the
  service.
- Sync lag: the second half's slope must be under half of `--rate` (a
  document makes up to two outbox rows): the outbox drains while the centre
  is up.
Store and WAL sizes are reported, not judged: the store grows with the
documents it keeps, by design.
The exit status is 1 when a rule fails, 2 when the service or the centre
could not run.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(REPO)]

from edgebox.cli.demo import SAMPLES  # noqa: E402
from edgebox.store import Store  # noqa: E402
from tests.support.documents import paged_pdf, scanned_image, text_pdf  # noqa: E402

EDGEBOX = REPO / ".venv" / "bin" / "edgebox"
FRACTION = 0.5
FLOORS = {"rss_mib": 2.0, "open_files": 0.5, "threads": 0.5}
QUEUE_SHARE = 0.5
SYNC_SHARE = 0.5
FIELDS = [
    "t_s",
    "rss_mib",
    "open_files",
    "threads",
    "store_mib",
    "wal_mib",
    "dropped",
    "queue_lag",
    "llm_lag",
    "sync_lag",
    "central_up",
]
_DONE = ("triaged", "reviewed", "duplicate", "quarantined")
_UNTRIAGED = ("received", "failed")
KINDS = ("text", "pdf", "mixed_pdf", "scan_png", "junk")


def main() -> int:
    args = _arguments()
    root = Path(args.workdir or tempfile.mkdtemp(prefix="edgebox-soak-"))
    root.mkdir(parents=True, exist_ok=True)
    csv_path = Path(args.csv or root / "soak.csv")
    soak = Soak(root, rate=args.rate, flap_s=args.flap_seconds)
    try:
        soak.start()
        rows = soak.run(args.minutes * 60, args.sample_seconds, csv_path)
    except SoakError as exc:
        print(f"soak: {exc}", file=sys.stderr)
        return 2
    finally:
        soak.stop()
    print(f"soak: {len(rows)} samples in {csv_path} (workspace {root})")
    return report(rows, rate=args.rate, floors={"rss_mib": args.rss_floor_mib})


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=0.7, help="documents a minute")
    parser.add_argument("--flap-seconds", type=float, default=60.0)
    parser.add_argument("--sample-seconds", type=float, default=10.0)
    parser.add_argument("--csv", help="where the samples go (default: in --workdir)")
    parser.add_argument("--workdir", help="a folder for the workspaces (default: new)")
    parser.add_argument(
        "--rss-floor-mib",
        type=float,
        default=FLOORS["rss_mib"],
        help="RSS growth per minute taken as noise (a short run's warm-up needs more)",
    )
    return parser.parse_args()


class SoakError(Exception):
    """The service or the centre could not run: no figures to judge."""


@dataclass
class Soak:
    root: Path
    rate: float
    flap_s: float

    def __post_init__(self) -> None:
        self.home = self.root / "box"
        self.central_db = self.root / "central.db"
        self.port = _free_port()
        self.service: subprocess.Popen | None = None
        self.central: subprocess.Popen | None = None
        self.dropped = 0
        self.stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """A workspace, a registered device, the centre, the service."""
        env = self._env()
        _run([str(EDGEBOX), "init", str(self.home)], env)
        register = ["central", "add-device", "soak", "--db", str(self.central_db)]
        token = _run([str(EDGEBOX), *register], env).split()[0]
        env |= {
            "EDGEBOX_SYNC_URL": f"http://127.0.0.1:{self.port}",
            "EDGEBOX_SYNC_DEVICE": "soak",
            "EDGEBOX_SYNC_TOKEN": token,
            "EDGEBOX_SYNC_INTERVAL_S": "5",
        }
        self._start_central()
        log = (self.root / "serve.log").open("ab")
        self.service = subprocess.Popen(
            [str(EDGEBOX), "serve"], env=env, stdout=log, stderr=log
        )
        self._warm_up()
        for target in (self._drop_loop, self._flap_loop):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _warm_up(self, timeout_s: float = 900.0) -> None:
        """One document of each kind through the whole pipeline before the
        clock starts: loading the models and the first PDF, OCR and junk
        file's code paths is start-up, not growth."""
        for _ in KINDS:
            self._drop()
        db = self.home / "data" / "edgebox.db"
        deadline = time.monotonic() + timeout_s
        while _store_counts(db)[1] < len(KINDS):
            if self.service is not None and self.service.poll() is not None:
                raise SoakError(f"the service exited; see {self.root / 'serve.log'}")
            if time.monotonic() > deadline:
                raise SoakError(f"no document through in {timeout_s:.0f} s")
            time.sleep(1)

    def _env(self) -> dict[str, str]:
        return {**os.environ, "EDGEBOX_HOME": str(self.home)}

    def _start_central(self) -> None:
        log = (self.root / "central.log").open("ab")
        command = [str(EDGEBOX), "central", "serve", "--db", str(self.central_db)]
        self.central = subprocess.Popen(
            [*command, "--port", str(self.port)],
            env=self._env(),
            stdout=log,
            stderr=log,
        )

    def _stop_central(self) -> None:
        if self.central is not None and self.central.poll() is None:
            self.central.send_signal(signal.SIGINT)
            try:
                self.central.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.central.kill()
                self.central.wait()
        self.central = None

    def _flap_loop(self) -> None:
        while not self.stopping.wait(self.flap_s):
            if self.central is None:
                self._start_central()
            else:
                self._stop_central()

    def _drop_loop(self) -> None:
        """One document every 60/rate seconds, written beside the inbox and
        renamed in (a scanner that writes in place is the watcher's test)."""
        while not self.stopping.wait(60.0 / self.rate):
            self._drop()

    def _drop(self) -> None:
        staging = self.root / "staging"
        staging.mkdir(exist_ok=True)
        made = make_document(staging, KINDS[self.dropped % len(KINDS)], self.dropped)
        os.replace(made, self.home / "inbox" / made.name)
        self.dropped += 1

    def run(self, seconds: float, every_s: float, csv_path: Path) -> list[dict]:
        """Sample until `seconds` have passed; every row also goes to the CSV
        as it is taken, so a stopped soak keeps what it measured."""
        rows: list[dict] = []
        started = time.monotonic()
        with csv_path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=FIELDS)
            writer.writeheader()
            while True:
                elapsed = time.monotonic() - started
                rows.append(self.sample(elapsed))
                writer.writerow(rows[-1])
                handle.flush()
                if elapsed >= seconds:
                    return rows
                time.sleep(min(every_s, max(seconds - elapsed, 0.1)))

    def sample(self, elapsed: float) -> dict:
        assert self.service is not None
        if self.service.poll() is not None:
            raise SoakError(
                f"the service exited ({self.service.returncode});"
                f" see {self.root / 'serve.log'}"
            )
        proc = Path(f"/proc/{self.service.pid}")
        status = _proc_status(proc / "status")
        db = self.home / "data" / "edgebox.db"
        triaged, done, pending = _store_counts(db)
        return {
            "t_s": round(elapsed, 1),
            "rss_mib": round(status["VmRSS"] / 1024, 1),
            "open_files": len(os.listdir(proc / "fd")),
            "threads": status["Threads"],
            "store_mib": round(_size(db) / 2**20, 2),
            "wal_mib": round(_size(db.with_name(db.name + "-wal")) / 2**20, 2),
            "dropped": self.dropped,
            "queue_lag": self.dropped - triaged,
            "llm_lag": triaged - done,
            "sync_lag": pending,
            "central_up": int(self.central is not None),
        }

    def stop(self) -> None:
        self.stopping.set()
        for thread in self._threads:
            thread.join(timeout=120)
        if self.service is not None and self.service.poll() is None:
            self.service.send_signal(signal.SIGTERM)
            try:
                self.service.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.service.kill()
                self.service.wait()
        self._stop_central()


def make_document(folder: Path, kind: str, n: int) -> Path:
    """The n-th document of one kind; each unique (a counter in it), so none
    is a duplicate of an earlier one."""
    samples = list(SAMPLES.values())
    text = samples[n % len(samples)]
    lines = [f"Soak document {n}", *text.splitlines()[:20]]
    if kind == "text":
        path = folder / f"note-{n}.txt"
        path.write_text("\n".join(lines) + "\n")
        return path
    if kind == "pdf":
        return text_pdf(folder / f"letter-{n}.pdf", [line[:90] for line in lines])
    if kind == "mixed_pdf":
        pages = [{"text": [line[:90] for line in lines]}]
        pages.append({"scan": [f"Scanned page {n}", "Fever and cough, BP 110/70"]})
        return paged_pdf(folder / f"mixed-{n}.pdf", pages)
    if kind == "scan_png":
        scan = [f"Scan {n}", "Referral: cough for two weeks", "HR 96"]
        return scanned_image(folder / f"scan-{n}.png", scan)
    path = folder / f"junk-{n}.pdf"
    path.write_bytes(random.Random(n).randbytes(4096))
    return path


def _store_counts(db: Path) -> tuple[int, int, int]:
    """(documents with a result, provisional or not; documents through the
    LLM stage as well; outbox rows pending), read-only."""
    if not db.exists():
        return 0, 0, 0
    with Store.open_read_only(db, timeout=30) as store:
        states = store.counts_by_state()
        pending = store.outbox_counts()["pending"]
    triaged = sum(n for state, n in states.items() if state not in _UNTRIAGED)
    done = sum(states[state] for state in _DONE)
    return triaged, done, pending


def _proc_status(path: Path) -> dict[str, int]:
    figures = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "Threads"):
            figures[key] = int(value.split()[0])
    return figures


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _run(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SoakError(f"{' '.join(command[1:3])} failed: {done.stderr.strip()}")
    return done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def slope(rows: list[dict], key: str) -> float:
    """Least-squares slope of `key` per minute; 0 with fewer than two rows."""
    if len(rows) < 2:
        return 0.0
    xs = [row["t_s"] / 60 for row in rows]
    ys = [float(row[key]) for row in rows]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return 0.0
    paired = zip(xs, ys, strict=True)
    return sum((x - mean_x) * (y - mean_y) for x, y in paired) / spread


def verdicts(
    rows: list[dict], *, rate: float, floors: dict[str, float] | None = None
) -> dict[str, tuple[float, float, bool]]:
    """Per judged figure: (first-half slope, second-half slope, passes)."""
    middle = rows[-1]["t_s"] / 2
    first = [row for row in rows if row["t_s"] <= middle]
    second = [row for row in rows if row["t_s"] >= middle]
    judged = {}
    for key, floor in (FLOORS | (floors or {})).items():
        one, two = slope(first, key), slope(second, key)
        judged[key] = (one, two, two <= max(FRACTION * one, floor))
    for key, share in (("queue_lag", QUEUE_SHARE), ("sync_lag", SYNC_SHARE)):
        one, two = slope(first, key), slope(second, key)
        judged[key] = (one, two, two < share * rate)
    return judged


def report(
    rows: list[dict], *, rate: float, floors: dict[str, float] | None = None
) -> int:
    """Print start, middle and end, the slopes per half; 1 when a rule fails."""
    picks = {"start": rows[0], "middle": rows[len(rows) // 2], "end": rows[-1]}
    print(f"{'':8}" + "".join(f"{name:>12}" for name in FIELDS[:-1]))
    for label, row in picks.items():
        print(f"{label:8}" + "".join(f"{row[name]:>12}" for name in FIELDS[:-1]))
    judged = verdicts(rows, rate=rate, floors=floors)
    print(f"\n{'slope/min':12}{'1st half':>12}{'2nd half':>12}  verdict")
    for key in ("store_mib", "wal_mib", "llm_lag"):
        middle = rows[-1]["t_s"] / 2
        one = slope([r for r in rows if r["t_s"] <= middle], key)
        two = slope([r for r in rows if r["t_s"] >= middle], key)
        print(f"{key:12}{one:>12.3f}{two:>12.3f}  (reported)")
    for key, (one, two, passes) in judged.items():
        print(f"{key:12}{one:>12.3f}{two:>12.3f}  {'ok' if passes else 'GROWS'}")
    failed = [key for key, (_, _, passes) in judged.items() if not passes]
    print("soak: " + (f"FAIL, still growing: {', '.join(failed)}" if failed else "ok"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
