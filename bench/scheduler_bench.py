"""What one due job costs on the scheduler: claimed, run, delivered and finished.

    .venv/bin/python bench/scheduler_bench.py [--jobs 5000] [--pending 100000] [--rounds 5]

Two measurements, both on a database built by the real migrations:

1. storage + domain (plain sqlite3, one connection, each batch in a `BEGIN IMMEDIATE` unit like the bot's):
   `claim_due` (conditional UPDATE per job, the step in a SAVEPOINT, its outcome stored as JSON) and then
   `finish`, for `--jobs` due jobs among `--pending` jobs that are not due yet (a busy table);
2. end to end through the bot: the Scheduler cog's `run_due` on the offline Discord (the harness), which
   also merges the notices per channel and posts them with a nonce. Half the jobs notify one shared
   channel (merged into one message per batch), half notify their own thread (one message each).

The step used is a real one in shape: it reads a row, writes one, and returns a notice that pings a member.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from buddybot import scheduler
from buddybot.scheduler import Job, Notice, Outcome
from buddybot.storage.db import _configure, _migrate
from buddybot.testing.harness import FakeDiscord
from buddybot.testing.world import FakeClock, make_bot

GUILD = 1
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # noon in London: not quiet hours
SHARED_CHANNEL = 900


@scheduler.job_kind("bench.remind", pings=True, max_late=timedelta(hours=12))
def _remind(conn: sqlite3.Connection, job: Job, now: datetime) -> Outcome:
    conn.execute("SELECT value FROM meta WHERE key = 'bench'").fetchone()
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('bench', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (str(job.id),),
    )
    channel = SHARED_CHANNEL if job.ref_id % 2 else 10_000 + job.ref_id
    return Outcome(
        notices=[Notice(channel, f"<@{job.ref_id}>: a reminder about #{job.ref_id}", (job.ref_id,))]
    )


def _schedule(conn: sqlite3.Connection, due: int, pending: int) -> None:
    conn.execute("BEGIN IMMEDIATE")
    for n in range(due):
        scheduler.schedule(conn, GUILD, "bench.remind", n + 1, NOW - timedelta(seconds=n), NOW)
    for n in range(pending):
        scheduler.schedule(
            conn, GUILD, "bench.remind", 10_000_000 + n, NOW + timedelta(days=1, seconds=n), NOW
        )
    conn.execute("COMMIT")


def storage_round(jobs: int, pending: int) -> float:
    """Seconds per job for claim_due + finish on plain sqlite3."""
    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(Path(tmp) / "jobs.sqlite3", isolation_level=None, check_same_thread=False)
        _configure(conn)
        _migrate(conn)
        _schedule(conn, jobs, pending)
        started = time.perf_counter()
        done = 0
        while True:
            conn.execute("BEGIN IMMEDIATE")
            claimed = scheduler.claim_due(conn, NOW, "bench")
            conn.execute("COMMIT")
            if not claimed:
                break
            conn.execute("BEGIN IMMEDIATE")
            done += scheduler.finish(conn, [job.id for job, _ in claimed], NOW)
            conn.execute("COMMIT")
        elapsed = time.perf_counter() - started
        conn.close()
    assert done == jobs, (done, jobs)
    return elapsed / jobs


async def end_to_end_round(jobs: int, pending: int) -> tuple[float, int]:
    """Seconds per job for the cog's run_due (claim, run, merge, post, finish), and the messages posted."""
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "bot.sqlite3"
        discord = FakeDiscord()
        guild = discord.add_guild("Bench")
        clock = FakeClock()
        clock.current = NOW - timedelta(days=2)  # nothing of ours is due while the bot starts
        bot = make_bot(db_path, clock)
        await discord.start(bot)
        try:
            runner = bot.get_cog("Scheduler")
            runner.tick.cancel()
            conn = sqlite3.connect(db_path, isolation_level=None)
            _schedule(conn, jobs, pending)
            conn.close()
            clock.current = NOW
            posted_before = len(discord.calls)
            started = time.perf_counter()
            ran = await runner.run_due()
            elapsed = time.perf_counter() - started
            posts = sum(1 for c in discord.calls[posted_before:] if c.method == "POST")
        finally:
            await discord.close_bot()
    assert ran == jobs, (ran, jobs)
    assert guild is not None
    return elapsed / jobs, posts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    storage = [storage_round(args.jobs, args.pending) for _ in range(args.rounds)]
    e2e = [asyncio.run(end_to_end_round(args.jobs, args.pending)) for _ in range(args.rounds)]
    per_job = [seconds for seconds, _ in e2e]
    print(
        f"{args.jobs} due jobs among {args.pending} not yet due; {args.rounds} rounds; "
        f"batches of {scheduler.BATCH}"
    )
    print(
        f"claim + run + finish (plain sqlite3): median {statistics.median(storage) * 1e6:,.0f} µs per job "
        f"(min {min(storage) * 1e6:,.0f}, max {max(storage) * 1e6:,.0f})"
    )
    print(
        f"end to end through the bot (claim, run, merge, post with nonce, finish): median "
        f"{statistics.median(per_job) * 1e6:,.0f} µs per job (min {min(per_job) * 1e6:,.0f}, "
        f"max {max(per_job) * 1e6:,.0f}); {e2e[0][1]} messages posted for {args.jobs} jobs"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
