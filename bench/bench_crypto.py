"""Field crypto against its primitives (crypto-design §3.1-3.2, issue 5 done-means 4).

* ``crypto.record``: ``FieldCipher.encrypt`` + ``decrypt`` of a typical settings record (a dict,
  ~300 bytes of JSON) against the anchor ``json.dumps → cached AESGCM → bytes`` and back, same
  associated data; target <= 1.5. Measured for a global and a guild-scoped context (the guild
  key is derived once and cached).
* ``crypto.blind_index``: ``BlindIndex.compute`` (NFKC + casefold + strip + per-field key
  lookup + HMAC-SHA256, truncated) against raw ``hmac.digest`` of the same value; target <= 1.5.
* ``crypto.str64``: a 64-character string field against ``encode → AESGCM → bytes``; shown for
  information on where the fixed per-call cost sits (target <= 2, the envelope's fixed work is a
  larger share of a tiny value).
"""

from __future__ import annotations

import hmac
import json
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bench.harness import Result, compare
from securebot.crypto import BlindIndex, FieldCipher, FieldContext, Keyring

RECORD = {
    "guild_id": "843254108211212345",
    "prefix": "!",
    "mod_roles": ["843254108211212346", "843254108211212347"],
    "welcome": "Welcome {user} to the server! Read #rules and pick roles in #roles.",
    "log_channel": "843254108211212399",
    "automod": {"invites": True, "caps_percent": 70, "mentions": 5},
    "points": {"warn": 1, "mute": 3, "kick": 5, "ban": 10},
    "locale": "en-GB",
}
TEXT = "x" * 64
INDEX_VALUE = "Moderator Role"


def _record(name: str, keyring: Keyring, ctx: FieldContext) -> Result:
    cipher = FieldCipher(keyring, "settings")
    aead = AESGCM(os.urandom(32))
    aad = ctx.aad

    def ours() -> object:
        return cipher.decrypt(cipher.encrypt(RECORD, ctx), ctx)

    def anchor() -> object:
        nonce = os.urandom(12)
        blob = nonce + aead.encrypt(nonce, json.dumps(RECORD).encode(), aad)
        return json.loads(aead.decrypt(blob[:12], blob[12:], aad))

    assert ours() == anchor() == RECORD
    return compare(name, ours, anchor, target=1.5, number=5_000, detail="enc+dec")


def _str64(keyring: Keyring, ctx: FieldContext) -> Result:
    cipher = FieldCipher(keyring, "messages")
    aead = AESGCM(os.urandom(32))
    aad = ctx.aad

    def ours() -> object:
        return cipher.decrypt(cipher.encrypt(TEXT, ctx), ctx)

    def anchor() -> object:
        nonce = os.urandom(12)
        blob = nonce + aead.encrypt(nonce, TEXT.encode(), aad)
        return aead.decrypt(blob[:12], blob[12:], aad).decode()

    return compare("crypto.str64", ours, anchor, target=2.0, number=10_000, detail="enc+dec")


def _blind_index(keyring: Keyring, ctx: FieldContext) -> Result:
    index = BlindIndex(keyring)
    key = os.urandom(32)

    def ours() -> object:
        return index.compute(INDEX_VALUE, ctx)

    def anchor() -> object:
        return hmac.digest(key, INDEX_VALUE.encode(), "sha256")[:8]

    return compare("crypto.blind_index", ours, anchor, target=1.5, number=20_000)


def run() -> list[Result]:
    """Time field encryption and blind indexes against their anchors."""
    keyring = Keyring.generate()
    global_ctx = FieldContext("settings", "config", "843254108211212345")
    guild_ctx = FieldContext("settings", "config", "843254108211212345", scope="843254108211212345")
    return [
        _record("crypto.record", keyring, global_ctx),
        _record("crypto.record[guild]", keyring, guild_ctx),
        _str64(keyring, guild_ctx),
        _blind_index(keyring, guild_ctx),
    ]
