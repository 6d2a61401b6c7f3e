"""What a box takes from an unpacked bundle, and the try before it switches.

The same readers serve both: `try_bundle` runs them on a freshly verified
bundle (rules load, taxonomy and settings parse, the models load and predict
on a few documents, never the LLM) and refuses it with the reason; `applied`
runs them on `bundles/current` each time the settings are built, so that the
triage engine, the UI and the CLI see the centre's rules, taxonomy and
`[triage]` settings without knowing bundles exist. An environment variable
still wins over a bundle's setting: it is the box operator's explicit choice.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from edgebox.config import Config, TriageConfig
from edgebox.config.declare import keys_of
from edgebox.errors import BundleError, ConfigError
from edgebox.service.bundle_format import (
    MODEL_FILES,
    RULES,
    SETTINGS,
    SETTINGS_KEYS,
    TAXONOMY,
)
from edgebox.vocabulary import LANGUAGES, Urgency

log = logging.getLogger(__name__)

PROBE_TEXTS = (
    "Triage note. 34-year-old female. Chief complaint: fever and cough for"
    " three days. Vitals: BP 118/76, HR 96/min, SpO2 97%.",
    "Referral letter: please see this 60-year-old man for review of his"
    " diabetes and blood pressure.",
)
"""What the models predict on when the box holds no document text yet."""


def try_bundle(folder: Path, manifest: Mapping[str, Any], texts: Sequence[str]) -> None:
    """Use everything the bundle holds once, as triage would; BundleError with
    the reason when any part fails."""
    _check_sklearn(folder, manifest)
    rules_file(folder)
    taxonomy(folder)
    settings(folder)
    from edgebox.learn.classifiers import load

    for task, name in MODEL_FILES.items():
        if not (folder / name).is_file():
            continue
        model = load(folder, task)
        if model is None:
            raise BundleError(
                f"its {task} model does not load on this box (another edgebox"
                " learning version, or a damaged model)"
            )
        try:
            model.predict(list(texts) or list(PROBE_TEXTS))
        except Exception as exc:  # noqa: BLE001 - any failure refuses the bundle
            raise BundleError(f"its {task} model fails to predict: {exc}") from exc


def _check_sklearn(folder: Path, manifest: Mapping[str, Any]) -> None:
    """Before anything is unpickled: a model pickled by another scikit-learn
    may load wrongly or not at all."""
    if not any((folder / name).is_file() for name in MODEL_FILES.values()):
        return
    wanted = manifest.get("sklearn_version")
    try:
        import sklearn
    except ImportError:
        raise BundleError(
            f"its models need scikit-learn {wanted}, which this box lacks"
        ) from None
    if wanted != sklearn.__version__:
        raise BundleError(
            f"its models were built with scikit-learn {wanted}; this box runs"
            f" {sklearn.__version__} (the centre must build them with the same"
            " version)"
        )


def rules_file(folder: Path) -> Path | None:
    """The bundle's red-flag rule file, checked, or None when it has none."""
    path = folder / RULES
    if not path.is_file():
        return None
    from edgebox.clinical.redflags import load_rules

    try:
        load_rules(path)
    except ConfigError as exc:
        raise BundleError(f"its red-flag rules do not load: {exc}") from exc
    return path


def taxonomy(folder: Path) -> dict[str, dict[str, str]]:
    """`categories` and `urgency` tables from the bundle (either may be absent)."""
    raw = _toml(folder / TAXONOMY)
    found: dict[str, dict[str, str]] = {}
    for name in ("categories", "urgency"):
        table = raw.pop(name, None)
        if table is None:
            continue
        if not isinstance(table, dict) or not table or not all(
            isinstance(v, str) and v.strip() and k == k.lower()
            and k.replace("_", "").isalnum()
            for k, v in table.items()
        ):  # fmt: skip
            raise BundleError(
                f"its {TAXONOMY} [{name}] must map lower-case labels to descriptions"
            )
        found[name] = dict(table)
    if raw:
        raise BundleError(f"its {TAXONOMY} has an unknown table {next(iter(raw))!r}")
    if "urgency" in found and set(found["urgency"]) != set(Urgency.levels()):
        raise BundleError(f"its {TAXONOMY} [urgency] must name exactly the levels")
    return found


def settings(folder: Path) -> dict[str, Any]:
    """The `[triage]` keys the bundle sets, each checked for type and range."""
    raw = _toml(folder / SETTINGS)
    triage = raw.pop("triage", {})
    if raw or not isinstance(triage, dict):
        raise BundleError(f"its {SETTINGS} may hold only a [triage] table")
    for key, value in triage.items():
        kind = SETTINGS_KEYS.get(key)
        if kind is None:
            raise BundleError(f"its {SETTINGS} sets [triage] {key}, not allowed")
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = triage[key] = float(value)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise BundleError(f"its {SETTINGS} [triage] {key} must be {kind.__name__}")
        if _out_of_range(key, value):
            raise BundleError(f"its {SETTINGS} [triage] {key} is out of range")
    if triage.get("llm_votes", "fallback") not in ("fallback", "always"):
        raise BundleError(f"its {SETTINGS} [triage] llm_votes must be fallback|always")
    if triage.get("language", "en") not in LANGUAGES:
        raise BundleError(f"its {SETTINGS} [triage] language is not one edgebox has")
    return triage


def _out_of_range(name: str, value: float) -> bool:
    """Whether a `[triage]` value is outside the range its key declares."""
    for declared in keys_of("triage", TriageConfig):
        if declared.name == name and declared.key.limited:
            least, most = declared.key.least, declared.key.most
            return (least is not None and value < least) or (
                most is not None and value > most
            )
    return False


def _toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"its {path.name} is not valid TOML: {exc}") from exc


def applied(config: Config, folder: Path | None) -> Config:
    """`config` with the bundle in `folder` laid over it; unchanged (and a
    warning logged) when there is none or it cannot be read."""
    if folder is None:
        return config
    try:
        rules, table, values = rules_file(folder), taxonomy(folder), settings(folder)
    except BundleError as exc:
        log.warning("the bundle in use is ignored: %s", exc)
        return config
    mine = {
        key: value
        for key, value in values.items()
        if f"EDGEBOX_TRIAGE_{key.upper()}" not in os.environ
    }
    if rules is not None:
        mine["rules"] = rules.resolve()
    return dataclasses.replace(
        config,
        triage=dataclasses.replace(config.triage, **mine),
        categories=table.get("categories", config.categories),
        urgency={
            level: table.get("urgency", config.urgency)[level]
            for level in Urgency.levels()
        },
    )
