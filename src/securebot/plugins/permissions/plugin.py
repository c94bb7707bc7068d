"""The ``permissions`` plugin: Giselle's commands to manage the permission engine.

Managers (Manage Server, by default) grant and revoke modules to roles and users, edit each
module's channel list and its mode, disable whole modules, and see the settings and anyone's
effective permissions. Every change goes through ``bot.permissions.update`` (so the gate's
:class:`PolicyStore` keeps it: memory by default, storage when the composition root wires it)
and is written to the audit log as a configuration change. With a Store on the bot
(``bot.store``, set by the composition root) policies are kept there, per guild.

Hierarchy guards: a manager who is not the server owner cannot change the access of a member
whose top role is at or above their own, nor of a role at or above their own top role. The
``permissions`` module itself cannot be disabled (nobody could turn it back on).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import attrs
import discord
from discord.ext import commands

import securebot
from securebot.plugins.permissions.policies import StorePolicyStore

#: Longest reply the plugin builds (Discord's message limit is 2000 characters).
_MAX_REPLY = 1900
_SELF = "permissions"

#: One grant/revoke step: the module's policy after changing one role's or user's access.
_TargetStep = Callable[
    [securebot.ModulePolicy, discord.Member | discord.User | discord.Role], securebot.ModulePolicy
]


def _bot(ctx: securebot.Context) -> securebot.Bot:
    bot = ctx.bot
    if not isinstance(bot, securebot.Bot):
        raise commands.CheckFailure("this command needs a securebot Bot")
    return bot


def _guild(ctx: securebot.Context) -> discord.Guild:
    if ctx.guild is None:
        raise commands.NoPrivateMessage("this command only works in a server")
    return ctx.guild


def _module_name(ctx: securebot.Context, name: str) -> str:
    """The module (plugin) called ``name``, or a ``BadArgument`` listing the known ones."""
    wanted = name.strip().lower()
    modules = sorted(ctx.bot.cogs)
    if wanted not in modules:
        raise commands.BadArgument(
            f"there is no module called `{name[:40]}` (modules: {', '.join(modules)})"
        )
    return wanted


def _describe(target: discord.abc.Snowflake) -> str:
    return f"role:{target.id}" if isinstance(target, discord.Role) else f"user:{target.id}"


def _mention(target: discord.abc.Snowflake) -> str:
    return target.mention if isinstance(target, discord.Role | discord.abc.User) else str(target)


def _clip(lines: Iterable[str]) -> str:
    text = ""
    for line in lines:
        if len(text) + len(line) + 1 > _MAX_REPLY:
            return text + "…"
        text += line + "\n"
    return text.rstrip("\n")


def hierarchy_problem(
    actor: discord.Member, target: discord.Member | discord.User | discord.Role
) -> str:
    """Why ``actor`` may not change ``target``'s access ("" when allowed)."""
    guild = actor.guild
    if guild.owner_id == actor.id:
        return ""
    top = actor.top_role.position
    if isinstance(target, discord.Role):
        if target.position >= top:
            return f"the role {target.name} is not below your top role"
        return ""
    if guild.owner_id == target.id:
        return "nobody changes the server owner's access"
    member = target if isinstance(target, discord.Member) else guild.get_member(target.id)
    if member is not None and member.id != actor.id and member.top_role.position >= top:
        return f"{member.display_name}'s top role is not below yours"
    return ""


async def _member_or_user(
    guild: discord.Guild, target: discord.Member | discord.User | discord.Role
) -> discord.Member | discord.User | discord.Role:
    """``target`` as a member when it is one, asking Discord when the cache does not know it
    (without the members intent most members are not cached): the hierarchy guard must see
    their roles. A user who is not a member stays a user (no roles to protect); any other
    failure refuses the change (fail closed)."""
    if isinstance(target, discord.Role | discord.Member) or guild.owner_id == target.id:
        return target
    member = guild.get_member(target.id)
    if member is not None:
        return member
    try:
        return await guild.fetch_member(target.id)
    except discord.NotFound:
        return target
    except discord.HTTPException:
        raise commands.CheckFailure(
            f"You can't change that now: could not check {target.name}'s roles; try again."
        ) from None


class Permissions(securebot.Plugin):
    """Giselle's permission commands: grants, channel lists, module switches, verbose mode."""

    manifest = securebot.PluginManifest(
        name="permissions",
        version="1.0.0",
        description="Manage who can use each module: grants, channel lists, module switches.",
        user_data=securebot.UserData.none(
            "Stores per-server settings naming roles, users and channels (ids only), which "
            "belong to the server's configuration, not to a user's profile."
        ),
        intents={"guilds", "guild_messages", "message_content"},
        permissions={"send_messages"},
    )

    @securebot.hookimpl
    async def securebot_startup(self, bot: securebot.Bot) -> None:
        """Keep guild policies in the bot's Store when it has one (else in memory)."""
        if bot.store is not None:
            bot.permissions.store = StorePolicyStore(bot.store)

    # --- helpers ----------------------------------------------------------------------------

    async def _change(
        self,
        ctx: securebot.Context,
        module: str,
        change: Callable[[securebot.ModulePolicy], securebot.ModulePolicy],
        *,
        setting: str,
        detail: dict[str, Any],
    ) -> securebot.ModulePolicy:
        bot = _bot(ctx)
        guild = _guild(ctx)
        policy = await bot.permissions.update(
            guild.id, lambda p: p.with_module(module, change(p.module(module)))
        )
        bot.auditor.config(
            guild_id=guild.id,
            actor_id=ctx.author.id,
            setting=f"permissions.{module}.{setting}",
            detail=detail,
        )
        return policy.module(module)

    async def _change_targets(
        self,
        ctx: securebot.Context,
        module: str,
        targets: list[discord.Member | discord.User | discord.Role],
        step: _TargetStep,
        *,
        setting: str,
    ) -> str:
        """Apply ``step`` to ``module``'s policy for each target (hierarchy checked first),
        audit it as ``setting``, and return the targets as mentions for the reply."""
        await self._check_targets(ctx, targets)

        def change(policy: securebot.ModulePolicy) -> securebot.ModulePolicy:
            for target in targets:
                policy = step(policy, target)
            return policy

        await self._change(
            ctx,
            module,
            change,
            setting=setting,
            detail={"targets": [_describe(t) for t in targets]},
        )
        return ", ".join(_mention(t) for t in targets)

    async def _check_targets(
        self,
        ctx: securebot.Context,
        targets: list[discord.Member | discord.User | discord.Role],
    ) -> None:
        actor = ctx.author
        if not isinstance(actor, discord.Member):
            raise commands.NoPrivateMessage("this command only works in a server")
        for target in targets:
            problem = hierarchy_problem(actor, await _member_or_user(actor.guild, target))
            if problem:
                raise commands.CheckFailure(f"You can't change that: {problem}.")

    # --- verbose ----------------------------------------------------------------------------

    @securebot.command(
        always_available=True,
        help="Toggle verbose mode: silent refusals of your commands are explained by DM.",
    )
    async def verbose(self, ctx: securebot.Context) -> None:
        """Toggle verbose mode for the author in this server."""
        gate = _bot(ctx).permissions
        guild_id = ctx.guild.id if ctx.guild else None
        on = not gate.is_verbose(guild_id, ctx.author.id)
        gate.set_verbose(guild_id, ctx.author.id, on)
        state = "on: I will DM you why a command is refused" if on else "off"
        await ctx.send(f"Verbose mode is {state}.")

    # --- showing ----------------------------------------------------------------------------

    @securebot.command(aliases=["pes"], help="Summary of every module's permission settings.")
    async def permshow(self, ctx: securebot.Context) -> None:
        """One line per module: enabled, who by default, grants, denies, channel list."""
        bot = _bot(ctx)
        policy = await bot.permissions.policy(_guild(ctx).id)
        lines = []
        for name in sorted(bot.cogs):
            module = policy.module(name)
            default = "everyone" if name in bot.permissions.everyone_modules else "managers"
            state = "enabled" if module.enabled else "DISABLED"
            lines.append(
                f"{name}: {state}, default {default}, "
                f"granted {len(module.granted_roles)} role(s) {len(module.granted_users)} "
                f"user(s), denied {len(module.denied_roles)} role(s) "
                f"{len(module.denied_users)} user(s), "
                f"{module.channel_mode.value} of {len(module.channels)} channel(s)"
            )
        await ctx.send(_clip(lines))

    @securebot.command(
        aliases=["pesm"], help="The roles, users and channel overrides of one module."
    )
    async def permshowmod(self, ctx: securebot.Context, module: str) -> None:
        """Details of one module's settings, with mentions."""
        bot = _bot(ctx)
        name = _module_name(ctx, module)
        policy = (await bot.permissions.policy(_guild(ctx).id)).module(name)

        def roles(ids: Iterable[int]) -> str:
            return " ".join(f"<@&{i}>" for i in sorted(ids)) or "none"

        def users(ids: Iterable[int]) -> str:
            return " ".join(f"<@{i}>" for i in sorted(ids)) or "none"

        channels = " ".join(f"<#{i}>" for i in sorted(policy.channels)) or "none"
        lines = [
            f"**{name}** is {'enabled' if policy.enabled else 'DISABLED'}",
            f"Granted roles: {roles(policy.granted_roles)}",
            f"Granted users: {users(policy.granted_users)}",
            f"Denied roles: {roles(policy.denied_roles)}",
            f"Denied users: {users(policy.denied_users)}",
            f"Module roles: {roles(policy.module_roles)}",
            f"Channel {policy.channel_mode.value}: {channels}",
        ]
        await ctx.send(_clip(lines), allowed_mentions=discord.AllowedMentions.none())

    @securebot.command(
        aliases=["pef"],
        usage="(member) [channel]",
        help="What a member can use here: each module with the rule that decides it.",
    )
    async def permeffective(
        self,
        ctx: securebot.Context,
        member: securebot.CachedMember,
        channel: discord.TextChannel | None = None,
    ) -> None:
        """Evaluate every module for ``member`` in ``channel`` (default: here)."""
        bot = _bot(ctx)
        guild = _guild(ctx)
        where = channel or ctx.channel
        lines = [f"Effective permissions of {member.display_name} in #{where}:"]
        for name in sorted(bot.cogs):
            verdict = await bot.permissions.check_member(
                bot, module=name, user=member, channel=where, guild=guild
            )
            mark = "✅" if verdict.allowed else "⛔"
            lines.append(f"{mark} {name}: {verdict.reason} ({verdict.source})")
        await ctx.send(_clip(lines))

    # --- grants -----------------------------------------------------------------------------

    @securebot.command(
        aliases=["peem"],
        usage="(module) (roles/users...)",
        help="Give roles or users access to a module (each entry is a member or a role).",
    )
    async def permenablemod(
        self, ctx: securebot.Context, module: str, *, targets: securebot.UserOrRoleList
    ) -> None:
        """Grant: lift a deny if there is one, else add a grant."""
        name = _module_name(ctx, module)
        shown = await self._change_targets(ctx, name, targets, _grant, setting="grant")
        await ctx.send(
            f"Granted **{name}** to {shown}.", allowed_mentions=discord.AllowedMentions.none()
        )

    @securebot.command(
        aliases=["pedm"],
        usage="(module) (roles/users...)",
        help="Take a module away from roles or users (each entry is a member or a role).",
    )
    async def permdisablemod(
        self, ctx: securebot.Context, module: str, *, targets: securebot.UserOrRoleList
    ) -> None:
        """Revoke: remove a grant if there is one, else add a deny."""
        name = _module_name(ctx, module)
        shown = await self._change_targets(ctx, name, targets, _revoke, setting="revoke")
        await ctx.send(
            f"Revoked **{name}** from {shown}.", allowed_mentions=discord.AllowedMentions.none()
        )

    @securebot.command(
        aliases=["petm"],
        help="Disable or enable a whole module for everyone, administrators included.",
    )
    async def permtogglemod(self, ctx: securebot.Context, module: str) -> None:
        """Flip the module's enabled flag."""
        name = _module_name(ctx, module)
        if name == _SELF:
            raise commands.BadArgument(
                "the permissions module cannot be disabled: nobody could turn it back on"
            )
        updated = await self._change(
            ctx,
            name,
            lambda p: attrs.evolve(p, enabled=not p.enabled),
            setting="enabled",
            detail={},
        )
        await ctx.send(f"**{name}** is now {'enabled' if updated.enabled else 'disabled'}.")

    # --- channel lists ----------------------------------------------------------------------

    @securebot.command(
        aliases=["cpt"],
        usage="(module) (channels...)",
        help="Add or remove channels from a module's channel list (for non-managers).",
    )
    async def chanpermtoggle(self, ctx: securebot.Context, module: str, *, channels: str) -> None:
        """Toggle each channel in the module's list."""
        name = _module_name(ctx, module)
        found: list[discord.abc.GuildChannel] = []
        for entry in channels.split():
            try:
                found.append(await commands.GuildChannelConverter().convert(ctx, entry))
            except commands.BadArgument:
                raise commands.BadArgument(f"no channel called `{entry[:40]}`") from None
        ids = {channel.id for channel in found}

        def change(policy: securebot.ModulePolicy) -> securebot.ModulePolicy:
            return attrs.evolve(policy, channels=policy.channels ^ ids)

        updated = await self._change(
            ctx,
            name,
            change,
            setting="channels",
            detail={"toggled": [f"channel:{i}" for i in sorted(ids)]},
        )
        listed = " ".join(f"<#{i}>" for i in sorted(updated.channels)) or "none"
        await ctx.send(f"**{name}** channel {updated.channel_mode.value}: {listed}")

    @securebot.command(
        aliases=["cptm"],
        help="Switch a module's channel list between blacklist (default) and whitelist.",
    )
    async def chanpermtogglemode(self, ctx: securebot.Context, module: str) -> None:
        """Flip blacklist ↔ whitelist."""
        name = _module_name(ctx, module)

        def change(policy: securebot.ModulePolicy) -> securebot.ModulePolicy:
            mode = (
                securebot.ChannelMode.WHITELIST
                if policy.channel_mode is securebot.ChannelMode.BLACKLIST
                else securebot.ChannelMode.BLACKLIST
            )
            return attrs.evolve(policy, channel_mode=mode)

        updated = await self._change(ctx, name, change, setting="channel-mode", detail={})
        await ctx.send(f"**{name}** channel list is now a {updated.channel_mode.value}.")


def _grant(
    policy: securebot.ModulePolicy, target: discord.Member | discord.User | discord.Role
) -> securebot.ModulePolicy:
    if isinstance(target, discord.Role):
        if target.id in policy.denied_roles:
            return attrs.evolve(policy, denied_roles=policy.denied_roles - {target.id})
        return attrs.evolve(policy, granted_roles=policy.granted_roles | {target.id})
    if target.id in policy.denied_users:
        return attrs.evolve(policy, denied_users=policy.denied_users - {target.id})
    return attrs.evolve(policy, granted_users=policy.granted_users | {target.id})


def _revoke(
    policy: securebot.ModulePolicy, target: discord.Member | discord.User | discord.Role
) -> securebot.ModulePolicy:
    if isinstance(target, discord.Role):
        if target.id in policy.granted_roles:
            return attrs.evolve(policy, granted_roles=policy.granted_roles - {target.id})
        return attrs.evolve(policy, denied_roles=policy.denied_roles | {target.id})
    if target.id in policy.granted_users:
        return attrs.evolve(policy, granted_users=policy.granted_users - {target.id})
    return attrs.evolve(policy, denied_users=policy.denied_users | {target.id})
