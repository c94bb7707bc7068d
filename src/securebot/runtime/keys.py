"""Opening the configured keyring at startup, failing closed, and keeping its file current.

The keyring file named by ``[keys] keyring`` holds the keyring sealed under a data key that its
key provider wrapped (``securebot keys init`` makes one). At startup the bot unwraps it, checks
its canaries, and refuses to start on any problem. In development only, a missing file is
created with the ``local`` provider (a key file outside the repository, with a loud warning);
production never creates keys by itself.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from securebot.core.config import Config
from securebot.crypto import (
    PURPOSES,
    KeyProvider,
    Keyring,
    make_provider,
    open_keyring,
    provider_of,
    save_keyring_file,
)
from securebot.crypto.sealed import read_sealed_file
from securebot.errors import KeyringError

log = logging.getLogger("securebot.runtime.keys")


class KeyringFile:
    """An open keyring together with the file and provider that keep it.

    :meth:`save` re-seals the keyring under a fresh data key and replaces the file atomically;
    concurrent saves are serialised.
    """

    def __init__(
        self,
        keyring: Keyring,
        path: Path,
        provider: KeyProvider,
        environment: str,
        *,
        on_disk: bytes | None = None,
    ) -> None:
        """Keep ``keyring`` in ``path``, sealed by ``provider`` for ``environment``.

        ``on_disk`` (keyword-only) is the file's contents the keyring was opened from: a save
        refuses to replace a file that another process changed since (see :meth:`save`).
        """
        self.keyring = keyring
        self.path = path
        self.provider = provider
        self.environment = environment
        self._on_disk = on_disk
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"<KeyringFile {self.path} provider={self.provider.name}>"

    async def save(self) -> None:
        """Seal the keyring again and replace its file (no-op when nothing changed).

        :raises KeyringError: the file was changed by another process (``securebot keys
            destroy --guild``, ``rotate``...) since this one read it. It is left as it is:
            overwriting it would bring back a shredded guild key or undo a rotation. Restart
            the bot to load the current keyring.
        """
        async with self._lock:
            if not self.keyring.dirty:
                return
            self._on_disk = await save_keyring_file(
                self.path,
                self.keyring,
                self.provider,
                environment=self.environment,
                replaces=self._on_disk,
            )
            log.info("keyring %s saved (version %s)", self.keyring.ident, self.keyring.version)


async def open_configured_keyring(config: Config) -> KeyringFile:
    """Open the keyring of ``config`` (creating a development one when allowed).

    :raises KeyringError: the file is missing in production, or cannot be unwrapped or
        verified; the message says what to do and never contains key material.
    """
    environment = config.bot.environment
    path, exists = _locate(config)
    if not exists:
        if config.production:
            raise KeyringError(
                f"keys.keyring: {path} does not exist; create it with `securebot keys init"
                " --provider env|aws-kms` (production never creates keys by itself)"
            )
        return await _create_development_keyring(path, environment)
    data = read_sealed_file(path)
    provider = provider_of(data, environment=environment)
    keyring = await open_keyring(data, provider, environment=environment)
    log.info("keyring %s opened from %s (provider %s)", keyring.ident, path, provider.name)
    return KeyringFile(keyring, path, provider, environment, on_disk=data)


def _locate(config: Config) -> tuple[Path, bool]:
    path = Path(config.keys.keyring).expanduser()
    return path, path.exists()


async def _create_development_keyring(path: Path, environment: str) -> KeyringFile:
    provider = make_provider("local", {}, environment=environment, create=True)
    keyring = Keyring.generate(PURPOSES)
    written = await save_keyring_file(path, keyring, provider, environment=environment)
    log.warning(
        "created a DEVELOPMENT keyring in %s protected by a local key file; production needs"
        " `securebot keys init --provider env|aws-kms`",
        path,
    )
    return KeyringFile(keyring, path, provider, environment, on_disk=written)
