"""Starting and stopping a strap's PMD measurements over its control point (bleak client given).

A Polar H10 answers on the control point by indication: ``f0 op type status …``. This module asks
for the features, the settings of each measurement, picks the ones the app wants, starts them and
stops them again. A strap that does not answer in time, or answers with an error (the H10 says
"invalid MTU" until the MTU exchange is done), is asked again with backoff a few times; after that
the measurement is left out and the caller says so once. Byte work lives in :mod:`devices.pmd`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devices.pmd import (
    PMD_CONTROL_POINT_UUID,
    PMD_DATA_UUID,
    ControlOp,
    ControlResponse,
    ControlStatus,
    MalformedPmd,
    MeasurementType,
    SettingType,
    decode_control_response,
    decode_features,
    encode_request,
)

log = logging.getLogger(__name__)

RESPONSE_TIMEOUT_S = 2.0
RETRY_DELAYS_S = (0.5, 1.0, 2.0)
"""Three retries after the first try: 4 attempts, at most about 11.5 s for a strap that never answers."""
STOP_BUDGET_S = 4.0
"""At the end of a session, how long all stop answers together may take."""

ECG_WANTED = {SettingType.SAMPLE_RATE: 130, SettingType.RESOLUTION: 14}
ACC_RATE_HZ = 50
ACC_MIN_RATE_HZ = 25
ACC_RANGE_G = 8
ACC_RESOLUTION = 16


class PmdUnavailable(Exception):
    """A measurement could not be started; ``args[0]`` is one sentence for the person."""


@dataclass(frozen=True, slots=True)
class Started:
    measurement: MeasurementType
    settings: dict[SettingType, int]

    @property
    def rate_hz(self) -> float:
        return float(self.settings.get(SettingType.SAMPLE_RATE, 130 if self.measurement is MeasurementType.ECG else 50))

    def to_json(self) -> dict[str, Any]:
        return {k.name.lower(): v for k, v in self.settings.items()}


def choose_settings(measurement: MeasurementType, offered: dict[SettingType, tuple[int, ...]]) -> dict[SettingType, int]:
    """ECG at 130 Hz / 14 bit; ACC at 50 Hz (else the offered rate >= 25 Hz nearest to it), 8 G (else the
    smallest range), 16 bit. A setting the strap does not offer is not sent; without it the strap's own default holds."""
    chosen: dict[SettingType, int] = {}
    for kind, values in offered.items():
        if not values or kind not in (SettingType.SAMPLE_RATE, SettingType.RESOLUTION, SettingType.RANGE):
            continue
        if measurement is MeasurementType.ECG:
            wanted = ECG_WANTED.get(kind)
            chosen[kind] = wanted if wanted in values else max(values)
        elif kind is SettingType.SAMPLE_RATE:
            usable = [v for v in values if v >= ACC_MIN_RATE_HZ]
            if not usable:
                raise PmdUnavailable(f"the strap offers the accelerometer only below {ACC_MIN_RATE_HZ} Hz ({max(values)} Hz)")
            chosen[kind] = min(usable, key=lambda v: (abs(v - ACC_RATE_HZ), v))
        elif kind is SettingType.RANGE:
            chosen[kind] = ACC_RANGE_G if ACC_RANGE_G in values else min(values)
        else:
            chosen[kind] = ACC_RESOLUTION if ACC_RESOLUTION in values else max(values)
    return chosen


class PmdControl:
    """The control-point dialogue with one connected client."""

    def __init__(self, client: Any, on_data: Callable[[Any, bytearray], None], *,
                 timeout_s: float | None = None, retry_delays_s: tuple[float, ...] | None = None) -> None:
        self.client = client
        self._on_data = on_data
        self.timeout_s = RESPONSE_TIMEOUT_S if timeout_s is None else timeout_s
        self.retry_delays_s = RETRY_DELAYS_S if retry_delays_s is None else retry_delays_s
        self._responses: asyncio.Queue[bytes] = asyncio.Queue()
        self.started: list[Started] = []
        self._starting: MeasurementType | None = None
        """Asked to start, no answer yet: a close now stops it too (the strap may have started it)."""

    def _on_response(self, _char: Any, data: bytearray) -> None:
        self._responses.put_nowait(bytes(data))

    async def open(self) -> set[MeasurementType]:
        """Subscribe to responses and data; return what the strap says it can stream."""
        await self.client.start_notify(PMD_CONTROL_POINT_UUID, self._on_response)
        await self.client.start_notify(PMD_DATA_UUID, self._on_data)
        try:
            features = decode_features(bytes(await self.client.read_gatt_char(PMD_CONTROL_POINT_UUID)))
        except Exception as err:  # noqa: BLE001 - a strap that cannot say: try both
            log.info("PMD features unreadable (%s); trying ECG and ACC", err)
            return {MeasurementType.ECG, MeasurementType.ACC}
        return {m for m in (MeasurementType.ECG, MeasurementType.ACC) if features.offers(m)}

    async def _ask(self, op: ControlOp, measurement: MeasurementType, settings: dict[SettingType, int] | None = None
                   ) -> ControlResponse:
        """One request and its response (other responses in the queue are stale and skipped)."""
        while not self._responses.empty():
            self._responses.get_nowait()
        await self.client.write_gatt_char(PMD_CONTROL_POINT_UUID, encode_request(op, measurement, settings), response=True)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError
            data = await asyncio.wait_for(self._responses.get(), remaining)
            try:
                response = decode_control_response(data)
            except MalformedPmd:
                continue
            if response.op == op and response.measurement == measurement:
                return response

    async def _with_retries(self, op: ControlOp, measurement: MeasurementType,
                            settings: dict[SettingType, int] | None = None) -> ControlResponse:
        problem = ""
        for attempt, delay in enumerate((*self.retry_delays_s, None)):
            try:
                response = await self._ask(op, measurement, settings)
            except TimeoutError:
                problem = f"it did not answer within {self.timeout_s:g} s"
            except Exception as err:  # noqa: BLE001 - a GATT write failing is one more reason to retry
                problem = f"the request failed ({err or type(err).__name__})"
            else:
                if response.ok or (op is not ControlOp.GET_SETTINGS and response.status == ControlStatus.ALREADY_IN_STATE):
                    return response
                problem = f"it answered {response.to_json()['status']}"
            log.info("PMD %s %s, attempt %d: %s", op.name.lower(), measurement.name, attempt + 1, problem)
            if delay is not None:
                await asyncio.sleep(delay)
        raise PmdUnavailable(f"the strap did not start its {_WORDS[measurement]} ({problem})")

    async def start(self, measurement: MeasurementType) -> Started:
        offered = (await self._with_retries(ControlOp.GET_SETTINGS, measurement)).settings
        settings = choose_settings(measurement, offered)
        self._starting = measurement
        try:
            await self._with_retries(ControlOp.START, measurement, settings)
        except PmdUnavailable:
            self._starting = None  # it never said yes: nothing to stop
            raise
        self._starting = None
        started = Started(measurement, settings)
        self.started.append(started)
        log.info("PMD %s started: %s", measurement.name, started.to_json())
        return started

    async def stop_all(self) -> None:
        """Stop what was started, or asked to start: every stop is asked at once, then their answers are
        awaited together within :data:`STOP_BUDGET_S` (the session is ending; a slow answer to one stop
        must not keep the other from being asked before the link goes)."""
        measurements = [s.measurement for s in reversed(self.started)]
        if self._starting is not None and self._starting not in measurements:
            measurements.insert(0, self._starting)
        self.started.clear()
        self._starting = None
        if not measurements:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STOP_BUDGET_S
        while not self._responses.empty():
            self._responses.get_nowait()
        waiting: set[MeasurementType] = set()
        for measurement in measurements:
            request = encode_request(ControlOp.STOP, measurement)
            try:
                await asyncio.wait_for(self.client.write_gatt_char(PMD_CONTROL_POINT_UUID, request, response=True),
                                       max(0.05, deadline - loop.time()))
                waiting.add(measurement)
            except Exception as err:  # noqa: BLE001 - the link may be going anyway
                log.info("PMD stop %s: %s", measurement.name, err or type(err).__name__)
        while waiting and loop.time() < deadline:
            try:
                response = decode_control_response(await asyncio.wait_for(self._responses.get(), deadline - loop.time()))
            except TimeoutError:
                break
            except MalformedPmd:
                continue
            if response.op == ControlOp.STOP:
                waiting = {m for m in waiting if m != response.measurement}
        if waiting:
            log.info("PMD stop: no answer for %s", ", ".join(m.name for m in waiting))


_WORDS = {MeasurementType.ECG: "ECG", MeasurementType.ACC: "accelerometer"}
