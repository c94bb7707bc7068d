"""Field envelope properties (crypto-design §4.11 items 1-7): round trip, binding, tamper, fuzz."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from securebot.crypto import FORMAT_AEAD, FORMAT_DETERMINISTIC, FieldCipher, FieldContext, Keyring
from securebot.errors import DecryptionError, UnknownKeyError

KEYRING = Keyring.generate()
CIPHER = FieldCipher(KEYRING, "settings")
DET = FieldCipher(KEYRING, "settings", deterministic=True)

names = st.text(min_size=1, max_size=20)
contexts = st.builds(
    FieldContext,
    collection=names,
    field=names,
    record_id=names,
    scope=st.one_of(st.just("global"), st.integers(1, 2**64).map(str)),
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
values = st.one_of(
    st.text(),
    st.binary(max_size=4096),
    st.text(alphabet=st.characters(min_codepoint=0x10000), max_size=50),
    # lone and paired surrogates (no UTF-8 encoding exists; they must still round-trip exactly)
    st.text(alphabet=st.characters(codec=None, categories=["Cs", "Lu"]), max_size=20),
    st.lists(st.text(alphabet=st.characters(categories=["Cs", "Ll"]), max_size=5), max_size=3),
    json_values,
)


@given(values, contexts)
def test_round_trip_restores_value_and_type(value: object, ctx: FieldContext) -> None:
    blob = CIPHER.encrypt(value, ctx)
    out = CIPHER.decrypt(blob, ctx)
    assert out == value
    assert type(out) is type(value)


@given(st.text(max_size=4096), contexts)
def test_random_envelope_layout_and_overhead(value: str, ctx: FieldContext) -> None:
    blob = CIPHER.encrypt(value, ctx)
    assert blob[0] == FORMAT_AEAD
    assert int.from_bytes(blob[1:5], "big") == KEYRING.primary("settings").key_id
    assert len(blob) == len(value.encode("utf-8", "surrogatepass")) + 1 + 33


@given(values, contexts)
def test_two_encryptions_differ(value: object, ctx: FieldContext) -> None:
    assert CIPHER.encrypt(value, ctx) != CIPHER.encrypt(value, ctx)


@given(st.text(), contexts, contexts)
def test_any_other_context_fails(value: str, ctx: FieldContext, other: FieldContext) -> None:
    blob = CIPHER.encrypt(value, ctx)
    if other == ctx:
        assert CIPHER.decrypt(blob, other) == value
    else:
        with pytest.raises(DecryptionError):
            CIPHER.decrypt(blob, other)


@given(st.text(), contexts, st.sampled_from(["collection", "field", "record_id", "scope"]))
def test_changing_one_context_part_fails(value: str, ctx: FieldContext, part: str) -> None:
    parts = {
        "collection": ctx.collection,
        "field": ctx.field,
        "record_id": ctx.record_id,
        "scope": ctx.scope,
    }
    parts[part] = parts[part] + "x"
    blob = CIPHER.encrypt(value, ctx)
    with pytest.raises(DecryptionError):
        CIPHER.decrypt(blob, FieldContext(**parts))


@given(st.binary(max_size=200), contexts, st.data())
def test_single_bit_flip_fails(value: bytes, ctx: FieldContext, data: st.DataObject) -> None:
    for cipher in (CIPHER, DET):
        blob = bytearray(cipher.encrypt(value, ctx))
        bit = data.draw(st.integers(0, len(blob) * 8 - 1))
        blob[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(DecryptionError):
            cipher.decrypt(bytes(blob), ctx)


@given(st.binary(max_size=200), contexts, st.binary(min_size=1, max_size=3))
def test_truncation_and_extension_fail(value: bytes, ctx: FieldContext, extra: bytes) -> None:
    for cipher in (CIPHER, DET):
        blob = cipher.encrypt(value, ctx)
        for bad in (blob[:-1], blob + extra, blob[:5], blob[:1], b""):
            with pytest.raises(DecryptionError):
                cipher.decrypt(bad, ctx)


@given(st.binary(max_size=100), contexts)
def test_arbitrary_bytes_raise_only_our_errors(blob: bytes, ctx: FieldContext) -> None:
    with pytest.raises(DecryptionError):
        CIPHER.decrypt(blob, ctx)


@given(st.integers(0, 255), st.binary(min_size=40, max_size=80), contexts)
def test_arbitrary_headers_raise_only_our_errors(fmt: int, rest: bytes, ctx: FieldContext) -> None:
    with pytest.raises(DecryptionError):
        CIPHER.decrypt(bytes([fmt]) + rest, ctx)


def test_unknown_format_byte_is_named() -> None:
    ctx = FieldContext("c", "f", "r")
    blob = bytearray(CIPHER.encrypt("x", ctx))
    blob[0] = 0x07
    with pytest.raises(DecryptionError, match="unknown format byte 0x07"):
        CIPHER.decrypt(bytes(blob), ctx)


def test_non_bytes_input_is_a_decryption_error() -> None:
    with pytest.raises(DecryptionError, match="must be bytes"):
        CIPHER.decrypt("not bytes", FieldContext("c", "f", "r"))  # type: ignore[arg-type]


def test_unknown_key_id_is_unknown_key_error() -> None:
    ctx = FieldContext("c", "f", "r")
    blob = bytearray(CIPHER.encrypt("x", ctx))
    blob[1:5] = (0).to_bytes(4, "big")
    with pytest.raises(UnknownKeyError, match="lacks"):
        CIPHER.decrypt(bytes(blob), ctx)


def test_key_of_another_purpose_is_refused() -> None:
    ctx = FieldContext("c", "f", "r")
    blob = FieldCipher(KEYRING, "messages").encrypt("x", ctx)
    with pytest.raises(UnknownKeyError, match="purpose 'messages'"):
        CIPHER.decrypt(blob, ctx)


def test_unencodable_value_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="JSON"):
        CIPHER.encrypt(object(), FieldContext("c", "f", "r"))


# --- deterministic 0x02 ------------------------------------------------------------------


@given(values, contexts, names)
def test_deterministic_equal_within_field_and_scope(
    value: object, ctx: FieldContext, other_record: str
) -> None:
    blob = DET.encrypt(value, ctx)
    assert blob[0] == FORMAT_DETERMINISTIC
    moved = FieldContext(ctx.collection, ctx.field, other_record, ctx.scope)
    assert DET.encrypt(value, moved) == blob
    assert DET.decrypt(blob, moved) == value
    assert CIPHER.decrypt(blob, ctx) == value  # the random cipher reads 0x02 too


@given(st.text(), contexts)
def test_deterministic_differs_across_guild_and_field(value: str, ctx: FieldContext) -> None:
    blob = DET.encrypt(value, ctx)
    other_guild = FieldContext(ctx.collection, ctx.field, ctx.record_id, ctx.scope + "9")
    other_field = FieldContext(ctx.collection, ctx.field + "x", ctx.record_id, ctx.scope)
    assert DET.encrypt(value, other_guild) != blob
    assert DET.encrypt(value, other_field) != blob
    for other in (other_guild, other_field):
        with pytest.raises(DecryptionError):
            DET.decrypt(blob, other)


def test_deterministic_overhead() -> None:
    blob = DET.encrypt(b"abc", FieldContext("c", "f", "r"))
    assert len(blob) == 1 + 3 + 21


def test_ciphers_and_derived_keys_are_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    import securebot.crypto.envelope as envelope

    calls: list[tuple[str, ...]] = []
    real = envelope.derive_key

    def counting(material: bytes, guild: bytes | None, *parts: str, length: int) -> bytes:
        calls.append(parts)
        return real(material, guild, *parts, length=length)

    monkeypatch.setattr(envelope, "derive_key", counting)
    keyring = Keyring.generate()
    cipher = FieldCipher(keyring, "messages")
    ctx = FieldContext("m", "content", "1", scope="77")
    blobs = [cipher.encrypt(f"v{i}", FieldContext("m", "content", str(i), "77")) for i in range(50)]
    assert [
        cipher.decrypt(b, FieldContext("m", "content", str(i), "77")) for i, b in enumerate(blobs)
    ]
    assert len(calls) == 1  # one HKDF for the guild key, then cached
    keyring.rotate("messages")
    cipher.encrypt("after rotation", ctx)
    assert len(calls) == 2  # the new primary derives once
    assert cipher.decrypt(blobs[0], FieldContext("m", "content", "0", "77")) == "v0"
    assert len(calls) == 2  # the old key's derived cipher is still cached
