"""SQL for shoutouts: public praise, at most one per giver per member per (guild-local) day."""

from __future__ import annotations

import sqlite3


def reserve(
    conn: sqlite3.Connection,
    guild_id: int,
    giver_id: int,
    receiver_id: int,
    message: str,
    day: str,
    channel_id: int,
    now: str,
) -> int | None:
    """Insert the shoutout; None when this giver already praised this member today."""
    row = conn.execute(
        "INSERT INTO shoutouts (guild_id, giver_id, receiver_id, message, day, channel_id, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (guild_id, giver_id, receiver_id, day) DO NOTHING RETURNING id",
        (guild_id, giver_id, receiver_id, message, day, channel_id, now),
    ).fetchone()
    return row[0] if row else None


def set_posted(conn: sqlite3.Connection, shoutout_id: int, message_id: int) -> None:
    conn.execute("UPDATE shoutouts SET message_id = ? WHERE id = ?", (message_id, shoutout_id))


def discard(conn: sqlite3.Connection, shoutout_id: int) -> None:
    conn.execute("DELETE FROM shoutouts WHERE id = ?", (shoutout_id,))


def received_count(conn: sqlite3.Connection, guild_id: int, user_id: int) -> int:
    return conn.execute(
        "SELECT count(*) FROM shoutouts WHERE guild_id = ? AND receiver_id = ?", (guild_id, user_id)
    ).fetchone()[0]
