"""``securebot storage``: check, migrate, export and erase what the store keeps.

The store is the SQLite file given by ``--db`` (or ``$SECUREBOT_STORAGE``, else the
configuration's ``[storage] path``). Sealed fields are opened with the sealed keyring file
(``--keyring`` or ``$SECUREBOT_KEYRING``, else the configuration's ``[keys] keyring`` when that
file exists); without it, exports list sealed values as unreadable. The configuration is the one
``securebot run`` reads (``securebot storage --config FILE ...``).

* ``check``: SQLite integrity, layout version, record counts, and (with a keyring) every sealed
  field opened once; exit status 1 when anything is wrong;
* ``migrate [--module M]...``: upgrade stored records of the record types declared by the
  configured plugins and the imported modules (the bot also does this at startup);
* ``reencrypt [--module M]...``: after a key rotation, seal again under the primary keys what
  older keys sealed (records, blind-index tokens, settings), until nothing is left;
* ``export-user ID`` / ``export-guild ID``: everything kept, readable, as JSON: on standard
  output, in a new file (``--output FILE``, mode 0600; refused in production without
  ``--plaintext``), or in a new encrypted 7-Zip archive (``--archive FILE.7z``, mode 0600; the
  password is shown once on standard error): see :mod:`securebot.cli.archive_output`;
* ``delete-user ID`` / ``delete-guild ID``: erase; ``delete-guild`` with a keyring also
  crypto-shreds the guild's data key (backups taken before stay unreadable) and saves the keyring.
"""

from __future__ import annotations

import asyncio
import importlib
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from securebot.cli.archive_output import (
    check_destination,
    deliver,
    destination_options,
    is_production,
)
from securebot.cli.options import configured, group_config_option
from securebot.core.storage import Query, Store, record_types
from securebot.errors import CorruptRecordError, StorageError

_T = TypeVar("_T")

#: Environment variable naming the SQLite store when ``--db`` is not given.
STORAGE_ENV = "SECUREBOT_STORAGE"
KEYRING_ENV = "SECUREBOT_KEYRING"

_db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar=STORAGE_ENV,
    default=None,
    help=f"SQLite store file (default: ${STORAGE_ENV}, else [storage] path).",
)
_keyring_option = click.option(
    "--keyring",
    "keyring_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar=KEYRING_ENV,
    default=None,
    help=f"Sealed keyring file to open sealed fields (default: ${KEYRING_ENV}, else [keys]).",
)
_environment_option = click.option(
    "--environment", envvar="SECUREBOT_ENV", default=None, help="Deployment environment."
)
_destination_options = destination_options("the JSON")


def _store_options(func: Any) -> Any:
    """Add the options that locate and open the store: ``--db``, ``--keyring`` and
    ``--environment``."""
    return _db_option(_keyring_option(_environment_option(func)))


async def _keyring(path: Path | None, environment: str | None) -> tuple[Any, Any]:
    """(keyring, provider) from the sealed file, or (None, None) without one."""
    if path is None:
        return None, None
    from securebot.crypto import open_keyring, provider_of
    from securebot.crypto.sealed import read_sealed_file

    data = read_sealed_file(path)
    provider = provider_of(data, environment=environment)
    return await open_keyring(data, provider, environment=environment), provider


def _resolve(
    db_path: Path | None, keyring_path: Path | None, environment: str | None
) -> tuple[Path, Path | None, str | None]:
    """Fill what the command line left out from the configuration ``securebot run`` uses."""
    config = configured()
    if db_path is None:
        db_path = Path(config.storage.path)
    if keyring_path is None:
        named = Path(config.keys.keyring).expanduser()
        keyring_path = named if named.is_file() else None
    if environment is None and config.source != "<defaults>":
        environment = config.bot.environment
    return db_path, keyring_path, environment


def _run(
    db: Path,
    keyring_path: Path | None,
    environment: str | None,
    action: Callable[[Store, Any, Any], Awaitable[_T]],
    *,
    must_exist: bool = True,
) -> _T:
    from securebot.storage.sqlite import SqliteBackend

    if must_exist and not db.is_file():
        raise StorageError(f"no store at {db}; pass --db or set ${STORAGE_ENV}")

    async def main() -> _T:
        keyring, provider = await _keyring(keyring_path, environment)
        store = Store(SqliteBackend(db), keyring=keyring)
        await store.open()
        try:
            return await action(store, keyring, provider)
        finally:
            await store.close()

    return asyncio.run(main())


def _export(
    db_path: Path | None,
    keyring_path: Path | None,
    environment: str | None,
    destination: tuple[Path | None, Path | None, bool],
    what: tuple[str, int],
) -> None:
    """Open the store the options name, export what it keeps about ``what`` (``("user", id)``
    or ``("guild", id)``) and deliver it as JSON where ``destination`` (``--output``,
    ``--archive``, ``--plaintext``) says."""
    output, archive, plaintext = destination
    db, keyring, env = _resolve(db_path, keyring_path, environment)
    check_destination(output, archive, plaintext, production=is_production(env, configured()))
    kind, ident = what

    async def action(store: Store, keyring: Any, provider: Any) -> dict[str, Any]:
        if kind == "user":
            return await store.export_user(ident)
        return await store.export_guild(ident)

    data = _run(db, keyring, env, action)
    deliver(
        json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
        output=output,
        archive=archive,
        member=f"{kind}-{ident}.json",
        about=f"everything securebot keeps about {kind} {ident} (JSON)",
        store=f"SQLite {db}",
    )


@click.group("storage")
@group_config_option
def storage_group() -> None:
    """Check, migrate, export and erase what the store keeps."""


@storage_group.command("check")
@_store_options
def check_command(db_path: Path | None, keyring_path: Path | None, environment: str | None) -> None:
    """Check the store file and that every sealed field still opens."""
    db_path, keyring_path, environment = _resolve(db_path, keyring_path, environment)

    async def action(store: Store, keyring: Any, provider: Any) -> list[str]:
        backend: Any = store.backend
        problems = [f"sqlite: {line}" for line in backend.integrity()]
        layout = await backend.get_meta("sqlite:layout")
        click.echo(f"store {db_path}: layout {layout}")
        for collection in await backend.collections():
            count = unreadable = 0
            after = None
            while True:
                page = await backend.find(
                    Query(collection, None, {}, after, 1000), now=store.clock()
                )
                problems.extend(page.corrupt)
                count += len(page.corrupt)
                unreadable += len(page.corrupt)
                for doc in page.items:
                    count += 1
                    if keyring is None:
                        continue
                    try:
                        store.codec.plain_fields(doc)
                    except CorruptRecordError as exc:
                        unreadable += 1
                        problems.append(str(exc))
                if page.next is None:
                    break
                after = page.next
            state = "" if keyring is None else f", {unreadable} unreadable"
            click.echo(f"  {collection}: {count} record(s){state}")
        if keyring is None:
            click.echo("  (no --keyring: sealed fields not checked)")
        return problems

    problems = _run(db_path, keyring_path, environment, action)
    for line in problems:
        click.echo(f"PROBLEM {line}")
    if problems:
        raise SystemExit(1)
    click.echo("ok")


_module_option = click.option(
    "--module",
    "modules",
    multiple=True,
    help="Also import this module (it declares record types); repeatable.",
)


def _declare_record_types(modules: tuple[str, ...]) -> None:
    """Import the configured plugins and ``modules``: importing declares their record types."""
    from securebot.core.app import load_plugins

    load_plugins(configured())
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise StorageError(f"cannot import {name}: {exc}") from None


@storage_group.command("migrate")
@_store_options
@_module_option
def migrate_command(
    db_path: Path | None,
    keyring_path: Path | None,
    environment: str | None,
    modules: tuple[str, ...],
) -> None:
    """Create or upgrade the store's tables and stored records to the current versions."""
    db_path, keyring_path, environment = _resolve(db_path, keyring_path, environment)
    _declare_record_types(modules)

    async def action(store: Store, keyring: Any, provider: Any) -> dict[str, int]:
        return await store.migrate(record_types())

    done = _run(db_path, keyring_path, environment, action, must_exist=False)
    for collection, count in sorted(done.items()):
        click.echo(f"{collection}: {count} record(s) upgraded")
    click.echo(f"store {db_path} is current")


@storage_group.command("reencrypt")
@_store_options
@_module_option
def reencrypt_command(
    db_path: Path | None,
    keyring_path: Path | None,
    environment: str | None,
    modules: tuple[str, ...],
) -> None:
    """Seal again under the current primary keys what older keys sealed (after a rotation).

    Run it after `securebot keys rotate` (or `promote`) until it rewrites nothing; then the old
    keys can be retired. Record types come from the configured plugins and --module.
    """
    db_path, keyring_path, environment = _resolve(db_path, keyring_path, environment)
    if keyring_path is None:
        raise StorageError("reencrypt needs the keyring: pass --keyring or set [keys] keyring")
    _declare_record_types(modules)

    async def action(
        store: Store, keyring: Any, provider: Any
    ) -> tuple[dict[str, int], dict[str, int]]:
        done = await store.reencrypt(record_types())
        return done, await store.stale_undeclared(record_types())

    done, left = _run(db_path, keyring_path, environment, action)
    for collection, count in sorted(done.items()):
        click.echo(f"{collection}: {count} rewritten")
    total = sum(done.values())
    if left:
        for collection, count in sorted(left.items()):
            click.echo(
                f"{collection}: {count} record(s) still under older keys, not rewritten: no "
                "loaded module declares this record type",
                err=True,
            )
        raise StorageError(
            "re-encryption is not complete: run it with the bot's configuration (--config) or "
            "--module naming the modules that declare those record types; do not retire the "
            "old keys yet"
        )
    click.echo("nothing left under older keys" if total == 0 else f"{total} rewritten; run again")


def _add_export_command(kind: str, about: str) -> None:
    """Register ``export-<kind> ID``: ``kind`` is ``user`` or ``guild``."""

    @storage_group.command(f"export-{kind}", help=f"Everything kept {about}, readable (JSON).")
    @click.argument("ident", metavar=f"{kind.upper()}_ID", type=int)
    @_store_options
    @_destination_options
    def export_command(
        ident: int,
        db_path: Path | None,
        keyring_path: Path | None,
        environment: str | None,
        output: Path | None,
        archive: Path | None,
        plaintext: bool,
    ) -> None:
        _export(db_path, keyring_path, environment, (output, archive, plaintext), (kind, ident))


_add_export_command("user", "about a user")
_add_export_command("guild", "for a guild")


@storage_group.command("delete-user")
@click.argument("user_id", type=int)
@_db_option
@_environment_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete_user_command(
    user_id: int, db_path: Path | None, environment: str | None, yes: bool
) -> None:
    """Erase every record and settings value a user owns."""
    db_path, _, environment = _resolve(db_path, None, environment)
    if not yes:
        click.confirm(f"Erase all data of user {user_id}?", abort=True)

    async def action(store: Store, keyring: Any, provider: Any) -> int:
        return await store.delete_user(user_id)

    count = _run(db_path, None, environment, action)
    click.echo(f"erased {count} item(s) of user {user_id}")


@storage_group.command("delete-guild")
@click.argument("guild_id", type=int)
@_store_options
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete_guild_command(
    guild_id: int,
    db_path: Path | None,
    keyring_path: Path | None,
    environment: str | None,
    yes: bool,
) -> None:
    """Erase a guild's records, counters and settings, and crypto-shred its key."""
    db_path, keyring_path, environment = _resolve(db_path, keyring_path, environment)
    if not yes:
        click.confirm(f"Erase all data of guild {guild_id}? This cannot be undone.", abort=True)

    async def action(store: Store, keyring: Any, provider: Any) -> tuple[int, bool]:
        count = await store.delete_guild(guild_id)
        if keyring is None:
            return count, False
        from securebot.crypto import open_keyring, save_keyring_file
        from securebot.crypto.sealed import read_sealed_file

        if keyring_path is None:  # pragma: no cover - a keyring implies its path
            raise StorageError("keyring path missing")
        # shred on the file as it is now (a bot may have added guild keys since it was read),
        # and write only over exactly that (a concurrent save is refused, not lost)
        data = read_sealed_file(keyring_path)
        current = await open_keyring(data, provider, environment=environment)
        current.shred_guild(str(guild_id))
        await save_keyring_file(
            keyring_path, current, provider, environment=environment, replaces=data
        )
        keyring.shred_guild(str(guild_id))
        return count, True

    count, shredded = _run(db_path, keyring_path, environment, action)
    click.echo(f"erased {count} item(s) of guild {guild_id}")
    if shredded:
        click.echo(f"guild {guild_id}'s data key destroyed (crypto-shred); keyring saved")
    else:
        click.echo(
            "no --keyring given: data deleted, but the guild's key was NOT shredded; "
            "copies in backups stay readable until you run this again with --keyring"
        )
