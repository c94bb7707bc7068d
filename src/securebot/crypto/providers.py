"""Key providers: who wraps the data key that seals the keyring (the KEK side of the envelope).

A :class:`KeyProvider` wraps and unwraps a 32-byte data key under a key-encryption key it holds
(or that a KMS holds), bound to an *encryption context*: non-secret key/value pairs (app,
environment, purpose, keyring id) that must match exactly on unwrap. Three providers:

* :class:`LocalKeyProvider` (``local``): development only. The KEK is a file outside any git work
  tree (created 0600 on first use); it logs a warning on every load and refuses to run when the
  environment is production.
* :class:`EnvKeyProvider` (``env``): a base64 KEK from an environment variable (default
  ``SECUREBOT_KEK``), read once and removed from ``os.environ``.
* :class:`AwsKmsKeyProvider` (``aws-kms``): AWS KMS ``Encrypt``/``Decrypt`` with the context as
  ``EncryptionContext``; boto3 is imported lazily and calls run in a worker thread.

:func:`make_provider` builds one from its name and non-secret options (as stored in a sealed
keyring file).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from securebot.crypto.context import canonical
from securebot.errors import KeyProviderError

logger = logging.getLogger("securebot.crypto")

#: Environment variable naming the deployment environment (``production`` refuses dev keys).
ENVIRONMENT_VARIABLE = "SECUREBOT_ENV"
#: Default environment variable of the ``env`` provider.
DEFAULT_KEK_VARIABLE = "SECUREBOT_KEK"

_WRAP_LABEL = "securebot/kek-wrap/v1"


def current_environment(environment: str | None = None) -> str:
    """``environment`` if given, else ``$SECUREBOT_ENV``, else ``development``."""
    if environment:
        return environment
    return os.environ.get(ENVIRONMENT_VARIABLE, "").strip() or "development"


def context_aad(context: Mapping[str, str]) -> bytes:
    """The canonical associated data of an encryption context (sorted key/value pairs)."""
    parts = [_WRAP_LABEL]
    for key in sorted(context):
        parts += [key, context[key]]
    return canonical(*parts)


@runtime_checkable
class KeyProvider(Protocol):
    """Wraps and unwraps data keys under a key-encryption key, bound to a context."""

    #: The provider's name: ``local``, ``env`` or ``aws-kms``.
    name: str

    def options(self) -> dict[str, str]:
        """The non-secret options that rebuild this provider (stored next to the keyring)."""

    async def wrap(self, dek: bytes, context: Mapping[str, str]) -> bytes:
        """``dek`` encrypted under the KEK; only unwraps with the same ``context``."""

    async def unwrap(self, blob: bytes, context: Mapping[str, str]) -> bytes:
        """The data key of ``blob``; :class:`KeyProviderError` if wrong KEK or context."""


class _AesKek:
    """Local AES-256-GCM key wrapping: ``nonce (12) | ciphertext | tag``, AAD = context."""

    __slots__ = ("_aead",)

    def __init__(self, kek: bytes) -> None:
        if len(kek) != 32:
            raise KeyProviderError(f"a key-encryption key must be 32 bytes, got {len(kek)}")
        self._aead = AESGCM(kek)

    def wrap(self, dek: bytes, context: Mapping[str, str]) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, dek, context_aad(context))

    def unwrap(self, blob: bytes, context: Mapping[str, str], who: str) -> bytes:
        if len(blob) < 12 + 16:
            raise KeyProviderError(f"{who}: the wrapped data key is truncated")
        try:
            return self._aead.decrypt(blob[:12], blob[12:], context_aad(context))
        except InvalidTag:
            raise KeyProviderError(
                f"{who}: cannot unwrap the data key: wrong key-encryption key or the keyring"
                " was sealed for another environment or keyring"
            ) from None


class EnvKeyProvider:
    """``env``: a base64 32-byte KEK in an environment variable (read once, then removed)."""

    name = "env"

    def __init__(self, variable: str = DEFAULT_KEK_VARIABLE, *, keep: bool = False) -> None:
        self.variable = variable
        raw = os.environ.get(variable)
        if raw is None:
            raise KeyProviderError(
                f"env key provider: environment variable {variable} is not set"
                " (expected a base64 32-byte key: securebot keys new-kek)"
            )
        try:
            kek = base64.b64decode(raw.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise KeyProviderError(
                f"env key provider: {variable} is not valid base64 (expected 32 bytes)"
            ) from None
        if len(kek) != 32:
            raise KeyProviderError(
                f"env key provider: {variable} decodes to {len(kek)} bytes, expected 32"
            )
        if not keep:
            os.environ.pop(variable, None)
        self._kek = _AesKek(kek)

    def __repr__(self) -> str:
        return f"EnvKeyProvider(variable={self.variable!r})"

    def __reduce__(self) -> Any:
        raise TypeError("a key provider cannot be pickled")

    def options(self) -> dict[str, str]:
        """``{"variable": NAME}``."""
        return {"variable": self.variable}

    async def wrap(self, dek: bytes, context: Mapping[str, str]) -> bytes:
        """Wrap ``dek`` under the KEK with AES-256-GCM."""
        return self._kek.wrap(dek, context)

    async def unwrap(self, blob: bytes, context: Mapping[str, str]) -> bytes:
        """Unwrap a blob of :meth:`wrap`."""
        return self._kek.unwrap(blob, context, "env key provider")


def _inside_git_tree(path: Path) -> Path | None:
    for parent in path.resolve().parents:
        if (parent / ".git").exists():
            return parent
    return None


def default_local_key_path() -> Path:
    """``$XDG_CONFIG_HOME/securebot/dev-kek`` (``~/.config/securebot/dev-kek``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "securebot" / "dev-kek"


class LocalKeyProvider:
    """``local``: a KEK in a file, for development only.

    Refuses when the environment (``environment`` or ``$SECUREBOT_ENV``) is ``production`` and
    when the key file lies inside a git work tree. Creates the file (mode 0600) when
    ``create=True`` and it does not exist. Logs a warning every time it loads.
    """

    name = "local"

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        environment: str | None = None,
        create: bool = False,
    ) -> None:
        env = current_environment(environment)
        if env == "production":
            raise KeyProviderError(
                "the local key provider is for development only and refuses to run in"
                " production: use the env or aws-kms provider"
            )
        self.path = Path(path) if path is not None else default_local_key_path()
        repo = _inside_git_tree(self.path)
        if repo is not None:
            raise KeyProviderError(
                f"local key provider: the key file {self.path} is inside the git work tree"
                f" {repo}; keep it outside any repository"
            )
        if not self.path.exists():
            if not create:
                raise KeyProviderError(
                    f"local key provider: key file {self.path} does not exist"
                    " (securebot keys init creates it)"
                )
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(os.urandom(32))
        kek = self.path.read_bytes()
        if len(kek) != 32:
            raise KeyProviderError(
                f"local key provider: key file {self.path} holds {len(kek)} bytes, expected 32"
            )
        self._kek = _AesKek(kek)
        logger.warning(
            "DEVELOPMENT ONLY: the keyring is protected by a local key file (%s); anyone who can"
            " read it can read every encrypted value. Use the env or aws-kms provider in"
            " production.",
            self.path,
        )

    def __repr__(self) -> str:
        return f"LocalKeyProvider(path={str(self.path)!r})"

    def __reduce__(self) -> Any:
        raise TypeError("a key provider cannot be pickled")

    def options(self) -> dict[str, str]:
        """``{"path": PATH}``."""
        return {"path": str(self.path)}

    async def wrap(self, dek: bytes, context: Mapping[str, str]) -> bytes:
        """Wrap ``dek`` under the file's KEK with AES-256-GCM."""
        return self._kek.wrap(dek, context)

    async def unwrap(self, blob: bytes, context: Mapping[str, str]) -> bytes:
        """Unwrap a blob of :meth:`wrap`."""
        return self._kek.unwrap(blob, context, "local key provider")


class AwsKmsKeyProvider:
    """``aws-kms``: AWS KMS wraps the data key, with the context as ``EncryptionContext``.

    ``key_id`` is a key ARN, alias ARN or ``alias/NAME``. Credentials come from boto3's default
    chain (instance or task role); ``endpoint_url`` points at a KMS-compatible endpoint (tests).
    """

    name = "aws-kms"

    def __init__(
        self,
        key_id: str,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        client: Any = None,
    ) -> None:
        if not key_id:
            raise KeyProviderError("aws-kms key provider: a KMS key id or alias is required")
        self.key_id = key_id
        self.region = region
        self.endpoint_url = endpoint_url
        self._client = client

    def __repr__(self) -> str:
        return f"AwsKmsKeyProvider(key_id={self.key_id!r}, region={self.region!r})"

    def __reduce__(self) -> Any:
        raise TypeError("a key provider cannot be pickled")

    def options(self) -> dict[str, str]:
        """``key_id`` and, when set, ``region`` and ``endpoint_url``."""
        out = {"key_id": self.key_id}
        if self.region:
            out["region"] = self.region
        if self.endpoint_url:
            out["endpoint_url"] = self.endpoint_url
        return out

    def _kms(self) -> Any:
        if self._client is None:
            try:
                import boto3  # optional extra: imported only when this provider is used
            except ImportError:
                raise KeyProviderError(
                    "the aws-kms key provider needs boto3: pip install 'securebot[s3]'"
                ) from None
            self._client = boto3.client(
                "kms", region_name=self.region, endpoint_url=self.endpoint_url
            )
        return self._client

    async def wrap(self, dek: bytes, context: Mapping[str, str]) -> bytes:
        """KMS ``Encrypt`` of ``dek`` under :attr:`key_id` with ``context``."""
        client = self._kms()

        def call() -> bytes:
            response = client.encrypt(
                KeyId=self.key_id, Plaintext=dek, EncryptionContext=dict(context)
            )
            return bytes(response["CiphertextBlob"])

        return await self._run(call, "wrap")

    async def unwrap(self, blob: bytes, context: Mapping[str, str]) -> bytes:
        """KMS ``Decrypt`` of ``blob`` with ``context`` (refused by KMS on any mismatch)."""
        client = self._kms()

        def call() -> bytes:
            response = client.decrypt(
                CiphertextBlob=blob, KeyId=self.key_id, EncryptionContext=dict(context)
            )
            return bytes(response["Plaintext"])

        return await self._run(call, "unwrap")

    async def _run(self, call: Any, what: str) -> bytes:
        try:
            result: bytes = await asyncio.to_thread(call)
        except Exception as exc:  # noqa: BLE001 - botocore raises many types; report one
            code = _error_code(exc)
            if code == "InvalidCiphertextException":
                raise KeyProviderError(
                    f"aws-kms refused to {what} the data key (InvalidCiphertextException): the"
                    " encryption context or KMS key does not match the one it was sealed with"
                ) from None
            raise KeyProviderError(
                f"aws-kms could not {what} the data key with {self.key_id}: {code}"
            ) from None
        return result


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if code:
            return str(code)
    return type(exc).__name__


#: Provider names :func:`make_provider` knows.
PROVIDERS = ("aws-kms", "env", "local")


def make_provider(
    name: str,
    options: Mapping[str, str] | None = None,
    *,
    environment: str | None = None,
    create: bool = False,
) -> KeyProvider:
    """The provider ``name`` built from its non-secret ``options``."""
    opts = dict(options or {})
    if name == "env":
        return EnvKeyProvider(opts.get("variable", DEFAULT_KEK_VARIABLE))
    if name == "local":
        return LocalKeyProvider(opts.get("path"), environment=environment, create=create)
    if name == "aws-kms":
        return AwsKmsKeyProvider(
            opts.get("key_id", ""),
            region=opts.get("region"),
            endpoint_url=opts.get("endpoint_url"),
        )
    raise KeyProviderError(f"unknown key provider {name!r} (known: {', '.join(PROVIDERS)})")
