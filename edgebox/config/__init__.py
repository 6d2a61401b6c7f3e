"""Settings: one `edgebox.toml` read into frozen dataclasses, each key declared
once (`sections.py`).

All state lives under one home folder: `EDGEBOX_HOME`, else `~/edgebox`. The file
`<home>/edgebox.toml` is optional (defaults apply without it); `edgebox init`
writes a commented one. Relative paths in it are relative to the home folder.
`EDGEBOX_<SECTION>_<KEY>` environment variables override single keys, for
example `EDGEBOX_MODEL_THREADS=2`. Every bad value names where it came from:
its key and the file, or the environment variable that set it.
"""

from edgebox.config.loader import home_dir, load
from edgebox.config.render import render_default, render_reference
from edgebox.config.sections import (
    CONFIG_NAME,
    DEFAULT_CATEGORIES,
    DEFAULT_URGENCY,
    MAX_BATCH_RECORDS,
    RETIRED,
    SECTIONS,
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
from edgebox.config.settings import Config

__all__ = [
    "CONFIG_NAME",
    "DEFAULT_CATEGORIES",
    "DEFAULT_URGENCY",
    "MAX_BATCH_RECORDS",
    "RETIRED",
    "SECTIONS",
    "AlertsConfig",
    "Config",
    "IndexConfig",
    "IngestConfig",
    "ModelConfig",
    "PathsConfig",
    "RetentionConfig",
    "SyncConfig",
    "TriageConfig",
    "UiConfig",
    "home_dir",
    "load",
    "render_default",
    "render_reference",
]
