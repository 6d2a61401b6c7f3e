"""edgebox benchmarks: every figure against a baseline measured in the same run.

Each `bench_*.py` beside this file measures one part and returns a list of
result dicts; this runner prints them, or all of them as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from bench_beside import triage_beside_service  # noqa: E402
from bench_console import console_pages  # noqa: E402
from bench_index import index_benchmarks  # noqa: E402
from bench_ingest import ingest_throughput  # noqa: E402
from bench_pdf import pdf_pages  # noqa: E402
from bench_stages import two_stage  # noqa: E402
from bench_sync import sync_throughput  # noqa: E402
from bench_triage import prefix_reuse, triage_throughput  # noqa: E402
from bench_tui import tui_startup  # noqa: E402

from edgebox.cli.demo import SAMPLES  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=len(SAMPLES))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--sync-results", type=int, default=10_000)
    parser.add_argument("--pdf-pages", type=int, default=40)
    parser.add_argument("--index-docs", type=int, default=300)
    parser.add_argument(
        "--scales", default="10000,100000", help="document counts for search latency"
    )
    parser.add_argument("--ui-docs", type=int, default=1000)
    parser.add_argument(
        "--stage-docs", type=int, default=60, help="backlog for the two-stage run"
    )
    parser.add_argument(
        "--console-results", type=int, default=10_000, help="records on the console"
    )
    parser.add_argument(
        "--beside-docs", type=int, default=4, help="documents for triage-beside"
    )
    parser.add_argument(
        "--only",
        choices=["stages", "console", "beside", "ingest", "sync"],
        help="run only this benchmark",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    docs = list(SAMPLES.values())[: args.docs]
    scales = tuple(int(n) for n in args.scales.split(",") if n)
    if args.only == "stages":
        return _print(two_stage(args.stage_docs), as_json=args.json)
    if args.only == "console":
        return _print(console_pages(results=args.console_results), as_json=args.json)
    if args.only == "beside":
        return _print([triage_beside_service(args.beside_docs)], as_json=args.json)
    if args.only == "ingest":  # no model: cheap enough for scripts/gen-docs
        return _print([ingest_throughput(args.files)], as_json=args.json)
    if args.only == "sync":
        return _print(sync_throughput(results=args.sync_results), as_json=args.json)
    results = [
        *two_stage(args.stage_docs),
        ingest_throughput(args.files),
        pdf_pages(args.pdf_pages),
        triage_throughput(docs, args.rounds),
        prefix_reuse(docs, args.rounds),
        *index_benchmarks(docs=args.index_docs, scales=scales),
        *sync_throughput(results=args.sync_results),
        tui_startup(args.ui_docs),
        *console_pages(results=args.console_results),
        triage_beside_service(args.beside_docs),
    ]
    return _print(results, as_json=args.json)


def _print(results: list[dict], *, as_json: bool) -> int:
    if as_json:
        print(json.dumps(results, indent=2))
        return 0
    for result in results:
        print(result.pop("figure"))
        for key, value in result.items():
            print(f"  {key:32} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
