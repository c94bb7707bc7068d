"""Keyring: rotation keeps old ciphertexts readable, counters, retention, crypto-shredding."""

from __future__ import annotations

import base64
import logging
import pickle
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from securebot.crypto import (
    PURPOSES,
    BlindIndex,
    FieldCipher,
    FieldContext,
    Keyring,
    KeyStatus,
)
from securebot.errors import DecryptionError, KeyringError, UnknownKeyError


class Clock:
    """A settable clock."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def test_generate_has_one_primary_per_purpose() -> None:
    keyring = Keyring.generate()
    assert keyring.purposes == sorted(PURPOSES)
    ids = [e.key_id for e in keyring.entries()]
    assert len(set(ids)) == len(ids) == len(PURPOSES)
    assert all(0 < i < 2**32 for i in ids)
    assert {keyring.primary(p).status for p in PURPOSES} == {KeyStatus.PRIMARY}
    assert len({keyring.primary(p).material for p in PURPOSES}) == len(PURPOSES)


def test_unknown_purpose_fails_at_construction() -> None:
    with pytest.raises(KeyringError, match="no primary key for purpose 'nope'"):
        FieldCipher(Keyring.generate(), "nope")


@settings(max_examples=25)
@given(st.lists(st.text(), min_size=1, max_size=5), st.integers(1, 4))
def test_rotation_keeps_old_ciphertexts_and_uses_new_key(texts: list[str], rounds: int) -> None:
    keyring = Keyring.generate()
    cipher = FieldCipher(keyring, "messages")
    ctx = FieldContext("messages", "content", "42", scope="1234")
    written = []
    for _ in range(rounds):
        written += [(t, cipher.encrypt(t, ctx)) for t in texts]
        new = keyring.rotate("messages")
        fresh = cipher.encrypt(texts[0], ctx)
        assert FieldCipher.key_id_of(fresh) == new
        assert not cipher.needs_reencryption(fresh)
    for text, blob in written:
        assert cipher.decrypt(blob, ctx) == text
        assert cipher.needs_reencryption(blob)


def test_removing_a_key_gives_unknown_key_error() -> None:
    keyring = Keyring.generate()
    cipher = FieldCipher(keyring, "settings")
    ctx = FieldContext("settings", "prefix", "1")
    old_blob = cipher.encrypt("!", ctx)
    old = keyring.primary("settings").key_id
    data = keyring._dump()
    data["keys"] = [k for k in data["keys"] if k["id"] != old]
    trimmed = Keyring._load(data)
    trimmed.rotate("settings")
    with pytest.raises(UnknownKeyError, match="lacks"):
        FieldCipher(trimmed, "settings").decrypt(old_blob, ctx)


def test_full_lifecycle_with_retention() -> None:
    clock = Clock()
    keyring = Keyring.generate(clock=clock)
    cipher = FieldCipher(keyring, "settings")
    ctx = FieldContext("settings", "prefix", "1")
    old = keyring.primary("settings").key_id
    blob = cipher.encrypt("!", ctx)

    new = keyring.add_key("settings")
    assert keyring.get(new).status is KeyStatus.ACTIVE
    assert FieldCipher.key_id_of(cipher.encrypt("x", ctx)) == old  # not primary yet
    keyring.promote(new)
    assert keyring.get(old).status is KeyStatus.ACTIVE
    with pytest.raises(KeyringError, match="primary"):
        keyring.retire(new)
    with pytest.raises(KeyringError, match="retire it"):
        keyring.destroy(old)

    blob2 = cipher.reencrypt(blob, ctx)
    assert FieldCipher.key_id_of(blob2) == new
    keyring.retire(old)
    assert cipher.decrypt(blob, ctx) == "!"  # retired keys still decrypt
    with pytest.raises(KeyringError, match="cannot become primary"):
        keyring.promote(old)

    clock.advance(days=29)
    with pytest.raises(KeyringError, match="can be destroyed from 2026-01-31"):
        keyring.destroy(old)
    with pytest.raises(KeyringError, match="shorter than the backup retention"):
        keyring.destroy(old, retention=timedelta(days=1))
    clock.advance(days=1)
    keyring.destroy(old)
    assert [e.status for e in keyring.entries() if e.key_id == old] == [KeyStatus.DESTROYED]
    assert [e.material for e in keyring.entries() if e.key_id == old] == [b""]
    with pytest.raises(UnknownKeyError, match="destroyed on 2026-01-31"):
        cipher.decrypt(blob, ctx)
    assert cipher.decrypt(blob2, ctx) == "!"


def test_rotation_due_by_count_and_age_and_refusal() -> None:
    clock = Clock()
    keyring = Keyring.generate(clock=clock, rotate_after=3, refuse_after=5)
    cipher = FieldCipher(keyring, "audit")
    ctx = FieldContext("a", "b", "c")
    entry = keyring.primary("audit")
    for _ in range(3):
        cipher.encrypt("x", ctx)
    assert entry.encryptions == 3
    assert keyring.rotation_due(entry)
    assert [r.rotation_due for r in keyring.report() if r.key_id == entry.key_id] == [True]
    cipher.encrypt("x", ctx)
    cipher.encrypt("x", ctx)
    with pytest.raises(KeyringError, match="rotate it now"):
        cipher.encrypt("x", ctx)
    keyring.rotate("audit")
    assert cipher.decrypt(cipher.encrypt("y", ctx), ctx) == "y"

    other = keyring.primary("settings")
    assert not keyring.rotation_due(other)
    clock.advance(days=90)
    assert keyring.rotation_due(other)


def test_defaults_follow_the_nist_margin() -> None:
    keyring = Keyring.generate()
    assert keyring.rotate_after == 2**30
    assert keyring.refuse_after == 2**31


# --- crypto-shredding -----------------------------------------------------------------------


def test_shredding_a_guild_makes_only_its_data_unreadable() -> None:
    keyring = Keyring.generate()
    cipher = FieldCipher(keyring, "messages")
    det = FieldCipher(keyring, "messages", deterministic=True)
    index = BlindIndex(keyring)
    a = FieldContext("messages", "content", "1", scope="111")
    b = FieldContext("messages", "content", "1", scope="222")
    blob_a, blob_b = cipher.encrypt("hello", a), cipher.encrypt("hello", b)
    det_a = det.encrypt("hello", a)
    assert index.compute("hello", a)
    assert keyring.guilds == ["111", "222"]

    keyring.shred_guild("111")
    for blob in (blob_a, det_a):
        with pytest.raises(UnknownKeyError, match="crypto-shredded"):
            cipher.decrypt(blob, a)
    with pytest.raises(UnknownKeyError, match="crypto-shredded"):
        cipher.encrypt("again", a)
    with pytest.raises(UnknownKeyError, match="crypto-shredded"):
        index.compute("hello", a)
    with pytest.raises(KeyringError, match="cannot get a new key"):
        keyring.add_guild("111")
    assert cipher.decrypt(blob_b, b) == "hello"
    dumped = keyring._dump()
    assert [g["material"] for g in dumped["guilds"] if g["guild_id"] == "111"] == [""]


def test_guild_keys_separate_global_and_guild_data() -> None:
    keyring = Keyring.generate()
    cipher = FieldCipher(keyring, "settings")
    glob = FieldContext("s", "f", "r")
    guild = FieldContext("s", "f", "r", scope="5")
    with pytest.raises(DecryptionError):
        cipher.decrypt(cipher.encrypt("v", glob), guild)
    blob = cipher.encrypt("v", guild)
    data = keyring._dump()
    data["guilds"] = []
    without_guild = Keyring._load(data)
    with pytest.raises(UnknownKeyError, match="guild 5 has no data key"):
        FieldCipher(without_guild, "settings").decrypt(blob, guild)


def test_new_guild_keys_mark_the_keyring_dirty_and_notify() -> None:
    keyring = Keyring.generate()
    keyring.dirty = False
    seen: list[int] = []
    keyring.on_change(lambda k: seen.append(k.version))
    FieldCipher(keyring, "settings").encrypt("v", FieldContext("s", "f", "r", scope="77"))
    assert keyring.dirty
    assert len(seen) == 1


# --- no key material in reprs or logs -------------------------------------------------------


def test_no_key_material_in_repr_str_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    keyring = Keyring.generate()
    keyring.add_guild("9")
    cipher = FieldCipher(keyring, "settings")
    index = BlindIndex(keyring)
    guild = keyring.guild_key("9")
    assert guild is not None
    materials = [e.material for e in keyring.entries()] + [guild.material]
    shown = [repr(keyring), str(keyring), repr(cipher), repr(index)]
    shown += [repr(e) for e in keyring.entries()] + [str(e) for e in keyring.entries()]
    shown += [repr(r) for r in keyring.report()] + [repr(keyring.guild_key("9"))]
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("t").info("state %r %s %r", keyring, keyring.entries(), cipher)
    shown.append(caplog.text)
    for material in materials:
        forms = [material.hex(), repr(material)[2:-1], base64.b64encode(material).decode()]
        for text in shown:
            for form in forms:
                assert form not in text


def test_keyring_and_ciphers_are_not_picklable() -> None:
    keyring = Keyring.generate()
    keyring.add_guild("1")
    objects = (keyring, FieldCipher(keyring, "settings"), BlindIndex(keyring))
    for obj in (*objects, keyring.entries()[0], keyring.guild_key("1")):
        with pytest.raises(TypeError, match="pickled"):
            pickle.dumps(obj)


# --- loading validates what storage hands back ----------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)


@given(json_values)
def test_loading_arbitrary_json_raises_only_keyring_error(data: object) -> None:
    with pytest.raises(KeyringError, match="malformed"):
        Keyring._load(data)  # type: ignore[arg-type]


@given(st.data())
def test_loading_a_mutated_dump_raises_only_keyring_error(data: st.DataObject) -> None:
    dump = Keyring.generate()._dump()
    entry = data.draw(st.sampled_from(dump["keys"]))
    field = data.draw(st.sampled_from(sorted(entry)))
    entry[field] = data.draw(json_values)
    try:
        keyring = Keyring._load(dump)
    except KeyringError:
        return
    # Whatever loaded is usable: every purpose still encrypts and decrypts, except a primary
    # whose (loaded) encryption count is past the safe limit, which refuses loudly.
    for purpose in keyring.purposes:
        cipher = FieldCipher(keyring, purpose)
        ctx = FieldContext("c", "f", "r")
        primary = keyring.primary(purpose)
        if primary.encryptions >= keyring.refuse_after:
            with pytest.raises(KeyringError, match="safe limit"):
                cipher.encrypt("v", ctx)
            continue
        assert cipher.decrypt(cipher.encrypt("v", ctx), ctx) == "v"
        assert keyring.rotation_due(primary) in (True, False)


def test_strict_guild_provisioning() -> None:
    keyring = Keyring.generate(auto_guild_keys=False)
    cipher = FieldCipher(keyring, "settings")
    ctx = FieldContext("s", "f", "r", scope="55")
    with pytest.raises(KeyringError, match="provision it with Keyring.add_guild"):
        cipher.encrypt("v", ctx)
    with pytest.raises(KeyringError, match="provision"):
        BlindIndex(keyring).compute("v", ctx)
    assert keyring.guilds == []
    keyring.add_guild("55")
    assert cipher.decrypt(cipher.encrypt("v", ctx), ctx) == "v"
