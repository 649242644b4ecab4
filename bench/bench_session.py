"""What a whole session costs: the loop from strap payloads to pacer, prompts and the SQLite record.

Runs the safe-place exercise on the simulated person at full speed and reports CPU seconds per hour
of session (so ``x / 36`` is the share of one core a live session takes). Baseline in the same run:
the simulated strap alone (payload generation, decoding and beat timing) over the same session time,
so the ratio is what the HRV engine, calm score, guide, step pacing and the record add.
Median of ``--runs`` runs.  ``.venv/bin/python bench/bench_session.py``
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from devices.simulated_strap import SimulatedStrap  # noqa: E402
from devices.simulator import person_profile  # noqa: E402
from sessions.exercises import load_common, load_script  # noqa: E402
from sessions.runner import SessionRunner  # noqa: E402
from sessions.store import SessionWriter  # noqa: E402


async def one_session(folder: Path, seed: int) -> tuple[float, float]:
    source = SimulatedStrap(person_profile("follows"), seed=seed, speed=None)
    writer = SessionWriter(folder / f"s{seed}.sqlite", {"script": "safe-place"})
    runner = SessionRunner(source, load_script("safe-place", "en"), load_common("en"), writer)
    cpu = time.process_time()
    result = await runner.run()
    writer.close()
    return time.process_time() - cpu, result.duration_s


async def source_only(seconds: float, seed: int) -> float:
    cpu = time.process_time()
    async for _ in SimulatedStrap(person_profile("follows"), seed=seed, speed=None, duration_s=seconds):
        pass
    return time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    full, base = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(1, args.runs + 1):
            cpu, dur = asyncio.run(one_session(Path(tmp), seed))
            full.append(cpu / dur * 3600)
            base.append(asyncio.run(source_only(dur, seed)) / dur * 3600)
    f, b = statistics.median(full), statistics.median(base)
    print(f"| what (median of {args.runs} sessions) | CPU s per session hour | share of one core | vs strap alone |")
    print("|---|---|---|---|")
    print(f"| simulated strap alone (baseline) | {b:.2f} | {b / 36:.3f} % | 1.0x |")
    print(f"| whole session loop (engine, guide, steps, SQLite record) | {f:.2f} | {f / 36:.3f} % | {f / b:.1f}x |")


if __name__ == "__main__":
    main()
