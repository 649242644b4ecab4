"""Where and how to reach the broker: the URL, the password's source, TLS files.

Everything a user can get wrong here is checked before a session starts and said in one sentence
(:class:`sessions.errors.UserError`), so that a typo never surfaces mid-session.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sessions.errors import UserError
from sessions.private_files import read_secret_file

log = logging.getLogger(__name__)

PASSWORD_ENV = "BIOFEEDBACK_MQTT_PASSWORD"
DEFAULT_PREFIX = "biofeedback"
_SEGMENT = re.compile(r"^[A-Za-z0-9_.-]+$")
SESSION_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


@dataclass(frozen=True)
class BrokerSettings:
    host: str
    port: int
    prefix: str
    tls: bool
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None

    def describe(self) -> str:
        """The URL as shown to people: never the password."""
        user = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}/{self.prefix}"

    def tls_context(self) -> ssl.SSLContext | None:
        if not self.tls:
            return None
        try:
            ctx = ssl.create_default_context(cafile=self.ca_file)
            if self.cert_file:
                ctx.load_cert_chain(self.cert_file, self.key_file)
        except ssl.SSLError as err:
            raise UserError(f"The TLS files could not be used ({err.reason or err}); check --mqtt-ca, "
                            "--mqtt-cert and --mqtt-key (PEM files, the key matching the certificate).") from None
        except OSError as err:
            raise UserError(f"Cannot read a TLS file: {err.filename or err}.") from None
        return ctx


def require_aiomqtt() -> None:
    try:
        import aiomqtt  # noqa: F401 - only to know it is there
    except ImportError:
        raise UserError("--mqtt needs the MQTT extra, which is not installed: "
                        "pip install 'biofeedback-imagery[mqtt]' (it brings aiomqtt).") from None


def valid_prefix(prefix: str, *, wildcards: bool = False) -> bool:
    """Topic levels of letters, digits, '-', '_', '.'; with ``wildcards`` a level may be ``+`` (one client each,
    for a therapist following ``<prefix>/+``)."""
    return all(_SEGMENT.match(seg) or (wildcards and seg == "+") for seg in prefix.split("/"))


def parse_url(url: str, *, wildcards: bool = False) -> tuple[str, int, str, bool, str | None]:
    """``mqtt[s]://[user@]host[:port][/prefix]`` -> (host, port, prefix, tls, username)."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts"):
        raise UserError(f"The MQTT address must start with mqtt:// or mqtts://, not {url!r}.")
    if parts.password is not None:
        raise UserError(f"Leave the password out of the MQTT address (it would show in the process list); "
                        f"put it in {PASSWORD_ENV} or a file given with --mqtt-password-file.")
    if not parts.hostname:
        raise UserError(f"The MQTT address {url!r} names no host, e.g. mqtt://127.0.0.1:1883/biofeedback.")
    try:
        port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
    except ValueError:
        raise UserError(f"The port in the MQTT address {url!r} is not a number from 1 to 65535.") from None
    prefix = parts.path.strip("/") or DEFAULT_PREFIX
    if not valid_prefix(prefix, wildcards=wildcards):
        also = " (and '+' for a whole level, to follow every client under it)" if wildcards else ""
        raise UserError(f"The topic prefix {prefix!r} may only hold letters, digits, '-', '_', '.' and '/'{also}.")
    username = unquote(parts.username) if parts.username else None
    return parts.hostname, port, prefix, parts.scheme == "mqtts", username


def read_password(password_file: str | None) -> str | None:
    """From the file if given, else from the environment; None when neither is there."""
    if password_file:
        return read_secret_file(password_file, "MQTT password")
    return os.environ.get(PASSWORD_ENV) or None


def settings_from(url: str, *, password_file: str | None = None, ca_file: str | None = None,
                  cert_file: str | None = None, key_file: str | None = None, wildcards: bool = False) -> BrokerSettings:
    host, port, prefix, tls, username = parse_url(url, wildcards=wildcards)
    if (ca_file or cert_file or key_file) and not tls:
        raise UserError("--mqtt-ca, --mqtt-cert and --mqtt-key need an mqtts:// address.")
    if key_file and not cert_file:
        raise UserError("--mqtt-key needs --mqtt-cert (the client certificate it belongs to).")
    for flag, f in (("--mqtt-ca", ca_file), ("--mqtt-cert", cert_file), ("--mqtt-key", key_file)):
        if f and not Path(f).is_file():
            raise UserError(f"{flag}: no such file {f}.")
    password = read_password(password_file)
    if password and not username:
        raise UserError("A password was given but no user name: put it in the address, e.g. mqtt://therapist@host.")
    settings = BrokerSettings(host, port, prefix, tls, username, password, ca_file, cert_file, key_file)
    settings.tls_context()  # say now if the TLS files are unusable
    return settings


def add_broker_arguments(parser: argparse.ArgumentParser, *, url_help: str) -> argparse._ArgumentGroup:
    """The broker flags shared by ``run`` and ``watch``."""
    group = parser.add_argument_group("MQTT (optional: follow a session live from elsewhere)")
    group.add_argument("--mqtt", metavar="URL", help=url_help)
    group.add_argument("--mqtt-password-file", metavar="FILE",
                       help=f"read the broker password from the first line of FILE (else from ${PASSWORD_ENV}; "
                            "never on the command line)")
    group.add_argument("--mqtt-ca", metavar="PEM", help="with mqtts://: the CA that signed the broker's certificate "
                                                        "(default: the system's CAs)")
    group.add_argument("--mqtt-cert", metavar="PEM", help="with mqtts://: a client certificate, for brokers that ask for one")
    group.add_argument("--mqtt-key", metavar="PEM", help="with --mqtt-cert: its private key (if not in the same file)")
    return group


def settings_from_args(args, *, wildcards: bool = False) -> BrokerSettings:
    require_aiomqtt()
    return settings_from(args.mqtt, password_file=args.mqtt_password_file, ca_file=args.mqtt_ca,
                         cert_file=args.mqtt_cert, key_file=args.mqtt_key, wildcards=wildcards)
