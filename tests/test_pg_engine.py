"""The PostgreSQL engine's own behaviour: placeholder translation, rows, retries, reconnecting."""

from __future__ import annotations

import asyncio
import threading
from contextlib import closing

import psycopg
import pytest

from buddybot.storage import pg
from buddybot.storage.db import Database, queued
from tests.conftest import require_pg


def test_placeholders_are_translated_outside_quotes_only() -> None:
    assert (
        pg.translate("SELECT * FROM t WHERE a = ? AND b = :name")
        == "SELECT * FROM t WHERE a = %s AND b = %(name)s"
    )
    assert pg.translate("SELECT '?:x%', 5 % 2, x::text FROM t") == "SELECT '?:x%%', 5 %% 2, x::text FROM t"
    assert pg.translate("SELECT 1 FROM t INDEXED BY t_ix WHERE a = ?") == "SELECT 1 FROM t WHERE a = %s"


def test_rows_answer_by_name_and_index_and_equal_tuples() -> None:
    row = pg.row_class(("id", "name"))((7, "Bob"))
    assert row["name"] == row[1] == "Bob" and row == (7, "Bob") and dict(row) == {"id": 7, "name": "Bob"}


@pytest.fixture
def url(pg_templates) -> str:
    return require_pg(pg_templates).fresh()


async def test_a_unit_rolls_back_whole_and_sums_come_back_as_int(url: str) -> None:
    db = Database(url)
    await db.open()
    try:

        def two_then_fail(conn) -> None:
            conn.execute("INSERT INTO meta (key, value) VALUES ('a', '1')")
            conn.execute("INSERT INTO meta (key, value) VALUES ('a', '2')")  # duplicate key

        with pytest.raises(psycopg.errors.UniqueViolation):
            await db.write(two_then_fail)
        assert (
            await db.read(lambda c: c.execute("SELECT count(*) FROM meta WHERE key = 'a'").fetchone()[0]) == 0
        )
        total = await db.read(lambda c: c.execute("SELECT sum(max_pings) FROM guild_config").fetchone()[0])
        assert total is None
        await db.write(lambda c: c.execute("INSERT INTO guild_config (guild_id) VALUES (1), (2)"))
        total = await db.read(lambda c: c.execute("SELECT sum(max_pings) FROM guild_config").fetchone()[0])
        assert total == 10 and type(total) is int
    finally:
        await db.close()


async def test_racing_writers_are_serialized_by_retries_not_lost(url: str) -> None:
    """50 units each read-modify-write one counter: SERIALIZABLE plus retry makes every increment count."""
    db = Database(url)
    await db.open()
    try:
        await db.write(lambda c: c.execute("INSERT INTO meta (key, value) VALUES ('n', '0')"))

        def bump(conn) -> None:
            n = int(conn.execute("SELECT value FROM meta WHERE key = 'n'").fetchone()[0])
            conn.execute("UPDATE meta SET value = ? WHERE key = 'n'", (str(n + 1),))

        await asyncio.gather(*(db.write(bump) for _ in range(50)))
        assert (
            await db.read(lambda c: c.execute("SELECT value FROM meta WHERE key = 'n'").fetchone()[0]) == "50"
        )
    finally:
        await db.close()


async def test_queued_units_of_one_key_run_one_at_a_time_and_are_never_retried(url: str) -> None:
    """The same 50 read-modify-writes marked `queued` on one key: they wait for each other in the process
    (never two at once on the pool's connections), so none fails SERIALIZABLE and runs again."""
    db = Database(url)
    await db.open()
    try:
        await db.write(lambda c: c.execute("INSERT INTO meta (key, value) VALUES ('n', '0')"))
        guard, running, most = threading.Lock(), 0, 0

        @queued(lambda key: key)
        def bump(conn, key: int) -> None:
            nonlocal running, most
            with guard:
                running += 1
                most = max(most, running)
            try:
                n = int(conn.execute("SELECT value FROM meta WHERE key = 'n'").fetchone()[0])
                conn.execute("UPDATE meta SET value = ? WHERE key = 'n'", (str(n + 1),))
            finally:
                with guard:
                    running -= 1

        await asyncio.gather(*(db.write(bump, 7) for _ in range(50)))
        assert await db.read(lambda c: c.execute("SELECT value FROM meta WHERE key = 'n'").fetchone()[0]) == "50"
        assert most == 1
        assert not db.retries
    finally:
        await db.close()


async def test_after_the_server_drops_its_connections_the_next_units_work(url: str, pg_templates) -> None:
    db = Database(url)
    await db.open()
    try:
        name = url.rsplit("/", 1)[1]
        with closing(pg.connect(pg_templates.server_url)) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ? AND pid <> pg_backend_pid()",
                (name,),
            )
        failures = 0
        for _ in range(8):  # each pooled connection fails once at most, then is replaced
            try:
                await db.read(lambda c: c.execute("SELECT 1").fetchone())
            except psycopg.OperationalError:
                failures += 1
        assert failures <= 4
        assert (await db.read(lambda c: c.execute("SELECT 1").fetchone()))[0] == 1
    finally:
        await db.close()
