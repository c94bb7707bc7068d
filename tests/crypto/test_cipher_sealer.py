"""CipherSealer: the audit log's FieldSealer on a real FieldCipher."""

from __future__ import annotations

import json

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from securebot.core.audit import (
    AuditEvent,
    AuditLog,
    CipherSealer,
    EventKind,
    FieldSealer,
    MemoryAuditStore,
    PlainSealer,
)
from securebot.core.audit.sealing import SealedFieldError
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


# --- read without the key: "not verified", never "broken" -------------------------------------

PLAIN = PlainSealer()


@given(st.binary(max_size=256), st.text(min_size=1, max_size=20))
def test_a_plain_sealer_recognises_cipher_sealed_text(plaintext: bytes, context: str) -> None:
    with pytest.raises(SealedFieldError):
        PLAIN.open(SEALER.seal(plaintext, context=context), context=context)


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(), st.lists, max_leaves=8))
def test_a_plain_sealer_opens_what_it_sealed(value: object) -> None:
    text = json.dumps(value).encode()
    assert PLAIN.open(PLAIN.seal(text, context="c"), context="c") == text


async def _sealed_log_with_entries(count: int) -> MemoryAuditStore:
    store = MemoryAuditStore()
    log = AuditLog(store, sealer=SEALER)
    for n in range(count):
        log.record(AuditEvent(EventKind.COMMAND, 1_800_000_000.0 + n, guild_id=5, action="ping"))
    await log.flush()
    return store


async def test_a_sealed_chain_read_without_the_key_is_not_verified_not_broken() -> None:
    store = await _sealed_log_with_entries(3)
    keyed = await AuditLog(store, sealer=SEALER).verify("5")
    assert keyed.ok
    report = await AuditLog(store, sealer=PLAIN).verify("5")
    assert not report.ok
    assert report.needs_key
    assert "NOT VERIFIED" in report.line()
    assert "BROKEN" not in report.line()


async def test_a_damaged_entry_read_without_the_key_is_still_broken() -> None:
    store = await _sealed_log_with_entries(2)
    first = store.entries["5"][0]
    damaged = attrs.evolve(first, record={**first.record, "arguments": "not json, not base64!"})
    store.entries["5"][0] = damaged
    report = await AuditLog(store, sealer=PLAIN).verify("5")
    assert not report.needs_key
    assert report.line().startswith("chain 5: BROKEN at entry 1: unreadable")
