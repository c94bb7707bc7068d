"""The storage plugin: migrations and retention at startup, data rights for the whole Store.

:class:`StoragePlugin` (register it once per bot with
``plugin_manager.register(StoragePlugin(store))``):

* on ``securebot_startup``: upgrades stored records to their types' schema versions
  (:meth:`Store.migrate`), purges expired records, and when the bot has a scheduler, keeps one
  recurring ``storage.purge`` job (every :data:`PURGE_EVERY` seconds) so retention runs while
  the bot is up;
* answers ``securebot_export_user_data`` / ``securebot_delete_user_data`` for every record whose
  type declares ``owner`` fields and for user / member settings, so plugins that keep their data
  in the Store need not answer these hooks for that data themselves.

Imported on demand (it pulls in discord.py through :class:`~securebot.core.plugin.Plugin`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from securebot.core.manifest import PluginManifest, UserData
from securebot.core.markers import hookimpl
from securebot.core.plugin import Plugin
from securebot.core.storage.store import Store

log = logging.getLogger("securebot.storage")

#: Job kind of the recurring retention purge.
PURGE_KIND = "storage.purge"
#: Seconds between purges.
PURGE_EVERY = 6 * 3600


class StoragePlugin(Plugin):
    """Startup migrations, scheduled retention, and data rights for a :class:`Store`."""

    manifest: ClassVar[PluginManifest] = PluginManifest(
        name="storage",
        version="1.0",
        description="Store upkeep (migrations, retention) and data rights for what it keeps.",
        user_data=UserData.kept(
            "Records whose type names the user as an owner (cases, submissions...) and the "
            "user's own and per-server settings; sensitive fields are encrypted at rest."
        ),
    )

    def __init__(self, store: Store) -> None:
        """Look after ``store``."""
        self.store = store

    @hookimpl
    async def securebot_startup(self, bot: Any) -> None:
        """Migrate, purge, and keep the recurring purge job scheduled."""
        upgraded = await self.store.migrate()
        changed = {name: count for name, count in upgraded.items() if count}
        if changed:
            log.info("storage: upgraded records %s", changed)
        await self.purge()
        scheduler = getattr(bot, "scheduler", None)
        if scheduler is None:
            return
        if PURGE_KIND not in scheduler.kinds:
            scheduler.register(PURGE_KIND, self._scheduled_purge)
        if not await scheduler.store.jobs(kind=PURGE_KIND):
            first = scheduler.clock.now() + dt.timedelta(seconds=PURGE_EVERY)
            await scheduler.schedule(PURGE_KIND, first, interval=PURGE_EVERY)

    async def purge(self) -> int:
        """Remove expired records of every declared type; return how many."""
        removed = await self.store.purge()
        if removed:
            log.info("storage: purged %d expired record(s)", removed)
        return removed

    async def _scheduled_purge(self, run: Any) -> None:
        await self.purge()

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
