"""Every hook securebot calls, with its contract.

Hook families (all prefixed ``securebot_``):

* lifecycle: ``add_hookspecs`` and ``configure`` (historic: late plugins still get them),
  ``startup`` and ``shutdown``;
* ``on_*``: asynchronous observers. Implementations run one after another; one that raises is
  logged with its plugin's name and never stops the others;
* ``*_rules``: security decisions. Each implementation returns a
  :class:`~securebot.core.rules.Verdict` or ``None``; any deny wins, and an implementation that
  raises counts as a deny;
* ``*_user_data``: data rights. Every plugin that stores end-user data implements both.

Hooks marked ``@async_hook`` accept ``async def`` implementations; the others must be plain
functions, and the plugin manager refuses a coroutine function for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from securebot.core.markers import async_hook, hookspec

if TYPE_CHECKING:
    import discord
    import pluggy

    from securebot.core.audit.model import AuditEntry
    from securebot.core.bot import Bot
    from securebot.core.config import Config
    from securebot.core.rules import AccessRequest, Verdict


# --- lifecycle -----------------------------------------------------------------------------


@hookspec(historic=True)
def securebot_add_hookspecs(plugin_manager: pluggy.PluginManager) -> None:
    """Add hook specifications of a plugin's own, for other plugins to implement.

    Call ``plugin_manager.add_hookspecs(module_or_class)``. Historic: plugins registered later
    get the call too.

    :param plugin_manager: the underlying :class:`pluggy.PluginManager`.
    """


@hookspec(historic=True)
def securebot_configure(config: Config) -> None:
    """Read configuration, once, before the bot connects.

    Historic: a plugin registered after configuration still gets the call. A plugin reads its
    own table with ``config.plugin_settings(self.manifest.name)`` and raises
    :class:`~securebot.errors.ConfigError` if a value is wrong, which stops the start.

    :param config: the validated configuration.
    """


@async_hook
@hookspec
def securebot_startup(bot: Bot) -> None:
    """Prepare the plugin when the bot starts, before it connects to Discord.

    May be ``async``. Exceptions stop the start (fail closed).

    :param bot: the bot being started.
    """


@async_hook
@hookspec
def securebot_shutdown(bot: Bot) -> None:
    """Release what the plugin holds when the bot stops.

    May be ``async``. Exceptions are logged with the plugin's name; the others still run.

    :param bot: the bot being stopped.
    """


# --- observers -----------------------------------------------------------------------------


@async_hook
@hookspec
def securebot_on_message(message: discord.Message) -> None:
    """Observe every message the bot sees (commands included), after command processing.

    Runs on every message: keep it cheap. Failures are logged and isolated.

    :param message: the message.
    """


@async_hook
@hookspec
def securebot_on_member_join(member: discord.Member) -> None:
    """Observe a member joining a guild. Failures are logged and isolated.

    :param member: the member who joined.
    """


@async_hook
@hookspec
def securebot_on_member_remove(member: discord.Member) -> None:
    """Observe a member leaving (or being removed from) a guild. Failures are isolated.

    :param member: the member who left.
    """


@async_hook
@hookspec
def securebot_on_audit_event(entry: AuditEntry) -> None:
    """Observe each audit entry once it is sealed into its guild's hash chain and stored.

    Entries come in batches shortly after the events (commands allowed or denied, REST calls,
    configuration changes, scheduled runs). Arguments are already redacted. Failures are logged
    and isolated; an observer can never change or drop an entry.

    :param entry: the stored entry (chain, position, hashes and event).
    """


# --- security decisions --------------------------------------------------------------------


@hookspec
def securebot_permission_rules(request: AccessRequest) -> Verdict | None:
    """Decide whether a command (prefix, slash or component) may run.

    Return :meth:`Verdict.allow <securebot.core.rules.Verdict.allow>`,
    :meth:`Verdict.deny <securebot.core.rules.Verdict.deny>` or ``None`` for no opinion. All
    results are combined: any deny wins; an exception counts as a deny. Must be synchronous and
    fast: it runs on every command.

    :param request: who wants to run which command, where.
    """


# --- registrations -------------------------------------------------------------------------


@hookspec
def securebot_register_export_formats() -> Iterable[Any] | None:
    """Return the export formats this plugin adds, as ``securebot.exports.ExportFormat`` values.

    Called once when an export service is built. Each format has a unique name (``csv``,
    ``jsonl``, ``html`` and ``txt`` are built in); a name registered twice stops the start with
    :class:`~securebot.errors.DuplicateRegistrationError`. Renderers must be pure functions that
    return bytes and never write files: they run in a worker thread, inside the encrypted export.
    """


# --- data rights ---------------------------------------------------------------------------


@async_hook
@hookspec
def securebot_export_user_data(user_id: int) -> Mapping[str, Any] | None:
    """Return everything this plugin keeps about ``user_id``, readable, as a JSON-able mapping.

    Every plugin whose manifest says it stores user data must implement this hook. Return
    ``None`` or an empty mapping when it keeps nothing about that user.

    :param user_id: the Discord user id.
    """


@async_hook
@hookspec
def securebot_delete_user_data(user_id: int) -> int:  # type: ignore[empty-body]
    """Erase everything this plugin keeps about ``user_id``; return how many items were erased.

    Every plugin whose manifest says it stores user data must implement this hook.

    :param user_id: the Discord user id.
    """
