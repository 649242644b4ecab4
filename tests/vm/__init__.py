"""A QEMU VM with a real BlueZ stack, for testing the project's BLE strap code end to end.

Mocks of bleak cannot show that the strap code survives BlueZ: its D-Bus timing, its caching of
devices, its handling of a remote disconnect. Bluetooth hardware is not available in CI, and the
CI machine's kernel has no Bluetooth at all, so ``harness`` boots Debian's stock kernel in QEMU
(software emulation), where ``hci_vhci`` gives BlueZ a virtual controller that a bumble
controller drives; a second bumble controller on the same in-process link plays the strap
(``strap``, with its payloads in ``scenario``). ``guest`` runs inside the VM and drives the
project's own CLI against it; ``smoke_bleak`` does the same with plain bleak, for diagnosis.
"""
