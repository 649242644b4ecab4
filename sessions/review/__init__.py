"""Looking back at a recorded session: loading, per-phase table, plain-language summary, report,
exports for other tools, trends over weeks, and the interactive review window.

Heavy libraries (matplotlib, pyedflib, Qt) are imported inside the functions that need
them, so the core command line runs without the review extras installed.
"""
