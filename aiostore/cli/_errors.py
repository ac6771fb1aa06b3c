"""The one error the command line raises itself (storage failures stay `aiostore.StorageError`)."""

from __future__ import annotations

__all__ = ["CommandError"]


class CommandError(Exception):
    """A command cannot do what was asked: printed as one line, exit status 1.

    Example:
        >>> raise CommandError("cp: docs is a directory (use -r)")
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
