"""One damaged cell in one record never breaks the listing, the trends or the views of a session (issue 19).

A bad row is skipped and counted, the file is marked damaged, and the rest is shown.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from sessions.cli import main
from sessions.store import SessionReader, list_sessions


@pytest.fixture
def two_sessions(data_dir, capsys):
    for _ in range(2):
        assert main(["run", "--simulate", "--speed", "1000", "--duration", "90", "--lang", "en"]) == 0
    capsys.readouterr()
    return sorted(p.path for p in list_sessions())


def _damage(path, sql: str) -> None:
    with sqlite3.connect(path) as db:
        db.execute(sql)
    db.close()


DAMAGE = {
    "beat time as text": ("beats", "UPDATE beats SET t = 'abc' WHERE idx = 5"),
    "meta value not JSON": ("meta", "UPDATE meta SET value = '{not json' WHERE key = 'language'"),
    "metrics row not JSON": ("metrics", "UPDATE metrics SET data = 'garbage' WHERE rowid = 3"),
    "event data a list": ("events", "UPDATE events SET data = '[1, 2]' WHERE rowid = 4"),
    "rr as a blob": ("beats", "UPDATE beats SET rr_ticks = x'00ff' WHERE idx = 7"),
}


@pytest.mark.parametrize("what", sorted(DAMAGE))
def test_one_bad_cell_never_breaks_the_listing_or_the_trends(two_sessions, capsys, what):
    damaged, whole = two_sessions
    beats_before = len(SessionReader(damaged).beats())
    _damage(damaged, DAMAGE[what][1])
    assert main(["sessions", "--json"]) == 0
    listed = {s["id"]: s for s in json.loads(capsys.readouterr().out)}
    assert len(listed) == 2
    assert main(["sessions"]) == 0
    capsys.readouterr()
    assert main(["trends", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["sessions"]) == 2
    reader = SessionReader(damaged)
    beats = reader.beats()
    reader.metrics(), reader.events()
    assert len(beats) >= beats_before - 1  # only the damaged row is left out
    assert reader.problems and any(p.startswith(DAMAGE[what][0]) for p in reader.problems)


@pytest.mark.parametrize("what", sorted(DAMAGE))
def test_show_report_and_export_of_a_damaged_session_show_the_rest(two_sessions, capsys, tmp_path, what):
    damaged, _ = two_sessions
    _damage(damaged, DAMAGE[what][1])
    assert main(["sessions", "show", str(damaged), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["damaged"] and shown["beats"] > 50 and shown["events"]
    assert main(["sessions", "show", str(damaged)]) == 0
    assert "damaged" in capsys.readouterr().out
    assert main(["report", str(damaged), "-o", str(tmp_path / "r.html")]) == 0
    assert main(["export", str(damaged), "--format", "csv", "-o", str(tmp_path / "s.csv")]) == 0
