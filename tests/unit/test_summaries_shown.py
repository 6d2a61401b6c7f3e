"""scripts/summaries_shown.py's scoring, on summaries written for the test:
the before/after figures of issue 19 rest on it."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]  # tests/<folder>/this file
REFERRAL = (
    "Garçon de 3 ans, convulsions depuis ce matin, coma. Température 39,5."
    " Référé pour prise en charge urgente."
)


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "summaries_shown", REPO / "scripts" / "summaries_shown.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_an_invented_summary_and_a_grounded_one_score_apart(tmp_path: Path) -> None:
    documents = tmp_path / "docs.jsonl"
    documents.write_text(json.dumps({"id": "fr-1", "text": REFERRAL}) + "\n")
    invented = tmp_path / "before.jsonl"
    invented.write_text(
        json.dumps(
            {
                "id": "fr-1",
                "summary": "3-year-old girl with diarrhea, 7 days of vomiting.",
                "source": "llm",
            }
        )
        + "\n"
    )
    grounded = tmp_path / "after.jsonl"
    grounded.write_text(
        json.dumps({"id": "fr-1", "summary": REFERRAL[:60], "source": "document"})
        + "\n"
    )
    script = _script()
    before = script.score(documents, invented)["languages"]["fr"]
    after = script.score(documents, grounded)["languages"]["fr"]
    assert before["invented"] == 1.0 and after["invented"] == 0.0
    assert before["numbers_not_in_document"] == 1.0  # "7 days"
    assert after["numbers_not_in_document"] == 0.0
    assert before["danger_signs_named"] == "0/2"  # convulsions, coma
    assert after["danger_signs_named"] == "2/2"
    assert before["summary_sources"] == {"llm": 1}
