"""SQL for one-off job agreements: versions of the terms, members, acceptances, feedback."""

from __future__ import annotations

import sqlite3
from datetime import date

from buddybot.models import Record

OPEN_STATES = ("proposed", "agreed")


class Terms(Record):
    """What the parties agree to: every field goes into the terms hash."""

    title: str
    scope: str
    terms: str
    fee: str
    start: date
    end: date


class Agreement(Record):
    id: int
    guild_id: int
    channel_id: int
    lead_id: int
    state: str
    version: int
    message_id: int | None
    terms: Terms
    terms_hash: str
    created_at: str
    proposed_at: str | None = None
    agreed_at: str | None = None
    closed_at: str | None = None
    closed_by: int | None = None
    reason: str | None = None


class Member(Record):
    """The lead or a party, and when they accepted the current version (None: not yet)."""

    user_id: int
    role: str
    name: str | None = None
    business: str | None = None
    accepted_at: str | None = None


class Feedback(Record):
    user_id: int
    again: bool
    note: str | None
    answered_at: str


class Summary(Record):
    """One line of `/agreement list`."""

    id: int
    title: str
    state: str
    role: str
    version: int
    accepted: int
    parties: int


class Conflict(Record):
    """An open agreement two members already share (first-job rule)."""

    agreement_id: int
    title: str
    user_a: int
    user_b: int


_SELECT = """
    SELECT a.*, v.title, v.scope, v.terms, v.fee, v.start_date, v.end_date, v.terms_hash
      FROM agreements a
      JOIN agreement_versions v ON v.agreement_id = a.id AND v.version = a.version
"""


def _agreement(row: sqlite3.Row) -> Agreement:
    return Agreement(
        id=row["id"], guild_id=row["guild_id"], channel_id=row["channel_id"], lead_id=row["lead_id"],
        state=row["state"], version=row["version"], message_id=row["message_id"],
        terms=Terms(title=row["title"], scope=row["scope"], terms=row["terms"], fee=row["fee"],
                    start=row["start_date"], end=row["end_date"]),
        terms_hash=row["terms_hash"], created_at=row["created_at"], proposed_at=row["proposed_at"],
        agreed_at=row["agreed_at"], closed_at=row["closed_at"], closed_by=row["closed_by"],
        reason=row["reason"],
    )  # fmt: skip


def get(conn: sqlite3.Connection, guild_id: int, agreement_id: int) -> Agreement | None:
    row = conn.execute(f"{_SELECT} WHERE a.id = ? AND a.guild_id = ?", (agreement_id, guild_id)).fetchone()
    return _agreement(row) if row else None


def identical_draft(conn: sqlite3.Connection, guild_id: int, lead_id: int, terms_hash: str) -> int | None:
    row = conn.execute(
        "SELECT a.id FROM agreements a JOIN agreement_versions v ON v.agreement_id = a.id AND v.version = a.version "
        "WHERE a.guild_id = ? AND a.lead_id = ? AND a.state = 'draft' AND v.terms_hash = ? LIMIT 1",
        (guild_id, lead_id, terms_hash),
    ).fetchone()
    return row[0] if row else None


def insert_draft(
    conn: sqlite3.Connection,
    guild_id: int,
    channel_id: int,
    lead_id: int,
    lead_name: str | None,
    terms: Terms,
    terms_hash: str,
    now: str,
) -> int:
    agreement_id = conn.execute(
        "INSERT INTO agreements (guild_id, channel_id, lead_id, created_at) VALUES (?, ?, ?, ?) RETURNING id",
        (guild_id, channel_id, lead_id, now),
    ).fetchone()[0]
    insert_version(conn, agreement_id, 1, terms, terms_hash, now)
    conn.execute(
        "INSERT INTO agreement_members (agreement_id, user_id, role, name) VALUES (?, ?, 'lead', ?)",
        (agreement_id, lead_id, lead_name),
    )
    return agreement_id


def insert_version(
    conn: sqlite3.Connection, agreement_id: int, version: int, terms: Terms, terms_hash: str, now: str
) -> None:
    conn.execute(
        "INSERT INTO agreement_versions (agreement_id, version, title, scope, terms, fee, "
        "start_date, end_date, terms_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (agreement_id, version, terms.title, terms.scope, terms.terms, terms.fee, terms.start.isoformat(),
         terms.end.isoformat(), terms_hash, now),
    )  # fmt: skip


def replace_version(
    conn: sqlite3.Connection, agreement_id: int, version: int, terms: Terms, terms_hash: str
) -> None:
    """Drafts are rewritten in place: nobody has seen them, so there is nothing to keep."""
    conn.execute(
        "UPDATE agreement_versions SET title = ?, scope = ?, terms = ?, fee = ?, "
        "start_date = ?, end_date = ?, terms_hash = ? WHERE agreement_id = ? AND version = ?",
        (terms.title, terms.scope, terms.terms, terms.fee, terms.start.isoformat(), terms.end.isoformat(),
         terms_hash, agreement_id, version),
    )  # fmt: skip


def bump_version(conn: sqlite3.Connection, agreement_id: int, old: int, new: int) -> bool:
    """Point the agreement at a new version, only if nobody else moved it and it is not agreed yet."""
    row = conn.execute(
        "UPDATE agreements SET version = ?, message_id = NULL "
        "WHERE id = ? AND version = ? AND state IN ('draft', 'proposed') RETURNING id",
        (new, agreement_id, old),
    ).fetchone()
    return row is not None


def transition(
    conn: sqlite3.Connection,
    agreement_id: int,
    old: str,
    new: str,
    *,
    version: int | None = None,
    stamps: dict[str, object] | None = None,
) -> bool:
    """The one way a state changes: a conditional UPDATE, so a race changes it once and only once."""
    stamps = stamps or {}
    sets = ", ".join(["state = :new", *(f"{column} = :{column}" for column in stamps)])
    guard = " AND version = :version" if version is not None else ""
    row = conn.execute(
        f"UPDATE agreements SET {sets} WHERE id = :id AND state = :old{guard} RETURNING id",
        {"new": new, "old": old, "id": agreement_id, "version": version, **stamps},
    ).fetchone()
    return row is not None


def set_message(conn: sqlite3.Connection, agreement_id: int, version: int, message_id: int) -> None:
    conn.execute(
        "UPDATE agreements SET message_id = ? WHERE id = ? AND version = ?",
        (message_id, agreement_id, version),
    )


def role_of(conn: sqlite3.Connection, agreement_id: int, user_id: int) -> str | None:
    row = conn.execute(
        "SELECT role FROM agreement_members WHERE agreement_id = ? AND user_id = ?", (agreement_id, user_id)
    ).fetchone()
    return row[0] if row else None


def add_parties(conn: sqlite3.Connection, agreement_id: int, parties: list[tuple[int, str | None]]) -> None:
    conn.executemany(
        "INSERT INTO agreement_members (agreement_id, user_id, role, name) VALUES (?, ?, 'party', ?)",
        [(agreement_id, user_id, name) for user_id, name in parties],
    )


def members(conn: sqlite3.Connection, agreement: Agreement) -> list[Member]:
    """Lead first, then parties in the order picked; accepted_at is for the current version and hash."""
    rows = conn.execute(
        """
        SELECT m.user_id, m.role, m.name, p.business, c.accepted_at
          FROM agreement_members m
          LEFT JOIN members p ON p.guild_id = :guild AND p.user_id = m.user_id
          LEFT JOIN agreement_acceptances c
                 ON c.agreement_id = m.agreement_id AND c.user_id = m.user_id
                AND c.version = :version AND c.terms_hash = :hash
         WHERE m.agreement_id = :id
         ORDER BY m.role = 'party', m.rowid
        """,
        {"guild": agreement.guild_id, "id": agreement.id, "version": agreement.version,
         "hash": agreement.terms_hash},
    ).fetchall()  # fmt: skip
    return [Member(user_id=r[0], role=r[1], name=r[2], business=r[3], accepted_at=r[4]) for r in rows]


def accept(
    conn: sqlite3.Connection, agreement_id: int, version: int, user_id: int, terms_hash: str, now: str
) -> bool:
    """Record one acceptance of one exact version; False when it was already recorded."""
    row = conn.execute(
        "INSERT INTO agreement_acceptances (agreement_id, version, user_id, terms_hash, accepted_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING user_id",
        (agreement_id, version, user_id, terms_hash, now),
    ).fetchone()
    return row is not None


def pending_parties(conn: sqlite3.Connection, agreement_id: int, version: int, terms_hash: str) -> int:
    """Parties who have not accepted this version (with this hash) yet."""
    return conn.execute(
        """
        SELECT count(*) FROM agreement_members m
         WHERE m.agreement_id = ? AND m.role = 'party'
           AND NOT EXISTS (SELECT 1 FROM agreement_acceptances c
                            WHERE c.agreement_id = m.agreement_id AND c.user_id = m.user_id
                              AND c.version = ? AND c.terms_hash = ?)
        """,
        (agreement_id, version, terms_hash),
    ).fetchone()[0]


def open_conflict(
    conn: sqlite3.Connection, guild_id: int, agreement_id: int, user_ids: list[int]
) -> Conflict | None:
    """First-job rule: an open agreement two of `user_ids` share, unless they have completed one together."""
    people = {f"p{i}": user_id for i, user_id in enumerate(user_ids)}
    values = ", ".join(f"(:{name})" for name in people) or "(NULL)"
    row = conn.execute(
        f"""
        WITH people(user_id) AS (VALUES {values})
        SELECT a.id, v.title, m1.user_id, m2.user_id
          FROM agreement_members m1
          JOIN agreement_members m2 ON m2.agreement_id = m1.agreement_id AND m2.user_id > m1.user_id
          JOIN agreements a ON a.id = m1.agreement_id
          JOIN agreement_versions v ON v.agreement_id = a.id AND v.version = a.version
         WHERE m1.user_id IN (SELECT user_id FROM people) AND m2.user_id IN (SELECT user_id FROM people)
           AND a.guild_id = :guild AND a.id != :id AND a.state IN ('proposed', 'agreed')
           AND NOT EXISTS (
                SELECT 1 FROM agreement_members c1
                  JOIN agreement_members c2 ON c2.agreement_id = c1.agreement_id AND c2.user_id = m2.user_id
                  JOIN agreements ca ON ca.id = c1.agreement_id
                 WHERE c1.user_id = m1.user_id AND ca.guild_id = :guild AND ca.state = 'completed')
         ORDER BY a.id
         LIMIT 1
        """,
        {**people, "guild": guild_id, "id": agreement_id},
    ).fetchone()
    return Conflict(agreement_id=row[0], title=row[1], user_a=row[2], user_b=row[3]) if row else None


def add_feedback(conn: sqlite3.Connection, agreement_id: int, user_id: int, again: bool, now: str) -> bool:
    row = conn.execute(
        "INSERT INTO agreement_feedback (agreement_id, user_id, again, answered_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING RETURNING user_id",
        (agreement_id, user_id, int(again), now),
    ).fetchone()
    return row is not None


def set_note(conn: sqlite3.Connection, agreement_id: int, user_id: int, note: str) -> bool:
    row = conn.execute(
        "UPDATE agreement_feedback SET note = ? WHERE agreement_id = ? AND user_id = ? AND note IS NULL "
        "RETURNING user_id",
        (note, agreement_id, user_id),
    ).fetchone()
    return row is not None


def feedback(conn: sqlite3.Connection, agreement_id: int) -> list[Feedback]:
    rows = conn.execute(
        "SELECT user_id, again, note, answered_at FROM agreement_feedback WHERE agreement_id = ? "
        "ORDER BY answered_at, user_id",
        (agreement_id,),
    ).fetchall()
    return [Feedback(user_id=r[0], again=bool(r[1]), note=r[2], answered_at=r[3]) for r in rows]


def feedback_of(conn: sqlite3.Connection, agreement_id: int, user_id: int) -> Feedback | None:
    return next((f for f in feedback(conn, agreement_id) if f.user_id == user_id), None)


def list_for(conn: sqlite3.Connection, guild_id: int, user_id: int, limit: int) -> list[Summary]:
    """The member's agreements (as lead or party), open ones first, newest first."""
    rows = conn.execute(
        """
        SELECT a.id, v.title, a.state, m.role, a.version,
               (SELECT count(*) FROM agreement_acceptances c JOIN agreement_members p
                    ON p.agreement_id = c.agreement_id AND p.user_id = c.user_id AND p.role = 'party'
                 WHERE c.agreement_id = a.id AND c.version = a.version AND c.terms_hash = v.terms_hash),
               (SELECT count(*) FROM agreement_members p WHERE p.agreement_id = a.id AND p.role = 'party')
          FROM agreement_members m
          JOIN agreements a ON a.id = m.agreement_id
          JOIN agreement_versions v ON v.agreement_id = a.id AND v.version = a.version
         WHERE m.user_id = ? AND a.guild_id = ?
         ORDER BY a.state NOT IN ('draft', 'proposed', 'agreed'), a.id DESC
         LIMIT ?
        """,
        (user_id, guild_id, limit),
    ).fetchall()
    return [Summary(id=r[0], title=r[1], state=r[2], role=r[3], version=r[4], accepted=r[5], parties=r[6])
            for r in rows]  # fmt: skip


def jobs_completed(conn: sqlite3.Connection, guild_id: int, user_id: int) -> int:
    """Completed agreements the member was lead or party of (the profile card's "jobs completed")."""
    return conn.execute(
        "SELECT count(*) FROM agreement_members m JOIN agreements a ON a.id = m.agreement_id "
        "WHERE m.user_id = ? AND a.guild_id = ? AND a.state = 'completed'",
        (user_id, guild_id),
    ).fetchone()[0]


def delete_draft(conn: sqlite3.Connection, guild_id: int, agreement_id: int) -> bool:
    """Drop the agreement if it is still a draft (its terms, members and acceptances cascade)."""
    row = conn.execute(
        "DELETE FROM agreements WHERE id = ? AND guild_id = ? AND state = 'draft' RETURNING id",
        (agreement_id, guild_id),
    ).fetchone()
    return row is not None
