"""The simulated Polar H10: ECG on every beat the simulated heart made, chest movement from its breathing,
served as real PMD frames and put back on the session clock by the real strap's code."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import numpy as np
import pytest

from biofeedback.ecg import detect_r_peaks
from devices.simulated_strap import SimulatedStrap
from devices.simulator import Glitches, person_profile
from devices.stream import AccChunk, EcgChunk, LinkEvent, LinkState


async def _collect(strap: SimulatedStrap) -> list:
    return [item async for item in strap]


@pytest.fixture(scope="module")
def session():
    person = replace(person_profile("follows"), glitches=Glitches(ectopic_per_min=3.0, link_drops=((300.0, 20.0),)))
    strap = SimulatedStrap(person, seed=5, speed=None, duration_s=480.0, strap="h10")
    items = asyncio.run(_collect(strap))
    return strap, items


def test_ecg_and_acc_arrive_at_the_h10_rates_and_mark_the_link_drop(session):
    strap, items = session
    ecg = [i for i in items if isinstance(i, EcgChunk)]
    acc = [i for i in items if isinstance(i, AccChunk)]
    assert all(len(c.samples_uv) == 73 for c in ecg) and all(abs(c.fs - 130.05) < 0.1 for c in ecg[100:])
    assert all(abs(c.fs - 50.02) < 0.05 for c in acc[100:])
    # 460 s of signal (20 s lost with the link) at 130 and 50 Hz
    assert sum(len(c.samples_uv) for c in ecg) == pytest.approx(460 * 130, rel=0.01)
    assert sum(len(c.samples_mg) for c in acc) == pytest.approx(460 * 50, rel=0.01)
    for chunks in (ecg, acc):  # the first chunk after the link came back (at 320 s), and only that one
        assert [c.t for c in chunks if c.after_gap] == [next(c.t for c in chunks if c.t > 320)]
    info = [i for i in items if isinstance(i, LinkEvent) and i.kind is LinkState.DEVICE_INFO]
    assert len(info) == 2 and all(i.detail["pmd"]["acc"] == {"sample_rate": 50, "resolution": 16, "range": 8} for i in info)
    assert not [i for i in items if isinstance(i, LinkEvent) and i.kind in (LinkState.GAP, LinkState.MALFORMED)
                and i.detail.get("stream")]


def _ecg(items) -> tuple[np.ndarray, np.ndarray]:
    ecg = [i for i in items if isinstance(i, EcgChunk)]
    return np.concatenate([c.times() for c in ecg]), np.concatenate([c.samples_uv for c in ecg]).astype(float)


def test_every_beat_of_the_heart_is_an_r_peak_in_the_ecg(session):
    strap, items = session
    t, uv = _ecg(items)
    first = t < 299  # the stretch before the link drop: one continuous signal
    peaks = t[[p.index for p in detect_r_peaks(uv[first], 130.0)]]
    truth = np.array([b.t for b in strap.beats if b.morphology != "none" and 2 < b.t < 297])
    near = np.array([np.min(np.abs(peaks - b)) for b in truth])
    assert np.mean(near < 0.05) >= 0.99
    # On the session clock within a BLE latency: the strap clock mapping holds over the whole session
    assert 0.0 < np.median(near) < 0.02


def test_ectopic_beats_have_their_own_shape(session):
    strap, items = session
    t, uv = _ecg(items)
    kinds = {b.morphology for b in strap.beats}
    assert {"normal", "ventricular", "supraventricular"} <= kinds

    def template(kind: str) -> np.ndarray:
        beats = [b.t for b in strap.beats if b.morphology == kind and 2 < b.t < 297]
        idx = [int(np.searchsorted(t, b)) for b in beats]
        return np.mean([uv[i - 30:i + 40] for i in idx if 30 <= i < len(uv) - 40], axis=0)  # R at index 30

    def qrs_width(w: np.ndarray) -> int:
        peak = int(np.argmax(np.abs(w[25:36]))) + 25
        return int(np.sum(np.abs(w[peak - 10:peak + 10] - np.median(w)) > 0.5 * abs(w[peak] - np.median(w))))

    normal, pvc, pac = template("normal"), template("ventricular"), template("supraventricular")
    assert qrs_width(pvc) >= 2 * qrs_width(normal)          # wide
    assert np.max(pvc) > 1.2 * np.max(normal)               # tall
    assert np.mean(pvc[30 + 30:30 + 40]) < 0 < np.mean(normal[30 + 30:30 + 40])  # T of opposite sign
    # P upright before a sinus beat; the PAC's P earlier and inverted
    assert np.mean(normal[30 - 22:30 - 19]) > np.mean(normal[30 - 12:30 - 8]) > np.mean(pac[30 - 17:30 - 14])


def test_the_chest_moves_with_the_breathing(session):
    strap, items = session
    acc = [i for i in items if isinstance(i, AccChunk) and i.t < 299]
    xyz = np.array([s for c in acc for s in c.samples_mg], dtype=float)
    assert 900 < np.linalg.norm(xyz.mean(axis=0)) < 1100  # gravity, in mG
    axis = xyz[:, int(np.argmax(xyz[1000:].std(axis=0)))][1000:]
    spectrum = np.abs(np.fft.rfft(axis - axis.mean())) ** 2
    freqs = np.fft.rfftfreq(len(axis), 1 / 50.0)
    band = (freqs > 0.08) & (freqs < 0.6)
    rate = 60 * freqs[band][np.argmax(spectrum[band])]
    truth = np.median([b.breath_rate for b in strap.beats if 20 < b.t < 297])
    assert abs(rate - truth) < 1.0


def test_a_plain_simulated_strap_sends_no_pmd():
    strap = SimulatedStrap(person_profile("follows"), seed=5, speed=None, duration_s=30.0)
    items = asyncio.run(_collect(strap))
    assert not [i for i in items if isinstance(i, (EcgChunk, AccChunk))]
    assert "pmd" not in [i for i in items if isinstance(i, LinkEvent) and i.kind is LinkState.DEVICE_INFO][0].detail
