"""``securebot storage``: check, migrate, export-user/guild, delete-user/guild (with shredding),
and the data-rights hooks, against a real SQLite file and a sealed keyring."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.storage.records import Case, Note

import securebot
from securebot.cli import cli
from securebot.core.storage import Scope, Store
from securebot.core.storage.plugin import StoragePlugin
from securebot.core.storage.records import spec_of
from securebot.crypto import EnvKeyProvider, Keyring, open_keyring, save_keyring_file
from securebot.crypto.sealed import read_sealed_file
from securebot.storage.sqlite import SqliteBackend

SECRET = "cli-secret-reason-5b2e"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    kek = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.delenv("SECUREBOT_ENV", raising=False)
    monkeypatch.setenv("SECUREBOT_KEK", kek)
    values = {
        "SECUREBOT_KEK": kek,
        "SECUREBOT_KEYRING": str(tmp_path / "keyring.json"),
        "SECUREBOT_STORAGE": str(tmp_path / "bot.sqlite3"),
    }
    result = CliRunner().invoke(cli, ["keys", "init", "--provider", "env"], env=values)
    assert result.exit_code == 0, result.output
    return values


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, ["storage", *args], env=env, catch_exceptions=False)


async def _fill(env: dict[str, str]) -> None:
    path = env["SECUREBOT_KEYRING"]
    keyring = await open_keyring(read_sealed_file(path), EnvKeyProvider(keep=True))
    store = Store(SqliteBackend(env["SECUREBOT_STORAGE"]), keyring=keyring)
    await store.open()
    await store.put(Case(guild_id=1, number=1, user_id=7, reason=SECRET))
    await store.put(Case(guild_id=2, number=1, user_id=8, reason="other guild"))
    await store.put(Note(name="n", text="global note"))
    settings = store.settings("cli")
    settings.register(Scope.MEMBER, points=0)
    await settings.member(1, 7).set("points", 3)
    await store.close()
    # new guild keys were created by these writes: the bot persists the keyring when it changes
    assert keyring.dirty
    await save_keyring_file(path, keyring, EnvKeyProvider(keep=True))


def test_export_user_and_guild_give_readable_json(env: dict[str, str], tmp_path: Path) -> None:
    asyncio.run(_fill(env))
    user = json.loads(run(env, "export-user", "7").output)
    assert user["records"]["tests.cases"][0]["fields"]["reason"] == SECRET
    assert user["settings"]["cli"][0]["value"] == 3
    out = tmp_path / "guild.json"
    result = run(env, "export-guild", "1", "--output", str(out))
    assert result.exit_code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    guild = json.loads(out.read_text())
    assert [r["fields"]["reason"] for r in guild["records"]["tests.cases"]] == [SECRET]
    assert run(env, "export-guild", "1", "--output", str(out)).exit_code != 0  # never overwrites


def test_without_the_keyring_sealed_values_are_reported_unreadable(env: dict[str, str]) -> None:
    asyncio.run(_fill(env))
    env = {k: v for k, v in env.items() if k != "SECUREBOT_KEYRING"}
    user = json.loads(run(env, "export-user", "7").output)
    assert user["records"] == {}
    assert len(user["unreadable"]) == 1
    assert SECRET not in json.dumps(user)


def test_check_passes_then_names_a_damaged_record(env: dict[str, str]) -> None:
    asyncio.run(_fill(env))
    result = run(env, "check")
    assert result.exit_code == 0, result.output
    assert "tests.cases: 2 record(s), 0 unreadable" in result.output
    import sqlite3

    db = sqlite3.connect(env["SECUREBOT_STORAGE"])
    body = json.loads(db.execute("SELECT body FROM docs WHERE scope='2'").fetchone()[0])
    body["_sealed"]["reason"] = base64.b64encode(b"\x01" + bytes(40)).decode()
    db.execute("UPDATE docs SET body=? WHERE scope='2'", (json.dumps(body),))
    db.commit()
    db.close()
    result = run(env, "check")
    assert result.exit_code == 1
    assert "PROBLEM record tests.cases/2/1" in result.output


def test_delete_user_erases_and_reports(env: dict[str, str]) -> None:
    asyncio.run(_fill(env))
    result = run(env, "delete-user", "7", "--yes")
    assert "erased 2 item(s) of user 7" in result.output
    assert json.loads(run(env, "export-user", "7").output)["records"] == {}


def test_delete_guild_erases_and_crypto_shreds(env: dict[str, str]) -> None:
    asyncio.run(_fill(env))
    result = run(env, "delete-guild", "1", "--yes")
    assert result.exit_code == 0, result.output
    assert "erased 2 item(s) of guild 1" in result.output  # the case and a member setting
    assert "crypto-shred" in result.output
    keyring = asyncio.run(
        open_keyring(read_sealed_file(env["SECUREBOT_KEYRING"]), EnvKeyProvider(keep=True))
    )
    guild = keyring.guild_key("1")
    assert guild is not None
    assert guild.destroyed
    assert json.loads(run(env, "export-guild", "1").output)["records"] == {}
    other = json.loads(run(env, "export-guild", "2").output)
    assert other["records"]["tests.cases"][0]["fields"]["reason"] == "other guild"


def test_delete_guild_without_a_keyring_says_the_key_was_not_shredded(
    env: dict[str, str],
) -> None:
    asyncio.run(_fill(env))
    env = {k: v for k, v in env.items() if k != "SECUREBOT_KEYRING"}
    result = run(env, "delete-guild", "1", "--yes")
    assert "NOT shredded" in result.output


def test_migrate_and_a_missing_store(env: dict[str, str], tmp_path: Path) -> None:
    result = run(env, "migrate", "--module", "tests.storage.records")
    assert result.exit_code == 0, result.output
    assert "tests.profiles: 0 record(s) upgraded" in result.output
    missing = CliRunner().invoke(cli, ["storage", "check", "--db", str(tmp_path / "nope")])
    assert missing.exit_code == 1
    assert "no store at" in missing.output
    bad = CliRunner().invoke(cli, ["storage", "migrate", "--module", "no.such.module"], env=env)
    assert bad.exit_code == 1
    assert "cannot import no.such.module" in bad.output


async def test_the_data_rights_hooks_answer_for_the_store(tmp_path: Path) -> None:
    from securebot.crypto import Keyring

    store = Store(SqliteBackend(tmp_path / "s.sqlite3"), keyring=Keyring.generate())
    await store.open()
    await store.put(Case(guild_id=1, number=1, user_id=7, reason=SECRET))
    manager = securebot.PluginManager()
    manager.register(StoragePlugin(store))
    exported = await manager.collect("securebot_export_user_data", user_id=7)
    assert exported["storage"]["records"]["tests.cases"][0]["fields"]["reason"] == SECRET
    assert await manager.collect("securebot_export_user_data", user_id=99) == {"storage": None}
    assert await manager.collect("securebot_delete_user_data", user_id=7) == {"storage": 1}
    assert await store.get(Case, 1, scope=1) is None
    await store.close()


async def test_startup_migrates_purges_and_schedules_retention(tmp_path: Path) -> None:
    import datetime as dt
    import types

    from tests.storage.conftest import ManualClock
    from tests.storage.records import Profile, Submission

    from securebot.core.scheduler import ManualClock as JobClock
    from securebot.core.scheduler import MemoryJobStore, Scheduler
    from securebot.core.storage import Document, Page, Query
    from securebot.core.storage.plugin import PURGE_EVERY, PURGE_KIND
    from securebot.crypto import Keyring

    clock = ManualClock()
    store = Store(SqliteBackend(tmp_path / "s.sqlite3"), keyring=Keyring.generate(), clock=clock)
    await store.open()
    old = Document("tests.profiles", "global", "5", {"user_id": 5, "name": "ada"}, schema=1)
    await store.backend.put(old, now=clock())
    await store.put(Submission(guild_id=1, form="f", user_id=2))
    clock.advance(400 * 86400)
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    scheduler = Scheduler(MemoryJobStore(), clock=JobClock(t0))
    bot = types.SimpleNamespace(scheduler=scheduler)
    manager = securebot.PluginManager()
    manager.register(StoragePlugin(store))
    await manager.notify("securebot_startup", bot=bot)
    await manager.notify("securebot_startup", bot=bot)  # a restart schedules no second job
    raw = await store.backend.get("tests.profiles", "global", "5", now=clock())
    assert raw is not None
    assert raw.schema == 2
    assert await store.get(Profile, 5) == Profile(user_id=5, display="Ada")
    # purged, not just hidden: even "as of time 0" the expired submission is gone
    assert await store.backend.find(Query("tests.submissions"), now=0.0) == Page(())
    (job,) = await scheduler.store.jobs(kind=PURGE_KIND)
    assert job.interval == PURGE_EVERY
    assert job.due == t0 + dt.timedelta(seconds=PURGE_EVERY)
    await store.close()


def test_paths_come_from_the_bots_configuration(env: dict[str, str], tmp_path: Path) -> None:
    asyncio.run(_fill(env))
    config = tmp_path / "securebot.toml"
    config.write_text(
        f'[storage]\npath = "{env["SECUREBOT_STORAGE"]}"\n'
        f'[keys]\nkeyring = "{env["SECUREBOT_KEYRING"]}"\n'
    )
    only_kek = {"SECUREBOT_KEK": env["SECUREBOT_KEK"]}
    result = CliRunner().invoke(
        cli, ["storage", "--config", str(config), "export-guild", "1"], env=only_kek
    )
    assert result.exit_code == 0, result.output
    assert SECRET in result.output  # found the store and opened its sealed fields
    missing = tmp_path / "missing.toml"
    result = CliRunner().invoke(cli, ["storage", "--config", str(missing), "check"], env=only_kek)
    assert result.exit_code == 1
    assert "configuration file not found" in result.output


def test_reencrypt_after_a_rotation_until_nothing_is_left(env: dict[str, str]) -> None:
    asyncio.run(_fill(env))
    rotated = CliRunner().invoke(cli, ["keys", "rotate"], env=env)
    assert rotated.exit_code == 0, rotated.output
    first = run(env, "reencrypt", "--module", "tests.storage.records")
    assert first.exit_code == 0, first.output
    assert "tests.cases: 2 rewritten" in first.output
    assert "tests.notes: 1 rewritten" in first.output
    second = run(env, "reencrypt", "--module", "tests.storage.records")
    assert "nothing left under older keys" in second.output
    exported = json.loads(run(env, "export-guild", "1").output)
    assert [r["fields"]["reason"] for r in exported["records"]["tests.cases"]] == [SECRET]
    no_keys = {k: v for k, v in env.items() if k != "SECUREBOT_KEYRING"}
    refused = CliRunner().invoke(cli, ["storage", "reencrypt"], env=no_keys)
    assert refused.exit_code == 1
    assert "reencrypt needs the keyring" in refused.output


def test_reencrypt_never_says_done_while_undeclared_records_stay_under_old_keys(
    env: dict[str, str],
) -> None:
    asyncio.run(_fill(env))
    assert CliRunner().invoke(cli, ["keys", "rotate"], env=env).exit_code == 0
    # A fresh process that imports no module declaring the stored record types.
    securebot_cli = Path(sys.executable).parent / "securebot"
    blind = subprocess.run(
        [str(securebot_cli), "storage", "reencrypt"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert blind.returncode == 1, blind.stdout + blind.stderr
    assert "tests.cases: 2 record(s) still under older keys" in blind.stderr
    assert "tests.notes: 1 record(s) still under older keys" in blind.stderr
    assert "do not retire the old keys yet" in blind.stderr
    assert "nothing left" not in blind.stdout
    assert "Traceback" not in blind.stderr
    done = run(env, "reencrypt", "--module", "tests.storage.records")
    assert done.exit_code == 0, done.output
    again = run(env, "reencrypt", "--module", "tests.storage.records")
    assert "nothing left under older keys" in again.output


async def test_stale_undeclared_counts_only_undeclared_collections_under_old_keys(
    tmp_path: Path,
) -> None:
    keyring = Keyring.generate()
    store = Store(SqliteBackend(tmp_path / "s.sqlite3"), keyring=keyring)
    await store.open()
    await store.put(Case(guild_id=1, number=1, user_id=7, reason=SECRET))
    await store.put(Note(name="n", text="global note"))
    case_spec = spec_of(Case)
    assert await store.stale_undeclared([case_spec]) == {}  # all under the primary key
    keyring.rotate("settings")
    assert await store.stale_undeclared([case_spec]) == {"tests.notes": 1}
    assert await store.stale_undeclared([case_spec, spec_of(Note)]) == {}
    await store.reencrypt([spec_of(Note)])
    assert await store.stale_undeclared([case_spec]) == {}
    await store.close()


def test_export_user_into_an_encrypted_archive(
    env: dict[str, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``--archive``: 7-Zip opens it with the printed password only; inside, the same JSON as
    ``--output`` writes; the password only ever on standard error."""
    from tests.archive_checks import open_cli_archive

    asyncio.run(_fill(env))
    plain = tmp_path / "user.json"
    assert run(env, "export-user", "7", "--output", str(plain)).exit_code == 0
    archive = tmp_path / "user-7.7z"
    caplog.set_level("DEBUG")
    result = run(env, "export-user", "7", "--archive", str(archive))
    assert result.exit_code == 0, result.output
    assert SECRET.encode() not in archive.read_bytes()
    password, files = open_cli_archive(archive, result.stderr, tmp_path / "out")
    assert sorted(files) == ["README.txt", "user-7.json"]
    assert files["user-7.json"] == plain.read_text(encoding="utf-8")
    assert json.loads(files["user-7.json"])["records"]["tests.cases"][0]["fields"]["reason"] == (
        SECRET
    )
    readme = files["README.txt"]
    assert "user 7" in readme
    assert env["SECUREBOT_STORAGE"] in readme
    assert "securebot storage export-user" in readme
    assert f"7z x {archive}" in result.stderr
    assert hashlib.sha256(archive.read_bytes()).hexdigest() in result.stderr
    assert f"{archive.stat().st_size} bytes" in result.stderr
    assert result.stdout == ""
    assert password not in caplog.text
    from securebot.crypto import redact

    assert password not in redact(f"if it were ever logged: {password}")  # registered


def test_export_guild_archive_never_overwrites(env: dict[str, str], tmp_path: Path) -> None:
    from tests.archive_checks import open_cli_archive

    asyncio.run(_fill(env))
    archive = tmp_path / "guild.7z"
    first = run(env, "export-guild", "1", "--archive", str(archive))
    assert first.exit_code == 0, first.output
    before = archive.read_bytes()
    again = run(env, "export-guild", "1", "--archive", str(archive))
    assert again.exit_code == 1
    assert "exists; choose a new file" in again.output
    assert "password" not in again.stderr
    assert archive.read_bytes() == before
    _, files = open_cli_archive(archive, first.stderr, tmp_path / "out")
    guild = json.loads(files["guild-1.json"])
    assert [r["fields"]["reason"] for r in guild["records"]["tests.cases"]] == [SECRET]


@pytest.mark.parametrize(
    ("extra", "code", "expected"),
    [
        (["--archive", "guild.zip"], 2, "must end in .7z"),
        (["--archive", ".7z"], 2, "must end in .7z"),
        (["--archive", "g.7z", "--output", "g.json"], 2, "--output and --archive exclude"),
        (["--archive", "g.7z", "--plaintext"], 2, "--plaintext goes with --output"),
    ],
)
def test_archive_option_mistakes_are_refused_before_anything_is_written(
    env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    extra: list[str],
    code: int,
    expected: str,
) -> None:
    asyncio.run(_fill(env))
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = CliRunner().invoke(cli, ["storage", "export-guild", "1", *extra], env=env)
    assert result.exit_code == code
    assert expected in result.output
    assert "password" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_archive_without_py7zr_names_the_extra(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    asyncio.run(_fill(env))
    monkeypatch.setitem(sys.modules, "py7zr", None)  # import py7zr now fails
    archive = tmp_path / "u.7z"
    result = run(env, "export-user", "7", "--archive", str(archive))
    assert result.exit_code == 1
    assert "pip install securebot[archive]" in result.output
    assert not archive.exists()


@pytest.fixture
def production_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A store and keyring made in production (``SECUREBOT_ENV=production``)."""
    kek = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("SECUREBOT_KEK", kek)
    monkeypatch.setenv("SECUREBOT_ENV", "production")
    values = {
        "SECUREBOT_ENV": "production",
        "SECUREBOT_KEK": kek,
        "SECUREBOT_KEYRING": str(tmp_path / "keyring.json"),
        "SECUREBOT_STORAGE": str(tmp_path / "bot.sqlite3"),
    }
    result = CliRunner().invoke(cli, ["keys", "init", "--provider", "env"], env=values)
    assert result.exit_code == 0, result.output
    asyncio.run(_fill(values))
    return values


def test_production_refuses_a_plaintext_file_without_the_acknowledgement(
    production_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "user.json"
    refused = run(production_env, "export-user", "7", "--output", str(out))
    assert refused.exit_code == 1
    assert "production" in refused.output
    assert "--archive" in refused.output
    assert not out.exists()
    allowed = run(production_env, "export-user", "7", "--output", str(out), "--plaintext")
    assert allowed.exit_code == 0, allowed.output
    assert SECRET in out.read_text()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    shown = run(production_env, "export-user", "7")  # the operator's terminal stays allowed
    assert shown.exit_code == 0
    assert json.loads(shown.stdout) == json.loads(out.read_text())
    archive = tmp_path / "user.7z"
    archived = run(production_env, "export-user", "7", "--archive", str(archive))
    assert archived.exit_code == 0, archived.output
    assert archive.is_file()


def test_a_production_configuration_is_enough_to_refuse(
    env: dict[str, str], tmp_path: Path
) -> None:
    """Fail closed: the configuration says production even if the environment says nothing."""
    asyncio.run(_fill(env))
    config = tmp_path / "securebot.toml"
    config.write_text('[bot]\nenvironment = "production"\n')
    out = tmp_path / "guild.json"
    result = CliRunner().invoke(
        cli,
        ["storage", "--config", str(config), "export-guild", "1", "--output", str(out)],
        env=env,
    )
    assert result.exit_code == 1
    assert "refusing to write personal data unencrypted" in result.output
    assert not out.exists()


@pytest.mark.parametrize("stderr", ["full", "closed"])
def test_an_archive_whose_password_cannot_be_shown_is_not_left_behind(
    env: dict[str, str], tmp_path: Path, stderr: str
) -> None:
    """The password exists only on standard error: when it cannot be written there (a full
    device, a closed descriptor), the archive nobody could open is removed and the command
    fails."""
    import subprocess
    import sys

    asyncio.run(_fill(env))
    archive = tmp_path / "user.7z"
    command = [str(Path(sys.executable).with_name("securebot")), "storage", "export-user", "7"]
    with open(os.devnull if stderr == "closed" else "/dev/full", "w") as sink:
        done = subprocess.run(
            [*command, "--archive", str(archive)],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=sink,
            preexec_fn=(lambda: os.close(2)) if stderr == "closed" else None,
            check=False,
            timeout=120,
        )
    assert done.returncode != 0
    assert not archive.exists()
    assert list(tmp_path.glob("*.7z*")) == []


def test_a_write_failing_any_way_leaves_no_partial_file(tmp_path: Path) -> None:
    from securebot.cli.archive_output import write_new_file

    view = memoryview(b"x" * 1024)
    view.release()  # writing it raises ValueError, not OSError
    target = tmp_path / "out.json"
    with pytest.raises(ValueError, match="released"):
        write_new_file(target, view)  # type: ignore[arg-type]
    assert not target.exists()
