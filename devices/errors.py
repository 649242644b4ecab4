"""Errors a person can act on: each message is one sentence that says what to do."""


class DeviceError(Exception):
    """A heartbeat source could not be opened or used; ``str(err)`` is meant for the user."""


class BluetoothUnavailable(DeviceError):
    """No adapter, Bluetooth switched off, BlueZ not running or no permission."""


class StrapNotFound(DeviceError):
    """No strap with that name or address answered in time."""


class ReplayFileError(DeviceError):
    """A replay or RR file that cannot be read; the message names file and line."""
