"""Sync benchmarks, each against a baseline measured in the same run.

Results/s: the sync client pushing a clinic store's outbox to a real central
server (uvicorn subprocess on 127.0.0.1, SQLite), against a bare loop that
POSTs the same records as plain JSON to the same server with no outbox
bookkeeping. Bytes: gzip bytes on the wire per result against the raw JSON of
the same revisions. Goals from the issue: >= 2,000 results/s, <= 30% of raw.
"""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from edgebox.config import SyncConfig
from edgebox.store import Store
from edgebox.store.outbox import OutboxRow
from edgebox.sync.central.auth import new_token
from edgebox.sync.central.database import open_central
from edgebox.sync.client import SyncClient, wire_record
from edgebox.sync.payload import BATCHES_PATH, batch_key
from tests.support.loopback import CentralProcess

_PHRASES = (
    "Known diabetic, glucose 14.2 mmol/L, on metformin 500 mg twice daily.",
    "Malaria RDT positive, temperature 39.1 C, vomiting twice since morning.",
    "Referred for suspected pneumonia: RR 52/min, chest indrawing, SpO2 91%.",
    "Antenatal visit at 32 weeks, BP 150/100, mild oedema, protein ++ in urine.",
    "Child 3 years, MUAC 11.2 cm, oedema of both feet; refer to OTP.",
    "Hb 7.1 g/dL; HIV viral load 1,200 copies/mL; adherence counselling given.",
    "Fracture suspected after fall, left forearm, splinted, x-ray requested.",
)


def synthetic_result(n: int, rng: random.Random) -> dict[str, Any]:
    """A triage result shaped like the engine's (text varied, seeded)."""
    urgency = rng.choices(("routine", "urgent", "emergency"), (6, 3, 1))[0]
    return {
        "category": rng.choice(("referral", "lab_result", "intake_note")),
        "urgency": urgency,
        "summary": _summary(rng),
        "red_flags": [{"sign": "fever", "source": "rules", "evidence": "39.1 C"}]
        if urgency != "routine"
        else [],
        "fields": {
            "patient_ref": f"P-{rng.randrange(10**6):06d}",
            "age": rng.randrange(1, 90),
            "sex": rng.choice("FM"),
            "date": f"2026-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
            "facility": rng.choice(("Kisoro HC IV", "Bunagana HC II", "Nyakabande")),
        },
        "language": rng.choice(("en", "fr")),
        "confidence": round(rng.random(), 3),
        "needs_review": urgency == "emergency",
        "sources": {"category": "llm", "urgency": rng.choice(("llm", "rules"))},
        "provenance": {
            "model": "SmolLM2-135M-Instruct.Q4_1.gguf",
            "model_sha256": "5f" * 32,
            "prompt_version": "p3",
            "rules_version": "r2",
            "latency_s": round(rng.uniform(1.5, 4.0), 3),
            "tokens_in": rng.randrange(600, 1400),
            "tokens_out": rng.randrange(60, 180),
            "review_reasons": ["emergency"] if urgency == "emergency" else [],
        },
    }


def _summary(rng: random.Random) -> str:
    """Two clinical sentences with their numbers and some words changed, so that
    gzip meets text about as varied as a model's summaries."""
    words = [w for phrase in _PHRASES for w in phrase.split()]
    text = " ".join(rng.sample(_PHRASES, 2)).split()
    for i in rng.sample(range(len(text)), len(text) // 3):
        text[i] = rng.choice(words)
    for i, word in enumerate(text):
        if any(c.isdigit() for c in word):
            text[i] = f"{rng.uniform(0.5, 200):.1f}"
    return " ".join(text)


def fill(path: Path, count: int, *, seed: int = 7) -> None:
    rng = random.Random(seed)
    with Store(path) as store, store.atomic():
        for n in range(count):
            doc = store.add_document(file_name=f"d{n}", sha256=f"{n:064x}", size=1)
            store.record_triage(doc, synthetic_result(n, rng))


def sync_throughput(
    *, results: int = 5000, batch_records: int = 500, rounds: int = 3
) -> list[dict[str, Any]]:
    """Results/s and wire bytes per result through a loopback central server."""
    with tempfile.TemporaryDirectory(prefix="edgebox-bench-sync-") as folder:
        return _measure(Path(folder), results, batch_records, rounds)


def _measure(
    work: Path, results: int, batch_records: int, rounds: int
) -> list[dict[str, Any]]:
    fill(work / "template.db", results)
    rows = _rows(work / "template.db")
    raw = sum(len(row.payload.encode()) for row in rows)
    db_url = f"sqlite:///{work / 'central.db'}"
    central = open_central(db_url)
    client_s: list[float] = []
    bare_s: list[float] = []
    wire = 0
    with CentralProcess(db_url, log=work / "central.log") as server:
        for n in range(rounds):  # alternate, so neither gets a warmer machine
            path = work / f"box{n}.db"
            path.write_bytes((work / "template.db").read_bytes())
            seconds, wire = _push(path, server.url, central, f"box-{n}", batch_records)
            client_s.append(seconds)
            bare_s.append(_bare(rows, server.url, central, f"bare-{n}", batch_records))
    central.close()
    client_rate = results / statistics.median(client_s)
    bare_rate = results / statistics.median(bare_s)
    return [
        {
            "figure": f"sync push through a loopback server ({results} results)",
            "results": results,
            "batch_records": batch_records,
            "rounds": rounds,
            "edgebox_results_per_s": round(client_rate),
            "bare_post_results_per_s": round(bare_rate),
            "ratio_edgebox_to_bare": round(client_rate / bare_rate, 3),
        },
        {
            "figure": "sync bytes on the wire per result (gzip JSON vs raw JSON)",
            "wire_bytes_per_result": round(wire / results, 1),
            "raw_json_bytes_per_result": round(raw / results, 1),
            "ratio_wire_to_raw": round(wire / raw, 3),
        },
    ]


def _rows(path: Path) -> list[OutboxRow]:
    with Store(path) as store:
        return store.pending_outbox(limit=10**9)


def _push(
    path: Path, url: str, central: Any, device: str, batch: int
) -> tuple[float, int]:
    _, token = central.register_device(device, new_token)
    settings = SyncConfig(url=url, device=device, token=token, batch_records=batch)
    with Store(path) as store, SyncClient(store, settings) as client:
        started = time.perf_counter()
        report = client.push()
        seconds = time.perf_counter() - started
    if not report.ok or report.pending:
        raise RuntimeError(f"the bench push failed: {report.error}")
    return seconds, report.bytes_sent


def _bare(
    rows: list[OutboxRow], url: str, central: Any, device: str, batch: int
) -> float:
    """The same records POSTed as plain JSON, nothing read or written locally."""
    _, token = central.register_device(device, new_token)
    records = [wire_record(row, SyncConfig()) for row in rows]  # as the client sends
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
        started = time.perf_counter()
        for start in range(0, len(records), batch):
            chunk = records[start : start + batch]
            body = {"device": device, "heartbeat": {"pending": 0}, "records": chunk}
            answer = http.post(
                BATCHES_PATH,
                content=json.dumps(body).encode(),
                headers={"Idempotency-Key": batch_key(device, chunk)},
            )
            answer.raise_for_status()
        return time.perf_counter() - started
