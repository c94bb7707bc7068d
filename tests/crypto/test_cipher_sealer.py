"""CipherSealer: the audit log's FieldSealer on a real FieldCipher."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from securebot.core.audit import CipherSealer, FieldSealer
from securebot.crypto import FieldCipher, Keyring
from securebot.errors import DecryptionError

SEALER = CipherSealer(FieldCipher(Keyring.generate(), "audit"))


@given(st.binary(max_size=512), st.text(min_size=1, max_size=40))
def test_round_trip_is_url_safe_text(plaintext: bytes, context: str) -> None:
    sealed = SEALER.seal(plaintext, context=context)
    assert set(sealed) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert SEALER.open(sealed, context=context) == plaintext
    if len(plaintext) >= 4:
        assert plaintext.hex() not in sealed


@given(st.binary(max_size=64), st.text(min_size=1, max_size=20))
def test_other_context_is_refused(plaintext: bytes, context: str) -> None:
    sealed = SEALER.seal(plaintext, context=context)
    with pytest.raises(DecryptionError):
        SEALER.open(sealed, context=context + "/x")


@given(st.text(max_size=80))
def test_garbage_is_a_decryption_error(garbage: str) -> None:
    with pytest.raises(DecryptionError):
        SEALER.open(garbage, context="audit/1/1/args")


def test_satisfies_the_protocol_and_hides_keys() -> None:
    sealer: FieldSealer = SEALER
    assert "CipherSealer" in repr(sealer)
    assert "audit" in repr(sealer)
