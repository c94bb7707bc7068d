"""Differential test against Google Tink: our 0x01 envelope is Tink's AES256_GCM "TINK" output.

A Tink keyset is built from one of our keyring keys under the same key id; Tink must decrypt our
ciphertexts and we must decrypt Tink's (with the same associated data), both ways, for arbitrary
values and contexts. Tink is a test-only oracle, never a runtime dependency.
"""

from __future__ import annotations

from typing import Any

import pytest
import tink
from hypothesis import given
from hypothesis import strategies as st
from tink import aead, cleartext_keyset_handle
from tink.proto import aes_gcm_pb2, tink_pb2

from securebot.crypto import FieldCipher, FieldContext, Keyring
from securebot.crypto.envelope import decode_value, encode_value
from securebot.errors import DecryptionError

aead.register()

KEYRING = Keyring.generate()
CIPHER = FieldCipher(KEYRING, "settings")


def _tink_aead(key_id: int, material: bytes) -> Any:
    key = aes_gcm_pb2.AesGcmKey(version=0, key_value=material)
    keyset = tink_pb2.Keyset(primary_key_id=key_id)
    entry = keyset.key.add()
    entry.key_data.type_url = "type.googleapis.com/google.crypto.tink.AesGcmKey"
    entry.key_data.value = key.SerializeToString()
    entry.key_data.key_material_type = tink_pb2.KeyData.SYMMETRIC
    entry.status = tink_pb2.ENABLED
    entry.key_id = key_id
    entry.output_prefix_type = tink_pb2.TINK
    return cleartext_keyset_handle.from_keyset(keyset).primitive(aead.Aead)


PRIMARY = KEYRING.primary("settings")
TINK = _tink_aead(PRIMARY.key_id, PRIMARY.material)

values = st.one_of(st.text(), st.binary(max_size=2048), st.dictionaries(st.text(), st.integers()))
contexts = st.builds(
    FieldContext,
    collection=st.text(min_size=1, max_size=10),
    field=st.text(min_size=1, max_size=10),
    record_id=st.text(min_size=1, max_size=10),
)


@given(values, contexts)
def test_tink_decrypts_our_envelope(value: object, ctx: FieldContext) -> None:
    blob = CIPHER.encrypt(value, ctx)
    assert decode_value(TINK.decrypt(blob, ctx.aad)) == value


@given(values, contexts)
def test_we_decrypt_tinks_output(value: object, ctx: FieldContext) -> None:
    blob = TINK.encrypt(encode_value(value), ctx.aad)
    assert blob[:5] == CIPHER.encrypt("x", ctx)[:5]  # same prefix: 0x01 + our key id
    assert len(blob) == len(encode_value(value)) + 33
    assert CIPHER.decrypt(blob, ctx) == value


@given(values, contexts, contexts)
def test_both_refuse_another_context(value: object, ctx: FieldContext, other: FieldContext) -> None:
    if other == ctx:
        return
    ours = CIPHER.encrypt(value, ctx)
    theirs = TINK.encrypt(encode_value(value), ctx.aad)
    with pytest.raises(DecryptionError):
        CIPHER.decrypt(theirs, other)
    with pytest.raises(tink.TinkError, match="(?i)decrypt"):
        TINK.decrypt(ours, other.aad)


def test_guild_scoped_values_are_not_tink_raw_keys() -> None:
    """Guild data is under a derived key (crypto-shredding), so the raw key does not open it."""
    ctx = FieldContext("c", "f", "r", scope="123")
    blob = CIPHER.encrypt("v", ctx)
    with pytest.raises(tink.TinkError, match="(?i)decrypt"):
        TINK.decrypt(blob, ctx.aad)
    assert CIPHER.decrypt(blob, ctx) == "v"
