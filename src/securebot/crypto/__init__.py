"""securebot's cryptography: field encryption, keyring, key providers, blind indexes, redaction.

* :class:`FieldContext`: where a value lives (collection, field, record id, guild scope);
* :class:`Keyring`: data keys by purpose with rotation, counters and per-guild data keys;
* :class:`FieldCipher`: the 0x01 (AES-256-GCM) and 0x02 (AES-SIV) field envelopes;
* :class:`BlindIndex`: keyed, normalised exact-match indexes on encrypted fields;
* :class:`Secret`, :func:`register_secret`, :class:`RedactingFilter`, :func:`install_redaction`:
  secrets that stay out of reprs and logs;
* key providers (:class:`EnvKeyProvider`, :class:`LocalKeyProvider`, :class:`AwsKmsKeyProvider`),
  :func:`seal_keyring`, :func:`open_keyring` and :func:`open_keyring_file` (startup, fail
  closed), :func:`save_keyring_file`;
* :func:`reencrypt_records`: re-encryption after a rotation.

Imports only :mod:`cryptography` and :mod:`securebot.errors` (boto3 lazily, for ``aws-kms``).
"""

from securebot.crypto.context import GLOBAL_SCOPE, FieldContext, canonical
from securebot.crypto.envelope import FORMAT_AEAD, FORMAT_DETERMINISTIC, FieldCipher
from securebot.crypto.keyring import (
    PURPOSES,
    GuildKey,
    KeyEntry,
    KeyReport,
    Keyring,
    KeyStatus,
)
from securebot.crypto.providers import (
    AwsKmsKeyProvider,
    EnvKeyProvider,
    KeyProvider,
    LocalKeyProvider,
    make_provider,
)
from securebot.crypto.redact import REDACTED, RedactingFilter, install_redaction, redact
from securebot.crypto.rotation import ReencryptionReport, reencrypt_records
from securebot.crypto.sealed import (
    describe_sealed,
    open_keyring,
    open_keyring_file,
    provider_of,
    save_keyring_file,
    seal_keyring,
)
from securebot.crypto.search import BlindIndex, normalize
from securebot.crypto.secrets import Secret, register_secret, unregister_secret

__all__ = [
    "FORMAT_AEAD",
    "FORMAT_DETERMINISTIC",
    "GLOBAL_SCOPE",
    "PURPOSES",
    "REDACTED",
    "AwsKmsKeyProvider",
    "BlindIndex",
    "EnvKeyProvider",
    "FieldCipher",
    "FieldContext",
    "GuildKey",
    "KeyEntry",
    "KeyProvider",
    "KeyReport",
    "KeyStatus",
    "Keyring",
    "LocalKeyProvider",
    "RedactingFilter",
    "ReencryptionReport",
    "Secret",
    "canonical",
    "describe_sealed",
    "install_redaction",
    "make_provider",
    "normalize",
    "open_keyring",
    "open_keyring_file",
    "provider_of",
    "redact",
    "reencrypt_records",
    "register_secret",
    "save_keyring_file",
    "seal_keyring",
    "unregister_secret",
]
