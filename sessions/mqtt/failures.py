"""Why a broker connection failed, in one sentence, and whether trying again can help.

A wrong password or an untrusted certificate will not fix itself: those are said once and not
retried. A broker that is down or restarting is normal life: retried with backoff.
"""

from __future__ import annotations

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


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 120 else text[:117] + "…"
