"""Object stores: the local directory (atomic writes, purge) and S3 against moto's server."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import stat
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from securebot.errors import ExportError, RecordNotFoundError
from securebot.exports import LocalExportStore, S3ExportStore, new_object_key
from securebot.exports.stores import is_object_key
from securebot.exports.stores.s3 import LIFECYCLE_RULE_ID

DAY = 86_400.0
NOW = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_object_keys_reveal_nothing() -> None:
    key = new_object_key(NOW)
    assert key.startswith("exports/2026/11/")
    assert key.endswith(".7z")
    assert is_object_key(key)
    assert new_object_key(NOW) != key
    for bad in ("exports/2026/11/../../etc/passwd", "other/2026/11/x.7z", key + ".tmp", ""):
        assert not is_object_key(bad)


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_local_store_round_trip_is_private_and_atomic(tmp_path: Path) -> None:
    store = LocalExportStore(tmp_path / "store")
    key = new_object_key(NOW)
    data = os.urandom(300_000)
    await store.put(key, data, sha256=_sha(data))
    assert await store.read(key) == data
    path = tmp_path / "store" / key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left
    assert await store.presign(key, expires_in=60, filename="x.7z") is None
    with pytest.raises(ExportError, match="SHA-256"):
        await store.put(new_object_key(NOW), data, sha256=_sha(b"other"))
    with pytest.raises(RecordNotFoundError):
        await store.read(new_object_key(NOW))
    with pytest.raises(RecordNotFoundError):
        await store.read("exports/../../secret")
    assert await store.delete(key) is True
    assert await store.delete(key) is False


async def test_local_purge_removes_objects_past_retention_and_nothing_else(tmp_path: Path) -> None:
    clock = FakeClock(1_800_000_000.0)
    store = LocalExportStore(tmp_path, retention=dt.timedelta(days=30), clock=clock)
    old_key, young_key = new_object_key(NOW), new_object_key(NOW)
    await store.put(old_key, b"old", sha256=_sha(b"old"))
    clock.now += 10 * DAY
    await store.put(young_key, b"young", sha256=_sha(b"young"))
    # Things that are not export objects, however old, are never touched.
    stray = tmp_path / "exports" / "2026" / "11" / "notes.txt"
    stray.write_text("keep me")
    odd = tmp_path / "exports" / "2026" / "11" / "not-a-uuid.7z"
    odd.write_bytes(b"keep me too")
    other = tmp_path / "backups" / "db.7z"
    other.parent.mkdir()
    other.write_bytes(b"backup")
    for path in (stray, odd, other):
        os.utime(path, (0, 0))
    clock.now += 19 * DAY  # old: 29 days, young: 19 days
    assert await store.purge() == 0
    clock.now += 1 * DAY + 1  # old: just over 30 days
    assert await store.purge() == 1
    assert not await store.exists(old_key)
    assert await store.read(young_key) == b"young"
    assert stray.read_text() == "keep me"
    assert odd.read_bytes() == b"keep me too"
    assert other.read_bytes() == b"backup"
    clock.now += 10 * DAY
    assert await store.purge() == 1
    assert not await store.exists(young_key)
    assert stray.exists()


async def test_local_purge_deletes_nothing_through_a_directory_swapped_after_the_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(1_800_000_000.0)
    store = LocalExportStore(tmp_path / "store", clock=clock)
    key = new_object_key(NOW)
    await store.put(key, b"old", sha256=_sha(b"old"))
    month = (tmp_path / "store" / key).parent
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / Path(key).name
    victim.write_bytes(b"not the store's")
    os.utime(victim, (0, 0))
    scan = Path.rglob

    def scan_then_swap(self: Path, pattern: str) -> Iterator[Path]:
        found = list(scan(self, pattern))
        (month / Path(key).name).unlink()  # the month directory becomes a link outside
        month.rmdir()
        month.symlink_to(outside, target_is_directory=True)
        return iter(found)

    monkeypatch.setattr(Path, "rglob", scan_then_swap)
    clock.now += 31 * DAY
    assert await store.purge() == 0
    assert victim.read_bytes() == b"not the store's"


# --- S3 against moto's server ------------------------------------------------------------------

boto3 = pytest.importorskip("boto3")


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _client(endpoint: str, service: str):
    from botocore.config import Config

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


@pytest.fixture
async def s3_store(moto_endpoint: str) -> S3ExportStore:
    kms = _client(moto_endpoint, "kms")
    key_id = kms.create_key(Description="exports")["KeyMetadata"]["Arn"]
    bucket = f"securebot-exports-{os.urandom(4).hex()}"
    store = S3ExportStore(bucket, kms_key_id=key_id, client=_client(moto_endpoint, "s3"))
    await store.ensure_bucket()
    await store.ensure_bucket()  # idempotent
    return store


async def test_s3_bucket_is_private_encrypted_and_expires_exports(s3_store: S3ExportStore) -> None:
    client = s3_store.client
    block = client.get_public_access_block(Bucket=s3_store.bucket)["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    enc = client.get_bucket_encryption(Bucket=s3_store.bucket)["ServerSideEncryptionConfiguration"]
    default = enc["Rules"][0]["ApplyServerSideEncryptionByDefault"]
    assert default["SSEAlgorithm"] == "aws:kms"
    assert default["KMSMasterKeyID"] == s3_store.kms_key_id
    rules = client.get_bucket_lifecycle_configuration(Bucket=s3_store.bucket)["Rules"]
    (rule,) = [r for r in rules if r["ID"] == LIFECYCLE_RULE_ID]
    assert rule["Status"] == "Enabled"
    assert rule["Filter"] == {"Prefix": "exports/"}
    assert rule["Expiration"] == {"Days": 30}
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}


async def test_s3_objects_are_stored_with_sse_kms_and_a_checksum(s3_store: S3ExportStore) -> None:
    sent: list[dict[str, str]] = []

    def capture(request, **kwargs) -> None:
        sent.append({k.lower(): v for k, v in request.headers.items()})

    s3_store.client.meta.events.register("before-send.s3.PutObject", capture)
    key = new_object_key(NOW)
    data = os.urandom(50_000)
    await s3_store.put(key, data, sha256=_sha(data))
    head = s3_store.client.head_object(Bucket=s3_store.bucket, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == s3_store.kms_key_id
    # moto stores SSE but neither keeps nor verifies checksums: check what we sent (real S3
    # rejects a body that does not match this header).
    (headers,) = sent
    expected = base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert _text(headers["x-amz-checksum-sha256"]) == expected
    assert _text(headers["x-amz-server-side-encryption"]) == "aws:kms"
    assert b"".join([c async for c in s3_store.stream(key)]) == data
    with pytest.raises(ExportError, match="non-export key"):
        await s3_store.put("public/index.html", data, sha256=_sha(data))
    with pytest.raises(RecordNotFoundError):
        _ = [c async for c in s3_store.stream(new_object_key(NOW))]


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def test_s3_presigned_urls_are_short_lived_attachments(s3_store: S3ExportStore) -> None:
    key = new_object_key(NOW)
    data = b"archive bytes"
    await s3_store.put(key, data, sha256=_sha(data))
    url = await s3_store.presign(key, expires_in=300, filename='a"b/../c.7z')
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["300"]
    assert query["response-content-disposition"] == ['attachment; filename="ab..c.7z"']
    # moto does not enforce expiry, so the clamp is ours: asking for a week gives ≤ 15 minutes.
    long_url = await s3_store.presign(key, expires_in=7 * 86_400, filename="x.7z")
    expires = int(urllib.parse.parse_qs(urllib.parse.urlsplit(long_url).query)["X-Amz-Expires"][0])
    assert expires <= 900
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert await response.read() == data
        assert response.headers["Content-Disposition"].startswith("attachment")


def test_s3_store_refuses_missing_bucket_or_kms_key() -> None:
    with pytest.raises(ExportError, match="KMS key"):
        S3ExportStore("bucket", kms_key_id="")
    with pytest.raises(ExportError, match="bucket"):
        S3ExportStore("", kms_key_id="k")


async def test_local_store_never_follows_links_out_of_its_root(tmp_path: Path) -> None:
    """Someone able to plant links in the store directory gets no write, read or delete
    outside it: a linked month directory and a linked archive are refused."""
    root, outside = tmp_path / "store", tmp_path / "outside"
    (root / "exports").mkdir(parents=True)
    (outside / "11").mkdir(parents=True)
    (root / "exports" / "2026").symlink_to(outside, target_is_directory=True)
    key = new_object_key(NOW)  # exports/2026/11/<uuid>.7z: through the link
    store = LocalExportStore(root)
    with pytest.raises(ExportError):
        await store.put(key, b"archive", sha256=_sha(b"archive"))
    assert list((outside / "11").iterdir()) == []
    victim = outside / "11" / key.rsplit("/", 1)[1]
    victim.write_bytes(b"not the store's")
    with pytest.raises(ExportError):
        await store.read(key)
    assert await store.exists(key) is False
    assert await store.delete(key) is False
    store.clock = lambda: 4_000_000_000.0  # everything is past retention
    await store.purge()
    assert victim.read_bytes() == b"not the store's"

    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"TOPSECRET")
    linked = "exports/2025/01/" + key.rsplit("/", 1)[1]
    (root / "exports" / "2025" / "01").mkdir(parents=True)
    (root / linked).symlink_to(secret)
    with pytest.raises(ExportError):
        await store.read(linked)  # the gateway would have streamed the file
    assert await store.exists(linked) is False
    assert await store.delete(linked) is True  # the link inside the root goes, not its target
    assert secret.read_bytes() == b"TOPSECRET"


def test_an_object_key_with_a_trailing_newline_is_no_key() -> None:
    key = new_object_key(NOW)
    assert is_object_key(key)
    assert not is_object_key(key + "\n")
