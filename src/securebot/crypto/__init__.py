"""securebot's cryptography: field encryption, keyring, key providers, blind indexes, redaction.

* :class:`FieldContext`: where a value lives (collection, field, record id, guild scope);
* :class:`Keyring`: data keys by purpose with rotation, counters and per-guild data keys;
* :class:`FieldCipher`: the 0x01 (AES-256-GCM) and 0x02 (AES-SIV) field envelopes;
* :class:`BlindIndex`: keyed, normalised exact-match indexes on encrypted fields;
* :class:`Secret`, :func:`register_secret`, :class:`RedactingFilter`, :func:`install_redaction`:
  secrets that stay out of reprs and logs.

Imports only :mod:`cryptography` and :mod:`securebot.errors` (boto3 lazily, for ``aws-kms``).
"""

from securebot.crypto.context import GLOBAL_SCOPE, FieldContext, canonical
from securebot.crypto.envelope import FORMAT_AEAD, FORMAT_DETERMINISTIC, FieldCipher
from securebot.crypto.keyring import PURPOSES, KeyEntry, KeyReport, Keyring, KeyStatus
from securebot.crypto.redact import REDACTED, RedactingFilter, install_redaction, redact
from securebot.crypto.search import BlindIndex, normalize
from securebot.crypto.secrets import Secret, register_secret, unregister_secret

__all__ = [
    "FORMAT_AEAD",
    "FORMAT_DETERMINISTIC",
    "GLOBAL_SCOPE",
    "PURPOSES",
    "REDACTED",
    "BlindIndex",
    "FieldCipher",
    "FieldContext",
    "KeyEntry",
    "KeyReport",
    "KeyStatus",
    "Keyring",
    "RedactingFilter",
    "Secret",
    "canonical",
    "install_redaction",
    "normalize",
    "redact",
    "register_secret",
    "unregister_secret",
]
