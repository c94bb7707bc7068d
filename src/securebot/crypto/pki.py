"""A small internal certificate authority for mutual TLS between securebot's services.

The hierarchy has three levels and each level has one job:

* an **offline root** (ECDSA P-384, 10 years, path length 1) that only ever signs intermediates; its
  key is stored as PKCS#8 encrypted with a passphrase and never lives on a server;
* an **intermediate** (ECDSA P-256, 1-2 years, path length 0) that signs leaves and CRLs;
* **short-lived leaves** (ECDSA P-256, at most 90 days) with a single purpose: *server*
  (``serverAuth``, DNS/IP names) or *client* (``clientAuth``, ``urn:securebot:service:<name>``).

Trust stores hold the root only; peers present leaf + intermediate (:func:`bundle_pem`).
Revocation is passive first (leaves expire quickly and are simply not renewed) with a CRL issued by
the intermediate for peers that check one (:func:`create_crl`).

Every refusal raises :class:`~securebot.errors.CertificateError` with a message that says what to
do. This module does no file I/O: the ``securebot pki`` command writes what it returns.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from securebot.errors import CertificateError

__all__ = [
    "CLIENT_URI_PREFIX",
    "MAX_LEAF_DAYS",
    "MIN_PASSPHRASE_LENGTH",
    "CertifiedKey",
    "IntermediateRequest",
    "bundle_pem",
    "create_crl",
    "create_intermediate",
    "create_root",
    "issue_client",
    "issue_server",
    "load_certificate",
    "load_certificates",
    "load_certified_key",
    "load_crl",
    "load_csr",
    "load_private_key",
    "renew",
    "request_intermediate",
    "service_name",
    "sign_intermediate",
    "verify_chain",
]

#: SAN URI prefix naming a client service: ``urn:securebot:service:<name>``.
CLIENT_URI_PREFIX = "urn:securebot:service:"
#: Longest lifetime of a leaf certificate, in days (short-lived leaves are the revocation plan).
MAX_LEAF_DAYS = 90
#: Shortest passphrase accepted for the long-lived CA keys.
MIN_PASSPHRASE_LENGTH = 16

_ROOT_DAYS = 3650
_INTERMEDIATE_DAYS = 730
_LEAF_DAYS = 60
_CRL_DAYS = 7
#: Certificates start slightly in the past so peers with a small clock skew accept them.
_BACKDATE = dt.timedelta(minutes=5)
_SERVICE_RE = re.compile(r"[a-z0-9](?:[a-z0-9._-]{0,61}[a-z0-9])?")
_LABEL_RE = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")

Purpose = Literal["server", "client"]


@dataclass(frozen=True, repr=False, eq=False)
class CertifiedKey:
    """A certificate together with its private key (a CA or a leaf).

    The ``repr`` names the subject, serial and expiry only; the key is never part of it. Use
    :meth:`certificate_pem` and :meth:`private_key_pem` to serialise; CA keys should always be
    serialised with a passphrase.
    """

    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey

    def __post_init__(self) -> None:
        if _spki(self.private_key.public_key()) != _spki(self.certificate.public_key()):
            raise CertificateError(
                f"the private key does not belong to the certificate {_describe(self.certificate)}"
            )

    def __repr__(self) -> str:
        cert = self.certificate
        return (
            f"CertifiedKey(subject={cert.subject.rfc4514_string()!r}, "
            f"serial={cert.serial_number:#x}, not_after={cert.not_valid_after_utc.isoformat()})"
        )

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("CertifiedKey holds a private key and cannot be pickled")

    @property
    def is_ca(self) -> bool:
        """Whether the certificate is a CA certificate."""
        return _basic_constraints(self.certificate).ca

    def certificate_pem(self) -> bytes:
        """The certificate alone, PEM encoded."""
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def private_key_pem(self, passphrase: bytes | None = None) -> bytes:
        """The private key as PKCS#8 PEM, encrypted when ``passphrase`` is given.

        CA keys must be encrypted: pass a passphrase of at least :data:`MIN_PASSPHRASE_LENGTH`
        bytes. Short-lived leaf keys may be written in clear for services that load them.
        """
        if passphrase is None:
            if self.is_ca:
                raise CertificateError(
                    "a CA private key is only ever written encrypted: give a passphrase"
                )
            encryption: serialization.KeySerializationEncryption = serialization.NoEncryption()
        else:
            _check_passphrase(passphrase)
            encryption = serialization.BestAvailableEncryption(passphrase)
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )


# --- creating ------------------------------------------------------------------------------


def create_root(
    common_name: str = "securebot root CA",
    *,
    days: int = _ROOT_DAYS,
    now: dt.datetime | None = None,
) -> CertifiedKey:
    """Create the offline root: self-signed ECDSA P-384, path length 1, ``days`` long (10 y)."""
    _check_days(days, minimum=365, maximum=30 * 365, what="root")
    start = _now(now)
    key = ec.generate_private_key(ec.SECP384R1())
    name = _name(common_name)
    builder = (
        _base_builder(name, name, key.public_key(), start, start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(_ca_key_usage(), critical=True)
    )
    certificate = builder.sign(key, hashes.SHA384())
    return CertifiedKey(certificate, key)


def create_intermediate(
    root: CertifiedKey,
    common_name: str = "securebot intermediate CA",
    *,
    days: int = _INTERMEDIATE_DAYS,
    now: dt.datetime | None = None,
) -> CertifiedKey:
    """Create the intermediate CA (ECDSA P-256, path length 0) signed by ``root``.

    Refused when ``root`` is not a CA, is expired, has path length 0 (an intermediate cannot sign
    another CA) or would expire before the new intermediate. To keep the intermediate's key off
    the root's machine, use :func:`request_intermediate` and :func:`sign_intermediate` instead.
    """
    request = request_intermediate(common_name)
    certificate = sign_intermediate(root, request.csr, days=days, now=now)
    return CertifiedKey(certificate, request.private_key)


@dataclass(frozen=True, repr=False, eq=False)
class IntermediateRequest:
    """A new intermediate key and the certificate signing request (CSR) for the root.

    The key stays on the CA machine; only the CSR travels to the offline root.
    """

    csr: x509.CertificateSigningRequest
    private_key: ec.EllipticCurvePrivateKey

    def __repr__(self) -> str:
        return f"IntermediateRequest(subject={self.csr.subject.rfc4514_string()!r})"

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("IntermediateRequest holds a private key and cannot be pickled")

    def csr_pem(self) -> bytes:
        """The CSR, PEM encoded."""
        return self.csr.public_bytes(serialization.Encoding.PEM)

    def private_key_pem(self, passphrase: bytes) -> bytes:
        """The key as encrypted PKCS#8 PEM (a CA key is never written in clear)."""
        _check_passphrase(passphrase)
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase),
        )


def request_intermediate(common_name: str = "securebot intermediate CA") -> IntermediateRequest:
    """Make a new intermediate key (ECDSA P-256) and its CSR for :func:`sign_intermediate`."""
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(_name(common_name))
        .sign(key, hashes.SHA256())
    )
    return IntermediateRequest(csr, key)


def sign_intermediate(
    root: CertifiedKey,
    csr: x509.CertificateSigningRequest,
    *,
    days: int = _INTERMEDIATE_DAYS,
    now: dt.datetime | None = None,
) -> x509.Certificate:
    """Sign an intermediate CSR with the root: path length 0, CA key usage, ``days`` long.

    Only the CSR's subject and public key are used; the profile is the CA's, whatever extensions
    the request asks for. The CSR's own signature must be valid and its key ECDSA P-256 or P-384.
    """
    _check_days(days, minimum=30, maximum=5 * 365, what="intermediate")
    if not csr.is_signature_valid:
        raise CertificateError("the intermediate CSR's signature is invalid: it was altered")
    public_key = csr.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or public_key.curve.name not in (
        "secp256r1",
        "secp384r1",
    ):
        raise CertificateError("an intermediate key must be ECDSA P-256 or P-384")
    names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    common_name = str(names[0].value) if len(names) == 1 else ""
    start = _now(now)
    end = start + dt.timedelta(days=days)
    _check_issuer(root, start, end, issuing="ca")
    builder = (
        _base_builder(_name(common_name), root.certificate.subject, public_key, start, end, root)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_ca_key_usage(), critical=True)
    )
    return builder.sign(root.private_key, _hash_for(root))


def issue_server(
    issuer: CertifiedKey,
    name: str,
    *,
    dns: Sequence[str] = (),
    ips: Sequence[str] = (),
    days: int = _LEAF_DAYS,
    now: dt.datetime | None = None,
) -> CertifiedKey:
    """Issue a server leaf (``serverAuth`` only) for the given DNS names and IP addresses.

    ``name`` becomes the common name; at least one DNS name or IP address is required because
    TLS clients match the subject alternative names only.
    """
    label = _check_service(name, what="server name")
    names: list[x509.GeneralName] = [x509.DNSName(_check_dns(d)) for d in dns]
    names += [x509.IPAddress(_check_ip(i)) for i in ips]
    if not names:
        raise CertificateError(
            f"server certificate {label!r} needs at least one DNS name or IP address "
            "(--dns / --ip): clients verify those, not the common name"
        )
    return _issue_leaf(issuer, label, names, ExtendedKeyUsageOID.SERVER_AUTH, days, now)


def issue_client(
    issuer: CertifiedKey,
    service: str,
    *,
    days: int = _LEAF_DAYS,
    now: dt.datetime | None = None,
) -> CertifiedKey:
    """Issue a client leaf (``clientAuth`` only) naming ``urn:securebot:service:<service>``."""
    label = _check_service(service, what="service name")
    names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(CLIENT_URI_PREFIX + label)]
    return _issue_leaf(issuer, label, names, ExtendedKeyUsageOID.CLIENT_AUTH, days, now)


def renew(
    issuer: CertifiedKey,
    certificate: x509.Certificate,
    *,
    days: int = _LEAF_DAYS,
    now: dt.datetime | None = None,
) -> CertifiedKey:
    """Issue a successor of leaf ``certificate``: same name, names and purpose, a new key.

    ``issuer`` is the current intermediate (it may differ from the one that signed the old
    leaf, e.g. after the intermediate was replaced). Only securebot's single-purpose leaves can
    be renewed; the old certificate stays valid until it expires or is revoked.
    """
    what = _describe(certificate)
    if _basic_constraints(certificate).ca:
        raise CertificateError(f"{what} is a CA certificate: renew leaves only")
    try:
        purposes = list(certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        raise CertificateError(f"{what} is not a securebot leaf (no EKU or names)") from None
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    label = str(names[0].value) if names else ""
    if purposes == [ExtendedKeyUsageOID.SERVER_AUTH]:
        return issue_server(
            issuer,
            label,
            dns=san.get_values_for_type(x509.DNSName),
            ips=[str(ip) for ip in san.get_values_for_type(x509.IPAddress)],
            days=days,
            now=now,
        )
    if purposes == [ExtendedKeyUsageOID.CLIENT_AUTH]:
        return issue_client(issuer, service_name(certificate), days=days, now=now)
    raise CertificateError(f"{what} has no single serverAuth or clientAuth purpose")


def create_crl(
    issuer: CertifiedKey,
    revoke: Iterable[int] = (),
    *,
    previous: x509.CertificateRevocationList | None = None,
    days: int = _CRL_DAYS,
    now: dt.datetime | None = None,
) -> x509.CertificateRevocationList:
    """Issue a CRL signed by ``issuer`` (the intermediate) listing ``revoke``.

    Entries of ``previous`` (a CRL from the same issuer) are carried over with their original
    revocation dates, and the CRL number grows by one. ``days`` is the time to the next update.
    """
    _check_days(days, minimum=1, maximum=90, what="CRL")
    start = _now(now)
    _check_issuer(issuer, start, start, issuing="crl")
    revoked: dict[int, dt.datetime] = {}
    number = 1
    if previous is not None:
        if previous.issuer != issuer.certificate.subject or not previous.is_signature_valid(
            issuer.certificate.public_key()  # type: ignore[arg-type]
        ):
            raise CertificateError(
                "the previous CRL was not issued by this CA: refusing to carry its entries over"
            )
        for entry in previous:
            revoked[entry.serial_number] = entry.revocation_date_utc
        try:
            number = previous.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
            number += 1
        except x509.ExtensionNotFound:
            number = 1
    for serial in revoke:
        if not isinstance(serial, int) or isinstance(serial, bool) or serial <= 0:
            raise CertificateError(f"a serial number is a positive integer, not {serial!r}")
        revoked.setdefault(serial, start)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.certificate.subject)
        .last_update(start)
        .next_update(start + dt.timedelta(days=days))
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(_aki(issuer.certificate), critical=False)
    )
    for serial, when in sorted(revoked.items()):
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build()
        )
    return builder.sign(issuer.private_key, _hash_for(issuer))


def bundle_pem(leaf: x509.Certificate, intermediate: x509.Certificate) -> bytes:
    """PEM of ``leaf`` followed by ``intermediate``: what a peer presents during the handshake.

    Refused unless ``intermediate`` really signed ``leaf``.
    """
    _check_signed_by(leaf, intermediate)
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (leaf, intermediate))


# --- loading and verifying -------------------------------------------------------------------


def load_certificate(pem: bytes) -> x509.Certificate:
    """The first certificate of a PEM document; :class:`CertificateError` if there is none."""
    return load_certificates(pem)[0]


def load_certificates(pem: bytes) -> list[x509.Certificate]:
    """All certificates of a PEM document (e.g. a bundle), in order."""
    try:
        certificates = x509.load_pem_x509_certificates(pem)
    except (ValueError, TypeError) as exc:
        raise CertificateError(
            "not a PEM certificate (expected -----BEGIN CERTIFICATE-----)"
        ) from (exc)
    if not certificates:
        raise CertificateError("no PEM certificate found")
    return certificates


def load_private_key(pem: bytes, passphrase: bytes | None = None) -> ec.EllipticCurvePrivateKey:
    """Load a PEM private key, decrypting it with ``passphrase`` when it is encrypted."""
    try:
        key = serialization.load_pem_private_key(pem, password=passphrase)
    except TypeError as exc:
        if passphrase is None:
            raise CertificateError("the private key is encrypted: a passphrase is needed") from None
        raise CertificateError(
            "the private key is not encrypted but a passphrase was given; "
            "refusing to guess which file was meant"
        ) from exc
    except ValueError:
        if passphrase is not None and b"ENCRYPTED" in pem:
            raise CertificateError("wrong passphrase for the private key") from None
        raise CertificateError("not a readable PEM private key") from None
    except UnsupportedAlgorithm:
        raise CertificateError("unsupported private key algorithm") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CertificateError("securebot's PKI uses ECDSA keys only (P-256 / P-384)")
    return key


def load_certified_key(
    certificate_pem: bytes, key_pem: bytes, passphrase: bytes | None = None
) -> CertifiedKey:
    """Load a certificate and its private key, checking that they belong together."""
    return CertifiedKey(load_certificate(certificate_pem), load_private_key(key_pem, passphrase))


def load_crl(pem: bytes) -> x509.CertificateRevocationList:
    """Load a PEM CRL."""
    try:
        return x509.load_pem_x509_crl(pem)
    except ValueError:
        raise CertificateError("not a PEM CRL (expected -----BEGIN X509 CRL-----)") from None


def load_csr(pem: bytes) -> x509.CertificateSigningRequest:
    """Load a PEM certificate signing request."""
    try:
        return x509.load_pem_x509_csr(pem)
    except ValueError:
        raise CertificateError(
            "not a PEM certificate request (expected -----BEGIN CERTIFICATE REQUEST-----)"
        ) from None


def service_name(certificate: x509.Certificate) -> str:
    """The service a client certificate names (``urn:securebot:service:<name>``)."""
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        raise CertificateError(
            f"{_describe(certificate)} has no subject alternative name"
        ) from None
    for uri in san.get_values_for_type(x509.UniformResourceIdentifier):
        if uri.startswith(CLIENT_URI_PREFIX):
            return uri.removeprefix(CLIENT_URI_PREFIX)
    raise CertificateError(f"{_describe(certificate)} names no securebot service")


def verify_chain(
    leaf: x509.Certificate,
    *,
    intermediates: Sequence[x509.Certificate],
    root: x509.Certificate,
    purpose: Purpose,
    name: str | None = None,
    crl: x509.CertificateRevocationList | None = None,
    now: dt.datetime | None = None,
) -> list[x509.Certificate]:
    """Verify ``leaf`` up to ``root`` for ``purpose``; return the chain (leaf first).

    ``name`` (a DNS name or IP address) is required for server certificates. With ``crl`` the
    leaf is also checked against it; the CRL must be signed by the leaf's issuer and be current.
    """
    when = _now(now)
    builder = PolicyBuilder().store(Store([root])).time(when)
    try:
        if purpose == "server":
            if not name:
                raise CertificateError("verifying a server certificate needs the name to match")
            subject: x509.DNSName | x509.IPAddress
            try:
                subject = x509.IPAddress(ipaddress.ip_address(name))
            except ValueError:
                subject = x509.DNSName(name)
            chain = builder.build_server_verifier(subject).verify(leaf, list(intermediates))
        elif purpose == "client":
            chain = builder.build_client_verifier().verify(leaf, list(intermediates)).chain
        else:
            raise CertificateError(f"purpose is 'server' or 'client', not {purpose!r}")
    except VerificationError as exc:
        raise CertificateError(f"{_describe(leaf)} does not verify: {exc}") from None
    if crl is not None:
        _check_crl(leaf, chain[1], crl, when)
    return list(chain)


# --- internals -----------------------------------------------------------------------------


def _issue_leaf(
    issuer: CertifiedKey,
    common_name: str,
    names: list[x509.GeneralName],
    purpose: x509.ObjectIdentifier,
    days: int,
    now: dt.datetime | None,
) -> CertifiedKey:
    _check_days(days, minimum=1, maximum=MAX_LEAF_DAYS, what="leaf")
    start = _now(now)
    end = start + dt.timedelta(days=days)
    _check_issuer(issuer, start, end, issuing="leaf")
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        _base_builder(
            _name(common_name), issuer.certificate.subject, key.public_key(), start, end, issuer
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([purpose]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
    )
    return CertifiedKey(builder.sign(issuer.private_key, _hash_for(issuer)), key)


def _base_builder(
    subject: x509.Name,
    issuer_name: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    start: dt.datetime,
    end: dt.datetime,
    issuer: CertifiedKey | None = None,
) -> x509.CertificateBuilder:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start - _BACKDATE)
        .not_valid_after(end)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(_aki(issuer.certificate), critical=False)
    return builder


def _aki(issuer: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    try:
        ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(
            issuer.public_key()  # type: ignore[arg-type]
        )
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def _ca_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def _check_issuer(
    issuer: CertifiedKey,
    start: dt.datetime,
    end: dt.datetime,
    *,
    issuing: Literal["ca", "leaf", "crl"],
) -> None:
    cert = issuer.certificate
    what = _describe(cert)
    constraints = _basic_constraints(cert)
    if not constraints.ca:
        raise CertificateError(f"{what} is not a CA certificate: it cannot sign anything")
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    needed = "crl_sign" if issuing == "crl" else "key_cert_sign"
    if usage is not None and not getattr(usage, needed):
        raise CertificateError(f"{what} is not allowed to sign ({needed.replace('_', ' ')})")
    if start < cert.not_valid_before_utc:
        raise CertificateError(f"{what} is not valid before {cert.not_valid_before_utc:%Y-%m-%d}")
    if start > cert.not_valid_after_utc:
        raise CertificateError(
            f"{what} expired on {cert.not_valid_after_utc:%Y-%m-%d}: renew it before issuing"
        )
    if end > cert.not_valid_after_utc:
        left = max((cert.not_valid_after_utc - start).days, 0)
        raise CertificateError(
            f"the new certificate would outlive its issuer {what} (expires "
            f"{cert.not_valid_after_utc:%Y-%m-%d}): use at most {left} days or renew the issuer"
        )
    path_length = constraints.path_length
    if issuing == "ca" and path_length is not None and path_length < 1:
        raise CertificateError(
            f"{what} has path length {path_length}: it may sign leaves only, not another CA"
        )
    if issuing == "leaf" and path_length != 0:
        raise CertificateError(
            f"{what} is a root-level CA (path length {path_length}): leaves are issued by the "
            "intermediate, and the root stays offline"
        )


def _check_crl(
    leaf: x509.Certificate,
    issuer: x509.Certificate,
    crl: x509.CertificateRevocationList,
    when: dt.datetime,
) -> None:
    if crl.issuer != issuer.subject or not crl.is_signature_valid(
        issuer.public_key()  # type: ignore[arg-type]
    ):
        raise CertificateError("the CRL was not issued by the certificate's issuer")
    next_update = crl.next_update_utc
    if next_update is None or next_update < when:
        raise CertificateError("the CRL is out of date: issue a new one (securebot pki crl)")
    entry = crl.get_revoked_certificate_by_serial_number(leaf.serial_number)
    if entry is not None:
        raise CertificateError(
            f"{_describe(leaf)} was revoked on {entry.revocation_date_utc:%Y-%m-%d}"
        )


def _check_signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> None:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        raise CertificateError(f"{_describe(cert)} was not issued by {_describe(issuer)}") from None


def _basic_constraints(cert: x509.Certificate) -> x509.BasicConstraints:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return x509.BasicConstraints(ca=False, path_length=None)


def _hash_for(issuer: CertifiedKey) -> hashes.SHA256 | hashes.SHA384:
    return hashes.SHA384() if issuer.private_key.curve.key_size >= 384 else hashes.SHA256()


def _spki(key: ec.EllipticCurvePublicKey | object) -> bytes:
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise CertificateError("securebot's PKI uses ECDSA keys only (P-256 / P-384)")
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _name(common_name: str) -> x509.Name:
    if not common_name or len(common_name) > 64 or not common_name.isprintable():
        raise CertificateError("a common name is 1-64 printable characters")
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _describe(cert: x509.Certificate) -> str:
    return f"'{cert.subject.rfc4514_string()}' (serial {cert.serial_number:#x})"


def _now(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return dt.datetime.now(dt.UTC).replace(microsecond=0)
    if now.tzinfo is None:
        raise CertificateError("times must be timezone-aware (UTC)")
    return now.astimezone(dt.UTC)


def _check_days(days: int, *, minimum: int, maximum: int, what: str) -> None:
    if isinstance(days, bool) or not isinstance(days, int) or not minimum <= days <= maximum:
        raise CertificateError(f"a {what} certificate lives {minimum}-{maximum} days, not {days!r}")


def _check_passphrase(passphrase: bytes) -> None:
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise CertificateError(
            f"the passphrase is too short: use at least {MIN_PASSPHRASE_LENGTH} characters"
        )


def _check_service(name: str, *, what: str) -> str:
    if not isinstance(name, str) or not _SERVICE_RE.fullmatch(name):
        raise CertificateError(
            f"{what} {name!r} must be 1-63 characters of a-z, 0-9, '.', '_' or '-' "
            "(lowercase, starting and ending with a letter or digit)"
        )
    return name


def _check_dns(name: str) -> str:
    candidate = name.lower().rstrip(".")
    labels = candidate.split(".")
    wildcard_ok = labels[0] == "*" and len(labels) > 2
    checked = labels[1:] if wildcard_ok else labels
    if not candidate or len(candidate) > 253 or not all(_LABEL_RE.fullmatch(x) for x in checked):
        raise CertificateError(f"{name!r} is not a valid DNS name (ASCII labels, a-z 0-9 '-')")
    return candidate


def _check_ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(address)
    except ValueError:
        raise CertificateError(f"{address!r} is not an IP address") from None
