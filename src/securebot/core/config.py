"""The bot's configuration: a TOML file plus ``SECUREBOT__SECTION__KEY`` environment overrides.

Example ``securebot.toml``::

    [bot]
    prefix = "!"
    token = "env:DISCORD_TOKEN"      # secrets by reference only: env:NAME or file:PATH
    environment = "production"

    [plugins]
    enable = ["core_commands"]

    [plugins.third_party]            # allowlist: plugin name = distribution that provides it
    welcome = "securebot-welcome"

    [plugin.welcome]                 # a plugin's own settings, read in securebot_configure
    channel = "general"

Validation happens once, on load: an unknown key, a wrong type or an inline secret gives one
clear :class:`~securebot.errors.ConfigError` line naming the key.
"""

from __future__ import annotations

import os
import tomllib
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import attrs

from securebot.core.settings import INTERNAL, SecretRef, build_section, help_text
from securebot.errors import ConfigError

#: Prefix of environment variables that override configuration keys.
ENV_PREFIX = "SECUREBOT__"


@attrs.frozen
class BotSettings:
    """The ``[bot]`` table: how the bot connects and answers."""

    token: SecretRef | None = attrs.field(
        default=None, metadata=help_text("Discord bot token, by reference: env:NAME or file:PATH")
    )
    prefix: str = attrs.field(default="!", metadata=help_text("Default command prefix"))
    owner_ids: tuple[int, ...] = attrs.field(
        default=(), metadata=help_text("Discord user ids of the bot's owners")
    )
    environment: Literal["development", "production"] = attrs.field(
        default="development",
        metadata=help_text("production refuses development-only keys and settings"),
    )
    api_base_url: str = attrs.field(
        default="",
        metadata=help_text(
            "Discord base URL; empty for discord.com, or a local emulator such as "
            "http://127.0.0.1:8765"
        ),
    )
    shard_count: int = attrs.field(
        default=0, metadata=help_text("Number of shards; 0 lets Discord recommend one")
    )

    def __attrs_post_init__(self) -> None:
        if not self.prefix or len(self.prefix) > 10 or any(ch.isspace() for ch in self.prefix):
            raise ConfigError("bot.prefix: must be 1-10 characters without spaces")
        if self.shard_count < 0:
            raise ConfigError("bot.shard_count: must be 0 (automatic) or a positive integer")
        if self.api_base_url and not self.api_base_url.startswith(("http://", "https://")):
            raise ConfigError("bot.api_base_url: must start with http:// or https://")


@attrs.frozen
class PluginsSettings:
    """The ``[plugins]`` table: which plugins run."""

    enable: tuple[str, ...] = attrs.field(
        default=("core_commands",), metadata=help_text("Plugin names to run")
    )
    third_party: Mapping[str, str] = attrs.field(
        factory=lambda: types.MappingProxyType({}),
        metadata=help_text(
            "Allowlist of plugins not shipped with securebot: name = distribution providing it"
        ),
    )

    def __attrs_post_init__(self) -> None:
        if len(set(self.enable)) != len(self.enable):
            raise ConfigError("plugins.enable: a plugin is listed twice")


@attrs.frozen
class StorageSettings:
    """The ``[storage]`` table: where records, settings, the audit log and jobs are kept."""

    backend: Literal["sqlite", "mongo"] = attrs.field(
        default="sqlite",
        metadata=help_text("Store of record: sqlite (embedded default) or mongo (production)"),
    )
    path: str = attrs.field(
        default="securebot.sqlite3",
        metadata=help_text("SQLite file (created with mode 0600); also holds the audit log"),
    )
    mongo_uri: SecretRef | None = attrs.field(
        default=None,
        metadata=help_text("MongoDB URI by reference (it may hold credentials): env:NAME"),
    )
    mongo_database: str = attrs.field(default="securebot", metadata=help_text("MongoDB database"))
    mongo_tls_ca_file: str | None = attrs.field(
        default=None,
        metadata=help_text("MongoDB: CA bundle that signed the server certificates (turns TLS on)"),
    )
    mongo_tls_certificate_key_file: str | None = attrs.field(
        default=None,
        metadata=help_text("MongoDB: client certificate and key, one PEM file (turns TLS on)"),
    )
    mongo_x509_auth: bool = attrs.field(
        default=False,
        metadata=help_text("MongoDB: authenticate as the client certificate (MONGODB-X509)"),
    )
    mongo_timeout_ms: int = attrs.field(
        default=10_000,
        metadata=help_text("MongoDB: how long start-up waits for a usable server (milliseconds)"),
    )
    redis_url: SecretRef | None = attrs.field(
        default=None,
        metadata=help_text(
            "Optional Redis read-through cache, by reference (redis:// or rediss:// URL)"
        ),
    )

    def __attrs_post_init__(self) -> None:
        if self.backend == "sqlite" and not self.path.strip():
            raise ConfigError("storage.path: the SQLite file name must not be empty")
        if self.backend == "mongo" and self.mongo_uri is None:
            raise ConfigError('storage.mongo_uri: required with backend = "mongo"')
        if self.mongo_x509_auth and not self.mongo_tls_certificate_key_file:
            raise ConfigError(
                "storage.mongo_x509_auth: needs storage.mongo_tls_certificate_key_file"
                " (the certificate to authenticate as)"
            )
        if not 100 <= self.mongo_timeout_ms <= 600_000:
            raise ConfigError("storage.mongo_timeout_ms: must be between 100 and 600000")


@attrs.frozen
class KeysSettings:
    """The ``[keys]`` table: the sealed keyring that protects every encrypted field."""

    keyring: str = attrs.field(
        default="securebot.keyring",
        metadata=help_text(
            "Sealed keyring file (holds wrapped keys only; made by `securebot keys init`)."
            " In development a missing file is created with the local dev key provider"
        ),
    )

    def __attrs_post_init__(self) -> None:
        if not self.keyring.strip():
            raise ConfigError("keys.keyring: the keyring file name must not be empty")


@attrs.frozen
class LoggingSettings:
    """The ``[logging]`` table."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = attrs.field(
        default="INFO", metadata=help_text("Lowest level logged")
    )


@attrs.frozen
class Config:
    """The whole, validated configuration."""

    bot: BotSettings = attrs.field(factory=BotSettings)
    plugins: PluginsSettings = attrs.field(factory=PluginsSettings)
    logging: LoggingSettings = attrs.field(factory=LoggingSettings)
    storage: StorageSettings = attrs.field(factory=StorageSettings)
    keys: KeysSettings = attrs.field(factory=KeysSettings)
    #: Each plugin's own table (``[plugin.<name>]``), validated by the plugin itself.
    plugin: Mapping[str, Mapping[str, Any]] = attrs.field(
        factory=lambda: types.MappingProxyType({})
    )
    #: Where the configuration was read from (for messages).
    source: str = attrs.field(default="<defaults>", eq=False, metadata={INTERNAL: True})

    def plugin_settings(self, name: str) -> Mapping[str, Any]:
        """The ``[plugin.<name>]`` table (empty when absent)."""
        return self.plugin.get(name, types.MappingProxyType({}))

    @property
    def production(self) -> bool:
        """Whether the bot runs in production mode."""
        return self.bot.environment == "production"


def parse_config(data: Mapping[str, Any], *, source: str = "<memory>") -> Config:
    """Validate parsed TOML ``data`` into a :class:`Config`."""
    return attrs.evolve(build_section(Config, dict(data), ""), source=source)


def apply_environment(data: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """Overlay ``SECUREBOT__SECTION__KEY=value`` variables onto parsed TOML ``data``.

    The value is read as a TOML value when it parses as one (``3``, ``true``, ``["a"]``) and as
    a plain string otherwise.
    """
    merged = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    for name, raw in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX):
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX) :].split("__")]
        if len(path) < 2 or not all(path):
            raise ConfigError(f"environment variable {name}: expected {ENV_PREFIX}SECTION__KEY")
        try:
            value: Any = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        table = merged
        for part in path[:-1]:
            inner = table.setdefault(part, {})
            if not isinstance(inner, dict):
                raise ConfigError(f"environment variable {name}: {part} is not a table")
            table[part] = inner = dict(inner)
            table = inner
        table[path[-1]] = value
    return merged


def load_config(path: str | Path | None, *, environ: Mapping[str, str] | None = None) -> Config:
    """Read, overlay and validate the configuration. ``path=None`` uses the defaults only."""
    data: dict[str, Any] = {}
    source = "<defaults>"
    if path is not None:
        file = Path(path)
        source = str(file)
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"{file}: configuration file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{file}: cannot read configuration: {exc}") from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: invalid TOML: {exc}") from None
    data = apply_environment(data, os.environ if environ is None else environ)
    try:
        return parse_config(data, source=source)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
