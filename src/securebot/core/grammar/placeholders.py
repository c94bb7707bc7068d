"""Giselle placeholders: ``%user%``, ``%server%``, ``%now%`` ... in user-written templates.

:func:`render` substitutes known ``%name%`` placeholders in one pass (a value containing
``%user%`` is never expanded again) and leaves unknown ones as typed. :func:`member_values`
builds the shared set (spec §2.2) from a member and the bot; modules add their own
(``%role%``, ``%level%``, ``%message%``...).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

import discord

_PLACEHOLDER = re.compile(r"%([a-z_]+)%")

#: The shared placeholder names (spec §2.2).
SHARED = (
    "user",
    "username",
    "discriminator",
    "fullusername",
    "user_avatar_url",
    "user_server_avatar_url",
    "bot",
    "botname",
    "botdiscriminator",
    "fullbotname",
    "bot_avatar_url",
    "server",
    "now",
    "now_iso",
    "server_time",
    "server_icon_url",
    "server_banner_url",
    "server_splash_url",
    "server_member_count",
    "boost_level",
    "boost_number",
)


def render(template: str, values: Mapping[str, str]) -> str:
    """Replace each ``%name%`` whose name is in ``values``; leave the others untouched."""

    def substitute(match: re.Match[str]) -> str:
        return values.get(match.group(1), match.group(0))

    return _PLACEHOLDER.sub(substitute, template)


def placeholders_in(template: str) -> frozenset[str]:
    """The placeholder names used in ``template``."""
    return frozenset(_PLACEHOLDER.findall(template))


def _url(asset: discord.Asset | None) -> str:
    return asset.url if asset is not None else ""


def member_values(
    member: discord.Member | discord.User, bot_user: discord.ClientUser, *, now: dt.datetime
) -> dict[str, str]:
    """The shared placeholder values for ``member`` (a :class:`discord.Member` in a guild)."""
    guild = getattr(member, "guild", None)
    values = {
        "user": member.mention,
        "username": member.name,
        "discriminator": member.discriminator,
        "fullusername": str(member),
        "user_avatar_url": member.display_avatar.url,
        "user_server_avatar_url": _url(getattr(member, "guild_avatar", None))
        or member.display_avatar.url,
        "bot": bot_user.mention,
        "botname": bot_user.name,
        "botdiscriminator": bot_user.discriminator,
        "fullbotname": str(bot_user),
        "bot_avatar_url": bot_user.display_avatar.url,
        "now": now.strftime("%Y-%m-%d %H:%M UTC"),
        "now_iso": now.isoformat(),
    }
    if isinstance(guild, discord.Guild):
        values.update(
            {
                "server": guild.name,
                "server_time": now.strftime("%Y-%m-%d %H:%M UTC"),
                "server_icon_url": _url(guild.icon),
                "server_banner_url": _url(guild.banner),
                "server_splash_url": _url(guild.splash),
                "server_member_count": str(guild.member_count or 0),
                "boost_level": str(guild.premium_tier),
                "boost_number": str(guild.premium_subscription_count),
            }
        )
    return values
