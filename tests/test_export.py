"""Every export read back with the tool it is for, and compared with the record."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pandas as pd
import pytest

from devices.simulator import Glitches, Person
from sessions.cli import main
from sessions.review.exports import EDF_NO_DATA, export_edf, join_edf_annotations
from sessions.review.record import load_record
from tests.sessionkit import run_session


@pytest.fixture(scope="module")
def sessions_dir(tmp_path_factory):
    """One simulated session and one replay of the real Polar H10 file, recorded by the CLI."""
    base = tmp_path_factory.mktemp("exp")
    mp = pytest.MonkeyPatch()
    mp.setenv("BIOFEEDBACK_DATA_DIR", str(base / "data"))
    yield base, mp
    mp.undo()


@pytest.fixture(scope="module")
def recorded(sessions_dir, polar_h10_file):
    base, _ = sessions_dir
    folder = base / "data" / "sessions"
    made = []
    for argv in (["run", "--simulate", "--speed", "1000", "--duration", "300", "--lang", "en", "--seed", "2"],
                 ["run", "--replay", str(polar_h10_file), "--speed", "1000", "--lang", "nl"]):
        before = set(folder.glob("*.sqlite"))
        assert main(argv) == 0
        (new,) = set(folder.glob("*.sqlite")) - before  # by what each run made: two ids of one second sort oddly
        made.append(new)
    return made


def test_kubios_text_reads_back_in_our_analyzer(recorded, tmp_path, capsys):
    for path in recorded:
        rec = load_record(path)
        out = tmp_path / f"{rec.id}.txt"
        assert main(["export", str(path), "--format", "kubios", "-o", str(out)]) == 0
        assert out.stat().st_mode & 0o777 == 0o600
        capsys.readouterr()
        assert main(["analyze", str(out), "--json"]) == 0
        got = json.loads(capsys.readouterr().out)
        assert got["n_beats"] == len(rec.beat_t)
        unlabelled = int((rec.labels == "").sum())  # the last beat or two: the session ended before their look-ahead
        assert 0 <= got["n_nn"] - rec.nn_mask.sum() <= unlabelled <= 2, "the analyzer flags the beats the live loop did"
        nn = rec.rr_ms[rec.nn_mask]
        assert got["mean_nn_ms"] == pytest.approx(nn.mean(), rel=1e-3)


def test_csv_beats_metrics_events_read_back_with_pandas(recorded, tmp_path):
    rec = load_record(recorded[1])  # the Polar replay: many ectopic beats
    assert main(["export", str(recorded[1]), "--format", "csv", "-o", str(tmp_path / "s.csv")]) == 0
    beats = pd.read_csv(tmp_path / "s_beats.csv", keep_default_na=False)
    assert beats["rr_ticks_1024"].tolist() == rec.rr_ticks.tolist()
    assert beats["label"].tolist() == rec.labels.tolist()
    assert (beats["nn_ms"] != "").sum() == rec.nn_mask.sum() < len(rec.beat_t)
    corrected = pd.read_csv(tmp_path / "s_corrected.csv")
    # the corrected series preserves time: its intervals add up to the raw ones
    assert corrected["rr_ms"].sum() == pytest.approx(rec.rr_ms.sum(), rel=0.01)
    metrics = pd.read_csv(tmp_path / "s_metrics.csv")
    assert len(metrics) == len(rec.metric_t)
    assert np.allclose(metrics["hr_bpm"].to_numpy(), rec.metrics["hr_bpm"], equal_nan=True, rtol=1e-5)
    events = pd.read_csv(tmp_path / "s_events.csv")
    assert events["kind"].tolist() == [e[1] for e in rec.events]


def test_edf_plus_reads_back_in_pyedflib_with_events_as_annotations(recorded, tmp_path):
    pyedflib = pytest.importorskip("pyedflib")
    rec = load_record(recorded[0])
    out = tmp_path / "s.edf"
    assert main(["export", str(recorded[0]), "--format", "edf", "-o", str(out)]) == 0
    with pyedflib.EdfReader(str(out)) as edf:
        labels = edf.getSignalLabels()
        assert labels[:2] == ["HR", "RR"] and "Calm" in labels
        assert edf.getSampleFrequency(0) == 4.0
        hr = edf.readSignal(0)
        onsets, _durations, texts = edf.readAnnotations()
        assert edf.file_duration >= rec.duration_s
    # HR at a beat time matches that (normal) beat's RR, within the 16-bit resolution
    i = next(j for j in range(len(rec.beat_t) // 2, len(rec.beat_t) - 3)
             if all(rec.labels[j + d] == "normal" for d in range(-1, 3)))
    t_mid = (rec.beat_t[i] + rec.beat_t[i + 1]) / 2
    k = int(round(t_mid * 4))
    expected_rr = np.interp(k / 4, rec.beat_t[i - 1:i + 3], rec.rr_ms[i - 1:i + 3])
    assert hr[k] == pytest.approx(60000 / expected_rr, abs=0.05)
    steps = [t for t, kind, _d in rec.events if kind == "step"]
    step_texts = [(o, x) for o, x in zip(onsets, texts) if x.startswith("step ")]
    assert [round(o, 1) for o, _ in step_texts] == [round(t, 1) for t in steps]
    assert any(x.startswith("prompt: ") for x in texts)


def test_bids_physio_reads_back_with_pandas(recorded, tmp_path):
    rec = load_record(recorded[1])
    out = tmp_path / "bids"
    assert main(["export", str(recorded[1]), "--format", "bids", "-o", str(out), "--subject", "p7"]) == 0
    tsv, = out.glob("sub-p7/ses-*/beh/sub-p7_ses-*_task-safeplace_physio.tsv.gz")
    side = json.loads(tsv.with_name(tsv.name.replace(".tsv.gz", ".json")).read_text())
    data = pd.read_csv(tsv, sep="\t", header=None, names=side["Columns"], na_values="n/a")
    assert side["SamplingFrequency"] == 4.0 and side["StartTime"] == 0.0
    assert len(data) == int(rec.duration_s * 4) + 1
    hr = data["heart_rate"].to_numpy()
    assert np.nanmedian(hr) == pytest.approx(np.median(60000 / rec.rr_ms[rec.nn_mask]), rel=0.05)
    assert side["Manufacturer"].startswith("replay") and "strap" not in side["Manufacturer"]
    events = pd.read_csv(next(out.glob("sub-p7/ses-*/beh/*_events.tsv")), sep="\t")
    assert list(events.columns) == ["onset", "duration", "trial_type", "value"]
    assert (events["trial_type"] == "step").sum() == len(rec.events_of("step"))


def test_export_mistakes_are_one_sentence(recorded, tmp_path, capsys):
    assert main(["export", str(recorded[0]), "--format", "kubios", "-o", str(tmp_path / "no" / "x.txt")]) == 2
    assert "no such folder" in capsys.readouterr().err


@pytest.fixture(scope="module")
def with_hole(tmp_path_factory):
    """A simulated session whose strap link drops for 40 s from 150 s."""
    person = Person(glitches=Glitches(link_drops=((150.0, 40.0),)))
    ran = asyncio.run(run_session(tmp_path_factory.mktemp("hole"), "safe-place", "en", person, seed=3, duration_s=300))
    return load_record(ran.path)


def test_edf_gaps_are_gaps_not_readings(with_hole, tmp_path):
    """A hole is the reserved digital minimum (never a real reading) and a 'no signal' annotation says so."""
    pyedflib = pytest.importorskip("pyedflib")
    out = tmp_path / "hole.edf"
    export_edf(with_hole, out)
    with pyedflib.EdfReader(str(out)) as edf:
        hr_d, hr = edf.readSignal(0, digital=True), edf.readSignal(0)
        rr_d = edf.readSignal(1, digital=True)
        rmssd_d = edf.readSignal(edf.getSignalLabels().index("RMSSD 60s"), digital=True)
        onsets, durations, texts = edf.readAnnotations()
        assert edf.getDigitalMinimum(0) == EDF_NO_DATA and edf.getPhysicalMinimum(0) < 20
    inside = slice(155 * 4, 185 * 4)
    assert (hr_d[inside] == EDF_NO_DATA).all() and (rr_d[inside] == EDF_NO_DATA).all()
    real = hr_d != EDF_NO_DATA
    assert real.sum() > 200 * 4 and hr[real].min() > 40, "no reading outside the holes sits on the floor"
    assert rmssd_d[0] == EDF_NO_DATA and (rmssd_d[1:] != EDF_NO_DATA).sum() > 40, "RMSSD before its first value: missing"
    holes = [(o, d) for o, d, x in zip(onsets, durations, texts) if x == "no signal"]
    assert any(o <= 152 and o + d >= 189 for o, d in holes)


def test_edf_annotations_whole_and_labelled_as_simulated(with_hole, tmp_path):
    pyedflib = pytest.importorskip("pyedflib")
    out = tmp_path / "s.edf"
    export_edf(with_hole, out)
    with pyedflib.EdfReader(str(out)) as edf:
        onsets, _d, texts = edf.readAnnotations()
        assert edf.getEquipment() == "simulated" and "strap" not in edf.getTransducer(0)
        assert edf.getRecordingAdditional().startswith("biofeedback-imagery_")
    assert all(len(x.encode()) <= 40 for x in texts)
    joined = [x for _o, x in join_edf_annotations(onsets, texts)]
    prompts = [" ".join(f"prompt: {d['text']}".split()) for _t, k, d in with_hole.events if k == "prompt"]
    assert [x for x in joined if x.startswith("prompt: ")] == prompts and max(map(len, prompts)) > 60
    steps = [t for t, kind, _d in with_hole.events if kind == "step"]
    assert len([x for x in joined if x.startswith("step ")]) == len(steps), "every event is in the file"


async def test_the_persons_own_safe_place_stays_in_the_local_record(tmp_path):
    """Lines woven from the person's own answers are in their record, but an export carries only their ids."""
    own = {"place": "het huisje van oma in Bergen", "sound": "de klok van oma", "smell": "appeltaart",
           "touch": "een zachte plaid", "temperature": "warm", "sight": "de tuin", "anchor": "Bergen"}
    ran = await run_session(tmp_path, "safe-place", "nl", "follows", own=own, duration_s=600)
    said = " ".join(d["text"] for _, _, d in ran.events("prompt"))
    assert "oma" in said  # the session spoke the person's own place
    for fmt, out in (("csv", tmp_path / "x.csv"), ("edf", tmp_path / "x.edf"), ("bids", tmp_path / "bids")):
        assert main(["export", str(ran.path), "--format", fmt, "-o", str(out)]) == 0
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p != ran.path and ".sqlite" not in p.name]
    assert written
    for path in written:
        data = path.read_bytes()
        assert b"oma" not in data and b"appeltaart" not in data, path.name
    events = (tmp_path / "x_events.csv").read_text(encoding="utf-8")
    assert ".own-" in events  # the line is still marked where it was said
