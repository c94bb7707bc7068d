"""The pytest plugin (loaded in every pytest run once securebot is installed) works without
``jsonschema``: unrelated test suites still run, and emulator tests say their bodies went
unchecked instead of crashing pytest before any test ran."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RUNNER = (
    "import sys; sys.modules['jsonschema'] = None; import pytest; "
    "sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', '-W', 'default', sys.argv[1]]))"
)


def run_without_jsonschema(test_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUNNER, str(test_dir)],
        cwd=test_dir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_an_unrelated_suite_runs(tmp_path: Path) -> None:
    (tmp_path / "test_plain.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
    result = run_without_jsonschema(tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout
    assert "emulator conformance" not in result.stdout


def test_an_emulator_test_runs_and_warns_that_bodies_are_unchecked(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nasyncio_mode = "auto"\n'
        'asyncio_default_fixture_loop_scope = "function"\n'
    )
    (tmp_path / "test_emu.py").write_text(
        "async def test_guild(emulator, discord_guild):\n"
        "    assert discord_guild.general.name == 'general'\n"
    )
    result = run_without_jsonschema(tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout
    assert "not checked against Discord's openapi.json" in result.stdout
    assert "securebot[testing]" in result.stdout
