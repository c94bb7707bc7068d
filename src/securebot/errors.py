"""One exception tree for all of securebot.

Every error securebot raises on purpose derives from :class:`SecurebotError`, so callers can
catch "anything securebot refused" in one place. Messages are written for the person who has to
act on them (operator, plugin author or bot user) and never contain secret values.

This module imports nothing from securebot: it is the ground floor of the dependency graph.
"""

from __future__ import annotations


class SecurebotError(Exception):
    """Base class of every error securebot raises deliberately."""


# --- configuration -------------------------------------------------------------------------


class ConfigError(SecurebotError):
    """The configuration is invalid: unknown key, wrong type, missing or inline secret."""


# --- plugins and hooks ---------------------------------------------------------------------


class PluginError(SecurebotError):
    """A plugin could not be loaded or used."""


class ManifestError(PluginError):
    """A plugin's manifest is missing or inconsistent with what the plugin does."""


class DuplicateRegistrationError(PluginError):
    """Two plugins registered the same name (command, record type, export format, job kind)."""


class HookContractError(PluginError):
    """A hook implementation breaks its hook's contract (e.g. async where the hook is sync)."""


# --- commands ------------------------------------------------------------------------------


class CommandInputError(SecurebotError):
    """A user's command input is malformed; the message is shown to that user."""


# --- crypto --------------------------------------------------------------------------------


class CryptoError(SecurebotError):
    """Base class of cryptographic failures."""


class DecryptionError(CryptoError):
    """A ciphertext is malformed, tampered with, or bound to another context."""


class UnknownKeyError(DecryptionError):
    """A ciphertext names a key id that the keyring does not hold (or holds destroyed)."""


class KeyringError(CryptoError):
    """The keyring is inconsistent or an operation on it is not allowed."""


class KeyProviderError(CryptoError):
    """A key provider could not wrap or unwrap a key, or refuses to run in this environment."""


class CertificateError(CryptoError):
    """A certificate or private key could not be created, loaded or verified."""


# --- storage -------------------------------------------------------------------------------


class StorageError(SecurebotError):
    """Base class of storage failures."""


class RecordNotFoundError(StorageError):
    """No record exists under the requested key."""


class ConflictError(StorageError):
    """A conditional write lost: the stored value is not the one the caller expected."""


class CorruptRecordError(StorageError):
    """A stored record cannot be decoded or decrypted; other records are unaffected."""


class BackendUnavailableError(StorageError):
    """A storage backend or cache is unreachable."""


# --- exports -------------------------------------------------------------------------------


class ExportError(SecurebotError):
    """An export could not be produced, stored or delivered."""
