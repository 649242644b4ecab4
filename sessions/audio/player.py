"""Playback through PortAudio (sounddevice): a callback pulls samples that the session loop wrote ahead.

The callback runs on PortAudio's thread and only copies from a small buffer, so neither side waits
on the other; an underrun plays silence rather than blocking. ``open_player`` raises
:class:`AudioUnavailable` when there is no library or no output device, so the caller can say so
once and go on silently.
"""

from __future__ import annotations

import collections
import logging
import threading

import numpy as np

log = logging.getLogger(__name__)


class AudioUnavailable(RuntimeError):
    """No sound output here (no PortAudio, no device)."""


class BufferSink:
    """Samples written ahead of playback; ``pull`` hands them out in order (silence when short)."""

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self._blocks: collections.deque[np.ndarray] = collections.deque()
        self._buffered = 0
        self._lock = threading.Lock()
        self.underruns = 0

    def write(self, samples: np.ndarray) -> None:
        with self._lock:
            self._blocks.append(np.asarray(samples, dtype=np.float32))
            self._buffered += samples.size

    def buffered(self) -> int:
        return self._buffered

    def pull(self, frames: int) -> np.ndarray:
        out = np.zeros(frames, dtype=np.float32)
        filled = 0
        with self._lock:
            while filled < frames and self._blocks:
                block = self._blocks[0]
                take = min(frames - filled, block.size)
                out[filled:filled + take] = block[:take]
                filled += take
                if take == block.size:
                    self._blocks.popleft()
                else:
                    self._blocks[0] = block[take:]
            self._buffered -= filled
        if filled < frames:
            self.underruns += 1
        return out

    def close(self) -> None:
        pass


class DevicePlayer(BufferSink):
    """A BufferSink played on the default output device."""

    def __init__(self, sample_rate: int) -> None:
        super().__init__(sample_rate)
        try:
            import sounddevice
        except (ImportError, OSError) as err:  # no module, or no libportaudio
            raise AudioUnavailable(str(err)) from None
        try:
            self._stream = sounddevice.OutputStream(samplerate=sample_rate, channels=1, dtype="float32",
                                                    blocksize=1024, callback=self._callback)
            self._stream.start()
        except Exception as err:  # noqa: BLE001 - PortAudioError, ValueError: no device of any kind
            raise AudioUnavailable(str(err) or type(err).__name__) from None

    def _callback(self, outdata, frames, _time, status) -> None:
        outdata[:, 0] = self.pull(frames)

    def close(self) -> None:
        try:
            self._stream.stop()
            self._stream.close()
        except Exception:  # noqa: BLE001 - closing a lost device must not fail the session end
            log.debug("closing the audio stream failed", exc_info=True)


def open_player(sample_rate: int) -> DevicePlayer:
    return DevicePlayer(sample_rate)
