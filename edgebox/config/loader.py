"""`load()`: edgebox.toml plus the EDGEBOX_* overrides, read into `Config` and
checked against the declaration in `sections.py`.

Every bad value names where it came from: its key and the file, or the
environment variable that set it.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgebox.config.coerce import coerce
from edgebox.config.declare import Declared, keys_of, variable
from edgebox.config.sections import (
    CONFIG_NAME,
    DEFAULT_CATEGORIES,
    DEFAULT_URGENCY,
    RETIRED,
    SECTIONS,
    is_soft,
)
from edgebox.config.settings import Config
from edgebox.errors import ConfigError
from edgebox.vocabulary import Urgency


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
    raw: dict[str, Any] = _read_toml(path) if path.is_file() else {}
    where = str(path) if path.is_file() else "the defaults"
    notices = _retire(raw, where)
    source = _Source(where, _keys_in(raw))
    sections = {
        name: _section(cls, raw.pop(name, {}), name, where)
        for name, cls in SECTIONS.items()
    }
    for name in SECTIONS:
        sections[name] = _checked(sections[name], name, source, notices)
    sections["index"] = _checked_overlap(sections["index"], source, notices)
    sections["sync"], sync_off = _checked_sync(sections["sync"], source, notices)
    categories, urgency = _taxonomy(raw, where)
    if raw:
        raise ConfigError(f"unknown key '{next(iter(raw))}' in {where}")
    return Config(
        home=root,
        source=path if path.is_file() else None,
        categories=categories,
        urgency=urgency,
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
        name = variable(section, key)
        if name in os.environ:
            return f"environment variable {name}"
        return f"'{section}.{key}'"

    def where(self, *keys: tuple[str, str]) -> str:
        """The file, as ", in <file>", when any of these keys took its value
        from it; else nothing."""
        for key in keys:
            if key in self.keys and variable(*key) not in os.environ:
                return f", in {self.file}"
        return ""


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc


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
        old_variable = variable(section, key)
        if old_variable in os.environ:
            notices.append(
                f"environment variable {old_variable} is ignored, {why}; "
                f"set {variable(section, new)} instead"
            )
    return notices


def _section(cls: type, values: Any, name: str, where: str) -> Any:
    """Build one section's dataclass from its TOML table and EDGEBOX_* overrides."""
    if not isinstance(values, dict):
        raise ConfigError(f"'{name}' must be a table, in {where}")
    declared = {item.name: item for item in keys_of(name, cls)}
    for key in values:
        if key not in declared:
            raise ConfigError(f"unknown key '{name}.{key}' in {where}")
    kwargs: dict[str, Any] = {}
    for key, item in declared.items():
        if item.variable in os.environ:
            value = os.environ[item.variable]
            kwargs[key] = coerce(value, item.kind, item.variable, "env")
        elif key in values:
            kwargs[key] = coerce(values[key], item.kind, f"{name}.{key}", where)
    return cls(**kwargs)


def _checked(section: Any, name: str, source: _Source, notices: list[str]) -> Any:
    """Refuse a value out of its declared range or choices; in a soft section,
    replace it by its default, with a notice."""
    for item in keys_of(name, type(section)):
        problem = _problem(item, getattr(section, item.name))
        if not problem:
            continue
        message = (
            f"{source.name(name, item.name)} must be {problem}"
            f"{source.where((name, item.name))}"
        )
        if not is_soft(type(section)):
            raise ConfigError(message)
        notices.append(f"{message}; using {item.default}")
        section = dataclasses.replace(section, **{item.name: item.default})
    return section


def _problem(item: Declared, value: Any) -> str:
    """What is wrong with a value of this key ("at least 1, got 0"), or ""."""
    key = item.key
    if key.choices and value not in key.choices:
        return f"{key.one_of()}, got {value!r}"
    if key.limited and not (
        (key.least is None or key.least <= value)
        and (key.most is None or value <= key.most)
    ):
        return f"{key.bound()}, got {value}"
    return ""


def _checked_overlap(index: Any, source: _Source, notices: list[str]) -> Any:
    """Chunks must overlap by less than their length (two keys, one check)."""
    if index.chunk_overlap < index.chunk_tokens:
        return index
    default = type(index)()
    keys = (("index", "chunk_overlap"), ("index", "chunk_tokens"))
    notices.append(
        f"{source.name(*keys[0])} must be less than {source.name(*keys[1])},"
        f" got {index.chunk_overlap} and {index.chunk_tokens}"
        f"{source.where(*keys)}; using {default.chunk_overlap} and"
        f" {default.chunk_tokens}"
    )
    return dataclasses.replace(
        index, chunk_tokens=default.chunk_tokens, chunk_overlap=default.chunk_overlap
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


def _checked_sync(sync: Any, source: _Source, notices: list[str]) -> tuple[Any, str]:
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
    if sync.bundle_public_key and not _public_key_shaped(sync.bundle_public_key):
        notices.append(
            f"{source.name('sync', 'bundle_public_key')} is not a key as"
            f" `edgebox central keygen` prints it (ed25519:...)"
            f"{source.where(('sync', 'bundle_public_key'))}; every bundle is"
            " refused until it is fixed"
        )
    if problems:
        return dataclasses.replace(sync, url="", token=token), "; ".join(problems)
    return dataclasses.replace(sync, token=token), ""


def _public_key_shaped(text: str) -> bool:
    """An Ed25519 public key's shape: the prefix and 32 bytes in base64."""
    import base64
    import binascii

    body = text.strip().removeprefix("ed25519:")
    try:
        return len(base64.b64decode(body, validate=True)) == 32
    except (binascii.Error, ValueError):
        return False


def _taxonomy(raw: dict[str, Any], where: str) -> tuple[dict, dict]:
    """The [taxonomy] tables: categories, and the fixed urgency levels' words."""
    taxonomy = raw.pop("taxonomy", {})
    if not isinstance(taxonomy, dict):
        raise ConfigError(f"'taxonomy' must be a table, in {where}")
    categories = _labels(taxonomy.pop("categories", DEFAULT_CATEGORIES), where)
    urgency = _labels(taxonomy.pop("urgency", DEFAULT_URGENCY), where, "urgency")
    if set(urgency) != set(Urgency.levels()):
        levels = " | ".join(Urgency.levels())
        raise ConfigError(f"'taxonomy.urgency' must name exactly {levels}, in {where}")
    if taxonomy:
        raise ConfigError(f"unknown key '{next(iter(taxonomy))}' in {where}")
    return categories, {level: urgency[level] for level in Urgency.levels()}


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
