"""Strap beats paired with ECG beats, and the ECG's verdict in the artefact handling."""

from __future__ import annotations

import csv

import pytest

from biofeedback.artefacts import ArtefactClassifier, BeatLabel, classify_series
from biofeedback.ecg_match import BeatMatcher, SampleClock
from tests.conftest import MITDB

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
        rr = t - strap[i - 1] if i else 1.0
        m.add_strap(i, t, round(rr * 1024))
    for t, label in ecg:
        m.add_ecg(t, label)
    m.ecg_covered(covered)
    return m


def _heart(n: int, start: float = 2.0) -> list[float]:
    """R-peak times of a heart at about 70/min with some beat-to-beat variation."""
    t, out = start, []
    for i in range(n):
        out.append(round(t, 4))
        t += 0.86 + 0.05 * ((i * 7) % 5 - 2) / 2
    return out


def test_beats_pair_after_the_strap_lag_is_found_and_the_rest_is_counted():
    """The strap's beat times lag the R peaks (here 180 ms): the offset is found by vote, then every
    strap beat pairs with its own ECG beat; an ECG beat the strap missed and a strap beat the ECG did
    not show are counted."""
    r = _heart(14)
    strap = [t + 0.18 for i, t in enumerate(r) if i != 9]  # the strap missed beat 9
    strap.insert(6, r[5] + 0.18 + 0.4)  # and saw a beat that is not in the ECG
    ecg = [(t, "V" if i == 3 else "N") for i, t in enumerate(r)]
    m = _matcher_with(strap, ecg, covered=r[-1] + 1.0)
    out = m.release(now=r[-1] + 1.0)
    assert len(out) == len(strap)
    assert m.offset == pytest.approx(0.18, abs=0.01)
    labels = [b.ecg_label for b in out]
    assert labels[3] == "V" and out[3].ectopic and sum(b.ectopic for b in out) == 1
    assert labels[6] is None and m.strap_only == 1  # the extra strap beat
    assert [o.t for o in m.take_orphans()] == [r[9]] and m.ecg_only == 1
    assert m.matched == len(strap) - 1


def test_a_nudged_strap_beat_is_still_paired_through_its_rr():
    """The beat timing sometimes moves one beat's time by up to 200 ms (the RR values are exact):
    the beat after a paired one is expected one RR after it in the ECG, so it still pairs."""
    r = _heart(12)
    strap = [t + 0.1 for t in r]
    m = BeatMatcher()
    m.ecg_gap(0.0)
    for i, t in enumerate(strap):
        rr = round((r[i] - r[i - 1]) * 1024) if i else 1024
        m.add_strap(i, t - (0.2 if i == 7 else 0.0), rr)
    for t in r:
        m.add_ecg(t, "N")
    m.ecg_covered(r[-1] + 1.0)
    out = m.release(now=r[-1] + 1.0)
    assert all(b.ecg_label == "N" for b in out) and m.strap_only == 0 and m.ecg_only == 0


def test_a_jump_in_the_strap_lag_is_voted_again():
    r = _heart(24)
    strap = [t + (0.25 if i < 12 else 0.06) for i, t in enumerate(r)]
    m = BeatMatcher()
    m.ecg_gap(0.0)
    for i, t in enumerate(strap):
        m.add_strap(i, t, round((r[i] - r[i - 1]) * 1024) if i else 1024, after_gap=i == 12)
    for t in r:
        m.add_ecg(t, "N")
    m.ecg_covered(r[-1] + 1.0)
    out = m.release(now=r[-1] + 1.0)
    paired = sum(b.ecg_label == "N" for b in out)
    assert paired >= len(r) - 4  # at most the misses before a new vote
    assert m.offset == pytest.approx(0.06, abs=0.01)


def test_a_strap_beat_waits_for_the_ecg_but_not_for_ever():
    r = _heart(8)
    ecg = [(t, "S" if i == 0 else "N") for i, t in enumerate(r[:6])]  # the ECG analysed up to r[5] so far
    m = _matcher_with([t + 0.1 for t in r], ecg, covered=r[5] + 0.01)
    first = m.release(now=r[5] + 0.1)
    assert [b.ecg_label for b in first] == ["S", "N", "N", "N", "N"]  # r[5] waits: the ECG may not be done with it
    assert m.release(now=r[5] + 0.1 + 1.9) == []
    late = m.release(now=r[-1] + 0.1 + 2.0)  # two seconds on: released with what the ECG has, or without a verdict
    assert [b.ecg_label for b in late] == ["N", None, None] and m.strap_only == 0


def test_no_blame_next_to_an_ecg_gap():
    r = _heart(8)
    strap = [t + 0.1 for t in r]
    m = _matcher_with(strap, [(t, "N") for t in r[:6]], covered=r[-1] + 1.0, gap_at=r[6] + 0.5)
    out = m.release(now=r[-1] + 1.0)
    assert [b.ecg_label for b in out] == ["N"] * 6 + [None, None]
    assert m.strap_only == 0  # within a second of the ECG's restart, and before it


def test_sample_times_follow_the_chunks_not_the_nominal_rate():
    clock = SampleClock()
    clock.add(73, 0.5608, 130.0)
    clock.add(73, 1.1216, 130.0)  # 130.16 Hz in truth: the chunk times say so
    assert clock.time_of(72) == pytest.approx(0.5608)
    assert clock.time_of(73) == pytest.approx(1.1216 - 72 / 130)
    assert clock.time_of(145) == pytest.approx(1.1216)


def _label_with(rr: list[int], ectopic: list[bool], clear: list[bool]) -> list[BeatLabel]:
    clf = ArtefactClassifier()
    out = []
    for i, r in enumerate(rr):
        out += clf.push(i, r, False, ectopic[i], clear[i])
    out += clf.flush()
    return [b.label for b in out]


@pytest.mark.parametrize("record", ["106", "116", "119"])
def test_two_clearly_normal_beats_overrule_an_rr_flag_between_them(record):
    """MIT-BIH, with the cardiologists' labels standing in for the ECG: an RR rule's flag between two
    beats the ECG calls clearly normal is overruled (sinus arrhythmia), every ectopic beat stays flagged,
    and a flag next to an ectopic beat (the compensatory pause) stays."""
    rr, ectopic = _record(record)
    with open(MITDB / f"{record}.csv") as fh:
        symbols = [r["symbol"] for r in csv.DictReader(fh) if r["symbol"] in set("NLRBAaJSVEFejnQ/f")][1:]
    clear = [s == "N" for s in symbols]
    before = _label(rr, ectopic)
    after = _label_with(rr, ectopic, clear)
    assert all(lab is BeatLabel.ECTOPIC for lab, e in zip(after, ectopic) if e)
    between_normals = [i for i in range(1, len(rr)) if clear[i] and clear[i - 1]]
    assert all(after[i] is BeatLabel.NORMAL for i in between_normals)
    flagged_before = sum(before[i] is not BeatLabel.NORMAL for i in between_normals)
    changed_elsewhere = [i for i in range(len(rr)) if before[i] != after[i] and i not in set(between_normals)]
    assert flagged_before > 0 or record == "119"
    assert len(changed_elsewhere) <= flagged_before  # only what follows from the overruled beats


def test_a_beat_is_clear_only_when_the_strap_saw_the_same_two_beats():
    r = _heart(8)
    m = BeatMatcher()
    m.ecg_gap(0.0)
    for i, t in enumerate(r):
        rr = round((r[i] - r[i - 1]) * 1024) if i else 1024
        if i == 5:
            continue  # the strap missed beat 5: beat 6's RR spans two beats
        if i == 6:
            rr = round((r[6] - r[4]) * 1024)
        m.add_strap(i, t + 0.1, rr)
    for t in r:
        m.add_ecg(t, "N", clear=True)
    m.ecg_covered(r[-1] + 1.0)
    out = {b.beat.index: b for b in m.release(now=r[-1] + 1.0)}
    assert out[6].ecg_label == "N" and not out[6].ecg_clear  # the RR does not match the ECG's: no overruling
    assert out[7].ecg_clear and out[3].ecg_clear
