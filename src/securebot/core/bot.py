"""The securebot :class:`Bot`: a discord.py ``AutoShardedBot`` driven by plugins.

The bot requests exactly the intents its plugins declare, adds every plugin as a cog, runs the
command pipeline (DESIGN.md §4) on prefix commands, slash commands and components alike:
the permission engine (:class:`~securebot.core.permissions.PermissionGate`, narrowed by the
``securebot_permission_rules`` hooks: deny wins, a failing rule denies), cooldowns, then the
handler, and records every invocation and every REST call in the audit log. It forwards events
to the ``on_*`` observer hooks and turns command errors into short messages for the user while
the details go to the log (never a traceback in the channel).

The pipeline parts are attributes a composition root may replace before start (e.g. with
storage-backed stores): ``permissions``, ``cooldowns``, ``audit_log``/``auditor``,
``scheduler``, ``clock``.
"""

from __future__ import annotations

import time
import types
from collections.abc import Mapping
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.ext import commands
from discord.ext.commands.view import StringView

from securebot.core.audit import (
    CORRELATION,
    CORRELATION_GUILD,
    AuditLog,
    Auditor,
    EventKind,
    MemoryAuditStore,
    context_arguments,
    interaction_arguments,
    new_correlation_id,
    outcome_of,
)
from securebot.core.audit.model import AuditEntry
from securebot.core.audit.redaction import interaction_secret_values, secret_values
from securebot.core.config import Config
from securebot.core.cooldowns import RATE_LIMIT_KEY, CooldownGate
from securebot.core.grammar import full_usage
from securebot.core.logtext import SCRUB_KEY, contained_logger
from securebot.core.permissions import PermissionGate, Requirement, rule_of
from securebot.core.permissions.gate import FAILED_CHECK as _GATE_FAILED_CHECK
from securebot.core.plugin import Context
from securebot.core.plugins import PluginManager
from securebot.core.rules import AccessRequest, Decision, Verdict
from securebot.core.scheduler import MemoryJobStore, Scheduler, SystemClock
from securebot.core.storage import Store

logger = contained_logger("securebot.bot")  # tracebacks quoting user input stay contained

#: The verdict when no rule has an opinion. The permission engine plugin narrows this.
DEFAULT_VERDICT = Verdict.allow("no rule objected", source="core")

#: Engine rules whose refusals are silent in the channel (Giselle): the reason goes by DM to
#: users in verbose mode. Other refusals (missing Discord permissions...) are answered.
SILENT_RULES = frozenset(
    {
        "module-disabled",
        "channel-blacklist",
        "channel-whitelist",
        "user-deny",
        "role-deny",
        "not-granted",
    }
)
_VERDICTS = "_securebot_verdicts"
#: Interactions decided but not yet recorded that the slash tree keeps at most.
_PENDING_INTERACTIONS = 10_000
#: Errors after which a command's arguments are not recorded (it was refused or did not parse).
_NOT_RUN = (commands.CheckFailure, commands.UserInputError)
#: The detail of a prefix command's audit record (none; read only when the event is built).
_NO_DETAIL: Mapping[str, Any] = types.MappingProxyType({})
#: The verdict when the permission check itself fails (fail closed).
FAILED_CHECK = _GATE_FAILED_CHECK
#: What the bot's messages may ping unless a send says otherwise: users, never @everyone,
#: @here or roles (replies echo user input: "No command named `@everyone`").
DEFAULT_ALLOWED_MENTIONS = discord.AllowedMentions(
    everyone=False, users=True, roles=False, replied_user=True
)


def _prefix_list(prefix: str, mentions: list[str]) -> list[str]:
    """The prefixes in the order discord.py tries them: the configured prefix first (the usual
    case) unless it could swallow a mention (``<@...``), then the mention forms."""
    if any(mention.startswith(prefix) for mention in mentions):
        return [*mentions, prefix]
    return [prefix, *mentions]


class AccessDenied(commands.CheckFailure):
    """A command was refused by the permission rules; carries the deciding verdict."""

    def __init__(self, verdict: Verdict) -> None:
        """Record the verdict; the message is the verdict's reason."""
        super().__init__(verdict.reason)
        self.verdict = verdict


class Bot(commands.AutoShardedBot):
    """A Discord bot assembled from securebot plugins."""

    def __init__(self, config: Config, plugin_manager: PluginManager, **options: Any) -> None:
        """Create the bot; ``options`` go to :class:`discord.ext.commands.AutoShardedBot`."""
        self.config = config
        self.plugin_manager = plugin_manager
        options.setdefault("intents", plugin_manager.required_intents())
        options.setdefault("help_command", None)
        options.setdefault("allowed_mentions", DEFAULT_ALLOWED_MENTIONS)
        if config.bot.owner_ids:
            options.setdefault("owner_ids", set(config.bot.owner_ids))
        if config.bot.shard_count:
            options.setdefault("shard_count", config.bot.shard_count)
        options.setdefault("tree_cls", SecureCommandTree)
        self._own_prefixes = self._prefixes
        super().__init__(command_prefix=self._own_prefixes, **options)
        #: Time source of the scheduler and the grammar's "from now" (tests set a ManualClock).
        self.clock: Any = SystemClock()
        #: The permission engine's gate (policies in memory until storage is wired).
        self.permissions = PermissionGate(plugin_manager)
        #: Declared rate limits (in memory; Redis when configured).
        self.cooldowns = CooldownGate()
        #: The audit log and the recorder feeding it.
        self.audit_log = AuditLog(
            MemoryAuditStore(), observer=self._audit_observed, observing=self._audit_observers
        )
        self.auditor = Auditor(self.audit_log)
        #: The durable scheduler (jobs in memory until storage is wired).
        self.scheduler = Scheduler(MemoryJobStore(), clock=self.clock)
        #: Per-guild prefixes that differ from the configured one.
        self.guild_prefixes: dict[int, str] = {}
        #: The store of records and settings (set by the composition root, securebot.runtime).
        self.store: Store | None = None
        self._prefix_lists: dict[str, tuple[int, list[str]]] = {}  # prefix: (bot user id, list)
        self._on_message_hook = plugin_manager.hook.securebot_on_message
        self.auditor.install_http(self.http)

    def _prefixes(
        self, bot: commands.Bot | commands.AutoShardedBot, message: discord.Message
    ) -> list[str]:
        prefix = self.config.bot.prefix
        guild = message.guild
        if guild is not None:
            prefix = self.guild_prefixes.get(guild.id, prefix)
        user = self.user
        user_id = user.id if user is not None else 0
        found = self._prefix_lists.get(prefix)
        if found is None or found[0] != user_id:
            found = (user_id, _prefix_list(prefix, commands.when_mentioned(bot, message)))
            if len(self._prefix_lists) > 1000:
                self._prefix_lists.clear()
            self._prefix_lists[prefix] = found
        return found[1]  # get_prefix copies the list it gets

    async def get_prefix(self, message: discord.Message, /) -> list[str] | str:
        """The prefixes for ``message``: the guild's (or configured) prefix and the mentions."""
        if self.command_prefix is self._own_prefixes:  # a copy: the cached list stays intact
            return list(self._prefixes(self, message))
        return await super().get_prefix(message)

    def _audit_observers(self) -> bool:
        return bool(self.plugin_manager.hook.securebot_on_audit_event.get_hookimpls())

    async def _audit_observed(self, entry: AuditEntry) -> None:
        await self.plugin_manager.notify("securebot_on_audit_event", entry=entry)

    async def get_context(
        self, origin: discord.Message | discord.Interaction, /, *, cls: type[Any] = Context
    ) -> Any:
        """Build a :class:`~securebot.Context` (or ``cls``) for a message or interaction.

        For a message with the bot's own prefixes this is discord.py's ``get_context`` for a
        prefix list, trying them in order without the list and tuple copies.
        """
        if not isinstance(origin, discord.Message) or self.command_prefix is not self._own_prefixes:
            return await super().get_context(origin, cls=cls)
        view = StringView(origin.content)
        ctx = cls(prefix=None, view=view, bot=self, message=origin)
        user = self.user
        if user is not None and origin.author.id == user.id:
            return ctx
        for prefix in self._prefixes(self, origin):
            if view.skip_string(prefix):
                break
        else:
            return ctx
        if self.strip_after_prefix:
            view.skip_ws()
        invoker = view.get_word()
        ctx.invoked_with = invoker
        ctx.prefix = prefix
        ctx.command = self.all_commands.get(invoker)
        return ctx

    async def setup_hook(self) -> None:
        """Start the plugins (fail closed), add them as cogs, start the audit log and scheduler."""
        self.plugin_manager.log_loaded()
        await self.plugin_manager.run_lifecycle("securebot_startup", fail_closed=True, bot=self)
        for plugin in self.plugin_manager.plugins:
            await self.add_cog(plugin)
        self.audit_log.start()
        self.scheduler.start()

    async def login(self, token: str) -> None:
        """Log in; with ``bot.api_base_url`` set, to that Discord (e.g. a local emulator).

        discord.py reads its URLs from two class attributes, so the setting applies to the whole
        process: ``Route.BASE`` for REST, then the gateway URL the server announces.
        """
        base = self.config.bot.api_base_url
        if base:
            discord.http.Route.BASE = base.rstrip("/") + "/api/v10"
        await super().login(token)
        if base:
            _, url, _ = await self.http.get_bot_gateway()
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)

    async def close(self) -> None:
        """Let plugins release what they hold, flush the audit log, then disconnect."""
        await self.scheduler.stop()
        await self.plugin_manager.run_lifecycle("securebot_shutdown", fail_closed=False, bot=self)
        await self.audit_log.close()
        await super().close()

    # --- commands ---------------------------------------------------------------------------

    async def access_request(self, ctx: Context) -> AccessRequest:
        """Describe who is running which command where, for the permission rules."""
        author = ctx.author
        roles = getattr(author, "roles", ())
        return AccessRequest(
            plugin=ctx.cog.qualified_name if ctx.cog else "core",
            command=ctx.command.qualified_name if ctx.command else "",
            user_id=author.id,
            channel_id=ctx.channel.id,
            guild_id=ctx.guild.id if ctx.guild else None,
            role_ids=frozenset(role.id for role in roles),
            is_bot_owner=await self.is_owner(author),
        )

    async def can_run(self, ctx: commands.Context[Any], /, *, call_once: bool = False) -> bool:
        """The bot-wide checks: the permission engine first (raises :class:`AccessDenied`),
        then any check added with ``add_check``.

        discord.py asks this for every command it prepares (a group and its subcommand each),
        and ``Command.can_run`` (help listings, scheduled re-checks) goes through it too.
        """
        if call_once:
            return not self._check_once or await super().can_run(ctx, call_once=True)
        permissions = self.permissions
        try:
            verdict = permissions.remembered(ctx)
            if verdict is None:
                verdict = await permissions.check_context(ctx)
        except Exception:  # unreadable settings, store down...: fail closed, and say so
            logger.exception("permission check failed; denying")
            verdict = FAILED_CHECK
        verdicts: dict[Any, Verdict] | None = getattr(ctx, _VERDICTS, None)
        if verdicts is None:
            setattr(ctx, _VERDICTS, {ctx.command: verdict})
        else:
            verdicts[ctx.command] = verdict  # by command object: parents' checks run too
        if verdict.decision is not Decision.ALLOW:
            raise AccessDenied(verdict)
        return not self._checks or await super().can_run(ctx)

    async def invoke(self, ctx: Context) -> None:  # type: ignore[override]
        """Run the pipeline for a parsed message: checks, cooldown, handler, audit record."""
        command = ctx.command
        if command is None:
            await super().invoke(ctx)
            return
        started = time.perf_counter()
        correlation = new_correlation_id()
        guild = ctx.guild
        guild_id = guild.id if guild is not None else None
        token = CORRELATION.set(correlation)
        guild_token = CORRELATION_GUILD.set(guild_id)
        error: commands.CommandError | None = None
        self._dispatch_heard("command", "on_command", ctx)
        try:
            if self._check_once and not await self.can_run(ctx, call_once=True):
                raise commands.CheckFailure("The global check once functions failed.")
            if RATE_LIMIT_KEY in command.extras:  # CooldownGate.check is a no-op otherwise
                # permissions first (DESIGN §4): a refused user never spends a shared budget
                if not await command.can_run(ctx):
                    raise commands.CheckFailure(f"The check functions for {command} failed.")
                await self.cooldowns.check(ctx)
            await command.invoke(ctx)
        except commands.CommandError as exc:
            error = exc
            await command.dispatch_error(ctx, exc)
        else:
            self._dispatch_heard("command_completion", "on_command_completion", ctx)
        finally:
            CORRELATION.reset(token)
            CORRELATION_GUILD.reset(guild_token)
            # the audit record (every invocation, allowed or denied): one tuple queued here
            ran = ctx.command  # a group's subcommand once it was reached
            if ran is not None and ran is not command:
                command = ran
            verdicts: dict[Any, Verdict] | None = getattr(ctx, _VERDICTS, None)
            verdict = verdicts.get(command) if verdicts is not None else None
            arguments: dict[str, str] = {}
            if (  # refused or unparsed: no arguments kept
                verdict is not None
                and command.params
                and (error is None or not isinstance(error, _NOT_RUN))
            ):
                arguments = context_arguments(ctx)
            auditor = self.auditor
            auditor.log.record_fields(  # what Auditor.command records, built at flush
                (
                    EventKind.COMMAND,
                    auditor.clock(),
                    guild_id,
                    ctx.author.id,
                    ctx.channel.id,
                    command.name if command.parent is None else command.qualified_name,
                    getattr(ctx, "securebot_via", "prefix"),
                    arguments,
                    verdict.source if verdict is not None else "",
                    "ok" if error is None else outcome_of(error),
                    (time.perf_counter() - started) * 1000,
                    correlation,
                    _NO_DETAIL,
                )
            )

    def _dispatch_heard(self, event: str, method: str, ctx: Context) -> None:
        """``dispatch(event, ctx)`` when anything listens: an ``on_<event>`` method (class or
        ``@bot.event``), a listener (``bot.listen``, cogs) or a ``wait_for``. With none,
        discord.py's dispatch would only log the event at debug level (over 1 µs a call)."""
        if self._listeners.get(event) or self.extra_events.get(method) or hasattr(self, method):
            self.dispatch(event, ctx)

    async def on_command_error(  # type: ignore[override]
        self, ctx: Context, error: commands.CommandError
    ) -> None:
        """Tell the user briefly what went wrong; log unexpected failures with their plugin."""
        if isinstance(error, commands.CommandNotFound):
            return
        if isinstance(error, AccessDenied):
            await self._refuse(ctx, error.verdict)
            return
        if isinstance(error, commands.UserInputError):
            if ctx.command is None:
                await ctx.send(str(error))
                return
            usage = full_usage(ctx.clean_prefix, ctx.command)
            await ctx.send(f"{error}\nUsage: `{usage}`")
            return
        if isinstance(error, commands.CheckFailure | commands.CommandOnCooldown):
            await ctx.send(str(error))
            return
        plugin = ctx.cog.qualified_name if ctx.cog else "core"
        command = ctx.command.qualified_name if ctx.command else "?"
        original = getattr(error, "original", error)
        logger.error(  # secret arguments scrubbed from the traceback (securebot.core.logtext)
            "command %s of plugin %s failed",
            command,
            plugin,
            exc_info=original,
            extra={SCRUB_KEY: secret_values(ctx)},
        )
        await ctx.send("Something went wrong while running this command; it has been logged.")

    async def _refuse(self, ctx: Context, verdict: Verdict) -> None:
        """Answer a refusal: silent for grant rules (reason by DM in verbose mode), else reply."""
        if rule_of(verdict) not in SILENT_RULES:
            await ctx.send(f"You can't use this command here: {verdict.reason}.")
            return
        guild_id = ctx.guild.id if ctx.guild else None
        if self.permissions.is_verbose(guild_id, ctx.author.id):
            name = ctx.command.qualified_name if ctx.command else "that command"
            try:
                await ctx.author.send(f"`{name}` was refused: {verdict.reason}.")
            except discord.HTTPException:
                logger.info("could not DM a verbose refusal to user %s", ctx.author.id)

    # --- events -----------------------------------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        """Run commands, then let the ``securebot_on_message`` observers see the message."""
        author = message.author
        user = self.user
        if user is not None and author.id == user.id:
            return
        if not author.bot:  # process_commands, one call less
            await self.invoke(await self.get_context(message))
        if self._on_message_hook.get_hookimpls():
            await self.plugin_manager.notify("securebot_on_message", message=message)

    async def on_app_command_completion(
        self, interaction: discord.Interaction[Any], command: Any
    ) -> None:
        """Record a slash command that completed."""
        if isinstance(self.tree, SecureCommandTree):
            self.tree.record(interaction, None)

    async def on_member_join(self, member: discord.Member) -> None:
        """Forward to ``securebot_on_member_join``."""
        await self.plugin_manager.notify("securebot_on_member_join", member=member)

    async def on_member_remove(self, member: discord.Member) -> None:
        """Forward to ``securebot_on_member_remove``."""
        await self.plugin_manager.notify("securebot_on_member_remove", member=member)


def _app_requirement(command: Any) -> Requirement:
    extras = getattr(command, "extras", {}) or {}
    found = extras.get("securebot.requires")
    requirement = found if isinstance(found, Requirement) else Requirement()
    default = getattr(command, "default_permissions", None)
    if isinstance(default, discord.Permissions) and not requirement.user_permissions:
        requirement = Requirement(
            default.value,
            requirement.bot_permissions,
            requirement.always_available,
            requirement.owner_only,
        )
    return requirement


class SecureCommandTree(app_commands.CommandTree[Any]):
    """The slash-command tree: every interaction goes through the same permission engine.

    Discord's ``default_permissions`` is only a hint to clients; here it is enforced as the
    command's user permissions (unless ``@requires`` says otherwise).
    """

    def __init__(self, client: Any, **options: Any) -> None:
        """Create the tree; interaction verdicts are kept until the interaction is recorded."""
        super().__init__(client, **options)
        self._verdicts: dict[int, tuple[Verdict, float]] = {}

    def record(self, interaction: discord.Interaction[Any], error: BaseException | None) -> None:
        """Write the audit record of an interaction once its outcome is known."""
        client = interaction.client
        verdict, started = self._verdicts.pop(interaction.id, (None, time.perf_counter()))
        if not isinstance(client, Bot):
            return
        command = interaction.command
        refused = verdict is not None and not verdict.allowed
        if refused or isinstance(error, app_commands.CheckFailure):
            outcome = "denied"
        elif error is not None:
            original = getattr(error, "original", error)
            outcome = f"error:{type(original).__name__}"
        else:
            outcome = "ok"
        client.auditor.command(
            via="slash" if command is not None else "component",
            action=command.qualified_name if command is not None else "component",
            guild_id=interaction.guild_id,
            actor_id=interaction.user.id,
            channel_id=interaction.channel_id,
            arguments={} if outcome == "denied" else interaction_arguments(interaction),
            rule=verdict.source if verdict is not None else "",
            outcome=outcome,
            duration_ms=(time.perf_counter() - started) * 1000,
            correlation_id=CORRELATION.get() or new_correlation_id(),
        )

    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError, /
    ) -> None:
        """Record the failure, log it, and answer the user briefly (never a traceback)."""
        self.record(interaction, error)
        if isinstance(error, app_commands.CheckFailure):
            return
        original = getattr(error, "original", error)
        name = interaction.command.qualified_name if interaction.command else "?"
        logger.error(
            "app command %s failed",
            name,
            exc_info=original,
            extra={SCRUB_KEY: interaction_secret_values(interaction)},
        )
        if not interaction.response.is_done():
            await interaction.response.send_message(
                "Something went wrong while running this command; it has been logged.",
                ephemeral=True,
            )

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        """Decide the interaction with the bot's permission gate; record refusals."""
        client = interaction.client
        if not isinstance(client, Bot):
            return True
        command = interaction.command
        binding = getattr(command, "binding", None)
        module = binding.qualified_name if isinstance(binding, commands.Cog) else "core"
        name = command.qualified_name if command is not None else "component"
        verdict = await client.permissions.check_interaction(
            interaction, module=module, command_name=name, requirement=_app_requirement(command)
        )
        if interaction.type is discord.InteractionType.autocomplete:
            # suggestions only for who may run the command; a keystroke is no invocation:
            # nothing recorded or kept, and an autocomplete cannot be answered with a message
            return verdict.allowed
        if len(self._verdicts) >= _PENDING_INTERACTIONS:  # never unbounded (oldest first)
            del self._verdicts[next(iter(self._verdicts))]
        self._verdicts[interaction.id] = (verdict, time.perf_counter())
        if not verdict.allowed:
            self.record(interaction, None)
            if not interaction.response.is_done():
                await interaction.response.send_message(
                    f"You can't use this here: {verdict.reason}.", ephemeral=True
                )
            return False
        return True
