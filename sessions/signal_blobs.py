"""The H10's ECG and chest accelerometer in the record: one row per PMD frame, not one per sample.

Why per frame: 130 ECG samples a second is 936 000 rows in a 2-hour session as a row per sample
(tens of megabytes of row overhead, slow to write and to read); as one blob per notification it is
about 12 000 rows, written as they arrive and committed on the same clock as the beats.

Each row keeps the notification *as the strap sent it* (format ``pmd``: decoded by
:mod:`devices.pmd`, byte-exact for debugging a strap) or, when a source has no payload, the samples
as little-endian int32 with the channels interleaved (format ``i32``). ``n`` is the sample count the
runner saw: a blob that no longer decodes to ``n`` samples (a flipped bit, an edit) is damaged and
the reader skips and counts it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from devices import pmd

ECG = "ecg"
ACC = "acc"
KINDS = {ECG: 1, ACC: 3}
"""Signal kind -> channels (ECG: µV, one lead; ACC: x, y, z in mG)."""
FORMAT_PMD = "pmd"
FORMAT_I32 = "i32"
SIGNALS_FORMAT = {"table": "signal_frames", "ecg": "uV", "acc": "mG", "formats": [FORMAT_PMD, FORMAT_I32]}
"""Recorded in the meta of every record that has the table, so a reader knows how to read the blobs."""


def encode(kind: str, samples: Sequence[int] | Sequence[Sequence[int]], payload: bytes) -> tuple[str, bytes]:
    """(format, blob) for one chunk: the payload as received when it decodes to exactly these samples."""
    expected = _as_array(kind, samples)
    if payload:
        decoded = decode(kind, FORMAT_PMD, payload, len(expected))
        if decoded is not None and np.array_equal(decoded, expected):
            return FORMAT_PMD, bytes(payload)
    return FORMAT_I32, expected.astype("<i4").tobytes()


def _as_array(kind: str, samples: Sequence[int] | Sequence[Sequence[int]]) -> np.ndarray:
    arr = np.asarray(samples, dtype=np.int64)
    return arr.reshape(-1, 3) if KINDS[kind] == 3 else arr.reshape(-1)


def decode(kind: str, fmt: str, blob: bytes, n: int) -> np.ndarray | None:
    """The samples of one row ((n,) µV or (n, 3) mG as int64), or None when the row is damaged."""
    channels = KINDS.get(kind)
    if channels is None or not isinstance(blob, bytes) or not isinstance(n, int) or n <= 0:
        return None
    try:
        if fmt == FORMAT_I32:
            if len(blob) != 4 * n * channels:
                return None
            arr = np.frombuffer(blob, dtype="<i4").astype(np.int64)
        elif fmt == FORMAT_PMD:
            arr = _decode_pmd(kind, blob)
        else:
            return None
    except (pmd.MalformedPmd, ValueError, KeyError, IndexError):
        return None
    arr = arr.reshape(-1, 3) if channels == 3 else arr.reshape(-1)
    return arr if len(arr) == n else None


def _decode_pmd(kind: str, blob: bytes) -> np.ndarray:
    want = pmd.MeasurementType.ECG if kind == ECG else pmd.MeasurementType.ACC
    if len(blob) < pmd.HEADER_BYTES or blob[0] != want:
        raise ValueError("not a frame of this signal")
    if kind == ECG and blob[9] == 0:
        # The H10's ECG frame: signed 24-bit little-endian µV, read in one go (a 2-hour record in milliseconds).
        body = np.frombuffer(blob, dtype=np.uint8, offset=pmd.HEADER_BYTES)
        if len(body) % 3 or not len(body):
            raise ValueError("not whole 24-bit samples")
        b = body.reshape(-1, 3).astype(np.int64)
        raw = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        return np.where(raw >= 1 << 23, raw - (1 << 24), raw)
    return np.asarray(pmd.decode_data_frame(blob).samples, dtype=np.int64)


@dataclass
class SignalTrace:
    """A whole recorded signal on the session clock: sample times (s) and values (µV, or (n, 3) mG).

    ``gaps`` are the session times where a frame came after lost frames or a reconnect: a view draws
    no line across them and an export marks them."""

    kind: str
    fs: float
    t: np.ndarray
    values: np.ndarray
    gaps: list[float]

    def __len__(self) -> int:
        return len(self.t)

    def between(self, start: float, end: float) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = np.searchsorted(self.t, [start, end])
        return self.t[lo:hi], self.values[lo:hi]


def trace(kind: str, frames: Iterable[tuple[float, float, bool, np.ndarray]]) -> SignalTrace | None:
    """Frames ``(t of last sample, fs, after_gap, samples)`` joined into one :class:`SignalTrace`, or None."""
    times, values, gaps = [], [], []
    fs_seen = math.nan
    for t, fs, after_gap, samples in frames:
        n = len(samples)
        times.append(t - (np.arange(n)[::-1]) / fs)
        values.append(samples)
        if after_gap:
            gaps.append(float(times[-1][0]))
        fs_seen = fs
    if not times:
        return None
    t_all = np.concatenate(times)
    v_all = np.concatenate(values)
    if np.any(np.diff(t_all) < 0):  # frames stored out of order (never by this writer): sort them
        order = np.argsort(t_all, kind="stable")
        t_all, v_all = t_all[order], v_all[order]
    return SignalTrace(kind, float(fs_seen), t_all, v_all, gaps)
