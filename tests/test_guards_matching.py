"""Deterministic performance guards: what timing noise cannot touch, checked on every CI run.

- awaited database calls (round trips) per interaction: at most 2, for every command, autocomplete,
  modal, button and select (a registry test below fails when a new one has no guard here);
- Discord REST round trips to the final answer: at most 2 for every command and component (the strict
  harness counts them), and /need ask's calls: its post (as the answer where it is posted), then the thread;
- the matching query: its plan walks an index in ranking order (no temp B-tree, no scan of offers)
  and its SQLite VM steps stay bounded however many members offer the skill.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import date

import pytest

from buddybot.storage.db import Database
from buddybot.testing.vm_steps import vm_steps

pytestmark = pytest.mark.usefixtures("no_first_answer_window")  # the window: test_lifecycle.py


# -- matching: plan and VM steps ------------------------------------------------------------------------
GUILD = 1
WINDOW = (date(2026, 11, 30), date(2026, 12, 6))


async def _matching_db(path, offerers: int, *, windows: str = "none") -> None:
    """`offerers` members offer plumbing, in 50 areas. windows: "none" (nobody has a capacity window),
    "elsewhere" (everyone has one, later than WINDOW), "all" (everyone is available in WINDOW)."""
    db = Database(path)
    await db.open()
    await db.close()
    with closing(sqlite3.connect(path)) as conn, conn:
        now = "2026-11-25T10:00:00+00:00"
        conn.executemany(
            "INSERT INTO members (guild_id, user_id, business, area, pings, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, 1, ?, ?)",
            [(GUILD, 1000 + i, f"Biz {i}", f"Area {i % 50}", now, now) for i in range(offerers + 1)],
        )
        if windows != "none":
            start, end = (
                ("2026-12-14", "2026-12-20") if windows == "elsewhere" else ("2026-11-30", "2026-12-06")
            )
            conn.executemany(
                "INSERT INTO availability (guild_id, user_id, start_date, end_date, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [(GUILD, 1000 + i, start, end, now) for i in range(1, offerers + 1)],
            )
        conn.executemany(
            "INSERT INTO offers (guild_id, user_id, skill, created_at) VALUES (?, ?, 'plumbing', ?)",
            [(GUILD, 1000 + i, now) for i in range(1, offerers + 1)],
        )
        conn.execute("ANALYZE")


def _vm_steps(path, *, area: str | None) -> tuple[int, list[tuple[int, int]]]:
    from buddybot.storage import referrals as sql

    with closing(sqlite3.connect(path)) as conn:
        return vm_steps(
            conn,
            lambda: sql.match(
                conn,
                guild_id=GUILD,
                skill="plumbing",
                start=WINDOW[0],
                end=WINDOW[1],
                area=area,
                requester_id=1000,
                need_id=0,
                limit=5,
            ),
        )


async def test_matching_plan_walks_the_ranking_index_without_sorting(tmp_path) -> None:
    from buddybot.storage import referrals as sql

    path = tmp_path / "m.sqlite3"
    await _matching_db(path, 50)
    with closing(sqlite3.connect(path)) as conn:
        sql._functions(conn)
        params = sql.match_params(
            guild_id=GUILD,
            skill="plumbing",
            start=WINDOW[0],
            end=WINDOW[1],
            area="Area 3",
            requester_id=1000,
            need_id=0,
            limit=5,
        )
        plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql.MATCH_SQL, params)]
    assert not [p for p in plan if "TEMP B-TREE" in p], plan
    assert not [p for p in plan if p.startswith(("SCAN o", "SCAN offers"))], plan
    assert any("offers_by_rank" in p for p in plan), plan


@pytest.mark.parametrize(
    ("windows", "area"),
    [
        ("none", None),
        ("none", "Area 3"),
        ("elsewhere", None),
        ("elsewhere", "Area 3"),
        ("all", "Nowhere Town"),
    ],
    ids=[
        "nobody available",
        "nobody available, area",
        "windows elsewhere",
        "windows elsewhere, area",
        "everyone available but nobody in the area",
    ],
)
async def test_matching_vm_steps_do_not_grow_with_the_offerers_of_the_skill(tmp_path, area, windows) -> None:
    """The rare-candidate cases: the cost must not be a walk over every offerer of the skill."""
    small, large = tmp_path / "small.sqlite3", tmp_path / "large.sqlite3"
    await _matching_db(small, 100, windows=windows)
    await _matching_db(large, 2_000, windows=windows)
    small_steps, small_found = _vm_steps(small, area=area)
    large_steps, large_found = _vm_steps(large, area=area)
    assert len(small_found) == len(large_found) == 5
    assert large_steps <= 2 * small_steps, (
        f"matching costs {small_steps:,} VM steps with 100 offerers and {large_steps:,} with 2,000 "
        f"(windows {windows}, area {area}): an arm walks every offerer of the skill looking for a rare kind of "
        "candidate (see bench/RESULTS.md, the slowest matching case)"
    )
