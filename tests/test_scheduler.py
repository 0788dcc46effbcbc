"""The one scheduler: due work stored in the database, claimed once, delivered once, quiet at night."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta

from buddybot import scheduler
from buddybot.scheduler import Button, Job, Notice, Outcome
from buddybot.storage.db import Database
from tests.conftest import World

RAN: list[tuple[str, int]] = []


@scheduler.job_kind("test.remind", pings=True, max_late=timedelta(hours=12))
def _remind(conn: sqlite3.Connection, job: Job, now: datetime) -> Outcome:
    RAN.append((job.kind, job.ref_id))
    channel_id, user_id = int(job.tag), job.ref_id  # test jobs carry their channel in the tag
    return Outcome(notices=[Notice(channel_id, f"reminder for <@{user_id}>", (user_id,))])


@scheduler.job_kind("test.expire", pings=False)
def _expire(conn: sqlite3.Connection, job: Job, now: datetime) -> Outcome:
    RAN.append((job.kind, job.ref_id))
    conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (f"expired:{job.ref_id}", job.tag))
    return Outcome()


@scheduler.job_kind("test.button", pings=True)
def _button(conn: sqlite3.Connection, job: Job, now: datetime) -> Outcome:
    return Outcome(
        notices=[Notice(job.ref_id, "Done yet?", (), (Button("test:1:done", "Mark complete", "success"),))]
    )


@scheduler.job_kind("test.broken", pings=False)
def _broken(conn: sqlite3.Connection, job: Job, now: datetime) -> Outcome:
    conn.execute("INSERT INTO meta (key, value) VALUES ('broken', 'half-done')")
    raise RuntimeError("boom")


async def remind(world: World, channel_id: int, user_id: int, due: datetime) -> None:
    await schedule(world, "test.remind", user_id, due, tag=str(channel_id))


async def schedule(world: World, kind: str, ref_id: int, due: datetime, tag: str = "") -> None:
    def unit(conn: sqlite3.Connection) -> None:
        scheduler.schedule(conn, world.guild.id, kind, ref_id, due, world.clock(), tag)

    await world.db.write(unit)


def job_rows(world: World) -> list[tuple]:
    with world.connect() as conn:
        return conn.execute("SELECT kind, ref_id, state, due_at FROM jobs ORDER BY id").fetchall()


def runner(world: World):
    return world.bot.get_cog("Scheduler")


async def test_a_due_job_runs_once_and_pings_exactly_its_member(world: World) -> None:
    RAN.clear()
    channel = world.guild.channel()
    user = world.alice.id
    await remind(world, channel, user, world.clock() + timedelta(hours=1))
    assert await runner(world).run_due() == 0, "not due yet"
    world.clock.advance(hours=1)
    assert await runner(world).run_due() == 1
    assert await runner(world).run_due() == 0
    (sent,) = world.discord.channel_messages(channel)
    assert sent.content == f"reminder for <@{user}>"
    assert sent.data["allowed_mentions"] == {"parse": [], "users": [user]}
    assert sent.data["enforce_nonce"] is True and sent.data["nonce"]
    assert RAN == [("test.remind", user)]
    # scheduling the same job again never revives one that ran
    await remind(world, channel, user, world.clock())
    assert await runner(world).run_due() == 0
    assert [row[2] for row in job_rows(world)] == ["done"]


async def test_rescheduling_a_pending_job_moves_it_instead_of_adding_one(world: World) -> None:
    await schedule(world, "test.expire", 7, world.clock() + timedelta(days=2))
    await schedule(world, "test.expire", 7, world.clock() + timedelta(days=1))
    await schedule(world, "test.expire", 7, world.clock() + timedelta(days=1), tag="second")
    rows = job_rows(world)
    assert len(rows) == 2 and rows[0][3] == (world.clock() + timedelta(days=1)).isoformat()


async def test_quiet_hours_wait_for_the_morning_in_the_guilds_time_zone(world: World) -> None:
    await world.discord.slash("config set", world.mod, timezone="America/New_York")
    channel = world.guild.channel()
    # 02:30 UTC on 26 Nov is 21:30 in New York (EST, UTC-5): quiet until 08:00 EST = 13:00 UTC.
    world.clock.current = datetime(2026, 11, 26, 2, 30, tzinfo=UTC)
    await remind(world, channel, 1, world.clock())
    await schedule(world, "test.expire", 1, world.clock())  # state changes don't wait
    assert await runner(world).run_due() == 1
    assert world.discord.channel_messages(channel) == []
    assert job_rows(world)[0][2:] == ("due", "2026-11-26T13:00:00+00:00")
    world.clock.current = datetime(2026, 11, 26, 12, 59, tzinfo=UTC)
    assert await runner(world).run_due() == 0
    world.clock.current = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
    assert await runner(world).run_due() == 1
    assert len(world.discord.channel_messages(channel)) == 1


def test_quiet_hours_edges() -> None:
    london = "Europe/London"
    assert scheduler.quiet_until(datetime(2026, 7, 1, 7, 59, tzinfo=UTC), london) is None  # 08:59 BST
    assert scheduler.quiet_until(datetime(2026, 7, 1, 20, 0, tzinfo=UTC), london) == datetime(
        2026, 7, 2, 7, 0, tzinfo=UTC
    )  # 21:00 BST → 08:00 BST next day
    assert scheduler.quiet_until(datetime(2026, 12, 1, 6, 0, tzinfo=UTC), london) == datetime(
        2026, 12, 1, 8, 0, tzinfo=UTC
    )  # 06:00 GMT → 08:00 the same day


async def test_days_late_reminders_are_dropped_but_state_changes_still_run(world: World) -> None:
    RAN.clear()
    channel = world.guild.channel()
    await remind(world, channel, 2, world.clock() - timedelta(days=3))
    await schedule(world, "test.expire", 9, world.clock() - timedelta(days=3))
    assert await runner(world).run_due() == 1
    assert RAN == [("test.expire", 9)]
    assert [row[2] for row in job_rows(world)] == ["dropped", "done"]
    assert world.discord.channel_messages(channel) == []


async def test_notices_to_one_channel_in_one_run_are_merged(world: World) -> None:
    general, other = world.guild.channel(), world.guild.channel("shoutouts")
    for user in (1, 2, 3):
        await remind(world, general, user, world.clock())
    await remind(world, other, 4, world.clock())
    await schedule(world, "test.button", general, world.clock())
    assert await runner(world).run_due() == 5
    button, merged = sorted(world.discord.channel_messages(general), key=lambda m: "reminder" in m.content)
    assert merged.content.count("reminder") == 3
    assert merged.data["allowed_mentions"]["users"] == [1, 2, 3]
    assert button.labels() == ["Mark complete"] and button.data["allowed_mentions"]["users"] == []
    assert len(world.discord.channel_messages(other)) == 1


async def test_a_crash_between_claim_and_delivery_loses_nothing_and_doubles_nothing(world: World) -> None:
    channel = world.guild.channel()
    await remind(world, channel, 5, world.clock())
    # The process claims and runs the step (committed), posts, then dies before marking the job done.
    claimed = await world.db.write(scheduler.claim_due, world.clock(), "doomed")
    await runner(world).deliver(claimed)
    assert len(world.discord.channel_messages(channel)) == 1
    await world.restart()
    assert await runner(world).run_due() == 0, "the lease still holds"
    world.clock.advance(seconds=scheduler.LEASE.total_seconds() + 1)
    assert await runner(world).run_due() == 1, "re-delivered after the lease"
    assert len(world.discord.channel_messages(channel)) == 1, "Discord dropped the duplicate by its nonce"
    assert world.discord.nonce_duplicates_dropped == 1
    assert [row[2] for row in job_rows(world)] == ["done"]


async def test_a_crash_before_delivery_delivers_after_the_lease_without_running_the_step_again(
    world: World,
) -> None:
    RAN.clear()
    await schedule(world, "test.expire", 11, world.clock(), tag="x")
    await remind(world, world.guild.channel(), 6, world.clock())
    await world.db.write(scheduler.claim_due, world.clock(), "doomed")  # then kill -9
    await world.restart()
    world.clock.advance(minutes=5)
    assert await runner(world).run_due() == 2
    assert sorted(RAN) == [("test.expire", 11), ("test.remind", 6)]
    assert len(world.discord.channel_messages(world.guild.channel())) == 1
    with world.connect() as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'expired:11'").fetchall() == [("x",)]


async def test_two_processes_never_run_the_same_job(world: World) -> None:
    RAN.clear()
    for n in range(40):
        await schedule(world, "test.expire", n, world.clock())
    other = Database(world.db_path)
    await other.open()
    try:
        results = await asyncio.gather(
            *(db.write(lambda conn, n=name: scheduler.claim_due(conn, world.clock(), n, limit=7))
              for db, name in [(world.db, "a"), (other, "b")] * 6)
        )  # fmt: skip
    finally:
        await other.close()
    ids = [job.id for batch in results for job, _ in batch]
    assert len(ids) == len(set(ids)) == 40
    assert sorted(r for _, r in RAN) == list(range(40))


async def test_a_failing_step_is_retried_then_given_up_without_harming_others(world: World) -> None:
    RAN.clear()
    await schedule(world, "test.broken", 1, world.clock())
    await schedule(world, "test.expire", 2, world.clock())
    assert await runner(world).run_due() == 1
    assert RAN == [("test.expire", 2)]
    with world.connect() as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'broken'").fetchall() == [], "rolled back"
    for _ in range(scheduler.MAX_ATTEMPTS):
        world.clock.advance(hours=1)
        await runner(world).run_due()
    assert job_rows(world)[0][2] == "failed"


async def test_finished_jobs_are_forgotten_after_a_month(world: World) -> None:
    for n in range(3):
        await schedule(world, "test.expire", n, world.clock())
    await runner(world).run_due()
    world.clock.advance(days=31)
    await schedule(world, "test.expire", 99, world.clock())
    await runner(world).run_due()
    assert [row[1] for row in job_rows(world)] == [99]
