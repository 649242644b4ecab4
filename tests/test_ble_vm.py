"""The project's BLE strap code against a real BlueZ stack, in a QEMU VM.

Unit tests fake bleak; only a real stack shows that ``biofeedback scan`` and ``biofeedback stream``
survive BlueZ: D-Bus timing, device caching, a strap that drops the link and comes back. The VM
(see ``tests/vm/``) boots Debian's kernel, runs bluetoothd, and a bumble strap that sends known
real payloads, drops the link from its side, accepts the reconnect and sends more. The CLI runs
unmodified inside the VM, from this checkout and this Python; the assertions below compare what
it printed with what the strap recorded as sent. The strap is a Polar H10 for PMD too: the CLI
must start its ECG and accelerometer, receive them, restart them after the reconnect and stop
them when it ends.

Needs qemu-system-x86, linux-image-amd64, bluez, busybox-static, kmod and dbus (Debian). Without
them the test skips, unless ``BIOFEEDBACK_REQUIRE_VM=1`` (CI) makes that a failure.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

try:  # tests/ as a package (tests/__init__.py) or as a plain directory on sys.path
    from tests.vm import harness
    from tests.vm.scenario import BATTERY_PCT, STRAP_ADDRESS, STRAP_NAME
except ImportError:
    from vm import harness
    from vm.scenario import BATTERY_PCT, STRAP_ADDRESS, STRAP_NAME

pytestmark = pytest.mark.vm

log = logging.getLogger(__name__)

PHASE1 = 18          # notifications before the strap drops the link
PHASE2 = 18          # notifications after the central reconnected
RATE_HZ = 8.0        # fast enough to keep the test short, slow enough for TCG
STREAM_SECONDS = 20  # stream time used ~11 s here (connect 2, phase 1 4, reconnect 2, phase 2 2.5): 2x margin
BOOT_TIMEOUT_S = 240


@dataclass
class VmOutcome:
    run: harness.VmRun
    guest: dict
    scan: object
    stream: list[dict]
    stream_bad_lines: list[str]
    sent: list[dict]
    strap_events: list[dict]
    pmd_sent: list[dict]
    notes: list[str] = field(default_factory=list)

    def diagnostics(self) -> str:
        """What a CI log needs to tell a broken stack from broken project code."""
        r = self.run.results
        parts = [f"VM wall time {self.run.wall_s:.1f} s, qemu rc {self.run.returncode}, timed out {self.run.timed_out}",
                 f"guest.json: {json.dumps(self.guest)}"]
        for name, lines in (("stream.stderr", 30), ("scan.stderr", 15), ("strap.log", 20),
                            ("bluetoothd.log", 20), ("guest.log", 30)):
            parts.append(f"--- {name} (tail) ---\n{_tail(r / name, lines)}")
        parts.append(f"--- console.log (tail) ---\n{self.run.console_tail(60)}")
        return "\n".join(parts)

    def check(self, condition: bool, message: str) -> None:
        if not condition:
            pytest.fail(f"{message}\n\n{self.diagnostics()}", pytrace=False)


def _tail(path: Path, lines: int) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no {path.name})"


def _jsonl(path: Path) -> tuple[list[dict], list[str]]:
    good, bad = [], []
    if not path.exists():
        return good, bad
    for line in path.read_text(errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            good.append(json.loads(line))
        except ValueError:
            bad.append(line)
    return good, bad


@pytest.fixture(scope="module")
def vm(tmp_path_factory: pytest.TempPathFactory) -> VmOutcome:
    """Boot the VM once for all the checks below."""
    try:
        harness.preflight()
    except harness.VmUnavailable as err:
        if os.environ.get("BIOFEEDBACK_REQUIRE_VM") == "1":
            pytest.fail(f"BIOFEEDBACK_REQUIRE_VM=1 but the BLE VM cannot run here: {err}", pytrace=False)
        pytest.skip(f"BLE VM test needs QEMU and Debian's kernel: {err}")
    base = tmp_path_factory.mktemp("ble-vm")
    run = harness.boot(base / "results", base / "work", timeout_s=BOOT_TIMEOUT_S, guest_args=[
        "--phase1", str(PHASE1), "--phase2", str(PHASE2), "--rate", str(RATE_HZ),
        "--stream-seconds", str(STREAM_SECONDS),
    ])
    r = run.results
    guest = json.loads((r / "guest.json").read_text()) if (r / "guest.json").exists() else {}
    try:
        scan = json.loads((r / "scan.stdout").read_text())
    except (OSError, ValueError):
        scan = None
    stream, bad = _jsonl(r / "stream.stdout")
    sent, _ = _jsonl(r / "sent.jsonl")
    strap_events, _ = _jsonl(r / "strap-events.jsonl")
    pmd_sent, _ = _jsonl(r / "pmd-sent.jsonl")
    outcome = VmOutcome(run, guest, scan, stream, bad, sent, strap_events, pmd_sent)
    log.info("BLE VM finished in %.1f s; results in %s", run.wall_s, r)
    outcome.check(not run.timed_out, f"the VM did not finish within {BOOT_TIMEOUT_S} s")
    outcome.check(bool(guest) and "setup_failed" not in guest and "error" not in guest,
                  "the VM's Bluetooth stack did not come up (see guest.json / guest.log)")
    return outcome


def _events(vm: VmOutcome) -> list[str]:
    """Each stream line's kind: a link event's name, 'sample' (heart rate), 'ecg' or 'acc' (PMD chunks)."""
    return [item.get("event", "ecg" if "ecg_uv" in item else "acc" if "acc_mg" in item else "sample") for item in vm.stream]


def test_scan_lists_the_strap(vm: VmOutcome) -> None:
    vm.check(vm.guest.get("scan", {}).get("rc") == 0, f"`scan --json` exited with {vm.guest.get('scan')}")
    vm.check(isinstance(vm.scan, list), f"`scan --json` did not print a JSON list: {vm.scan!r}")
    ours = [d for d in vm.scan if str(d.get("address", "")).upper() == STRAP_ADDRESS]
    vm.check(len(ours) == 1, f"the strap {STRAP_ADDRESS} is not (exactly once) in the scan: {vm.scan}")
    vm.check(ours[0].get("name") == STRAP_NAME, f"scan name {ours[0].get('name')!r}, expected {STRAP_NAME!r}")
    vm.check(set(ours[0]) >= {"address", "name", "rssi"}, f"scan entry lacks keys: {ours[0]}")
    vm.check(ours[0]["rssi"] is None or isinstance(ours[0]["rssi"], int), f"rssi is not an int: {ours[0]}")


def test_stream_connects_and_reports_device_info(vm: VmOutcome) -> None:
    vm.check(vm.guest.get("stream", {}).get("rc") == 0, f"`stream` exited with {vm.guest.get('stream')}")
    vm.check(not vm.stream_bad_lines, f"stream printed non-JSON lines: {vm.stream_bad_lines[:5]}")
    events = _events(vm)
    vm.check(bool(events) and events[0] == "connecting", f"stream does not start with 'connecting': {events[:5]}")
    vm.check("connected" in events, f"stream never connected: {events[:10]}")
    first_sample = events.index("sample") if "sample" in events else len(events)
    vm.check(events.index("connected") < first_sample, "a sample came before 'connected'")
    connected = vm.stream[events.index("connected")]
    vm.check(str(connected.get("address", "")).upper() == STRAP_ADDRESS, f"connected to the wrong device: {connected}")
    infos = [item for item in vm.stream if item.get("event") == "device_info"]
    vm.check(len(infos) >= 2, f"expected device_info after the connect and after the reconnect, got {infos}")
    for info in infos:
        vm.check(info.get("battery_pct") == BATTERY_PCT and info.get("body_location") == "chest",
                 f"device_info should say battery {BATTERY_PCT} and chest: {info}")
        vm.check(info.get("pmd") == {"ecg": {"sample_rate": 130, "resolution": 14},
                                     "acc": {"sample_rate": 50, "resolution": 16, "range": 8}}
                 and "pmd_unavailable" not in info, f"device_info should list ECG and ACC as started: {info}")
    # Samples and events in arrival order; a PMD chunk's t is its last sample's time, a BLE latency earlier.
    ts = [item["t"] for item, kind in zip(vm.stream, events) if kind not in ("ecg", "acc")]
    vm.check(all(a <= b for a, b in zip(ts, ts[1:])), "stream times go backwards")


def test_every_payload_arrives_byte_exact_and_in_order(vm: VmOutcome) -> None:
    events = _events(vm)
    vm.check("disconnected" in events, f"no 'disconnected' event: {events}")
    cut = events.index("disconnected")
    before = [item["payload"] for item in vm.stream[:cut] if "hr_bpm" in item]
    after = [item["payload"] for item in vm.stream[cut:] if "hr_bpm" in item]
    sent1 = [s["payload"] for s in vm.sent if s["phase"] == "phase1"]
    sent2 = [s["payload"] for s in vm.sent if s["phase"] != "phase1"]
    vm.check(len(sent1) == PHASE1, f"the strap sent {len(sent1)} of {PHASE1} phase-1 notifications")
    vm.check(before == sent1, f"before the disconnect: received {len(before)} payloads, sent {len(sent1)}; "
                              f"first difference at {_first_difference(before, sent1)}")
    phase2 = sum(1 for s in vm.sent if s["phase"] == "phase2")
    vm.check(phase2 == PHASE2, f"the strap sent {phase2} of {PHASE2} phase-2 notifications (was it reconnected?)")
    # The strap keeps sending until the CLI stops, so the last few may still have been in flight.
    vm.check(len(after) >= PHASE2 and after == sent2[:len(after)],
             f"after the reconnect: received {len(after)} payloads, sent {len(sent2)}; "
             f"first difference at {_first_difference(after, sent2)}")


def _first_difference(got: list[str], want: list[str]) -> str:
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            return f"#{i}: got {g}, sent {w}"
    return f"#{min(len(got), len(want))} (one list is shorter)"


def test_remote_disconnect_is_followed_by_reconnect_and_a_marked_gap(vm: VmOutcome) -> None:
    events = _events(vm)
    vm.check(events.count("disconnected") == 1, f"expected exactly one 'disconnected': {events.count('disconnected')}")
    cut = events.index("disconnected")
    rest = events[cut:]
    vm.check("reconnecting" in rest and "reconnected" in rest
             and rest.index("reconnecting") < rest.index("reconnected"),
             f"after 'disconnected' expected 'reconnecting' then 'reconnected': {rest[:8]}")
    reconnected = cut + rest.index("reconnected")
    vm.check("sample" in events[reconnected:], "no sample after the reconnect")
    first = reconnected + events[reconnected:].index("sample")
    vm.check(vm.stream[first].get("after_gap") is True,
             f"first sample after the reconnect not marked after_gap: {vm.stream[first]}")
    vm.check(
        "gap" in events[cut:first],
        f"no 'gap' event between the disconnect and the next sample: {events[cut : first + 1]}",
    )
    gap = vm.stream[cut + events[cut:first].index("gap")]
    vm.check(
        "end" in gap and gap.get("start", 1e9) <= vm.stream[cut]["t"],
        f"the gap {gap} should start at or before the disconnect at t={vm.stream[cut]['t']}",
    )
    later = [item for item in vm.stream[first + 1 :] if item.get("after_gap") and "hr_bpm" in item]
    vm.check(not later, f"samples after the first post-reconnect one are marked after_gap: {later[:3]}")


def test_strap_saw_one_remote_drop_one_reconnect_and_a_clean_goodbye(vm: VmOutcome) -> None:
    kinds = [e["event"] for e in vm.strap_events]
    vm.check(
        kinds.count("connection") == 2, f"the strap saw {kinds.count('connection')} connections, expected 2: {kinds}"
    )
    end = next((e for e in vm.strap_events if e["event"] == "end"), None)
    vm.check(
        end is not None and end.get("central_gone") is True,
        f"the CLI left the strap connected after it stopped (strap events: {vm.strap_events[-4:]})",
    )


def _pmd_runs(vm: VmOutcome, kind: str) -> tuple[list[dict], list[dict]]:
    """The ECG or ACC chunks the CLI printed before the disconnect and after it."""
    events = _events(vm)
    cut = events.index("disconnected") if "disconnected" in events else len(events)
    return ([item for item, e in zip(vm.stream[:cut], events[:cut]) if e == kind],
            [item for item, e in zip(vm.stream[cut:], events[cut:]) if e == kind])


def _rate(chunks: list[dict], key: str, fs_key: str) -> float:
    """Samples per second of session time, from the first chunk's last sample to the last chunk's."""
    samples = sum(len(c[key]) for c in chunks[1:])
    return samples / (chunks[-1]["t"] - chunks[0]["t"])


def test_pmd_ecg_and_acc_stream_at_their_rates_before_and_after_the_reconnect(vm: VmOutcome) -> None:
    for kind, key, fs_key, rate in (("ecg", "ecg_uv", "ecg_fs", 130.0), ("acc", "acc_mg", "acc_fs", 50.0)):
        before, after = _pmd_runs(vm, kind)
        vm.check(len(before) >= 3 and len(after) >= 3,
                 f"{kind}: {len(before)} chunks before the disconnect and {len(after)} after it (want 3 or more each)")
        for part in (before, after):
            measured = _rate(part, key, fs_key)
            vm.check(abs(measured / rate - 1) < 0.05, f"{kind} arrived at {measured:.1f} samples/s, expected {rate:g}")
            vm.check(all(abs(c[fs_key] / rate - 1) < 0.01 for c in part),
                     f"{kind} chunks say odd rates: {[c[fs_key] for c in part]}")
            ts = [c["t"] for c in part]
            vm.check(all(a < b for a, b in zip(ts, ts[1:])), f"{kind} chunk times do not increase: {ts}")
        vm.check(after[0].get("after_gap") is True, f"the first {kind} chunk after the reconnect is not marked after_gap")
        vm.check(not any(c.get("after_gap") for c in before[1:] + after[1:]),
                 f"{kind}: a chunk inside a connection is marked after_gap")


def test_pmd_samples_arrive_exactly_as_the_strap_sent_them(vm: VmOutcome) -> None:
    from devices.pmd import decode_data_frame

    for kind, key in (("ecg", "ecg_uv"), ("acc", "acc_mg")):
        sent = [decode_data_frame(bytes.fromhex(s["payload"])) for s in vm.pmd_sent if s["pmd"] == kind]
        want = [[s[0] for s in f.samples] if kind == "ecg" else [list(s) for s in f.samples] for f in sent]
        got = [c[key] for c in vm.stream if key in c]
        # The strap records a frame after bumble sent it; the last ones before each stop or drop may not have arrived.
        vm.check(len(got) >= len(want) - 4, f"{kind}: received {len(got)} of {len(want)} frames sent")
        missing = [w for w in want if w not in got]
        vm.check(len(missing) <= 4, f"{kind}: {len(missing)} sent frames never arrived")
        vm.check(all(g in want for g in got), f"{kind}: a received frame was never sent (decoding differs)")
        order = [want.index(g) for g in got]
        vm.check(order == sorted(order), f"{kind}: frames arrived out of order")


def test_strap_saw_pmd_started_twice_and_stopped_when_the_cli_ended(vm: VmOutcome) -> None:
    started = [(e["measurement"], e["rate"]) for e in vm.strap_events if e["event"] == "pmd_started"]
    vm.check(sorted(started) == [("acc", 50), ("acc", 50), ("ecg", 130), ("ecg", 130)],
             f"the strap should see ECG and ACC started after the connect and again after the reconnect: {started}")
    starts = [e["hex"] for e in vm.strap_events if e["event"] == "pmd_request" and e["op"] == 2]
    vm.check("02020001320001011000020108 00".replace(" ", "") in starts,
             f"ACC was not asked for 50 Hz, 16 bit, 8 G: {starts}")
    kinds = [e["event"] for e in vm.strap_events]
    last_connection = len(kinds) - 1 - kinds[::-1].index("connection")
    stops = [e["measurement"] for e in vm.strap_events[last_connection:] if e["event"] == "pmd_request" and e["op"] == 3]
    vm.check(sorted(stops) == [0, 2], f"the CLI did not stop ECG and ACC before leaving: stop requests for {stops}")
    stopped = [e for e in vm.strap_events[last_connection:] if e["event"] == "pmd_stopped"]
    disconnect = max(i for i, k in enumerate(kinds) if k == "disconnection")
    vm.check(len(stopped) == 2 and all(vm.strap_events.index(e) < disconnect for e in stopped),
             f"the measurements should stop before the link goes: {stopped}")
