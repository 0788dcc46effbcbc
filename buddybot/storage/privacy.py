"""SQL for /privacy: every row about one member of one guild, and erasing them from it.

EXPORTED lists, table by table, which rows are about the member; NOT_PERSONAL lists the tables that
hold nothing about any member. A test checks that every table of the schema is in one of the two,
so a new table cannot be forgotten here.
"""

from __future__ import annotations

import sqlite3
from typing import Any

# table -> (WHERE clause selecting the member's rows; :g guild, :u user, :k user as text)
EXPORTED: dict[str, str] = {
    "members": "guild_id = :g AND user_id = :u",
    "offers": "guild_id = :g AND user_id = :u",
    "availability": "guild_id = :g AND user_id = :u",
    "needs": "guild_id = :g AND requester_id = :u",
    "need_pings": "guild_id = :g AND user_id = :u",
    "need_volunteers": "guild_id = :g AND user_id = :u",
    "referrals": "guild_id = :g AND (from_id = :u OR to_id = :u)",
    "agreements": "guild_id = :g AND id IN (SELECT agreement_id FROM agreement_members WHERE user_id = :u)",
    "agreement_versions": "agreement_id IN (SELECT m.agreement_id FROM agreement_members m "
    "JOIN agreements a ON a.id = m.agreement_id WHERE m.user_id = :u AND a.guild_id = :g)",
    "agreement_members": "agreement_id IN (SELECT m.agreement_id FROM agreement_members m "
    "JOIN agreements a ON a.id = m.agreement_id WHERE m.user_id = :u AND a.guild_id = :g)",
    "agreement_acceptances": "user_id = :u AND agreement_id IN (SELECT id FROM agreements WHERE guild_id = :g)",
    "agreement_feedback": "user_id = :u AND agreement_id IN (SELECT id FROM agreements WHERE guild_id = :g)",
    "shoutouts": "guild_id = :g AND (giver_id = :u OR receiver_id = :u)",
    "mod_audit": "guild_id = :g AND (actor_id = :u OR (target_type = 'member' AND target_id = :u) "
    "OR (target_type = 'need' AND target_id IN (SELECT id FROM needs WHERE guild_id = :g AND requester_id = :u)))",
    "stat_counts": "guild_id = :g AND metric IN ('ref_given', 'ref_received') AND key = :k",
    "stat_pairs": "guild_id = :g AND (a = :u OR b = :u)",
    "stat_first_volunteer": "guild_id = :g AND need_id IN (SELECT id FROM needs WHERE guild_id = :g "
    "AND requester_id = :u)",
}
NOT_PERSONAL = frozenset({"meta", "guild_config", "skills", "skill_aliases", "erasures", "stat_periods"})

# Rows that link the member to someone else show the other only as an id: these columns of the
# OTHER members' rows (or written by them) are left out of the export.
_OTHERS_TEXT: dict[str, tuple[str, str]] = {
    "agreement_members": ("user_id", "name"),  # another party's display name
    "agreements": ("closed_by", "reason"),  # a cancellation reason someone else wrote
}


def export_rows(conn: sqlite3.Connection, guild_id: int, user_id: int) -> dict[str, list[dict[str, Any]]]:
    params = {"g": guild_id, "u": user_id, "k": str(user_id)}
    tables: dict[str, list[dict[str, Any]]] = {}
    for table, where in EXPORTED.items():
        rows = [dict(r) for r in conn.execute(f"SELECT * FROM {table} WHERE {where}", params)]
        if table in _OTHERS_TEXT:
            owner, text = _OTHERS_TEXT[table]
            for row in rows:
                if row[owner] != user_id:
                    row.pop(text, None)
        tables[table] = rows
    return tables


def table_names(conn: sqlite3.Connection) -> set[str]:
    return {
        r[0]
        for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    }


def new_tombstone(conn: sqlite3.Connection, guild_id: int, now: str) -> int:
    """A fresh anonymous id (negative, unique) that stands in for an erased member in shared history."""
    erasure = conn.execute(
        "INSERT INTO erasures (guild_id, erased_at) VALUES (?, ?) RETURNING id", (guild_id, now)
    ).fetchone()[0]
    return -erasure


def erase_profile(conn: sqlite3.Connection, guild_id: int, user_id: int, now: str) -> bool:
    """Delete profile, offers and availability. A hidden member keeps a bare row so the hide stays in force."""
    conn.execute("DELETE FROM offers WHERE guild_id = ? AND user_id = ?", (guild_id, user_id))
    conn.execute("DELETE FROM availability WHERE guild_id = ? AND user_id = ?", (guild_id, user_id))
    hidden = conn.execute(
        "UPDATE members SET business = NULL, area = NULL, website = NULL, about = NULL, pings = 0, "
        "busy_until = NULL, profile_at = NULL, updated_at = ? WHERE guild_id = ? AND user_id = ? AND hidden = 1 "
        "RETURNING user_id",
        (now, guild_id, user_id),
    ).fetchone()
    if hidden is None:
        conn.execute("DELETE FROM members WHERE guild_id = ? AND user_id = ?", (guild_id, user_id))
    return hidden is not None


def close_open_needs(conn: sqlite3.Connection, guild_id: int, user_id: int, now: str) -> list[sqlite3.Row]:
    """Close the member's open requests (nobody could pick for them any more); returns their posts."""
    return conn.execute(
        "UPDATE needs SET state = 'closed', ended_at = ?, version = version + 1 "
        "WHERE guild_id = ? AND requester_id = ? AND state = 'open' RETURNING id, channel_id, message_id",
        (now, guild_id, user_id),
    ).fetchall()


def anonymise_referrals(conn: sqlite3.Connection, guild_id: int, user_id: int, tombstone: int) -> None:
    """Requests, pings, volunteers and referrals keep their counts; the member becomes `tombstone`."""
    g, u, t = guild_id, user_id, tombstone
    conn.execute("UPDATE needs SET details = NULL, area = NULL WHERE guild_id = ? AND requester_id = ?", (g, u))
    conn.execute("UPDATE needs SET requester_id = ? WHERE guild_id = ? AND requester_id = ?", (t, g, u))
    conn.execute("UPDATE needs SET ended_by = ? WHERE guild_id = ? AND ended_by = ?", (t, g, u))
    conn.execute("UPDATE needs SET picked_id = ? WHERE guild_id = ? AND picked_id = ?", (t, g, u))
    conn.execute("UPDATE need_pings SET user_id = ? WHERE guild_id = ? AND user_id = ?", (t, g, u))
    conn.execute(
        "UPDATE need_volunteers SET user_id = ?, name = 'former member' WHERE guild_id = ? AND user_id = ?", (t, g, u)
    )
    conn.execute("UPDATE referrals SET from_id = ? WHERE guild_id = ? AND from_id = ?", (t, g, u))
    conn.execute("UPDATE referrals SET to_id = ? WHERE guild_id = ? AND to_id = ?", (t, g, u))


ERASED_TITLE = "(erased)"
ERASED_TEXT = "(erased at the author's request)"
CANCEL_REASON = "A member of this agreement erased their BuddyBot data."


def anonymise_agreements(conn: sqlite3.Connection, guild_id: int, user_id: int, tombstone: int,
                         now: str) -> None:
    """Agreements keep their counts; the member becomes `tombstone` and the texts they wrote are erased.

    Unfinished agreements they led, and proposals they were a party to, are cancelled: nobody could
    ever complete or accept them again.
    """
    g, u, t = guild_id, user_id, tombstone
    mine = "SELECT agreement_id FROM agreement_members WHERE user_id = :u"
    conn.execute(
        f"UPDATE agreements SET state = 'cancelled', closed_at = :now, closed_by = :t, reason = :why "
        f"WHERE guild_id = :g AND id IN ({mine}) AND (state IN ('draft', 'proposed') "
        f"OR (state = 'agreed' AND lead_id = :u))",
        {"g": g, "u": u, "t": t, "now": now, "why": CANCEL_REASON},
    )
    conn.execute(
        "UPDATE agreement_versions SET title = ?, scope = ?, terms = ?, fee = ? "
        "WHERE agreement_id IN (SELECT id FROM agreements WHERE guild_id = ? AND lead_id = ?)",
        (ERASED_TITLE, ERASED_TEXT, ERASED_TEXT, ERASED_TEXT, g, u),
    )
    conn.execute("UPDATE agreements SET lead_id = ? WHERE guild_id = ? AND lead_id = ?", (t, g, u))
    conn.execute(
        "UPDATE agreements SET closed_by = ?, reason = CASE WHEN reason IS NULL THEN NULL ELSE ? END "
        "WHERE guild_id = ? AND closed_by = ?",
        (t, ERASED_TEXT, g, u),
    )
    in_guild = "agreement_id IN (SELECT id FROM agreements WHERE guild_id = ?)"
    conn.execute(f"UPDATE agreement_feedback SET note = NULL WHERE user_id = ? AND {in_guild}", (u, g))
    # ON UPDATE CASCADE carries the new id into acceptances and feedback.
    conn.execute(f"UPDATE agreement_members SET user_id = ?, name = NULL WHERE user_id = ? AND {in_guild}", (t, u, g))


def anonymise_shoutouts(conn: sqlite3.Connection, guild_id: int, user_id: int, tombstone: int) -> None:
    conn.execute(
        "UPDATE shoutouts SET giver_id = ?, message = NULL WHERE guild_id = ? AND giver_id = ?",
        (tombstone, guild_id, user_id),
    )
    conn.execute(
        "UPDATE shoutouts SET receiver_id = ?, message = NULL WHERE guild_id = ? AND receiver_id = ?",
        (tombstone, guild_id, user_id),
    )


def anonymise_stats(conn: sqlite3.Connection, guild_id: int, user_id: int, tombstone: int) -> None:
    """Per-member counters move to the tombstone (totals unchanged); pair history is dropped."""
    conn.execute(
        "UPDATE stat_counts SET key = ? WHERE guild_id = ? AND metric IN ('ref_given', 'ref_received') AND key = ?",
        (str(tombstone), guild_id, str(user_id)),
    )
    conn.execute("DELETE FROM stat_pairs WHERE guild_id = ? AND (a = ? OR b = ?)", (guild_id, user_id, user_id))
