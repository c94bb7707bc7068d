"""The permission gate: what the Bot's global check and ``interaction_check`` call.

It turns a context or an interaction into a :class:`PermissionQuery`, evaluates it with the
engine against the guild's stored :class:`GuildPolicy` (cached in memory, loaded through a
:class:`PolicyStore`), then asks the plugins' ``securebot_permission_rules`` hooks: any deny wins
(a raising hook denies), and a hook can only narrow what the engine allowed, never widen it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

import discord
from discord.ext import commands

from securebot.core.logtext import contained_logger
from securebot.core.permissions.engine import evaluate, needs_member_permissions
from securebot.core.permissions.model import (
    GuildPolicy,
    PermissionQuery,
    Requirement,
    Subject,
)
from securebot.core.permissions.requirements import requirement_of
from securebot.core.plugins import PluginManager
from securebot.core.rules import AccessRequest, Decision, Verdict

#: Modules open to everyone by default (spec §2.4); all others are for managers.
EVERYONE_MODULES = frozenset(
    {
        "alarm",
        "azurlane",
        "chatlogs",  # Giselle's util: savechat (gated by Manage Messages), deletedm (DMs only)
        "core_commands",
        "currency",
        "digimon",
        "games",
        "help",
        "mahjongsoul",
        "miscellaneous",
        "music",
        "raidroom",
        "reactions",
        "scheduler",
        "social",
        "trivia",
        "twitch",
        "util",
        "youtube",
    }
)


class PolicyStore(Protocol):
    """Where guild policies are kept (the Store, or memory in tests)."""

    async def load(self, guild_id: int) -> GuildPolicy | None:
        """The stored policy of ``guild_id``, or ``None`` when nothing is stored."""

    async def save(self, guild_id: int, policy: GuildPolicy) -> None:
        """Store ``policy`` for ``guild_id``."""


class MemoryPolicyStore:
    """A :class:`PolicyStore` in a dict (tests, and bots without storage)."""

    def __init__(self) -> None:
        """Start empty."""
        self.policies: dict[int, GuildPolicy] = {}

    async def load(self, guild_id: int) -> GuildPolicy | None:
        """The stored policy, if any."""
        return self.policies.get(guild_id)

    async def save(self, guild_id: int, policy: GuildPolicy) -> None:
        """Keep ``policy``."""
        self.policies[guild_id] = policy


logger = contained_logger("securebot.permissions")  # tracebacks quoting user input stay contained

#: The verdict when the permission check itself fails (fail closed).
FAILED_CHECK = Verdict.deny(
    "the permission settings could not be read; try again later", source="permissions:error"
)

#: The verdict in a server the bot has not cached (its settings cannot be read; fail closed).
GUILD_UNAVAILABLE = Verdict.deny(
    "this server is not available to me yet; try again in a moment",
    source="permissions:guild-unavailable",
)

_EMPTY = GuildPolicy()
#: A remembered engine verdict: policy, command and requirement it was decided for, the
#: verdict and the query (for the plugin rules, which run every time).
_Remembered = tuple[GuildPolicy, Any, Requirement, Verdict, PermissionQuery]
_RULES_HOOK = "securebot_permission_rules"
#: Remembered engine verdicts before the cache starts over.
_VERDICT_CACHE = 10_000


def _owner_ids(bot: Any) -> frozenset[int]:
    ids = set(getattr(bot, "owner_ids", None) or ())
    single = getattr(bot, "owner_id", None)
    if single:
        ids.add(single)
    return frozenset(ids)


def _is_owner(bot: Any, user_id: int) -> bool:
    ids = getattr(bot, "owner_ids", None)
    return bool(ids and user_id in ids) or getattr(bot, "owner_id", None) == user_id


def subject_for(
    user: discord.abc.User,
    channel: Any,
    guild: discord.Guild | None,
    requirement: Requirement,
    *,
    bot_owners: frozenset[int],
    with_permissions: bool = True,
) -> Subject:
    """Describe ``user`` for the engine (channel permissions only when the command needs them;
    no permissions at all when ``with_permissions`` is false: see
    :func:`~securebot.core.permissions.engine.needs_member_permissions`)."""
    owner = user.id in bot_owners
    if guild is None or not isinstance(user, discord.Member):
        return Subject(user.id, is_bot_owner=owner)
    if not with_permissions:
        perms = 0
    elif requirement.user_permissions and hasattr(channel, "permissions_for"):
        perms = channel.permissions_for(user).value | _guild_level(user)
    else:
        perms = user.guild_permissions.value
    bot_perms = 0
    if requirement.bot_permissions and hasattr(channel, "permissions_for"):
        bot_perms = channel.permissions_for(guild.me).value
    return Subject(
        user_id=user.id,
        role_ids=frozenset(user._roles),
        permissions=perms,
        bot_permissions=bot_perms,
        is_guild_owner=guild.owner_id == user.id,
        is_bot_owner=owner,
    )


def _guild_level(member: discord.Member) -> int:
    perms = member.guild_permissions
    return discord.Permissions(
        administrator=perms.administrator, manage_guild=perms.manage_guild
    ).value


class PermissionGate:
    """Decides every command, slash command and component with one model."""

    def __init__(
        self,
        plugin_manager: PluginManager,
        *,
        store: PolicyStore | None = None,
        everyone_modules: Iterable[str] = EVERYONE_MODULES,
    ) -> None:
        """:param store: where guild policies live (default: memory only)."""
        self.plugin_manager = plugin_manager
        self.store: PolicyStore = store if store is not None else MemoryPolicyStore()
        self._everyone = frozenset(everyone_modules)
        self._cache: dict[int, GuildPolicy] = {}
        self._verbose: set[tuple[int | None, int]] = set()
        self._rules = getattr(plugin_manager.hook, _RULES_HOOK)
        self._verdicts: dict[tuple[Any, ...], _Remembered] = {}

    @property
    def everyone_modules(self) -> frozenset[str]:
        """Modules open to everyone by default (setting it forgets remembered verdicts)."""
        return self._everyone

    @everyone_modules.setter
    def everyone_modules(self, modules: frozenset[str]) -> None:
        self._everyone = frozenset(modules)
        self._verdicts.clear()

    # --- policies ---------------------------------------------------------------------------

    async def policy(self, guild_id: int | None) -> GuildPolicy:
        """The policy of ``guild_id`` (cached after the first load)."""
        if guild_id is None:
            return _EMPTY
        cached = self._cache.get(guild_id)
        if cached is None:
            cached = await self.store.load(guild_id) or _EMPTY
            self._cache[guild_id] = cached
        return cached

    async def update(
        self, guild_id: int, change: Callable[[GuildPolicy], GuildPolicy]
    ) -> GuildPolicy:
        """Apply ``change`` to the guild's policy, store it, and return the new policy."""
        policy = change(await self.policy(guild_id))
        await self.store.save(guild_id, policy)
        self._cache[guild_id] = policy
        return policy

    def forget(self, guild_id: int) -> None:
        """Drop the cached policy of ``guild_id`` (another shard changed it)."""
        self._cache.pop(guild_id, None)

    # --- verbose mode -----------------------------------------------------------------------

    def set_verbose(self, guild_id: int | None, user_id: int, on: bool) -> None:
        """Turn verbose mode (silent rejections sent by DM) on or off for a user in a guild."""
        if on:
            self._verbose.add((guild_id, user_id))
        else:
            self._verbose.discard((guild_id, user_id))

    def is_verbose(self, guild_id: int | None, user_id: int) -> bool:
        """Whether the user asked for rejection reasons by DM in that guild."""
        return (guild_id, user_id) in self._verbose

    # --- deciding ---------------------------------------------------------------------------

    def decide(self, policy: GuildPolicy, query: PermissionQuery) -> Verdict:
        """The engine's verdict, narrowed by the plugins' rules (deny wins)."""
        return self._narrow(evaluate(policy, query), query)

    def _narrow(self, verdict: Verdict, query: PermissionQuery) -> Verdict:
        if not verdict.allowed or not self._rules.get_hookimpls():
            return verdict
        request = AccessRequest(
            plugin=query.module,
            command=query.command,
            user_id=query.subject.user_id,
            channel_id=query.channel_id,
            guild_id=query.guild_id,
            role_ids=query.subject.role_ids,
            is_bot_owner=query.subject.is_bot_owner,
        )
        hooks = self.plugin_manager.decide(_RULES_HOOK, request=request, default=verdict)
        return hooks if hooks.decision is Decision.DENY else verdict

    async def query(
        self,
        *,
        bot: Any,
        module: str,
        command_name: str,
        requirement: Requirement,
        user: discord.abc.User,
        channel: Any,
        guild: discord.Guild | None,
        policy: GuildPolicy | None = None,
    ) -> PermissionQuery:
        """Build the engine's query for a user running a command in a channel.

        :param policy: the guild's policy, when known: the member's permissions are then
            computed only if a rule could read them.
        """
        everyone = module in self._everyone
        with_permissions = policy is None or needs_member_permissions(
            policy.module(module), requirement, everyone_by_default=everyone
        )
        subject = subject_for(
            user,
            channel,
            guild,
            requirement,
            bot_owners=_owner_ids(bot),
            with_permissions=with_permissions,
        )
        return PermissionQuery(
            module=module,
            command=command_name,
            channel_id=getattr(channel, "id", 0),
            guild_id=guild.id if guild is not None else None,
            subject=subject,
            requirement=requirement,
            everyone_by_default=everyone,
        )

    async def check_member(
        self,
        bot: Any,
        *,
        module: str,
        user: discord.abc.User,
        channel: Any,
        guild: discord.Guild | None,
        command_name: str = "",
        requirement: Requirement | None = None,
    ) -> Verdict:
        """Decide for someone who is not running a command right now: effective permissions
        shown to managers, and deferred runs (reminders, scheduled commands) re-checked when
        they are due. :data:`FAILED_CHECK` when the decision cannot be made."""
        try:
            query = await self.query(
                bot=bot,
                module=module,
                command_name=command_name,
                requirement=requirement if requirement is not None else Requirement(),
                user=user,
                channel=channel,
                guild=guild,
            )
            return self.decide(await self.policy(query.guild_id), query)
        except Exception:
            logger.exception("permission check of a member failed; denying")
            return FAILED_CHECK

    def _remembered_key(
        self,
        ctx: commands.Context[Any],
        policy: GuildPolicy,
        command: Any,
        requirement: Requirement,
        module: str,
        guild: discord.Guild,
        author: discord.Member,
    ) -> tuple[Any, ...]:
        # the same tuple as remembered() builds inline (a test holds them together)
        user_id = author.id
        return (
            id(policy),
            id(command),
            id(requirement),
            module,
            ctx.channel.id,
            user_id,
            tuple(author._roles),
            guild.owner_id == user_id,
            _is_owner(ctx.bot, user_id),
        )

    def remembered(self, ctx: commands.Context[Any]) -> Verdict | None:
        """The verdict of :meth:`check_context` when the engine's part of it is remembered
        (the plugin rules run now), without waiting; ``None`` when :meth:`check_context` must
        decide."""
        guild = ctx.guild
        author = ctx.author
        if guild is None or not isinstance(author, discord.Member):
            return None
        policy = self._cache.get(guild.id)
        if policy is None:
            return None
        command = ctx.command
        cog = command.cog if command is not None else None
        requirement = requirement_of(command)
        user_id = author.id
        bot = ctx.bot
        owners = bot.owner_ids
        found = self._verdicts.get(
            (
                id(policy),
                id(command),
                id(requirement),
                cog.qualified_name if cog is not None else "core",
                ctx.channel.id,
                user_id,
                tuple(author._roles),
                guild.owner_id == user_id,
                bool(owners and user_id in owners) or bot.owner_id == user_id,  # _is_owner
            )
        )
        # the entry holds policy, command and requirement: their ids are not reused meanwhile
        if (
            found is None
            or found[0] is not policy
            or found[1] is not command
            or found[2] is not requirement
        ):
            return None
        verdict = found[3]
        if verdict.decision is not Decision.ALLOW or not self._rules.get_hookimpls():
            return verdict
        return self._narrow(verdict, found[4])

    async def check_context(self, ctx: commands.Context[Any]) -> Verdict:
        """Decide a prefix (or hybrid) command invocation.

        When no rule can read the member's Discord permissions (see
        :func:`~securebot.core.permissions.engine.needs_member_permissions`), the engine's
        verdict depends only on the policy object, the command and its requirement, the
        channel, the member's id, roles and owner status: it is remembered under exactly those
        (see :meth:`remembered`), so a changed policy (a new object), requirement, role or
        owner status is decided afresh. Plugin rules run every time.
        """
        found = self.remembered(ctx)
        if found is not None:
            return found
        guild = ctx.guild
        if guild is None and not isinstance(ctx.channel, discord.abc.PrivateChannel):
            return GUILD_UNAVAILABLE  # a server message whose server is not cached: no DM
        command = ctx.command
        cog = command.cog if command is not None else None
        module = cog.qualified_name if cog is not None else "core"
        policy = await self.policy(guild.id if guild is not None else None)
        author = ctx.author
        requirement = requirement_of(command)
        query = await self.query(
            bot=ctx.bot,
            module=module,
            command_name=command.qualified_name if command else "",
            requirement=requirement,
            user=author,
            channel=ctx.channel,
            guild=guild,
            policy=policy,
        )
        if (
            guild is not None
            and isinstance(author, discord.Member)
            and not needs_member_permissions(
                policy.module(module), requirement, everyone_by_default=query.everyone_by_default
            )
        ):
            verdict = evaluate(policy, query)
            if len(self._verdicts) >= _VERDICT_CACHE:
                self._verdicts.clear()
            key = self._remembered_key(ctx, policy, command, requirement, module, guild, author)
            self._verdicts[key] = (policy, command, requirement, verdict, query)
            return self._narrow(verdict, query)
        return self.decide(policy, query)

    async def check_interaction(
        self,
        interaction: discord.Interaction[Any],
        *,
        module: str,
        command_name: str,
        requirement: Requirement,
    ) -> Verdict:
        """Decide a slash command or component interaction (:data:`FAILED_CHECK` when the
        decision cannot be made: unreadable settings, a store that is down...)."""
        try:
            query = await self.query(
                bot=interaction.client,
                module=module,
                command_name=command_name,
                requirement=requirement,
                user=interaction.user,
                channel=interaction.channel,
                guild=interaction.guild,
            )
            return self.decide(await self.policy(query.guild_id), query)
        except Exception:
            logger.exception("permission check of an interaction failed; denying")
            return FAILED_CHECK
