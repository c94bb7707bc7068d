"""Attacks on the download endpoint: tampered or unreadable metadata, odd objects in the store,
methods, paths and query strings. Every refusal is the uniform 404, every failure a 503 that
names nothing, and each is audited."""

from __future__ import annotations

import asyncio
import urllib.parse

import aiohttp
from tests.exports.conftest import BASE, make_messages

from securebot.core.audit import AuditEvent, EventKind
from securebot.errors import BackendUnavailableError
from securebot.exports import ExportInfo
from securebot.gateway.app import NOT_FOUND_TEXT, UNAVAILABLE_TEXT

OWNER = 111
INFO = ExportInfo("#general (Guild)", BASE, channel_id=5, guild_id=6)


async def _events(env) -> list[AuditEvent]:
    await env.audit.flush()
    found = []
    for chain in await env.audit.store.chains():
        found.extend(e.event for e in await env.audit.entries(chain))
    return [e for e in found if e.kind is EventKind.HTTP]


async def _request(url: str, method: str = "GET") -> tuple[int, str, dict[str, str]]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, allow_redirects=False) as response,
    ):
        body = await response.read()
        return response.status, body.decode("utf-8", "replace"), dict(response.headers)


async def test_a_tampered_record_is_refused_alike_and_audited(env) -> None:
    result = await env.service.export_messages(make_messages(2), INFO, owner_id=OWNER)
    document = env.metadata.documents[result.record.export_id]
    document["label"] = bytes(document["label"])[:-1] + b"\x00"  # no longer authenticates
    status, body, _ = await _request(result.link)
    assert (status, body) == (404, NOT_FOUND_TEXT)
    (event,) = await _events(env)
    assert (event.outcome, event.detail["reason"]) == ("404", "corrupt-record")


async def test_a_record_with_a_header_in_its_size_is_refused(env) -> None:
    result = await env.service.export_messages(make_messages(2), INFO, owner_id=OWNER)
    env.metadata.documents[result.record.export_id]["size"] = "1\r\nSet-Cookie: a=b"
    status, body, headers = await _request(result.link)
    assert (status, body) == (404, NOT_FOUND_TEXT)
    assert "Set-Cookie" not in headers
    (event,) = await _events(env)
    assert event.detail["reason"] == "corrupt-record"


async def test_a_record_naming_another_export_is_refused(env) -> None:
    mine = await env.service.export_messages(make_messages(2), INFO, owner_id=OWNER)
    other = await env.service.export_messages(make_messages(3), INFO, owner_id=OWNER)
    # A store of record that answers for one id with another id's document.
    env.metadata.documents[mine.record.export_id] = env.metadata.documents[other.record.export_id]
    assert (await _request(mine.link))[:2] == (404, NOT_FOUND_TEXT)
    (event,) = await _events(env)
    assert event.detail["reason"] == "record-mismatch"


async def test_a_failing_metadata_store_gets_503_and_is_audited(env) -> None:
    result = await env.service.export_messages(make_messages(2), INFO, owner_id=OWNER)

    async def broken(export_id: str):
        raise BackendUnavailableError("the store of record is unreachable")

    env.gateway.metadata = type("Broken", (), {"get": staticmethod(broken)})()
    status, body, _ = await _request(result.link)
    assert (status, body) == (503, UNAVAILABLE_TEXT)
    (event,) = await _events(env)
    assert (event.outcome, event.detail["reason"]) == (
        "503",
        "metadata-error:BackendUnavailableError",
    )


async def test_an_unreadable_object_gets_503_not_a_crash(env) -> None:
    result = await env.service.export_messages(make_messages(2), INFO, owner_id=OWNER)
    path = env.store.root / result.record.object_key
    path.unlink()
    path.mkdir()  # a directory where the archive was: open() fails with IsADirectoryError
    status, body, _ = await _request(result.link)
    assert (status, body) == (503, UNAVAILABLE_TEXT)
    (event,) = await _events(env)
    assert event.outcome == "503"


async def test_methods_paths_and_queries_get_nothing(env) -> None:
    result = await env.service.export_messages(make_messages(2), INFO, owner_id=OWNER)
    export_id = result.record.export_id
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(result.link).query)["token"][0]
    quoted = urllib.parse.quote(token)
    base = env.base_url
    refused = [
        f"{base}/exports/{export_id}%0A?token={quoted}",
        f"{base}/exports/{export_id.upper()}?token={quoted}",
        f"{base}/exports/{export_id}?token={quoted}x",
        f"{base}/exports/{export_id}?token=" + "A" * 4000,
        f"{base}/exports/{export_id}?token=%E2%80%AE{quoted}",
        f"{base}/exports/{export_id}?token=bad&token={quoted}",
        f"{base}/exports/%2e%2e%2f{export_id}?token={quoted}",
        f"{base}/exports/{'é' * 32}?token={quoted}",
    ]
    for url in refused:
        status, body, headers = await _request(url)
        assert (status, body) == (404, NOT_FOUND_TEXT), url
        assert headers["Cache-Control"] == "no-store"
    for method in ("HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"):
        status, body, headers = await _request(result.link, method)
        assert status == 405, method
        assert export_id not in body
        assert headers["Cache-Control"] == "no-store"
    assert (await _request(result.link))[0] == 200
    outcomes = [e.outcome for e in await _events(env)]
    assert sorted(outcomes) == ["200"] + ["404"] * len(refused)  # no other method got through


async def test_head_then_get_on_one_connection_stays_in_step(env) -> None:
    """A HEAD answer carries no body: the next response on a kept-alive connection (a
    reverse proxy's pooled upstream) must start where the peer expects it."""
    result = await env.service.export_messages(make_messages(2), INFO, owner_id=OWNER)
    target = urllib.parse.urlsplit(result.link)
    reader, writer = await asyncio.open_connection(target.hostname, target.port)
    request_target = f"{target.path}?{target.query}"
    writer.write(
        f"HEAD {request_target} HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    )
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    head_response, _, rest = raw.partition(b"\r\n\r\n")
    assert head_response.startswith(b"HTTP/1.1 ")
    assert rest.startswith(b"HTTP/1.1 200"), rest[:40]
    assert rest.endswith(b"ok\n")


async def test_malformed_requests_never_log_their_token(env, caplog) -> None:
    """aiohttp logs a request it cannot parse with its request line (query string included)."""
    import logging

    result = await env.service.export_messages(make_messages(2), INFO, owner_id=OWNER)
    target = urllib.parse.urlsplit(result.link)
    token = urllib.parse.parse_qs(target.query)["token"][0]
    line = f"{target.path}?{target.query}"
    requests = [
        f"GET {line}\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
        f"GET {line} HTTP/9.9\r\nHost: x\r\n\r\n",
        f"GET {line}&pad={'b' * 9000} HTTP/1.1\r\nHost: x\r\n\r\n",
        f"GET {line} HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
    ]
    with caplog.at_level(logging.DEBUG):
        for request in requests:
            reader, writer = await asyncio.open_connection(target.hostname, target.port)
            writer.write(request.encode())
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(), 10)
            writer.close()
            assert answer.split(b" ", 2)[1].startswith(b"4"), answer[:40]
    logged = [
        f"{r.name} {r.getMessage()} {r.exc_text or ''} {r.exc_info or ''}" for r in caplog.records
    ]
    assert any("Error handling request" in text for text in logged)  # still logged...
    for text in logged:
        assert token[:16] not in text  # ...without the token or a piece of it
        assert token.split(".")[2][:12] not in text


async def test_no_store_is_consulted_before_the_token_holds(env) -> None:
    """Whether an export exists cannot leak through timing: a request whose token does not hold
    (forged, expired, for another export, malformed) never reaches the metadata or the store."""
    import os

    from securebot.crypto import Secret
    from securebot.exports import DownloadTokenSigner

    result = await env.service.export_messages(make_messages(2), INFO, owner_id=OWNER)
    export_id = result.record.export_id
    looked_up: list[str] = []
    original_get = env.metadata.get

    async def counting_get(wanted: str):
        looked_up.append(wanted)
        return await original_get(wanted)

    env.gateway.metadata.get = counting_get
    forged = DownloadTokenSigner(Secret(os.urandom(32)), clock=env.clock).mint(export_id, OWNER)
    other = env.gateway.signer.mint("e" * 32, OWNER)
    stale = env.gateway.signer.mint(export_id, OWNER, ttl=1)
    env.clock.now += 2
    for token in (forged, other, stale, "v1.x.y", ""):
        url = f"{env.base_url}/exports/{export_id}?token={urllib.parse.quote(token)}"
        assert (await _request(url))[:2] == (404, NOT_FOUND_TEXT)
    for unknown in ("e" * 32, "0" * 32):  # a well-formed id that does not exist, same answer
        url = f"{env.base_url}/exports/{unknown}?token={urllib.parse.quote(forged)}"
        assert (await _request(url))[:2] == (404, NOT_FOUND_TEXT)
    assert looked_up == []
    fresh = env.gateway.signer.mint(export_id, OWNER)
    assert (await _request(f"{env.base_url}/exports/{export_id}?token={fresh}"))[0] == 200
    assert looked_up == [export_id]


async def test_the_access_log_cannot_be_forged_through_the_path(env, caplog) -> None:
    """The access line shows the path as sent: an encoded line break cannot start a fake line."""
    import logging

    forged = "%0A127.0.0.1%20GET%20/exports/" + "a" * 32 + "%20200%200.1ms%E2%80%A8x%0D"
    target = urllib.parse.urlsplit(env.base_url)
    with caplog.at_level(logging.INFO, logger="securebot.gateway.access"):
        assert (await _request(f"{env.base_url}/exports/{forged}?token=x"))[0] == 404
        # The same, unencoded: UTF-8 line separators straight in the request line.
        reader, writer = await asyncio.open_connection(target.hostname, target.port)
        writer.write(
            b"GET /exports/\xe2\x80\xa8fake\xc2\x85line?token=x HTTP/1.1\r\n"
            b"Host: x\r\nConnection: close\r\n\r\n"
        )
        await writer.drain()
        await asyncio.wait_for(reader.read(), 10)
        writer.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "securebot.gateway.access"]
    assert len(lines) == 2
    for line in lines:
        assert len(line.splitlines()) == 1, line
        assert "token" not in line
