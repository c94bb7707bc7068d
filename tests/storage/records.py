"""Record types used by the storage tests (declared once per process)."""

from __future__ import annotations

import datetime as dt
import enum

import attrs

from securebot.core.storage import field, record


class Kind(enum.StrEnum):
    WARN = "warn"
    BAN = "ban"


@record("tests.cases", key="number", scope="guild_id")
@attrs.frozen
class Case:
    guild_id: int
    number: int
    user_id: int = field(owner=True, index=True)
    moderator_id: int = field(owner=True, default=0)
    kind: Kind = field(index=True, default=Kind.WARN)
    reason: str = field(sensitive=True, default="")
    nickname: str = field(lookup=True, default="")
    at: dt.datetime | None = None
    tags: tuple[str, ...] = ()


@record("tests.notes", key="name")
@attrs.frozen
class Note:
    name: str
    text: str = field(sensitive=True, default="")
    count: int = 0


@record(
    "tests.submissions", key=("form", "user_id"), scope="guild_id", retention=dt.timedelta(days=365)
)
@attrs.frozen
class Submission:
    guild_id: int
    form: str
    user_id: int = field(owner=True)
    answers: dict[str, str] = field(sensitive=True, factory=dict)


def _v1_to_v2(fields: dict[str, object]) -> dict[str, object]:
    """Version 1 kept ``name``; version 2 splits it into ``display`` and keeps a ``bio``."""
    fields["display"] = str(fields.pop("name", "")).title()
    fields.setdefault("bio", "")
    return fields


@record("tests.profiles", key="user_id", version=2, migrations={1: _v1_to_v2})
@attrs.frozen
class Profile:
    user_id: int = field(owner=True)
    display: str = ""
    bio: str = field(sensitive=True, default="")
