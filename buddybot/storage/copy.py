"""`buddybot db copy SOURCE TARGET`: move a community between SQLite and PostgreSQL (either way).

Both databases are first brought to the current schema by the real migrations. The copy then runs in
ONE target transaction: every table in foreign-key order, read and written in batches, with the target's
triggers off (the roll-ups and matching copies they maintain are copied as rows, not recomputed). A crash
leaves the target as it was, so rerunning is safe. Afterwards each table's row count and checksum (an
order-independent sum of per-row SHA-256s, so collation does not matter) are compared on both sides.
A target holding anything beyond what the migrations seed is refused unless `force` is given.
"""

from __future__ import annotations

import hashlib
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from buddybot.storage import dialect, pg

BATCH = 5_000


@dataclass(frozen=True)
class TableReport:
    table: str
    source_rows: int
    target_rows: int
    source_sum: str
    target_sum: str

    @property
    def equal(self) -> bool:
        return (self.source_rows, self.source_sum) == (self.target_rows, self.target_sum)


class CopyRefused(Exception):
    pass


def connect(target: str) -> Any:
    if pg.is_postgresql(target):
        return pg.connect(target)
    conn = sqlite3.connect(target, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def is_pg(conn: Any) -> bool:
    return getattr(conn, "dialect", dialect.SQLITE) == dialect.POSTGRESQL


def columns(conn: Any, table: str) -> list[str]:
    if is_pg(conn):
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = ? ORDER BY ordinal_position",
            (table,),
        ).fetchall()
        return [r[0] for r in rows]
    return [r[1] for r in conn.execute(f"PRAGMA table_info({table})").fetchall()]


def dependencies(conn: Any, table: str) -> set[str]:
    """The tables `table` references by foreign key."""
    if is_pg(conn):
        rows = conn.execute(
            "SELECT DISTINCT ccu.table_name FROM information_schema.table_constraints tc "
            "JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = tc.constraint_name "
            "AND ccu.table_schema = tc.table_schema "
            "WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema() AND tc.table_name = ?",
            (table,),
        ).fetchall()
        return {r[0] for r in rows} - {table}
    return {r[2] for r in conn.execute(f"PRAGMA foreign_key_list({table})").fetchall()} - {table}


def dependency_order(conn: Any) -> list[str]:
    """Every table after the tables it references (ties by name, so the order is stable)."""
    remaining = {t: dependencies(conn, t) for t in dialect.table_names(conn)}
    order: list[str] = []
    while remaining:
        ready = sorted(t for t, deps in remaining.items() if not deps - set(order))
        if not ready:
            raise RuntimeError(f"foreign keys form a cycle among {sorted(remaining)}")
        order += ready
        for t in ready:
            del remaining[t]
    return order


def _copied_columns(source: Any, target: Any, table: str) -> list[str]:
    """The columns both sides have; plus `rowid` where PostgreSQL has made SQLite's implicit one explicit."""
    src, dst = columns(source, table), columns(target, table)
    both = [c for c in dst if c in src]
    if ("rowid" in dst and "rowid" not in src) or ("rowid" in src and "rowid" not in dst):
        both.append("rowid")  # SQLite answers and accepts `rowid` on a rowid table
    return both


def _row_digest(row: Iterable[Any]) -> int:
    text = "\x1f".join("\x00" if v is None else repr(v) for v in row)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def checksum(conn: Any, table: str, cols: list[str]) -> tuple[int, str]:
    total, count = 0, 0
    cursor = conn.execute(f"SELECT {', '.join(cols)} FROM {table}")
    while batch := cursor.fetchmany(BATCH):
        for row in batch:
            total = (total + _row_digest(row)) % (1 << 64)
        count += len(batch)
    return count, f"{total:016x}"


def _seed_rows() -> dict[str, set[tuple[Any, ...]]]:
    """What the migrations themselves insert (a freshly migrated in-memory database's rows)."""
    from buddybot.storage.db import _configure, _migrate

    conn = sqlite3.connect(":memory:", isolation_level=None)
    _configure(conn)
    _migrate(conn)
    seeds = {t: {tuple(r) for r in conn.execute(f"SELECT * FROM {t}")} for t in dialect.table_names(conn)}
    conn.close()
    return seeds


def extra_rows(conn: Any) -> int:
    """Rows in `conn` beyond what the migrations seed (0 for a target that is safe to fill)."""
    seeds = _seed_rows()
    extra = 0
    for table in dialect.table_names(conn):
        count = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        if count > len(seeds.get(table, ())):
            extra += count - len(seeds.get(table, ()))
        elif count and table in seeds:
            rows = {tuple(r) for r in conn.execute(f"SELECT * FROM {table}")}
            extra += len(rows - seeds[table])
    return extra


class Progress:
    """One line on stderr per table, redrawn: bar, rows, rate and time left."""

    def __init__(self, stream=sys.stderr, width: int = 30) -> None:
        self.stream, self.width = stream, width

    def update(self, table: str, done: int, total: int, started: float) -> None:
        elapsed = max(time.monotonic() - started, 1e-6)
        rate = done / elapsed
        left = (total - done) / rate if rate else 0.0
        filled = int(self.width * done / total) if total else self.width
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(
            f"\r{table:<24} [{bar}] {done:>10,}/{total:<10,} {rate:>10,.0f} rows/s  ETA {left:5.1f}s"
        )
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def copy(
    source_url: str,
    target_url: str,
    *,
    force: bool = False,
    progress: Progress | None = None,
    batch: int = BATCH,
    migrate: Callable[[str], None] | None = None,
) -> list[TableReport]:
    """Copy every row of SOURCE into TARGET; returns the per-table comparison (raises if it differs)."""
    (migrate or _migrate_to_current)(source_url)
    (migrate or _migrate_to_current)(target_url)
    source, target = connect(source_url), connect(target_url)
    try:
        if not force and (extra := extra_rows(target)):
            raise CopyRefused(f"the target already holds {extra:,} rows; pass --force to replace them")
        order = dependency_order(source)
        plan = {t: _copied_columns(source, target, t) for t in order}
        _copy_all(source, target, order, plan, progress or Progress(), batch)
        if is_pg(target):  # fresh tables without statistics get poor plans until autovacuum analyzes them
            target.execute("ANALYZE")
        reports = []
        for table in order:
            s_rows, s_sum = checksum(source, table, plan[table])
            t_rows, t_sum = checksum(target, table, plan[table])
            reports.append(TableReport(table, s_rows, t_rows, s_sum, t_sum))
        return reports
    finally:
        source.close()
        target.close()


def _copy_all(
    source: Any, target: Any, order: list[str], plan: dict[str, list[str]], progress: Progress, batch: int
) -> None:
    source.execute("BEGIN ISOLATION LEVEL REPEATABLE READ" if is_pg(source) else "BEGIN")  # one snapshot
    pg_target = is_pg(target)
    target.execute("BEGIN")
    try:
        restore = _triggers_off(target, order)
        for table in reversed(order):  # replace (with --force), children first
            target.execute(f"DELETE FROM {table}")
        for table in order:
            cols = plan[table]
            total = source.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            started, done = time.monotonic(), 0
            if total == 0:
                progress.update(table, 0, 0, started)
            cursor = source.execute(f"SELECT {', '.join(cols)} FROM {table}")
            while rows := cursor.fetchmany(batch):
                _insert(target, table, cols, rows, pg_target)
                done += len(rows)
                progress.update(table, done, total, started)
        if pg_target:
            _restart_identities(target, order)
        restore()
        target.execute("COMMIT")
    except BaseException:
        target.execute("ROLLBACK")
        raise
    finally:
        source.execute("COMMIT")


def _insert(target: Any, table: str, cols: list[str], rows: list[Any], pg_target: bool) -> None:
    if pg_target:
        with target.raw.cursor().copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy_in:
            for row in rows:
                copy_in.write_row(tuple(row))
    else:
        marks = ", ".join("?" for _ in cols)
        target.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", rows)


def _triggers_off(target: Any, order: list[str]) -> Callable[[], None]:
    """Switch the target's own triggers off inside the copy transaction; returns how to switch them back."""
    if is_pg(target):
        for table in order:
            target.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")

        def restore() -> None:
            for table in order:
                target.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")

        return restore
    # SQLite cannot disable a trigger: drop them and create them again (DDL is transactional there too).
    triggers = target.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    for name, _ in triggers:
        target.execute(f"DROP TRIGGER {name}")

    def recreate() -> None:
        for _, sql in triggers:
            target.execute(sql)

    return recreate


def _restart_identities(target: Any, order: list[str]) -> None:
    """New rows after the copy take ids after the copied ones."""
    for table in order:
        if "id" not in columns(target, table):
            continue
        row = target.execute("SELECT pg_get_serial_sequence(?, 'id')", (table,)).fetchone()
        if row and row[0]:
            target.execute(
                f"SELECT setval(?, COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)", (row[0],)
            )


def _migrate_to_current(url: str) -> None:
    import asyncio

    from buddybot.storage.db import Database

    async def run() -> None:
        db = Database(url)
        await db.open()
        await db.close()

    asyncio.run(run())
