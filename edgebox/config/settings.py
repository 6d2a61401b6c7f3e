"""`Config`: the settings one box runs on, as `load()` builds them once from
edgebox.toml and the EDGEBOX_* overrides and every part of edgebox is given."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from edgebox.config.sections import (
    DEFAULT_CATEGORIES,
    DEFAULT_URGENCY,
    AlertsConfig,
    IndexConfig,
    IngestConfig,
    ModelConfig,
    PathsConfig,
    RetentionConfig,
    SyncConfig,
    TriageConfig,
    UiConfig,
)
from edgebox.errors import ConfigError


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
    bundle_version: int = 0
    """The centre's signed bundle laid over these settings (its rules,
    taxonomy, `[triage]` keys), so that each result can name it; 0: none."""
    sync_off: str = ""
    """Why sync is off although it was set up (a token or URL that cannot
    work), so that `edgebox sync` says that, not "set [sync] url"; else empty."""
    unbundled: Config | None = field(default=None, compare=False, repr=False)
    """These settings before the bundle was laid over them (None: no bundle
    is): a running service lays the next bundle over these, so that a key the
    old bundle set and the new one does not falls back to the box's own."""

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
