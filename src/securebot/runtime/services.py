"""The services a bot runs on, opened from configuration and wired into a :class:`~securebot.Bot`.

:func:`open_services` opens, in order: log redaction, the keyring (fail closed), and the store
of record (SQLite by default, MongoDB in production) with an optional Redis read-through cache.
:meth:`Services.wire` then moves a freshly built bot onto them: ``bot.store`` for plugins, the
hash-chained audit log on the store with its sensitive fields sealed under the ``audit`` key,
the scheduler's jobs on the store, and the storage plugin (migrations, retention, data rights).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import attrs

from securebot.core.audit import CipherSealer
from securebot.core.bot import Bot
from securebot.core.config import Config, StorageSettings
from securebot.core.storage import Backend, Store
from securebot.core.storage.plugin import StoragePlugin
from securebot.crypto import FieldCipher, install_redaction
from securebot.errors import ConfigError
from securebot.runtime.keys import KeyringFile, open_configured_keyring
from securebot.storage.sqlite import SqliteAuditStore, SqliteBackend, SqliteJobStore

log = logging.getLogger("securebot.runtime")


@attrs.frozen
class Services:
    """What a running bot stands on: its keyring (and file), store, and SQLite file."""

    keys: KeyringFile
    store: Store
    sqlite: SqliteBackend

    async def wire(self, bot: Bot) -> None:
        """Move ``bot`` (built, not started) onto these services."""
        bot.store = self.store
        bot.audit_log.store = SqliteAuditStore(self.sqlite)
        bot.audit_log.sealer = CipherSealer(FieldCipher(self.keys.keyring, "audit"))
        bot.scheduler.store = SqliteJobStore(
            self.sqlite, cipher=FieldCipher(self.keys.keyring, "messages")
        )
        bot.plugin_manager.register(StoragePlugin(self.store), source="securebot")


def _backend(settings: StorageSettings) -> tuple[Backend, SqliteBackend]:
    """The store of record (plus cache) and the SQLite file of the audit log and jobs."""
    if settings.backend == "mongo":
        raise ConfigError(
            'storage.backend = "mongo": the hash-chained audit log and the scheduler have no'
            " MongoDB store yet, and securebot does not split them from the records; use"
            ' "sqlite" until they do (records, settings and the Redis cache are ready for'
            " MongoDB: see docs/storage-production.md)"
        )
    sqlite = SqliteBackend(settings.path)
    backend: Backend = sqlite
    if settings.redis_url is not None:
        from securebot.storage.redis_cache import RedisCache
        from securebot.storage.redis_client import RedisSettings

        url = settings.redis_url.resolve(where="storage.redis_url")
        backend = RedisCache(sqlite, RedisSettings(url=url))
    return backend, sqlite


@contextlib.asynccontextmanager
async def open_services(config: Config) -> AsyncIterator[Services]:
    """Open redaction, the keyring and the store for ``config``; close them on exit.

    Fails closed: a keyring that cannot be opened or a store that cannot be reached stops here
    with one clear :class:`~securebot.errors.SecurebotError`.
    """
    uninstall = install_redaction()
    try:
        keys = await open_configured_keyring(config)
        backend, sqlite = _backend(config.storage)
        store = Store(backend, keyring=keys.keyring, save_keyring=keys.save)
        await store.open()
        try:
            yield Services(keys=keys, store=store, sqlite=sqlite)
        finally:
            await keys.save()
            await store.close()
    finally:
        uninstall()


async def run_bot(config: Config, token: str, **bot_options: Any) -> None:
    """Run the configured bot on its services until it is closed (``securebot run``)."""
    from securebot.core.app import build_bot
    from securebot.crypto import register_secret

    register_secret(token)
    async with open_services(config) as services:
        bot = build_bot(config, **bot_options)
        await services.wire(bot)
        async with bot:
            await bot.start(token)
