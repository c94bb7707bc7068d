"""Short-lived download tokens: HMAC-SHA256 over (export id, user id, expiry).

A token is ``v1.<payload>.<tag>`` in URL-safe base64 without padding. The payload binds the export
id (16 bytes), the user id the link was sent to (u64) and the expiry (unix seconds, u64); the tag
is HMAC-SHA256 over a label and the payload with a key of ≥ 32 bytes from the secret source,
checked in constant time (``cryptography``'s ``HMAC.verify``). Tokens are bearer links, so they
live minutes, not days, and the gateway re-checks the owner against the stored export.

Every refusal raises :class:`DownloadTokenError` with a reason code for the audit record; what
the HTTP client sees is the same for all of them.
"""

from __future__ import annotations

import base64
import binascii
import os
import struct
import time
from collections.abc import Callable

import attrs
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, hmac

from securebot.crypto import Secret
from securebot.errors import ConfigError, ExportError
from securebot.exports.metadata import is_export_id

#: Default lifetime of a download token (seconds).
DEFAULT_TOKEN_TTL = 900
#: Longest lifetime the signer accepts (seconds).
MAX_TOKEN_TTL = 24 * 3600
_VERSION = "v1"
_LABEL = b"securebot/export-download/v1\x00"
_PAYLOAD = struct.Struct(">16sQQ")
_MIN_KEY = 32
#: Environment variable holding the bot's and the gateway's shared signing key (base64).
SIGNING_KEY_ENV = "SECUREBOT_EXPORT_TOKEN_KEY"


def signing_key_from_env(variable: str = SIGNING_KEY_ENV) -> Secret[bytes]:
    """The signing key in ``$variable``: URL-safe base64 of ≥ 32 random bytes, as printed by
    ``securebot gateway new-key``. The bot and the gateway read it the same way.

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
    if len(key) < _MIN_KEY:
        raise ConfigError(f"${variable} must hold at least {_MIN_KEY} random bytes")
    return Secret(key)


class DownloadTokenError(ExportError):
    """A download token was refused; ``reason`` is for the audit log, not for the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"download token refused: {reason}")
        self.reason = reason


@attrs.frozen
class TokenClaims:
    """What a valid token says."""

    export_id: str
    user_id: int
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii"))


class DownloadTokenSigner:
    """Mints and checks download tokens with one secret key."""

    def __init__(
        self,
        key: Secret[bytes],
        *,
        ttl: int = DEFAULT_TOKEN_TTL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """:param key: the signing key (≥ 32 random bytes) shared by bot and gateway.
        :param ttl: token lifetime in seconds.
        :param clock: unix time source (tests set it).
        """
        if not isinstance(key, Secret) or not isinstance(key.reveal(), bytes):
            raise ExportError("the download-token key must be a Secret holding bytes")
        if len(key) < _MIN_KEY:
            raise ExportError(f"the download-token key must be at least {_MIN_KEY} bytes")
        if not 1 <= ttl <= MAX_TOKEN_TTL:
            raise ExportError(f"download-token lifetime must be 1..{MAX_TOKEN_TTL} seconds")
        self._key = key
        self.ttl = ttl
        self.clock = clock

    def __repr__(self) -> str:
        return f"DownloadTokenSigner(ttl={self.ttl})"

    def _tag(self, payload: bytes) -> bytes:
        mac = hmac.HMAC(self._key.reveal(), hashes.SHA256())
        mac.update(_LABEL + payload)
        return mac.finalize()

    def mint(self, export_id: str, user_id: int, *, ttl: int | None = None) -> str:
        """A token letting ``user_id`` download ``export_id`` for ``ttl`` seconds."""
        if not is_export_id(export_id):
            raise ExportError("not an export id")
        lifetime = self.ttl if ttl is None else ttl
        if not 1 <= lifetime <= MAX_TOKEN_TTL:
            raise ExportError(f"download-token lifetime must be 1..{MAX_TOKEN_TTL} seconds")
        expires = int(self.clock()) + lifetime
        payload = _PAYLOAD.pack(bytes.fromhex(export_id), user_id, expires)
        return f"{_VERSION}.{_b64(payload)}.{_b64(self._tag(payload))}"

    def verify(self, token: str, export_id: str) -> TokenClaims:
        """Check ``token`` for ``export_id`` now; return its claims.

        :raises DownloadTokenError: malformed, forged, for another export, or expired.
        """
        if not isinstance(token, str) or len(token) > 256:
            raise DownloadTokenError("malformed")
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != _VERSION:
            raise DownloadTokenError("malformed")
        try:
            payload = _unb64(parts[1])
            tag = _unb64(parts[2])
        except (binascii.Error, ValueError):
            raise DownloadTokenError("malformed") from None
        if len(payload) != _PAYLOAD.size:
            raise DownloadTokenError("malformed")
        mac = hmac.HMAC(self._key.reveal(), hashes.SHA256())
        mac.update(_LABEL + payload)
        try:
            mac.verify(tag)
        except InvalidSignature:
            raise DownloadTokenError("bad-signature") from None
        raw_id, user_id, expires = _PAYLOAD.unpack(payload)
        claims = TokenClaims(raw_id.hex(), user_id, expires)
        if claims.export_id != export_id:
            raise DownloadTokenError("other-export")
        if self.clock() >= expires:
            raise DownloadTokenError("expired")
        return claims
