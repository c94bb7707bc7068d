"""A download gateway inside the bot's own process, for development only.

In production, export links point at ``securebot gateway serve``: a separate HTTPS service that
shares the signing key with the bot through a secret source. In development (``giselle demo``,
``securebot run`` against the emulator) nobody should have to set that up to try ``savechat``:
:func:`development_downloads` serves the local export store from the bot's process, over plain
HTTP on the loopback address only, with a random signing key made for this run (links stop
working when the process ends), and returns the configuration that points the ``chatlogs``
plugin at it (the key as a :class:`~securebot.crypto.Secret` in ``token_key``: never in the
environment, which processes the bot starts would inherit).

It does nothing in production, when ``chatlogs`` is not enabled, or when ``[plugin.chatlogs]``
already names a gateway or an S3 bucket.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import types
from collections.abc import AsyncIterator

import attrs

from securebot.core.bot import Bot
from securebot.core.config import Config
from securebot.core.storage import Store
from securebot.crypto import Secret
from securebot.exports import (
    DownloadTokenSigner,
    StoreExportMetadata,
    object_stores_from_settings,
)
from securebot.gateway import ExportGateway, create_app
from securebot.gateway.server import start

log = logging.getLogger("securebot.runtime")

#: The plugin whose settings name the export store and gateway.
EXPORTS_PLUGIN = "chatlogs"


@attrs.frozen
class DevelopmentDownloads:
    """A running in-process gateway and the configuration that uses it."""

    #: ``http://127.0.0.1:<port>``.
    url: str
    #: The configuration with ``[plugin.chatlogs]`` pointing at :attr:`url`.
    config: Config
    gateway: ExportGateway = attrs.field(repr=False)

    def wire(self, bot: Bot) -> None:
        """Audit downloads in ``bot``'s audit log (call after the bot is on its services)."""
        self.gateway.audit = bot.audit_log


def wants_development_downloads(config: Config) -> bool:
    """Whether ``config`` runs ``chatlogs`` in development with no gateway and no S3 bucket."""
    settings = config.plugin_settings(EXPORTS_PLUGIN)
    return (
        not config.production
        and EXPORTS_PLUGIN in config.plugins.enable
        and "gateway_url" not in settings
        and "s3_bucket" not in settings
    )


@contextlib.asynccontextmanager
async def development_downloads(
    config: Config, store: Store
) -> AsyncIterator[DevelopmentDownloads | None]:
    """Serve the local export store on ``127.0.0.1`` for this run, when ``config`` wants it.

    Yields ``None`` when it does not (see :func:`wants_development_downloads`). ``store`` is the
    bot's open store: the export records live there.
    """
    if not wants_development_downloads(config):
        yield None
        return
    settings = dict(config.plugin_settings(EXPORTS_PLUGIN))
    key = secrets.token_bytes(32)
    gateway = ExportGateway(
        signer=DownloadTokenSigner(Secret(key)),
        metadata=StoreExportMetadata(store),
        stores=object_stores_from_settings(settings),
    )
    runner, port = await start(create_app(gateway, hsts=False), host="127.0.0.1", port=0)
    url = f"http://127.0.0.1:{port}"
    # The key reaches the plugin inside the configuration it is handed, never through the
    # environment: processes the bot starts inherit the environment.
    settings.update(gateway_url=url, token_key=Secret(key))
    plugins = {**config.plugin, EXPORTS_PLUGIN: types.MappingProxyType(settings)}
    evolved = attrs.evolve(config, plugin=types.MappingProxyType(plugins))
    log.info("development download gateway for exports on %s (loopback only)", url)
    try:
        yield DevelopmentDownloads(url=url, config=evolved, gateway=gateway)
    finally:
        await runner.cleanup()
