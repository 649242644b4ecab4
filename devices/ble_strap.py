"""A real chest strap over Bluetooth LE (bleak): scan, connect, stream, reconnect for ever.

Link loss is normal life for a strap (it drops 20-30 s after losing skin contact, BlueZ links have
been seen to drop at 30 s and 150 s), so after the first successful connection the source keeps
trying with backoff for as long as the session runs, marks the gap, and never invents RR across
it. Only a failure *before* the first connection ends the stream, with one sentence saying what
to do.

The profile follows what the strap offers: a plain Heart Rate Service strap streams heart rate and
RR only; a strap that also has Polar's PMD service (the H10) gets its ECG (130 Hz) and chest
accelerometer (50 Hz, 8 G) started after every connect (:mod:`devices.pmd_control`), their frames
put on the session clock by :class:`~devices.pmd_stream.PmdStream`, and stopped on close. A
measurement the strap will not start is left out and said once, in the ``device_info`` event.

PMD is set up beside the heart rate, not before it: its dialogue can take up to about 23 s on a strap
that never answers (two measurements, retries), and heart rate must flow from the first beat. So the
set-up runs as a task while the notifications are pumped; for such a strap the one ``device_info``
event (battery, body location, what PMD streams or why not) comes when the set-up is done, stamped
then; a plain strap's comes at once. A link that drops during the set-up cancels it (the next
connect sets up afresh); a close during it cancels it and stops what was asked to start.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from devices.backoff import Backoff
from devices.errors import BluetoothUnavailable, DeviceError, StrapNotFound
from devices.hrm import (
    BATTERY_LEVEL_UUID,
    BODY_SENSOR_LOCATION_UUID,
    BODY_SENSOR_LOCATIONS,
    HEART_RATE_MEASUREMENT_UUID,
    HEART_RATE_SERVICE_UUID,
)
from devices.notifications import NotificationProcessor
from devices.pmd import PMD_SERVICE_UUID, MeasurementType
from devices.pmd_control import PmdControl, PmdUnavailable
from devices.pmd_stream import PmdStream
from devices.source import HeartSource
from devices.stream import LinkEvent, LinkState, StreamItem

log = logging.getLogger(__name__)

PMD_SETUP_CAP_S = 60.0
"""A PMD set-up still busy after this long (a GATT call that never returns) is given up: heart rate only."""

_ADDRESS = re.compile(r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f]{8}-([0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}$")

PAIRING_HINT = (
    "wet the strap's electrodes, put it on, and make sure no other app (Polar Beat, a watch) is "
    "connected to it; or run without a strap with --simulate"
)


@dataclass(frozen=True, slots=True)
class FoundStrap:
    address: str
    name: str | None
    rssi: int | None

    def to_json(self) -> dict[str, Any]:
        return {"address": self.address, "name": self.name, "rssi": self.rssi}


def is_address(text: str) -> bool:
    """A MAC address (Linux, Windows) or a CoreBluetooth UUID (macOS)."""
    return bool(_ADDRESS.match(text.strip()))


def explain_bluetooth_error(err: BaseException) -> DeviceError | None:
    """Turn the ways Bluetooth is unavailable into one actionable sentence (None: not that)."""
    from bleak.exc import BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason as R, BleakDBusError

    if isinstance(err, BleakBluetoothNotAvailableError):
        reason = err.reason
        if reason is R.POWERED_OFF:
            return BluetoothUnavailable("Bluetooth is switched off; switch it on (e.g. `bluetoothctl power on`) and try again.")
        if reason in (R.DENIED_BY_USER, R.DENIED_BY_SYSTEM, R.DENIED_BY_UNKNOWN):
            return BluetoothUnavailable(
                "this program is not allowed to use Bluetooth; grant it Bluetooth permission in your system settings "
                "and try again."
            )
        return BluetoothUnavailable(
            "no Bluetooth adapter was found; plug in or enable a Bluetooth LE adapter, or use --simulate."
        )
    if isinstance(err, BleakDBusError):
        name = err.dbus_error or ""
        if name.endswith("NotReady"):
            return BluetoothUnavailable(
                "Bluetooth is switched off; switch it on (e.g. `bluetoothctl power on`) and try again."
            )
        if name.endswith("AccessDenied") or name.endswith("NotPermitted") or name.endswith("NotAuthorized"):
            return BluetoothUnavailable(
                "this user may not use Bluetooth; add it to the 'bluetooth' group (or ask an administrator) and log in again."
            )
        if name.endswith("ServiceUnknown"):
            return BluetoothUnavailable(
                "the Bluetooth service (bluetoothd) is not running; start it with `systemctl start bluetooth`, or use --simulate."
            )
        return None
    if isinstance(err, (FileNotFoundError, ConnectionRefusedError)):
        return BluetoothUnavailable(
            "Bluetooth is not available here (no system D-Bus / BlueZ); start the Bluetooth service, or use --simulate."
        )
    from bleak.exc import BleakError

    if isinstance(err, BleakError) and "adapter" in str(err).lower():
        return BluetoothUnavailable(
            "no Bluetooth adapter was found; plug in or enable a Bluetooth LE adapter, or use --simulate."
        )
    return None


async def scan(timeout: float = 8.0) -> list[FoundStrap]:
    """Devices advertising the Heart Rate Service, strongest signal first (named or not)."""
    from bleak import BleakScanner

    try:
        found = await BleakScanner.discover(timeout=timeout, return_adv=True)
    except Exception as err:  # noqa: BLE001 - every platform fails differently; explain or re-raise
        friendly = explain_bluetooth_error(err)
        if friendly is None:
            raise
        raise friendly from None
    straps = [
        FoundStrap(dev.address, adv.local_name or dev.name, adv.rssi)
        for dev, adv in found.values()
        if HEART_RATE_SERVICE_UUID in {u.lower() for u in adv.service_uuids}
    ]
    return sorted(straps, key=lambda s: -(s.rssi if s.rssi is not None else -999))


async def find_strap(target: str, timeout: float) -> Any:
    """The BLEDevice for an address or a (case-insensitive, partial) name; None if not found."""
    from bleak import BleakScanner

    if is_address(target):
        return await BleakScanner.find_device_by_address(target, timeout=timeout)
    wanted = target.strip().lower()

    def match(device: Any, adv: Any) -> bool:
        name = (adv.local_name or device.name or "").lower()
        return bool(name) and wanted in name

    return await BleakScanner.find_device_by_filter(match, timeout=timeout)


def _bleak_client(device: Any, on_disconnect: Callable[[Any], None]) -> Any:
    from bleak import BleakClient

    return BleakClient(device, disconnected_callback=on_disconnect, timeout=20.0)


class BleStrap(HeartSource):
    """A Heart Rate Service strap found by name or address.

    ``find`` and ``client_factory`` are injectable so the retry logic can be tested with fakes for
    failures a real stack cannot stage on demand.
    """

    name = "ble"

    def __init__(
        self,
        target: str,
        *,
        find_timeout: float = 10.0,
        backoff: Backoff | None = None,
        find: Callable[[str, float], Awaitable[Any]] = find_strap,
        client_factory: Callable[[Any, Callable[[Any], None]], Any] = _bleak_client,
        clock: Callable[[], float] = time.monotonic,
        pmd: bool = True,
    ) -> None:
        super().__init__()
        self.target = target
        self.find_timeout = find_timeout
        self.backoff = backoff or Backoff()
        self._find = find
        self._client_factory = client_factory
        self._clock = clock
        self._t0 = clock()
        self._queue: asyncio.Queue[tuple[float, str, bytes | None]] = asyncio.Queue()
        self.processor = NotificationProcessor()
        self.device_address: str | None = None
        self.pmd = pmd
        self.pmd_stream = PmdStream()
        self._pmd: PmdControl | None = None
        self._pmd_setup: asyncio.Task[dict[str, Any]] | None = None

    def describe(self) -> dict[str, Any]:
        return {"kind": self.name, "target": self.target, "address": self.device_address, "pmd": self.pmd}

    def _now(self) -> float:
        return self._clock() - self._t0

    def now(self) -> float:
        return self._now()

    def _on_notify(self, _char: Any, data: bytearray) -> None:
        self._queue.put_nowait((self._now(), "hr", bytes(data)))

    def _on_pmd_data(self, _char: Any, data: bytearray) -> None:
        self._queue.put_nowait((self._now(), "pmd", bytes(data)))

    def _on_disconnect(self, _client: Any) -> None:
        self._queue.put_nowait((self._now(), "down", None))

    def _offers_pmd(self, client: Any) -> bool:
        services = getattr(client, "services", None)
        return self.pmd and services is not None and services.get_service(PMD_SERVICE_UUID) is not None

    def _begin_pmd(self, client: Any) -> asyncio.Task[dict[str, Any]] | None:
        """The PMD set-up as a task beside the heart rate (None: a plain strap, or --no-pmd)."""
        self._pmd = None
        if not self._offers_pmd(client):
            return None
        self._pmd_setup = asyncio.ensure_future(asyncio.wait_for(self._start_pmd(client), PMD_SETUP_CAP_S))
        return self._pmd_setup

    @staticmethod
    def _setup_result(task: asyncio.Task[dict[str, Any]]) -> dict[str, Any]:
        """What the finished set-up says for ``device_info`` (a failure of its own is said, not raised)."""
        err = None if task.cancelled() else task.exception()
        if err is None and not task.cancelled():
            return task.result()
        problem = "it took too long" if isinstance(err, TimeoutError) else _describe(err) if err else "cancelled"
        log.warning("The strap's PMD set-up failed (%s); heart rate only", problem)
        return {"pmd_unavailable": {"pmd": f"the PMD set-up failed ({problem})"}}

    async def _cancel_pmd_setup(self) -> None:
        task, self._pmd_setup = self._pmd_setup, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task})

    async def _start_pmd(self, client: Any) -> dict[str, Any]:
        """ECG and ACC on a strap with the PMD service; what streams (or why not) for ``device_info``."""
        control = PmdControl(client, self._on_pmd_data)
        info: dict[str, Any] = {"pmd": {}}
        self._pmd = control  # from here on, a close stops what was asked to start
        try:
            offered = await control.open()
        except Exception as err:  # noqa: BLE001 - heart rate goes on without PMD
            log.warning("The strap's PMD service could not be opened (%s); heart rate only", _describe(err))
            return {"pmd_unavailable": {"pmd": f"the PMD service could not be opened ({_describe(err)})"}}
        for measurement in (MeasurementType.ECG, MeasurementType.ACC):
            name = measurement.name.lower()
            if measurement not in offered:
                continue
            try:
                started = await control.start(measurement)
            except PmdUnavailable as err:
                log.warning("Going on without %s: %s", name, err)
                info.setdefault("pmd_unavailable", {})[name] = str(err)
                continue
            self.pmd_stream.expect(measurement, started.rate_hz)
            info["pmd"][name] = started.to_json()
        return info

    async def _close_link(self, client: Any) -> None:
        """Stop PMD measurements when the session ends (a dropped link stops them by itself), then let go."""
        await self._cancel_pmd_setup()
        if self._pmd is not None and self.closed:
            await self._pmd.stop_all()
        self._pmd = None
        await _quietly_disconnect(client)

    async def _connect_once(self) -> tuple[Any, dict[str, Any]]:
        """Find, connect, subscribe; return the client and what it says about itself."""
        device = await self._find(self.target, self.find_timeout)
        if device is None:
            raise StrapNotFound(
                f"no strap matching '{self.target}' answered within {self.find_timeout:g} s; {PAIRING_HINT}."
            )
        client = self._client_factory(device, self._on_disconnect)
        await client.connect()
        try:
            info: dict[str, Any] = {
                "address": getattr(device, "address", str(device)),
                "name": getattr(device, "name", None),
            }
            info.update(await self._read_info(client))
            await client.start_notify(HEART_RATE_MEASUREMENT_UUID, self._on_notify)
        except BaseException:
            await _quietly_disconnect(client)
            raise
        self.device_address = info["address"]
        return client, info

    async def _read_info(self, client: Any) -> dict[str, Any]:
        info: dict[str, Any] = {}
        for key, uuid in (("battery_pct", BATTERY_LEVEL_UUID), ("body_location", BODY_SENSOR_LOCATION_UUID)):
            try:
                raw = await client.read_gatt_char(uuid)
            except Exception as err:  # noqa: BLE001 - optional characteristics: absent is fine
                log.debug("Could not read %s: %s", key, err)
                continue
            if raw:
                info[key] = raw[0] if key == "battery_pct" else BODY_SENSOR_LOCATIONS.get(raw[0], "other")
        return info

    async def items(self) -> AsyncIterator[StreamItem]:
        connected_once = False
        client = None
        try:
            while not self.closed:
                kind = LinkState.RECONNECTING if connected_once else LinkState.CONNECTING
                yield LinkEvent(self._now(), kind, {"target": self.target, "attempt": self.backoff.attempt + 1})
                try:
                    client, info = await self._connect_once()
                except Exception as err:  # noqa: BLE001 - sorted below: fatal before first link, retried after
                    friendly = explain_bluetooth_error(err) or (err if isinstance(err, DeviceError) else None)
                    if not connected_once:
                        if friendly is not None:
                            raise friendly from None
                        raise StrapNotFound(
                            f"could not connect to '{self.target}' ({_describe(err)}); {PAIRING_HINT}."
                        ) from None
                    delay = self.backoff.next_delay()
                    log.info("Reconnect to %s failed (%s); next try in %.1f s", self.target, _describe(err), delay)
                    yield LinkEvent(
                        self._now(),
                        LinkState.RECONNECTING,
                        {"target": self.target, "retry_in_s": round(delay, 2), "error": _describe(err)},
                    )
                    await self._sleep(delay)
                    continue
                self.backoff.reset()
                yield LinkEvent(
                    self._now(),
                    LinkState.RECONNECTED if connected_once else LinkState.CONNECTED,
                    {"address": info["address"], "name": info.get("name")},
                )
                details = {k: v for k, v in info.items() if k in ("battery_pct", "body_location")}
                setup = self._begin_pmd(client)
                if setup is None:
                    yield LinkEvent(self._now(), LinkState.DEVICE_INFO, details)
                connected_once = True
                async for item in self._pump(setup, details):
                    yield item
                await self._close_link(client)
                client = None
                if not self.closed:
                    await self._sleep(self.backoff.next_delay())
        finally:
            if client is not None:
                await self._close_link(client)

    async def _pump(self, setup: asyncio.Task[dict[str, Any]] | None = None,
                    details: dict[str, Any] | None = None) -> AsyncIterator[StreamItem]:
        """Notifications until the link drops (or the source is closed); ``device_info`` once ``setup`` is done."""
        while not self.closed:
            get = asyncio.ensure_future(self._queue.get())
            closing = asyncio.ensure_future(self._closed.wait())
            waiting: set[asyncio.Future[Any]] = {get, closing} if setup is None else {get, closing, setup}
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            closing.cancel()
            if get in done:
                t, kind, payload = get.result()
                if payload is None:
                    self.processor.mark_gap(t, "link lost")
                    self.pmd_stream.link_lost()
                    await self._cancel_pmd_setup()  # the next connect sets PMD up afresh
                    yield LinkEvent(t, LinkState.DISCONNECTED, {"target": self.target})
                    return
                for item in (self.pmd_stream.feed(t, payload) if kind == "pmd" else self.processor.process(t, payload)):
                    yield item
            else:
                get.cancel()
            if setup is not None and setup.done():
                yield LinkEvent(self._now(), LinkState.DEVICE_INFO, {**(details or {}), **self._setup_result(setup)})
                setup = None
            elif get not in done:
                return  # closed

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._closed.wait(), seconds)
        except TimeoutError:
            pass


def _describe(err: BaseException) -> str:
    """An error's text, or its kind when it has none (a timeout says nothing by itself)."""
    if isinstance(err, TimeoutError):
        return "timed out"
    return str(err) or type(err).__name__


async def _quietly_disconnect(client: Any) -> None:
    try:
        await client.disconnect()
    except Exception as err:  # noqa: BLE001 - the link is going anyway
        log.debug("disconnect: %s", err)
