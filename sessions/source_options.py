"""Source flags shared by every command that listens to a heart: --device, --simulate, --replay."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from devices.ble_strap import PAIRING_HINT, BleStrap, scan
from devices.errors import StrapNotFound
from devices.replay import Replay, TimedFrame, TimedPayload
from devices.simulated_strap import SimulatedStrap
from devices.simulator import PROFILES, person_profile
from devices.source import HeartSource
from sessions.errors import UserError
from sessions.store import PAYLOAD_FORMAT_FROM_RR, SessionReader, is_session_file, resolve_session

log = logging.getLogger(__name__)


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"'{text}' must be greater than 0")
    return value


def unit_interval(text: str) -> float:
    """A volume: a number from 0 to 1 (NaN, -1 or 5 are refused, not clamped and remembered)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not 0.0 <= value <= 1.0:  # also false for NaN
        raise argparse.ArgumentTypeError(f"'{text}' must be a number from 0 to 1")
    return value


def seed_number(text: str) -> int:
    """A simulator seed: a whole number from 0 up."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"'{text}' must be 0 or more")
    return value


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("heart source (pick one; without one, the nearest strap is used)")
    pick = group.add_mutually_exclusive_group()
    pick.add_argument("--device", metavar="NAME|ADDRESS", help="a strap by (part of) its name, e.g. 'Polar H10', or its address")
    pick.add_argument("--simulate", action="store_true", help="a simulated person wearing a strap; no hardware needed")
    pick.add_argument("--replay", metavar="FILE", help="play back an RR file, a notification log or a recorded session")
    group.add_argument(
        "--person",
        choices=sorted(PROFILES),
        default="follows",
        help="with --simulate: a person who follows the pacer, ignores it, or has a stress episode (default: follows)",
    )
    group.add_argument(
        "--strap",
        choices=("plain", "h10"),
        default="plain",
        help="with --simulate: a plain heart-rate strap, or a Polar H10 that also streams ECG and chest movement "
             "(default: plain)",
    )
    group.add_argument(
        "--no-pmd",
        action="store_true",
        help="heart rate and RR only: do not start a Polar H10's ECG and accelerometer (PMD) streams",
    )
    group.add_argument("--seed", type=seed_number, default=1, help="with --simulate: random seed (same seed, same heart)")
    group.add_argument(
        "--speed",
        type=positive_float,
        default=1.0,
        help="with --simulate/--replay: play N times faster than real time (default 1)",
    )


async def open_source(args: argparse.Namespace, *, duration_s: float | None = None) -> HeartSource:
    """The source the flags ask for; without flags, the strongest strap nearby."""
    if args.simulate:
        return SimulatedStrap(
            person_profile(args.person), seed=args.seed, speed=args.speed, duration_s=duration_s, profile=args.person,
            strap="plain" if args.no_pmd else args.strap,
        )
    if args.replay:
        return open_replay(args.replay, speed=args.speed)
    if args.device:
        return BleStrap(args.device, pmd=not args.no_pmd)
    straps = await scan(timeout=6.0)
    if not straps:
        raise StrapNotFound(f"no heart rate strap was found nearby; {PAIRING_HINT}.")
    log.info("Using the nearest strap: %s (%s)", straps[0].name or "unnamed", straps[0].address)
    return BleStrap(straps[0].address, pmd=not args.no_pmd)


def open_replay(ref: str, *, speed: float | None) -> Replay:
    """A replay of an RR file, a notification log, or a recorded session (by path or id)."""
    path = Path(ref)
    if not path.exists() and (path.suffix or "/" in ref or "\\" in ref):
        raise UserError(f"{ref}: no such file; check the path.")
    if not path.exists() or is_session_file(path):
        session_file = resolve_session(ref) if not path.exists() else path
        with SessionReader(session_file) as reader:
            payloads = [TimedPayload(t, bytes(p)) for t, p in reader.payloads()]  # refuses an unknown format
            payload_format = reader.payload_format
            frames = [TimedFrame(t, kind, fs, gap, samples) for kind in ("ecg", "acc")
                      for t, fs, gap, samples in reader.signal_frames(kind)]  # a Polar H10's, if it was one
        if not payloads:
            raise UserError(f"{session_file.name}: the session holds no strap data to replay.")
        replay = Replay(payloads, speed=speed, label=session_file.name, frames=frames)
    else:
        replay = Replay.from_file(path, speed=speed)
        payload_format = PAYLOAD_FORMAT_FROM_RR
    replay.payload_format = payload_format
    return replay


def reject_stray_flags(args: argparse.Namespace) -> None:
    """Flags that would silently do nothing with the chosen source are a mistake worth saying."""
    if not args.simulate and args.person != "follows":
        raise UserError("--person only applies to --simulate; add --simulate or drop --person.")
    if not args.simulate and args.strap != "plain":
        raise UserError("--strap only applies to --simulate; a real strap says what it is.")
    if not (args.simulate or args.replay) and args.speed != 1.0:
        raise UserError("--speed only applies to --simulate and --replay; a strap runs in real time.")
