"""The sync benchmark runs end to end and reports its figures against their
baselines from the same run."""

import pytest

from edgebox.sync.bench import sync_throughput


@pytest.mark.slow
def test_sync_bench_reports_throughput_and_bytes_against_baselines() -> None:
    speed, size = sync_throughput(results=600, batch_records=200, rounds=1)
    assert speed["results"] == 600
    assert speed["edgebox_results_per_s"] > 0 and speed["bare_post_results_per_s"] > 0
    expected = speed["edgebox_results_per_s"] / speed["bare_post_results_per_s"]
    assert speed["ratio_edgebox_to_bare"] == pytest.approx(expected, abs=0.01)
    ratio = size["wire_bytes_per_result"] / size["raw_json_bytes_per_result"]
    assert size["ratio_wire_to_raw"] == pytest.approx(ratio, abs=0.002)
    # The goal for bytes (a property of the encoding, not of the machine).
    assert size["ratio_wire_to_raw"] <= 0.30
