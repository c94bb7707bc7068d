"""The fast paths of a record read keep every check of the general paths they shortcut.

``store.get`` on SQLite parses the one-owner column without JSON, opens sealed fields with a
strict base64 decoder and the raw field cipher, and rebuilds records with no per-field loop
when every field is a JSON type. Each shortcut must accept exactly what the general path
accepts and reject (with the same clear error) what it rejects.
"""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.storage.records import Case, Note
from tests.storage.test_contract_records import case

from securebot.core.storage import Document, Store
from securebot.core.storage.codec import SEALED, KeyringSealer, RecordCodec
from securebot.core.storage.records import spec_of
from securebot.crypto import FieldCipher, FieldContext, Keyring
from securebot.errors import CorruptRecordError
from securebot.storage.sqlite.backend import _owners


def _json_owners(text: str) -> tuple[int, ...]:
    return tuple(json.loads(text))


@given(st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), max_size=4))
def test_owners_column_parses_like_json(ids: list[int]) -> None:
    text = json.dumps(ids, separators=(",", ":"))
    assert _owners(text) == _json_owners(text)


@given(st.text(alphabet="[]0123456789,-+ _.e\u0663", max_size=12))
def test_owners_column_rejects_what_json_rejects(text: str) -> None:
    try:
        expected: object = _json_owners(text)
    except (ValueError, TypeError) as exc:
        expected = type(exc)
    try:
        got: object = _owners(text)
    except (ValueError, TypeError) as exc:
        got = type(exc)
    if isinstance(expected, type):
        assert isinstance(got, type), (text, got)
    else:
        assert got == expected, text


@pytest.mark.parametrize("text", ["[007]", "[1_0]", "[\u0663]", "[7", "7]", "[+7]"])
def test_owners_column_non_json_forms_are_refused(text: str) -> None:
    with pytest.raises((ValueError, TypeError)):
        _owners(text)


def _codec() -> tuple[RecordCodec, FieldContext]:
    codec = RecordCodec(KeyringSealer(Keyring.generate()))
    return codec, codec.context("tests.notes", "text", "n", "global")


@pytest.mark.parametrize(
    "damage",
    [
        lambda t: t + "A",  # wrong length
        lambda t: t[:10] + "\n" + t[10:],  # a character outside the alphabet
        lambda t: " " + t,
        lambda t: t + "=QUJD",  # data after the padding
        lambda t: t.replace("+", "-").replace("/", "_") if ("+" in t or "/" in t) else t + "-",
        lambda t: t[:5] + "\u00e9" + t[5:],  # not ASCII
    ],
)
def test_a_sealed_value_must_be_canonical_base64(damage: object) -> None:
    codec, ctx = _codec()
    text = codec.seal_value("secret value", ctx)
    assert codec.open_value(text, ctx, "here") == "secret value"
    with pytest.raises(CorruptRecordError, match="here: field 'text' cannot be decrypted"):
        codec.open_value(damage(text), ctx, "here")  # type: ignore[operator]


@pytest.mark.parametrize("suffix", ["", "=", "==", "===", "A", "AA=", "AAA="])
def test_padding_quirks_are_judged_as_the_stdlib_strict_decoder_judges_them(suffix: str) -> None:
    codec, ctx = _codec()
    text = codec.seal_value("secret value", ctx) + suffix
    try:
        base64.b64decode(text.encode("ascii"), validate=True)
    except ValueError:
        with pytest.raises(CorruptRecordError):
            codec.open_value(text, ctx, "here")
    else:  # the same bytes as without the suffix, or a tag that fails
        try:
            assert codec.open_value(text, ctx, "here") == "secret value"
        except CorruptRecordError:
            assert suffix


def test_a_sealed_value_of_another_type_byte_still_opens_or_fails_clearly() -> None:
    keyring = Keyring.generate()
    codec = RecordCodec(KeyringSealer(keyring))
    ctx = codec.context("tests.notes", "text", "n", "global")
    cipher = FieldCipher(keyring, "settings")
    as_str = base64.b64encode(cipher.encrypt('"typed as text"', ctx)).decode()
    assert codec.open_value(as_str, ctx, "here") == "typed as text"
    bad_type = bytearray(cipher.encrypt(b"x", ctx))
    with pytest.raises(CorruptRecordError):  # same bytes under another record: tag fails
        codec.open_value(
            base64.b64encode(bytes(bad_type)).decode(),
            codec.context("tests.notes", "text", "other", "global"),
            "here",
        )


def test_unknown_stored_fields_are_ignored_and_typed_ones_still_converted() -> None:
    keyring = Keyring.generate()
    codec = RecordCodec(KeyringSealer(keyring))
    spec = spec_of(Note)
    doc = codec.encode(spec, Note(name="n", text="secret"), "global", "n", None)
    extra = Document(
        doc.collection, doc.scope, doc.key, {**doc.body, "dropped_field": 1}, schema=doc.schema
    )
    assert codec.decode(spec, extra) == Note(name="n", text="secret")
    assert codec.decode(spec, doc) == Note(name="n", text="secret")


async def test_a_read_returns_the_record_and_damage_is_still_reported(store: Store) -> None:
    await store.put(case(1, reason="kept"))
    assert (await store.require(Case, 1, scope=1)).reason == "kept"
    doc = await store.backend.get("tests.cases", "1", "1", now=store.clock())
    assert doc is not None
    body = dict(doc.body)
    body[SEALED] = {**body[SEALED], "reason": "!" + body[SEALED]["reason"]}
    await store.backend.put(
        Document(doc.collection, doc.scope, doc.key, body, doc.lookups, doc.owners, doc.schema),
        now=store.clock(),
    )
    with pytest.raises(CorruptRecordError, match=r"tests.cases/1/1.*'reason'"):
        await store.get(Case, 1, scope=1)
