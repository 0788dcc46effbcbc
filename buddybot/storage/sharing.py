"""SQL for sharing: shared things, loans, waiting lists and give-and-take tallies.

Units (`available`) and loan states change only through conditional UPDATEs with RETURNING, so a race
changes them once; the table's CHECK keeps `available` between 0 and the quantity.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from typing import Any

from buddybot.models import Record

OPEN_LOAN = ("requested", "approved", "on_loan", "overdue", "returned", "disputed")
HOLDING = ("requested", "approved", "on_loan", "overdue", "returned", "disputed")  # units still out
_ITEM = "id, guild_id, owner_id, kind, name, details, max_days, quantity, available, removed_at, created_at"
_LOAN = (
    "id, guild_id, item_id, owner_id, borrower_id, kind, quantity, start_on, due_on, note, state, closed_how, "
    "condition_note, renewed, escalated, channel_id, message_id, thread_id, created_at, approved_at, "
    "started_at, returned_at, closed_at, version"
)


class Item(Record):
    id: int
    guild_id: int
    owner_id: int
    kind: str
    name: str
    details: str | None
    max_days: int
    quantity: int
    available: int
    removed_at: str | None
    created_at: str
    due_back: date | None = None  # the earliest date a lent unit is due back (for /share find and list)


class Loan(Record):
    id: int
    guild_id: int
    item_id: int
    owner_id: int
    borrower_id: int
    kind: str
    quantity: int
    start_on: date
    due_on: date
    note: str | None
    state: str
    closed_how: str | None
    condition_note: str | None
    renewed: bool
    escalated: bool
    channel_id: int | None
    message_id: int | None
    thread_id: int | None
    created_at: str
    approved_at: str | None
    started_at: str | None
    returned_at: str | None
    closed_at: str | None
    version: int
    item_name: str = ""


def _item(row: Any, due_back: str | None = None) -> Item:
    data = dict(row)
    return Item(**data, due_back=date.fromisoformat(due_back) if due_back else None)


def _loan(row: Any) -> Loan:
    return Loan(**dict(row))


# -- shared things ----------------------------------------------------------------------------------------
def count_items(conn: sqlite3.Connection, guild_id: int, owner_id: int) -> int:
    return conn.execute(
        "SELECT count(*) FROM shared_items WHERE guild_id = ? AND owner_id = ? AND removed_at IS NULL",
        (guild_id, owner_id),
    ).fetchone()[0]


def find_own(conn: sqlite3.Connection, guild_id: int, owner_id: int, folded: str) -> Item | None:
    row = conn.execute(
        f"SELECT {_ITEM} FROM shared_items WHERE guild_id = ? AND owner_id = ? AND name_folded = ? "
        "AND removed_at IS NULL",
        (guild_id, owner_id, folded),
    ).fetchone()
    return _item(row) if row else None


def insert_item(
    conn: sqlite3.Connection,
    guild_id: int,
    owner_id: int,
    kind: str,
    name: str,
    folded: str,
    details: str | None,
    max_days: int,
    quantity: int,
    now: str,
) -> int:
    return conn.execute(
        "INSERT INTO shared_items (guild_id, owner_id, kind, name, name_folded, details, max_days, quantity, "
        "available, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (guild_id, owner_id, kind, name, folded, details, max_days, quantity, quantity, now),
    ).fetchone()[0]


def get_item(conn: sqlite3.Connection, guild_id: int, item_id: int) -> Item | None:
    row = conn.execute(
        f"SELECT {_ITEM} FROM shared_items WHERE guild_id = ? AND id = ?", (guild_id, item_id)
    ).fetchone()
    return _item(row, _due_back(conn, item_id)) if row else None


def _due_back(conn: sqlite3.Connection, item_id: int) -> str | None:
    return conn.execute(
        "SELECT min(due_on) FROM loans WHERE item_id = ? AND state IN ('on_loan', 'overdue')", (item_id,)
    ).fetchone()[0]


def items_of(conn: sqlite3.Connection, guild_id: int, owner_id: int) -> list[Item]:
    rows = conn.execute(
        f"SELECT {_ITEM} FROM shared_items WHERE guild_id = ? AND owner_id = ? AND removed_at IS NULL "
        "ORDER BY name_folded",
        (guild_id, owner_id),
    ).fetchall()
    return [_item(r, _due_back(conn, r["id"]) if r["available"] < r["quantity"] else None) for r in rows]


def search(conn: sqlite3.Connection, guild_id: int, folded: str, kind: str | None, limit: int) -> list[Item]:
    """Things whose folded name starts with, then contains, `folded`; available ones first."""
    pattern = "%" + folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    of_kind, params = ("AND kind = ? ", (kind,)) if kind is not None else ("", ())
    rows = conn.execute(
        f"SELECT {_ITEM} FROM shared_items WHERE guild_id = ? AND removed_at IS NULL "
        f"AND name_folded LIKE ? ESCAPE '\\' {of_kind}"
        "ORDER BY CASE WHEN available > 0 THEN 0 ELSE 1 END, "
        "CASE WHEN name_folded LIKE ? ESCAPE '\\' THEN 0 ELSE 1 END, name_folded, id LIMIT ?",
        (guild_id, pattern, *params, pattern[1:], limit),
    ).fetchall()
    return [_item(r, _due_back(conn, r["id"]) if r["available"] < r["quantity"] else None) for r in rows]


def remove_item(conn: sqlite3.Connection, guild_id: int, item_id: int, by: int, now: str) -> bool:
    row = conn.execute(
        "UPDATE shared_items SET removed_at = ?, removed_by = ? WHERE guild_id = ? AND id = ? "
        "AND removed_at IS NULL RETURNING id",
        (now, by, guild_id, item_id),
    ).fetchone()
    return row is not None


def take_units(conn: sqlite3.Connection, item_id: int, quantity: int) -> bool:
    """Hold `quantity` units if that many are free: the one place the last unit is won or lost."""
    row = conn.execute(
        "UPDATE shared_items SET available = available - ? WHERE id = ? AND removed_at IS NULL "
        "AND available >= ? RETURNING available",
        (quantity, item_id, quantity),
    ).fetchone()
    return row is not None


def give_back_units(conn: sqlite3.Connection, item_id: int, quantity: int) -> int:
    return conn.execute(
        "UPDATE shared_items SET available = available + ? WHERE id = ? RETURNING available",
        (quantity, item_id),
    ).fetchone()[0]


# -- loans -------------------------------------------------------------------------------------------------
def insert_loan(
    conn: sqlite3.Connection, item: Item, borrower_id: int, quantity: int, start: date, due: date,
    note: str | None, channel_id: int, now: str,
) -> int:  # fmt: skip
    return conn.execute(
        "INSERT INTO loans (guild_id, item_id, owner_id, borrower_id, kind, quantity, start_on, due_on, note, "
        "channel_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (item.guild_id, item.id, item.owner_id, borrower_id, item.kind, quantity, start.isoformat(),
         due.isoformat(), note, channel_id, now),
    ).fetchone()[0]  # fmt: skip


def get_loan(conn: sqlite3.Connection, guild_id: int, loan_id: int) -> Loan | None:
    row = conn.execute(
        f"SELECT l.{_LOAN.replace(', ', ', l.')}, i.name AS item_name FROM loans l "
        "JOIN shared_items i ON i.id = l.item_id WHERE l.guild_id = ? AND l.id = ?",
        (guild_id, loan_id),
    ).fetchone()
    return _loan(row) if row else None


def transition(
    conn: sqlite3.Connection, loan_id: int, old: str, new: str, stamps: dict[str, object] | None = None
) -> bool:
    """The one way a loan's state changes: conditional on the state it was read in, so once per race."""
    stamps = stamps or {}
    sets = ", ".join(["state = ?", "version = version + 1", *(f"{column} = ?" for column in stamps)])
    row = conn.execute(
        f"UPDATE loans SET {sets} WHERE id = ? AND state = ? RETURNING id",
        (new, *stamps.values(), loan_id, old),
    ).fetchone()
    return row is not None


def renew(conn: sqlite3.Connection, loan_id: int, due: date) -> bool:
    row = conn.execute(
        "UPDATE loans SET due_on = ?, renewed = 1, version = version + 1 "
        "WHERE id = ? AND state = 'on_loan' AND renewed = 0 RETURNING id",
        (due.isoformat(), loan_id),
    ).fetchone()
    return row is not None


def mark_escalated(conn: sqlite3.Connection, loan_id: int) -> bool:
    row = conn.execute(
        "UPDATE loans SET escalated = 1 WHERE id = ? AND state = 'overdue' AND escalated = 0 RETURNING id",
        (loan_id,),
    ).fetchone()
    return row is not None


def set_post(
    conn: sqlite3.Connection, loan_id: int, channel_id: int, message_id: int, thread_id: int | None
) -> None:
    conn.execute(
        "UPDATE loans SET channel_id = ?, message_id = ?, thread_id = ? WHERE id = ?",
        (channel_id, message_id, thread_id, loan_id),
    )


def last_channel(conn: sqlite3.Connection, item_id: int) -> int | None:
    """Where the thing's latest request was posted (for notices when no sharing channel is set)."""
    row = conn.execute(
        "SELECT channel_id FROM loans WHERE item_id = ? AND channel_id IS NOT NULL ORDER BY id DESC LIMIT 1",
        (item_id,),
    ).fetchone()
    return row[0] if row else None


def open_loans_of(conn: sqlite3.Connection, guild_id: int, borrower_id: int) -> list[tuple[int, str]]:
    marks = ", ".join("?" for _ in OPEN_LOAN)
    return [
        (r[0], r[1])
        for r in conn.execute(
            f"SELECT id, state FROM loans WHERE guild_id = ? AND borrower_id = ? AND state IN ({marks})",
            (guild_id, borrower_id, *OPEN_LOAN),
        )
    ]


def labour_hours(conn: sqlite3.Connection, guild_id: int, owner_id: int, monday: date) -> int:
    """Hours of the lender's labour in loans starting in the week from `monday` (not refused or ended unused)."""
    sunday = monday.toordinal() + 6
    return conn.execute(
        "SELECT COALESCE(sum(quantity), 0) FROM loans WHERE guild_id = ? AND owner_id = ? AND kind = 'labour' "
        "AND start_on >= ? AND start_on <= ? AND state NOT IN ('declined', 'withdrawn', 'expired', 'cancelled')",
        (guild_id, owner_id, monday.isoformat(), date.fromordinal(sunday).isoformat()),
    ).fetchone()[0]


def open_loans_of_item(conn: sqlite3.Connection, item_id: int, states: tuple[str, ...]) -> list[Loan]:
    marks = ", ".join("?" for _ in states)
    rows = conn.execute(
        f"SELECT l.{_LOAN.replace(', ', ', l.')}, i.name AS item_name FROM loans l "
        f"JOIN shared_items i ON i.id = l.item_id WHERE l.item_id = ? AND l.state IN ({marks}) ORDER BY l.id",
        (item_id, *states),
    ).fetchall()
    return [_loan(r) for r in rows]


def overdue(conn: sqlite3.Connection, guild_id: int, limit: int) -> tuple[int, list[Loan]]:
    """How many loans are overdue now, and the longest-overdue ones (the partial index holds only those)."""
    count = conn.execute(
        "SELECT count(*) FROM loans WHERE guild_id = ? AND state = 'overdue'", (guild_id,)
    ).fetchone()[0]
    rows = conn.execute(
        f"SELECT l.{_LOAN.replace(', ', ', l.')}, i.name AS item_name FROM loans l "
        "JOIN shared_items i ON i.id = l.item_id WHERE l.guild_id = ? AND l.state = 'overdue' "
        "ORDER BY l.due_on, l.id LIMIT ?",
        (guild_id, limit),
    ).fetchall()
    return count, [_loan(r) for r in rows]


# -- /privacy delete ---------------------------------------------------------------------------------------
def loans_of_member(conn: sqlite3.Connection, guild_id: int, user_id: int) -> list[Loan]:
    """Every loan the member is on, as owner or borrower (both answered from an index)."""
    rows = conn.execute(
        f"SELECT l.{_LOAN.replace(', ', ', l.')}, i.name AS item_name FROM loans l "
        "JOIN shared_items i ON i.id = l.item_id WHERE l.guild_id = ? AND l.owner_id = ? "
        "UNION ALL "
        f"SELECT l.{_LOAN.replace(', ', ', l.')}, i.name AS item_name FROM loans l "
        "JOIN shared_items i ON i.id = l.item_id WHERE l.guild_id = ? AND l.borrower_id = ?",
        (guild_id, user_id, guild_id, user_id),
    ).fetchall()
    return [_loan(r) for r in rows]


ERASED_NAME = "(erased)"


def anonymise(conn: sqlite3.Connection, guild_id: int, user_id: int, tombstone: int) -> None:
    """Shared things, loans and tallies keep their counts; the member becomes `tombstone`, their texts go."""
    g, u, t = guild_id, user_id, tombstone
    conn.execute("DELETE FROM loan_waits WHERE guild_id = ? AND user_id = ?", (g, u))
    conn.execute(
        "UPDATE shared_items SET owner_id = ?, name = ?, name_folded = ?, details = NULL "
        "WHERE guild_id = ? AND owner_id = ?",
        (t, ERASED_NAME, ERASED_NAME, g, u),
    )
    conn.execute(
        "UPDATE loans SET owner_id = ?, condition_note = NULL WHERE guild_id = ? AND owner_id = ?", (t, g, u)
    )
    conn.execute(
        "UPDATE loans SET borrower_id = ?, note = NULL WHERE guild_id = ? AND borrower_id = ?", (t, g, u)
    )
    conn.execute("UPDATE share_tallies SET user_id = ? WHERE guild_id = ? AND user_id = ?", (t, g, u))
    conn.execute(
        "UPDATE stat_counts SET key = ? WHERE guild_id = ? AND metric = 'share_lent' AND key = ?",
        (str(t), g, str(u)),
    )
