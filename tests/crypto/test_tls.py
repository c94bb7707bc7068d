"""Mutual TLS with our CA over real sockets on 127.0.0.1 (ssl + a server thread).

Every refusal is checked on the server side (the reason OpenSSL gives) and on the client side
(no echo comes back), so a test cannot pass because the harness itself is broken: the accepting
cases run through the very same harness.
"""

from __future__ import annotations

import os
import socket
import ssl
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from securebot.crypto import pki, tls
from securebot.errors import CertificateError


@dataclass
class PKI:
    root: pki.CertifiedKey
    intermediate: pki.CertifiedKey
    server: pki.CertifiedKey
    client: pki.CertifiedKey
    revoked_client: pki.CertifiedKey
    rogue_intermediate: pki.CertifiedKey
    rogue_client: pki.CertifiedKey
    crl_pem: bytes

    def chain(self, leaf: pki.CertifiedKey) -> bytes:
        return pki.bundle_pem(leaf.certificate, self.intermediate.certificate)


@pytest.fixture(scope="module")
def ca() -> PKI:
    root = pki.create_root()
    intermediate = pki.create_intermediate(root)
    rogue_root = pki.create_root("rogue root")
    rogue_intermediate = pki.create_intermediate(rogue_root, "securebot intermediate CA")
    revoked = pki.issue_client(intermediate, "revoked-bot")
    crl = pki.create_crl(intermediate, [revoked.certificate.serial_number])
    return PKI(
        root=root,
        intermediate=intermediate,
        server=pki.issue_server(intermediate, "redis", dns=["localhost"], ips=["127.0.0.1"]),
        client=pki.issue_client(intermediate, "bot"),
        revoked_client=revoked,
        rogue_intermediate=rogue_intermediate,
        rogue_client=pki.issue_client(rogue_intermediate, "bot"),
        crl_pem=crl.public_bytes(Encoding.PEM),
    )


@dataclass
class Outcome:
    server_error: BaseException | None = None
    client_error: BaseException | None = None
    reply: bytes = b""
    peer: dict[str, Any] = field(default_factory=dict)
    version: str | None = None

    @property
    def accepted(self) -> bool:
        return self.server_error is None and self.client_error is None and self.reply == b"HELLO"

    def server_reason(self) -> str:
        return str(self.server_error).lower()


def exchange(
    server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext, hostname: str = "localhost"
) -> Outcome:
    """One TLS connection on 127.0.0.1: the client sends ``hello``, the server echoes it upper."""
    outcome = Outcome()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def serve() -> None:
        try:
            conn, _ = listener.accept()
            conn.settimeout(10)
            with server_ctx.wrap_socket(conn, server_side=True) as stream:
                outcome.peer = stream.getpeercert() or {}
                outcome.version = stream.version()
                stream.sendall(stream.recv(5).upper())
        except (ssl.SSLError, OSError) as exc:
            outcome.server_error = exc

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with (
            socket.create_connection(listener.getsockname(), timeout=10) as raw,
            client_ctx.wrap_socket(raw, server_hostname=hostname) as stream,
        ):
            stream.sendall(b"hello")
            outcome.reply = stream.recv(5)
    except (ssl.SSLError, OSError) as exc:
        outcome.client_error = exc
    thread.join(15)
    listener.close()
    assert not thread.is_alive()
    return outcome


def server_ctx(ca: PKI, *, crl: bool = False) -> ssl.SSLContext:
    return tls.server_context(
        cert_chain_pem=ca.chain(ca.server),
        key_pem=ca.server.private_key_pem(),
        ca_pem=ca.root.certificate_pem(),
        crl_pem=ca.crl_pem if crl else None,
    )


def client_ctx(ca: PKI, leaf: pki.CertifiedKey | None, **kwargs: Any) -> ssl.SSLContext:
    if leaf is None:
        return tls.client_context(ca_pem=ca.root.certificate_pem(), **kwargs)
    issuer = ca.rogue_intermediate if leaf is ca.rogue_client else ca.intermediate
    return tls.client_context(
        ca_pem=ca.root.certificate_pem(),
        cert_chain_pem=pki.bundle_pem(leaf.certificate, issuer.certificate),
        key_pem=leaf.private_key_pem(),
        **kwargs,
    )


# --- accepted ------------------------------------------------------------------------------


def test_our_client_leaf_is_accepted_and_identified(ca: PKI) -> None:
    outcome = exchange(server_ctx(ca), client_ctx(ca, ca.client))
    assert outcome.accepted, outcome
    assert outcome.version == "TLSv1.3"
    assert outcome.peer["subjectAltName"] == (("URI", "urn:securebot:service:bot"),)


def test_tls_1_2_is_still_accepted(ca: PKI) -> None:
    client = client_ctx(ca, ca.client)
    client.maximum_version = ssl.TLSVersion.TLSv1_2
    outcome = exchange(server_ctx(ca), client)
    assert outcome.accepted, outcome
    assert outcome.version == "TLSv1.2"


def test_client_verifies_the_server_by_ip_address(ca: PKI) -> None:
    outcome = exchange(server_ctx(ca), client_ctx(ca, ca.client), hostname="127.0.0.1")
    assert outcome.accepted, outcome


def test_crl_checking_accepts_a_leaf_that_is_not_revoked(ca: PKI) -> None:
    outcome = exchange(server_ctx(ca, crl=True), client_ctx(ca, ca.client))
    assert outcome.accepted, outcome


# --- refused by the server -----------------------------------------------------------------


def test_client_without_certificate_is_refused(ca: PKI) -> None:
    outcome = exchange(server_ctx(ca), client_ctx(ca, None))
    assert not outcome.accepted
    assert outcome.reply == b""
    assert "peer did not return a certificate" in outcome.server_reason()


def test_client_signed_by_another_ca_is_refused(ca: PKI) -> None:
    outcome = exchange(server_ctx(ca), client_ctx(ca, ca.rogue_client))
    assert not outcome.accepted
    assert outcome.reply == b""
    assert "certificate verify failed" in outcome.server_reason()


def test_client_sending_its_leaf_alone_from_another_ca_is_refused(ca: PKI) -> None:
    rogue = ca.rogue_client
    client = tls.client_context(
        ca_pem=ca.root.certificate_pem(),
        cert_chain_pem=rogue.certificate_pem(),
        key_pem=rogue.private_key_pem(),
    )
    outcome = exchange(server_ctx(ca), client)
    assert not outcome.accepted
    assert "certificate verify failed" in outcome.server_reason()


def test_revoked_leaf_is_refused_when_crl_checking_is_on(ca: PKI) -> None:
    without_crl = exchange(server_ctx(ca), client_ctx(ca, ca.revoked_client))
    assert without_crl.accepted, "control: the revoked leaf is otherwise valid"
    outcome = exchange(server_ctx(ca, crl=True), client_ctx(ca, ca.revoked_client))
    assert not outcome.accepted
    assert outcome.reply == b""
    assert "certificate revoked" in outcome.server_reason()


def test_crl_checking_fails_closed_without_a_crl_for_the_issuer(ca: PKI) -> None:
    # A CRL from another CA is loaded, none from our intermediate: our valid leaf is refused.
    other = pki.create_intermediate(pki.create_root("other root"))
    server = tls.server_context(
        cert_chain_pem=ca.chain(ca.server),
        key_pem=ca.server.private_key_pem(),
        ca_pem=ca.root.certificate_pem(),
        crl_pem=pki.create_crl(other).public_bytes(Encoding.PEM),
    )
    outcome = exchange(server, client_ctx(ca, ca.client))
    assert not outcome.accepted
    assert "unable to get certificate crl" in outcome.server_reason()


def test_server_certificate_used_as_client_certificate_is_refused(ca: PKI) -> None:
    client = tls.client_context(
        ca_pem=ca.root.certificate_pem(),
        cert_chain_pem=ca.chain(ca.server),
        key_pem=ca.server.private_key_pem(),
    )
    outcome = exchange(server_ctx(ca), client)
    assert not outcome.accepted
    assert "unsuitable certificate purpose" in outcome.server_reason()


def test_tls_1_1_client_is_refused(ca: PKI) -> None:
    client = client_ctx(ca, ca.client)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        client.minimum_version = ssl.TLSVersion.TLSv1
        client.maximum_version = ssl.TLSVersion.TLSv1_1
    # Let this client really offer TLS 1.1 (OpenSSL 3's default security level would keep it
    # from even trying), so the refusal observed is the server's minimum version.
    client.set_ciphers("DEFAULT:@SECLEVEL=0")
    outcome = exchange(server_ctx(ca), client)
    assert not outcome.accepted
    assert outcome.reply == b""
    assert outcome.client_error is not None
    if "no protocols available" in str(outcome.client_error):
        # An OpenSSL built without TLS 1.1 cannot even offer it: the handshake fails either way.
        return
    # Here OpenSSL offers TLS 1.1 and our server refuses it (measured: the usual case).
    assert "unsupported protocol" in outcome.server_reason()


# --- refused by the client -----------------------------------------------------------------


def test_client_refuses_a_server_from_another_ca(ca: PKI) -> None:
    rogue_root = pki.create_root("rogue root")
    rogue_intermediate = pki.create_intermediate(rogue_root)
    rogue_server = pki.issue_server(rogue_intermediate, "redis", dns=["localhost"])
    server = tls.server_context(
        cert_chain_pem=pki.bundle_pem(rogue_server.certificate, rogue_intermediate.certificate),
        key_pem=rogue_server.private_key_pem(),
        ca_pem=ca.root.certificate_pem(),
    )
    outcome = exchange(server, client_ctx(ca, ca.client))
    assert not outcome.accepted
    assert "certificate verify failed" in str(outcome.client_error).lower()


def test_client_refuses_a_server_certificate_for_another_name(ca: PKI) -> None:
    outcome = exchange(server_ctx(ca), client_ctx(ca, ca.client), hostname="db.example")
    assert not outcome.accepted
    assert "hostname mismatch" in str(outcome.client_error).lower()


def test_client_refuses_a_client_certificate_presented_by_a_server(ca: PKI) -> None:
    server = tls.server_context(
        cert_chain_pem=ca.chain(ca.client),
        key_pem=ca.client.private_key_pem(),
        ca_pem=ca.root.certificate_pem(),
    )
    outcome = exchange(server, client_ctx(ca, ca.client, check_hostname=False))
    assert not outcome.accepted
    assert "unsuitable certificate purpose" in str(outcome.client_error).lower()


def test_client_refuses_a_revoked_server_with_crl(ca: PKI) -> None:
    revoked_server = pki.issue_server(ca.intermediate, "old-redis", dns=["localhost"])
    crl = pki.create_crl(ca.intermediate, [revoked_server.certificate.serial_number])
    server = tls.server_context(
        cert_chain_pem=ca.chain(revoked_server),
        key_pem=revoked_server.private_key_pem(),
        ca_pem=ca.root.certificate_pem(),
    )
    crl_pem = crl.public_bytes(Encoding.PEM)
    outcome = exchange(server, client_ctx(ca, ca.client, crl_pem=crl_pem))
    assert not outcome.accepted
    assert "certificate revoked" in str(outcome.client_error).lower()


# --- context policy and bad material -------------------------------------------------------


def test_contexts_require_tls_1_2_and_verified_peers(ca: PKI) -> None:
    server = server_ctx(ca)
    client = client_ctx(ca, ca.client)
    for context in (server, client):
        assert context.minimum_version == ssl.TLSVersion.TLSv1_2
        assert context.verify_mode == ssl.CERT_REQUIRED
        assert context.verify_flags & ssl.VERIFY_X509_STRICT
        assert not context.verify_flags & ssl.VERIFY_X509_PARTIAL_CHAIN
        # trust anchor = the root only, never the intermediate
        assert [c["subject"] for c in context.get_ca_certs()] == [
            ((("commonName", "securebot root CA"),),)
        ]
    assert client.check_hostname
    assert server_ctx(ca, crl=True).verify_flags & ssl.VERIFY_CRL_CHECK_LEAF


def test_key_that_does_not_match_the_chain_is_refused(ca: PKI) -> None:
    with pytest.raises(CertificateError, match="key belongs to the first certificate"):
        tls.server_context(
            cert_chain_pem=ca.chain(ca.server),
            key_pem=ca.client.private_key_pem(),
            ca_pem=ca.root.certificate_pem(),
        )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ca_pem": b"not a certificate"}, "CA is not PEM"),
        ({"cert_chain_pem": b"-----BEGIN CERTIFICATE-----\nAAAA\n"}, "chain is not PEM"),
        ({"key_pem": b"garbage"}, "not a readable PEM key"),
        ({"crl_pem": b"garbage"}, "not a PEM CRL"),
        ({"key_password": b"surprise"}, "not encrypted but a password"),
    ],
)
def test_bad_material_gives_a_clear_error(ca: PKI, changes: dict[str, bytes], message: str) -> None:
    arguments: dict[str, Any] = {
        "cert_chain_pem": ca.chain(ca.server),
        "key_pem": ca.server.private_key_pem(),
        "ca_pem": ca.root.certificate_pem(),
        **changes,
    }
    with pytest.raises(CertificateError, match=message):
        tls.server_context(**arguments)


def test_encrypted_key_needs_the_right_password(ca: PKI) -> None:
    encrypted = ca.client.private_key_pem(b"a long enough passphrase")
    base = {"ca_pem": ca.root.certificate_pem(), "cert_chain_pem": ca.chain(ca.client)}
    with pytest.raises(CertificateError, match="encrypted: give its password"):
        tls.client_context(key_pem=encrypted, **base)
    with pytest.raises(CertificateError, match="wrong password"):
        tls.client_context(key_pem=encrypted, key_password=b"not the passphrase", **base)
    context = tls.client_context(
        key_pem=encrypted, key_password=b"a long enough passphrase", **base
    )
    assert exchange(server_ctx(ca), context).accepted


def test_client_certificate_without_key_is_refused(ca: PKI) -> None:
    with pytest.raises(CertificateError, match="needs its private key"):
        tls.client_context(ca_pem=ca.root.certificate_pem(), cert_chain_pem=ca.chain(ca.client))


# --- in-memory files -----------------------------------------------------------------------


def test_memory_file_is_readable_sealed_and_gone_after_close() -> None:
    data = b"-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----\n"
    file = tls.memory_file(data)
    path = file.path
    assert path.startswith("/proc/self/fd/")
    assert os.readlink(path).startswith("/memfd:")  # anonymous memory, no file system
    with open(path, "rb") as handle:
        assert handle.read() == data
    writable = os.open(path, os.O_RDWR)
    try:
        with pytest.raises(PermissionError):  # sealed: nobody can change the material
            os.write(writable, b"x")
    finally:
        os.close(writable)
    assert repr(file) == f"MemoryFile({path})"
    assert "secret" not in repr(file)
    file.close()
    assert file.closed
    assert repr(file) == "MemoryFile(closed)"
    with pytest.raises(CertificateError, match="closed"):
        _ = file.path


def test_loading_leaves_no_descriptor_open(ca: PKI) -> None:
    before = set(os.listdir("/proc/self/fd"))
    for _ in range(3):
        server_ctx(ca, crl=True)
        client_ctx(ca, ca.client)
    after = set(os.listdir("/proc/self/fd"))
    assert after - before == set()


def test_without_memfd_the_error_says_why(ca: PKI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "memfd_create")
    with pytest.raises(CertificateError, match="memfd_create"):
        server_ctx(ca)
