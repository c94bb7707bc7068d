"""More laws of the permission engine (spec §2.4), beyond ``test_permission_laws.py``.

Specific beats general (a user entry overrides role entries, the channel list overrides grants
for non-managers, the guild owner is exempt from denies) and direct messages fail closed: a
module that is not open to everyone is refused outside a server, where nobody can hold Manage
Server.
"""

from __future__ import annotations

import attrs
from hypothesis import given
from hypothesis import strategies as st
from tests.pipeline.test_permission_laws import modules, queries

from securebot.core.permissions import (
    ChannelMode,
    GuildPolicy,
    ModulePolicy,
    PermissionQuery,
    evaluate,
    rule_of,
)

_MANAGE_GUILD = 0x20
_ADMINISTRATOR = 0x8


def _policy(module: ModulePolicy) -> GuildPolicy:
    return GuildPolicy({"moderation": module})


def _plain(query: PermissionQuery) -> PermissionQuery:
    """The query of an ordinary command (no permission needs, not always available)."""
    requirement = attrs.evolve(
        query.requirement,
        always_available=False,
        owner_only=False,
        user_permissions=0,
        bot_permissions=0,
    )
    return attrs.evolve(query, requirement=requirement)


@given(modules, queries)
def test_a_user_grant_overrides_role_denies(module: ModulePolicy, query: PermissionQuery) -> None:
    query = _plain(query)
    user = query.subject.user_id
    module = attrs.evolve(
        module,
        enabled=True,
        channels=frozenset(),
        channel_mode=ChannelMode.BLACKLIST,
        granted_users=module.granted_users | {user},
        denied_users=module.denied_users - {user},
        denied_roles=module.denied_roles | query.subject.role_ids,
    )
    verdict = evaluate(_policy(module), query)
    assert verdict.allowed
    assert rule_of(verdict) in {"user-grant", "module-role"}


@given(modules, queries)
def test_the_channel_list_overrides_grants_for_non_managers(
    module: ModulePolicy, query: PermissionQuery
) -> None:
    query = _plain(query)
    subject = attrs.evolve(
        query.subject,
        permissions=query.subject.permissions & ~(_MANAGE_GUILD | _ADMINISTRATOR),
        is_guild_owner=False,
    )
    query = attrs.evolve(query, subject=subject)
    module = attrs.evolve(
        module,
        enabled=True,
        channel_mode=ChannelMode.BLACKLIST,
        channels=module.channels | {query.channel_id},
        granted_users=module.granted_users | {subject.user_id},
        module_roles=module.module_roles | subject.role_ids,
    )
    verdict = evaluate(_policy(module), query)
    assert not verdict.allowed
    assert rule_of(verdict) == "channel-blacklist"


@given(modules, queries)
def test_the_guild_owner_is_exempt_from_denies(
    module: ModulePolicy, query: PermissionQuery
) -> None:
    query = _plain(query)
    subject = attrs.evolve(query.subject, is_guild_owner=True)
    query = attrs.evolve(query, subject=subject, everyone_by_default=True)
    module = attrs.evolve(
        module,
        enabled=True,
        channels=frozenset(),
        channel_mode=ChannelMode.BLACKLIST,
        denied_users=module.denied_users | {subject.user_id},
        denied_roles=module.denied_roles | subject.role_ids,
    )
    assert evaluate(_policy(module), query).allowed


@given(modules, queries, st.booleans())
def test_direct_messages_refuse_modules_that_are_not_open_to_everyone(
    module: ModulePolicy, query: PermissionQuery, manager: bool
) -> None:
    """Outside a server nobody holds Manage Server: a restricted module is refused (whatever
    permissions a stale subject claims), an everyone module is allowed, and the guild's own
    policy (it has none in a DM) is never consulted."""
    query = _plain(query)
    permissions = _MANAGE_GUILD | _ADMINISTRATOR if manager else 0
    subject = attrs.evolve(query.subject, permissions=permissions, role_ids=frozenset())
    restricted = attrs.evolve(query, guild_id=None, subject=subject, everyone_by_default=False)
    verdict = evaluate(_policy(module), restricted)
    assert not verdict.allowed
    assert rule_of(verdict) == "guild-only"
    everyone = attrs.evolve(restricted, everyone_by_default=True)
    assert rule_of(evaluate(_policy(module), everyone)) == "direct-message"


@given(modules, queries)
def test_always_available_commands_still_work_in_direct_messages(
    module: ModulePolicy, query: PermissionQuery
) -> None:
    query = _plain(query)
    requirement = attrs.evolve(query.requirement, always_available=True)
    dm = attrs.evolve(query, guild_id=None, requirement=requirement, everyone_by_default=False)
    assert evaluate(_policy(module), dm).allowed
