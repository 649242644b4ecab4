"""Per-client credentials and the ACL of ``therapist broker-config``, against a real mosquitto with TLS.

The broker runs the generated mosquitto.conf, passwd and acl as written (tests/mosquitto_broker.py only
adds logging): a client publishes its own sessions, its therapist reads them and may send it markers,
another client reads nothing of it and another therapist's marker never reaches its record.

"Nothing arrived" is proved without waiting on a clock: after the messages that must not arrive, a
sentinel that the same subscriber may read is published (QoS 1, acknowledged in order), and the
subscriber reads until the sentinel: what was refused would have come before it.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sessions.mqtt.broker_config import password_hash
from sessions.store import SessionReader
from tests.mosquitto_broker import HOST, Practice, have_mosquitto

aiomqtt = pytest.importorskip("aiomqtt")
pytestmark = pytest.mark.skipif(not have_mosquitto(), reason="needs mosquitto (Debian package)")

REPO = Path(__file__).resolve().parents[1]
PREFIX = "bf"


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "sessions", *args]


@pytest.fixture
def setup(tmp_path):
    s = Practice(tmp_path, {"dr-a": ["K7"], "dr-b": ["Q2"]}, prefix=PREFIX)
    with s.broker:
        yield s


def test_generated_files_are_private_and_say_who_reads_what(setup):
    folder = setup.folder
    for name in ("passwd", "acl", "mosquitto.conf", "README.txt", "setup.json", "credentials/K7.pw"):
        assert (folder / name).stat().st_mode & 0o777 == 0o600, name
    assert folder.stat().st_mode & 0o777 == 0o700
    acl = (folder / "acl").read_text()
    assert "pattern write bf/%u/+/metrics" in acl and "pattern read bf/%u/+/marker" in acl
    assert "user dr-a\ntopic read bf/K7/#\ntopic write bf/K7/+/marker" in acl
    # The second run kept the first therapist and client, with their passwords: only hashes in passwd.
    users = dict(line.split(":", 1) for line in (folder / "passwd").read_text().splitlines())
    assert set(users) == {"dr-a", "dr-b", "K7", "Q2"}
    assert all(setup.password(u) not in (folder / "passwd").read_text() for u in users)
    readme = (folder / "README.txt").read_text()
    assert f"run --mqtt mqtts://K7@{HOST}:{setup.port}/bf/K7" in readme
    assert f"watch --web --mqtt mqtts://dr-a@{HOST}:{setup.port}/bf/+" in readme


def test_password_hash_is_mosquittos_own_format():
    """mosquitto_passwd -U would rewrite a plain password; ours is already the $7$ PBKDF2-SHA512 form it writes."""
    digest = password_hash("secret", salt=bytes(range(12)))
    assert digest.startswith("$7$101$AAECAwQFBgcICQoL$") and len(digest.split("$")[-1]) == 88


async def _read_until_sentinel(sub: aiomqtt.Client, sentinel: str) -> list[tuple[str, bytes]]:
    got = []
    async with asyncio.timeout(20):
        async for msg in sub.messages:
            got.append((str(msg.topic), bytes(msg.payload)))
            if str(msg.topic) == sentinel:
                return got
    return got


async def test_a_client_is_read_only_by_its_therapist(setup):
    metrics = json.dumps({"t": 1.0, "ts": time.time(), "hr": 61.0}).encode()
    async with setup.client("dr-a") as dr_a, setup.client("dr-b") as dr_b, setup.client("Q2") as q2, \
            setup.client("K7") as k7:
        for sub in (dr_a, dr_b):
            await sub.subscribe("bf/#", qos=1)   # as wide as possible: the ACL decides what arrives
        await q2.subscribe("bf/#", qos=1)
        await q2.subscribe("bf/K7/#", qos=1)
        await k7.subscribe("bf/#", qos=1)
        await k7.publish("bf/K7/s1/metrics", metrics, qos=1)
        await k7.publish("bf/Q2/s2/metrics", b'{"t":1.0,"hr":99.0}', qos=1)    # forged under another client
        await k7.publish("bf/K7/s1/marker", b'{"label":"self","id":"m0"}', qos=1)
        await dr_b.publish("bf/K7/s1/marker", b'{"label":"not yours","id":"m1"}', qos=1)
        await q2.publish("bf/Q2/s2/metrics", metrics, qos=1)                     # sentinel for dr-b
        await dr_a.publish("bf/K7/s1/marker", b'{"label":"hotspot","id":"m2"}', qos=1)  # sentinel for K7
        await dr_b.publish("bf/Q2/s2/marker", b'{"label":"q2","id":"m3"}', qos=1)      # sentinel for Q2
        await k7.publish("bf/K7/s1/events", b'{"t":2.0,"kind":"pause"}', qos=1)         # sentinel for dr-a
        a = await _read_until_sentinel(dr_a, "bf/K7/s1/events")
        b = await _read_until_sentinel(dr_b, "bf/Q2/s2/metrics")
        q = await _read_until_sentinel(q2, "bf/Q2/s2/marker")
        k = await _read_until_sentinel(k7, "bf/K7/s1/marker")
    # dr-a reads K7's session (and the markers sent to it), nothing of Q2's, not even the forged one.
    assert ("bf/K7/s1/metrics", metrics) in a and not any(t.startswith("bf/Q2/") for t, _ in a)
    # dr-b and Q2 read nothing of K7; Q2 reads only the markers sent to it.
    assert not any(t.startswith("bf/K7/") for t, _ in b) and b == [("bf/Q2/s2/metrics", metrics)]
    assert q == [("bf/Q2/s2/marker", b'{"label":"q2","id":"m3"}')]
    # K7 reads only markers to its own sessions, and only its therapist's: dr-b's never reached the broker's readers.
    labels = [json.loads(p)["label"] for t, p in k]
    assert all(t == "bf/K7/s1/marker" for t, _ in k) and "not yours" not in labels and labels[-1] == "hotspot"


async def _wait_for(sub: aiomqtt.Client, topic: str, want: dict, timeout: float = 60) -> dict:
    async with asyncio.timeout(timeout):
        async for msg in sub.messages:
            if str(msg.topic) == topic:
                payload = json.loads(msg.payload)
                if all(payload.get(k) == v for k, v in want.items()):
                    return payload
    raise AssertionError(f"nothing like {want} on {topic}")


async def test_only_the_clients_own_therapist_can_drop_a_marker_into_its_record(setup):
    proc = await asyncio.create_subprocess_exec(
        *_cli("run", "--simulate", "--speed", "10", "--duration", "150", "--no-audio", "--headless",
              "--mqtt", setup.url("K7", "bf/K7"), "--mqtt-ca", str(setup.tls.ca),
              "--mqtt-password-file", str(setup.password_file("K7")), "--mqtt-session", "s1", "--accept-markers"),
        cwd=REPO, env=setup.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        async with setup.client("dr-a") as dr_a, setup.client("dr-b") as dr_b, setup.client("Q2") as q2:
            await dr_a.subscribe("bf/+/+/#", qos=1)
            await _wait_for(dr_a, "bf/K7/s1/metrics", {"phase": "baseline"})
            await dr_b.publish("bf/K7/s1/marker", b'{"label":"forged by dr-b","id":"b1"}', qos=1)
            await q2.publish("bf/K7/s1/marker", b'{"label":"forged by Q2","id":"q1"}', qos=1)
            await dr_a.publish("bf/K7/s1/marker", b'{"label":"hotspot","id":"a1"}', qos=1)
            await dr_a.publish("bf/K7/s1/marker", b'{"label":"hotspot","id":"a1"}', qos=1)   # the same one again
            await dr_a.publish("bf/K7/s1/marker", b'{"label":"\\u0007bell","id":"a2"}', qos=1)  # not printable
            # The session says it recorded the marker: its published event (the source only, never the label).
            event = await _wait_for(dr_a, "bf/K7/s1/events", {"kind": "marker"})
            assert event["source"] == "therapist" and "label" not in event
        out, err = await asyncio.wait_for(proc.communicate(), 120)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()
    assert "markers from the therapist following this session go into its record" in out.decode()
    files = sorted((setup.tmp / "data").rglob("*.sqlite"))
    assert len(files) == 1
    with SessionReader(files[0]) as reader:
        markers = [(d["label"], d["source"]) for _, _, d in reader.events("marker")]
    assert markers == [("hotspot", "therapist")]
