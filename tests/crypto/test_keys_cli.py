"""``securebot keys``: init, status, rotate, promote, retire, destroy through click's CliRunner."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from securebot.cli import cli
from securebot.crypto import EnvKeyProvider, FieldCipher, FieldContext, open_keyring, seal_keyring
from securebot.crypto.sealed import read_sealed_file, write_sealed_file
from securebot.errors import UnknownKeyError


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    kek = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.delenv("SECUREBOT_ENV", raising=False)
    monkeypatch.delenv("SECUREBOT_KEYRING", raising=False)
    return {"SECUREBOT_KEK": kek, "SECUREBOT_KEYRING": str(tmp_path / "keyring.json")}


def run(env: dict[str, str], *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["keys", *args], env=env, input=input, catch_exceptions=False)


def _open(env: dict[str, str], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SECUREBOT_KEK", env["SECUREBOT_KEK"])
    data = read_sealed_file(env["SECUREBOT_KEYRING"])
    return asyncio.run(open_keyring(data, EnvKeyProvider()))


def test_init_status_and_no_plaintext_keys(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run(env, "init", "--provider", "env")
    assert result.exit_code == 0, result.output
    assert "created keyring" in result.output
    path = Path(env["SECUREBOT_KEYRING"])
    assert oct(path.stat().st_mode & 0o777) == "0o600"

    status = run(env, "status")
    assert status.exit_code == 0, status.output
    assert "canaries verified" in status.output
    assert len(re.findall(r"0x[0-9a-f]{8}\s+primary", status.output)) == 5

    keyring = _open(env, monkeypatch)
    text = path.read_text()
    for entry in keyring.entries():
        assert base64.b64encode(entry.material).decode() not in text
        assert base64.b64encode(entry.material).decode() not in status.output
    assert env["SECUREBOT_KEK"] not in text

    again = run(env, "init", "--provider", "env")
    assert again.exit_code == 1
    assert "already exists; refusing to replace" in again.output


def test_status_with_wrong_kek_fails_closed(env: dict[str, str]) -> None:
    assert run(env, "init", "--provider", "env").exit_code == 0
    wrong = {**env, "SECUREBOT_KEK": base64.b64encode(os.urandom(32)).decode()}
    result = run(wrong, "status")
    assert result.exit_code == 1
    assert "Error: refusing to open the keyring" in result.output
    assert "Traceback" not in result.output


def test_rotate_promote_retire_destroy(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(env, "init", "--provider", "env").exit_code == 0
    before = _open(env, monkeypatch)
    old = before.primary("settings").key_id
    ctx = FieldContext("settings", "prefix", "1")
    blob = FieldCipher(before, "settings").encrypt("!", ctx)

    staged = run(env, "rotate", "--purpose", "settings", "--stage")
    assert staged.exit_code == 0, staged.output
    new_hex = re.search(r"new key (0x[0-9a-f]{8}) staged", staged.output).group(1)  # type: ignore[union-attr]
    # the next step after staging is rolling out and promoting, not re-encrypting yet
    assert "securebot keys promote" in staged.output
    assert "reencrypt" not in staged.output
    assert _open(env, monkeypatch).primary("settings").key_id == old

    assert run(env, "promote", new_hex).exit_code == 0
    after = _open(env, monkeypatch)
    assert after.primary("settings").key_id == int(new_hex, 16)
    assert FieldCipher(after, "settings").decrypt(blob, ctx) == "!"

    refused = run(env, "retire", new_hex)
    assert refused.exit_code == 1
    assert "promote another key first" in refused.output
    assert run(env, "retire", hex(old)).exit_code == 0

    early = run(env, "destroy", hex(old), "--yes")
    assert early.exit_code == 1
    assert "can be destroyed from" in early.output

    # Backdate the retirement through the API, as 30 days passing would.
    keyring = _open(env, monkeypatch)
    keyring.get(old).retired_at = datetime.now(UTC) - timedelta(days=31)
    monkeypatch.setenv("SECUREBOT_KEK", env["SECUREBOT_KEK"])
    write_sealed_file(
        env["SECUREBOT_KEYRING"], asyncio.run(seal_keyring(keyring, EnvKeyProvider(keep=True)))
    )

    declined = run(env, "destroy", hex(old), input="n\n")
    assert declined.exit_code == 1
    assert "Aborted" in declined.output
    assert _open(env, monkeypatch).get(old).material  # still there

    done = run(env, "destroy", hex(old), input="y\n")
    assert done.exit_code == 0, done.output
    assert "Data encrypted under it can never be read again" in done.output
    final = _open(env, monkeypatch)
    with pytest.raises(UnknownKeyError, match="destroyed"):
        FieldCipher(final, "settings").decrypt(blob, ctx)


def test_shred_a_guild(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(env, "init", "--provider", "env").exit_code == 0
    result = run(env, "destroy", "--guild", "12345", "--yes")
    assert result.exit_code == 0, result.output
    status = run(env, "status")
    assert "0 live, 1 shredded" in status.output
    usage = run(env, "destroy", "--yes")
    assert usage.exit_code == 2
    assert "either a KEY_ID or --guild" in usage.output


def test_local_provider_init_refused_in_production(env: dict[str, str], tmp_path: Path) -> None:
    result = run(
        {**env, "SECUREBOT_ENV": "production"},
        "init",
        "--provider",
        "local",
        "--local-key-file",
        str(tmp_path / "kek"),
    )
    assert result.exit_code == 1
    assert "development only" in result.output
    assert not Path(env["SECUREBOT_KEYRING"]).exists()


def test_local_provider_init_and_status(env: dict[str, str], tmp_path: Path) -> None:
    result = run(env, "init", "--provider", "local", "--local-key-file", str(tmp_path / "kek"))
    assert result.exit_code == 0, result.output
    doc = json.loads(Path(env["SECUREBOT_KEYRING"]).read_text())
    assert doc["provider"] == {"name": "local", "options": {"path": str(tmp_path / "kek")}}
    status = run(env, "status")
    assert status.exit_code == 0, status.output
    assert "LocalKeyProvider" in status.output


def test_new_kek_prints_a_32_byte_key(env: dict[str, str]) -> None:
    result = run(env, "new-kek")
    assert len(base64.b64decode(result.output.strip())) == 32
    assert run(env, "new-kek").output != result.output


def test_bad_key_id_is_a_usage_error(env: dict[str, str]) -> None:
    assert run(env, "init", "--provider", "env").exit_code == 0
    result = run(env, "retire", "zz")
    assert result.exit_code == 2
    assert "is not a key id" in result.output


def test_reseal_moves_the_keyring_to_another_provider(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(env, "init", "--provider", "env", "--max-age-days", "7").exit_code == 0
    before = _open(env, monkeypatch)
    assert before.max_age == timedelta(days=7)
    kek = tmp_path / "dev-kek"
    result = run(env, "reseal", "--provider", "local", "--local-key-file", str(kek))
    assert result.exit_code == 0, result.output
    assert "now sealed by LocalKeyProvider" in result.output
    doc = json.loads(Path(env["SECUREBOT_KEYRING"]).read_text())
    assert doc["provider"]["name"] == "local"
    status = run({"SECUREBOT_KEYRING": env["SECUREBOT_KEYRING"]}, "status")  # no KEK needed now
    assert status.exit_code == 0, status.output
    assert before.ident in status.output
    wrong = run(env, "reseal", "--provider", "env", "--kek-variable", "NOT_SET_ANYWHERE")
    assert wrong.exit_code == 1
    assert "NOT_SET_ANYWHERE is not set" in wrong.output


def test_the_keyring_path_comes_from_the_bots_configuration(
    env: dict[str, str], tmp_path: Path
) -> None:
    keyring = tmp_path / "configured.keyring"
    config = tmp_path / "securebot.toml"
    config.write_text(f'[keys]\nkeyring = "{keyring}"\n')
    only_kek = {"SECUREBOT_KEK": env["SECUREBOT_KEK"]}
    result = CliRunner().invoke(
        cli, ["keys", "--config", str(config), "init", "--provider", "env"], env=only_kek
    )
    assert result.exit_code == 0, result.output
    assert f"in {keyring}" in result.output
    status = CliRunner().invoke(cli, ["keys", "--config", str(config), "status"], env=only_kek)
    assert status.exit_code == 0, status.output
    assert "ok (canaries verified)" in status.output


def test_rotate_names_the_next_steps(env: dict[str, str]) -> None:
    assert run(env, "init", "--provider", "env").exit_code == 0
    rotated = run(env, "rotate")
    assert rotated.exit_code == 0, rotated.output
    assert rotated.output.count("now primary") == 5
    assert "securebot storage reencrypt" in rotated.output
    assert "securebot keys retire" in rotated.output


def test_the_configuration_names_the_environment_as_it_does_for_the_bot(
    env: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "prod.toml"
    config.write_text(f'[bot]\nenvironment = "production"\n[keys]\nkeyring = "{tmp_path}/k.json"\n')
    without_keyring_variable = {**env, "SECUREBOT_KEYRING": ""}
    base = ["--config", str(config)]
    made = run(without_keyring_variable, *base, "init", "--provider", "env")
    assert made.exit_code == 0, made.output
    assert "environment: production" in made.output
    shown = run(without_keyring_variable, *base, "status")
    assert shown.exit_code == 0, shown.output
    # without the configuration, this keyring is refused as another environment's
    plain = run({**env, "SECUREBOT_KEYRING": str(tmp_path / "k.json")}, "status")
    assert plain.exit_code == 1
    assert "sealed for environment 'production'" in plain.output
    # an explicit --environment still wins over the configuration
    forced = run(without_keyring_variable, *base, "status", "--environment", "development")
    assert forced.exit_code == 1


def test_destroy_refuses_a_key_that_stored_values_still_use(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from securebot.core.scheduler.model import Job
    from securebot.core.storage import Scope, Store
    from securebot.storage.sqlite import SqliteBackend, SqliteJobStore

    assert run(env, "init", "--provider", "env").exit_code == 0
    db = tmp_path / "store.sqlite3"
    keyring = _open(env, monkeypatch)
    old_settings = keyring.primary("settings").key_id
    old_messages = keyring.primary("messages").key_id

    async def fill() -> None:
        store = Store(SqliteBackend(db), keyring=keyring)
        store.settings("kc").register(Scope.GUILD, sensitive=("token",), token="")
        async with store:
            await store.settings("kc").guild(1).set("token", "secret")
            jobs = SqliteJobStore(store.backend, cipher=FieldCipher(keyring, "messages"))  # type: ignore[arg-type]
            await jobs.add(Job("j1", "k", datetime.now(UTC), guild_id=1, payload={"t": "x"}))

    asyncio.run(fill())
    monkeypatch.setenv("SECUREBOT_KEK", env["SECUREBOT_KEK"])  # keep guild 1's new data key
    write_sealed_file(
        env["SECUREBOT_KEYRING"], asyncio.run(seal_keyring(keyring, EnvKeyProvider(keep=True)))
    )
    for purpose in ("settings", "messages"):
        assert run(env, "rotate", "--purpose", purpose).exit_code == 0
    assert run(env, "retire", hex(old_settings)).exit_code == 0
    assert run(env, "retire", hex(old_messages)).exit_code == 0
    backdated = _open(env, monkeypatch)
    for old in (old_settings, old_messages):
        backdated.get(old).retired_at = datetime.now(UTC) - timedelta(days=31)
    monkeypatch.setenv("SECUREBOT_KEK", env["SECUREBOT_KEK"])
    write_sealed_file(
        env["SECUREBOT_KEYRING"], asyncio.run(seal_keyring(backdated, EnvKeyProvider(keep=True)))
    )

    for old in (old_settings, old_messages):
        refused = run(env, "destroy", hex(old), "--yes", "--db", str(db))
        assert refused.exit_code == 1, refused.output
        assert "1 sealed value(s)" in refused.output
        assert "still use key" in refused.output
        assert _open(env, monkeypatch).get(old).material  # not destroyed

    current = _open(env, monkeypatch)

    async def reencrypt_and_drop_the_job() -> None:
        store = Store(SqliteBackend(db), keyring=current)
        async with store:
            assert (await store.reencrypt())["settings"] == 1
            await SqliteJobStore(store.backend).remove("j1")  # type: ignore[arg-type]

    asyncio.run(reencrypt_and_drop_the_job())
    for old in (old_settings, old_messages):
        done = run(env, "destroy", hex(old), "--yes", "--db", str(db))
        assert done.exit_code == 0, done.output
    missing = run(env, "destroy", "0x1234", "--yes", "--db", str(tmp_path / "nope.sqlite3"))
    assert missing.exit_code == 1
    assert "no store at" in missing.output
