"""Test and bench helpers for running against either engine: sync connections and throwaway PostgreSQL
databases cloned from a migrated template (a clone takes milliseconds; migrating takes ~0.5 s)."""

from __future__ import annotations

import itertools
import os
import sqlite3
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from buddybot.storage import pg
from buddybot.storage.db import _configure
from buddybot.storage.dialect import table_names


def connect_sync(target: str | Path) -> Any:
    """An autocommit connection with the storage modules' API: sqlite3.Connection or pg.PgConnection."""
    if pg.is_postgresql(str(target)):
        return pg.connect(str(target))
    conn = sqlite3.connect(target, isolation_level=None)
    _configure(conn)
    conn.row_factory = _tuple_row  # rows equal plain tuples (as in assertions) and still answer by name
    return conn


def _tuple_row(cursor: sqlite3.Cursor, values: tuple[Any, ...]) -> pg.Row:
    return pg.row_class(tuple(d[0] for d in cursor.description))(values)


@contextmanager
def connected(target: str | Path):
    with closing(connect_sync(target)) as conn:
        yield conn


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


class PostgresTemplates:
    """Migrated PostgreSQL databases for tests on the server at `server_url`.

    `fresh()` hands out one database, migrated once per session and reset between tests: every other
    session's connection to it is cut, every table truncated (identities restarted) and the rows the
    migrations seeded put back. That costs ~40 ms; cloning a template database costs ~500 ms here.
    """

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self._prefix = f"buddybot_test_{os.getpid()}"
        self._counter = itertools.count()
        self._admin = pg.connect(server_url)
        self._shared: str | None = None
        self._seeds: dict[str, list[tuple[Any, ...]]] = {}

    def _create(self, name: str) -> str:
        self._admin.raw.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        # C collation: text sorts by code point, as in SQLite.
        self._admin.raw.execute(
            f"CREATE DATABASE {name} ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
        )
        return with_database(self.server_url, name)

    def migrated(self) -> str:
        """A new database of its own, migrated (~0.5 s): for tests that need two at once."""
        from buddybot.storage.pg_database import migrate

        url = self._create(f"{self._prefix}_{next(self._counter)}")
        with closing(pg.connect(url)) as conn:
            migrate(conn)
        return url

    def empty(self) -> str:
        """A database with no schema at all (for migration and copy tests)."""
        return self._create(f"{self._prefix}_{next(self._counter)}")

    def fresh(self) -> str:
        if self._shared is None:
            self._shared = self.migrated()
            with closing(pg.connect(self._shared)) as conn:
                self._tables = sorted(table_names(conn))
                for table in self._tables:
                    rows = conn.execute(f"SELECT * FROM {table}").fetchall()
                    if rows:
                        self._seeds[table] = [tuple(r) for r in rows]
            return self._shared
        name = urlsplit(self._shared).path.lstrip("/")
        self._admin.raw.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        with closing(pg.connect(self._shared)) as conn, conn.raw.transaction():
            self._empty_tables(conn)
            for table, rows in self._seeds.items():
                marks = ", ".join(["%s"] * len(rows[0]))
                conn.raw.cursor().executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        return self._shared

    def _empty_tables(self, conn: pg.PgConnection) -> None:
        """DELETE with triggers and foreign keys off (~5 ms) when we may; else TRUNCATE (~150 ms)."""
        try:
            with conn.raw.transaction():
                conn.raw.execute("SET LOCAL session_replication_role = replica")
                for table in self._tables:
                    conn.raw.execute(f"DELETE FROM {table}")
                for (sequence,) in conn.raw.execute(
                    "SELECT c.oid::regclass::text FROM pg_class c WHERE c.relkind = 'S' "
                    "AND c.relnamespace = current_schema()::regnamespace"
                ).fetchall():
                    conn.raw.execute("SELECT setval(%s, 1, false)", (sequence,))
        except pg.errors.InsufficientPrivilege:
            conn.raw.execute(f"TRUNCATE {', '.join(self._tables)} RESTART IDENTITY CASCADE")

    def drop(self, url: str) -> None:
        if url == self._shared:
            return  # reset by the next fresh()
        name = urlsplit(url).path.lstrip("/")
        self._admin.raw.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def close(self) -> None:
        rows = self._admin.raw.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (self._prefix + "%",)
        ).fetchall()
        for (name,) in rows:
            self._admin.raw.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self._admin.close()
