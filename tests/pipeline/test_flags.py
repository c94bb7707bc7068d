"""``--long`` flag scanning: round trip, aliases, switches, rest-of-line, rejections."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from securebot.core.grammar import FlagGrammar, FlagKind, FlagSpec, format_flags, scan_flags
from securebot.errors import CommandInputError

GRAMMAR = FlagGrammar(
    (
        FlagSpec("rule", aliases={"r"}),
        FlagSpec("reason", aliases={"rs"}),
        FlagSpec("skip-dm", FlagKind.SWITCH, aliases={"nodm", "no-dm"}),
        FlagSpec("interval", aliases={"i"}),
        FlagSpec("command", FlagKind.REST),
    )
)

word = st.text(
    alphabet=st.characters(whitelist_categories=("L", "N"), whitelist_characters=".,!?'@#"),
    min_size=1,
    max_size=8,
)
value = st.lists(word, min_size=1, max_size=4).map(" ".join)
rest_value = st.lists(st.one_of(word, st.just("--rule"), st.just("--x")), min_size=1).map(" ".join)


@given(
    st.fixed_dictionaries(
        {},
        optional={
            "rule": value,
            "reason": value,
            "skip-dm": st.just("true"),
            "interval": value,
            "command": rest_value,
        },
    )
)
def test_round_trip(values: dict[str, str]) -> None:
    scanned = scan_flags(format_flags(values, GRAMMAR), GRAMMAR)
    assert dict(scanned.values) == values
    assert scanned.positional == ""


def test_aliases_switches_positional_and_quotes() -> None:
    scanned = scan_flags('<@1> two --r 3 --RS "bad  words" --no-dm', GRAMMAR)
    assert scanned.positional == "<@1> two"
    assert dict(scanned.values) == {"rule": "3", "reason": "bad  words", "skip-dm": "true"}


def test_rest_flag_takes_everything_after_it_verbatim() -> None:
    scanned = scan_flags("--i 1h --command !warn @x --reason  spam --skip-dm", GRAMMAR)
    assert scanned.values["command"] == "!warn @x --reason  spam --skip-dm"
    assert scanned.values["interval"] == "1h"


def test_double_dash_inside_a_word_is_not_a_flag() -> None:
    assert scan_flags("--reason a--b c-- d", GRAMMAR).values["reason"] == "a--b c-- d"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("--bogus 1", "unknown flag `--bogus`"),
        ("--rule", "`--rule` needs a value"),
        ("--rule --reason x", "`--rule` needs a value"),
        ("--rule 1 --r 2", "`--rule` is given twice"),
        ("--skip-dm yes", "is a switch and takes no value"),
        ('--reason ""', "needs a value"),
    ],
)
def test_rejections_name_the_problem(text: str, why: str) -> None:
    with pytest.raises(CommandInputError, match=why):
        scan_flags(text, GRAMMAR)


def test_required_flag_missing() -> None:
    grammar = FlagGrammar((FlagSpec("interval", required=True), FlagSpec("command", FlagKind.REST)))
    with pytest.raises(CommandInputError, match="`--interval` is required"):
        scan_flags("--command !ping", grammar)
    assert grammar.usage() == "(--interval <interval>) [--command <...>]"


def test_bad_grammars_are_refused() -> None:
    with pytest.raises(ValueError, match="used twice"):
        FlagGrammar((FlagSpec("a", aliases={"b"}), FlagSpec("b")))
    with pytest.raises(ValueError, match="lower-case"):
        FlagSpec("bad name")


@given(st.text(max_size=60))
def test_arbitrary_text_never_escapes(text: str) -> None:
    try:
        scanned = scan_flags(text, GRAMMAR)
    except CommandInputError as exc:
        message = str(exc)
    else:
        message = ""
        assert set(scanned.values) <= {spec.name for spec in GRAMMAR.flags}
    assert "Traceback" not in message
