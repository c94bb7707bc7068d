"""The real PyMongo async client against nothing: a clear, secret-free error, not a hang."""

from __future__ import annotations

import socket

import pytest

from securebot.errors import BackendUnavailableError
from securebot.storage.mongo import MongoBackend, MongoSettings


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when we return: nothing listens


async def test_an_unreachable_server_gives_an_actionable_error_without_the_password() -> None:
    uri = f"mongodb://bot:s3cret-pw@127.0.0.1:{_closed_port()}/?directConnection=true"
    backend = MongoBackend(MongoSettings(uri=uri, server_selection_timeout_ms=300))
    try:
        with pytest.raises(BackendUnavailableError, match="check the URI") as caught:
            await backend.open()
        assert "s3cret-pw" not in str(caught.value)
        assert caught.value.__cause__ is None
        assert "s3cret-pw" not in repr(backend)
    finally:
        await backend.close()


def test_exactly_one_of_settings_or_database() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        MongoBackend()
    with pytest.raises(ValueError, match="exactly one"):
        MongoBackend(MongoSettings(uri="mongodb://h"), database=object())
