"""docs/exports.md's gateway, run as an operator would in development: ``securebot gateway
serve`` naming the store, the keyring and the export directory, plain HTTP on loopback, a free
port. It says where it listens, and answers an unknown or forged link with the documented 404
and headers."""

from __future__ import annotations

import base64
import os
import re
import select
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

SECUREBOT = str(Path(sys.executable).parent / "securebot")
DOC = Path(__file__).parents[2] / "docs" / "exports.md"


def securebot(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SECUREBOT, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_the_documented_options_exist() -> None:
    shown = re.search(r"\$ securebot gateway serve --tls-cert.*?```", DOC.read_text(), re.DOTALL)
    assert shown is not None
    options = set(re.findall(r"(--[a-z-]+)", shown.group(0)))
    assert options == {"--tls-cert", "--tls-key", "--db", "--keyring", "--store-dir"}
    helped = subprocess.run(
        [SECUREBOT, "gateway", "serve", "--help"], capture_output=True, text=True, timeout=60
    )
    for option in options:
        assert option in helped.stdout


def test_serve_on_loopback_says_where_and_refuses_unknown_links(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SECUREBOT_KEK": base64.b64encode(os.urandom(32)).decode(),
        "SECUREBOT_EXPORT_TOKEN_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
    }
    for name in ("SECUREBOT_ENV", "SECUREBOT_CONFIG", "SECUREBOT_KEYRING", "SECUREBOT_STORAGE"):
        env.pop(name, None)
    made = securebot(
        "keys", "init", "--keyring", "keyring.json", "--provider", "env", env=env, cwd=tmp_path
    )
    assert made.returncode == 0, made.stderr
    store = securebot("storage", "migrate", "--db", "securebot.sqlite3", env=env, cwd=tmp_path)
    assert store.returncode == 0, store.stderr
    (tmp_path / "exports").mkdir()
    process = subprocess.Popen(
        [
            SECUREBOT,
            "gateway",
            "serve",
            "--port",
            "0",
            "--db",
            "securebot.sqlite3",
            "--keyring",
            "keyring.json",
            "--store-dir",
            "exports",
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 30)
        assert ready, "the gateway printed nothing within 30 s"
        first = process.stdout.readline()
        match = re.match(r"securebot gateway listening on (http://127\.0\.0\.1:(\d+)) ", first)
        assert match, first + (process.stderr.read() if process.poll() is not None else "")
        assert int(match.group(2)) > 0
        link = f"{match.group(1)}/exports/{uuid.uuid4().hex}?token=v1.forged.token"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(link, timeout=10)
        assert refused.value.code == 404
        assert refused.value.headers["Cache-Control"] == "no-store"
        assert refused.value.headers["Referrer-Policy"] == "no-referrer"
    finally:
        process.terminate()
        process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
