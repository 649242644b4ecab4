"""Incremental metrics against neurokit2 on clean MIT-BIH windows, exactness, spectra."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest

from biofeedback.artefacts import classify_series
from biofeedback.hrv import (
    HrvConfig,
    HrvEngine,
    coherence_from_spectrum,
    coherence_spectrum,
    lf_hf,
    lomb_scargle,
    time_domain,
)

nk = pytest.importorskip("neurokit2")
MIT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mitdb"


def _clean_windows():
    """R-peak ticks of 300-RR windows: annotated all normal, and nothing flagged by us."""
    if not MIT.is_dir():
        pytest.skip(f"MIT-BIH beat labels not found at {MIT}")
    import csv

    out = []
    for rec in (100, 103, 113, 117, 122):
        rows = list(csv.DictReader(open(MIT / f"{rec}.csv")))
        s = np.array([int(r["sample"]) for r in rows])
        ok = np.array([r["symbol"] in "NLR" for r in rows])
        for start in range(0, len(s) - 301, 301):
            w = np.round(s[start:start + 301] * 1024 / 360).astype(np.int64)
            if ok[start:start + 301].all() and all(b.is_nn for b in classify_series(np.diff(w).tolist())):
                out.append(w)
                break
    assert len(out) >= 4
    return out


def _feed(ticks, window_s=1e9):
    eng = HrvEngine(HrvConfig(window_s=window_s))
    rr = np.diff(ticks)
    for r, t in zip(rr, ticks[1:] / 1024):
        eng.add_beat(float(t), int(r))
    eng.flush()
    return eng


def test_time_domain_matches_neurokit_to_1e9():
    for ticks in _clean_windows():
        eng = _feed(ticks)
        m = eng.metrics
        assert m.n_nn == len(ticks) - 1, "a clean window must have no flagged beat"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = nk.hrv_time(ticks, sampling_rate=1024)
        rel = lambda a, b: abs(a - b) / abs(b)
        assert rel(m.mean_nn_ms, ref["HRV_MeanNN"].iloc[0]) < 1e-9
        assert rel(m.sdnn_ms, ref["HRV_SDNN"].iloc[0]) < 1e-9
        assert rel(m.rmssd_ms, ref["HRV_RMSSD"].iloc[0]) < 1e-9
        # neurokit2 divides NN50 by the number of RR, we by the number of differences.
        nk_pnn50 = ref["HRV_pNN50"].iloc[0]
        assert abs(m.pnn50_pct * m.n_diff / (m.n_diff + 1) - nk_pnn50) <= 1e-9 * max(1.0, nk_pnn50)


def test_frequency_domain_matches_neurokit_lomb_within_5pct():
    pytest.importorskip("astropy")
    for ticks in _clean_windows():
        t = ticks[1:] / 1024
        rr = np.diff(ticks) * 1000 / 1024
        lf, hf = lf_hf(t, rr)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = nk.hrv_frequency(ticks, sampling_rate=1024, psd_method="lomb",
                                   interpolation_rate=None, normalize=False)
        # neurokit2/astropy "psd" normalisation is the raw periodogram: ours * fs_eff / 2.
        fs_eff = (len(t) - 1) / (t[-1] - t[0])
        assert lf * fs_eff / 2 == pytest.approx(ref["HRV_LF"].iloc[0], rel=0.05)
        assert hf * fs_eff / 2 == pytest.approx(ref["HRV_HF"].iloc[0], rel=0.05)


def test_lomb_scargle_parseval_and_sine():
    rng = np.random.default_rng(1)
    t = np.cumsum(rng.uniform(0.7, 1.1, 600))
    y = 40 * np.sin(2 * np.pi * 0.1 * t) + rng.normal(0, 5, len(t))
    fs = (len(t) - 1) / (t[-1] - t[0])
    f = np.arange(0.0005, fs / 2, 0.0005)
    p = lomb_scargle(t, y, f)
    assert np.trapezoid(p, f) == pytest.approx(np.var(y), rel=0.1)
    assert abs(f[np.argmax(p)] - 0.1) < 0.002
    lf, hf = lf_hf(t, y + 800)
    assert lf == pytest.approx(40 ** 2 / 2, rel=0.15) and hf < lf / 10


def test_incremental_equals_recompute_over_window_and_no_drift():
    """Integer running sums: after 5 h the window values equal a recompute to 1e-12."""
    rng = np.random.default_rng(7)
    i = np.arange(20000)  # about 5 hours of beats, smooth (nothing to flag) with integer noise
    rr = (950 + 120 * np.sin(2 * np.pi * i / 900) + 40 * np.sin(2 * np.pi * i / 4.5)).astype(np.int64)
    rr += rng.integers(-15, 16, len(rr))
    eng = HrvEngine(HrvConfig(window_s=60.0))
    t = np.cumsum(rr) / 1024
    for i, (ti, r) in enumerate(zip(t, rr)):
        eng.add_beat(float(ti), int(r))
        if i in (500, 10000, 19990):
            m = eng.metrics  # metrics after beat i-1 (one beat of labelling delay)
            end = t[i - 1]
            sel = (t > end - 60.0) & (t <= end)
            sel[i:] = False
            ref = time_domain(rr[sel] * 1000 / 1024)
            assert m.n_nn == sel.sum()
            for k in ("mean_nn_ms", "sdnn_ms", "rmssd_ms", "pnn50_pct"):
                assert getattr(m, k) == pytest.approx(ref[k], rel=1e-12, abs=1e-12)


def test_flagged_beat_leaves_rmssd_unbroken_by_ectopic():
    rr = [1000 + 10 * (i % 2) for i in range(120)]
    rr[60:62] = [600, 1410]
    eng = HrvEngine()
    acc = 0
    for r in rr:
        acc += r
        eng.add_beat(acc / 1024, r)
    eng.flush()
    assert eng.n_flagged == 2
    assert eng.metrics.rmssd_ms == pytest.approx(10 * 1000 / 1024, rel=1e-12)


def test_coherence_high_at_resonance_low_for_noise():
    t = np.cumsum(np.full(200, 0.9))
    rr_res = 900 + 80 * np.sin(2 * np.pi * 0.1 * t)
    f, s = coherence_spectrum(t, rr_res, t[-1])
    coh, dom, br = coherence_from_spectrum(f, s)
    assert coh > 5 and abs(dom - 0.1) < 0.01 and abs(60 * br - 6.0) < 0.6
    rng = np.random.default_rng(3)
    f, s = coherence_spectrum(t, 900 + rng.normal(0, 30, len(t)), t[-1])
    assert coherence_from_spectrum(f, s)[0] < 1


def test_engine_spectral_every_5s():
    eng = HrvEngine()
    t = 0.0
    results = []
    for _ in range(400):
        rr = int(1024 * (0.9 + 0.08 * math.sin(2 * math.pi * 0.1 * t)))
        t += rr / 1024
        eng.add_beat(t, rr)
        s = eng.spectral_due(t)
        if s is not None:
            results.append(s)
    gaps = np.diff([s.t for s in results])
    assert len(results) > 40 and gaps.max() < 6.0 and gaps.min() >= 4.0
    last = results[-1]
    assert abs(last.breathing_rate_bpm - 6.0) < 0.6 and last.coherence > 3 and last.lf_ms2 > last.hf_ms2


def test_recent_dominant_frequency_follows_a_breathing_change_the_64s_spectrum_lags():
    from biofeedback.hrv import coherence_from_spectrum, coherence_spectrum, recent_dominant_hz

    t, rr, now = [], [], 0.0
    while now < 200:
        f = 0.2 if now < 160 else 0.1  # breathing slows from 12 to 6 per minute at 160 s
        r = 0.9 + 0.06 * np.sin(2 * np.pi * f * now)
        now += r
        t.append(now)
        rr.append(r * 1000)
    n150 = sum(x < 150 for x in t)
    assert recent_dominant_hz(t[:n150], rr[:n150], 150.0) == pytest.approx(0.2, abs=0.005)
    recent = recent_dominant_hz(t, rr, t[-1])
    _, lagging, _ = coherence_from_spectrum(*coherence_spectrum(t, rr, t[-1]))
    assert recent == pytest.approx(0.1, abs=0.01)
    assert abs(lagging - 0.1) > abs(recent - 0.1)


def test_spectral_update_and_dominant_frequency_share_one_corrected_series(monkeypatch):
    """The runner calls both every 5 s: the corrected series is built once per new beat, not per call."""
    import biofeedback.hrv as hrv

    calls = []
    real = hrv.corrected_series
    monkeypatch.setattr(hrv, "corrected_series", lambda beats: calls.append(1) or real(beats))
    eng = HrvEngine()
    t, updates = 0.0, 0
    for _ in range(400):
        rr = int(1024 * (0.9 + 0.08 * math.sin(2 * math.pi * 0.1 * t)))
        t += rr / 1024
        eng.add_beat(t, rr)
        before = len(calls)
        if eng.spectral_due(t) is not None:
            assert eng.recent_dominant_hz() is not None
            assert eng.recent_dominant_hz(16.0) is not None
            assert len(calls) - before == 1  # built once for the update, reused by both other calls
            updates += 1
    assert updates > 40


def test_live_lf_hf_equals_the_direct_lomb_sum():
    """The live LF/HF use the fast Lomb-Scargle; on a 120-s window it equals the direct sum to 1e-4."""
    from biofeedback.spectral import band_power, lomb_direct

    rng = np.random.default_rng(2)
    t = np.cumsum(rng.uniform(0.7, 1.0, 150))
    rr = 850 + 40 * np.sin(2 * np.pi * 0.1 * t) + 20 * np.sin(2 * np.pi * 0.25 * t) + rng.normal(0, 5, len(t))
    lf, hf = lf_hf(t, rr)
    df = 1 / (5 * (t[-1] - t[0]))
    f = np.arange(1, int((0.4 + df) / df) + 1) * df
    p = lomb_direct(t, rr, f)
    assert lf == pytest.approx(band_power(f, p, (0.04, 0.15)), rel=1e-4)
    assert hf == pytest.approx(band_power(f, p, (0.15, 0.4)), rel=1e-4)
