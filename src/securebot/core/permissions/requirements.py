"""What a command demands, declared next to it: ``@securebot.requires(user=..., bot=...)``.

::

    @securebot.requires(user={"ban_members"}, bot={"ban_members"})
    @securebot.command()
    async def ban(self, ctx, ...): ...

The permission engine reads the requirement for prefix commands, slash commands, components and
scheduled runs alike (Discord's ``default_permissions`` is only a hint to clients).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from discord.ext import commands

from securebot.core.permissions.model import Requirement, permission_bits
from securebot.core.plugin import command_info

#: Key of the :class:`Requirement` in ``Command.extras``.
REQUIREMENT_KEY = "securebot.requires"
_ATTRIBUTE = "__securebot_requirement__"
#: Where :func:`requirement_of` keeps its result (commands are declared once).
_RESOLVED_KEY = "securebot.requires.resolved"
_NONE = Requirement()

_T = TypeVar("_T")


def requires(
    *, user: Iterable[str] = (), bot: Iterable[str] = (), owner_only: bool = False
) -> Callable[[_T], _T]:
    """Declare the Discord permissions a command needs (user and bot), or owner-only.

    Apply it above ``@securebot.command`` (or below it, on the function).

    :raises ValueError: a permission name is unknown.
    """
    requirement = Requirement(
        user_permissions=permission_bits(user),
        bot_permissions=permission_bits(bot),
        owner_only=owner_only,
    )

    def decorator(target: _T) -> _T:
        if isinstance(target, commands.Command):
            target.extras[REQUIREMENT_KEY] = requirement
            target.extras.pop(_RESOLVED_KEY, None)
        else:
            setattr(target, _ATTRIBUTE, requirement)
        return target

    return decorator


def requirement_of(command: commands.Command[Any, ..., Any] | None) -> Requirement:
    """The requirement of ``command`` (``always_available`` from its ``CommandInfo``)."""
    if command is None:
        return _NONE
    resolved = command.extras.get(_RESOLVED_KEY)
    if isinstance(resolved, Requirement):
        return resolved
    resolved = _resolve(command)
    command.extras[_RESOLVED_KEY] = resolved
    return resolved


def _resolve(command: commands.Command[Any, ..., Any]) -> Requirement:
    found = command.extras.get(REQUIREMENT_KEY)
    if not isinstance(found, Requirement):
        found = getattr(command.callback, _ATTRIBUTE, None)
    base = found if isinstance(found, Requirement) else Requirement()
    info = command_info(command)
    if info.always_available and not base.always_available:
        return Requirement(base.user_permissions, base.bot_permissions, True, base.owner_only)
    return base
