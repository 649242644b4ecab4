"""`biofeedback watch` in a window: live curves per followed session (offscreen, then looked at)."""

from __future__ import annotations

import json
import stat
import subprocess
import time

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
    assert "2 sessie(s) gevolgd" in window.header.text()
    pixels = _image(window)
    assert pixels.std() > 5  # curves and text drawn, not a blank dark rectangle


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
