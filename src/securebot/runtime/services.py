"""The services a bot runs on, opened from configuration and wired into a :class:`~securebot.Bot`.

:func:`open_services` opens, in order: log redaction, the keyring (fail closed), and the store
of record (SQLite by default, MongoDB in production) with an optional Redis read-through cache.
The hash-chained audit log and the scheduler's jobs live in the same store of record (the
SQLite file, or the MongoDB database through the same client); the cache never holds them.
:meth:`Services.wire` then moves a freshly built bot onto them: ``bot.store`` for plugins, the
audit log with its sensitive fields sealed under the ``audit`` key, the scheduler's jobs with
their payloads sealed under the ``messages`` key, and the storage plugin (migrations,
retention, data rights).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import attrs

from securebot.core.audit import AuditLog, CipherSealer
from securebot.core.audit.store import AuditStore
from securebot.core.bot import Bot
from securebot.core.config import Config, StorageSettings
from securebot.core.scheduler.store import JobStore
from securebot.core.storage import Backend, Store
from securebot.core.storage.plugin import StoragePlugin
from securebot.crypto import FieldCipher, install_redaction
from securebot.runtime.keys import KeyringFile, open_configured_keyring
from securebot.storage.sqlite import SqliteAuditStore, SqliteBackend, SqliteJobStore

if TYPE_CHECKING:
    from securebot.crypto import Keyring
    from securebot.runtime.downloads import DevelopmentDownloads
    from securebot.storage.mongo import MongoSettings

log = logging.getLogger("securebot.runtime")


@attrs.frozen
class Services:
    """What a running bot stands on: its keyring (and file), store, audit and job stores.

    ``sqlite`` is the SQLite file when it is the store of record (``None`` on MongoDB).
    """

    keys: KeyringFile
    store: Store
    audit_store: AuditStore
    job_store: JobStore
    sqlite: SqliteBackend | None = None

    def audit_sealer(self) -> CipherSealer:
        """What seals the audit log's sensitive fields: the keyring's ``audit`` key."""
        return CipherSealer(FieldCipher(self.keys.keyring, "audit"))

    def audit_log(self) -> AuditLog:
        """A new audit log on :attr:`audit_store`, sealed as the bot's (not started).

        For processes with no bot that must audit into the same hash-chained log, such as
        ``securebot gateway serve``.
        """
        return AuditLog(self.audit_store, sealer=self.audit_sealer())

    async def wire(self, bot: Bot) -> None:
        """Move ``bot`` (built, not started) onto these services."""
        bot.store = self.store
        bot.audit_log.store = self.audit_store
        bot.audit_log.sealer = self.audit_sealer()
        bot.scheduler.store = self.job_store
        bot.plugin_manager.register(StoragePlugin(self.store), source="securebot")


@attrs.frozen
class _Opened:
    """The store of record (plus cache) and where the audit log and jobs live."""

    backend: Backend
    audit_store: AuditStore
    job_store: JobStore
    sqlite: SqliteBackend | None = None


def mongo_settings(settings: StorageSettings) -> MongoSettings:
    """The MongoDB connection settings of a ``[storage]`` table (resolves ``mongo_uri``)."""
    from securebot.crypto import register_secret
    from securebot.errors import ConfigError
    from securebot.storage.mongo import MongoSettings

    if settings.mongo_uri is None:
        raise ConfigError('storage.mongo_uri: required with backend = "mongo"')
    uri = settings.mongo_uri.resolve(where="storage.mongo_uri")
    with contextlib.suppress(ValueError):  # too short to be worth redacting
        register_secret(uri)
    return MongoSettings(
        uri=uri,
        database=settings.mongo_database,
        tls_ca_file=settings.mongo_tls_ca_file,
        tls_certificate_key_file=settings.mongo_tls_certificate_key_file,
        x509_auth=settings.mongo_x509_auth,
        server_selection_timeout_ms=settings.mongo_timeout_ms,
    )


def _backend(settings: StorageSettings, keyring: Keyring) -> _Opened:
    """The store of record (plus cache), and the audit and job stores on the same database."""
    jobs_cipher = FieldCipher(keyring, "messages")
    opened: _Opened
    if settings.backend == "mongo":
        from securebot.storage.mongo import MongoBackend
        from securebot.storage.mongo_audit import MongoAuditStore
        from securebot.storage.mongo_jobs import MongoJobStore

        mongo = MongoBackend(mongo_settings(settings))
        opened = _Opened(mongo, MongoAuditStore(mongo), MongoJobStore(mongo, cipher=jobs_cipher))
    else:
        sqlite = SqliteBackend(settings.path)
        opened = _Opened(
            sqlite,
            SqliteAuditStore(sqlite),
            SqliteJobStore(sqlite, cipher=jobs_cipher),
            sqlite=sqlite,
        )
    if settings.redis_url is not None:
        from securebot.storage.redis_cache import RedisCache
        from securebot.storage.redis_client import RedisSettings

        url = settings.redis_url.resolve(where="storage.redis_url")
        opened = attrs.evolve(opened, backend=RedisCache(opened.backend, RedisSettings(url=url)))
    return opened


@contextlib.asynccontextmanager
async def open_services(config: Config) -> AsyncIterator[Services]:
    """Open redaction, the keyring and the store for ``config``; close them on exit.

    Fails closed: a keyring that cannot be opened or a store that cannot be reached stops here
    with one clear :class:`~securebot.errors.SecurebotError`.
    """
    uninstall = install_redaction()
    try:
        keys = await open_configured_keyring(config)
        opened = _backend(config.storage, keys.keyring)
        store = Store(opened.backend, keyring=keys.keyring, save_keyring=keys.save)
        try:
            await store.open()
        except BaseException:
            with contextlib.suppress(Exception):  # the open error is the one to report
                await store.close()  # a half-opened client (MongoDB unreachable) is released
            raise
        try:
            yield Services(
                keys=keys,
                store=store,
                audit_store=opened.audit_store,
                job_store=opened.job_store,
                sqlite=opened.sqlite,
            )
        finally:
            await keys.save()
            await store.close()
    finally:
        uninstall()


@attrs.frozen
class BotServices:
    """:class:`Services` and what a development run adds: the in-process download gateway."""

    services: Services
    #: The configuration to build the bot from (pointing exports at that gateway, if any).
    config: Config
    downloads: DevelopmentDownloads | None = None

    async def wire(self, bot: Bot) -> None:
        """Move ``bot`` onto the services (and audit its downloads in its audit log)."""
        await self.services.wire(bot)
        if self.downloads is not None:
            self.downloads.wire(bot)


@contextlib.asynccontextmanager
async def open_bot_services(config: Config) -> AsyncIterator[BotServices]:
    """:func:`open_services`, plus in development the download gateway of
    :mod:`securebot.runtime.downloads`: what ``securebot run`` and ``giselle demo`` run on."""
    from securebot.runtime.downloads import development_downloads

    async with (
        open_services(config) as services,
        development_downloads(config, services.store) as downloads,
    ):
        yield BotServices(services, downloads.config if downloads else config, downloads)


async def run_bot(config: Config, token: str, **bot_options: Any) -> None:
    """Run the configured bot on its services until it is closed (``securebot run``)."""
    from securebot.core.app import build_bot
    from securebot.crypto import register_secret

    register_secret(token)
    async with open_bot_services(config) as opened:
        bot = build_bot(opened.config, **bot_options)
        await opened.wire(bot)
        async with bot:
            await bot.start(token)
