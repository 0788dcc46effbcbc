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


