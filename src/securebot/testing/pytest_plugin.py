"""pytest plugin shipped to plugin authors: a fresh local Discord per test, and a bot on it.

Fixtures (all function-scoped, async where they must be):

``emulator``
    A started :class:`~securebot.testing.emulator.Emulator` with response conformance
    checking on; the test fails if the emulator hit an internal error or sent a body that does
    not match discord/openapi.json.
``discord_bot_account``
    The bot's account in the emulator (token ``"test-token"``, all privileged intents allowed).
``discord_guild``
    A :class:`~securebot.testing.emulator.StandardGuild`: owner, admin, moderator, member, the
    bot (Administrator), ``#general``, ``#staff`` (staff only) and a voice channel.
``securebot_plugins``
    The plugins the bot runs; override it in your test module (default: ``core_commands``).
``securebot_config``
    The :class:`~securebot.Config` of the bot (``api_base_url`` set to the emulator).
``securebot_bot``
    A running :class:`~securebot.Bot` with ``securebot_plugins``, connected and ready; closed
    after the test, and whatever ended its task early is raised.
``securebot_store``
    A fresh Store (SQLite in ``tmp_path``, a new in-memory keyring); requested together with
    ``securebot_bot``, it is the bot's ``bot.store``.
``redis_server`` / ``redis_url``
    A real ``redis-server`` on a free loopback port (one per session, emptied before each
    test), and its ``redis://`` URL. Needs the ``redis-server`` binary (Debian: redis-server).
``sentinel_topology``
    A fresh master + replica + 3 converged ``redis-sentinel`` processes, for failover tests.

After the run, the terminal summary reports how many routes and responses were validated.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from securebot.core.bot import Bot
from securebot.core.config import BotSettings, Config
from securebot.core.plugin import Plugin
from securebot.core.storage import Store
from securebot.testing.emulator import Emulator, RateLimits, StandardGuild
from securebot.testing.emulator.conformance import Conformance
from securebot.testing.emulator.model import BotAccount
from securebot.testing.redis import (
    RedisServer,
    SentinelTopology,
    start_redis_server,
    start_sentinel_topology,
)

_TOTAL = pytest.StashKey[Conformance]()
#: Checkers of the emulators created during the current test.
_CREATED: list[Conformance] = []


def _can_check() -> bool:
    """Whether ``jsonschema`` (``securebot[testing]``) is there to check response bodies."""
    try:
        import jsonschema  # noqa: F401 - the checker needs it (securebot[testing])
    except ImportError:
        return False
    return True


def _new_checker() -> Conformance | None:
    if not _can_check():
        return None
    checker = Conformance()
    _CREATED.append(checker)
    return checker


def pytest_configure(config: pytest.Config) -> None:
    """Check every emulator's responses during the run, and keep a run-wide tally."""
    if _can_check():
        config.stash[_TOTAL] = Conformance()
    Emulator.default_conformance = _new_checker


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Set up ``securebot_store`` before ``securebot_bot`` (the bot starts with its store)."""
    for item in items:
        names = getattr(item, "fixturenames", None)
        if not isinstance(names, list) or "securebot_store" not in names:
            continue
        if "securebot_bot" in names and names.index("securebot_bot") < names.index(
            "securebot_store"
        ):
            names.remove("securebot_store")
            names.insert(names.index("securebot_bot"), "securebot_store")


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop checking emulators created after the run."""
    Emulator.default_conformance = None


@pytest.fixture(autouse=True)
def _securebot_emulator_conformance(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test whose emulators (the fixture's or its own) sent a non-conforming body."""
    start = len(_CREATED)
    yield
    created = _CREATED[start:]
    del _CREATED[start:]
    violations = []
    for checker in created:
        request.config.stash[_TOTAL].merge(checker)
        violations.extend(checker.violations)
    if violations:
        shown = "\n".join(
            f"  {v.route} {v.status} at /{v.path}: {v.message}" for v in violations[:5]
        )
        pytest.fail(f"{len(violations)} emulator response(s) do not match openapi.json:\n{shown}")


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """A fresh, started emulator; fails the test on emulator bugs or non-conforming bodies."""
    if not _can_check():
        warnings.warn(
            "securebot: the emulator's responses are not checked against Discord's openapi.json "
            "because jsonschema is not installed (pip install 'securebot[testing]')",
            stacklevel=1,
        )
    emu = Emulator(rate_limits=RateLimits())
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()
    if emu.internal_errors:
        pytest.fail(f"the emulator failed internally: {emu.internal_errors[0]!r}")


@pytest.fixture
def discord_bot_account(emulator: Emulator) -> BotAccount:
    """The bot's account (token ``test-token``)."""
    return emulator.create_bot("securebot", token="test-token")  # noqa: S106 - a test fixture token, not a secret


@pytest.fixture
def discord_guild(emulator: Emulator, discord_bot_account: BotAccount) -> StandardGuild:
    """A guild with owner, admin, moderator, member and the bot."""
    return emulator.standard_guild(discord_bot_account)


@pytest.fixture
def securebot_plugins() -> list[Plugin]:
    """The plugins the bot runs (override in a test module); default: ``core_commands``."""
    from securebot.core.app import load_plugins

    return list(load_plugins(Config()).plugins)


@pytest.fixture
def securebot_config(emulator: Emulator) -> Config:
    """The bot's configuration, pointed at the emulator."""
    return Config(bot=BotSettings(api_base_url=emulator.base_url))


@pytest.fixture
async def securebot_store(tmp_path: Path) -> AsyncIterator[Store]:
    """A fresh :class:`~securebot.storage.Store`: SQLite in ``tmp_path``, sealed fields under a
    new in-memory keyring. A test that requests it also gets it as ``securebot_bot.store``."""
    from securebot.crypto import PURPOSES, Keyring
    from securebot.storage.sqlite import SqliteBackend

    store = Store(SqliteBackend(tmp_path / "securebot.sqlite3"), keyring=Keyring.generate(PURPOSES))
    await store.open()
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def securebot_bot(
    request: pytest.FixtureRequest,
    emulator: Emulator,
    discord_bot_account: BotAccount,
    discord_guild: StandardGuild,
    securebot_plugins: list[Plugin],
    securebot_config: Config,
) -> AsyncIterator[Bot]:
    """A securebot Bot running the plugins, connected to the emulator and ready (with
    ``bot.store`` set when the test also requests ``securebot_store``)."""
    from securebot.testing.harness import running, securebot_bot

    bot = securebot_bot(emulator, securebot_plugins, config=securebot_config)
    if "securebot_store" in request.fixturenames:
        bot.store = request.getfixturevalue("securebot_store")
    async with running(bot, emulator, discord_bot_account.token):
        yield bot


@pytest.fixture(scope="session")
def redis_server_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One redis-server for the whole session (tests get it emptied by ``redis_server``)."""
    with start_redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis_server(redis_server_session: RedisServer) -> RedisServer:
    """A running redis-server with an empty keyspace."""
    assert redis_server_session.alive, "the session redis-server died"
    redis_server_session.command("FLUSHALL")
    return redis_server_session


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """``redis://127.0.0.1:<port>/0`` of an emptied redis-server."""
    return redis_server.url


@pytest.fixture
def sentinel_topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelTopology]:
    """A fresh master + replica + 3 converged sentinels (failover tests may kill any of them)."""
    with start_sentinel_topology(tmp_path_factory.mktemp("topology")) as topology:
        yield topology


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Report the conformance tally (and write it as JSON if asked)."""
    total = config.stash.get(_TOTAL, None)
    if total is None or not (total.validated or total.unchecked):
        return
    summary = total.summary()
    terminalreporter.write_line(
        "emulator conformance: {routes} routes / {route_statuses} (route, status) pairs, "
        "{responses} response bodies validated against openapi.json, {violations} violations, "
        "{unchecked} bodiless or schemaless responses".format(**summary)
    )
    target = os.environ.get("SECUREBOT_CONFORMANCE_REPORT")
    if target:
        detail = {
            **summary,
            "pairs": sorted(f"{route} {status}" for route, status in total.validated),
        }
        with open(target, "w", encoding="utf-8") as handle:
            json.dump(detail, handle, indent=1)
