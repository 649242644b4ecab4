"""The strap's connect/retry logic with a fake bleak client, for failures BlueZ can't stage on demand.

The real stack (BlueZ in a VM, bumble as the strap) is exercised in test_ble_vm.py.
"""

from __future__ import annotations

import asyncio
import random

import pytest
from bleak.exc import BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason, BleakDBusError, BleakError

from devices.backoff import Backoff
from devices.ble_strap import BleStrap, explain_bluetooth_error, is_address
from devices.errors import BluetoothUnavailable, StrapNotFound
from devices.hrm import HEART_RATE_MEASUREMENT_UUID, BATTERY_LEVEL_UUID, BODY_SENSOR_LOCATION_UUID
from devices.stream import HeartSample, LinkEvent, LinkState


class FakeDevice:
    address = "A0:9E:1A:00:00:01"
    name = "Polar H10 0000"


class FakeClient:
    """Stands in for BleakClient; the test drives notifications and disconnects."""

    connect_failures: list[BaseException] = []
    instances: list["FakeClient"] = []

    def __init__(self, device, on_disconnect):
        self.device = device
        self.on_disconnect = on_disconnect
        self.notify = None
        self.disconnected = False
        FakeClient.instances.append(self)

    async def connect(self):
        if FakeClient.connect_failures:
            raise FakeClient.connect_failures.pop(0)

    async def read_gatt_char(self, uuid):
        if uuid == BATTERY_LEVEL_UUID:
            return bytearray([64])
        if uuid == BODY_SENSOR_LOCATION_UUID:
            return bytearray([1])
        raise BleakError("not found")

    async def start_notify(self, uuid, callback):
        assert uuid == HEART_RATE_MEASUREMENT_UUID
        self.notify = callback

    async def disconnect(self):
        self.disconnected = True

    def send(self, hexstr: str) -> None:
        self.notify(None, bytearray.fromhex(hexstr))

    def drop(self) -> None:
        self.on_disconnect(self)


@pytest.fixture(autouse=True)
def _reset_fake():
    FakeClient.connect_failures = []
    FakeClient.instances = []


def _strap(find=None, **kw) -> BleStrap:
    async def found(target, timeout):
        return FakeDevice()

    return BleStrap("Polar H10", find=find or found, client_factory=FakeClient,
                    backoff=Backoff(initial=0.01, maximum=0.05, rng=random.Random(1)), **kw)


async def _collect_until(agen, predicate, limit=50):
    seen = []
    async for item in agen:
        seen.append(item)
        if predicate(item) or len(seen) >= limit:
            break
    return seen


def _kinds(items):
    return [i.kind for i in items if isinstance(i, LinkEvent)]


async def test_connects_reads_info_streams_and_reconnects_after_a_drop():
    strap = _strap()
    stream = strap.items()
    head = await _collect_until(stream, lambda i: isinstance(i, LinkEvent) and i.kind is LinkState.DEVICE_INFO)
    assert _kinds(head) == [LinkState.CONNECTING, LinkState.CONNECTED, LinkState.DEVICE_INFO]
    assert head[-1].detail == {"battery_pct": 64, "body_location": "chest"}

    client = FakeClient.instances[-1]
    client.send("105819030f03")
    first = await stream.__anext__()
    assert isinstance(first, HeartSample) and first.rr_ticks == (793, 783)

    # The link drops; two reconnect attempts fail; the third succeeds.
    FakeClient.connect_failures = [BleakError("le-connection-abort-by-local"), asyncio.TimeoutError()]
    client.drop()
    items = await _collect_until(stream, lambda i: isinstance(i, LinkEvent) and i.kind is LinkState.DEVICE_INFO)
    kinds = _kinds(items)
    assert kinds[0] is LinkState.DISCONNECTED
    assert kinds.count(LinkState.RECONNECTING) >= 3  # announce + a retry notice per failure
    assert LinkState.RECONNECTED in kinds
    failures = [i for i in items if isinstance(i, LinkEvent) and "retry_in_s" in i.detail]
    assert len(failures) == 2 and all(0 < f.detail["retry_in_s"] <= 0.06 for f in failures)
    assert client.disconnected  # the old client was let go

    FakeClient.instances[-1].send("1055db02b302")
    gap = await stream.__anext__()
    sample = await stream.__anext__()
    assert gap.kind is LinkState.GAP and gap.detail["reason"] == "link lost"
    assert sample.after_gap and sample.rr_ticks == (731, 691)
    await strap.aclose()
    await stream.aclose()


async def test_strap_not_found_before_first_connection_is_one_clear_error():
    async def nothing(target, timeout):
        return None

    strap = _strap(find=nothing)
    with pytest.raises(StrapNotFound, match="no strap matching 'Polar H10'.*--simulate"):
        async for _ in strap:
            pass


@pytest.mark.parametrize("error,phrase", [
    (BleakBluetoothNotAvailableError("off", BleakBluetoothNotAvailableReason.POWERED_OFF), "switched off"),
    (BleakBluetoothNotAvailableError("none", BleakBluetoothNotAvailableReason.NO_BLUETOOTH), "no Bluetooth adapter"),
    (BleakBluetoothNotAvailableError("denied", BleakBluetoothNotAvailableReason.DENIED_BY_USER), "permission"),
    (BleakDBusError("org.bluez.Error.NotReady", []), "switched off"),
    (BleakDBusError("org.freedesktop.DBus.Error.AccessDenied", []), "bluetooth' group"),
    (BleakDBusError("org.freedesktop.DBus.Error.ServiceUnknown", []), "bluetoothd"),
    (FileNotFoundError(2, "No such file or directory"), "no system D-Bus"),
])
async def test_bluetooth_unavailable_is_explained(error, phrase):
    async def failing(target, timeout):
        raise error

    strap = _strap(find=failing)
    with pytest.raises(BluetoothUnavailable, match=phrase):
        async for _ in strap:
            pass


def test_unknown_errors_are_not_dressed_up():
    assert explain_bluetooth_error(ValueError("x")) is None
    assert explain_bluetooth_error(BleakDBusError("org.bluez.Error.Failed", [])) is None


async def test_retries_continue_while_the_session_runs_and_close_stops_them():
    strap = _strap()
    stream = strap.items()
    await _collect_until(stream, lambda i: isinstance(i, LinkEvent) and i.kind is LinkState.DEVICE_INFO)
    FakeClient.connect_failures = [BleakError("busy")] * 1000
    FakeClient.instances[-1].drop()
    items = await _collect_until(stream, lambda i: False, limit=12)
    assert _kinds(items).count(LinkState.RECONNECTING) >= 10
    await strap.aclose()
    rest = [i async for i in stream]
    assert len(rest) <= 2  # ends promptly once closed


def test_backoff_grows_caps_and_resets():
    b = Backoff(initial=1, factor=2, maximum=30, jitter=0.0)
    assert [b.next_delay() for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    b.reset()
    assert b.next_delay() == 1
    jittery = Backoff(initial=10, maximum=10, jitter=0.1, rng=random.Random(0))
    delays = [jittery.next_delay() for _ in range(50)]
    assert all(9 <= d <= 11 for d in delays) and len(set(delays)) > 40


def test_address_or_name():
    assert is_address("A0:9E:1A:12:34:56")
    assert is_address("5B5E3C1A-2F4B-4E0A-9C7E-1234567890AB")
    assert not is_address("Polar H10 12345678")


async def test_stream_command_ends_on_time_while_the_strap_is_silent(monkeypatch, capsys):
    """`stream --seconds` must end even when no notification ever comes (found in the VM test)."""
    import sessions.commands.stream as stream_cmd
    from sessions.cli import build_parser

    async def fake_open(args, duration_s=None):
        return _strap()

    monkeypatch.setattr(stream_cmd, "open_source", fake_open)
    args = build_parser().parse_args(["stream", "--device", "Polar H10", "--seconds", "0.5", "--json"])
    await asyncio.wait_for(stream_cmd._stream(args), timeout=5)
    lines = capsys.readouterr().out.splitlines()
    assert '"event":"connected"' in lines[1]
    assert '"event":"ended"' in lines[-1] and "duration reached" in lines[-1]
