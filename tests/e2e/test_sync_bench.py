"""The sync benchmark runs end to end and reports its figures against their
baselines from the same run."""

import importlib.util

import pytest

from tests.support.paths import REPO


def _bench_sync():
    """scripts/bench_sync.py, which is a script, not a package module."""
    spec = importlib.util.spec_from_file_location(
        "bench_sync", REPO / "scripts" / "bench_sync.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_sync_bench_reports_throughput_and_bytes_against_baselines() -> None:
    speed, size = _bench_sync().sync_throughput(
        results=600, batch_records=200, rounds=1
    )
    assert speed["results"] == 600
    assert speed["edgebox_results_per_s"] > 0 and speed["bare_post_results_per_s"] > 0
    expected = speed["edgebox_results_per_s"] / speed["bare_post_results_per_s"]
    assert speed["ratio_edgebox_to_bare"] == pytest.approx(expected, abs=0.01)
    ratio = size["wire_bytes_per_result"] / size["raw_json_bytes_per_result"]
    assert size["ratio_wire_to_raw"] == pytest.approx(ratio, abs=0.002)
    # The goal for bytes (a property of the encoding, not of the machine).
    assert size["ratio_wire_to_raw"] <= 0.30
