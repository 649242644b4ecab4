"""A mosquitto setup where each client's sessions are readable only by that client's therapist.

Why a generator and not only a README snippet: the ACL, the password file and the commands each
person runs must agree on user names and topics to the letter; one typo and a client publishes
into the void (mosquitto drops a refused publish without a word) or, worse, a topic is readable
by someone it should not be. So ``biofeedback therapist broker-config`` writes them together.

Topics: a client ``K7`` publishes with broker user ``K7`` under the prefix ``<prefix>/K7``, so its
sessions are ``<prefix>/K7/<session id>/{status,metrics,events}`` (the schema of :mod:`sessions.mqtt`
under a per-client prefix), and reads markers from ``<prefix>/K7/<session id>/marker``. A therapist
follows ``<prefix>/+`` (every client they may read) and writes markers only to their own clients.
The ACL (mosquitto's ``acl_file``)::

    pattern write <prefix>/%u/+/status      every client: its own sessions only (%u = its user name)
    pattern write <prefix>/%u/+/metrics
    pattern write <prefix>/%u/+/events
    pattern read  <prefix>/%u/+/marker      ... and the markers sent to them

    user T                                 a therapist: read their clients, send them markers
    topic read <prefix>/K7/#
    topic write <prefix>/K7/+/marker

mosquitto checks read access per message on delivery, so a therapist's wildcard subscription
(``<prefix>/+/+/metrics``) receives their own clients' messages and nothing else.

The folder also keeps ``setup.json`` (who follows whom; no secrets) so that running the command
again adds a therapist or a client and keeps everyone's password; ``credentials/<user>.pw`` holds
each person's password in clear (0600), to hand over and then delete.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from sessions.clients import CODE_RE
from sessions.errors import UserError
from sessions.private_files import private_folder, replace_private

CLIENT_CODE = CODE_RE
"""A client's broker user name is its client code (:mod:`sessions.clients`), so the same rule."""
THERAPIST_NAME = CLIENT_CODE
SETUP = "setup.json"
PBKDF2_ITERATIONS = 101  # mosquitto_passwd's own default for its $7$ (PBKDF2-SHA512) hashes
CLIENT_TOPICS = ("status", "metrics", "events")


def password_hash(password: str, salt: bytes | None = None) -> str:
    """A mosquitto 2 password-file hash (``$7$``: PBKDF2-HMAC-SHA512, 12-byte salt), as mosquitto_passwd writes it."""
    salt = salt if salt is not None else secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, PBKDF2_ITERATIONS)
    return f"$7${PBKDF2_ITERATIONS}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def new_password() -> str:
    return secrets.token_urlsafe(18)


@dataclass
class Setup:
    """Who follows whom, and the listener; kept in ``setup.json`` next to the generated files."""

    prefix: str = "biofeedback"
    host: str = "localhost"
    port: int = 8883
    bind: str | None = None
    tls: bool = True
    cafile: str | None = None
    certfile: str | None = None
    keyfile: str | None = None
    therapists: dict[str, list[str]] = field(default_factory=dict)

    def clients(self) -> list[str]:
        return sorted({c for cs in self.therapists.values() for c in cs})

    def users(self) -> list[str]:
        return sorted(self.therapists) + self.clients()

    def url(self, user: str, prefix: str) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}@{self.host}:{self.port}/{prefix}"


def client_prefix(prefix: str, client: str) -> str:
    """Where client ``client`` publishes its sessions (the ``/prefix`` of its ``run --mqtt`` address)."""
    return f"{prefix}/{client}"


def acl_text(setup: Setup) -> str:
    p = setup.prefix
    lines = ["# Written by `biofeedback therapist broker-config`: each client publishes only its own sessions",
             "# and reads only the markers sent to them; each therapist reads only their own clients.",
             "# %u is the broker user name, which for a client is its client code.", ""]
    lines += [f"pattern write {p}/%u/+/{topic}" for topic in CLIENT_TOPICS]
    lines += [f"pattern read {p}/%u/+/marker", ""]
    for therapist, clients in sorted(setup.therapists.items()):
        lines.append(f"user {therapist}")
        for client in sorted(clients):
            lines += [f"topic read {p}/{client}/#", f"topic write {p}/{client}/+/marker"]
        lines.append("")
    return "\n".join(lines)


def mosquitto_conf(setup: Setup, folder: Path) -> str:
    listener = f"listener {setup.port}" + (f" {setup.bind}" if setup.bind else "")
    lines = ["# Written by `biofeedback therapist broker-config`. Run: mosquitto -c " + str(folder / "mosquitto.conf"),
             "# The broker must be able to read passwd and acl (e.g. chown mosquitto: on them; keep them 0600).",
             "per_listener_settings false", "allow_anonymous false",
             f"password_file {folder / 'passwd'}", f"acl_file {folder / 'acl'}", "", listener]
    if setup.tls:
        lines += [f"cafile {setup.cafile or folder / 'tls' / 'ca.pem'}",
                  f"certfile {setup.certfile or folder / 'tls' / 'server.pem'}",
                  f"keyfile {setup.keyfile or folder / 'tls' / 'server.key'}",
                  "tls_version tlsv1.2"]
    else:
        lines.append("# No TLS: only for a broker on this computer (127.0.0.1); anywhere else use TLS.")
    return "\n".join(lines) + "\n"


def instructions(setup: Setup, folder: Path) -> str:
    ca = " --mqtt-ca ca.pem" if setup.tls else ""
    out = [f"Broker: mosquitto -c {folder / 'mosquitto.conf'}", ""]
    for therapist, clients in sorted(setup.therapists.items()):
        out += [f"Therapist {therapist} follows {', '.join(sorted(clients))} (password in credentials/{therapist}.pw):",
                f"  biofeedback watch --web --mqtt {setup.url(therapist, setup.prefix + '/+')}{ca} "
                f"--mqtt-password-file {therapist}.pw", ""]
    for client in setup.clients():
        out += [f"Client {client} (password in credentials/{client}.pw):",
                f"  biofeedback --client {client} run --mqtt {setup.url(client, client_prefix(setup.prefix, client))}{ca} "
                f"--mqtt-password-file {client}.pw --accept-markers", ""]
    out.append("Hand each person only their own .pw file, then delete it here: the broker keeps only hashes (passwd).")
    return "\n".join(out) + "\n"


def _load(folder: Path) -> tuple[Setup, dict[str, str]]:
    """The setup written before (or a new one) and the hashes already in ``passwd`` (kept, so nobody's password changes)."""
    setup = Setup()
    path = folder / SETUP
    if path.exists():
        try:
            raw = json.loads(path.read_text())
            setup = Setup(**{k: v for k, v in raw.items() if k in Setup.__dataclass_fields__})
        except (ValueError, TypeError) as err:
            raise UserError(f"{path} is not a setup this command wrote ({err}); use another folder with -o.") from None
    hashes: dict[str, str] = {}
    passwd = folder / "passwd"
    if passwd.exists():
        for line in passwd.read_text().splitlines():
            user, sep, digest = line.partition(":")
            if sep:
                hashes[user] = digest
    return setup, hashes


def _check_names(therapist: str, clients: list[str], setup: Setup) -> None:
    if not THERAPIST_NAME.fullmatch(therapist):
        raise UserError(f"'{therapist}' cannot be a therapist's broker user: 2-24 letters, digits, '-' or '_'.")
    for code in clients:
        if not CLIENT_CODE.fullmatch(code):
            raise UserError(f"'{code}' is not a client code: 2-24 letters, digits, '-' or '_', starting with a letter "
                            "or digit (a pseudonym such as K7, never a name).")
    known_clients = set(setup.clients()) | set(clients)
    if therapist in known_clients:
        raise UserError(f"'{therapist}' is also a client code; give the therapist a broker user of their own.")
    clash = known_clients & (set(setup.therapists) - {therapist})
    if clash:
        raise UserError(f"'{sorted(clash)[0]}' is already a therapist's broker user; choose another client code.")


def write(folder: Path, therapist: str, clients: list[str], *, prefix: str | None = None, host: str | None = None,
          port: int | None = None, bind: str | None = None, tls: bool | None = None, cafile: str | None = None,
          certfile: str | None = None, keyfile: str | None = None) -> tuple[Setup, list[str]]:
    """Add ``therapist`` following ``clients`` to the setup in ``folder`` and write every file; returns the setup
    and the users who got a new password (their ``credentials/<user>.pw``)."""
    folder = folder.resolve()
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder} is a file; give -o a folder.")
    private_folder(folder)
    setup, hashes = _load(folder)
    _check_names(therapist, clients, setup)
    for name, value in (("prefix", prefix), ("host", host), ("port", port), ("bind", bind), ("tls", tls),
                        ("cafile", cafile), ("certfile", certfile), ("keyfile", keyfile)):
        if value is not None:
            setattr(setup, name, value)
    setup.therapists[therapist] = sorted(set(setup.therapists.get(therapist, [])) | set(clients))
    creds = private_folder(folder / "credentials")
    fresh = []
    for user in setup.users():
        if user not in hashes:
            password = new_password()
            hashes[user] = password_hash(password)
            replace_private(creds / f"{user}.pw", (password + "\n").encode())
            fresh.append(user)
    replace_private(folder / "passwd", "".join(f"{u}:{hashes[u]}\n" for u in setup.users()).encode())
    replace_private(folder / "acl", acl_text(setup).encode())
    replace_private(folder / "mosquitto.conf", mosquitto_conf(setup, folder).encode())
    replace_private(folder / "README.txt", instructions(setup, folder).encode())
    replace_private(folder / SETUP, (json.dumps(setup.__dict__, indent=2) + "\n").encode())
    return setup, fresh
