"""`edgebox central train`: a candidate from labelled JSONL and from the
reviews boxes shared through a real central server, its report, and the gate
that keeps a candidate worse than the published models from publishing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from edgebox.cli.commands import cli
from edgebox.learn.classifiers import load, save, train
from edgebox.store import Store
from edgebox.sync.client import SyncClient
from tests.support.central import database_url, device_name, running_central
from tests.support.central import sync_settings as settings_for
from tests.support.paths import DATA
from tests.support.records import learned_result


def both_files(task: str, folder: Path) -> Path:
    """The 48 labelled rows of one task in one file."""
    path = folder / f"{task}48.jsonl"
    lines = [
        line
        for part in ("train", "test")
        for line in (DATA / f"{task}_{part}.jsonl").read_text().splitlines()
        if line.strip()
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def central_train(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["central", "train", *args])
    return result.exit_code, result.output + str(result.exception or "")


def report_of(out: Path) -> dict[str, Any]:
    return json.loads((out / "report.json").read_text())


def test_train_from_labelled_jsonl_writes_a_candidate_and_its_report(
    tmp_path: Path,
) -> None:
    out = tmp_path / "candidate"
    code, output = central_train(
        "--from", str(both_files("urgency", tmp_path)),
        "--from", str(both_files("category", tmp_path)),
        "--db", str(tmp_path / "none.db"), "--out", str(out),
    )  # fmt: skip
    assert code == 1 and "no central database" in output  # a mistyped --db
    code, output = central_train(
        "--from", str(both_files("urgency", tmp_path)),
        "--from", str(both_files("category", tmp_path)),
        "--out", str(out), "--min-examples", "20",
    )  # fmt: skip
    assert code == 0, output
    assert "PUBLISHABLE" in output
    report = report_of(out)
    assert report["sources"] == {
        "import:category48.jsonl": {"category": 48, "urgency": 0},
        "import:urgency48.jsonl": {"category": 0, "urgency": 48},
    }
    for task in ("category", "urgency"):
        entry = report["tasks"][task]
        assert entry["trained"] and entry["n_train"] == 36 and entry["n_held_out"] == 12
        assert entry["baseline"] is None and entry["why"] == "no baseline given"
        assert entry["n_published"] == 48  # refitted on the held-out rows too
        model = load(out, task)
        assert model is not None and model.n_examples == 48
    assert report["tasks"]["urgency"]["candidate"]["emergency_recall"] is not None
    assert report["publishable"] is True


def test_a_task_with_too_little_data_is_skipped_and_said(tmp_path: Path) -> None:
    out = tmp_path / "candidate"
    code, output = central_train(
        "--from", str(DATA / "category_test.jsonl"), "--out", str(out)
    )  # fmt: skip
    assert code == 0, output
    report = report_of(out)
    assert report["tasks"]["category"] == {
        "n_train": 9,
        "n_held_out": 3,
        "trained": False,
        "why": "too little data: 9 training rows, 30 needed",
    }
    assert report["publishable"] is False
    assert not (out / "learned").exists()


def test_a_candidate_worse_than_the_baseline_is_not_publishable(
    tmp_path: Path,
) -> None:
    rows = both_files("urgency", tmp_path)
    labelled = [json.loads(line) for line in rows.read_text().splitlines()]
    # The published model learned from every row, the ones held out included;
    # the candidate from 7 of them.
    baseline = tmp_path / "published"
    texts = [r["text"] for r in labelled]
    save(train("urgency", texts, [r["urgency"] for r in labelled]), baseline)
    out = tmp_path / "candidate"
    code, output = central_train(
        "--from", str(rows), "--out", str(out), "--baseline", str(baseline),
        "--holdout", "0.85", "--min-examples", "5",
    )  # fmt: skip
    assert code == 0, output
    assert "NOT publishable: urgency: worse than the baseline" in output
    entry = report_of(out)["tasks"]["urgency"]
    assert entry["publishable"] is False
    comparison = entry["comparison"]["macro_f1"]
    assert comparison["worse_share"] >= 0.95
    assert comparison["candidate"] < comparison["baseline"]
    assert report_of(out)["publishable"] is False

    # Against a baseline that learned wrong labels, the candidate publishes.
    wrong = tmp_path / "wrong"
    rotated = {"emergency": "routine", "routine": "urgent", "urgent": "emergency"}
    save(train("urgency", texts, [rotated[r["urgency"]] for r in labelled]), wrong)
    better = tmp_path / "better"
    code, output = central_train(
        "--from", str(rows), "--out", str(better), "--baseline", str(wrong),
        "--holdout", "0.85", "--min-examples", "5",
    )  # fmt: skip
    assert code == 0, output
    entry = report_of(better)["tasks"]["urgency"]
    assert entry["comparison"]["macro_f1"]["difference"] > 0
    assert entry["publishable"] is True and report_of(better)["publishable"] is True


def test_train_reads_the_reviews_boxes_shared(tmp_path: Path) -> None:
    rows = [
        json.loads(line)
        for line in both_files("urgency", tmp_path).read_text().splitlines()
    ]
    with database_url("sqlite", tmp_path) as url, running_central(url, tmp_path) as c:
        for half in (rows[:24], rows[24:]):
            name = device_name()
            token = c.add_device(name)
            with Store(tmp_path / f"{name}.db") as store:
                _reviewed(store, half)
                settings = settings_for(c.url, name, token, share_reviews=True)
                with SyncClient(store, settings) as client:
                    assert client.push().ok
        out = tmp_path / "candidate"
        code, output = central_train(
            "--db", url, "--out", str(out), "--min-examples", "20"
        )  # fmt: skip
    assert code == 0, output
    report = report_of(out)
    assert sorted(n["urgency"] for n in report["sources"].values()) == [24, 24]
    assert report["tasks"]["urgency"]["n_held_out"] == 12  # 6 of each clinic
    assert len(report["tasks"]["urgency"]["per_clinic"]) == 2
    assert load(out, "urgency") is not None


def _reviewed(store: Store, rows: list[dict[str, Any]]) -> None:
    for n, row in enumerate(rows):
        doc = store.add_document(
            file_name=f"n{n}.txt", sha256=f"{n:064x}", size=1, text=row["text"]
        )
        store.record_triage(doc, learned_result())
        store.record_review(doc, reviewer="amina", changes={"urgency": row["urgency"]})
