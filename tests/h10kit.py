"""A real Polar H10 played back as a live strap: its ECG in PMD-sized chunks and its own RR, on one clock.

The recording (``../shared/data/polar-h10/ecg_detectpvc.csv.gz``, frequent PVCs) stores the ECG with
phone timestamps and the strap's RR. The RR chain is placed on the ECG's clock once, by the single
offset that lines most of its beats up with the R peaks (what the strap's own beat timing does live
from the notification times); nothing per beat is adjusted.

Also the real H10 notifications with a 40-s hole cut out (:func:`polar_with_hole`), for the tests of how
a hole in a recording is shown and timed.
"""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np

from bench.bench_ecg import h10_recording
from biofeedback.ecg import detect_r_peaks
from devices.source import HeartSource, PlaybackClock
from devices.chest_motion import chest_acc
from devices.stream import AccChunk, Contact, EcgChunk, HeartSample, LinkEvent, LinkState, StreamItem, ms_to_ticks
from tests.conftest import POLAR_H10

FRAME = 73  # samples per H10 ECG notification
ACC_FS, ACC_FRAME = 50.0, 36  # the H10's accelerometer at 50 Hz, samples per notification
HOLE = (120.0, 160.0)  # seconds of the real notifications that :func:`polar_with_hole` takes out


def polar_with_hole(folder: Path) -> Path:
    """The real H10 notifications with ``HOLE`` taken out (a strap off the skin, a lost link), as a CSV in ``folder``."""
    out = folder / "hole.csv"
    with open(POLAR_H10, newline="") as src, open(out, "w", newline="") as dst:
        rows = csv.reader(src)
        writer = csv.writer(dst)
        writer.writerow(next(rows))
        writer.writerows(r for r in rows if not HOLE[0] <= float(r[0]) < HOLE[1])
    return out


def load_h10() -> tuple[np.ndarray, np.ndarray, list[float]]:
    """ECG times (s from the first sample), ECG (µV) and the strap's RR (ms), in order (read by the ECG bench)."""
    ecg_mv, _fs, t, rr_s = h10_recording()
    return t, np.round(ecg_mv * 1000).astype(int), np.round(rr_s * 1000).tolist()  # the file's RR are whole ms


def _offset(ecg_t: np.ndarray, ecg: np.ndarray, rr_ms: list[float]) -> float:
    fs = (len(ecg_t) - 1) / ecg_t[-1]
    peaks = ecg_t[[p.index for p in detect_r_peaks(ecg.astype(float), fs)]]
    beats = np.concatenate([[0.0], np.cumsum(rr_ms) / 1000.0])
    best, off = -1, 0.0
    for cand in np.arange(-3.0, 3.0, 0.002) + peaks[0]:
        b = beats + cand
        i = np.clip(np.searchsorted(peaks, b), 1, len(peaks) - 1)
        hits = int((np.minimum(abs(peaks[i] - b), abs(peaks[i - 1] - b)) < 0.03).sum())
        if hits > best:
            best, off = hits, float(cand)
    return off


class H10Recording(HeartSource):
    """The recording as a strap at ``speed`` (None: as fast as possible), from ``start_s`` for ``seconds``."""

    name = "replay"

    def __init__(self, seconds: float | None = None, speed: float | None = None, ecg: bool = True,
                 breath_rate: float | None = None, motion: tuple[tuple[float, float], ...] = ()) -> None:
        """``breath_rate``: also a chest accelerometer (synthesised by :mod:`devices.chest_motion` around the
        real beats) of someone breathing at this rate per minute; ``motion``: (start, seconds) of turning over."""
        super().__init__()
        self.clock = PlaybackClock(speed)
        self.ecg_t, self.ecg, rr = load_h10()
        off = _offset(self.ecg_t, self.ecg, rr)
        beat_t = off + np.cumsum(rr) / 1000.0  # the beat that ends each RR
        keep = (beat_t > 1.0) & (beat_t < (seconds if seconds else np.inf))
        self.beat_t, self.rr = beat_t[keep] - 1.0, np.array(rr)[keep]
        sel = (self.ecg_t > 1.0) & (self.ecg_t < (seconds if seconds else np.inf))
        self.ecg_t, self.ecg = self.ecg_t[sel] - 1.0, self.ecg[sel]
        self.with_ecg = ecg
        self.fs = (len(self.ecg_t) - 1) / (self.ecg_t[-1] - self.ecg_t[0])
        self.acc_t = self.acc = None
        if breath_rate is not None:
            self.acc_t = np.arange(0.0, float(self.ecg_t[-1]), 1.0 / ACC_FS)
            lung = 0.5 - 0.5 * np.cos(2 * np.pi * breath_rate / 60.0 * self.acc_t)
            self.acc = chest_acc(self.acc_t, lung, self.beat_t.tolist(), rng=np.random.default_rng(7), motion=motion)

    def now(self) -> float:
        return self.clock.now()

    def _timeline(self) -> list[tuple[float, StreamItem]]:
        out: list[tuple[float, StreamItem]] = []
        if self.with_ecg:
            for k in range(FRAME, len(self.ecg), FRAME):
                t = float(self.ecg_t[k - 1])
                out.append((t, EcgChunk(t, 130.0, tuple(int(v) for v in self.ecg[k - FRAME:k]))))
        if self.acc is not None and self.acc_t is not None:
            for k in range(ACC_FRAME, len(self.acc), ACC_FRAME):
                t = float(self.acc_t[k - 1])
                out.append((t, AccChunk(t, ACC_FS, tuple(tuple(int(v) for v in s) for s in self.acc[k - ACC_FRAME:k]))))
        # One notification a second with the beats that ended in it (as a strap sends them).
        bt, rr = self.beat_t, self.rr
        for sec in range(1, int(bt[-1]) + 2):
            m = (bt > sec - 1) & (bt <= sec)
            if m.any():
                ticks = tuple(ms_to_ticks(r) for r in rr[m])
                out.append((float(sec), HeartSample(float(sec), int(60000 / rr[m][-1]), Contact.DETECTED, None, ticks,
                                                    tuple(float(x) for x in bt[m]), b"\x10\x4b")))
        out.sort(key=lambda x: x[0])
        return out

    async def items(self) -> AsyncIterator[StreamItem]:
        yield LinkEvent(0.0, LinkState.CONNECTED, {"address": "H10-RECORDING"})
        t = 0.0
        for t, item in self._timeline():
            await self.clock.wait_until(t, self._closed)
            if self.closed:
                break
            yield item
        yield LinkEvent(t, LinkState.ENDED, {"reason": "end of recording"})
