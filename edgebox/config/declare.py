"""How a settings key is declared: its type and default on the dataclass field,
everything else (what it does, its range or choices, whether it is a secret) in
the field's metadata, so that the loader, the `edgebox init` template and the
reference in docs/configuration.md all read the one declaration."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, get_type_hints

from edgebox.config.coerce import expected

_META = "edgebox"


@dataclass(frozen=True)
class Key:
    """What one key means, beyond its type and default."""

    doc: str
    """What the key does, with its unit: the template's comment and the
    reference's description."""
    least: float | None = None
    """The smallest value that can work (a number key), or None."""
    most: float | None = None
    """The largest value that can work (a number key), or None."""
    choices: tuple[str, ...] = ()
    """The only values a text key may take, or () for any."""
    choices_said: str = ""
    """How a message words the choices, where "one of a, b" reads worse."""
    why: str = ""
    """Why the choices are what they are, said in the message."""
    secret: bool = False
    """Kept out of the template: better set by its environment variable."""
    default_said: str = ""
    """The default in words, where it depends on the machine."""

    @property
    def limited(self) -> bool:
        """Whether the key has a range to check."""
        return self.least is not None or self.most is not None

    def bound(self) -> str:
        """The range in words: "at least 1", "between 0 and 1"."""
        if self.most is None:
            return f"at least {self.least}"
        if self.least is None:
            return f"at most {self.most}"
        return f"between {self.least} and {self.most}"

    def one_of(self) -> str:
        """The choices in words, as a message says them."""
        said = self.choices_said or f"one of {', '.join(self.choices)}"
        return f"{said} ({self.why})" if self.why else said


def setting(
    default: Any = dataclasses.MISSING,
    doc: str = "",
    *,
    factory: Callable[[], Any] | None = None,
    **meaning: Any,
) -> Any:
    """Declare one key: its default (or a factory) and its `Key` meaning."""
    if not doc.strip():
        raise TypeError("a key needs its doc: the template and reference say it")
    metadata = {_META: Key(doc=" ".join(doc.split()), **meaning)}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Declared:
    """One key as the loader and the renderers see it."""

    section: str
    name: str
    kind: Any
    """The declared type, resolved (`int`, `Path`, `int | str`, ...)."""
    default: Any
    key: Key

    @property
    def variable(self) -> str:
        """The environment variable that overrides this key."""
        return variable(self.section, self.name)


def variable(section: str, name: str) -> str:
    """The environment variable that overrides one key."""
    return f"EDGEBOX_{section}_{name}".upper()


@functools.cache
def keys_of(section: str, cls: type) -> tuple[Declared, ...]:
    """The declared keys of one section class, in the order written (read
    once: `load()` runs often and type hints are slow to resolve)."""
    hints = get_type_hints(cls)
    defaults = cls()
    return tuple(
        Declared(
            section,
            item.name,
            _readable(hints[item.name]),
            getattr(defaults, item.name),
            _key(cls, item),
        )
        for item in dataclasses.fields(cls)
    )


def _key(cls: type, item: dataclasses.Field) -> Key:
    key = item.metadata.get(_META)
    if key is None:
        raise TypeError(f"{cls.__name__}.{item.name} is not declared by setting()")
    return key


def _readable(kind: Any) -> Any:
    """The type, once checked to have a converter (a new type fails here, at
    the first load, not when a volunteer first sets the key)."""
    expected(kind)
    return kind
