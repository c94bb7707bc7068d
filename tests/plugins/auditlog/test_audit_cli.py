"""``securebot audit verify`` / ``export`` against the SQLite audit store a real bot run wrote.

Tampering is done with ``sqlite3`` on the database file, as someone with disk access would:
changing a stored entry, deleting one, swapping two. ``verify`` must fail (exit 1) and name the
first bad entry; ``export`` writes JSON Lines in which no secret argument appears.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.pipeline.harness import stub_bot
from tests.pipeline.stub import ADMIN, BOB, GUILD

import securebot
from securebot.cli import audit_cmd, cli
from securebot.plugins.core_commands import CoreCommands
from securebot.storage.sqlite import SqliteAuditStore, SqliteBackend

ENTRIES = 8  # four commands (one with bad input) and their four replies


class Util(securebot.Plugin):
    manifest = securebot.PluginManifest(
        name="util", version="1.0", description="sample", user_data=securebot.UserData.none()
    )

    @securebot.command(secret_params=["pin"])
    async def join(self, ctx: securebot.Context, room: int, pin: str) -> None:
        await ctx.send(f"joined {room}")


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "securebot.sqlite3"

    async def produce() -> None:
        backend = SqliteBackend(path)
        await backend.open()

        def setup(bot: securebot.Bot) -> None:
            bot.audit_log.store = SqliteAuditStore(backend)

        async with stub_bot([Util(), CoreCommands()], setup=setup) as (_bot, d):
            await d.say("!join 7 hunter2-secret")
            await d.say("!ping", author=BOB)
            await d.say("!join eight hunter2-secret", author=ADMIN)
            await d.say("!ping")
        await backend.close()

    asyncio.run(produce())
    return path


def _sql(path: Path, *statements: tuple[str, tuple[object, ...]]) -> None:
    with sqlite3.connect(path) as db:
        for statement, params in statements:
            db.execute(statement, params)


def _record(path: Path, seq: int) -> dict:
    with sqlite3.connect(path) as db:
        (text,) = db.execute(
            "SELECT record FROM audit_entries WHERE chain=? AND seq=?", (str(GUILD), seq)
        ).fetchone()
    return json.loads(text)


def _verify(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["audit", "verify", "--store", f"sqlite:{path}"])
    return result.exit_code, result.output


def test_an_untouched_store_verifies(database: Path) -> None:
    code, output = _verify(database)
    assert code == 0, output
    assert f"chain {GUILD}: ok ({ENTRIES} entries)" in output
    assert "all 1 chain(s) verified" in output


@pytest.mark.parametrize("seq", [1, 4, ENTRIES])
def test_a_changed_entry_fails_and_is_named(database: Path, seq: int) -> None:
    record = _record(database, seq)
    record["actor_id"] = 1
    _sql(
        database,
        (
            "UPDATE audit_entries SET record=? WHERE chain=? AND seq=?",
            (json.dumps(record), str(GUILD), seq),
        ),
    )
    code, output = _verify(database)
    assert code == 1
    assert f"BROKEN at entry {seq}: entry content changed" in output


@pytest.mark.parametrize("seq", [1, 4, ENTRIES])
def test_a_removed_entry_fails_and_is_named(database: Path, seq: int) -> None:
    _sql(database, ("DELETE FROM audit_entries WHERE chain=? AND seq=?", (str(GUILD), seq)))
    code, output = _verify(database)
    assert code == 1
    assert f"BROKEN at entry {seq}" in output


@pytest.mark.parametrize("seq", [1, 3, ENTRIES - 1])
def test_reordered_entries_fail_and_the_first_is_named(database: Path, seq: int) -> None:
    swap = "UPDATE audit_entries SET seq=? WHERE chain=? AND seq=?"
    chain = str(GUILD)
    _sql(
        database,
        (swap, (-1, chain, seq)),
        (swap, (seq, chain, seq + 1)),
        (swap, (seq + 1, chain, -1)),
    )
    code, output = _verify(database)
    assert code == 1
    assert f"BROKEN at entry {seq}" in output


def test_a_rehashed_forgery_is_still_caught(database: Path) -> None:
    """Editing an entry and recomputing its own hash breaks the next entry's link."""
    from securebot.core.audit import AuditEvent
    from securebot.core.audit.chain import entry_hash

    record = _record(database, 3)
    record["outcome"] = "ok-forged"
    plain = dict(record)
    for field in ("arguments", "detail"):
        plain[field] = json.loads(plain[field])
    with sqlite3.connect(database) as db:
        (prev,) = db.execute(
            "SELECT prev_hash FROM audit_entries WHERE chain=? AND seq=3", (str(GUILD),)
        ).fetchone()
    forged = entry_hash(str(GUILD), 3, prev, AuditEvent.from_dict(plain))
    _sql(
        database,
        (
            "UPDATE audit_entries SET record=?, hash=? WHERE chain=? AND seq=3",
            (json.dumps(record), forged, str(GUILD)),
        ),
    )
    code, output = _verify(database)
    assert code == 1
    assert "BROKEN at entry 4: link to the previous entry broken" in output


def test_export_writes_json_lines_without_secrets(database: Path, tmp_path: Path) -> None:
    out = tmp_path / "export.jsonl"
    result = CliRunner().invoke(
        cli,
        [
            "audit",
            "export",
            "--guild",
            str(GUILD),
            "--store",
            f"sqlite:{database}",
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"exported {ENTRIES} entries of guild {GUILD}" in result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["seq"] for r in records] == list(range(1, ENTRIES + 1))
    joined = [r["event"] for r in records if r["event"]["action"] == "join"]
    assert joined[0]["arguments"] == {"pin": "<redacted>", "room": "7"}
    assert joined[0]["kind"] == "command"
    assert "hunter2" not in out.read_text()
    assert out.stat().st_mode & 0o077 == 0  # the export is private to its owner
    store = f"sqlite:{database}"
    again = CliRunner().invoke(
        cli, ["audit", "export", "--guild", str(GUILD), "--store", store, "--output", str(out)]
    )
    assert again.exit_code == 1
    assert "exists; choose a new file" in again.output  # never overwrites
    assert b"hunter2" not in database.read_bytes()
    wal = database.with_name(database.name + "-wal")
    assert not wal.exists() or b"hunter2" not in wal.read_bytes()


def test_export_to_stdout(database: Path) -> None:
    result = CliRunner().invoke(
        cli, ["audit", "export", "--guild", str(GUILD), "--store", f"sqlite:{database}"]
    )
    assert result.exit_code == 0
    assert sum(1 for line in result.output.splitlines() if line.startswith("{")) == ENTRIES


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["audit", "verify"], "no audit store given"),
        (["audit", "verify", "--store", "mongo:x"], "is not understood"),
        (["audit", "verify", "--store", "nothing"], "is not understood"),
        (["audit", "verify", "--store", "sqlite:/nonexistent/x.db"], "does not exist"),
        (["audit", "export"], "Missing option '--guild'"),
    ],
)
def test_operator_mistakes_are_one_clear_line(
    args: list[str], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(audit_cmd.STORE_ENV, raising=False)
    result = CliRunner().invoke(cli, args)
    assert result.exit_code != 0
    assert expected in result.output
    assert "Traceback" not in result.output


def test_the_store_can_come_from_the_environment(
    database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(audit_cmd.STORE_ENV, f"sqlite:{database}")
    result = CliRunner().invoke(cli, ["audit", "verify", "--guild", str(GUILD)])
    assert result.exit_code == 0
    assert f"ok ({ENTRIES} entries)" in result.output


def test_a_sealed_log_is_verified_and_exported_with_the_configured_keyring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bot seals arguments under the keyring's ``audit`` key; ``--config`` finds the SQLite
    file and the keyring. Without the keyring the sealed fields do not open: verify fails."""
    from securebot.core.audit import CipherSealer
    from securebot.core.config import load_config
    from securebot.crypto import FieldCipher
    from securebot.runtime.keys import open_configured_keyring

    monkeypatch.delenv(audit_cmd.STORE_ENV, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # the development key file lives outside the repo
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    database = tmp_path / "securebot.sqlite3"
    config_file = tmp_path / "securebot.toml"
    config_file.write_text(
        '[bot]\nenvironment = "development"\n'
        f'[storage]\npath = "{database}"\n[keys]\nkeyring = "{tmp_path / "keyring.json"}"\n'
    )

    async def produce() -> None:
        config = load_config(config_file)
        keys = await open_configured_keyring(config)
        backend = SqliteBackend(database)
        await backend.open()

        def setup(bot: securebot.Bot) -> None:
            bot.audit_log.store = SqliteAuditStore(backend)
            bot.audit_log.sealer = CipherSealer(FieldCipher(keys.keyring, "audit"))

        async with stub_bot([Util(), CoreCommands()], setup=setup) as (_bot, d):
            await d.say("!join 4242 hunter2-secret")
        await backend.close()

    asyncio.run(produce())
    assert b"4242" not in database.read_bytes()  # arguments are sealed at rest
    result = CliRunner().invoke(cli, ["audit", "verify", "--config", str(config_file)])
    assert result.exit_code == 0, result.output
    assert f"chain {GUILD}: ok (2 entries)" in result.output
    out = tmp_path / "trail.jsonl"
    result = CliRunner().invoke(
        cli,
        [
            "audit",
            "export",
            "--config",
            str(config_file),
            "--guild",
            str(GUILD),
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert '"room": "4242"' in out.read_text()
    assert "hunter2" not in out.read_text()
    unkeyed = CliRunner().invoke(cli, ["audit", "verify", "--store", f"sqlite:{database}"])
    assert unkeyed.exit_code == 2  # not verified, which is not the same as broken
    assert "NOT VERIFIED from entry 1: sealed entries need the keyring" in unkeyed.output
    assert "BROKEN" not in unkeyed.output
    assert "--config" in unkeyed.stderr
    from tests.archive_checks import open_cli_archive

    archive = tmp_path / "trail.7z"
    config_args = ["--config", str(config_file), "--guild", str(GUILD)]
    archived = CliRunner().invoke(cli, ["audit", "export", *config_args, "--archive", str(archive)])
    assert archived.exit_code == 0, archived.output
    assert b"4242" not in archive.read_bytes()
    _, files = open_cli_archive(archive, archived.stderr, tmp_path / "opened")
    assert files[f"audit-guild-{GUILD}.jsonl"] == out.read_text()  # the sealed fields, opened
    # without the keyring the export fails as a whole: no partial file, no archive
    for option, target in (("--output", tmp_path / "partial.jsonl"), ("--archive", archive)):
        target.unlink(missing_ok=True)
        failed = _export(database, option, str(target))
        assert failed.exit_code == 1
        assert "cannot be read" in failed.output
        assert not target.exists()


def test_a_mongo_configuration_is_read_from_mongo_and_failures_are_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(audit_cmd.STORE_ENV, raising=False)
    monkeypatch.setenv(
        "AUDIT_MONGO_URI", "mongodb://auditor:s3cret-pw@127.0.0.1:9/?connectTimeoutMS=200"
    )
    config = tmp_path / "securebot.toml"
    config.write_text(
        '[storage]\nbackend = "mongo"\nmongo_uri = "env:AUDIT_MONGO_URI"\nmongo_timeout_ms = 300\n'
    )
    result = CliRunner().invoke(cli, ["audit", "verify", "--config", str(config)])
    assert result.exit_code == 1
    assert "MongoDB" in result.output
    assert "s3cret-pw" not in result.output
    assert "Traceback" not in result.output


def _export(database: Path, *extra: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(
        cli,
        ["audit", "export", "--guild", str(GUILD), "--store", f"sqlite:{database}", *extra],
        env=env,
    )


def test_export_into_an_encrypted_archive(
    database: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``--archive``: 7-Zip opens it with the printed password only; inside, the same JSON Lines
    as ``--output`` writes; the password only ever on standard error."""
    from tests.archive_checks import open_cli_archive

    plain = tmp_path / "trail.jsonl"
    assert _export(database, "--output", str(plain)).exit_code == 0
    archive = tmp_path / "trail.7z"
    caplog.set_level("DEBUG")
    result = _export(database, "--archive", str(archive))
    assert result.exit_code == 0, result.output
    password, files = open_cli_archive(archive, result.stderr, tmp_path / "out")
    assert sorted(files) == ["README.txt", f"audit-guild-{GUILD}.jsonl"]
    assert files[f"audit-guild-{GUILD}.jsonl"] == plain.read_text(encoding="utf-8")
    assert len(files[f"audit-guild-{GUILD}.jsonl"].splitlines()) == ENTRIES
    assert "hunter2" not in files[f"audit-guild-{GUILD}.jsonl"]
    assert f"audit trail of guild {GUILD}" in files["README.txt"]
    assert f"SQLite {database}" in files["README.txt"]
    assert f"exported {ENTRIES} entries of guild {GUILD}" in result.stderr
    assert f"7z x {archive}" in result.stderr
    assert result.stdout == ""
    assert password not in caplog.text
    again = _export(database, "--archive", str(archive))
    assert again.exit_code == 1
    assert "exists; choose a new file" in again.output


@pytest.mark.parametrize(
    ("extra", "code", "expected"),
    [
        (["--archive", "trail.jsonl"], 2, "must end in .7z"),
        (["--archive", "t.7z", "--output", "t.jsonl"], 2, "--output and --archive exclude"),
    ],
)
def test_export_destination_mistakes_are_refused(
    database: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    extra: list[str],
    code: int,
    expected: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = _export(database, *extra)
    assert result.exit_code == code
    assert expected in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_production_needs_plaintext_to_write_a_readable_file(
    database: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(audit_cmd.STORE_ENV, raising=False)
    out = tmp_path / "trail.jsonl"
    production = {"SECUREBOT_ENV": "production"}
    refused = _export(database, "--output", str(out), env=production)
    assert refused.exit_code == 1
    assert "--archive" in refused.output
    assert not out.exists()
    config = tmp_path / "securebot.toml"  # the configuration alone is enough (fail closed)
    config.write_text('[bot]\nenvironment = "production"\n')
    by_config = _export(database, "--config", str(config), "--output", str(out))
    assert by_config.exit_code == 1
    assert "refusing to write personal data unencrypted" in by_config.output
    assert not out.exists()
    allowed = _export(database, "--output", str(out), "--plaintext", env=production)
    assert allowed.exit_code == 0, allowed.output
    assert len(out.read_text().splitlines()) == ENTRIES
    shown = _export(database, env=production)  # standard output stays allowed
    assert shown.exit_code == 0
    assert shown.stdout == out.read_text()
