"""``ssl.SSLContext`` builders for mutual TLS, fed from memory.

Key material reaches securebot as PEM bytes (from a secret source), never as files an operator must
write next to the bot. :mod:`ssl` can read a certificate chain, a private key or a CRL only from a
path, so these helpers hand it an **anonymous in-memory file** (``os.memfd_create``, opened as
``/proc/self/fd/N``), sealed against writes and closed right after loading. Nothing touches a
file system; where memfd is unavailable (not Linux, or no ``/proc``) a clear
:class:`~securebot.errors.CertificateError` is raised instead of falling back to disk.

Policy, the same for both sides: TLS 1.2 or newer, certificates always verified against the
**root only** (peers present leaf + intermediate), X.509 strict checks on, optional CRL checking
of the peer's leaf (``VERIFY_CRL_CHECK_LEAF``: with it on, a peer whose issuer has no loaded CRL is
refused too). Servers require a client certificate.
"""

from __future__ import annotations

import contextlib
import os
import ssl
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from securebot.errors import CertificateError

__all__ = [
    "MemoryFile",
    "MongoTLS",
    "RedisTLS",
    "client_context",
    "memory_file",
    "server_context",
]

_SEALS = ("F_SEAL_SEAL", "F_SEAL_SHRINK", "F_SEAL_GROW", "F_SEAL_WRITE")


class MemoryFile:
    """PEM bytes in an anonymous, sealed in-memory file readable through :attr:`path`.

    The file exists only in this process's memory (no directory entry, no disk); it stays
    readable until :meth:`close`. It is sealed against writes, shrinking and growing where the
    kernel supports seals (Linux >= 3.17). Use it as a context manager for one-shot loads.
    """

    def __init__(self, data: bytes, *, name: str = "securebot-tls") -> None:
        create = getattr(os, "memfd_create", None)
        if create is None:
            raise CertificateError(
                "loading TLS keys from memory needs os.memfd_create (Linux); on this platform "
                "give the TLS material to the client library yourself"
            )
        flags = getattr(os, "MFD_CLOEXEC", 0) | getattr(os, "MFD_ALLOW_SEALING", 0)
        try:
            fd = create(name, flags)
        except OSError as exc:
            raise CertificateError(
                f"loading TLS keys from memory failed: memfd_create refused ({exc.strerror}); "
                "allow the memfd_create system call for this process"
            ) from None
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            _seal(fd)
            path = f"/proc/self/fd/{fd}"
            if not os.path.exists(path):
                raise CertificateError(
                    "loading TLS keys from memory needs /proc mounted (memfd paths "
                    "/proc/self/fd/N); mount /proc in the container"
                )
        except BaseException:
            os.close(fd)
            raise
        self._fd: int | None = fd
        self._path = path

    @property
    def path(self) -> str:
        """The ``/proc/self/fd/N`` path of the file; valid until :meth:`close`."""
        if self._fd is None:
            raise CertificateError("the in-memory TLS file is closed")
        return self._path

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._fd is None

    def close(self) -> None:
        """Close the file; its memory is released once nothing else holds it open."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def __enter__(self) -> MemoryFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._fd is None else self._path
        return f"MemoryFile({state})"

    def __del__(self) -> None:
        if getattr(self, "_fd", None) is not None:
            self.close()


def memory_file(data: bytes) -> MemoryFile:
    """Put ``data`` into a sealed anonymous in-memory file (see :class:`MemoryFile`)."""
    return MemoryFile(data)


def server_context(
    *,
    cert_chain_pem: bytes,
    key_pem: bytes,
    ca_pem: bytes,
    key_password: bytes | None = None,
    crl_pem: bytes | None = None,
    require_client_cert: bool = True,
) -> ssl.SSLContext:
    """A server context: our chain and key, client certificates verified against ``ca_pem``.

    ``cert_chain_pem`` is the leaf followed by the intermediate; ``ca_pem`` the root (trust
    anchor) only. Client certificates are required unless ``require_client_cert`` is false.
    With ``crl_pem`` each client leaf is checked against the CRL of its issuer.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    _harden(context)
    context.verify_mode = ssl.CERT_REQUIRED if require_client_cert else ssl.CERT_OPTIONAL
    _load_chain(context, cert_chain_pem, key_pem, key_password)
    _load_trust(context, ca_pem, crl_pem)
    return context


def client_context(
    *,
    ca_pem: bytes,
    cert_chain_pem: bytes | None = None,
    key_pem: bytes | None = None,
    key_password: bytes | None = None,
    crl_pem: bytes | None = None,
    check_hostname: bool = True,
) -> ssl.SSLContext:
    """A client context trusting ``ca_pem`` (the root), presenting our chain when given.

    ``cert_chain_pem`` and ``key_pem`` go together (both or neither). Host names are checked
    against the server certificate's DNS/IP names unless ``check_hostname`` is false.
    """
    if (cert_chain_pem is None) != (key_pem is None):
        raise CertificateError(
            "a client certificate needs its private key, and the other way round"
        )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    _harden(context)
    context.check_hostname = check_hostname
    context.verify_mode = ssl.CERT_REQUIRED
    if cert_chain_pem is not None and key_pem is not None:
        _load_chain(context, cert_chain_pem, key_pem, key_password)
    _load_trust(context, ca_pem, crl_pem)
    return context


class RedisTLS:
    """redis-py connection keyword arguments for mutual TLS, from in-memory PEM.

    redis-py reads ``ssl_certfile`` each time it opens a connection, so the chain and key live in
    a :class:`MemoryFile` that stays open as long as this object: keep it alive as long as the
    client and :meth:`close` it afterwards (or use it as a context manager)::

        with RedisTLS(ca_pem=root, cert_chain_pem=bundle, key_pem=key) as tls:
            client = redis.Redis(host=..., port=..., **tls.kwargs())

    The memory file is reachable only through this process's ``/proc/<pid>/fd``, which the kernel
    opens to the same processes that may read this process's memory (ptrace access): it exposes
    nothing the process memory does not already hold.

    With :meth:`kwargs`, redis-py (8.x) builds its own context with
    ``ssl.create_default_context()``, which also trusts the system's public CAs besides our root,
    and the sync client rebuilds it for every new connection. :meth:`connection_class` avoids
    both: connections then use one context from :func:`client_context` (root only).
    """

    def __init__(
        self,
        *,
        ca_pem: bytes,
        cert_chain_pem: bytes,
        key_pem: bytes,
        key_password: bytes | None = None,
        crl_pem: bytes | None = None,
    ) -> None:
        material = _identity_pem(cert_chain_pem, key_pem, key_password)
        self._ca = _pem(_certificates(ca_pem, "CA")).decode("ascii")
        self._context = client_context(
            ca_pem=ca_pem,
            cert_chain_pem=cert_chain_pem,
            key_pem=key_pem,
            key_password=key_password,
            crl_pem=crl_pem,
        )
        self._crl: MemoryFile | None = None
        if crl_pem is not None:
            crl = _crl_pem(crl_pem)
            self._crl = MemoryFile(self._ca.encode("ascii") + crl, name="securebot-redis-crl")
        self._file = MemoryFile(material, name="securebot-redis-tls")

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``redis.Redis`` / ``redis.asyncio.Redis`` (and pools).

        With a CRL, the root and the CRL are passed as ``ssl_ca_certs`` (a memory file) and
        ``ssl_include_verify_flags`` turns on ``VERIFY_CRL_CHECK_LEAF`` (a redis-py option that
        8.x has and older releases may lack).
        """
        arguments: dict[str, Any] = {
            "ssl": True,
            "ssl_certfile": self._file.path,
            "ssl_cert_reqs": "required",
            "ssl_check_hostname": True,
            "ssl_min_version": ssl.TLSVersion.TLSv1_2,
        }
        if self._crl is None:
            arguments["ssl_ca_data"] = self._ca
        else:
            arguments["ssl_ca_certs"] = self._crl.path
            arguments["ssl_include_verify_flags"] = [ssl.VerifyFlags.VERIFY_CRL_CHECK_LEAF]
        return arguments

    def connection_class(self, base: type[Any]) -> type[Any]:
        """A subclass of redis-py's ``SSLConnection`` that uses our strict context.

        Pass ``redis.SSLConnection`` or ``redis.asyncio.SSLConnection`` and give the result to a
        connection pool::

            pool = redis.ConnectionPool(
                connection_class=tls.connection_class(redis.SSLConnection), host=..., port=...
            )
            client = redis.Redis(connection_pool=pool)

        Connections then use one context built by :func:`client_context`: the root as the only
        trust anchor (no system CAs), TLS >= 1.2, X.509 strict, the CRL when given, and no
        per-connection rebuild. It overrides redis-py's ``_wrap_socket_with_ssl`` (sync) or
        ``_connection_arguments`` (asyncio); if ``base`` has neither, it refuses rather than
        silently falling back to redis-py's own context.
        """
        context = self._context
        is_ssl = any(klass.__name__ == "SSLConnection" for klass in base.__mro__)
        if is_ssl and hasattr(base, "_wrap_socket_with_ssl"):

            def _wrap_socket_with_ssl(connection: Any, sock: Any) -> Any:
                return context.wrap_socket(sock, server_hostname=connection.host)

            members: dict[str, Any] = {"_wrap_socket_with_ssl": _wrap_socket_with_ssl}
        elif is_ssl and hasattr(base, "_connection_arguments"):
            parent = base._connection_arguments

            def _connection_arguments(connection: Any) -> Any:
                arguments = dict(parent(connection))
                arguments["ssl"] = context
                return arguments

            members = {"_connection_arguments": _connection_arguments}
        else:
            raise CertificateError(
                f"{base.__qualname__} is not a redis-py SSLConnection this securebot version "
                "knows how to configure: use RedisTLS.kwargs() instead"
            )
        return type(f"Securebot{base.__name__}", (base,), members)

    def close(self) -> None:
        """Release the in-memory files; clients created from :meth:`kwargs` stop reconnecting."""
        self._file.close()
        if self._crl is not None:
            self._crl.close()

    def __enter__(self) -> RedisTLS:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RedisTLS({'closed' if self._file.closed else 'open'})"


class MongoTLS:
    """PyMongo keyword arguments for mutual TLS (X.509), from in-memory PEM.

    PyMongo reads ``tlsCAFile``, ``tlsCertificateKeyFile`` and ``tlsCRLFile`` from paths; these
    are memory files that stay open as long as this object (keep it alive with the client)::

        with MongoTLS(ca_pem=root, cert_chain_pem=bundle, key_pem=key) as tls:
            client = pymongo.AsyncMongoClient(host, authMechanism="MONGODB-X509", **tls.kwargs())

    Unlike redis-py, PyMongo trusts only the given CA file (our root). It sets no minimum TLS
    version of its own; the server side (``net.tls.disabledProtocols``) must refuse TLS < 1.2.
    """

    def __init__(
        self,
        *,
        ca_pem: bytes,
        cert_chain_pem: bytes,
        key_pem: bytes,
        key_password: bytes | None = None,
        crl_pem: bytes | None = None,
    ) -> None:
        material = _identity_pem(cert_chain_pem, key_pem, key_password)
        ca = _pem(_certificates(ca_pem, "CA"))
        crl = None if crl_pem is None else _crl_pem(crl_pem)
        self._files: list[MemoryFile] = []
        try:
            self._ca = self._keep(MemoryFile(ca, name="securebot-mongo-ca"))
            self._key = self._keep(MemoryFile(material, name="securebot-mongo-tls"))
            self._crl = None if crl is None else self._keep(MemoryFile(crl, name="securebot-crl"))
        except BaseException:
            self.close()
            raise

    def _keep(self, file: MemoryFile) -> MemoryFile:
        self._files.append(file)
        return file

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``pymongo.MongoClient`` / ``pymongo.AsyncMongoClient``."""
        arguments: dict[str, Any] = {
            "tls": True,
            "tlsCAFile": self._ca.path,
            "tlsCertificateKeyFile": self._key.path,
            "tlsAllowInvalidCertificates": False,
            "tlsAllowInvalidHostnames": False,
        }
        if self._crl is not None:
            arguments["tlsCRLFile"] = self._crl.path
        return arguments

    def close(self) -> None:
        """Release the in-memory files."""
        for file in self._files:
            file.close()

    def __enter__(self) -> MongoTLS:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        closed = all(file.closed for file in self._files)
        return f"MongoTLS({'closed' if closed else 'open'})"


# --- internals -----------------------------------------------------------------------------


def _harden(context: ssl.SSLContext) -> None:
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    context.verify_flags &= ~ssl.VERIFY_X509_PARTIAL_CHAIN


def _load_chain(
    context: ssl.SSLContext, chain_pem: bytes, key_pem: bytes, password: bytes | None
) -> None:
    material = _identity_pem(chain_pem, key_pem, password)
    with MemoryFile(material) as file:
        try:
            context.load_cert_chain(file.path)
        except ssl.SSLError as exc:
            raise CertificateError(
                f"the certificate chain and key could not be loaded ({exc.reason or exc}); "
                "check that the key belongs to the first certificate"
            ) from None


def _load_trust(context: ssl.SSLContext, ca_pem: bytes, crl_pem: bytes | None) -> None:
    anchors = _certificates(ca_pem, "CA")
    try:
        context.load_verify_locations(cadata=_pem(anchors).decode("ascii"))
    except ssl.SSLError as exc:
        raise CertificateError(f"the CA certificate could not be loaded ({exc.reason})") from None
    if crl_pem is None:
        return
    with MemoryFile(_crl_pem(crl_pem), name="securebot-crl") as file:
        try:
            context.load_verify_locations(cafile=file.path)
        except ssl.SSLError as exc:
            raise CertificateError(f"the CRL could not be loaded ({exc.reason})") from None
    context.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF


def _identity_pem(chain_pem: bytes, key_pem: bytes, password: bytes | None) -> bytes:
    """The certificate chain followed by its private key, unencrypted: what TLS libraries load
    as one client or server identity (checked, so a bad chain or key fails here)."""
    chain = _certificates(chain_pem, "certificate chain")
    return _pem(chain) + _clear_key_pem(_private_key(key_pem, password))


def _crl_pem(pem: bytes) -> bytes:
    """The CRL in ``pem`` checked and written again as PEM (nothing but the CRL)."""
    return _crl(pem).public_bytes(serialization.Encoding.PEM)


def _crl(pem: bytes) -> x509.CertificateRevocationList:
    try:
        return x509.load_pem_x509_crl(pem)
    except ValueError:
        raise CertificateError("not a PEM CRL (expected -----BEGIN X509 CRL-----)") from None


def _certificates(pem: bytes, what: str) -> list[x509.Certificate]:
    try:
        found = x509.load_pem_x509_certificates(pem)
    except (ValueError, TypeError):
        found = []
    if not found:
        raise CertificateError(f"the {what} is not PEM (expected -----BEGIN CERTIFICATE-----)")
    return found


def _private_key(pem: bytes, password: bytes | None) -> Any:
    try:
        return serialization.load_pem_private_key(pem, password=password)
    except TypeError:
        if password is None:
            raise CertificateError("the TLS private key is encrypted: give its password") from None
        raise CertificateError(
            "the TLS private key is not encrypted but a password was given"
        ) from None
    except ValueError:
        if password is not None:
            raise CertificateError("wrong password for the TLS private key") from None
        raise CertificateError("the TLS private key is not a readable PEM key") from None


def _clear_key_pem(key: Any) -> bytes:
    pem: bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem


def _pem(certificates: list[x509.Certificate]) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)


def _seal(fd: int) -> None:
    """Forbid any later change of the file's content or size (where the kernel supports seals)."""
    try:
        import fcntl  # POSIX only, like memfd itself
    except ImportError:
        return
    seals = 0
    for name in _SEALS:
        seals |= getattr(fcntl, name, 0)
    add = getattr(fcntl, "F_ADD_SEALS", None)
    if add is not None and seals:
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, add, seals)
