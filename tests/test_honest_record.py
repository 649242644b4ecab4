"""The record says what happened: every beat labelled, one beat count everywhere, and a distress event
that stores what the detector decided on (issue 11's "honest records").

Each of these failed before the fix: 305 beats and 304 labels; an end-of-run count one short of
`sessions show`; a distress event carrying the 60-s mean heart rate (74 bpm for an episode that
peaked at 96) instead of the detector's short-window rate, threshold and baseline.
"""

from __future__ import annotations

from dataclasses import replace

from devices.simulator import Person, StressEpisode
from sessions.store import SessionReader
from tests.sessionkit import run_session


async def test_every_beat_of_a_session_is_labelled(tmp_path):
    ran = await run_session(tmp_path, "safe-place", "en", duration_s=240)
    with SessionReader(ran.path) as reader:
        beats = reader.beats()
    labels = [b[4] for b in beats]
    assert len(beats) > 200
    assert None not in labels, f"{labels.count(None)} of {len(beats)} beats have no label"


async def test_the_end_of_run_count_is_the_stored_count(tmp_path):
    ran = await run_session(tmp_path, "safe-place", "en", duration_s=240)
    with SessionReader(ran.path) as reader:
        stored = reader.summary().beats
        labelled_artefacts = sum(1 for b in reader.beats() if b[4] not in ("normal", "gap"))
    assert ran.result.beats == stored == ran.runner.state.beats
    assert ran.result.artefacts == labelled_artefacts


async def test_distress_is_recorded_with_what_the_detector_decided_on(tmp_path):
    person = replace(Person(), stress=StressEpisode(onset_s=300.0, duration_s=150))
    ran = await run_session(tmp_path, "safe-place", "en", person)
    (t, _kind, data), = ran.events("distress")
    assert data["source"] == "body"
    # The short-window heart rate that tipped it is above the threshold it was judged against, and the
    # threshold sits above the reference (the baseline, or lower where the person had settled).
    assert data["hr_bpm"] > data["threshold_bpm"] > data["reference_hr_bpm"]
    assert data["reference_hr_bpm"] <= data["baseline_hr"]
    assert data["peak_hr_bpm"] >= data["hr_bpm"]
    # Not the 60-s mean: at onset the mean lags well below the beats.
    with SessionReader(ran.path) as reader:
        rows = [m for mt, m in reader.metrics() if t - 5 <= mt <= t + 0.1]
    mean_60s = rows[-1]["hr_bpm"]
    assert data["hr_bpm"] > mean_60s + 3
