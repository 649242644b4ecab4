"""A short nightmare diary: per night how many nightmares, and how intense (0-10), if the person keeps it.

``diary.jsonl`` in the active data folder (a client's own folder when a client is active), 0600, one line
per entry; an entry for a date that has one already replaces it (the latest word on a night counts).
Trends show nightmares per week and their mean intensity next to the HRV.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sessions import settings
from sessions.errors import UserError
from sessions.practice_texts import say
from sessions.private_files import private_folder, replace_private

log = logging.getLogger(__name__)

MAX_NIGHTMARES = 20


@dataclass(frozen=True)
class DiaryEntry:
    day: date
    nightmares: int
    intensity: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"date": self.day.isoformat(), "nightmares": self.nightmares, "intensity": self.intensity}


def diary_path() -> Path:
    return settings.current().data_dir / "diary.jsonl"


def load_diary() -> list[DiaryEntry]:
    """Entries by date (a later line for the same date wins); an unreadable line is skipped with a warning."""
    path = diary_path()
    if not path.exists():
        return []
    by_day: dict[date, DiaryEntry] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            entry = DiaryEntry(date.fromisoformat(raw["date"]), int(raw["nightmares"]),
                               None if raw.get("intensity") is None else int(raw["intensity"]))
        except (ValueError, KeyError, TypeError):
            log.warning("%s line %d is unreadable and left out.", path.name, n)
            continue
        by_day[entry.day] = entry
    return [by_day[d] for d in sorted(by_day)]


def add_entry(entry: DiaryEntry, lang: str = "en") -> Path:
    if not 0 <= entry.nightmares <= MAX_NIGHTMARES:
        raise UserError(say(lang, "bad_count", n=entry.nightmares, most=MAX_NIGHTMARES))
    if entry.intensity is not None and not 0 <= entry.intensity <= 10:
        raise UserError(say(lang, "bad_intensity", i=entry.intensity))
    if entry.day > date.today():
        raise UserError(say(lang, "future", day=entry.day.isoformat()))
    path = diary_path()
    private_folder(path.parent, settings.current().root_dir)
    kept = [e for e in load_diary() if e.day != entry.day] + [entry]
    data = "".join(json.dumps(e.to_json()) + "\n" for e in sorted(kept, key=lambda e: e.day))
    return replace_private(path, data.encode())


def iso_week(day: date) -> str:
    """``"2026-W02"``: the ISO week a day falls in (the key the trends group diary and sessions by)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def weekly(entries: list[DiaryEntry]) -> list[tuple[str, int, float | None, int]]:
    """Per ISO week: (week, nightmares, mean intensity of nights with nightmares, nights written down)."""
    weeks: dict[str, list[DiaryEntry]] = {}
    for e in entries:
        weeks.setdefault(iso_week(e.day), []).append(e)
    out = []
    for key in sorted(weeks):
        got = weeks[key]
        rated = [e.intensity for e in got if e.intensity is not None and e.nightmares > 0]
        out.append((key, sum(e.nightmares for e in got), sum(rated) / len(rated) if rated else None, len(got)))
    return out
