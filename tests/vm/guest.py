"""Inside the VM: bring up a real BlueZ stack, start the scripted strap, run the project's CLI.

The init script written by ``harness.py`` runs this as root, chrooted into the host's read-only
root, with the host's (venv) Python. Steps:

1. load ``hci_vhci`` and the crypto modules BlueZ wants; start ``strap.py`` (it opens
   ``/dev/vhci``, which becomes ``hci0``), the system D-Bus and bluetoothd, and wait until BlueZ
   has powered the adapter;
2. ``python -m sessions scan --json`` and then ``python -m sessions stream --device <address>
   --json --seconds S``, from the repository, exactly as a user would run them.

Everything the host test asserts on lands in the results directory: ``scan.stdout``,
``stream.stdout`` (JSON lines) and their ``.stderr``, the strap's ``sent.jsonl`` and
``strap-events.jsonl``, the daemons' logs, and ``guest.json`` with exit codes and timings.
``--mode smoke`` runs ``smoke_bleak.py`` (plain bleak) instead of the CLI, to tell a broken
stack from broken project code.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

log = logging.getLogger("vm.guest")

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PYTHON = sys.executable


def wait_for(what: str, check, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    log.error("Timed out after %.0f s waiting for %s", timeout, what)
    return False


def run_logged(cmd: list[str], results: Path, name: str, timeout: float, **kw) -> tuple[subprocess.CompletedProcess, float]:
    """Run ``cmd`` with stdout to ``<name>.stdout`` and stderr to ``<name>.stderr`` in results."""
    log.info("Running %s", " ".join(cmd))
    start = time.monotonic()
    with (results / f"{name}.stdout").open("wb") as out, (results / f"{name}.stderr").open("wb") as err:
        try:
            proc = subprocess.run(cmd, stdout=out, stderr=err, timeout=timeout, **kw)
            rc = proc.returncode
        except subprocess.TimeoutExpired:
            log.error("%s did not finish within %.0f s", name, timeout)
            rc = None
    took = time.monotonic() - start
    log.info("%s finished: rc %s in %.1f s", name, rc, took)
    return subprocess.CompletedProcess(cmd, rc if rc is not None else -9), took


DAEMONS: list[subprocess.Popen] = []


def start_daemon(cmd: list[str], results: Path, name: str) -> subprocess.Popen:
    log.info("Starting %s", " ".join(cmd))
    logf = (results / f"{name}.log").open("wb")
    proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    DAEMONS.append(proc)
    return proc


def stop_daemons() -> None:
    """Stop what we started, newest first, so that their logs are complete on the share."""
    for proc in reversed(DAEMONS):
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()


def adapter_powered() -> bool:
    """hci0 is up (BlueZ's AutoEnable powers it; mgmt sets the HCI UP flag)."""
    try:
        out = subprocess.run(["btmgmt", "--index", "0", "info"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    for line in out.splitlines():
        if "current settings:" in line:
            return "powered" in line.split("current settings:", 1)[1].split()
    return False


def bring_up_stack(results: Path, args: argparse.Namespace) -> tuple[dict, subprocess.Popen]:
    info: dict = {}
    for module in ("virtio_rng", "hci_vhci", "algif_hash", "algif_skcipher", "ecdh_generic", "cmac", "ecb"):
        proc = subprocess.run(["modprobe", module], capture_output=True, text=True)
        if proc.returncode:
            log.warning("modprobe %s: %s", module, proc.stderr.strip())
    # The strap first: its Python start-up (bumble over 9p, emulated CPU) is the slowest step and
    # overlaps with the daemons'. bluetoothd picks up hci0 whenever it appears.
    strap_cmd = [PYTHON, str(HERE / "strap.py"), str(results), "--phase1", str(args.phase1), "--phase2",
                 str(args.phase2), "--rate", str(args.rate), "--max-seconds", str(args.tail_seconds)]
    if args.silent_tail:
        strap_cmd.append("--silent-tail")
    strap = start_daemon(strap_cmd, results, "strap")
    Path("/run/dbus").mkdir(parents=True, exist_ok=True)
    start_daemon(["dbus-daemon", "--system", "--nofork", "--nopidfile"], results, "dbus")
    if not wait_for("the system bus socket", lambda: Path("/run/dbus/system_bus_socket").exists(), 30):
        raise SystemExit(3)
    bluetoothd = ["/usr/libexec/bluetooth/bluetoothd", "--nodetach"]
    if args.bluetoothd_debug:
        bluetoothd.append("--debug")
    start_daemon(bluetoothd, results, "bluetoothd")
    info["strap_pid"] = strap.pid
    t0 = time.monotonic()
    if not wait_for("hci0", lambda: Path("/sys/class/bluetooth/hci0").exists(), 60):
        raise SystemExit(3)
    if not wait_for("BlueZ to power hci0", adapter_powered, 30, interval=0.5):
        subprocess.run(["btmgmt", "--index", "0", "power", "on"], capture_output=True, timeout=10)
        if not wait_for("hci0 powered (after power on)", adapter_powered, 15, interval=0.5):
            raise SystemExit(3)
    info["adapter_ready_s"] = round(time.monotonic() - t0, 2)
    return info, strap


def main() -> int:
    p = argparse.ArgumentParser(description="VM guest side of the BLE test")
    p.add_argument("results", type=Path)
    p.add_argument("--mode", choices=("cli", "smoke"), default="cli")
    p.add_argument("--phase1", type=int, default=18)
    p.add_argument("--phase2", type=int, default=18)
    p.add_argument("--rate", type=float, default=8.0)
    p.add_argument("--tail-seconds", type=float, default=60.0)
    p.add_argument("--stream-seconds", type=float, default=15.0)
    p.add_argument("--scan-seconds", type=float, default=5.0)
    p.add_argument("--silent-tail", action="store_true", help="the strap goes quiet after phase 2 (link kept)")
    p.add_argument("--bluetoothd-debug", action="store_true")
    args = p.parse_args()
    results: Path = args.results
    logging.basicConfig(level=logging.INFO, format="%(asctime)s guest: %(message)s",
                        handlers=[logging.StreamHandler(sys.stderr), logging.FileHandler(results / "guest.log")])
    summary: dict = {"mode": args.mode, "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}}
    t0 = time.monotonic()
    try:
        info, strap = bring_up_stack(results, args)
        summary.update(info)
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        if args.mode == "smoke":
            proc, took = run_logged([PYTHON, str(HERE / "smoke_bleak.py"), str(results)], results, "smoke", 120, env=env)
            summary["smoke"] = {"rc": proc.returncode, "s": round(took, 2)}
        else:
            proc, took = run_logged([PYTHON, "-m", "sessions", "scan", "--json", "--timeout", str(args.scan_seconds)],
                                    results, "scan", 60, cwd=REPO, env=env)
            summary["scan"] = {"rc": proc.returncode, "s": round(took, 2)}
            address = None
            try:
                found = json.loads((results / "scan.stdout").read_text() or "[]")
                address = next((d["address"] for d in found if d.get("name") == "VM Strap"), None)
            except (ValueError, KeyError, TypeError) as err:
                log.error("scan printed no JSON list: %s", err)
            target = address or "VM Strap"  # still exercise the stream if scan misbehaved
            summary["stream_target"] = target
            proc, took = run_logged([PYTHON, "-m", "sessions", "-v", "stream", "--device", target, "--json",
                                     "--seconds", str(args.stream_seconds)],
                                    results, "stream", args.stream_seconds + 60, cwd=REPO, env=env)
            summary["stream"] = {"rc": proc.returncode, "s": round(took, 2)}
        try:
            strap.wait(timeout=15)
        except subprocess.TimeoutExpired:
            log.warning("the strap did not end by itself; stopping it")
            strap.terminate()
        summary["strap_rc"] = strap.returncode
    except SystemExit as stop:
        summary["setup_failed"] = int(stop.code or 1)
    except Exception as err:  # noqa: BLE001 - report anything to the host instead of hanging
        log.exception("guest failed")
        summary["error"] = repr(err)
    stop_daemons()
    summary["guest_s"] = round(time.monotonic() - t0, 2)
    (results / "guest.json").write_text(json.dumps(summary, indent=1))
    log.info("guest done: %s", json.dumps(summary))
    subprocess.run(["sync"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
