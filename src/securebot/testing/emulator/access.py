"""Who may do what: the checks HTTP routes run before changing anything."""

from __future__ import annotations

from securebot.testing.emulator import errors as err
from securebot.testing.emulator import permissions as bits
from securebot.testing.emulator.api import Ctx
from securebot.testing.emulator.model import Channel, Guild, Member


def bot_member(ctx: Ctx, guild: Guild) -> Member:
    """The calling bot's membership in ``guild`` (403 Missing Access when it is not in it)."""
    member = guild.members.get(ctx.caller.user.id)
    if member is None:
        raise err.missing_access()
    return member


def guild_for(ctx: Ctx, name: str = "guild_id") -> tuple[Guild, Member]:
    """The guild named by the path parameter, and the bot's membership in it."""
    guild = ctx.world.guild(ctx.id(name, code=err.UNKNOWN_GUILD, what="Guild"))
    return guild, bot_member(ctx, guild)


def channel_for(ctx: Ctx, name: str = "channel_id") -> tuple[Channel, Guild | None, int]:
    """The channel named by the path parameter, its guild, and the bot's permissions there.

    A guild channel the bot cannot view is 403 Missing Access; a DM it is not part of too.
    """
    channel = ctx.world.channel(ctx.id(name))
    guild = ctx.world.guild_of(channel)
    if guild is None:
        if ctx.caller.user.id not in channel.recipient_ids:
            raise err.missing_access()
        return (
            channel,
            None,
            bits.ALL & ~(bits.ADMINISTRATOR | bits.MANAGE_MESSAGES | bits.MANAGE_CHANNELS),
        )
    member = bot_member(ctx, guild)
    perms = bits.channel_permissions(guild, channel, member, now=ctx.world.clock.time())
    if not perms & bits.VIEW_CHANNEL:
        raise err.missing_access()
    return channel, guild, perms


def require(perms: int, needed: int) -> None:
    """403 Missing Permissions unless every bit of ``needed`` is in ``perms``."""
    if perms & needed != needed:
        raise err.missing_permissions()


def guild_permissions(ctx: Ctx, guild: Guild, member: Member) -> int:
    """The bot's guild-wide permissions (a timeout restricts them)."""
    return bits.channel_permissions(guild, None, member, now=ctx.world.clock.time())


def require_above(guild: Guild, actor: Member, target: Member) -> None:
    """403 Missing Permissions when ``target`` is not below ``actor`` in the role hierarchy."""
    if not bits.outranks(guild, actor, target):
        raise err.missing_permissions()


def require_role_below(guild: Guild, actor: Member, position: int) -> None:
    """403 Missing Permissions when a role at ``position`` is not below the actor's top role."""
    if not bits.can_manage_role(guild, actor, position):
        raise err.missing_permissions()
