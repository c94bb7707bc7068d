"""Blind index: stable under normalisation, unrelated across fields, guilds and keyrings."""

from __future__ import annotations

import hmac
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from securebot.crypto import BlindIndex, FieldContext, Keyring, normalize

KEYRING = Keyring.generate()
INDEX = BlindIndex(KEYRING)

names = st.text(min_size=1, max_size=12)
contexts = st.builds(
    FieldContext,
    collection=names,
    field=names,
    record_id=names,
    scope=st.one_of(st.just("global"), st.integers(1, 2**64).map(str)),
)


@given(st.text(max_size=40), contexts, st.sampled_from([str.upper, str.lower, str.title]))
def test_stable_under_case_width_and_spaces(value: str, ctx: FieldContext, case: object) -> None:
    variant = "  " + unicodedata.normalize("NFKD", case(value)) + "\t\n"  # type: ignore[operator]
    if normalize(variant) == normalize(value):
        assert INDEX.compute(variant, ctx) == INDEX.compute(value, ctx)


def test_known_normalisations_match() -> None:
    ctx = FieldContext("roles", "name", "1", scope="42")
    base = INDEX.compute("Moderator", ctx)
    for variant in (
        " moderator ",
        "MODERATOR",
        "\uff2d\uff4f\uff44\uff45\uff52\uff41\uff54\uff4f\uff52",
        "moderator\n",
    ):
        assert INDEX.compute(variant, ctx) == base
    assert INDEX.compute("Moderat0r", ctx) != base


@given(st.text(min_size=1, max_size=40), contexts, names)
def test_record_id_is_ignored(value: str, ctx: FieldContext, other: str) -> None:
    moved = FieldContext(ctx.collection, ctx.field, other, ctx.scope)
    assert INDEX.compute(value, moved) == INDEX.compute(value, ctx)


@given(st.text(max_size=40), contexts)
def test_differs_across_guilds_and_fields(value: str, ctx: FieldContext) -> None:
    base = INDEX.compute(value, ctx)
    assert len(base) == 8
    other_guild = FieldContext(ctx.collection, ctx.field, ctx.record_id, ctx.scope + "1")
    other_field = FieldContext(ctx.collection, ctx.field + "_", ctx.record_id, ctx.scope)
    other_coll = FieldContext(ctx.collection + "_", ctx.field, ctx.record_id, ctx.scope)
    assert INDEX.compute(value, other_guild) != base
    assert INDEX.compute(value, other_field) != base
    assert INDEX.compute(value, other_coll) != base
    assert BlindIndex(Keyring.generate()).compute(value, ctx) != base


def test_not_a_plain_hash_of_the_value() -> None:
    ctx = FieldContext("c", "f", "r")
    value = "hello"
    out = INDEX.compute(value, ctx)
    assert out != hmac.digest(KEYRING.primary("index").material, b"hello", "sha256")[:8]
    assert out != __import__("hashlib").sha256(b"hello").digest()[:8]


def test_rotation_compute_all_lists_old_and_new() -> None:
    keyring = Keyring.generate()
    index = BlindIndex(keyring, length=16)
    ctx = FieldContext("c", "f", "r", scope="3")
    old = index.compute("v", ctx)
    keyring.rotate("index")
    new = index.compute("v", ctx)
    assert new != old
    assert index.compute_all("v", ctx) == [new, old]


def test_length_is_bounded() -> None:
    with pytest.raises(ValueError, match="4 to 32"):
        BlindIndex(KEYRING, length=2)
