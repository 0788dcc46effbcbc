"""SQL for a request's life after posting: the first-answer window, nudges, and how fast members answer."""

from __future__ import annotations

import sqlite3


def set_window(conn: sqlite3.Connection, need_id: int, picks_open_at: str, seed: int) -> None:
    conn.execute(
        "UPDATE needs SET picks_open_at = ?, pick_seed = ? WHERE id = ?", (picks_open_at, seed, need_id)
    )


def open_picks_now(conn: sqlite3.Connection, need_id: int, now: str) -> bool:
    """Move the window's end to now (every pinged member answered); True if it was still ahead."""
    row = conn.execute(
        "UPDATE needs SET picks_open_at = ?, version = version + 1 "
        "WHERE id = ? AND state = 'open' AND picks_open_at > ? RETURNING id",
        (now, need_id, now),
    ).fetchone()
    return row is not None


def unanswered_pings(conn: sqlite3.Connection, need_id: int) -> tuple[int, int]:
    """(members pinged, of them neither volunteered nor declined)."""
    row = conn.execute(
        "SELECT count(*), COALESCE(sum(CASE WHEN p.declined_at IS NULL AND v.user_id IS NULL THEN 1 ELSE 0 END), 0) "
        "FROM need_pings p LEFT JOIN need_volunteers v ON v.need_id = p.need_id AND v.user_id = p.user_id "
        "WHERE p.need_id = ?",
        (need_id,),
    ).fetchone()
    return row[0], row[1]


def volunteer_count(conn: sqlite3.Connection, need_id: int) -> int:
    return conn.execute("SELECT count(*) FROM need_volunteers WHERE need_id = ?", (need_id,)).fetchone()[0]


def count_nudge(conn: sqlite3.Connection, need_id: int, now: str) -> int:
    """One more nudge sent; returns how many this request has had."""
    row = conn.execute(
        "UPDATE needs SET nudges = nudges + 1, nudged_at = COALESCE(nudged_at, ?) WHERE id = ? RETURNING nudges",
        (now, need_id),
    ).fetchone()
    return row[0]


def record_answer(conn: sqlite3.Connection, guild_id: int, user_id: int, seconds: int) -> None:
    """A member volunteered `seconds` after the request was posted (running totals, no history read)."""
    conn.execute(
        "INSERT INTO responder_speed (guild_id, user_id, answers, seconds_total) VALUES (?, ?, 1, ?) "
        "ON CONFLICT (guild_id, user_id) DO UPDATE SET answers = responder_speed.answers + 1, "
        "seconds_total = responder_speed.seconds_total + excluded.seconds_total",
        (guild_id, user_id, seconds),
    )


def fastest_decile_size(conn: sqlite3.Connection, guild_id: int) -> int:
    """How many members make the fastest tenth of responders (rounded up): a count, no sort."""
    responders = conn.execute(
        "SELECT count(*) FROM responder_speed WHERE guild_id = ? AND answers > 0", (guild_id,)
    ).fetchone()[0]
    return (responders + 9) // 10


# -- the fastest decile's share in /stats, counted at pick time (so /stats never reads the period's rows) ---
def fast_threshold(conn: sqlite3.Connection, guild_id: int, today: str) -> float | None:
    """The slowest mean answer time (seconds) still inside the fastest tenth of responders. Recomputed at
    most once a day per guild (one sort of the guild's responders) and kept in `meta`."""
    key = f"fast_threshold:{guild_id}"
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    day, _, stored = (row[0] if row else "").partition(" ")
    if day == today:
        return float(stored) if stored else None
    size = fastest_decile_size(conn, guild_id)
    threshold = None
    if size:
        found = conn.execute(
            "SELECT CAST(seconds_total AS REAL) / answers FROM responder_speed WHERE guild_id = ? AND answers > 0 "
            "ORDER BY 1 LIMIT 1 OFFSET ?",
            (guild_id, size - 1),
        ).fetchone()
        threshold = float(found[0]) if found else None
    value = f"{today} {'' if threshold is None else repr(threshold)}"
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
    return threshold


def is_fast_responder(conn: sqlite3.Connection, guild_id: int, user_id: int, today: str) -> bool:
    threshold = fast_threshold(conn, guild_id, today)
    if threshold is None:
        return False
    row = conn.execute(
        "SELECT CAST(seconds_total AS REAL) / answers FROM responder_speed "
        "WHERE guild_id = ? AND user_id = ? AND answers > 0",
        (guild_id, user_id),
    ).fetchone()
    return row is not None and float(row[0]) <= threshold
