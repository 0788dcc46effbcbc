"""SQL for member profiles, offers, capacity windows and the skill vocabulary."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

from buddybot.models import DirectoryEntry, Offer, Profile, Window
from buddybot.storage import agreements as agreements_sql
from buddybot.storage import directory as directory_sql
from buddybot.storage import shoutouts as shoutouts_sql


def _profile(row: sqlite3.Row) -> Profile:
    return Profile(
        guild_id=row["guild_id"],
        user_id=row["user_id"],
        business=row["business"],
        area=row["area"],
        website=row["website"],
        about=row["about"],
        pings=bool(row["pings"]),
        hidden=bool(row["hidden"]),
        busy_until=row["busy_until"],
    )


def ensure_member(conn: sqlite3.Connection, guild_id: int, user_id: int, now: str) -> None:
    conn.execute(
        "INSERT INTO members (guild_id, user_id, created_at, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (guild_id, user_id) DO NOTHING",
        (guild_id, user_id, now, now),
    )


def upsert_profile(
    conn: sqlite3.Connection, guild_id: int, user_id: int, fields: dict[str, object], now: str
) -> Profile:
    """Create or update; only the given fields change (an omitted option keeps its old value)."""
    cols = list(fields)
    vals = list(fields.values())
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols)
    row = conn.execute(
        f"INSERT INTO members (guild_id, user_id, {', '.join(cols)}, profile_at, created_at, updated_at) "
        f"VALUES (?, ?, {', '.join('?' for _ in cols)}, ?, ?, ?) "
        f"ON CONFLICT (guild_id, user_id) DO UPDATE SET {updates}, updated_at = excluded.updated_at, "
        "profile_at = COALESCE(members.profile_at, excluded.profile_at) RETURNING *",
        (guild_id, user_id, *vals, now, now, now),
    ).fetchone()
    directory_sql.sync_member(conn, guild_id, user_id)  # the business name orders the directory
    return _profile(row)


def business_taken(conn: sqlite3.Connection, guild_id: int, user_id: int, business_key: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM members WHERE guild_id = ? AND business_key = ? AND user_id <> ? LIMIT 1",
        (guild_id, business_key, user_id),
    ).fetchone()
    return row is not None


def get_profile(conn: sqlite3.Connection, guild_id: int, user_id: int) -> Profile | None:
    row = conn.execute(
        "SELECT * FROM members WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
    ).fetchone()
    return _profile(row) if row else None


def offers_of(conn: sqlite3.Connection, guild_id: int, user_id: int) -> list[Offer]:
    rows = conn.execute(
        "SELECT user_id, skill, details FROM offers WHERE guild_id = ? AND user_id = ? ORDER BY skill",
        (guild_id, user_id),
    ).fetchall()
    return [Offer(user_id=r[0], skill=r[1], details=r[2]) for r in rows]


def windows_of(conn: sqlite3.Connection, guild_id: int, user_id: int, today: date) -> list[Window]:
    rows = conn.execute(
        "SELECT start_date, end_date, slots FROM availability "
        "WHERE guild_id = ? AND user_id = ? AND end_date >= ? ORDER BY start_date",
        (guild_id, user_id, today.isoformat()),
    ).fetchall()
    return [Window(start=r[0], end=r[1], slots=r[2]) for r in rows]


def aliases(conn: sqlite3.Connection, guild_id: int) -> dict[str, str]:
    """The guild's alias table over the shipped one (the guild's own entries win)."""
    rows = conn.execute(
        "SELECT alias, skill FROM skill_aliases WHERE guild_id IN (0, ?) ORDER BY guild_id",
        (guild_id,),
    ).fetchall()
    return {alias: skill for alias, skill in rows}


def resolve_alias(conn: sqlite3.Connection, guild_id: int, skill: str) -> str:
    row = conn.execute(
        "SELECT skill FROM skill_aliases WHERE guild_id IN (0, ?) AND alias = ? "
        "ORDER BY guild_id DESC LIMIT 1",
        (guild_id, skill),
    ).fetchone()
    return row[0] if row else skill


def skill_known(conn: sqlite3.Connection, guild_id: int, skill: str) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM skills WHERE guild_id IN (0, ?) AND name = ?", (guild_id, skill)
        ).fetchone()
        is not None
    )


def skill_names(conn: sqlite3.Connection, guild_id: int) -> list[str]:
    rows = conn.execute("SELECT DISTINCT name FROM skills WHERE guild_id IN (0, ?)", (guild_id,))
    return [r[0] for r in rows]


def add_offer(
    conn: sqlite3.Connection, guild_id: int, user_id: int, skill: str, details: str | None, now: str
) -> tuple[bool, int]:
    """Insert or update one offer; returns (created, how many skills the member now offers)."""
    existed = conn.execute(
        "SELECT 1 FROM offers WHERE guild_id = ? AND user_id = ? AND skill = ?", (guild_id, user_id, skill)
    ).fetchone()
    dir_key, busy_until = directory_sql.member_keys(conn, guild_id, user_id)  # a new offer is born listed
    conn.execute(
        "INSERT INTO offers (guild_id, user_id, skill, details, created_at, dir_key, busy_until) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (guild_id, user_id, skill) DO UPDATE SET details = COALESCE(excluded.details, offers.details)",
        (guild_id, user_id, skill, details, now, dir_key, busy_until),
    )
    conn.execute(
        "INSERT INTO skills (guild_id, name) VALUES (?, ?) ON CONFLICT DO NOTHING", (guild_id, skill)
    )
    if existed is None:
        directory_sql.listed_new(conn, guild_id, user_id, skill, dir_key)
    count = conn.execute(
        "SELECT count(*) FROM offers WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
    ).fetchone()[0]
    return existed is None, count


def remove_offer(conn: sqlite3.Connection, guild_id: int, user_id: int, skill: str) -> bool:
    deleted = conn.execute(
        "DELETE FROM offers WHERE guild_id = ? AND user_id = ? AND skill = ? RETURNING skill, dir_key",
        (guild_id, user_id, skill),
    ).fetchall()
    directory_sql.unlist(conn, guild_id, deleted)
    return bool(deleted)


def directory(
    conn: sqlite3.Connection, guild_id: int, skill: str, start: date, end: date, limit: int
) -> tuple[list[DirectoryEntry], int]:
    """Members offering a skill: explicitly available in the window first, then by business name."""
    return directory_sql.page(conn, guild_id, skill, start, end, limit)


def add_window(
    conn: sqlite3.Connection,
    guild_id: int,
    user_id: int,
    start: date,
    end: date,
    slots: int | None,
    today: date,
    now: str,
) -> None:
    """A new window replaces the windows it overlaps, clears an overlapping /busy, and drops past ones."""
    conn.execute(
        "DELETE FROM availability WHERE guild_id = ? AND user_id = ? "
        "AND (end_date < ? OR (start_date <= ? AND end_date >= ?))",
        (guild_id, user_id, today.isoformat(), end.isoformat(), start.isoformat()),
    )
    conn.execute(
        "INSERT INTO availability (guild_id, user_id, start_date, end_date, slots, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (guild_id, user_id, start.isoformat(), end.isoformat(), slots, now),
    )
    directory_sql.sync_member(conn, guild_id, user_id)  # busy cleared; the window's available_offers rows
    directory_sql.retire_busy(conn, date.fromisoformat(now[:10]) - timedelta(days=1))  # `now` is UTC
    conn.execute(
        "UPDATE members SET busy_until = NULL, updated_at = ? "
        "WHERE guild_id = ? AND user_id = ? AND busy_until >= ?",
        (now, guild_id, user_id, start.isoformat()),
    )


def set_busy(
    conn: sqlite3.Connection, guild_id: int, user_id: int, until: date, today: date, now: str
) -> None:
    """Fully booked until `until`: capacity windows inside that span no longer count."""
    conn.execute(
        "UPDATE members SET busy_until = ?, updated_at = ? WHERE guild_id = ? AND user_id = ?",
        (until.isoformat(), now, guild_id, user_id),
    )
    conn.execute(
        "DELETE FROM availability WHERE guild_id = ? AND user_id = ? AND end_date <= ?",
        (guild_id, user_id, until.isoformat()),
    )
    conn.execute(
        "UPDATE availability SET start_date = ? WHERE guild_id = ? AND user_id = ? AND start_date <= ?",
        ((until + timedelta(days=1)).isoformat(), guild_id, user_id, until.isoformat()),
    )
    directory_sql.sync_member(conn, guild_id, user_id)  # to the busy members' index
    directory_sql.retire_busy(conn, date.fromisoformat(now[:10]) - timedelta(days=1))  # `now` is UTC


def profile_counts(conn: sqlite3.Connection, guild_id: int, user_id: int) -> tuple[int, int]:
    """(shoutouts received, jobs completed: completed agreements the member was lead or party of)."""
    return (
        shoutouts_sql.received_count(conn, guild_id, user_id),
        agreements_sql.jobs_completed(conn, guild_id, user_id),
    )
