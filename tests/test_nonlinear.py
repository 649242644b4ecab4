"""Poincaré, DFA, sample entropy, triangular index, TINN, HR range, 5-min segments against neurokit2.

Inputs: MIT-BIH record 100 (first 2000 RR, beat labels from PhysioNet; see ../shared/data/README.md)
and the peer inputs in tests/data/peers. Tolerances: 1e-9 where the definition is the same
(Poincaré, DFA with neurokit2's 50 % overlapping windows, SampEn, triangular index, SDANN/SDNNI);
TINN differs by definition (see biofeedback/geometric.py) and is checked against a brute-force
least-squares fit instead.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np
import pytest

from biofeedback import geometric, long_term, nonlinear
from biofeedback.nonlinear import poincare

nk = pytest.importorskip("neurokit2")
MIT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mitdb"
PEERS = Path(__file__).resolve().parent / "data" / "peers"


@pytest.fixture(scope="module")
def rr100() -> np.ndarray:
    if not MIT.is_dir():
        pytest.skip("MIT-BIH labels not found")
    rows = list(csv.DictReader(open(MIT / "100.csv")))
    s = np.array([int(r["sample"]) for r in rows])
    return (np.diff(s) / 360 * 1000)[:2000]


def _peaks(rr: np.ndarray) -> np.ndarray:
    return np.concatenate(([0.0], np.cumsum(rr)))


def test_poincare_and_sampen_match_neurokit2(rr100):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = nk.hrv_nonlinear(_peaks(rr100), sampling_rate=1000)
    sd1, sd2 = poincare(rr100)
    assert sd1 == pytest.approx(ref["HRV_SD1"].iloc[0], rel=1e-9)
    assert sd2 == pytest.approx(ref["HRV_SD2"].iloc[0], rel=1e-9)
    sampen, exact = nonlinear.sample_entropy(rr100)
    assert exact and sampen == pytest.approx(ref["HRV_SampEn"].iloc[0], rel=1e-9)


@pytest.mark.parametrize("scales", [nonlinear.DFA1_SCALES, nonlinear.DFA2_SCALES])
def test_dfa_matches_neurokit2_fractal_dfa(rr100, scales):
    ref = nk.fractal_dfa(rr100, scale=np.array(scales))[0]
    assert nonlinear.dfa_alpha(rr100, scales) == pytest.approx(ref, rel=1e-9)


def test_dfa_of_white_noise_and_random_walk():
    rng = np.random.default_rng(2)
    noise = 800 + rng.normal(0, 30, 20_000)
    assert nonlinear.dfa_alpha(noise, nonlinear.DFA2_SCALES) == pytest.approx(0.5, abs=0.06)
    walk = 800 + np.cumsum(rng.normal(0, 3, 20_000))
    assert nonlinear.dfa_alpha(walk, nonlinear.DFA2_SCALES) == pytest.approx(1.5, abs=0.1)


def test_sampen_of_long_series_is_a_bounded_block_estimate():
    """Above 5 000 beats: pooled over 20 blocks of 1 000; close to the exact value on a stationary series."""
    rng = np.random.default_rng(3)
    x = 800 + rng.normal(0, 30, nonlinear.SAMPEN_EXACT_MAX)
    exact, is_exact = nonlinear.sample_entropy(x)
    long_x = np.tile(x, 5)
    est, est_exact = nonlinear.sample_entropy(long_x)
    assert is_exact and not est_exact
    assert est == pytest.approx(exact, rel=0.05)


def test_poincare_in_a_recording_skips_pairs_across_removed_beats():
    """An ectopic beat and its pause are left out; no Poincaré pair spans the hole they leave."""
    from biofeedback.whole_recording import analyze_recording

    rr = np.array([800.0 + 10 * (i % 2) + 3 * (i % 7) for i in range(120)])
    rr[60:62] = [520.0, 1100.0]
    res = analyze_recording(rr)
    flagged = {b.index for b in res.flagged}
    assert flagged == {60, 61}
    pairs = [(rr[k - 1], rr[k]) for k in range(1, len(rr)) if k not in flagged and k - 1 not in flagged]
    sd1, sd2 = nonlinear.poincare_pairs(*map(np.array, zip(*pairs)))
    assert res.metrics["sd1_ms"] == pytest.approx(sd1, rel=1e-12)
    assert res.metrics["sd2_ms"] == pytest.approx(sd2, rel=1e-12)
    naive, _ = poincare(np.delete(rr, [60, 61]))  # would pair 59 with 62
    assert naive != pytest.approx(sd1, rel=1e-6)


def test_triangular_index_matches_neurokit2(rr100):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = nk.hrv_time(_peaks(rr100), sampling_rate=1000)
    assert geometric.triangular_index(rr100) == pytest.approx(ref["HRV_HTI"].iloc[0], rel=1e-12)


def _tinn_brute_force(rr: np.ndarray) -> float:
    _, counts = geometric.histogram(rr)
    d = counts.astype(float)
    x = int(np.argmax(d))
    k = np.arange(len(d))
    best, width = np.inf, np.nan
    for n in range(x):
        for m in range(x + 1, len(d) + 1):
            q = np.where(k <= x, d[x] * (k - n) / (x - n), d[x] * (m - k) / (m - x))
            q = np.clip(q, 0, None)
            err = float(np.sum((d - q) ** 2))
            if err < best:
                best, width = err, (m - n) * geometric.BIN_MS
    return width


def test_tinn_is_the_least_squares_triangle():
    """Task Force definition: the error over the whole histogram; checked by brute force over all (N, M).
    neurokit2 sums the error only between N and M, so its TINN is wider (about 1.4x on Gaussian RR)."""
    rng = np.random.default_rng(5)
    rr = rng.normal(800, 50, 3000)
    assert geometric.tinn(rr) == pytest.approx(_tinn_brute_force(rr))
    assert 3.5 * 50 < geometric.tinn(rr) < 6 * 50


def test_hr_range_is_a_five_beat_average():
    rr = np.full(50, 1000.0)
    rr[20] = 500.0  # one short interval: 120 bpm alone, 72 bpm in the 5-beat average
    lo, hi = geometric.hr_range(rr)
    assert lo == pytest.approx(60.0) and hi == pytest.approx((4 * 60 + 120) / 5)


def test_sdann_and_sdnn_index_match_neurokit2():
    rr = np.loadtxt(PEERS / "pyhrv_long.txt")
    seg = long_term.segments(np.cumsum(rr) / 1000, rr, np.ones(len(rr), bool))
    sdann, sdnni = long_term.sdann_sdnni(seg)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = nk.hrv_time(_peaks(rr), sampling_rate=1000)
    assert sdann == pytest.approx(ref["HRV_SDANN5"].iloc[0], rel=1e-9)
    assert sdnni == pytest.approx(ref["HRV_SDNNI5"].iloc[0], rel=1e-9)
