"""A real mosquitto (Debian package) on a free loopback port, configured in a temp dir.

Also makes TLS test certificates (a CA, a server certificate for 127.0.0.1, a client certificate)
with the ``cryptography`` package, and password files with ``mosquitto_passwd``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def have_mosquitto() -> bool:
    return bool(shutil.which("mosquitto") and shutil.which("mosquitto_sub") and shutil.which("mosquitto_passwd"))


@dataclass
class TlsFiles:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path  # a CA that signed nothing here: trusting it alone must fail


def make_tls_files(folder: Path) -> TlsFiles:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.timezone.utc)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def write_key(key, path: Path) -> None:
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
        path.chmod(0o600)

    def ca(cn: str):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(name(cn))
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=2))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                             data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                             crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256()))
        return key, cert

    def leaf(cn: str, ca_key, ca_cert, *, server: bool):
        key = ec.generate_private_key(ec.SECP256R1())
        b = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(ca_cert.subject)
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=2))
             .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
             .add_extension(x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.SERVER_AUTH if server
                                                   else x509.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False))
        if server:
            b = b.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST)),
                                                             x509.DNSName("localhost")]), critical=False)
        return key, b.sign(ca_key, hashes.SHA256())

    pem = serialization.Encoding.PEM
    ca_key, ca_cert = ca("biofeedback test CA")
    other_key, other_cert = ca("some other CA")
    s_key, s_cert = leaf("127.0.0.1", ca_key, ca_cert, server=True)
    c_key, c_cert = leaf("therapist", ca_key, ca_cert, server=False)
    files = TlsFiles(folder / "ca.pem", folder / "server.pem", folder / "server.key", folder / "client.pem",
                     folder / "client.key", folder / "other-ca.pem")
    files.ca.write_bytes(ca_cert.public_bytes(pem))
    files.other_ca.write_bytes(other_cert.public_bytes(pem))
    files.server_cert.write_bytes(s_cert.public_bytes(pem))
    files.client_cert.write_bytes(c_cert.public_bytes(pem))
    write_key(s_key, files.server_key)
    write_key(c_key, files.client_key)
    return files


def password_file(folder: Path, users: dict[str, str]) -> Path:
    path = folder / "passwd"
    path.write_text("")
    path.chmod(0o600)
    for user, pw in users.items():
        subprocess.run(["mosquitto_passwd", "-b", str(path), user, pw], check=True, capture_output=True, timeout=10)
    return path


class Broker:
    """``start()``/``stop()``/``restart()`` keep the same port, so clients can come back to it."""

    def __init__(self, folder: Path, *, passwords: Path | None = None, tls: TlsFiles | None = None,
                 require_certificate: bool = False, acl: Path | None = None, generated: Path | None = None,
                 port: int | None = None) -> None:
        """``generated``: a mosquitto.conf written by ``therapist broker-config`` for ``port`` on 127.0.0.1, used
        as it is (only logging and, as root, the user to run as are added)."""
        self.folder = folder
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.log = folder / "mosquitto.log"
        self.config = folder / "mosquitto-test.conf"
        if generated is not None:
            self.config.write_text(generated.read_text() + f"\nlog_dest file {self.log}\npersistence false\n"
                                   f"user {pwd.getpwuid(os.geteuid()).pw_name}\n")
            return
        lines = [
            f"listener {self.port} {HOST}",
            "persistence false",
            f"log_dest file {self.log}",
            "log_type error", "log_type warning", "log_type notice", "log_type information",
            # When the tests run as root, stay root (the default would switch to the 'mosquitto'
            # user, which cannot read this temp folder); otherwise this line is ignored.
            f"user {pwd.getpwuid(os.geteuid()).pw_name}",
        ]
        if passwords is not None:
            lines += ["allow_anonymous false", f"password_file {passwords}"]
        else:
            lines += ["allow_anonymous true"]
        if acl is not None:
            lines += [f"acl_file {acl}"]
        if tls is not None:
            lines += [f"cafile {tls.ca}", f"certfile {tls.server_cert}", f"keyfile {tls.server_key}"]
            if require_certificate:
                lines += ["require_certificate true"]
        self.config.write_text("\n".join(lines) + "\n")

    def start(self, timeout: float = 10.0) -> Broker:
        self.proc = subprocess.Popen(["mosquitto", "-c", str(self.config)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.proc.stderr.read().decode(errors='replace')} "
                                   f"{self.log.read_text() if self.log.exists() else ''}")
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"mosquitto did not listen on {self.port} within {timeout} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def url(self, prefix: str = "bf", *, user: str | None = None, tls: bool = False) -> str:
        return f"{'mqtts' if tls else 'mqtt'}://{user + '@' if user else ''}{HOST}:{self.port}/{prefix}"

    def __enter__(self) -> Broker:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class Practice:
    """A therapist's practice on one broker: ``therapists`` (user -> client codes) written by
    ``biofeedback therapist broker-config`` with TLS, and a mosquitto running exactly that config."""

    def __init__(self, tmp: Path, therapists: dict[str, list[str]], prefix: str = "bf") -> None:
        self.tmp = tmp
        self.prefix = prefix
        self.tls = make_tls_files(tmp)
        self.port = free_port()
        self.folder = tmp / "broker"
        common = ["-o", str(self.folder), "--prefix", prefix, "--host", HOST, "--port", str(self.port), "--bind", HOST,
                  "--cafile", str(self.tls.ca), "--certfile", str(self.tls.server_cert), "--keyfile",
                  str(self.tls.server_key)]
        for therapist, clients in therapists.items():
            flags = [f for c in clients for f in ("--client", c)]
            out = subprocess.run([sys.executable, "-m", "sessions", "therapist", "broker-config", "--therapist", therapist,
                                  *flags, *common], cwd=Path(__file__).resolve().parents[1], capture_output=True,
                                 text=True, timeout=60, env=self.env())
            assert out.returncode == 0, out.stderr
        self.broker = Broker(tmp, generated=self.folder / "mosquitto.conf", port=self.port)

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "BIOFEEDBACK_MQTT_PASSWORD"}
        return {**env, "BIOFEEDBACK_DATA_DIR": str(self.tmp / "data"), "COLUMNS": "200", **extra}

    def password_file(self, user: str) -> Path:
        return self.folder / "credentials" / f"{user}.pw"

    def password(self, user: str) -> str:
        return self.password_file(user).read_text().strip()

    def url(self, user: str, prefix: str) -> str:
        return f"mqtts://{user}@{HOST}:{self.port}/{prefix}"

    def flags(self, user: str, prefix: str) -> list[str]:
        """``--mqtt URL --mqtt-ca CA --mqtt-password-file FILE`` for ``user`` on ``prefix``."""
        return ["--mqtt", self.url(user, prefix), "--mqtt-ca", str(self.tls.ca), "--mqtt-password-file",
                str(self.password_file(user))]

    def client(self, user: str):
        import aiomqtt

        ctx = ssl.create_default_context(cafile=str(self.tls.ca))
        return aiomqtt.Client(HOST, self.port, username=user, password=self.password(user), tls_context=ctx,
                              identifier=f"test-{user}-{time.monotonic_ns()}")
