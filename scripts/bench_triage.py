"""Triage benchmarks, each against a baseline measured in the same run.

Triage throughput: docs/s of the triage engine over the demo documents,
   against a bare llama-cpp-python loop (its own `Llama`, the same model,
   settings, prompts and JSON schema), and their ratio. Rounds alternate
   engine and baseline so that neither gets a warmer machine.

Prefix reuse: docs/s with the engine's prompt (long stable prefix, document
   last, so llama.cpp keeps the prefix in its KV cache) against a naive prompt
   with the document first, through one `Llama`, in the same run.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

from edgebox import config
from edgebox.triage.cpu_quirks import extra_buffers_safe, model_params
from edgebox.triage.engine import TriageEngine


def bare_llama(settings: config.Config, threads: int, gpu_layers: int):
    import llama_cpp

    # Loaded as the engine loads its model: where llama.cpp's AMX kernels
    # would crash, with weight repacking off (edgebox/triage/cpu_quirks.py).
    with model_params(extra_buffers=extra_buffers_safe()):
        return llama_cpp.Llama(
            model_path=str(settings.model_path),
            n_ctx=settings.model.n_ctx,
            n_threads=threads,
            n_threads_batch=threads,
            n_gpu_layers=gpu_layers,
            chat_format=settings.model.chat_format or None,
            verbose=False,
        )


def triage_throughput(docs: list[str], rounds: int) -> dict:
    settings = config.Config(home=Path(tempfile.mkdtemp()), source=None)
    engine = TriageEngine(settings)
    llama = bare_llama(settings, engine.model.threads, engine.model.gpu_layers)
    prompts = [engine.messages(text) for text in docs]
    max_tokens = settings.model.max_tokens
    response_format = {"type": "json_object", "schema": engine.schema}

    def run_engine() -> int:
        return sum(engine.triage(text).provenance["tokens_out"] for text in docs)

    def run_bare() -> int:
        tokens = 0
        for messages in prompts:
            out = llama.create_chat_completion(
                messages,
                response_format=response_format,
                max_tokens=max_tokens,
                temperature=0.0,
            )
            json.loads(out["choices"][0]["message"]["content"] or "null")
            tokens += out["usage"]["completion_tokens"]
        return tokens

    # Warm both: the first call reads the shared prompt prefix into the KV cache.
    engine.triage(docs[0])
    llama.create_chat_completion(
        prompts[0], response_format=response_format, max_tokens=8
    )
    times: dict[str, list[float]] = {"engine": [], "bare": []}
    tokens: dict[str, int] = {}
    for _ in range(rounds):
        for name, run in (("engine", run_engine), ("bare", run_bare)):
            started = time.perf_counter()
            tokens[name] = run()
            times[name].append(time.perf_counter() - started)
    engine_rate = len(docs) / statistics.median(times["engine"])
    bare_rate = len(docs) / statistics.median(times["bare"])
    return {
        "figure": "triage throughput (demo documents)",
        "docs": len(docs),
        "rounds": rounds,
        "threads": engine.model.threads,
        "gpu_layers": engine.model.gpu_layers,
        # Four significant digits: on a slow box a rate is 0.02 docs/s, and
        # four decimals would leave its ratio uncheckable from the rates.
        "engine_docs_per_s": float(f"{engine_rate:.4g}"),
        "bare_llama_cpp_docs_per_s": float(f"{bare_rate:.4g}"),
        "ratio_engine_to_bare": round(engine_rate / bare_rate, 3),
        "tokens_out_per_round": tokens,
    }


def naive_messages(stable: list[dict[str, str]]) -> list[dict[str, str]]:
    """The same prompt with the document first: nothing before it is shared
    from one document to the next, so llama.cpp reads the whole prompt again."""
    document = stable[-1]["content"]
    instructions = "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in stable[:-1])
    return [{"role": "user", "content": f"{document}\n\n{instructions}"}]


def prefix_reuse(docs: list[str], rounds: int) -> dict:
    """Docs/s with the stable prefix (instructions and examples first, document
    last) against a naive prompt (document first), same model, same run."""
    settings = config.Config(home=Path(tempfile.mkdtemp()), source=None)
    engine = TriageEngine(settings)
    llama = bare_llama(settings, engine.model.threads, engine.model.gpu_layers)
    response_format = {"type": "json_object", "schema": engine.schema}
    stable = [engine.messages(text) for text in docs]
    variants = {"stable_prefix": stable, "naive": [naive_messages(m) for m in stable]}
    max_tokens = 48  # the prompt is what differs: keep the answers short and equal

    def run(prompts: list[list[dict[str, str]]]) -> int:
        tokens = 0
        for messages in prompts:
            out = llama.create_chat_completion(
                messages,
                response_format=response_format,
                max_tokens=max_tokens,
                temperature=0.0,
            )
            tokens += out["usage"]["prompt_tokens"]
        return tokens

    run(stable[:1])  # warm: the stable prefix enters the KV cache
    times: dict[str, list[float]] = {name: [] for name in variants}
    prompt_tokens: dict[str, int] = {}
    for _ in range(rounds):
        for name, prompts in variants.items():
            started = time.perf_counter()
            prompt_tokens[name] = run(prompts)
            times[name].append(time.perf_counter() - started)
    rates = {name: len(docs) / statistics.median(t) for name, t in times.items()}
    return {
        "figure": "prefix reuse (demo documents, answers cut at 48 tokens)",
        "docs": len(docs),
        "rounds": rounds,
        "stable_prefix_docs_per_s": round(rates["stable_prefix"], 3),
        "naive_prompt_docs_per_s": round(rates["naive"], 3),
        "ratio_stable_to_naive": round(rates["stable_prefix"] / rates["naive"], 3),
        "prompt_tokens_per_round": prompt_tokens,
    }
