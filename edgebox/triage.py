"""The triage engine: the local LLM and the red-flag rules, combined.

Rules only raise urgency. Any failure of the model (deadline, invalid output,
model error) fails closed: urgency "unknown", sent to review, sorted with the
urgent documents, never "routine".
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from jsonschema import Draft202012Validator

from edgebox.config import Config
from edgebox.errors import TriageError
from edgebox.llm import ChatOutput, LlamaModel
from edgebox.prompt import (
    FIELD_NAMES,
    PROMPT_VERSION,
    build_messages,
    output_schema,
    strip_think,
)
from edgebox.redflags import LEVEL_RANK, Finding, RuleSet, highest_level, load_rules

UNKNOWN = "unknown"
# Room kept free in the context window besides the prompt and the answer.
_CONTEXT_MARGIN = 64


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
    """Not calibrated yet in this first engine: None rather than a made-up number."""
    error: str | None = None

    def to_record(self) -> dict[str, Any]:
        """The columns of a triage revision (review reasons kept in provenance)."""
        record = asdict(self)
        record["provenance"] = self.provenance | {"review_reasons": self.review_reasons}
        del record["review_reasons"]
        return record

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"model": self.provenance.get("model")}


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
    ) -> None:
        self.config = config
        self.model = model or LlamaModel(
            config.model_path,
            n_ctx=config.model.n_ctx,
            threads=config.model.threads,
            gpu_layers=config.model.gpu_layers,
            chat_format=config.model.chat_format,
        )
        self.rules = rules or load_rules(config.rules_path)
        self.schema = output_schema(config.categories)
        self._validator = Draft202012Validator(self.schema)
        self._prefix_tokens = self._count_prefix_tokens()

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
        budget = (
            self.model.n_ctx
            - self._prefix_tokens
            - self.config.model.max_tokens
            - _CONTEXT_MARGIN
        )
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

    def triage(self, text: str, *, timeout_s: float | None = None) -> TriageResult:
        """Triage one document's text. Never raises for a bad model answer."""
        timeout = self.config.model.timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + timeout
        findings = self.rules.findings(text)
        injection = self.rules.injection_attempt(text)
        if not text.strip():
            return self._fail_closed("the document has no text", findings, injection)
        try:
            output = self.model.chat_json(
                self.messages(text),
                schema=self.schema,
                max_tokens=self.config.model.max_tokens,
                deadline=deadline,
            )
            answer = self._parse(output)
        except TriageError as exc:
            return self._fail_closed(str(exc), findings, injection)
        return self._combine(answer, output, text, findings, injection)

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

    def _combine(
        self,
        answer: _Answer,
        output: ChatOutput,
        text: str,
        findings: list[Finding],
        injection: str | None,
    ) -> TriageResult:
        urgency, urgency_source = answer.urgency, "llm"
        rule_level = highest_level(findings)
        reasons: list[str] = []
        if rule_level and LEVEL_RANK[rule_level] > LEVEL_RANK[urgency]:
            urgency, urgency_source = rule_level, "rules"
            reasons.append(f"red-flag rules raised urgency from {answer.urgency}")
        if injection:
            reasons.append("the document contains instructions to the triage system")
            if urgency == "routine":
                # The model may have obeyed the document: do not trust its "routine".
                urgency, urgency_source = "urgent", "injection-guard"
        if urgency == "emergency":
            reasons.append("emergency: a person confirms every emergency")
        return TriageResult(
            category=answer.category,
            urgency=urgency,
            summary=answer.summary,
            red_flags=_red_flags(findings, injection, answer.red_flags, text),
            fields=ground_fields(answer.fields, text),
            language=self.config.triage.language,
            needs_review=bool(reasons),
            review_reasons=reasons,
            sources={"category": "llm", "urgency": urgency_source},
            provenance=self._provenance(output),
        )

    def _fail_closed(
        self, error: str, findings: list[Finding], injection: str | None
    ) -> TriageResult:
        rule_level = highest_level(findings)
        reasons = [f"triage failed: {error}"]
        if injection:
            reasons.append("the document contains instructions to the triage system")
        return TriageResult(
            category=None,
            urgency=rule_level or UNKNOWN,
            summary="",
            red_flags=_red_flags(findings, injection, [], ""),
            fields={},
            language=self.config.triage.language,
            needs_review=True,
            review_reasons=reasons,
            sources={"category": "none", "urgency": "rules" if rule_level else "none"},
            provenance=self._provenance(None),
            error=error,
        )

    def _provenance(self, output: ChatOutput | None) -> dict[str, Any]:
        return {
            "model": self.model.name,
            "model_sha256": self.model.sha256,
            "prompt_version": PROMPT_VERSION,
            "rules_version": self.rules.version,
            "gpu_layers": self.model.gpu_layers,
            "latency_s": round(output.latency_s, 3) if output else None,
            "tokens_in": output.tokens_in if output else 0,
            "tokens_out": output.tokens_out if output else 0,
        }

    def _count_prefix_tokens(self) -> int:
        messages = build_messages(
            "",
            categories=self.config.categories,
            urgency=self.config.urgency,
            language=self.config.triage.language,
        )
        # The chat template adds a few tokens per message around the contents.
        return sum(len(self.model.tokenize(m["content"])) + 8 for m in messages)


def _red_flags(
    findings: list[Finding], injection: str | None, llm_flags: list[str], text: str
) -> list[dict[str, Any]]:
    """Rule findings first, then the model's flags that the document really says
    (a small model repeats the flags of its worked examples)."""
    flags = [finding.as_red_flag() for finding in findings]
    if injection:
        flags.append(
            {
                "sign": "instructions inside the document (ignored)",
                "level": None,
                "source": "rules",
                "evidence": injection,
            }
        )
    seen = {str(flag["evidence"]).lower() for flag in flags}
    lowered = text.lower()
    for flag in llm_flags:
        if flag.lower() in lowered and flag.lower() not in seen:
            seen.add(flag.lower())
            flags.append({"sign": flag, "level": None, "source": "llm"})
    return flags


_FEMALE = re.compile(
    r"\b(woman|female|girl|she|her|pregnant|mrs|femme|fille|enceinte|mme|f)\b", re.I
)
_MALE = re.compile(r"\b(man|male|boy|he|his|mr|homme|gar[çc]on|m)\b", re.I)


def ground_fields(fields: dict[str, str], text: str) -> dict[str, str]:
    """Keep only the fields the document itself supports.

    A small model copies values from its worked examples; a value that does not
    appear in the document is dropped rather than reported.
    """
    lowered = text.lower()
    grounded: dict[str, str] = {}
    for name in ("patient_ref", "date", "facility"):
        value = fields.get(name, "")
        if value and value.lower() in lowered:
            grounded[name] = value
    age = fields.get("age", "")
    numbers = re.findall(r"\d+", age)
    if numbers and all(re.search(rf"\b{n}\b", text) for n in numbers):
        grounded["age"] = age
    grounded["sex"] = _sex(fields.get("sex", "unknown"), text)
    return grounded


def _sex(model_value: str, text: str) -> str:
    female, male = bool(_FEMALE.search(text)), bool(_MALE.search(text))
    if female != male:
        return "female" if female else "male"
    return model_value if female and male else "unknown"
