"""``securebot audit``: verify the audit chains, export a server's trail (operators).

``securebot audit verify [--config FILE] [--store URL] [--guild ID]`` reads every chain (or one
server's) from the durable audit store and checks each hash link; it prints one line per chain,
names the first entry that was changed, removed or reordered, and exits with status 1 if any
chain is broken.

``securebot audit export --guild ID [--config FILE] [--store URL] [--output FILE | --archive
FILE.7z]`` writes the server's entries as JSON Lines (one entry a line: position, hashes and
event; secret arguments were redacted before they were ever stored): on standard output, in a
new file, or in a new encrypted 7-Zip archive whose password is shown once on standard error
(:mod:`securebot.cli.archive_output`). In production, ``--output`` needs ``--plaintext``.

Where the log is: ``--store URL`` (``sqlite:PATH``; more schemes in :data:`STORE_OPENERS`), else
``$SECUREBOT_AUDIT_STORE``, else the configuration's ``[storage]`` (its SQLite ``path``, or its
MongoDB; ``--config``, else ``$SECUREBOT_CONFIG``, else ``./securebot.toml``). Sealed (encrypted)
fields are opened with the configured keyring (``keys.keyring``) when it exists — the bot seals
them under its ``audit`` key — and otherwise read as plain text (development logs). An export
file or archive is created with mode 0600 and never overwrites an existing file: it holds what
the sealed fields protected.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import click

from securebot.cli.archive_output import (
    check_destination,
    deliver,
    destination_options,
    is_production,
)
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

#: What :func:`_store_url` answers for the configuration's MongoDB.
_CONFIGURED_MONGO = "<configured mongo>"


def _store_url(url: str | None, config: Config | None) -> str:
    """``url``, else ``$SECUREBOT_AUDIT_STORE``, else the configuration's SQLite file as a URL
    (:data:`_CONFIGURED_MONGO` for its MongoDB); empty when nothing names a store."""
    url = url or os.environ.get(STORE_ENV, "")
    if not url and config is not None and config.source != "<defaults>":
        if config.storage.backend == "mongo":
            return _CONFIGURED_MONGO
        url = f"sqlite:{config.storage.path}"
    return url


def _describe_store(url: str | None, config: Config | None) -> str:
    """Which store an export came from, for its README (never a connection string)."""
    resolved = _store_url(url, config)
    if resolved == _CONFIGURED_MONGO and config is not None:
        return f"MongoDB ([storage] of {config.source})"
    scheme, _, location = resolved.partition(":")
    return f"SQLite {location}" if scheme == "sqlite" else f"{scheme} audit store"


def open_audit_store(
    url: str | None, config: Config | None = None
) -> contextlib.AbstractAsyncContextManager[AuditStore]:
    """Open (``async with``) the audit store named by ``url``, else ``$SECUREBOT_AUDIT_STORE``,
    else the configuration's ``[storage]``.

    :raises ConfigError: no store named, unknown scheme, or the store cannot be opened.
    """
    url = _store_url(url, config)
    if url == _CONFIGURED_MONGO and config is not None:
        return _configured_mongo_store(config)
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
    config: Config | None,
) -> tuple[str, int]:
    """The guild's entries as JSON Lines, and how many there are."""
    async with opened as store:
        log = AuditLog(store, sealer=await _sealer(config))
        lines = []
        for entry in await log.entries(str(guild)):
            record = {
                "chain": entry.chain,
                "seq": entry.seq,
                "prev_hash": entry.prev_hash,
                "hash": entry.hash,
                "event": entry.event.to_dict(),
            }
            lines.append(json.dumps(record, sort_keys=True, ensure_ascii=False, default=str))
        return "".join(line + "\n" for line in lines), len(lines)


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
    """Check every chain; exit 1 naming the first changed, removed or reordered entry.

    Exit 2 when sealed entries could not be verified because the keyring was not given.
    """
    config = resolve_config(config_path)
    reports = _run(_verify(open_audit_store(store_url, config), guild, _keyed(config)))
    if not reports:
        click.echo("no audit chains found")
        return
    for report in reports:
        click.echo(report.line())
    broken = [report for report in reports if not report.ok and not report.needs_key]
    if broken:
        click.echo(f"{len(broken)} of {len(reports)} chain(s) BROKEN", err=True)
        sys.exit(1)
    sealed = [report for report in reports if report.needs_key]
    if sealed:
        click.echo(
            f"{len(sealed)} of {len(reports)} chain(s) not verified: their entries are sealed. "
            "Verify with the bot's configuration (--config FILE naming [storage] and the "
            "[keys] keyring).",
            err=True,
        )
        sys.exit(2)
    click.echo(f"all {len(reports)} chain(s) verified")


@audit_group.command("export")
@config_option
@_store_option
@click.option("--guild", type=int, required=True, help="The server whose trail to export.")
@destination_options("the JSON Lines")
def export_command(
    config_path: Path | None,
    store_url: str | None,
    guild: int,
    output: Path | None,
    archive: Path | None,
    plaintext: bool,
) -> None:
    """Write a server's audit entries as JSON Lines."""
    config = resolve_config(config_path)
    check_destination(output, archive, plaintext, production=is_production(None, config))
    opened = open_audit_store(store_url, config)
    try:
        text, count = _run(_export(opened, guild, _keyed(config)))
    except (DecryptionError, ValueError) as exc:
        raise ConfigError(f"audit chain {guild} cannot be read: {exc}") from None
    deliver(
        text,
        output=output,
        archive=archive,
        member=f"audit-guild-{guild}.jsonl",
        about=f"the audit trail of guild {guild} (JSON Lines, one entry a line)",
        store=_describe_store(store_url, config),
    )
    click.echo(f"exported {count} entr{'y' if count == 1 else 'ies'} of guild {guild}", err=True)
