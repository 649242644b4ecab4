"""Reading an ECG for ``biofeedback analyze``: a WFDB record, or a CSV with a time and an ECG column.

Why apart from ``analyze``: the file formats and their one-sentence errors are one concern, the
metrics another. Both readers return the samples in µV, the sample rate and each sample's time in
seconds from the first sample (a jump in it is a break, see :func:`biofeedback.beat_morphology.analyze_ecg`).
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from sessions.errors import UserError

FloatArray = NDArray[np.float64]
TO_UV = {"uv": 1.0, "µv": 1.0, "μv": 1.0, "mv": 1000.0, "v": 1e6}
TO_S = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0}


@dataclass
class EcgRecording:
    samples_uv: FloatArray
    fs: float
    t_s: FloatArray
    what: str  # a few words for the output: "WFDB record 100, lead 0 (MLII)"


def wfdb_header(path: Path) -> Path | None:
    """The ``.hea`` file a path names (``100.hea`` or ``100``), or None."""
    if path.suffix == ".hea":
        return path
    if not path.suffix or path.suffix.isdigit():
        hea = path.with_name(path.name + ".hea")
        return hea if hea.exists() else None
    return None


def read_wfdb(hea: Path, lead: int) -> EcgRecording:
    if not hea.exists():
        raise UserError(f"{hea}: no such WFDB header file.")
    try:
        import wfdb
    except ImportError:
        raise UserError("reading a WFDB record needs the wfdb package: pip install 'biofeedback[review]'.") from None
    base = str(hea.with_suffix(""))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas deprecation notes from inside wfdb, nothing about the file
            head = wfdb.rdheader(base)
            if not 0 <= lead < head.n_sig:
                raise UserError(f"{hea.name} has {head.n_sig} lead(s), numbered 0 to {head.n_sig - 1}; "
                                f"choose one with --lead.")
            rec = wfdb.rdrecord(base, channels=[lead])
    except UserError:
        raise
    except FileNotFoundError as err:
        raise UserError(f"{hea.name}: {Path(err.filename or '?').name} is missing; put the record's files together.") from None
    except Exception as err:  # wfdb raises many kinds (ValueError, OSError, IndexError) for a damaged record
        raise UserError(f"{hea.name}: not a readable WFDB record ({err}); export it again or choose another.") from None
    x = np.asarray(rec.p_signal[:, 0], dtype=np.float64)
    unit = (rec.units[0] or "mV").strip().lower()
    scale = TO_UV.get(unit)
    if scale is None:
        raise UserError(f"{hea.name}: lead {lead} is in {rec.units[0]!r}, not a voltage; choose an ECG lead with --lead.")
    x = np.nan_to_num(x * scale)  # a WFDB gap (NaN) becomes a flat line the detector passes over
    fs = float(rec.fs)
    return EcgRecording(x, fs, np.arange(x.size) / fs, f"WFDB record {hea.stem}, lead {lead} ({rec.sig_name[0]})")


def _unit(name: str, table: dict[str, float]) -> float | None:
    """The unit a column name carries: ``ecg_uV``, ``ECG (mV)``, ``time [ns]``, ``t_s``."""
    tokens = re.split(r"[\s_()\[\],/-]+", name.strip().lower())
    for tok in reversed(tokens):
        if tok in table:
            return table[tok]
    return None


def is_ecg_csv(path: Path) -> bool:
    """A CSV (plain or .gz) whose header has a column named like ECG."""
    if not path.is_file() or not any(s in (".csv", ".gz", ".txt") for s in path.suffixes):
        return False
    try:
        with _open_text(path) as fh:
            header = fh.readline()
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile):
        return False
    return "," in header and any("ecg" in c.lower() for c in header.split(","))


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def _columns(path: Path, header: list[str]) -> tuple[int, float, int, float]:
    names = [h.strip() for h in header]
    ecg = [i for i, h in enumerate(names) if "ecg" in h.lower()]
    time = [i for i, h in enumerate(names) if re.match(r"^(t|time|timestamp)([\s_(\[]|$)", h.lower())]
    if not time:
        raise UserError(f"{path.name}, line 1: no time column; name one t_s, time_s, time_ms or time_ns.")
    to_uv = _unit(names[ecg[0]], TO_UV)
    if to_uv is None:
        raise UserError(f"{path.name}, line 1: the ECG column {names[ecg[0]]!r} does not say its unit; "
                        "name it ecg_uV or ecg_mV.")
    to_s = _unit(names[time[0]], TO_S)
    if to_s is None:
        raise UserError(f"{path.name}, line 1: the time column {names[time[0]]!r} does not say its unit; "
                        "name it t_s, time_ms or time_ns.")
    return time[0], to_s, ecg[0], to_uv


def read_ecg_csv(path: Path) -> EcgRecording:
    try:
        with _open_text(path) as fh:
            rows = csv.reader(fh)
            header = next(rows, None)
            if not header:
                raise UserError(f"{path.name} is empty.")
            ti, to_s, ei, to_uv = _columns(path, header)
            t: list[float] = []
            x: list[float] = []
            for line, row in enumerate(rows, start=2):
                if not row:
                    continue
                try:
                    t.append(float(row[ti]))
                    x.append(float(row[ei]))
                except (ValueError, IndexError):
                    raise UserError(f"{path.name}, line {line}: the time or ECG value is not a number; "
                                    "fix or delete that line.") from None
    except (UnicodeDecodeError, EOFError, gzip.BadGzipFile, OSError) as err:
        raise UserError(f"{path.name}: cannot be read as CSV text ({err}).") from None
    if len(x) < 2:
        raise UserError(f"{path.name}: fewer than two ECG samples.")
    ts = (np.asarray(t) - t[0]) * to_s
    step = np.diff(ts)
    if np.any(step <= 0):
        line = int(np.flatnonzero(step <= 0)[0]) + 3
        raise UserError(f"{path.name}, line {line}: the time does not increase; sort the file by time.")
    fs = 1.0 / float(np.median(step))
    return EcgRecording(np.asarray(x) * to_uv, fs, ts, f"{path.name} ({fs:.2f} Hz)")
