"""A GGUF model run through llama-cpp-python, loaded once and kept.

`llama_cpp` is imported inside the functions that need it: it loads a native
library, and the CLI's quick commands (init, status) should not pay for that.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgebox.errors import Cancelled, ModelError, TriageError
from edgebox.triage.cpu_quirks import extra_buffers_safe, model_params
from edgebox.triage.manifest import sha256_file
from edgebox.triage.model_lock import model_turn

GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True)
class ChatOutput:
    text: str
    tokens_in: int
    tokens_out: int
    latency_s: float
    finish_reason: str


class DeadlineExceeded(TriageError):
    """The model did not finish its answer before the document's deadline."""


def gpu_offload_supported() -> bool:
    """Whether this llama-cpp-python build can offload layers to a GPU."""
    import llama_cpp  # lazy: native library

    return bool(llama_cpp.llama_supports_gpu_offload())


def resolve_gpu_layers(setting: int | str, *, offload_supported: bool) -> int:
    """Layers to offload: "auto" means all of them when the build can, else none."""
    if setting == "auto":
        return -1 if offload_supported else 0
    return int(setting)


def check_gguf(path: Path) -> None:
    """Fail early, naming the file, when it is missing or not a GGUF at all."""
    if not path.is_file():
        raise ModelError(
            f"model file not found: {path} "
            "(run scripts/fetch-model, or set [model] file in edgebox.toml)"
        )
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic != GGUF_MAGIC:
        raise ModelError(f"{path} is not a GGUF model file (it starts with {magic!r})")


class LlamaModel:
    """One loaded GGUF model and the settings it was loaded with."""

    def __init__(
        self,
        path: Path,
        *,
        n_ctx: int,
        threads: int = 0,
        gpu_layers: int | str = "auto",
        chat_format: str = "",
        lock: Path | None = None,
    ) -> None:
        """`lock`: the machine's model lock file (see `model_lock`); None runs
        unguarded (a test that owns the machine)."""
        check_gguf(path)
        import llama_cpp  # lazy: native library

        self.path = path
        self.lock = lock
        self.threads = threads or os.cpu_count() or 1
        self.gpu_layers = resolve_gpu_layers(
            gpu_layers, offload_supported=gpu_offload_supported()
        )
        self.extra_buffers = extra_buffers_safe()
        try:
            with model_params(extra_buffers=self.extra_buffers):
                self._llama = llama_cpp.Llama(
                    model_path=str(path),
                    n_ctx=n_ctx,
                    n_threads=self.threads,
                    n_threads_batch=self.threads,
                    n_gpu_layers=self.gpu_layers,
                    chat_format=chat_format or None,
                    verbose=False,
                )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(
                f"cannot load the model {path}: {exc} "
                "(a damaged or truncated file, or an architecture this llama.cpp "
                "build does not know)"
            ) from exc
        self.sha256 = sha256_file(path)
        self.n_ctx = n_ctx

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def metadata(self) -> dict[str, str]:
        return dict(self._llama.metadata)

    def tokenize(self, text: str) -> list[int]:
        return self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=False)

    def detokenize(self, tokens: list[int]) -> str:
        return self._llama.detokenize(tokens).decode("utf-8", errors="ignore")

    def chat_json(
        self,
        messages: list[dict[str, str]],
        *,
        schema: dict[str, Any],
        max_tokens: int,
        deadline: float | None = None,
        cancel: threading.Event | None = None,
    ) -> ChatOutput:
        """One chat completion whose answer is constrained to the JSON schema.

        `deadline` is a `time.monotonic()` instant; `cancel` is set when the
        service stops, so a stop does not wait out a large model's answer.
        llama.cpp cannot stop while it reads the prompt, so both are checked as
        each new token arrives (the answer is streamed for that reason alone).
        """
        if self.lock is None:
            return self._chat_json(messages, schema, max_tokens, deadline, cancel)
        with model_turn(self.lock, cancel=cancel) as waited:
            # Another process's turn is not this document's time.
            later = None if deadline is None else deadline + waited
            return self._chat_json(messages, schema, max_tokens, later, cancel)

    def _chat_json(
        self,
        messages: list[dict[str, str]],
        schema: dict[str, Any],
        max_tokens: int,
        deadline: float | None,
        cancel: threading.Event | None,
    ) -> ChatOutput:
        started = time.monotonic()
        pieces: list[str] = []
        finish_reason = ""
        try:
            stream: Any = self._llama.create_chat_completion(
                messages,
                response_format={"type": "json_object", "schema": schema},
                max_tokens=max_tokens,
                temperature=0.0,
                stream=True,
            )
            for chunk in stream:
                choice = chunk["choices"][0]
                if content := choice["delta"].get("content"):
                    pieces.append(content)
                finish_reason = choice.get("finish_reason") or finish_reason
                if cancel is not None and cancel.is_set():
                    stream.close()
                    raise Cancelled("stopped while the model was answering")
                if deadline is not None and time.monotonic() > deadline:
                    stream.close()
                    raise DeadlineExceeded(
                        f"the model did not answer within its deadline "
                        f"({time.monotonic() - started:.2f} s)"
                    )
        except (ValueError, RuntimeError) as exc:
            raise TriageError(f"the model failed: {exc}") from exc
        # One streamed piece per generated token; llama.cpp's context position
        # then counts the prompt and the answer together.
        return ChatOutput(
            text="".join(pieces),
            tokens_in=self._llama.n_tokens - len(pieces),
            tokens_out=len(pieces),
            latency_s=time.monotonic() - started,
            finish_reason=finish_reason,
        )
