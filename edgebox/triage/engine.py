"""The triage engine: red-flag rules, learned classifiers and the local LLM.

The rules read danger signs and vital-sign thresholds; the learned models
(trained on what staff reviewed, see `edgebox.learn`) vote category and
urgency with a calibrated probability; the LLM writes the summary and the
fields, and votes the labels only while the learned models lack data.
`combine.decide` turns the votes into the result, the same function
`edgebox eval` measures.

Rules only raise urgency. A failure of the model (deadline, invalid output,
model error) fails closed: without a learned model the urgency is "unknown"
(or what the rules found), always sent to review, never "routine".
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from jsonschema import Draft202012Validator

from edgebox.clinical.redflags import Finding, RuleSet, highest_level, load_rules
from edgebox.clinical.vitals import Vitals, parse_vitals
from edgebox.config import Config
from edgebox.errors import ConfigError, TriageError
from edgebox.learn.classifiers import LearnedModels, Prediction
from edgebox.triage.combine import Decision, Votes, decide
from edgebox.triage.grounding import (
    MIN_SUPPORTED,
    copied_example,
    document_language,
    ground_fields,
    red_flags,
    repeats_itself,
    supported_share,
    unsupported_numbers,
    vital_fields,
)
from edgebox.triage.llm import ChatOutput, LlamaModel
from edgebox.triage.manifest import llm_vote_tasks, summary_mode
from edgebox.triage.prompt import (
    FIELD_NAMES,
    PROMPT_VERSION,
    build_messages,
    output_schema,
    strip_think,
    worked_examples,
)
from edgebox.triage.summaries import (
    extractive_summary,
    invented_terms,
    unnamed_danger_signs,
)
from edgebox.vocabulary import Urgency

__all__ = ["TriageEngine", "TriageResult", "ground_fields"]

# Room kept free in the context window besides the prompt and the answer.
_CONTEXT_MARGIN = 64
MIN_DOCUMENT_TOKENS = 128
"""Fewer tokens left for the document than this: the context is too small."""


@dataclass
class TriageResult:
    category: str | None
    urgency: str
    summary: str
    red_flags: list[dict[str, Any]]
    fields: dict[str, str]
    language: str
    needs_review: bool
    review_reasons: list[str]
    sources: dict[str, str]
    provenance: dict[str, Any]
    confidence: float | None = None
    """The weakest field's calibrated confidence; None when a label has none
    (the LLM's labels and rule-raised urgency are not calibrated)."""
    error: str | None = None
    provisional: bool = False
    """From the fast stage (rules, vital signs, learned models; no LLM): the
    LLM stage's result replaces it."""

    def to_record(self) -> dict[str, Any]:
        """The columns of a triage revision (review reasons kept in provenance)."""
        record = asdict(self)
        record["provenance"] = self.provenance | {"review_reasons": self.review_reasons}
        del record["review_reasons"]
        return record

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {
            "model": self.provenance.get("model"),
            "unread_pages": self.provenance.get("unread_pages", []),
        }


@dataclass
class _Answer:
    """The model's answer after parsing and validation."""

    category: str
    urgency: str
    summary: str
    red_flags: list[str]
    fields: dict[str, str] = field(default_factory=dict)


class TriageEngine:
    """Loads the model once; triages one document's text at a time."""

    def __init__(
        self,
        config: Config,
        *,
        model: LlamaModel | None = None,
        rules: RuleSet | None = None,
        learned: LearnedModels | None = None,
        lazy_model: bool = False,
        llm_votes: str | None = None,
        review_cut: float | None = None,
    ) -> None:
        """`lazy_model` loads the GGUF only when a document needs it (eval);
        `llm_votes` "fallback" lets the LLM vote labels only for a task with no
        learned model, "always" also when there is one (for larger GGUFs)."""
        self.config = config
        self._model = model
        self.rules = rules or load_rules(config.rules_path)
        settings = config.triage
        self.learned = learned or LearnedModels(
            config.data_dir, min_examples=settings.min_examples
        )
        self.llm_votes = llm_votes or settings.llm_votes
        self.review_cut = review_cut if review_cut is not None else settings.review_cut
        self.categories = frozenset(config.categories)
        """The labels a learned category vote may give (eval: the data's own)."""
        self.schema = output_schema(config.categories)
        self._validator = Draft202012Validator(self.schema)
        self._prefix_tokens: int | None = None
        self.summary_mode = summary_mode(config.models_dir, config.model.file)
        """"extractive": the model's summary is never shown (manifest setting)."""
        self.llm_may_vote = llm_vote_tasks(config.models_dir, config.model.file)
        """The tasks whose label the LLM may vote (its manifest record); the
        vote check (`edgebox eval --votes`) sets every task to measure them."""
        if not lazy_model:
            self._document_budget()

    def with_config(self, config: Config) -> TriageEngine:
        """This engine on other settings (a new bundle's rules, taxonomy and
        `[triage]` keys), keeping the loaded LLM: a switch costs no reload."""
        same_learned = config.triage.min_examples == self.config.triage.min_examples
        return TriageEngine(
            config,
            model=self._model,
            learned=self.learned if same_learned else None,
            lazy_model=self._model is None,
        )

    @property
    def model(self) -> LlamaModel:
        if self._model is None:
            self._model = LlamaModel(
                self.config.model_path,
                n_ctx=self.config.model.n_ctx,
                threads=self.config.model.threads,
                gpu_layers=self.config.model.gpu_layers,
                chat_format=self.config.model.chat_format,
                lock=self.config.model.lock,
            )
        return self._model

    def messages(self, text: str) -> list[dict[str, str]]:
        """The chat messages for a document (after fitting it into the context)."""
        return build_messages(
            self.fit(text),
            categories=self.config.categories,
            urgency=self.config.urgency,
            language=self.config.triage.language,
        )

    def fit(self, text: str) -> str:
        """The document cut to its head and tail when it is too long for the context."""
        budget = self._document_budget()
        tokens = self.model.tokenize(text)
        if len(tokens) <= budget:
            return text
        head = budget * 2 // 3
        tail = budget - head - 16
        omitted = len(tokens) - head - tail
        return (
            self.model.detokenize(tokens[:head])
            + f"\n[... {omitted} tokens omitted ...]\n"
            + self.model.detokenize(tokens[-tail:])
        )

    def _document_budget(self) -> int:
        """Tokens left for the document; a context too small to hold a useful
        part of one is a configuration error, said once, not a garbled cut."""
        if self._prefix_tokens is None:
            self._prefix_tokens = self._count_prefix_tokens()
        n_ctx, answer = self.model.n_ctx, self.config.model.max_tokens
        budget = n_ctx - self._prefix_tokens - answer - _CONTEXT_MARGIN
        if budget < MIN_DOCUMENT_TOKENS:
            raise ConfigError(
                f"[model] n_ctx = {n_ctx} leaves {max(budget, 0)} tokens for the"
                f" document after the prompt ({self._prefix_tokens}) and the answer"
                f" (max_tokens = {answer}); raise n_ctx or lower max_tokens"
            )
        return budget

    def fast(
        self, text: str, *, unread_pages: Sequence[dict[str, Any]] = ()
    ) -> TriageResult:
        """The fast stage: rules, vital signs and learned models, in
        milliseconds, so that an emergency shows before the LLM's turn."""
        result = self.triage(text, summary=False, tasks=(), unread_pages=unread_pages)
        result.provisional = True
        return result

    def triage(
        self,
        text: str,
        *,
        timeout_s: float | None = None,
        summary: bool = True,
        tasks: tuple[str, ...] = ("category", "urgency"),
        cancel: threading.Event | None = None,
        unread_pages: Sequence[dict[str, Any]] = (),
    ) -> TriageResult:
        """Triage one document's text. Never raises for a bad model answer;
        raises `Cancelled` when `cancel` is set while the model answers.

        `unread_pages` ({"page", "reason"}, from extraction) are pages whose
        text is missing: a person reads the original, and the document is not
        called routine on the part that could be read.

        `summary=False` (eval) skips the LLM when learned models cover the
        labels in `tasks`: those labels are then exactly what a full triage
        would give, since the LLM votes only for a task with no learned model.
        """
        timeout = self.config.model.timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + timeout
        vitals = parse_vitals(text)
        findings = self.rules.findings(text, vitals)
        injection = self.rules.injection_attempt(text)
        answer: _Answer | None = None
        output: ChatOutput | None = None
        error: str | None = None
        if not text.strip():
            learned: dict[str, Prediction | None] = {"category": None, "urgency": None}
            error = "the document has no text"
        else:
            learned = self._learned_votes(text)
        if not error and (summary or any(self._llm_needed(learned, t) for t in tasks)):
            try:
                output = self.model.chat_json(
                    self.messages(text),
                    schema=self.schema,
                    max_tokens=self.config.model.max_tokens,
                    deadline=deadline,
                    cancel=cancel,
                )
                answer = self._parse(output)
            except TriageError as exc:
                error = str(exc)
        votes = self._votes(findings, learned, answer, injection)
        decision = decide(votes, review_cut=self.review_cut)
        if error:
            # Fail closed: no answer leaves the rules and the learned models,
            # else "unknown"; never "routine" for want of an answer.
            decision.flag("document", f"triage failed: {error}")
        if unread_pages:
            _unread(decision, unread_pages)
        summary, rejected = self._summary(answer, decision, text, vitals, findings)
        result = self._result(
            decision, votes, answer, output, text, vitals, findings, injection, error,
            summary=(summary, rejected),
        )  # fmt: skip
        if unread_pages:
            result.provenance["unread_pages"] = list(unread_pages)
        return result

    def _summary(
        self,
        answer: _Answer | None,
        decision: Decision,
        text: str,
        vitals: Vitals,
        findings: list[Finding],
    ) -> tuple[str, str | None]:
        """The summary to show, and the model's when it was rejected. Without
        a model summary to show, the document's key sentences stand in."""
        extract = extractive_summary(text, findings, vitals)
        if answer is None or self.summary_mode == "extractive":
            return extract, None
        doubt = self._summary_doubt(answer.summary, text, findings)
        if doubt is None:
            return answer.summary, None
        # A summary about something else is worse than none: the document's own
        # key sentences replace it, and a person is asked to look.
        decision.flag("summary", doubt)
        return extract, answer.summary

    def _summary_doubt(
        self, summary: str, text: str, findings: list[Finding]
    ) -> str | None:
        """Why the model's summary cannot be shown as it is, or None."""
        invented = unsupported_numbers(summary, text)
        if invented:
            return (
                "the model's summary stated numbers the document does not"
                " contain: " + ", ".join(invented[:5])
            )
        if repeats_itself(summary):
            return "the model's summary repeats itself"
        off_topic = self._off_topic(summary, text)
        if off_topic:
            return off_topic
        terms = invented_terms(summary, text, findings)
        if terms:
            return "the model's summary stated what the document does not: " + (
                ", ".join(terms[:5])
            )
        unnamed = unnamed_danger_signs(summary, findings)
        if unnamed:
            return "the model's summary leaves out danger signs: " + ", ".join(unnamed)
        return None

    def _off_topic(self, summary: str, text: str) -> str | None:
        """Whether the summary describes another document (a worked example)."""
        if document_language(text) != self.config.triage.language:
            # A French letter summarised in English shares few words with it;
            # what can still be told is a worked example's summary, copied.
            if copied_example(summary, text, worked_examples()):
                return "the model's summary is one of its worked examples'"
            return None
        share = supported_share(summary, text)
        if share is not None and share < MIN_SUPPORTED:
            return (
                f"the model's summary is mostly not in the document (only"
                f" {share:.0%} of its words are)"
            )
        return None

    def _learned_votes(self, text: str) -> dict[str, Prediction | None]:
        votes: dict[str, Prediction | None] = {}
        for task in ("category", "urgency"):
            model = self.learned.get(task)
            votes[task] = model.predict([text])[0] if model else None
        dropped = votes["category"]
        if dropped is not None and dropped.label not in self.categories:
            # A category the taxonomy has lost since the model learned it (it
            # retrains without it once enough reviews allow): the LLM decides.
            votes["category"] = None
        return votes

    def _llm_needed(self, learned: dict[str, Prediction | None], task: str) -> bool:
        """Whether the LLM's label votes for this task: it has earned a vote
        (manifest), and fills in for a missing learned model (or always)."""
        if task not in self.llm_may_vote:
            return False
        return learned[task] is None or self.llm_votes == "always"

    def _votes(
        self,
        findings: list[Finding],
        learned: dict[str, Prediction | None],
        answer: _Answer | None,
        injection: str | None,
    ) -> Votes:
        def llm(task: str) -> str | None:
            if answer is None or not self._llm_needed(learned, task):
                return None
            return getattr(answer, task)

        return Votes(
            rules=highest_level(findings),
            learned_category=learned["category"],
            learned_urgency=learned["urgency"],
            llm_category=llm("category"),
            llm_urgency=llm("urgency"),
            injection=injection is not None,
        )

    def _result(
        self,
        decision: Decision,
        votes: Votes,
        answer: _Answer | None,
        output: ChatOutput | None,
        text: str,
        vitals: Vitals,
        findings: list[Finding],
        injection: str | None,
        error: str | None,
        *,
        summary: tuple[str, str | None],
    ) -> TriageResult:
        """`summary`: the one to show, and the model's when it was rejected."""
        shown, rejected = summary
        written_by = (
            "llm"
            if answer and rejected is None and shown == answer.summary
            else "document"
        )
        sources = decision.sources | {"summary": written_by}
        fields = ground_fields(answer.fields, text) if answer else {}
        provenance = self._provenance(output) | {
            "field_confidence": decision.confidence,
            "votes": _votes_record(votes, answer),
            "learned": self._learned_record(),
            "review_about": sorted(decision.review),
        }
        if rejected is not None:
            provenance["rejected_summary"] = rejected
        return TriageResult(
            category=decision.category,
            urgency=decision.urgency,
            summary=shown,
            red_flags=red_flags(
                findings, injection, answer.red_flags if answer else [], text
            ),
            fields=fields | vital_fields(vitals),
            # The summary's language: the document's own when its sentences
            # stand in for the model's summary.
            language=(
                self.config.triage.language
                if written_by == "llm"
                else document_language(text)
            ),
            needs_review=decision.needs_review,
            review_reasons=decision.review_reasons,
            sources=sources,
            provenance=provenance,
            confidence=decision.overall_confidence,
            error=error,
        )

    def _parse(self, output: ChatOutput) -> _Answer:
        text = strip_think(output.text)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            hint = (
                " (answer cut at max_tokens)"
                if output.finish_reason == "length"
                else ""
            )
            raise TriageError(f"the model's answer is not valid JSON{hint}") from exc
        errors = sorted(self._validator.iter_errors(data), key=str)
        if errors:
            raise TriageError(
                f"the model's answer breaks the schema: {errors[0].message}"
            )
        return _Answer(
            category=data["category"],
            urgency=data["urgency"],
            summary=" ".join(data["summary"].split()),
            red_flags=[flag.strip() for flag in data["red_flags"] if flag.strip()],
            fields={name: data[name].strip() for name in FIELD_NAMES},
        )

    def _provenance(self, output: ChatOutput | None) -> dict[str, Any]:
        model = self._model
        return {
            "model": model.name if model else self.config.model_path.name,
            "model_sha256": model.sha256 if model else None,
            "prompt_version": PROMPT_VERSION,
            "rules_version": self.rules.version,
            "gpu_layers": model.gpu_layers if model else None,
            "latency_s": round(output.latency_s, 3) if output else None,
            "tokens_in": output.tokens_in if output else 0,
            "tokens_out": output.tokens_out if output else 0,
            # The centre's bundle in use: drift is counted per version.
            **(
                {"bundle_version": self.config.bundle_version}
                if self.config.bundle_version
                else {}
            ),
        }

    def _learned_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {}
        for task in ("category", "urgency"):
            source, model = self.learned.chosen(task)
            # "own" (this box's reviews) or "central" (the bundle's model)
            record[task] = model.describe() | {"source": source} if model else None
        return record

    def _count_prefix_tokens(self) -> int:
        messages = build_messages(
            "",
            categories=self.config.categories,
            urgency=self.config.urgency,
            language=self.config.triage.language,
        )
        # The chat template adds a few tokens per message around the contents.
        return sum(len(self.model.tokenize(m["content"])) + 8 for m in messages)


def unread_note(pages: list[dict[str, Any]]) -> str:
    """One line naming unread pages by reason: "pages 2, 3 (OCR not available)"."""
    by_reason: dict[str, list[str]] = {}
    for page in pages:
        by_reason.setdefault(page["reason"], []).append(str(page["page"]))
    return "; ".join(
        f"page{'s' if len(numbers) > 1 else ''} {', '.join(numbers)} ({reason})"
        for reason, numbers in by_reason.items()
    )


def _unread(decision: Decision, pages: Sequence[dict[str, Any]]) -> None:
    """Pages left unread may hold the emergency: a person reads the original,
    and what the rest says cannot make the document routine."""
    decision.flag(
        "document", f"not all pages could be read: {unread_note(list(pages))}"
    )
    if decision.urgency == Urgency.ROUTINE:
        decision.urgency = Urgency.UNKNOWN
        decision.sources["urgency"] = "unread-pages"


def _votes_record(votes: Votes, answer: _Answer | None) -> dict[str, Any]:
    """Every source's vote, kept for audit (the LLM's even when it did not count)."""

    def learned(p: Prediction | None) -> dict[str, Any] | None:
        return {"label": p.label, "confidence": round(p.confidence, 3)} if p else None

    return {
        "rules": votes.rules,
        "learned_category": learned(votes.learned_category),
        "learned_urgency": learned(votes.learned_urgency),
        "llm_category": answer.category if answer else None,
        "llm_urgency": answer.urgency if answer else None,
    }
