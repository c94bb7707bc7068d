"""``securebot audit``: verify the audit chains, export a server's trail (operators).

``securebot audit verify [--config FILE] [--store URL] [--guild ID]`` reads every chain (or one
server's) from the durable audit store and checks each hash link; it prints one line per chain,
names the first entry that was changed, removed or reordered, and exits with status 1 if any
chain is broken.

``securebot audit export --guild ID [--config FILE] [--store URL] [--output FILE]`` writes the
server's entries as JSON Lines (one entry a line: position, hashes and event; secret arguments
were redacted before they were ever stored).

Where the log is: ``--store URL`` (``sqlite:PATH``; more schemes in :data:`STORE_OPENERS`), else
``$SECUREBOT_AUDIT_STORE``, else the configuration's ``[storage]`` (its SQLite ``path``, or its
MongoDB; ``--config``, else ``$SECUREBOT_CONFIG``, else ``./securebot.toml``). Sealed (encrypted)
fields are opened with the configured keyring (``keys.keyring``) when it exists — the bot seals
them under its ``audit`` key — and otherwise read as plain text (development logs). An export
file is created with mode 0600 and never overwrites an existing file: it holds what the sealed
fields protected.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import IO, Any

import click

from securebot.cli.options import config_option, resolve_config
from securebot.core.audit import AuditLog, AuditStore, FieldSealer, PlainSealer, VerifyReport
from securebot.core.config import Config
from securebot.errors import ConfigError, DecryptionError

#: Environment variable naming the audit store when ``--store`` is not given.
STORE_ENV = "SECUREBOT_AUDIT_STORE"


def _sqlite_store(location: str) -> contextlib.AbstractAsyncContextManager[AuditStore]:
    """The storage layer's SQLite audit store in an existing database file."""
    path = Path(location).expanduser()
    if not path.is_file():
        raise ConfigError(f"audit store {path} does not exist")
    return _opened_sqlite(path)


@contextlib.asynccontextmanager
async def _opened_sqlite(path: Path) -> AsyncIterator[AuditStore]:
    from securebot.storage.sqlite import SqliteAuditStore, SqliteBackend

    backend = SqliteBackend(path)
    await backend.open()
    try:
        yield SqliteAuditStore(backend)
    finally:
        await backend.close()


@contextlib.asynccontextmanager
async def _configured_mongo_store(config: Config) -> AsyncIterator[AuditStore]:
    """The MongoDB audit store of a ``backend = "mongo"`` configuration."""
    from securebot.runtime.services import mongo_settings
    from securebot.storage.mongo import MongoBackend
    from securebot.storage.mongo_audit import MongoAuditStore

    backend = MongoBackend(mongo_settings(config.storage))
    await backend.open()
    try:
        yield MongoAuditStore(backend)
    finally:
        await backend.close()


#: URL scheme -> opener of an :class:`AuditStore` (given the part after ``scheme:``).
STORE_OPENERS: dict[str, Callable[[str], contextlib.AbstractAsyncContextManager[AuditStore]]] = {
    "sqlite": _sqlite_store
}

#: Builds the sealer that opens sealed fields (the composition root installs the keyring's).
SEALER_FACTORY: Callable[[], FieldSealer] = PlainSealer


def open_audit_store(
    url: str | None, config: Config | None = None
) -> contextlib.AbstractAsyncContextManager[AuditStore]:
    """Open (``async with``) the audit store named by ``url``, else ``$SECUREBOT_AUDIT_STORE``,
    else the configuration's ``[storage]``.

    :raises ConfigError: no store named, unknown scheme, or the store cannot be opened.
    """
    url = url or os.environ.get(STORE_ENV, "")
    if not url and config is not None and config.source != "<defaults>":
        if config.storage.backend == "mongo":
            return _configured_mongo_store(config)
        url = f"sqlite:{config.storage.path}"
    if not url:
        raise ConfigError(
            "no audit store given: pass --config FILE or --store sqlite:/path/to/securebot.db,"
            f" or set {STORE_ENV}"
        )
    scheme, sep, location = url.partition(":")
    opener = STORE_OPENERS.get(scheme) if sep else None
    if opener is None or not location:
        known = ", ".join(f"{name}:PATH" for name in sorted(STORE_OPENERS))
        raise ConfigError(f"audit store URL {url!r} is not understood (use {known})")
    return opener(location)


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


def _keyed(config: Config) -> Config | None:
    """``config`` when it names a keyring file that exists (its sealer opens the fields)."""
    if config.source == "<defaults>" or not Path(config.keys.keyring).expanduser().exists():
        return None
    return config


async def _sealer(config: Config | None) -> FieldSealer:
    """The configured keyring's audit sealer (see :func:`_keyed`), else the default."""
    if config is None:
        return SEALER_FACTORY()
    from securebot.core.audit import CipherSealer
    from securebot.crypto import FieldCipher
    from securebot.runtime.keys import open_configured_keyring

    keys = await open_configured_keyring(config)
    return CipherSealer(FieldCipher(keys.keyring, "audit"))


async def _verify(
    opened: contextlib.AbstractAsyncContextManager[AuditStore],
    guild: int | None,
    config: Config | None,
) -> list[VerifyReport]:
    async with opened as store:
        log = AuditLog(store, sealer=await _sealer(config))
        if guild is not None:
            return [await log.verify(str(guild))]
        return await log.verify_all()


async def _export(
    opened: contextlib.AbstractAsyncContextManager[AuditStore],
    guild: int,
    out: IO[str],
    config: Config | None,
) -> int:
    async with opened as store:
        log = AuditLog(store, sealer=await _sealer(config))
        count = 0
        for entry in await log.entries(str(guild)):
            record = {
                "chain": entry.chain,
                "seq": entry.seq,
                "prev_hash": entry.prev_hash,
                "hash": entry.hash,
                "event": entry.event.to_dict(),
            }
            out.write(json.dumps(record, sort_keys=True, ensure_ascii=False, default=str) + "\n")
            count += 1
        return count


def _private_file(path: Path) -> IO[str]:
    """A new file only its owner can read (an export holds what the seals protected)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(f"{path} exists; choose a new file") from None
    except OSError as exc:
        raise ConfigError(f"cannot create {path}: {exc.strerror}") from None
    return os.fdopen(fd, "w", encoding="utf-8")


_store_option = click.option(
    "--store",
    "store_url",
    default=None,
    metavar="URL",
    help=f"Audit store, e.g. sqlite:/var/lib/securebot/securebot.db (default: ${STORE_ENV}).",
)


@click.group("audit")
def audit_group() -> None:
    """Verify and export the hash-chained audit log."""


@audit_group.command("verify")
@config_option
@_store_option
@click.option("--guild", type=int, default=None, help="Verify only this server's chain.")
def verify_command(config_path: Path | None, store_url: str | None, guild: int | None) -> None:
    """Check every chain; exit 1 naming the first changed, removed or reordered entry."""
    config = resolve_config(config_path)
    reports = _run(_verify(open_audit_store(store_url, config), guild, _keyed(config)))
    if not reports:
        click.echo("no audit chains found")
        return
    for report in reports:
        click.echo(report.line())
    broken = [report for report in reports if not report.ok]
    if broken:
        click.echo(f"{len(broken)} of {len(reports)} chain(s) BROKEN", err=True)
        sys.exit(1)
    click.echo(f"all {len(reports)} chain(s) verified")


@audit_group.command("export")
@config_option
@_store_option
@click.option("--guild", type=int, required=True, help="The server whose trail to export.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write (default: standard output).",
)
def export_command(
    config_path: Path | None, store_url: str | None, guild: int, output: Path | None
) -> None:
    """Write a server's audit entries as JSON Lines."""
    config = resolve_config(config_path)
    opened = open_audit_store(store_url, config)
    try:
        if output is None:
            count = _run(_export(opened, guild, sys.stdout, _keyed(config)))
        else:
            with _private_file(output) as handle:
                count = _run(_export(opened, guild, handle, _keyed(config)))
    except (DecryptionError, ValueError) as exc:
        raise ConfigError(f"audit chain {guild} cannot be read: {exc}") from None
    click.echo(f"exported {count} entr{'y' if count == 1 else 'ies'} of guild {guild}", err=True)
