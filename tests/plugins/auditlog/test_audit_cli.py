"""``securebot audit verify`` / ``export`` against a durable store written by a real bot run.

The store is :class:`FileAuditStore` (JSON Lines on disk) registered as ``file:`` — the storage
layer's SQLite audit store was not available when this was written; the CLI opens stores through
the same factory either way. Tampering is done on the stored lines, as an attacker with disk
access would.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.pipeline.harness import stub_bot
from tests.pipeline.stub import ADMIN, BOB, GUILD
from tests.plugins.auditlog.filestore import FileAuditStore

import securebot
from securebot.cli import audit_cmd, cli
from securebot.plugins.core_commands import CoreCommands


class Util(securebot.Plugin):
    manifest = securebot.PluginManifest(
        name="util", version="1.0", description="sample", user_data=securebot.UserData.none()
    )

    @securebot.command(secret_params=["pin"])
    async def join(self, ctx: securebot.Context, room: int, pin: str) -> None:
        await ctx.send(f"joined {room}")


@pytest.fixture
def store_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setitem(audit_cmd.STORE_OPENERS, "file", lambda loc: FileAuditStore(Path(loc)))
    directory = tmp_path / "audit"

    async def produce() -> None:
        def setup(bot: securebot.Bot) -> None:
            bot.audit_log.store = FileAuditStore(directory)

        async with stub_bot([Util(), CoreCommands()], setup=setup) as (_bot, d):
            await d.say("!join 7 hunter2-secret")
            await d.say("!ping", author=BOB)
            await d.say("!join eight hunter2-secret", author=ADMIN)
            await d.say("!ping")

    asyncio.run(produce())
    return directory


def _lines(directory: Path) -> list[str]:
    return (directory / "entries.jsonl").read_text().splitlines()


def _write(directory: Path, lines: list[str]) -> None:
    (directory / "entries.jsonl").write_text("".join(line + "\n" for line in lines))


def _verify(directory: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["audit", "verify", "--store", f"file:{directory}"])
    return result.exit_code, result.output


def test_an_untouched_store_verifies(store_dir: Path) -> None:
    code, output = _verify(store_dir)
    assert code == 0, output
    assert f"chain {GUILD}: ok (8 entries)" in output
    assert "all 1 chain(s) verified" in output


@pytest.mark.parametrize("index", [0, 3, 6])
def test_a_changed_entry_fails_and_is_named(store_dir: Path, index: int) -> None:
    lines = _lines(store_dir)
    data = json.loads(lines[index])
    data["record"]["actor_id"] = 1
    lines[index] = json.dumps(data)
    _write(store_dir, lines)
    code, output = _verify(store_dir)
    assert code == 1
    assert f"BROKEN at entry {index + 1}: entry content changed" in output


@pytest.mark.parametrize("index", [0, 3, 6])
def test_a_removed_entry_fails_and_is_named(store_dir: Path, index: int) -> None:
    lines = _lines(store_dir)
    del lines[index]
    _write(store_dir, lines)
    code, output = _verify(store_dir)
    assert code == 1
    assert f"BROKEN at entry {index + 1}" in output


@pytest.mark.parametrize("index", [0, 2, 5])
def test_reordered_entries_fail_and_the_first_is_named(store_dir: Path, index: int) -> None:
    lines = _lines(store_dir)
    lines[index], lines[index + 1] = lines[index + 1], lines[index]
    _write(store_dir, lines)
    code, output = _verify(store_dir)
    assert code == 1
    assert f"BROKEN at entry {index + 1}" in output


def test_a_rehashed_forgery_is_still_caught(store_dir: Path) -> None:
    """Editing an entry and fixing its own hash breaks the next entry's link."""
    from securebot.core.audit import AuditEvent
    from securebot.core.audit.chain import entry_hash

    lines = _lines(store_dir)
    data = json.loads(lines[2])
    data["record"]["outcome"] = "ok-forged"
    record = dict(data["record"])
    for field in ("arguments", "detail"):
        record[field] = json.loads(record[field])
    data["hash"] = entry_hash(
        data["chain"], data["seq"], data["prev_hash"], AuditEvent.from_dict(record)
    )
    lines[2] = json.dumps(data)
    _write(store_dir, lines)
    code, output = _verify(store_dir)
    assert code == 1
    assert "BROKEN at entry 4: link to the previous entry broken" in output


def test_export_writes_json_lines_without_secrets(store_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "export.jsonl"
    result = CliRunner().invoke(
        cli,
        [
            "audit",
            "export",
            "--guild",
            str(GUILD),
            "--store",
            f"file:{store_dir}",
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"exported 8 entries of guild {GUILD}" in result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["seq"] for r in records] == list(range(1, 9))
    joined = [r["event"] for r in records if r["event"]["action"] == "join"]
    assert joined[0]["arguments"] == {"pin": "<redacted>", "room": "7"}
    assert joined[0]["kind"] == "command"
    assert "hunter2" not in out.read_text()
    assert "hunter2" not in (store_dir / "entries.jsonl").read_text()


def test_export_to_stdout(store_dir: Path) -> None:
    result = CliRunner().invoke(
        cli, ["audit", "export", "--guild", str(GUILD), "--store", f"file:{store_dir}"]
    )
    assert result.exit_code == 0
    assert sum(1 for line in result.output.splitlines() if line.startswith("{")) == 8


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["audit", "verify"], "no audit store given"),
        (["audit", "verify", "--store", "mongo:x"], "is not understood"),
        (["audit", "verify", "--store", "nothing"], "is not understood"),
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
    store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(audit_cmd.STORE_ENV, f"file:{store_dir}")
    result = CliRunner().invoke(cli, ["audit", "verify", "--guild", str(GUILD)])
    assert result.exit_code == 0
    assert "ok (8 entries)" in result.output
