"""Certificates made with the openssl command and a real central server
serving TLS on 127.0.0.1, for the sync and console TLS tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from edgebox.sync.central.auth import new_token
from edgebox.sync.central.database import open_central
from tests.support.loopback import free_port
from tests.support.paths import REPO
from tests.support.processes import wait_for

OPENSSL = shutil.which("openssl")
"""None where openssl is missing: the TLS tests skip, saying so."""

# What a volunteer's CA file must say for Python to trust a self-signed
# server certificate (3.13 checks the key usage of a CA).
EXTENSIONS = (
    "basicConstraints=critical,CA:TRUE",
    "keyUsage=critical,digitalSignature,keyCertSign",
    "extendedKeyUsage=serverAuth",
)

CA_CONFIG = """\
[ca]
default_ca = box
[box]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
copy_extensions = copy
[any]
commonName = supplied
"""


def certificate(
    folder: Path, *, names: str, valid: tuple[str, str] | None = None
) -> tuple[Path, Path]:
    """A self-signed certificate for `names` (a subjectAltName value) and its
    key; `valid` (notBefore, notAfter) makes one outside today's dates."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "cert.pem", folder / "key.pem"
    request = [
        "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", str(key), "-subj", "/CN=edgebox central",
        "-addext", f"subjectAltName={names}",
    ]  # fmt: skip
    for extension in EXTENSIONS:
        request += ["-addext", extension]
    if valid is None:
        _openssl("req", "-x509", "-days", "2", *request, "-out", str(cert), cwd=folder)
        return cert, key
    (folder / "ca.cnf").write_text(CA_CONFIG, encoding="utf-8")
    (folder / "index.txt").write_text("", encoding="utf-8")
    (folder / "serial").write_text("01\n", encoding="utf-8")
    _openssl("req", "-new", *request, "-out", "request.csr", cwd=folder)
    _openssl(
        "ca", "-selfsign", "-batch", "-config", "ca.cnf", "-keyfile", str(key),
        "-in", "request.csr", "-out", str(cert),
        "-startdate", valid[0], "-enddate", valid[1],
        cwd=folder,
    )  # fmt: skip
    return cert, key


def _openssl(*args: str, cwd: Path) -> None:
    made = subprocess.run(
        [str(OPENSSL), *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )
    assert made.returncode == 0, made.stderr


def register(db_url: str, device: str) -> str:
    central = open_central(db_url)
    try:
        return central.register_device(device, new_token)[1]
    finally:
        central.close()


@contextmanager
def tls_central(db_url: str, cert: Path, key: Path, log: Path) -> Iterator[int]:
    """`edgebox central serve --ssl-certfile --ssl-keyfile` on 127.0.0.1; its port."""
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "edgebox.cli.sync",
        "central",
        "serve",
        "--db",
        db_url,
    ]
    args += [
        "--port",
        str(port),
        "--ssl-certfile",
        str(cert),
        "--ssl-keyfile",
        str(key),
    ]
    with log.open("ab") as out:  # the child keeps its own copy
        process = subprocess.Popen(args, stdout=out, stderr=out, cwd=REPO)
    try:
        wait_for(lambda: _answers(port, process), what="the central server over TLS")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def _answers(port: int, process: subprocess.Popen[bytes]) -> bool:
    assert process.poll() is None, "the central server exited"
    try:  # not verified: only whether it is up, whatever its certificate
        url = f"https://127.0.0.1:{port}/v1/health"
        return httpx.get(url, verify=False, timeout=2.0).status_code == 200
    except httpx.TransportError:
        return False
