"""`giselle demo` (what `./dev giselle` runs): Giselle answers in the console, no setup needed."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def test_demo_script_answers_ping_and_help(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECUREBOT")}
    env["HOME"] = str(tmp_path)
    result = subprocess.run(
        [str(BIN / "giselle"), "demo", "--script", "-"],
        input="!ping\n!help\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "demo in #general (Giselle Demo)> !ping\n[#general] Giselle [bot]: pong" in out
    assert "demo in #general (Giselle Demo)> !help\n[#general] Giselle [bot]: **" in out
    assert "!ping - Check that the bot is alive" in out
    assert "Traceback" not in result.stderr


def test_demo_keeps_jobs_and_audit_in_sqlite(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECUREBOT")}
    env["HOME"] = str(tmp_path)
    data = tmp_path / "data"
    result = subprocess.run(
        [str(BIN / "giselle"), "demo", "--script", "-", "--data-dir", str(data)],
        input="!remind me 2h stretch\n!remindlist\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "[#general] Giselle [bot]: I will remind you by DM in 2 hours." in result.stdout
    assert "1. in 2 hours by DM: stretch" in result.stdout
    database = data / "giselle-demo.sqlite3"
    assert database.stat().st_mode & 0o077 == 0  # private file
    with contextlib.closing(sqlite3.connect(database)) as db:
        kinds = [kind for (kind,) in db.execute("SELECT kind FROM jobs ORDER BY kind")]
        (entries,) = db.execute("SELECT count(*) FROM audit_entries").fetchone()
    assert kinds == ["alarm.remind", "storage.purge"], kinds  # the reminder + store upkeep
    assert entries >= 2  # both commands were audited, durably
    # What the user typed is sealed at rest: not in the database, its WAL, or the keyring file.
    for path in data.iterdir():
        assert b"stretch" not in path.read_bytes(), path.name
    assert (data / "giselle-demo.keyring").stat().st_mode & 0o077 == 0
