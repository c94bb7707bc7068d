"""The download gateway: owners get their archive; expired, foreign and forged links get
nothing, all refusals look alike, and every request is audited without its token."""

from __future__ import annotations

import hashlib
import logging
import os
import ssl
import urllib.parse
from pathlib import Path

import aiohttp
import pytest
from tests.exports.conftest import BASE, make_messages, run_7z

from securebot.core.audit import AuditEvent, EventKind
from securebot.crypto import Secret
from securebot.exports import (
    DownloadTokenSigner,
    ExportInfo,
    ExportService,
    MemoryExportMetadataStore,
    S3ExportStore,
)
from securebot.gateway import ExportGateway, create_app
from securebot.gateway.app import HSTS_VALUE, NOT_FOUND_TEXT
from securebot.gateway.server import start

OWNER, OTHER = 111, 222
INFO = ExportInfo("#general (Guild)", BASE, channel_id=5, guild_id=6)


async def _events(env) -> list[AuditEvent]:
    await env.audit.flush()
    found = []
    for chain in await env.audit.store.chains():
        found.extend(e.event for e in await env.audit.entries(chain))
    return [e for e in found if e.kind is EventKind.HTTP]


async def test_the_owner_downloads_an_archive_7z_opens(env, tmp_path: Path) -> None:
    messages = make_messages(40)
    result = await env.service.export_messages(messages, INFO, owner_id=OWNER)
    assert result.link.startswith(f"{env.base_url}/exports/{result.record.export_id}?token=")
    async with aiohttp.ClientSession() as session, session.get(result.link) as response:
        assert response.status == 200
        body = await response.read()
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "Strict-Transport-Security" not in response.headers  # plain HTTP here
    assert hashlib.sha256(body).hexdigest() == result.record.sha256
    path = tmp_path / "dl.7z"
    path.write_bytes(body)
    tested = run_7z("t", f"-p{result.password.reveal()}", str(path))
    assert tested.returncode == 0, tested.stdout
    assert run_7z("t", "-pnope", str(path)).returncode != 0
    (event,) = await _events(env)
    assert (event.outcome, event.actor_id, event.guild_id) == ("200", OWNER, 6)
    assert event.detail["export_id"] == result.record.export_id
    assert "token" not in str(event.to_dict()).lower()


async def _get(url: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, allow_redirects=False) as response,
    ):
        body = await response.read()
        return response.status, body.decode("utf-8", "replace")


async def test_expired_foreign_forged_and_unknown_links_are_refused_alike(env) -> None:
    mine = await env.service.export_messages(make_messages(3), INFO, owner_id=OWNER)
    export_id = mine.record.export_id
    signer = env.gateway.signer
    other_user = f"{env.base_url}/exports/{export_id}?token={signer.mint(export_id, OTHER)}"
    other_export = await env.service.export_messages(make_messages(3), INFO, owner_id=OTHER)
    swapped = f"{env.base_url}/exports/{export_id}?token=" + urllib.parse.quote(
        signer.mint(other_export.record.export_id, OTHER)
    )
    forged_signer = DownloadTokenSigner(Secret(os.urandom(32)), clock=env.clock)
    forged = f"{env.base_url}/exports/{export_id}?token={forged_signer.mint(export_id, OWNER)}"
    unknown_id = "f" * 32
    unknown = f"{env.base_url}/exports/{unknown_id}?token={signer.mint(unknown_id, OWNER)}"
    cases = {
        "not-owner": other_user,
        "other-export": swapped,
        "bad-signature": forged,
        "unknown-export": unknown,
        "malformed": f"{env.base_url}/exports/{export_id}",
        "bad-id": f"{env.base_url}/exports/..%2f..%2fetc?token=x",
    }
    for url in cases.values():
        assert await _get(url) == (404, NOT_FOUND_TEXT)
    assert (await _get(mine.link))[0] == 200
    env.clock.now += 901  # the token's lifetime
    assert await _get(mine.link) == (404, NOT_FOUND_TEXT)
    reasons = [e.detail.get("reason") for e in await _events(env) if e.outcome == "404"]
    assert sorted(reasons) == sorted([*cases, "expired"])
    # A fresh token after the export's own retention is refused too.
    env.clock.now += 31 * 86_400
    late = f"{env.base_url}/exports/{export_id}?token={signer.mint(export_id, OWNER)}"
    assert await _get(late) == (404, NOT_FOUND_TEXT)
    reasons = [e.detail.get("reason") for e in await _events(env) if e.outcome == "404"]
    assert reasons.count("export-expired") == 1


async def test_access_log_lines_carry_no_token(env, caplog: pytest.LogCaptureFixture) -> None:
    result = await env.service.export_messages(make_messages(2), INFO, owner_id=OWNER)
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(result.link).query)["token"][0]
    with caplog.at_level(logging.DEBUG):
        assert (await _get(result.link))[0] == 200
        assert (await _get(result.link + "x"))[0] == 404
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert f"/exports/{result.record.export_id}" in text  # the access was logged...
    assert token not in text  # ...without its token
    assert token[:20] not in text


async def test_https_responses_carry_hsts(tmp_path: Path) -> None:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    gateway = ExportGateway(
        signer=DownloadTokenSigner(Secret(os.urandom(32))),
        metadata=MemoryExportMetadataStore(),
        stores={},
    )
    runner, port = await start(create_app(gateway, hsts=True), ssl_context=server_ctx)
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                f"https://127.0.0.1:{port}/exports/{'a' * 32}?token=x", ssl=client_ctx
            ) as response,
        ):
            assert response.status == 404
            assert response.headers["Strict-Transport-Security"] == HSTS_VALUE
    finally:
        await runner.cleanup()


async def test_s3_exports_redirect_to_a_short_presigned_url(moto_s3_store: S3ExportStore) -> None:
    clock_now = [1_800_000_000.0]
    signer = DownloadTokenSigner(Secret(os.urandom(32)), clock=lambda: clock_now[0])
    metadata = MemoryExportMetadataStore()
    gateway = ExportGateway(
        signer=signer, metadata=metadata, stores={"s3": moto_s3_store}, clock=lambda: clock_now[0]
    )
    runner, port = await start(create_app(gateway, hsts=False))
    service = ExportService(
        store=moto_s3_store,
        metadata=metadata,
        signer=signer,
        gateway_url=f"http://127.0.0.1:{port}",
        clock=lambda: clock_now[0],
    )
    try:
        result = await service.export_messages(make_messages(5), INFO, owner_id=OWNER)
        async with (
            aiohttp.ClientSession() as session,
            session.get(result.link, allow_redirects=False) as response,
        ):
            assert response.status == 302
            location = response.headers["Location"]
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
        assert int(query["X-Amz-Expires"][0]) <= 300
        assert query["response-content-disposition"][0].startswith("attachment;")
        async with aiohttp.ClientSession() as session, session.get(location) as response:
            body = await response.read()
        assert hashlib.sha256(body).hexdigest() == result.record.sha256
    finally:
        await runner.cleanup()


async def test_a_failing_or_emptied_store_gets_503_or_404_and_is_audited(env) -> None:
    from securebot.errors import BackendUnavailableError
    from securebot.gateway.app import UNAVAILABLE_TEXT

    result = await env.service.export_messages(make_messages(2), INFO, owner_id=OWNER)
    original = env.store.presign

    async def broken(*args, **kwargs):
        raise BackendUnavailableError("S3 get_object on bucket 'x' failed: ConnectTimeout")

    env.store.presign = broken
    assert await _get(result.link) == (503, UNAVAILABLE_TEXT)
    env.store.presign = original
    await env.store.delete(result.record.object_key)
    assert await _get(result.link) == (404, NOT_FOUND_TEXT)
    outcomes = [(e.outcome, e.detail.get("reason")) for e in await _events(env)]
    assert ("503", "store-error:BackendUnavailableError") in outcomes
    assert ("404", "object-missing") in outcomes
