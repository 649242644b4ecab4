"""A session on a real Polar H10's ECG and RR: the ECG recorded, beats paired and classified, the rest unchanged."""

from __future__ import annotations

import asyncio
import sqlite3

import numpy as np
import pytest

from biofeedback.artefacts import classify_series
from sessions.events import EventKind
from sessions.exercises import load_common, load_script
from sessions.review.record import load_record
from sessions.runner import SessionRunner
from sessions.store import SessionWriter
from tests.h10kit import FRAME, H10Recording


def _run(tmp_path, with_ecg: bool, seconds: float = 240.0):
    source = H10Recording(seconds=seconds, ecg=with_ecg)
    path = tmp_path / f"h10-{with_ecg}.biofeedback.sqlite"
    writer = SessionWriter(path, {"script": "safe-place", "language": "en"})
    runner = SessionRunner(source, load_script("safe-place", "en"), load_common("en"), writer, duration_s=seconds - 5)
    asyncio.run(runner.run())
    writer.close()
    return runner, load_record(path), source


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("h10")
    return _run(tmp, True), _run(tmp, False)


def test_the_ecg_is_recorded_frame_by_frame_and_comes_back_exact(sessions):
    (runner, rec, source), _ = sessions
    frames = len(source.ecg) // FRAME
    assert rec.ecg is not None and len(rec.ecg.values) == frames * FRAME
    assert np.array_equal(rec.ecg.values, source.ecg[:frames * FRAME])
    db = sqlite3.connect(rec.path)
    assert db.execute("SELECT COUNT(*) FROM signal_frames WHERE kind = 'ecg'").fetchone()[0] == frames
    db.close()
    assert [e.data["state"] for e in rec.events_of(EventKind.ECG)] == ["started"]


def test_strap_beats_are_paired_with_the_ecg_and_the_rest_counted(sessions):
    (runner, rec, _), _ = sessions
    n = len(rec.beat_t)
    paired = int((rec.ecg_labels != "").sum())
    assert paired >= 0.97 * n, f"{paired} of {n} strap beats found in the ECG"
    v = runner.state.values
    inside = (rec.beat_t >= 1.5) & (rec.beat_t <= rec.ecg.t[-1] - 1)  # not at the ECG's edges
    assert v["strap_only_beats"] == int(((rec.ecg_labels == "") & inside).sum()) <= 2
    assert v["ecg_only_beats"] == int((rec.ecg_beat_labels != "").sum()) - paired
    assert v["ecg_only_beats"] <= 0.03 * n
    assert not np.isnan(rec.metrics["ecg_only_beats"]).all()


def test_an_ecg_verdict_of_ectopic_makes_the_beat_ectopic(sessions):
    (runner, rec, _), _ = sessions
    ectopic_by_ecg = np.isin(rec.ecg_labels, ["V", "S", "F"])
    assert ectopic_by_ecg.sum() >= 50, ectopic_by_ecg.sum()  # the wearer's frequent PVCs: else the check below is empty
    assert (rec.labels[ectopic_by_ecg] == "ectopic").all()
    assert runner.state.values["ecg_ectopic_beats"] == int(ectopic_by_ecg.sum())


def test_without_ecg_labels_are_exactly_the_rr_ones(sessions):
    (_, with_ecg, _), (_, plain, _) = sessions
    assert plain.ecg is None and plain.ecg_labels is None
    offline = [b.label.value for b in classify_series(plain.rr_ticks.tolist(), plain.beat_t.tolist())]
    assert plain.labels.tolist() == offline
    assert plain.rr_ticks.tolist() == with_ecg.rr_ticks.tolist()
    # With the ECG a beat's label changes only where the ECG judged: an ECG-ectopic beat (and the pause
    # after it) is flagged, an RR flag between two clearly normal beats is overruled, and a flag may take
    # another name after a changed neighbour; never does a beat the ECG did not see change.
    ecg_cls = with_ecg.ecg_labels
    became_nn = became_flagged = renamed = 0
    for i, (a, b) in enumerate(zip(with_ecg.labels, plain.labels)):
        if a == b:
            continue
        assert ecg_cls[i] != "" or (i and ecg_cls[i - 1] in ("V", "S", "F")), (i, a, b)
        a_nn, b_nn = a in ("normal", "gap"), b in ("normal", "gap")
        if a_nn and not b_nn:
            assert ecg_cls[i] == "N" and ecg_cls[i - 1] == "N", (i, a, b)  # overruled between two normal beats
            became_nn += 1
        elif b_nn and not a_nn:
            assert ecg_cls[i] in ("V", "S", "F") or ecg_cls[i - 1] in ("V", "S", "F"), (i, a, b)
            became_flagged += 1
        elif not (a == "ectopic" and ecg_cls[i] in ("V", "S", "F")):
            renamed += 1  # a flag by another name: the reference moved with an overruled or ECG-found beat
    assert became_flagged + became_nn > 0, "the ECG changed no label: nothing above was checked"
    assert renamed <= became_nn + became_flagged


def test_measured_breathing_guides_the_pacer_and_is_recorded(tmp_path):
    """Breathing at 8/min measured at the chest: the pacer starts there (the heart's rhythm, full of PVCs,
    gives no confident rate), breaths are recorded, and the follow figures are live."""
    source = H10Recording(seconds=300, breath_rate=8.0)
    path = tmp_path / "h10-acc.biofeedback.sqlite"
    writer = SessionWriter(path, {"script": "safe-place", "language": "en"})
    runner = SessionRunner(source, load_script("safe-place", "en"), load_common("en"), writer, duration_s=295)
    asyncio.run(runner.run())
    writer.close()
    rec = load_record(path)
    assert rec.acc is not None and rec.acc.values.shape[1] == 3
    breaths = rec.events_of(EventKind.BREATH)
    assert len(breaths) >= 25
    rates = [e.data["rate"] for e in breaths[3:]]
    assert abs(float(np.median(rates)) - 8.0) <= 0.5
    first = rec.events_of(EventKind.PACER_RATE)[0].data["rate"]
    assert first == pytest.approx(8.0, abs=0.5)
    measured = rec.metrics["chest_breathing_rate"]
    assert np.nanmedian(measured) == pytest.approx(8.0, abs=0.5)
    assert np.isfinite(rec.metrics["pacer_rate_match"]).any() and runner.state.following is not None


def test_edf_carries_the_ecg_at_its_own_rate_in_microvolts(sessions, tmp_path):
    import pyedflib

    from sessions.review.exports import export_edf

    (_, rec, source), (_, plain, _) = sessions
    out = tmp_path / "h10.edf"
    export_edf(rec, out)
    with pyedflib.EdfReader(str(out)) as edf:
        labels = edf.getSignalLabels()
        assert "ECG" in labels
        k = labels.index("ECG")
        assert edf.getSampleFrequency(k) == 130.0 and edf.getPhysicalDimension(k) == "uV"
        assert edf.getPhysicalMinimum(k) < source.ecg.min() and edf.getPhysicalMaximum(k) == source.ecg.max()
        ecg = edf.readSignal(k)
        digital = edf.readSignal(k, digital=True)
    ecg[digital == -32768] = np.nan
    # The same R peaks, in µV, at the recorded times (the recording runs at 130.16 Hz: the grid does not drift).
    grid_t = np.arange(len(ecg)) / 130.0
    ok = np.isfinite(ecg)
    assert ok[5 * 130:int(rec.ecg.t[-1] * 130) - 5].all()
    truth = np.interp(grid_t[ok], rec.ecg.t, rec.ecg.values.astype(float))
    assert np.max(np.abs(ecg[ok] - truth)) <= (source.ecg.max() - source.ecg.min() + 2) / 65535 + 1e-6
    plain_out = tmp_path / "plain.edf"
    export_edf(plain, plain_out)
    with pyedflib.EdfReader(str(plain_out)) as edf:
        assert "ECG" not in edf.getSignalLabels()


def test_review_strip_has_the_ecg_and_every_ecg_beat_and_nothing_without_ecg(sessions):
    from sessions.review.ecg_strip import strip_data

    (_, rec, _), (_, plain, _) = sessions
    minutes, mv, beats = strip_data(rec)
    assert len(minutes) == len(rec.ecg.values) and np.nanmax(np.abs(mv)) < 10  # mV, not µV
    assert len(beats) == len(rec.ecg_beat_t) and {b[2] for b in beats} <= {"N", "V", "S", "F", "Q"}
    assert strip_data(plain) is None
