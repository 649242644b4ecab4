"""``biofeedback decode``: what a Heart Rate Measurement or PMD payload says, for debugging a strap."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from devices import pmd
from devices.hrm import MalformedPayload, decode_hrm
from devices.stream import ticks_to_ms

PMD_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "decode",
        help="decode Heart Rate Measurement (0x2A37) or Polar Measurement Data (PMD) payloads given as hex",
        description="Decode 0x2A37 payloads, e.g. `biofeedback decode 105819030f03`, or with --pmd the Polar H10's "
                    "PMD data frames (ECG, accelerometer; raw and delta-compressed), control-point responses "
                    "(f0 …) and the features read (0f …), e.g. `biofeedback decode --pmd "
                    "f0010000000001820001010e00`. A malformed payload is reported and makes the exit status non-zero.",
    )
    p.add_argument("payloads", nargs="+", metavar="HEX", help="payload bytes in hex (spaces, ':' and '0x' allowed)")
    p.add_argument("--pmd", action="store_true",
                   help="the payloads are PMD notifications (data frames, control-point responses, the features "
                        "read), not 0x2A37")
    p.add_argument("--json", action="store_true", help="one JSON object per payload")
    p.set_defaults(func=run)


def _bytes(text: str) -> bytes:
    cleaned = text.strip().lower().removeprefix("0x").replace(":", "").replace(" ", "").replace("-", "")
    return bytes.fromhex(cleaned)


def _hrm_line(text: str, payload: bytes, as_json: bool) -> str:
    m = decode_hrm(payload)
    if as_json:
        return json.dumps(m.to_json())
    rr = ", ".join(f"{r} ({ticks_to_ms(r):.1f} ms)" for r in m.rr_ticks) or "none"
    energy = f"{m.energy_kj} kJ" if m.energy_kj is not None else "not sent"
    return f"{text}: HR {m.hr_bpm} bpm, contact {m.contact.value}, energy {energy}, RR ticks {rr}"


def _pmd_time(ns: int) -> str:
    when = PMD_EPOCH + dt.timedelta(microseconds=ns // 1000)
    return f"{ns} ns since 2000-01-01 ({when.strftime('%Y-%m-%d %H:%M:%S.%f')} UTC on the strap's clock)"


def _pmd_text(text: str, decoded: pmd.ControlResponse | pmd.DataFrame | pmd.Features) -> str:
    info = decoded.to_json()
    if isinstance(decoded, pmd.Features):
        return f"{text}: features read: the strap offers {', '.join(info['measurements']) or 'nothing'}"
    if isinstance(decoded, pmd.ControlResponse):
        settings = "; ".join(f"{k.replace('_', ' ')} {', '.join(map(str, v))}" for k, v in info["settings"].items())
        extra = f", offers {settings}" if settings else ""
        more = ", more frames follow" if decoded.more_frames else ""
        return (f"{text}: control-point response to {info['op'].replace('_', ' ')} {info['measurement']}: "
                f"{info['status'].replace('_', ' ')} ({decoded.status}){extra}{more}")
    kind = "delta-compressed" if decoded.compressed else "raw"
    unit, factor = decoded.physical_unit
    shown = ", ".join(
        "/".join(f"{v * factor:.3f}" for v in s) + " (" + "/".join(str(v) for v in s) + ")" for s in decoded.samples)
    axes = " x/y/z" if len(decoded.samples[0]) == 3 else ""
    return (f"{text}: {info['measurement']} frame type {decoded.frame_type:#04x} ({kind}), last sample at "
            f"{_pmd_time(decoded.timestamp_ns)}, {len(decoded.samples)} samples{axes} in {unit} "
            f"(raw {decoded.unit}): {shown}")


def _pmd_line(text: str, payload: bytes, as_json: bool) -> str:
    decoded = pmd.decode(payload)
    return json.dumps(decoded.to_json()) if as_json else _pmd_text(text, decoded)


def run(args: argparse.Namespace) -> int:
    failures = 0
    for text in args.payloads:
        try:
            payload = _bytes(text)
        except ValueError:
            print(f"biofeedback decode: '{text}' is not hex bytes; give the payload as e.g. 105819030f03.", file=sys.stderr)
            failures += 1
            continue
        if args.pmd and not payload:
            print(f"biofeedback decode: '{text}' is empty; give the PMD notification's bytes.", file=sys.stderr)
            failures += 1
            continue
        try:
            print(_pmd_line(text, payload, args.json) if args.pmd else _hrm_line(text, payload, args.json))
        except MalformedPayload as err:
            print(f"biofeedback decode: {text}: {err.args[0].split(' (payload')[0]}.", file=sys.stderr)
            failures += 1
        except pmd.MalformedPmd as err:
            print(f"biofeedback decode: {text}: {err.args[0]}.", file=sys.stderr)
            failures += 1
    return 1 if failures else 0
