"""SQL for group buys and their pledges. Every statement is scoped to its guild."""

from __future__ import annotations

import sqlite3
from typing import Any

from buddybot.groupbuy_terms import Terms, tiers_from_json, tiers_json
from buddybot.models import Record

COLUMNS = (
    "id, guild_id, organiser_id, state, product, supplier, unit, case_size, target_units, tiers, currency, "
    "terms_hash, frozen_at, deadline_at, extended, milestone, version, channel_id, message_id, thread_id, "
    "created_at, closed_at, closed_by, reason"
)


class GroupBuy(Record):
    id: int
    guild_id: int
    organiser_id: int
    state: str
    terms: Terms
    terms_hash: str
    frozen_at: str | None
    deadline_at: str
    extended: bool
    milestone: int
    version: int
    channel_id: int | None
    message_id: int | None
    thread_id: int | None
    created_at: str
    closed_at: str | None
    closed_by: int | None
    reason: str | None

    @property
    def talk_to(self) -> int | None:
        """Where to say things: the thread, else the post's channel."""
        return self.thread_id or self.channel_id


class PledgeRow(Record):
    user_id: int
    name: str | None
    quantity: int
    tolerance: int
    seq: int
    pledged_at: str
    allocated: int | None


class Totals(Record):
    firm: int = 0
    tolerance: int = 0
    pledgers: int = 0


def _buy(row: Any) -> GroupBuy:
    terms = Terms(
        product=row["product"], supplier=row["supplier"], unit=row["unit"], case_size=row["case_size"],
        tiers=tiers_from_json(row["tiers"]), target=row["target_units"], currency=row["currency"],
    )  # fmt: skip
    return GroupBuy(
        id=row["id"], guild_id=row["guild_id"], organiser_id=row["organiser_id"], state=row["state"],
        terms=terms, terms_hash=row["terms_hash"], frozen_at=row["frozen_at"], deadline_at=row["deadline_at"],
        extended=bool(row["extended"]), milestone=row["milestone"], version=row["version"],
        channel_id=row["channel_id"], message_id=row["message_id"], thread_id=row["thread_id"],
        created_at=row["created_at"], closed_at=row["closed_at"], closed_by=row["closed_by"],
        reason=row["reason"],
    )  # fmt: skip


def get(conn: sqlite3.Connection, guild_id: int, buy_id: int) -> GroupBuy | None:
    row = conn.execute(
        f"SELECT {COLUMNS} FROM group_buys WHERE guild_id = ? AND id = ?", (guild_id, buy_id)
    ).fetchone()
    return _buy(row) if row else None


def insert(
    conn: sqlite3.Connection, guild_id: int, organiser_id: int, terms: Terms, digest: str, deadline: str,
    channel_id: int, now: str,
) -> int:  # fmt: skip
    return conn.execute(
        "INSERT INTO group_buys (guild_id, organiser_id, product, supplier, unit, case_size, target_units, "
        "tiers, currency, terms_hash, deadline_at, channel_id, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (guild_id, organiser_id, terms.product, terms.supplier, terms.unit, terms.case_size, terms.target,
         tiers_json(terms.tiers), terms.currency, digest, deadline, channel_id, now),
    ).fetchone()[0]  # fmt: skip


def open_count(conn: sqlite3.Connection, guild_id: int, organiser_id: int) -> int:
    return conn.execute(
        "SELECT COUNT(*) FROM group_buys WHERE guild_id = ? AND organiser_id = ? AND state = 'open'",
        (guild_id, organiser_id),
    ).fetchone()[0]


def replace_terms(conn: sqlite3.Connection, guild_id: int, buy_id: int, terms: Terms, digest: str) -> bool:
    """Only while nobody has pledged (frozen_at IS NULL) and the buy is open: the freeze is in the WHERE."""
    row = conn.execute(
        "UPDATE group_buys SET product = ?, supplier = ?, unit = ?, case_size = ?, target_units = ?, tiers = ?, "
        "terms_hash = ?, version = version + 1 "
        "WHERE guild_id = ? AND id = ? AND state = 'open' AND frozen_at IS NULL RETURNING id",
        (terms.product, terms.supplier, terms.unit, terms.case_size, terms.target, tiers_json(terms.tiers),
         digest, guild_id, buy_id),
    ).fetchone()  # fmt: skip
    return row is not None


def take_turn(conn: sqlite3.Connection, guild_id: int, buy_id: int, digest: str, now: str) -> int | None:
    """Freeze the terms (first pledge), hand out the next queue number and bump the version, if the buy is
    still open under exactly these terms. Returns the queue number, or None."""
    row = conn.execute(
        "UPDATE group_buys SET frozen_at = COALESCE(frozen_at, ?), pledge_seq = pledge_seq + 1, "
        "version = version + 1 WHERE guild_id = ? AND id = ? AND state = 'open' AND terms_hash = ? "
        "RETURNING pledge_seq",
        (now, guild_id, buy_id, digest),
    ).fetchone()
    return row[0] if row else None


def bump_version(conn: sqlite3.Connection, guild_id: int, buy_id: int) -> None:
    conn.execute(
        "UPDATE group_buys SET version = version + 1 WHERE guild_id = ? AND id = ?", (guild_id, buy_id)
    )


def pledge_of(conn: sqlite3.Connection, guild_id: int, buy_id: int, user_id: int) -> PledgeRow | None:
    row = conn.execute(
        "SELECT user_id, name, quantity, tolerance, seq, pledged_at, allocated FROM group_buy_pledges "
        "WHERE group_buy_id = ? AND user_id = ? AND guild_id = ?",
        (buy_id, user_id, guild_id),
    ).fetchone()
    return PledgeRow(**dict(row)) if row else None


def upsert_pledge(
    conn: sqlite3.Connection, guild_id: int, buy_id: int, user_id: int, name: str | None, quantity: int,
    tolerance: int, seq: int, digest: str, now: str,
) -> None:  # fmt: skip
    """A new pledge, or new totals replacing the old ones. Raising it moves it to the back of the queue."""
    conn.execute(
        "INSERT INTO group_buy_pledges (group_buy_id, user_id, guild_id, name, quantity, tolerance, seq, "
        "terms_hash, pledged_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (group_buy_id, user_id) DO UPDATE SET "
        "seq = CASE WHEN excluded.quantity + excluded.tolerance > group_buy_pledges.quantity "
        "+ group_buy_pledges.tolerance THEN excluded.seq ELSE group_buy_pledges.seq END, "
        "quantity = excluded.quantity, tolerance = excluded.tolerance, name = excluded.name, "
        "updated_at = excluded.updated_at",
        (buy_id, user_id, guild_id, name, quantity, tolerance, seq, digest, now, now),
    )


def delete_pledge(conn: sqlite3.Connection, guild_id: int, buy_id: int, user_id: int) -> bool:
    row = conn.execute(
        "DELETE FROM group_buy_pledges WHERE group_buy_id = ? AND user_id = ? AND guild_id = ? RETURNING user_id",
        (buy_id, user_id, guild_id),
    ).fetchone()
    return row is not None


def totals(conn: sqlite3.Connection, guild_id: int, buy_id: int) -> Totals:
    row = conn.execute(
        "SELECT COALESCE(SUM(quantity), 0), COALESCE(SUM(tolerance), 0), COUNT(*) FROM group_buy_pledges "
        "WHERE group_buy_id = ? AND guild_id = ?",
        (buy_id, guild_id),
    ).fetchone()
    return Totals(firm=row[0], tolerance=row[1], pledgers=row[2])


def pledges(conn: sqlite3.Connection, guild_id: int, buy_id: int) -> list[PledgeRow]:
    """Every pledge in queue order (oldest first)."""
    rows = conn.execute(
        "SELECT user_id, name, quantity, tolerance, seq, pledged_at, allocated FROM group_buy_pledges "
        "WHERE group_buy_id = ? AND guild_id = ? ORDER BY seq, user_id",
        (buy_id, guild_id),
    ).fetchall()
    return [PledgeRow(**dict(r)) for r in rows]


def set_milestone(conn: sqlite3.Connection, guild_id: int, buy_id: int, milestone: int) -> bool:
    row = conn.execute(
        "UPDATE group_buys SET milestone = ? WHERE guild_id = ? AND id = ? AND milestone < ? RETURNING id",
        (milestone, guild_id, buy_id, milestone),
    ).fetchone()
    return row is not None


def close(
    conn: sqlite3.Connection,
    guild_id: int,
    buy_id: int,
    state: str,
    now: str,
    by: int | None,
    reason: str | None,
) -> bool:
    """open -> succeeded | failed | cancelled, once (a second call, or a race, changes nothing)."""
    row = conn.execute(
        "UPDATE group_buys SET state = ?, closed_at = ?, closed_by = ?, reason = ?, version = version + 1 "
        "WHERE guild_id = ? AND id = ? AND state = 'open' RETURNING id",
        (state, now, by, reason, guild_id, buy_id),
    ).fetchone()
    return row is not None


def set_allocated(
    conn: sqlite3.Connection, guild_id: int, buy_id: int, shares: list[tuple[int, int]]
) -> None:
    conn.executemany(
        "UPDATE group_buy_pledges SET allocated = ? WHERE group_buy_id = ? AND user_id = ? AND guild_id = ?",
        [(units, buy_id, user_id, guild_id) for user_id, units in shares],
    )


def extend(conn: sqlite3.Connection, guild_id: int, buy_id: int, deadline: str) -> bool:
    row = conn.execute(
        "UPDATE group_buys SET deadline_at = ?, extended = 1, version = version + 1 "
        "WHERE guild_id = ? AND id = ? AND state = 'open' AND extended = 0 RETURNING id",
        (deadline, guild_id, buy_id),
    ).fetchone()
    return row is not None


def set_post(
    conn: sqlite3.Connection,
    guild_id: int,
    buy_id: int,
    channel_id: int,
    message_id: int,
    thread_id: int | None,
) -> None:
    conn.execute(
        "UPDATE group_buys SET channel_id = ?, message_id = ?, thread_id = ? WHERE guild_id = ? AND id = ?",
        (channel_id, message_id, thread_id, guild_id, buy_id),
    )


def list_open(conn: sqlite3.Connection, guild_id: int, limit: int) -> list[GroupBuy]:
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM group_buys WHERE guild_id = ? AND state = 'open' ORDER BY deadline_at, id LIMIT ?",
        (guild_id, limit),
    ).fetchall()
    return [_buy(r) for r in rows]


def open_totals(conn: sqlite3.Connection, guild_id: int, buy_ids: list[int]) -> dict[int, Totals]:
    if not buy_ids:
        return {}
    marks = ", ".join("?" for _ in buy_ids)
    rows = conn.execute(
        "SELECT group_buy_id, COALESCE(SUM(quantity), 0), COALESCE(SUM(tolerance), 0), COUNT(*) "
        f"FROM group_buy_pledges WHERE guild_id = ? AND group_buy_id IN ({marks}) GROUP BY group_buy_id",
        (guild_id, *buy_ids),
    ).fetchall()
    return {r[0]: Totals(firm=r[1], tolerance=r[2], pledgers=r[3]) for r in rows}


def joined_count(conn: sqlite3.Connection, guild_id: int, user_id: int) -> int:
    """Group buys the member has a pledge in (for /profile view)."""
    return conn.execute(
        "SELECT COUNT(*) FROM group_buy_pledges WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
    ).fetchone()[0]


# -- /stats counters, maintained in the same unit as the change they count ------------------------------
STAT_METRICS = ("gb_started", "gb_succeeded", "gb_units", "gb_saving")


# -- /privacy -----------------------------------------------------------------------------------------------
ERASED = "(erased)"


def erase_member(
    conn: sqlite3.Connection, guild_id: int, user_id: int, placeholder: int, now: str
) -> list[int]:
    """Pledges in open buys are withdrawn; closed ones keep their numbers under the placeholder. Open buys the
    member organised are cancelled; their texts are erased. Returns the open buys whose posts must redraw."""
    p = {"g": guild_id, "u": user_id, "t": placeholder, "now": now, "erased": ERASED}
    touched = [r[0] for r in conn.execute(
        "DELETE FROM group_buy_pledges WHERE guild_id = :g AND user_id = :u AND group_buy_id IN "
        "(SELECT id FROM group_buys WHERE guild_id = :g AND state = 'open') RETURNING group_buy_id", p,
    ).fetchall()]  # fmt: skip
    conn.execute(
        "UPDATE group_buy_pledges SET user_id = :t, name = NULL WHERE guild_id = :g AND user_id = :u", p
    )
    touched += [r[0] for r in conn.execute(
        "UPDATE group_buys SET state = 'cancelled', closed_at = :now, closed_by = :t, "
        "reason = 'The organiser erased their BuddyBot data.', version = version + 1 "
        "WHERE guild_id = :g AND organiser_id = :u AND state = 'open' RETURNING id", p,
    ).fetchall()]  # fmt: skip
    conn.execute(
        "UPDATE group_buys SET organiser_id = :t, product = :erased, supplier = :erased, "
        "closed_by = CASE WHEN closed_by = :u THEN :t ELSE closed_by END WHERE guild_id = :g AND organiser_id = :u",
        p,
    )
    conn.execute("UPDATE group_buys SET closed_by = :t WHERE guild_id = :g AND closed_by = :u", p)
    for buy_id in set(touched):
        bump_version(conn, guild_id, buy_id)
    return sorted(set(touched))
