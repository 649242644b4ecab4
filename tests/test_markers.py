"""Markers as a person and a therapist drop them: recorded at the session's time with a clean label,
shown by the record reader, never carrying free text onto the broker."""

from __future__ import annotations

import pytest

from sessions.events import EventKind, marker_label
from sessions.mqtt.schema import EVENT_FIELDS
from tests.sessionkit import run_session


def test_a_marker_label_is_one_short_printable_line_and_empty_means_marker():
    assert marker_label("  hot\nspot\t ") == "hot spot"
    assert marker_label("") == "marker" and marker_label(None) == "marker"
    assert len(marker_label("x" * 200)) == 60
    assert marker_label("\x1b[31mred") == "[31mred"


def test_the_broker_sees_who_dropped_a_marker_but_never_its_words():
    assert EVENT_FIELDS[EventKind.MARKER] == ("source",)


async def test_markers_land_in_the_record_at_the_session_time_they_were_dropped(tmp_path):
    dropped: list[float] = []

    def control(runner, kind, t, data):
        if kind is EventKind.STEP and data["index"] in (0, 1) and len(dropped) < 2:
            dropped.append(t)
            runner.add_marker("hotspot" if not dropped[1:] else "", "therapist" if dropped[1:] else "key")
        if kind is EventKind.STEP and data["index"] == 2:
            runner.add_marker("odd source", "mqtt-bot")
            runner.stop()

    ran = await run_session(tmp_path, duration_s=900, control=control)
    marks = ran.events(EventKind.MARKER.value)
    assert [(d["label"], d["source"]) for _, _, d in marks] == [
        ("hotspot", "key"), ("marker", "therapist"), ("odd source", "button")]
    assert [t for t, _, _ in marks][:2] == pytest.approx(dropped, abs=0.11)
    ran.runner.add_marker("after the end")  # ignored, and the closed record is not touched
    assert len(ran.events(EventKind.MARKER.value)) == 3
