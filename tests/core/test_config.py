"""Configuration: validation with one clear error line, secrets only by reference."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomli_w
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from securebot.cli import cli
from securebot.core.config import Config, load_config
from securebot.core.settings import SecretRef
from securebot.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "securebot.toml"
    path.write_text(text)
    return path


def test_defaults_are_a_working_development_config() -> None:
    config = load_config(None, environ={})
    assert config.bot.prefix == "!"
    assert config.plugins.enable == ("core_commands",)
    assert not config.production


def test_a_full_file_is_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[bot]
prefix = "?"
token = "env:MY_TOKEN"
owner_ids = [1, 2]
environment = "production"

[plugins]
enable = ["core_commands", "greeter"]
[plugins.third_party]
greeter = "securebot-greeter"

[plugin.greeter]
channel = "welcome"
""",
    )
    config = load_config(path, environ={})
    assert config.bot.prefix == "?"
    assert config.bot.token == SecretRef("env", "MY_TOKEN")
    assert config.bot.owner_ids == (1, 2)
    assert config.production
    assert dict(config.plugins.third_party) == {"greeter": "securebot-greeter"}
    assert config.plugin_settings("greeter")["channel"] == "welcome"
    assert dict(config.plugin_settings("absent")) == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[bot]\nprefx = '!'\n", "bot: unknown key 'prefx'"),
        ("[bot]\nprefix = 3\n", "bot.prefix: expected a string, got an integer (3)"),
        ("[bot]\nowner_ids = ['me']\n", "bot.owner_ids[0]: expected an integer, got a string"),
        ("[bot]\nenvironment = 'prod'\n", "bot.environment: must be one of"),
        ("[bot]\ntoken = 'MTIz.abc.def'\n", "bot.token: secrets are given by reference"),
        ("[bot]\nprefix = 'two words'\n", "bot.prefix: must be 1-10 characters"),
        ("[bot]\napi_base_url = 'ftp://x'\n", "bot.api_base_url: must start with http"),
        ("[plugins]\nenable = 'core_commands'\n", "plugins.enable: expected an array"),
        ("[plugins]\nenable = ['a', 'a']\n", "plugins.enable: a plugin is listed twice"),
        ("bot = 1\n", "bot: expected a table, got an integer (1)"),
        ("[nonsense]\n", "unknown key 'nonsense'"),
        ("[bot\n", "invalid TOML"),
    ],
)
def test_bad_files_give_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert message in str(caught.value)
    assert str(caught.value).startswith(str(path))
    assert "\n" not in str(caught.value)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config(tmp_path / "absent.toml", environ={})


def test_environment_overrides_file_values(tmp_path: Path) -> None:
    path = write(tmp_path, "[bot]\nprefix = '?'\n")
    environ = {
        "SECUREBOT__BOT__PREFIX": "$",
        "SECUREBOT__BOT__OWNER_IDS": "[5]",
        "SECUREBOT__PLUGIN__GREETER__CHANNEL": "lobby",
        "UNRELATED": "x",
    }
    config = load_config(path, environ=environ)
    assert config.bot.prefix == "$"
    assert config.bot.owner_ids == (5,)
    assert config.plugin_settings("greeter")["channel"] == "lobby"


def test_environment_override_with_a_wrong_type_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"bot.shard_count: expected an integer, got a string"):
        load_config(None, environ={"SECUREBOT__BOT__SHARD_COUNT": "many"})


def test_secret_references_resolve_without_leaking(tmp_path: Path) -> None:
    ref = SecretRef.parse("env:SB_TEST_TOKEN", where="bot.token")
    assert ref.resolve(where="bot.token", environ={"SB_TEST_TOKEN": "s3cr3t-value"}) == (
        "s3cr3t-value"
    )
    with pytest.raises(ConfigError, match="SB_TEST_TOKEN is not set"):
        ref.resolve(where="bot.token", environ={})
    secret_file = tmp_path / "token"
    secret_file.write_text("file-secret\n")
    assert SecretRef("file", str(secret_file)).resolve(where="t") == "file-secret"
    with pytest.raises(ConfigError, match="cannot read secret file"):
        SecretRef("file", str(tmp_path / "none")).resolve(where="t")


def test_config_holds_only_the_reference_never_the_secret() -> None:
    environ = {"SB_TOKEN": "MTIzNDU2Nzg5.secret-token-value"}
    config = load_config(None, environ={**environ, "SECUREBOT__BOT__TOKEN": "env:SB_TOKEN"})
    assert config.bot.token is not None
    assert config.bot.token.resolve(where="bot.token", environ=environ) == environ["SB_TOKEN"]
    for shown in (repr(config), str(config), repr(config.bot), str(config.bot.token)):
        assert "secret-token-value" not in shown
    assert str(config.bot.token) == "env:SB_TOKEN"


# --- fuzzing: any TOML value in any place gives a Config or one clean ConfigError line --------

KEYS = {
    "bot": ["token", "prefix", "owner_ids", "environment", "api_base_url", "shard_count", "x"],
    "plugins": ["enable", "third_party", "y"],
    "logging": ["level", "z"],
    "plugin": ["greeter"],
    "extra": ["k"],
}
scalars = st.one_of(
    st.text(max_size=12),
    st.integers(-(2**63), 2**63 - 1),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["!", "env:X", "file:/x", "production", "DEBUG", "http://h", "core_commands"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
documents = st.dictionaries(
    st.sampled_from(sorted(KEYS)),
    st.one_of(
        values,
        st.sampled_from(sorted(KEYS)).flatmap(
            lambda section: st.dictionaries(st.sampled_from(KEYS[section]), values, max_size=4)
        ),
    ),
    max_size=4,
)


@settings(
    max_examples=200,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=documents)
def test_fuzzed_files_load_or_fail_with_one_line(tmp_path: Path, document: dict) -> None:
    path = write(tmp_path, tomli_w.dumps(document))
    try:
        config = load_config(path, environ={})
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith(str(path))
        assert "\n" not in message
    else:
        assert isinstance(config, Config)


@settings(
    max_examples=60,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=documents)
def test_config_check_prints_one_error_line_and_no_traceback(
    tmp_path: Path, document: dict
) -> None:
    path = write(tmp_path, tomli_w.dumps(document))
    result = CliRunner().invoke(cli, ["config", "check", "--config", str(path)])
    assert "Traceback" not in result.output
    if result.exit_code != 0:
        assert result.exit_code == 1, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1, result.output
        assert lines[0].startswith("Error: "), result.output
    else:
        assert result.output.startswith("ok: ")


@pytest.mark.parametrize("text", ["[nonsense]\n", "source = 'elsewhere.toml'\n"])
def test_an_unknown_top_level_key_lists_only_real_sections(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    known = "(known keys: bot, keys, logging, plugin, plugins, storage)"
    assert str(caught.value).startswith(f"{path}: unknown key ")
    assert str(caught.value).endswith(known)


def test_the_source_of_a_loaded_file_is_its_path(tmp_path: Path) -> None:
    path = write(tmp_path, "[bot]\nprefix = '?'\n")
    config = load_config(path, environ={})
    assert config.source == str(path)
    assert config.bot.prefix == "?"
