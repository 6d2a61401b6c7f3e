"""The README and docs/: every link resolves, and the generated figures sections
match the measured output they were generated from (scripts/gen-docs)."""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.support.paths import REPO

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~)")


# docs/configuration.md is generated from the settings' declaration on another
# branch; until it lands, a link to it may point at nothing (checked once there).
def _gen_docs() -> ModuleType:
    """scripts/gen_docs.py, which is a script, not a package module."""
    spec = importlib.util.spec_from_file_location(
        "gen_docs", REPO / "scripts" / "gen_docs.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_docs"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


gen_docs = _gen_docs()


def _prose(path: Path) -> list[str]:
    """The file's lines outside fenced code blocks."""
    lines, fenced = [], False
    for line in path.read_text().splitlines():
        if FENCE.match(line.strip()):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {
        slug(line.lstrip("#")) for line in _prose(path) if re.match(r"#{1,6} ", line)
    }


def broken_links(path: Path) -> list[str]:
    """Each relative link of `path` whose file or heading does not exist."""
    broken = []
    for line in _prose(path):
        for target in LINK.findall(line):
            if re.match(r"[a-z]+:", target):
                continue  # http(s), mailto: not checked offline
            file_part, _, anchor = target.partition("#")
            linked = (path.parent / file_part).resolve() if file_part else path
            if not linked.exists():
                broken.append(f"{path.name}: {target} (no such file)")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                broken.append(f"{path.name}: {target} (no such heading)")
    return broken


def documents() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


@pytest.mark.parametrize("path", documents(), ids=lambda p: p.name)
def test_every_link_resolves_to_a_file_and_heading(path: Path) -> None:
    assert broken_links(path) == []


def test_a_link_to_a_missing_file_or_heading_is_reported(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other\n\n## Two stages\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md#two-stages) [gone](gone.md) [bad](other.md#three)\n"
        "```\n[inside a fence](ignored.md)\n```\n[web](https://example.org)\n"
    )
    assert broken_links(page) == [
        "page.md: gone.md (no such file)",
        "page.md: other.md#three (no such heading)",
    ]


def test_the_readme_points_into_each_doc() -> None:
    readme = (REPO / "README.md").read_text()
    for name in ("operations", "evaluation", "sync-protocol", "benchmarks"):
        assert f"(docs/{name}.md)" in readme


def test_the_committed_docs_match_their_stored_figures() -> None:
    assert gen_docs.check(REPO) == []


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "docs", tmp_path / "docs")
    return tmp_path


def test_a_figure_edited_by_hand_fails_the_check(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    doc = root / "docs" / "evaluation.md"
    text = doc.read_text()
    begin = text.index(gen_docs.begin_marker("crossval"))
    row = text.index("| defaults |", begin)
    cell = text.index(" | ", text.index(" | ", row + 3) + 3) + 3  # macro-F1
    doc.write_text(text[:cell] + "0.999" + text[cell + 5 :])
    assert gen_docs.check(root) == [
        "docs/evaluation.md, section crossval: differs from what"
        " docs/figures/crossval.json renders (edited by hand? run"
        " scripts/gen-docs --render)"
    ]


def test_a_section_without_its_regenerate_line_fails_the_check(
    tmp_path: Path,
) -> None:
    root = _copy(tmp_path)
    doc = root / "docs" / "benchmarks.md"
    line = gen_docs.regenerate_line("bench-cheap")
    doc.write_text(doc.read_text().replace(line, "Measured by hand"))
    assert gen_docs.check(root) == [
        f"docs/benchmarks.md, section bench-cheap: lacks the line {line!r}"
    ]


def test_a_doc_without_its_markers_fails_the_check(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    doc = root / "docs" / "evaluation.md"
    doc.write_text(doc.read_text().replace(gen_docs.end_marker("ceiling"), ""))
    (problem,) = gen_docs.check(root)
    assert problem.startswith("docs/evaluation.md, section ceiling: needs the marker")


def test_render_rewrites_only_the_section_from_the_stored_json(
    tmp_path: Path,
) -> None:
    root = _copy(tmp_path)
    doc = root / "docs" / "evaluation.md"
    before = doc.read_text()
    (section,) = [s for s in gen_docs.SECTIONS if s.name == "crossval"]
    doc.write_text(gen_docs.replace_section(before, section, ["stale"]))
    assert gen_docs.check(root) != []
    gen_docs.render(root, section)
    assert doc.read_text() == before


def test_a_crossval_report_renders_as_one_row_per_task() -> None:
    report = {
        "task": "urgency",
        "n": 604,
        "macro_f1": 0.6,
        "macro_f1_sd": 0.03,
        "accuracy": 0.7,
        "accuracy_sd": 0.01,
        "emergency_recall": 0.951,
        "emergency_recall_sd": 0.004,
        "emergency_recall_target": 0.95,
        "review_rate": 0.634,
        "unreviewed_accuracy": 0.889,
        "calibration_error": 0.04,
        "calibration_error_sd": 0.002,
    }
    lines = gen_docs.render_crossval([{"label": "defaults", "output": [report]}])
    assert lines[2] == (
        "| defaults | urgency (604) | 0.600 ± 0.030 | 0.700 ± 0.010"
        " | 0.951 ± 0.004 (0.95) | 63% | 89% | 0.040 ± 0.002 |"
    )


def test_a_bench_result_renders_each_measure_under_its_figure() -> None:
    result = {"figure": "ingestion", "files": 300, "ratio": 0.36}
    lines = gen_docs.render_bench([{"label": "ingest", "output": [result]}])
    assert lines[2:] == ["| ingestion | files | 300 |", "|  | ratio | 0.36 |"]


def test_an_unknown_section_is_refused(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_info:
        gen_docs.main(["nonsense"])
    assert exit_info.value.code == 2
    assert "no section nonsense" in capsys.readouterr().err
