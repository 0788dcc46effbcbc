"""How evenly /need spreads its pings: 1,000 requests over 50 equally eligible members.

Runs the real domain code (buddybot.referrals: open_need -> matching -> ping counters, record_post,
expire_due) on a temporary SQLite database with a simulated clock, then prints the Gini coefficient
of ping counts (goal <= 0.15) and the most pings any member got in one day (goal <= 2).

    .venv/bin/python bench/fairness.py [--requests 1000] [--members 50] [--max-pings 3] [--per-day 30]

Why 30 requests a day by default: each request pings max_pings members, so 50 members share
per_day * 3 pings a day. At 40 a day that is 120 pings, 2.4 per member: by pigeonhole someone gets
three in a day, whatever the ranking. 30 a day (90 pings, 1.8 each) is the busiest rate at which
"at most 2 a day" is possible at all, so it is the hardest fair test of the ranking.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from buddybot import referrals
from buddybot.models import utc_iso
from buddybot.storage import config as config_sql
from buddybot.storage import registry as registry_sql
from buddybot.storage.db import Database

GUILD = 1
SKILL = "bookkeeping"
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # a winter Monday: Europe/London is UTC
REQUESTERS = 10


@dataclass(frozen=True)
class Fairness:
    requests: int
    pings: Counter[int]  # member -> pings over the whole run
    busiest_day: int  # most pings one member got in one (guild-local) day
    seconds: float

    @property
    def gini(self) -> float:
        return gini(list(self.pings.values()))


def gini(values: list[int]) -> float:
    """0 = everyone got the same number of pings; 1 = one member got them all."""
    if not values or sum(values) == 0:
        return 0.0
    n, mean = len(values), sum(values) / len(values)
    return sum(abs(a - b) for a in values for b in values) / (2 * n * n * mean)


def _seed(conn: sqlite3.Connection, members: int, max_pings: int, now: str) -> None:
    config_sql.update_config(conn, GUILD, {"max_pings": max_pings})
    for user_id in range(1, members + 1):
        registry_sql.upsert_profile(
            conn, GUILD, user_id, {"business": f"Books {user_id}", "area": "Town"}, now
        )
        registry_sql.add_offer(conn, GUILD, user_id, SKILL, None, now)


def _pings_per_day(conn: sqlite3.Connection) -> tuple[Counter[int], int]:
    totals = Counter(
        dict(conn.execute("SELECT user_id, count(*) FROM need_pings GROUP BY user_id").fetchall())
    )
    busiest = conn.execute(
        "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM need_pings GROUP BY user_id, substr(pinged_at, 1, 10))"
    ).fetchone()[0]
    return totals, busiest


async def simulate(
    requests: int = 1000, members: int = 50, max_pings: int = 3, per_day: int = 30, db_path: str | None = None
) -> Fairness:
    """Play `requests` /need requests through the domain, `per_day` a day between 08:00 and 18:00."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(db_path or Path(tmp) / "fairness.sqlite3")
        await db.open()
        try:
            await db.write(_seed, members, max_pings, utc_iso(START))
            step = timedelta(hours=10) / per_day
            message_id = 10_000
            for i in range(requests):
                day, slot = divmod(i, per_day)
                now = START + timedelta(days=day) + step * slot
                if slot == 0:
                    await referrals.expire_due(db, now=now)  # yesterday's "today" requests end
                requester = members + 1 + i % REQUESTERS
                opened = await referrals.open_need(db, GUILD, requester, skill=SKILL, when="today", now=now)
                message_id += 1
                await referrals.record_post(db, GUILD, opened.state.need.id, 500, message_id, None)
            totals, busiest = await db.read(_pings_per_day)
        finally:
            await db.close()
    for user_id in range(1, members + 1):
        totals.setdefault(user_id, 0)
    return Fairness(
        requests=requests, pings=totals, busiest_day=busiest, seconds=time.perf_counter() - started
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--max-pings", type=int, default=3)
    parser.add_argument("--per-day", type=int, default=30)
    args = parser.parse_args(argv)
    result = asyncio.run(simulate(args.requests, args.members, args.max_pings, args.per_day))
    counts = sorted(result.pings.values())
    print(
        f"{result.requests} requests, {args.members} members, max_pings {args.max_pings}, "
        f"{args.per_day} requests/day ({result.seconds:.2f} s)"
    )
    print(f"pings per member: min {counts[0]}, max {counts[-1]}, total {sum(counts)}")
    print(f"gini coefficient of ping counts: {result.gini:.4f} (goal <= 0.15)")
    print(f"most pings one member got in one day: {result.busiest_day} (goal <= 2)")
    ok = result.gini <= 0.15 and result.busiest_day <= 2
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
