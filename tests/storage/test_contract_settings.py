"""Contract: Red-Config-like settings (namespaces, scopes, defaults, sealed values)."""

from __future__ import annotations

import pytest

from securebot.core.storage import ABSENT, Scope, Store
from securebot.errors import CorruptRecordError, StorageError


def _settings(store: Store, namespace: str = "mod"):  # type: ignore[no-untyped-def]
    settings = store.settings(namespace)
    settings.register(Scope.GLOBAL, motd="hi")
    settings.register(Scope.GUILD, prefix="!", mute_role=None, words=[])
    settings.register(Scope.GUILD, sensitive=("webhook",), webhook="")
    settings.register(Scope.CHANNEL, locked=False)
    settings.register(Scope.ROLE, level=0)
    settings.register(Scope.USER, tz="UTC")
    settings.register(Scope.MEMBER, points=0)
    return settings


async def test_unset_names_give_their_defaults(store: Store) -> None:
    s = _settings(store)
    assert await s.guild(1).get("prefix") == "!"
    assert await s.global_().get("motd") == "hi"
    assert await s.member(1, 2).get("points") == 0


async def test_set_then_get_and_none_is_a_value(store: Store) -> None:
    s = _settings(store)
    await s.guild(1).set("prefix", "?")
    await s.guild(1).set("mute_role", 55)
    assert await s.guild(1).get("prefix") == "?"
    await s.guild(1).set("mute_role", None)
    assert await s.guild(1).get("mute_role") is None
    await s.guild(1).set("words", ["a", {"b": 1}])
    assert await s.guild(1).get("words") == ["a", {"b": 1}]


async def test_scopes_and_namespaces_are_isolated(store: Store) -> None:
    s = _settings(store)
    other = store.settings("other")
    other.register(Scope.GUILD, prefix="-")
    await s.guild(1).set("prefix", "1")
    assert await s.guild(2).get("prefix") == "!"
    assert await other.guild(1).get("prefix") == "-"
    await s.channel(1, 10).set("locked", True)
    assert await s.channel(1, 11).get("locked") is False
    await s.member(1, 7).set("points", 3)
    assert await s.member(2, 7).get("points") == 0
    await s.user(7).set("tz", "Europe/Paris")
    assert await s.user(8).get("tz") == "UTC"
    await s.role(1, 3).set("level", 2)
    assert await s.role(1, 4).get("level") == 0


async def test_clear_restores_defaults(store: Store) -> None:
    s = _settings(store)
    await s.guild(1).set("prefix", "?")
    await s.guild(1).set("mute_role", 4)
    await s.guild(1).clear("prefix")
    assert await s.guild(1).get("prefix") == "!"
    assert await s.guild(1).get("mute_role") == 4
    await s.guild(1).clear()
    assert await s.guild(1).get("mute_role") is None


async def test_all_merges_defaults_and_stored_values(store: Store) -> None:
    s = _settings(store)
    await s.guild(1).set("prefix", "?")
    await s.guild(1).set("webhook", "https://example.invalid/hook")
    assert await s.guild(1).all() == {
        "prefix": "?",
        "mute_role": None,
        "words": [],
        "webhook": "https://example.invalid/hook",
    }


async def test_mutable_defaults_are_copies(store: Store) -> None:
    s = _settings(store)
    words = await s.guild(1).get("words")
    words.append("leak")
    assert await s.guild(1).get("words") == []


async def test_typos_and_unregistered_scopes_are_errors(store: Store) -> None:
    s = _settings(store)
    with pytest.raises(StorageError, match="unknown name 'prefx'"):
        await s.guild(1).get("prefx")
    with pytest.raises(StorageError, match="unknown name"):
        await s.guild(1).set("prefx", 1)
    bare = store.settings("bare")
    with pytest.raises(StorageError, match="nothing registered"):
        bare.guild(1)
    with pytest.raises(StorageError, match="registered twice"):
        s.register(Scope.GUILD, prefix="?")
    with pytest.raises(StorageError, match="no default"):
        s.register(Scope.ROLE, sensitive=("ghost",))


async def test_bad_ids_and_values_are_refused(store: Store) -> None:
    s = _settings(store)
    with pytest.raises(StorageError, match="guild id"):
        s.guild("1")  # type: ignore[arg-type]
    with pytest.raises(StorageError, match="JSON"):
        await s.guild(1).set("prefix", {1, 2})
    assert await s.guild(1).get("prefix") == "!"


async def test_sensitive_settings_are_sealed_in_the_backend(store: Store) -> None:
    s = _settings(store)
    url = "https://discord.invalid/api/webhooks/1/very-secret-token"
    await s.guild(1).set("webhook", url)
    raw = await store.backend.get_setting("mod", "1", "guild:1", "webhook")
    assert raw is not ABSENT
    assert url not in repr(raw)
    assert await s.guild(1).get("webhook") == url


async def test_a_sensitive_setting_never_falls_back_to_a_plain_stored_value(
    store: Store,
) -> None:
    """Someone able to write the database plants an unsealed webhook: refused, not used."""
    s = _settings(store)
    await s.guild(1).set("webhook", "https://example.invalid/real")
    planted = "https://attacker.invalid/hook"
    await store.backend.set_setting("mod", "1", "guild:1", "webhook", planted)
    with pytest.raises(CorruptRecordError, match="not sealed"):
        await s.guild(1).get("webhook")
    with pytest.raises(CorruptRecordError, match="not sealed"):
        await s.guild(1).all()
    with pytest.raises(CorruptRecordError, match="not sealed"):
        await s.all_of(Scope.GUILD)
    for fake in ({"_sealed_v1": planted}, {"_sealed_v1": 5}, {"other": "x"}, None, 3):
        await store.backend.set_setting("mod", "1", "guild:1", "webhook", fake)
        with pytest.raises(CorruptRecordError):
            await s.guild(1).get("webhook")


async def test_a_sealed_setting_copied_to_another_guild_or_name_does_not_open(
    store: Store,
) -> None:
    s = _settings(store)
    s.register(Scope.MEMBER, sensitive=("note",), note="")
    await s.guild(1).set("webhook", "https://example.invalid/one")
    sealed = await store.backend.get_setting("mod", "1", "guild:1", "webhook")
    await store.backend.set_setting("mod", "2", "guild:2", "webhook", sealed)
    await store.backend.set_setting("mod", "1", "member:1:5", "note", sealed)
    with pytest.raises(CorruptRecordError, match="cannot be decrypted"):
        await s.guild(2).get("webhook")
    with pytest.raises(CorruptRecordError, match="cannot be decrypted"):
        await s.member(1, 5).get("note")
    assert await s.guild(1).get("webhook") == "https://example.invalid/one"


async def test_all_of_a_scope_lists_stored_places(store: Store) -> None:
    s = _settings(store)
    await s.guild(1).set("prefix", "?")
    await s.guild(2).set("webhook", "https://example.invalid/2")
    await s.member(1, 7).set("points", 2)
    guilds = await s.all_of(Scope.GUILD)
    assert sorted(guilds) == ["guild:1", "guild:2"]
    assert guilds["guild:1"]["prefix"] == "?"
    assert guilds["guild:1"]["webhook"] == ""
    assert guilds["guild:2"]["webhook"] == "https://example.invalid/2"
    assert await s.all_of(Scope.MEMBER) == {"member:1:7": {"points": 2}}
    assert await s.all_of(Scope.ROLE) == {}


async def test_replace_setting_is_compare_and_set(store: Store) -> None:
    backend = store.backend
    assert not await backend.replace_setting("cas", "1", "guild:1", "x", None, 1)  # absent
    assert await backend.get_setting("cas", "1", "guild:1", "x") is ABSENT
    await backend.set_setting("cas", "1", "guild:1", "x", {"a": [1, "é"]}, owner=7)
    assert not await backend.replace_setting("cas", "1", "guild:1", "x", {"a": [2]}, 2)
    assert await backend.get_setting("cas", "1", "guild:1", "x") == {"a": [1, "é"]}
    assert await backend.replace_setting("cas", "1", "guild:1", "x", {"a": [1, "é"]}, 3)
    assert await backend.get_setting("cas", "1", "guild:1", "x") == 3
    rows = await backend.find_settings(namespace="cas", owner=7)
    assert [(r.name, r.value) for r in rows] == [("x", 3)]  # the owner stays
