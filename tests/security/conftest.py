"""Fixtures: password, ACL and TLS redis-servers with certificates made in the test."""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis_servers import ServerFactory, require_feature, selected_binary

from jsadmin.embedded import EmbeddedRedis, free_port

PASSWORD = "pw-Secr3t-9f2c"
ADMIN_USER, ADMIN_PW = "alice", "alice-Pw-51e0"
READER_USER, READER_PW = "reader", "reader-Pw-a7d3"
SYSTEM_REDIS = Path("/usr/bin/redis-server")


SEED = {"seed": 2, "nodes": 1, "jobs": 30}
"""The demo grid every server of these tests holds."""


def _lock(srv: EmbeddedRedis, *commands: tuple[str, ...]) -> None:
    """Apply auth commands over the unix socket, once the server is seeded."""
    client = ServerFactory.client(srv)
    for command in commands:
        client.execute_command(*command)
    client.close()


@pytest.fixture(scope="module")
def password_server(redis_factory: ServerFactory) -> Iterator[EmbeddedRedis]:
    srv = redis_factory.seeded(**SEED, password=PASSWORD)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def acl_server(redis_factory: ServerFactory) -> Iterator[EmbeddedRedis]:
    """ACL users: ``alice`` may do everything, ``reader`` only reads; the default user is off.

    Skipped where the selected server predates ACL users (Redis 6.0).
    """
    require_feature("acl")
    srv = redis_factory.seeded(**SEED)
    _lock(
        srv,
        ("ACL", "SETUSER", ADMIN_USER, "on", f">{ADMIN_PW}", "~*", "&*", "+@all"),
        ("ACL", "SETUSER", READER_USER, "on", f">{READER_PW}", "~*", "&*", "-@all", "+@read", "+@connection", "-@write"),
        ("ACL", "SETUSER", "default", "off"),
    )
    yield srv
    srv.stop()


# --- TLS ------------------------------------------------------------------------------------


@dataclass
class TlsFiles:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path


def _key():  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def _write_key(key, path: Path) -> None:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives import serialization

    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


def _cert(subject: str, key, issuer_name, issuer_key, *, ca: bool, sans=None):  # type: ignore[no-untyped-def]
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                key_encipherment=False, data_encipherment=False, key_agreement=False,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


def make_certificates(directory: Path) -> TlsFiles:
    """A CA, a server certificate for 127.0.0.1/localhost, a client certificate and an unrelated CA."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    pem = serialization.Encoding.PEM
    ca_key = _key()
    ca = _cert("jsadmin test CA", ca_key, None, None, ca=True)
    server_key, client_key, other_key = _key(), _key(), _key()
    sans = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    server = _cert("127.0.0.1", server_key, ca.subject, ca_key, ca=False, sans=sans)
    client = _cert("jsadmin-client", client_key, ca.subject, ca_key, ca=False)
    other = _cert("some other CA", other_key, None, None, ca=True)
    files = TlsFiles(
        ca=directory / "ca.crt",
        server_cert=directory / "server.crt",
        server_key=directory / "server.key",
        client_cert=directory / "client.crt",
        client_key=directory / "client.key",
        other_ca=directory / "other-ca.crt",
    )
    files.ca.write_bytes(ca.public_bytes(pem))
    files.server_cert.write_bytes(server.public_bytes(pem))
    files.client_cert.write_bytes(client.public_bytes(pem))
    files.other_ca.write_bytes(other.public_bytes(pem))
    _write_key(server_key, files.server_key)
    _write_key(client_key, files.client_key)
    return files


def _has_tls(binary: Path) -> bool:
    """True when ``binary`` links OpenSSL (Redis 6+ built with ``BUILD_TLS=yes``)."""
    if not shutil.which("ldd"):
        return True  # cannot tell: let the server start decide
    libs = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, timeout=10, check=False).stdout
    return "libssl" in libs


def _tls_binary() -> Path:
    """The selected server when it has TLS, else Debian's (TLS-capable) redis-server.

    Skipped where the selected server predates TLS (Redis 6.0): the matrix runs these tests on
    the servers that have it.
    """
    require_feature("tls")
    selected = selected_binary()
    if _has_tls(selected):
        return selected
    return _system_redis_with_tls()


def _system_redis_with_tls() -> Path:
    if not SYSTEM_REDIS.is_file():
        pytest.skip(f"TLS tests need {SYSTEM_REDIS} (Debian's redis-server, installed by .ci/run)")
    try:
        pytest.importorskip("cryptography", reason="TLS tests generate certificates with cryptography")
        out = subprocess.run(
            [str(SYSTEM_REDIS), "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except OSError as exc:
        pytest.skip(f"{SYSTEM_REDIS} does not run: {exc}")
    if shutil.which("ldd"):
        libs = subprocess.run(
            ["ldd", str(SYSTEM_REDIS)], capture_output=True, text=True, timeout=10, check=False
        ).stdout
        if "libssl" not in libs:
            pytest.skip(f"{SYSTEM_REDIS} ({out.strip()}) is built without TLS")
    return SYSTEM_REDIS


@dataclass
class TlsServer:
    server: EmbeddedRedis
    port: int
    files: TlsFiles

    @property
    def url(self) -> str:
        return f"rediss://127.0.0.1:{self.port}/0"


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory, redis_factory: ServerFactory) -> Iterator[TlsServer]:
    """TLS only on TCP (``--port 0``), client certificates optional, plus a password."""
    binary = _tls_binary()
    files = make_certificates(tmp_path_factory.mktemp("tls"))
    port = free_port()
    args = (
        "--port", "0",
        "--tls-port", str(port),
        "--tls-cert-file", str(files.server_cert),
        "--tls-key-file", str(files.server_key),
        "--tls-ca-cert-file", str(files.ca),
        "--tls-auth-clients", "optional",
    )
    srv = redis_factory.seeded(**SEED, tcp=False, binary=binary, args=args)
    yield TlsServer(server=srv, port=port, files=files)
    srv.stop()
