"""The complete plugin in docs/writing-a-plugin.md works exactly as written.

Every block marked ``file=NAME`` is written into a temporary project; the project's own tests
(section 5) run in a fresh pytest against the real emulator, and the CLI output the guide shows
(``securebot config check``, ``securebot plugins list``) is what the CLI prints for it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import securebot
from securebot.errors import ConfigError

DOC = Path(__file__).parents[2] / "docs" / "writing-a-plugin.md"


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def doc_files() -> dict[str, str]:
    """The fenced blocks marked ``file=NAME`` in the guide."""
    blocks = re.findall(r"```\w+ file=(\S+)\n(.*?)```", doc_text(), re.DOTALL)
    return dict(blocks)


def console_block(command: str) -> list[str]:
    """The lines the guide shows after ``$ command`` in a console block."""
    for block in re.findall(r"```console\n(.*?)```", doc_text(), re.DOTALL):
        lines = block.splitlines()
        if lines and lines[0] == f"$ {command}":
            return lines[1:]
    raise AssertionError(f"the guide shows no `$ {command}` block")


def write_project(root: Path, files: dict[str, str]) -> None:
    """The guide's project, plus the .dist-info that installing it would create."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    project = tomllib.loads(files["pyproject.toml"])["project"]
    info = root / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n"
    )
    points = "\n".join(f"{k} = {v}" for k, v in project["entry-points"]["securebot"].items())
    (info / "entry_points.txt").write_text(f"[securebot]\n{points}\n")


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` in ``root``, with the guide's project importable as if installed."""
    env = {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "120"}
    env.pop("SECUREBOT_CONFIG", None)
    return subprocess.run(
        [sys.executable, *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def securebot_cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The ``securebot`` command, run in ``root``."""
    return run(root, "-c", "import sys; from securebot.cli import main; sys.exit(main())", *args)


def test_the_guide_has_the_plugin_its_packaging_its_config_and_its_tests() -> None:
    assert set(doc_files()) == {
        "greeter.py",
        "pyproject.toml",
        "securebot.toml",
        "tests/test_greeter.py",
    }


def test_the_wheel_ships_the_module_the_entry_point_names() -> None:
    pyproject = tomllib.loads(doc_files()["pyproject.toml"])
    shipped = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["only-include"]
    for target in pyproject["project"]["entry-points"]["securebot"].values():
        module = target.split(":", 1)[0]
        assert f"{module}.py" in shipped
        assert f"{module}.py" in doc_files()


@pytest.fixture
def greeter_installed(install_distribution) -> Path:
    files = doc_files()
    project = tomllib.loads(files["pyproject.toml"])["project"]
    entry_points = project["entry-points"]["securebot"]
    install_distribution(project["name"], "greeter", files["greeter.py"], entry_points)
    return Path(files["securebot.toml"])


def test_the_documented_plugin_loads_with_the_documented_config(
    greeter_installed, tmp_path: Path
) -> None:
    config_file = tmp_path / "securebot.toml"
    config_file.write_text(doc_files()["securebot.toml"])
    config = securebot.load_config(config_file, environ={})
    manager = securebot.load_plugins(config)
    greeter = next(p for p in manager.plugins if p.plugin_name == "greeter")
    assert manager.source_of("greeter") == "securebot-greeter"
    assert greeter.greeting == "Glad to have you here, {name}!"
    assert greeter.channel_name == "welcome"
    assert sorted(c.name for c in greeter.iter_commands()) == ["hello", "setgreeting"]
    assert manager.required_intents().members


def test_the_documented_config_check_refuses_a_bad_greeting(
    greeter_installed, tmp_path: Path
) -> None:
    config_file = tmp_path / "securebot.toml"
    config_file.write_text(doc_files()["securebot.toml"].replace("{name}", "you"))
    config = securebot.load_config(config_file, environ={})
    with pytest.raises(ConfigError, match="must be a string containing"):
        securebot.load_plugins(config)


def test_the_cli_prints_what_the_guide_shows(tmp_path: Path) -> None:
    write_project(tmp_path, doc_files())
    check = securebot_cli(tmp_path, "config", "check")
    assert check.returncode == 0, check.stderr
    assert check.stdout.splitlines() == console_block("securebot config check")

    listed = securebot_cli(tmp_path, "plugins", "list")
    assert listed.returncode == 0, listed.stderr
    shown = [line for line in console_block("securebot plugins list") if line != "..."]
    assert shown
    for line in shown:
        assert line in listed.stdout.splitlines()

    (tmp_path / "securebot.toml").write_text(doc_files()["securebot.toml"].replace("{name}", "you"))
    refused = securebot_cli(tmp_path, "config", "check")
    assert refused.returncode == 1
    quoted = re.search(r"print `(Error: plugin\.greeter[^`]*)`", doc_text())
    assert quoted is not None
    assert " ".join(quoted.group(1).split()) in refused.stderr


def run_documented_tests(root: Path, files: dict[str, str]) -> subprocess.CompletedProcess[str]:
    write_project(root, files)
    return run(root, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root / "tests"))


def test_the_documented_tests_pass_against_the_emulator(tmp_path: Path) -> None:
    result = run_documented_tests(tmp_path, doc_files())
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "4 passed" in result.stdout
    assert "0 violations" in result.stdout


def test_a_broken_plugin_makes_the_documented_tests_fail(tmp_path: Path) -> None:
    # Each change breaks exactly one documented test (none by a timeout): all three must fail.
    files = doc_files()
    for before, after in [
        ('f"Hello {ctx.author.display_name}!"', '"Hello!"'),
        ("None:\n            return self.greeting", "None:\n            return 'Hi {name}'"),
        ('sensitive=("greeting",), ', ""),
    ]:
        assert before in files["greeter.py"]
        files["greeter.py"] = files["greeter.py"].replace(before, after)
    result = run_documented_tests(tmp_path, files)
    assert result.returncode == 1, result.stdout[-3000:]
    assert "3 failed, 1 passed" in result.stdout
    assert "FAILED tests/test_greeter.py::test_hello_answers_by_name" in result.stdout
    assert "FAILED tests/test_greeter.py::test_a_new_member_is_greeted_in" in result.stdout
    assert "FAILED tests/test_greeter.py::test_a_server_greeting_is_kept_sealed" in result.stdout
