from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from biofeedback.calm import Baseline, BaselineBuilder, CalmTracker, calm_score

B = Baseline(70.0, 40.0, 0.5)


def test_baseline_is_fifty():
    assert calm_score(70.0, 40.0, 0.5, B) == pytest.approx(50.0)


@given(st.floats(40, 160), st.floats(1, 300), st.floats(0, 30), st.floats(0.1, 20))
def test_monotone_in_each_input(hr, rm, co, d):
    s = calm_score(hr, rm, co, B)
    assert 0.0 <= s <= 100.0
    assert calm_score(hr + d, rm, co, B) < s or s == 0.0
    assert calm_score(hr, rm + d, co, B) > s or s == 100.0
    assert calm_score(hr, rm, co + d, B) > s or s == 100.0


def test_settling_raises_score():
    assert calm_score(62, 55, 2.0, B) > 75
    assert calm_score(90, 20, 0.1, B) < 15


def test_single_artefact_does_not_jump():
    trk = CalmTracker(B)
    for i in range(100):
        trk.update(i * 0.85, 70.0, 40.0)
    before = trk.score
    trk.update(100 * 0.85, 120.0, 200.0)  # one absurd input (an artefact that slipped through)
    assert abs(trk.score - before) < 10
    for i in range(101, 130):
        trk.update(i * 0.85, 70.0, 40.0)
    assert abs(trk.score - 50.0) < 5


def test_baseline_builder_and_dict():
    bb = BaselineBuilder(60.0)
    got = None
    for i in range(100):
        got = bb.add(i, 66.0 + (i % 3), 45.0, 0.4) or got
    assert got == Baseline(67.0, 45.0, 0.4)
    assert Baseline.from_dict(got.to_dict()) == got
    with pytest.raises(ValueError):
        Baseline.from_dict({"hr_bpm": 0, "rmssd_ms": 40})
