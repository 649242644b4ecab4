from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench.bench_ecg import H10_ECG
from bench.realdata import MITDB_ECG
from sessions.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _series():
    i = np.arange(400)
    rr = (900 + 60 * np.sin(2 * np.pi * i / 5) + 30 * np.sin(2 * np.pi * i / 40)).round().astype(int)
    rr[200:202] = [550, 1250]  # one ectopic beat and its pause
    return [round(x * 1.024) * 1000 / 1024 for x in rr]  # whole ticks of 1/1024 s, as a strap sends


def _run_json(capsys, *args):
    assert main(["analyze", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_kubios_text_json(tmp_path, capsys):
    rr = _series()
    f = tmp_path / "rr.txt"
    f.write_text("# exported RR\n" + "\n".join(str(x) for x in rr) + "\n")
    out = _run_json(capsys, str(f))
    assert out["n_beats"] == len(rr)
    assert out["artifacts"]["indices"] == [200, 201]
    assert out["artifacts"]["by_type"]["ectopic"] == 1 and out["artifacts"]["count"] == 2
    nn = np.array(rr[:200] + rr[202:], float)
    assert out["mean_nn_ms"] == pytest.approx(nn.mean(), rel=1e-3)
    for k in ("sdnn_ms", "rmssd_ms", "pnn50_pct", "lf_ms2", "hf_ms2", "lf_hf"):
        assert out[k] is not None and out[k] >= 0
    raw = _run_json(capsys, str(f), "--no-correct")
    a = np.array(rr, float)
    d = np.diff(a)
    assert raw["artifacts"]["count"] == 0
    assert raw["sdnn_ms"] == pytest.approx(a.std(ddof=1), rel=1e-6)
    assert raw["rmssd_ms"] == pytest.approx(np.sqrt(np.mean(d * d)), rel=1e-6)
    assert raw["pnn50_pct"] == pytest.approx(100 * np.mean(np.abs(d) > 50), rel=1e-6)
    assert raw["rmssd_ms"] > out["rmssd_ms"] + 5  # the ectopic beat inflates uncorrected RMSSD


def test_csv_and_human_output(tmp_path, capsys):
    f = tmp_path / "rr.csv"
    f.write_text("t_s,rr_ms\n" + "\n".join(f"{i},{x}" for i, x in enumerate(_series())) + "\n")
    assert main(["analyze", str(f)]) == 0
    text = capsys.readouterr().out
    assert "RMSSD" in text and "Flagged beats: 2 of 400" in text


def test_bad_file_one_sentence_with_line(tmp_path, capsys):
    f = tmp_path / "bad.txt"
    f.write_text("800\n810\nabc\n")
    assert main(["analyze", str(f)]) == 2
    err = capsys.readouterr().err.strip()
    assert "line 3" in err and len(err.splitlines()) == 1


def test_foreign_sqlite_file_is_a_clear_error(tmp_path, capsys):
    f = tmp_path / "s.sqlite"
    sqlite3.connect(f).execute("create table t(x)").connection.close()
    assert main(["analyze", str(f)]) == 2
    assert "not a readable session record" in capsys.readouterr().err


def test_recorded_session_is_analysed_from_its_beats(tmp_path, capsys, monkeypatch):
    from sessions.store import SessionWriter

    monkeypatch.setenv("BIOFEEDBACK_DATA_DIR", str(tmp_path))
    series = _series()
    writer = SessionWriter(tmp_path / "sessions" / "20260101-220000.biofeedback.sqlite", {"script": "x"})
    t = 0.0
    for ms in series:
        t += ms / 1000
        writer.beat(t, round(ms * 1.024))
    writer.close()
    assert main(["analyze", "20260101-220000", "--json", "--no-correct"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_beats"] == len(series)
    assert out["rmssd_ms"] == pytest.approx(np.sqrt(np.mean(np.diff(series) ** 2)), rel=2e-3)


def test_module_subprocess(tmp_path):
    f = tmp_path / "rr.txt"
    f.write_text("\n".join(str(x) for x in _series()))
    p = subprocess.run([sys.executable, "-m", "sessions", "analyze", str(f), "--json"],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["artifacts"]["indices"] == [200, 201]


# --- exact by construction: --no-correct reproduces the peers on their own inputs ----------------

PEERS = ROOT / "tests" / "data" / "peers"


def test_three_intervals_are_exact(tmp_path, capsys):
    """The issue's example: 800, 810, 790 ms analysed as written (not rounded to 1/1024-s ticks)."""
    f = tmp_path / "rr.txt"
    f.write_text("800\n810\n790\n")
    out = _run_json(capsys, str(f), "--no-correct")
    assert out["mean_nn_ms"] == 800.0
    assert out["sdnn_ms"] == pytest.approx(10.0, rel=1e-12)
    assert out["rmssd_ms"] == pytest.approx(np.sqrt((10 ** 2 + 20 ** 2) / 2), rel=1e-12)
    assert out["resolution_ms"] == 1.0


def test_microsecond_file_keeps_its_resolution(tmp_path, capsys):
    f = tmp_path / "rr.txt"
    f.write_text("800.125\n810.250\n790.001\n")
    out = _run_json(capsys, str(f), "--no-correct")
    assert out["resolution_ms"] == pytest.approx(0.001)
    assert out["mean_nn_ms"] == pytest.approx((800.125 + 810.25 + 790.001) / 3, rel=1e-12)


def test_pnn50_counts_differences_above_50_ms_not_52_ticks(tmp_path, capsys):
    """A 50.5-ms difference counts (> 50 ms); a 50.0-ms one does not. Ticks would have dropped both."""
    f = tmp_path / "rr.txt"
    f.write_text("800\n850.5\n800.5\n850.5\n")
    out = _run_json(capsys, str(f), "--no-correct")
    assert out["pnn50_pct"] == pytest.approx(100 * 1 / 3)


def test_hrvanalysis_reference_values(capsys):
    """hrv-analysis's own test input and values (tests_extract_features_methods.py), to 1e-6.

    Same definitions: SDNN ddof=1, RMSSD over successive differences, SD1 = SD of the rotated
    differences, SampEn m=2 r=0.2 SD. hrv-analysis divides NN50 by the number of NN (pnni_50 = 2.4
    = 24 / 1000); we by the number of differences (Kubios, pyHRV), so NN50 itself is compared.
    Not compared: its SD2 (from SDNN and SDSD with ddof=0) and triangular index (8-ms bins).
    """
    out = _run_json(capsys, str(PEERS / "hrvanalysis_nn.txt"), "--no-correct")
    assert out["mean_nn_ms"] == pytest.approx(718.248, rel=1e-9)
    assert out["sdnn_ms"] == pytest.approx(43.113074968427306, rel=1e-6)
    assert out["rmssd_ms"] == pytest.approx(19.519400785039664, rel=1e-6)
    assert round(out["pnn50_pct"] * out["n_diff"] / 100) == 24
    assert out["sd1_ms"] == pytest.approx(13.80919037557993, rel=1e-6)
    assert out["sampen"] == pytest.approx(1.2046675751816824, rel=1e-6)


def test_pyhrv_reference_values(capsys):
    """pyHRV's SampleNNISeriesLong with its SampleReport.txt values (printed to 3 decimals, so
    held to half a unit of the last digit: SDNN 85.357 used to come out 85.338 after tick rounding)."""
    out = _run_json(capsys, str(PEERS / "pyhrv_long.txt"), "--no-correct")
    assert out["n_nn"] == 4684
    for key, published in (("mean_nn_ms", 768.438), ("sdnn_ms", 85.357), ("rmssd_ms", 60.523),
                           ("pnn50_pct", 28.571)):
        assert abs(out[key] - published) <= 0.0005 + 1e-12, key
    assert round(out["pnn50_pct"] * out["n_diff"] / 100) == 1338  # NN50 (-) ; 1338.000


def test_systole_and_kubios_reference_values(capsys):
    """systole's rr.txt: systole's full-precision values to 1e-6; Kubios 2.2's (in systole's test
    comments, 3-5 digits) to their printed precision. Kubios's pNN50 = 64 / 244: NN50 over the
    number of differences, as ours. Kubios prints RMSSD 45.545 where the definition gives 45.5467
    (4e-5 apart; Kubios's own rounding), so RMSSD is held to systole's value."""
    out = _run_json(capsys, str(PEERS / "systole_rr.txt"), "--no-correct")
    assert out["mean_nn_ms"] == pytest.approx(883.238095, rel=1e-6)
    assert out["sdnn_ms"] == pytest.approx(84.690544, rel=1e-6)
    assert out["rmssd_ms"] == pytest.approx(45.546669, rel=1e-6)
    assert out["pnn50_pct"] == pytest.approx(26.229508, rel=1e-6)
    assert round(out["mean_nn_ms"], 2) == 883.24 and round(out["sdnn_ms"], 3) == 84.691
    assert round(out["pnn50_pct"], 3) == 26.230


@pytest.mark.parametrize("name", ["hrvanalysis_nn.txt", "pyhrv_long.txt", "systole_rr.txt"])
def test_neurokit2_on_the_peer_inputs(name, capsys):
    """neurokit2 (installed) on the same inputs: mean, SDNN, RMSSD to 1e-9; its pNN50 divides by the
    number of RR (one more than the differences)."""
    import warnings

    nk = pytest.importorskip("neurokit2")
    rr = np.loadtxt(PEERS / name)
    out = _run_json(capsys, str(PEERS / name), "--no-correct")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = nk.hrv_time({"RRI": rr, "RRI_Time": np.cumsum(rr) / 1000})
    assert out["mean_nn_ms"] == pytest.approx(ref["HRV_MeanNN"].iloc[0], rel=1e-9)
    assert out["sdnn_ms"] == pytest.approx(ref["HRV_SDNN"].iloc[0], rel=1e-9)
    assert out["rmssd_ms"] == pytest.approx(ref["HRV_RMSSD"].iloc[0], rel=1e-9)
    assert out["pnn50_pct"] * out["n_diff"] / (out["n_diff"] + 1) == pytest.approx(ref["HRV_pNN50"].iloc[0], rel=1e-9)


def test_kubios_grade_metrics_are_in_the_json_and_the_table(tmp_path, capsys):
    f = tmp_path / "rr.txt"
    f.write_text("\n".join(str(x) for x in _series()))
    out = _run_json(capsys, str(f))
    for key in ("sd1_ms", "sd2_ms", "tri_index", "tinn_ms", "dfa_alpha1", "sampen", "min_hr_bpm", "max_hr_bpm",
                "lf_peak_hz", "hf_peak_hz", "lf_nu", "hf_nu", "lf_pct", "hf_pct", "vlf_ms2"):
        assert out[key] is not None, key
    assert out["lf_nu"] + out["hf_nu"] == pytest.approx(100.0)
    assert out["min_hr_bpm"] < out["mean_hr_bpm"] < out["max_hr_bpm"]
    assert 0.15 <= out["hf_peak_hz"] < 0.4 and 0.04 <= out["lf_peak_hz"] < 0.15
    welch = _run_json(capsys, str(f), "--spectrum", "welch")
    assert welch["spectrum"] == "welch" and welch["hf_ms2"] > 0
    assert main(["analyze", str(f)]) == 0
    text = capsys.readouterr().out
    assert "SD1" in text and "DFA α1" in text and "TINN" in text


def test_segments_sdann_and_sdnn_index(tmp_path, capsys):
    """20 minutes made of four 5-minute blocks at 700/800/900/1000 ms: SDANN is their SD."""
    rng = np.random.default_rng(4)
    rr = []
    for level in (700, 800, 900, 1000):
        n = int(300_000 / level)
        rr += list(level + rng.normal(0, 5, n).round(1))
    f = tmp_path / "rr.txt"
    f.write_text("\n".join(f"{x:.1f}" for x in rr))
    out = _run_json(capsys, str(f), "--no-correct", "--segments")
    assert out["n_segments"] == 4 and len(out["segments"]) == 4
    assert out["sdann_ms"] == pytest.approx(np.std([700, 800, 900, 1000], ddof=1), rel=0.01)
    assert out["sdnn_index_ms"] == pytest.approx(5.0, rel=0.25)


def test_progress_is_reported_while_labelling_a_long_file():
    from biofeedback.whole_recording import PROGRESS_EVERY, analyze_recording

    rr = [800.0 + 40 * np.sin(i / 4) for i in range(2 * PROGRESS_EVERY + 5)]
    seen: list[tuple[int, int]] = []
    analyze_recording(rr, progress=lambda done, total: seen.append((done, total)))
    assert [d for d, _ in seen] == [0, PROGRESS_EVERY, 2 * PROGRESS_EVERY, len(rr)]
    assert all(total == len(rr) for _, total in seen)


# --- from an ECG ----------------------------------------------------------------------------------

def _record(number: int) -> Path:
    pytest.importorskip("wfdb")
    if not (MITDB_ECG / f"{number}.dat").exists():
        pytest.skip("the MIT-BIH ECG is not here")
    return MITDB_ECG / str(number)


def test_wfdb_record_beats_classes_and_hrv(tmp_path, capsys):
    import wfdb

    src = _record(119)  # ventricular bigeminy; its first 5 minutes written as a WFDB record of their own
    rec = wfdb.rdrecord(str(src), sampto=360 * 300)
    wfdb.wrsamp("119cut", fs=rec.fs, units=rec.units, sig_name=rec.sig_name, p_signal=rec.p_signal,
                fmt=["212", "212"], write_dir=str(tmp_path))
    out = _run_json(capsys, str(tmp_path / "119cut"))  # without extension; NNN.hea works the same
    ann = wfdb.rdann(str(src), "atr", sampto=360 * 299)
    v = sum(s == "V" for s in ann.symbol)
    n = sum(s in "NLRAaJSVFejE" for s in ann.symbol)
    assert v >= 70 and out["source"] == "ecg" and "lead 0 (MLII)" in out["ecg"]
    assert abs(len(out["beats"]) - n) <= 2
    assert set(out["beats"][0]) == {"t_s", "label"}
    assert abs(out["classes"]["V"] + out["classes"]["F"] - v) <= 2
    # every V beat's RR and the pause after it are out of the HRV
    assert out["artifacts"]["by_type"]["ectopic"] >= v - 2 and out["artifacts"]["by_type"]["after_ectopic"] >= v - 2
    assert out["n_nn"] <= len(out["beats"]) - 2 * (v - 2)
    assert 60 <= out["mean_hr_bpm"] <= 80 and out["rmssd_ms"] < 60  # NN of a bigeminy: no 400-ms swings
    raw = _run_json(capsys, str(tmp_path / "119cut.hea"), "--no-correct")
    assert raw["rmssd_ms"] > 4 * out["rmssd_ms"]


def test_wfdb_lead_out_of_range_is_one_sentence(capsys):
    base = _record(100)
    assert main(["analyze", str(base) + ".hea", "--lead", "3"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--lead" in err and len(err.splitlines()) == 1


def test_ecg_csv_in_microvolts_with_nanosecond_time(tmp_path, capsys):
    wfdb = pytest.importorskip("wfdb")
    from scipy import signal

    rec = wfdb.rdrecord(str(_record(100)), channels=[0], sampto=360 * 120)
    x = signal.resample_poly(rec.p_signal[:, 0], 13, 36) * 1000.0
    t0 = 1_700_000_000_000_000_000
    f = tmp_path / "ecg.csv"
    f.write_text("time_ns,ECG (uV)\n" + "\n".join(f"{t0 + round(i * 1e9 / 130)},{v:.1f}" for i, v in enumerate(x)))
    out = _run_json(capsys, str(f))
    assert out["fs_hz"] == pytest.approx(130.0, rel=1e-3)
    assert 140 <= len(out["beats"]) <= 150  # 100: about 75 beats a minute
    assert out["classes"]["V"] == 0 and out["classes"]["N"] >= len(out["beats"]) - 2
    ann = wfdb.rdann(str(_record(100)), "atr", sampto=360 * 119)
    ref = np.array([smp for smp, sym in zip(ann.sample, ann.symbol, strict=True) if sym in "NA"]) / 360
    t = np.array([b["t_s"] for b in out["beats"]])  # seconds from the first sample, not ns
    assert np.mean(np.abs(t[None, :] - ref[:, None]).min(axis=1) <= 0.05) >= 0.99


def test_ecg_csv_without_units_is_one_sentence(tmp_path, capsys):
    f = tmp_path / "ecg.csv"
    f.write_text("time_s,ecg\n0,1\n0.01,2\n")
    assert main(["analyze", str(f)]) == 2
    err = capsys.readouterr().err.strip()
    assert "ecg_uV or ecg_mV" in err and len(err.splitlines()) == 1


def test_real_h10_ecg_csv_gz(capsys):
    if not H10_ECG.exists():
        pytest.skip("the H10 ECG is not here")
    out = _run_json(capsys, str(H10_ECG))
    assert 780 <= len(out["beats"]) <= 820  # the strap itself reported 798 RR in these 10 minutes
    assert 180 <= out["classes"]["V"] + out["classes"]["F"] <= 330  # its frequent PVCs
    assert 70 <= out["mean_hr_bpm"] <= 90


@pytest.mark.parametrize("damage", ["cut", "overwritten"])
def test_a_damaged_session_file_is_said_to_be_damaged(tmp_path, capsys, damage):
    from sessions.store import SessionWriter

    path = tmp_path / "20260101-220000.biofeedback.sqlite"
    writer = SessionWriter(path, {"script": "x"})
    for i, ms in enumerate(_series()):
        writer.beat(i * 0.9, round(ms * 1.024))
    writer.close()
    data = path.read_bytes()
    path.write_bytes(data[:10] if damage == "cut" else b"\0" * 512 + data[512:])
    assert main(["analyze", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "damaged session file" in err and "sessions show 20260101-220000" in err
    assert len(err.splitlines()) == 1 and "not a number" not in err and "UTF-8" not in err


def test_a_recorded_sessions_ecg_with_ecg_flag(tmp_path, capsys):
    wfdb = pytest.importorskip("wfdb")
    from scipy import signal

    from sessions.store import SessionWriter

    rec = wfdb.rdrecord(str(_record(119)), channels=[0], sampto=360 * 180)
    x = np.round(signal.resample_poly(rec.p_signal[:, 0], 13, 36) * 1000).astype(int)  # µV, as the H10 sends
    path = tmp_path / "20260101-220000.biofeedback.sqlite"
    writer = SessionWriter(path, {"script": "x"})
    writer.beat(100.5, 820)
    for k in range(0, x.size, 73):  # one frame per PMD notification, stamped with its last sample's session time
        writer.signal_frame(100.0 + (k + len(x[k:k + 73]) - 1) / 130, "ecg", 130.0, x[k:k + 73])
    writer.close()
    out = _run_json(capsys, str(path), "--ecg")
    ann = wfdb.rdann(str(_record(119)), "atr", sampto=360 * 179)
    v = sum(s == "V" for s in ann.symbol)
    assert out["source"] == "ecg" and abs(out["classes"]["V"] + out["classes"]["F"] - v) <= 2
    assert 100.0 <= out["beats"][0]["t_s"] < 102 and out["beats"][-1]["t_s"] <= 280  # on the session clock
    assert main(["analyze", str(path)]) == 0  # without --ecg: the strap's beats, as before
    capsys.readouterr()

    bare = tmp_path / "20260101-230000.biofeedback.sqlite"
    writer = SessionWriter(bare, {"script": "x"})
    writer.beat(1.0, 820)
    writer.close()
    assert main(["analyze", str(bare), "--ecg"]) == 2
    err = capsys.readouterr().err.strip()
    assert "recorded no ECG" in err and len(err.splitlines()) == 1


def test_wfdb_header_without_its_data_is_one_sentence(tmp_path, capsys):
    (tmp_path / "100.hea").write_bytes((_record(100).with_suffix(".hea")).read_bytes())
    assert main(["analyze", str(tmp_path / "100")]) == 2
    err = capsys.readouterr().err.strip()
    assert "100.dat is missing" in err and len(err.splitlines()) == 1
