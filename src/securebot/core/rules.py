"""Verdicts of security-decision (``*_rules``) hooks and how they combine.

Every ``*_rules`` hook implementation returns a :class:`Verdict` or ``None`` (no opinion).
:func:`combine` folds them: any deny wins, an exception counts as a deny, and access is
granted only when at least one rule allowed and none denied (or when the caller's default
allows and nobody objected).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

import attrs


class Decision(enum.Enum):
    """What one rule decided."""

    ALLOW = "allow"
    DENY = "deny"


@attrs.frozen
class Verdict:
    """One rule's decision, with the reason shown in audit records and to the user."""

    decision: Decision
    reason: str
    #: Name of the plugin (or core component) whose rule decided.
    source: str = ""
    #: How specific the rule is; higher beats lower among allows (deny always wins).
    specificity: int = 0

    @classmethod
    def allow(cls, reason: str, *, source: str = "", specificity: int = 0) -> Verdict:
        """An allowing verdict."""
        return cls(Decision.ALLOW, reason, source, specificity)

    @classmethod
    def deny(cls, reason: str, *, source: str = "", specificity: int = 0) -> Verdict:
        """A denying verdict."""
        return cls(Decision.DENY, reason, source, specificity)

    @property
    def allowed(self) -> bool:
        """Whether this verdict grants access."""
        return self.decision is Decision.ALLOW


def combine(verdicts: Iterable[Verdict], *, default: Verdict) -> Verdict:
    """Fold rule verdicts: the first deny wins; else the most specific allow; else ``default``."""
    best_allow: Verdict | None = None
    for verdict in verdicts:
        if verdict.decision is Decision.DENY:
            return verdict
        if best_allow is None or verdict.specificity > best_allow.specificity:
            best_allow = verdict
    return best_allow if best_allow is not None else default


@attrs.frozen
class AccessRequest:
    """Who wants to run what, where: the input of ``securebot_permission_rules``.

    Prefix commands, slash commands and components all produce the same request, so one set of
    rules governs them alike.
    """

    #: The plugin (module) that owns the command.
    plugin: str
    #: The command's qualified name (``"role add"``).
    command: str
    #: The invoking user's id.
    user_id: int
    #: The channel the command was used in.
    channel_id: int
    #: The guild, or ``None`` in direct messages.
    guild_id: int | None
    #: The ids of the user's roles in that guild (empty in DMs).
    role_ids: frozenset[int] = frozenset()
    #: Whether the user is one of the bot's owners.
    is_bot_owner: bool = False
