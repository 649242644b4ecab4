"""`biofeedback watch` in a window: live curves per followed session (offscreen, then looked at)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from sessions.mqtt.follow import Following
from tests.mosquitto_broker import Broker, have_mosquitto
from tests.test_mqtt_broker import REPO, _cli, _env

pytest.importorskip("pyqtgraph")


def _image(widget) -> np.ndarray:
    img = widget.grab().toImage()
    ptr = img.constBits()
    # Copy while the QImage is alive: the array must not point into memory Qt frees afterwards.
    return np.frombuffer(ptr, np.uint8, img.sizeInBytes()).reshape(img.height(), img.bytesPerLine()).copy()


def test_each_session_gets_its_curves_and_its_state(qtbot):
    from sessions.gui.watch_window import WatchWindow

    following = Following("bf")
    now = 1000.0
    following.handle("bf/a1/status", json.dumps({"state": "online", "script": "safe-place"}).encode(), now)
    following.handle("bf/b2/status", json.dumps({"state": "online", "script": "grounding"}).encode(), now)
    for i in range(120):
        following.handle("bf/a1/metrics", json.dumps({"t": i, "hr": 70 - i / 20, "calm": 50 + i / 5}).encode(), now + i)
        following.handle("bf/b2/metrics", json.dumps({"t": i, "hr": 80, "calm": None}).encode(), now + i)
    following.handle("bf/b2/status", json.dumps({"state": "offline", "reason": "lost"}).encode(), now + 121)
    window = WatchWindow(following, "nl")
    qtbot.addWidget(window)
    window.refresh(now=now + 122)
    assert set(window._rows) == {"a1", "b2"}
    _, hr_a, _, calm_a = window._rows["a1"]
    assert len(hr_a.getData()[0]) == 120 and calm_a.getData()[1][-1] == pytest.approx(73.8)
    title_b = window._rows["b2"][0].titleLabel.text
    assert "b2" in title_b and "verbinding verbroken" in title_b
    assert window.header.text() == "2 sessies gevolgd"
    pixels = _image(window)
    assert pixels.std() > 5  # curves and text drawn, not a blank dark rectangle


def _feed(following, sid, script, now, n=90, **extra):
    following.handle(f"bf/{sid}/status", json.dumps({"state": "online", "script": script}).encode(), now)
    for i in range(n):
        following.handle(f"bf/{sid}/metrics", json.dumps({"t": i * 5, "hr": 72.4, "rmssd": 41.2, "coh": 1.8,
                                                          "calm": 60, "pacer": 6.0, "rr": 829, **extra}).encode(),
                         now + i)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_values_units_step_titles_distress_and_end_reason_shown_plainly(qtbot, tmp_path, lang):
    """One calm session that completed, one with distress and care still running: told apart at a glance."""
    from sessions.gui.watch_window import WatchWindow

    following = Following("bf")
    now = 1000.0
    _feed(following, "calm1", "safe-place", now, step="return")
    following.handle("bf/calm1/events", json.dumps({"kind": "done", "reason": "completed", "t": 450}).encode(), now + 91)
    following.handle("bf/calm1/status", json.dumps({"state": "offline", "reason": "done"}).encode(), now + 92)
    _feed(following, "hard2", "safe-place", now, step="find")
    following.handle("bf/hard2/events", json.dumps({"kind": "distress", "source": "body", "hr_bpm": 104,
                                                    "t": 312}).encode(), now + 91)
    following.handle("bf/hard2/events", json.dumps({"kind": "grounding", "reason": "distress", "t": 313}).encode(),
                     now + 91)
    window = WatchWindow(following, lang)
    qtbot.addWidget(window)
    window.resize(1100, 640)
    window.refresh(now=now + 93)
    calm_title = window._rows["calm1"][0].titleLabel.text
    hard_title, hard_line = window._rows["hard2"][0].titleLabel.text, window.lines["hard2"].text
    words = {"nl": ("Terugkomen", "De plek vinden", "helemaal gedaan", "spanning", "hartslag 72 bpm"),
             "en": ("Coming back", "Finding the place", "completed", "distress", "heart rate 72 bpm")}[lang]
    back, find, completed, distress, hr = words
    assert back in calm_title and "return" not in calm_title and completed in calm_title
    title = {"nl": "Een veilige plek", "en": "A safe place"}[lang]  # the exercise's title, not its id
    assert title in calm_title and "safe-place" not in calm_title
    assert find in hard_title and hr in hard_line and "RMSSD 41 ms" in hard_line and "6.0/min" in hard_line
    assert distress in hard_line and "05:12" in hard_line
    assert "⚠" not in window.lines["calm1"].text
    assert window.header.text() == {"nl": "2 sessies gevolgd", "en": "2 sessions followed"}[lang]
    shot = tmp_path / f"watch_{lang}.png"
    window.save(shot)
    assert shot.read_bytes()[:4] == b"\x89PNG"
    if os.environ.get("BIOFEEDBACK_SHOTS"):  # for a person to look at
        shutil.copy(shot, Path(os.environ["BIOFEEDBACK_SHOTS"]) / shot.name)


def test_one_session_is_singular():
    from sessions.commands.watch import count_text

    assert count_text(1, "nl") == "1 sessie gevolgd" and count_text(1, "en") == "1 session followed"


@pytest.mark.skipif(not have_mosquitto(), reason="needs mosquitto and mosquitto-clients (Debian packages)")
def test_watch_window_follows_a_session_published_by_run(tmp_path):
    shot = tmp_path / "watch.png"
    with Broker(tmp_path) as broker:
        watch = subprocess.Popen(_cli("watch", "--mqtt", broker.url(), "--session", "w1", "--until-done",
                                      "--seconds", "60", "--snapshot", str(shot), "--lang", "en"),
                                 cwd=REPO, env=_env(tmp_path, QT_QPA_PLATFORM="offscreen"),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        run = subprocess.run(_cli("run", "--simulate", "--speed", "50", "--duration", "90", "--no-audio",
                                  "--headless", "--mqtt", broker.url(), "--mqtt-session", "w1"),
                             cwd=REPO, env=_env(tmp_path), capture_output=True, text=True, timeout=120)
        out, err = watch.communicate(timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    assert watch.returncode == 0, err
    assert shot.exists() and stat.S_IMODE(shot.stat().st_mode) == 0o600
    assert "w1 offline" in out.splitlines()[-1]  # piped: the transcript runs beside the window


def test_the_terminal_table_and_transcript_say_the_same_in_dutch():
    from rich.console import Console

    from sessions.commands.watch import _Transcript, table

    following = Following("bf")
    now = time.time()
    console = Console(record=True, width=260, color_system=None)
    view = _Transcript(following, console, "nl")
    _feed(following, "hard2", "safe-place", now, n=3, step="return")
    for raw in ({"kind": "distress", "source": "body", "hr_bpm": 104, "t": 312},
                {"kind": "done", "reason": "distress", "t": 400}):
        view(following.handle("bf/hard2/events", json.dumps(raw).encode(), now))
    following.handle("bf/hard2/status", json.dumps({"state": "offline", "reason": "done"}).encode(), now)
    console.print(table(following, "nl", now))
    text = console.export_text()
    assert "Terugkomen" in text and "return" not in text
    view(following.handle("bf/hard2/status", json.dumps({"state": "online", "script": "coat-rack"}).encode(), now))
    line = console.export_text()
    assert "(De kapstok)" in line and "coat-rack" not in line
    assert "hartslag (bpm)" in text and "spanning" in text and "na zorg voor spanning" in text
    assert "distress" not in text and "done" not in text
