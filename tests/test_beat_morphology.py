"""ECG beat classes against the cardiologists' labels (MIT-BIH) and a real H10 with frequent PVCs.

Real recordings from ``../shared/data`` (MIT-BIH: PhysioNet, ODC-By 1.0; ecg_detectpvc: detectPVC,
MIT License). Five minutes per record keep this fast; the whole-database figures are in
``bench/bench_ecg.py``.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from biofeedback.beat_morphology import ECTOPIC, EcgBeat, EcgBeatClassifier, analyze_ecg, classify_ecg, usable_rr
from tests.test_ecg import BEATS, FS, MITDB, _mitdb
from tests.test_pmd import needs_data

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))


def _labels(number: int, seconds: float = 300.0, scale: float = 1.0) -> Counter[tuple[str, str]]:
    """(cardiologists' label, ours) per matched beat over the first ``seconds``."""
    import wfdb
    from bench_beat_classes import pairs

    x, ref = _mitdb(number)
    ann = wfdb.rdann(str(MITDB / str(number)), "atr")
    symbols = [s for s in ann.symbol if s in BEATS]
    beats = classify_ecg(scale * x[: int(seconds * FS)], FS)
    keep = ref < seconds - 1
    m = pairs(ref[keep], np.array([b.t_s for b in beats]))
    assert len(m) >= 0.99 * keep.sum()
    return Counter((symbols[i], beats[j].label) for i, j in m.items())


def _share(c: Counter[tuple[str, str]], truth: str, ours: str) -> float:
    total = sum(v for (t, _), v in c.items() if t in truth)
    return sum(v for (t, o), v in c.items() if t in truth and o in ours) / total


@pytest.mark.parametrize("scale", [1.0, -1000.0])  # mV as recorded; an inverted lead in µV
def test_ventricular_bigeminy_is_found_and_the_normal_beats_stay_normal(scale):
    c = _labels(119, scale=scale)  # 119: ventricular bigeminy and trigeminy
    assert sum(v for (t, _), v in c.items() if t == "V") >= 70
    assert _share(c, "V", "VF") >= 0.95
    assert _share(c, "N", "VFSQ") <= 0.005


def test_multiform_ventricular_beats_are_found():
    c = _labels(106)  # 106: multiform PVCs, couplets
    assert _share(c, "V", "VF") >= 0.95
    assert _share(c, "N", "VFSQ") <= 0.005


def test_sinus_rhythm_is_normal():
    c = _labels(100)  # 100: sinus rhythm with a few atrial premature beats
    assert _share(c, "N", "N") >= 0.995
    assert sum(v for (_, o), v in c.items() if o in "VF") == 0


def test_live_labels_do_not_depend_on_the_chunks_and_come_within_0_4_s():
    x, _ = _mitdb(119)
    x = x[: int(90 * FS)]
    one = EcgBeatClassifier(FS)
    lags, by_sample = [], []
    for n, v in enumerate(x.tolist()):
        for b in one.feed([v]):
            by_sample.append(b)
            if not b.search_back and b.t_s > 12:  # the first dozen beats are labelled once the template is learned
                lags.append((n - b.index) / FS)
    by_notification = classify_ecg(x, FS, chunk=73)
    assert [(b.index, b.label) for b in by_sample] == [(b.index, b.label) for b in by_notification[:len(by_sample)]]
    assert len(lags) > 80 and max(lags) <= 0.4 + 1 / FS
    assert Counter(b.label for b in by_sample)["V"] >= 20


def test_a_gap_keeps_the_template_and_the_clock():
    x, ref = _mitdb(119)
    first, second = x[: int(60 * FS)], x[int(70 * FS): int(130 * FS)]
    clf = EcgBeatClassifier(FS)
    before = clf.feed(first)
    before += clf.gap(missing_s=10.0)
    after = clf.feed(second[: int(3 * FS)])  # no relearning: the first beats after the gap come at once
    assert len(after) >= 2 and all(b.t_s > 70 for b in after)
    after += clf.feed(second[int(3 * FS):])
    truth = ref[(ref > 71) & (ref < 129)]
    t = np.array([b.t_s for b in after])
    near = np.abs(t[None, :] - truth[:, None]).min(axis=1)
    assert np.mean(near <= 0.05) >= 0.98  # the caller's clock survives the gap
    import wfdb

    ann = wfdb.rdann(str(MITDB / "119"), "atr")
    v_truth = sum(1 for smp, sym in zip(ann.sample, ann.symbol, strict=True) if sym == "V" and 71 < smp / 360 < 129)
    assert v_truth >= 5 and abs(sum(b.label in "VF" for b in after) - v_truth) <= 1
    assert after[0].prematurity is None  # no RR across the gap


def test_usable_rr_overrules_rr_only_flags_only_between_clear_normal_beats():
    def beat(i: int, label: str = "N", prem: float | None = 1.0, corr: float = 0.99) -> EcgBeat:
        return EcgBeat(i, i * 0.8, label, label in ECTOPIC, corr=corr, prematurity=prem)

    beats = [beat(0), beat(1), beat(2, "V", 0.6), beat(3, prem=1.4), beat(4), beat(5, prem=0.8), beat(6), beat(7, "Q")]
    rr_only = [True, False, False, False, True, False, False]
    assert usable_rr(beats) == [True, False, False, True, True, True, False]
    # RR 0 between two clear normal beats: overruled (sinus arrhythmia); RR 4 ends at a premature
    # beat of normal shape (an atrial beat the QRS cannot show): the RR-only flag stands.
    assert usable_rr(beats, rr_only) == [True, False, False, True, False, True, False]


def test_analyze_ecg_takes_no_rr_across_a_break():
    x, _ = _mitdb(100)
    x = x[: int(120 * FS)]
    t = np.arange(x.size) / FS
    t[int(60 * FS):] += 30.0  # half a minute missing
    an = analyze_ecg(x, FS, t)
    assert sum(an.after_gap) == 1
    assert max(an.rr_ms) < 1500  # nothing spans the break
    assert all(60 <= 60000 / r <= 100 for r, ok in zip(an.rr_ms, an.usable, strict=True) if ok)
    assert sum(an.usable) >= 0.97 * len(an.rr_ms)


@needs_data
def test_real_h10_pvcs_are_premature_and_wide_the_normal_beats_are_not():
    import bench_ecg

    ecg, fs, _, _ = bench_ecg.h10_recording()
    beats = classify_ecg(ecg, fs)
    ectopic = [b for b in beats if b.label in "VF"]
    normal = [b for b in beats if b.label == "N"]
    # The wearer's PVCs (near bigeminy): a few hundred in 10 min, every one early, none of the normal beats early.
    assert 180 <= len(ectopic) <= 330 and len(normal) >= 450
    assert all(b.prematurity is not None and b.prematurity < 0.8 for b in ectopic)
    assert sum(b.prematurity is not None and b.prematurity < 0.85 for b in normal) <= 3
    assert np.median([b.corr for b in ectopic]) < 0.85 < np.median([b.corr for b in normal])
