"""The emulator computes channel permissions exactly as discord.py does from the same payloads
(two independent implementations of Discord's documented algorithm), for random guilds."""

from __future__ import annotations

import discord
from hypothesis import given, settings
from hypothesis import strategies as st

from securebot.testing.emulator import ChannelType, Emulator, payloads
from securebot.testing.emulator import permissions as bits
from securebot.testing.emulator.model import Overwrite

KNOWN = discord.Permissions.all().value
#: discord.py also drops voice permissions in text channels (a convenience, not Discord's rule).
TEXT_MASK = KNOWN & ~discord.Permissions.voice().value
perm_values = st.integers(0, KNOWN).map(lambda v: v & ~bits.ADMINISTRATOR) | st.just(
    bits.ADMINISTRATOR
)


@st.composite
def guild_setups(draw):
    roles = draw(st.lists(perm_values, min_size=1, max_size=4))
    everyone = draw(perm_values)
    member_roles = draw(st.lists(st.integers(0, len(roles) - 1), unique=True, max_size=len(roles)))
    overwrite = st.tuples(st.integers(0, KNOWN), st.integers(0, KNOWN))
    role_overwrites = draw(st.dictionaries(st.integers(-1, len(roles) - 1), overwrite, max_size=3))
    member_overwrite = draw(st.none() | overwrite)
    owner = draw(st.integers(0, 9)) == 0
    return roles, everyone, member_roles, role_overwrites, member_overwrite, owner


def discord_py_view(world, guild, bot_id):
    client = discord.Client(intents=discord.Intents.all())
    state = client._connection
    state.user = discord.ClientUser(state=state, data=payloads.user(world.user(bot_id)))
    data = payloads.guild_create(world, guild, bot_id=bot_id, members_intent=True)
    return state._add_guild_from_data(data)


@settings(max_examples=150, deadline=None)
@given(setup=guild_setups())
def test_channel_permissions_match_discord_py(setup) -> None:
    roles, everyone, member_roles, role_overwrites, member_overwrite, owner = setup
    emu = Emulator()
    world = emu.world
    account = world.add_bot("bot", token="t")
    person = world.add_user("person")
    guild = world.add_guild("g", owner_id=person.id if owner else world.add_user("owner").id)
    guild.everyone.permissions = everyone
    created = [world.add_role(guild, f"r{i}", permissions=p) for i, p in enumerate(roles)]
    if not owner:
        world.add_member(guild, person.id, [created[i].id for i in member_roles])
    world.add_member(guild, account.user.id)
    channel = world.add_channel(guild, "general", ChannelType.TEXT)
    for index, (allow, deny) in role_overwrites.items():
        target = guild.id if index < 0 else created[index].id
        channel.overwrites[target] = Overwrite(target, 0, allow, deny)
    if member_overwrite is not None:
        channel.overwrites[person.id] = Overwrite(person.id, 1, *member_overwrite)
    mine = bits.channel_permissions(guild, channel, guild.members[person.id])
    dpy_guild = discord_py_view(world, guild, account.user.id)
    theirs = (
        dpy_guild.get_channel(channel.id).permissions_for(dpy_guild.get_member(person.id)).value
    )
    if mine & bits.VIEW_CHANNEL:
        assert mine & TEXT_MASK == theirs & TEXT_MASK
    else:
        assert mine == 0
        assert not theirs & bits.VIEW_CHANNEL
    assert bits.base_permissions(guild, guild.members[person.id]) & KNOWN == (
        dpy_guild.get_member(person.id).guild_permissions.value & KNOWN
    )
