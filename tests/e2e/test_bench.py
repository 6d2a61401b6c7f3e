import json
import subprocess
import sys

import pytest

from tests.support.paths import REPO


@pytest.mark.slow
@pytest.mark.model
def test_bench_reports_engine_and_baseline_in_one_run() -> None:
    out = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "bench.py"),
            "--docs",
            "2",
            "--rounds",
            "1",
            "--files",
            "50",
            "--pdf-pages",
            "5",
            "--index-docs",
            "20",
            "--scales",
            "500",
            "--stage-docs",
            "3",
            "--sync-results",
            "500",
            "--ui-docs",
            "50",
            "--beside-docs",
            "1",
            "--json",
        ],  # fmt: skip
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    figures = {result.pop("figure"): result for result in json.loads(out.stdout)}
    beside = figures["edgebox triage beside a busy service (1 documents)"]
    assert beside["alone_docs_per_s"] > 0 and beside["beside_docs_per_s"] > 0
    assert beside["ratio_beside_to_alone"] == pytest.approx(
        beside["beside_docs_per_s"] / beside["alone_docs_per_s"], rel=0.05
    )
    ui = figures["UI start-up to a painted queue (50 documents)"]
    assert ui["edgebox_tui_s"] > 0 and ui["bare_textual_s"] > 0
    assert ui["ratio_tui_to_bare"] == pytest.approx(
        ui["edgebox_tui_s"] / ui["bare_textual_s"], abs=0.01
    )
    ingest = figures["ingestion throughput (no triage)"]
    assert ingest["files"] == 50
    assert ingest["ratio_ingest_to_baseline"] == pytest.approx(
        ingest["ingest_files_per_s"] / ingest["baseline_copy_hash_fsync_files_per_s"],
        abs=0.01,
    )
    pdf = figures["PDF extraction per page"]
    assert pdf["text_pages"] == 5
    assert pdf["ratio_text_page_to_bare"] == pytest.approx(
        pdf["edgebox_text_page_ms"] / pdf["bare_pypdf_text_page_ms"], abs=0.05
    )
    assert pdf["ratio_scanned_page_to_bare"] == pytest.approx(
        pdf["edgebox_scanned_page_s"] / pdf["bare_pdftoppm_tesseract_page_s"],
        abs=0.05,
    )
    indexing = figures["indexing throughput"]
    assert indexing["ratio_index_to_bare"] == pytest.approx(
        indexing["edgebox_reindex_docs_per_s"] / indexing["bare_encode_docs_per_s"],
        abs=0.01,
    )
    latency = figures["search latency at 500 documents"]
    assert 0 < latency["hybrid_p50_ms"] <= latency["hybrid_p95_ms"]
    assert 0 < latency["words_only_p50_ms"] <= latency["words_only_p95_ms"]
    assert latency["ratio_words_only_p95_to_ranked_all"] > 0
    assert latency["vector_matrix_mb"] == pytest.approx(500 * 384 * 4 / 2**20, abs=0.1)
    result = figures["triage throughput (demo documents)"]
    assert result["docs"] == 2
    assert result["engine_docs_per_s"] > 0 and result["bare_llama_cpp_docs_per_s"] > 0
    expected = result["engine_docs_per_s"] / result["bare_llama_cpp_docs_per_s"]
    assert result["ratio_engine_to_bare"] == pytest.approx(expected, abs=0.002)
    # Same prompts, same greedy decoding: both loops do the same work.
    tokens = result["tokens_out_per_round"]
    assert tokens["engine"] == tokens["bare"]
