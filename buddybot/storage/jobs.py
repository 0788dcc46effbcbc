"""SQL for the jobs table: schedule, claim (conditional UPDATE, so once across processes), finish, prune."""

from __future__ import annotations

import sqlite3
from typing import Any

JOB_COLUMNS = "id, guild_id, kind, ref_id, tag, due_at, state, attempts, lease_until, result"


def schedule(
    conn: sqlite3.Connection, guild_id: int, kind: str, ref_id: int, tag: str, due_at: str, now: str
) -> None:
    """Insert the job, or move its due time while it has not run yet; a job that ran is never revived."""
    conn.execute(
        "INSERT INTO jobs (guild_id, kind, ref_id, tag, due_at, created_at) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (guild_id, kind, ref_id, tag) DO UPDATE SET due_at = excluded.due_at "
        "WHERE jobs.state = 'due'",
        (guild_id, kind, ref_id, tag, due_at, now),
    )


def cancel(conn: sqlite3.Connection, guild_id: int, kind: str, ref_id: int, now: str) -> int:
    """Drop every pending job of this kind for this row (all tags); returns how many."""
    cur = conn.execute(
        "UPDATE jobs SET state = 'dropped', done_at = ? "
        "WHERE guild_id = ? AND kind = ? AND ref_id = ? AND state = 'due'",
        (now, guild_id, kind, ref_id),
    )
    return cur.rowcount


def due(conn: sqlite3.Connection, now: str, limit: int) -> list[Any]:
    return conn.execute(
        f"SELECT {JOB_COLUMNS} FROM jobs WHERE state = 'due' AND due_at <= ? ORDER BY due_at, id LIMIT ?",
        (now, limit),
    ).fetchall()


def expired_leases(conn: sqlite3.Connection, now: str, limit: int) -> list[Any]:
    return conn.execute(
        f"SELECT {JOB_COLUMNS} FROM jobs WHERE state = 'claimed' AND lease_until < ? "
        "ORDER BY lease_until, id LIMIT ?",
        (now, limit),
    ).fetchall()


def claim(conn: sqlite3.Connection, job_id: int, expected_state: str, worker: str, lease_until: str) -> bool:
    """Take the job if it is still in the state we read it in (another process may have been quicker)."""
    row = conn.execute(
        "UPDATE jobs SET state = 'claimed', claimed_by = ?, lease_until = ?, attempts = attempts + 1 "
        "WHERE id = ? AND state = ? RETURNING id",
        (worker, lease_until, job_id, expected_state),
    ).fetchone()
    return row is not None


def store_result(conn: sqlite3.Connection, job_id: int, result: str) -> None:
    conn.execute("UPDATE jobs SET result = ? WHERE id = ?", (result, job_id))


def postpone(conn: sqlite3.Connection, job_id: int, due_at: str, *, failed: bool = False) -> None:
    """Back to 'due' at a later time (quiet hours, or a retry after an error)."""
    conn.execute(
        "UPDATE jobs SET state = 'due', due_at = ?, lease_until = NULL, claimed_by = NULL, result = NULL "
        "WHERE id = ?",
        (due_at, job_id),
    )


def set_final(conn: sqlite3.Connection, job_ids: list[int], state: str, now: str) -> None:
    if not job_ids:
        return
    marks = ", ".join("?" for _ in job_ids)
    conn.execute(
        f"UPDATE jobs SET state = ?, done_at = ?, lease_until = NULL, result = NULL WHERE id IN ({marks})",
        (state, now, *job_ids),
    )


def finish(conn: sqlite3.Connection, job_ids: list[int], now: str) -> int:
    """Mark delivered jobs done (only those still claimed: a re-delivery may have finished them)."""
    if not job_ids:
        return 0
    marks = ", ".join("?" for _ in job_ids)
    cur = conn.execute(
        f"UPDATE jobs SET state = 'done', done_at = ?, lease_until = NULL, result = NULL "
        f"WHERE state = 'claimed' AND id IN ({marks})",
        (now, *job_ids),
    )
    return cur.rowcount


def prune(conn: sqlite3.Connection, before: str, limit: int = 500) -> int:
    """Forget finished jobs older than `before` (a long-running bot must not grow with every job ever run)."""
    cur = conn.execute(
        "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE state IN ('done', 'dropped', 'failed') "
        "AND done_at < ? ORDER BY done_at LIMIT ?)",
        (before, limit),
    )
    return cur.rowcount


def pending(conn: sqlite3.Connection, guild_id: int, kind: str, ref_id: int) -> list[Any]:
    return conn.execute(
        f"SELECT {JOB_COLUMNS} FROM jobs WHERE guild_id = ? AND kind = ? AND ref_id = ? "
        "AND state IN ('due', 'claimed') ORDER BY due_at",
        (guild_id, kind, ref_id),
    ).fetchall()


def guild_timezones(conn: sqlite3.Connection, guild_ids: list[int]) -> dict[int, str]:
    if not guild_ids:
        return {}
    marks = ", ".join("?" for _ in guild_ids)
    rows = conn.execute(
        f"SELECT guild_id, timezone FROM guild_config WHERE guild_id IN ({marks})", tuple(guild_ids)
    ).fetchall()
    return {row[0]: row[1] for row in rows}
