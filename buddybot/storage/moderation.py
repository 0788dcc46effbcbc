"""SQL for moderator actions: the audit log, hiding members, removing needs."""

from __future__ import annotations

import sqlite3

from buddybot.models import Record
from buddybot.storage import directory as directory_sql


class AuditEntry(Record):
    id: int
    actor_id: int
    action: str
    target_type: str
    target_id: int | None
    reason: str | None
    created_at: str


def audit(
    conn: sqlite3.Connection,
    guild_id: int,
    actor_id: int,
    action: str,
    target_type: str,
    target_id: int | None,
    reason: str | None,
    now: str,
) -> int:
    return conn.execute(
        "INSERT INTO mod_audit (guild_id, actor_id, action, target_type, target_id, reason, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (guild_id, actor_id, action, target_type, target_id, reason, now),
    ).fetchone()[0]


def recent_audit(conn: sqlite3.Connection, guild_id: int, limit: int = 20) -> list[AuditEntry]:
    rows = conn.execute(
        "SELECT id, actor_id, action, target_type, target_id, reason, created_at FROM mod_audit "
        "WHERE guild_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
        (guild_id, limit),
    ).fetchall()
    return [AuditEntry(**dict(r)) for r in rows]


def hide(conn: sqlite3.Connection, guild_id: int, user_id: int, now: str) -> bool:
    """Hide a member (a row is created for members without a profile yet); True if they were visible."""
    row = conn.execute(
        "INSERT INTO members (guild_id, user_id, hidden, created_at, updated_at) VALUES (?, ?, 1, ?, ?) "
        "ON CONFLICT (guild_id, user_id) DO UPDATE SET hidden = 1, updated_at = excluded.updated_at "
        "WHERE members.hidden = 0 RETURNING user_id",
        (guild_id, user_id, now, now),
    ).fetchone()
    if row is not None:
        directory_sql.sync_member(conn, guild_id, user_id)  # unlisted from /find and its total
    return row is not None


def unhide(conn: sqlite3.Connection, guild_id: int, user_id: int, now: str) -> bool:
    row = conn.execute(
        "UPDATE members SET hidden = 0, updated_at = ? WHERE guild_id = ? AND user_id = ? AND hidden = 1 "
        "RETURNING user_id",
        (now, guild_id, user_id),
    ).fetchone()
    if row is not None:
        directory_sql.sync_member(conn, guild_id, user_id)
    return row is not None


def remove_need(conn: sqlite3.Connection, guild_id: int, need_id: int, actor_id: int, now: str) -> bool:
    """Mark a need removed, once, whatever its state; False when there is no such need or it already was."""
    row = conn.execute(
        "UPDATE needs SET state = 'removed', ended_at = ?, ended_by = ?, version = version + 1 "
        "WHERE id = ? AND guild_id = ? AND state <> 'removed' RETURNING id",
        (now, actor_id, need_id, guild_id),
    ).fetchone()
    return row is not None


def need_state(conn: sqlite3.Connection, guild_id: int, need_id: int) -> str | None:
    row = conn.execute(
        "SELECT state FROM needs WHERE id = ? AND guild_id = ?", (need_id, guild_id)
    ).fetchone()
    return row[0] if row else None
