"""The strap profile chosen by what the strap offers, and the PMD control-point dialogue with its retries.

A fake bleak client plays the strap here because the failures (an H10 that says "invalid MTU",
a measurement that never answers) cannot be staged on demand by a real stack; the VM test
(tests/test_ble_vm.py) runs the same code through real bleak and BlueZ against a PMD strap.
"""

from __future__ import annotations

import asyncio
import struct

import pytest

from devices import pmd, pmd_control
from devices.backoff import Backoff
from devices.ble_strap import BleStrap
from devices.hrm import BATTERY_LEVEL_UUID, BODY_SENSOR_LOCATION_UUID, HEART_RATE_MEASUREMENT_UUID
from devices.stream import EcgChunk, HeartSample, LinkEvent, LinkState

ECG_SETTINGS = bytes.fromhex("f00100000000018200" "01010e00")
ACC_SETTINGS = bytes.fromhex("f0010200" "00" "0004190032006400c800" "01011000" "0203020004000800")


class Services:
    def __init__(self, pmd_offered: bool) -> None:
        self.pmd_offered = pmd_offered

    def get_service(self, uuid):
        return object() if uuid == pmd.PMD_SERVICE_UUID and self.pmd_offered else None


class FakeH10:
    """A strap with heart rate, and PMD if asked: answers as an H10 does, with scripted trouble."""

    def __init__(self, *, pmd_offered=True, mtu_errors=0, silent=(), silent_start=(), slow_stop_s=0.0) -> None:
        self.slow_stop_s = slow_stop_s  # a strap that answers a stop late (a busy link)
        self.log: list[tuple[str, int, int]] = []  # ("write" | "answer", op, kind) in the order they happened
        self.services = Services(pmd_offered)
        self.mtu_errors = {0: mtu_errors}
        self.silent = set(silent)
        self.silent_start = set(silent_start)
        self.callbacks: dict[str, object] = {}
        self.writes: list[bytes] = []
        self.disconnected = False

    async def connect(self):
        pass

    async def disconnect(self):
        self.disconnected = True

    async def read_gatt_char(self, uuid):
        return {BATTERY_LEVEL_UUID: bytearray([90]), BODY_SENSOR_LOCATION_UUID: bytearray([1]),
                pmd.PMD_CONTROL_POINT_UUID: bytearray.fromhex("0f05")}[uuid]

    async def start_notify(self, uuid, callback):
        self.callbacks[uuid] = callback

    async def write_gatt_char(self, uuid, data, response=False):
        assert uuid == pmd.PMD_CONTROL_POINT_UUID and response
        data = bytes(data)
        self.writes.append(data)
        op, kind = data[0], data[1]
        self.log.append(("write", op, kind))
        if kind in self.silent or (op == 2 and kind in self.silent_start):
            return
        if self.mtu_errors.get(kind):
            self.mtu_errors[kind] -= 1
            answer = bytes([0xF0, op, kind, 10])
        elif op == 1:
            answer = ECG_SETTINGS if kind == 0 else ACC_SETTINGS
        else:
            answer = bytes([0xF0, op, kind, 0, 0])
        def answer_now() -> None:
            self.log.append(("answer", op, kind))
            self.callbacks[pmd.PMD_CONTROL_POINT_UUID](None, bytearray(answer))
        asyncio.get_running_loop().call_later(self.slow_stop_s if op == 3 else 0.001, answer_now)

    def ecg(self, ts_ns: int) -> None:
        frame = bytes([0]) + struct.pack("<Q", ts_ns) + bytes([0]) + b"".join(v.to_bytes(3, "little", signed=True)
                                                                            for v in range(-36, 37))
        self.callbacks[pmd.PMD_DATA_UUID](None, bytearray(frame))

    def hr(self) -> None:
        self.callbacks[HEART_RATE_MEASUREMENT_UUID](None, bytearray.fromhex("105819030f03"))


@pytest.fixture(autouse=True)
def _quick_retries(monkeypatch):
    monkeypatch.setattr(pmd_control, "RESPONSE_TIMEOUT_S", 0.05)
    monkeypatch.setattr(pmd_control, "RETRY_DELAYS_S", (0.01, 0.02, 0.04))


class _Device:
    address = "A0:9E:1A:00:00:02"
    name = "Polar H10 1234"


def _strap(client: FakeH10, links: list | None = None, **kw) -> BleStrap:
    """A strap on ``client``; each connect's disconnect callback goes into ``links`` (to drop the link)."""
    async def found(target, timeout):
        return _Device()

    def connect(device, on_disconnect):
        if links is not None:
            links.append(on_disconnect)
        return client
    return BleStrap("Polar", find=found, client_factory=connect, backoff=Backoff(0.01, 2, 0.05), **kw)


async def _until_device_info(stream) -> list:
    items = []
    async for item in stream:
        items.append(item)
        if isinstance(item, LinkEvent) and item.kind is LinkState.DEVICE_INFO:
            return items
    return items


def _ops(client: FakeH10) -> list[tuple[int, int]]:
    return [(w[0], w[1]) for w in client.writes]


async def test_an_h10_gets_ecg_and_acc_started_after_an_invalid_mtu_and_stopped_on_close():
    client = FakeH10(mtu_errors=2)
    strap = _strap(client)
    stream = strap.items()
    info = (await _until_device_info(stream))[-1].detail
    assert info["pmd"] == {"ecg": {"sample_rate": 130, "resolution": 14},
                           "acc": {"sample_rate": 50, "resolution": 16, "range": 8}}
    assert "pmd_unavailable" not in info and info["battery_pct"] == 90
    # ECG asked three times (two "invalid MTU" answers), then started; ACC at once; the start bytes as the H10 wants them.
    assert _ops(client) == [(1, 0), (1, 0), (1, 0), (2, 0), (1, 2), (2, 2)]
    assert client.writes[3] == bytes.fromhex("0200000182000101 0e00".replace(" ", ""))
    assert client.writes[5] == bytes.fromhex("0202000132000101100002010800")
    client.hr()
    client.ecg(10**15)
    got = [await stream.__anext__() for _ in range(2)]
    await asyncio.sleep(73 / 130)  # the next frame comes a frame's duration later, as from a strap
    client.ecg(10**15 + round(73 / 130 * 1e9))
    got.append(await stream.__anext__())
    assert isinstance(got[0], HeartSample)
    assert [type(g) for g in got[1:]] == [EcgChunk, EcgChunk] and got[2].samples_uv == tuple(range(-36, 37))
    assert got[2].fs == pytest.approx(130.0, rel=1e-3)
    await strap.aclose()
    await stream.aclose()
    assert _ops(client)[-2:] == [(3, 2), (3, 0)] and client.disconnected


async def test_a_measurement_that_never_answers_is_left_out_and_said_once():
    client = FakeH10(silent={2})
    strap = _strap(client)
    stream = strap.items()
    items = await _until_device_info(stream)
    info = items[-1].detail
    assert info["pmd"] == {"ecg": {"sample_rate": 130, "resolution": 14}}
    assert set(info["pmd_unavailable"]) == {"acc"} and "did not answer" in info["pmd_unavailable"]["acc"]
    assert _ops(client).count((1, 2)) == 4  # the first try and three retries, then on without it
    await strap.aclose()
    await stream.aclose()
    assert (3, 2) not in _ops(client) and (3, 0) in _ops(client)


@pytest.mark.parametrize("offered, flag", [(False, True), (True, False)])
async def test_a_plain_strap_or_no_pmd_runs_heart_rate_only(offered, flag):
    client = FakeH10(pmd_offered=offered)
    strap = _strap(client, pmd=flag)
    stream = strap.items()
    info = (await _until_device_info(stream))[-1].detail
    assert info == {"battery_pct": 90, "body_location": "chest"}
    assert client.writes == [] and pmd.PMD_DATA_UUID not in client.callbacks
    await strap.aclose()
    await stream.aclose()


async def _connected(stream) -> None:
    kinds = [(await stream.__anext__()).kind for _ in range(2)]
    assert kinds in ([LinkState.CONNECTING, LinkState.CONNECTED], [LinkState.RECONNECTING, LinkState.RECONNECTED])


async def test_heart_rate_flows_at_once_while_a_silent_strap_s_pmd_is_set_up(monkeypatch):
    """A strap whose PMD never answers: heart rate comes from the first notification, not after the set-up
    has given up (4 tries of each measurement, 0.3 s each here: 11.5 s each on a real strap)."""
    monkeypatch.setattr(pmd_control, "RESPONSE_TIMEOUT_S", 0.3)
    client = FakeH10(silent={0, 2})
    strap = _strap(client)
    stream = strap.items()
    await _connected(stream)
    client.hr()
    sample = await stream.__anext__()
    assert isinstance(sample, HeartSample) and sample.hr_bpm == 88
    client.hr()
    assert isinstance(await stream.__anext__(), HeartSample)
    info = await stream.__anext__()  # the one device_info, once the set-up has given up
    assert info.kind is LinkState.DEVICE_INFO and info.detail["battery_pct"] == 90
    assert set(info.detail["pmd_unavailable"]) == {"ecg", "acc"} and info.detail["pmd"] == {}
    assert info.t - sample.t >= 8 * 0.3  # the heart rate did not wait for the eight unanswered requests
    await strap.aclose()
    await stream.aclose()
    assert (3, 0) not in _ops(client) and (3, 2) not in _ops(client)  # nothing started, nothing to stop


async def test_a_link_lost_during_the_pmd_set_up_sets_it_up_afresh_after_reconnecting():
    client, links = FakeH10(silent={0}), []
    strap = _strap(client, links)
    stream = strap.items()
    await _connected(stream)
    pulling = asyncio.ensure_future(stream.__anext__())
    for _ in range(400):  # until the set-up is asking for the ECG's settings
        if (1, 0) in _ops(client):
            break
        await asyncio.sleep(0.005)
    links[-1](client)  # the strap drops the link
    down = await pulling
    assert down.kind is LinkState.DISCONNECTED  # and no device_info for a link that never finished its set-up
    client.silent.clear()
    asked_before = len(client.writes)
    await _connected(stream)
    info = await _until_device_info(stream)
    assert set(info[-1].detail["pmd"]) == {"ecg", "acc"} and "pmd_unavailable" not in info[-1].detail
    assert _ops(client)[asked_before:] == [(1, 0), (2, 0), (1, 2), (2, 2)]  # afresh, not the old set-up's retries
    client.hr()
    assert isinstance(await stream.__anext__(), HeartSample)
    await strap.aclose()
    await stream.aclose()


async def test_a_close_during_the_set_up_stops_what_was_asked_to_start():
    client = FakeH10(silent_start={2})  # the ACC start is never answered
    strap = _strap(client)
    stream = strap.items()
    await _connected(stream)
    pulling = asyncio.ensure_future(stream.__anext__())  # the session reads on, as the runner does
    for _ in range(400):  # until the ACC start has been asked (counted in requests, not timed)
        if (2, 2) in _ops(client):
            break
        await asyncio.sleep(0.005)
    assert (2, 2) in _ops(client) and not pulling.done()  # no device_info yet: the set-up is under way
    await strap.aclose()
    with pytest.raises(StopAsyncIteration):
        await pulling
    await stream.aclose()
    assert _ops(client)[-2:] == [(3, 2), (3, 0)] and client.disconnected


async def test_on_close_every_stop_is_asked_before_a_slow_answer_comes():
    """A busy link answers stops late: the ECG stop is asked at once, not after the ACC stop's answer
    (under load that answer came so late that the link was let go with ECG still running)."""
    client = FakeH10(slow_stop_s=0.03)  # later than nothing, sooner than the response timeout (0.05 here)
    strap = _strap(client)
    stream = strap.items()
    await _until_device_info(stream)
    await strap.aclose()
    await stream.aclose()
    assert _ops(client)[-2:] == [(3, 2), (3, 0)] and client.disconnected
    log = client.log
    assert log.index(("write", 3, 0)) < log.index(("answer", 3, 2))  # both asked before the first answer
    assert ("answer", 3, 0) in log  # and both answers awaited before letting go
