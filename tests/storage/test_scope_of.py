"""A guild's scope has one spelling, so erasing, exporting and shredding a guild find all of it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from securebot.core.storage import scope_of


@given(st.integers(min_value=0, max_value=2**64))
def test_an_id_as_int_or_as_text_gives_the_same_scope(guild: int) -> None:
    assert scope_of(guild) == scope_of(str(guild)) == str(guild)


@pytest.mark.parametrize(
    "text", ["0123", "00", "١٢٣", "²", "12\u0660", "+5", " 5", "5 ", "-5", "", "1_000", "globaL"]
)
def test_other_spellings_of_an_id_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a guild id"):
        scope_of(text)


def test_the_global_scope() -> None:
    assert scope_of(None) == scope_of("global") == "global"
