"""The database: SQLite (one connection, WAL) or PostgreSQL (a few connections), numbered migrations,
one await per unit of work. `BUDDYBOT_DB=postgresql://…` selects PostgreSQL; anything else is a SQLite path."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from buddybot.storage import dialect, pg
from buddybot.storage.group_commit import MAX_GROUP, Pending, commit_group

log = logging.getLogger(__name__)
T = TypeVar("T")
Unit = Callable[..., T]

BackupProgress = Callable[[int, int], None]
BACKUP_STEP_PAGES = 1024  # 4 MiB at SQLite's default page size
MAX_BACKUP_RESTARTS = 3
_MIGRATION_NAME = re.compile(r"^(\d{3})-[\w-]+\.sql$")
# SQLite checkpoints the WAL inside whichever COMMIT crosses wal_autocheckpoint pages (1000 by
# default: every 15-20 /need), which lands on an interaction. The bot checkpoints when idle instead
# (Database.checkpoint_if_idle); the automatic one is only a safety net for a bot that is never idle.
WAL_AUTOCHECKPOINT_PAGES = 20_000
IDLE_BEFORE_CHECKPOINT_S = 0.25


def migration_files() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every shipped migration, in order."""
    found = []
    for entry in resources.files("migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [version for version, _, _ in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a number: {[name for _, name, _ in found]}")
    return found


def queued(key: Callable[..., int]) -> Callable[[Unit[T]], Unit[T]]:
    """Mark a write unit whose concurrent runs collide on the same rows (a guild's roll-up counters, its
    members' ping counters): `key(*args)`, the unit's arguments after `conn`, names its queue (the guild).

    On PostgreSQL two such units with one key would run side by side and one would fail SERIALIZABLE and
    run again (under a burst, again and again); instead the process runs them one after another, waiting
    on the event loop, not in a pool thread, so other units keep the pool. Correctness never depends on
    it: each unit is still SERIALIZABLE and retried (another process, a scheduler job, may still collide).
    SQLite runs one writer at a time anyway, so there it changes nothing.
    """

    def mark(fn: Unit[T]) -> Unit[T]:
        fn.queue_key = key  # type: ignore[attr-defined]
        return fn

    return mark


def offloaded(fn: Unit[T]) -> Unit[T]:
    """Mark a SQLite unit that may run long (an export of everything a member ever wrote, an erasure):
    it runs in aiosqlite's worker thread instead of on the event loop (see Database._run)."""
    fn.offloaded = True  # type: ignore[attr-defined]
    return fn


def _configure(conn: sqlite3.Connection) -> None:
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES:d}")


def _migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply every pending migration, each in its own transaction together with its user_version."""
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    applied = []
    for version, name, sql in migration_files():
        if version <= current:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in dialect.statements(sql, dialect.SQLITE):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version:d}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied


class Database:
    """Owns the connection(s). Every command does its work as ONE unit: one await, however many
    statements, in one transaction.

    `read(fn, ...)` and `write(fn, ...)` run `fn(conn, ...)`. On SQLite `write` wraps it in
    BEGIN IMMEDIATE/COMMIT (one writer at a time) and the unit runs right on the event loop: SQLite is
    in-process, a unit costs tens to hundreds of microseconds, and units queue on the one connection
    anyway, so a hop to a worker thread and back (two thread switches and a wake-up of the loop; about
    as long as the unit itself, and far longer at p99) bought nothing but latency. Units marked
    `@offloaded` (exports, erasures), backups and idle checkpoints run in aiosqlite's worker thread, and
    while one does, loop units wait for it (`_exclusive`): the connection is never used by two threads at
    once. Write units waiting at the same turn of the loop share one transaction, each in its own
    savepoint (group commit, storage/group_commit.py). On PostgreSQL every unit runs in a pool thread (a network round trip) in a SERIALIZABLE
    transaction retried on a serialization failure (see storage/pg.py), so it behaves as if it ran alone.
    """

    def __new__(cls, path: str | Path, **kwargs: Any) -> Database:
        if cls is Database and pg.is_postgresql(str(path)):
            from buddybot.storage.pg_database import PostgresDatabase

            return super().__new__(PostgresDatabase)
        return super().__new__(cls)

    engine = dialect.SQLITE

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._conn: aiosqlite.Connection | None = None
        self.round_trips = 0
        self.checkpoints = 0
        self._in_flight = 0
        self._last_write = 0.0
        self._unflushed = False  # written since the last idle checkpoint
        self._exclusive = asyncio.Lock()  # held while the worker thread uses the connection
        self._pending: list[Pending] = []  # write units waiting for the next group commit
        self._commit_scheduled = False
        self._waiting_commit: asyncio.Future[None] | None = None  # a group waiting for the worker thread

    async def open(self, *, migrate: bool = True) -> list[str]:
        """Connect and apply pending migrations (unless `migrate` is False, as for a health check);
        returns the names of the migrations applied."""
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = await aiosqlite.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            await self._conn._execute(_configure, self._conn._conn)
            applied = await self._conn._execute(_migrate, self._conn._conn) if migrate else []
        except BaseException:
            await self.close()  # not a database, or a migration failed: stop the worker thread too
            raise
        if applied:
            log.info("applied migrations: %s", ", ".join(applied))
        return applied

    async def close(self) -> None:
        if self._conn is not None:
            if self._pending:  # writes asked for just before closing still happen
                async with self._exclusive:
                    while self._pending:
                        self._commit_pending(holding=True)
            conn, self._conn = self._conn, None
            await conn.close()

    @property
    def is_open(self) -> bool:
        return self._conn is not None

    async def read(self, fn: Unit[T], *args: Any) -> T:
        return await self._run(_read_unit, fn, args)

    async def write(self, fn: Unit[T], *args: Any) -> T:
        try:
            if getattr(fn, "offloaded", False):
                return await self._run(_write_unit, fn, args)
            return await self._grouped(fn, args)
        finally:
            self._last_write, self._unflushed = time.monotonic(), True

    async def _grouped(self, fn: Unit[T], args: tuple[Any, ...]) -> T:
        """A write unit, committed with the others waiting at the next turn of the loop (group_commit)."""
        if self._conn is None:
            raise RuntimeError("database is not open")
        self.round_trips += 1
        self._in_flight += 1
        try:
            future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
            self._pending.append((fn, args, future))
            self._schedule_commit()
            return await future
        finally:
            self._in_flight -= 1

    def _schedule_commit(self) -> None:
        if not self._commit_scheduled:
            self._commit_scheduled = True
            asyncio.get_running_loop().call_soon(self._commit_pending)

    def _commit_pending(self, holding: bool = False) -> None:
        self._commit_scheduled = False
        if self._conn is None:
            for *_, future in self._pending:
                if not future.done():
                    future.set_exception(RuntimeError("database is not open"))
            self._pending.clear()
            return
        if self._exclusive.locked() and not holding:  # the worker thread has the connection: after it
            self._commit_scheduled = True
            self._waiting_commit = asyncio.ensure_future(self._commit_when_free())
            return
        group, self._pending = self._pending[:MAX_GROUP], self._pending[MAX_GROUP:]
        self._pending[:0] = commit_group(self._conn._conn, group)
        if self._pending:
            self._schedule_commit()

    async def _commit_when_free(self) -> None:
        async with self._exclusive:
            self._commit_pending(holding=True)

    async def _run(self, wrapper: Callable[..., T], fn: Unit[T], args: tuple[Any, ...]) -> T:
        if self._conn is None:
            raise RuntimeError("database is not open")
        self.round_trips += 1
        self._in_flight += 1
        try:
            if getattr(fn, "offloaded", False) or wrapper is _backup_unit:
                return await self._in_thread(wrapper, fn, args)
            if self._exclusive.locked():  # the worker thread has the connection: wait for it
                async with self._exclusive:
                    return wrapper(self._conn._conn, fn, args)
            return wrapper(self._conn._conn, fn, args)
        finally:
            self._in_flight -= 1

    async def _in_thread(self, wrapper: Callable[..., T], *args: Any) -> T:
        assert self._conn is not None
        async with self._exclusive:
            # aiosqlite's one private hook: run a callable in its worker thread (pinned to 0.22.x).
            return await self._conn._execute(wrapper, self._conn._conn, *args)

    async def checkpoint_if_idle(self, idle_s: float = IDLE_BEFORE_CHECKPOINT_S) -> bool:
        """Copy the WAL into the database (PASSIVE: never waits for readers) when no unit is running and
        nothing was written for `idle_s`, so no interaction's COMMIT pays for a checkpoint."""
        if (
            self._conn is None
            or not self._unflushed
            or self._in_flight
            or time.monotonic() - self._last_write < idle_s
        ):
            return False
        self._unflushed = False
        await self._in_thread(_checkpoint)  # not a unit of work: not counted
        self.checkpoints += 1
        return True

    async def backup(self, target: str | Path, progress: BackupProgress | None = None) -> None:
        """A consistent online copy through SQLite's backup API (readers and writers may go on).

        `progress(pages_done, pages_total)` is called after each step of BACKUP_STEP_PAGES pages.
        """
        await self._run(_backup_unit, lambda conn: None, (str(target), progress))


def _read_unit(conn: sqlite3.Connection, fn: Unit[T], args: tuple[Any, ...]) -> T:
    conn.execute("BEGIN")
    try:
        return fn(conn, *args)
    finally:
        conn.execute("COMMIT")


def _write_unit(conn: sqlite3.Connection, fn: Unit[T], args: tuple[Any, ...]) -> T:
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = fn(conn, *args)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return result


def _checkpoint(conn: sqlite3.Connection) -> None:  # in the worker thread: a big WAL takes a while
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")


class _Restarting(Exception):
    """Another process keeps writing, so a stepwise copy keeps starting over."""


def _backup_unit(conn: sqlite3.Connection, _fn: Unit[None], args: tuple[Any, ...]) -> None:
    target, progress = args
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    dest = sqlite3.connect(target)
    try:
        if progress is None:
            conn.backup(dest)
            return
        # Stepwise so the bar moves. A write from another process (a running bot) restarts the copy at
        # the next step; after MAX_BACKUP_RESTARTS restarts it is done in one step, which always finishes.
        seen = {"remaining": None, "restarts": 0}

        def step(_status: int, remaining: int, total: int) -> None:
            if seen["remaining"] is not None and remaining >= seen["remaining"]:  # no headway: restarted
                seen["restarts"] += 1
                if seen["restarts"] >= MAX_BACKUP_RESTARTS:
                    raise _Restarting
            seen["remaining"] = remaining
            progress(total - remaining, total)

        try:
            conn.backup(dest, pages=BACKUP_STEP_PAGES, progress=step)
        except _Restarting:
            conn.backup(dest)
            total = conn.execute("PRAGMA page_count").fetchone()[0]
            progress(total, total)
    finally:
        dest.close()


def _statements(sql: str) -> list[str]:
    """A migration's statements for SQLite (kept for callers that replay migrations by hand)."""
    return dialect.statements(sql, dialect.SQLITE)
