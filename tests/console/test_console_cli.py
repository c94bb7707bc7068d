"""`securebot console`, `securebot emulator serve` and `giselle run` as real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("SECUREBOT") and key != "PYTEST_CURRENT_TEST"
    }
    env["HOME"] = str(tmp_path)
    env.update(extra)
    return env


def _run(
    args: list[str], stdin: str, tmp_path: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(tmp_path, **env),
        timeout=120,
    )


def test_console_script_from_stdin_prints_the_reply_and_exits_0(tmp_path: Path) -> None:
    result = _run(["securebot", "console", "--script", "-"], "!ping\n", tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "demo in #general (Giselle Demo)> !ping"
    assert lines[1].startswith("[#general] Giselle [bot]: pong")
    assert "Traceback" not in result.stderr


def test_console_script_directives_and_no_reply(tmp_path: Path) -> None:
    script = "# a comment\n:user grace\n:channel bot-commands\nhello there\n!ping\n"
    result = _run(["securebot", "console", "--script", "-", "--wait", "0.5"], script, tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "now as grace in #general (Giselle Demo)" in out
    assert "grace in #bot-commands (Giselle Demo)> hello there\n  (no reply)" in out
    assert "[#bot-commands] Giselle [bot]: pong" in out


def test_console_bad_scenario_is_one_clear_line(tmp_path: Path) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text(
        '[[user]]\nname = "ada"\n[[bot]]\nname = "B1"\n[[guild]]\nname = "Lab"\nowner = "bob"\n'
    )
    result = _run(
        ["securebot", "console", "--scenario", str(scenario), "--script", "-"], "", tmp_path
    )
    assert result.returncode == 1
    expected = f"Error: {scenario}: guild[0].owner: unknown user 'bob' (declare it in a "
    assert result.stderr.strip() == expected + "[[user]] or [[bot]])"


def test_console_unknown_channel_is_one_clear_line(tmp_path: Path) -> None:
    result = _run(
        ["securebot", "console", "--channel", "nope", "--script", "-"], "!ping\n", tmp_path
    )
    assert result.returncode == 1
    assert result.stderr.strip().startswith("Error: no text channel named 'nope' (known: general,")


def test_emulator_refuses_a_public_address_without_the_flag(tmp_path: Path) -> None:
    result = _run(
        ["securebot", "emulator", "serve", "--host", "0.0.0.0", "--port", "0"], "", tmp_path
    )
    assert result.returncode == 1
    assert "--allow-remote" in result.stderr


@pytest.fixture
def standalone(tmp_path: Path) -> Iterator[str]:
    """`securebot emulator serve --port 0` in its own process; yields its URL."""
    process = subprocess.Popen(
        [str(BIN / "securebot"), "emulator", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=_env(tmp_path),
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("securebot emulator listening on http://127.0.0.1:"), first
        yield first.rsplit(" ", 1)[1].strip()
    finally:
        process.terminate()
        _, err = process.communicate(timeout=20)
        assert process.returncode == 0, err
        assert "Traceback" not in err


def test_giselle_run_against_standalone_emulator_answers_the_console(
    standalone: str, tmp_path: Path
) -> None:
    bot = subprocess.Popen(
        [str(BIN / "giselle"), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
        env=_env(
            tmp_path,
            SECUREBOT__BOT__API_BASE_URL=standalone,
            SECUREBOT__BOT__TOKEN="env:GISELLE_TOKEN",
            GISELLE_TOKEN="giselle-demo-token",
        ),
    )
    try:
        # The console waits up to --wait seconds for the reply: Giselle starts meanwhile.
        result = _run(
            ["securebot", "console", "--url", standalone, "--script", "-", "--wait", "30"],
            "!ping\n",
            tmp_path,
        )
        assert result.returncode == 0, result.stderr
        assert "[#general] Giselle [bot]: pong" in result.stdout
    finally:
        bot.terminate()
        log, _ = bot.communicate(timeout=20)
    assert "giselle-demo-token" not in log


def test_console_url_without_emulator_is_one_clear_line(tmp_path: Path) -> None:
    result = _run(
        ["securebot", "console", "--url", "http://127.0.0.1:9", "--script", "-"],
        "!ping\n",
        tmp_path,
    )
    assert result.returncode == 1
    assert "cannot reach the emulator's console API at http://127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.stderr
