"""The synthetic chest accelerometer: amplitudes a Polar H10 would show, seamless chunks, motion bursts."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from devices.chest_motion import POSTURES, ChestMotion, chest_acc

FS = 50.0


def _breath(t: np.ndarray, rate_per_min: float = 12.0) -> np.ndarray:
    # Any scale and offset: the model normalises inside.
    return 40.0 + 7.0 * np.sin(2 * np.pi * rate_per_min / 60.0 * t)


def _times(seconds: float) -> np.ndarray:
    return np.arange(0.0, seconds, 1.0 / FS)


@pytest.mark.parametrize("posture", sorted(POSTURES))
def test_gravity_and_breathing_amplitudes_are_those_of_a_chest_strap(posture):
    t = _times(120.0)
    beats = np.arange(0.4, 120.0, 0.85)
    acc = chest_acc(t, _breath(t), beats, rng=np.random.default_rng(3), posture=posture)
    assert acc.shape == (len(t), 3) and acc.dtype.kind == "i"
    steady = acc[int(40 * FS):].astype(float)
    assert abs(np.linalg.norm(steady.mean(axis=0)) - 1000.0) < 25.0
    # Breathing: band 0.1-0.7 Hz, along its main axis, a few to a few tens of mG peak to peak.
    sos = signal.butter(2, [0.1, 0.7], "bandpass", fs=FS, output="sos")
    bp = signal.sosfiltfilt(sos, steady, axis=0)
    _, _, vt = np.linalg.svd(bp - bp.mean(axis=0), full_matrices=False)
    main = bp @ vt[0]
    p2p = np.percentile(main, 99) - np.percentile(main, 1)
    assert 3.0 < p2p < 60.0, p2p
    assert abs(np.corrcoef(main, signal.sosfiltfilt(sos, _breath(t)[int(40 * FS):]))[0, 1]) > 0.9


def test_heartbeat_bumps_follow_the_beats_and_noise_is_a_few_mg():
    t = _times(60.0)
    flat = np.zeros(len(t))
    quiet = chest_acc(t, flat, [], rng=np.random.default_rng(4)).astype(float)
    noise = np.std(np.diff(quiet[int(10 * FS):], axis=0), axis=0) / np.sqrt(2.0)  # white part, not the seat's drift
    assert np.all((noise > 0.7) & (noise < 3.5)), noise
    beats = np.arange(1.0, 59.0, 1.0)
    with_beats = chest_acc(t, flat, beats, rng=np.random.default_rng(4)).astype(float)
    bump = with_beats - quiet  # same random streams: the difference is the heartbeat alone
    mag = np.linalg.norm(bump, axis=1)
    # Every bump lies between the beat and 120 ms after it, peaks 1-6 mG, and nothing else is there.
    inside = np.zeros(len(t), dtype=bool)
    for b in beats:
        inside |= (t >= b) & (t <= b + 0.12)
    assert np.all(mag[~inside] < 1.0)
    peaks = [mag[(t >= b) & (t <= b + 0.12)].max() for b in beats]
    assert 1.0 <= np.median(peaks) <= 6.0


def test_chunks_join_exactly_as_one_call():
    t = _times(90.0)
    breath = _breath(t, 9.0)
    beats = np.arange(0.3, 90.0, 0.9)
    whole = chest_acc(t, breath, beats, rng=np.random.default_rng(7), posture="left", motion=[(30.0, 5.0)])
    model = ChestMotion(rng=np.random.default_rng(7), posture="left", motion=[(30.0, 5.0)])
    sizes = np.random.default_rng(1).integers(1, 90, 400)
    parts, i = [], 0
    for n in sizes:
        if i >= len(t):
            break
        chunk = slice(i, i + int(n))
        known = beats[beats <= t[chunk][-1]]  # only the beats a live strap would have reported so far
        parts.append(model.samples(t[chunk], breath[chunk], known.tolist()))
        i += int(n)
    assert np.array_equal(np.concatenate(parts), whole)


def test_a_motion_burst_is_large_and_leaves_a_new_posture():
    t = _times(100.0)
    model = ChestMotion(rng=np.random.default_rng(11), posture="supine", motion=[(50.0, 4.0)])
    acc = model.samples(t, _breath(t), []).astype(float)
    before, during, after = acc[int(30 * FS):int(49 * FS)], acc[int(50 * FS):int(54 * FS)], acc[int(60 * FS):]
    assert np.std(np.diff(during, axis=0), axis=0).max() > 10 * np.std(np.diff(before, axis=0), axis=0).max()
    g0, g1 = before.mean(axis=0), after.mean(axis=0)
    angle = np.degrees(np.arccos(g0 @ g1 / np.linalg.norm(g0) / np.linalg.norm(g1)))
    assert angle > 45.0
    assert model.moving(t).sum() == int(4 * FS)


def test_bad_input_is_refused_with_a_sentence():
    with pytest.raises(ValueError, match="posture"):
        ChestMotion(rng=np.random.default_rng(0), posture="upside down")
    model = ChestMotion(rng=np.random.default_rng(0))
    model.samples(_times(2.0), np.zeros(100), [])
    with pytest.raises(ValueError, match="increase"):
        model.samples(_times(2.0), np.zeros(100), [])
