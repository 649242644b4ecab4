"""The care sequence: opening, orientation, grounding until settled (or five minutes), the choice, the closing."""

from __future__ import annotations

import pytest

from biofeedback.care import CareConfig, CareOrigin, CareRun, CareStage, CareTiming

TIMING = CareTiming(
    opening={CareOrigin.ASKED: (4.0, 4.0), CareOrigin.BODY: (5.0, 5.0, 5.0)},
    orientation=(6.0, 6.0, 6.0),
    grounding=(8.0, 8.0, 8.0, 8.0),
    settled=(5.0, 5.0),
    closing=(6.0, 6.0, 6.0, 6.0),
)
CFG = CareConfig(tempo=1.0, min_s=60.0, max_s=300.0, choice_s=45.0)


def run_until(care: CareRun, until: float, settle_at: float | None = None, dt: float = 1.0):
    lines, t = [], 0.0
    while t <= until and not care.finished:
        if settle_at is not None and t >= settle_at and care.may_settle:
            care.settle(t)
            settle_at = None
        lines += care.due(t)
        t += dt
    return lines


def test_asked_opens_with_the_acknowledgement_at_once_and_lines_never_share_a_moment():
    care = CareRun(0.0, CareOrigin.ASKED, TIMING, CFG)
    first = care.due(0.0)
    assert [(c.stage, c.line) for c in first] == [(CareStage.OPENING, 0)]
    lines = first + run_until(care, 40.0)
    times = [c.t for c in lines]
    assert all(b - a >= 4.0 for a, b in zip(times, times[1:]))
    assert [c.stage for c in lines][:6] == [CareStage.OPENING] * 2 + [CareStage.ORIENTATION] * 3 + [CareStage.GROUNDING]


def test_grounding_goes_on_until_the_body_settles_then_offers_the_choice_then_closes():
    care = CareRun(0.0, CareOrigin.BODY, TIMING, CFG)
    lines = run_until(care, 600.0, settle_at=150.0)
    stages = [c.stage for c in lines]
    grounding = [c for c in lines if c.stage is CareStage.GROUNDING]
    assert grounding[-1].t >= 140  # it kept going, cycling its lines, until the body settled
    assert {c.line for c in grounding} == {0, 1, 2, 3}
    settled = [c for c in lines if c.stage is CareStage.SETTLED]
    closing = [c for c in lines if c.stage is CareStage.CLOSING]
    assert settled and closing and stages.index(CareStage.SETTLED) < stages.index(CareStage.CLOSING)
    assert closing[0].t >= settled[0].t + CFG.choice_s  # the choice stayed open
    assert [c.line for c in closing] == [0, 1, 2, 3] and care.finished


def test_a_body_that_does_not_settle_gets_five_minutes_then_the_closing():
    care = CareRun(0.0, CareOrigin.BODY, TIMING, CFG)
    lines = run_until(care, 900.0)
    grounding = [c for c in lines if c.stage is CareStage.GROUNDING]
    assert grounding[-1].t - grounding[0].t == pytest.approx(CFG.max_s, abs=8.0)
    assert lines[-1].stage is CareStage.CLOSING and care.finished


def test_settling_too_early_is_not_allowed_and_close_finishes_at_once():
    care = CareRun(0.0, CareOrigin.ASKED, TIMING, CFG)
    run_until(care, 30.0)
    assert not care.may_settle
    care.close(31.0)
    lines = care.due(31.0)
    assert lines[0].stage is CareStage.CLOSING and lines[0].line == 0
    care.close(32.0)  # a second close: straight to the last line
    assert care.due(32.0)[0].line == len(TIMING.closing) - 1


def test_care_never_ends_in_silence():
    with pytest.raises(ValueError):
        CareTiming(opening={}, orientation=(), grounding=(), settled=(), closing=(1.0,))
