"""Audit events (what happened) and entries (an event sealed into its guild's hash chain)."""

from __future__ import annotations

import enum
import types
from collections.abc import Mapping
from typing import Any

import attrs


def _frozen_map(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return types.MappingProxyType(dict(value))


class EventKind(enum.Enum):
    """What an audit event records."""

    #: A command invocation (prefix, slash, component or scheduled), allowed or denied.
    COMMAND = "command"
    #: A REST call the bot made to Discord.
    HTTP = "http"
    #: A configuration change (permissions, prefix, module settings...).
    CONFIG = "config"
    #: A scheduled job that ran (or was skipped).
    JOB = "job"


#: Chain key of events outside any guild (direct messages, global actions).
GLOBAL_CHAIN = "global"

#: Fields whose values are sealed (encrypted) at rest; the rest stay searchable.
SENSITIVE_FIELDS = ("arguments", "detail")


@attrs.frozen
class AuditEvent:
    """One thing that happened, before it is sealed into a chain."""

    kind: EventKind
    #: Unix time (seconds, float) when it happened.
    at: float
    guild_id: int | None = None
    actor_id: int | None = None
    channel_id: int | None = None
    #: Qualified command name, HTTP route (``POST /channels/{channel_id}/messages``) or setting.
    action: str = ""
    #: ``prefix``, ``slash``, ``component``, ``scheduled``, ``http``, ``cli``...
    via: str = ""
    #: Converted arguments with secret parameters already redacted.
    arguments: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    #: The permission rule that decided (``permissions:role-grant``), if any.
    rule: str = ""
    #: ``ok``, ``denied``, ``input-error``, ``error:<Type>``, HTTP status...
    outcome: str = ""
    duration_ms: float = 0.0
    #: Ties the REST calls a command caused to the command.
    correlation_id: str = ""
    #: Anything else worth keeping (JSON-able, no secrets).
    detail: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen_map)

    @property
    def chain(self) -> str:
        """The chain this event belongs to: the guild id, or :data:`GLOBAL_CHAIN`."""
        return str(self.guild_id) if self.guild_id is not None else GLOBAL_CHAIN

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict of the event (enum as its value)."""
        return {
            "kind": self.kind.value,
            "at": self.at,
            "guild_id": self.guild_id,
            "actor_id": self.actor_id,
            "channel_id": self.channel_id,
            "action": self.action,
            "via": self.via,
            "arguments": dict(self.arguments),
            "rule": self.rule,
            "outcome": self.outcome,
            "duration_ms": self.duration_ms,
            "correlation_id": self.correlation_id,
            "detail": dict(self.detail),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuditEvent:
        """The inverse of :meth:`to_dict`."""
        values = dict(data)
        values["kind"] = EventKind(values["kind"])
        return cls(**values)


@attrs.frozen
class AuditEntry:
    """An event sealed at position ``seq`` of its chain."""

    chain: str
    seq: int
    prev_hash: str
    hash: str
    event: AuditEvent
