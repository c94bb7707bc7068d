"""The download gateway on the services the bot runs on (``securebot gateway serve``).

The bot and its gateway are separate processes that share the store of record (export metadata:
SQLite file or MongoDB database, opened with the same keyring), the object stores (the
``[plugin.chatlogs]`` table) and the download-token signing key. :func:`export_gateway` builds
the gateway on :class:`~securebot.runtime.Services` opened from the bot's own configuration::

    async with open_services(config) as services, export_gateway(
        services, signer=signer, stores=object_stores_from_settings(settings)
    ) as gateway:
        await serve(create_app(gateway), ...)

Downloads are audited into the bot's hash-chained audit log, sealed as the bot seals it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping

from securebot.exports import (
    DownloadTokenSigner,
    LocalExportStore,
    ObjectStore,
    StoreExportMetadata,
)
from securebot.gateway import ExportGateway
from securebot.runtime.services import Services


@contextlib.asynccontextmanager
async def export_gateway(
    services: Services,
    *,
    signer: DownloadTokenSigner,
    stores: Mapping[str, ObjectStore],
    purge: bool = True,
) -> AsyncIterator[ExportGateway]:
    """A gateway serving ``stores`` with export metadata from ``services.store``.

    Its audit log (on ``services.audit_store``, sealed under the ``audit`` key) runs while the
    context is open and is flushed on exit. With ``purge``, local stores are purged of archives
    past retention every hour meanwhile.
    """
    audit = services.audit_log()
    audit.start()
    loop = asyncio.get_running_loop()
    tasks = [
        loop.create_task(store.run_purge())
        for store in stores.values()
        if purge and isinstance(store, LocalExportStore)
    ]
    try:
        yield ExportGateway(
            signer=signer,
            metadata=StoreExportMetadata(services.store),
            stores=dict(stores),
            audit=audit,
        )
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await audit.close()
