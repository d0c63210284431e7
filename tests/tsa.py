"""A time-stamping authority on 127.0.0.1 for the tests: a tiny HTTP server that hands each
RFC 3161 request to `openssl ts -reply`, signing with a TSA certificate from a test CA made
in the test's folder."""

from __future__ import annotations

import datetime
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CONFIG = """
[ tsa ]
default_tsa = exitnow_test_tsa
[ exitnow_test_tsa ]
serial = {folder}/serial
crypto_device = builtin
signer_cert = {folder}/tsa.crt
certs = {folder}/ca.crt
signer_key = {folder}/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _certificate(subject: str, key, issuer: str, issuer_key, is_tsa: bool) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=not is_tsa, path_length=None), critical=True)
    )
    if is_tsa:  # RFC 3161 2.3: the one and only, critical, extended key usage
        eku = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING])
        builder = builder.add_extension(eku, critical=True)
    return builder.sign(issuer_key, hashes.SHA256())


def _write_key(path: Path, key) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


class LocalTsa:
    """`openssl ts` behind HTTP on a free port of 127.0.0.1; `url` is what EXITNOW_TSA_URL takes."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        ca = _certificate("Exit Now test CA", ca_key, "Exit Now test CA", ca_key, False)
        self.certificate = _certificate(
            "Exit Now test TSA", tsa_key, "Exit Now test CA", ca_key, True
        )
        (folder / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        (folder / "tsa.crt").write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))
        _write_key(folder / "tsa.key", tsa_key)
        (folder / "serial").write_text("01\n")
        (folder / "openssl.cnf").write_text(CONFIG.format(folder=folder))
        self.requests = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_port}/tsa"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def reply(self, query: bytes) -> bytes:
        """`openssl ts -reply` to one DER TimeStampReq."""
        with tempfile.TemporaryDirectory(dir=self.folder) as work:
            (Path(work) / "query.tsq").write_bytes(query)
            subprocess.run(
                ["openssl", "ts", "-reply", "-config", str(self.folder / "openssl.cnf")]
                + ["-queryfile", f"{work}/query.tsq", "-out", f"{work}/reply.tsr"],
                check=True,
                capture_output=True,
                timeout=20,
            )
            return (Path(work) / "reply.tsr").read_bytes()

    def _handler(self):
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                query = self.rfile.read(int(self.headers["Content-Length"]))
                tsa.requests += 1
                body = tsa.reply(query)
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        return Handler

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
