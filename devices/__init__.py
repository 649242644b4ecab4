"""Heartbeat sources: a BLE chest strap, a simulated strap and replays, as one stream.

Everything here yields :class:`~devices.stream.HeartSample` and :class:`~devices.stream.LinkEvent`
items through the same async-iterator interface (:class:`~devices.source.HeartSource`), so that
nothing downstream can tell a real strap from the simulator or a replay.

This package knows nothing of ``biofeedback`` or ``sessions``.
"""
