"""The sealed keyring: the only form in which a keyring leaves memory.

:func:`seal_keyring` serializes a :class:`Keyring`, encrypts it with AES-256-GCM under a fresh
random data key (DEK), has a :class:`~securebot.crypto.providers.KeyProvider` wrap the DEK with
the encryption context ``{app, environment, keyring_id, purpose: keyring}``, and adds one
*canary* per purpose: a known value encrypted with that purpose's primary key. The result is a
small JSON document (bytes) holding no plaintext key: store it in a file or a storage record.

:func:`open_keyring` is the startup path: check the format and environment, build the provider,
unwrap the DEK, decrypt the keyring, decrypt every canary. Anything off (wrong KEK, other
environment, tampered file, a canary that does not decrypt) raises one
:class:`~securebot.errors.KeyringError` whose message says what to check: the bot must not start.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from securebot.crypto.context import FieldContext
from securebot.crypto.envelope import FieldCipher
from securebot.crypto.keyring import Clock, Keyring, utc_now
from securebot.crypto.providers import (
    KeyProvider,
    context_aad,
    current_environment,
    make_provider,
)
from securebot.errors import CryptoError, DecryptionError, KeyringError

#: Format tag of sealed keyrings.
SEALED_FORMAT = "securebot-keyring/v1"

CANARY_VALUE = "securebot canary v1"


def _canary_context(purpose: str) -> FieldContext:
    return FieldContext("securebot", "canary", purpose)


def sealing_context(keyring_id: str, environment: str) -> dict[str, str]:
    """The encryption context a keyring's data key is wrapped with (non-secret, logged by KMS)."""
    return {
        "app": "securebot",
        "environment": environment,
        "keyring_id": keyring_id,
        "purpose": "keyring",
    }


async def seal_keyring(
    keyring: Keyring, provider: KeyProvider, *, environment: str | None = None
) -> bytes:
    """The sealed form of ``keyring`` (JSON bytes; no plaintext key material inside)."""
    env = current_environment(environment)
    context = sealing_context(keyring.ident, env)
    canaries = {
        purpose: _b64(FieldCipher(keyring, purpose).encrypt(CANARY_VALUE, _canary_context(purpose)))
        for purpose in keyring.purposes
    }
    dek = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(12)
    body = json.dumps(keyring._dump(), separators=(",", ":")).encode()
    ciphertext = AESGCM(dek).encrypt(nonce, body, context_aad(context))
    wrapped = await provider.wrap(dek, context)
    document = {
        "format": SEALED_FORMAT,
        "keyring_id": keyring.ident,
        "environment": env,
        "version": keyring.version,
        "provider": {"name": provider.name, "options": provider.options()},
        "wrapped_dek": _b64(wrapped),
        "nonce": _b64(nonce),
        "ciphertext": _b64(ciphertext),
        "canaries": canaries,
    }
    keyring.dirty = False
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()


def describe_sealed(data: bytes) -> dict[str, Any]:
    """The non-secret header of a sealed keyring (format, id, environment, version, provider)."""
    document = _parse(data)
    return {
        key: document[key]
        for key in ("format", "keyring_id", "environment", "version", "provider")
        if key in document
    }


async def open_keyring(
    data: bytes,
    provider: KeyProvider | None = None,
    *,
    environment: str | None = None,
    clock: Clock = utc_now,
    provider_options: Mapping[str, str] | None = None,
) -> Keyring:
    """Unwrap, decrypt and verify a sealed keyring; fail closed with one clear message.

    ``provider`` defaults to the one named in the sealed document, built from its stored
    options updated with ``provider_options``.
    """
    env = current_environment(environment)
    try:
        document = _parse(data)
        sealed_env = _text(document, "environment")
        if sealed_env != env:
            raise KeyringError(
                f"the keyring was sealed for environment {sealed_env!r} but this is {env!r}"
            )
        keyring_id = _text(document, "keyring_id")
        if provider is None:
            provider = _provider_of(document, env, provider_options)
        context = sealing_context(keyring_id, env)
        dek = await provider.unwrap(_unb64(document, "wrapped_dek"), context)
        try:
            body = AESGCM(dek).decrypt(
                _unb64(document, "nonce"), _unb64(document, "ciphertext"), context_aad(context)
            )
            contents = json.loads(body)
        except (InvalidTag, ValueError):
            raise KeyringError("the sealed keyring's contents do not authenticate") from None
        keyring = Keyring._load(contents, clock=clock)
        if keyring.ident != keyring_id:
            raise KeyringError("the sealed keyring's id does not match its contents")
        _check_canaries(keyring, document.get("canaries"))
    except CryptoError as exc:
        raise KeyringError(f"refusing to open the keyring: {exc}") from None
    keyring.dirty = False
    return keyring


def provider_of(
    data: bytes,
    *,
    environment: str | None = None,
    provider_options: Mapping[str, str] | None = None,
) -> KeyProvider:
    """The key provider a sealed keyring names, built from its stored non-secret options.

    Build it once and keep it to re-seal the keyring later: some providers read their key
    only once (``env`` removes its variable from the environment).
    """
    env = current_environment(environment)
    try:
        return _provider_of(_parse(data), env, provider_options)
    except CryptoError as exc:
        raise KeyringError(f"refusing to open the keyring: {exc}") from None


def _provider_of(
    document: Mapping[str, Any], environment: str, overrides: Mapping[str, str] | None
) -> KeyProvider:
    spec = document.get("provider")
    if not isinstance(spec, dict) or not isinstance(spec.get("options", {}), dict):
        raise KeyringError("the sealed keyring names no valid key provider")
    options = {str(k): str(v) for k, v in spec.get("options", {}).items()}
    options.update(overrides or {})
    return make_provider(str(spec.get("name")), options, environment=environment)


def _check_canaries(keyring: Keyring, canaries: object) -> None:
    if not isinstance(canaries, dict) or set(canaries) != set(keyring.purposes):
        raise KeyringError("the sealed keyring's canaries are missing or incomplete")
    for purpose, encoded in canaries.items():
        try:
            blob = base64.b64decode(str(encoded), validate=True)
            value = FieldCipher(keyring, purpose).decrypt(blob, _canary_context(purpose))
        except (binascii.Error, ValueError, DecryptionError):
            value = None
        if value != CANARY_VALUE:
            raise KeyringError(f"the {purpose} canary does not decrypt: the keyring is not intact")


def _parse(data: bytes) -> dict[str, Any]:
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise KeyringError("not a sealed securebot keyring (not JSON)") from None
    if not isinstance(document, dict) or document.get("format") != SEALED_FORMAT:
        raise KeyringError(f"not a sealed securebot keyring (expected format {SEALED_FORMAT})")
    return document


def _text(document: Mapping[str, Any], key: str) -> str:
    value = document.get(key)
    if not isinstance(value, str) or not value:
        raise KeyringError(f"the sealed keyring has no valid {key}")
    return value


def _unb64(document: Mapping[str, Any], key: str) -> bytes:
    try:
        return base64.b64decode(_text(document, key), validate=True)
    except (binascii.Error, ValueError):
        raise KeyringError(f"the sealed keyring's {key} is not base64") from None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# --- files ---------------------------------------------------------------------------------


def write_sealed_file(
    path: str | os.PathLike[str], sealed: bytes, *, replaces: bytes | None = None
) -> None:
    """Write a sealed keyring atomically (temp file + rename), mode 0600.

    A failure at any step (a full disk...) leaves the previous file as it was and no temporary
    file behind, and raises :class:`KeyringError` saying so.

    :param replaces: the file's contents as this process last read or wrote them. When given,
        a file that no longer holds exactly that (another process, such as ``securebot keys``,
        changed it: a shredded guild, a rotation) is not overwritten: :class:`KeyringError`.
    """
    target = Path(path)
    if replaces is not None:
        _check_unchanged(target, replaces)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".keyring-", dir=target.parent)
    except OSError as exc:
        raise KeyringError(f"cannot write the keyring file {target}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(sealed)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        if replaces is not None:
            _check_unchanged(target, replaces)  # again, as late as possible
        os.replace(tmp, target)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise KeyringError(
                f"cannot write the keyring file {target}: {exc.strerror};"
                " the previous keyring file is unchanged"
            ) from None
        raise
    _sync_directory(target.parent)


def _check_unchanged(target: Path, expected: bytes) -> None:
    try:
        current = target.read_bytes()
    except FileNotFoundError:
        current = None
    except OSError as exc:
        raise KeyringError(f"cannot read the keyring file {target}: {exc.strerror}") from None
    if current != expected:
        raise KeyringError(
            f"the keyring file {target} was changed by another process since this one read it"
            " (securebot keys or storage commands?); not overwriting it with an older keyring:"
            " restart to load the current one"
        )


def _sync_directory(directory: Path) -> None:
    """Make the rename durable (best effort: not every platform can open a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_sealed_file(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a sealed keyring file (:class:`KeyringError` if it cannot be read)."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise KeyringError(f"cannot read the keyring file {path}: {exc.strerror}") from None


async def open_keyring_file(
    path: str | os.PathLike[str],
    provider: KeyProvider | None = None,
    *,
    environment: str | None = None,
    clock: Clock = utc_now,
    provider_options: Mapping[str, str] | None = None,
) -> Keyring:
    """:func:`open_keyring` on a sealed keyring file: the bot's startup call."""
    return await open_keyring(
        read_sealed_file(path),
        provider,
        environment=environment,
        clock=clock,
        provider_options=provider_options,
    )


async def save_keyring_file(
    path: str | os.PathLike[str],
    keyring: Keyring,
    provider: KeyProvider,
    *,
    environment: str | None = None,
    replaces: bytes | None = None,
) -> bytes:
    """Seal ``keyring`` under a fresh data key and replace the file at ``path`` atomically.

    Returns the bytes written (pass them as ``replaces`` to the next save: see
    :func:`write_sealed_file`).
    """
    sealed = await seal_keyring(keyring, provider, environment=environment)
    try:
        write_sealed_file(path, sealed, replaces=replaces)
    except BaseException:
        keyring.dirty = True  # not persisted: still to be saved
        raise
    return sealed
