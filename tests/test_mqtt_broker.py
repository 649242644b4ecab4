"""`run --mqtt` and `watch` against a real mosquitto on loopback (tests/mosquitto_broker.py)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace

import pytest

from sessions.mqtt.config import settings_from
from sessions.mqtt.follow import Following
from sessions.mqtt.publisher import WAKE_S, SessionPublisher
from sessions.runner import LiveState
from sessions.store import SessionReader
from tests.mosquitto_broker import HOST, Broker, free_port, have_mosquitto, make_tls_files, password_file

pytest.importorskip("aiomqtt")
pytestmark = pytest.mark.skipif(not have_mosquitto(), reason="needs mosquitto and mosquitto-clients (Debian packages)")

REPO = Path(__file__).resolve().parents[1]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "BIOFEEDBACK_MQTT_PASSWORD"}
    return {**env, "BIOFEEDBACK_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200", **extra}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "sessions", *args]


def _sub(broker: Broker, topic: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(["mosquitto_sub", "-h", HOST, "-p", str(broker.port), "-t", topic, "-v", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _retained_status(broker: Broker, sid: str, want: str, timeout: float = 10.0) -> dict:
    """Polls the retained status until its state is ``want`` (bounded)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        out = subprocess.run(["mosquitto_sub", "-h", HOST, "-p", str(broker.port), "-t", f"bf/{sid}/status",
                              "-C", "1", "-W", "1"], capture_output=True, text=True, timeout=10).stdout.strip()
        if out:
            last = json.loads(out)
            if last["state"] == want:
                return last
        time.sleep(0.1)
    raise AssertionError(f"status of {sid} never became {want}; last seen {last}")


def _messages(text: str) -> list[tuple[str, dict]]:
    out = []
    for line in text.splitlines():
        topic, _, payload = line.partition(" ")
        out.append((topic, json.loads(payload)))
    return out


def _only_session(tmp_path: Path) -> Path:
    files = sorted((tmp_path / "data" / "sessions").glob("*.sqlite"))
    assert len(files) == 1
    return files[0]


@pytest.fixture
def broker(tmp_path):
    with Broker(tmp_path) as b:
        yield b


def test_metrics_and_events_reach_mosquitto_sub_and_nothing_personal_leaves(broker, tmp_path):
    sub = _sub(broker, "bf/#", "-W", "60")
    time.sleep(0.2)
    run = subprocess.run(_cli("run", "--simulate", "--speed", "50", "--duration", "80", "--mqtt", broker.url(),
                              "--mqtt-session", "s1"), cwd=REPO, env=_env(tmp_path), capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    time.sleep(0.3)
    sub.terminate()
    msgs = _messages(sub.communicate(timeout=10)[0])
    metrics = [p for topic, p in msgs if topic == "bf/s1/metrics"]
    events = [p for topic, p in msgs if topic == "bf/s1/events"]
    status = [p["state"] for topic, p in msgs if topic == "bf/s1/status"]
    assert status[0] == "online" and status[-1] == "offline"
    # The chest-measured breathing (cbr, plag, pmatch) is null without a Polar H10's accelerometer.
    assert set(metrics[-1]) == {"t", "ts", "hr", "rr", "rmssd", "coh", "calm", "pacer", "step", "phase", "cbr", "plag", "pmatch"}
    assert metrics[-1]["cbr"] is None and metrics[-1]["pmatch"] is None
    assert 55 < metrics[-1]["hr"] < 100 and 300 < metrics[-1]["rr"] < 1500 and metrics[-1]["rmssd"] > 0
    ts = [m["t"] for m in metrics]
    assert ts == sorted(ts) and len(ts) == len(set(ts))  # at most one per second of session time, in order
    assert ts[-1] >= 80  # published to the end
    # At most 10 samples per wall second, by the publisher's own clock (``ts``). A busy machine only
    # spaces them further, so this holds under any load; how many seconds of session time lie between
    # two samples at --speed 50 depends on how often the loop got the CPU, and is tested in lockstep
    # below (test_one_sample_per_second_of_session_time_whenever_the_loop_runs).
    wall = [m["ts"] for m in metrics[:-1]]  # the last is the final sample at the end, on top of the 10 Hz
    assert min(b - a for a, b in pairwise(wall)) >= WAKE_S - 0.005
    kinds = [e["kind"] for e in events]
    assert {"step", "stop", "grounding", "done", "link"} <= set(kinds)
    assert kinds.index("stop") < kinds.index("done")
    # The record has prompts with their texts: none of it is published, nor anything not whitelisted.
    with SessionReader(_only_session(tmp_path)) as reader:
        prompts = [d["text"] for _, _, d in reader.events("prompt")]
    assert prompts and not any(p in line for p in prompts for line in map(json.dumps, events + metrics))
    assert "prompt" not in kinds and all("text" not in e for e in events)
    assert "publishing this session as s1" in run.stdout
    # Everything a real session publishes passes the watcher's schema check: nothing of ours is dropped.
    following = Following("bf")
    for topic, payload in msgs:
        if topic.startswith("bf/"):
            assert following.handle(topic, json.dumps(payload).encode(), time.time()) is not None, (topic, payload)
    assert not following.dropped


class LockstepRunner:
    """What the publisher sees of a session: the live state, subscriptions and the add-on status.

    The test moves session time itself, one second per step, so what is sampled does not depend on
    how fast the machine runs the session.
    """

    script = SimpleNamespace(id="safe-place")

    def __init__(self) -> None:
        self.state = LiveState()
        self.state.phase = "step"  # equal to SessionPhase.STEP

    def subscribe(self, _listener):
        return lambda: None

    def set_addon_status(self, name: str, status: str) -> None:
        self.state.addons[name] = status


async def test_one_sample_per_second_of_session_time_whenever_the_loop_runs(broker):
    """Session time moves a second per step, each step 1.5 wake periods of the sampler after the last.

    Whatever the load, asyncio runs timers in the order they fall due, and the sampler's next wake
    (0.1 s after its last) always falls before the next step (0.15 s after the last step): so the
    sampler sees every second, and every second must reach the subscriber. A sampler that wakes
    less often, skips seconds, or an outbox or sender that loses samples fails this; a loaded
    machine only makes it take longer.
    """
    import aiomqtt

    runner = LockstepRunner()
    received: list[dict] = []
    steps = 40
    async with aiomqtt.Client(HOST, broker.port) as sub:
        await sub.subscribe("bf/lk/metrics")  # returns once the broker confirmed the subscription

        async def collect() -> None:
            async for message in sub.messages:
                received.append(json.loads(message.payload))
                if received[-1]["t"] >= steps:
                    return

        collecting = asyncio.ensure_future(collect())
        pub = SessionPublisher(runner, settings_from(broker.url()), session_id="lk")
        async with pub:
            while not pub.connected:
                await asyncio.sleep(0.01)
            for _ in range(steps):
                runner.state.t += 1.0
                await asyncio.sleep(1.5 * WAKE_S)
        await asyncio.wait_for(collecting, 60)
    seconds = [m["t"] for m in received]
    assert seconds[0] <= 1.0 and seconds[-1] == steps
    assert [b - a for a, b in pairwise(seconds)] == [1.0] * (len(seconds) - 1), seconds


def test_last_will_says_offline_after_kill_9(broker, tmp_path):
    proc = subprocess.Popen(_cli("run", "--simulate", "--mqtt", broker.url(), "--mqtt-session", "s2"), cwd=REPO,
                            env=_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        online = _retained_status(broker, "s2", "online", timeout=20)
        assert online["script"] == "safe-place"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert _retained_status(broker, "s2", "offline")["reason"] == "lost"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_broker_restart_mid_session_loses_nothing_in_the_record(broker, tmp_path):
    proc = subprocess.Popen(_cli("run", "--simulate", "--speed", "30", "--duration", "150", "--mqtt", broker.url(),
                                 "--mqtt-session", "s3"), cwd=REPO, env=_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _retained_status(broker, "s3", "online", timeout=20)
        broker.stop()
        time.sleep(1.0)
        broker.start()
        sub = _sub(broker, "bf/s3/#", "-W", "60")
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert proc.returncode == 0, err
    time.sleep(0.3)
    sub.terminate()
    after = _messages(sub.communicate(timeout=10)[0])
    assert "retrying" in out and "reachable again" in out
    assert any(topic == "bf/s3/metrics" for topic, _ in after)           # publishing resumed
    assert [p for t, p in after if t == "bf/s3/status"][-1] == {"state": "offline", "reason": "done", "v": 1}
    with SessionReader(_only_session(tmp_path)) as reader:
        beats = [b[1] for b in reader.beats()]
        rows = [t for t, _ in reader.metrics()]
        done = reader.events("done")
    assert done and beats[-1] > 150
    assert max(b - a for a, b in zip(beats, beats[1:])) < 2.0             # no hole in the beats
    assert max(b - a for a, b in zip(rows, rows[1:])) < 7.0  # a row every 5 s (on the next notification), none missing


def test_tls_with_password_file_followed_by_watch(tmp_path):
    tls = make_tls_files(tmp_path)
    users = password_file(tmp_path, {"client": "c-secret", "therapist": "t-secret"})
    (tmp_path / "client.pw").write_text("c-secret\n")
    (tmp_path / "therapist.pw").write_text("t-secret\n")
    for f in ("client.pw", "therapist.pw"):
        (tmp_path / f).chmod(0o600)
    tls_flags = ["--mqtt-ca", str(tls.ca), "--mqtt-cert", str(tls.client_cert), "--mqtt-key", str(tls.client_key)]
    with Broker(tmp_path, passwords=users, tls=tls, require_certificate=True) as broker:
        watch = subprocess.Popen(_cli("watch", "--mqtt", broker.url(user="therapist", tls=True), *tls_flags,
                                      "--mqtt-password-file", str(tmp_path / "therapist.pw"), "--session", "s4",
                                      "--until-done", "--seconds", "60", "--lang", "en"),
                                 cwd=REPO, env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        run = subprocess.run(_cli("run", "--simulate", "--speed", "50", "--duration", "80",
                                  "--mqtt", broker.url(user="client", tls=True), *tls_flags,
                                  "--mqtt-password-file", str(tmp_path / "client.pw"), "--mqtt-session", "s4"),
                             cwd=REPO, env=_env(tmp_path), capture_output=True, text=True, timeout=120)
        out, err = watch.communicate(timeout=60)
    assert run.returncode == 0 and "MQTT: connected to mqtts://client@" in run.stdout, run.stdout + run.stderr
    assert watch.returncode == 0, err
    lines = out.splitlines()
    assert any(line.startswith("s4 online (A safe place)") for line in lines), lines
    numbers = [line for line in lines if line.startswith("s4 ") and "heart rate " in line]
    assert numbers and any("heart rate –" not in line for line in numbers)
    assert any(line.startswith("s4 ") and " done " in line for line in lines)
    assert lines[-1] == "s4 offline"  # --until-done ended the watch after the session's goodbye


def test_wrong_password_is_one_sentence_and_the_session_goes_on(tmp_path):
    users = password_file(tmp_path, {"client": "right"})
    with Broker(tmp_path, passwords=users) as broker:
        env = _env(tmp_path, BIOFEEDBACK_MQTT_PASSWORD="wrong")
        run = subprocess.run(_cli("run", "--simulate", "--speed", "1000", "--duration", "20",
                                  "--mqtt", broker.url(user="client")), cwd=REPO, env=env, capture_output=True,
                             text=True, timeout=120)
        watch = subprocess.run(_cli("watch", "--mqtt", broker.url(user="client"), "--seconds", "10"),
                               cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and "Session saved" in run.stdout
    refused = [line for line in run.stdout.splitlines() if "wrong user name or password" in line]
    assert refused == ["MQTT: the broker refused user 'client': wrong user name or password, or no access for "
                       "that user; the session goes on without publishing."]
    assert watch.returncode == 2 and "Traceback" not in watch.stderr
    assert watch.stderr.strip() == ("biofeedback watch: The broker refused user 'client': "
                                    "wrong user name or password, or no access for that user.")


def test_untrusted_broker_certificate_is_refused_in_one_sentence(tmp_path):
    tls = make_tls_files(tmp_path)
    with Broker(tmp_path, tls=tls) as broker:
        watch = subprocess.run(_cli("watch", "--mqtt", broker.url(tls=True), "--mqtt-ca", str(tls.other_ca),
                                    "--seconds", "10"), cwd=REPO, env=_env(tmp_path), capture_output=True,
                               text=True, timeout=60)
    assert watch.returncode == 2 and "Traceback" not in watch.stderr
    assert "certificate is not trusted" in watch.stderr and len(watch.stderr.strip().splitlines()) == 1


def test_plain_mqtt_to_a_tls_listener_says_to_use_mqtts(tmp_path):
    """A TLS listener just waits for a handshake: the plain client timed out and retried forever."""
    tls = make_tls_files(tmp_path)
    with Broker(tmp_path, tls=tls) as broker:
        watch = subprocess.run(_cli("watch", "--mqtt", broker.url(tls=False), "--seconds", "40"), cwd=REPO,
                               env=_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert watch.returncode == 2 and "Traceback" not in watch.stderr, watch.stderr
    assert "use mqtts://" in watch.stderr and len(watch.stderr.strip().splitlines()) == 1


def test_mqtts_to_a_plain_listener_says_to_use_mqtt(tmp_path):
    """A plain listener resets a TLS handshake: it was "Connection reset by peer", retried forever."""
    tls = make_tls_files(tmp_path)
    with Broker(tmp_path) as broker:
        watch = subprocess.run(_cli("watch", "--mqtt", broker.url(tls=True), "--mqtt-ca", str(tls.ca),
                                    "--seconds", "40"), cwd=REPO, env=_env(tmp_path), capture_output=True,
                               text=True, timeout=120)
    assert watch.returncode == 2 and "Traceback" not in watch.stderr, watch.stderr
    assert "does not speak TLS on that port (use mqtt://" in watch.stderr
    assert len(watch.stderr.strip().splitlines()) == 1


def test_run_publishing_with_the_wrong_scheme_says_so_and_the_session_goes_on(tmp_path):
    """run --mqtt mqtt:// to a TLS listener: one sentence saying to use mqtts://, not endless retries."""
    tls = make_tls_files(tmp_path)
    with Broker(tmp_path, tls=tls) as broker:
        run = subprocess.run(_cli("run", "--simulate", "--speed", "20", "--duration", "120", "--headless",
                                  "--mqtt", broker.url(tls=False)),
                             cwd=REPO, env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    out = run.stdout + run.stderr
    assert run.returncode == 0 and "Traceback" not in out, out
    assert "use mqtts://" in out


def test_broker_down_at_start_the_session_goes_on(tmp_path):
    url = f"mqtt://{HOST}:{free_port()}/bf"  # nothing listens there
    run = subprocess.run(_cli("run", "--simulate", "--speed", "1000", "--duration", "20", "--mqtt", url),
                         cwd=REPO, env=_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "broker unreachable" in run.stdout and "the session goes on and is recorded as usual" in run.stdout
    with SessionReader(_only_session(tmp_path)) as reader:
        assert reader.events("done") and len(reader.beats()) > 20


def test_home_assistant_discovery_configs_point_at_the_session_and_are_retained(broker, tmp_path):
    run = subprocess.run(_cli("run", "--simulate", "--speed", "50", "--duration", "30", "--no-audio", "--mqtt",
                              broker.url(), "--mqtt-session", "h1", "--ha-discovery"),
                         cwd=REPO, env=_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    # Retained: a dashboard that connects after the session still finds the sensors.
    sub = subprocess.run(["mosquitto_sub", "-h", HOST, "-p", str(broker.port), "-t", "homeassistant/#", "-v",
                          "-W", "2", "--retained-only"], capture_output=True, text=True, timeout=20)
    configs = dict(_messages(sub.stdout))
    assert set(configs) == {f"homeassistant/sensor/biofeedback/{k}/config" for k in ("hr", "calm", "step")}
    hr = configs["homeassistant/sensor/biofeedback/hr/config"]
    assert hr["state_topic"] == "bf/h1/metrics" and hr["availability_topic"] == "bf/h1/status"
    assert hr["value_template"] == "{{ value_json.hr }}" and hr["unit_of_measurement"] == "bpm"
    assert hr["payload_not_available"] == "offline"
