"""Replaying a recording: notification logs, plain RR files, or a recorded session's payloads.

Whatever the file held, the replay produces 0x2A37 payloads at their original times and sends them
through the same decoder and beat timing as a live strap. A recorded Polar H10 session's ECG and
chest accelerometer frames come back too, as the chunks they were (at the time of their last sample),
so a replay classifies the same beats and measures the same breathing as the session did.
"""

from __future__ import annotations

from typing import Any

import math
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path

from devices.hrm import encode_hrm
from devices.notifications import NotificationProcessor
from devices.rr_files import RRRecording, read_rr_file
from devices.source import HeartSource, PlaybackClock
from devices.stream import AccChunk, EcgChunk, LinkEvent, LinkState, StreamItem, ms_to_ticks


@dataclass(frozen=True, slots=True)
class TimedPayload:
    """A payload as it arrived: seconds since the start of the recording, raw bytes."""

    t: float
    payload: bytes


def payloads_from_recording(rec: RRRecording) -> list[TimedPayload]:
    """Turn a file's notifications (or bare RR list) into strap payloads at their times."""
    out: list[TimedPayload] = []
    if rec.notifications is not None:
        last_hr = 0
        for note in rec.notifications:
            ticks = [ms_to_ticks(v) for v in note.rr_ms]
            hr = note.hr_bpm if note.hr_bpm is not None else (
                int(round(60000.0 / note.rr_ms[-1])) if note.rr_ms else last_hr)
            last_hr = hr
            out.append(TimedPayload(note.t, encode_hrm(hr, ticks)))
        return out
    # A bare RR list: a notification every second carrying the beats of that second.
    t_beat = 0.0
    batch: list[float] = []
    second = 1
    for rr in rec.rr_ms:
        t_beat += rr / 1000.0
        while t_beat > second:
            out.append(_batch_payload(second, batch))
            batch = []
            second += 1
        batch.append(rr)
        if len(batch) == 9:  # a 20-byte payload holds at most 9 RR
            out.append(_batch_payload(t_beat, batch))
            batch = []
    if batch:
        out.append(_batch_payload(math.ceil(t_beat), batch))
    return out


def _batch_payload(t: float, batch: list[float]) -> TimedPayload:
    hr = int(round(60000.0 / batch[-1])) if batch else 0
    return TimedPayload(float(t), encode_hrm(hr if batch else 0, [ms_to_ticks(v) for v in batch]))


@dataclass(frozen=True, slots=True)
class TimedFrame:
    """A recorded ECG or ACC frame: the time of its last sample, its rate, and its samples (µV, or
    (n, 3) mG), kept as the array the record gave until it is played."""

    t: float
    kind: str
    fs: float
    after_gap: bool
    samples: Any

    def chunk(self) -> EcgChunk | AccChunk:
        if self.kind == "ecg":
            return EcgChunk(self.t, self.fs, tuple(int(v) for v in self.samples), after_gap=self.after_gap)
        return AccChunk(self.t, self.fs, tuple((int(x), int(y), int(z)) for x, y, z in self.samples),
                        after_gap=self.after_gap)


class Replay(HeartSource):
    """Plays payloads (and recorded ECG/ACC frames) back at ``speed`` times real time (``None``: as fast
    as possible)."""

    name = "replay"

    def __init__(self, payloads: Iterable[TimedPayload], *, speed: float | None = 1.0,
                 label: str = "replay", frames: Iterable[TimedFrame] = ()) -> None:
        super().__init__()
        self.payloads = list(payloads)
        self.frames = sorted(frames, key=lambda f: f.t)
        self.clock = PlaybackClock(speed)
        self.label = label
        self.processor = NotificationProcessor()

    @classmethod
    def from_file(cls, path: str | Path, *, speed: float | None = 1.0) -> "Replay":
        rec = read_rr_file(path)
        return cls(payloads_from_recording(rec), speed=speed, label=Path(path).name)

    def now(self) -> float:
        return self.clock.now()

    def describe(self) -> dict[str, Any]:
        return {"kind": self.name, "file": self.label}

    async def items(self) -> AsyncIterator[StreamItem]:
        yield LinkEvent(0.0, LinkState.CONNECTED, {"address": "REPLAY", "name": self.label})
        t = 0.0
        frames = iter(self.frames)
        frame = next(frames, None)
        for item in self.payloads:
            if self.closed:
                break
            while frame is not None and frame.t <= item.t and not self.closed:
                await self.clock.wait_until(max(t, frame.t), self._closed)
                yield frame.chunk()
                frame = next(frames, None)
            t = item.t
            await self.clock.wait_until(t, self._closed)
            if self.closed:
                break
            for out in self.processor.process(t, item.payload):
                yield out
        yield LinkEvent(t, LinkState.ENDED, {"reason": "closed" if self.closed else "end of recording"})
