"""Artefact/ectopic labelling: behaviour on constructed series and the targets on MIT-BIH."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from biofeedback.artefacts import ArtefactClassifier, BeatLabel, classify_series, corrected_series

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


def _labels(rr):
    return [b.label for b in classify_series(rr)]


def test_clean_rhythm_has_no_flags():
    rr = [1000 + (i % 7) * 8 for i in range(200)]  # ~1 s with small variation, ticks
    assert all(lab is BeatLabel.NORMAL for lab in _labels(rr))


def test_single_premature_beat_and_pause():
    rr = [1000] * 30 + [620, 1380] + [1000] * 30
    labels = _labels(rr)
    assert labels[30] is BeatLabel.ECTOPIC
    assert labels[31] is BeatLabel.LONG
    assert labels.count(BeatLabel.NORMAL) == len(rr) - 2


def test_bigeminy_is_not_absorbed():
    rr = [1000] * 20 + [650, 1350] * 60 + [1000] * 20
    labels = _labels(rr)
    ect = [labels[20 + 2 * i] for i in range(60)]
    assert sum(lab is BeatLabel.ECTOPIC for lab in ect) >= 58


def test_missed_and_extra():
    rr = [1000] * 20 + [2010] + [1000] * 20 + [480, 520] + [1000] * 20
    labels = _labels(rr)
    assert labels[20] is BeatLabel.MISSED
    assert labels[41] is BeatLabel.EXTRA and labels[42] is BeatLabel.EXTRA


def test_gap_restarts_chain_and_is_labelled():
    clf = ArtefactClassifier()
    out = []
    t = 0.0
    for i in range(20):
        t += 1.0
        out += clf.push(t, 1024, after_gap=(i == 10))
    out += clf.flush()
    assert [b.index for b in out] == list(range(20))
    assert out[10].label is BeatLabel.GAP and out[10].is_nn
    assert sum(b.label is BeatLabel.GAP for b in out) == 1


def test_live_delay_is_one_beat_and_offline_matches_live():
    rr = [1000] * 15 + [600, 1400] + [1000, 1010, 990] * 10 + [1700] + [1000] * 10
    clf = ArtefactClassifier()
    live = []
    acc = 0
    for i, r in enumerate(rr):
        acc += r
        got = clf.push(acc / 1024, r)
        if i >= 8:  # after start-up each push labels exactly the previous beat
            assert [b.index for b in got] == [i - 1]
        live += got
    live += clf.flush()
    assert [(b.index, b.label) for b in live] == [(b.index, b.label) for b in classify_series(rr)]


def test_corrected_series_preserves_time():
    rr = [1000] * 20 + [600, 1400] + [1000] * 20 + [2000] + [1000] * 5
    beats = classify_series(rr)
    t, crr = corrected_series(beats)
    assert abs(sum(crr) - sum(rr)) < 1e-6
    assert max(crr) < 1100 and min(crr) > 900
    assert len(crr) == len(rr) + 1  # the missed beat was split in two


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(200, 3000), min_size=1, max_size=120))
def test_every_beat_gets_exactly_one_label(rr):
    beats = classify_series(rr)
    assert [b.index for b in beats] == list(range(len(rr)))
    assert [b.rr_ticks for b in beats] == rr  # raw RR kept


def _mitdb():
    mit = DATA / "mitdb"
    if not mit.is_dir():
        pytest.skip(f"MIT-BIH beat labels not found at {mit} (expected ../shared/data beside the repo)")
    sys.path.insert(0, str(ROOT))
    from bench import bench_artefacts

    return bench_artefacts


def test_mitdb_targets():
    """Held-out (odd records) and whole-set figures; the setting was chosen on even records.

    The issue's 97 % sensitivity is not reachable from RR timing on this set: record 124 has
    runs of junctional and idioventricular rhythm at the sinus rate (about 50 ectopic beats whose
    RR change by < 5 %). What we assert: specificity >= 99.5 % on held-out and overall, held-out
    sensitivity >= 98 %, and overall sensitivity and specificity both above the fixed 20 % rule.
    """
    ba = _mitdb()
    res = ba.evaluate({"ours": ba.ours, "fixed20": ba.fixed20})
    recs = ba.records()
    odd = [r for r in recs if r % 2]
    held = ba.totals(res["ours"], odd)
    allc = ba.totals(res["ours"], recs)
    base = ba.totals(res["fixed20"], recs)
    assert held.spec >= 0.995 and held.sens >= 0.98
    assert allc.spec >= 0.995 and allc.sens >= 0.95
    assert allc.sens >= base.sens and allc.spec > base.spec


def test_look_ahead_is_at_most_two_beats_even_at_the_start():
    from biofeedback.artefacts import ArtefactClassifier

    clf = ArtefactClassifier()
    labelled = []
    for i, rr in enumerate([820, 830, 825, 815, 835, 828]):
        labelled += clf.push(i * 0.8, rr)
        # Start-up waits for the third beat; from then on each beat is labelled when the next arrives.
        assert [b.index for b in labelled] == (list(range(i)) if i >= 2 else [])
