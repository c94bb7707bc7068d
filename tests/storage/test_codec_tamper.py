"""Properties of sealed fields in stored documents (the codec, no backend needed).

Whatever someone able to write the database does to a stored sealed value (flip any bit,
truncate, extend, replace the base64 text, move it to another field, record, guild or
collection), reading the record gives :class:`CorruptRecordError` naming it: never another
exception, never garbage, never the plaintext of another place.
"""

from __future__ import annotations

import base64

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.storage.records import Case, Submission

from securebot.core.storage import Document
from securebot.core.storage.codec import SEALED, KeyringSealer, RecordCodec
from securebot.core.storage.records import spec_of
from securebot.crypto import Keyring
from securebot.errors import CorruptRecordError

KEYRING = Keyring.generate()
CODEC = RecordCodec(KeyringSealer(KEYRING))
CASES = spec_of(Case)
SUBMISSIONS = spec_of(Submission)

reasons = st.text(max_size=200)


def _sealed(reason: str, *, guild: int = 1, number: int = 1) -> Document:
    record = Case(guild_id=guild, number=number, user_id=5, reason=reason, nickname="nick")
    return CODEC.encode(CASES, record, str(guild), str(number), None)


def _with_reason(doc: Document, text: object) -> Document:
    sealed = dict(doc.body[SEALED])
    sealed["reason"] = text
    return attrs.evolve(doc, body={**doc.body, SEALED: sealed})


def _blob(doc: Document) -> bytes:
    return base64.b64decode(doc.body[SEALED]["reason"])


@settings(max_examples=150, deadline=None)
@given(reasons, st.data())
def test_any_single_bit_flip_is_a_corrupt_record(reason: str, data: st.DataObject) -> None:
    doc = _sealed(reason)
    blob = bytearray(_blob(doc))
    bit = data.draw(st.integers(0, len(blob) * 8 - 1))
    blob[bit // 8] ^= 1 << (bit % 8)
    tampered = _with_reason(doc, base64.b64encode(bytes(blob)).decode())
    with pytest.raises(CorruptRecordError, match=r"tests\.cases/1/1: field 'reason'"):
        CODEC.decode(CASES, tampered)


@settings(max_examples=150, deadline=None)
@given(reasons, st.data())
def test_any_truncation_or_extension_is_a_corrupt_record(reason: str, data: st.DataObject) -> None:
    doc = _sealed(reason)
    blob = _blob(doc)
    cut = data.draw(st.integers(0, len(blob) - 1))
    extra = data.draw(st.binary(min_size=1, max_size=8))
    for changed in (blob[:cut], blob + extra, extra + blob):
        with pytest.raises(CorruptRecordError, match="field 'reason'"):
            CODEC.decode(CASES, _with_reason(doc, base64.b64encode(changed).decode()))


@settings(max_examples=150, deadline=None)
@given(
    reasons,
    st.one_of(
        st.text(max_size=80),
        st.binary(max_size=80).map(lambda b: base64.b64encode(b).decode()),
        st.integers(),
        st.none(),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    ),
)
def test_any_replacement_text_is_a_corrupt_record(reason: str, junk: object) -> None:
    doc = _sealed(reason)
    if junk == doc.body[SEALED]["reason"]:
        return
    with pytest.raises(CorruptRecordError, match="field 'reason'"):
        CODEC.decode(CASES, _with_reason(doc, junk))


@settings(max_examples=60, deadline=None)
@given(reasons)
def test_a_sealed_value_opens_only_where_it_was_written(reason: str) -> None:
    doc = _sealed(reason)
    text = doc.body[SEALED]["reason"]
    assert CODEC.decode(CASES, doc).reason == reason
    elsewhere = [
        _with_reason(_sealed("x", number=2), text),  # another record
        _with_reason(_sealed("x", guild=2), text),  # the same key in another guild
    ]
    moved_field = dict(doc.body[SEALED])
    moved_field["nickname"], moved_field["reason"] = text, moved_field["nickname"]
    elsewhere.append(attrs.evolve(doc, body={**doc.body, SEALED: moved_field}))
    for place in elsewhere:
        with pytest.raises(CorruptRecordError, match="cannot be decrypted"):
            CODEC.decode(CASES, place)
    submission = Submission(guild_id=1, form="1", user_id=5, answers={"q": "a"})
    other = CODEC.encode(SUBMISSIONS, submission, "1", "1:5", None)
    planted = {**other.body[SEALED], "answers": text}
    with pytest.raises(CorruptRecordError, match="cannot be decrypted"):  # another collection
        CODEC.decode(SUBMISSIONS, attrs.evolve(other, body={**other.body, SEALED: planted}))
