"""Usage strings from command metadata: ``()`` required, ``[]`` optional, flags expanded.

``remind (where) (after) (message...)``, ``schedule (--interval <interval>) [--silent]``.
"""

from __future__ import annotations

import inspect
from typing import Any

from discord.ext import commands

from securebot.core.grammar.converters import Flags


def _flags_class(annotation: Any) -> type[Flags] | None:
    if isinstance(annotation, type) and issubclass(annotation, Flags):
        return annotation
    return None


def parameter_usage(param: commands.Parameter) -> str:
    """One parameter in usage notation."""
    flags = _flags_class(param.converter)
    if flags is not None:
        return flags.usage()
    name = param.displayed_name or param.name
    many = param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.KEYWORD_ONLY) or (
        isinstance(param.converter, commands.Greedy)
    )
    body = f"{name}..." if many else name
    return f"({body})" if param.required else f"[{body}]"


def command_usage(command: commands.Command[Any, ..., Any]) -> str:
    """The arguments of ``command`` in usage notation (its ``usage=`` text when set)."""
    if command.usage:
        return command.usage
    return " ".join(parameter_usage(param) for param in command.clean_params.values())


def full_usage(prefix: str, command: commands.Command[Any, ..., Any]) -> str:
    """``prefix`` + qualified name + usage, as shown in help and error replies."""
    return f"{prefix}{command.qualified_name} {command_usage(command)}".strip()
