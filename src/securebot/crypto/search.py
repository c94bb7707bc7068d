"""Blind indexes: exact, case-insensitive lookups on encrypted fields without decrypting them.

``BlindIndex(keyring).compute(value, ctx)`` is HMAC-SHA256 over the normalised value (NFKC,
casefold, surrounding whitespace stripped) under a key derived per (collection, field, scope) from
the ``index`` purpose key and, for a guild scope, the guild's data key; truncated to ``length``
bytes (8 by default). The record id is ignored, so the same value in two records of one field and
guild gives the same index; another field or guild gives an unrelated one.

Store the index next to the value encrypted with a random 0x01 envelope, query on the index, then
decrypt and compare to drop the rare false positive. The index leaks equality inside one
(field, guild): never index booleans, enums, small numbers or PINs.
"""

from __future__ import annotations

import hmac
import unicodedata
from typing import Any

from securebot.crypto.context import GLOBAL_SCOPE, FieldContext
from securebot.crypto.envelope import derive_key
from securebot.crypto.keyring import KeyEntry, Keyring, KeyStatus

#: The keyring purpose whose keys blind indexes derive from.
INDEX_PURPOSE = "index"

_CACHE_LIMIT = 65536


def normalize(value: str) -> str:
    """The form blind indexes compare: NFKC, casefolded, surrounding whitespace stripped."""
    return unicodedata.normalize("NFKC", value).casefold().strip()


class BlindIndex:
    """Computes blind indexes for one keyring (purpose ``index`` unless told otherwise)."""

    __slots__ = ("_generation", "_keyring", "_keys", "length", "purpose")

    def __init__(self, keyring: Keyring, *, length: int = 8, purpose: str = INDEX_PURPOSE) -> None:
        if not 4 <= length <= 32:
            raise ValueError("a blind index is 4 to 32 bytes long")
        keyring.primary(purpose)
        self._keyring = keyring
        self.length = length
        self.purpose = purpose
        self._keys: dict[tuple[int, str, str, str], bytes] = {}
        self._generation = keyring.generation

    def __repr__(self) -> str:
        return f"<BlindIndex {self.purpose} ({self.length} bytes)>"

    def __reduce__(self) -> Any:
        raise TypeError("a BlindIndex cannot be pickled")

    def _key(self, entry: KeyEntry, ctx: FieldContext) -> bytes:
        if self._generation != self._keyring.generation:
            self._keys.clear()
            self._generation = self._keyring.generation
        cache_key = (entry.key_id, ctx.collection, ctx.field, ctx.scope)
        key = self._keys.get(cache_key)
        if key is None:
            guild = None
            if ctx.scope != GLOBAL_SCOPE:
                guild = self._keyring.guild_material(ctx.scope, create=True)
            key = derive_key(
                entry.material,
                guild,
                "securebot/bidx/v1",
                ctx.collection,
                ctx.field,
                ctx.scope,
                length=32,
            )
            if len(self._keys) >= _CACHE_LIMIT:
                self._keys.clear()
            self._keys[cache_key] = key
        return key

    def compute(self, value: str, ctx: FieldContext) -> bytes:
        """The blind index of ``value`` in the field and scope of ``ctx`` (record id ignored)."""
        key = self._key(self._keyring.primary(self.purpose), ctx)
        data = normalize(value).encode("utf-8", "surrogatepass")
        return hmac.digest(key, data, "sha256")[: self.length]

    def compute_all(self, value: str, ctx: FieldContext) -> list[bytes]:
        """The index of ``value`` under every live index key, primary first.

        While a new index key is being rolled out, query with all of them (``$in``).
        """
        data = normalize(value).encode("utf-8", "surrogatepass")
        primary = self._keyring.primary(self.purpose)
        entries = [primary] + [
            e
            for e in self._keyring.entries(self.purpose)
            if e is not primary and e.status is not KeyStatus.DESTROYED
        ]
        return [
            hmac.digest(self._key(entry, ctx), data, "sha256")[: self.length] for entry in entries
        ]
