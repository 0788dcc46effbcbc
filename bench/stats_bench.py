"""/stats timing at 100,000 requests and 1,000,000 referrals (the issue #6 goal: p99 <= 10 ms).

    .venv/bin/python bench/stats_bench.py [--runs 300] [--quick]

The community comes from bench/seed.py (100,000 members, 100,000 recent requests, 1,000,000 filled
requests with their referrals, built through the real migrations so the roll-up triggers ran). On a
copy this adds what /stats also counts: agreements with their members and feedback, and shoutouts;
that copy is cached under bench/cache/ too. Then, for every period, it times:

- the stats unit alone: `buddybot.stats.compute` on a plain sqlite3 connection;
- the unit through `Database.read` (one round trip through aiosqlite's thread, moderator check included);
- the chart: a cold matplotlib render and a cached one;
- /stats end to end through FakeDiscord (gateway frame -> discord.py -> cog -> unit -> chart -> callback),
  with the chart cache warm and cold.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import seed
from bench.driver import BenchWorld, median, percentile
from buddybot import chart, stats
from buddybot.models import Actor
from buddybot.storage.db import Database, _configure

EXTRA_VERSION = "1"
AGREEMENTS = 50_000
SHOUTOUTS = 200_000


def stats_db(scale: seed.Scale) -> Path:
    """The seeded community plus agreements, feedback and shoutouts (cached)."""
    path = seed.CACHE / f"stats-{scale.members}-{seed.cache_key(scale)}-{EXTRA_VERSION}.sqlite3"
    if path.exists():
        return path
    base = seed.ensure_seeded(scale)
    for stale in seed.CACHE.glob(f"stats-{scale.members}-*.sqlite3*"):
        stale.unlink()
    tmp = path.with_suffix(".tmp")
    shutil.copyfile(base, tmp)
    started = time.perf_counter()
    conn = sqlite3.connect(tmp, isolation_level=None)
    try:
        conn.create_function("u", 2, seed._mix, deterministic=True)
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN")
        _add_agreements_and_shoutouts(conn, scale)
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
    finally:
        conn.close()
    tmp.rename(path)
    print(f"added agreements and shoutouts in {time.perf_counter() - started:.1f} s -> {path.name}")
    return path


def _add_agreements_and_shoutouts(conn: sqlite3.Connection, scale: seed.Scale) -> None:
    p = {"g": seed.GUILD_ID, "base": seed.MEMBER_BASE, "members": scale.members, "n": AGREEMENTS,
         "shoutouts": SHOUTOUTS, "ch": seed.CHANNELS["general"]}  # fmt: skip
    # Agreements over the last three years: proposed, agreed after a day; 60% completed a week later,
    # 10% cancelled; every agreement has a lead and 1-3 parties. The state changes go through UPDATE,
    # as the bot makes them, so the triggers count milestones and repeat pairs.
    conn.execute(
        """
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :n)
        INSERT INTO agreements (id, guild_id, channel_id, lead_id, state, version, created_at, proposed_at)
        SELECT 5000000 + i, :g, :ch, :base + CAST(:members * u(i, 30) AS INTEGER), 'proposed', 1, at, at
          FROM (SELECT i, strftime('%Y-%m-%dT%H:%M:%S+00:00', '2023-11-25', '+' || (i * 94000000 / :n) || ' seconds')
                       AS at FROM n)
        """, p)  # fmt: skip
    conn.execute(
        """
        INSERT INTO agreement_members (agreement_id, user_id, role, name)
        SELECT id, lead_id, 'lead', 'Lead' FROM agreements WHERE guild_id = :g
        """, p)  # fmt: skip
    conn.execute(
        """
        WITH k(k) AS (VALUES (1), (2), (3))
        INSERT OR IGNORE INTO agreement_members (agreement_id, user_id, role, name)
        SELECT a.id, :base + (a.lead_id - :base + 1 + CAST(u(a.id, 30 + k) * (:members - 1) AS INTEGER)) % :members,
               'party', 'Party'
          FROM agreements a, k
         WHERE a.guild_id = :g AND k <= 1 + a.id % 3
        """, p)  # fmt: skip
    conn.execute(
        "UPDATE agreements SET state = 'agreed', agreed_at = strftime('%Y-%m-%dT%H:%M:%S+00:00', proposed_at, "
        "'+1 day') WHERE guild_id = :g AND id % 10 <> 9",
        p,
    )
    conn.execute(
        "UPDATE agreements SET state = 'completed', closed_at = strftime('%Y-%m-%dT%H:%M:%S+00:00', agreed_at, "
        "'+7 days'), closed_by = lead_id WHERE guild_id = :g AND id % 10 < 6 AND agreed_at < '2026-11-18'",
        p,
    )
    conn.execute(
        "UPDATE agreements SET state = 'cancelled', closed_at = strftime('%Y-%m-%dT%H:%M:%S+00:00', proposed_at, "
        "'+2 days'), closed_by = lead_id, reason = 'Plans changed' WHERE guild_id = :g AND id % 10 = 9",
        p,
    )
    conn.execute(
        """
        INSERT INTO agreement_feedback (agreement_id, user_id, again, answered_at)
        SELECT m.agreement_id, m.user_id, u(m.agreement_id, m.user_id % 7) < 0.8, a.closed_at
          FROM agreement_members m JOIN agreements a ON a.id = m.agreement_id
         WHERE a.guild_id = :g AND a.state = 'completed'
        """, p)  # fmt: skip
    conn.execute(
        """
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :shoutouts)
        INSERT OR IGNORE INTO shoutouts (guild_id, giver_id, receiver_id, message, day, channel_id, created_at)
        SELECT :g, :base + giver, :base + (giver + 1 + CAST(u(i, 41) * (:members - 1) AS INTEGER)) % :members,
               'Thanks for the help!', substr(at, 1, 10), :ch, at
          FROM (SELECT i, CAST(:members * u(i, 40) AS INTEGER) AS giver,
                       strftime('%Y-%m-%dT%H:%M:%S+00:00', '2023-11-25', '+' || (i * 94000000 / :shoutouts) || ' seconds')
                       AS at FROM n)
        """, p)  # fmt: skip


def summary(samples_ns: list[int]) -> str:
    return f"{median(samples_ns) / 1000:9.1f} µs  p99 {percentile(samples_ns, 99) / 1000:9.1f} µs"


def timed(fn: Callable[[], object], runs: int) -> list[int]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - start)
    return samples


async def main(runs: int, source: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stats.sqlite3"
        shutil.copyfile(source, path)
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        _configure(conn)
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("needs", "referrals", "agreements", "shoutouts", "stat_counts")}  # fmt: skip
        print("rows: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
        print(f"{runs} runs per line, after {runs // 10} warm-up runs; p50 and p99 (nearest rank)\n")

        print("stats unit (buddybot.stats.compute, plain sqlite3, every figure, no chart)")
        for period in stats.PERIODS:

            def unit(period: str = period) -> stats.Stats:
                conn.execute("BEGIN")
                try:
                    return stats.compute(conn, seed.GUILD_ID, period, seed.NOW)
                finally:
                    conn.execute("COMMIT")

            timed(unit, runs // 10)
            print(f"  {period:8} {summary(timed(unit, runs))}")
        figures = stats.compute(conn, seed.GUILD_ID, "all", seed.NOW)
        conn.close()
        print(f"  (all time: {figures.requests_posted:,} requests, {figures.referrals:,} referrals, "
              f"{figures.agreements_proposed:,} agreements, {figures.shoutouts:,} shoutouts)")  # fmt: skip

        print("\none round trip: stats.network_stats through Database.read (moderator check included)")
        db = Database(path)
        await db.open()
        mod = Actor(user_id=1, manage_guild=True)
        for period in stats.PERIODS:
            samples = []
            for i in range(runs + runs // 10):
                start = time.perf_counter_ns()
                await stats.network_stats(db, seed.GUILD_ID, mod, period, now=seed.NOW)
                if i >= runs // 10:
                    samples.append(time.perf_counter_ns() - start)
            print(f"  {period:8} {summary(samples)}")
        await db.close()

        print("\nchart PNG (matplotlib Agg, in the caller's thread here; the cog uses asyncio.to_thread)")
        for period in ("month", "all"):
            points = stats.compute(sqlite3.connect(path), seed.GUILD_ID, period, seed.NOW).weekly

            def cold(points: list[stats.WeekPoint] = points) -> bytes:
                chart._render.cache_clear()
                return chart.requests_per_week_png(points)

            def warm(points: list[stats.WeekPoint] = points) -> bytes:
                return chart.requests_per_week_png(points)

            cold_runs = max(20, runs // 10)
            print(
                f"  {period:8} cold ({len(points)} weeks, {cold_runs} runs) {summary(timed(cold, cold_runs))}"
            )
            print(f"  {period:8} cached {summary(timed(warm, runs))}")

        print("\n/stats end to end through FakeDiscord (frame -> parser -> cog -> unit -> chart -> callback)")
        world = await BenchWorld(path).start()
        try:
            for period in stats.PERIODS:
                samples = []
                for i in range(runs + runs // 10):
                    sample, result = await world.timed(world.slash("stats", world.mod, period=period))
                    assert "Network health" in result.text(), result.response
                    if i >= runs // 10:
                        samples.append(sample.done_ns)
                print(f"  {period:8} chart cached {summary(samples)}")
            cold_samples = []
            for _ in range(max(20, runs // 10)):
                chart._render.cache_clear()
                sample, _ = await world.timed(world.slash("stats", world.mod, period="month"))
                cold_samples.append(sample.done_ns)
            print(f"  month    chart cold   {summary(cold_samples)}")
        finally:
            await world.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=300, help="timed runs per line (default 300)")
    parser.add_argument("--quick", action="store_true", help="a tenth of the scale (10,000 requests...)")
    args = parser.parse_args()
    seeded = stats_db(seed.QUICK if args.quick else seed.FULL)  # seed.py runs its own event loop
    asyncio.run(main(args.runs, seeded))
