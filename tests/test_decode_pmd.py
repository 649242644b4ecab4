"""``biofeedback decode --pmd`` as a person debugging an H10 runs it."""

from __future__ import annotations

import json
import subprocess
import sys

from sessions.cli import main
from tests.test_pmd import STREAM, needs_data, read_stream

SETTINGS = "f0010000000001820001010e00"  # a real H10's answer to get settings for ECG
SDK_ECG = "00 00 94 35 77 00 00 00 00 00 02 80 ff 02 80 00"  # Polar SDK test: 2 ECG samples
DELTA_ACC = "02 0100000000000000 80 0a00ecffe803 0302 393c02"  # worked out by hand in test_pmd


def test_pmd_json_gives_physical_units_and_raw_counts(capsys):
    assert main(["decode", "--pmd", "--json", SDK_ECG, DELTA_ACC, SETTINGS, "f001000a"]) == 0
    ecg, acc, settings, mtu = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert ecg["measurement"] == "ECG" and ecg["timestamp_ns"] == 2_000_000_000
    assert ecg["raw"] == [-32766, 32770] and ecg["raw_unit"] == "uV"
    assert ecg["samples"] == [-32.766, 32.77] and ecg["unit"] == "mV"
    assert acc["compressed"] and acc["raw"] == [[10, -20, 1000], [11, -21, 1000], [9, -18, 996]]
    assert acc["samples"][2] == [0.009, -0.018, 0.996] and acc["unit"] == "g"
    assert settings["op"] == "get_settings" and settings["status"] == "success"
    assert settings["settings"] == {"sample_rate": [130], "resolution": [14]}
    assert mtu["status"] == "invalid_mtu" and mtu["status_code"] == 10


def test_pmd_text_says_what_the_frame_is(capsys):
    assert main(["decode", "--pmd", SDK_ECG, SETTINGS]) == 0
    ecg, settings = capsys.readouterr().out.splitlines()
    assert "ECG frame type 0x00 (raw)" in ecg and "2000-01-01 00:00:02" in ecg
    assert "2 samples in mV (raw uV): -32.766 (-32766), 32.770 (32770)" in ecg
    assert settings.endswith("get settings ECG: success (0), offers sample rate 130; resolution 14")


@needs_data
def test_a_real_notification_from_the_recording_through_the_installed_cli():
    raw = read_stream(STREAM)[5000]
    proc = subprocess.run([sys.executable, "-m", "sessions", "decode", "--pmd", "--json", raw.hex()],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    frame = json.loads(proc.stdout)
    assert frame["n_samples"] == 73 and frame["measurement"] == "ECG"
    assert str(2019) in subprocess.run([sys.executable, "-m", "sessions", "decode", "--pmd", raw.hex()],
                                       capture_output=True, text=True, timeout=60).stdout


def test_malformed_pmd_is_one_sentence_and_a_non_zero_exit():
    proc = subprocess.run([sys.executable, "-m", "sessions", "decode", "--pmd", SDK_ECG, "0001", "00" * 10 + "0102", "zz"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "-32.766" in proc.stdout
    errors = proc.stderr.strip().splitlines()
    assert len(errors) == 3
    assert errors[0] == ("biofeedback decode: 0001: a PMD data frame has a 10-byte header "
                         "(type, 8-byte timestamp, frame type); this one has 2 bytes.")
    assert "not a whole number of 3-byte samples" in errors[1]
    assert "'zz' is not hex bytes" in errors[2]


def test_features_read_names_what_the_strap_offers(capsys):
    assert main(["decode", "--pmd", "0f05"]) == 0
    assert capsys.readouterr().out.strip() == "0f05: features read: the strap offers ECG, ACC"


def test_without_pmd_the_heart_rate_decoder_is_unchanged(capsys):
    assert main(["decode", "105819030f03"]) == 0
    assert "HR 88 bpm" in capsys.readouterr().out
