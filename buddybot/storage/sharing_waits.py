"""SQL for waiting lists: first come, first served (by id); a 'held' place keeps units for 7 days."""

from __future__ import annotations

import sqlite3

from buddybot.models import Record


class Wait(Record):
    id: int
    item_id: int
    user_id: int
    quantity: int
    state: str
    hold_until: str | None


# -- the line -----------------------------------------------------------------------------------------
def join_wait(
    conn: sqlite3.Connection, guild_id: int, item_id: int, user_id: int, quantity: int, now: str
) -> int | None:
    row = conn.execute(
        "INSERT INTO loan_waits (guild_id, item_id, user_id, quantity, created_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (item_id, user_id) WHERE state IN ('waiting', 'held') DO NOTHING RETURNING id",
        (guild_id, item_id, user_id, quantity, now),
    ).fetchone()
    return row[0] if row else None


def wait_of(conn: sqlite3.Connection, item_id: int, user_id: int) -> Wait | None:
    row = conn.execute(
        "SELECT id, item_id, user_id, quantity, state, hold_until FROM loan_waits "
        "WHERE item_id = ? AND user_id = ? AND state IN ('waiting', 'held')",
        (item_id, user_id),
    ).fetchone()
    return Wait(**dict(row)) if row else None


def get_wait(conn: sqlite3.Connection, wait_id: int) -> Wait | None:
    row = conn.execute(
        "SELECT id, item_id, user_id, quantity, state, hold_until FROM loan_waits WHERE id = ?", (wait_id,)
    ).fetchone()
    return Wait(**dict(row)) if row else None


def place_in_line(conn: sqlite3.Connection, item_id: int, wait_id: int) -> int:
    return conn.execute(
        "SELECT count(*) FROM loan_waits WHERE item_id = ? AND state = 'waiting' AND id <= ?",
        (item_id, wait_id),
    ).fetchone()[0]


def first_waiting(conn: sqlite3.Connection, item_id: int) -> Wait | None:
    row = conn.execute(
        "SELECT id, item_id, user_id, quantity, state, hold_until FROM loan_waits "
        "WHERE item_id = ? AND state = 'waiting' ORDER BY id LIMIT 1",
        (item_id,),
    ).fetchone()
    return Wait(**dict(row)) if row else None


def set_wait(
    conn: sqlite3.Connection, wait_id: int, old: str, new: str, hold_until: str | None = None
) -> bool:
    row = conn.execute(
        "UPDATE loan_waits SET state = ?, hold_until = ? WHERE id = ? AND state = ? RETURNING id",
        (new, hold_until, wait_id, old),
    ).fetchone()
    return row is not None


def end_waits_of_item(conn: sqlite3.Connection, item_id: int) -> list[tuple[int, str, int]]:
    """Everyone still waiting for (or holding) a removed thing leaves the line: (id, state, quantity)."""
    return [
        (r[0], r[1], r[2])
        for r in conn.execute(
            "UPDATE loan_waits SET state = 'left' WHERE item_id = ? AND state IN ('waiting', 'held') "
            "RETURNING id, state, quantity",
            (item_id,),
        )
    ]


def waits_of_member(conn: sqlite3.Connection, guild_id: int, user_id: int) -> list[Wait]:
    rows = conn.execute(
        "SELECT id, item_id, user_id, quantity, state, hold_until FROM loan_waits WHERE guild_id = ? AND user_id = ?",
        (guild_id, user_id),
    ).fetchall()
    return [Wait(**dict(r)) for r in rows]
