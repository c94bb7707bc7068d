"""The Giselle example distribution assembles from what is installed."""

from pathlib import Path

from click.testing import CliRunner

from giselle.assembly import load_giselle_config
from giselle.cli import cli


def test_packaged_config_runs_installed_plugins_and_reports_the_rest() -> None:
    assembly = load_giselle_config(environ={})
    assert "core_commands" in assembly.config.plugins.enable
    assert set(assembly.config.plugins.enable).isdisjoint(assembly.missing_plugins)
    assert "moderation" in assembly.missing_plugins  # not written yet: reported, not fatal


def test_environment_overrides_apply(tmp_path: Path) -> None:
    assembly = load_giselle_config(environ={"SECUREBOT__BOT__PREFIX": "?"})
    assert assembly.config.bot.prefix == "?"


def test_run_without_token_is_one_clear_error() -> None:
    result = CliRunner().invoke(cli, ["run"], env={"SECUREBOT__BOT__TOKEN": None})
    assert result.exit_code == 1
    assert "bot.token is not set" in result.output
    assert "giselle demo" in result.output
    assert "Traceback" not in result.output


def test_bad_config_file_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "giselle.toml"
    path.write_text("[bot]\nprefix = 5\n")
    result = CliRunner().invoke(cli, ["plugins", "--config", str(path)])
    assert result.exit_code == 1
    expected = f"Error: {path}: bot.prefix: expected a string, got an integer (5)"
    assert result.output.strip() == expected
