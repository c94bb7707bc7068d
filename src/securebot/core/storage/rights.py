"""Data rights for everything kept through a :class:`~securebot.core.storage.store.Store`.

:class:`StorageDataRights` is a plugin answering ``securebot_export_user_data`` and
``securebot_delete_user_data`` for every record whose type declares ``owner`` fields and for
user / member settings. Register it once per bot (``plugin_manager.register(
StorageDataRights(store))``); plugins that keep their data in the Store then need not answer
these hooks for that data themselves. Imported on demand (it pulls in discord.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from securebot.core.manifest import PluginManifest, UserData
from securebot.core.markers import hookimpl
from securebot.core.plugin import Plugin
from securebot.core.storage.store import Store


class StorageDataRights(Plugin):
    """Exports and erases a user's records and settings kept in the Store."""

    manifest: ClassVar[PluginManifest] = PluginManifest(
        name="storage",
        version="1.0",
        description="Data rights (export, erasure) for records and settings kept in the store.",
        user_data=UserData.kept(
            "Records whose type names the user as an owner (cases, submissions...) and the "
            "user's own and per-server settings; sensitive fields are encrypted at rest."
        ),
    )

    def __init__(self, store: Store) -> None:
        """Answer for ``store``."""
        self.store = store

    @hookimpl
    async def securebot_export_user_data(self, user_id: int) -> Mapping[str, Any] | None:
        """Every record and settings value the user owns, decrypted, JSON-able."""
        data = await self.store.export_user(user_id)
        if not data["records"] and not data["settings"] and not data["unreadable"]:
            return None
        return data

    @hookimpl
    async def securebot_delete_user_data(self, user_id: int) -> int:
        """Erase them; return how many items were erased."""
        return await self.store.delete_user(user_id)
