"""What one tile of the watch page shows, built on the server in the page's language.

The browser only places text (``textContent``, never HTML) and draws the curve: every word a
therapist reads is made here from the same helpers as the terminal table and the window
(:mod:`sessions.commands.watch`), so the three views say the same thing.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from typing import Any

from sessions.commands.watch import care_text, end_text, step_title, with_unit
from sessions.events import EventKind, MarkerSource
from sessions.formatting import clock
from sessions.i18n import tr
from sessions.metric_registry import PUBLISHED
from sessions.mqtt.follow import Followed

CURVE_POINTS = 900
"""Beat-to-beat points kept per session (one per published second: 15 minutes); the page shows the last 5."""
TILE_METRICS = ("hr", "calm", "pacer", "coh", "rmssd")
_BY_WIRE = {m.wire: m for m in PUBLISHED}

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Following live",
        "empty": "No sessions yet. A client's session appears here as soon as it starts publishing.",
        "marker": "Marker",
        "marker_word": "word (optional)",
        "marker_sent": "sent…",
        "marker_recorded": "recorded in the session at {clock}",
        "marker_unconfirmed": "not confirmed: does this session accept markers (run … --accept-markers)?",
        "marker_failed": "not sent: no connection to the broker",
        "marker_ended": "the session has ended",
        "curve": "heart rate beat to beat (blue) and calm (green), last 5 minutes",
        "legend_hr": "heart rate, beat to beat",
        "legend_calm": "calm (0-100)",
        "step": "Step",
        "lost": "The connection to the watch program is lost; reload the page once it runs again.",
        "suggest_hotspot": "hotspot",
        "suggest_rescript": "rescripting starts",
        "suggest_calm": "calm again",
    },
    "nl": {
        "title": "Live meekijken",
        "empty": "Nog geen sessies. De sessie van een cliënt verschijnt hier zodra die begint te publiceren.",
        "marker": "Markering",
        "marker_word": "woord (mag leeg)",
        "marker_sent": "verstuurd…",
        "marker_recorded": "vastgelegd in de sessie om {clock}",
        "marker_unconfirmed": "niet bevestigd: neemt deze sessie markeringen aan (run … --accept-markers)?",
        "marker_failed": "niet verstuurd: geen verbinding met de broker",
        "marker_ended": "de sessie is afgelopen",
        "curve": "hartslag slag op slag (blauw) en kalmte (groen), laatste 5 minuten",
        "legend_hr": "hartslag, slag op slag",
        "legend_calm": "kalmte (0-100)",
        "step": "Stap",
        "lost": "De verbinding met het meekijkprogramma is weg; laad de pagina opnieuw zodra het weer draait.",
        "suggest_hotspot": "hotspot",
        "suggest_rescript": "herschrijven begint",
        "suggest_calm": "weer rustig",
    },
}


def words(lang: str) -> dict[str, str]:
    return WORDS.get(lang, WORDS["en"])


class Curves:
    """Per session, the beat-to-beat heart rate (60000 / the latest RR) and calm at each published second."""

    def __init__(self) -> None:
        self._points: dict[str, deque[tuple[float, float | None, float | None]]] = {}

    def add(self, key: str, metrics: dict[str, Any]) -> None:
        t = metrics.get("t")
        if not isinstance(t, (int, float)):
            return
        rr = metrics.get("rr")
        bpm = round(60000.0 / rr, 1) if isinstance(rr, (int, float)) and 250 <= rr <= 2500 else None
        calm = metrics.get("calm")
        points = self._points.setdefault(key, deque(maxlen=CURVE_POINTS))
        if points and t <= points[-1][0]:
            return  # a repeat after a reconnect: the curve runs forward only
        points.append((float(t), bpm, float(calm) if isinstance(calm, (int, float)) else None))

    def since(self, key: str, t: float | None) -> list[tuple[float, float | None, float | None]]:
        """The points after ``t`` (all with None), oldest first; read from the newest end, as a page asks for the few new ones."""
        points = self._points.get(key, ())
        if t is None:
            return list(points)
        new = list(itertools.takewhile(lambda p: p[0] > t, reversed(points)))
        new.reverse()
        return new

    def forget(self, key: str) -> None:
        self._points.pop(key, None)


def _state_text(lang: str, shown: str) -> str:
    return tr(lang, "state_" + shown) if shown in ("online", "offline", "lost", "quiet") else "…"


def tile(s: Followed, lang: str, now: float | None = None) -> dict[str, Any]:
    """Everything a tile says, as plain values and texts (no HTML)."""
    now = time.time() if now is None else now
    values = s.metrics
    shown = s.shown_state(now)
    numbers = []
    for wire in TILE_METRICS:
        spec = _BY_WIRE.get(wire)
        if spec is not None:
            numbers.append({"key": wire, "name": spec.name(lang),
                            "text": with_unit(spec.format(values.get(wire)), spec.unit)})
    return {
        "key": s.sid,
        "client": s.client,
        "session": s.sid.rpartition("/")[2],
        "state": shown,
        "state_text": _state_text(lang, shown),
        "time": clock(values.get("t")),
        "ts": values.get("ts"),  # the publisher's clock at the sample: the page keeps it to show the delay
        "step": step_title(s.script, values.get("step"), lang) if values else "–",
        "numbers": numbers,
        "care": care_text(s, lang),
        "alert": bool(s.distress or s.in_care),
        "end": end_text(s, lang),
    }


def marker_recorded(payload: dict[str, Any]) -> bool:
    """A session's published event saying it recorded a therapist's marker."""
    return payload.get("kind") == EventKind.MARKER.value and payload.get("source") == MarkerSource.THERAPIST.value
