"""CPU cost of the simulated strap per simulated hour: plain (heart rate only) against the simulated H10
(ECG and chest acceleration synthesised, encoded as PMD frames, decoded and put on the session clock
by devices/pmd_stream.py), and of PmdStream alone on 2 h of real H10 ECG notifications.

    .venv/bin/python bench/bench_simulated_h10.py [--minutes 20] [--runs 3]

Process CPU time (not wall time), median of the runs, scaled to one simulated hour.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import struct
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.realdata import PMD_CAPTURE, read_pmd_capture  # noqa: E402
from devices.pmd_stream import PmdStream  # noqa: E402
from devices.simulated_strap import SimulatedStrap  # noqa: E402
from devices.simulator import person_profile  # noqa: E402


async def _drain(strap: SimulatedStrap) -> int:
    return sum([1 async for _ in strap])


def simulated(strap: str, seconds: float) -> float:
    source = SimulatedStrap(person_profile("follows"), seed=1, speed=None, duration_s=seconds, strap=strap)
    start = time.process_time()
    asyncio.run(_drain(source))
    return (time.process_time() - start) * 3600.0 / seconds


def real_stream() -> float:
    frames = read_pmd_capture()
    ts0 = struct.unpack_from("<Q", frames[0], 1)[0]
    stream = PmdStream()
    start = time.process_time()
    for frame in frames:
        stream.feed((struct.unpack_from("<Q", frame, 1)[0] - ts0) / 1e9 + 0.01, frame)
    span_h = (struct.unpack_from("<Q", frames[-1], 1)[0] - ts0) / 3.6e12
    return (time.process_time() - start) / span_h


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=20.0)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    seconds = args.minutes * 60
    plain = statistics.median(simulated("plain", seconds) for _ in range(args.runs))
    h10 = statistics.median(simulated("h10", seconds) for _ in range(args.runs))
    print("| source | CPU s per simulated hour | share of one core in real time |")
    print("|---|---|---|")
    print(f"| simulated strap, plain | {plain:.2f} | {plain / 36:.3f} % |")
    print(f"| simulated H10 (ECG + ACC over PMD) | {h10:.2f} | {h10 / 36:.3f} % |")
    if PMD_CAPTURE.exists():
        real = statistics.median(real_stream() for _ in range(args.runs))
        print(f"| PmdStream alone, real H10 ECG (2 h) | {real:.2f} | {real / 36:.3f} % |")


if __name__ == "__main__":
    main()
