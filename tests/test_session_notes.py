"""The therapist's side of one session, read back where people meet it: markers and ratings in the record,
the review window (line + word), the report (ratings before → after, the markers' table, the notes), the
exports (CSV events, EDF+ annotations, BIDS events) without the private words; notes added after the session."""

from __future__ import annotations

import json
import os
import stat

import pandas as pd
import pytest

from sessions.cli import main
from sessions.events import EventKind, RatingWhen
from sessions.ratings import Rating
from sessions.review.record import load_record
from sessions.store import append_event, session_path
from tests.sessionkit import run_session

PRIVATE = "my brother's voice at the door"


@pytest.fixture
def marked(data_dir, tmp_path):
    """A simulated session with a before-rating, two markers (person, therapist) and an after-rating."""
    import asyncio

    def control(runner, kind, t, data):
        if kind is EventKind.STEP and data["index"] == 1:
            runner.add_marker("hotspot", "key")
        if kind is EventKind.STEP and data["index"] == 2:
            runner.add_marker("rescript starts", "therapist")
            runner.stop()

    folder = data_dir / "sessions"
    folder.mkdir(parents=True, mode=0o700)
    ran = asyncio.run(_run(folder, control))
    append_event(ran.path, ran.result.duration_s, "rating", Rating(RatingWhen.AFTER, 6, 8, PRIVATE).data()
                 | {"when": "after"})
    return ran.path


async def _run(folder, control):
    from sessions.store import SessionReader, SessionWriter  # noqa: F401 - the kit writes through them

    def before(runner, kind, t, data):
        if kind is EventKind.SESSION_START:
            runner.record_rating(Rating(RatingWhen.BEFORE, 3).data())
        control(runner, kind, t, data)

    ran = await run_session(folder, duration_s=900, control=before)
    target = session_path("20260105-193000")
    ran.path.rename(target)
    ran.path = target
    return ran


def test_the_record_keeps_markers_and_ratings_and_notes_are_added_after(marked, capsys):
    assert stat.S_IMODE(os.stat(marked).st_mode) == 0o600
    assert main(["notes", "20260105-193000", "--add", "Client stayed with the image; next time rescript earlier."]) == 0
    assert "Note added to 20260105-193000" in capsys.readouterr().out
    assert main(["notes", "--show"]) == 0
    out = capsys.readouterr().out
    assert "next time rescript earlier" in out
    assert stat.S_IMODE(os.stat(marked).st_mode) == 0o600 and not list(marked.parent.glob("*-journal"))
    rec = load_record(marked)
    assert [(d["label"], d["source"]) for _t, _k, d in rec.events_of(EventKind.MARKER)] == [
        ("hotspot", "key"), ("rescript starts", "therapist")]
    assert [d["when"] for _t, _k, d in rec.events_of(EventKind.RATING)] == ["before", "after"]
    assert rec.notes[0][1].startswith("Client stayed")


def test_notes_edit_uses_the_editor_and_refuses_without_one(marked, tmp_path, monkeypatch, capsys):
    editor = tmp_path / "ed.sh"
    editor.write_text("#!/bin/sh\nprintf '# a comment\\nLong note\\nsecond line\\n' >> \"$1\"\n")
    editor.chmod(0o700)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(editor))
    assert main(["notes", "--edit"]) == 0
    assert load_record(marked).notes[-1][1] == "Long note\nsecond line"
    monkeypatch.delenv("EDITOR")
    assert main(["notes", "--edit"]) == 2
    err = capsys.readouterr().err
    assert "set EDITOR" in err and "Traceback" not in err


def test_notes_speak_dutch_and_the_editor_is_told_in_dutch_too(marked, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LC_ALL", "nl_NL.UTF-8")
    assert main(["notes"]) == 0
    assert capsys.readouterr().out.strip() == (
        "Nog geen notities bij 20260105-193000; voeg er een toe met `biofeedback notes 20260105-193000 --add TEKST`.")
    assert main(["notes", "--add", "Rustig gebleven."]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [out[0]] and out[0].startswith("Notitie toegevoegd aan 20260105-193000 (")
    seen = tmp_path / "seen.txt"
    editor = tmp_path / "ed.sh"
    editor.write_text(f"#!/bin/sh\ncp \"$1\" {seen}\n")  # writes nothing: an empty note
    editor.chmod(0o700)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(editor))
    assert main(["notes", "--edit"]) == 0
    assert seen.read_text().startswith("# Schrijf hieronder de notitie bij sessie 20260105-193000.")
    assert "Rustig gebleven." in seen.read_text()
    assert capsys.readouterr().out.startswith("De notitie was leeg; er is niets toegevoegd.")
    monkeypatch.delenv("EDITOR")
    assert main(["notes", "--edit", "--lang", "en"]) == 2
    assert "--edit needs an editor" in capsys.readouterr().err


def test_the_report_shows_ratings_markers_and_notes(marked, tmp_path):
    pytest.importorskip("matplotlib")
    assert main(["notes", "--add", "Good session."]) == 0
    out = tmp_path / "r.html"
    assert main(["report", "--lang", "nl", "-o", str(out)]) == 0
    page = out.read_text()
    assert "Hoe het voelde" in page and "Spanning 3 vooraf, 6 achteraf" in page
    assert "Markeringen" in page and "hotspot" in page and "rescript starts" in page and "therapeut" in page
    assert "Notities van de therapeut" in page and "Good session." in page
    assert PRIVATE.replace("'", "&#x27;") in page  # the person's own report shows their own words


def test_exports_carry_markers_and_rating_numbers_but_never_the_private_words(marked, tmp_path):
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    main(["notes", "--add", "Therapist only."])
    assert main(["export", "--format", "csv", "-o", str(tmp_path / "s.csv")]) == 0
    events = pd.read_csv(tmp_path / "s_events.csv")
    marks = events[events["kind"] == "marker"]
    assert [json.loads(d)["label"] for d in marks["data"]] == ["hotspot", "rescript starts"]
    rated = [json.loads(d) for d in events[events["kind"] == "rating"]["data"]]
    assert rated[1] == {"when": "after", "sud": 6, "vividness": 8}
    assert main(["export", "--format", "bids", "-o", str(tmp_path / "bids")]) == 0
    tsv = pd.read_csv(next((tmp_path / "bids").glob("sub-01/ses-*/beh/*_events.tsv")), sep="\t")
    assert list(tsv[tsv["trial_type"] == "marker"]["value"]) == ["marker: hotspot", "marker: rescript starts (therapist)"]
    assert list(tsv[tsv["trial_type"] == "rating"]["value"]) == ["rating before: sud 3", "rating after: sud 6, vividness 8"]
    pyedflib = pytest.importorskip("pyedflib")
    assert main(["export", "--format", "edf", "-o", str(tmp_path / "s.edf")]) == 0
    with pyedflib.EdfReader(str(tmp_path / "s.edf")) as edf:
        _o, _d, texts = edf.readAnnotations()
    joined = " ".join(texts)
    assert "marker: hotspot" in joined
    everything = "".join(p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".gz")
    assert "brother" not in everything and "Therapist only" not in everything


def test_the_review_window_draws_each_marker_with_its_word(marked, tmp_path):
    pytest.importorskip("pyqtgraph")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import pyqtgraph as pg

    from sessions.review.window import app, build_window

    main(["notes", "--add", "Noted."])
    app()
    win = build_window(load_record(marked), "en")
    labels = [item.label.format for item in win.plots[0].items
              if isinstance(item, pg.InfiniteLine) and getattr(item, "label", None) is not None]
    assert sorted(labels) == ["hotspot", "rescript starts"]
    assert sum(isinstance(item, pg.InfiniteLine) and getattr(item, "label", None) is None
               for item in win.plots[1].items) >= 2  # the lines go through the other panels too
    assert "Noted." in win.personal.text() and "brother" in win.personal.text()
    shots = os.environ.get("BIOFEEDBACK_SCREENSHOTS")
    win.grab().save(os.path.join(shots or str(tmp_path), "review-markers.png"))
    win.close()
