"""Sealed keyrings and key providers: round trips, fail-closed startup, dev-only local provider."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from securebot.crypto import (
    EnvKeyProvider,
    FieldCipher,
    FieldContext,
    Keyring,
    LocalKeyProvider,
    describe_sealed,
    make_provider,
    open_keyring,
    seal_keyring,
)
from securebot.crypto.sealed import read_sealed_file, write_sealed_file
from securebot.errors import KeyProviderError, KeyringError, UnknownKeyError


@pytest.fixture
def kek_env(monkeypatch: pytest.MonkeyPatch) -> str:
    value = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("SECUREBOT_KEK", value)
    monkeypatch.delenv("SECUREBOT_ENV", raising=False)
    return value


def _materials(keyring: Keyring) -> list[bytes]:
    return [e.material for e in keyring.entries()]


async def test_env_provider_round_trip_keeps_keys_and_ciphertexts(kek_env: str) -> None:
    keyring = Keyring.generate()
    keyring.add_guild("42")
    ctx = FieldContext("settings", "prefix", "42", scope="42")
    blob = FieldCipher(keyring, "settings").encrypt("!", ctx)
    provider = EnvKeyProvider()
    assert "SECUREBOT_KEK" not in os.environ  # read once, then removed
    sealed = await seal_keyring(keyring, provider)

    for material in _materials(keyring):
        assert base64.b64encode(material) not in sealed
        assert material.hex().encode() not in sealed
    assert describe_sealed(sealed)["provider"] == {
        "name": "env",
        "options": {"variable": "SECUREBOT_KEK"},
    }

    reopened = await open_keyring(sealed, provider)
    assert reopened.ident == keyring.ident
    assert _materials(reopened) == _materials(keyring)
    assert FieldCipher(reopened, "settings").decrypt(blob, ctx) == "!"
    assert not reopened.dirty


async def test_open_builds_the_provider_named_in_the_file(
    kek_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyring = Keyring.generate()
    sealed = await seal_keyring(keyring, EnvKeyProvider())
    monkeypatch.setenv("SECUREBOT_KEK", kek_env)
    reopened = await open_keyring(sealed)
    assert reopened.ident == keyring.ident


async def test_wrong_kek_fails_closed_with_one_message(
    kek_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sealed = await seal_keyring(Keyring.generate(), EnvKeyProvider())
    monkeypatch.setenv("SECUREBOT_KEK", base64.b64encode(os.urandom(32)).decode())
    with pytest.raises(KeyringError, match="refusing to open the keyring: .*wrong key-encryption"):
        await open_keyring(sealed, EnvKeyProvider())


async def test_other_environment_is_refused(kek_env: str) -> None:
    provider = EnvKeyProvider(keep=True)
    sealed = await seal_keyring(Keyring.generate(), provider, environment="staging")
    with pytest.raises(KeyringError, match="sealed for environment 'staging'"):
        await open_keyring(sealed, provider, environment="production")


async def test_tampered_document_parts_fail_closed(kek_env: str) -> None:
    provider = EnvKeyProvider()
    sealed = await seal_keyring(Keyring.generate(), provider)
    document = json.loads(sealed)

    def altered(**changes: object) -> bytes:
        return json.dumps({**document, **changes}).encode()

    ciphertext = bytearray(base64.b64decode(document["ciphertext"]))
    ciphertext[10] ^= 1
    other = json.loads(await seal_keyring(Keyring.generate(), provider))
    cases = {
        "not JSON": b"\x00garbage",
        "expected format": altered(format="other"),
        "do not authenticate": altered(ciphertext=base64.b64encode(bytes(ciphertext)).decode()),
        "wrong key-encryption": altered(keyring_id="0" * 16),
        "not base64": altered(nonce="!!"),
        "canary does not decrypt": altered(
            canaries={**document["canaries"], **{"settings": other["canaries"]["settings"]}}
        ),
        "canaries are missing": altered(canaries={}),
    }
    for reason, data in cases.items():
        with pytest.raises(KeyringError, match=reason):
            await open_keyring(data, provider)


async def test_bad_canary_from_inside_fails_closed(kek_env: str) -> None:
    """A keyring whose settings key was swapped (contents authentic, canary not) is refused."""
    provider = EnvKeyProvider()
    keyring = Keyring.generate()
    sealed = json.loads(await seal_keyring(keyring, provider))
    keyring.primary("settings").material = os.urandom(32)
    resealed = json.loads(await seal_keyring(keyring, provider))
    resealed["canaries"] = sealed["canaries"]
    with pytest.raises(KeyringError, match="settings canary does not decrypt"):
        await open_keyring(json.dumps(resealed).encode(), provider)


def test_env_provider_errors_are_clear(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECUREBOT_KEK", raising=False)
    with pytest.raises(KeyProviderError, match="SECUREBOT_KEK is not set"):
        EnvKeyProvider()
    monkeypatch.setenv("SECUREBOT_KEK", "%%%")
    with pytest.raises(KeyProviderError, match="not valid base64"):
        EnvKeyProvider()
    monkeypatch.setenv("SECUREBOT_KEK", base64.b64encode(b"short").decode())
    with pytest.raises(KeyProviderError, match="5 bytes, expected 32"):
        EnvKeyProvider()
    with pytest.raises(KeyProviderError, match="unknown key provider 'vault'"):
        make_provider("vault")


# --- local provider ---------------------------------------------------------------------------


async def test_local_provider_creates_0600_file_warns_and_round_trips(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SECUREBOT_ENV", raising=False)
    path = tmp_path / "dev" / "kek"
    with caplog.at_level(logging.WARNING, logger="securebot.crypto"):
        provider = LocalKeyProvider(path, create=True)
    assert "DEVELOPMENT ONLY" in caplog.text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    keyring = Keyring.generate()
    sealed = await seal_keyring(keyring, provider)
    assert path.read_bytes() not in sealed
    again = await open_keyring(sealed)  # rebuilt from the stored path
    assert again.ident == keyring.ident
    assert path.read_bytes().hex() not in caplog.text


def test_local_provider_refuses_production(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(KeyProviderError, match="development only .* production"):
        LocalKeyProvider(tmp_path / "k", environment="production", create=True)
    monkeypatch.setenv("SECUREBOT_ENV", "production")
    with pytest.raises(KeyProviderError, match="refuses to run in production"):
        LocalKeyProvider(tmp_path / "k", create=True)
    assert not (tmp_path / "k").exists()


async def test_local_keyring_cannot_be_opened_in_production(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SECUREBOT_ENV", raising=False)
    provider = LocalKeyProvider(tmp_path / "k", create=True, environment="production-like")
    sealed = await seal_keyring(Keyring.generate(), provider, environment="production-like")
    document = json.loads(sealed)
    document["environment"] = "production"
    with pytest.raises(KeyringError, match="refuses to run in production"):
        await open_keyring(json.dumps(document).encode(), environment="production")


def test_local_provider_refuses_a_key_file_inside_a_repository(tmp_path: Path) -> None:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    with pytest.raises(KeyProviderError, match="inside the git work tree"):
        LocalKeyProvider(tmp_path / "repo" / "secrets" / "kek", create=True)
    with pytest.raises(KeyProviderError, match="does not exist"):
        LocalKeyProvider(tmp_path / "missing")
    (tmp_path / "bad").write_bytes(b"x" * 5)
    with pytest.raises(KeyProviderError, match="holds 5 bytes"):
        LocalKeyProvider(tmp_path / "bad")


def test_providers_hide_their_keys(kek_env: str, tmp_path: Path) -> None:
    env = EnvKeyProvider(keep=True)
    local = LocalKeyProvider(tmp_path / "k", create=True)
    kek = base64.b64decode(kek_env)
    for provider, secret in ((env, kek), (local, (tmp_path / "k").read_bytes())):
        for shown in (repr(provider), str(provider), str(provider.options())):
            assert secret.hex() not in shown
            assert base64.b64encode(secret).decode() not in shown
        with pytest.raises(TypeError, match="pickled"):
            __import__("pickle").dumps(provider)


def test_sealed_file_is_written_atomically_0600(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "keyring.json"
    write_sealed_file(path, b"one")
    write_sealed_file(path, b"two")
    assert read_sealed_file(path) == b"two"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["keyring.json"]
    with pytest.raises(KeyringError, match="cannot read the keyring file"):
        read_sealed_file(tmp_path / "nope.json")


@pytest.mark.parametrize("failing", ["write", "fsync", "chmod", "replace"])
def test_a_failed_save_leaves_the_previous_keyring_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    """A full disk (or any error) in the middle of saving never leaves a truncated keyring:
    the previous file stays byte for byte, no temporary file is left, and the error says so."""
    import errno

    import securebot.crypto.sealed as sealed_module

    path = tmp_path / "keyring.json"
    previous = b'{"format": "securebot-keyring/v1", "old": true}\n' * 50
    write_sealed_file(path, previous)

    def enospc(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    if failing == "write":
        real_fdopen = os.fdopen

        class HalfWriter:
            def __init__(self, fd: int, mode: str) -> None:
                self._f = real_fdopen(fd, mode)

            def __enter__(self) -> HalfWriter:
                return self

            def __exit__(self, *exc: object) -> None:
                self._f.close()

            def write(self, data: bytes) -> int:
                self._f.write(data[: len(data) // 2])
                self._f.flush()
                enospc()
                return 0

        monkeypatch.setattr(sealed_module.os, "fdopen", HalfWriter)
    else:
        monkeypatch.setattr(sealed_module.os, failing, enospc)
    with pytest.raises(KeyringError, match="previous keyring file is unchanged"):
        write_sealed_file(path, b"new keyring" * 1000)
    monkeypatch.undo()
    assert path.read_bytes() == previous
    assert [p.name for p in tmp_path.iterdir()] == ["keyring.json"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_save_never_replaces_a_file_another_process_changed(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    write_sealed_file(path, b"as read")
    write_sealed_file(path, b"written by the keys CLI")
    with pytest.raises(KeyringError, match="changed by another process"):
        write_sealed_file(path, b"stale copy", replaces=b"as read")
    assert read_sealed_file(path) == b"written by the keys CLI"
    assert [p.name for p in tmp_path.iterdir()] == ["keyring.json"]
    path.unlink()
    with pytest.raises(KeyringError, match="changed by another process"):
        write_sealed_file(path, b"stale copy", replaces=b"as read")  # removed meanwhile
    assert not path.exists()
    write_sealed_file(path, b"first")
    write_sealed_file(path, b"second", replaces=b"first")
    assert read_sealed_file(path) == b"second"


# --- properties over random keyring histories -------------------------------------------------

os.environ["SECUREBOT_TEST_PROPERTY_KEK"] = base64.b64encode(os.urandom(32)).decode()
PROPERTY_PROVIDER = EnvKeyProvider("SECUREBOT_TEST_PROPERTY_KEK")

operations = st.lists(
    st.one_of(
        st.tuples(st.just("rotate"), st.sampled_from(["settings", "messages", "index"])),
        st.tuples(st.just("stage"), st.sampled_from(["settings", "audit"])),
        st.tuples(st.just("guild"), st.integers(1, 5).map(str)),
        st.tuples(st.just("shred"), st.integers(1, 5).map(str)),
        st.tuples(st.just("write"), st.integers(1, 5).map(str)),
    ),
    max_size=12,
)


def _apply(keyring: Keyring, history: list[tuple[str, str]]) -> list[tuple[bytes, FieldContext]]:
    cipher = FieldCipher(keyring, "messages")
    written = []
    for op, arg in history:
        if op == "rotate":
            old = keyring.primary(arg).key_id
            keyring.rotate(arg)
            keyring.retire(old)
        elif op == "stage":
            keyring.add_key(arg)
        elif op == "guild":
            guild = keyring.guild_key(arg)
            if guild is None or not guild.destroyed:
                keyring.add_guild(arg)
        elif op == "shred":
            keyring.shred_guild(arg)
        elif op == "write":
            guild = keyring.guild_key(arg)
            if guild is None or not guild.destroyed:
                ctx = FieldContext("messages", "content", "r", scope=arg)
                written.append((cipher.encrypt(f"text for {arg}", ctx), ctx))
    return written


@hyp_settings(max_examples=60)
@given(operations)
def test_seal_open_preserves_every_history(history: list[tuple[str, str]]) -> None:
    keyring = Keyring.generate()
    written = _apply(keyring, history)
    sealed = asyncio.run(seal_keyring(keyring, PROPERTY_PROVIDER, environment="test"))
    reopened = asyncio.run(open_keyring(sealed, PROPERTY_PROVIDER, environment="test"))
    assert reopened._dump() == keyring._dump()
    cipher = FieldCipher(reopened, "messages")
    for blob, ctx in written:
        guild = reopened.guild_key(ctx.scope)
        if guild is not None and guild.destroyed:
            with pytest.raises(UnknownKeyError, match="crypto-shredded"):
                cipher.decrypt(blob, ctx)
        else:
            assert cipher.decrypt(blob, ctx) == f"text for {ctx.scope}"
    secrets = [e.material for e in keyring.entries() if e.material]
    secrets += [g.material for g in map(keyring.guild_key, keyring.guilds) if g and g.material]
    shown = "\n".join(
        [repr(reopened), str(reopened), sealed.decode(), repr(cipher)]
        + [f"{e!r} {e}" for e in reopened.entries()]
        + [repr(r) for r in reopened.report()]
    )
    for material in secrets:
        assert material.hex() not in shown
        assert base64.b64encode(material).decode() not in shown
        assert repr(material)[2:-1] not in shown
