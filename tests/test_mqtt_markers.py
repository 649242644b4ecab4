"""What a session does with what arrives on its marker topic, and how a therapist's watcher tells clients apart."""

from __future__ import annotations

import json

from sessions.mqtt import schema
from sessions.mqtt.follow import Following
from sessions.mqtt.markers import BURST, REFILL_S, MarkerInbox


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _inbox() -> tuple[MarkerInbox, list[tuple[str, str]], Clock]:
    got: list[tuple[str, str]] = []
    clock = Clock()
    return MarkerInbox(lambda label, source: got.append((label, source)), clock=clock), got, clock


def _msg(label: object = "hotspot", marker_id: object = "m-1", **extra: object) -> bytes:
    return json.dumps({"label": label, "id": marker_id, **extra}).encode()


def test_a_good_marker_is_recorded_once_as_the_therapists():
    inbox, got, _ = _inbox()
    assert inbox.receive(_msg("  rescripting   starts ", "m-1")) == "recorded"
    assert inbox.receive(_msg("rescripting starts", "m-1")) == "duplicate"   # QoS 1 delivers at least once
    assert inbox.receive(_msg("", "m-2")) == "recorded"                     # no word: a plain marker
    assert got == [("rescripting starts", "therapist"), ("marker", "therapist")]


def test_what_does_not_follow_the_form_is_dropped_and_counted_never_raised():
    inbox, got, _ = _inbox()
    bad = [b"", b"not json", b"[1,2]", b'{"label":"x"}', _msg("x", "has space"), _msg("x", "a" * 41),
           _msg("x" * 61, "m-3"), _msg("bell\u0007", "m-4"), _msg(7, "m-5"), _msg("x", 12),
           b'{"label":"x","id":"m-6","n":NaN}', b'{"label":"x","id":"m-7","pad":"' + b"y" * 600 + b'"}',
           b"[" * 5000]
    assert [inbox.receive(raw) for raw in bad] == ["invalid"] * len(bad)
    assert inbox.receive(_msg("old", "m-8"), retained=True) == "retained"   # a retained marker is not this moment
    assert got == [] and inbox.outcomes == {"invalid": len(bad), "retained": 1}


def test_a_stuck_button_cannot_fill_the_record():
    inbox, got, clock = _inbox()
    outcomes = [inbox.receive(_msg("x", f"m-{i}")) for i in range(50)]
    assert outcomes.count("recorded") == BURST and outcomes.count("too_many") == 50 - BURST
    clock.now += REFILL_S                                   # one more per REFILL_S after the burst
    assert inbox.receive(_msg("x", "late-1")) == "recorded"
    assert inbox.receive(_msg("x", "late-2")) == "too_many"
    clock.now += 10 * REFILL_S * BURST                      # a quiet while later: a full burst again, not more
    assert [inbox.receive(_msg("x", f"n-{i}")) for i in range(BURST + 1)].count("recorded") == BURST
    assert len(got) == 2 * BURST + 1


def test_a_failing_record_never_ends_the_session():
    def broken(label: str, source: str) -> None:
        raise RuntimeError("disk full")

    inbox = MarkerInbox(broken)
    assert inbox.receive(_msg()) == "failed"


def test_a_therapist_following_prefix_plus_keeps_two_clients_with_the_same_session_id_apart():
    f = Following("bf/+")
    online = schema.encode(schema.online_payload("safe-place", 0.0))
    assert f.handle("bf/K7/s1/status", online, 1.0).sid == "K7/s1"
    assert f.handle("bf/Q2/s1/status", online, 1.0).sid == "Q2/s1"
    f.handle("bf/K7/s1/metrics", b'{"t":5.0,"hr":61.0}', 2.0)
    assert f.sessions["K7/s1"].metrics["hr"] == 61.0 and not f.sessions["Q2/s1"].metrics
    assert f.sessions["K7/s1"].base == "bf/K7/s1" and f.sessions["K7/s1"].client == "K7"
    assert f.handle("bf/K7/s1/marker", b'{"label":"x","id":"m"}', 3.0) is None     # not a session topic
    assert f.handle("bf/K7/extra/s1/status", online, 3.0) is None                # one level per client only
    assert f.handle("bf/a b/s1/status", online, 3.0) is None and f.dropped["session id"] == 1
    assert f.topics() == ["bf/+/+/status", "bf/+/+/metrics", "bf/+/+/events"]


def test_the_closing_grounding_of_every_session_is_not_care_but_distress_is():
    f = Following("bf")
    for n, (kind, extra) in enumerate((("stop", {"reason": "duration reached"}),
                                       ("grounding", {"reason": "stop"}),
                                       ("step", {"step": "return", "step_kind": "grounding"}))):
        f.handle("bf/a/events", json.dumps({"t": n, "kind": kind, **extra}).encode(), 1.0)
    assert not f.sessions["a"].in_care and not f.sessions["a"].had_care
    f.handle("bf/b/events", b'{"t":1,"kind":"distress"}', 1.0)
    f.handle("bf/b/events", b'{"t":2,"kind":"grounding","reason":"distress"}', 1.0)
    assert f.sessions["b"].in_care and f.sessions["b"].distress == 1
    f.handle("bf/b/events", b'{"t":9,"kind":"done","reason":"distress"}', 1.0)
    assert not f.sessions["b"].in_care and f.sessions["b"].had_care
