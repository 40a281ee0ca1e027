"""HTTPS when certificates are configured: the server (uvicorn, as ``sharpeyes serve`` runs it) answers over TLS
with a certificate made here, tells browsers to keep to HTTPS, and refuses plain HTTP; a certificate without its
key is refused at start."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from pathlib import Path

import httpx
import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import ValidationError

from sharpeyes.api.app import create_app
from sharpeyes.cli.main import server_config
from sharpeyes.cli.wiring import build_runtime
from sharpeyes.core.settings import ServerSettings, Settings
from tests.support.waiting import wait_for


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_the_platform_serves_https_with_a_configured_certificate(settings: Settings, tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    server_settings = ServerSettings(port=_free_port(), tls_cert=cert, tls_key=key)
    configured = settings.model_copy(update={"server": server_settings})
    runtime = build_runtime(configured, with_streams=False)
    server = uvicorn.Server(server_config(configured, create_app(configured, runtime.services)))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, 10, "the server to start")
        trusted = ssl.create_default_context(cafile=str(cert))
        answer = httpx.get(f"https://127.0.0.1:{server_settings.port}/healthz", verify=trusted)
        assert answer.status_code == 200
        assert answer.headers["Strict-Transport-Security"] == "max-age=31536000"
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{server_settings.port}/healthz", timeout=2)
    finally:
        server.should_exit = True
        thread.join(10)
        runtime.engine.dispose()


def test_a_certificate_without_its_key_is_refused(tmp_path: Path) -> None:
    cert, _ = _self_signed(tmp_path)
    with pytest.raises(ValidationError, match=r"tls_cert and server\.tls_key go together"):
        ServerSettings(tls_cert=cert)
    with pytest.raises(ValidationError, match="does not exist"):
        ServerSettings(tls_cert=cert, tls_key=tmp_path / "missing.pem")
