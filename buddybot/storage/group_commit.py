"""Group commit for SQLite write units: the units that are waiting together share one transaction.

A unit's COMMIT writes every page it dirtied to the WAL: a `/need` dirties about 140 pages (the
request, its pings, the members' ranking entries, the roll-ups, its jobs) and its COMMIT is about a
third of its cost. Units asked for at the same moment (a Monday-morning burst) mostly dirty the same
pages — the same roll-up rows, the tails of the same indexes — so committing them together writes each
page once and pays one COMMIT.

Each unit still behaves as if it ran alone: it runs in its own SAVEPOINT, so a unit that raises is
rolled back to where it began (its caller gets the exception) while the others go on; the caller hears
back only after the COMMIT, so "done" still means durable. Units run one after another, in the order
they were asked for, so each sees the ones before it as if they had committed first. A group waits for
nothing: it is committed at the next turn of the event loop, with whatever units are waiting by then.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from typing import Any

MAX_GROUP = 32  # units per transaction at most, so one group never holds the loop for long

Pending = tuple[Callable[..., Any], tuple[Any, ...], "asyncio.Future[Any]"]


def commit_group(conn: sqlite3.Connection, group: list[Pending]) -> list[Pending]:
    """Run the group's units in one transaction and answer their futures; returns the units to ask
    again (those that had run when another unit's error made SQLite abandon the whole transaction)."""
    live = [p for p in group if not p[2].done()]  # a caller that gave up before its turn: never run
    if not live:
        return []
    done: list[tuple[asyncio.Future[Any], bool, Any]] = []
    try:
        conn.execute("BEGIN IMMEDIATE")
        for i, (fn, args, future) in enumerate(live):
            conn.execute("SAVEPOINT unit")
            try:
                result = fn(conn, *args)
            except Exception as exc:  # this unit's changes only
                if not conn.in_transaction:  # e.g. SQLITE_FULL: SQLite rolled everything back
                    future.set_exception(exc)
                    return [p for j, p in enumerate(live) if j != i]
                conn.execute("ROLLBACK TO unit")
                conn.execute("RELEASE unit")
                done.append((future, False, exc))
            else:
                conn.execute("RELEASE unit")
                done.append((future, True, result))
        conn.execute("COMMIT")
    except BaseException as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        for _fn, _args, future in live:
            if not future.done():
                future.set_exception(exc)
        if not isinstance(exc, Exception):
            raise
        return []
    for future, ok, value in done:
        if not future.done():
            future.set_result(value) if ok else future.set_exception(value)
    return []
