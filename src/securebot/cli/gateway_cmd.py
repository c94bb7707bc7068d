"""``securebot gateway``: the download endpoint for encrypted exports.

* ``new-key``: print a fresh random signing key (base64) for the bot and the gateway to share
  through their secret source (``$SECUREBOT_EXPORT_TOKEN_KEY`` by default);
* ``serve``: serve ``GET /exports/{id}?token=...`` over HTTPS (HSTS on) with export metadata
  from the SQLite store (``--db``, opened with the sealed keyring ``--keyring``) and the
  archives from the local directory (``--store-dir``) and/or S3 (``--s3-bucket`` +
  ``--kms-key-id``). Plain HTTP is refused except on a loopback address (development).
  While it runs, the local store is purged of archives past retention every hour.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import os
import secrets
import ssl
from pathlib import Path
from typing import Any

import click

from securebot.cli.listen import is_loopback
from securebot.crypto import Secret
from securebot.errors import ConfigError

#: Environment variable holding the base64 download-token signing key.
KEY_ENV = "SECUREBOT_EXPORT_TOKEN_KEY"

logger = logging.getLogger("securebot.gateway")


def load_signing_key(variable: str = KEY_ENV) -> Secret[bytes]:
    """The signing key from ``$variable`` (URL-safe base64 of ≥ 32 bytes).

    :raises ConfigError: missing, not base64, or too short (the value is never shown).
    """
    encoded = os.environ.get(variable, "")
    if not encoded:
        raise ConfigError(
            f"${variable} is not set: create a key with `securebot gateway new-key` and give "
            "the same value to the bot and the gateway"
        )
    try:
        key = base64.urlsafe_b64decode(encoded.encode("ascii") + b"=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise ConfigError(f"${variable} is not URL-safe base64") from None
    if len(key) < 32:
        raise ConfigError(f"${variable} must hold at least 32 random bytes")
    return Secret(key)


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
def gateway_group() -> None:
    """The HTTPS download gateway for encrypted exports."""


@gateway_group.command("new-key")
def new_key_command() -> None:
    """Print a new random signing key (base64, 256 bits) for download links."""
    click.echo(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii").rstrip("="))


@gateway_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8443, show_default=True, type=int, help="Port to listen on.")
@click.option("--tls-cert", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--tls-key", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="SECUREBOT_STORAGE",
    default="securebot.sqlite3",
    show_default=True,
    help="The bot's SQLite store (export metadata).",
)
@click.option(
    "--keyring",
    "keyring_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="SECUREBOT_KEYRING",
    required=True,
    help="Sealed keyring file (export metadata has sealed fields).",
)
@click.option("--store-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--s3-bucket", default=None, help="S3 bucket of the exports.")
@click.option("--kms-key-id", default=None, help="KMS key for the bucket's SSE-KMS.")
@click.option("--s3-endpoint", default=None, help="S3 endpoint URL (S3-compatible stores).")
@click.option("--key-env", default=KEY_ENV, show_default=True, help="Variable with the key.")
def serve_command(
    host: str,
    port: int,
    tls_cert: Path | None,
    tls_key: Path | None,
    db_path: Path,
    keyring_path: Path,
    store_dir: Path | None,
    s3_bucket: str | None,
    kms_key_id: str | None,
    s3_endpoint: str | None,
    key_env: str,
) -> None:
    """Serve export downloads until interrupted."""
    if (tls_cert is None) != (tls_key is None):
        raise ConfigError("give both --tls-cert and --tls-key, or neither")
    context = tls_context(tls_cert, tls_key) if tls_cert and tls_key else None
    if context is None and not is_loopback(host):
        raise ConfigError(
            f"refusing plain HTTP on {host}: download links carry tokens; pass --tls-cert and "
            "--tls-key (plain HTTP is allowed on loopback addresses only, for development)"
        )
    if store_dir is None and s3_bucket is None:
        raise ConfigError("name where exports are kept: --store-dir and/or --s3-bucket")
    if s3_bucket is not None and not kms_key_id:
        raise ConfigError("--s3-bucket needs --kms-key-id (exports are stored with SSE-KMS)")
    if not db_path.is_file():
        raise ConfigError(f"no store at {db_path}; pass --db or set $SECUREBOT_STORAGE")
    key = load_signing_key(key_env)
    asyncio.run(
        _serve(
            host=host,
            port=port,
            context=context,
            db_path=db_path,
            keyring_path=keyring_path,
            store_dir=store_dir,
            s3=(s3_bucket, kms_key_id, s3_endpoint) if s3_bucket else None,
            key=key,
        )
    )


async def _serve(
    *,
    host: str,
    port: int,
    context: ssl.SSLContext | None,
    db_path: Path,
    keyring_path: Path,
    store_dir: Path | None,
    s3: tuple[str, str | None, str | None] | None,
    key: Secret[bytes],
) -> None:
    from securebot.core.audit import AuditLog
    from securebot.core.audit.sealing import CipherSealer
    from securebot.core.storage import Store
    from securebot.crypto import FieldCipher, open_keyring_file
    from securebot.exports import (
        DownloadTokenSigner,
        LocalExportStore,
        ObjectStore,
        S3ExportStore,
        StoreExportMetadata,
    )
    from securebot.gateway import ExportGateway, create_app, serve
    from securebot.storage.sqlite import SqliteAuditStore, SqliteBackend

    keyring = await open_keyring_file(keyring_path)
    backend = SqliteBackend(db_path)
    store = Store(backend, keyring=keyring)
    await store.open()
    audit = AuditLog(SqliteAuditStore(backend), sealer=CipherSealer(FieldCipher(keyring, "audit")))
    audit.start()
    stores: dict[str, ObjectStore] = {}
    tasks: list[asyncio.Task[Any]] = []
    if store_dir is not None:
        local = LocalExportStore(store_dir)
        stores["local"] = local
        tasks.append(asyncio.get_running_loop().create_task(local.run_purge()))
    if s3 is not None:
        bucket, kms_key, endpoint = s3

        def client() -> Any:
            import boto3

            return boto3.client("s3", endpoint_url=endpoint)

        stores["s3"] = S3ExportStore(bucket, kms_key_id=kms_key or "", client_factory=client)
    gateway = ExportGateway(
        signer=DownloadTokenSigner(key),
        metadata=StoreExportMetadata(store),
        stores=stores,
        audit=audit,
    )
    try:
        await serve(
            create_app(gateway, hsts=context is not None), host=host, port=port, ssl_context=context
        )
    finally:
        for task in tasks:
            task.cancel()
        await audit.close()
        await store.close()
