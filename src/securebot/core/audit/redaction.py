"""What the audit log keeps of a command's arguments: short descriptions, secrets redacted.

Parameters named in the command's ``CommandInfo.secret_params`` (and flags of that name; for a
slash command, options of that name) are recorded as :data:`REDACTED`. Discord objects are
recorded by kind and id (``user:123``), never by content; long text is cut. Arguments of commands
that were refused or failed to parse are not recorded at all: only converted arguments of a
command that ran reach the log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import discord
from discord.ext import commands

from securebot.core.plugin import COMMAND_INFO_KEY, CommandInfo, command_info

#: What a secret value is replaced with.
REDACTED = "<redacted>"
#: Longest text kept for one argument.
MAX_TEXT = 200


def describe(value: Any) -> str:
    """A short, non-secret-bearing description of one converted argument."""
    if value is None or isinstance(value, bool | int | float):
        return str(value)
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + "…"
    if isinstance(value, discord.abc.User):
        return f"user:{value.id}"
    if isinstance(value, discord.Role):
        return f"role:{value.id}"
    if isinstance(value, discord.Message):
        return f"message:{value.id}"
    if isinstance(value, discord.abc.GuildChannel | discord.Thread):
        return f"channel:{value.id}"
    if isinstance(value, discord.abc.Snowflake):
        return f"{type(value).__name__.lower()}:{value.id}"
    if isinstance(value, dt.timedelta):
        return f"{int(value.total_seconds())}s"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(describe(item) for item in value) + "]"
    return type(value).__name__


def _flag_items(value: commands.FlagConverter) -> Iterable[tuple[str, Any]]:
    return iter(value)


def command_arguments(
    command: commands.Command[Any, ..., Any], args: Iterable[Any], kwargs: Mapping[str, Any]
) -> dict[str, str]:
    """Describe the converted arguments of an invocation, with secrets redacted.

    :param args: the positional values after ``self`` and ``ctx`` (``ctx.args[2:]`` for a cog).
    :param kwargs: keyword-only values (``ctx.kwargs``).
    """
    params = command.params  # already without self and ctx; clean_params copies it
    if not params:
        return {}
    secrets = command_info(command).secret_params
    values: dict[str, Any] = dict(zip(params, args, strict=False))
    values.update(kwargs)
    described: dict[str, str] = {}
    for name, value in values.items():
        if name in secrets:
            described[name] = REDACTED
        elif isinstance(value, commands.FlagConverter):
            for flag_name, flag_value in _flag_items(value):
                key = f"--{flag_name}"
                secret = flag_name in secrets or flag_name.replace("-", "_") in secrets
                described[key] = REDACTED if secret else describe(flag_value)
        else:
            described[name] = describe(value)
    return described


def context_arguments(ctx: commands.Context[Any]) -> dict[str, str]:
    """:func:`command_arguments` for a context whose command ran (or started to)."""
    command = ctx.command
    if command is None:
        return {}
    skip = 2 if command.cog is not None else 1
    return command_arguments(command, ctx.args[skip:], ctx.kwargs)


def interaction_arguments(interaction: discord.Interaction[Any]) -> dict[str, str]:
    """Describe a slash command's options (``interaction.namespace``), secrets redacted.

    Secret options are declared like prefix commands' (``extras={"securebot":
    CommandInfo(secret_params=...)}`` on the app command); components have no options.
    """
    command = interaction.command
    if command is None:
        return {}
    info = getattr(command, "extras", {}).get(COMMAND_INFO_KEY)
    secrets = info.secret_params if isinstance(info, CommandInfo) else frozenset()
    return {
        name: REDACTED if name in secrets else describe(value)
        for name, value in interaction.namespace
    }


def _texts(value: Any) -> list[str]:
    """How a value may be spelled in an exception's text: as is, and as inside its repr."""
    if isinstance(value, list | tuple):
        return [text for item in value for text in _texts(item)]
    text = str(value)
    quoted = repr(value)[1:-1] if isinstance(value, str) else text
    return [t for t in {text, quoted} if t]


def secret_values(ctx: commands.Context[Any]) -> list[str]:
    """The values of the secret parameters (and secret flags) ``ctx``'s command received, as
    text, to keep them out of failure logs (see :func:`scrub`)."""
    command = ctx.command
    if command is None:
        return []
    secrets = command_info(command).secret_params
    if not secrets:
        return []
    skip = 2 if command.cog is not None else 1
    values: dict[str, Any] = dict(zip(command.params, ctx.args[skip:], strict=False))
    values.update(ctx.kwargs)
    found: list[str] = []
    for name, value in values.items():
        if name in secrets:
            found.extend(_texts(value))
        elif isinstance(value, commands.FlagConverter):
            for flag_name, flag_value in _flag_items(value):
                if flag_name in secrets or flag_name.replace("-", "_") in secrets:
                    found.extend(_texts(flag_value))
    return found


def interaction_secret_values(interaction: discord.Interaction[Any]) -> list[str]:
    """The values of a slash command's secret options, as text (see :func:`scrub`)."""
    command = interaction.command
    info = getattr(command, "extras", {}).get(COMMAND_INFO_KEY) if command is not None else None
    if not isinstance(info, CommandInfo) or not info.secret_params:
        return []
    return [
        text
        for name, value in interaction.namespace
        if name in info.secret_params
        for text in _texts(value)
    ]
