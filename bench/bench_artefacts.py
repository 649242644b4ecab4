"""Ectopic-beat detection from RR alone: ours against a fixed 20 % rule and neurokit2's Kubios method.

Data: MIT-BIH Arrhythmia Database (Moody & Mark 2001; Goldberger et al. 2000; PhysioNet, ODC-By 1.0)
beside the repository in ``../shared/data``:

- ``mitdb/`` beat labels of records 100-124 without the paced 102, 104, 107: the tuning set, also
  shown split in halves (even / odd record numbers);
- ``mitdb-ecg/`` the AF records 201, 203, 219, 221 (read with ``wfdb``): held out, no threshold
  chosen on them. Their atrial fibrillation/flutter stretches (rhythm notes ``(AFIB``, ``(AFL``)
  are irregular by nature and not ectopy: they are left out of every statistic here and only the
  share of their RR flagged is reported apart. 100-124 are read from here too when present, for
  their blocked P waves (``x``: the RR spanning one is neither normal nor ectopic, so it is left
  out of specificity; this moves the old 100-124 figures by a few false flags in 108 and 118).

Scoring: beats labelled A, a, J, S, V, E, F are ectopic; an ectopic beat is found when the RR
ending at it or the next RR is flagged. Specificity is over RR intervals whose two ending beats and
their neighbours are all non-ectopic (any RR in AF/AFL left out).

What users get: RMSSD per 5-minute window (consecutive, from the first beat) holding more than 10
ectopic beats, outside AF. Reference: RMSSD of the cardiologists' NN intervals (both ending beats
N/L/R/e/j and no ectopic beat next to either), successive differences only between adjacent NN
intervals. Each method: RMSSD over the RR it leaves unflagged (differences never across a flagged
RR), as ``biofeedback.hrv`` computes it. The table gives the median and the 90th percentile of
|error| / reference over the windows; "vs N-N" repeats it against every interval between two
normal beats (Kubios's NN: the interval right after a compensatory pause counts).

    .venv/bin/python bench/bench_artefacts.py            # every table
    .venv/bin/python bench/bench_artefacts.py --no-nk    # skip the (slow-ish) neurokit2 baselines
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from biofeedback.artefacts import ArtefactClassifier, ArtefactConfig, classify_series  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "mitdb"
ECG_DATA = ROOT.parent / "shared" / "data" / "mitdb-ecg"
ECTOPIC = frozenset("AaJSVEF")
NORMAL = frozenset("NLRej")
BEATS = frozenset("NLRBAaJSVrFejnE/fQ?")
PACED = (102, 104, 107)
HELD_OUT = (201, 203, 219, 221)
AF_RHYTHMS = ("(AFIB", "(AFL")
FS = 360
WINDOW_S = 300.0
MIN_ECTOPIC_PER_WINDOW = 10


@dataclass
class Counts:
    tp: int = 0
    fn: int = 0
    tn: int = 0
    fp: int = 0
    af_flagged: int = 0
    af_rr: int = 0
    rmssd_err: list[float] = field(default_factory=list)  # reference: strict NN (see module docstring)
    rmssd_err_nn: list[float] = field(default_factory=list)  # reference: both ending beats normal

    def __iadd__(self, o: "Counts") -> "Counts":
        self.tp += o.tp
        self.fn += o.fn
        self.tn += o.tn
        self.fp += o.fp
        self.af_flagged += o.af_flagged
        self.af_rr += o.af_rr
        self.rmssd_err = self.rmssd_err + o.rmssd_err
        self.rmssd_err_nn = self.rmssd_err_nn + o.rmssd_err_nn
        return self

    @property
    def sens(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else float("nan")

    @property
    def spec(self) -> float:
        return self.tn / (self.tn + self.fp) if self.tn + self.fp else float("nan")


@dataclass
class Record:
    samples: np.ndarray  # R-peak sample numbers at 360 Hz
    symbols: np.ndarray  # beat labels
    in_af: np.ndarray  # beat lies inside an AF/AFL stretch
    blocked: np.ndarray  # the RR starting at this beat spans a non-conducted P wave


def records(data: Path = DATA) -> list[int]:
    recs = sorted(int(p.stem) for p in data.glob("*.csv") if p.stem.isdigit())
    return [r for r in recs if r not in PACED]


def load(rec: int, data: Path = DATA) -> tuple[np.ndarray, np.ndarray]:
    """(R-peak samples at 360 Hz, beat symbols) from the CSV labels."""
    samples, symbols = [], []
    with open(data / f"{rec}.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            samples.append(int(row["sample"]))
            symbols.append(row["symbol"])
    return np.asarray(samples), np.asarray(symbols)


def load_record(rec: int) -> Record:
    """Beats, labels, AF stretches and blocked P waves from WFDB (``mitdb-ecg``), else the CSV labels.

    A non-conducted P wave (``x``, a blocked premature atrial beat) leaves a pause with no QRS: the
    RR spanning it is not a sinus interval, so it counts as neither normal nor ectopic.
    """
    if not (ECG_DATA / f"{rec}.atr").exists():
        s, y = load(rec)
        return Record(s, y, np.zeros(len(s), bool), np.zeros(len(s), bool))
    import wfdb

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas deprecation notes from inside wfdb
        ann = wfdb.rdann(str(ECG_DATA / str(rec)), "atr")
    af = False
    samples, symbols, in_af, blocked = [], [], [], []
    for smp, sym, note in zip(ann.sample, ann.symbol, ann.aux_note, strict=True):
        note = (note or "").strip("\x00 ")
        if sym == "+" and note.startswith("("):
            af = note in AF_RHYTHMS
        if sym == "x" and blocked:
            blocked[-1] = True  # the RR from the last beat spans the blocked P wave
        if sym in BEATS:
            samples.append(int(smp))
            symbols.append(sym)
            in_af.append(af)
            blocked.append(False)
    return Record(np.asarray(samples), np.asarray(symbols), np.asarray(in_af), np.asarray(blocked))


def score(flags: np.ndarray, symbols: np.ndarray, in_af: np.ndarray | None = None,
          blocked: np.ndarray | None = None) -> Counts:
    """flags[k] is True when RR k (from beat k to beat k+1) is flagged."""
    n = len(symbols)
    ect = np.array([s in ECTOPIC for s in symbols])
    if blocked is not None:
        ect_or_block = ect | blocked | np.concatenate([[False], blocked[:-1]])
    else:
        ect_or_block = ect
    af = np.zeros(n, bool) if in_af is None else in_af
    n_rr = len(flags)
    c = Counts()
    for j in np.flatnonzero(ect & ~af):
        cands = [k for k in (j - 1, j) if 0 <= k < n_rr]
        if not cands:
            continue
        if any(flags[k] for k in cands):
            c.tp += 1
        else:
            c.fn += 1
    pad = np.concatenate([[False], ect_or_block, [False, False]])
    near = pad[:n_rr] | pad[1:n_rr + 1] | pad[2:n_rr + 2] | pad[3:n_rr + 3]  # beats k-1 .. k+2
    rr_af = af[:n_rr] | af[1:n_rr + 1]
    ok = ~near & ~rr_af
    c.fp = int((flags & ok).sum())
    c.tn = int((~flags & ok).sum())
    c.af_rr = int(rr_af.sum())
    c.af_flagged = int((flags & rr_af).sum())
    return c


def _rmssd(rr: np.ndarray, use: np.ndarray) -> float:
    pair = use[1:] & use[:-1]
    d = np.diff(rr)[pair]
    return float(np.sqrt(np.mean(d * d))) if len(d) else float("nan")


def rmssd_errors(flags: np.ndarray, rec: Record, strict: bool = True) -> list[float]:
    """|RMSSD error| / label-derived RMSSD per 5-min window with > 10 ectopic beats (outside AF).

    ``strict``: NN intervals as in the module docstring (no ectopic next to either end); otherwise
    every interval between two normal beats (the RR right after a compensatory pause included).
    """
    s, sym = rec.samples, rec.symbols
    rr = np.diff(s) / FS * 1000.0
    ect = np.array([x in ECTOPIC for x in sym])
    nrm = np.array([x in NORMAL for x in sym])
    ect_or_block = ect | rec.blocked | np.concatenate([[False], rec.blocked[:-1]])
    pad = np.concatenate([[False], ect_or_block, [False]])
    next_to_ect = pad[:-2] | pad[2:]
    good_beat = nrm & ~next_to_ect
    if not strict:
        good_beat = nrm
    label_nn = good_beat[:-1] & good_beat[1:]
    t = (s - s[0]) / FS
    out = []
    for w0 in np.arange(0.0, t[-1] - WINDOW_S + 1e-9, WINDOW_S):
        b = (t >= w0) & (t < w0 + WINDOW_S)
        if rec.in_af[b].any() or int(ect[b].sum()) <= MIN_ECTOPIC_PER_WINDOW:
            continue
        k = np.flatnonzero(b[:-1] & b[1:])  # RR inside the window
        ref = _rmssd(rr[k], label_nn[k])
        got = _rmssd(rr[k], ~flags[k])
        if ref > 0 and np.isfinite(got):
            out.append(abs(got - ref) / ref)
    return out


def ours(samples: np.ndarray) -> np.ndarray:
    # The strap's resolution: RR in whole ticks of 1/1024 s.
    ticks = np.round(samples * 1024 / FS).astype(np.int64)
    rr = np.diff(ticks)
    return np.array([not b.is_nn for b in classify_series(rr.tolist(), (ticks[1:] / 1024).tolist())])


def fixed20(samples: np.ndarray) -> np.ndarray:
    rr = np.diff(samples) / FS * 1000
    f = np.zeros(len(rr), bool)
    f[1:] = np.abs(np.diff(rr)) > 0.2 * rr[:-1]
    return f


def no_correction(samples: np.ndarray) -> np.ndarray:
    return np.zeros(len(samples) - 1, bool)


def _nk(samples: np.ndarray, iterative: bool) -> np.ndarray:
    import neurokit2 as nk

    ticks = np.round(samples * 1024 / FS).astype(np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        art, _ = nk.signal_fixpeaks(ticks, sampling_rate=1024, method="kubios", iterative=iterative)
    f = np.zeros(len(ticks) - 1, bool)
    for key in ("ectopic", "missed", "extra", "longshort"):
        for p in art.get(key, []):
            if 1 <= p <= len(f):
                f[p - 1] = True  # peak p ends RR p-1
    return f


def nk_kubios(samples: np.ndarray) -> np.ndarray:
    return _nk(samples, iterative=False)


def nk_kubios_iter(samples: np.ndarray) -> np.ndarray:
    return _nk(samples, iterative=True)


METHODS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "ours": ours, "fixed 20 %": fixed20, "nk kubios": nk_kubios, "nk kubios iter": nk_kubios_iter,
    "no correction": no_correction,
}
SETTINGS = {
    "ours": "biofeedback.artefacts defaults: " + ", ".join(
        f"{k}={getattr(ArtefactConfig(), k)}" for k in ArtefactConfig.__dataclass_fields__),
    "fixed 20 %": "RR k flagged when |RR k - RR k-1| > 0.20 * RR k-1",
    "nk kubios": 'neurokit2 signal_fixpeaks(peaks, sampling_rate=1024, method="kubios", iterative=False)',
    "nk kubios iter": 'neurokit2 signal_fixpeaks(peaks, sampling_rate=1024, method="kubios", iterative=True)'
                      " (its default)",
    "no correction": "every RR used",
}
GROUPS = {
    "tune: 100-124": lambda r: r not in HELD_OUT,
    "split: even": lambda r: r not in HELD_OUT and r % 2 == 0,
    "split: odd": lambda r: r not in HELD_OUT and r % 2 == 1,
    "held-out: 201/203/219/221 (outside AF)": lambda r: r in HELD_OUT,
}


def all_records(with_held_out: bool = True) -> list[int]:
    recs = records()
    if with_held_out and ECG_DATA.is_dir():
        recs += [r for r in HELD_OUT if (ECG_DATA / f"{r}.atr").exists()]
    return recs


def evaluate(methods: dict[str, Callable[[np.ndarray], np.ndarray]] | None = None, data: Path = DATA,
             recs: list[int] | None = None) -> dict[str, dict[int, Counts]]:
    methods = methods or METHODS
    out: dict[str, dict[int, Counts]] = {m: {} for m in methods}
    for rec in recs if recs is not None else records(data):
        if data == DATA:
            r = load_record(rec)
        else:
            s, y = load(rec, data)
            r = Record(s, y, np.zeros(len(s), bool), np.zeros(len(s), bool))
        for name, fn in methods.items():
            flags = fn(r.samples)
            c = score(flags, r.symbols, r.in_af, r.blocked)
            c.rmssd_err = rmssd_errors(flags, r)
            c.rmssd_err_nn = rmssd_errors(flags, r, strict=False)
            out[name][rec] = c
    return out


def totals(per: dict[int, Counts], recs) -> Counts:
    c = Counts()
    for r in recs:
        c += per[r]
    return c


def rr_blind(data: Path = DATA, tol: float = 0.05, ref_tol: float = 0.15) -> tuple[int, int]:
    """Ectopic beats no RR-only method can see at high specificity, and all ectopic beats.

    Blind: inside a regular run (its RR and the next are within ``tol`` of the RR before it) and
    at a rate within ``ref_tol`` of the last nine non-ectopic RR before it (junctional or slow
    ventricular runs at sinus rate). Flagging them would mean flagging ordinary sinus arrhythmia.
    """
    blind = total = 0
    for rec in records(data):
        samples, symbols = load(rec, data)
        rr = np.diff(samples).astype(float)
        ect = np.array([s in ECTOPIC for s in symbols])
        normal_rr: list[float] = []
        for b in range(2, len(samples) - 1):
            if not ect[b] and not ect[b - 1]:
                normal_rr = (normal_rr + [rr[b - 1]])[-9:]
            if not ect[b]:
                continue
            total += 1
            prev, own, nxt = rr[b - 2], rr[b - 1], rr[b]
            regular = abs(own / prev - 1) < tol and abs(nxt / own - 1) < tol
            if regular and normal_rr and abs(own / float(np.median(normal_rr)) - 1) < ref_tol:
                blind += 1
    return blind, total


def _pct(a: list[float], q: float) -> str:
    return f"{100 * float(np.percentile(a, q)):.1f}" if a else "-"


def print_tables(res: dict[str, dict[int, Counts]], recs: list[int]) -> None:
    names = list(res)
    print("| record | ectopic | " + " | ".join(f"{n} sens | {n} FP" for n in names) + " |")
    print("|---" * (2 + 2 * len(names)) + "|")
    for r in recs:
        c0 = res[names[0]][r]
        cells = []
        for n in names:
            c = res[n][r]
            cells += [f"{100 * c.sens:.1f}" if c.tp + c.fn else "-", str(c.fp)]
        print(f"| {r} | {c0.tp + c0.fn} | " + " | ".join(cells) + " |")
    print()
    print("| group | method | sensitivity % | specificity % | found / ectopic | FP / normal RR "
          "| RMSSD windows | RMSSD error median % | RMSSD error p90 % | vs N-N median % | vs N-N p90 % |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for group, sel in GROUPS.items():
        rs = [r for r in recs if sel(r)]
        if not rs:
            continue
        for n in names:
            c = totals(res[n], rs)
            det = (f"{100 * c.sens:.2f} | {100 * c.spec:.2f} | {c.tp} / {c.tp + c.fn} | {c.fp} / {c.tn + c.fp}"
                   if n != "no correction" else "- | - | - | -")
            print(f"| {group} | {n} | {det} | {len(c.rmssd_err)} | {_pct(c.rmssd_err, 50)} | "
                  f"{_pct(c.rmssd_err, 90)} | {_pct(c.rmssd_err_nn, 50)} | {_pct(c.rmssd_err_nn, 90)} |")
    held = [r for r in recs if r in HELD_OUT]
    if held:
        print()
        print("Inside AF/AFL (held-out records; not ectopy, not scored above): share of RR flagged")
        for n in names:
            c = totals(res[n], held)
            if c.af_rr:
                print(f"- {n}: {c.af_flagged} / {c.af_rr} ({100 * c.af_flagged / c.af_rr:.1f} %)")
    print()
    print("Settings of every method above:")
    for n in names:
        print(f"- {n}: {SETTINGS.get(n, '?')}")


def _synthetic_rr(n: int) -> np.ndarray:
    """Sinus rhythm (ticks) with breathing, jitter and 5 % premature beats."""
    rng = np.random.default_rng(1)
    rr = np.round(1024 * (0.85 + 0.05 * np.sin(np.arange(n) / 4.0) + rng.normal(0, 0.02, n))).astype(np.int64)
    ect = np.flatnonzero(rng.random(n - 1) < 0.05) + 1
    rr[ect] = (rr[ect] * 0.7).astype(np.int64)
    return rr


def timing(sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000), runs: int = 3, nk: bool = True) -> None:
    """CPU cost of the classifier offline (per size, median of ``runs``) and live per beat (p50/p99).

    Baseline in the same run: neurokit2 ``signal_fixpeaks(method="kubios", iterative=True)`` on
    the same beats (up to 100,000; it needs minutes and gigabytes beyond).
    """
    print("| beats | classify_series CPU s | µs/beat | neurokit2 kubios (iterative=True) CPU s | ratio |")
    print("|---|---|---|---|---|")
    for n in sizes:
        rr_l = _synthetic_rr(n).tolist()
        ours_s = []
        for _ in range(runs):
            t0 = time.process_time()
            classify_series(rr_l)
            ours_s.append(time.process_time() - t0)
        o = float(np.median(ours_s))
        nk_cell = ratio = "-"
        if nk and n <= 100_000:
            import neurokit2 as nkm

            peaks = np.cumsum(np.asarray(rr_l))
            t0 = time.process_time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                nkm.signal_fixpeaks(peaks, sampling_rate=1024, method="kubios", iterative=True)
            b = time.process_time() - t0
            nk_cell, ratio = f"{b:.2f}", f"{b / o:.1f}x"
        print(f"| {n:,} | {o:.2f} | {1e6 * o / n:.2f} | {nk_cell} | {ratio} |")
    per = []
    clf = ArtefactClassifier()
    acc = 0.0
    for r in _synthetic_rr(200_000).tolist():
        acc += r / 1024
        t0 = time.process_time_ns()
        clf.push(acc, r)
        per.append(time.process_time_ns() - t0)
    p = np.asarray(per) / 1000.0
    print(f"\nLive ArtefactClassifier.push over 200,000 beats: p50 {np.percentile(p, 50):.1f} µs, "
          f"p99 {np.percentile(p, 99):.1f} µs per beat (CPU time).")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-nk", action="store_true", help="leave out the neurokit2 Kubios baselines")
    ap.add_argument("--no-timing", action="store_true", help="skip the 1M-beat timing")
    args = ap.parse_args()
    if not DATA.is_dir():
        print(f"no MIT-BIH data at {DATA}", file=sys.stderr)
        return 1
    methods = dict(METHODS)
    if args.no_nk:
        methods.pop("nk kubios")
        methods.pop("nk kubios iter")
    recs = all_records()
    res = evaluate(methods, recs=recs)
    print_tables(res, recs)
    blind, total = rr_blind()
    print()
    print(f"RR-only ceiling (100-124): {blind} of {total} ectopic beats sit in regular runs at sinus rate "
          f"(+/-15 %); at most {100 * (total - blind) / total:.2f} % sensitivity is reachable from RR alone.")
    if not args.no_timing:
        print()
        timing(nk=not args.no_nk)
    return 0


if __name__ == "__main__":
    sys.exit(main())
