"""SQLite's own count of the work a statement did: virtual-machine steps, not time (guards and bench)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def vm_steps(conn: sqlite3.Connection, fn: Callable[[], T]) -> tuple[int, T]:
    """(VM steps SQLite ran while `fn` ran on `conn`, what `fn` returned)."""
    steps = 0

    def tick() -> int:
        nonlocal steps
        steps += 1
        return 0

    conn.set_progress_handler(tick, 1)
    try:
        result = fn()
    finally:
        conn.set_progress_handler(None, 1)
    return steps, result
