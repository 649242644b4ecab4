"""Long recordings: whole-recording analysis in seconds and bounded memory, cost per beat flat.

Input: the RR intervals of MIT-BIH records 100-124 (``../shared/data/mitdb``; PhysioNet, ODC-By 1.0;
RR = sample difference / 360 Hz, in ms) concatenated and repeated to N beats: real rhythms with real
ectopic beats, about 22 hours per 100 000 beats.

Each (method, size) runs in a fresh subprocess; peak memory is that process's
``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (input built inside it, imports included). Wall and CPU
time cover the analysis only. Median of ``--runs`` runs.

- ours: ``analyze_recording(rr_ms)`` = artefact labelling (the live classifier) + every metric
  (time domain, fast Lomb-Scargle LF/HF/VLF, n.u., %, peaks, Poincaré, DFA alpha1/alpha2, SampEn,
  triangular index, TINN, min/max HR, 5-min segments, SDANN, SDNN index); the labelling time is
  shown apart (it is the per-beat Python loop of ``biofeedback.artefacts``).
- baseline, same input, same run: neurokit2 ``signal_fixpeaks(method="kubios")`` (its defaults,
  i.e. ``iterative=True``) + ``hrv_time`` + ``hrv_frequency`` (defaults: Welch, 100 Hz interpolation),
  at sizes up to ``--nk-max`` (the issue measured it over 8 GB and failing at 1,000,000).

Then the command line on a 24-hour file: ``analyze FILE --json`` on the RR text, and ``report`` and
``export`` (kubios, csv, edf, bids) of a 24-hour session record written with SessionWriter from the
same RR (one process each, peak memory from the process itself).

    .venv/bin/python bench/bench_long.py                 # everything (about 5 minutes)
    .venv/bin/python bench/bench_long.py --runs 1 --sizes 10000,100000 --no-cli
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MIT = ROOT.parent / "shared" / "data" / "mitdb"
PACED = {"102", "104", "107"}


def mitdb_rr(n: int) -> list[float]:
    """n RR intervals (ms) from MIT-BIH 100-124 (paced records left out), repeated as needed."""
    base: list[float] = []
    for f in sorted(MIT.glob("*.csv")):
        if f.stem in PACED:
            continue
        with open(f) as fh:
            samples = [int(r["sample"]) for r in csv.DictReader(fh)]
        base += [(b - a) / 360 * 1000 for a, b in zip(samples[:-1], samples[1:], strict=False)]
    return (base * (n // len(base) + 1))[:n]


def child_ours(n: int) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from biofeedback.whole_recording import analyze_recording

    analyze_recording(mitdb_rr(3000))  # warm: imports and first-call set-up are not per-beat cost
    rr = mitdb_rr(n)
    stamps: list[float] = []
    a_wall, a_cpu = time.perf_counter(), time.process_time()
    res = analyze_recording(rr, progress=lambda done, total: stamps.append(time.perf_counter()))
    wall, cpu = time.perf_counter() - a_wall, time.process_time() - a_cpu
    return {"wall_s": wall, "cpu_s": cpu, "label_s": stamps[-1] - a_wall, "flagged": len(res.flagged),
            "sdnn": res.metrics["sdnn_ms"], "lf": res.metrics["lf_ms2"]}


def child_nk(n: int) -> dict[str, float]:
    import warnings

    import neurokit2 as nk
    import numpy as np

    def run(m: int) -> None:
        rr = np.array(mitdb_rr(m))
        peaks = np.concatenate(([0], np.round(np.cumsum(rr)).astype(np.int64)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _info, fixed = nk.signal_fixpeaks(peaks, sampling_rate=1000, method="kubios")
            nk.hrv_time(fixed, sampling_rate=1000)
            nk.hrv_frequency(fixed, sampling_rate=1000)

    run(3000)  # warm, as for ours
    a_wall, a_cpu = time.perf_counter(), time.process_time()
    run(n)  # (building the input is inside; it is a few ms)
    return {"wall_s": time.perf_counter() - a_wall, "cpu_s": time.process_time() - a_cpu}


def run_child(kind: str, n: int) -> dict[str, float] | None:
    p = subprocess.run([sys.executable, __file__, "--child", kind, str(n)], capture_output=True, text=True, cwd=ROOT)
    if p.returncode != 0:
        print(f"  {kind} {n}: failed ({p.returncode}): {p.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return json.loads(p.stdout.strip().splitlines()[-1])


def median_of(kind: str, n: int, runs: int) -> dict[str, float] | None:
    results = [r for r in (run_child(kind, n) for _ in range(runs)) if r is not None]
    if not results:
        return None
    return {k: statistics.median(r[k] for r in results) for k in results[0]}


def scaling_table(sizes: list[int], runs: int, nk_max: int) -> None:
    print(f"Whole-recording analysis, MIT-BIH RR repeated; median of {runs} runs, fresh process per run\n")
    print("| beats | ours: wall s | CPU s | of which labelling s | µs/beat | peak MB | "
          "neurokit2: wall s | peak MB | speed-up |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        ours = median_of("ours", n, runs)
        nk = median_of("nk", n, runs) if n <= nk_max else None
        if ours is None:
            print(f"| {n:,} | failed | | | | | | | |")
            continue
        nk_cells = (f"{nk['wall_s']:.2f} | {nk['rss_mb']:.0f} | {nk['wall_s'] / ours['wall_s']:.1f}x" if nk
                    else "not run | | ")
        print(f"| {n:,} | {ours['wall_s']:.2f} | {ours['cpu_s']:.2f} | {ours['label_s']:.2f} | "
              f"{ours['wall_s'] / n * 1e6:.1f} | {ours['rss_mb']:.0f} | {nk_cells} |")


def write_day(folder: Path, n: int) -> tuple[Path, Path, float]:
    """The same n RR as a Kubios text file and as a session record (beats, labels, 5-s metrics)."""
    sys.path.insert(0, str(ROOT))
    import numpy as np

    from biofeedback.whole_recording import analyze_recording
    from sessions.store import SessionWriter

    rr = mitdb_rr(n)
    text = folder / "day.txt"
    text.write_text("\n".join(f"{v:.3f}" for v in rr) + "\n")
    ticks = [max(1, round(v * 1.024)) for v in rr]
    labels = analyze_recording([t * 1000 / 1024 for t in ticks]).beats
    session = folder / "day.biofeedback.sqlite"
    w = SessionWriter(session, {"script": "holter", "language": "en", "title": "24 hours",
                                "source": {"kind": "file"}}, commit_interval_s=600)
    t, next_metrics, recent = 0.0, 5.0, []
    for i, (r, lab) in enumerate(zip(ticks, labels, strict=True)):
        t += r / 1024
        w.beat(t, r)
        w.label(i, lab.label.value)
        recent = (recent + [r])[-70:]
        if t >= next_metrics:
            win = np.array(recent) * 1000 / 1024
            w.metrics(t, {"hr_bpm": 60000 / win.mean(), "rmssd_ms": float(np.sqrt(np.mean(np.diff(win) ** 2))),
                          "sdnn_ms": float(win.std(ddof=1))})
            next_metrics += 5.0
    w.close(end_reason="completed")
    return text, session, t


def run_cli(args: list[str]) -> tuple[float, float, int]:
    """(wall s, peak MB, exit code) of ``python -m sessions ARGS`` measured inside that process."""
    code = ("import resource, sys, time; a = time.perf_counter(); from sessions.cli import main; "
            f"rc = main({args!r}); sys.stderr.write('@@%f %f\\n' % (time.perf_counter() - a, "
            "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)); sys.exit(rc)")
    env = {**os.environ, "MPLBACKEND": "Agg"}
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env)
    line = [ln for ln in p.stderr.splitlines() if ln.startswith("@@")]
    if not line:
        return float("nan"), float("nan"), p.returncode
    wall, mb = (float(x) for x in line[-1][2:].split())
    return wall, mb, p.returncode


def cli_table(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        text, session, seconds = write_day(folder, n)
        print(f"\nCommand line on a {seconds / 3600:.1f}-hour recording ({n:,} beats), one process each, "
              "imports included\n")
        print("| command | wall s | peak MB | exit |")
        print("|---|---:|---:|---:|")
        steps = [
            ("analyze day.txt --json", ["analyze", str(text), "--json", "--quiet"]),
            ("analyze day.txt --json --spectrum welch",
             ["analyze", str(text), "--json", "--quiet", "--spectrum", "welch"]),
            ("analyze SESSION --json", ["analyze", str(session), "--json", "--quiet"]),
            ("report SESSION -o r.html", ["report", str(session), "-o", str(folder / "r.html")]),
            ("report SESSION -o r.pdf", ["report", str(session), "-o", str(folder / "r.pdf")]),
        ]
        steps += [(f"export SESSION --format {fmt}", ["export", str(session), "--format", fmt, "-o",
                                                      str(folder / (f"x-{fmt}" if fmt == "bids" else f"x.{fmt}"))])
                  for fmt in ("kubios", "csv", "edf", "bids")]
        for name, argv in steps:
            wall, mb, rc = run_cli(argv)
            print(f"| {name} | {wall:.2f} | {mb:.0f} | {rc} |")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", nargs=2, metavar=("KIND", "N"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sizes", default="10000,30000,100000,300000,1000000")
    ap.add_argument("--nk-max", type=int, default=100_000)
    ap.add_argument("--day-beats", type=int, default=100_000)
    ap.add_argument("--no-cli", action="store_true")
    args = ap.parse_args()
    if args.child:
        import resource

        kind, n = args.child[0], int(args.child[1])
        out = child_ours(n) if kind == "ours" else child_nk(n)
        out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(out))
        return 0
    scaling_table([int(s) for s in args.sizes.split(",")], args.runs, args.nk_max)
    if not args.no_cli:
        cli_table(args.day_beats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
