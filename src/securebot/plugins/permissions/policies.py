"""Guild permission policies kept in the bot's Store (settings of the ``permissions`` namespace).

A policy is stored as plain JSON (module name -> enabled flag, id lists, channel mode). Reading
validates every field: a damaged stored policy raises, and the gate's check fails closed (the
command is refused and the failure logged), never reading half a policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import securebot
from securebot import storage
from securebot.errors import CorruptRecordError

_NAMESPACE = "permissions"
_ID_FIELDS = (
    "granted_roles",
    "granted_users",
    "denied_roles",
    "denied_users",
    "channels",
    "module_roles",
)


def encode_policy(modules: Mapping[str, securebot.ModulePolicy]) -> dict[str, Any]:
    """The JSON form of a guild's module policies."""
    return {
        name: {
            "enabled": policy.enabled,
            "channel_mode": policy.channel_mode.value,
            **{field: sorted(getattr(policy, field)) for field in _ID_FIELDS},
        }
        for name, policy in modules.items()
    }


def decode_policy(data: Any, *, guild_id: int) -> dict[str, securebot.ModulePolicy]:
    """The module policies of a stored JSON form; raise ``CorruptRecordError`` if damaged."""
    where = f"permissions policy of guild {guild_id}"
    if not isinstance(data, dict):
        raise CorruptRecordError(f"{where} is not a table")
    modules: dict[str, securebot.ModulePolicy] = {}
    for name, fields in data.items():
        if not isinstance(name, str) or not isinstance(fields, dict):
            raise CorruptRecordError(f"{where}: module entry is malformed")
        enabled = fields.get("enabled")
        if not isinstance(enabled, bool):
            raise CorruptRecordError(f"{where}: {name}.enabled is not a boolean")
        try:
            mode = securebot.ChannelMode(fields.get("channel_mode"))
        except ValueError:
            raise CorruptRecordError(f"{where}: {name}.channel_mode is unknown") from None
        ids: dict[str, frozenset[int]] = {}
        for field in _ID_FIELDS:
            values = fields.get(field)
            if not isinstance(values, list) or not all(
                isinstance(v, int) and not isinstance(v, bool) for v in values
            ):
                raise CorruptRecordError(f"{where}: {name}.{field} is not a list of ids")
            ids[field] = frozenset(values)
        modules[name] = securebot.ModulePolicy(enabled=enabled, channel_mode=mode, **ids)
    return modules


class StorePolicyStore:
    """A ``PolicyStore`` on the bot's :class:`~securebot.storage.Store` (durable, per guild)."""

    def __init__(self, store: storage.Store) -> None:
        """Keep policies as guild settings of the ``permissions`` namespace."""
        self.settings = store.settings(_NAMESPACE)
        if "policy" not in self.settings.defaults(storage.Scope.GUILD):  # one Settings per store
            self.settings.register(storage.Scope.GUILD, policy=None)

    async def load(self, guild_id: int) -> securebot.GuildPolicy | None:
        """The stored policy of ``guild_id`` (``None`` when nothing is stored)."""
        data = await self.settings.guild(guild_id).get("policy")
        if data is None:
            return None
        return securebot.GuildPolicy(decode_policy(data, guild_id=guild_id))

    async def save(self, guild_id: int, policy: securebot.GuildPolicy) -> None:
        """Store ``policy`` for ``guild_id``."""
        await self.settings.guild(guild_id).set("policy", encode_policy(policy.modules))
