"""Encrypting the sensitive fields of audit records at rest.

:class:`FieldSealer` is what the audit log needs from the crypto layer: seal a value bound to a
context string (chain, position and field), and open it again. :class:`PlainSealer` keeps values
readable (development, tests); production passes a :class:`CipherSealer` backed by
:mod:`securebot.crypto`'s field cipher.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any, Protocol

from securebot.core.audit.model import SENSITIVE_FIELDS, AuditEvent
from securebot.crypto import FieldCipher, FieldContext
from securebot.errors import DecryptionError


class FieldSealer(Protocol):
    """Seals and opens one field value, bound to ``context``."""

    def seal(self, plaintext: bytes, *, context: str) -> str:
        """Encrypt ``plaintext``; the result only opens with the same ``context``."""

    def open(self, sealed: str, *, context: str) -> bytes:
        """Decrypt; raise :class:`~securebot.errors.DecryptionError` if tampered or misplaced."""


class SealedFieldError(DecryptionError):
    """A sealed field met by a :class:`PlainSealer`: opening it needs the keyring's key."""


#: Characters JSON text can start with (what :class:`PlainSealer` stores always is JSON).
_JSON_STARTS = frozenset('{["-0123456789tfn \t\r\n')
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


class PlainSealer:
    """A :class:`FieldSealer` that does not encrypt (development and tests only)."""

    def seal(self, plaintext: bytes, *, context: str) -> str:
        """Return the text as is."""
        return plaintext.decode()

    def open(self, sealed: str, *, context: str) -> bytes:
        """Return the text as is.

        :raises SealedFieldError: ``sealed`` is what a :class:`CipherSealer` writes (base64url,
            never JSON): it was sealed under a key this sealer does not have.
        """
        if sealed[:1] not in _JSON_STARTS and _BASE64URL.fullmatch(sealed):
            raise SealedFieldError("this audit field is sealed: opening it needs the keyring")
        return sealed.encode()


class CipherSealer:
    """A :class:`FieldSealer` on a :class:`~securebot.crypto.FieldCipher` (use purpose ``audit``).

    Sealed text is the base64url (unpadded) field envelope; ``context`` is bound as associated
    data (``FieldContext("audit", "sealed", context)``), so a value moved to another entry or
    field does not open.
    """

    __slots__ = ("_cipher",)

    def __init__(self, cipher: FieldCipher) -> None:
        self._cipher = cipher

    def __repr__(self) -> str:
        return f"CipherSealer({self._cipher!r})"

    def seal(self, plaintext: bytes, *, context: str) -> str:
        """Encrypt ``plaintext`` bound to ``context``; base64url text."""
        blob = self._cipher.encrypt(bytes(plaintext), FieldContext("audit", "sealed", context))
        return base64.urlsafe_b64encode(blob).rstrip(b"=").decode("ascii")

    def open(self, sealed: str, *, context: str) -> bytes:
        """Decrypt text from :meth:`seal`; :class:`DecryptionError` if bad or misplaced."""
        try:
            text = sealed.encode("ascii")
            blob = base64.urlsafe_b64decode(text + b"=" * (-len(text) % 4))
        except (UnicodeEncodeError, binascii.Error, ValueError, AttributeError):
            raise DecryptionError("sealed audit field is not base64url text") from None
        value = self._cipher.decrypt(blob, FieldContext("audit", "sealed", context))
        if not isinstance(value, bytes):
            raise DecryptionError("sealed audit field does not hold bytes")
        return value


# json.dumps(value, sort_keys=True, default=str), with the encoder built once.
_FIELD_JSON = json.JSONEncoder(sort_keys=True, default=str)


def _context(chain: str, seq: int, field: str) -> str:
    return f"audit/{chain}/{seq}/{field}"


def encode_record(
    event: AuditEvent,
    chain: str,
    seq: int,
    sealer: FieldSealer,
    record: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The stored record of ``event``: its dict with the sensitive fields sealed.

    :param record: a fresh ``event.to_dict()`` to fill in (it is modified), if already made.
    """
    return seal_record(event.to_dict() if record is None else record, chain, seq, sealer)


def seal_record(
    record: dict[str, Any], chain: str, seq: int, sealer: FieldSealer
) -> dict[str, Any]:
    """Seal the sensitive fields of ``record`` (an event's ``to_dict()``) in place; return it."""
    for field in SENSITIVE_FIELDS:
        value = record[field]
        # json.dumps({}) is "{}": most commands have no arguments and no detail
        plaintext = _FIELD_JSON.encode(value).encode() if value else b"{}"
        record[field] = sealer.seal(plaintext, context=_context(chain, seq, field))
    return record


def decode_record(
    record: Mapping[str, Any], chain: str, seq: int, sealer: FieldSealer
) -> AuditEvent:
    """The event of a stored record (raises ``DecryptionError`` / ``ValueError`` if bad)."""
    values = dict(record)
    for field in SENSITIVE_FIELDS:
        sealed = values.get(field)
        if not isinstance(sealed, str):
            raise DecryptionError(f"audit entry {seq}: field {field} is not sealed text")
        values[field] = json.loads(sealer.open(sealed, context=_context(chain, seq, field)))
    try:
        return AuditEvent.from_dict(values)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"audit entry {seq}: malformed record ({type(exc).__name__})") from None
