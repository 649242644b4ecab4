"""Artefact/ectopic labelling: behaviour on constructed series and the targets on MIT-BIH."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
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


def _sinus(n, base=1000.0, seed=0):
    """Sinus rhythm in ticks: breathing every 4.5 beats (4 %) and 1 % beat-to-beat jitter."""
    rng = np.random.default_rng(seed)
    i = np.arange(n)
    return base * (1 + 0.04 * np.sin(2 * np.pi * i / 4.5) + rng.normal(0, 0.01, n))


def _with_pattern(period, prematurity, cycles, seed=0):
    """100 sinus beats, ``cycles`` of (period - 2) normal + short + compensatory pause, 100 sinus beats."""
    sinus = _sinus(200 + cycles, seed=seed)
    rr, ect = list(sinus[:100]), [False] * 100
    for c in range(cycles):
        base = sinus[100 + c]
        rr += [base] * (period - 2) + [base * (1 - prematurity), base * (1 + prematurity)]
        ect += [False] * (period - 2) + [True, False]
    rr += list(sinus[100 + cycles:])
    ect += [False] * (len(rr) - len(ect))
    return [int(round(x)) for x in rr], ect


@pytest.mark.parametrize("period,prematurity", [(2, 0.06), (2, 0.04), (3, 0.06)])
def test_small_prematurity_bigeminy_and_trigeminy_are_flagged_as_a_pattern(period, prematurity):
    rr, ect = _with_pattern(period, prematurity, 50)
    flagged = [not b.is_nn for b in classify_series(rr)]
    hits = [flagged[i] or flagged[i + 1] for i, e in enumerate(ect) if e]
    assert all(hits[4:])  # the first periods of the run establish the pattern
    outside = [flagged[i] for i in range(len(rr)) if not any(ect[max(0, i - 2):i + 2])]
    assert not any(outside)
    # The short beats never enter the reference: it stays at the sinus rate.
    ref = classify_series(rr)[100 + 30 * period].ref_ticks
    assert abs(ref / 1000 - 1) < 0.08


def test_sinus_arrhythmia_and_jitter_alone_are_not_flagged():
    for seed in range(5):
        assert all(b.is_nn for b in classify_series([int(round(x)) for x in _sinus(600, seed=seed)]))


def test_smooth_slowdown_after_a_fast_stretch_is_not_flagged():
    """systole's sample (issue 13): 748 -> 1117 ms in six beats after a stretch at 650 ms was flagged
    "long" beat after beat while the reference stayed at the fast rate."""
    ms = [650 + (i % 3) * 4 for i in range(40)] + [748, 833, 925, 972, 1052, 1094, 1117, 1130, 1135]
    ms += [1128, 1140, 1150, 1160, 1150, 1140] + [1150] * 20
    beats = classify_series([round(m * 1.024) for m in ms])
    assert all(b.is_nn for b in beats)
    assert beats[-1].ref_ticks > 1.1 * 1024


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


def test_mitdb_beats_the_fixed_rule_on_every_group():
    """Our one setting against the fixed 20 % rule on each record group the bench prints.

    Tuning set 100-124 (and each half), and the held-out AF records 201/203/219/221 outside their
    AF stretches (skipped without ``mitdb-ecg``). The RR-only ceiling on 100-124 is 96.8 %
    (record 124's junctional runs at sinus rate), so sensitivity is judged against the rule.
    """
    ba = _mitdb()
    recs = ba.all_records()
    res = ba.evaluate({"ours": ba.ours, "fixed20": ba.fixed20}, recs=recs)
    for group, sel in ba.GROUPS.items():
        rs = [r for r in recs if sel(r)]
        if not rs:
            continue
        ours, rule = ba.totals(res["ours"], rs), ba.totals(res["fixed20"], rs)
        assert ours.sens >= rule.sens and ours.spec >= rule.spec, group
        assert ours.spec >= 0.99 or group.startswith("held-out"), group
    tune = ba.totals(res["ours"], [r for r in recs if r < 200])
    assert tune.sens >= 0.95 and tune.spec >= 0.995
    assert float(np.median(tune.rmssd_err)) < 0.15  # RMSSD in ectopy-rich 5-min windows
    held = [r for r in recs if r > 200]
    if held:
        ours, rule = ba.totals(res["ours"], held), ba.totals(res["fixed20"], held)
        assert ours.sens >= rule.sens + 0.03


def test_real_record_bounds_and_live_equals_offline():
    """Record 119 (ventricular bigeminy/trigeminy) and 106 (frequent PVCs): bounds on sens/spec, and
    beat-by-beat live labelling gives exactly the offline labels on real beat times."""
    ba = _mitdb()
    for rec, min_sens, min_spec in ((119, 0.99, 0.995), (106, 0.99, 0.99)):
        r = ba.load_record(rec)
        ticks = np.round(r.samples * 1024 / ba.FS).astype(np.int64)
        rr = np.diff(ticks).tolist()
        t = (ticks[1:] / 1024).tolist()
        offline = classify_series(rr, t)
        clf = ArtefactClassifier()
        live = []
        for ti, ri in zip(t, rr, strict=True):
            live += clf.push(ti, ri)
        live += clf.flush()
        assert [(b.index, b.label, b.ref_ticks) for b in live] == [(b.index, b.label, b.ref_ticks) for b in offline]
        c = ba.score(np.array([not b.is_nn for b in offline]), r.symbols, r.in_af, r.blocked)
        assert c.sens >= min_sens and c.spec >= min_spec, rec


def test_look_ahead_is_at_most_two_beats_even_at_the_start():
    from biofeedback.artefacts import ArtefactClassifier

    clf = ArtefactClassifier()
    labelled = []
    for i, rr in enumerate([820, 830, 825, 815, 835, 828]):
        labelled += clf.push(i * 0.8, rr)
        # Start-up waits for the third beat; from then on each beat is labelled when the next arrives.
        assert [b.index for b in labelled] == (list(range(i)) if i >= 2 else [])
