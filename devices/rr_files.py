"""Reading RR files: the Kubios text layout and CSV, with errors that name file and line.

Accepted layouts:

- Text, one RR interval per line (milliseconds; a file whose values are all below 10 is taken as
  seconds, as Kubios does), blank lines and ``#`` comment lines ignored.

Values are kept exactly as written (no rounding to a strap's 1/1024-s ticks): the analysis works at
the file's own resolution, which :attr:`RRRecording.resolution_ms` records (1 ms for whole
milliseconds, 0.001 ms for three decimals = µs, 1 ms for seconds with three decimals, ...).
- CSV with a header that has an ``rr_ms`` or ``rr`` column. A cell may hold several RR values
  separated by spaces (one notification's worth). When the CSV also has a time column
  (``t_s``, ``time`` or ``t``) each row is kept as one notification for replay, and an
  ``hr_bpm`` column is kept as the strap's heart rate.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devices.errors import ReplayFileError

RR_MIN_MS = 100.0
"""Below 100 ms (600 beats a minute) no heart beats, not even as an artefact a strap reports as a
beat: such a value is a unit or typing mistake. Short artefacts of 100-300 ms that straps do send are
kept; the artefact classifier labels them."""
RR_MAX_MS = 10_000.0
"""Above 10 s no interval is a beat-to-beat interval: the longest pauses seen in 24-hour recordings
last a few seconds, and a longer value is a gap in the recording (a strap cannot even send one over
64 s). Keeping the range bounded also bounds the work a replay does per value."""
HR_MAX_BPM = 300
"""A strap's heart rate field: 0 (not known yet, as straps send in the first seconds) up to 300/min."""
TIME_MAX_S = 48 * 3600.0
"""Rows are seconds since the start of the recording, in order, within 48 hours (a 24-hour
recording with room to spare); a larger time is a mistake that would make a replay wait for ever."""

RR_COLUMNS = ("rr_ms", "rr")
TIME_COLUMNS = ("t_s", "time", "t")
HR_COLUMNS = ("hr_bpm", "hr")


@dataclass(frozen=True, slots=True)
class FileNotification:
    """One row of a notification log: arrival time, the strap's HR and its RR values."""

    t: float
    hr_bpm: int | None
    rr_ms: tuple[float, ...]


@dataclass
class RRRecording:
    """An RR series as given in a file, with the line each value came from."""

    path: Path
    rr_ms: list[float] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    notifications: list[FileNotification] | None = None
    resolution_ms: float = 1.0
    """The step of the values as written: 10 ** -(most decimals seen), in ms."""


def _decimals(token: str) -> int:
    """Digits after the decimal point as written ("812" -> 0, "812.50" -> 2, "8.1e2" -> 0)."""
    text = token.strip().lower()
    if "e" in text or "." not in text:
        return 0
    return len(text.split(".", 1)[1])


def _shown(text: str, limit: int = 40) -> str:
    """File text quoted in a message: control characters escaped (one line, no terminal codes), cut short."""
    shown = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}" for c in text[:limit])
    return shown + ("…" if len(text) > limit else "")


def _where(path: Path, line: int) -> str:
    return f"{path.name}, line {line}"


def _number(path: Path, line: int, text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ReplayFileError(
            f"{_where(path, line)}: '{_shown(text)}' is not a number; {what}."
        ) from None
    if not math.isfinite(value):
        raise ReplayFileError(f"{_where(path, line)}: '{_shown(text)}' is not a finite number; {what}.")
    return value


def _rr_value(path: Path, line: int, text: str) -> float:
    value = _number(path, line, text, "each RR interval must be a number of milliseconds")
    if value <= 0:
        raise ReplayFileError(
            f"{_where(path, line)}: RR interval {_shown(text)} is not positive; remove or fix that line."
        )
    return value


def _check_rr_range(rec: RRRecording) -> None:
    """Every RR within [RR_MIN_MS, RR_MAX_MS] (checked once the unit is known)."""
    for value, line in zip(rec.rr_ms, rec.lines):
        if not RR_MIN_MS <= value <= RR_MAX_MS:
            raise ReplayFileError(
                f"{_where(rec.path, line)}: RR interval {value:g} ms is not a heartbeat (an RR interval lies between "
                f"{RR_MIN_MS:g} and {RR_MAX_MS:g} ms); fix or remove that line."
            )


def _cell(path: Path, line: int, row: list[str], col: int, name: str) -> str:
    if col >= len(row):
        raise ReplayFileError(f"{_where(path, line)}: the row has no {name} cell; every row needs one.")
    return row[col].strip()


def _time_value(path: Path, line: int, text: str, last_t: float) -> float:
    t = _number(path, line, text, "the time column must hold seconds")
    if t < last_t:
        raise ReplayFileError(
            f"{_where(path, line)}: time {t:g} goes back from {last_t:g}; rows must be in time order."
        )
    if not 0.0 <= t <= TIME_MAX_S:
        raise ReplayFileError(
            f"{_where(path, line)}: time {t:g} s is outside 0 to {TIME_MAX_S:g} s; times are seconds since the "
            "start of the recording (at most 48 hours)."
        )
    return t


def _hr_value(path: Path, line: int, text: str) -> int | None:
    if not text:
        return None
    hr = _number(path, line, text, "the heart rate must be a number")
    if not 0 <= hr <= HR_MAX_BPM:
        raise ReplayFileError(
            f"{_where(path, line)}: heart rate {_shown(text)} is outside 0 to {HR_MAX_BPM} beats a minute; "
            "fix or empty that cell."
        )
    return int(round(hr))


def _read_text(path: Path, text: str) -> RRRecording:
    rec = RRRecording(path)
    decimals = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        for token in line.replace(",", " ").replace(";", " ").split():
            rec.rr_ms.append(_rr_value(path, number, token))
            rec.lines.append(number)
            decimals = max(decimals, _decimals(token))
    if rec.rr_ms and max(rec.rr_ms) < 10:  # seconds, as Kubios also accepts
        rec.rr_ms = [v * 1000.0 for v in rec.rr_ms]
        decimals -= 3
    rec.resolution_ms = 10.0 ** -decimals
    _check_rr_range(rec)
    return rec


def _pick(header: list[str], names: tuple[str, ...]) -> int | None:
    lowered = [h.strip().lower() for h in header]
    for name in names:
        if name in lowered:
            return lowered.index(name)
    return None


def _header(path: Path, rows: Iterator[list[str]]) -> tuple[list[str], int]:
    """The first row that is not a comment, and its line number."""
    for line, row in enumerate(rows, start=1):
        if row and not row[0].lstrip().startswith("#"):
            return row, line
    raise ReplayFileError(f"{path.name}: the file is empty; it needs a header and RR values.")


def _read_csv(path: Path, text: str) -> RRRecording:
    rows = csv.reader(io.StringIO(text))
    try:
        return _read_csv_rows(path, rows)
    except csv.Error as err:  # a field over csv's limit, a NUL byte, ...
        raise ReplayFileError(f"{_where(path, rows.line_num)}: not readable as CSV ({err}); fix that line.") from None


def _read_csv_rows(path: Path, rows: Any) -> RRRecording:
    header, _ = _header(path, rows)
    header_line = rows.line_num
    rr_col = _pick(header, RR_COLUMNS)
    if rr_col is None:
        raise ReplayFileError(
            f"{_where(path, header_line)}: no 'rr_ms' or 'rr' column in the header "
            f"({_shown(', '.join(header))}); name the RR column rr_ms."
        )
    t_col = _pick(header, TIME_COLUMNS)
    hr_col = _pick(header, HR_COLUMNS)
    rec = RRRecording(path)
    notes: list[FileNotification] = []
    last_t = -math.inf
    decimals = 0
    for row in rows:
        number = rows.line_num
        if not row or not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
            continue
        tokens = _cell(path, number, row, rr_col, "RR").split()
        values = [_rr_value(path, number, tok) for tok in tokens]
        decimals = max([decimals] + [_decimals(tok) for tok in tokens])
        rec.rr_ms.extend(values)
        rec.lines.extend([number] * len(values))
        if t_col is not None:
            last_t = _time_value(path, number, _cell(path, number, row, t_col, "time"), last_t)
            hr = _hr_value(path, number, row[hr_col].strip() if hr_col is not None and hr_col < len(row) else "")
            notes.append(FileNotification(last_t, hr, tuple(values)))
    if t_col is not None:
        rec.notifications = notes
    rec.resolution_ms = 10.0 ** -decimals
    _check_rr_range(rec)
    return rec


def read_rr_file(path: str | Path) -> RRRecording:
    """Read an RR file; raise :class:`ReplayFileError` with file and line on anything wrong."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ReplayFileError(f"{path}: no such file; check the path.") from None
    except IsADirectoryError:
        raise ReplayFileError(f"{path}: is a folder; give an RR file.") from None
    except PermissionError:
        raise ReplayFileError(f"{path}: cannot be read (permission denied).") from None
    if raw.startswith(b"SQLite format 3\x00"):
        raise ReplayFileError(f"{path.name}: is a recorded session, not an RR file; open it as a session.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise ReplayFileError(f"{_where(path, line)}: not UTF-8 text; export the RR file as plain text.") from None
    first = next((ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")), "")
    is_csv = any(c.isalpha() for c in first) and ("," in first or ";" in first or first.strip().lower() in RR_COLUMNS)
    rec = _read_csv(path, text) if is_csv else _read_text(path, text)
    if not rec.rr_ms:
        raise ReplayFileError(f"{path.name}: holds no RR intervals.")
    return rec
