"""SQLite faults: kill -9 in the middle of writes loses no committed record."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from securebot.storage.sqlite import SqliteBackend

CHILD = Path(__file__).with_name("_kill_child.py")
CONTEND = Path(__file__).with_name("_contend_child.py")
ROOT = Path(__file__).resolve().parents[2]


def _run_and_kill(path: Path, reports: int) -> list[str]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert child.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while len(lines) < reports and time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        lines.append(line)
    os.kill(child.pid, signal.SIGKILL)  # mid-write: the child never stops writing by itself
    rest, err = child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL, err
    lines += rest.splitlines(keepends=True)
    # a partly written last line was not a complete report
    return [line for line in lines if line.endswith("\n")]


async def test_kill_9_during_writes_loses_no_committed_record(tmp_path: Path) -> None:
    path = tmp_path / "kill.sqlite3"
    reported = _run_and_kill(path, reports=1500)
    assert len(reported) >= 1500
    backend = SqliteBackend(path)
    await backend.open()
    try:
        assert backend.integrity() == []
        last_counter = 0
        for line in reported:
            kind, key, *value = line.split()
            if kind == "doc":
                doc = await backend.get("kill.docs", "1", key, now=0.0)
                assert doc is not None, f"committed record {key} lost"
                assert doc.body["n"] == int(key)
                assert doc.owners == (7,)
                last_counter = int(value[0])
            else:
                for i in range(5):
                    assert await backend.get("kill.bulk", "1", f"{key}-{i}", now=0.0) is not None
        # the counter is at least the last reported value (a later increment may have committed)
        assert await backend.counter("kill.counter", "1", "n") >= last_counter > 0
        # the store keeps working after recovery
        assert await backend.incr("kill.counter", "1", "n") > last_counter
    finally:
        await backend.close()


async def _create(path: Path) -> None:
    """Create the file once, as a bot's first start does."""
    backend = SqliteBackend(path)
    await backend.open()
    await backend.close()


def _contend(path: Path, mode: str, times: int, processes: int = 3) -> list[str]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    children = [
        subprocess.Popen(
            [
                sys.executable,
                str(CHILD.with_name("_contend_child.py")),
                str(path),
                mode,
                str(times),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        for _ in range(processes)
    ]
    out = []
    for child in children:
        stdout, stderr = child.communicate(timeout=120)
        assert child.returncode == 0, stderr
        out += stdout.split()
    return out


async def test_case_numbers_are_unique_across_processes(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    await _create(path)
    numbers = [int(n) for n in _contend(path, "incr", 300)]
    assert sorted(numbers) == list(range(1, 901))


async def test_compare_and_set_loses_no_update_across_processes(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    await _create(path)
    _contend(path, "cas", 200)
    backend = SqliteBackend(path)
    await backend.open()
    doc = await backend.get("contend.tally", "global", "t", now=0.0)
    await backend.close()
    assert doc is not None
    assert doc.body["count"] == 600
    assert doc.revision == 600
