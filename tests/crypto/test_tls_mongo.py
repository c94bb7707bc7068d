"""PyMongo takes our in-memory TLS material (:class:`securebot.crypto.tls.MongoTLS`).

No mongod can be obtained here, so the peer is a TLS server built from our own server context on
127.0.0.1: it completes the mutual-TLS handshake, records the client certificate PyMongo
presented and the first bytes PyMongo sent through the tunnel (a MongoDB wire-protocol hello),
then hangs up. That proves PyMongo loaded chain, key and CA from the memory files and verified
our server; MongoDB's own X.509 authentication is not exercised.
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pymongo
import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from pymongo.errors import ServerSelectionTimeoutError

from securebot.crypto import pki, tls
from securebot.errors import CertificateError

pytestmark = pytest.mark.slow

OP_MSG, OP_QUERY = 2013, 2004


@dataclass
class Peer:
    port: int
    handshakes: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    first_bytes: list[bytes] = field(default_factory=list)


@pytest.fixture(scope="module")
def ca() -> dict[str, pki.CertifiedKey]:
    root = pki.create_root()
    intermediate = pki.create_intermediate(root)
    return {
        "root": root,
        "intermediate": intermediate,
        "server": pki.issue_server(intermediate, "mongo", dns=["localhost"], ips=["127.0.0.1"]),
        "client": pki.issue_client(intermediate, "bot"),
    }


@pytest.fixture
def peer(ca: dict[str, pki.CertifiedKey]) -> Iterator[Peer]:
    context = tls.server_context(
        cert_chain_pem=pki.bundle_pem(ca["server"].certificate, ca["intermediate"].certificate),
        key_pem=ca["server"].private_key_pem(),
        ca_pem=ca["root"].certificate_pem(),
    )
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    result = Peer(port=listener.getsockname()[1])
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.settimeout(5)
            try:
                with context.wrap_socket(conn, server_side=True) as stream:
                    result.handshakes.append(stream.getpeercert() or {})
                    result.first_bytes.append(stream.recv(16))
            except (ssl.SSLError, OSError) as exc:
                result.errors.append(str(exc))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield result
    finally:
        stop.set()
        thread.join(10)
        listener.close()


def attempt(peer: Peer, material: tls.MongoTLS) -> None:
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        "127.0.0.1",
        peer.port,
        directConnection=True,
        serverSelectionTimeoutMS=1500,
        connectTimeoutMS=1500,
        **material.kwargs(),
    )
    try:
        with pytest.raises(ServerSelectionTimeoutError):  # the peer is not a real mongod
            client.admin.command("ping")
    finally:
        client.close()


def test_pymongo_presents_our_client_certificate_from_memory(
    ca: dict[str, pki.CertifiedKey], peer: Peer
) -> None:
    client = ca["client"]
    with tls.MongoTLS(
        ca_pem=ca["root"].certificate_pem(),
        cert_chain_pem=pki.bundle_pem(client.certificate, ca["intermediate"].certificate),
        key_pem=client.private_key_pem(),
    ) as material:
        for key in ("tlsCAFile", "tlsCertificateKeyFile"):
            assert material.kwargs()[key].startswith("/proc/self/fd/")
        attempt(peer, material)
    assert peer.handshakes, peer.errors
    assert peer.handshakes[0]["subjectAltName"] == (("URI", "urn:securebot:service:bot"),)
    # PyMongo then spoke the MongoDB wire protocol through the tunnel
    _length, _request, _response, opcode = struct.unpack("<iiii", peer.first_bytes[0])
    assert opcode in (OP_MSG, OP_QUERY)
    assert repr(material) == "MongoTLS(closed)"


def test_pymongo_trusting_another_root_refuses_our_server(
    ca: dict[str, pki.CertifiedKey], peer: Peer
) -> None:
    client = ca["client"]
    with tls.MongoTLS(
        ca_pem=pki.create_root("other root").certificate_pem(),
        cert_chain_pem=pki.bundle_pem(client.certificate, ca["intermediate"].certificate),
        key_pem=client.private_key_pem(),
    ) as material:
        attempt(peer, material)
    assert peer.handshakes == []
    assert any("unknown ca" in error for error in peer.errors), peer.errors


def test_pymongo_without_our_client_certificate_is_refused(
    ca: dict[str, pki.CertifiedKey], peer: Peer
) -> None:
    rogue_root = pki.create_root("rogue root")
    rogue_intermediate = pki.create_intermediate(rogue_root)
    rogue = pki.issue_client(rogue_intermediate, "bot")
    with tls.MongoTLS(
        ca_pem=ca["root"].certificate_pem(),
        cert_chain_pem=pki.bundle_pem(rogue.certificate, rogue_intermediate.certificate),
        key_pem=rogue.private_key_pem(),
    ) as material:
        attempt(peer, material)
    assert peer.handshakes == []
    assert any("certificate verify failed" in error for error in peer.errors), peer.errors


def test_mongo_material_is_validated(ca: dict[str, pki.CertifiedKey]) -> None:
    with pytest.raises(CertificateError, match="not a PEM CRL"):
        tls.MongoTLS(
            ca_pem=ca["root"].certificate_pem(),
            cert_chain_pem=ca["client"].certificate_pem(),
            key_pem=ca["client"].private_key_pem(),
            crl_pem=b"nope",
        )
    crl = pki.create_crl(ca["intermediate"]).public_bytes(Encoding.PEM)
    with (
        tls.MongoTLS(
            ca_pem=ca["root"].certificate_pem(),
            cert_chain_pem=ca["client"].certificate_pem(),
            key_pem=ca["client"].private_key_pem(),
            crl_pem=crl,
        ) as material,
        open(material.kwargs()["tlsCRLFile"], "rb") as handle,
    ):
        assert handle.read() == crl
