"""The sync client against the real central server over TLS, with certificates
a clinic box refuses (self-signed, made for another name, not valid yet): each
refusal says what to fix, and SSL_CERT_FILE fixes the untrusted one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from edgebox.errors import SyncError
from edgebox.store import Store
from edgebox.sync.client import SyncClient
from tests.support.central import sync_settings
from tests.support.paths import REPO
from tests.support.records import fill_store
from tests.support.tls import OPENSSL, certificate, register, tls_central

pytestmark = pytest.mark.skipif(
    OPENSSL is None, reason="the test certificates are made by the openssl command"
)


def box_environment(**changes: str) -> dict[str, str]:
    """This process's environment without any CA file of the test machine's."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")
    }
    return env | changes


def test_an_untrusted_certificate_is_named_and_ssl_cert_file_fixes_it(
    tmp_path: Path, edgebox_home: Path
) -> None:
    """A private central server with a self-signed certificate: the box used
    to say only "network error (ConnectError)"."""
    cert, key = certificate(tmp_path / "tls", names="IP:127.0.0.1")
    db_url = f"sqlite:///{tmp_path / 'central.db'}"
    token = register(db_url, "clinic-a")
    fill_store(edgebox_home / "data" / "edgebox.db", 3)
    with tls_central(db_url, cert, key, tmp_path / "central.log") as port:
        (edgebox_home / "edgebox.toml").write_text(
            f'[sync]\nurl = "https://127.0.0.1:{port}"\ndevice = "clinic-a"\n',
            encoding="utf-8",
        )
        command = [sys.executable, "-m", "edgebox.cli.sync", "sync", "--once"]
        run = {"cwd": REPO, "capture_output": True, "text": True, "timeout": 120}
        env = box_environment(EDGEBOX_SYNC_TOKEN=token)
        refused = subprocess.run([*command, "--attempts", "1"], env=env, **run)
        trusted = subprocess.run(command, env=env | {"SSL_CERT_FILE": str(cert)}, **run)
    assert refused.returncode == 1
    error = refused.stderr.splitlines()[-1]
    assert error.startswith(
        "error: sync incomplete: no acknowledgement from the server: network"
        " error: the server's certificate is not trusted (self"
    )  # "self-signed certificate", or "self signed" in older OpenSSL
    assert "set SSL_CERT_FILE to your CA's certificate" in error
    assert trusted.returncode == 0, trusted.stderr
    assert trusted.stdout.startswith("sent 3 ")


@pytest.mark.parametrize(
    ("names", "valid", "said"),
    [
        ("DNS:localhost", None, "the server's certificate is for another name (IP"
         " address mismatch, certificate is not valid for '127.0.0.1'); use the"
         " name it was made for in [sync] url"),
        ("IP:127.0.0.1", ("20990101000000Z", "20990102000000Z"), "the server's"
         " certificate is not valid now (certificate is not yet valid); check this"
         " box's date and time"),
    ],
)  # fmt: skip
def test_a_trusted_certificate_that_still_fails_says_what_to_fix(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    names: str,
    valid: tuple[str, str] | None,
    said: str,
) -> None:
    """Trusted through SSL_CERT_FILE, yet made for another name, or not valid
    on this box's clock (a box without a clock battery boots in 1970): telling
    the volunteer to trust a CA would send them to the wrong fix."""
    cert, key = certificate(tmp_path / "tls", names=names, valid=valid)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    db_url = f"sqlite:///{tmp_path / 'central.db'}"
    token = register(db_url, "clinic-a")
    with (
        tls_central(db_url, cert, key, tmp_path / "central.log") as port,
        Store(fill_store(tmp_path / "box.db", 2)) as store,
    ):
        settings = sync_settings(f"https://127.0.0.1:{port}", "clinic-a", token)
        with SyncClient(store, settings, max_attempts=1) as client:
            report = client.push()
    assert report.error is not None
    assert report.error.startswith(
        f"no acknowledgement from the server: network error: {said}"
    )
    assert report.pending == 2


@pytest.mark.parametrize("content", [None, "not a certificate\n"])
def test_an_unusable_ssl_cert_file_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str | None
) -> None:
    """A mistyped path or a file that holds no PEM certificate: one line that
    names the variable, not a traceback from inside httpx."""
    path = tmp_path / "ca.pem"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    monkeypatch.setenv("SSL_CERT_FILE", str(path))
    settings = sync_settings("https://127.0.0.1:8470", "clinic-a", "1.x")
    with Store(tmp_path / "box.db") as store, pytest.raises(SyncError) as caught:
        SyncClient(store, settings)
    assert str(caught.value).startswith(f"SSL_CERT_FILE={path} cannot be used: ")
    assert str(caught.value).endswith("; it must name a PEM file")
