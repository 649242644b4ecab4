"""What a watcher knows about the sessions it follows, built from the messages it receives.

Pure bookkeeping (no I/O), so the ``watch`` command, the benchmark and tests share it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sessions.mqtt.schema import Topic

QUIET_AFTER_S = 15.0  # online but no metrics for this long: shown as "no data"


@dataclass
class Followed:
    sid: str
    state: str = "unknown"          # online, offline
    reason: str | None = None       # with offline: done or lost
    script: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    last_event: dict[str, Any] | None = None
    last_rx: float = 0.0            # wall time of the last message
    last_metrics_rx: float = 0.0
    seen_online: bool = False
    curve: list[tuple[float, float | None, float | None]] = field(default_factory=list)  # (t, hr, calm)

    def shown_state(self, now: float) -> str:
        if self.state == "offline":
            return "lost" if self.reason == "lost" else "offline"
        if self.state == "online" and self.last_metrics_rx and now - self.last_metrics_rx > QUIET_AFTER_S:
            return "quiet"
        return self.state


@dataclass
class Update:
    sid: str
    kind: Topic          # which topic it came on
    payload: dict[str, Any]
    delay_s: float | None = None


class Following:
    """Feed it ``(topic, payload bytes, wall time)``; it keeps one :class:`Followed` per session."""

    def __init__(self, prefix: str, max_curve: int = 3600) -> None:
        self.prefix = prefix
        self.sessions: dict[str, Followed] = {}
        self.max_curve = max_curve

    def topics(self, sid: str | None = None) -> list[str]:
        who = sid or "+"
        return [f"{self.prefix}/{who}/{topic}" for topic in Topic]

    def handle(self, topic: str, raw: bytes, now: float) -> Update | None:
        head, _, tail = topic.rpartition("/")
        prefix, _, sid = head.rpartition("/")
        if prefix != self.prefix or tail not in set(Topic) or not sid:
            return None
        kind = Topic(tail)
        if not raw:
            return None  # a retained status being cleared
        try:
            payload = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(payload, dict):
            return None
        s = self.sessions.setdefault(sid, Followed(sid))
        s.last_rx = now
        delay = None
        if kind is Topic.STATUS:
            s.state = str(payload.get("state", "unknown"))
            s.reason = payload.get("reason")
            if s.state == "online":
                s.seen_online = True
                s.script = payload.get("script") or s.script
            return Update(sid, Topic.STATUS, payload)
        ts = payload.get("ts")
        if isinstance(ts, (int, float)):
            delay = now - ts
        if kind is Topic.METRICS:
            s.metrics = payload
            s.last_metrics_rx = now
            if s.state != "online":  # metrics flow: it is live (e.g. status lost in a broker restart)
                s.state, s.reason = "online", None
            s.curve.append((payload.get("t") or 0.0, payload.get("hr"), payload.get("calm")))
            if len(s.curve) > self.max_curve:
                del s.curve[: len(s.curve) - self.max_curve]
            return Update(sid, Topic.METRICS, payload, delay)
        s.last_event = payload
        return Update(sid, Topic.EVENTS, payload, delay)

    def all_finished(self) -> bool:
        """Every session seen online during this watch has gone offline (and there was one)."""
        live = [s for s in self.sessions.values() if s.seen_online]
        return bool(live) and all(s.state == "offline" for s in live)
