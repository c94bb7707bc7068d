"""Re-encryption over an iterable of records after a rotation, then retire and destroy."""

from __future__ import annotations

from collections.abc import Hashable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from securebot.crypto import FieldCipher, FieldContext, Keyring, reencrypt_records
from securebot.errors import UnknownKeyError


@settings(max_examples=20)
@given(st.lists(st.one_of(st.text(), st.binary(), st.integers()), min_size=1, max_size=20))
def test_reencryption_moves_everything_to_the_primary(values: list[object]) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    keyring = Keyring.generate(clock=lambda: now[0])
    cipher = FieldCipher(keyring, "messages")
    det = FieldCipher(keyring, "messages", deterministic=True)
    store: dict[Hashable, tuple[bytes, FieldContext]] = {}
    for i, value in enumerate(values):
        ctx = FieldContext("messages", "content", str(i), scope=str(i % 3 + 1))
        store[i] = ((det if i % 4 == 0 else cipher).encrypt(value, ctx), ctx)
    old = keyring.primary("messages").key_id
    new = keyring.rotate("messages")

    def write(key: Hashable, blob: bytes) -> None:
        store[key] = (blob, store[key][1])

    store["broken"] = (b"\x01garbage-that-is-long-enough-to-parse-0123456789", store[0][1])
    report = reencrypt_records(cipher, ((k, b, c) for k, (b, c) in store.items()), write)
    assert report.examined == len(values) + 1
    assert report.rewritten == len(values)
    assert [k for k, _ in report.failed] == ["broken"]
    assert not report.complete
    del store["broken"]
    again = reencrypt_records(cipher, ((k, b, c) for k, (b, c) in store.items()), write)
    assert (again.rewritten, again.current, again.complete) == (0, len(values), True)

    for i, value in enumerate(values):
        blob, ctx = store[i]
        assert FieldCipher.key_id_of(blob) == new
        assert blob[0] == (0x02 if i % 4 == 0 else 0x01)  # the format is kept
        assert cipher.decrypt(blob, ctx) == value

    keyring.retire(old)
    now[0] += timedelta(days=30)
    keyring.destroy(old)
    for i, value in enumerate(values):
        blob, ctx = store[i]
        assert cipher.decrypt(blob, ctx) == value


def test_values_under_a_destroyed_key_are_reported_not_lost() -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    keyring = Keyring.generate(clock=lambda: now[0])
    cipher = FieldCipher(keyring, "settings")
    ctx = FieldContext("s", "f", "1")
    blob = cipher.encrypt("v", ctx)
    old = keyring.primary("settings").key_id
    keyring.rotate("settings")
    keyring.retire(old)
    now[0] += timedelta(days=31)
    keyring.destroy(old)
    written: list[object] = []
    report = reencrypt_records(cipher, [("k", blob, ctx)], lambda k, b: written.append(k))
    assert written == []
    assert report.failed[0][0] == "k"
    assert "destroyed" in report.failed[0][1]
    with pytest.raises(UnknownKeyError):
        cipher.decrypt(blob, ctx)
