"""SQL for /privacy: every row about one member of one guild, and erasing them from it.

EXPORTED lists, table by table, which rows are about the member; NOT_PERSONAL lists the tables that
hold nothing about any member. A test checks that every table of the schema is in one of the two,
so a new table cannot be forgotten here.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from buddybot.storage import dialect
from buddybot.storage import directory as directory_sql

# table -> WHERE clause selecting the member's rows (:g guild, :u user, :k user id as text). Each one
# is answered from an index (tests/test_privacy.py checks the plans), however big the guild is.
_IN_GUILD = "EXISTS (SELECT 1 FROM agreements a WHERE a.id = agreement_id AND a.guild_id = :g)"
_MY_AGREEMENTS = (
    "agreement_id IN (SELECT m.agreement_id FROM agreement_members m JOIN agreements a ON a.id = m.agreement_id "
    "WHERE m.user_id = :u AND a.guild_id = :g)"
)
_MY_NEEDS = "SELECT id FROM needs WHERE guild_id = :g AND requester_id = :u"
EXPORTED: dict[str, str] = {
    "members": "guild_id = :g AND user_id = :u",
    "offers": "guild_id = :g AND user_id = :u",
    "availability": "guild_id = :g AND user_id = :u",
    "available_offers": "guild_id = :g AND user_id = :u",
    "needs": "guild_id = :g AND requester_id = :u",
    "need_pings": "guild_id = :g AND user_id = :u",
    "need_volunteers": "guild_id = :g AND user_id = :u",
    "referrals": f"guild_id = :g AND (to_id = :u OR need_id IN ({_MY_NEEDS}))",
    "agreements": "id IN (SELECT m.agreement_id FROM agreement_members m WHERE m.user_id = :u) AND guild_id = :g",
    "agreement_versions": _MY_AGREEMENTS,
    "agreement_members": _MY_AGREEMENTS,
    "agreement_acceptances": f"user_id = :u AND {_IN_GUILD}",
    "agreement_feedback": f"user_id = :u AND {_IN_GUILD}",
    "shoutouts": "guild_id = :g AND (giver_id = :u OR receiver_id = :u)",
    "mod_audit": "guild_id = :g AND (actor_id = :u OR (target_type = 'member' AND target_id = :u) "
    f"OR (target_type = 'need' AND target_id IN ({_MY_NEEDS})))",
    "stat_counts": "guild_id = :g AND metric IN ('ref_given', 'ref_received', 'share_lent') AND key = :k",
    "stat_pairs": "guild_id = :g AND ((kind IN ('r', 'a') AND a = :u) OR b = :u)",
    "stat_first_volunteer": f"need_id IN ({_MY_NEEDS})",
    "responder_speed": "guild_id = :g AND user_id = :u",
    # group buys: the ones the member organised, and their pledges (erasure: buddybot/storage/groupbuys.py)
    "group_buys": "guild_id = :g AND organiser_id = :u",
    "group_buy_pledges": "guild_id = :g AND user_id = :u",
    # sharing (migration 008)
    "shared_items": "guild_id = :g AND owner_id = :u",
    "loans": "guild_id = :g AND (owner_id = :u OR borrower_id = :u)",
    "loan_waits": "guild_id = :g AND user_id = :u",
    "share_tallies": "guild_id = :g AND user_id = :u",
}
NOT_PERSONAL = frozenset(
    {"meta", "guild_config", "skills", "skill_aliases", "erasures", "stat_periods", "stat_totals",
     "directory_counts",  # listed offerers per skill
     # due work: (kind, row id, due time); the text a job says lives there only until it is delivered
     "jobs"}
)  # fmt: skip

# Rows that link the member to someone else show the other only as an id: these columns of the
# OTHER members' rows (or written by them) are left out of the export.
_OTHERS_TEXT: dict[str, tuple[str, str]] = {
    "agreement_members": ("user_id", "name"),  # another party's display name
    "agreements": ("closed_by", "reason"),  # a cancellation reason someone else wrote
    "loans": ("borrower_id", "note"),  # a borrower's note to the member as owner
}


def export_rows(conn: sqlite3.Connection, guild_id: int, user_id: int) -> dict[str, list[dict[str, Any]]]:
    params = {"g": guild_id, "u": user_id, "k": str(user_id)}
    tables: dict[str, list[dict[str, Any]]] = {}
    for table, where in EXPORTED.items():
        rows = [dict(r) for r in conn.execute(f"SELECT * FROM {table} WHERE {where}", params)]
        if table in _OTHERS_TEXT:
            owner, text = _OTHERS_TEXT[table]
            for row in rows:
                if row[owner] not in (None, user_id):
                    row.pop(text, None)
        tables[table] = rows
    return tables


def table_names(conn: sqlite3.Connection) -> set[str]:
    return dialect.table_names(conn)


_LEFT_BY_ERASURE = {
    "members": "NOT (hidden = 1 AND profile_at IS NULL AND business IS NULL AND business_key IS NULL "
    "AND area IS NULL AND website IS NULL "
    "AND about IS NULL)",  # the bare row that keeps a hidden member hidden
}


def holds_data(conn: sqlite3.Connection, guild_id: int, user_id: int) -> bool:
    """True while anything an erasure removes still names the member (moderation records aside)."""
    params = {"g": guild_id, "u": user_id, "k": str(user_id)}
    for table, where in EXPORTED.items():
        if table == "mod_audit":
            continue
        extra = f" AND {_LEFT_BY_ERASURE[table]}" if table in _LEFT_BY_ERASURE else ""
        if conn.execute(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE {where}{extra})", params).fetchone()[0]:
            return True
    return False


def is_hidden(conn: sqlite3.Connection, guild_id: int, user_id: int) -> bool:
    row = conn.execute(
        "SELECT hidden FROM members WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
    ).fetchone()
    return bool(row and row[0])


def new_tombstone(conn: sqlite3.Connection, guild_id: int, now: str) -> int:
    """A fresh anonymous id (negative, unique) that stands in for an erased member in shared history."""
    erasure = conn.execute(
        "INSERT INTO erasures (guild_id, erased_at) VALUES (?, ?) RETURNING id", (guild_id, now)
    ).fetchone()[0]
    return -erasure


def erase_profile(conn: sqlite3.Connection, guild_id: int, user_id: int, now: str) -> bool:
    """Delete profile, offers and availability. A hidden member keeps a bare row so the hide stays in force."""
    deleted = conn.execute(
        "DELETE FROM offers WHERE guild_id = ? AND user_id = ? RETURNING skill, dir_key", (guild_id, user_id)
    ).fetchall()
    directory_sql.unlist(conn, guild_id, deleted)
    conn.execute("DELETE FROM availability WHERE guild_id = ? AND user_id = ?", (guild_id, user_id))
    conn.execute("DELETE FROM responder_speed WHERE guild_id = ? AND user_id = ?", (guild_id, user_id))
    hidden = conn.execute(
        "UPDATE members SET business = NULL, business_key = NULL, area = NULL, website = NULL, about = NULL, pings = 0, "
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
        "UPDATE needs SET state = 'closed', ended_at = ?, ended_by = requester_id, version = version + 1 "
        "WHERE guild_id = ? AND requester_id = ? AND state = 'open' RETURNING id, channel_id, message_id",
        (now, guild_id, user_id),
    ).fetchall()


def leave_open_needs(conn: sqlite3.Connection, guild_id: int, user_id: int) -> list[int]:
    """Take the member off the volunteer lists of requests still open (nobody could pick them any more).

    Returns those requests, their versions bumped so their posts are redrawn without them. Volunteers of
    ended requests stay (as the placeholder) so the history keeps its counts.
    """
    left = conn.execute(
        "DELETE FROM need_volunteers WHERE guild_id = ? AND user_id = ? "
        "AND need_id IN (SELECT id FROM needs WHERE guild_id = ? AND state = 'open') RETURNING need_id",
        (guild_id, user_id, guild_id),
    ).fetchall()
    need_ids = sorted(r[0] for r in left)
    for need_id in need_ids:
        conn.execute("UPDATE needs SET version = version + 1 WHERE id = ?", (need_id,))
    return need_ids


def anonymise_referrals(conn: sqlite3.Connection, guild_id: int, user_id: int, tombstone: int) -> None:
    """Requests, pings, volunteers and referrals keep their counts; the member becomes `tombstone`.

    `ended_by` stays when someone else (a moderator) closed the request: that is their action, not the
    member's. Call before the requests change hands (the referrals are found through them).
    """
    p = {"g": guild_id, "u": user_id, "t": tombstone}
    conn.execute(f"UPDATE referrals SET from_id = :t WHERE need_id IN ({_MY_NEEDS}) AND from_id = :u", p)
    conn.execute(
        "UPDATE needs SET picked_id = :t WHERE picked_id = :u AND id IN "
        "(SELECT need_id FROM referrals WHERE guild_id = :g AND to_id = :u)",
        p,
    )
    conn.execute("UPDATE referrals SET to_id = :t WHERE guild_id = :g AND to_id = :u", p)
    conn.execute(
        "UPDATE needs SET requester_id = :t, details = NULL, area = NULL, "
        "ended_by = CASE WHEN ended_by = :u THEN :t ELSE ended_by END WHERE guild_id = :g AND requester_id = :u",
        p,
    )
    conn.execute("UPDATE need_pings SET user_id = :t WHERE guild_id = :g AND user_id = :u", p)
    conn.execute(
        "UPDATE need_volunteers SET user_id = :t, name = 'former member' WHERE guild_id = :g AND user_id = :u",
        p,
    )


ERASED_TITLE = "(erased)"
ERASED_TEXT = "(erased at the author's request)"
CANCEL_REASON = "A member of this agreement erased their BuddyBot data."


def anonymise_agreements(
    conn: sqlite3.Connection, guild_id: int, user_id: int, tombstone: int, now: str
) -> None:
    """Agreements keep their counts; the member becomes `tombstone` and the texts they wrote are erased.

    Unfinished agreements they led, and proposals they were a party to, are cancelled: nobody could
    ever complete or accept them again.
    """
    p = {"g": guild_id, "u": user_id, "t": tombstone, "now": now, "why": CANCEL_REASON,
         "title": ERASED_TITLE, "text": ERASED_TEXT}  # fmt: skip
    mine = "id IN (SELECT agreement_id FROM agreement_members WHERE user_id = :u) AND guild_id = :g"
    led = "id IN (SELECT agreement_id FROM agreement_members WHERE user_id = :u AND role = 'lead') AND guild_id = :g"
    conn.execute(
        f"UPDATE agreements SET state = 'cancelled', closed_at = :now, closed_by = :t, reason = :why WHERE {mine} "
        "AND (state IN ('draft', 'proposed') OR (state = 'agreed' AND lead_id = :u))",
        p,
    )
    conn.execute(
        "UPDATE agreement_versions SET title = :title, scope = :text, terms = :text, fee = :text "
        f"WHERE agreement_id IN (SELECT id FROM agreements WHERE {led})",
        p,
    )
    conn.execute(f"UPDATE agreements SET lead_id = :t WHERE {led}", p)
    conn.execute(
        f"UPDATE agreements SET closed_by = :t, reason = CASE WHEN reason IS NULL THEN NULL ELSE :text END "
        f"WHERE {mine} AND closed_by = :u",
        p,
    )
    conn.execute(f"UPDATE agreement_feedback SET note = NULL WHERE user_id = :u AND {_IN_GUILD}", p)
    # ON UPDATE CASCADE carries the new id into acceptances and feedback.
    conn.execute(
        f"UPDATE agreement_members SET user_id = :t, name = NULL WHERE user_id = :u AND {_IN_GUILD}", p
    )


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
    conn.execute(
        "DELETE FROM stat_pairs WHERE guild_id = ? AND kind IN ('r', 'a') AND a = ?", (guild_id, user_id)
    )
    conn.execute("DELETE FROM stat_pairs WHERE guild_id = ? AND b = ?", (guild_id, user_id))
