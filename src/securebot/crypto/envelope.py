"""Field encryption: the versioned envelope every encrypted value is stored in.

Format v1 (random AEAD, AES-256-GCM), byte-compatible with Tink's AES256_GCM "TINK" output
prefix for values that belong to no guild::

    0x01 | key id (u32 BE) | nonce (12) | ciphertext | tag (16)          33 bytes overhead

Format 0x02 (deterministic, AES-SIV with a 512-bit key derived per collection, field and scope),
for the rare fields that must be matched byte-exactly *and* recovered::

    0x02 | key id (u32 BE) | synthetic IV (16) | ciphertext              21 bytes overhead

The associated data is :attr:`FieldContext.aad` (label, collection, field, record id, scope) for
0x01, and the same without the record id for 0x02. The header is not part of the AAD (that keeps
0x01 Tink-compatible); it is authenticated implicitly, since another format byte or key id selects
another algorithm or key and the tag fails.

The plaintext starts with a type byte, ``s`` (UTF-8 str), ``b`` (bytes) or ``j`` (JSON), so
decryption returns the type that was encrypted. Values of a guild scope are encrypted under a key
derived (HKDF-SHA256) from the purpose key and the guild's data key: shredding the guild key makes
them unreadable.
"""

from __future__ import annotations

import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from securebot.crypto.context import GLOBAL_SCOPE, FieldContext, canonical
from securebot.crypto.keyring import KeyEntry, Keyring, KeyStatus
from securebot.errors import DecryptionError

#: Format byte of random AES-256-GCM envelopes.
FORMAT_AEAD = 0x01
#: Format byte of deterministic AES-SIV envelopes.
FORMAT_DETERMINISTIC = 0x02

HEADER_BYTES = 5
NONCE_BYTES = 12
TAG_BYTES = 16
#: Bytes a 0x01 envelope adds to the (type-tagged) plaintext.
AEAD_OVERHEAD = HEADER_BYTES + NONCE_BYTES + TAG_BYTES
#: Bytes a 0x02 envelope adds to the (type-tagged) plaintext.
DETERMINISTIC_OVERHEAD = HEADER_BYTES + TAG_BYTES

_TYPE_STR = 0x73  # "s"
_TYPE_BYTES = 0x62  # "b"
_TYPE_JSON = 0x6A  # "j"

#: Derived-key cache size per cipher before it is cleared (bounded memory with many guilds).
_CACHE_LIMIT = 65536

#: A value a :class:`FieldCipher` accepts: text, bytes, or anything JSON can encode.
FieldValue = Any


def encode_value(value: FieldValue) -> bytes:
    """The type-tagged plaintext of ``value`` (``s``/``b``/``j`` + payload)."""
    if isinstance(value, str):
        return b"s" + value.encode("utf-8", "surrogatepass")
    if isinstance(value, bytes | bytearray | memoryview):
        return b"b" + bytes(value)
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"cannot encrypt a {type(value).__name__}: not str, bytes or JSON-encodable ({exc})"
        ) from None
    return b"j" + text.encode("utf-8", "surrogatepass")


def decode_value(plaintext: bytes) -> FieldValue:
    """The value of a type-tagged plaintext; :class:`DecryptionError` if it is malformed."""
    if not plaintext:
        raise DecryptionError("decrypted value has no type byte")
    kind = plaintext[0]
    try:
        if kind == _TYPE_STR:
            return plaintext[1:].decode("utf-8", "surrogatepass")
        if kind == _TYPE_BYTES:
            return plaintext[1:]
        if kind == _TYPE_JSON:
            return json.loads(plaintext[1:].decode("utf-8", "surrogatepass"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise DecryptionError("decrypted value is not valid for its type byte") from None
    raise DecryptionError(f"decrypted value has unknown type byte {kind:#04x}")


def derive_key(material: bytes, guild_material: bytes | None, *parts: str, length: int) -> bytes:
    """HKDF-SHA256 of ``material`` (+ a guild's data key) with ``info = canonical(parts)``."""
    ikm = material if guild_material is None else material + guild_material
    hkdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=canonical(*parts))
    return hkdf.derive(ikm)


def _as_bytes(blob: object) -> bytes:
    if isinstance(blob, bytes):
        return blob
    if isinstance(blob, bytearray | memoryview):
        return bytes(blob)
    raise DecryptionError(f"a field ciphertext must be bytes, not {type(blob).__name__}")


class FieldCipher:
    """Encrypts and decrypts field values for one purpose of a :class:`Keyring`.

    ``deterministic=True`` (keyword-only) makes :meth:`encrypt` produce 0x02 envelopes (equal
    values in the same collection, field and scope give equal ciphertexts; the record id is not
    bound). :meth:`decrypt` reads both formats. Cipher objects and derived keys are cached.
    """

    __slots__ = (
        "_aead",
        "_dec",
        "_enc",
        "_generation",
        "_keyring",
        "_siv",
        "deterministic",
        "purpose",
    )

    def __init__(self, keyring: Keyring, purpose: str, *, deterministic: bool = False) -> None:
        keyring.primary(purpose)  # fail now, not on the first write, for an unknown purpose
        self._keyring = keyring
        self.purpose = purpose
        self.deterministic = deterministic
        self._aead: dict[tuple[int, str], AESGCM] = {}
        self._siv: dict[tuple[int, str, str, str], AESSIV] = {}
        #: scope -> (primary entry, header, AESGCM): the encryption fast path.
        self._enc: dict[str, tuple[KeyEntry, bytes, AESGCM]] = {}
        #: (header key id bytes, scope) -> AESGCM: the decryption fast path.
        self._dec: dict[tuple[bytes, str], AESGCM] = {}
        self._generation = keyring.generation

    def __repr__(self) -> str:
        mode = "deterministic" if self.deterministic else "random"
        return f"<FieldCipher {self.purpose} ({mode})>"

    def __reduce__(self) -> Any:
        raise TypeError("a FieldCipher cannot be pickled")

    # --- caches ------------------------------------------------------------------------

    def _check_generation(self) -> None:
        if self._generation != self._keyring.generation:
            self._aead.clear()
            self._siv.clear()
            self._enc.clear()
            self._dec.clear()
            self._generation = self._keyring.generation

    def _aead_for(self, entry: KeyEntry, scope: str, *, create: bool) -> AESGCM:
        cache_key = (entry.key_id, scope)
        aead = self._aead.get(cache_key)
        if aead is None:
            if scope == GLOBAL_SCOPE:
                key = entry.material
            else:
                guild = self._keyring.guild_material(scope, create=create)
                key = derive_key(
                    entry.material, guild, "securebot/field-key/v1", self.purpose, scope, length=32
                )
            if len(self._aead) >= _CACHE_LIMIT:
                self._aead.clear()
            aead = self._aead[cache_key] = AESGCM(key)
        return aead

    def _encryption_state(self, scope: str) -> tuple[KeyEntry, bytes, AESGCM]:
        entry = self._keyring.primary(self.purpose)
        header = bytes((FORMAT_AEAD,)) + entry.key_id.to_bytes(4, "big")
        state = (entry, header, self._aead_for(entry, scope, create=True))
        if len(self._enc) >= _CACHE_LIMIT:
            self._enc.clear()
        self._enc[scope] = state
        return state

    def _decryption_aead(self, data: bytes, scope: str) -> AESGCM:
        entry = self._entry(data)
        aead = self._aead_for(entry, scope, create=False)
        if len(self._dec) >= _CACHE_LIMIT:
            self._dec.clear()
        self._dec[(data[1:5], scope)] = aead
        return aead

    def _siv_for(self, entry: KeyEntry, ctx: FieldContext, *, create: bool) -> AESSIV:
        cache_key = (entry.key_id, ctx.collection, ctx.field, ctx.scope)
        siv = self._siv.get(cache_key)
        if siv is None:
            guild = None
            if ctx.scope != GLOBAL_SCOPE:
                guild = self._keyring.guild_material(ctx.scope, create=create)
            key = derive_key(
                entry.material,
                guild,
                "securebot/det/v1",
                self.purpose,
                ctx.collection,
                ctx.field,
                ctx.scope,
                length=64,
            )
            if len(self._siv) >= _CACHE_LIMIT:
                self._siv.clear()
            siv = self._siv[cache_key] = AESSIV(key)
        return siv

    # --- encrypt / decrypt -------------------------------------------------------------

    def encrypt(self, value: FieldValue, ctx: FieldContext) -> bytes:
        """Seal ``value`` (str, bytes or a JSON value) for the place ``ctx`` names.

        ``str`` and ``bytes`` come back as they were (any bytes-like value as ``bytes``); other
        values go through JSON, so they come back as JSON gives them (tuples as lists, dict keys
        as strings). Raises ``TypeError`` for values JSON cannot encode (NaN included).
        """
        if type(value) is str:
            plaintext = b"s" + value.encode("utf-8", "surrogatepass")
        else:
            plaintext = encode_value(value)
        keyring = self._keyring
        if self._generation != keyring.generation:
            self._check_generation()
        if self.deterministic:
            entry = keyring.primary(self.purpose)
            keyring.count_encryption(entry)
            siv = self._siv_for(entry, ctx, create=True)
            header = bytes((FORMAT_DETERMINISTIC,)) + entry.key_id.to_bytes(4, "big")
            return header + siv.encrypt(plaintext, [_det_aad(ctx)])
        state = self._enc.get(ctx.scope)
        if state is None or state[0].status is not KeyStatus.PRIMARY:
            state = self._encryption_state(ctx.scope)
        entry, header, aead = state
        if entry.encryptions >= keyring.refuse_after:
            keyring.count_encryption(entry)  # raises with the operator's message
        entry.encryptions += 1
        nonce = os.urandom(NONCE_BYTES)
        return header + nonce + aead.encrypt(nonce, plaintext, ctx.aad)

    def decrypt(self, blob: bytes, ctx: FieldContext) -> FieldValue:
        """Open a ciphertext of :meth:`encrypt` sealed for ``ctx``.

        Raises :class:`~securebot.errors.DecryptionError` for anything malformed, tampered with
        or bound to another place, and :class:`~securebot.errors.UnknownKeyError` (a subclass)
        when the key it names is absent, destroyed, of another purpose, or its guild shredded.
        """
        if type(blob) is bytes and len(blob) >= AEAD_OVERHEAD and blob[0] == FORMAT_AEAD:
            if self._generation != self._keyring.generation:
                self._check_generation()
            aead = self._dec.get((blob[1:5], ctx.scope)) or self._decryption_aead(blob, ctx.scope)
            try:
                plaintext = aead.decrypt(blob[5:17], blob[17:], ctx.aad)
            except InvalidTag:
                raise DecryptionError(_MISMATCH) from None
            if plaintext[:1] == b"s":
                try:
                    return plaintext[1:].decode("utf-8", "surrogatepass")
                except UnicodeDecodeError:
                    raise DecryptionError(
                        "decrypted value is not valid for its type byte"
                    ) from None
            return decode_value(plaintext)
        return decode_value(self.decrypt_raw(blob, ctx))

    def decrypt_raw(self, blob: bytes, ctx: FieldContext) -> bytes:
        """Like :meth:`decrypt` but return the type-tagged plaintext bytes."""
        if type(blob) is bytes and len(blob) >= AEAD_OVERHEAD and blob[0] == FORMAT_AEAD:
            # the common case first, same checks as below in fewer steps
            if self._generation != self._keyring.generation:
                self._check_generation()
            aead = self._dec.get((blob[1:5], ctx.scope)) or self._decryption_aead(blob, ctx.scope)
            try:
                return aead.decrypt(blob[5:17], blob[17:], ctx.aad)
            except InvalidTag:
                raise DecryptionError(_MISMATCH) from None
        data = _as_bytes(blob)
        if len(data) < HEADER_BYTES:
            raise DecryptionError("field ciphertext is truncated (shorter than its header)")
        if self._generation != self._keyring.generation:
            self._check_generation()
        fmt = data[0]
        if fmt == FORMAT_AEAD:
            if len(data) < AEAD_OVERHEAD:
                raise DecryptionError("field ciphertext is truncated")
            aead = self._dec.get((data[1:5], ctx.scope)) or self._decryption_aead(data, ctx.scope)
            try:
                return aead.decrypt(data[5:17], data[17:], ctx.aad)
            except InvalidTag:
                raise DecryptionError(_MISMATCH) from None
        if fmt == FORMAT_DETERMINISTIC:
            if len(data) < DETERMINISTIC_OVERHEAD:
                raise DecryptionError("field ciphertext is truncated")
            entry = self._entry(data)
            siv = self._siv_for(entry, ctx, create=False)
            try:
                return siv.decrypt(data[5:], [_det_aad(ctx)])
            except InvalidTag:
                raise DecryptionError(_MISMATCH) from None
        raise DecryptionError(f"field ciphertext has unknown format byte {fmt:#04x}")

    def _entry(self, data: bytes) -> KeyEntry:
        return self._keyring.decrypting_key(int.from_bytes(data[1:5], "big"), self.purpose)

    # --- rotation helpers --------------------------------------------------------------

    @staticmethod
    def key_id_of(blob: bytes) -> int:
        """The key id in a ciphertext's header (:class:`DecryptionError` if there is none)."""
        data = _as_bytes(blob)
        if len(data) < HEADER_BYTES or data[0] not in (FORMAT_AEAD, FORMAT_DETERMINISTIC):
            raise DecryptionError("not a securebot field ciphertext")
        return int.from_bytes(data[1:5], "big")

    def needs_reencryption(self, blob: bytes) -> bool:
        """Whether ``blob`` is under a key other than this purpose's primary."""
        return self.key_id_of(blob) != self._keyring.primary(self.purpose).key_id

    def reencrypt(self, blob: bytes, ctx: FieldContext) -> bytes:
        """``blob`` opened and sealed again under the current primary key (same format)."""
        value = decode_value(self.decrypt_raw(blob, ctx))
        deterministic = _as_bytes(blob)[0] == FORMAT_DETERMINISTIC
        if deterministic == self.deterministic:
            return self.encrypt(value, ctx)
        return FieldCipher(self._keyring, self.purpose, deterministic=deterministic).encrypt(
            value, ctx
        )


_MISMATCH = (
    "field ciphertext does not authenticate: tampered with, or bound to another"
    " collection, field, record or guild"
)


def _det_aad(ctx: FieldContext) -> bytes:
    return canonical("securebot/det/v1", ctx.collection, ctx.field, ctx.scope)
