"""``securebot gateway``: the download endpoint for encrypted exports.

* ``new-key``: print a fresh random signing key (base64) for the bot and the gateway to share
  through their secret source (``$SECUREBOT_EXPORT_TOKEN_KEY`` by default);
* ``serve``: serve ``GET /exports/{id}?token=...`` over HTTPS (HSTS on). It opens the services
  of the bot's own configuration (``--config FILE``, else ``$SECUREBOT_CONFIG``, else
  ``./securebot.toml``; also ``securebot gateway --config FILE serve``) exactly as
  ``securebot run`` does (:func:`securebot.runtime.open_services`): the store of record (SQLite
  or MongoDB, with the Redis cache) holding the export metadata, and the keyring from any
  provider (``local``, ``env``, ``aws-kms``), failing closed with one clear error. Downloads are
  audited into the bot's audit log, sealed as the bot seals it. The archives come from the
  object stores of ``[plugin.chatlogs]`` (``store_dir``, ``s3_bucket`` + ``kms_key_id``,
  ``s3_endpoint``; see :func:`securebot.exports.object_stores_from_settings`) and the signing
  key from its ``token_key_env``. Options override the configuration: ``--db`` (the SQLite
  file, which must exist: the gateway never creates a store) and ``--keyring`` (which must
  exist: it never creates keys), ``--store-dir``, ``--s3-bucket``, ``--kms-key-id``,
  ``--s3-endpoint``, ``--key-env``. Plain HTTP is refused except on a loopback address
  (development). While it runs, the local store is purged of archives past retention every
  hour.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import secrets
import ssl
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import attrs
import click

from securebot.cli.listen import is_loopback
from securebot.cli.options import (
    CONFIG_ENV,
    config_option,
    configured,
    group_config_option,
    resolve_config,
)
from securebot.cli.storage_cmd import KEYRING_ENV, STORAGE_ENV
from securebot.core.config import Config
from securebot.crypto import Secret
from securebot.crypto.providers import ENVIRONMENT_VARIABLE, current_environment
from securebot.errors import ConfigError
from securebot.exports.tokens import SIGNING_KEY_ENV, signing_key_from_env

if TYPE_CHECKING:
    from securebot.exports import ObjectStore

#: Environment variable holding the base64 download-token signing key.
KEY_ENV = SIGNING_KEY_ENV
#: The plugin whose ``[plugin.<name>]`` table names the export stores (as for the bot).
EXPORTS_PLUGIN = "chatlogs"

logger = logging.getLogger("securebot.gateway")


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server TLS context (TLS 1.2+) with the certificate chain and key from files."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load the TLS certificate/key: {type(exc).__name__}") from None
    return context


@click.group("gateway")
@group_config_option
def gateway_group() -> None:
    """The HTTPS download gateway for encrypted exports."""


@gateway_group.command("new-key")
def new_key_command() -> None:
    """Print a new random signing key (base64, 256 bits) for download links."""
    click.echo(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii").rstrip("="))


@gateway_group.command("serve")
@config_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8443, show_default=True, type=int, help="Port to listen on.")
@click.option("--tls-cert", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--tls-key", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar=STORAGE_ENV,
    default=None,
    help=f"The bot's SQLite store (default: ${STORAGE_ENV}, else [storage] path).",
)
@click.option(
    "--keyring",
    "keyring_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar=KEYRING_ENV,
    default=None,
    help=f"The bot's sealed keyring file (default: ${KEYRING_ENV}, else [keys] keyring).",
)
@click.option(
    "--store-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory of the local export store (default: [plugin.chatlogs] store_dir).",
)
@click.option("--s3-bucket", default=None, help="S3 bucket of the exports (s3_bucket).")
@click.option("--kms-key-id", default=None, help="KMS key for the bucket's SSE-KMS (kms_key_id).")
@click.option("--s3-endpoint", default=None, help="S3 endpoint URL (s3_endpoint).")
@click.option(
    "--key-env",
    default=None,
    help=f"Variable with the signing key (default: token_key_env, else {KEY_ENV}).",
)
def serve_command(
    config_path: Path | None,
    host: str,
    port: int,
    tls_cert: Path | None,
    tls_key: Path | None,
    db_path: Path | None,
    keyring_path: Path | None,
    store_dir: Path | None,
    s3_bucket: str | None,
    kms_key_id: str | None,
    s3_endpoint: str | None,
    key_env: str | None,
) -> None:
    """Serve export downloads until interrupted.

    Opens the services the bot's configuration names (``--config``, as for ``securebot run``):
    the store of record (SQLite or MongoDB, with its Redis cache) and the keyring (any
    provider), and serves the object stores of its ``[plugin.chatlogs]`` table. The options
    override the configuration.
    """
    if (tls_cert is None) != (tls_key is None):
        raise ConfigError("give both --tls-cert and --tls-key, or neither")
    context = tls_context(tls_cert, tls_key) if tls_cert and tls_key else None
    if context is None and not is_loopback(host):
        raise ConfigError(
            f"refusing plain HTTP on {host}: download links carry tokens; pass --tls-cert and "
            "--tls-key (plain HTTP is allowed on loopback addresses only, for development)"
        )
    from securebot.exports import object_stores_from_settings

    config = resolve_config(config_path) if config_path is not None else configured()
    settings = _store_settings(config, store_dir, s3_bucket, kms_key_id, s3_endpoint)
    stores = object_stores_from_settings(settings)
    config = _sqlite_override(config, db_path)
    key = signing_key_from_env(key_env or _key_variable(settings))
    config = _environment_override(_keyring_override(config, keyring_path))
    asyncio.run(_serve(config, stores=stores, host=host, port=port, context=context, key=key))


def _store_settings(
    config: Config,
    store_dir: Path | None,
    s3_bucket: str | None,
    kms_key_id: str | None,
    s3_endpoint: str | None,
) -> dict[str, Any]:
    """The ``[plugin.chatlogs]`` table with the command line's store options laid over it."""
    table = config.plugin_settings(EXPORTS_PLUGIN)
    settings = dict(table)
    given = {
        "store_dir": str(store_dir) if store_dir is not None else None,
        "s3_bucket": s3_bucket,
        "kms_key_id": kms_key_id,
        "s3_endpoint": s3_endpoint,
    }
    settings.update({name: value for name, value in given.items() if value is not None})
    if s3_bucket is not None and not settings.get("kms_key_id"):
        raise ConfigError("--s3-bucket needs --kms-key-id (exports are stored with SSE-KMS)")
    named = EXPORTS_PLUGIN in config.plugins.enable or bool(table)
    if not named and store_dir is None and s3_bucket is None:
        raise ConfigError(
            "name where exports are kept: --store-dir and/or --s3-bucket, or the [plugin."
            f"{EXPORTS_PLUGIN}] table of the bot's configuration (--config or ${CONFIG_ENV})"
        )
    return settings


def _key_variable(settings: dict[str, Any]) -> str:
    """The variable holding the signing key: the bot's ``token_key_env``, else the default."""
    variable = settings.get("token_key_env", KEY_ENV)
    if not isinstance(variable, str) or not variable:
        raise ConfigError(f"[plugin.{EXPORTS_PLUGIN}] token_key_env: expected a variable name")
    return variable


def _sqlite_override(config: Config, db_path: Path | None) -> Config:
    """``config`` with ``--db`` as its SQLite file; the SQLite file must already exist."""
    storage = config.storage
    if db_path is not None:
        if storage.backend != "sqlite":
            raise ConfigError(
                f"--db (or ${STORAGE_ENV}) names a SQLite file, but {config.source} keeps the "
                f'store in {storage.backend} ([storage] backend = "{storage.backend}")'
            )
        storage = attrs.evolve(storage, path=str(db_path))
    if storage.backend == "sqlite" and not Path(storage.path).is_file():
        raise ConfigError(
            f"no store at {storage.path}; pass --db, set ${STORAGE_ENV} or [storage] path "
            "(the gateway reads the bot's store, it never creates one)"
        )
    return attrs.evolve(config, storage=storage)


def _environment_override(config: Config) -> Config:
    """Without a configuration file, ``$SECUREBOT_ENV`` names the environment the keyring is
    bound to (as before ``--config`` existed); a configuration file's ``[bot] environment``
    rules otherwise."""
    if config.source != "<defaults>" or not os.environ.get(ENVIRONMENT_VARIABLE):
        return config
    environment = current_environment()
    if environment not in ("development", "production"):
        raise ConfigError(f"${ENVIRONMENT_VARIABLE}: expected development or production")
    chosen = cast('Literal["development", "production"]', environment)
    return attrs.evolve(config, bot=attrs.evolve(config.bot, environment=chosen))


def _keyring_override(config: Config, keyring_path: Path | None) -> Config:
    """``config`` with ``--keyring`` as its keyring file, which must already exist."""
    keys = config.keys
    if keyring_path is not None:
        keys = attrs.evolve(keys, keyring=str(keyring_path))
    if not Path(keys.keyring).expanduser().is_file():
        raise ConfigError(
            f"no keyring at {keys.keyring}; pass --keyring, set ${KEYRING_ENV} or [keys] "
            "keyring (the gateway opens the bot's keyring, it never creates one)"
        )
    return attrs.evolve(config, keys=keys)


async def _serve(
    config: Config,
    *,
    stores: dict[str, ObjectStore],
    host: str,
    port: int,
    context: ssl.SSLContext | None,
    key: Secret[bytes],
) -> None:
    from securebot.exports import DownloadTokenSigner
    from securebot.gateway import create_app
    from securebot.gateway.server import start
    from securebot.runtime import open_services
    from securebot.runtime.gateway import export_gateway

    async with (
        open_services(config) as services,
        export_gateway(services, signer=DownloadTokenSigner(key), stores=stores) as gateway,
    ):
        app = create_app(gateway, hsts=context is not None)
        try:
            runner, bound = await start(app, host=host, port=port, ssl_context=context)
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        scheme = "https" if context is not None else "http"
        # on standard output, like `emulator serve`: with --port 0 it is how you learn the port
        click.echo(
            f"securebot gateway listening on {scheme}://{host}:{bound}"
            f" (store: {config.storage.backend}; exports: {', '.join(sorted(stores))})"
        )
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()
