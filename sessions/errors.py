"""The error type the command line turns into one clear sentence (never a traceback)."""


class UserError(Exception):
    """A mistake the user can fix; ``str(err)`` is the sentence shown to them."""
