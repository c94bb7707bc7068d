"""``securebot keys``: create, inspect and rotate the sealed keyring.

The keyring lives in one *sealed keyring file* (``--keyring PATH`` or ``$SECUREBOT_KEYRING``): a
JSON document holding the keyring encrypted under a data key that the key provider wrapped, the
provider's name and non-secret options, and one canary per purpose. It never holds a plaintext
key, so it can be backed up like any other file; the key-encryption key stays with the provider
(an environment variable, AWS KMS, or for development a local key file outside the repository).

Every command opens the file the way the bot does at startup (unwrap, decrypt, check canaries)
and refuses to go on if anything is off; commands that change the keyring seal it again under a
fresh data key and replace the file atomically.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from securebot.cli.options import configured, group_config_option
from securebot.crypto import Keyring, make_provider, open_keyring, save_keyring_file
from securebot.crypto.keyring import PURPOSES
from securebot.crypto.providers import (
    DEFAULT_KEK_VARIABLE,
    ENVIRONMENT_VARIABLE,
    PROVIDERS,
    KeyProvider,
    current_environment,
)
from securebot.crypto.sealed import provider_of, read_sealed_file
from securebot.errors import KeyringError

#: Environment variable naming the sealed keyring file when ``--keyring`` is not given.
KEYRING_ENV = "SECUREBOT_KEYRING"


def _configured_keyring(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path:
    return value if value is not None else Path(configured().keys.keyring).expanduser()


_keyring_option = click.option(
    "--keyring",
    "keyring_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar=KEYRING_ENV,
    default=None,
    callback=_configured_keyring,
    help=f"Sealed keyring file (default: ${KEYRING_ENV}, else the configuration's [keys]).",
)


def _configured_environment(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> str | None:
    """``--environment``, else ``$SECUREBOT_ENV``, else a configuration file's ``[bot]
    environment`` (as the bot itself would open the keyring), else development."""
    if value is not None:
        return value
    config = configured()
    return config.bot.environment if config.source != "<defaults>" else None


_environment_option = click.option(
    "--environment",
    envvar=ENVIRONMENT_VARIABLE,
    default=None,
    callback=_configured_environment,
    help=(
        f"Deployment environment (default: ${ENVIRONMENT_VARIABLE}, else the configuration's"
        " [bot] environment, else development)."
    ),
)
_endpoint_option = click.option(
    "--kms-endpoint-url",
    default=None,
    help="aws-kms provider: KMS endpoint URL (tests, VPC endpoints); overrides the stored one.",
)


def _open_options(func: Any) -> Any:
    """Add the options that locate and open an existing keyring: ``--keyring``,
    ``--environment`` and ``--kms-endpoint-url``."""
    return _keyring_option(_environment_option(_endpoint_option(func)))


def _key_id(text: str) -> int:
    try:
        return int(text, 16) if text.lower().startswith("0x") else int(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a key id (0x1234abcd or decimal)") from None


async def _open(
    path: Path, environment: str | None, endpoint: str | None
) -> tuple[Keyring, KeyProvider, bytes]:
    """The keyring of the file at ``path``, its provider, and the file's bytes (``replaces``)."""
    data = read_sealed_file(path)
    overrides = {"endpoint_url": endpoint} if endpoint else None
    provider = provider_of(data, environment=environment, provider_options=overrides)
    keyring = await open_keyring(data, provider, environment=environment)
    return keyring, provider, data


async def _save(
    path: Path,
    keyring: Keyring,
    provider: KeyProvider,
    env: str | None,
    replaces: bytes | None = None,
) -> None:
    """Seal and write; with ``replaces``, only over the file as it was read (else refuse)."""
    await save_keyring_file(path, keyring, provider, environment=env, replaces=replaces)


def _change(
    path: Path, environment: str | None, endpoint: str | None, change: Any
) -> tuple[Keyring, Any]:
    async def run() -> tuple[Keyring, Any]:
        keyring, provider, data = await _open(path, environment, endpoint)
        result = change(keyring)
        await _save(path, keyring, provider, environment, replaces=data)
        return keyring, result

    return asyncio.run(run())


def _change_key(
    path: Path,
    environment: str | None,
    endpoint: str | None,
    key_id: str,
    action: Callable[[Keyring, int], object],
) -> int:
    """Apply ``action`` to the key ``key_id`` (hex or decimal) of the keyring file at ``path``,
    seal it again and return the key's number."""
    number = _key_id(key_id)
    _change(path, environment, endpoint, lambda keyring: action(keyring, number))
    return number


def _provider_options(func: Any) -> Any:
    """Add ``--provider`` and the options of each provider."""
    for option in reversed(
        [
            click.option(
                "--provider", type=click.Choice(PROVIDERS), required=True, help="Key provider."
            ),
            click.option(
                "--kek-variable",
                default=DEFAULT_KEK_VARIABLE,
                show_default=True,
                help="env provider: variable holding the base64 key-encryption key.",
            ),
            click.option(
                "--local-key-file",
                type=click.Path(dir_okay=False, path_type=Path),
                default=None,
                help="local provider: key file (created if missing;"
                " default ~/.config/securebot/dev-kek).",
            ),
            click.option("--kms-key-id", default=None, help="aws-kms provider: key ARN or alias."),
            click.option("--kms-region", default=None, help="aws-kms provider: region."),
        ]
    ):
        func = option(func)
    return func


def _options_for(
    provider: str,
    kek_variable: str,
    local_key_file: Path | None,
    kms_key_id: str | None,
    kms_region: str | None,
    kms_endpoint_url: str | None,
) -> dict[str, str]:
    options: dict[str, str] = {}
    if provider == "env":
        options["variable"] = kek_variable
    elif provider == "local":
        if local_key_file is not None:
            options["path"] = str(local_key_file)
    else:
        options["key_id"] = kms_key_id or ""
        if kms_region:
            options["region"] = kms_region
        if kms_endpoint_url:
            options["endpoint_url"] = kms_endpoint_url
    return options


def _new_provider(
    provider: str,
    kek_variable: str,
    local_key_file: Path | None,
    kms_key_id: str | None,
    kms_region: str | None,
    kms_endpoint_url: str | None,
    environment: str,
) -> KeyProvider:
    """The key provider named ``provider``, built from the ``_provider_options`` values
    (creating its key where the provider makes one, e.g. a local key file)."""
    options = _options_for(
        provider, kek_variable, local_key_file, kms_key_id, kms_region, kms_endpoint_url
    )
    return make_provider(provider, options, environment=environment, create=True)


@click.group("keys")
@group_config_option
def keys_group() -> None:
    """Create, inspect and rotate the sealed keyring (see docs/security.md)."""


@keys_group.command("init")
@_keyring_option
@_environment_option
@_provider_options
@_endpoint_option
@click.option(
    "--max-age-days",
    type=click.IntRange(1, 3650),
    default=90,
    show_default=True,
    help="Age after which rotating a primary key is due (status reports it).",
)
def init(
    keyring_path: Path,
    environment: str | None,
    provider: str,
    kek_variable: str,
    local_key_file: Path | None,
    kms_key_id: str | None,
    kms_region: str | None,
    kms_endpoint_url: str | None,
    max_age_days: int,
) -> None:
    """Create a new keyring (one primary key per purpose) sealed by PROVIDER."""
    if keyring_path.exists():
        raise KeyringError(
            f"{keyring_path} already exists; refusing to replace a keyring (its keys would be"
            " lost). Rotate it with: securebot keys rotate"
        )
    env = current_environment(environment)
    key_provider = _new_provider(
        provider, kek_variable, local_key_file, kms_key_id, kms_region, kms_endpoint_url, env
    )
    keyring = Keyring.generate(PURPOSES, max_age=timedelta(days=max_age_days))
    asyncio.run(_save(keyring_path, keyring, key_provider, env))
    click.echo(f"created keyring {keyring.ident} in {keyring_path}")
    click.echo(f"  provider: {provider}  environment: {env}")
    click.echo(f"  purposes: {', '.join(keyring.purposes)}")


@keys_group.command("reseal")
@_keyring_option
@_environment_option
@_provider_options
@click.option(
    "--kms-endpoint-url", default=None, help="aws-kms provider: endpoint of the new provider."
)
def reseal(
    keyring_path: Path,
    environment: str | None,
    provider: str,
    kek_variable: str,
    local_key_file: Path | None,
    kms_key_id: str | None,
    kms_region: str | None,
    kms_endpoint_url: str | None,
) -> None:
    """Seal the same keyring under another PROVIDER (e.g. env to aws-kms); keys are unchanged."""
    env = current_environment(environment)
    new_provider = _new_provider(
        provider, kek_variable, local_key_file, kms_key_id, kms_region, kms_endpoint_url, env
    )

    async def run() -> Keyring:
        keyring, _, data = await _open(keyring_path, env, None)
        await _save(keyring_path, keyring, new_provider, env, replaces=data)
        # Prove the new file opens before reporting success.
        await open_keyring(read_sealed_file(keyring_path), new_provider, environment=env)
        return keyring

    keyring = asyncio.run(run())
    click.echo(f"keyring {keyring.ident} is now sealed by {new_provider!r}")


@keys_group.command("new-kek")
def new_kek() -> None:
    """Print a fresh random key-encryption key (base64) for the env provider."""
    click.echo(base64.b64encode(os.urandom(32)).decode())


@keys_group.command("status")
@_open_options
def status(keyring_path: Path, environment: str | None, kms_endpoint_url: str | None) -> None:
    """Open the keyring (as the bot would at startup) and list its keys; no key material."""
    keyring, provider, _ = asyncio.run(_open(keyring_path, environment, kms_endpoint_url))
    click.echo(f"keyring {keyring.ident} v{keyring.version}: ok (canaries verified)")
    click.echo(f"  provider: {provider!r}")
    click.echo(f"  {'purpose':<10} {'key id':<11} {'status':<10} {'created':<11} encryptions")
    for report in keyring.report():
        due = "  rotation due" if report.rotation_due else ""
        click.echo(
            f"  {report.purpose:<10} {report.key_id:#010x}  {report.status.value:<10}"
            f" {report.created_at.date().isoformat():<11} {report.encryptions}{due}"
        )
    shredded = sum(1 for g in keyring.guilds if (k := keyring.guild_key(g)) and k.destroyed)
    click.echo(f"  guild data keys: {len(keyring.guilds) - shredded} live, {shredded} shredded")


@keys_group.command("rotate")
@_open_options
@click.option(
    "--purpose",
    "purposes",
    multiple=True,
    type=click.Choice(PURPOSES),
    help="Purpose to rotate (repeatable; default: every purpose).",
)
@click.option(
    "--stage",
    is_flag=True,
    help="Only add the new keys (not primary): roll the file out everywhere, then promote.",
)
def rotate(
    keyring_path: Path,
    environment: str | None,
    kms_endpoint_url: str | None,
    purposes: tuple[str, ...],
    stage: bool,
) -> None:
    """Add a new key per purpose and make it primary (or only add it with --stage)."""

    def change(keyring: Keyring) -> list[tuple[str, int]]:
        chosen = purposes or tuple(keyring.purposes)
        if stage:
            return [(p, keyring.add_key(p)) for p in chosen]
        return [(p, keyring.rotate(p)) for p in chosen]

    _, added = _change(keyring_path, environment, kms_endpoint_url, change)
    verb = "staged" if stage else "now primary"
    for purpose, key_id in added:
        click.echo(f"{purpose}: new key {key_id:#010x} {verb}")
    if stage:
        click.echo(
            "roll this keyring file out to every instance, then make each key primary"
            " (securebot keys promote KEY_ID)"
        )
        return
    click.echo(
        "re-encrypt stored data (securebot storage reencrypt, until nothing is left),"
        " then retire the old keys (securebot keys retire)"
    )


@keys_group.command("promote")
@_open_options
@click.argument("key_id")
def promote(
    keyring_path: Path, environment: str | None, kms_endpoint_url: str | None, key_id: str
) -> None:
    """Make a staged key KEY_ID the primary of its purpose."""
    number = _change_key(keyring_path, environment, kms_endpoint_url, key_id, Keyring.promote)
    click.echo(f"key {number:#010x} is now primary")


@keys_group.command("retire")
@_open_options
@click.argument("key_id")
def retire(
    keyring_path: Path, environment: str | None, kms_endpoint_url: str | None, key_id: str
) -> None:
    """Make KEY_ID decrypt-only (after its data was re-encrypted)."""
    number = _change_key(keyring_path, environment, kms_endpoint_url, key_id, Keyring.retire)
    click.echo(f"key {number:#010x} retired: it still decrypts; destroy it after 30 days")


def _store_to_check(db_path: Path | None) -> Path | None:
    """The SQLite store ``keys destroy`` checks: ``--db``, else the configured one if present."""
    if db_path is not None:
        if not db_path.is_file():
            raise KeyringError(f"no store at {db_path} (--db)")
        return db_path
    config = configured()
    if config.storage.backend != "sqlite":
        return None
    configured_path = Path(config.storage.path).expanduser()
    return configured_path if configured_path.is_file() else None


async def _values_under(db: Path, key_id: int) -> int:
    """How many sealed values stored in ``db`` (records, settings, job payloads) name ``key_id``."""
    from securebot.core.storage import Store
    from securebot.storage.sqlite import SqliteBackend, SqliteJobStore

    store = Store(SqliteBackend(db))  # no keyring: only key ids are read, nothing is opened
    await store.open()
    try:
        counts = await store.sealed_key_ids()
        jobs = await SqliteJobStore(store.backend).sealed_key_ids()  # type: ignore[arg-type]
    finally:
        await store.close()
    return counts.get(key_id, 0) + jobs.get(key_id, 0)


@keys_group.command("destroy")
@_open_options
@click.option("--guild", "guild_id", default=None, help="Shred this guild's data key instead.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SQLite store checked for values still under KEY_ID"
    " (default: the configuration's [storage] path when that file exists).",
)
@click.argument("key_id", required=False)
def destroy(
    keyring_path: Path,
    environment: str | None,
    kms_endpoint_url: str | None,
    guild_id: str | None,
    yes: bool,
    db_path: Path | None,
    key_id: str | None,
) -> None:
    """Erase a retired KEY_ID (30 days after retiring), or a guild's data key (--guild).

    Whatever was encrypted under it becomes unreadable for good. Asks for confirmation.
    A KEY_ID that stored values (records, settings, scheduled jobs) still use is refused:
    re-encrypt them first (securebot storage reencrypt).
    """
    if (key_id is None) == (guild_id is None):
        raise click.UsageError("give either a KEY_ID or --guild GUILD_ID")
    if key_id is not None:
        db = _store_to_check(db_path)
        if db is None:
            click.echo(
                "note: no SQLite store checked for values under this key (pass --db);"
                " a MongoDB store is not checked"
            )
        else:
            number = _key_id(str(key_id))
            left = asyncio.run(_values_under(db, number))
            if left:
                raise KeyringError(
                    f"{left} sealed value(s) in {db} still use key {number:#010x}: destroying"
                    " it would make them unreadable. Re-encrypt them first (securebot storage"
                    " reencrypt, until nothing is left; a job keeps its key while it exists)"
                )
    if guild_id is not None:
        what = f"guild {guild_id}'s data key (all of that guild's encrypted data)"
    else:
        what = f"key {_key_id(str(key_id)):#010x}"
    if not yes:
        click.confirm(
            f"Destroy {what}? Data encrypted under it can never be read again", abort=True
        )
    if guild_id is not None:
        gid = guild_id
        _change(keyring_path, environment, kms_endpoint_url, lambda k: k.shred_guild(gid))
    else:
        _change_key(keyring_path, environment, kms_endpoint_url, str(key_id), Keyring.destroy)
    click.echo(f"destroyed {what}")
