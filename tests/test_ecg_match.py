"""Strap beats paired with ECG beats, and the ECG's verdict in the artefact handling."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from biofeedback.artefacts import ArtefactClassifier, BeatLabel, classify_series
from biofeedback.ecg_match import BeatMatcher, SampleClock

MITDB = Path(__file__).resolve().parents[2] / "shared" / "data" / "mitdb"
ECTOPIC_SYMBOLS = set("AaJSVEF")


def _record(name: str) -> tuple[list[int], list[bool]]:
    with (MITDB / f"{name}.csv").open() as fh:
        rows = [(int(r["sample"]), r["symbol"]) for r in csv.DictReader(fh)]
    rows = [r for r in rows if r[1] in set("NLRBAaJSVEFejnQ/f")]
    rr = [round((b[0] - a[0]) / 360 * 1024) for a, b in zip(rows, rows[1:])]
    return rr, [b[1] in ECTOPIC_SYMBOLS for b in rows[1:]]


def _label(rr: list[int], flags: list[bool] | None) -> list[BeatLabel]:
    clf = ArtefactClassifier()
    out = []
    for i, r in enumerate(rr):
        out += clf.push(i, r, False, bool(flags and flags[i]))
    out += clf.flush()
    return [b.label for b in out]


@pytest.mark.parametrize("record", ["106", "116", "119"])
def test_the_ecg_verdict_finds_the_ectopic_beats_rr_cannot_see(record):
    """MIT-BIH: with the cardiologists' labels standing in for the ECG's classes, every ectopic beat is
    flagged, also the ones at sinus timing that the RR rules miss; without them nothing changes."""
    rr, truth = _record(record)
    plain = _label(rr, None)
    assert plain == [b.label for b in classify_series(rr, list(range(len(rr))))]
    missed_by_rr = sum(1 for lab, ect in zip(plain, truth) if ect and lab is not BeatLabel.ECTOPIC)
    with_ecg = _label(rr, truth)
    assert all(lab is BeatLabel.ECTOPIC for lab, ect in zip(with_ecg, truth) if ect)
    assert sum(truth) > 0 and (missed_by_rr > 0 or record == "119")
    # Normal beats keep their label except the pause after a newly flagged beat.
    changed = [i for i, (a, b) in enumerate(zip(plain, with_ecg)) if a != b and not truth[i]]
    assert len(changed) <= missed_by_rr


def _matcher_with(strap: list[float], ecg: list[tuple[float, str]], covered: float, gap_at: float = 0.0) -> BeatMatcher:
    m = BeatMatcher()
    m.ecg_gap(gap_at)
    for i, t in enumerate(strap):
        m.add_strap(i, t, 1000)
    for t, label in ecg:
        m.add_ecg(t, label)
    m.ecg_covered(covered)
    return m


def test_beats_pair_within_60_ms_and_the_rest_is_counted():
    strap = [2.0, 3.0, 4.0, 5.0, 6.0]
    ecg = [(2.01, "N"), (2.95, "V"), (3.5, "N"), (4.07, "N"), (6.0, "N")]  # 3.5 only in the ECG, 4.07 too far
    m = _matcher_with(strap, ecg, covered=7.0)
    out = m.release(now=7.0)
    assert [b.beat.index for b in out] == [0, 1, 2, 3, 4]
    assert [b.ecg_label for b in out] == ["N", "V", None, None, "N"]
    assert [b.ectopic for b in out] == [False, True, False, False, False]
    assert m.strap_only == 2 and m.matched == 3
    assert [o.t for o in m.take_orphans()] == [3.5, 4.07] and m.ecg_only == 2


def test_a_strap_beat_waits_for_the_ecg_but_not_for_ever():
    m = _matcher_with([2.0, 3.0], [(2.0, "S")], covered=2.5)
    assert [b.ecg_label for b in m.release(now=3.1)] == ["S"]  # 3.0 waits: the ECG is analysed to 2.5
    assert m.release(now=4.9) == []
    late = m.release(now=5.0)  # two seconds on: released without a verdict, not held against the ECG
    assert [(b.beat.index, b.ecg_label) for b in late] == [(1, None)] and m.strap_only == 0


def test_no_blame_next_to_an_ecg_gap():
    m = _matcher_with([10.2, 12.0], [], covered=13.0, gap_at=10.0)
    assert [b.ecg_label for b in m.release(now=13.0)] == [None, None]
    assert m.strap_only == 1  # 10.2 is within a second of the ECG's restart


def test_sample_times_follow_the_chunks_not_the_nominal_rate():
    clock = SampleClock()
    clock.add(73, 0.5608, 130.0)
    clock.add(73, 1.1216, 130.0)  # 130.16 Hz in truth: the chunk times say so
    assert clock.time_of(72) == pytest.approx(0.5608)
    assert clock.time_of(73) == pytest.approx(1.1216 - 72 / 130)
    assert clock.time_of(145) == pytest.approx(1.1216)
