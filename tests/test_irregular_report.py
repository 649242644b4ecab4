"""Reports mark stretches of very irregular rhythm and leave them out of HRV (issue 12)."""

from __future__ import annotations

from sessions.review.offline_hrv import offline_hrv
from sessions.review.record import load_record
from sessions.review.report import build_content
from tests.sessionkit import run_session


async def test_an_af_session_report_marks_the_stretch_and_leaves_it_out_of_hrv(tmp_path):
    ran = await run_session(tmp_path, "safe-place", "nl", "af", duration_s=300)
    record = load_record(ran.path)
    stretches = record.irregular_stretches()
    assert stretches and stretches[0][0] <= 60.0 and stretches[-1][1] >= 250.0
    # Nearly every NN beat lies inside the stretch: too few are left for HRV, so none is reported as valid.
    assert record.hrv_mask.sum() < 0.2 * record.nn_mask.sum()
    assert offline_hrv(record).time == {}
    content = build_content(record, "nl")
    assert any("erg onregelmatig" in note for note in content.notes)


async def test_a_regular_session_has_no_irregular_stretch(tmp_path):
    ran = await run_session(tmp_path, "safe-place", "en", "follows", duration_s=300)
    record = load_record(ran.path)
    assert record.irregular_stretches() == []
    assert (record.hrv_mask == record.nn_mask).all()
    assert not any("very irregular" in note for note in build_content(record, "en").notes)


def test_analyze_leaves_an_irregular_stretch_out_of_hrv():
    import numpy as np

    from biofeedback.whole_recording import analyze_recording

    rng = np.random.default_rng(4)
    sinus = 850 + 40 * np.sin(np.arange(600) * 2 * np.pi / 4.5)  # breathing-driven, regular
    af = rng.lognormal(np.log(600), 0.25, 600)  # irregularly irregular, about 100 bpm
    rr = np.concatenate([sinus, af, sinus])
    result = analyze_recording(rr)
    m = result.metrics
    assert m["irregular_stretches"] >= 1 and 300 <= m["irregular_s"] <= 420  # the AF part, ~6 minutes
    nn_mask = np.array([b.is_nn for b in result.beats])
    assert 1100 <= m["n_nn"] <= 1200 < nn_mask.sum()  # the regular beats, not AF's (some of which pass as NN)
    assert m["rmssd_ms"] < 60  # the regular parts' RMSSD, not AF's ~200 ms
    plain = analyze_recording(rr, correct=False)
    assert plain.metrics["irregular_s"] == 0.0  # --no-correct: the series exactly as given
