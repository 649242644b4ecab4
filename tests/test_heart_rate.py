"""Heart rate as a person feels it: beat to beat, now (a short median), per breath, and when it settled."""

from __future__ import annotations

import math

import numpy as np
import pytest

from biofeedback.heart_rate import HeartRateNow, hr_swing, median_or_none, settled_from


def test_now_is_a_short_median_that_one_odd_beat_does_not_move():
    hr = HeartRateNow()
    for i, rr in enumerate([800, 800, 810, 790, 800]):
        hr.add(i * 0.8, rr, True)
    assert hr.bpm == pytest.approx(75.0)
    assert math.isnan(hr.add(4.4, 400, False))  # a flagged beat is a hole, and changes nothing
    assert hr.bpm == pytest.approx(75.0)
    hr.add(5.0, 500, True)  # one real fast beat among five: the median holds
    assert hr.bpm == pytest.approx(75.0, abs=1.0)
    for i in range(3):
        hr.add(6.0 + i * 0.5, 500, True)  # a real change shows within a few beats
    assert hr.bpm == pytest.approx(120.0)


def test_now_follows_within_a_few_beats_where_a_60_s_mean_lags():
    hr = HeartRateNow()
    t, beats = 0.0, []
    for rr in [800.0] * 75 + [600.0] * 6:  # 60 s at 75 bpm, then 100 bpm
        t += rr / 1000
        hr.add(t, rr, True)
        beats.append(60000 / rr)
    assert hr.bpm == pytest.approx(100.0)
    assert np.mean(beats[-75:]) < 78  # what a 60-s mean would still say


def test_swing_per_breath_is_peak_to_trough():
    t = np.arange(0, 120, 0.8)
    hr = 70 + 5 * np.sin(2 * np.pi * 0.1 * t)  # 6 breaths/min, 10 bpm peak to trough
    assert hr_swing(list(zip(t, hr)), 6.0) == pytest.approx(10.0, abs=0.6)
    assert math.isnan(hr_swing([(0, 70), (1, 71)], 6.0))


def test_settled_from_needs_the_whole_hold():
    t = np.arange(0, 300, 5.0)
    hr = np.where(t < 100, 72.0, 64.0)
    hr[30] = np.nan  # a missing row is skipped, not a break
    assert settled_from(t, hr, 70.0, 60.0) == 100.0
    assert settled_from(t, hr, 60.0, 60.0) is None
    assert median_or_none([math.nan, 3.0, 1.0]) == 2.0 and median_or_none([]) is None
