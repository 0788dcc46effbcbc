"""Per-statement cost of the PostgreSQL engine's layers, against the drivers underneath (and SQLite).

    .venv/bin/python bench/pg_overhead.py postgresql://user@127.0.0.1:5432/postgres [--n 3000]

One point lookup by primary key (`SELECT business FROM members WHERE guild_id = ? AND user_id = ?`) on a
migrated database with 1,000 members, timed N times each way, median and p99 in microseconds:

  raw psycopg         psycopg 3 sync connection, cursor.execute + fetchone, same thread (the floor)
  PgConnection        the same through storage/pg.py's adapter (placeholder translation, Row objects)
  asyncpg             asyncpg's prepared fetchrow on the event loop (the fastest async driver)
  Database.read       a whole unit on PostgreSQL: thread hop + BEGIN … COMMIT + the statement
  Database.read x10   one unit running the statement ten times (per statement)
  SQLite Database.read the same unit on the SQLite engine (aiosqlite thread hop)

Needs asyncpg installed for its row (pip install asyncpg); it is not a dependency of the bot.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from buddybot.storage import pg  # noqa: E402
from buddybot.storage.db import Database  # noqa: E402
from buddybot.testing.engines import PostgresTemplates, connected  # noqa: E402

SQL = "SELECT business FROM members WHERE guild_id = ? AND user_id = ?"
G = 1


def stats(samples: list[float]) -> tuple[float, float]:
    samples.sort()
    return statistics.median(samples) * 1e6, samples[int(len(samples) * 0.99) - 1] * 1e6


def timed(fn, n: int) -> list[float]:
    out = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - t)
    return out


async def atimed(fn, n: int) -> list[float]:
    out = []
    for i in range(n):
        t = time.perf_counter()
        await fn(i)
        out.append(time.perf_counter() - t)
    return out


def seed(target) -> None:
    with connected(target) as conn:
        conn.executemany(
            "INSERT INTO members (guild_id, user_id, business, created_at, updated_at) VALUES (?, ?, ?, 'x', 'x')",
            [(G, i, f"Business {i}") for i in range(1000)],
        )


def lookup(conn, i: int):
    return conn.execute(SQL, (G, i % 1000)).fetchone()


def ten(conn, i: int):
    for k in range(10):
        conn.execute(SQL, (G, (i + k) % 1000)).fetchone()


async def main(server: str, n: int) -> None:
    templates = PostgresTemplates(server)
    url = templates.migrated()
    seed(url)
    rows: list[tuple[str, list[float]]] = []
    try:
        raw = pg.connect(url).raw
        translated = pg.translate(SQL)
        rows.append(
            ("raw psycopg (sync)", timed(lambda i: raw.execute(translated, (G, i % 1000)).fetchone(), n))
        )
        adapter = pg.PgConnection(raw)
        rows.append(("PgConnection adapter (sync)", timed(lambda i: lookup(adapter, i), n)))
        raw.close()
        try:
            import asyncpg

            aconn = await asyncpg.connect(url)
            stmt = await aconn.prepare("SELECT business FROM members WHERE guild_id = $1 AND user_id = $2")
            rows.append(("asyncpg prepared fetchrow", await atimed(lambda i: stmt.fetchrow(G, i % 1000), n)))
            await aconn.close()
        except ImportError:
            print("asyncpg not installed: its row is left out", file=sys.stderr)
        db = Database(url)
        await db.open()
        rows.append(("Database.read unit (PostgreSQL)", await atimed(lambda i: db.read(lookup, i), n)))
        per = await atimed(lambda i: db.read(ten, i), n // 10)
        rows.append(("  same, 10 statements per unit (/10)", [s / 10 for s in per]))
        await db.close()
        with tempfile.TemporaryDirectory() as tmp:
            lite = Database(Path(tmp) / "o.sqlite3")
            await lite.open()
            seed(lite.path)
            rows.append(("Database.read unit (SQLite)", await atimed(lambda i: lite.read(lookup, i), n)))
            await lite.close()
    finally:
        templates.close()
    print(f"{'one point lookup by primary key':<40} {'median µs':>10} {'p99 µs':>10}")
    for name, samples in rows:
        med, p99 = stats(samples)
        print(f"{name:<40} {med:>10.1f} {p99:>10.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("server")
    parser.add_argument("--n", type=int, default=3000)
    args = parser.parse_args()
    asyncio.run(main(args.server, args.n))
