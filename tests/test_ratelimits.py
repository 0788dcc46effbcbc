"""The strict harness: Discord's rate limits (per-route buckets, headers, 429s, the global limit), its
virtual time, and what each interaction costs in REST calls, round trips and buckets."""

from __future__ import annotations

import pytest

from buddybot.testing.ratelimits import GLOBAL_LIMIT, MESSAGES, RateLimits, bucket_of
from tests.conftest import World


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_five_messages_per_channel_per_five_seconds_then_a_429() -> None:
    clock = Clock()
    limits = RateLimits(clock)
    seen = [limits.check("POST", "/channels/1/messages") for _ in range(5)]
    assert all(v.allowed for v in seen)
    assert [v.headers["X-RateLimit-Remaining"] for v in seen] == ["4", "3", "2", "1", "0"]
    assert {v.headers["X-RateLimit-Limit"] for v in seen} == {"5"}
    assert float(seen[0].headers["X-RateLimit-Reset-After"]) == 5.0
    # Edits share the channel's bucket; another channel has its own.
    clock.now += 1
    edit = limits.check("PATCH", "/channels/1/messages/9")
    assert not edit.allowed and edit.retry_after == 4.0
    assert edit.headers["X-RateLimit-Scope"] == "user" and edit.headers["Via"]
    assert limits.check("POST", "/channels/2/messages").allowed
    clock.now += 4
    assert limits.check("PATCH", "/channels/1/messages/9").allowed
    assert limits.throttled == {MESSAGES.name: 1}


def test_the_global_limit_spares_interaction_endpoints() -> None:
    clock = Clock()
    limits = RateLimits(clock)
    for channel in range(GLOBAL_LIMIT):
        assert limits.check("POST", f"/channels/{channel}/messages").allowed
    over = limits.check("POST", "/channels/999/messages")
    assert not over.allowed and over.is_global and over.headers["X-RateLimit-Global"] == "true"
    assert limits.check("POST", "/interactions/5/tok/callback").allowed
    assert limits.check("POST", "/webhooks/7/tok").allowed
    assert limits.check("PATCH", "/webhooks/7/tok/messages/@original").allowed
    clock.now += 1
    assert limits.check("POST", "/channels/999/messages").allowed


def test_buckets_by_route() -> None:
    assert bucket_of("POST", "/interactions/1/t/callback") is None
    assert bucket_of("POST", "/channels/3/messages")[0] == bucket_of("PATCH", "/channels/3/messages/4")[0]
    assert bucket_of("POST", "/channels/3/messages/4/threads")[1].name == "thread create"
    assert bucket_of("POST", "/webhooks/1/tok")[0] != bucket_of("POST", "/webhooks/1/other")[0]


async def test_the_strict_harness_is_the_default(world: World) -> None:
    limits = world.discord.session.limits
    assert limits is not None and limits.enabled and world.discord.virtual_time
    assert world.discord.session.latency == 0


async def test_discordpy_waits_for_the_channel_bucket_in_virtual_time(world: World) -> None:
    """Twelve shoutouts in one channel: discord.py reads the headers and waits; Discord never says 429."""
    d = world.discord
    await d.slash("config set", world.mod, shoutouts_channel=world.guild.channel("shoutouts"))
    members = [d.add_user(f"fan{i}", world.guild) for i in range(12)]
    before = d.virtual_offset
    for fan in members:
        r = await d.slash("shoutout", fan, member=world.bob, message="Thanks for the help")
        assert r.posts, [c.route for c in r.calls]
    posts = [c for c in d.calls if c.method == "POST" and c.path.endswith("/messages")]
    assert len(posts) == 12 and {c.status for c in posts} == {200}
    assert d.virtual_offset - before >= 5  # two full buckets: at least one 5 s wait, none of it real
    assert not d.session.limits.throttled


async def test_a_429_is_retried_after_retry_after(world: World) -> None:
    """Another client spent the thread bucket: Discord says 429 and discord.py retries after retry_after
    (virtual time). The thread comes after the answer, so the member waits for none of it."""
    d = world.discord
    for _ in range(10):
        d.session.limits.check("POST", f"/channels/{world.guild.channel('general')}/messages/1/threads")
    r = await d.slash("need ask", world.alice, skill="bookkeeping", when="next week")
    threads = [c for c in r.rest_calls if c.path.endswith("/threads")]
    assert [c.status for c in threads] == [429, 201]
    assert 9 <= threads[0].response["retry_after"] <= 10
    assert r.round_trips == 1 and r.response["type"] == 4
    assert r.buckets == {"thread create": 2, "none": 1}


async def test_round_trips_and_calls_are_counted_per_interaction(world: World) -> None:
    d = world.discord
    r = await d.slash("offer add", world.alice, skill="bookkeeping")
    assert r.round_trips == 1 and len(r.rest_calls) == 1 and r.buckets == {"none": 1}
    results = await d.burst(
        [d.command_payload("offer list", u, guild=world.guild) for u in (world.alice, world.bob)]
    )
    for result in results:
        assert result.round_trips == 1 and len(result.rest_calls) == 1


async def test_a_spent_channel_bucket_defers_before_posting(world: World) -> None:
    """Where a post would wait for the channel's bucket, the answer must not: defer first (private)."""
    from cogs.common import channel_is_busy

    d = world.discord
    await d.slash("config set", world.mod, shoutouts_channel=world.guild.channel("shoutouts"))
    fans = [d.add_user(f"fan{i}", world.guild) for i in range(5)]
    results = [await d.slash("shoutout", fan, member=world.bob, message="Thanks") for fan in fans[:4]]
    assert [(r.response["type"], r.round_trips) for r in results] == [(4, 2)] * 4
    # One token left: discord.py would hold the post that spends it until the bucket resets (5 s).
    assert channel_is_busy(world.bot, world.guild.channel("shoutouts"))
    r = await d.slash("shoutout", fans[4], member=world.bob, message="Thanks")
    assert r.response["type"] == 5 and r.ephemeral and "is up" in r.told and r.round_trips == 3
    assert not d.session.limits.throttled


@pytest.mark.sqlite_only("the write-ahead log is SQLite's")
async def test_the_wal_is_checkpointed_when_idle_not_inside_an_interaction(world: World) -> None:
    import sqlite3

    from buddybot.storage.db import WAL_AUTOCHECKPOINT_PAGES

    with sqlite3.connect(world.db_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    db = world.db
    assert await db.read(lambda conn: conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]) == (
        WAL_AUTOCHECKPOINT_PAGES
    )
    await world.discord.slash("offer add", world.alice, skill="bookkeeping")
    assert not await db.checkpoint_if_idle(idle_s=3600)  # written just now: not idle yet
    before = db.round_trips
    assert await db.checkpoint_if_idle(idle_s=0)
    assert not await db.checkpoint_if_idle(idle_s=0)  # nothing new to copy
    assert db.round_trips == before and world.bot.idle_checkpoint.is_running()


async def test_the_chart_is_drawn_by_a_child_process(world: World) -> None:
    """matplotlib (~40 MB) stays out of the bot's process: the chart worker draws, the bot caches."""
    import os

    from buddybot import chart

    r = await world.discord.slash("stats", world.mod)
    (follow_up,) = r.followups
    assert follow_up.files[0][1].startswith(b"\x89PNG")
    assert chart._worker is not None and chart._worker.poll() is None and chart._worker.pid != os.getpid()


@pytest.mark.sqlite_only("where SQLite units run")
async def test_sqlite_units_run_on_the_loop_and_offloaded_ones_never_share_the_connection(world: World) -> None:
    """A unit runs on the event loop (no thread hop); an @offloaded one in the worker thread, and a loop
    unit that arrives meanwhile waits for it, so the one connection is never used by two threads."""
    import asyncio
    import threading
    import time

    from buddybot.storage.db import offloaded

    db, loop_thread = world.db, threading.get_ident()
    where: list[tuple[str, int]] = []

    def plain(conn) -> int:
        where.append(("plain", threading.get_ident()))
        return conn.execute("SELECT count(*) FROM members").fetchone()[0]

    @offloaded
    def slow(conn) -> None:
        where.append(("slow begins", threading.get_ident()))
        conn.execute(
            "INSERT INTO members (guild_id, user_id, created_at, updated_at) VALUES (?, 7, 'x', 'x')",
            (world.guild.id,),
        )
        time.sleep(0.05)  # the loop runs meanwhile: the plain unit below is asked for now
        where.append(("slow ends", threading.get_ident()))

    before = await db.read(plain)
    slow_task = asyncio.create_task(db.write(slow))
    await asyncio.sleep(0.01)
    after = await db.read(plain)  # asked while `slow` holds the connection in the worker thread
    await slow_task
    assert after == before + 1  # it waited for the offloaded unit to commit
    assert [w for w, _ in where] == ["plain", "slow begins", "slow ends", "plain"]
    assert where[0][1] == where[3][1] == loop_thread and where[1][1] != loop_thread
