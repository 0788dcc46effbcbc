"""What members share (equipment, IT, labour hours, space slots), waiting lists, and the give-and-take numbers.

Loans themselves are in buddybot/loans.py (actions) and buddybot/loan_jobs.py (what the scheduler does).
This module holds what both need: units going back to a thing and on to the first in line, the /stats
roll-ups, and making member text safe to quote in a notice.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from buddybot import scheduler
from buddybot.errors import BuddyError
from buddybot.guildconfig import require_moderator
from buddybot.loan_states import Event, next_state
from buddybot.models import Actor, Record, utc_iso
from buddybot.scheduler import Notice
from buddybot.storage import config as config_sql
from buddybot.storage import moderation as moderation_sql
from buddybot.storage import sharing as sql
from buddybot.storage import sharing_waits as waits_sql
from buddybot.storage.db import Database
from buddybot.storage.sharing import Item, Loan
from buddybot.text import clean_text, mention
from buddybot.when import DateWindow

KINDS = ("equipment", "it", "labour", "space")
UNIT = {"equipment": "items", "it": "items", "labour": "hours", "space": "slots"}
MAX_ITEMS = 25
NAME_MAX, DETAILS_MAX = 80, 300
DEFAULT_MAX_DAYS = 14
HOLD = timedelta(days=7)
SEARCH_LIMIT = 25
_MARKDOWN = re.compile(r"([\\*_~`|>#\[\]()-])")


# -- member text -------------------------------------------------------------------------------------------
def clean_name(value: str | None) -> str:
    """A thing's name: plain text, no mentions, no invisible or direction-changing characters."""
    name = clean_text(value, "name", NAME_MAX, required=True)
    assert name is not None
    return name


def fold(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def plain(text: str | None, limit: int = 80) -> str:
    """Member text for a notice the scheduler posts: shortened, markdown escaped, unable to ping."""
    if not text:
        return ""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _MARKDOWN.sub(r"\\\1", text).replace("@", "@\u200b")


def date_text(value: date) -> str:
    """ "Mon 21 Dec 2026", as every date a member reads."""
    return DateWindow(start=value, end=value).describe()


def amount(kind: str, quantity: int) -> str:
    unit = UNIT[kind]
    if unit == "items":
        return f"×{quantity}" if quantity != 1 else ""
    return f"{quantity} {unit[:-1] if quantity == 1 else unit}"


# -- time --------------------------------------------------------------------------------------------------
def local_moment(day: date, at: time, tz_name: str) -> datetime:
    """`at` o'clock on `day` in the guild's zone, as a UTC instant (when a reminder or deadline falls due)."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(tz_name)).astimezone(UTC)


def sharing_channel(conn: sqlite3.Connection, guild_id: int, fallback: int | None) -> int | None:
    return config_sql.get_config(conn, guild_id).sharing_channel_id or fallback


# -- units back, and on to the waiting list --------------------------------------------------------------
def release(conn: sqlite3.Connection, loan: Loan, now: datetime, channel_id: int | None) -> list[Notice]:
    """The loan's units go back to the thing; the first in line is told and their units held."""
    sql.give_back_units(conn, loan.item_id, loan.quantity)
    return offer_holds(conn, loan.guild_id, loan.item_id, now, channel_id)


def offer_holds(
    conn: sqlite3.Connection, guild_id: int, item_id: int, now: datetime, channel_id: int | None
) -> list[Notice]:
    """First come, first served: while the head of the line fits in what is free, hold it for them."""
    notices: list[Notice] = []
    item = sql.get_item(conn, guild_id, item_id)
    if item is None or item.removed_at is not None:
        return notices
    while (wait := waits_sql.first_waiting(conn, item_id)) is not None:
        if not sql.take_units(conn, item_id, wait.quantity):
            break
        until = now + HOLD
        waits_sql.set_wait(conn, wait.id, "waiting", "held", utc_iso(until))
        scheduler.schedule(conn, guild_id, "share.hold_lapse", wait.id, until, now)
        if channel_id:
            notices.append(
                Notice(
                    channel_id,
                    f"{mention(wait.user_id)} **{plain(item.name)}** {amount(item.kind, wait.quantity)} is free again "
                    f"and held for you until {date_text(until.date())}: ask for it with `/borrow` "
                    f"(item #{item.id}) within 7 days.",
                    ping=(wait.user_id,),
                )
            )
    return notices


@scheduler.job_kind("share.hold_lapse", pings=True)
def hold_lapse(conn: sqlite3.Connection, job: scheduler.Job, now: datetime) -> scheduler.Outcome | None:
    """A hold nobody used in 7 days lapses; the units go to the next in line."""
    wait = waits_sql.get_wait(conn, job.ref_id)
    if wait is None or not waits_sql.set_wait(conn, wait.id, "held", "lapsed", wait.hold_until):
        return None
    sql.give_back_units(conn, wait.item_id, wait.quantity)
    channel = sharing_channel(conn, job.guild_id, sql.last_channel(conn, wait.item_id))
    return scheduler.Outcome(notices=offer_holds(conn, job.guild_id, wait.item_id, now, channel))


# -- /share add, list, remove, find ----------------------------------------------------------------------
class Added(Record):
    item: Item
    count: int


def _add(
    conn: sqlite3.Connection, guild_id: int, owner_id: int, kind: str, name: str, details: str | None,
    max_days: int, quantity: int, now: str,
) -> Added:  # fmt: skip
    folded = fold(name)
    if sql.find_own(conn, guild_id, owner_id, folded) is not None:
        raise BuddyError(f"You already share “{plain(name, 40)}”. Remove it first to change it.")
    count = sql.count_items(conn, guild_id, owner_id)
    if count >= MAX_ITEMS:
        raise BuddyError(f"You share {MAX_ITEMS} things already, the most one member can. Remove one first.")
    item_id = sql.insert_item(conn, guild_id, owner_id, kind, name, folded, details, max_days, quantity, now)
    item = sql.get_item(conn, guild_id, item_id)
    assert item is not None
    return Added(item=item, count=count + 1)


async def add(
    db: Database, guild_id: int, owner_id: int, *, kind: str, name: str, details: str | None = None,
    max_days: int | None = None, quantity: int | None = None, now: datetime,
) -> Added:  # fmt: skip
    if kind not in KINDS:
        raise BuddyError(f"Kind must be one of: {', '.join(KINDS)}.")
    clean = clean_name(name)
    text = clean_text(details, "details", DETAILS_MAX, multiline=True)
    days = DEFAULT_MAX_DAYS if max_days is None else max_days
    if not 1 <= days <= 90:
        raise BuddyError("max_days must be between 1 and 90.")
    units = 1 if quantity is None else quantity
    if not 1 <= units <= 1000:
        raise BuddyError(f"quantity ({UNIT[kind]}) must be between 1 and 1000.")
    return await db.write(_add, guild_id, owner_id, kind, clean, text, days, units, utc_iso(now))


async def list_of(db: Database, guild_id: int, owner_id: int) -> list[Item]:
    return await db.read(sql.items_of, guild_id, owner_id)


async def find(db: Database, guild_id: int, query: str, kind: str | None = None) -> list[Item]:
    if kind is not None and kind not in KINDS:
        raise BuddyError(f"Kind must be one of: {', '.join(KINDS)}.")
    return await db.read(sql.search, guild_id, fold(query[:NAME_MAX]), kind, SEARCH_LIMIT)


async def get(db: Database, guild_id: int, item_id: int) -> Item | None:
    item = await db.read(sql.get_item, guild_id, item_id)
    return item if item is not None and item.removed_at is None else None


class Removed(Record):
    item: Item
    ended: list[Loan]  # requests that will never be lent now (their posts lose their buttons)
    notices: list[Notice] = []


def end_unstarted(conn: sqlite3.Connection, item: Item, now: datetime) -> list[Loan]:
    """A removed thing: requests and approved loans are cancelled, the waiting list is dropped."""
    ended = []
    for loan in sql.open_loans_of_item(conn, item.id, ("requested", "approved")):
        new = next_state(loan.state, Event.MODERATE)
        if sql.transition(
            conn, loan.id, loan.state, new.value, {"closed_at": utc_iso(now), "closed_how": "removed"}
        ):
            sql.give_back_units(conn, item.id, loan.quantity)
            for kind in ("loan.expire", "loan.start", "loan.remind", "loan.overdue"):
                scheduler.cancel(conn, item.guild_id, kind, loan.id, now)
            ended.append(sql.get_loan(conn, item.guild_id, loan.id))
    for wait_id, state, quantity in waits_sql.end_waits_of_item(conn, item.id):
        if state == "held":
            sql.give_back_units(conn, item.id, quantity)
        scheduler.cancel(conn, item.guild_id, "share.hold_lapse", wait_id, now)
    return [loan for loan in ended if loan is not None]


def _remove(
    conn: sqlite3.Connection, guild_id: int, actor: Actor, item_id: int, reason: str | None, now: datetime
) -> Removed:
    item = sql.get_item(conn, guild_id, item_id)
    if item is None or item.removed_at is not None:
        raise BuddyError(f"There is no shared thing #{item_id} in this server. `/share list` shows yours.")
    if reason is None and item.owner_id != actor.user_id:
        raise BuddyError("You can only remove things you share yourself.")
    if reason is not None:
        require_moderator(conn, guild_id, actor)
        moderation_sql.audit(conn, guild_id, actor.user_id, "remove_share", "member", item.owner_id,
                             f"#{item.id}: {reason}", utc_iso(now))  # fmt: skip
    sql.remove_item(conn, guild_id, item_id, actor.user_id, utc_iso(now))
    return Removed(item=item, ended=end_unstarted(conn, item, now))


async def remove(db: Database, guild_id: int, actor: Actor, item_id: int, *, now: datetime) -> Removed:
    """The owner takes a thing back off the shelf; loans already out run to their end."""
    return await db.write(_remove, guild_id, actor, item_id, None, now)


async def moderator_remove(
    db: Database, guild_id: int, actor: Actor, item_id: int, reason: str, *, now: datetime
) -> Removed:
    """A moderator removes a shared thing (audited against its owner); loans already out run to their end."""
    text = clean_text(reason, "reason", 300, required=True)
    return await db.write(_remove, guild_id, actor, item_id, text, now)
