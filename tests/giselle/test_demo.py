"""`giselle demo` (what `./dev giselle` runs): Giselle answers in the console, no setup needed."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent


def _fresh_user_env(home: Path) -> dict[str, str]:
    """This process's environment without securebot settings, with ``home`` as HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECUREBOT")}
    env["HOME"] = str(home)
    return env


def test_demo_script_answers_ping_and_help(tmp_path: Path) -> None:
    env = _fresh_user_env(tmp_path)
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
    env = _fresh_user_env(tmp_path)
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


def _read_until(
    stream: Any, patterns: dict[str, re.Pattern[str]], timeout: float
) -> dict[str, str]:
    """Read ``stream`` lines until every pattern matched once; their first groups by name."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in stream], daemon=True).start()
    found: dict[str, str] = {}
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while len(found) < len(patterns):
        try:
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            raise AssertionError(
                f"the demo never showed {sorted(set(patterns) - set(found))}:\n" + "".join(seen)
            ) from None
        seen.append(line)
        for name, pattern in patterns.items():
            if name not in found and (match := pattern.search(line)):
                found[name] = match.group(1)
    return found


def test_demo_savechat_delivers_a_working_download_link(tmp_path: Path) -> None:
    """The README's first command, as a moderator would use it: `savechat`, then the link."""
    env = _fresh_user_env(tmp_path)
    data = tmp_path / "data"
    demo = subprocess.Popen(
        [str(BIN / "giselle"), "demo", "--script", "-", "--data-dir", str(data)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert demo.stdin is not None
    assert demo.stdout is not None
    try:
        demo.stdin.write(":user ada\nthe plan is 42 🎉\n!savechat 5\n")
        demo.stdin.flush()
        found = _read_until(
            demo.stdout,
            {
                "link": re.compile(r"ready: (http://127\.0\.0\.1:\d+/exports/\S+)"),
                "password": re.compile(r"Password: `([A-Za-z0-9_-]{24})`"),
                "count": re.compile(r"\((\d+ messages?)\) is ready"),
            },
            timeout=120,
        )
        assert found["count"] == "1 message"  # the command itself is not exported
        with urllib.request.urlopen(found["link"], timeout=30) as response:
            archive = tmp_path / "export.7z"
            archive.write_bytes(response.read())
        out = tmp_path / "out"
        extracted = subprocess.run(
            ["7z", "x", f"-p{found['password']}", f"-o{out}", str(archive)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert extracted.returncode == 0, extracted.stdout
        assert "the plan is 42 🎉" in (out / "messages.jsonl").read_text("utf-8")
        assert list((data / "exports").rglob("*.7z"))  # kept in the demo's data directory
        demo.stdin.write(":quit\n")
        demo.stdin.close()
        assert demo.wait(timeout=60) == 0
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
