"""Host side of the BLE VM test: build a tiny initramfs, boot Debian's kernel in QEMU, collect results.

Why this shape:

- The CI machine (and this one) runs a kernel without Bluetooth, so BlueZ needs a kernel of its
  own. Debian's stock kernel (package ``linux-image-amd64``) builds ``hci_vhci`` as a module, so
  QEMU boots ``/boot/vmlinuz-*`` with software emulation (KVM is not available) and no network.
- Nothing is installed into an image: the guest mounts the host's root filesystem read-only over
  9p (virtfs), so it runs the very same Python, venv, bluetoothd and repository checkout as the
  host, at the same paths. A second, writable 9p share carries the results back.
- The initramfs only needs busybox (package ``busybox-static``) and the few modules to mount 9p;
  it is written here as a ``newc`` cpio archive by a few lines of Python (no ``cpio`` package).

Run by hand for debugging::

    .venv/bin/python tests/vm/harness.py /tmp/vm-results
"""

from __future__ import annotations

import dataclasses
import gzip
import importlib.util
import logging
import lzma
import os
import shlex
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
GUEST_SCRIPT = Path(__file__).resolve().with_name("guest.py")

# Modules the initramfs must load before it can mount the host's root over 9p (with their
# dependencies, resolved from modules.dep; built-in ones are skipped).
BOOT_MODULES = ("virtio_pci", "9pnet_virtio", "9p", "overlay")

GUEST_MOUNT_RESULTS = "/tmp/vm-results"
"""Where the writable results share appears inside the guest."""


class VmUnavailable(RuntimeError):
    """QEMU, a Debian kernel or busybox is missing: the VM cannot be booted here."""


@dataclasses.dataclass(frozen=True)
class Kernel:
    version: str
    image: Path
    modules: Path


def find_kernel() -> Kernel:
    """The newest ``/boot/vmlinuz-*`` whose modules (with ``hci_vhci``) are installed."""
    candidates = []
    for image in Path("/boot").glob("vmlinuz-*"):
        version = image.name.removeprefix("vmlinuz-")
        modules = Path("/lib/modules") / version
        if (modules / "modules.dep").exists():
            candidates.append(Kernel(version, image, modules))
    if not candidates:
        raise VmUnavailable("no /boot/vmlinuz-* with matching /lib/modules/<version> (install linux-image-amd64)")
    candidates.sort(key=lambda k: k.image.stat().st_mtime, reverse=True)
    for kernel in candidates:
        if not os.access(kernel.image, os.R_OK):
            raise VmUnavailable(f"{kernel.image} is not readable by this user (run as root, or make it readable)")
        deps = _modules_dep(kernel)
        if any(Path(p).name.split(".ko")[0] == "hci_vhci" for p in deps) or "hci_vhci" in _builtins(kernel):
            return kernel
    raise VmUnavailable(f"none of the kernels in /boot has the hci_vhci module ({', '.join(k.version for k in candidates)})")


def find_qemu() -> Path:
    path = shutil.which("qemu-system-x86_64")
    if path is None:
        raise VmUnavailable("qemu-system-x86_64 not found (install qemu-system-x86)")
    return Path(path)


def find_busybox() -> Path:
    for candidate in ("/bin/busybox", "/usr/bin/busybox"):
        path = Path(candidate)
        if path.exists():
            with path.open("rb") as fh:
                head = fh.read(4096)
            # A dynamically linked busybox would need its libraries in the initramfs too.
            if b"ld-linux" in head or b"/lib64/ld" in head:
                continue
            return path
    raise VmUnavailable("a static busybox was not found (install busybox-static)")


def check_guest_tools() -> None:
    """The guest runs these from the host's root; fail early if one is missing."""
    missing = [tool for tool in ("bluetoothd", "dbus-daemon", "modprobe") if _which_any(tool) is None]
    if missing:
        raise VmUnavailable(f"missing on this machine: {', '.join(missing)} (install bluez, dbus, kmod)")


def _which_any(tool: str) -> str | None:
    return shutil.which(tool, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin", "/usr/libexec/bluetooth"]))


def _modules_dep(kernel: Kernel) -> dict[str, list[str]]:
    deps: dict[str, list[str]] = {}
    for line in (kernel.modules / "modules.dep").read_text().splitlines():
        if ":" not in line:
            continue
        mod, _, rest = line.partition(":")
        deps[mod.strip()] = rest.split()
    return deps


def _builtins(kernel: Kernel) -> set[str]:
    path = kernel.modules / "modules.builtin"
    if not path.exists():
        return set()
    return {_module_name(line) for line in path.read_text().split()}


def _module_name(path: str) -> str:
    return Path(path).name.split(".ko")[0].replace("-", "_")


def resolve_modules(kernel: Kernel, names: tuple[str, ...] = BOOT_MODULES) -> list[Path]:
    """Module files for ``names`` and their dependencies, in load order."""
    deps = _modules_dep(kernel)
    by_name = {_module_name(p): p for p in deps}
    builtin = _builtins(kernel)
    order: list[str] = []

    def visit(rel: str) -> None:
        if rel in order:
            return
        for dep in deps.get(rel, []):
            visit(dep)
        order.append(rel)

    for name in names:
        key = name.replace("-", "_")
        if key in builtin:
            continue
        if key not in by_name:
            raise VmUnavailable(f"kernel {kernel.version} has no module {name} (and it is not built in)")
        visit(by_name[key])
    return [kernel.modules / rel for rel in order]


def _module_bytes(path: Path) -> bytes:
    """The module, decompressed: busybox's insmod only takes plain ``.ko`` files."""
    data = path.read_bytes()
    if path.name.endswith(".ko.xz"):
        return lzma.decompress(data)
    if path.name.endswith(".ko.gz"):
        return gzip.decompress(data)
    if path.name.endswith(".ko.zst"):
        zstd = shutil.which("zstd")
        if zstd is None:
            raise VmUnavailable(f"{path.name} is zstd-compressed and the zstd tool is missing")
        return subprocess.run([zstd, "-dc", str(path)], check=True, capture_output=True).stdout
    return data


# ---------------------------------------------------------------------------------------------
# initramfs


class Cpio:
    """A minimal writer of the ``newc`` cpio format the kernel unpacks as initramfs."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._ino = 1

    def _entry(self, name: str, mode: int, data: bytes = b"", nlink: int = 1, rdev: tuple[int, int] = (0, 0)) -> None:
        encoded = name.encode() + b"\0"
        fields = [self._ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1], len(encoded), 0]
        self._ino += 1
        header = b"070701" + b"".join(b"%08X" % f for f in fields)
        self._parts.append(header + encoded + b"\0" * (-(len(header) + len(encoded)) % 4))
        self._parts.append(data + b"\0" * (-len(data) % 4))

    def dir(self, name: str) -> None:
        self._entry(name, stat.S_IFDIR | 0o755, nlink=2)

    def file(self, name: str, data: bytes, mode: int = 0o644) -> None:
        self._entry(name, stat.S_IFREG | mode, data)

    def symlink(self, name: str, target: str) -> None:
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def char_device(self, name: str, major: int, minor: int) -> None:
        self._entry(name, stat.S_IFCHR | 0o600, rdev=(major, minor))

    def finish(self) -> bytes:
        self._entry("TRAILER!!!", 0)
        return b"".join(self._parts)


INIT_TEMPLATE = r"""#!/bin/busybox sh
# PID 1 of the BLE test VM: mount the host's root over 9p under a RAM overlay, give the daemons fresh
# state, run the guest script in it (chroot), then power off. Never exits (that would panic).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "vm-init: loading 9p modules"
for m in $(cat /modules.order); do insmod /lib/modules/$m || echo "vm-init: insmod $m failed"; done
R=/newroot
mkdir -p /lower /rw
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=loose,ro hostroot /lower || {{ echo "vm-init: cannot mount the host root"; poweroff -f; }}
# A writable overlay (changes go to RAM), so that every host path stays visible, /tmp included:
# the repository or the pytest temp dir may well live under the host's /tmp.
mount -t tmpfs -o mode=0755 tmpfs /rw && mkdir -p /rw/upper /rw/work
if ! mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay $R; then
  echo "vm-init: overlay failed; read-only root with tmpfs on /tmp (host /tmp hidden)"
  mount --bind /lower $R
  mount -t tmpfs -o mode=1777 tmpfs $R/tmp
  mount -t tmpfs -o mode=1777 tmpfs $R/var/tmp
fi
# Fresh state for the daemons (the host's /run may hold stale sockets and pid files).
for d in run var/lib/bluetooth; do
  [ -d $R/$d ] && mount -t tmpfs -o mode=0755 tmpfs $R/$d
done
mkdir -p $R{results} $R/tmp/vm-home
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 results $R{results} || echo "vm-init: cannot mount the results share"
mount -t proc proc $R/proc
mount -t sysfs sysfs $R/sys
mount -t devtmpfs devtmpfs $R/dev
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts devpts $R/dev/pts
mount -t tmpfs tmpfs $R/dev/shm
# Kernel-requested modules (crypto for SMP, ...) must come from the host's /lib/modules.
echo /sbin/modprobe-host > /proc/sys/kernel/modprobe
echo "vm-init: starting the guest script"
chroot $R /usr/bin/env -i HOME=/tmp/vm-home TMPDIR=/tmp LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  {python} {guest} {results} {extra}
echo "vm-init: guest script exited with $?"
sync
umount $R{results}
poweroff -f
"""

MODPROBE_HOST = """#!/bin/busybox sh
exec /bin/chroot /newroot /sbin/modprobe "$@"
"""


def build_initramfs(kernel: Kernel, dest: Path, *, python: str, guest_args: list[str]) -> Path:
    """Write the initramfs (uncompressed newc cpio) to ``dest``."""
    cpio = Cpio()
    for d in ("bin", "sbin", "dev", "proc", "sys", "newroot", "lib", "lib/modules"):
        cpio.dir(d)
    cpio.char_device("dev/console", 5, 1)
    cpio.char_device("dev/null", 1, 3)
    cpio.file("bin/busybox", find_busybox().read_bytes(), 0o755)
    cpio.symlink("bin/sh", "busybox")
    names = []
    for module in resolve_modules(kernel):
        name = module.name.split(".ko")[0] + ".ko"
        cpio.file(f"lib/modules/{name}", _module_bytes(module))
        names.append(name)
    cpio.file("modules.order", ("\n".join(names) + "\n").encode())
    init = INIT_TEMPLATE.format(
        results=GUEST_MOUNT_RESULTS,
        python=shlex.quote(python),
        guest=shlex.quote(str(GUEST_SCRIPT)),
        extra=" ".join(shlex.quote(a) for a in guest_args),
    )
    cpio.file("init", init.encode(), 0o755)
    cpio.file("sbin/modprobe-host", MODPROBE_HOST.encode(), 0o755)
    dest.write_bytes(cpio.finish())
    return dest


# ---------------------------------------------------------------------------------------------
# QEMU


@dataclasses.dataclass
class VmRun:
    results: Path
    returncode: int | None
    wall_s: float
    timed_out: bool

    @property
    def console_log(self) -> Path:
        return self.results / "console.log"

    def console_tail(self, lines: int = 80) -> str:
        try:
            text = self.console_log.read_text(errors="replace")
        except OSError:
            return "(no console log)"
        return "\n".join(text.splitlines()[-lines:])


def qemu_command(kernel: Kernel, initramfs: Path, results: Path, *, memory_mb: int = 1024, cpus: int = 2) -> list[str]:
    return [
        str(find_qemu()),
        "-accel",
        "tcg",
        "-cpu",
        "max",
        "-smp",
        str(cpus),
        "-m",
        str(memory_mb),
        "-nic",
        "none",
        "-display",
        "none",
        "-vga",
        "none",
        "-no-reboot",
        "-monitor",
        "none",
        "-serial",
        f"file:{results / 'console.log'}",
        "-kernel",
        str(kernel.image),
        "-initrd",
        str(initramfs),
        "-append",
        "console=ttyS0 panic=-1 loglevel=4 no_timer_check",
        # multidevs=remap: the host root spans several filesystems; without it inode numbers can
        # collide in the guest (and cache=loose would then mix files up).
        "-virtfs",
        "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
        "-virtfs",
        f"local,path={results},mount_tag=results,security_model=none",
        "-device",
        "virtio-rng-pci",
    ]


def preflight() -> Kernel:
    """Everything the VM needs from this machine; raises :class:`VmUnavailable` naming what is missing."""
    find_qemu()
    find_busybox()
    check_guest_tools()
    for module in ("bleak", "bumble"):
        if importlib.util.find_spec(module) is None:
            raise VmUnavailable(f"the Python package {module} is not installed (pip install -e '.[test]')")
    return find_kernel()


def boot(
    results: Path,
    workdir: Path,
    *,
    python: str | None = None,
    guest_args: list[str] | None = None,
    timeout_s: float = 240.0,
) -> VmRun:
    """Boot the VM, run the guest script in it, and wait until it powers off (or time runs out).

    ``results`` is shared with the guest (it appears there as :data:`GUEST_MOUNT_RESULTS`);
    ``workdir`` holds the initramfs. Raises :class:`VmUnavailable` if the tools are missing.
    """
    kernel = preflight()
    results.mkdir(parents=True, exist_ok=True)
    workdir.mkdir(parents=True, exist_ok=True)
    python = python or sys.executable
    initramfs = build_initramfs(kernel, workdir / "initramfs.cpio", python=python, guest_args=guest_args or [])
    cmd = qemu_command(kernel, initramfs, results, cpus=min(2, os.cpu_count() or 1))
    log.info("Booting kernel %s: %s", kernel.version, shlex.join(cmd))
    start = time.monotonic()
    with (results / "qemu.log").open("wb") as qlog:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=qlog, stderr=subprocess.STDOUT)
        timed_out = False
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            proc.kill()
            proc.wait()
    wall = time.monotonic() - start
    log.info("VM finished in %.1f s (rc %s%s)", wall, proc.returncode, ", timed out" if timed_out else "")
    return VmRun(results, proc.returncode, wall, timed_out)


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    out = Path(argv[1] if len(argv) > 1 else "/tmp/vm-results").resolve()
    run = boot(out / "results", out / "work", guest_args=argv[2:])
    print(run.console_tail(40))
    print(f"wall {run.wall_s:.1f} s, rc {run.returncode}, timed out {run.timed_out}; results in {run.results}")
    return 0 if not run.timed_out else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
