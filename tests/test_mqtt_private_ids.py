"""Only shipped script and step ids leave the machine over MQTT (issue 19): a user's own script is
published as a keyed alias and its steps by position, against a real mosquitto."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sessions.mqtt.follow import Following
from tests.mosquitto_broker import HOST, Broker, have_mosquitto

pytest.importorskip("aiomqtt")
pytestmark = pytest.mark.skipif(not have_mosquitto(), reason="needs mosquitto and mosquitto-clients (Debian packages)")

REPO = Path(__file__).resolve().parents[1]
SCRIPT = """id = "anna-uncle-bob"
language = "en"
title = "Anna visits"
purpose = "Testing."
duration_min = 1

[[steps]]
id = "uncle-bob-bedroom"
title = "The bedroom"
kind = "grounding"
min_s = 50
max_s = 70
text = ["Feel your feet on the floor."]
"""


def test_a_user_scripts_ids_never_leave_the_machine(tmp_path):
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "anna-uncle-bob.en.toml").write_text(SCRIPT, encoding="utf-8")
    with Broker(tmp_path) as broker:
        sub = subprocess.Popen(["mosquitto_sub", "-h", HOST, "-p", str(broker.port), "-t", "bf/#", "-v", "-W", "60"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(0.2)
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "COLUMNS": "200",
               "BIOFEEDBACK_DATA_DIR": str(tmp_path / "data"), "BIOFEEDBACK_SCRIPTS_DIR": str(scripts)}
        run = subprocess.run([sys.executable, "-m", "sessions", "run", "--simulate", "--speed", "50", "--duration",
                              "80", "--script", "anna-uncle-bob", "--lang", "en", "--mqtt", broker.url(),
                              "--mqtt-session", "s1"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        time.sleep(0.3)
        sub.terminate()
        out = sub.communicate(timeout=10)[0]
    assert "bf/s1/metrics" in out and "bf/s1/events" in out and "bf/s1/status" in out
    for word in ("anna", "uncle", "bob", "bedroom"):
        assert word not in out.lower()
    msgs = [(line.partition(" ")[0], json.loads(line.partition(" ")[2])) for line in out.splitlines()]
    steps = {p.get("step") for topic, p in msgs if topic == "bf/s1/metrics"} | {
        p.get("step") for topic, p in msgs if topic == "bf/s1/events" and p.get("kind") == "step"}
    assert "step-1" in steps  # the user's step, by its position
    starts = [p for topic, p in msgs if topic == "bf/s1/status" and p.get("state") == "online"]
    assert starts and starts[0]["script"].startswith("user-")
    following = Following("bf")
    for topic, payload in msgs:
        assert following.handle(topic, json.dumps(payload).encode(), time.time()) is not None, (topic, payload)
