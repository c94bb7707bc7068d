"""The conformance checker really checks: wrong bodies are caught, right ones pass."""

from __future__ import annotations

from securebot.testing.emulator import Emulator
from securebot.testing.emulator.conformance import Conformance


def test_a_message_without_required_fields_is_a_violation() -> None:
    checker = Conformance()
    checker.check(
        "GET /channels/{channel_id}/messages/{message_id}", 200, {"id": "1", "content": "x"}
    )
    assert checker.violations
    assert {v.route for v in checker.violations} == {
        "GET /channels/{channel_id}/messages/{message_id}"
    }
    assert any("required" in v.message for v in checker.violations)


def test_wrong_types_and_error_bodies_are_checked() -> None:
    checker = Conformance()
    checker.check("GET /users/@me", 200, {"id": 5, "username": "x"})
    checker.check("GET /users/@me", 404, {"message": "Unknown User", "code": "10013"})
    checker.check("GET /users/@me", 429, {"message": "slow down", "code": 0})
    assert [v.status for v in checker.violations].count(200) >= 1
    assert any(v.status == 404 for v in checker.violations)
    assert any(v.status == 429 for v in checker.violations)  # retry_after and global required


def test_field_error_trees_follow_the_documentation() -> None:
    checker = Conformance()
    body = {
        "code": 50035,
        "message": "Invalid Form Body",
        "errors": {
            "embeds": {
                "0": {
                    "title": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "too long"}]}
                }
            }
        },
    }
    checker.check("POST /channels/{channel_id}/messages", 400, body)
    assert not checker.violations
    checker.check(
        "POST /channels/{channel_id}/messages", 400, {**body, "errors": {"x": {"_errors": "no"}}}
    )
    assert checker.violations


async def test_every_emulator_answer_in_a_session_is_counted(
    emulator: Emulator, discord_guild
) -> None:
    before = sum(emulator.conformance.validated.values())
    emulator.conformance.check(
        "GET /gateway/bot",
        200,
        {
            "url": "ws://x",
            "shards": 1,
            "session_start_limit": {
                "total": 1,
                "remaining": 1,
                "reset_after": 1,
                "max_concurrency": 1,
            },
        },
    )
    assert sum(emulator.conformance.validated.values()) == before + 1
    assert emulator.conformance.summary()["violations"] == 0
