"""The export pipeline end to end (without Discord), failure paths, and the no-leak guarantee:
the archive password appears in no log line, audit record, exception, stored document or file."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from securebot.core.audit import AuditLog, MemoryAuditStore
from securebot.crypto import FieldCipher, Keyring, Secret, install_redaction
from securebot.errors import CommandInputError, CorruptRecordError, ExportError
from securebot.exports import (
    DownloadTokenSigner,
    ExportFormat,
    ExportInfo,
    ExportService,
    FormatRegistry,
    LocalExportStore,
    MemoryExportMetadataStore,
    check_limit,
)
from securebot.exports.metadata import from_document

from .conftest import BASE, make_messages, run_7z

INFO = ExportInfo("#secret-plans (Guild)", BASE, channel_id=5, guild_id=6)


class Clock:
    now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def _service(tmp_path: Path, **kw) -> ExportService:
    clock = kw.pop("clock", Clock())
    return ExportService(
        store=LocalExportStore(tmp_path / "store", clock=clock),
        metadata=kw.pop(
            "metadata", MemoryExportMetadataStore(FieldCipher(Keyring.generate(), "exports"))
        ),
        signer=DownloadTokenSigner(Secret(os.urandom(32)), clock=clock),
        gateway_url="https://gw.example",
        clock=clock,
        **kw,
    )


async def test_export_records_metadata_and_seals_the_label(tmp_path: Path) -> None:
    service = _service(tmp_path)
    result = await service.export_messages(make_messages(30), INFO, owner_id=9)
    record = result.record
    assert (record.owner_id, record.guild_id, record.channel_id) == (9, 6, 5)
    assert record.expires_at - record.created_at == 30 * 86_400
    assert record.message_count == 30
    assert record.formats == ("csv", "jsonl", "html")
    assert record.object_key.startswith("exports/")
    assert "secret" not in record.object_key
    document = service.metadata.documents[record.export_id]
    assert isinstance(document["label"], bytes)
    assert b"secret-plans" not in document["label"]
    assert (await service.metadata.get(record.export_id)).label == INFO.title
    # A sealed label moved to another export does not open.
    moved = dict(document, export_id="0" * 32)
    with pytest.raises(CorruptRecordError):
        from_document(moved, service.metadata.cipher)
    data = (tmp_path / "store" / record.object_key).read_bytes()
    path = tmp_path / "a.7z"
    path.write_bytes(data)
    out = tmp_path / "out"
    assert run_7z("x", f"-p{result.password.reveal()}", f"-o{out}", str(path)).returncode == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "README.txt",
        "messages.csv",
        "messages.html",
        "messages.jsonl",
    ]
    readme = (out / "README.txt").read_text("utf-8")
    assert "Messages: 30" in readme
    assert "messages.jsonl: JSON Lines" in readme
    rows = [json.loads(x) for x in (out / "messages.jsonl").read_text("utf-8").splitlines()]
    assert [r["content"] for r in rows] == [m.content for m in make_messages(30)]


async def test_links_only_for_the_owner_and_not_after_expiry(tmp_path: Path) -> None:
    clock = Clock()
    service = _service(tmp_path, clock=clock)
    result = await service.export_messages(make_messages(2), INFO, owner_id=9)
    with pytest.raises(ExportError, match="only the person"):
        await service.link_for(result.record, 10)
    clock.now += 31 * 86_400
    with pytest.raises(ExportError, match="expired"):
        await service.link_for(result.record, 9)
    assert await service.purge_expired() == 1
    assert service.metadata.documents == {}
    assert not (tmp_path / "store" / result.record.object_key).exists()


async def test_failures_leave_nothing_behind(tmp_path: Path) -> None:
    def boom(messages, info):
        raise RuntimeError("renderer broke")

    registry = FormatRegistry()
    registry.register(ExportFormat("boom", "bin", "application/octet-stream", boom))
    service = _service(tmp_path, formats=registry)
    with pytest.raises(ExportError, match="'boom' failed"):
        await service.export_messages(make_messages(2), INFO, owner_id=9, formats=["boom"])
    with pytest.raises(ExportError, match="unknown export format"):
        await service.export_messages(make_messages(2), INFO, owner_id=9, formats=["pdf"])

    class FailingMetadata(MemoryExportMetadataStore):
        async def save(self, record) -> None:
            raise OSError("disk full")

    failing = _service(tmp_path, metadata=FailingMetadata())
    with pytest.raises(OSError, match="disk full"):
        await failing.export_messages(make_messages(2), INFO, owner_id=9)
    store_root = tmp_path / "store"
    leftovers = [p for p in store_root.rglob("*") if p.is_file()] if store_root.exists() else []
    assert leftovers == []
    with pytest.raises(CommandInputError, match="between 1 and 2000"):
        check_limit(2001)
    with pytest.raises(CommandInputError):
        check_limit(0)


async def test_the_password_never_leaks(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    undo = install_redaction()
    audit = AuditLog(MemoryAuditStore())
    metadata = MemoryExportMetadataStore(FieldCipher(Keyring.generate(), "exports"))
    service = _service(tmp_path, metadata=metadata, audit=audit)
    passwords: list[str] = []
    texts: list[str] = []
    try:
        with caplog.at_level(logging.DEBUG):
            for _ in range(3):
                result = await service.export_messages(make_messages(20), INFO, owner_id=9)
                passwords.append(result.password.reveal())
                texts += [repr(result), str(result), repr(result.password), f"{result.password}"]
                texts.append(repr(result.record))
                logging.getLogger("securebot.exports").info("made %s", result)
                # Someone carelessly logs the revealed password: the redactor removes it.
                logging.getLogger("securebot.exports").warning(
                    "debug: %s", result.password.reveal()
                )
            # Exceptions on the way (bad renderer, store refusing) carry no password.
            bad = ExportFormat("bad", "x", "text/plain", lambda m, i: 1 / 0)  # type: ignore[arg-type,return-value]
            service.formats.register(bad)
            try:
                await service.export_messages(make_messages(2), INFO, owner_id=9, formats=["bad"])
            except ExportError as exc:
                texts += [str(exc), repr(exc), repr(exc.__cause__)]
            await audit.flush()
        for record in caplog.records:
            texts.append(record.getMessage())
            texts.append(logging.Formatter().format(record))
        for chain in await audit.store.chains():
            for stored in await audit.store.read(chain):
                texts.append(repr(stored))
            texts += [repr(e) for e in await audit.entries(chain)]
        texts += [repr(d) for d in metadata.documents.values()]
        stored_files = [p.read_bytes() for p in (tmp_path / "store").rglob("*") if p.is_file()]
        assert len(stored_files) == 3
    finally:
        undo()
    haystack = "\n".join(texts)
    assert "made" in haystack  # the log capture worked
    assert len(passwords) == 3
    for pw in passwords:
        assert pw not in haystack
        for blob in stored_files:
            assert pw.encode() not in blob
            assert pw.encode("utf-16-le") not in blob


async def test_a_link_token_is_redacted_from_logs_until_it_expires(tmp_path: Path) -> None:
    """Links travel in a DM that discord.py logs at DEBUG: their bearer part is registered
    with the redactor for as long as it works, then forgotten."""
    import asyncio

    from securebot.crypto import redact

    service = _service(tmp_path)
    service.signer = DownloadTokenSigner(Secret(os.urandom(32)), ttl=1, clock=service.clock)
    result = await service.export_messages(make_messages(2), INFO, owner_id=5)
    token = result.link.split("token=", 1)[1]
    assert token not in redact(f"payload {{'content': '{result.link}'}}")
    await asyncio.sleep(1.2)
    assert token in redact(result.link)  # expired: the registry does not keep it
