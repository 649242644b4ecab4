"""Why a broker connection failed, in one sentence, and whether trying again can help.

A wrong password or an untrusted certificate will not fix itself: those are said once and not
retried. A broker that is down or restarting is normal life: retried with backoff.

The wrong scheme for a port looks like an outage: ``mqtt://`` to a TLS listener times out (the
listener waits for a handshake that never comes), ``mqtts://`` to a plain one is reset. When one
of those is seen, :func:`diagnose` tries a TLS handshake with the port (nothing verified, nothing
sent) to tell which it speaks, and says which scheme to use.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass

from sessions.i18n import tr

# CONNACK codes: MQTT 3.1.1 (4, 5, 2) and their MQTT 5 reason codes, as paho reports them.
# mosquitto answers a wrong password with 5 (not authorised), so both get the same sentence.
_BAD_LOGIN = {4, 134, 5, 135}
_BAD_ID = {2, 133}


@dataclass(frozen=True)
class Failure:
    key: str
    permanent: bool
    detail: str = ""

    def sentence(self, lang: str, user: str | None) -> str:
        return tr(lang, self.key, user=user or "-", detail=self.detail)


def explain(err: BaseException) -> Failure:
    rc = getattr(err, "rc", None)
    code = getattr(rc, "value", rc)
    if isinstance(code, int) and not isinstance(code, bool) and type(err).__name__ == "MqttConnectError":
        if code in _BAD_LOGIN:
            return Failure("mqtt_fail_login", True)
        if code in _BAD_ID:
            return Failure("mqtt_fail_refused", True, str(err))
    text = str(err)
    low = text.lower()
    if "certificate_verify_failed" in low or "certificate verify failed" in low or "hostname mismatch" in low:
        return Failure("mqtt_fail_untrusted", True, _short(text))
    if "alert" in low and ("certificate" in low or "unknown ca" in low):
        return Failure("mqtt_fail_client_cert", True, _short(text))
    if "wrong_version_number" in low or "wrong version number" in low:
        return Failure("mqtt_fail_not_tls", True)
    return Failure("mqtt_fail_unreachable", False, _short(text) or type(err).__name__)


def speaks_tls(host: str, port: int, timeout: float = 3.0) -> bool | None:
    """Whether the port answers a TLS handshake; None when it cannot be reached at all."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError:
        return None
    try:
        with ctx.wrap_socket(sock, server_hostname=host):
            return True
    except ssl.SSLError as err:
        # The server answered in TLS (an alert: it wants a client certificate, say) or not at all.
        return "alert" in str(err).lower()
    except OSError:  # reset or closed on the handshake, or no answer: not a TLS listener
        return False
    finally:
        sock.close()


def diagnose(err: BaseException, host: str, port: int, tls: bool) -> Failure:
    """:func:`explain`, and for a timeout or a reset, whether the scheme is the wrong one (blocks up to 3 s)."""
    failure = explain(err)
    if failure.permanent:
        return failure
    low = str(err).lower()
    if tls and ("reset by peer" in low or "eof" in low) and speaks_tls(host, port) is False:
        return Failure("mqtt_fail_not_tls", True)
    if not tls and "timed out" in low and speaks_tls(host, port) is True:
        return Failure("mqtt_fail_needs_tls", True)
    return failure


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 120 else text[:117] + "…"
