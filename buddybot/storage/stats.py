"""SQL for /stats: reads the trigger-maintained roll-ups (stat_counts) by primary key or its top index.

Every query here touches a bounded number of index entries: a handful of counters, five rows per
top-five list, one row per duration bucket, one per week charted. Nothing scans needs or referrals.
"""

from __future__ import annotations

import sqlite3

SCALARS = (
    "profiles", "needs_posted", "needs_filled", "needs_expired", "referrals",
    "agr_proposed", "agr_agreed", "agr_completed", "agr_cancelled",
    "again_answers", "again_yes", "repeat_ref_pairs", "repeat_agr_pairs", "shoutouts",
    "ref_fast",  # counted in the pick's unit (buddybot/storage/lifecycle.py), not by a trigger
)  # fmt: skip


def keyed(
    conn: sqlite3.Connection, guild_id: int, kind: str, start: str, wanted: dict[str, int | None]
) -> dict[str, list[tuple[str, int]]]:
    """Keyed counters of several metrics of one period in ONE statement (one round trip on PostgreSQL,
    where /stats used to spend one per list): for a metric with a limit, its biggest counters (value
    descending, then key), walked in index order and cut at the limit; for one without (a histogram),
    every non-zero bucket. Each arm of the UNION ALL is its own index walk."""
    arms, params = [], []
    for i, (metric, limit) in enumerate(wanted.items()):
        cut = " ORDER BY value DESC, key LIMIT ?" if limit is not None else ""
        arms.append(
            "SELECT * FROM (SELECT metric, key, value FROM stat_counts INDEXED BY stat_counts_top "
            f"WHERE guild_id = ? AND kind = ? AND start = ? AND metric = ? AND key <> '' AND value > 0{cut}) AS a{i}"
        )
        params += [guild_id, kind, start, metric, *([limit] if limit is not None else [])]
    found: dict[str, list[tuple[str, int]]] = {metric: [] for metric in wanted}
    for metric, key, value in conn.execute(" UNION ALL ".join(arms), params).fetchall():
        found[metric].append((key, value))
    for metric, limit in wanted.items():  # UNION ALL promises no order: restore each list's own
        found[metric].sort(key=lambda kv: (-kv[1], kv[0]) if limit is not None else int(kv[0]))
    return found


def histogram(rows: list[tuple[str, int]]) -> list[tuple[int, int]]:
    """A `keyed` list without a limit as (bucket lower bound in seconds, count), shortest first."""
    return [(int(k), v) for k, v in rows]


def weekly(conn: sqlite3.Connection, guild_id: int, since: str) -> dict[str, tuple[int, int]]:
    """{monday: (posted, filled)} for the weeks from `since` that have any request."""
    rows = conn.execute(
        "SELECT start, metric, value FROM stat_counts "
        "WHERE guild_id = ? AND metric IN ('needs_posted', 'needs_filled') AND key = '' AND kind = 'w' "
        "AND start >= ?",
        (guild_id, since),
    ).fetchall()
    weeks: dict[str, list[int]] = {}
    for week, metric, value in rows:
        weeks.setdefault(week, [0, 0])[metric == "needs_filled"] = value
    return {week: (posted, filled) for week, (posted, filled) in weeks.items()}


def totals(conn: sqlite3.Connection, guild_id: int) -> tuple[int, int, int]:
    """(members with a profile, members offering a skill, distinct skills offered) right now."""
    profiles = conn.execute(
        "SELECT value FROM stat_counts WHERE guild_id = ? AND metric = 'profiles' AND key = '' AND kind = 'a' "
        "AND start = ''",
        (guild_id,),
    ).fetchone()
    found = dict(
        conn.execute(
            "SELECT metric, value FROM stat_totals WHERE guild_id = ? AND metric IN ('offering', 'skills')",
            (guild_id,),
        ).fetchall()
    )
    return (profiles[0] if profiles else 0), found.get("offering", 0), found.get("skills", 0)


# -- counters kept in the event's own unit (features without triggers: sharing, group buys, lifecycle) ----
def bump(
    conn: sqlite3.Connection, guild_id: int, periods: list[tuple[str, str]], metric: str, key: str, delta: int
) -> None:
    """Add `delta` to a counter in each (kind, start) period; keyed counters keep only their latest period
    of each kind (as the trigger-kept roll-ups do), so their number is bounded by the keys."""
    for kind, start in periods:
        conn.execute(
            "INSERT INTO stat_counts (guild_id, kind, start, metric, key, value) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (guild_id, metric, key, kind, start) DO UPDATE SET value = stat_counts.value + excluded.value",
            (guild_id, kind, start, metric, key, delta),
        )
        if key and kind != "a":
            conn.execute(
                "DELETE FROM stat_counts WHERE guild_id = ? AND metric = ? AND key = ? AND kind = ? AND start < ?",
                (guild_id, metric, key, kind, start),
            )


def values(
    conn: sqlite3.Connection, guild_id: int, kind: str, start: str, metrics: tuple[str, ...]
) -> dict[str, int]:
    """Plain (key '') counters of one period, 0 for those never bumped."""
    marks = ", ".join("?" for _ in metrics)
    found = dict(
        conn.execute(
            f"SELECT metric, value FROM stat_counts WHERE guild_id = ? AND metric IN ({marks}) AND key = '' "
            "AND kind = ? AND start = ?",
            (guild_id, *metrics, kind, start),
        ).fetchall()
    )
    return {m: found.get(m, 0) for m in metrics}
