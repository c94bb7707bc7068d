"""Contract: a user's and a guild's data can be exported (readable) and erased."""

from __future__ import annotations

import json

from tests.storage.records import Case, Note, Submission
from tests.storage.test_contract_records import case

from securebot.core.storage import Scope, Store


async def _fill(store: Store) -> None:
    await store.put_many(
        [
            case(1, guild=1, user_id=7, moderator_id=9, reason="spam"),
            case(2, guild=1, user_id=8, moderator_id=9),
            case(1, guild=2, user_id=7, moderator_id=10),
            Submission(guild_id=1, form="apply", user_id=7, answers={"age": "33"}),
            Note(name="global", text="not owned"),
        ]
    )
    await store.incr("tests.cases", scope=1)
    s = store.settings("rights")
    s.register(Scope.GUILD, prefix="!")
    s.register(Scope.USER, sensitive=("tz",), tz="UTC")
    s.register(Scope.MEMBER, points=0)
    await s.guild(1).set("prefix", "?")
    await s.user(7).set("tz", "Asia/Tokyo")
    await s.member(1, 7).set("points", 4)
    await s.member(1, 8).set("points", 1)


async def test_export_user_gives_every_owned_item_readable(store: Store) -> None:
    await _fill(store)
    data = await store.export_user(7)
    json.dumps(data)  # JSON-able
    cases = sorted((c["scope"], c["key"]) for c in data["records"]["tests.cases"])
    assert cases == [("1", "1"), ("2", "1")]
    assert data["records"]["tests.submissions"][0]["fields"]["answers"] == {"age": "33"}
    assert "tests.notes" not in data["records"]
    rows = {(r["path"], r["name"]): r["value"] for r in data["settings"]["rights"]}
    assert rows == {("user:7", "tz"): "Asia/Tokyo", ("member:1:7", "points"): 4}
    assert (await store.export_user(9))["records"]["tests.cases"][0]["fields"]["moderator_id"] == 9


async def test_delete_user_erases_only_that_users_data(store: Store) -> None:
    await _fill(store)
    erased = await store.delete_user(7)
    assert erased == 5  # 2 cases, 1 submission, 2 settings values
    assert await store.export_user(7) == {
        "user_id": 7,
        "records": {},
        "settings": {},
        "unreadable": [],
    }
    assert await store.get(Case, 2, scope=1) is not None
    s = store.settings("rights")
    assert await s.member(1, 8).get("points") == 1
    assert await s.guild(1).get("prefix") == "?"


async def test_export_guild_gives_that_guilds_data(store: Store) -> None:
    await _fill(store)
    data = await store.export_guild(1)
    json.dumps(data)
    assert sorted(r["key"] for r in data["records"]["tests.cases"]) == ["1", "2"]
    assert {r["fields"]["reason"] for r in data["records"]["tests.cases"]} >= {"spam"}
    assert "tests.notes" not in data["records"]
    names = sorted((r["path"], r["name"]) for r in data["settings"]["rights"])
    assert names == [("guild:1", "prefix"), ("member:1:7", "points"), ("member:1:8", "points")]


async def test_delete_guild_erases_records_counters_and_settings_of_that_guild(
    store: Store,
) -> None:
    await _fill(store)
    assert await store.delete_guild(1) == 7  # 2 cases, 1 submission, 1 counter, 3 settings
    assert await store.get(Case, 1, scope=1) is None
    assert await store.counter("tests.cases", scope=1) == 0
    assert await store.get(Case, 1, scope=2) is not None
    assert await store.get(Note, "global") is not None
    assert await store.settings("rights").user(7).get("tz") == "Asia/Tokyo"
