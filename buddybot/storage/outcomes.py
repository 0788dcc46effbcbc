"""SQL for referral outcomes (won / didn't happen, with a private value) and the counts people see."""

from __future__ import annotations

import sqlite3
from typing import Any

_REFERRAL = (
    "SELECT r.id, r.guild_id, r.need_id, r.from_id, r.to_id, r.skill, r.created_at, r.outcome, r.outcome_at, "
    "r.value_minor, r.currency, n.channel_id, n.message_id, n.thread_id "
    "FROM referrals r JOIN needs n ON n.id = r.need_id"
)


def get(conn: sqlite3.Connection, guild_id: int, referral_id: int) -> Any:
    return conn.execute(f"{_REFERRAL} WHERE r.id = ? AND r.guild_id = ?", (referral_id, guild_id)).fetchone()


def report(
    conn: sqlite3.Connection,
    guild_id: int,
    referral_id: int,
    outcome: str,
    value_minor: int | None,
    currency: str | None,
    now: str,
) -> bool:
    """Record the outcome once: of two racing reports exactly one gets True."""
    row = conn.execute(
        "UPDATE referrals SET outcome = ?, outcome_at = ?, value_minor = ?, currency = ? "
        "WHERE id = ? AND guild_id = ? AND outcome IS NULL RETURNING id",
        (outcome, now, value_minor, currency, referral_id, guild_id),
    ).fetchone()
    return row is not None


def given_and_received(
    conn: sqlite3.Connection, guild_id: int, user_id: int, limit: int
) -> tuple[list, list]:
    given = conn.execute(
        f"{_REFERRAL} WHERE r.guild_id = ? AND r.from_id = ? ORDER BY r.created_at DESC, r.id DESC LIMIT ?",
        (guild_id, user_id, limit),
    ).fetchall()
    received = conn.execute(
        f"{_REFERRAL} WHERE r.guild_id = ? AND r.to_id = ? ORDER BY r.created_at DESC, r.id DESC LIMIT ?",
        (guild_id, user_id, limit),
    ).fetchall()
    return given, received


def counts_for(conn: sqlite3.Connection, guild_id: int, user_id: int) -> tuple[int, int, int]:
    """(referrals given, received, received and won) by one member, from the giver/receiver indexes."""
    given = conn.execute(
        "SELECT count(*) FROM referrals WHERE guild_id = ? AND from_id = ?", (guild_id, user_id)
    ).fetchone()[0]
    received, won = conn.execute(
        "SELECT count(*), COALESCE(sum(CASE WHEN outcome = 'won' THEN 1 ELSE 0 END), 0) "
        "FROM referrals WHERE guild_id = ? AND to_id = ?",
        (guild_id, user_id),
    ).fetchone()
    return given, received, won


# -- /stats (bounded by the period through the (guild_id, time) indexes) ---------------------------------
def outcomes_between(conn: sqlite3.Connection, guild_id: int, start: str, end: str) -> list[Any]:
    """Outcomes reported in the period, with the referral's pick time (for the days from pick to outcome)."""
    return conn.execute(
        "SELECT outcome, created_at, outcome_at, value_minor, currency FROM referrals "
        "WHERE guild_id = ? AND outcome_at >= ? AND outcome_at < ?",
        (guild_id, start, end),
    ).fetchall()


def nudged_between(conn: sqlite3.Connection, guild_id: int, start: str, end: str) -> tuple[int, int, int]:
    """(nudges sent, requests nudged, of those filled) for requests posted in the period."""
    row = conn.execute(
        "SELECT COALESCE(sum(nudges), 0), count(*), COALESCE(sum(CASE WHEN state = 'filled' THEN 1 ELSE 0 END), 0) "
        "FROM needs WHERE guild_id = ? AND created_at >= ? AND created_at < ? AND nudges > 0",
        (guild_id, start, end),
    ).fetchone()
    return row[0], row[1], row[2]
