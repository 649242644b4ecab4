"""The BIDS export is a dataset the official BIDS validator (npm ``bids-validator``) accepts with no errors.

The validator is found through ``BIOFEEDBACK_BIDS_VALIDATOR`` (``.ci/run`` installs it and sets it), else
in ``~/.cache/bids-validator``, else it is installed there with npm. Skipped only when node/npm are missing
and this is not CI; in CI it must run.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from devices.simulator import Glitches, Person
from sessions.review.exports import export_bids
from sessions.review.record import load_record
from tests.sessionkit import run_session

CACHE = Path.home() / ".cache" / "bids-validator"


def _validator() -> str:
    env = os.environ.get("BIOFEEDBACK_BIDS_VALIDATOR")
    if env:
        assert Path(env).exists(), f"BIOFEEDBACK_BIDS_VALIDATOR={env} does not exist"
        return env
    exe = CACHE / "node_modules" / ".bin" / "bids-validator"
    if exe.exists():
        return str(exe)
    if not (shutil.which("node") and shutil.which("npm")):
        if os.environ.get("CI"):
            pytest.fail("CI must run the BIDS validator: node/npm are missing")
        pytest.skip("node/npm not installed: the BIDS validator cannot run here")
    subprocess.run(["npm", "install", "--prefix", str(CACHE), "--no-audit", "--no-fund", "bids-validator@1"],
                   check=True, capture_output=True, timeout=600)
    return str(exe)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """Two sessions (one with a 40-s link drop) exported into one dataset folder."""
    base = tmp_path_factory.mktemp("bids")
    person = Person(glitches=Glitches(link_drops=((150.0, 40.0),)))
    recs = [load_record(asyncio.run(run_session(base, "safe-place", "en", person, seed=3, duration_s=300)).path),
            load_record(asyncio.run(run_session(base, "coat-rack", "nl", "follows", seed=4, duration_s=200)).path)]
    root = base / "dataset"
    for rec in recs:
        export_bids(rec, root, "p7")
    return root, recs


def _validate(root: Path) -> dict:
    proc = subprocess.run([_validator(), str(root), "--json"], capture_output=True, text=True, timeout=300)
    start = proc.stdout.find("{")
    assert start >= 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout[start:])


def test_the_official_validator_accepts_the_dataset(dataset):
    root, _recs = dataset
    issues = _validate(root)["issues"]
    assert [(e["key"], e.get("reason")) for e in issues["errors"]] == []
    # the validator does look: a dataset without its description is rejected
    broken = root.parent / "broken"
    shutil.copytree(root, broken)
    (broken / "dataset_description.json").unlink()
    assert _validate(broken)["issues"]["errors"]


def test_layout_sidecars_and_gaps(dataset):
    root, recs = dataset
    desc = json.loads((root / "dataset_description.json").read_text())
    assert desc["BIDSVersion"] and desc["GeneratedBy"][0]["Version"]
    physio = sorted(root.glob("sub-p7/ses-*/beh/sub-p7_ses-*_task-*_physio.tsv.gz"))
    assert len(physio) == 2
    side = json.loads(physio[0].with_name(physio[0].name.replace(".tsv.gz", ".json")).read_text())
    assert "simulat" in side["Manufacturer"] and "strap" not in side["Manufacturer"]
    assert side["SoftwareVersions"].startswith("biofeedback-imagery ") and side["SoftwareVersions"][-1].isdigit()
    rows = gzip.decompress(physio[0].read_bytes()).decode().splitlines()
    # the 40-s link drop is n/a, not a reading
    hole = [rows[int(t * 4)].split("\t")[0] for t in range(155, 185, 5)]
    assert hole == ["n/a"] * len(hole)
    events = next(physio[0].parent.glob("*_events.tsv"))
    assert events.with_suffix(".json").exists()
    prompts = [line.split("\t")[3] for line in events.read_text().splitlines()[1:] if line.split("\t")[2] == "prompt"]
    texts = [f"prompt: {d['text']}" for _t, k, d in recs[0].events if k == "prompt"]
    assert prompts == [" ".join(x.split()) for x in texts] and max(map(len, prompts)) > 60  # whole, not cut at 60
