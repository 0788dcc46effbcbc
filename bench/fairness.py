"""How evenly /need spreads its pings, and who wins referrals with and without the first-answer window.

Part 1, pings: 1,000 requests over 50 equally eligible members.

Runs the real domain code (buddybot.referrals: open_need -> matching -> ping counters, record_post,
expire_due) on a temporary SQLite database with a simulated clock, then prints the Gini coefficient
of ping counts (goal <= 0.15) and the most pings any member got in one day (goal <= 2).

    .venv/bin/python bench/fairness.py [--requests 1000] [--members 50] [--max-pings 3] [--per-day 30]

Why 30 requests a day by default: each request pings max_pings members, so 50 members share
per_day * 3 pings a day. At 40 a day that is 120 pings, 2.4 per member: by pigeonhole someone gets
three in a day, whatever the ranking. 30 a day (90 pings, 1.8 each) is the busiest rate at which
"at most 2 a day" is possible at all, so it is the hardest fair test of the ranking.

Part 2, the first-answer window (`--window-requests`, default 2,000 per window): members answer at very
different speeds (10% within a minute, the others after an exponential delay with a median of 20 minutes);
each request pings 5, each volunteers with probability 0.6, and the requester picks the first volunteer
listed as soon as the menu opens. Everything goes through the domain (open_need, volunteer, current_state,
pick) with `pitch_window_minutes` set to 0, 15, 30 and 60; the figure is the fastest decile's share of the
referrals won (goal at the default 30 minutes: <= 15%, i.e. 1.5x their 10% share).
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

import math
import random

from buddybot import need_jobs, referrals
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


# -- part 2: the first-answer window --------------------------------------------------------------------------
WINDOWS = (0, 15, 30, 60)
FAST_SHARE, FAST_WITHIN = 0.1, 60.0  # 10% of members answer within a minute
SLOW_MEDIAN = 20 * 60.0  # the others: exponential, median 20 minutes
PINGED, VOLUNTEER_P = 5, 0.6


@dataclass(frozen=True)
class WindowResult:
    window: int
    requests: int
    referrals: int
    to_fast: int

    @property
    def share(self) -> float:
        return self.to_fast / self.referrals if self.referrals else 0.0


def _delay(rng: random.Random, fast: bool) -> float:
    if fast:
        return rng.uniform(0, FAST_WITHIN)
    return rng.expovariate(math.log(2) / SLOW_MEDIAN)


async def simulate_window(
    window: int, requests: int = 2000, members: int = 50, seed: int = 12, db_path: str | None = None
) -> WindowResult:
    """Requests an hour apart; each is filled by the requester picking the first volunteer listed."""
    assert need_jobs  # the request's jobs (menu opening, nudges, expiry) must be registered
    rng = random.Random(seed)
    fast = set(rng.sample(range(1, members + 1), int(members * FAST_SHARE)))  # spread over the ranking
    won_by_fast = referrals_made = 0
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(db_path or Path(tmp) / "window.sqlite3")
        await db.open()
        try:
            await db.write(_seed, members, PINGED, utc_iso(START))
            await db.write(
                config_sql.update_config, GUILD, {"pitch_window_minutes": window, "daily_need_limit": 1000}
            )
            for i in range(requests):
                posted = START + timedelta(hours=i)
                requester = members + 1 + i % REQUESTERS
                opened = await referrals.open_need(
                    db, GUILD, requester, skill=SKILL, when="next week", now=posted
                )
                need_id = opened.state.need.id
                await referrals.record_post(db, GUILD, need_id, 500, 10_000 + i, None)
                answers = sorted(
                    (_delay(rng, user in fast), user) for user in opened.pinged if rng.random() < VOLUNTEER_P
                )
                if not answers:
                    continue
                # The menu opens when the window ends, or when the last pinged member answers if all do.
                opens = posted + timedelta(minutes=window)
                if len(answers) == len(opened.pinged):
                    opens = min(opens, posted + timedelta(seconds=answers[-1][0]))
                pick_at = max(opens, posted + timedelta(seconds=answers[0][0]))
                for delay, user in answers:
                    at = posted + timedelta(seconds=delay)
                    if at > pick_at:
                        break
                    await referrals.volunteer(db, GUILD, need_id, user, f"m{user}", now=at)
                state = await referrals.current_state(db, GUILD, need_id, now=pick_at)
                first = state.volunteers[0].user_id
                await referrals.pick(db, GUILD, need_id, requester, first, now=pick_at)
                referrals_made += 1
                won_by_fast += first in fast
        finally:
            await db.close()
    return WindowResult(window, requests, referrals_made, won_by_fast)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--max-pings", type=int, default=3)
    parser.add_argument("--per-day", type=int, default=30)
    parser.add_argument("--window-requests", type=int, default=2000, help="requests per window (0: skip)")
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
    if args.window_requests:
        print(
            f"\nfirst-answer window: {args.window_requests} requests per window, {args.members} members "
            f"(10% answer within a minute, the rest exponential with a median of 20 min), "
            f"{PINGED} pinged, each volunteers with p={VOLUNTEER_P}; the requester picks the first listed"
        )
        for window in WINDOWS:
            w = asyncio.run(simulate_window(window, args.window_requests, args.members))
            print(
                f"window {window:>2} min: fastest decile won {w.to_fast} of {w.referrals} referrals = "
                f"{w.share:.1%}" + (" (goal <= 15%)" if window == 30 else "")
            )
            if window == 30:
                ok = ok and w.share <= 0.15
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
