"""Laws of the permission engine and gate, checked with hypothesis."""

from __future__ import annotations

import attrs
import discord
from hypothesis import given
from hypothesis import strategies as st

import securebot
from securebot.core.permissions import (
    ChannelMode,
    GuildPolicy,
    ModulePolicy,
    PermissionGate,
    PermissionQuery,
    Requirement,
    Subject,
    evaluate,
    may_act_on,
    may_manage_role,
    rule_of,
)
from securebot.core.rules import AccessRequest, Verdict

ROLES = st.frozensets(st.integers(1, 6), max_size=4)
USERS = st.frozensets(st.integers(10, 13), max_size=3)
CHANNELS = st.frozensets(st.integers(20, 23), max_size=3)
PERM_NAMES = ["kick_members", "ban_members", "manage_guild", "manage_messages", "administrator"]
PERMS = st.lists(st.sampled_from(PERM_NAMES), max_size=3).map(
    lambda names: discord.Permissions(**dict.fromkeys(names, True)).value
)

modules = st.builds(
    ModulePolicy,
    enabled=st.booleans(),
    granted_roles=ROLES,
    granted_users=USERS,
    denied_roles=ROLES,
    denied_users=USERS,
    channel_mode=st.sampled_from(ChannelMode),
    channels=CHANNELS,
    module_roles=ROLES,
)
requirements = st.builds(
    Requirement,
    user_permissions=PERMS,
    bot_permissions=PERMS,
    always_available=st.booleans(),
    owner_only=st.booleans(),
)
subjects = st.builds(
    Subject,
    user_id=st.integers(10, 13),
    role_ids=ROLES,
    permissions=PERMS,
    bot_permissions=PERMS,
    is_guild_owner=st.booleans(),
    is_bot_owner=st.booleans(),
)
queries = st.builds(
    PermissionQuery,
    module=st.just("moderation"),
    command=st.just("warn"),
    channel_id=st.integers(20, 23),
    guild_id=st.just(1),
    subject=subjects,
    requirement=requirements,
    everyone_by_default=st.booleans(),
)


def _policy(module: ModulePolicy) -> GuildPolicy:
    return GuildPolicy({"moderation": module})


@given(modules, queries)
def test_a_disabled_module_denies_everyone(module: ModulePolicy, query: PermissionQuery) -> None:
    verdict = evaluate(_policy(attrs.evolve(module, enabled=False)), query)
    assert not verdict.allowed
    assert rule_of(verdict) == "module-disabled"


@given(modules, queries)
def test_a_user_deny_wins_over_every_grant(module: ModulePolicy, query: PermissionQuery) -> None:
    subject = attrs.evolve(query.subject, is_guild_owner=False)
    query = attrs.evolve(
        query,
        subject=subject,
        requirement=attrs.evolve(query.requirement, always_available=False, owner_only=False),
    )
    module = attrs.evolve(
        module,
        denied_users=module.denied_users | {subject.user_id},
        granted_users=module.granted_users | {subject.user_id},
        granted_roles=module.granted_roles | subject.role_ids,
    )
    assert not evaluate(_policy(module), query).allowed


@given(modules, queries)
def test_a_role_deny_wins_over_role_grants(module: ModulePolicy, query: PermissionQuery) -> None:
    subject = attrs.evolve(query.subject, is_guild_owner=False, role_ids={1, 2})
    query = attrs.evolve(
        query,
        subject=subject,
        requirement=attrs.evolve(query.requirement, always_available=False, owner_only=False),
    )
    module = attrs.evolve(
        module,
        denied_roles={1},
        granted_roles={2},
        granted_users=module.granted_users - {subject.user_id},
        module_roles=module.module_roles - {1, 2},
    )
    assert not evaluate(_policy(module), query).allowed


@given(
    modules,
    queries,
    st.sampled_from(["granted_roles", "granted_users", "module_roles"]),
    st.integers(1, 13),
)
def test_adding_a_grant_never_removes_access(
    module: ModulePolicy, query: PermissionQuery, field: str, value: int
) -> None:
    before = evaluate(_policy(module), query)
    wider = attrs.evolve(module, **{field: getattr(module, field) | {value}})
    after = evaluate(_policy(wider), query)
    assert not before.allowed or after.allowed


@given(modules, queries)
def test_always_available_skips_channels_and_grants_but_not_discord_permissions(
    module: ModulePolicy, query: PermissionQuery
) -> None:
    module = attrs.evolve(module, enabled=True)
    requirement = attrs.evolve(query.requirement, always_available=True, owner_only=False)
    verdict = evaluate(_policy(module), attrs.evolve(query, requirement=requirement))
    assert rule_of(verdict) in {
        "always-available",
        "missing-permissions",
        "bot-missing-permissions",
    }


@given(modules, queries)
def test_managers_skip_channel_lists(module: ModulePolicy, query: PermissionQuery) -> None:
    subject = attrs.evolve(query.subject, permissions=query.subject.permissions | 0x20)
    verdict = evaluate(_policy(module), attrs.evolve(query, subject=subject))
    assert rule_of(verdict) not in {"channel-blacklist", "channel-whitelist"}


@given(modules, queries)
def test_owner_only_commands_need_a_bot_owner(module: ModulePolicy, query: PermissionQuery) -> None:
    query = attrs.evolve(query, requirement=attrs.evolve(query.requirement, owner_only=True))
    verdict = evaluate(_policy(attrs.evolve(module, enabled=True)), query)
    assert verdict.allowed == query.subject.is_bot_owner


@given(modules, queries)
def test_every_verdict_names_its_rule(module: ModulePolicy, query: PermissionQuery) -> None:
    verdict = evaluate(_policy(module), query)
    assert rule_of(verdict)
    assert verdict.reason


@given(st.integers(0, 9), st.integers(0, 9), st.integers(0, 9), st.booleans())
def test_hierarchy_nobody_acts_at_or_above_their_top_role(
    actor: int, target: int, bot: int, actor_owner: bool
) -> None:
    verdict = may_act_on(actor, target, bot, actor_is_owner=actor_owner, target_is_owner=False)
    assert verdict.allowed == (target < bot and (actor_owner or target < actor))
    role = may_manage_role(target, actor, bot, actor_is_owner=actor_owner)
    assert role.allowed == (target < bot and (actor_owner or target < actor))
    assert not may_act_on(9, 0, 9, actor_is_owner=True, target_is_owner=True).allowed


# --- the gate: plugins' rules narrow, never widen; a raising rule denies -------------------


class _Rules(securebot.Plugin):
    manifest = securebot.PluginManifest(
        name="rules_sample",
        version="1.0",
        description="rules for the tests",
        user_data=securebot.UserData.none(),
    )

    def __init__(self, outcome: str) -> None:
        self.outcome = outcome

    @securebot.hookimpl
    def securebot_permission_rules(self, request: AccessRequest) -> Verdict | None:
        if self.outcome == "raise":
            raise RuntimeError("boom")
        if self.outcome == "deny":
            return Verdict.deny("plugin says no", source="rules_sample")
        if self.outcome == "allow":
            return Verdict.allow("plugin says yes", source="rules_sample", specificity=99)
        return None


@given(modules, queries, st.sampled_from(["raise", "deny", "allow", "none"]))
def test_plugin_rules_only_narrow_the_engine(
    module: ModulePolicy, query: PermissionQuery, outcome: str
) -> None:
    manager = securebot.PluginManager()
    manager.register(_Rules(outcome))
    gate = PermissionGate(manager)
    engine = evaluate(_policy(module), query)
    verdict = gate.decide(_policy(module), query)
    if outcome in {"raise", "deny"}:
        assert not verdict.allowed
    else:
        assert verdict == engine


@given(modules, queries)
def test_member_permissions_are_only_needed_where_the_engine_reads_them(
    module: ModulePolicy, query: PermissionQuery
) -> None:
    """The gate skips computing a member's permissions when
    ``needs_member_permissions`` says no rule can read them: the verdict must not change."""
    from securebot.core.permissions.engine import needs_member_permissions

    if needs_member_permissions(
        module, query.requirement, everyone_by_default=query.everyone_by_default
    ):
        return
    without = attrs.evolve(query, subject=attrs.evolve(query.subject, permissions=0))
    assert evaluate(_policy(module), without) == evaluate(_policy(module), query)
