"""Typed configuration values built from TOML tables, with one clear error per problem.

Each configuration section is a frozen attrs class with typed, defaulted fields; a field's
``metadata["help"]`` documents it. :func:`build_section` turns a parsed TOML table into such a
class, refusing unknown keys and wrong types with messages like
``bot.prefix: expected a string, got an integer (3)``.

Secrets are never written inline: a :class:`SecretRef` field takes ``"env:NAME"`` or
``"file:/path"`` and is resolved only when needed.
"""

from __future__ import annotations

import datetime
import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

import attrs

from securebot.errors import ConfigError

_T = TypeVar("_T")

_SECRET_SCHEMES = ("env", "file")


def help_text(text: str) -> dict[str, str]:
    """Field metadata carrying the help text shown by ``securebot config`` and the docs."""
    return {"help": text}


@attrs.frozen
class SecretRef:
    """Where a secret comes from: ``env:NAME`` (environment variable) or ``file:PATH``.

    The reference is safe to show; the secret itself is read only by :meth:`resolve`.
    """

    scheme: Literal["env", "file"]
    location: str

    @classmethod
    def parse(cls, text: str, *, where: str) -> SecretRef:
        """Parse ``env:NAME`` / ``file:PATH``; anything else is refused as an inline secret."""
        scheme, sep, location = text.partition(":")
        if not sep or scheme not in _SECRET_SCHEMES or not location.strip():
            raise ConfigError(
                f"{where}: secrets are given by reference, never inline: use "
                '"env:VARIABLE_NAME" or "file:/path/to/secret"'
            )
        return cls(scheme=scheme, location=location.strip())  # type: ignore[arg-type]

    def resolve(self, *, where: str, environ: Mapping[str, str] | None = None) -> str:
        """Read the secret. Raises :class:`ConfigError` (without the value) when it is missing."""
        if self.scheme == "env":
            value = (os.environ if environ is None else environ).get(self.location, "")
            if not value:
                raise ConfigError(f"{where}: environment variable {self.location} is not set")
            return value
        path = Path(self.location).expanduser()
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{where}: cannot read secret file {path}: {exc.strerror}") from None
        if not value:
            raise ConfigError(f"{where}: secret file {path} is empty")
        return value

    def __str__(self) -> str:
        """The reference as written in the config (``env:NAME``)."""
        return f"{self.scheme}:{self.location}"


def describe(value: object) -> str:
    """Name a parsed TOML value's type the way a config author knows it."""
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a float ({value})"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return "a date/time"
    return type(value).__name__


#: Field metadata key marking a field that is not a setting (set by code, never from TOML).
INTERNAL = "securebot_internal"


def build_section(cls: type[_T], table: object, where: str) -> _T:
    """Build the attrs class ``cls`` from a parsed TOML ``table``; raise :class:`ConfigError`."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table, got {describe(table)}")
    hints = typing.get_type_hints(cls)
    fields = {
        f.name: f
        for f in attrs.fields(cls)  # type: ignore[arg-type]
        if not f.metadata.get(INTERNAL)
    }
    unknown = sorted(set(table) - set(fields))
    if unknown:
        known = ", ".join(sorted(fields)) or "none"
        prefix = f"{where}: " if where else ""
        raise ConfigError(f"{prefix}unknown key {unknown[0]!r} (known keys: {known})")
    values = {
        name: _convert(hints[name], table[name], f"{where}.{name}" if where else name)
        for name in fields
        if name in table
    }
    return cls(**values)


def _convert(tp: Any, value: object, where: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _convert(inner, value, where)
    if tp is SecretRef:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a secret reference string, got {describe(value)}")
        return SecretRef.parse(value, where=where)
    if attrs.has(tp):
        return build_section(tp, value, where)
    if origin is Literal:
        if value not in args:
            choices = ", ".join(repr(a) for a in args)
            shown = repr(value) if isinstance(value, str | int) else describe(value)
            raise ConfigError(f"{where}: must be one of {choices}, got {shown}")
        return value
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected an array, got {describe(value)}")
        return tuple(_convert(args[0], item, f"{where}[{i}]") for i, item in enumerate(value))
    if origin in (dict, Mapping, typing.Mapping) or tp in (dict,):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a table, got {describe(value)}")
        item_type = args[1] if args else Any
        return types.MappingProxyType(
            {str(k): _convert(item_type, v, f"{where}.{k}") for k, v in value.items()}
        )
    if tp is Any:
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected a boolean (true/false), got {describe(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {describe(value)}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: expected a number, got {describe(value)}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {describe(value)}")
        return value
    raise TypeError(f"unsupported configuration type {tp!r} at {where}")  # a bug in a section
