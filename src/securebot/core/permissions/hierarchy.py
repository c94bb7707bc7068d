"""Hierarchy guards: nobody acts on, or hands out, roles at or above their own top role or the
bot's top role (spec §2.4 rule 8). Pure functions over role positions, plus discord.py helpers.
"""

from __future__ import annotations

import discord
from discord.ext import commands

from securebot.core.rules import Verdict

_SOURCE = "permissions:hierarchy"


class HierarchyError(commands.CheckFailure):
    """An action would break the role hierarchy; the message says whose role is too low."""


def may_act_on(
    actor_top: int, target_top: int, bot_top: int, *, actor_is_owner: bool, target_is_owner: bool
) -> Verdict:
    """Whether an actor may moderate a target, given top-role positions.

    The guild owner is above everyone; nobody acts on the guild owner.
    """
    if target_is_owner:
        return Verdict.deny("nobody can act on the server owner", source=_SOURCE)
    if target_top >= bot_top:
        return Verdict.deny("their top role is not below mine", source=_SOURCE)
    if not actor_is_owner and target_top >= actor_top:
        return Verdict.deny("their top role is not below yours", source=_SOURCE)
    return Verdict.allow("below both your top role and mine", source=_SOURCE)


def may_manage_role(
    role_position: int, actor_top: int, bot_top: int, *, actor_is_owner: bool
) -> Verdict:
    """Whether an actor may assign, remove or configure a role at ``role_position``."""
    if role_position >= bot_top:
        return Verdict.deny("that role is not below my top role", source=_SOURCE)
    if not actor_is_owner and role_position >= actor_top:
        return Verdict.deny("that role is not below your top role", source=_SOURCE)
    return Verdict.allow("below both your top role and mine", source=_SOURCE)


def check_can_act_on(actor: discord.Member, target: discord.Member) -> None:
    """Raise :class:`HierarchyError` unless ``actor`` (and the bot) may act on ``target``."""
    guild = actor.guild
    verdict = may_act_on(
        actor.top_role.position,
        target.top_role.position,
        guild.me.top_role.position,
        actor_is_owner=guild.owner_id == actor.id,
        target_is_owner=guild.owner_id == target.id,
    )
    if not verdict.allowed:
        raise HierarchyError(f"You can't act on {target.display_name}: {verdict.reason}.")


def check_can_manage_role(actor: discord.Member, role: discord.Role) -> None:
    """Raise :class:`HierarchyError` unless ``actor`` (and the bot) may hand out ``role``."""
    guild = actor.guild
    verdict = may_manage_role(
        role.position,
        actor.top_role.position,
        guild.me.top_role.position,
        actor_is_owner=guild.owner_id == actor.id,
    )
    if not verdict.allowed:
        raise HierarchyError(f"You can't use the role {role.name}: {verdict.reason}.")
