"""A certificate authority made in the test, and the embedded server behind real TLS.

``make_pki(folder)`` writes a CA, a server certificate for 127.0.0.1 signed by it, and a
client certificate (PEM with its key) signed by it; ``https_server(...)`` serves the local
AYON-compatible server's application over HTTPS on a free loopback port, optionally asking
for a client certificate.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass
class Pki:
    ca: Path  # the CA certificate (what AYON_CA_FILE names)
    server_cert: Path
    server_key: Path
    client: Path  # client certificate and key in one PEM (what AYON_CERT_FILE names)


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_pki(folder: Path) -> Pki:
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    valid = (now - datetime.timedelta(days=1), now + datetime.timedelta(days=30))
    ca_key = _key()
    ca_cert = (x509.CertificateBuilder().subject_name(_name("Test Studio CA"))
               .issuer_name(_name("Test Studio CA")).public_key(ca_key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(valid[0]).not_valid_after(valid[1])
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(
                   digital_signature=True, key_cert_sign=True, crl_sign=True,
                   content_commitment=False, key_encipherment=False, data_encipherment=False,
                   key_agreement=False, encipher_only=False, decipher_only=False),
                   critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                              critical=False)
               .sign(ca_key, hashes.SHA256()))

    def leaf(common: str, usage, san: list | None) -> tuple[x509.Certificate, object]:
        key = _key()
        builder = (x509.CertificateBuilder().subject_name(_name(common))
                   .issuer_name(ca_cert.subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(valid[0]).not_valid_after(valid[1])
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                                  critical=True)
                   .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                       ca_key.public_key()), critical=False))
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        return builder.sign(ca_key, hashes.SHA256()), key

    server_cert, server_key = leaf("127.0.0.1", ExtendedKeyUsageOID.SERVER_AUTH,
                                   [x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                    x509.DNSName("localhost")])
    client_cert, client_key = leaf("artist", ExtendedKeyUsageOID.CLIENT_AUTH, None)
    pem = serialization.Encoding.PEM
    pki = Pki(folder / "studio-ca.pem", folder / "server.pem", folder / "server.key",
              folder / "client.pem")
    pki.ca.write_bytes(ca_cert.public_bytes(pem))
    pki.server_cert.write_bytes(server_cert.public_bytes(pem))
    pki.server_key.write_bytes(_pem_key(server_key))
    pki.client.write_bytes(client_cert.public_bytes(pem) + _pem_key(client_key))
    return pki


@dataclass
class HttpsServer:
    url: str
    store: object
    admin_user: str
    admin_password: str
    service_api_key: str


@contextmanager
def https_server(data_dir: Path, pki: Pki, *,
                 require_client_cert: bool = False) -> Iterator[HttpsServer]:
    """The demo-seeded local server's application over HTTPS on a free loopback port."""
    import socket

    import uvicorn

    from ayon_launcher.localserver.app import create_app
    from ayon_launcher.localserver.seed import ADMIN_PASSWORD, ADMIN_USER, seed_demo
    from ayon_launcher.localserver.store import Store

    store = Store(Path(data_dir))
    credentials = seed_demo(store)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    config = uvicorn.Config(
        create_app(store), host="127.0.0.1", port=port, log_level="warning",
        access_log=False, lifespan="off",
        ssl_certfile=str(pki.server_cert), ssl_keyfile=str(pki.server_key),
        ssl_ca_certs=str(pki.ca),
        ssl_cert_reqs=ssl.CERT_REQUIRED if require_client_cert else ssl.CERT_NONE)
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "HTTPS server did not start"
        time.sleep(0.01)
    try:
        yield HttpsServer(f"https://127.0.0.1:{port}", store, ADMIN_USER, ADMIN_PASSWORD,
                          credentials["service_api_key"])
    finally:
        server.should_exit = True
        thread.join(10)
        store.close()
