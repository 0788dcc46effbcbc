"""Database on PostgreSQL: a few psycopg connections, each owned by one worker thread, same units as SQLite."""

from __future__ import annotations

import asyncio
import collections
import logging
import queue
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from buddybot.storage import dialect, pg
from buddybot.storage.db import Database, migration_files

log = logging.getLogger(__name__)
T = TypeVar("T")

# Session advisory lock held while migrating, so processes starting together migrate once, in turn.
_MIGRATION_LOCK = 0x6275646479  # "buddy"


class PostgresDatabase(Database):
    """`BUDDYBOT_DB=postgresql://…`. `pool_size` connections serve units concurrently (SQLite: one)."""

    engine = dialect.POSTGRESQL

    def __init__(self, path: str | Path, pool_size: int = 4) -> None:
        self.path = str(path)
        self.round_trips = 0
        self.retries: collections.Counter[str] = collections.Counter()  # serialization failures, by unit
        self._retries_lock = threading.Lock()
        # queued units' turns by key (a guild); weak: a guild's lock goes when nobody holds or awaits it
        self._queues: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        self._pool_size = pool_size
        self._idle: queue.SimpleQueue[pg.PgConnection] = queue.SimpleQueue()
        self._executor: ThreadPoolExecutor | None = None

    async def open(self, *, migrate: bool = True) -> list[str]:
        """Connect the pool and apply pending migrations (not when `migrate` is False: `buddybot health`)."""
        self._executor = ThreadPoolExecutor(self._pool_size, thread_name_prefix="buddybot-pg")
        loop = asyncio.get_running_loop()
        conns = await asyncio.gather(
            *(loop.run_in_executor(self._executor, pg.connect, self.path) for _ in range(self._pool_size))
        )
        applied = await loop.run_in_executor(self._executor, _apply_migrations, conns[0]) if migrate else []
        for conn in conns:
            self._idle.put(conn)
        if applied:
            log.info("applied migrations: %s", ", ".join(applied))
        return applied

    async def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is None:
            return
        await asyncio.get_running_loop().run_in_executor(None, executor.shutdown)  # in-flight units finish
        while not self._idle.empty():
            self._idle.get().close()

    @property
    def is_open(self) -> bool:
        return self._executor is not None

    async def checkpoint_if_idle(self, idle_s: float = 0.0) -> bool:
        """Nothing to do: PostgreSQL's checkpointer runs in the server, never inside a unit."""
        return False

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._submit(False, fn, args)

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._submit(True, fn, args)

    async def _submit(self, write: bool, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        if self._executor is None:
            raise RuntimeError("database is not open")
        self.round_trips += 1
        loop = asyncio.get_running_loop()
        key = getattr(fn, "queue_key", None) if write else None
        if key is None:
            return await loop.run_in_executor(self._executor, self._unit, write, fn, args)
        # A `queued` unit (storage/db.py): one at a time per key, waiting here rather than in a pool thread.
        queue_id = key(*args)
        turn = self._queues.get(queue_id)
        if turn is None:
            turn = self._queues[queue_id] = asyncio.Lock()
        async with turn:
            return await loop.run_in_executor(self._executor, self._unit, write, fn, args)

    def _unit(self, write: bool, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        conn = self._idle.get()
        try:
            if conn.raw.broken or conn.raw.closed:  # the server went away earlier: try a fresh connection
                # (if this raises, the old one goes back and the next unit retries)
                conn = pg.connect(self.path)
            return pg.run_unit(conn, write, fn, args, on_retry=lambda: self._retried(fn))
        finally:
            self._idle.put(conn)

    def _retried(self, fn: Callable[..., Any]) -> None:
        with self._retries_lock:
            self.retries[getattr(fn, "__qualname__", repr(fn))] += 1

    async def backup(self, target: str | Path, progress: Any = None) -> None:
        raise RuntimeError("on PostgreSQL use pg_dump, or `buddybot db copy` to a SQLite file")


def schema_version(conn: pg.PgConnection) -> int:
    conn.raw.execute("CREATE TABLE IF NOT EXISTS buddybot_schema (version INTEGER NOT NULL)")
    row = conn.raw.execute("SELECT max(version) FROM buddybot_schema").fetchone()
    return row[0] or 0


def migrate(conn: pg.PgConnection) -> list[str]:
    """Apply every pending migration, each in its own transaction together with its version row."""
    conn.raw.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
    try:
        current = schema_version(conn)
        applied = []
        for version, name, sql in migration_files():
            if version <= current:
                continue
            with conn.raw.transaction():
                for statement in dialect.statements(sql, dialect.POSTGRESQL):
                    conn.raw.execute(statement)
                conn.raw.execute("INSERT INTO buddybot_schema (version) VALUES (%s)", (version,))
            applied.append(name)
        return applied
    finally:
        conn.raw.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))


_apply_migrations = migrate  # open()'s `migrate` flag shadows the function's name there
