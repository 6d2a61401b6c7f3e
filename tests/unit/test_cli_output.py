"""The `edgebox` command's arguments, usage errors and printed output, run in
process through Click's CliRunner (tests/support/cli.py) on a real SQLite
store. The real-process runs are in tests/e2e/test_cli.py."""

import json
from pathlib import Path

from tests.support.cli import invoke
from tests.support.paths import DATA
from tests.support.records import record


def test_status_says_whether_confident_labels_held(edgebox_home: Path) -> None:
    from edgebox.config import load
    from edgebox.store import Store

    with Store(load().db_path) as store:
        for i, (confidence, kept) in enumerate([(0.95, True), (0.85, False)]):
            doc = store.add_document(file_name=f"{i}.txt", sha256=f"{i:064d}", size=1)
            store.record_triage(
                doc,
                {
                    "category": "letter",
                    "urgency": "routine",
                    "summary": "A letter.",
                    "language": "en",
                    "needs_review": False,
                    "provenance": {
                        "field_confidence": {"urgency": confidence},
                        "learned": {"urgency": {"confidence_mapped_on": 100}},
                    },
                },
            )
            changes = {} if kept else {"urgency": "urgent"}
            store.record_review(doc, reviewer="nurse", changes=changes)
    result = invoke("status")
    assert result.exit_code == 0, result.stderr
    assert "confidence staff kept 1 of 2 urgency labels given 0.8 or more" in (
        result.stdout
    )
    # Recorded without search vectors (as when the embedding model was not
    # there): status says that a reindex is due.
    assert "index     2 triaged document(s) not searchable by meaning" in (
        result.stdout
    )
    assert "run `edgebox reindex`" in result.stdout
    assert json.loads(invoke("status", "--json").stdout)["index"]["not_indexed"] == 2


def test_queue_shows_hostile_names_and_summaries_as_text(edgebox_home: Path) -> None:
    """Brackets are rich markup and ESC drives the terminal: both come from
    documents (a subfolder `a[` holding `b].txt`, a summary quoting markup)."""
    from edgebox.config import load
    from edgebox.store import Store

    with Store(load().db_path) as store:
        doc = store.add_document(file_name="a[/b].txt", sha256="0" * 64, size=1)
        store.record_triage(
            doc,
            {
                "category": "letter",
                "urgency": "routine",
                "summary": "See [link=http://evil.example]here[/link] \x1b[31mred",
                "language": "en",
                "needs_review": False,
            },
        )
    result = invoke("queue", env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.stderr
    assert "a[/b].txt" in result.stdout
    assert "[link=http://evil.example]here[/link]" in result.stdout
    assert "\x1b" not in result.stdout and "\N{REPLACEMENT CHARACTER}[31mred" in (
        result.stdout
    )


def test_usage_errors_exit_non_zero() -> None:
    result = invoke("triage")
    assert result.exit_code == 2
    assert "Missing argument" in result.stderr


def test_eval_seeks_the_configured_emergency_recall_or_the_one_asked(
    tmp_path: Path,
) -> None:
    files = ["--train", str(DATA / "urgency_train.jsonl")]
    files += ["--test", str(DATA / "urgency_test.jsonl")]
    home = ["--home", str(tmp_path)]
    configured = {"EDGEBOX_TRIAGE_EMERGENCY_RECALL": "0.9"}
    result = invoke(*home, "eval", *files, "--json", env=configured)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["task"], report["n"], report["macro_f1"]) == ("urgency", 12, 1.0)
    assert report["emergency_recall_target"] == 0.9
    asked = invoke(*home, "eval", *files, "--emergency-recall", "0.8", env=configured)
    assert asked.exit_code == 0, asked.stderr
    assert "emergency recall 1.000 (target 0.80)" in asked.stdout
    refused = invoke(*home, "eval", *files, "--emergency-recall", "0")
    assert refused.exit_code == 2 and "--emergency-recall" in refused.stderr


def test_queue_lists_a_timed_out_triage_with_the_unknown_above_duplicates(
    edgebox_home: Path,
) -> None:
    from edgebox.config import load
    from edgebox.store import DocState, Store

    with Store(load().db_path) as store:
        routine = record(store, "routine.txt", "routine")
        sha256 = store.document(routine)["sha256"]
        for n in range(20):  # the same letter dropped again and again
            store.add_document(
                file_name=f"again-{n}.txt", sha256=sha256, size=1,
                state=DocState.DUPLICATE, duplicate_of=routine,
            )  # fmt: skip
        for n in range(3):
            store.add_document(
                file_name=f"broken-{n}.pdf", sha256=f"{n:064x}", size=1,
                state=DocState.QUARANTINED, error_code="pdf_damaged",
                error_message="damaged",
            )  # fmt: skip
        failed = record(store, "fu.txt", "unknown", error="triage deadline passed")
    result = invoke("queue", "--json")
    assert result.exit_code == 0, result.stderr
    page = json.loads(result.stdout)
    assert (page["total"], page["truncated"]) == (25, False)
    rows = page["documents"]
    # Unknown urgency, by age: the unreadable files (each may be an emergency
    # referral) and the failed triage; then routine; the copies last.
    assert [row["file_name"] for row in rows[:5]] == [
        "broken-0.pdf", "broken-1.pdf", "broken-2.pdf", "fu.txt", "routine.txt",
    ]  # fmt: skip
    assert rows[3]["document_id"] == failed
    assert {row["state"] for row in rows[5:]} == {"duplicate"}


def test_queue_json_says_its_total_and_that_the_limit_cut_it(
    edgebox_home: Path,
) -> None:
    from edgebox.config import load
    from edgebox.store import Store

    with Store(load().db_path) as store:
        urgent = [record(store, f"u{n}.txt", "urgent") for n in range(3)]
        for n in range(4):
            record(store, f"r{n}.txt", "routine")
    cut = json.loads(invoke("queue", "--json", "--limit", "3").stdout)
    assert (cut["total"], cut["limit"], cut["truncated"]) == (7, 3, True)
    assert [row["document_id"] for row in cut["documents"]] == urgent
    assert {row["urgency"] for row in cut["documents"]} == {"urgent"}
    whole = json.loads(invoke("queue", "--json", "--limit", "7").stdout)
    assert (whole["total"], whole["truncated"], len(whole["documents"])) == (
        7, False, 7,
    )  # fmt: skip


def test_the_queue_table_shows_each_document_id_in_80_columns(
    edgebox_home: Path,
) -> None:
    from edgebox.config import load
    from edgebox.store import Store

    with Store(load().db_path) as store:
        ids = [
            record(store, f"referral_pregnancy_convulsion_{n}.txt", "emergency")
            for n in range(12)
        ]
    result = invoke("queue", env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "┃ ID ┃ Urgency" in result.stdout
    for doc in ids:  # `requeue ID` and `similar ID` need it: whole, on its row
        assert any(line.startswith(f"│ {doc:>2} │ emergency") for line in lines)
