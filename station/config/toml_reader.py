"""Typed values out of a TOML file (station profiles, HIL rig files); every error names the file, the key and, where
the file has it, the line, so an engineer can fix the file at once."""

from __future__ import annotations

import enum
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar, overload

from hardware.errors import UnknownPlatformError
from hardware.platforms import Platform, parse_platform
from station.config.toml_lines import line_of
from station.errors import StationError

E = TypeVar("E", bound=enum.Enum)

_REQUIRED: Any = object()
MAX_INTEGER = 2**31 - 1
"""The largest whole number a setting takes unless told otherwise (ids and counts; the journal stores 64 bits)."""


def read_toml(
    path: Path, *, error: type[StationError], what: str, missing_hint: str = ""
) -> tuple[str, dict[str, Any]]:
    """The text of ``path`` and its parsed TOML; ``what`` names the file in errors (``station profile``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{what} {path} does not exist{missing_hint}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # ValueError: a NUL in the name
        raise error(printable(f"cannot read {what} {path}: {exc}")) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        data = None
    if data is None or _too_deep(data):
        raise error(f"{path}: arrays or tables are nested more than {MAX_DEPTH} deep; no setting needs that, "
                    "check the file") from None
    return text, data


MAX_DEPTH = 8
"""How deep arrays and tables may nest in a settings file (the deepest key a profile has is two levels down)."""


def _too_deep(data: Any) -> bool:
    """True when ``data`` nests deeper than MAX_DEPTH; iterative, so no value can exhaust the stack."""
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return False


def printable(text: str) -> str:
    """``text`` on one line: control characters from the file (a key named "\\x1e", a newline in a value) escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class TomlReader:
    """One parsed file: checks its sections and keys, and hands out its tables; errors are of type ``error``."""

    def __init__(self, path: Path, text: str, data: Mapping[str, Any], error: type[StationError]) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.data = data
        self.error = error

    def line_of(self, dotted: str) -> int | None:
        return line_of(self.lines, dotted)

    def fail(self, dotted: str, message: str) -> StationError:
        line = self.line_of(dotted)
        where = f"{self.path}, line {line}" if line else str(self.path)
        return self.error(printable(f"{where}: {dotted}: {message}"))

    def check_keys(self, known: Mapping[str, set[str]], *, arrays: Mapping[str, str] | None = None) -> None:
        """Refuse unknown sections and keys. ``arrays``: the sections written as ``[[name]]`` tables, each with
        what one entry is (``{"devices": "device"}``)."""
        arrays = arrays or {}
        for section, value in self.data.items():
            if section not in known:
                raise self.fail(section, f"unknown section [{section}]; known sections: {', '.join(sorted(known))}")
            if section in arrays:
                if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                    raise self.fail(section, f"must be [[{section}]] tables, one per {arrays[section]}")
                tables = [(f"{section}[{n}]", v) for n, v in enumerate(value, start=1)]
            elif not isinstance(value, dict):
                raise self.fail(section, f"must be a section [{section}], not a single value")
            else:
                tables = [(section, value)]
            for table, entries in tables:
                for key in entries:
                    if key not in known[section]:
                        listed = ", ".join(sorted(known[section]))
                        raise self.fail(f"{table}.{key}", f"unknown key; known keys in [{section}]: {listed}")

    def table(self, name: str, data: Mapping[str, Any] | None = None) -> TomlTable:
        """The section ``name`` (empty when the file has none), or an entry of an array of tables: ``devices[2]``
        and its data."""
        if data is None:
            data = self.data.get(name, {})
            if not isinstance(data, Mapping):
                raise self.fail(name, f"must be a section [{name}], not a single value")
        return TomlTable(self, name, data)


class TomlTable:
    """One table of the file (``product`` or ``devices[2]``); keys are read relative to it."""

    def __init__(self, reader: TomlReader, name: str, data: Mapping[str, Any]) -> None:
        self.reader, self.name, self.data = reader, name, data

    def fail(self, key: str, message: str) -> StationError:
        return self.reader.fail(f"{self.name}.{key}", message)

    @property
    def header(self) -> str:
        if "[" in self.name:
            return f"[[{self.name.partition('[')[0]}]] ({self.name})"
        return f"[{self.name}]"

    def get(self, key: str, default: Any = _REQUIRED) -> Any:
        """The raw value; without a default the key must be there."""
        if key not in self.data:
            if default is _REQUIRED:
                raise self.fail(key, f"missing; add `{key} = ...` under {self.header}")
            return default
        return self.data[key]

    @overload
    def text(self, key: str, *, required: Literal[True]) -> str: ...
    @overload
    def text(self, key: str, default: str, *, required: bool = False) -> str: ...
    @overload
    def text(self, key: str, default: None = None, *, required: bool = False) -> str | None: ...

    def text(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        """A non-empty text, stripped."""
        if key not in self.data:
            if required:
                raise self.fail(key, f"missing; add `{key} = \"...\"` under {self.header}")
            return default
        value = self.data[key]
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"must be a non-empty text in quotes, got {value!r}")
        return value.strip()

    @overload
    def integer(self, key: str, *, required: Literal[True], minimum: int | None = None,
                maximum: int = MAX_INTEGER) -> int: ...
    @overload
    def integer(self, key: str, default: int, *, required: bool = False, minimum: int | None = None,
                maximum: int = MAX_INTEGER) -> int: ...
    @overload
    def integer(
        self, key: str, default: None = None, *, required: bool = False, minimum: int | None = None,
        maximum: int = MAX_INTEGER,
    ) -> int | None: ...

    def integer(
        self, key: str, default: int | None = None, *, required: bool = False, minimum: int | None = None,
        maximum: int = MAX_INTEGER,
    ) -> int | None:
        """A whole number (not a boolean), at least ``minimum`` and at most ``maximum``."""
        if key not in self.data:
            if required:
                raise self.fail(key, f"missing; add `{key} = ...` under {self.header}")
            return default
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"must be a whole number, got {value!r}")
        if minimum is not None and value < minimum:
            raise self.fail(key, f"must be at least {minimum}, got {value}")
        if value > maximum:
            raise self.fail(key, f"must be at most {maximum}, got {value}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, got {value!r}")
        return value

    def choice(self, key: str, enum_type: type[E], default: E) -> E:
        """One of the enum's values, written as text."""
        value = self.data.get(key, default.value)
        try:
            return enum_type(value)
        except ValueError:
            options = ", ".join(repr(m.value) for m in enum_type)
            raise self.fail(key, f"must be one of {options}, got {value!r}") from None

    def path_text(self, key: str, default: str | None = None) -> str | None:
        """A text naming a file or folder: one a file system can hold (no NUL character)."""
        value = self.text(key, default)
        if value is not None and "\x00" in value:
            raise self.fail(key, "a file name cannot hold a NUL character (\\u0000)")
        return value

    def text_list(self, key: str) -> tuple[str, ...]:
        """A list of non-empty texts (a single text counts as a list of one), stripped; empty when missing."""
        value = self.data.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(key, f"must be a list of texts, e.g. [\"a\", \"b\"], got {value!r}")
        if any("\x00" in v for v in value):
            raise self.fail(key, "a text cannot hold a NUL character (\\u0000)")
        return tuple(v.strip() for v in value)

    def platform(self, key: str = "platform") -> Platform:
        """A Particle platform by name (``boron``) or id."""
        raw = self.data.get(key)
        if raw is None:
            raise self.fail(key, f"missing; add e.g. `{key} = \"boron\"`")
        try:
            return parse_platform(str(raw))
        except UnknownPlatformError as exc:
            raise self.fail(key, str(exc)) from None
