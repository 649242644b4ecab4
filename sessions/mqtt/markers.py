"""Markers a therapist sends to a running session over the broker (``run --mqtt ... --accept-markers``).

The watch page publishes ``<prefix>/<session id>/marker`` with ``{"label": "hotspot", "id": "m-3f2a"}``
(QoS 1, not retained) using the therapist's broker user; the session, subscribed to its own marker
topic only, records each one with ``runner.add_marker(label, "therapist")``.

Anyone the broker lets write there can send anything, and a session must never suffer for it, so
:class:`MarkerInbox` takes only a small strict JSON object (at most :data:`MAX_BYTES`), a label of at
most 60 printable characters and an id of our form; it drops a message delivered twice (QoS 1 is at
least once) or retained (an old marker is not a moment of this session), and lets through at most
:data:`BURST` markers at once and one per :data:`REFILL_S` after that (a stuck button or a loop
cannot fill the record). Everything dropped is counted; nothing raises.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from typing import Any

from sessions.events import MARKER_LABEL_MAX, MarkerSource, marker_label
from sessions.mqtt.follow import Invalid, parse

log = logging.getLogger(__name__)

TOPIC = "marker"
MAX_BYTES = 512
LABEL_MAX = MARKER_LABEL_MAX
BURST = 5
REFILL_S = 2.0
REMEMBER = 512
MARKER_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
SOURCE = MarkerSource.THERAPIST.value
ACCEPTING = {"en": "MQTT: markers from the therapist following this session go into its record.",
             "nl": "MQTT: markeringen van de therapeut die meekijkt, komen in de opname van deze sessie."}


def marker_topic(prefix: str, sid: str) -> str:
    return f"{prefix}/{sid}/{TOPIC}"


def marker_payload(label: str, marker_id: str) -> dict[str, Any]:
    """What a watcher sends; :func:`check` is what a session accepts."""
    return {"label": label, "id": marker_id}


def check(raw: bytes) -> tuple[str, str]:
    """``(label, id)`` of a marker message; raises :class:`Invalid` saying why not."""
    if len(raw) > MAX_BYTES:
        raise Invalid(f"{len(raw)} bytes")
    payload = parse(raw)
    label, marker_id = payload.get("label"), payload.get("id")
    if not isinstance(marker_id, str) or not MARKER_ID.match(marker_id):
        raise Invalid("id is not valid")
    if label is None:
        label = ""
    if not isinstance(label, str) or len(label) > LABEL_MAX or not label.isprintable():
        raise Invalid("label is not valid")
    return marker_label(label), marker_id


class MarkerInbox:
    """Feed it each message from the marker topic; it calls ``add_marker(label, "therapist")`` for the good ones."""

    def __init__(self, add_marker: Callable[[str, str], None], *, clock: Callable[[], float] = time.monotonic,
                 burst: int = BURST, refill_s: float = REFILL_S) -> None:
        self.add_marker = add_marker
        self.clock = clock
        self.burst = burst
        self.refill_s = refill_s
        self._tokens = float(burst)
        self._last = clock()
        self._seen: OrderedDict[str, None] = OrderedDict()
        self.outcomes: Counter[str] = Counter()

    def _take_token(self) -> bool:
        now = self.clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._last) / self.refill_s)
        self._last = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True

    def receive(self, raw: bytes, *, retained: bool = False) -> str:
        """What became of the message: recorded, duplicate, retained, invalid, too_many or failed."""
        outcome = self._receive(raw, retained)
        if outcome != "recorded" and not any(n for k, n in self.outcomes.items() if k != "recorded"):
            log.warning("A marker message was not recorded (%s); further ones are counted quietly.", outcome)
        self.outcomes[outcome] += 1
        return outcome

    def _receive(self, raw: bytes, retained: bool) -> str:
        if retained:
            return "retained"
        try:
            label, marker_id = check(raw)
        except Invalid:
            return "invalid"
        if marker_id in self._seen:
            return "duplicate"
        if not self._take_token():
            return "too_many"
        self._seen[marker_id] = None
        if len(self._seen) > REMEMBER:
            self._seen.popitem(last=False)
        try:
            self.add_marker(label, SOURCE)
        except Exception:  # noqa: BLE001 - a marker must never end the session
            log.exception("Could not record a marker from the therapist; the session goes on.")
            return "failed"
        log.info("Marker from the therapist recorded: %s", label)
        return "recorded"
