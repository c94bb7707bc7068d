"""The plugin base class and the ``@command`` decorator.

A plugin is one class: ``@hookimpl`` methods implement hooks, ``@command`` methods are Discord
commands (discord.py ``ext.commands`` commands, with converters, checks and cooldowns as usual),
and a class attribute ``manifest`` says what the plugin needs and keeps::

    class Greeter(securebot.Plugin):
        manifest = securebot.PluginManifest(
            name="greeter", version="1.0", description="Says hello.",
            user_data=securebot.UserData.none(),
        )

        @securebot.command(help="Say hello.")
        async def hello(self, ctx: securebot.Context) -> None:
            await ctx.send(f"Hello {ctx.author.display_name}!")

:class:`Plugin` is a :class:`discord.ext.commands.Cog` whose cog name is the manifest name, so
the plugin's commands are grouped under it in help and its instance is both the pluggy plugin
and the cog.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from typing import Any, ClassVar, TypeAlias

import attrs
from discord.ext import commands

from securebot.core.manifest import PluginManifest


class Context(commands.Context[Any]):
    """The context a securebot command receives: discord.py's, created by :class:`Bot`."""


_CommandCallback: TypeAlias = Callable[..., Coroutine[Any, Any, Any]]

#: Key under which securebot keeps its per-command metadata in ``Command.extras``.
COMMAND_INFO_KEY = "securebot"


def _names(values: Iterable[str]) -> frozenset[str]:
    return frozenset(values)


@attrs.frozen
class CommandInfo:
    """securebot's metadata about one command, kept in ``command.extras["securebot"]``."""

    #: Runs for everyone wherever the plugin is enabled (e.g. ``help``), before grants.
    always_available: bool = False
    #: Parameter names whose values are secrets: redacted in audit records and logs.
    secret_params: frozenset[str] = attrs.field(default=frozenset(), converter=_names)


def command_info(command: commands.Command[Any, ..., Any]) -> CommandInfo:
    """The securebot metadata of ``command`` (defaults for plain discord.py commands)."""
    info = command.extras.get(COMMAND_INFO_KEY)
    return info if isinstance(info, CommandInfo) else CommandInfo()


class PluginMeta(commands.CogMeta):
    """Metaclass of :class:`Plugin`: names the cog after the plugin's manifest."""

    def __new__(cls, *args: Any, **kwargs: Any) -> PluginMeta:
        """Create the plugin class, defaulting the cog name to ``manifest.name``."""
        _name, _bases, namespace = args
        manifest = namespace.get("manifest")
        if isinstance(manifest, PluginManifest):
            kwargs.setdefault("name", manifest.name)
        made: PluginMeta = super().__new__(cls, *args, **kwargs)  # type: ignore[assignment]
        return made


class Plugin(commands.Cog, metaclass=PluginMeta):
    """Base class of securebot plugins: a discord.py cog that pluggy registers for its hooks."""

    #: What the plugin declares about itself; every concrete plugin must set it.
    manifest: ClassVar[PluginManifest]

    @property
    def plugin_name(self) -> str:
        """The plugin's name (from its manifest)."""
        return self.manifest.name

    def iter_commands(self) -> Iterable[commands.Command[Any, ..., Any]]:
        """All of this plugin's prefix commands, subcommands included."""
        return self.walk_commands()


def command(
    name: str | None = None,
    *,
    aliases: Iterable[str] = (),
    help: str | None = None,
    usage: str | None = None,
    always_available: bool = False,
    secret_params: Iterable[str] = (),
    **kwargs: Any,
) -> Callable[[_CommandCallback], commands.Command[Any, ..., Any]]:
    """Declare a plugin method as a Discord command.

    Takes discord.py's :func:`discord.ext.commands.command` arguments, plus:

    :param always_available: run for everyone wherever the plugin is enabled (``help``).
    :param secret_params: parameters whose values are secrets (PINs, passwords): the audit log
        and logs record ``<redacted>`` instead of the value.
    """
    info = CommandInfo(always_available=always_available, secret_params=frozenset(secret_params))
    extras = dict(kwargs.pop("extras", {}))
    extras[COMMAND_INFO_KEY] = info

    def decorator(func: _CommandCallback) -> commands.Command[Any, ..., Any]:
        made: commands.Command[Any, ..., Any] = commands.command(
            name=name or func.__name__,
            aliases=list(aliases),
            help=help,
            usage=usage,
            extras=extras,
            **kwargs,
        )(func)
        return made

    return decorator
