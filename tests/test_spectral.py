"""Fast Lomb-Scargle against the direct sum and neurokit2; Welch (Kubios's route) on known signals."""

from __future__ import annotations

import csv
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from biofeedback.spectral import (
    HF_BAND,
    LF_BAND,
    band_power,
    frequency_metrics,
    lomb_direct,
    lomb_fast,
    spectrum,
    welch,
)

MIT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mitdb"


def _rsa_series(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    i = np.arange(n)
    rr = 850 + 40 * np.sin(2 * np.pi * 0.1 * i * 0.85) + 25 * np.sin(2 * np.pi * 0.25 * i * 0.85)
    rr = rr + rng.normal(0, 10, n)
    return np.cumsum(rr) / 1000, rr


def test_fast_lomb_equals_the_direct_sum():
    """Extirpolation (6 points, 8 grid points per period): max error 1e-5 of the peak (largest near
    0.5 Hz), band powers 1e-4."""
    t, rr = _rsa_series(3000)
    df = 1 / (5 * (t[-1] - t[0]))
    fast = lomb_fast(t, rr, df)
    ref = lomb_direct(t, rr, fast.freqs)
    assert np.max(np.abs(fast.psd - ref)) < 1e-5 * ref.max()
    for band in (LF_BAND, HF_BAND):
        assert band_power(fast.freqs, fast.psd, band) == pytest.approx(band_power(fast.freqs, ref, band), rel=1e-4)


def test_fast_lomb_scales_n_log_n_in_cpu_work():
    """Ten times the beats costs about ten times the CPU (not a hundred, as the dense sum did)."""
    def cpu(n):
        t, rr = _rsa_series(n)
        spectrum(t, rr)  # warm
        a = time.process_time()
        for _ in range(3):
            spectrum(t, rr)
        return time.process_time() - a

    small, large = cpu(10_000), cpu(100_000)
    assert large < 25 * small


def test_parseval_and_peaks():
    t, rr = _rsa_series(2000)
    sp = spectrum(t, rr)
    assert sp is not None and sp.method == "lomb"
    assert np.trapezoid(sp.psd, sp.freqs) == pytest.approx(np.var(rr), rel=0.1)
    m = frequency_metrics(t, rr)
    assert m["lf_peak_hz"] == pytest.approx(0.1, abs=0.003)
    assert m["hf_peak_hz"] == pytest.approx(0.25, abs=0.003)
    assert m["lf_ms2"] == pytest.approx(40 ** 2 / 2, rel=0.1) and m["hf_ms2"] == pytest.approx(25 ** 2 / 2, rel=0.15)
    assert m["lf_nu"] + m["hf_nu"] == pytest.approx(100)
    assert m["vlf_pct"] + m["lf_pct"] + m["hf_pct"] == pytest.approx(100)


def test_welch_is_kubios_route_and_finds_the_same_bands():
    t, rr = _rsa_series(2000)
    sp = welch(t, rr)
    assert sp.method == "welch" and sp.freqs[1] - sp.freqs[0] == pytest.approx(1 / 300)
    m = frequency_metrics(t, rr, "welch")
    assert m["lf_ms2"] == pytest.approx(40 ** 2 / 2, rel=0.15) and m["hf_ms2"] == pytest.approx(25 ** 2 / 2, rel=0.2)
    with pytest.raises(ValueError):
        spectrum(t, rr, "burg")


def test_too_short_gives_nan():
    m = frequency_metrics([1.0, 2.0, 3.0], [800, 810, 790])
    assert all(np.isnan(v) for v in m.values())


def test_lomb_matches_neurokit2_lomb_on_mitdb():
    """neurokit2 ``psd_method="lomb"`` (astropy, normalization "psd" = raw periodogram): ours x fs_eff / 2,
    within 5 % (its frequency grid differs slightly). Record 100, first 1000 beats."""
    nk = pytest.importorskip("neurokit2")
    pytest.importorskip("astropy")
    if not MIT.is_dir():
        pytest.skip("MIT-BIH labels not found")
    rows = list(csv.DictReader(open(MIT / "100.csv")))
    s = np.array([int(r["sample"]) for r in rows])[:1001]
    ticks = np.round(s * 1000 / 360).astype(np.int64)
    t = ticks[1:] / 1000
    rr = np.diff(ticks).astype(float)
    m = frequency_metrics(t, rr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = nk.hrv_frequency(ticks, sampling_rate=1000, psd_method="lomb", interpolation_rate=None, normalize=False)
    fs_eff = (len(t) - 1) / (t[-1] - t[0])
    assert m["lf_ms2"] * fs_eff / 2 == pytest.approx(ref["HRV_LF"].iloc[0], rel=0.05)
    assert m["hf_ms2"] * fs_eff / 2 == pytest.approx(ref["HRV_HF"].iloc[0], rel=0.05)


def test_frequency_step_is_capped_for_very_long_recordings_without_changing_band_powers():
    """Beyond 29 h the step stops shrinking (memory and time stop growing); the bands stay within 0.1 %."""
    from biofeedback import spectral

    t, rr = _rsa_series(140_000)  # about 33 hours
    sp = spectrum(t, rr)
    assert sp is not None and len(sp.freqs) == spectral.MAX_FREQS
    full = lomb_fast(t, rr, 1 / (5 * (t[-1] - t[0])))
    assert len(full.freqs) > spectral.MAX_FREQS
    for band in (LF_BAND, HF_BAND):
        assert band_power(sp.freqs, sp.psd, band) == pytest.approx(band_power(full.freqs, full.psd, band), rel=1e-3)
