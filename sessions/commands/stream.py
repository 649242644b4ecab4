"""``biofeedback stream``: print the heart stream, for checking a strap or feeding other tools."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from devices.stream import AccChunk, EcgChunk, HeartSample, LinkEvent, LinkState
from sessions.source_options import add_source_arguments, open_source, positive_float, reject_stray_flags


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "stream",
        help="print heartbeats and link events from a strap, the simulator or a replay",
        description="Print the heart stream: one line per notification (HR, RR, contact) and per "
                    "status event (connected, contact lost, reconnecting, gap, ...).",
    )
    add_source_arguments(p)
    p.add_argument(
        "--seconds",
        type=positive_float,
        help="stop after S seconds of stream time (default: until Ctrl-C or the end of a replay)",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per line (samples have 't', 'hr_bpm', 'rr_ms', 'contact'; events have 'event')",
    )
    p.set_defaults(func=run)


def _human(item: HeartSample | LinkEvent) -> str:
    if isinstance(item, LinkEvent):
        extra = " ".join(f"{k}={v}" for k, v in item.detail.items())
        return f"{item.t:9.2f} s  [{item.kind.value}] {extra}".rstrip()
    rr = f"{', '.join(f'{v:.0f}' for v in item.rr_ms)} ms" if item.rr_ticks else "-"
    gap = "  (after a gap)" if item.after_gap else ""
    return f"{item.t:9.2f} s  HR {item.hr_bpm:3d} bpm  RR {rr}  contact {item.contact.value}{gap}"


async def _close_at(source, seconds: float) -> None:
    """End the stream on time even when nothing arrives (a silent strap, a long reconnect)."""
    while source.now() < seconds:
        await asyncio.sleep(0.05)
    await source.aclose()


async def _stream(args: argparse.Namespace) -> int:
    source = await open_source(args, duration_s=args.seconds)
    out = sys.stdout

    def emit(item: HeartSample | LinkEvent) -> None:
        out.write((json.dumps(item.to_json(), separators=(",", ":")) if args.json else _human(item)) + "\n")
        out.flush()

    timer = asyncio.create_task(_close_at(source, args.seconds)) if args.seconds is not None else None
    ended = False
    try:
        async for item in source:
            if isinstance(item, (EcgChunk, AccChunk)):
                if args.json and (args.seconds is None or item.t <= args.seconds):
                    out.write(json.dumps(item.to_json(), separators=(",", ":")) + "\n")  # a Polar H10's ECG and ACC
                continue
            if args.seconds is not None and item.t > args.seconds:
                break
            emit(item)
            if isinstance(item, LinkEvent) and item.kind is LinkState.ENDED:
                ended = True
                break
    finally:
        if timer is not None:
            timer.cancel()
        await source.aclose()
    if not ended:
        t = source.now() if args.seconds is None else min(source.now(), args.seconds)
        emit(LinkEvent(t, LinkState.ENDED, {"reason": "duration reached" if args.seconds is not None else "closed"}))
    return 0


def run(args: argparse.Namespace) -> int:
    reject_stray_flags(args)
    return asyncio.run(_stream(args))
