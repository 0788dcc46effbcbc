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
_SCALAR_SQL = (
    "SELECT metric, value FROM stat_counts "
    f"WHERE guild_id = ? AND metric IN ({', '.join('?' for _ in SCALARS)}) "
    "AND key = '' AND kind = ? AND start = ?"
)


def scalars(conn: sqlite3.Connection, guild_id: int, kind: str, start: str) -> dict[str, int]:
    found = dict(conn.execute(_SCALAR_SQL, (guild_id, *SCALARS, kind, start)).fetchall())
    return {metric: found.get(metric, 0) for metric in SCALARS}


def top(
    conn: sqlite3.Connection, guild_id: int, kind: str, start: str, metric: str, limit: int = 5
) -> list[tuple[str, int]]:
    """The biggest counters of a keyed metric (skills, members), walked in index order."""
    rows = conn.execute(
        "SELECT key, value FROM stat_counts INDEXED BY stat_counts_top "
        "WHERE guild_id = ? AND kind = ? AND start = ? AND metric = ? AND key <> '' AND value > 0 "
        "ORDER BY value DESC, key LIMIT ?",
        (guild_id, kind, start, metric, limit),
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def histogram(
    conn: sqlite3.Connection, guild_id: int, kind: str, start: str, metric: str
) -> list[tuple[int, int]]:
    """(bucket lower bound in seconds, count), shortest first: at most one row per bucket."""
    rows = conn.execute(
        "SELECT key, value FROM stat_counts INDEXED BY stat_counts_top "
        "WHERE guild_id = ? AND kind = ? AND start = ? AND metric = ? AND key <> '' AND value > 0",
        (guild_id, kind, start, metric),
    ).fetchall()
    return sorted((int(r[0]), r[1]) for r in rows)


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
