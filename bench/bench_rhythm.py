"""Rhythm check on MIT-BIH: atrial-fibrillation minutes flagged, non-AF minutes (ectopy included) left alone.

Data: MIT-BIH Arrhythmia Database with rhythm annotations (Moody GB, Mark RG. IEEE Eng Med Biol
20(3):45-50, 2001; Goldberger AL et al. Circulation 101(23):e215-e220, 2000; PhysioNet, ODC-By 1.0),
from ``../shared/data/mitdb-ecg`` beside the repository. RR from the cardiologists' beat annotations
(sample / 360 Hz); the check sees RR only, fed beat by beat through :class:`RhythmCheck`.

Scoring per whole minute of each record: a minute is "AF" when more than half of its beats lie
under an ``(AFIB`` rhythm label; it is "flagged" when the check's state is irregular at more than
half of its beats. AF records 201, 203, 219, 221; records 100-124 are the non-AF side. Non-AF
minutes of the AF records (201: sinus with many ectopics, nodal rhythm; 203: atrial flutter,
ventricular runs; 219: sinus) are counted separately. The setting was tuned on all these records
(one setting for everyone), so the totals are in-sample; the same setting is also scored on two
halves (201, 219 with the even non-AF records; 203, 221 with the odd ones) to show its spread.

    .venv/bin/python bench/bench_rhythm.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.realdata import AF_RECORDS, NON_AF_RECORDS, MitRecord, mit_record  # noqa: E402
from biofeedback.rhythm import RhythmCheck  # noqa: E402


def minute_scores(rec: MitRecord, cost_ns: list[int] | None = None) -> list[tuple[bool, bool]]:
    """(is AF, flagged) per whole minute of the record."""
    rc = RhythmCheck()
    flags = np.zeros(len(rec.rr_ms), dtype=bool)
    for i, (t, rr) in enumerate(zip(rec.beat_t.tolist(), rec.rr_ms.tolist(), strict=True)):
        c0 = time.perf_counter_ns()
        st = rc.add(t, rr)
        if cost_ns is not None:
            cost_ns.append(time.perf_counter_ns() - c0)
        flags[i] = st.irregular
    af = np.array([r == "(AFIB" for r in rec.rhythm])
    out = []
    for k in range(int(rec.duration_s // 60)):
        sel = (rec.beat_t >= 60 * k) & (rec.beat_t < 60 * (k + 1))
        if sel.sum() >= 5:
            out.append((bool(af[sel].mean() > 0.5), bool(flags[sel].mean() > 0.5)))
    return out


def onset_delays(rec: MitRecord) -> list[float]:
    """Seconds from the start of each AF episode (at least a minute long) to the first irregular verdict in it."""
    rc = RhythmCheck()
    flags = [rc.add(t, rr).irregular for t, rr in zip(rec.beat_t.tolist(), rec.rr_ms.tolist(), strict=True)]
    af = [r == "(AFIB" for r in rec.rhythm]
    out: list[float] = []
    i = 0
    while i < len(af):
        if af[i] and (i == 0 or not af[i - 1]):
            j = i
            while j < len(af) and af[j]:
                j += 1
            if rec.beat_t[j - 1] - rec.beat_t[i] >= 60.0:
                hit = next((k for k in range(i, j) if flags[k]), None)
                out.append(float(rec.beat_t[hit] - rec.beat_t[i]) if hit is not None else float("inf"))
            i = j
        else:
            i += 1
    return out


def pct(a: int, b: int) -> str:
    return f"{100.0 * a / b:5.1f} % ({a}/{b})" if b else "-"


def main() -> None:
    cost: list[int] = []
    scores = {n: minute_scores(mit_record(n), cost) for n in AF_RECORDS + NON_AF_RECORDS}
    print("| record | AF minutes | AF flagged | non-AF minutes | non-AF flagged |")
    print("|---|---|---|---|---|")
    for n, rows in scores.items():
        af = [f for a, f in rows if a]
        non = [f for a, f in rows if not a]
        if n in AF_RECORDS or any(non):
            print(f"| {n} | {len(af)} | {pct(sum(af), len(af))} | {len(non)} | {pct(sum(non), len(non))} |")
    others = [n for n in NON_AF_RECORDS if not any(f for a, f in scores[n] if not a)]
    print(f"| other {len(others)} records | 0 | - | {sum(len(scores[n]) for n in others)} | 0 flagged |")

    def totals(recs: list[int]) -> tuple[int, int, int, int, int, int]:
        af = [f for n in recs if n in AF_RECORDS for a, f in scores[n] if a]
        fa = [f for n in recs if n in AF_RECORDS for a, f in scores[n] if not a]
        fo = [f for n in recs if n not in AF_RECORDS for a, f in scores[n] if not a]
        return sum(af), len(af), sum(fo), len(fo), sum(fa), len(fa)

    all_recs = list(AF_RECORDS + NON_AF_RECORDS)
    hit, n_af, fp, n_non, fpa, n_afnon = totals(all_recs)
    print(f"\nAF minutes flagged on 201/203/219/221: {pct(hit, n_af)} (target >= 95 %: "
          f"{'met' if hit >= 0.95 * n_af else 'NOT met'})")
    print(f"Non-AF minutes flagged, records 100-124: {pct(fp, n_non)} (target <= 1 %: "
          f"{'met' if fp <= 0.01 * n_non else 'NOT met'})")
    print(f"Non-AF minutes flagged inside the AF records (reported apart): {pct(fpa, n_afnon)}")
    halves = (("201, 219 + even non-AF", [201, 219] + [n for n in NON_AF_RECORDS if n % 2 == 0]),
              ("203, 221 + odd non-AF", [203, 221] + [n for n in NON_AF_RECORDS if n % 2]))
    for name, part in halves:
        h, na, f, nn, fa, nfa = totals(part)
        print(f"  {name}: AF flagged {pct(h, na)}; non-AF flagged {pct(f, nn)}; "
              f"non-AF in AF records {pct(fa, nfa)}")
    delays = [d for n in AF_RECORDS for d in onset_delays(mit_record(n))]
    print(f"\nTime from the start of an AF episode (>= 1 min, {len(delays)} episodes) to the first irregular verdict: "
          f"median {np.median(delays):.0f} s, max {max(delays):.0f} s")
    c = np.array(cost)
    print(f"\nCost (this machine): add() per beat p50 / p99 = {np.percentile(c, 50) / 1000:.2f} / "
          f"{np.percentile(c, 99) / 1000:.2f} us (perf_counter_ns over {len(c)} beats)")


if __name__ == "__main__":
    main()
