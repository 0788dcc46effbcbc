"""The one exception type users see: raised by the domain, rendered by the tree's error handler."""

from __future__ import annotations


class BuddyError(Exception):
    """A friendly, user-facing refusal. The message is shown ephemerally, as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
