"""Storage-level measurements through plain sqlite3: the matching query against a reference, /find's
directory query against the single sorted query it replaced, /stats figures.

The reference for matching is the cheapest query that could possibly answer "who are the best
`limit` candidates for this skill": walk an index stored in ranking order (offers_by_rank), join
members, stop after `limit` rows. No temp B-tree, no scan of offers. Matching is held to 2x its p99.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections.abc import Callable
from datetime import date
from pathlib import Path
from time import perf_counter_ns
from typing import Any

from bench.driver import median, percentile
from bench.measure import Series, sync_rounds
from bench.seed import (
    AREAS,
    GUILD_ID,
    MEMBER_BASE,
    NEXT_WEEK,
    NOW,
    Scale,
    ranked_skills,
    worst_skill,
    zipf_rank,
)
from buddybot.testing.vm_steps import vm_steps

REFERENCE_SQL = """
SELECT o.user_id FROM offers AS o INDEXED BY offers_by_rank
  JOIN members AS m ON m.guild_id = o.guild_id AND m.user_id = o.user_id
 WHERE o.guild_id = :guild AND o.skill = :skill AND m.hidden = 0 AND m.pings = 1
 ORDER BY o.pings_30d, o.last_pinged_at, o.user_id
 LIMIT :limit
"""
WINDOW = (date.fromisoformat(NEXT_WEEK[0]), date.fromisoformat(NEXT_WEEK[1]))
LIMIT = 5


def connect(path: Path) -> sqlite3.Connection:
    """A plain connection configured like the bot's (read-only: measurements never write)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 5000")
    return conn


def match_args(skill: str, member: int, *, area: bool | str) -> dict[str, Any]:
    """Arguments for a need by seeded `member`: area True = the member's own, a string = that one."""
    return {
        "guild_id": GUILD_ID,
        "skill": skill,
        "start": WINDOW[0],
        "end": WINDOW[1],
        "area": area if isinstance(area, str) else f"Area {member % AREAS}" if area else None,
        "requester_id": MEMBER_BASE + member,
        "need_id": 0,
        "limit": LIMIT,
    }


def plan(conn: sqlite3.Connection, sql: str, params: dict[str, Any]) -> list[str]:
    return [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]


def plan_problems(lines: list[str]) -> list[str]:
    """What the goal forbids: a temp B-tree (a sort), or a scan of offers."""
    return [ln for ln in lines if "TEMP B-TREE" in ln or ln.startswith(("SCAN o", "SCAN offers"))]


def matching(path: Path, scale: Scale, *, rounds: int, per_round: int, worst_runs: int) -> dict[str, Any]:
    from buddybot.storage import referrals as sql

    conn = connect(path)
    names = ranked_skills(conn, scale.skills)
    rng = random.Random(21)
    total = rounds * per_round
    draws = [
        (names[zipf_rank(rng.random(), scale.skills)], rng.randrange(scale.members), rng.random() < 0.5)
        for _ in range(total)
    ]

    def run_match(i: int) -> object:
        skill, member, area = draws[i]
        return sql.match(conn, **match_args(skill, member, area=area))

    def run_reference(i: int) -> object:
        skill, _, _ = draws[i]
        return conn.execute(REFERENCE_SQL, {"guild": GUILD_ID, "skill": skill, "limit": LIMIT}).fetchall()

    run_match(0), run_reference(0)  # warm
    series: Series = sync_rounds("matching", run_match, run_reference, rounds=rounds, per_round=per_round)
    skill, offerers = worst_skill(conn)
    worst: list[float] = []
    for i in range(worst_runs):
        args = match_args(skill, i * 7 + 3, area=i % 2 == 0)
        t = perf_counter_ns()
        sql.match(conn, **args)
        worst.append((perf_counter_ns() - t) / 1000)
    searched = search_worst(conn, names, sql.match)
    hop = asyncio.run(through_database(path, draws[: rounds * 20], run_match))
    params = sql.match_params(**match_args(skill, 3, area=True))
    sql._functions(conn)
    steps_worst, _ = vm_steps(conn, lambda: conn.execute(sql.MATCH_SQL, params).fetchall())
    typical_skill = names[min(len(names) - 1, 100)]
    steps_typical, _ = vm_steps(
        conn,
        lambda: conn.execute(
            sql.MATCH_SQL, sql.match_params(**match_args(typical_skill, 3, area=True))
        ).fetchall(),
    )
    steps_reference, _ = vm_steps(
        conn,
        lambda: conn.execute(REFERENCE_SQL, {"guild": GUILD_ID, "skill": skill, "limit": LIMIT}).fetchall(),
    )
    match_plan = plan(conn, sql.MATCH_SQL, params)
    reference_plan = plan(conn, REFERENCE_SQL, {"guild": GUILD_ID, "skill": skill, "limit": LIMIT})
    conn.close()
    out = series.summary()
    out.update(
        reference_median_us=out.pop("floor_median_us"),
        reference_p99_us=out.pop("floor_p99_us"),
        worst_skill=skill,
        worst_skill_offerers=offerers,
        worst_median_us=round(median(worst), 1),
        worst_p99_us=round(percentile(worst, 99), 1),
        worst_max_us=round(max(worst), 1),
        worst_searched=searched,
        through_database=hop,
        vm_steps_worst=steps_worst,
        vm_steps_typical=steps_typical,
        vm_steps_reference=steps_reference,
        plan_problems=plan_problems(match_plan),
        reference_plan_problems=plan_problems(reference_plan),
        plan=match_plan,
        reference_plan=reference_plan,
    )
    return out


async def through_database(
    path: Path, draws: list[tuple[str, int, bool]], plain: Callable[[int], object]
) -> dict[str, Any]:
    """The same matching calls as one `Database.read` unit each (aiosqlite's thread hop) vs plain sqlite3."""
    from buddybot.storage import referrals as sql
    from buddybot.storage.db import Database

    db = Database(path)
    await db.open()
    try:
        via, direct, ratios = [], [], []
        for start in range(0, len(draws), 20):
            batch_via, batch_direct = [], []
            for i in range(start, min(start + 20, len(draws))):
                skill, member, area = draws[i]
                args = match_args(skill, member, area=area)
                t = perf_counter_ns()
                plain(i)
                batch_direct.append((perf_counter_ns() - t) / 1000)
                t = perf_counter_ns()
                await db.read(lambda conn, args=args: sql.match(conn, **args))
                batch_via.append((perf_counter_ns() - t) / 1000)
            via += batch_via
            direct += batch_direct
            ratios.append(median(batch_via) / median(batch_direct))
    finally:
        await db.close()
    return {
        "median_us": round(median(via), 1),
        "p99_us": round(percentile(via, 99), 1),
        "plain_median_us": round(median(direct), 1),
        "plain_p99_us": round(percentile(direct, 99), 1),
        "ratio": round(median(ratios), 2),
        "samples": len(via),
    }


LATE_WINDOW = (date(2026, 12, 16), date(2026, 12, 22))  # after every seeded capacity window


def search_worst(conn: sqlite3.Connection, names: list[str], match: Callable[..., object]) -> dict[str, Any]:
    """The slowest matching call over the 20 most offered skills x two windows (next week; a later one
    no capacity window overlaps) x area (none; the member's own; one nobody lives in), best of three runs."""
    slowest: dict[str, Any] = {"us": 0.0}
    for skill in names[:20]:
        for window in (WINDOW, LATE_WINDOW):
            for area in (False, True, "Nowhere Town"):
                args = {**match_args(skill, 3, area=area), "start": window[0], "end": window[1]}
                best = float("inf")
                for _ in range(3):
                    t = perf_counter_ns()
                    match(conn, **args)
                    best = min(best, (perf_counter_ns() - t) / 1000)
                if best > slowest["us"]:
                    slowest = {
                        "us": round(best, 1),
                        "skill": skill,
                        "window": [d.isoformat() for d in window],
                        "area": args["area"] or "none",
                    }
    return slowest


def directory(path: Path, scale: Scale, *, rounds: int, per_round: int) -> dict[str, Any]:
    """/find's first page for the most offered skill (storage.directory.page: tiers over directory-order
    indexes, total from directory_counts) vs the sorted query it replaced; windows today and next week."""
    from buddybot.registry import DIRECTORY_PAGE
    from buddybot.storage import directory as sql

    conn = connect(path)
    skill = ranked_skills(conn, scale.skills)[0]
    windows = [(NOW.date(), NOW.date()), WINDOW]

    def page(i: int) -> object:
        return sql.page(conn, GUILD_ID, skill, *windows[i % 2], DIRECTORY_PAGE)

    def sorted_query(i: int) -> object:
        return conn.execute(
            sql.SORTED_DIRECTORY_SQL, sql.params(GUILD_ID, skill, *windows[i % 2], DIRECTORY_PAGE)
        ).fetchall()

    page(0), sorted_query(0)  # warm
    same = all(
        [e.user_id for e in page(i)[0]] == [r[0] for r in sorted_query(i)]
        for i in range(2)  # type: ignore[index]
    )
    out = sync_rounds("directory", page, sorted_query, rounds=rounds, per_round=per_round).summary()
    params = sql.params(GUILD_ID, skill, *WINDOW, DIRECTORY_PAGE)
    steps, _ = vm_steps(conn, lambda: page(1))
    sorted_steps, _ = vm_steps(conn, lambda: sorted_query(1))
    query_plan = plan(conn, sql.DIRECTORY_SQL, params)
    listed = sql.total(conn, GUILD_ID, skill)
    conn.close()
    out.update(
        sorted_median_us=out.pop("floor_median_us"),
        sorted_p99_us=out.pop("floor_p99_us"),
        skill=skill,
        listed=listed,
        same_page=same,
        vm_steps=steps,
        vm_steps_sorted=sorted_steps,
        plan=query_plan,
    )
    return out


def stats_figures(path: Path, *, rounds: int, per_round: int) -> dict[str, Any]:
    """buddybot.stats.compute (every figure /stats shows, without the chart) per period, plain sqlite3."""
    from buddybot import stats

    conn = connect(path)
    results: dict[str, Any] = {}
    for period in stats.PERIODS:

        def figures(_i: int, period: str = period) -> object:
            conn.execute("BEGIN")
            try:
                return stats.compute(conn, GUILD_ID, period, NOW)
            finally:
                conn.execute("COMMIT")

        def floor(_i: int) -> object:
            return conn.execute("SELECT 1").fetchone()

        figures(0)
        series = sync_rounds(f"stats {period}", figures, floor, rounds=rounds, per_round=per_round)
        s = series.summary()
        results[period] = {"median_us": s["median_us"], "p99_us": s["p99_us"], "samples": s["samples"]}
    conn.close()
    return results


def chart_render(path: Path, runs: int) -> dict[str, Any]:
    """The PNG /stats attaches, alone (matplotlib Agg)."""
    from buddybot import stats
    from buddybot.chart import requests_per_week_png

    conn = connect(path)
    conn.execute("BEGIN")
    figures = stats.compute(conn, GUILD_ID, "month", NOW)
    conn.execute("COMMIT")
    conn.close()
    requests_per_week_png(figures.weekly)
    times = []
    for _ in range(runs):
        t = perf_counter_ns()
        requests_per_week_png(figures.weekly)
        times.append((perf_counter_ns() - t) / 1000)
    return {"median_us": round(median(times), 1), "p99_us": round(percentile(times, 99), 1), "samples": runs}
