"""A scripted heart rate strap for the VM test, plus the virtual controller BlueZ sees as hci0.

Runs inside the VM. Two bumble controllers share one in-process :class:`bumble.link.LocalLink`:
one is attached to ``/dev/vhci`` and becomes BlueZ's ``hci0``; the other carries a bumble
:class:`~bumble.device.Device` that plays the strap: it advertises the Heart Rate Service, serves
Heart Rate (0x180D: 0x2A37 notify, 0x2A38 read = chest) and Battery (0x180F: 0x2A19 read = 87).

The scenario, which exercises what real straps do to a central:

1. wait for the central to subscribe to 0x2A37, send ``--phase1`` notifications;
2. drop the link from the strap's side (a remote disconnect), advertise again;
3. wait for the central to reconnect and re-subscribe, send ``--phase2`` notifications;
4. keep sending (the "tail") until the central disconnects or ``--max-seconds`` pass, so that a
   central that stops after some seconds of stream time always has something to stop on.

Every payload is recorded in ``sent.jsonl`` *after* bumble handed it to the link, with its phase;
``strap-events.jsonl`` records connections, subscriptions and disconnects.

It is also a Polar H10 as far as PMD goes (:class:`PmdServer`): Polar's PMD service with its control
point (read: the features, ECG and ACC; write: get settings, start, stop, answered by indication
as a real H10 answers, "invalid MTU" before the MTU exchange included) and data characteristic
(ECG raw frames of 73 samples at 130 Hz, ACC delta frames of 36 samples at the started rate), sent
while a measurement runs and recorded in ``pmd-sent.jsonl``; every control-point request is a
``pmd_request`` line in ``strap-events.jsonl``. A dropped link stops the measurements, as on a real strap.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import struct
import sys
import time
from pathlib import Path

from bumble import gatt, hci
from bumble.controller import Controller
from bumble.device import Device
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport import open_transport
from bumble.transport.common import AsyncPipeSink

try:  # run as a script in the VM (this directory is on sys.path) or imported as tests.vm.strap
    from scenario import BATTERY_PCT, BODY_LOCATION_CHEST, PAYLOADS, STRAP_ADDRESS, STRAP_NAME
except ImportError:
    from .scenario import BATTERY_PCT, BODY_LOCATION_CHEST, PAYLOADS, STRAP_ADDRESS, STRAP_NAME

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for the PMD frame encoder
from devices.pmd import encode_delta_frame  # noqa: E402 - after the path is known

log = logging.getLogger("vm.strap")

PMD_SERVICE = "FB005C80-02E7-F387-1CAD-8ACD2D8DF0C8"
PMD_CONTROL = "FB005C81-02E7-F387-1CAD-8ACD2D8DF0C8"
PMD_DATA = "FB005C82-02E7-F387-1CAD-8ACD2D8DF0C8"
PMD_FEATURES = bytes.fromhex("0f050000")  # ECG and ACC
# What a real H10 answers to get settings (ECG: phdiethelm/h10_ecg's capture; ACC: 25-200 Hz, 16 bit, 2-8 G)
PMD_SETTINGS = {0: bytes.fromhex("00" "0001" "8200" "0101" "0e00"),
                2: bytes.fromhex("00" "0004" "1900320064" "00c800" "0101" "1000" "0203" "020004000800")}
MIN_PMD_MTU = 232  # an ECG frame is 229 bytes
STRAP_EPOCH_NS = 599_616_554_640_998_550

HOST_CONTROLLER_ADDRESS = "00:1B:DC:0F:00:01"


class StrapLink(LocalLink):
    """bumble's LocalLink, but LE data carries the address the connection was made with.

    bumble 0.0.236 stamps LE ACL data with the sending controller's *random* address. The kernel
    sets a non-resolvable random address for active scanning and then connects with its public
    address, so the strap's controller drops every ATT packet from BlueZ ("no connection for
    <random address>") and the connection times out. Use the connection's own address instead.
    """

    def send_acl_data(self, sender_controller, destination_address, transport, data):
        from bumble.core import PhysicalTransport

        if transport != PhysicalTransport.LE:
            return super().send_acl_data(sender_controller, destination_address, transport, data)
        connection = sender_controller.le_connections.get(destination_address)
        destination = self.find_le_controller(destination_address)
        if connection is None or destination is None:
            log.warning("LE data for %s dropped: no such connection", destination_address)
            return None
        source = connection.self_address
        asyncio.get_running_loop().call_soon(destination.on_link_acl_data, source, transport, data)
        return None


def advertising_data(name: str) -> bytes:
    """Flags (LE general discoverable, no BR/EDR), the 0x180D service UUID and the name."""
    encoded = name.encode()
    return bytes([2, 0x01, 0x06, 3, 0x03, 0x0D, 0x18, len(encoded) + 1, 0x09]) + encoded


class Recorder:
    """Appends JSON lines to the results share, flushed at once (the VM may be killed)."""

    def __init__(self, path: Path) -> None:
        self._fh = path.open("a", buffering=1)
        self._t0 = time.monotonic()

    def write(self, **record: object) -> None:
        record = {"t": round(time.monotonic() - self._t0, 4), **record}
        self._fh.write(json.dumps(record) + "\n")
        self._fh.flush()


class PmdServer:
    """The PMD side of the strap: control-point dialogue and the ECG/ACC streams it starts."""

    def __init__(self, device: Device, results: Path, events: Recorder) -> None:
        self.device = device
        self.events = events
        self.sent = Recorder(results / "pmd-sent.jsonl")
        self.tasks: dict[int, asyncio.Task] = {}
        self.control = gatt.Characteristic(
            PMD_CONTROL,
            gatt.Characteristic.Properties.READ | gatt.Characteristic.Properties.WRITE
            | gatt.Characteristic.Properties.INDICATE,
            gatt.Characteristic.READABLE | gatt.Characteristic.WRITEABLE,
            gatt.CharacteristicValue(read=lambda _conn: PMD_FEATURES, write=self._on_write),
        )
        self.data = gatt.Characteristic(PMD_DATA, gatt.Characteristic.Properties.NOTIFY, 0, b"")
        self.service = gatt.Service(PMD_SERVICE, [self.control, self.data])
        self.t0 = time.monotonic()

    def _on_write(self, connection, value: bytes) -> None:
        value = bytes(value)
        op = value[0] if value else 0
        kind = value[1] if len(value) >= 2 else 0xFF
        self.events.write(event="pmd_request", op=op, measurement=kind, hex=value.hex(), mtu=connection.att_mtu)
        asyncio.get_running_loop().create_task(self._answer(connection, op, kind, value))

    async def _answer(self, connection, op: int, kind: int, value: bytes) -> None:
        await asyncio.sleep(0.02)
        if connection.att_mtu < MIN_PMD_MTU:
            response = bytes([0xF0, op, kind, 10])  # invalid MTU, as a real H10 says before the exchange
        elif kind not in PMD_SETTINGS:
            response = bytes([0xF0, op, kind, 2])
        elif op == 1:
            response = bytes([0xF0, op, kind, 0]) + PMD_SETTINGS[kind]
        elif op == 2:
            settings = _settings(value[2:])
            running = kind in self.tasks and not self.tasks[kind].done()
            if not running:
                self.tasks[kind] = asyncio.get_running_loop().create_task(self._stream(kind, settings))
            response = bytes([0xF0, op, kind, 6 if running else 0, 0])
        elif op == 3:
            task = self.tasks.pop(kind, None)
            if task is not None:
                task.cancel()
            response = bytes([0xF0, op, kind, 0 if task is not None else 6])
        else:
            response = bytes([0xF0, op, kind, 1])
        self.events.write(event="pmd_response", hex=response.hex())
        try:
            await self.device.indicate_subscriber(connection, self.control, response)
        except Exception as err:  # noqa: BLE001 - the central may be gone
            log.info("PMD response not delivered: %s", err)

    def stop_all(self) -> None:
        """A dropped link ends every measurement (the central restarts them after reconnecting)."""
        for task in self.tasks.values():
            task.cancel()
        self.tasks.clear()

    async def _stream(self, kind: int, settings: dict[int, int]) -> None:
        rate = settings.get(0, 130)
        n = 73 if kind == 0 else 36
        name = "ecg" if kind == 0 else "acc"
        self.events.write(event="pmd_started", measurement=name, rate=rate, settings={str(k): v for k, v in settings.items()})
        k = 0
        start = time.monotonic()
        try:
            while True:
                await asyncio.sleep(max(0.0, start + (k + n) / rate - time.monotonic()))
                t = [start - self.t0 + (k + i) / rate for i in range(n)]  # strap time: every frame differs
                ts = STRAP_EPOCH_NS + round(t[-1] * 1e9)
                if kind == 0:
                    samples = [round(800 * math.exp(-((x % 0.9) - 0.3) ** 2 / 2e-4) + 40 * math.sin(x)) for x in t]
                    payload = bytes([0]) + struct.pack("<Q", ts) + bytes([0]) + b"".join(
                        (v & 0xFFFFFF).to_bytes(3, "little") for v in samples)
                else:
                    samples3 = [(round(300 * math.sin(0.3 * x)), round(20 * math.cos(x)), 950 + round(15 * math.sin(1.5 * x)))
                                for x in t]
                    payload = encode_delta_frame(2, ts, 0x01, samples3, 16)  # type: ignore[arg-type]
                await self.device.notify_subscribers(self.data, payload)
                self.sent.write(pmd=name, k=k, n=n, payload=payload.hex())
                k += n
        except asyncio.CancelledError:
            self.events.write(event="pmd_stopped", measurement=name, samples=k)
            raise


def _settings(data: bytes) -> dict[int, int]:
    out, i = {}, 0
    sizes = {0: 2, 1: 2, 2: 2, 3: 8, 4: 1, 5: 4}
    while i + 2 <= len(data):
        kind, count = data[i], data[i + 1]
        size = sizes.get(kind, 2)
        out[kind] = int.from_bytes(data[i + 2:i + 2 + size], "little")
        i += 2 + count * size
    return out


class StrapScenario:
    def __init__(self, device: Device, hrm: gatt.Characteristic, results: Path, *, phase1: int, phase2: int,
                 rate_hz: float, max_seconds: float, silent_tail: bool = False, pmd: PmdServer | None = None,
                 events: Recorder | None = None) -> None:
        self.device = device
        self.pmd = pmd
        self.hrm = hrm
        self.phase1, self.phase2 = phase1, phase2
        self.period = 1.0 / rate_hz
        self.max_seconds = max_seconds
        self.silent_tail = silent_tail
        self.sent = Recorder(results / "sent.jsonl")
        self.events = events or Recorder(results / "strap-events.jsonl")
        self.connection = None
        self._subscribed = asyncio.Event()
        self._disconnected = asyncio.Event()
        self._seq = 0
        device.on("connection", self._on_connection)
        device.on("characteristic_subscription", self._on_subscription)

    def _on_connection(self, connection) -> None:
        self.connection = connection
        self._disconnected.clear()
        self.events.write(event="connection", peer=str(connection.peer_address))
        connection.on("disconnection", self._on_disconnection)

    def _on_disconnection(self, reason) -> None:
        self.events.write(event="disconnection", reason=int(reason) if reason is not None else None)
        if self.pmd is not None:
            self.pmd.stop_all()
        self.connection = None
        self._subscribed.clear()
        self._disconnected.set()

    def _on_subscription(self, connection, characteristic, notify_enabled, indicate_enabled) -> None:
        self.events.write(event="subscription", uuid=str(characteristic.uuid), notify=bool(notify_enabled))
        if characteristic is self.hrm and notify_enabled:
            self._subscribed.set()
        elif characteristic is self.hrm:
            self._subscribed.clear()

    async def advertise(self) -> None:
        await self.device.start_advertising(
            advertising_data=advertising_data(STRAP_NAME),
            advertising_interval_min=20, advertising_interval_max=20,
        )
        self.events.write(event="advertising")

    async def _send(self, phase: str) -> bool:
        """One notification; False if the link is gone."""
        if self.connection is None or not self._subscribed.is_set():
            return False
        payload = PAYLOADS[self._seq % len(PAYLOADS)]
        await self.device.notify_subscribers(self.hrm, payload)
        self.sent.write(phase=phase, seq=self._seq, payload=payload.hex())
        self._seq += 1
        return True

    async def _send_run(self, phase: str, count: int) -> int:
        sent = 0
        while sent < count:
            if not await self._send(phase):
                break
            sent += 1
            await asyncio.sleep(self.period)
        return sent

    async def run(self) -> None:
        await self.advertise()
        await self._subscribed.wait()
        await asyncio.sleep(0.5)  # let the central finish its set-up (reads, notify acquisition)
        sent = await self._send_run("phase1", self.phase1)
        self.events.write(event="phase1_done", sent=sent)
        await asyncio.sleep(1.5)  # the last notifications reach the central before the link drops
        if self.connection is not None:
            await self.connection.disconnect()
        await self._disconnected.wait()
        await self.advertise()
        await self._subscribed.wait()
        await asyncio.sleep(0.5)
        # Start phase 2 with the cycle's first payload (it carries RR) so the first sample after
        # the reconnect has beats to mark as following a gap.
        self._seq += (-self._seq) % len(PAYLOADS)
        sent = await self._send_run("phase2", self.phase2)
        self.events.write(event="phase2_done", sent=sent)
        deadline = time.monotonic() + self.max_seconds
        if self.silent_tail:
            # A strap that keeps the link but stops notifying (some do without skin contact).
            while time.monotonic() < deadline and self.connection is not None:
                await asyncio.sleep(0.2)
        while time.monotonic() < deadline and await self._send("tail"):
            await asyncio.sleep(self.period)
        self.events.write(event="end", central_gone=self.connection is None)


def build_services(pmd: PmdServer | None = None) -> tuple[list[gatt.Service], gatt.Characteristic]:
    hrm = gatt.Characteristic(
        gatt.GATT_HEART_RATE_MEASUREMENT_CHARACTERISTIC,
        gatt.Characteristic.Properties.NOTIFY,
        0,
        PAYLOADS[0],
    )
    location = gatt.Characteristic(
        gatt.GATT_BODY_SENSOR_LOCATION_CHARACTERISTIC,
        gatt.Characteristic.Properties.READ,
        gatt.Characteristic.READABLE,
        bytes([BODY_LOCATION_CHEST]),
    )
    battery = gatt.Characteristic(
        gatt.GATT_BATTERY_LEVEL_CHARACTERISTIC,
        gatt.Characteristic.Properties.READ | gatt.Characteristic.Properties.NOTIFY,
        gatt.Characteristic.READABLE,
        bytes([BATTERY_PCT]),
    )
    services = [
        gatt.Service(gatt.GATT_HEART_RATE_SERVICE, [hrm, location]),
        gatt.Service(gatt.GATT_BATTERY_SERVICE, [battery]),
    ]
    if pmd is not None:
        services.append(pmd.service)
    return services, hrm


async def main(args: argparse.Namespace) -> None:
    results = Path(args.results)
    link = StrapLink()
    log.info("Opening the VHCI transport")
    async with await open_transport("vhci") as transport:
        host_side = Controller("hci0", host_source=transport.source, host_sink=transport.sink, link=link,
                               public_address=HOST_CONTROLLER_ADDRESS)
        # The kernel waits for enhanced connection-complete events when the controller claims LL
        # privacy or extended advertising; bumble does not send those, so do not claim them.
        host_side.le_features = host_side.le_features & ~(
            hci.LeFeatureMask.LL_PRIVACY | hci.LeFeatureMask.LE_EXTENDED_ADVERTISING)
        strap_side = Controller("strap", link=link)
        device = Device(name=STRAP_NAME, address=hci.Address(STRAP_ADDRESS),
                        host=Host(strap_side, AsyncPipeSink(strap_side)))
        events = Recorder(results / "strap-events.jsonl")
        pmd = None if args.no_pmd else PmdServer(device, results, events)
        services, hrm = build_services(pmd)
        device.add_services(services)
        await device.power_on()
        (results / "strap-ready").write_text(STRAP_ADDRESS + "\n")
        scenario = StrapScenario(device, hrm, results, phase1=args.phase1, phase2=args.phase2, rate_hz=args.rate,
                                 max_seconds=args.max_seconds, silent_tail=args.silent_tail, pmd=pmd, events=events)
        await scenario.run()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("results", help="directory for sent.jsonl and strap-events.jsonl")
    p.add_argument("--phase1", type=int, default=18)
    p.add_argument("--phase2", type=int, default=18)
    p.add_argument("--rate", type=float, default=8.0, help="notifications per second")
    p.add_argument("--max-seconds", type=float, default=60.0, help="longest tail after phase 2")
    p.add_argument("--silent-tail", action="store_true", help="after phase 2 keep the link but send nothing")
    p.add_argument("--no-pmd", action="store_true", help="a plain heart rate strap: no PMD service")
    return p.parse_args(argv)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    asyncio.run(main(parse_args()))
