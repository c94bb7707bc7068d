"""The bot assembly in docs/concepts.md runs as written: its ``bot.py``, started as a process
with its ``securebot.toml``, connects to an emulator and answers the README's ``!hello``."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

from securebot.testing.emulator import Emulator, WaitTimeoutError

ROOT = Path(__file__).parents[2]
DOC = ROOT / "docs" / "concepts.md"


def doc_files() -> dict[str, str]:
    """The fenced blocks marked ``file=NAME`` in the page."""
    return dict(re.findall(r"```\w+ file=(\S+)\n(.*?)```", DOC.read_text(), re.DOTALL))


def test_the_page_has_a_bot_and_its_config() -> None:
    assert set(doc_files()) == {"bot.py", "securebot.toml"}


def test_the_readme_plugin_is_the_one_the_page_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    example = re.search(r"```python\n(.*?)```", readme, re.DOTALL)
    assert example is not None
    plugin_class = example.group(1)[example.group(1).index("class Greeter") :].strip()
    assert plugin_class in doc_files()["bot.py"]


async def run_documented_bot(tmp_path: Path, files: dict[str, str]) -> tuple[str, str]:
    """Start ``bot.py`` against a fresh emulator; the admin's ``!hello`` reply and the log."""
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    async with Emulator() as emu:
        account = emu.create_bot(token="test-token")
        g = emu.standard_guild(account)
        env = {
            **os.environ,
            "DISCORD_TOKEN": account.token,
            "SECUREBOT__BOT__API_BASE_URL": emu.base_url,
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "bot.py",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            await emu.gateway.wait_identified(account, timeout=30)
            ready = False
            for _ in range(20):  # the bot may still be loading its guilds: ping until it answers
                if process.returncode is not None:
                    break
                try:
                    await emu.ask(g.admin, g.general, "!ping", timeout=1)
                except WaitTimeoutError:
                    continue
                ready = True
                break
            answer = ""
            if ready:
                try:
                    answer = (await emu.ask(g.admin, g.general, "!hello", timeout=2)).content
                except WaitTimeoutError:
                    answer = "<no answer>"
        finally:
            process.terminate()
            output, _ = await process.communicate()
    return answer, output.decode(errors="replace")


async def test_the_documented_bot_answers_hello(tmp_path: Path) -> None:
    answer, log = await run_documented_bot(tmp_path, doc_files())
    assert answer == "Hello admin!", log[-2000:]


async def test_without_registering_the_plugin_nobody_says_hello(tmp_path: Path) -> None:
    files = doc_files()
    line = "manager.register(Greeter())"
    assert line in files["bot.py"]
    files["bot.py"] = files["bot.py"].replace(line, "pass  #")
    answer, log = await run_documented_bot(tmp_path, files)
    assert answer == "<no answer>", log[-2000:]
