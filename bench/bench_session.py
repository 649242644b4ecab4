"""What a whole session costs: the loop from strap payloads to pacer, prompts and the SQLite record.

Runs the safe-place exercise on the simulated person at full speed and reports CPU seconds per hour
of session (so ``x / 36`` is the share of one core a live session takes). Baseline in the same run:
the simulated strap alone (payload generation, decoding and beat timing) over the same session time,
so the ratio is what the HRV engine, calm score, guide, step pacing and the record add.
The same with a simulated Polar H10 (ECG 130 Hz and chest acceleration 50 Hz as PMD frames): what the
ECG and ACC processing costs (beat classification and pairing, breathing from the chest, recording the
frames) is the H10 session minus its strap alone, minus the same for the plain strap, in the same run.
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


async def one_session(folder: Path, seed: int, strap: str = "plain") -> tuple[float, float]:
    source = SimulatedStrap(person_profile("follows"), seed=seed, speed=None, strap=strap)
    writer = SessionWriter(folder / f"s{seed}-{strap}.sqlite", {"script": "safe-place"})
    runner = SessionRunner(source, load_script("safe-place", "en"), load_common("en"), writer)
    cpu = time.process_time()
    result = await runner.run()
    writer.close()
    return time.process_time() - cpu, result.duration_s


async def source_only(seconds: float, seed: int, strap: str = "plain") -> float:
    cpu = time.process_time()
    async for _ in SimulatedStrap(person_profile("follows"), seed=seed, speed=None, duration_s=seconds, strap=strap):
        pass
    return time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    full, base, h10, h10_base, extra = [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(1, args.runs + 1):
            cpu, dur = asyncio.run(one_session(Path(tmp), seed))
            full.append(cpu / dur * 3600)
            base.append(asyncio.run(source_only(dur, seed)) / dur * 3600)
            cpu, dur = asyncio.run(one_session(Path(tmp), seed, "h10"))
            h10.append(cpu / dur * 3600)
            h10_base.append(asyncio.run(source_only(dur, seed, "h10")) / dur * 3600)
            extra.append((h10[-1] - h10_base[-1]) - (full[-1] - base[-1]))
    f, b = statistics.median(full), statistics.median(base)
    h, hb, e = statistics.median(h10), statistics.median(h10_base), statistics.median(extra)
    print(f"| what (median of {args.runs} sessions) | CPU s per session hour | share of one core | vs strap alone |")
    print("|---|---|---|---|")
    print(f"| simulated strap alone (baseline) | {b:.2f} | {b / 36:.3f} % | 1.0x |")
    print(f"| whole session loop (engine, guide, steps, SQLite record) | {f:.2f} | {f / 36:.3f} % | {f / b:.1f}x |")
    print(f"| simulated H10 alone (synthesised ECG + ACC, PMD frames, decoding) | {hb:.2f} | {hb / 36:.3f} % | {hb / b:.1f}x |")
    print(f"| whole session loop on the simulated H10 | {h:.2f} | {h / 36:.3f} % | {h / b:.1f}x |")
    print(f"| of which ECG + ACC processing (H10 loop - H10 strap - (plain loop - plain strap)) | {e:.2f} | "
          f"{e / 36:.3f} % | goal < 5 % |")


if __name__ == "__main__":
    main()
