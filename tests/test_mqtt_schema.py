"""The MQTT pieces that need no broker: outbox, payload whitelist, address and flag checks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sessions.cli import main
from sessions.errors import UserError
from sessions.mqtt import schema
from sessions.mqtt.config import parse_url, settings_from
from sessions.mqtt.follow import Following
from sessions.mqtt.outbox import Outbox

REPO = Path(__file__).resolve().parents[1]


async def test_outbox_drops_oldest_metrics_first_and_keeps_order():
    box = Outbox(max_metrics=3, max_events=100)
    box.put("e", b"e0", qos=1)
    for i in range(6):
        box.put("m", f"m{i}".encode(), metric=True)
    box.put("e", b"e1", qos=1)
    sent = []
    while (msg := box.peek()) is not None:
        sent.append(msg.payload.decode())
        box.pop(msg)
    assert sent == ["e0", "m3", "m4", "m5", "e1"]
    assert box.dropped_metrics == 3 and box.dropped_events == 0 and not box.ready.is_set()


def test_events_are_whitelisted_and_prompts_never_published():
    assert schema.event_payload("prompt", 3.0, {"step": "arrive", "line": 0, "text": "Feel your feet"}, 0.0) is None
    step = schema.event_payload("step", 75.0, {"step": "arrive", "index": 0, "kind": "imagery", "max_s": 120.0,
                                               "note": "anything new"}, 1.0)
    assert step == {"t": 75.0, "ts": 1.0, "kind": "step", "step": "arrive", "index": 0, "step_kind": "imagery",
                    "max_s": 120.0}
    assert schema.event_payload("link", 1.0, {"state": "device_info", "battery_pct": 80}, 0.0) is None
    assert (
        json.loads(
            schema.encode(schema.event_payload("distress", 9.0, {"source": "body", "hr_bpm": float("nan")}, 0.0))
        )["hr_bpm"]
        is None
    )


def test_addresses_and_passwords():
    assert parse_url("mqtts://therapist@broker.example:8884/clinic/room-2") == (
        "broker.example",
        8884,
        "clinic/room-2",
        True,
        "therapist",
    )
    assert parse_url("mqtt://127.0.0.1") == ("127.0.0.1", 1883, "biofeedback", False, None)
    with pytest.raises(UserError, match="Leave the password out"):
        parse_url("mqtt://user:secret@host")
    with pytest.raises(UserError, match="mqtt:// or mqtts://"):
        parse_url("http://host")
    with pytest.raises(UserError, match="prefix"):
        parse_url("mqtt://host/a/+/b")
    with pytest.raises(UserError, match="need an mqtts://"):
        settings_from("mqtt://host", ca_file="/etc/hostname")


def test_mqtt_flags_without_mqtt_and_missing_files_are_one_sentence(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BIOFEEDBACK_DATA_DIR", str(tmp_path))
    assert main(["run", "--simulate", "--speed", "1000", "--duration", "5", "--ha-discovery"]) == 2
    assert "--ha-discovery only applies with --mqtt" in capsys.readouterr().err
    assert main(["watch", "--mqtt", "mqtts://127.0.0.1:1/bf", "--mqtt-ca", str(tmp_path / "none.pem")]) == 2
    assert capsys.readouterr().err.strip() == f"biofeedback watch: --mqtt-ca: no such file {tmp_path / 'none.pem'}."


def test_without_aiomqtt_the_core_runs_and_mqtt_says_what_to_install(tmp_path):
    code = "import sys; sys.modules['aiomqtt'] = None; from sessions.cli import main; sys.exit(main(sys.argv[1:]))"
    env = {"BIOFEEDBACK_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    ok = subprocess.run(
        [sys.executable, "-c", code, "run", "--simulate", "--speed", "1000", "--duration", "5"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    no = subprocess.run(
        [sys.executable, "-c", code, "watch", "--mqtt", "mqtt://127.0.0.1/bf"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (
        no.returncode == 2 and "-m pip install" in no.stderr and "[mqtt]" in no.stderr and "Traceback" not in no.stderr
    )


def test_following_marks_lost_and_finished_sessions():
    f = Following("bf")
    f.handle("bf/a/status", schema.encode(schema.online_payload("safe-place", 0.0)), 1.0)
    f.handle("bf/b/status", schema.encode(schema.online_payload("safe-place", 0.0)), 1.0)
    u = f.handle("bf/a/metrics", b'{"t":5.0,"ts":1.5,"hr":61.0}', 2.0)
    assert u.delay_s == pytest.approx(0.5) and f.sessions["a"].shown_state(2.0) == "online"
    assert f.sessions["a"].shown_state(30.0) == "quiet"
    f.handle("bf/a/status", schema.encode(schema.offline_payload("lost")), 3.0)
    assert f.sessions["a"].shown_state(3.0) == "lost" and not f.all_finished()
    f.handle("bf/b/status", schema.encode(schema.offline_payload("done")), 4.0)
    assert f.all_finished()
    assert f.handle("other/a/metrics", b"{}", 5.0) is None and f.handle("bf/a/metrics", b"not json", 5.0) is None
