"""Contract (property): any record value, sealed or plain, reads back exactly as written."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.storage.conftest import BACKEND_FACTORIES, ManualClock
from tests.storage.records import Case, Kind, Submission

from securebot.core.storage import Scope, Store
from securebot.crypto import Keyring


def _no_surrogate_pair(text: str) -> bool:
    """JSON (like Discord's gateway) joins a high+low surrogate pair into one character."""
    return not any(
        0xD800 <= ord(a) <= 0xDBFF and 0xDC00 <= ord(b) <= 0xDFFF
        for a, b in itertools.pairwise(text)
    )


# control characters and lone surrogates too (user text is arbitrary)
ANY_TEXT = (
    st.lists(st.one_of(st.characters(), st.characters(categories=["Cs"])), max_size=40)
    .map("".join)
    .filter(_no_surrogate_pair)
)
IDS = st.integers(min_value=0, max_value=2**63 - 1)

cases = st.builds(
    Case,
    guild_id=IDS,
    number=IDS,
    user_id=IDS,
    moderator_id=IDS,
    kind=st.sampled_from(Kind),
    reason=ANY_TEXT,
    nickname=ANY_TEXT,
    at=st.none() | st.datetimes(timezones=st.just(dt.UTC)),
    tags=st.lists(ANY_TEXT, max_size=3).map(tuple),
)
submissions = st.builds(
    Submission,
    guild_id=IDS,
    form=st.text(min_size=1, max_size=20),
    user_id=IDS,
    answers=st.dictionaries(ANY_TEXT, ANY_TEXT, max_size=3),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
    max_leaves=8,
)


def test_values_round_trip(backend_name: str, tmp_path: Path, keyring: Keyring) -> None:
    counter = iter(range(10**9))

    @settings(max_examples=40, deadline=None)
    @given(case=cases, submission=submissions, value=json_values, secret=json_values)
    def check(case: Case, submission: Submission, value: object, secret: object) -> None:
        async def scenario() -> None:
            directory = tmp_path / f"r{next(counter)}"
            directory.mkdir()
            async with BACKEND_FACTORIES[backend_name](directory) as backend:
                store = Store(backend, keyring=keyring, clock=ManualClock())
                await store.open()
                try:
                    await store.put_many([case, submission])
                    assert await store.get(Case, case.number, scope=case.guild_id) == case
                    key = (submission.form, submission.user_id)
                    assert await store.get(Submission, key, scope=submission.guild_id) == submission
                    found = await store.find(Case, scope=case.guild_id, nickname=case.nickname)
                    assert found.items == (case,)
                    s = store.settings("roundtrip")
                    s.register(Scope.GUILD, plain=None)
                    s.register(Scope.GUILD, sensitive=("hidden",), hidden=None)
                    await s.guild(case.guild_id).set("plain", value)
                    await s.guild(case.guild_id).set("hidden", secret)
                    assert await s.guild(case.guild_id).get("plain") == value
                    assert await s.guild(case.guild_id).get("hidden") == secret
                finally:
                    await store.close()

        asyncio.run(scenario())

    check()
