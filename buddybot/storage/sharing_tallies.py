"""SQL for give and take (units lent and borrowed per member) and the /stats counters of sharing."""

from __future__ import annotations

import sqlite3


# -- give and take -----------------------------------------------------------------------------------------
def tally(conn: sqlite3.Connection, guild_id: int, user_id: int, role: str, unit: str, delta: int) -> None:
    conn.execute(
        "INSERT INTO share_tallies (guild_id, user_id, role, unit, value) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (guild_id, user_id, role, unit) DO UPDATE SET value = share_tallies.value + excluded.value",
        (guild_id, user_id, role, unit, delta),
    )


def tallies(conn: sqlite3.Connection, guild_id: int, user_id: int) -> dict[tuple[str, str], int]:
    rows = conn.execute(
        "SELECT role, unit, value FROM share_tallies WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
    ).fetchall()
    return {(r[0], r[1]): r[2] for r in rows}


def bump_stat(
    conn: sqlite3.Connection, guild_id: int, periods: list[tuple[str, str]], metric: str, key: str, delta: int
) -> None:
    """Add `delta` to a /stats counter in each (kind, start) period; keyed counters keep only their latest
    period of each kind (as the referral roll-ups do), so their number is bounded by the keys."""
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


def stat_values(
    conn: sqlite3.Connection, guild_id: int, kind: str, start: str, metrics: tuple[str, ...]
) -> dict[str, int]:
    marks = ", ".join("?" for _ in metrics)
    found = dict(
        conn.execute(
            f"SELECT metric, value FROM stat_counts WHERE guild_id = ? AND metric IN ({marks}) AND key = '' "
            "AND kind = ? AND start = ?",
            (guild_id, *metrics, kind, start),
        ).fetchall()
    )
    return {m: found.get(m, 0) for m in metrics}
