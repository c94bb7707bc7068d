"""Giselle's argument grammar: pure parsers and the discord.py converters built on them.

Pure parsers (no Discord objects): :func:`parse_time_code`, :func:`parse_timestamp`,
:func:`parse_time_zone`, :func:`scan_flags`, :func:`render` (placeholders). They raise
:class:`~securebot.errors.CommandInputError` with a message for the user. Converters for command
signatures: :data:`Duration`, :data:`DurationWithSeconds`, :data:`TimeZone`, :data:`UserOrRole`,
:data:`UsersOrRoles`, :class:`Flags` with :func:`flag`. Usage strings: :func:`command_usage`.
"""

from securebot.core.grammar.converters import (
    CachedMember,
    CachedMemberConverter,
    Duration,
    DurationConverter,
    DurationWithSeconds,
    Flags,
    TimeCodeConverter,
    TimeZone,
    TimeZoneConverter,
    UserOrRole,
    UserOrRoleConverter,
    UserOrRoleList,
    UserOrRoleListConverter,
    UsersOrRoles,
    flag,
    now_for,
    split_names,
)
from securebot.core.grammar.flags import (
    FlagGrammar,
    FlagKind,
    FlagSpec,
    ScannedFlags,
    format_flags,
    scan_flags,
)
from securebot.core.grammar.placeholders import member_values, placeholders_in, render
from securebot.core.grammar.timecode import TimeCode, parse_time_code
from securebot.core.grammar.timestamps import format_timestamp, parse_timestamp
from securebot.core.grammar.timezones import format_offset, parse_time_zone
from securebot.core.grammar.usage import command_usage, full_usage

__all__ = [
    "CachedMember",
    "CachedMemberConverter",
    "Duration",
    "DurationConverter",
    "DurationWithSeconds",
    "FlagGrammar",
    "FlagKind",
    "FlagSpec",
    "Flags",
    "ScannedFlags",
    "TimeCode",
    "TimeCodeConverter",
    "TimeZone",
    "TimeZoneConverter",
    "UserOrRole",
    "UserOrRoleConverter",
    "UserOrRoleList",
    "UserOrRoleListConverter",
    "UsersOrRoles",
    "command_usage",
    "flag",
    "format_flags",
    "format_offset",
    "format_timestamp",
    "full_usage",
    "member_values",
    "now_for",
    "parse_time_code",
    "parse_time_zone",
    "parse_timestamp",
    "placeholders_in",
    "render",
    "scan_flags",
    "split_names",
]
