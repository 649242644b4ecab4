"""Plain bleak against the VM's strap, without any project code: tells a broken stack from a broken CLI.

Run in the VM by ``guest.py --mode smoke``, i.e. ``python tests/vm/harness.py /tmp/vm --mode smoke``
on the host. Scans, connects, reads
the battery, subscribes, and after the strap drops the link connects once more; every payload
and step goes to ``smoke.jsonl`` in the results directory.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from pathlib import Path

from bleak import BleakClient, BleakScanner

log = logging.getLogger("vm.smoke")

HRM = "00002a37-0000-1000-8000-00805f9b34fb"
BATTERY = "00002a19-0000-1000-8000-00805f9b34fb"
HRS = "0000180d-0000-1000-8000-00805f9b34fb"


async def main(results: Path) -> None:
    out = (results / "smoke.jsonl").open("a", buffering=1)
    t0 = time.monotonic()

    def record(**kw: object) -> None:
        out.write(json.dumps({"t": round(time.monotonic() - t0, 4), **kw}) + "\n")

    device = await BleakScanner.find_device_by_filter(
        lambda d, adv: HRS in [u.lower() for u in adv.service_uuids], timeout=20)
    record(step="found", address=getattr(device, "address", None))
    if device is None:
        return
    for round_ in (1, 2):
        gone = asyncio.Event()
        # The callback belongs to this round's client and is used only within the round.
        async with BleakClient(device, disconnected_callback=lambda _c: gone.set(), timeout=20) as client:  # noqa: B023
            record(step="connected", round=round_, battery=(await client.read_gatt_char(BATTERY))[0])
            await client.start_notify(HRM, lambda _c, data: record(payload=bytes(data).hex()))
            try:
                await asyncio.wait_for(gone.wait(), 15 if round_ == 1 else 5)
            except TimeoutError:
                pass
        record(step="disconnected", round=round_, remote=gone.is_set())
        if round_ == 1:
            device = await BleakScanner.find_device_by_address(device.address, timeout=20) or device


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    asyncio.run(main(Path(sys.argv[1])))
