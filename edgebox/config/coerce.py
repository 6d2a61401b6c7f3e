"""Turning a TOML or environment value into a key's declared type. TOML values
must already have the type (`threads = "2"` is a mistake worth naming);
environment variables are text, so they are parsed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edgebox.errors import ConfigError


def coerce(value: Any, kind: Any, key: str, where: str) -> Any:
    """Turn a TOML or environment value into the declared type, or say why not."""
    from_env = where == "env"
    converter, wanted = _CONVERTERS[kind]
    try:
        return converter(value, from_env)
    except (TypeError, ValueError):
        pass
    if from_env:
        raise ConfigError(f"environment variable {key} must be {wanted}, got {value!r}")
    raise ConfigError(f"'{key}' must be {wanted}, got {value!r}, in {where}")


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


def expected(kind: Any) -> str:
    """A declared type in words, as a message says it ("an integer")."""
    if kind not in _CONVERTERS:
        raise TypeError(f"settings of type {kind} cannot be read: add a converter")
    return _CONVERTERS[kind][1]
