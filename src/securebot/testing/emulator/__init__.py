"""A local Discord: HTTP API v10 and gateway v10 for the real, unmodified discord.py client.

Guide (the public API; everything below is stable)
==================================================

Start one, point discord.py at it, run a bot::

    from securebot.testing.emulator import Emulator, use_emulator
    from securebot.testing.harness import running, securebot_bot

    async with Emulator() as emu:                 # 127.0.0.1, free port; emu.base_url
        account = emu.create_bot("securebot", token="test-token")
        g = emu.standard_guild(account)           # owner/admin/moderator/member + the bot
        async with running(my_discord_py_bot, emu, account.token):   # ready on return
            reply = await emu.ask(g.member, g.general, "!ping")
            assert reply.content == "pong"

Pointing discord.py at an emulator
    ``use_emulator(base_url)`` sets ``discord.http.Route.BASE`` (``{base}/api/v10``) and
    ``DiscordWebSocket.DEFAULT_GATEWAY`` (``ws://host:port/gateway``); use it as a context
    manager or call ``.restore()``. ``base_url`` is the same value as the ``bot.api_base_url``
    setting. ``AutoShardedBot`` (and securebot's ``Bot``) also read the gateway URL from
    ``GET /gateway/bot``. ``securebot.testing.harness.running(client, emu, token)`` does the
    pointing, waits for ``on_ready`` and, on exit, closes the client and re-raises whatever
    ended its task (discord.py otherwise dies silently). ``harness.securebot_bot(emu,
    plugins, config=None, **discord_options)`` builds a securebot ``Bot`` (all intents,
    ``guild_ready_timeout=0.05``).

``Emulator(*, host="127.0.0.1", port=0, rate_limits=None, clock=None, ...)``
    Keywords: ``heartbeat_interval_ms=41250``, ``conformance=None``, ``call_log_limit=10_000``.
    ``await start()`` / ``await stop()`` / ``async with``; ``base_url``, ``api_url``,
    ``gateway_url``; ``application()`` gives the aiohttp app (to embed it elsewhere).
    Attributes: ``world`` (all records: ``users``, ``bots``, ``guilds``, ``channels``,
    ``webhooks``, ``commands``, ``interactions``), ``clock`` (:class:`EmulatorClock`:
    ``advance(seconds)``, ``set(dt)``, ``resume()``), ``gateway`` (sessions: see below),
    ``rate_limiter`` (``inject(count, retry_after=, route=, is_global=)``, ``limited``),
    ``calls`` (a ``CallLog`` of the newest ``call_log_limit`` HTTP calls: ``Call(method, path,
    route, status, bot_id, request, response, at, reason, files)``; ``route`` is ``"METHOD
    /template"`` as in openapi.json; ``calls.end`` is the number the next call gets and
    ``calls.since(n)`` the kept calls numbered ``n`` or later, exact across dropped ones),
    ``internal_errors`` (emulator bugs; must stay empty), ``recommended_shards`` (what
    ``/gateway/bot`` answers; default one shard per 1,000 guilds).

Building the world (each change dispatches its gateway event to connected bots)
    ``create_user(name) -> User`` · ``create_bot(name="securebot", *, token="test-token",
    privileged_intents=None) -> BotAccount`` (``.user``, ``.token``, ``.application_id``) ·
    ``create_guild(name, *, owner=None) -> Guild`` · ``create_role(guild, name, *,
    permissions=0, position=None, **fields) -> Role`` · ``create_channel(guild, name, *,
    type=ChannelType.TEXT, parent=None, **fields) -> Channel`` · ``set_overwrite(channel,
    role_or_user, *, allow=0, deny=0)`` · ``add_member(guild, user_or_bot, *, roles=()) ->
    Member`` (alias ``join``) · ``leave(guild, user)`` · ``give_role(guild, user, role)`` ·
    ``standard_guild(bot, *, name="Test Guild", bot_permissions=ADMINISTRATOR) ->
    StandardGuild`` (``guild, bot, general, staff, voice, owner, admin, moderator, member,
    bot_role, admin_role, moderator_role``). Permission bits: ``permissions`` module
    (``permissions.BAN_MEMBERS`` ...), same values as ``discord.Permissions``.

Acting as a user
    ``send(user, channel, content="", *, embeds=None, files=None, reply_to=None) -> Message``
    (refused with :class:`ScenarioError` where Discord would refuse the user) · ``dm(user,
    bot, content) -> Message`` · ``edit(message, content)`` · ``delete(message)`` ·
    ``react(user, message, "👍" or "name:id")`` · ``unreact(...)`` · ``join_voice(guild,
    user, channel_or_None)`` · ``ban_externally(guild, user, reason=None, *, by=None)`` ·
    ``kick_externally(guild, user, reason=None, *, by=None)`` (audit-logged, unlike ``leave``) ·
    ``slash(user, channel, "name [sub]", {"option": value}, *, bot=None) -> Interaction``
    (values: str/int/float/bool/User/Role/Channel) · ``click(user, message, custom_id)`` ·
    ``select(user, message, custom_id, values)`` · ``submit_modal(user, opened_by,
    {custom_id: value})`` (``opened_by`` is the interaction the bot answered with a modal).

Waiting and inspecting (timeouts raise :class:`WaitTimeoutError`)
    ``await ask(user, channel, content, *, timeout=5) -> Message`` (send, then the first bot
    message after it, anywhere incl. DMs) · ``await wait_for_message(channel=None, *,
    after=None, timeout=5)`` · ``await wait_for(predicate, *, timeout=5)`` · ``await
    wait_for_call("PUT /guilds/{guild_id}/bans/{user_id}", status=None, timeout=5,
    after=0)`` (``after``: a ``calls.end`` taken earlier) ·
    ``await wait_for_response(interaction)`` (then ``interaction.response_type``,
    ``.modal``, ``response_message(interaction)``) · ``await settle(idle=0.05)`` ·
    ``messages(channel, *, author=None)`` · ``bot_messages(channel=None, *, after=None)`` ·
    ``dms(user)`` · ``calls_to(route, *, status=None)`` · ``member_of(guild, user)`` ·
    ``roles_of(guild, user)`` · ``is_timed_out(guild, user)``. State is plain records:
    ``guild.bans``, ``guild.members[uid].role_ids`` / ``.nick`` / ``.timed_out_until``,
    ``message.reactions``, ``channel.pins``, ``message.attachments[i].data``.

Gateway (``emu.gateway``)
    ``sessions_of(bot) -> [Session]`` (``shard_id``, ``shard_count``, ``intents``,
    ``events``: names dispatched, ``resumes``, ``connected``) · ``await
    wait_identified(bot, count=1)`` · ``await drop(session, code=4000)`` (abrupt close: the
    client RESUMEs and gets every missed event replayed) · ``request_reconnect(session)``
    (op 7) · ``invalidate(session, resumable=False)`` (op 9) · ``ack_heartbeats = False``
    (a zombie link: the client must notice and resume) · ``heartbeat_interval_ms`` (for
    new connections) · bounds for long runs: ``replay_limit`` (5,000 events per new session),
    ``resume_window`` (300 s a detached session stays resumable), ``max_detached_sessions``
    (100), ``prune()``. Events go only to bots in the
    guild, on shard ``(guild_id >> 22) % shard_count`` (DMs: shard 0), filtered by intents;
    without MESSAGE_CONTENT, content/embeds/attachments/components are blanked (not in DMs,
    not the bot's own messages, not when it is mentioned); privileged intents a bot is not
    allowed (``create_bot(privileged_intents=...)``) close the socket with 4014.
    zlib-stream compression is used when the client asks for it.

Discord's rules
    Permissions (roles, overwrites, Administrator, owner, timeouts) and the role hierarchy
    are enforced on every route (403 50013 / 50001); errors are Discord's bodies
    (``{"code", "message", "errors"}``: 10003/10007/10008/10011/10013/10026, 50006, 50007,
    50016, 50034, 50035 Invalid Form Body with the field tree, 40060...); limits: 2,000-char
    content, 10 embeds (6,000 chars, per-field limits), 5 action rows, 2-100 messages younger
    than 14 days for bulk delete, 28-day timeouts, 3 s to answer an interaction, slowmode
    (users: ScenarioError; bots without Manage Messages: 429 code 20016). Moderation
    by bots (kick, ban, unban, member/role/channel changes, deleting others' messages) is written
    to ``guild.audit_log`` (``GET /guilds/{id}/audit-logs``, GUILD_AUDIT_LOG_ENTRY_CREATE for
    bots with View Audit Log) with the ``X-Audit-Log-Reason``. Rate limits
    (``RateLimits(enabled=True, limit=50, window=1.0, overrides={"POST
    /channels/{channel_id}/messages": (5, 5.0)}, global_limit=None)``) send ``X-RateLimit-*``
    headers and 429s with ``retry_after``. A malformed body is a 400, never a 500.

Conformance
    ``Conformance()`` (``securebot.testing.emulator.conformance``) validates every response
    body against discord/openapi.json (shipped: ``discord-openapi.json``, MIT); pass it as
    ``Emulator(conformance=...)`` and read ``.violations`` / ``.summary()``. The pytest
    plugin (``securebot.testing.pytest_plugin``) turns it on for every test.
"""

from securebot.testing.emulator import permissions
from securebot.testing.emulator.clock import EmulatorClock
from securebot.testing.emulator.connect import EmulatorTarget, endpoints, use_emulator
from securebot.testing.emulator.model import (
    BotAccount,
    Channel,
    ChannelType,
    Guild,
    Interaction,
    Member,
    Message,
    Role,
    User,
)
from securebot.testing.emulator.ratelimit import RateLimits
from securebot.testing.emulator.scenario import ScenarioError, StandardGuild, WaitTimeoutError
from securebot.testing.emulator.server import Emulator

__all__ = [
    "BotAccount",
    "Channel",
    "ChannelType",
    "Emulator",
    "EmulatorClock",
    "EmulatorTarget",
    "Guild",
    "Interaction",
    "Member",
    "Message",
    "RateLimits",
    "Role",
    "ScenarioError",
    "StandardGuild",
    "User",
    "WaitTimeoutError",
    "endpoints",
    "permissions",
    "use_emulator",
]
