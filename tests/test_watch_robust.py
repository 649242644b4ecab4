"""`watch` never dies on a message: whatever anyone publishes is checked, dropped and counted, never fatal.

Unit level on :class:`~sessions.mqtt.follow.Following` and the three views (table, transcript,
window); end to end against a real mosquitto with the hostile messages retained on the broker; and
a hypothesis fuzz of the message handler (random JSON, random bytes) that also checks nothing
readable is lost.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from sessions.commands.watch import _Transcript, table
from sessions.mqtt.follow import MAX_SESSIONS, Following
from tests.mosquitto_broker import HOST, Broker, have_mosquitto

REPO = Path(__file__).resolve().parents[1]
NOW = 1_000_000.0

HOSTILE: list[tuple[str, bytes]] = [
    ("h1/metrics", b'{"t":NaN,"hr":60}'),
    ("h2/metrics", b'{"t":Infinity,"hr":60}'),
    ("h3/metrics", b'{"t":' + b"9" * 400 + b',"hr":60}'),
    ("h4/metrics", b"[" * 50_000 + b"]" * 50_000),
    ("h5/metrics", b'{"t":' + b'{"a":' * 3000 + b"1" + b"}" * 3001),
    ("h6/status", b'{"state":"exploded","reason":"[/]"}'),
    ("h7/metrics", b'{"t":"abc","hr":"[/]","calm":[1,2]}'),
    ("h8/events", b'{"kind":"link","state":"\\u001b[2J","t":1}'),
    ("h9/events", b'{"kind":"prompt","text":"private","t":1}'),
    ("h10/metrics", b'{"t":1e400}'),
    ("h11/status", b"\xff\xfe not json"),
    ("h12/metrics", b'"just a string"'),
]
"""Each of these took `watch` down in at least one of its modes (issue 19), or must not be shown."""
LITERAL: list[tuple[str, bytes]] = [
    ("m1/status", b'{"state":"online","script":"[/] [bold]x"}'),
    ("m1/metrics", b'{"t":65,"hr":61.5,"calm":40,"step":"[/]","rr":980}'),
    ("m1/events", b'{"kind":"stop","reason":"[red]","t":70}'),
]
"""Valid, with markup-looking text: shown literally."""


def _feed(following: Following, messages: list[tuple[str, bytes]], now: float = NOW) -> list:
    return [following.handle(f"bf/{topic}", raw, now) for topic, raw in messages]


def _render(following: Following) -> str:
    console = Console(record=True, width=250, color_system=None)
    console.print(table(following, "en", NOW + 1))
    return console.export_text()


def test_hostile_messages_are_dropped_counted_and_valid_ones_shown_literally():
    following = Following("bf")
    assert _feed(following, HOSTILE) == [None] * len(HOSTILE)
    assert sum(following.dropped.values()) == len(HOSTILE)
    assert not following.sessions
    assert all(u is not None for u in _feed(following, LITERAL))
    text = _render(following)
    assert "[/]" in text and "[red]" in text and f"{len(HOSTILE)} ✗" in text
    s = following.sessions["m1"]
    assert s.script == "[/] [bold]x" and s.metrics["hr"] == 61.5 and s.curve == [(65, 61.5, 40)]


def test_the_transcript_prints_valid_messages_literally_after_hostile_ones():
    following = Following("bf")
    console = Console(record=True, width=200, color_system=None)
    view = _Transcript(following, console, "en")
    for update in _feed(following, HOSTILE + LITERAL, now=time.time()):
        if update is not None:
            view(update)
    text = console.export_text()
    assert "m1 online" in text and "[/]" in text and "stop [red]" in text


def test_unknown_fields_are_left_out_and_private_kinds_never_shown():
    following = Following("bf")
    update = following.handle("bf/a1/metrics", b'{"t":5,"hr":60,"secret":"x"}', NOW)
    assert update is not None and "secret" not in update.payload
    assert following.handle("bf/a1/events", b'{"kind":"prompt","text":"hello","t":3}', NOW) is None


def test_the_number_of_followed_sessions_is_bounded():
    following = Following("bf")
    for k in range(MAX_SESSIONS + 50):
        following.handle(f"bf/s{k}/status", b'{"state":"online"}', NOW)
    assert len(following.sessions) == MAX_SESSIONS
    assert following.dropped["too many sessions"] == 50
    # A finished session makes room for a new one.
    following.handle("bf/s0/status", b'{"state":"offline","reason":"done"}', NOW + 1)
    assert following.handle("bf/new1/status", b'{"state":"online"}', NOW + 2) is not None
    assert "new1" in following.sessions and "s0" not in following.sessions


def test_the_window_draws_after_hostile_messages(qtbot):
    pytest.importorskip("pyqtgraph")
    from sessions.gui.watch_window import WatchWindow

    following = Following("bf")
    _feed(following, HOSTILE + LITERAL)
    _feed(following, [("m1/metrics", json.dumps({"t": 70 + i, "hr": 60 + i % 3}).encode()) for i in range(10)])
    window = WatchWindow(following, "en")
    qtbot.addWidget(window)
    window.refresh(now=NOW + 1)
    title = window._rows["m1"][0].titleLabel.text
    assert "[/] [bold]x" in title and "<b>" not in title


# --- fuzz ------------------------------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=30,
)
KEYS = st.sampled_from(["t", "ts", "hr", "calm", "rr", "step", "phase", "state", "reason", "script", "kind", "v"])
LIKE_OURS = st.dictionaries(KEYS, JSON, max_size=8)
TOPICS = st.sampled_from(["status", "metrics", "events"])
VALID_METRICS = st.fixed_dictionaries({
    "t": st.floats(0, 1e5), "ts": st.floats(1e9, 2e9), "hr": st.none() | st.floats(30, 220),
    "calm": st.none() | st.integers(0, 100), "rr": st.none() | st.integers(250, 2500),
    "step": st.none() | st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=64),
})


def _encode(value) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(TOPICS, st.one_of(LIKE_OURS.map(_encode), JSON.map(_encode), st.binary(max_size=200))),
                max_size=12),
       st.lists(VALID_METRICS, min_size=1, max_size=5))
def test_fuzz_the_handler_never_raises_and_loses_nothing_readable(noise, valid):
    following = Following("bf")
    console = Console(record=True, width=250, color_system=None)
    view = _Transcript(following, console, "en")
    sent = []
    for i, (topic, raw) in enumerate(noise):
        update = following.handle(f"bf/x{i % 3}/{topic}", raw, NOW)
        if update is not None:
            view(update)
        if i < len(valid):  # valid messages interleaved with the noise all arrive
            payload = valid[i]
            assert following.handle("bf/ok/metrics", json.dumps(payload).encode(), NOW) is not None
            sent.append(payload)
    for payload in valid[len(sent):]:
        assert following.handle("bf/ok/metrics", json.dumps(payload).encode(), NOW) is not None
        sent.append(payload)
    assert following.sessions["ok"].curve == [(p["t"] or 0.0, p["hr"], p["calm"]) for p in sent]
    _render(following)


# --- end to end with mosquitto ---------------------------------------------------------------------------

def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "sessions", *args]


def _publish(broker: Broker, topic: str, raw: bytes, *, retain: bool = True) -> None:
    subprocess.run(["mosquitto_pub", "-h", HOST, "-p", str(broker.port), "-t", f"bf/{topic}", "-s",
                    *(["-r"] if retain else [])], input=raw, check=True, timeout=10)


def _wait_subscribed(broker: Broker, timeout: float = 60.0) -> None:
    """Until the watch has subscribed its three topics (the broker logs each subscription)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if broker.log.exists() and broker.log.read_text().count("bf/+/") >= 3:
            return
        time.sleep(0.1)
    raise AssertionError("watch never subscribed: " + broker.log.read_text())


@pytest.mark.skipif(not have_mosquitto(), reason="needs mosquitto and mosquitto-clients (Debian packages)")
@pytest.mark.parametrize("mode", ["transcript", "table", "window"])
def test_watch_survives_hostile_messages_on_a_real_broker(tmp_path, mode):
    if mode == "window":
        pytest.importorskip("pyqtgraph")
    broker = Broker(tmp_path)
    broker.config.write_text(broker.config.read_text() + "log_type subscribe\n")
    env = {"PATH": "/usr/bin:/bin", "BIOFEEDBACK_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "250",
           "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path)}
    extra = {"transcript": ["--headless"], "table": ["--headless"],
             "window": ["--snapshot", str(tmp_path / "w.png")]}[mode]
    if mode == "table":
        env["TTY_COMPATIBLE"] = "1"
    with broker:
        for topic, raw in HOSTILE + LITERAL:
            _publish(broker, topic, raw)
        watch = subprocess.Popen(_cli("watch", "--mqtt", broker.url(), "--until-done", "--seconds", "120",
                                      "--lang", "en", *extra),
                                 cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            _wait_subscribed(broker)
            _publish(broker, "m1/status", b'{"state":"offline","reason":"done"}')
            out, err = watch.communicate(timeout=120)
        finally:
            if watch.poll() is None:
                watch.kill()
    assert watch.returncode == 0, err
    assert "Traceback" not in err
    assert "does not follow the schema" in err  # said once, on stderr
    if mode != "table":
        assert "m1 offline" in out.splitlines()[-1]
        assert "[/]" in out or mode == "window"
    else:
        assert "[/]" in out and "✗" in out
