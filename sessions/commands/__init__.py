"""One module per subcommand; each exposes ``register(subparsers)``.

Add a new subcommand by writing a module here and naming it in ``COMMANDS``.
"""

COMMANDS = [
    "run",
    "recordings",
    "stream",
    "decode",
    "scan",
    "analyze",
    "scripts",
    "render_audio",
    "record_voice",
    "watch",
    "review",
    "report",
    "export",
    "trends",
    "therapist",
    "safe_place",
    "help",
    "clients",
    "notes",
    "plan",
    "diary",
]
