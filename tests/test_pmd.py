"""Polar Measurement Data decoding against Polar's SDK vectors, a real H10 exchange and 2 h of real ECG.

The real recordings are read from ``../shared/data`` (test use only; never copied into the repo).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.realdata import PMD_CAPTURE, read_pmd_capture
from devices import pmd

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "polar-h10"
VECTORS = DATA / "pmd_test_vectors.json"
STREAM = PMD_CAPTURE
read_stream = read_pmd_capture  # the other PMD tests read the capture through these names
needs_data = pytest.mark.skipif(not VECTORS.exists(), reason="the shared Polar H10 data is not here")


def _vectors() -> dict[str, dict]:
    return {v["name"]: v for v in json.loads(VECTORS.read_text())}


def _hex(text: str) -> bytes:
    return bytes.fromhex(text.split("(")[0])


@needs_data
def test_sdk_ecg_vector_gives_its_microvolts_and_timestamp():
    v = _vectors()["sdk_ecg_type0"]
    f = pmd.decode_data_frame(_hex(v["frame_hex"]))
    assert f.measurement == pmd.MeasurementType.ECG and f.frame_type == 0 and not f.compressed
    assert [s[0] for s in f.samples] == v["expected_samples_uV"]
    assert f.timestamp_ns == v["expected_timestamp_ns"]
    assert f.unit == "uV"


@needs_data
def test_sdk_acc_vector_gives_36_xyz_samples_in_mg():
    v = _vectors()["sdk_acc_type1_raw16"]
    f = pmd.decode_data_frame(_hex(v["frame_hex"]))
    assert f.measurement == pmd.MeasurementType.ACC and f.frame_type == 1
    assert [list(s) for s in f.samples] == v["expected_samples_mG"]
    assert f.timestamp_ns == v["expected_timestamp_ns"] and f.unit == "mG"


@needs_data
def test_real_h10_frame_decodes_and_reencodes_byte_exact():
    v = _vectors()["h10_real_ecg_frame_0"]
    raw = _hex(v["frame_hex"])
    f = pmd.decode_data_frame(raw)
    assert len(raw) == v["frame_len"] and len(f.samples) == v["n_samples"]
    assert [s[0] for s in f.samples] == v["samples_uV"] and f.timestamp_ns == v["timestamp_ns"]
    assert pmd.encode_raw_frame(f) == raw


@needs_data
def test_real_h10_control_point_exchange():
    v = _vectors()["h10_control_point_ecg"]
    assert pmd.encode_request(pmd.ControlOp.GET_SETTINGS, pmd.MeasurementType.ECG) == _hex(v["get_settings_request"])
    settings = pmd.decode_control_response(_hex(v["get_settings_response"]))
    assert settings.ok and settings.op == pmd.ControlOp.GET_SETTINGS and settings.measurement == pmd.MeasurementType.ECG
    assert settings.settings == {pmd.SettingType.SAMPLE_RATE: (130,), pmd.SettingType.RESOLUTION: (14,)}
    chosen = {k: vals[0] for k, vals in settings.settings.items()}
    assert pmd.encode_request(pmd.ControlOp.START, pmd.MeasurementType.ECG, chosen) == _hex(v["start_request"])
    start = pmd.decode_control_response(_hex(v["start_response"]))
    assert start.ok and start.op == pmd.ControlOp.START
    mtu = pmd.decode_control_response(_hex(v["error_without_mtu"]))
    assert not mtu.ok and mtu.status == pmd.ControlStatus.INVALID_MTU
    bad = pmd.decode_control_response(_hex(v["start_without_settings_response"]))
    assert bad.status == pmd.ControlStatus.INVALID_PARAMETER
    assert pmd.decode(_hex(v["start_response"])).to_json()["status"] == "success"


@needs_data
def test_features_read_says_ecg_and_acc():
    v = _vectors()["h10_control_point_ecg"]
    assert v["features_read_response_first_bytes"].startswith("0f 05")
    features = pmd.decode(bytes.fromhex("0f05"))
    assert isinstance(features, pmd.Features)
    assert features.offers(pmd.MeasurementType.ECG) and features.offers(pmd.MeasurementType.ACC)
    assert not features.offers(pmd.MeasurementType.PPG)
    assert features.to_json()["measurements"] == ["ECG", "ACC"]


def test_delta_frame_worked_by_hand():
    # ACC, compressed frame type 0x80; reference (10, -20, 1000) as int16; one block of 3-bit deltas
    # for 2 samples: (+1, -1, 0) then (-2, +3, -4) packed LSB first = 001 111 000 110 011 100 -> 0x023c39.
    frame = bytes.fromhex("02" + "0100000000000000" + "80" + "0a00ecffe803" + "0302" + "393c02")
    f = pmd.decode_data_frame(frame)
    assert f.compressed and f.timestamp_ns == 1
    assert f.samples == ((10, -20, 1000), (11, -21, 1000), (9, -18, 996))


def test_delta_frames_round_trip_with_several_blocks_and_widths():
    samples = [(0, 0, 1000)]
    for i in range(1, 70):  # slow drift, a jump (a bump of the strap), then small noise
        step = 3000 if i == 20 else (-(i % 3) + 1)
        samples.append((samples[-1][0] + step, samples[-1][1] - (i % 2), 1000 + (i * 7) % 5))
    raw = pmd.encode_delta_frame(pmd.MeasurementType.ACC, 123, 0, samples, 16)
    f = pmd.decode_data_frame(raw)
    assert list(f.samples) == samples and f.frame_type == 0x80


@pytest.mark.parametrize(("payload", "words"), [
    ("0001", "10-byte header"),
    ("00" + "00" * 8 + "00" + "0102", "whole number of 3-byte samples"),
    ("02" + "00" * 8 + "07" + "00" * 6, "frame type 0x07"),
    ("03" + "00" * 8 + "00", "only ECG and ACC"),
    ("02" + "00" * 8 + "80" + "0a00ecffe803" + "0305" + "39", "ends early"),
    ("02" + "00" * 8 + "80" + "0a00", "reference sample"),
    ("f001", "at least op, type and status"),
    ("f001000000" + "0101", "bytes stop"),
    ("f001000000" + "0901", "not one PMD defines"),
    ("0f", "at least one byte of bit mask"),
])
def test_malformed_frames_say_what_is_wrong(payload, words):
    with pytest.raises(pmd.MalformedPmd) as err:
        pmd.decode(bytes.fromhex(payload))
    assert words in err.value.args[0]


@needs_data
def test_two_hours_of_real_ecg_decode_byte_exact_with_no_gap():
    frames = read_stream()
    assert len(frames) == 12_355
    timeline = pmd.SampleTimeline(pmd.H10_ECG_RATE_HZ)
    n = 0
    first = last = 0
    for raw in frames:
        f = pmd.decode_data_frame(raw)
        assert pmd.encode_raw_frame(f) == raw
        times = timeline.times_ns(f)
        first = first or times[0]
        last = times[-1]
        n += len(times)
        assert all(-20_000 <= s[0] <= 20_000 for s in f.samples)  # µV: an ECG, not misaligned bytes
    assert timeline.gaps == []
    assert n == 12_355 * 73
    hours = (last - first) / 1e9 / 3600
    assert 1.9 < hours < 1.95  # 1 h 56 min, as the README says
    assert n / ((last - first) / 1e9) == pytest.approx(130, abs=0.1)


def test_timeline_marks_a_lost_notification():
    def frame(ts: int) -> pmd.DataFrame:
        return pmd.DataFrame(0, ts, 0, ((0,),) * 73)
    period = 1e9 / 130
    line = pmd.SampleTimeline(130)
    line.times_ns(frame(10**12))
    line.times_ns(frame(round(10**12 + 73 * period)))
    assert line.gaps == []
    line.times_ns(frame(round(10**12 + 3 * 73 * period)))  # one frame lost
    assert len(line.gaps) == 1 and line.gaps[0][0] == 2
    assert line.gaps[0][1] == pytest.approx(73 / 130, abs=1e-3)
