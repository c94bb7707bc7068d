"""Where a field ciphertext belongs: :class:`FieldContext` and its canonical encoding.

The associated data of every field ciphertext is a canonical, length-prefixed encoding of a label
and the context parts, so a ciphertext copied to another record, field, collection or guild no
longer authenticates. Each part is UTF-8 with a 4-byte big-endian length in front, which makes the
encoding injective (``("ab", "c")`` and ``("a", "bc")`` differ).

The length prefix is a u32, not the u16 of the first design note: a u16 would silently cap a part
at 64 KiB (or need a check on every call) to save two bytes of associated data that is never
stored. The choice is part of the v1 format: changing it would change every AAD.
"""

from __future__ import annotations

import struct

import attrs

#: The scope of data that belongs to no guild.
GLOBAL_SCOPE = "global"

#: The label in front of every field ciphertext's associated data.
FIELD_LABEL = "securebot/field/v1"

_LEN = struct.Struct(">I")


def canonical(*parts: str) -> bytes:
    """The injective byte encoding of ``parts``: each one length-prefixed (u32 BE) UTF-8."""
    out = bytearray()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass")
        out += _LEN.pack(len(data))
        out += data
    return bytes(out)


def _non_empty(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"FieldContext.{attribute.name} must be a non-empty string")


@attrs.frozen
class FieldContext:
    """The place one encrypted value lives in: collection, field, record id and scope.

    ``scope`` is the guild id as a string, or ``"global"``. ``record_id`` must be the record's
    stable natural key (guild id for settings, case number, room id), not a storage-assigned id
    that could change on re-insert: moving a value to another record means decrypt + re-encrypt.
    """

    collection: str = attrs.field(validator=_non_empty)
    field: str = attrs.field(validator=_non_empty)
    record_id: str = attrs.field(validator=_non_empty)
    scope: str = attrs.field(default=GLOBAL_SCOPE, validator=_non_empty)
    #: The associated data bound into ciphertexts (computed once).
    aad: bytes = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(
            self,
            "aad",
            canonical(FIELD_LABEL, self.collection, self.field, self.record_id, self.scope),
        )

    @property
    def is_guild(self) -> bool:
        """Whether the value belongs to a guild (and so to its crypto-shreddable keys)."""
        return self.scope != GLOBAL_SCOPE
