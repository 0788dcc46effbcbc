"""PostgreSQL behind the same `fn(conn, …)` units: psycopg 3 sync connections, one per worker thread.

The storage modules are written against sqlite3's small API: `conn.execute(sql, params)` with `?` or
`:name` placeholders, `executemany`, cursors with `fetchone/fetchall/rowcount`, and rows addressable by
column name and by index. `PgConnection` gives exactly that over a psycopg connection, so one storage
function runs on either engine and the domain never knows which.
"""

from __future__ import annotations

import functools
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import psycopg
from psycopg import errors
from psycopg.adapt import Dumper
from psycopg.types.numeric import NumericLoader

POSTGRESQL_URL = re.compile(r"^postgres(ql)?://", re.IGNORECASE)


def is_postgresql(target: str) -> bool:
    return bool(POSTGRESQL_URL.match(str(target)))


_INDEXED_BY = re.compile(r"\s+(INDEXED\s+BY\s+\w+|NOT\s+INDEXED)\b", re.IGNORECASE)


@functools.lru_cache(maxsize=4096)
def translate(sql: str) -> str:
    """`?` -> %s, `:name` -> %(name)s, `%` -> %%, leaving quoted text and `::` casts alone.

    SQLite's planner hints (`INDEXED BY ix`) are dropped: PostgreSQL's planner picks indexes itself.
    """
    sql = _INDEXED_BY.sub("", sql)
    out, i, n = [], 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in "'\"":
            end = sql.find(ch, i + 1)
            end = n - 1 if end < 0 else end
            out.append(sql[i : end + 1].replace("%", "%%"))
            i = end + 1
            continue
        if sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            i = end
            continue
        if ch == "?":
            out.append("%s")
        elif ch == "%":
            out.append("%%")
        elif ch == ":" and sql.startswith("::", i):
            out.append("::")
            i += 2
            continue
        elif ch == ":" and i + 1 < n and (sql[i + 1].isalpha() or sql[i + 1] == "_"):
            match = re.match(r"\w+", sql[i + 1 :])
            assert match is not None
            out.append(f"%({match.group(0)})s")
            i += 1 + len(match.group(0))
            continue
        else:
            out.append(ch)
        i += 1
    return "".join(out)


class Row(tuple):
    """A result row addressable like sqlite3.Row: by index, by column name, keys()."""

    __slots__ = ()
    _names: dict[str, int] = {}

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


@functools.lru_cache(maxsize=1024)
def row_class(names: tuple[str, ...]) -> type[Row]:
    return type("Row", (Row,), {"__slots__": (), "_names": {name: i for i, name in enumerate(names)}})


def _row_factory(cursor: psycopg.Cursor[Any]):
    if cursor.description is None:
        return tuple
    cls = row_class(tuple(col.name for col in cursor.description))
    return lambda values: cls(values)


class _IntegralNumeric(NumericLoader):
    """sum()/avg() of integers come back as numeric: give Python an int when it is whole (as SQLite does)."""

    def load(self, data: Any) -> Any:
        value = super().load(data)
        return int(value) if value == value.to_integral_value() else float(value)


class _BoolAsInteger(Dumper):
    """Booleans are INTEGER 0/1 columns (the portable subset): send True/False as 1/0."""

    oid = psycopg.postgres.types["int8"].oid

    def dump(self, obj: bool) -> bytes:
        return b"1" if obj else b"0"


class PgCursor:
    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self._cursor = cursor

    def fetchone(self) -> Row | None:
        return self._cursor.fetchone() if self._cursor.description is not None else None

    def fetchall(self) -> list[Row]:
        return self._cursor.fetchall() if self._cursor.description is not None else []

    def fetchmany(self, size: int) -> list[Row]:
        return self._cursor.fetchmany(size)

    def __iter__(self) -> Iterator[Row]:
        return iter(self.fetchall())

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def description(self):
        return self._cursor.description


class PgConnection:
    """sqlite3.Connection's surface (as the storage modules use it) over one psycopg connection."""

    dialect = "postgresql"

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> PgCursor:
        cursor = self.raw.cursor()
        cursor.execute(translate(sql), params)
        return PgCursor(cursor)

    def executemany(self, sql: str, seq: Iterable[Sequence[Any] | dict[str, Any]]) -> PgCursor:
        cursor = self.raw.cursor()
        cursor.executemany(translate(sql), list(seq))
        return PgCursor(cursor)

    def close(self) -> None:
        self.raw.close()


def connect(url: str) -> PgConnection:
    """A raw connection in autocommit mode (units issue BEGIN/COMMIT themselves), with our adapters."""
    raw = psycopg.connect(url, autocommit=True, row_factory=_row_factory)
    raw.adapters.register_loader("numeric", _IntegralNumeric)
    raw.adapters.register_dumper(bool, _BoolAsInteger)
    raw.execute("SET TIME ZONE 'UTC'")
    return PgConnection(raw)


RETRYABLE = (errors.SerializationFailure, errors.DeadlockDetected)


def run_unit(
    conn: PgConnection,
    write: bool,
    fn,
    args: tuple[Any, ...],
    attempts: int = 30,
    on_retry: Callable[[], None] | None = None,
) -> Any:
    """One unit of work in one transaction. Writes are SERIALIZABLE, so a unit behaves as if it ran alone
    (as under SQLite's single writer); a serialization failure rolls back and runs the unit again
    (`on_retry` is told each time)."""
    begin = (
        "BEGIN ISOLATION LEVEL SERIALIZABLE" if write else "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
    )
    for attempt in range(attempts):
        conn.raw.execute(begin)
        try:
            result = fn(conn, *args)
            conn.raw.execute("COMMIT")
            return result
        except RETRYABLE:
            conn.raw.execute("ROLLBACK")
            if attempt == attempts - 1:
                raise
            if on_retry is not None:
                on_retry()
            time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        except BaseException:
            if not conn.raw.closed:
                conn.raw.execute("ROLLBACK")
            raise
    raise AssertionError("unreachable")
