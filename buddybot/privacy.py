"""A member's own data: export every row about them in this server, or erase it.

Erasing deletes the profile, offers and availability and the texts they wrote; shared history
(requests, referrals, agreements, shoutouts) keeps its counts with the member replaced by an
anonymous placeholder id (negative, one per erasure). Moderation records are kept as they are.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta

from buddybot import groupbuys, loans, referrals
from buddybot.errors import BuddyError
from buddybot.models import Record, utc_iso
from buddybot.referrals import NeedState
from buddybot.scheduler import Notice
from buddybot.storage import groupbuys as groupbuys_sql
from buddybot.storage import privacy as sql
from buddybot.storage.db import Database, offloaded

CONFIRM_WINDOW = timedelta(minutes=15)
ABOUT_EXPORT = (
    "Every row BuddyBot stores about you in this server, table by table. Other members appear only as "
    "user ids where a row links you to them (a referral, an agreement, a shoutout)."
)


class ClosedNeed(Record):
    need_id: int
    channel_id: int | None
    message_id: int | None


class Erasure(Record):
    placeholder_id: int | None  # None: there was nothing left to erase (e.g. a second confirmation)
    kept_hidden: bool
    closed_needs: list[ClosedNeed]
    group_buys: list[groupbuys.Snapshot] = []  # open group buys to redraw (pledge withdrawn, or cancelled)
    left_needs: list[NeedState] = []  # others' open requests they volunteered for: redraw without them
    notices: list[Notice] = []  # e.g. the next in line for a thing the member gave back


@offloaded  # everything a member ever wrote: may take a while, off the event loop
def _export(conn: sqlite3.Connection, guild_id: int, user_id: int) -> dict[str, list[dict]]:
    return sql.export_rows(conn, guild_id, user_id)


async def export(db: Database, guild_id: int, user_id: int, *, now: datetime) -> bytes:
    """The JSON document /privacy export attaches (one read unit)."""
    tables = await db.read(_export, guild_id, user_id)
    document = {"about": ABOUT_EXPORT, "guild_id": guild_id, "user_id": user_id, "exported_at": utc_iso(now),
                "tables": tables}  # fmt: skip
    return json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8")


def check_confirmation(user_id: int, confirmed_by: int, issued_at: datetime, now: datetime) -> None:
    """Only the member who asked may confirm, and only for a while after asking."""
    if confirmed_by != user_id:
        raise BuddyError("Only the member who asked can confirm erasing their own data.")
    if not timedelta(0) <= now - issued_at <= CONFIRM_WINDOW:
        raise BuddyError("This confirmation has expired. Run `/privacy delete` again if you still want to.")


@offloaded  # touches every table the member appears in
def _erase(conn: sqlite3.Connection, guild_id: int, user_id: int, now: str) -> Erasure:
    if not sql.holds_data(conn, guild_id, user_id):  # idempotent: double clicks erase once
        return Erasure(
            placeholder_id=None, kept_hidden=sql.is_hidden(conn, guild_id, user_id), closed_needs=[]
        )
    placeholder = sql.new_tombstone(conn, guild_id, now)
    closed = sql.close_open_needs(conn, guild_id, user_id, now)
    left = sql.leave_open_needs(conn, guild_id, user_id)
    kept_hidden = sql.erase_profile(conn, guild_id, user_id, now)
    sql.anonymise_referrals(conn, guild_id, user_id, placeholder)
    sql.anonymise_agreements(conn, guild_id, user_id, placeholder, now)
    sql.anonymise_shoutouts(conn, guild_id, user_id, placeholder)
    sql.anonymise_stats(conn, guild_id, user_id, placeholder)
    notices = loans.erase_member(conn, guild_id, user_id, placeholder, datetime.fromisoformat(now))
    touched = groupbuys_sql.erase_member(conn, guild_id, user_id, placeholder, now)
    group_buys = [groupbuys.snapshot_in(conn, guild_id, buy_id) for buy_id in touched]
    return Erasure(
        notices=notices,
        placeholder_id=placeholder,
        kept_hidden=kept_hidden,
        closed_needs=[ClosedNeed(need_id=r[0], channel_id=r[1], message_id=r[2]) for r in closed],
        group_buys=group_buys,
        left_needs=[referrals.need_state(conn, need_id) for need_id in left],
    )


async def erase(
    db: Database, guild_id: int, user_id: int, *, confirmed_by: int, issued_at: datetime, now: datetime
) -> Erasure:
    """Erase the member's data in this guild, all of it in one transaction."""
    check_confirmation(user_id, confirmed_by, issued_at, now)
    return await db.write(_erase, guild_id, user_id, utc_iso(now))
