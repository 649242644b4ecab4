"""Pure computation on heartbeats: artefact handling, HRV metrics, calm score, pacing logic.

No I/O, no Qt, no event loop: numbers in, numbers out. Knows nothing of ``devices`` or ``sessions``.
"""
