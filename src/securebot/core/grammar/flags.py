"""``--long`` flags, as Giselle writes them: ``warn @u --rule 3 --reason spam --skip-dm``.

A flag's value runs from the flag to the next flag. Aliases (``--rs`` for ``--reason``) name the
same flag. *Switches* (booleans) stand alone. A *rest* flag (the scheduler's ``--command``) takes
the raw rest of the line, other ``--flags`` included, so it must come last. Text before the
first flag is returned as the positional part. Values wrapped in one pair of double quotes are
unwrapped.

:func:`scan_flags` is pure: it returns raw text values or raises
:class:`~securebot.errors.CommandInputError` naming the problem (unknown flag, missing value,
repeated flag, value given to a switch, missing required flag).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping

import attrs

from securebot.errors import CommandInputError

_TOKEN = re.compile(r"(?<!\S)--([A-Za-z][A-Za-z0-9_-]*)(?!\S)")
_NAME = re.compile(r"[a-z][a-z0-9_-]*")


class FlagKind(enum.Enum):
    """How a flag takes its value."""

    #: ``--reason some words`` up to the next flag.
    VALUE = "value"
    #: ``--silent``: present or absent, no value.
    SWITCH = "switch"
    #: ``--command !ping --x``: the raw rest of the line.
    REST = "rest"


def _aliases(values: Iterable[str]) -> frozenset[str]:
    return frozenset(value.lower() for value in values)


def _lower(value: str) -> str:
    return value.lower()


@attrs.frozen
class FlagSpec:
    """One flag a command accepts."""

    name: str = attrs.field(converter=_lower)
    kind: FlagKind = FlagKind.VALUE
    aliases: frozenset[str] = attrs.field(default=frozenset(), converter=_aliases)
    required: bool = False

    def __attrs_post_init__(self) -> None:
        for label in (self.name, *self.aliases):
            if not _NAME.fullmatch(label):
                raise ValueError(f"flag name {label!r} must be lower-case letters, digits, - or _")

    def usage(self) -> str:
        """The flag in usage notation: ``(--interval <value>)``, ``[--silent]``."""
        body = f"--{self.name}"
        if self.kind is FlagKind.VALUE:
            body += f" <{self.name}>"
        elif self.kind is FlagKind.REST:
            body += " <...>"
        return f"({body})" if self.required else f"[{body}]"


@attrs.frozen
class FlagGrammar:
    """The set of flags of one command, with alias lookup."""

    flags: tuple[FlagSpec, ...]
    _lookup: Mapping[str, FlagSpec] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        lookup: dict[str, FlagSpec] = {}
        for spec in self.flags:
            for label in (spec.name, *spec.aliases):
                if label in lookup:
                    raise ValueError(f"flag label --{label} is used twice")
                lookup[label] = spec
        object.__setattr__(self, "_lookup", lookup)

    def find(self, label: str) -> FlagSpec | None:
        """The flag called ``label`` (name or alias, any case), if any."""
        return self._lookup.get(label.lower())

    def usage(self) -> str:
        """All flags in usage notation."""
        return " ".join(spec.usage() for spec in self.flags)


@attrs.frozen
class ScannedFlags:
    """What :func:`scan_flags` found: the positional text and each flag's raw value."""

    positional: str
    #: Flag name -> raw text (``"true"`` for a switch that was given).
    values: Mapping[str, str]


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def scan_flags(text: str, grammar: FlagGrammar) -> ScannedFlags:
    """Split ``text`` into its positional part and flag values (see the module docstring).

    :raises CommandInputError: unknown, repeated or valueless flag, a value after a switch, or
        a required flag missing.
    """
    values: dict[str, str] = {}
    current: FlagSpec | None = None
    start = 0
    positional: str | None = None

    def close(spec: FlagSpec | None, end: int) -> None:
        nonlocal positional
        chunk = text[start:end].strip()
        if spec is None:
            positional = chunk
            return
        if spec.kind is FlagKind.SWITCH:
            if chunk:
                raise CommandInputError(
                    f"`--{spec.name}` is a switch and takes no value (got `{chunk[:30]}`)"
                )
            values[spec.name] = "true"
            return
        value = chunk if spec.kind is FlagKind.REST else _unquote(chunk)
        if not value.strip():
            raise CommandInputError(f"`--{spec.name}` needs a value")
        values[spec.name] = value

    for match in _TOKEN.finditer(text):
        if current is not None and current.kind is FlagKind.REST:
            break
        spec = grammar.find(match.group(1))
        if spec is None:
            known = ", ".join(f"--{s.name}" for s in grammar.flags) or "none"
            raise CommandInputError(
                f"unknown flag `--{match.group(1)[:30]}` (this command knows: {known})"
            )
        close(current, match.start())
        if spec.name in values:
            raise CommandInputError(f"`--{spec.name}` is given twice")
        current = spec
        start = match.end()
    close(current, len(text))
    for spec in grammar.flags:
        if spec.required and spec.name not in values:
            raise CommandInputError(f"the flag `--{spec.name}` is required")
    return ScannedFlags(positional=positional or "", values=values)


def format_flags(values: Mapping[str, str], grammar: FlagGrammar) -> str:
    """The inverse of :func:`scan_flags` for well-formed values (rest flags placed last)."""
    parts: list[str] = []
    ordered = sorted(grammar.flags, key=lambda spec: spec.kind is FlagKind.REST)
    for spec in ordered:
        if spec.name not in values:
            continue
        if spec.kind is FlagKind.SWITCH:
            parts.append(f"--{spec.name}")
        else:
            parts.append(f"--{spec.name} {values[spec.name]}")
    return " ".join(parts)
