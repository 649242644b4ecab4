"""``biofeedback scan``: which heart rate straps are in reach."""

from __future__ import annotations

import argparse
import asyncio
import json

from rich.console import Console
from rich.table import Table

from devices.ble_strap import scan
from sessions.source_options import positive_float


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "scan",
        help="list nearby straps that advertise the Heart Rate Service",
        description="Scan for Bluetooth LE devices advertising the Heart Rate Service (0x180D), "
                    "named or not, strongest signal first.",
    )
    p.add_argument("--timeout", type=positive_float, default=8.0, help="seconds to listen (default 8)")
    p.add_argument("--json", action="store_true", help="print a JSON list of {address, name, rssi}")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    if args.json:
        straps = asyncio.run(scan(args.timeout))
        print(json.dumps([s.to_json() for s in straps]))
        return 0
    with console.status(f"Listening for heart rate straps for {args.timeout:g} s..."):
        straps = asyncio.run(scan(args.timeout))
    if not straps:
        console.print("No heart rate strap found. Wet the electrodes, put the strap on, and scan again.")
        return 1
    table = Table(title="Heart rate straps nearby")
    table.add_column("name")
    table.add_column("address")
    table.add_column("signal (dBm)", justify="right")
    for s in straps:
        table.add_row(s.name or "(unnamed)", s.address, "?" if s.rssi is None else str(s.rssi))
    Console().print(table)
    Console().print(f"Connect with: biofeedback stream --device {straps[0].address}")
    return 0
