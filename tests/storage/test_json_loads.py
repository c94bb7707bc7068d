"""``securebot.core.storage._json.loads`` is ``json.JSONDecoder().decode``: same values, same
errors, for any text (compact, spaced, damaged, not text at all)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from securebot.core.storage._json import loads

_reference = json.JSONDecoder().decode

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


def _outcome(fn: Any, text: Any) -> tuple[str, Any]:
    try:
        return "value", fn(text)
    except (ValueError, TypeError) as exc:
        return type(exc).__name__, str(exc)


@given(json_values, st.sampled_from([(",", ":"), (", ", ": ")]), st.booleans())
def test_any_encoded_value_reads_back_the_same(
    value: Any, separators: tuple[str, str], ascii_only: bool
) -> None:
    text = json.dumps(value, separators=separators, ensure_ascii=ascii_only)
    assert loads(text) == value == _reference(text)


@given(st.text(max_size=40))
def test_any_text_gives_the_decoders_value_or_error(text: str) -> None:
    assert _outcome(loads, text) == _outcome(_reference, text)


@given(json_values, st.sampled_from(["", " ", "\n", "x", "1", "}", " ]", "\t{}"]), st.text(" \n"))
def test_surroundings_are_judged_as_the_decoder_does(value: Any, tail: str, head: str) -> None:
    text = head + json.dumps(value, separators=(",", ":")) + tail
    assert _outcome(loads, text) == _outcome(_reference, text)


@pytest.mark.parametrize(
    "text",
    ["", " ", '{"a":1', '{"a":1}x', "[1,]", "NaN", "-Infinity", '"\\ud800"', b'{"a":1}', None, 7],
)
def test_damaged_or_non_text_input(text: Any) -> None:
    assert _outcome(loads, text) == _outcome(_reference, text)
