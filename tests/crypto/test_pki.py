"""The internal CA: certificate profiles, refusals with clear errors, CRLs, chain verification."""

from __future__ import annotations

import datetime as dt
import ipaddress
import pickle

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from hypothesis import given
from hypothesis import strategies as st

from securebot.crypto import pki
from securebot.errors import CertificateError

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
PASSPHRASE = b"correct horse battery staple"


@pytest.fixture(scope="module")
def root() -> pki.CertifiedKey:
    return pki.create_root(now=NOW)


@pytest.fixture(scope="module")
def intermediate(root: pki.CertifiedKey) -> pki.CertifiedKey:
    return pki.create_intermediate(root, now=NOW)


def ext(cert: x509.Certificate, kind: type[x509.ExtensionType]) -> x509.Extension:  # type: ignore[type-arg]
    return cert.extensions.get_extension_for_class(kind)


# --- profiles ------------------------------------------------------------------------------


def test_root_profile(root: pki.CertifiedKey) -> None:
    cert = root.certificate
    assert isinstance(root.private_key.curve, ec.SECP384R1)
    assert cert.subject == cert.issuer
    cert.verify_directly_issued_by(cert)  # self-signed
    constraints = ext(cert, x509.BasicConstraints)
    assert constraints.critical
    assert constraints.value.ca
    assert constraints.value.path_length == 1
    usage = ext(cert, x509.KeyUsage)
    assert usage.critical
    assert usage.value.key_cert_sign
    assert usage.value.crl_sign
    assert not usage.value.digital_signature
    assert cert.not_valid_after_utc - NOW == dt.timedelta(days=3650)
    assert cert.not_valid_before_utc < NOW  # a little back-dated for clock skew
    assert root.is_ca


def test_intermediate_profile(root: pki.CertifiedKey, intermediate: pki.CertifiedKey) -> None:
    cert = intermediate.certificate
    assert isinstance(intermediate.private_key.curve, ec.SECP256R1)
    cert.verify_directly_issued_by(root.certificate)
    assert ext(cert, x509.BasicConstraints).value.path_length == 0
    assert ext(cert, x509.BasicConstraints).value.ca
    aki = ext(cert, x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ext(root.certificate, x509.SubjectKeyIdentifier).value.digest
    assert cert.not_valid_after_utc - NOW == dt.timedelta(days=730)


def test_server_leaf_profile(intermediate: pki.CertifiedKey) -> None:
    leaf = pki.issue_server(
        intermediate, "redis", dns=["Redis.Internal."], ips=["10.0.0.5", "::1"], now=NOW
    )
    cert = leaf.certificate
    cert.verify_directly_issued_by(intermediate.certificate)
    assert not leaf.is_ca
    assert ext(cert, x509.BasicConstraints).critical
    assert ext(cert, x509.KeyUsage).value.digital_signature
    assert ext(cert, x509.ExtendedKeyUsage).value == x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.SERVER_AUTH]
    )
    san = ext(cert, x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["redis.internal"]
    assert san.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("10.0.0.5"),
        ipaddress.ip_address("::1"),
    ]
    assert cert.not_valid_after_utc - NOW == dt.timedelta(days=60)


def test_client_leaf_profile(intermediate: pki.CertifiedKey) -> None:
    leaf = pki.issue_client(intermediate, "giselle-bot", days=30, now=NOW)
    cert = leaf.certificate
    assert ext(cert, x509.ExtendedKeyUsage).value == x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.CLIENT_AUTH]
    )
    san = ext(cert, x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [
        "urn:securebot:service:giselle-bot"
    ]
    assert pki.service_name(cert) == "giselle-bot"
    assert cert.not_valid_after_utc - NOW == dt.timedelta(days=30)


def test_serials_are_random_and_distinct(intermediate: pki.CertifiedKey) -> None:
    serials = {
        pki.issue_client(intermediate, "bot", now=NOW).certificate.serial_number for _ in range(5)
    }
    assert len(serials) == 5
    assert all(s.bit_length() > 64 for s in serials)


# --- keys ----------------------------------------------------------------------------------


def test_ca_key_is_written_encrypted_and_reloads_with_the_passphrase(
    root: pki.CertifiedKey,
) -> None:
    pem = root.private_key_pem(PASSPHRASE)
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    loaded = pki.load_certified_key(root.certificate_pem(), pem, PASSPHRASE)
    assert loaded.private_key.private_numbers() == root.private_key.private_numbers()


def test_ca_key_is_never_written_in_clear(root: pki.CertifiedKey) -> None:
    with pytest.raises(CertificateError, match="only ever written encrypted"):
        root.private_key_pem()


def test_short_passphrase_is_refused(root: pki.CertifiedKey) -> None:
    with pytest.raises(CertificateError, match="too short"):
        root.private_key_pem(b"short")


def test_wrong_passphrase_is_a_clear_error(root: pki.CertifiedKey) -> None:
    pem = root.private_key_pem(PASSPHRASE)
    with pytest.raises(CertificateError, match="wrong passphrase"):
        pki.load_private_key(pem, b"not the passphrase at all")
    with pytest.raises(CertificateError, match="a passphrase is needed"):
        pki.load_private_key(pem)


def test_leaf_key_may_be_written_in_clear_for_services(intermediate: pki.CertifiedKey) -> None:
    leaf = pki.issue_client(intermediate, "bot", now=NOW)
    assert leaf.private_key_pem().startswith(b"-----BEGIN PRIVATE KEY-----")
    with pytest.raises(CertificateError, match="not encrypted but a passphrase"):
        pki.load_private_key(leaf.private_key_pem(), PASSPHRASE)


def test_key_of_another_certificate_is_refused(
    root: pki.CertifiedKey, intermediate: pki.CertifiedKey
) -> None:
    with pytest.raises(CertificateError, match="does not belong"):
        pki.CertifiedKey(root.certificate, intermediate.private_key)


def test_no_key_material_in_repr_and_no_pickling(root: pki.CertifiedKey) -> None:
    text = repr(root) + str(root)
    secret = root.private_key.private_numbers().private_value
    assert str(secret) not in text
    assert f"{secret:x}" not in text
    assert "CN=securebot root CA" in text
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(root)


@given(st.binary(max_size=300))
def test_loading_garbage_raises_only_certificate_errors(data: bytes) -> None:
    for load in (pki.load_certificate, pki.load_private_key, pki.load_crl):
        with pytest.raises(CertificateError):
            load(data)


# --- refusals ------------------------------------------------------------------------------


def test_intermediate_cannot_sign_another_ca(intermediate: pki.CertifiedKey) -> None:
    with pytest.raises(CertificateError, match="path length 0: it may sign leaves only"):
        pki.create_intermediate(intermediate, now=NOW)


def test_root_does_not_sign_leaves(root: pki.CertifiedKey) -> None:
    with pytest.raises(CertificateError, match="leaves are issued by the intermediate"):
        pki.issue_client(root, "bot", now=NOW)


def test_a_leaf_signs_nothing(intermediate: pki.CertifiedKey) -> None:
    leaf = pki.issue_client(intermediate, "bot", now=NOW)
    with pytest.raises(CertificateError, match="not a CA certificate"):
        pki.issue_client(leaf, "other", now=NOW)
    with pytest.raises(CertificateError, match="not a CA certificate"):
        pki.create_crl(leaf, now=NOW)


def test_expired_issuer_is_refused() -> None:
    old_root = pki.create_root(days=365, now=NOW - dt.timedelta(days=400))
    with pytest.raises(CertificateError, match="expired on .*renew it"):
        pki.create_intermediate(old_root, now=NOW)


def test_issuer_not_yet_valid_is_refused(root: pki.CertifiedKey) -> None:
    with pytest.raises(CertificateError, match="not valid before"):
        pki.create_intermediate(root, now=NOW - dt.timedelta(days=30))


def test_certificate_cannot_outlive_its_issuer(root: pki.CertifiedKey) -> None:
    late = NOW + dt.timedelta(days=3650 - 100)
    with pytest.raises(CertificateError, match="outlive its issuer.*at most 100 days"):
        pki.create_intermediate(root, days=365, now=late)


@pytest.mark.parametrize(
    ("days", "allowed"), [(0, False), (1, True), (90, True), (91, False), (365, False)]
)
def test_leaf_lifetime_is_short(intermediate: pki.CertifiedKey, days: int, allowed: bool) -> None:
    if allowed:
        cert = pki.issue_client(intermediate, "bot", days=days, now=NOW).certificate
        assert cert.not_valid_after_utc - NOW == dt.timedelta(days=days)
    else:
        with pytest.raises(CertificateError, match="lives 1-90 days"):
            pki.issue_client(intermediate, "bot", days=days, now=NOW)


def test_naive_time_is_refused() -> None:
    with pytest.raises(CertificateError, match="timezone-aware"):
        pki.create_root(now=dt.datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("dns", "ips", "message"),
    [
        ((), (), "at least one DNS name or IP address"),
        (("bad name",), (), "not a valid DNS name"),
        (("-x.example",), (), "not a valid DNS name"),
        (("*.com",), (), "not a valid DNS name"),
        (("ok.example",), ("300.1.1.1",), "not an IP address"),
    ],
)
def test_server_names_are_validated(
    intermediate: pki.CertifiedKey, dns: tuple[str, ...], ips: tuple[str, ...], message: str
) -> None:
    with pytest.raises(CertificateError, match=message):
        pki.issue_server(intermediate, "redis", dns=dns, ips=ips, now=NOW)


@given(
    st.one_of(
        st.text(max_size=80),
        st.from_regex(r"[a-z0-9][a-z0-9._-]{0,30}[a-z0-9]", fullmatch=True),
    )
)
def test_service_names_are_validated_or_round_trip(service: str) -> None:
    issuer = _issuer()
    refusal = ""
    try:
        leaf = pki.issue_client(issuer, service, now=NOW)
    except CertificateError as exc:
        refusal = str(exc)
    if refusal:
        assert "service name" in refusal
        return
    assert pki.service_name(leaf.certificate) == service
    assert service == service.lower().strip()


_CACHE: dict[str, pki.CertifiedKey] = {}


def _issuer() -> pki.CertifiedKey:
    if "i" not in _CACHE:
        _CACHE["i"] = pki.create_intermediate(pki.create_root(now=NOW), now=NOW)
    return _CACHE["i"]


# --- CRL, bundle, verification -------------------------------------------------------------


def test_crl_lists_revocations_and_carries_them_over(intermediate: pki.CertifiedKey) -> None:
    first = pki.create_crl(intermediate, [11, 12], now=NOW)
    assert first.is_signature_valid(intermediate.certificate.public_key())  # type: ignore[arg-type]
    assert first.issuer == intermediate.certificate.subject
    assert sorted(e.serial_number for e in first) == [11, 12]
    assert first.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 1
    assert first.next_update_utc == NOW + dt.timedelta(days=7)
    later = NOW + dt.timedelta(days=2)
    second = pki.create_crl(intermediate, [13, 11], previous=first, now=later)
    assert sorted(e.serial_number for e in second) == [11, 12, 13]
    assert second.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 2
    dates = {e.serial_number: e.revocation_date_utc for e in second}
    assert dates[11] == NOW  # original revocation date kept
    assert dates[13] == later


def test_crl_from_another_issuer_is_not_carried_over(intermediate: pki.CertifiedKey) -> None:
    foreign = pki.create_crl(_issuer(), [5], now=NOW)
    with pytest.raises(CertificateError, match="not issued by this CA"):
        pki.create_crl(intermediate, [6], previous=foreign, now=NOW)


@pytest.mark.parametrize("serial", [0, -3, True, "12"])
def test_crl_refuses_bad_serials(intermediate: pki.CertifiedKey, serial: object) -> None:
    with pytest.raises(CertificateError, match="positive integer"):
        pki.create_crl(intermediate, [serial], now=NOW)  # type: ignore[list-item]


def test_bundle_is_leaf_then_intermediate(intermediate: pki.CertifiedKey) -> None:
    leaf = pki.issue_client(intermediate, "bot", now=NOW)
    chain = pki.load_certificates(pki.bundle_pem(leaf.certificate, intermediate.certificate))
    assert chain == [leaf.certificate, intermediate.certificate]


def test_bundle_refuses_a_foreign_intermediate(intermediate: pki.CertifiedKey) -> None:
    leaf = pki.issue_client(intermediate, "bot", now=NOW)
    with pytest.raises(CertificateError, match="was not issued by"):
        pki.bundle_pem(leaf.certificate, _issuer().certificate)


def test_verify_chain_accepts_our_leaves(
    root: pki.CertifiedKey, intermediate: pki.CertifiedKey
) -> None:
    server = pki.issue_server(
        intermediate, "redis", dns=["redis.internal"], ips=["10.0.0.5"], now=NOW
    )
    client = pki.issue_client(intermediate, "bot", now=NOW)
    common = {"intermediates": [intermediate.certificate], "root": root.certificate, "now": NOW}
    for name in ("redis.internal", "10.0.0.5"):
        chain = pki.verify_chain(server.certificate, purpose="server", name=name, **common)
        assert chain == [server.certificate, intermediate.certificate, root.certificate]
    assert pki.verify_chain(client.certificate, purpose="client", **common)[0] == client.certificate


def test_verify_chain_refusals(root: pki.CertifiedKey, intermediate: pki.CertifiedKey) -> None:
    server = pki.issue_server(intermediate, "redis", dns=["redis.internal"], now=NOW)
    client = pki.issue_client(intermediate, "bot", days=30, now=NOW)
    common = {"intermediates": [intermediate.certificate], "root": root.certificate}
    with pytest.raises(CertificateError, match="does not verify"):  # wrong EKU
        pki.verify_chain(server.certificate, purpose="client", now=NOW, **common)
    with pytest.raises(CertificateError, match="does not verify"):  # wrong EKU
        pki.verify_chain(client.certificate, purpose="server", name="bot", now=NOW, **common)
    with pytest.raises(CertificateError, match="does not verify"):  # other name
        pki.verify_chain(
            server.certificate, purpose="server", name="db.internal", now=NOW, **common
        )
    with pytest.raises(CertificateError, match="needs the name"):
        pki.verify_chain(server.certificate, purpose="server", now=NOW, **common)
    with pytest.raises(CertificateError, match="does not verify"):  # expired
        pki.verify_chain(
            client.certificate, purpose="client", now=NOW + dt.timedelta(days=31), **common
        )
    with pytest.raises(CertificateError, match="does not verify"):  # another root
        pki.verify_chain(
            client.certificate,
            purpose="client",
            intermediates=[intermediate.certificate],
            root=pki.create_root(now=NOW).certificate,
            now=NOW,
        )


def test_verify_chain_checks_the_crl(
    root: pki.CertifiedKey, intermediate: pki.CertifiedKey
) -> None:
    good = pki.issue_client(intermediate, "bot", now=NOW)
    bad = pki.issue_client(intermediate, "stolen", now=NOW)
    crl = pki.create_crl(intermediate, [bad.certificate.serial_number], now=NOW)
    common = {"intermediates": [intermediate.certificate], "root": root.certificate}
    assert pki.verify_chain(good.certificate, purpose="client", crl=crl, now=NOW, **common)
    with pytest.raises(CertificateError, match="was revoked on 2026-06-01"):
        pki.verify_chain(bad.certificate, purpose="client", crl=crl, now=NOW, **common)
    with pytest.raises(CertificateError, match="out of date"):
        pki.verify_chain(
            good.certificate, purpose="client", crl=crl, now=NOW + dt.timedelta(days=8), **common
        )
    foreign = pki.create_crl(_issuer(), [], now=NOW)
    with pytest.raises(CertificateError, match="not issued by the certificate's issuer"):
        pki.verify_chain(good.certificate, purpose="client", crl=foreign, now=NOW, **common)


# --- renewal -------------------------------------------------------------------------------


def test_renew_keeps_names_and_purpose_with_a_new_key(intermediate: pki.CertifiedKey) -> None:
    old = pki.issue_server(intermediate, "redis", dns=["redis.internal"], ips=["10.0.0.5"], now=NOW)
    later = NOW + dt.timedelta(days=50)
    new = pki.renew(intermediate, old.certificate, days=30, now=later)
    assert new.certificate.serial_number != old.certificate.serial_number
    assert new.certificate.public_key() != old.certificate.public_key()
    assert new.certificate.subject == old.certificate.subject
    for kind in (x509.SubjectAlternativeName, x509.ExtendedKeyUsage):
        assert ext(new.certificate, kind).value == ext(old.certificate, kind).value
    assert new.certificate.not_valid_after_utc == later + dt.timedelta(days=30)

    client = pki.issue_client(intermediate, "bot", now=NOW)
    renewed = pki.renew(intermediate, client.certificate, now=NOW)
    assert pki.service_name(renewed.certificate) == "bot"
    assert ext(renewed.certificate, x509.ExtendedKeyUsage).value == x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.CLIENT_AUTH]
    )


def test_renew_under_a_new_intermediate(root: pki.CertifiedKey) -> None:
    first = pki.create_intermediate(root, now=NOW)
    second = pki.create_intermediate(root, now=NOW)
    old = pki.issue_client(first, "bot", now=NOW)
    new = pki.renew(second, old.certificate, now=NOW)
    new.certificate.verify_directly_issued_by(second.certificate)


def test_renew_refuses_what_is_not_a_securebot_leaf(
    root: pki.CertifiedKey, intermediate: pki.CertifiedKey
) -> None:
    with pytest.raises(CertificateError, match="CA certificate: renew leaves only"):
        pki.renew(root, intermediate.certificate, now=NOW)
    # trustme (test extra) issues leaves with several EKUs: not one of ours
    foreign = x509.load_pem_x509_certificate(
        trustme.CA().issue_cert("example.internal").cert_chain_pems[0].bytes()
    )
    with pytest.raises(CertificateError, match="no single serverAuth or clientAuth purpose"):
        pki.renew(intermediate, foreign, now=dt.datetime.now(dt.UTC))


# --- intermediate through a CSR (key never on the root machine) ------------------------------


def test_intermediate_from_a_csr(root: pki.CertifiedKey) -> None:
    request = pki.request_intermediate("ops intermediate")
    assert "PRIVATE" not in repr(request)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(request)
    with pytest.raises(CertificateError, match="too short"):
        request.private_key_pem(b"short")
    csr = pki.load_csr(request.csr_pem())
    certificate = pki.sign_intermediate(root, csr, days=365, now=NOW)
    certificate.verify_directly_issued_by(root.certificate)
    assert certificate.subject.rfc4514_string() == "CN=ops intermediate"
    assert ext(certificate, x509.BasicConstraints).value.path_length == 0
    intermediate = pki.CertifiedKey(certificate, request.private_key)  # the key matches
    leaf = pki.issue_client(intermediate, "bot", now=NOW)
    assert pki.verify_chain(
        leaf.certificate,
        intermediates=[certificate],
        root=root.certificate,
        purpose="client",
        now=NOW,
    )


def test_altered_csr_is_refused(root: pki.CertifiedKey) -> None:
    der = pki.request_intermediate("securebot intermediate CA").csr.public_bytes(
        serialization.Encoding.DER
    )
    altered = x509.load_der_x509_csr(der.replace(b"intermediate CA", b"intermediate CB"))
    with pytest.raises(CertificateError, match="signature is invalid"):
        pki.sign_intermediate(root, altered, now=NOW)


def test_csr_with_a_non_ecdsa_key_is_refused(root: pki.CertifiedKey) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "rsa")]))
        .sign(key, hashes.SHA256())
    )
    with pytest.raises(CertificateError, match="ECDSA P-256 or P-384"):
        pki.sign_intermediate(root, csr, now=NOW)


def test_garbage_csr_is_a_clear_error() -> None:
    with pytest.raises(CertificateError, match="not a PEM certificate request"):
        pki.load_csr(b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n")
