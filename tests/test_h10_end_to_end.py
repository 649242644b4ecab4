"""A whole session on the simulated Polar H10, end to end: the command a person types, and the record it leaves.

The simulated H10 serves ECG and chest acceleration as real PMD frames; the session decodes them with the
real strap's code, records them, classifies the ECG's beats and measures breathing from the chest. Here
the record is checked against what the simulated person actually did: every beat the heart made, which
ones were premature and of which shape, and how fast they breathed at each moment.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace

import numpy as np
import pytest

from devices.simulated_strap import SimulatedStrap
from devices.simulator import Glitches, person_profile
from sessions.cli import main
from sessions.events import EventKind
from sessions.exercises import load_common, load_script
from sessions.review.record import load_record
from sessions.runner import SessionRunner
from sessions.store import SessionWriter, list_sessions

SECONDS = 300.0


def test_the_command_records_ecg_chest_movement_beat_classes_and_breaths(data_dir, capsys):
    assert main(["run", "--simulate", "--strap", "h10", "--headless", "--no-audio", "--speed", "1000",
                 "--duration", str(int(SECONDS))]) == 0
    [session] = list_sessions()
    rec = load_record(session.path)
    end = rec.duration_s
    assert end >= SECONDS
    # 130 ECG samples and 50 accelerometer samples (x, y, z) a second, one row per PMD frame.
    assert len(rec.ecg.values) == pytest.approx(130.0 * end, rel=0.02)
    assert rec.acc.values.shape[1] == 3 and len(rec.acc.values) == pytest.approx(50.0 * end, rel=0.02)
    db = sqlite3.connect(session.path)
    frames = dict(db.execute("SELECT kind, COUNT(*) FROM signal_frames GROUP BY kind").fetchall())
    db.close()
    assert frames["ecg"] == pytest.approx(len(rec.ecg.values) / 73, abs=2)
    assert frames["acc"] > end  # several frames a second
    # The ECG's beats found and classified (one per strap beat, give or take the edges); breaths measured.
    assert len(rec.ecg_beat_t) == pytest.approx(len(rec.beat_t), abs=5)
    assert set(rec.ecg_beat_labels) <= {"N", "V", "S", "F", "Q"} and (rec.ecg_beat_labels == "N").mean() > 0.9
    assert len(rec.events_of(EventKind.BREATH)) > SECONDS / 10
    assert np.isfinite(rec.metrics["chest_breathing_rate"]).mean() > 0.5


@pytest.fixture(scope="module")
def ectopic_session(tmp_path_factory):
    person = replace(person_profile("follows"), glitches=Glitches(ectopic_per_min=4.0))
    strap = SimulatedStrap(person, seed=8, speed=None, duration_s=SECONDS + 30, strap="h10")
    path = tmp_path_factory.mktemp("h10e2e") / "e2e.biofeedback.sqlite"
    writer = SessionWriter(path, {"script": "safe-place", "language": "en"})
    runner = SessionRunner(strap, load_script("safe-place", "en"), load_common("en"), writer, duration_s=SECONDS)
    asyncio.run(runner.run())
    writer.close()
    return strap, load_record(path)


def test_measured_breathing_is_the_simulated_persons(ectopic_session):
    strap, rec = ectopic_session
    beat_t = np.array([b.t for b in strap.beats])
    truth = np.array([b.breath_rate for b in strap.beats])
    breaths = [e for e in rec.events_of(EventKind.BREATH) if e.t > 60]
    assert len(breaths) > 20
    # A breath's rate against how fast the person breathed over that breath (the mean of the truth across it).
    err = []
    for e in breaths:
        inside = (beat_t > e.t - e.data["duration_s"]) & (beat_t <= e.t)
        err.append(abs(e.data["rate"] - truth[inside].mean()))
    err_arr = np.array(err)
    assert np.median(err_arr) <= 0.5 and (err_arr <= 1.0).mean() >= 0.9, f"median {np.median(err_arr):.2f}/min"


def test_the_ecg_labels_the_premature_beats_the_simulated_heart_made(ectopic_session):
    strap, rec = ectopic_session
    ectopic = [b for b in strap.beats if b.kind == "ectopic" and 20 < b.t < rec.ecg.t[-1] - 2]
    assert len(ectopic) >= 10
    found = {"ventricular": [], "supraventricular": []}
    for b in ectopic:
        k = int(np.argmin(np.abs(rec.ecg_beat_t - b.t)))
        label = rec.ecg_beat_labels[k] if abs(rec.ecg_beat_t[k] - b.t) < 0.06 else ""
        found.setdefault(b.morphology, []).append(label)
    pvc = found["ventricular"]
    assert pvc and sum(x == "V" for x in pvc) >= 0.9 * len(pvc), pvc
    normal_t = np.array([b.t for b in strap.beats if b.kind == "normal" and 20 < b.t < rec.ecg.t[-1] - 2])
    k = np.clip(np.searchsorted(rec.ecg_beat_t, normal_t), 1, len(rec.ecg_beat_t) - 1)
    nearest = np.where(np.abs(rec.ecg_beat_t[k] - normal_t) < np.abs(rec.ecg_beat_t[k - 1] - normal_t), k, k - 1)
    assert (rec.ecg_beat_labels[nearest] == "N").mean() >= 0.99  # sinus beats stay normal


def test_the_strap_beats_are_paired_with_their_ecg_beats(ectopic_session):
    _, rec = ectopic_session
    assert (rec.ecg_labels != "").mean() > 0.97
    by_ecg = np.isin(rec.ecg_labels, ["V", "S", "F"])
    assert by_ecg.sum() >= 10, by_ecg.sum()  # 4 premature beats a minute: else the check below is empty
    assert (rec.labels[by_ecg] == "ectopic").all()


def test_a_replayed_h10_session_brings_its_ecg_and_chest_movement_back(data_dir):
    """`run --replay ID` of an H10 session: the ECG and the chest movement come back sample for sample,
    the same beats are classified and breathing is measured again, as in the session itself."""
    assert main(["run", "--simulate", "--strap", "h10", "--headless", "--no-audio", "--speed", "1000",
                 "--duration", "150"]) == 0
    [original] = list_sessions()
    assert main(["run", "--replay", original.id, "--headless", "--no-audio", "--speed", "1000",
                 "--duration", "150"]) == 0
    replayed = next(s for s in list_sessions() if s.id != original.id)
    a, b = load_record(original.path), load_record(replayed.path)
    n = min(len(a.ecg.values), len(b.ecg.values))
    assert n >= 0.9 * len(a.ecg.values) and np.array_equal(a.ecg.values[:n], b.ecg.values[:n])
    m = min(len(a.acc.values), len(b.acc.values))
    assert m >= 0.9 * len(a.acc.values) and np.array_equal(a.acc.values[:m], b.acc.values[:m])
    assert len(b.ecg_beat_t) == pytest.approx(len(a.ecg_beat_t), abs=5)
    assert (b.ecg_labels != "").mean() > 0.9  # the strap's beats paired with the replayed ECG's
    assert len(b.events_of(EventKind.BREATH)) >= 0.8 * len(a.events_of(EventKind.BREATH))


def test_after_a_link_drop_the_beats_flow_on_without_a_second_learning(tmp_path):
    """The link drops for 20 s: once the strap is back, its beats are paired with the ECG at once (the
    classifier keeps the beat shape it learned), so the views never say "no signal" while beats arrive."""
    person = replace(person_profile("follows"), glitches=Glitches(link_drops=((150.0, 20.0),)))
    strap = SimulatedStrap(person, seed=3, speed=None, duration_s=290.0, strap="h10")
    path = tmp_path / "drop.biofeedback.sqlite"
    writer = SessionWriter(path, {"script": "safe-place", "language": "en"})
    runner = SessionRunner(strap, load_script("safe-place", "en"), load_common("en"), writer, duration_s=280.0)
    quiet_after_drop: list[float] = []

    def watch(_kind, _t, _data) -> None:  # at every event and metrics row
        s = runner.state
        # The link is back at 170 s (a beat or two on at 178 s); the simulated strap stops at 290 s.
        if 178.0 < s.t < 285.0 and s.last_beat_t is not None:
            quiet_after_drop.append(s.t - s.last_beat_t)
    runner.subscribe(watch)
    asyncio.run(runner.run())
    writer.close()
    rec = load_record(path)
    assert quiet_after_drop and max(quiet_after_drop) <= 5.0  # the views' "no signal" threshold
    back = rec.beat_t > 175.0
    assert (rec.ecg_labels[back] != "").mean() > 0.9
