"""The complete plugin in docs/writing-a-plugin.md works exactly as written."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

import securebot
from securebot.errors import ConfigError

DOC = Path(__file__).parents[2] / "docs" / "writing-a-plugin.md"


def doc_files() -> dict[str, str]:
    """The fenced blocks marked ``file=NAME`` in the guide."""
    blocks = re.findall(r"```\w+ file=(\S+)\n(.*?)```", DOC.read_text(), re.DOTALL)
    return dict(blocks)


def test_the_guide_has_the_plugin_its_packaging_and_its_config() -> None:
    assert set(doc_files()) == {"greeter.py", "pyproject.toml", "securebot.toml"}


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
    assert [c.name for c in greeter.iter_commands()] == ["hello"]
    assert manager.required_intents().members


def test_the_documented_config_check_refuses_a_bad_greeting(
    greeter_installed, tmp_path: Path
) -> None:
    config_file = tmp_path / "securebot.toml"
    config_file.write_text(doc_files()["securebot.toml"].replace("{name}", "you"))
    config = securebot.load_config(config_file, environ={})
    with pytest.raises(ConfigError, match="must be a string containing"):
        securebot.load_plugins(config)
