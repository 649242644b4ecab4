"""``biofeedback decode``: what a Heart Rate Measurement payload says, for debugging a strap."""

from __future__ import annotations

import argparse
import json
import sys

from devices.hrm import MalformedPayload, decode_hrm
from devices.stream import ticks_to_ms


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "decode",
        help="decode Heart Rate Measurement (0x2A37) payloads given as hex",
        description="Decode 0x2A37 payloads, e.g. `biofeedback decode 105819030f03`. A malformed "
                    "payload is reported and makes the exit status non-zero.",
    )
    p.add_argument("payloads", nargs="+", metavar="HEX", help="payload bytes in hex (spaces, ':' and '0x' allowed)")
    p.add_argument("--json", action="store_true", help="one JSON object per payload")
    p.set_defaults(func=run)


def _bytes(text: str) -> bytes:
    cleaned = text.strip().lower().removeprefix("0x").replace(":", "").replace(" ", "").replace("-", "")
    return bytes.fromhex(cleaned)


def run(args: argparse.Namespace) -> int:
    failures = 0
    for text in args.payloads:
        try:
            payload = _bytes(text)
        except ValueError:
            print(f"biofeedback decode: '{text}' is not hex bytes; give the payload as e.g. 105819030f03.", file=sys.stderr)
            failures += 1
            continue
        try:
            m = decode_hrm(payload)
        except MalformedPayload as err:
            print(f"biofeedback decode: {text}: {err.args[0].split(' (payload')[0]}.", file=sys.stderr)
            failures += 1
            continue
        if args.json:
            print(json.dumps(m.to_json()))
        else:
            rr = ", ".join(f"{r} ({ticks_to_ms(r):.1f} ms)" for r in m.rr_ticks) or "none"
            energy = f"{m.energy_kj} kJ" if m.energy_kj is not None else "not sent"
            print(f"{text}: HR {m.hr_bpm} bpm, contact {m.contact.value}, energy {energy}, RR ticks {rr}")
    return 1 if failures else 0
