"""Encrypting the sensitive fields of audit records at rest.

:class:`FieldSealer` is what the audit log needs from the crypto layer: seal a value bound to a
context string (chain, position and field), and open it again. :class:`PlainSealer` keeps values
readable (development, tests); production passes a sealer backed by
:mod:`securebot.crypto`'s field cipher.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from securebot.core.audit.model import SENSITIVE_FIELDS, AuditEvent
from securebot.errors import DecryptionError


class FieldSealer(Protocol):
    """Seals and opens one field value, bound to ``context``."""

    def seal(self, plaintext: bytes, *, context: str) -> str:
        """Encrypt ``plaintext``; the result only opens with the same ``context``."""

    def open(self, sealed: str, *, context: str) -> bytes:
        """Decrypt; raise :class:`~securebot.errors.DecryptionError` if tampered or misplaced."""


class PlainSealer:
    """A :class:`FieldSealer` that does not encrypt (development and tests only)."""

    def seal(self, plaintext: bytes, *, context: str) -> str:
        """Return the text as is."""
        return plaintext.decode()

    def open(self, sealed: str, *, context: str) -> bytes:
        """Return the text as is."""
        return sealed.encode()


def _context(chain: str, seq: int, field: str) -> str:
    return f"audit/{chain}/{seq}/{field}"


def encode_record(event: AuditEvent, chain: str, seq: int, sealer: FieldSealer) -> dict[str, Any]:
    """The stored record of ``event``: its dict with the sensitive fields sealed."""
    record = event.to_dict()
    for field in SENSITIVE_FIELDS:
        plaintext = json.dumps(record[field], sort_keys=True, default=str).encode()
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
