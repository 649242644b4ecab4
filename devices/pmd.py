"""Decoding Polar Measurement Data (PMD): the H10's raw ECG and accelerometer stream.

Pure byte work, no bleak: the strap code writes :func:`encode_request` to the control point and
hands every notification of the data characteristic to :func:`decode_data_frame`; ``decode`` and
the tests use the same functions.

Control point (``…5C81``), as Polar's PMD specification describes it:

- a request is ``op type [setting count value…]…`` (op 1 = get settings, 2 = start, 3 = stop);
- a response is ``0xF0 op type status [more-frames parameters…]``; for get settings the parameters
  are settings: ``setting-type count value×count`` (values uint16 LE, but the range in milli-units
  8 bytes, channels 1 byte and the float factor 4 bytes).

Data (``…5C82``): ``type`` (0 ECG, 2 ACC …), the timestamp of the frame's *last* sample as uint64
LE ns since 2000-01-01T00:00:00, the frame type, then samples:

- ECG frame type 0: signed 24-bit LE µV, one channel;
- ACC frame types 0/1/2: signed 8/16/24-bit LE x, y, z (mG on the H10);
- frame types with bit 7 set are delta compressed: a reference sample (one signed little-endian
  value per channel, as wide as the resolution rounded up to bytes), then blocks of ``bit width``,
  ``sample count`` and ``count × channels × width`` bits of signed deltas packed least significant
  bit first; each delta adds to the previous sample, channel by channel.

Sample times come from the last-sample timestamp and the rate (:class:`SampleTimeline`), so a
stream is one continuous time axis and a lost notification shows as a gap.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass, field
from typing import Any

PMD_SERVICE_UUID = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
PMD_CONTROL_POINT_UUID = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
PMD_DATA_UUID = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"

CONTROL_POINT_RESPONSE = 0xF0
FEATURES_READ = 0x0F
HEADER_BYTES = 10
COMPRESSED_FLAG = 0x80
NS_PER_S = 1_000_000_000
H10_ECG_RATE_HZ = 130


class MalformedPmd(ValueError):
    """A PMD frame or control-point response that cannot be read; ``args[0]`` is one sentence."""


class MeasurementType(enum.IntEnum):
    ECG = 0
    PPG = 1
    ACC = 2
    PPI = 3
    GYRO = 5
    MAG = 6


class ControlOp(enum.IntEnum):
    GET_SETTINGS = 1
    START = 2
    STOP = 3


class ControlStatus(enum.IntEnum):
    SUCCESS = 0
    INVALID_OP_CODE = 1
    INVALID_MEASUREMENT_TYPE = 2
    NOT_SUPPORTED = 3
    INVALID_LENGTH = 4
    INVALID_PARAMETER = 5
    ALREADY_IN_STATE = 6
    INVALID_RESOLUTION = 7
    INVALID_SAMPLE_RATE = 8
    INVALID_RANGE = 9
    INVALID_MTU = 10
    INVALID_NUMBER_OF_CHANNELS = 11
    INVALID_STATE = 12
    DEVICE_IN_CHARGER = 13


class SettingType(enum.IntEnum):
    SAMPLE_RATE = 0
    RESOLUTION = 1
    RANGE = 2
    RANGE_MILLIUNIT = 3
    CHANNELS = 4
    FACTOR = 5


# bytes per value of each setting type
_SETTING_SIZE = {
    SettingType.SAMPLE_RATE: 2, SettingType.RESOLUTION: 2, SettingType.RANGE: 2,
    SettingType.RANGE_MILLIUNIT: 8, SettingType.CHANNELS: 1, SettingType.FACTOR: 4,
}

# unit of the raw counts, and the physical unit with its factor, per measurement type (as the H10 sends them)
_UNIT = {MeasurementType.ECG: "uV", MeasurementType.ACC: "mG"}
_PHYSICAL = {MeasurementType.ECG: ("mV", 1e-3), MeasurementType.ACC: ("g", 1e-3)}
_CHANNELS = {MeasurementType.ECG: 1, MeasurementType.ACC: 3}
# raw (uncompressed) frame type -> bytes per value, per measurement type
_RAW_WIDTH = {MeasurementType.ECG: {0: 3}, MeasurementType.ACC: {0: 1, 1: 2, 2: 3}}
# compressed frame type (low 7 bits) -> resolution in bits of the reference sample
_DELTA_RESOLUTION = {MeasurementType.ECG: {0: 24}, MeasurementType.ACC: {0: 16, 1: 16}}


def _name(enum_type: type[enum.IntEnum], value: int) -> str:
    try:
        return enum_type(value).name
    except ValueError:
        return f"unknown ({value:#04x})"


def _signed(raw: int, bits: int) -> int:
    return raw - (1 << bits) if raw & (1 << (bits - 1)) else raw


# --- control point -------------------------------------------------------------------------------

def encode_request(op: ControlOp, measurement: MeasurementType, settings: dict[SettingType, int] | None = None) -> bytes:
    """A control-point request; start takes the settings chosen from get settings (one value each)."""
    out = bytearray([op, measurement])
    for kind, value in (settings or {}).items():
        out += bytes([kind, 1]) + value.to_bytes(_SETTING_SIZE[kind], "little")
    return bytes(out)


def parse_settings(data: bytes) -> dict[SettingType, tuple[int, ...]]:
    """Settings as get settings returns them (and start sends them): every offered value per type."""
    out: dict[SettingType, tuple[int, ...]] = {}
    i = 0
    while i < len(data):
        if data[i] not in SettingType._value2member_map_:
            raise MalformedPmd(f"setting type {data[i]:#04x} at byte {i} is not one PMD defines")
        kind = SettingType(data[i])
        if i + 2 > len(data):
            raise MalformedPmd(f"setting {kind.name} at byte {i} has no value count")
        count, size = data[i + 1], _SETTING_SIZE[kind]
        end = i + 2 + count * size
        if end > len(data):
            raise MalformedPmd(f"setting {kind.name} announces {count} values but the bytes stop at {len(data)}")
        out[kind] = tuple(int.from_bytes(data[j:j + size], "little") for j in range(i + 2, end, size))
        i = end
    return out


@dataclass(frozen=True, slots=True)
class ControlResponse:
    """A control-point response: which request it answers, whether it worked, and what came back."""

    op: int
    measurement: int
    status: int
    more_frames: bool
    settings: dict[SettingType, tuple[int, ...]]
    parameters: bytes

    @property
    def ok(self) -> bool:
        return self.status == ControlStatus.SUCCESS

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "control_point_response",
            "op": _name(ControlOp, self.op).lower(),
            "measurement": _name(MeasurementType, self.measurement),
            "status": _name(ControlStatus, self.status).lower(),
            "status_code": self.status,
            "more_frames": self.more_frames,
            "settings": {k.name.lower(): list(v) for k, v in self.settings.items()},
            "parameters_hex": self.parameters.hex(),
        }


def decode_control_response(data: bytes) -> ControlResponse:
    if len(data) < 4 or data[0] != CONTROL_POINT_RESPONSE:
        raise MalformedPmd("a control-point response starts with 0xf0 and has at least op, type and status (4 bytes)")
    op, measurement, status = data[1], data[2], data[3]
    more = len(data) > 4 and data[4] != 0
    rest = data[5:]
    settings = parse_settings(rest) if op == ControlOp.GET_SETTINGS and status == ControlStatus.SUCCESS else {}
    return ControlResponse(op, measurement, status, more, settings, bytes(rest))


# --- features (a read of the control point) ------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Features:
    """What the strap can stream: the answer to reading the control point (``0x0f`` then a bit mask
    whose bit n says measurement type n is offered). A strap profile is chosen from this."""

    measurements: frozenset[int]

    def offers(self, measurement: MeasurementType) -> bool:
        return int(measurement) in self.measurements

    def to_json(self) -> dict[str, Any]:
        return {"kind": "features", "measurements": [_name(MeasurementType, m) for m in sorted(self.measurements)]}


def decode_features(data: bytes) -> Features:
    if len(data) < 2 or data[0] != FEATURES_READ:
        raise MalformedPmd("a features read starts with 0x0f and has at least one byte of bit mask")
    mask = int.from_bytes(data[1:], "little")
    return Features(frozenset(bit for bit in range(mask.bit_length()) if mask >> bit & 1))


# --- data frames ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class DataFrame:
    """One PMD data notification. ``samples`` are raw counts, one tuple of channels per sample."""

    measurement: int
    timestamp_ns: int
    frame_type: int
    samples: tuple[tuple[int, ...], ...]

    @property
    def compressed(self) -> bool:
        return bool(self.frame_type & COMPRESSED_FLAG)

    @property
    def unit(self) -> str:
        """The unit of the raw counts (µV for ECG, mG for ACC)."""
        return _UNIT.get(MeasurementType(self.measurement), "counts")

    @property
    def physical_unit(self) -> tuple[str, float]:
        """The unit people read (mV, g) and the factor from raw counts to it."""
        return _PHYSICAL.get(MeasurementType(self.measurement), ("counts", 1.0))

    def to_json(self) -> dict[str, Any]:
        unit, factor = self.physical_unit
        single = all(len(s) == 1 for s in self.samples)
        raw: list[Any] = [s[0] for s in self.samples] if single else [list(s) for s in self.samples]
        phys: list[Any] = [round(s[0] * factor, 6) for s in self.samples] if single else \
            [[round(v * factor, 6) for v in s] for s in self.samples]
        return {
            "kind": "data_frame",
            "measurement": _name(MeasurementType, self.measurement),
            "frame_type": self.frame_type,
            "compressed": self.compressed,
            "timestamp_ns": self.timestamp_ns,
            "timestamp_s": self.timestamp_ns / NS_PER_S,
            "n_samples": len(self.samples),
            "unit": unit,
            "samples": phys,
            "raw_unit": self.unit,
            "raw": raw,
        }


def _raw_samples(body: bytes, width: int, channels: int) -> tuple[tuple[int, ...], ...]:
    step = width * channels
    if len(body) % step:
        raise MalformedPmd(f"{len(body)} sample bytes are not a whole number of {step}-byte samples")
    bits = width * 8
    return tuple(
        tuple(_signed(int.from_bytes(body[i + c * width:i + (c + 1) * width], "little"), bits) for c in range(channels))
        for i in range(0, len(body), step)
    )


def _delta_samples(body: bytes, resolution: int, channels: int) -> tuple[tuple[int, ...], ...]:
    width = (resolution + 7) // 8
    if len(body) < width * channels:
        raise MalformedPmd(f"a delta frame needs a {width * channels}-byte reference sample; it has {len(body)} bytes")
    ref = _raw_samples(body[:width * channels], width, channels)[0]
    out = [ref]
    i = width * channels
    while i < len(body):
        if i + 2 > len(body):
            raise MalformedPmd(f"a delta block at byte {HEADER_BYTES + i} lacks its bit width and sample count")
        bits, count = body[i], body[i + 1]
        if not 1 <= bits <= 32:
            raise MalformedPmd(f"delta bit width {bits} at byte {HEADER_BYTES + i} is outside 1-32")
        n_bytes = (bits * channels * count + 7) // 8
        block = body[i + 2:i + 2 + n_bytes]
        if len(block) < n_bytes:
            raise MalformedPmd(f"a delta block announces {count} samples of {bits} bits but the frame ends early")
        packed = int.from_bytes(block, "little")
        mask = (1 << bits) - 1
        prev = out[-1]
        for s in range(count):
            base = s * channels * bits
            prev = tuple(prev[c] + _signed((packed >> (base + c * bits)) & mask, bits) for c in range(channels))
            out.append(prev)
        i += 2 + n_bytes
    return tuple(out)


def decode_data_frame(data: bytes, resolution: int | None = None) -> DataFrame:
    """One data notification; ``resolution`` (bits) overrides the reference width of a delta frame."""
    if len(data) < HEADER_BYTES:
        raise MalformedPmd(f"a PMD data frame has a 10-byte header (type, 8-byte timestamp, frame type); "
                           f"this one has {len(data)} bytes")
    measurement, frame_type = data[0], data[9]
    (timestamp,) = struct.unpack_from("<Q", data, 1)
    if measurement not in _CHANNELS:
        raise MalformedPmd(f"measurement type {_name(MeasurementType, measurement)} is not decoded here (only ECG and ACC)")
    kind = MeasurementType(measurement)
    body = data[HEADER_BYTES:]
    if frame_type & COMPRESSED_FLAG:
        bits = resolution or _DELTA_RESOLUTION[kind].get(frame_type & 0x7F)
        if bits is None:
            raise MalformedPmd(f"{kind.name} delta frame type {frame_type:#04x} is not one PMD defines")
        samples = _delta_samples(body, bits, _CHANNELS[kind])
    else:
        width = _RAW_WIDTH[kind].get(frame_type)
        if width is None:
            raise MalformedPmd(f"{kind.name} frame type {frame_type:#04x} is not one PMD defines")
        samples = _raw_samples(body, width, _CHANNELS[kind])
    if not samples:
        raise MalformedPmd("the frame has a header but no samples")
    return DataFrame(measurement, timestamp, frame_type, samples)


def encode_raw_frame(frame: DataFrame) -> bytes:
    """The bytes of an uncompressed frame (the simulator's strap and the byte-exact tests use it)."""
    kind = MeasurementType(frame.measurement)
    width = _RAW_WIDTH[kind][frame.frame_type]
    out = bytearray([frame.measurement]) + struct.pack("<Q", frame.timestamp_ns) + bytes([frame.frame_type])
    for sample in frame.samples:
        for value in sample:
            out += (value & ((1 << (8 * width)) - 1)).to_bytes(width, "little")
    return bytes(out)


def decode(data: bytes) -> ControlResponse | DataFrame | Features:
    """Whatever PMD sent: a control-point response (0xf0 …), the features read (0x0f …) or a data frame."""
    if data[:1] == bytes([CONTROL_POINT_RESPONSE]):
        return decode_control_response(data)
    if data[:1] == bytes([FEATURES_READ]):
        return decode_features(data)
    return decode_data_frame(data)


# --- sample times --------------------------------------------------------------------------------

@dataclass(slots=True)
class SampleTimeline:
    """Sample times in ns (strap clock) for a stream of frames at ``rate_hz``.

    Each frame's samples end at its timestamp and are ``1/rate`` apart; ``gaps`` lists where a
    frame's first sample is more than half a sample period away from where the previous frame left
    off (a lost notification, or the strap's clock jumping), as (frame index, missing seconds).
    """

    rate_hz: float
    frames: int = 0
    gaps: list[tuple[int, float]] = field(default_factory=list)
    _last_ns: int | None = None

    def times_ns(self, frame: DataFrame) -> list[int]:
        period = NS_PER_S / self.rate_hz
        n = len(frame.samples)
        times = [round(frame.timestamp_ns - (n - 1 - i) * period) for i in range(n)]
        if self._last_ns is not None:
            missing = times[0] - self._last_ns - period
            if abs(missing) > period / 2:
                self.gaps.append((self.frames, missing / NS_PER_S))
        self._last_ns = times[-1]
        self.frames += 1
        return times


def encode_delta_frame(measurement: MeasurementType, timestamp_ns: int, frame_type: int,
                       samples: list[tuple[int, ...]], resolution: int, block: int = 16) -> bytes:
    """A delta-compressed frame (what the H10 sends for ACC): the simulated strap serves these.

    Each block of up to ``block`` samples uses the fewest bits that hold its largest delta.
    """
    width = (resolution + 7) // 8
    out = bytearray([measurement]) + struct.pack("<Q", timestamp_ns) + bytes([frame_type | COMPRESSED_FLAG])
    for value in samples[0]:
        out += (value & ((1 << (8 * width)) - 1)).to_bytes(width, "little")
    deltas = [tuple(b - a for a, b in zip(p, q, strict=True)) for p, q in zip(samples, samples[1:])]
    for start in range(0, len(deltas), block):
        chunk = deltas[start:start + block]
        bits = max((d if d >= 0 else ~d).bit_length() + 1 for s in chunk for d in s)
        packed, shift = 0, 0
        for sample in chunk:
            for d in sample:
                packed |= (d & ((1 << bits) - 1)) << shift
                shift += bits
        out += bytes([bits, len(chunk)]) + packed.to_bytes((shift + 7) // 8, "little")
    return bytes(out)
