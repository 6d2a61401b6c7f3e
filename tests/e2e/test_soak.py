"""scripts/soak: its pass rule on known series, and a short real run (the
service, the model, a flapping centre) that must pass."""

from __future__ import annotations

import csv
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import REPO


def _soak():
    """scripts/soak.py, which is a script, not a package module."""
    spec = importlib.util.spec_from_file_location("soak", REPO / "scripts" / "soak.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["soak"] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


def series(rss, queue=lambda t: 0.0) -> list[dict]:
    """A sample a minute for 20 minutes; `rss` and `queue` of the minute."""
    return [
        {"t_s": 60.0 * t, "rss_mib": rss(t), "open_files": 30, "threads": 20,
         "queue_lag": queue(t), "sync_lag": 0}
        for t in range(21)
    ]  # fmt: skip


def test_growth_that_levels_off_passes() -> None:
    rows = series(lambda t: 800 + 40 * min(t, 5))  # grows 5 min, then flat
    judged = _soak().verdicts(rows, rate=0.7)
    assert all(passes for _, _, passes in judged.values())


def test_steady_growth_fails_on_rss() -> None:
    rows = series(lambda t: 800 + 5 * t)  # a leak: 5 MiB a minute throughout
    judged = _soak().verdicts(rows, rate=0.7)
    assert judged["rss_mib"][1] == pytest.approx(5.0)
    assert judged["rss_mib"][2] is False
    assert judged["threads"][2] is True


def test_a_queue_that_keeps_growing_fails() -> None:
    rows = series(lambda t: 800, queue=lambda t: 0.5 * t)  # half the rate behind
    judged = _soak().verdicts(rows, rate=0.7)
    assert judged["queue_lag"][2] is False


@pytest.mark.slow
@pytest.mark.model
def test_a_short_soak_of_the_real_service_passes(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "soak.py"), "--minutes", "2",
         "--rate", "2", "--flap-seconds", "20", "--sample-seconds", "5",
         # Two minutes cannot tell a leak from the allocator's and SQLite's
         # warm-up (CI measured 2.3 then 2.8 MiB a minute, 0.3% of RSS); the
         # 30-minute run judges RSS at 2 MiB. Here a leak of 8 MiB a minute
         # or more still fails.
         "--rss-floor-mib", "8",
         "--workdir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=1200,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "soak: ok" in done.stdout
    with (tmp_path / "soak.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) >= 20
    assert {row["central_up"] for row in rows} == {"0", "1"}  # it flapped
    assert int(rows[-1]["dropped"]) >= 5 + 3  # the warm-up, then the stream
