"""Lab Streaming Layer: a simulated H10 session published with real pylsl outlets and read back with real inlets.

Discovery is kept on this machine by an ``lsl_api.cfg`` (``LSLAPICFG``): multicast scope 'machine' and
127.0.0.1 as the only known peer, so the test neither needs nor disturbs a network.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

_CFG = Path(tempfile.mkdtemp(prefix="lsl-cfg-")) / "lsl_api.cfg"
_CFG.write_text("[ports]\nIPv6 = disable\n[multicast]\nResolveScope = machine\n[lab]\nKnownPeers = {127.0.0.1}\n"
                "[log]\nlevel = -2\n")
os.environ.setdefault("LSLAPICFG", str(_CFG))  # read once, when liblsl first starts in this process

pylsl = pytest.importorskip("pylsl")

from devices.simulated_strap import SimulatedStrap  # noqa: E402
from devices.simulator import person_profile  # noqa: E402
from devices.stream import AccChunk, EcgChunk  # noqa: E402
from sessions import metric_registry as registry  # noqa: E402
from sessions.errors import UserError  # noqa: E402
from sessions.events import EventKind  # noqa: E402
from sessions.exercises import load_common, load_script  # noqa: E402
from sessions.lsl.outlets import LABEL_CODES, LslPublisher, app_version, load_pylsl  # noqa: E402
from sessions.review.record import load_record  # noqa: E402
from sessions.runner import SessionRunner  # noqa: E402
from sessions.store import SessionWriter  # noqa: E402

STREAMS = ("RR", "metrics", "markers", "ECG", "ACC")
SECONDS = 240.0


class GatedH10(SimulatedStrap):
    """The simulated H10, holding still once its first ECG and ACC chunks are in, until the inlets are open
    (an inlet only receives what is pushed after it connects, and those two outlets open on their first chunk)."""

    def __init__(self) -> None:
        super().__init__(person_profile("follows"), seed=11, speed=None, duration_s=SECONDS, strap="h10")
        self.gate = asyncio.Event()
        self.seen: set[type] = set()
        self.held_at: float | None = None

    async def items(self):
        async for item in super().items():
            yield item
            if isinstance(item, (EcgChunk, AccChunk)):
                self.seen.add(type(item))
            if len(self.seen) == 2 and not self.gate.is_set():
                self.held_at = item.t
                await self.gate.wait()


def _open_inlets(pub: LslPublisher) -> dict[str, tuple]:
    out = {}
    for stream in STREAMS:
        found = pylsl.resolve_byprop("source_id", pub.source_id(stream), timeout=10)
        assert found, f"no LSL stream with source_id {pub.source_id(stream)}"
        inlet = pylsl.StreamInlet(found[0], max_buflen=1000)
        inlet.open_stream(timeout=10)
        out[stream] = (inlet, inlet.info(timeout=10))
    return out


def _drain(inlet) -> tuple[list, list]:
    """Everything the inlet holds (the session is over, its last samples are on their way or here)."""
    data, stamps, quiet_since = [], [], time.monotonic()
    while time.monotonic() - quiet_since < 1.5:
        chunk, ts = inlet.pull_chunk(timeout=0.2, max_samples=4096)
        if ts:
            data += chunk
            stamps += ts
            quiet_since = time.monotonic()
    return data, stamps


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    path = tmp_path_factory.mktemp("lsl") / "lsl.biofeedback.sqlite"

    async def main():
        source = GatedH10()
        writer = SessionWriter(path, {"script": "safe-place", "language": "en"})
        runner = SessionRunner(source, load_script("safe-place", "en"), load_common("en"), writer, duration_s=SECONDS - 5)
        pub = LslPublisher(runner, load_pylsl(), name="bftest", session_id=f"t{os.getpid()}")
        async with pub:
            task = asyncio.create_task(runner.run())
            while source.held_at is None:  # counts items, not time: the source holds still here
                await asyncio.sleep(0.01)
            inlets = await asyncio.to_thread(_open_inlets, pub)
            source.gate.set()
            await task
        writer.close()
        received = {s: _drain(inlet) for s, (inlet, _) in inlets.items()}
        infos = {s: info for s, (_, info) in inlets.items()}
        return pub, source, infos, received

    pub, source, infos, received = asyncio.run(main())
    return pub, source, infos, received, load_record(path)


def _channels(info) -> list[tuple[str, str]]:
    ch, out = info.desc().child("channels").child("channel"), []
    while not ch.empty():
        out.append((ch.child_value("label"), ch.child_value("unit")))
        ch = ch.next_sibling()
    return out


def test_every_stream_says_what_it_is(published):
    pub, _, infos, _, _ = published
    expect = {"RR": ("RR", 3, 0.0), "metrics": ("HRV", len(registry.METRICS), 1.0), "markers": ("Markers", 1, 0.0),
              "ECG": ("ECG", 1, 130.0), "ACC": ("Accelerometer", 3, 50.0)}
    for stream, (kind, n, rate) in expect.items():
        info = infos[stream]
        assert (info.name(), info.type(), info.channel_count(), info.nominal_srate()) == (f"bftest-{stream}", kind, n, rate)
        assert info.source_id() == f"bftest-t{os.getpid()}-{stream}"
        acq = info.desc().child("acquisition")
        assert acq.child_value("software") == "biofeedback-imagery" and acq.child_value("version") == app_version()
    assert _channels(infos["RR"]) == [("RR", "ms"), ("label", "code"), ("NN", "bool")]
    assert _channels(infos["ECG"]) == [("ECG", "microvolts")]
    assert _channels(infos["ACC"]) == [("ACC_X", "mG"), ("ACC_Y", "mG"), ("ACC_Z", "mG")]
    assert [c[0] for c in _channels(infos["metrics"])] == [m.key for m in registry.METRICS]
    assert dict(_channels(infos["metrics"]))["hr_now_bpm"] == "bpm"
    assert infos["ECG"].desc().child("acquisition").child_value("manufacturer") == "simulated"
    labels = infos["RR"].desc().child("labels")
    said = {label.value: int(labels.child_value(label.value)) for label in LABEL_CODES}
    assert said == {k.value: v for k, v in LABEL_CODES.items()} and said["normal"] == 0 and said["gap"] == 6


def test_every_beat_comes_with_its_rr_label_and_r_peak_time(published):
    pub, _, _, received, rec = published
    data, stamps = received["RR"]
    assert len(data) > 150
    t = np.array(stamps) - pub.origin
    k0 = int(np.searchsorted(rec.beat_t, t[0] - 1e-6))
    assert len(data) == len(rec.beat_t) - k0  # every beat from the connection on, none twice
    np.testing.assert_allclose(t, rec.beat_t[k0:], atol=1e-6)
    np.testing.assert_allclose([d[0] for d in data], rec.rr_ticks[k0:] * 1000 / 1024, atol=1e-9)
    codes = {label.value: code for label, code in LABEL_CODES.items()}
    assert [int(d[1]) for d in data] == [codes[x] for x in rec.labels[k0:]]
    assert all(d[2] == (1.0 if x in ("normal", "gap") else 0.0) for d, x in zip(data, rec.labels[k0:]))


def test_ecg_and_acc_samples_are_the_recorded_ones_at_their_times(published):
    pub, _, _, received, rec = published
    for stream, trace in (("ECG", rec.ecg), ("ACC", rec.acc)):
        data, stamps = received[stream]
        values = np.asarray(trace.values, dtype=float).reshape(len(trace.t), -1)
        n = len(data)
        assert n > 0.9 * len(values), f"{stream}: {n} of {len(values)} samples"
        np.testing.assert_array_equal(np.array(data), values[-n:])  # the tail since the connection, exact
        # Each sample at its own time (chunks stamped by their last sample; within a sample period's few %).
        err = np.abs(np.array(stamps) - pub.origin - trace.t[-n:])
        assert err.max() < 0.2 / trace.fs, f"{stream}: time off by {err.max() * 1000:.1f} ms"


def test_metrics_come_every_second_of_the_session(published):
    pub, _, _, received, rec = published
    data, stamps = received["metrics"]
    t = np.array(stamps) - pub.origin
    assert np.allclose(t, np.round(t)) and (np.diff(np.round(t)) == 1)[:-1].all()  # the source's end may skip one
    assert t[-1] >= SECONDS - 7
    keys = [m.key for m in registry.METRICS]
    hr = np.array([row[keys.index("hr_now_bpm")] for row in data])
    late = hr[t > 90]
    assert np.isfinite(late).mean() > 0.95 and 40 < np.nanmedian(late) < 110
    pacer = np.array([row[keys.index("pacer_rate")] for row in data])
    first = rec.events_of(EventKind.PACER_RATE)[0]
    assert np.isnan(pacer[t < first.t - 1]).all() and np.isfinite(pacer[t > first.t + 1]).all()
    breath = np.array([row[keys.index("chest_breathing_rate")] for row in data])
    assert np.isfinite(breath).sum() > 60  # the chest's measured breathing goes out too


def test_markers_are_the_events_with_nothing_private(published):
    pub, source, _, received, rec = published
    data, stamps = received["markers"]
    markers = [json.loads(d[0]) for d in data]
    kinds = [m["kind"] for m in markers]
    for needed in ("step", "step_end", "prompt", "pacer_rate", "breath", "stop", "done"):
        assert needed in kinds, needed
    assert not any("text" in m or "title" in m for m in markers)
    prompts = [m for m in markers if m["kind"] == "prompt"]
    assert all(m["id"] for m in prompts)
    # Each marker at its event's session time, and every shown event after the connection is there.
    np.testing.assert_allclose(np.array(stamps) - pub.origin, [m["t"] for m in markers], atol=1e-3)
    shown = [(e.kind.value, round(e.t, 3)) for e in rec.events
             if e.t > source.held_at and e.kind in (EventKind.STEP, EventKind.PROMPT, EventKind.BREATH, EventKind.DONE)]
    assert shown == [(m["kind"], m["t"]) for m in markers if m["kind"] in ("step", "prompt", "breath", "done")
                     and m["t"] > source.held_at]


def test_without_pylsl_one_sentence_names_the_pip_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "pylsl", None)
    with pytest.raises(UserError) as err:
        load_pylsl()
    text = str(err.value)
    assert "--lsl needs the 'lsl' extra" in text and "-m pip install" in text and "[lsl]" in text
    assert "\n" not in text


def test_the_command_line_publishes_and_refuses_a_bad_name(tmp_path):
    env = {**os.environ, "BIOFEEDBACK_DATA_DIR": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    cmd = [sys.executable, "-m", "sessions", "run", "--simulate", "--strap", "h10", "--headless", "--no-audio",
           "--speed", "1000", "--duration", "40"]
    bad = subprocess.run(cmd + ["--lsl", "two words"], env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert "--lsl NAME takes 1-32 letters" in bad.stderr + bad.stdout
    ok = subprocess.run(cmd + ["--lsl", "bfcli"], env=env, capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert "LSL: publishing beats, metrics and events as 'bfcli'" in ok.stdout
    assert "Traceback" not in ok.stderr


def test_without_a_labs_configuration_the_streams_stay_on_this_computer(monkeypatch, tmp_path):
    """LSL has no authentication: by default liblsl announces the streams to this machine only; a lab's
    own lsl_api.cfg (here through LSLAPICFG) is left as it is."""
    from sessions.lsl import outlets

    given = []
    fake = type("FakePylsl", (), {"set_config_content": staticmethod(given.append)})
    monkeypatch.delenv("LSLAPICFG", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(outlets, "CONFIG_PLACES", (tmp_path / "lsl_api.cfg",))
    outlets._quiet(fake)
    assert given and "ResolveScope = machine" in given[0]
    monkeypatch.setenv("LSLAPICFG", str(tmp_path / "lab.cfg"))
    outlets._quiet(fake)
    assert len(given) == 1
