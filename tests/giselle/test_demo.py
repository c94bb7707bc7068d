"""`giselle demo` (what `./dev giselle` runs): Giselle answers in the console, no setup needed."""

from __future__ import annotations

import os
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
