"""``securebot audit``: verify the audit chains, export a server's trail (operators).

``securebot audit verify [--store URL] [--guild ID]`` reads every chain (or one server's) from
the durable audit store and checks each hash link; it prints one line per chain, names the first
entry that was changed, removed or reordered, and exits with status 1 if any chain is broken.

``securebot audit export --guild ID [--store URL] [--output FILE]`` writes the server's entries
as JSON Lines (one entry a line: position, hashes and event; secret arguments were redacted
before they were ever stored).

The store is named by a URL: ``--store``, else ``$SECUREBOT_AUDIT_STORE``. Its scheme picks an
opener in :data:`STORE_OPENERS` (``sqlite:PATH`` opens the storage layer's SQLite audit store);
composition roots and tests may register more. Sealed (encrypted) fields are opened with the
sealer from :data:`SEALER_FACTORY` (plain by default; the composition root sets the keyring's).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import click

from securebot.core.audit import AuditLog, AuditStore, FieldSealer, PlainSealer, VerifyReport
from securebot.errors import ConfigError, DecryptionError

#: Environment variable naming the audit store when ``--store`` is not given.
STORE_ENV = "SECUREBOT_AUDIT_STORE"


def _open_sqlite(location: str) -> AuditStore:
    """The storage layer's SQLite audit store in an existing database file."""
    from securebot.storage.sqlite import SqliteAuditStore, SqliteBackend

    path = Path(location).expanduser()
    if not path.is_file():
        raise ConfigError(f"audit store {path} does not exist")
    backend = SqliteBackend(path)
    asyncio.run(backend.open())
    return SqliteAuditStore(backend)


#: URL scheme -> opener of an :class:`AuditStore` (given the part after ``scheme:``).
STORE_OPENERS: dict[str, Callable[[str], AuditStore]] = {"sqlite": _open_sqlite}

#: Builds the sealer that opens sealed fields (the composition root installs the keyring's).
SEALER_FACTORY: Callable[[], FieldSealer] = PlainSealer


def open_audit_store(url: str | None) -> AuditStore:
    """Open the audit store named by ``url`` (else ``$SECUREBOT_AUDIT_STORE``).

    :raises ConfigError: no store named, unknown scheme, or the store cannot be opened.
    """
    url = url or os.environ.get(STORE_ENV, "")
    if not url:
        raise ConfigError(
            f"no audit store given: pass --store sqlite:/path/to/securebot.db or set {STORE_ENV}"
        )
    scheme, sep, location = url.partition(":")
    opener = STORE_OPENERS.get(scheme) if sep else None
    if opener is None or not location:
        known = ", ".join(f"{name}:PATH" for name in sorted(STORE_OPENERS))
        raise ConfigError(f"audit store URL {url!r} is not understood (use {known})")
    return opener(location)


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _verify(store: AuditStore, guild: int | None) -> list[VerifyReport]:
    log = AuditLog(store, sealer=SEALER_FACTORY())
    if guild is not None:
        return [await log.verify(str(guild))]
    return await log.verify_all()


async def _export(store: AuditStore, guild: int, out: IO[str]) -> int:
    log = AuditLog(store, sealer=SEALER_FACTORY())
    chain = str(guild)
    count = 0
    for entry in await log.entries(chain):
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
@_store_option
@click.option("--guild", type=int, default=None, help="Verify only this server's chain.")
def verify_command(store_url: str | None, guild: int | None) -> None:
    """Check every chain; exit 1 naming the first changed, removed or reordered entry."""
    store = open_audit_store(store_url)
    reports = _run(_verify(store, guild))
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
@_store_option
@click.option("--guild", type=int, required=True, help="The server whose trail to export.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write (default: standard output).",
)
def export_command(store_url: str | None, guild: int, output: Path | None) -> None:
    """Write a server's audit entries as JSON Lines."""
    store = open_audit_store(store_url)
    try:
        if output is None:
            count = _run(_export(store, guild, sys.stdout))
        else:
            with output.open("w", encoding="utf-8") as handle:
                count = _run(_export(store, guild, handle))
    except (DecryptionError, ValueError) as exc:
        raise ConfigError(f"audit chain {guild} cannot be read: {exc}") from None
    click.echo(f"exported {count} entr{'y' if count == 1 else 'ies'} of guild {guild}", err=True)
