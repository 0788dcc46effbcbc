"""Group commit (buddybot/storage/group_commit.py): write units asked for together share one
transaction, yet each behaves as if it ran alone — its own result, its own rollback, durable when
answered."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from buddybot.storage.group_commit import MAX_GROUP
from tests.conftest import World

pytestmark = pytest.mark.sqlite_only("group commit is how the SQLite engine writes")


def _commits(world: World) -> list[str]:
    """Start recording the transactions the bot's connection begins (COMMIT statements)."""
    seen: list[str] = []
    conn = world.db._conn._conn  # the bot's own connection
    conn.set_trace_callback(lambda sql: seen.append(sql) if sql.strip().upper() == "COMMIT" else None)
    return seen


def _insert(guild_id: int, user_id: int):
    def unit(conn: sqlite3.Connection) -> int:
        conn.execute(
            "INSERT INTO members (guild_id, user_id, created_at, updated_at) VALUES (?, ?, 'x', 'x')",
            (guild_id, user_id),
        )
        return user_id

    return unit


def _members(world: World) -> set[int]:
    with world.connect() as conn:
        return {r[0] for r in conn.execute("SELECT user_id FROM members WHERE guild_id = ?", (world.guild.id,))}


async def test_units_asked_together_share_one_commit_and_each_gets_its_result(world: World) -> None:
    commits, before = _commits(world), world.db.round_trips
    results = await asyncio.gather(*(world.db.write(_insert(world.guild.id, 100 + i)) for i in range(10)))
    assert results == [100 + i for i in range(10)]
    assert len(commits) == 1 and world.db.round_trips - before == 10  # ten units, one transaction
    assert {100 + i for i in range(10)} <= _members(world)


async def test_a_group_is_at_most_max_group_units(world: World) -> None:
    commits = _commits(world)
    n = MAX_GROUP * 2 + 1
    await asyncio.gather(*(world.db.write(_insert(world.guild.id, 1000 + i)) for i in range(n)))
    assert len(commits) == 3


async def test_a_failing_unit_rolls_back_alone_and_its_caller_gets_the_error(world: World) -> None:
    def half_then_fail(conn: sqlite3.Connection) -> None:
        _insert(world.guild.id, 201)(conn)  # written, then undone with the unit
        raise ValueError("refused")

    commits = _commits(world)
    ok_before, failed, ok_after = await asyncio.gather(
        world.db.write(_insert(world.guild.id, 200)),
        world.db.write(half_then_fail),
        world.db.write(_insert(world.guild.id, 202)),
        return_exceptions=True,
    )
    assert (ok_before, ok_after) == (200, 202)
    assert isinstance(failed, ValueError) and str(failed) == "refused"
    members = _members(world)
    assert {200, 202} <= members and 201 not in members
    assert len(commits) == 1


async def test_later_units_see_earlier_ones_like_a_double_click(world: World) -> None:
    """Two identical units in one group: the second sees the first's row and conflicts with it."""
    results = await asyncio.gather(
        world.db.write(_insert(world.guild.id, 300)), world.db.write(_insert(world.guild.id, 300)),
        return_exceptions=True,
    )  # fmt: skip
    assert results[0] == 300 and isinstance(results[1], sqlite3.IntegrityError)
    assert 300 in _members(world)


async def test_a_caller_that_gave_up_before_its_turn_never_writes(world: World) -> None:
    task = asyncio.ensure_future(world.db.write(_insert(world.guild.id, 400)))
    await asyncio.sleep(0)  # its unit is waiting for the group
    task.cancel()
    await asyncio.gather(world.db.write(_insert(world.guild.id, 401)))
    with pytest.raises(asyncio.CancelledError):
        await task
    members = _members(world)
    assert 401 in members and 400 not in members


async def test_a_burst_of_requests_is_stored_in_fewer_transactions_than_units(world: World) -> None:
    """Ten members ask at once through Discord: every request stored and posted, fewer commits."""
    askers = [world.discord.add_user(f"asker{i}", world.guild) for i in range(10)]
    await world.discord.slash("offer add", world.alice, skill="plumbing")
    commits = _commits(world)
    payloads = [
        world.discord.command_payload("need ask", u, guild=world.guild, skill="plumbing", when="next week")
        for u in askers
    ]
    results = await world.discord.burst(payloads)
    assert all(r.callbacks[0].status == 200 for r in results)
    with world.connect() as conn:
        stored = conn.execute("SELECT count(*) FROM needs WHERE guild_id = ?", (world.guild.id,)).fetchone()[0]
    assert stored == 10
    assert len(commits) < 20  # two units per request (asked, posted); grouped, far fewer commits


async def test_writes_asked_while_the_worker_thread_has_the_connection_wait_for_it(world: World) -> None:
    import threading
    import time

    from buddybot.storage.db import offloaded

    order: list[str] = []

    @offloaded
    def slow(conn: sqlite3.Connection) -> None:
        order.append("slow begins")
        _insert(world.guild.id, 500)(conn)
        time.sleep(0.05)
        order.append("slow ends")

    def quick(conn: sqlite3.Connection) -> int:
        order.append(f"quick on the loop thread: {threading.current_thread() is threading.main_thread()}")
        return conn.execute("SELECT count(*) FROM members WHERE user_id = 500").fetchone()[0]

    slow_task = asyncio.ensure_future(world.db.write(slow))
    await asyncio.sleep(0.01)
    assert await world.db.write(quick) == 1  # it saw the offloaded unit's committed row
    await slow_task
    assert order == ["slow begins", "slow ends", "quick on the loop thread: True"]


async def test_writes_asked_just_before_closing_are_committed(world: World) -> None:
    n = MAX_GROUP + 5  # more than one group
    tasks = [asyncio.ensure_future(world.db.write(_insert(world.guild.id, 700 + i))) for i in range(n)]
    await asyncio.sleep(0)  # every unit is waiting for its group
    await world.db.close()
    assert [t.result() for t in tasks] == [700 + i for i in range(n)]
    assert {700 + i for i in range(n)} <= _members(world)
