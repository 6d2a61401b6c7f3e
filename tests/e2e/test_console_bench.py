"""`scripts/bench --only console` at CI's size: 10,000 results from 50 clinics,
each page set against the bare SQL that returns the same rows (PostgreSQL too
when EDGEBOX_TEST_POSTGRES_URL is set)."""

import json
import os
import subprocess
import sys

import pytest

from tests.support.central import POSTGRES_URL
from tests.support.paths import REPO


@pytest.mark.slow
def test_console_bench_reports_pages_and_bare_sql_in_one_run() -> None:
    env = {**os.environ}
    if POSTGRES_URL:
        env["EDGEBOX_TEST_POSTGRES_URL"] = POSTGRES_URL
    out = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "bench.py"), "--only", "console",
         "--console-results", "10000", "--json"],
        capture_output=True, text=True, check=True, timeout=600, env=env,
    )  # fmt: skip
    figures = json.loads(out.stdout)
    backends = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])
    assert [f["figure"] for f in figures] == [
        f"console pages ({b}, 10000 results, 50 clinics)" for b in backends
    ]
    for figure in figures:
        for page in ("emergencies", "clinic"):
            p50 = figure[f"{page}_page_p50_ms"]
            bare = figure[f"{page}_bare_sql_p50_ms"]
            assert 0 < p50 <= figure[f"{page}_page_p95_ms"]
            assert 0 < bare <= figure[f"{page}_bare_sql_p95_ms"]
            assert figure[f"ratio_{page}_page_to_bare_p50"] == pytest.approx(
                p50 / bare, rel=0.05, abs=0.1
            )
