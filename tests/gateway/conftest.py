"""A running gateway over a local store, with a settable clock and a real audit log."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import pytest

from securebot.core.audit import AuditLog, MemoryAuditStore
from securebot.crypto import FieldCipher, Keyring, Secret
from securebot.exports import (
    DownloadTokenSigner,
    ExportService,
    LocalExportStore,
    MemoryExportMetadataStore,
    S3ExportStore,
)
from securebot.gateway import ExportGateway, create_app
from securebot.gateway.server import start


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@attrs.define
class Env:
    clock: Clock
    service: ExportService
    gateway: ExportGateway
    audit: AuditLog
    metadata: MemoryExportMetadataStore
    store: LocalExportStore
    base_url: str
    root: Path


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    clock = Clock()
    signer = DownloadTokenSigner(Secret(os.urandom(32)), ttl=900, clock=clock)
    store = LocalExportStore(tmp_path / "exports-store", clock=clock)
    metadata = MemoryExportMetadataStore(FieldCipher(Keyring.generate(), "exports"))
    audit = AuditLog(MemoryAuditStore())
    gateway = ExportGateway(
        signer=signer, metadata=metadata, stores={"local": store}, audit=audit, clock=clock
    )
    runner, port = await start(create_app(gateway, hsts=False))
    base = f"http://127.0.0.1:{port}"
    service = ExportService(
        store=store,
        metadata=metadata,
        signer=signer,
        gateway_url=base,
        audit=audit,
        clock=clock,
    )
    try:
        yield Env(clock, service, gateway, audit, metadata, store, base, tmp_path)
    finally:
        await runner.cleanup()


@pytest.fixture(scope="module")
def moto_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
async def moto_s3_store(moto_endpoint: str) -> S3ExportStore:
    import boto3
    from botocore.config import Config

    def client(service: str):
        return boto3.client(
            service,
            endpoint_url=moto_endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    key = client("kms").create_key()["KeyMetadata"]["Arn"]
    store = S3ExportStore(f"gw-{os.urandom(4).hex()}", kms_key_id=key, client=client("s3"))
    await store.ensure_bucket()
    return store
