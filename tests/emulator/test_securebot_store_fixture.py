"""The pytest plugin's ``securebot_store``: a real sealed Store, and the bot's ``bot.store``
whichever order a test names the fixtures in."""

from __future__ import annotations

import attrs

from securebot.core.bot import Bot
from securebot.core.storage import Store
from securebot.storage import Scope, field, record


@record("tests.fixture_notes", key="number", scope="guild_id")
@attrs.frozen
class FixtureNote:
    guild_id: int
    number: int
    text: str = field(sensitive=True, default="")


async def test_the_bot_named_first_still_starts_with_the_store(
    securebot_bot: Bot, securebot_store: Store
) -> None:
    assert securebot_bot.store is securebot_store


async def test_the_store_named_first(securebot_store: Store, securebot_bot: Bot) -> None:
    assert securebot_bot.store is securebot_store


async def test_without_the_store_the_bot_has_none(securebot_bot: Bot) -> None:
    assert securebot_bot.store is None


async def test_the_store_keeps_sealed_records_and_settings(securebot_store: Store) -> None:
    await securebot_store.put(FixtureNote(7, 1, text="hello"))
    assert await securebot_store.get(FixtureNote, 1, scope=7) == FixtureNote(7, 1, "hello")
    settings = securebot_store.settings("fixture_test")
    settings.register(Scope.GUILD, greeting="hi")
    await settings.guild(7).set("greeting", "hey")
    assert await settings.guild(7).get("greeting") == "hey"
