"""Group buys: pool members' orders to reach a supplier's bulk price. BuddyBot handles no money.

Every action is one unit of work (one DB round trip): the permission check, the state check, the write
and the re-read the cog renders from. The terms freeze at the first pledge: the pledge's conditional
UPDATE sets `frozen_at` and an edit's UPDATE requires it to be NULL, so an edit and a pledge can never
both win. The deadline and the 24-hour reminder are scheduler jobs (run once across restarts); the
deadline decides succeeded/failed automatically and allocates full cases (buddybot/allocation.py).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from buddybot import scheduler, stats
from buddybot.allocation import Allocation, Pledge, allocate, orderable_units
from buddybot.errors import BuddyError
from buddybot.groupbuy_terms import (
    Terms,
    TermsText,
    clean_terms,
    next_tier,
    percent,
    terms_hash,
    tier_for,
)
from buddybot.guildconfig import is_moderator
from buddybot.models import Actor, Record, utc_iso
from buddybot.storage import config as config_sql
from buddybot.storage import groupbuys as sql
from buddybot.storage.db import Database
from buddybot.storage.groupbuys import GroupBuy, PledgeRow, Totals
from buddybot.text import clean_text, visible
from buddybot.when import guild_locale, parse_until, today_in

MAX_OPEN_PER_ORGANISER = 3
MAX_DEADLINE_DAYS = 60
CLOSES_AT = time(20, 0)  # local time on the deadline day: outcomes land before quiet hours (21:00)
REMIND_BEFORE = timedelta(hours=24)
MILESTONES = (50, 80, 100)
LIST_LIMIT = 25
HASH_SHOWN = 16  # the part of the terms hash a pledge form carries
DEADLINE, REMIND, ANNOUNCE = "groupbuy.deadline", "groupbuy.remind", "groupbuy.announce"
NOTICE_CHARS = 1900
NOTICE_PINGS = 90  # Discord caps allowed_mentions.users at 100


class Progress(Record):
    """What the post shows, derived from the totals alone."""

    firm: int
    tolerance: int
    pledgers: int
    orderable: int  # full cases the pledges fill now, in units
    percent: int
    price: int  # per unit at the tier `orderable` reaches
    next_at: int | None  # units where the next tier starts
    next_price: int | None


class Snapshot(Record):
    buy: GroupBuy
    progress: Progress
    pledges: list[PledgeRow] = []  # only when asked for (organiser's view, export)
    mine: PledgeRow | None = None


class Pledged(Record):
    snapshot: Snapshot
    milestone: int | None  # a milestone this pledge reached (the post says so; nobody is pinged)
    replaced: bool


def progress_of(terms: Terms, totals: Totals) -> Progress:
    units = orderable_units(totals.firm, totals.tolerance, terms.case_size)
    _, price = tier_for(terms.tiers, units)
    upcoming = next_tier(terms.tiers, units)
    return Progress(
        firm=totals.firm, tolerance=totals.tolerance, pledgers=totals.pledgers, orderable=units,
        percent=percent(units, terms.target), price=price,
        next_at=upcoming[0] if upcoming else None, next_price=upcoming[1] if upcoming else None,
    )  # fmt: skip


def milestone_for(orderable: int, target: int) -> int:
    return max((m for m in MILESTONES if orderable * 100 >= m * target), default=0)


def snapshot_in(
    conn: sqlite3.Connection, guild_id: int, buy_id: int, *, with_pledges: bool = False, user_id: int = 0
) -> Snapshot:
    buy = _load(conn, guild_id, buy_id)
    totals = sql.totals(conn, guild_id, buy_id)
    return Snapshot(
        buy=buy,
        progress=progress_of(buy.terms, totals),
        pledges=sql.pledges(conn, guild_id, buy_id) if with_pledges else [],
        mine=sql.pledge_of(conn, guild_id, buy_id, user_id) if user_id else None,
    )


def _load(conn: sqlite3.Connection, guild_id: int, buy_id: int) -> GroupBuy:
    buy = sql.get(conn, guild_id, buy_id)
    if buy is None:
        raise BuddyError(
            f"There is no group buy #{buy_id} in this server. `/groupbuy list` shows the open ones."
        )
    return buy


def deadline_from(text: str, tz_name: str, now: datetime, locale: str | None = None) -> datetime:
    """A when-expression's last day, at 20:00 guild time, as UTC; in the future and within 60 days.
    `locale` decides how numeric dates read ("12/20" in en-US)."""
    cleaned = clean_text(text, "deadline", 100, required=True) or ""
    window = parse_until(cleaned, today_in(tz_name, now), locale)
    moment = datetime.combine(window.end, CLOSES_AT, tzinfo=ZoneInfo(tz_name)).astimezone(UTC)
    if moment <= now:
        raise BuddyError(
            "Group buys close at 20:00 on their last day, and that has passed: pick a later day."
        )
    if moment - now > timedelta(days=MAX_DEADLINE_DAYS):
        raise BuddyError(f"The deadline can be at most {MAX_DEADLINE_DAYS} days away.")
    return moment


def _schedule_jobs(
    conn: sqlite3.Connection, buy: GroupBuy, deadline: datetime, now: datetime, tag: str
) -> None:
    scheduler.schedule(conn, buy.guild_id, DEADLINE, buy.id, deadline, now)
    if deadline - REMIND_BEFORE > now:
        scheduler.schedule(conn, buy.guild_id, REMIND, buy.id, deadline - REMIND_BEFORE, now, tag=tag)


# -- start and edit --------------------------------------------------------------------------------------
def _start(
    conn: sqlite3.Connection, guild_id: int, organiser_id: int, channel_id: int, raw: TermsText, target: int,
    deadline_text: str, now: datetime, locale: str | None = None,
) -> Snapshot:  # fmt: skip
    config = config_sql.get_config(conn, guild_id)
    if sql.open_count(conn, guild_id, organiser_id) >= MAX_OPEN_PER_ORGANISER:
        raise BuddyError(
            f"You already run {MAX_OPEN_PER_ORGANISER} open group buys; wait for one to close, or cancel one."
        )
    terms = clean_terms(raw, target, config.currency)
    deadline = deadline_from(deadline_text, config.timezone, now, guild_locale(config.locale, locale))
    where = config.groupbuy_channel_id or channel_id
    buy_id = sql.insert(
        conn, guild_id, organiser_id, terms, terms_hash(terms), utc_iso(deadline), where, utc_iso(now)
    )
    buy = _load(conn, guild_id, buy_id)
    _schedule_jobs(conn, buy, deadline, now, tag="")
    stats.bump(conn, guild_id, now, "gb_started")
    return snapshot_in(conn, guild_id, buy_id)


async def start(
    db: Database, guild_id: int, organiser_id: int, channel_id: int, raw: TermsText, target: int,
    deadline: str, *, now: datetime, locale: str | None = None,
) -> Snapshot:  # fmt: skip
    """`locale` is Discord's guild_locale, for numeric dates (the /config locale wins)."""
    return await db.write(_start, guild_id, organiser_id, channel_id, raw, target, deadline, now, locale)


async def record_post(db: Database, guild_id: int, buy_id: int, channel_id: int, message_id: int,
                      thread_id: int | None) -> None:  # fmt: skip
    await db.write(sql.set_post, guild_id, buy_id, channel_id, message_id, thread_id)


def _frozen_refusal(buy: GroupBuy) -> BuddyError:
    return BuddyError(
        f"The terms of group buy #{buy.id} are frozen: members have pledged against them. "
        "To change them, cancel this buy and start a new one."
    )


def _edit_form(conn: sqlite3.Connection, guild_id: int, buy_id: int, actor_id: int) -> GroupBuy:
    buy = _load(conn, guild_id, buy_id)
    if buy.organiser_id != actor_id:
        raise BuddyError("Only the organiser can change a group buy's terms.")
    if buy.state != "open":
        raise BuddyError(f"Group buy #{buy.id} is {buy.state}; nothing about it can change any more.")
    if buy.frozen_at is not None:
        raise _frozen_refusal(buy)
    return buy


async def edit_form(db: Database, guild_id: int, buy_id: int, actor_id: int) -> GroupBuy:
    return await db.read(_edit_form, guild_id, buy_id, actor_id)


def _edit(
    conn: sqlite3.Connection, guild_id: int, buy_id: int, actor_id: int, raw: TermsText, target: int | None
) -> Snapshot:
    buy = _edit_form(conn, guild_id, buy_id, actor_id)  # re-checked here: a form opened earlier may be stale
    terms = clean_terms(raw, buy.terms.target if target is None else target, buy.terms.currency)
    if not sql.replace_terms(conn, guild_id, buy_id, terms, terms_hash(terms)):
        raise _frozen_refusal(buy)
    return snapshot_in(conn, guild_id, buy_id)


async def edit(
    db: Database, guild_id: int, buy_id: int, actor_id: int, raw: TermsText, target: int | None
) -> Snapshot:
    return await db.write(_edit, guild_id, buy_id, actor_id, raw, target)


# -- pledging --------------------------------------------------------------------------------------------
def _open_for_pledges(buy: GroupBuy, now: datetime) -> None:
    if buy.state != "open":
        raise BuddyError(f"Group buy #{buy.id} is {buy.state}; pledges can no longer change.")
    if utc_iso(now) >= buy.deadline_at:
        raise BuddyError(f"Group buy #{buy.id} has reached its deadline; pledges can no longer change.")


def cap_units(terms: Terms, cap_percent: int) -> int:
    """The most one member may pledge (firm plus tolerance): a share of the target, rounded down."""
    return max(1, terms.target * cap_percent // 100)


class PledgeForm(Record):
    buy: GroupBuy
    mine: PledgeRow | None
    cap: int


def _pledge_form(
    conn: sqlite3.Connection, guild_id: int, buy_id: int, user_id: int, now: datetime
) -> PledgeForm:
    buy = _load(conn, guild_id, buy_id)
    _open_for_pledges(buy, now)
    cap = cap_units(buy.terms, config_sql.get_config(conn, guild_id).pledge_cap_percent)
    return PledgeForm(buy=buy, mine=sql.pledge_of(conn, guild_id, buy_id, user_id), cap=cap)


async def pledge_form(db: Database, guild_id: int, buy_id: int, user_id: int, *, now: datetime) -> PledgeForm:
    return await db.read(_pledge_form, guild_id, buy_id, user_id, now)


def _count(text: str | None, field: str, *, minimum: int) -> int:
    value = (text or "").strip() or ("0" if minimum == 0 else "")
    if not value.isdigit() or len(value) > 7:
        raise BuddyError(f"{field} must be a whole number of units (you typed “{value[:20]}”).")
    number = int(value)
    if number < minimum:
        raise BuddyError(f"{field} must be at least {minimum}. To take back a pledge, press **Withdraw**.")
    return number


def _pledge(
    conn: sqlite3.Connection, guild_id: int, buy_id: int, user_id: int, name: str | None, quantity: int,
    tolerance: int, shown_hash: str, now: datetime,
) -> Pledged:  # fmt: skip
    buy = _load(conn, guild_id, buy_id)
    _open_for_pledges(buy, now)
    if not buy.terms_hash.startswith(shown_hash) or len(shown_hash) != HASH_SHOWN:
        raise BuddyError(
            f"The terms of group buy #{buy.id} changed after you opened the form. Nothing was pledged: "
            "please read the post again and press **Pledge**."
        )
    cap = cap_units(buy.terms, config_sql.get_config(conn, guild_id).pledge_cap_percent)
    if quantity + tolerance > cap:
        raise BuddyError(
            f"One member may pledge at most {cap} units here (quantity plus tolerance), a share of the "
            f"{buy.terms.target}-unit target, so that the buy stays a shared one."
        )
    stamp = utc_iso(now)
    seq = sql.take_turn(conn, guild_id, buy_id, buy.terms_hash, stamp)
    if seq is None:  # closed or edited by a unit that committed first
        raise BuddyError(f"Group buy #{buy.id} changed a moment ago; please look at it again.")
    replaced = sql.pledge_of(conn, guild_id, buy_id, user_id) is not None
    sql.upsert_pledge(conn, guild_id, buy_id, user_id, name, quantity, tolerance, seq, buy.terms_hash, stamp)
    snap = snapshot_in(conn, guild_id, buy_id, user_id=user_id)
    reached = milestone_for(snap.progress.orderable, buy.terms.target)
    milestone = reached if reached and sql.set_milestone(conn, guild_id, buy_id, reached) else None
    if milestone is not None:
        snap = snapshot_in(conn, guild_id, buy_id, user_id=user_id)
    return Pledged(snapshot=snap, milestone=milestone, replaced=replaced)


async def pledge(
    db: Database, guild_id: int, buy_id: int, user_id: int, name: str | None, quantity: str, tolerance: str | None,
    shown_hash: str, *, now: datetime,
) -> Pledged:  # fmt: skip
    """Set the member's pledge to these totals (a new pledge replaces the old one, it never adds to it)."""
    firm = _count(quantity, "Quantity", minimum=1)
    extra = _count(tolerance, "Tolerance", minimum=0)
    shown = visible(name)[:80] if name else None  # display names may carry hidden characters
    return await db.write(_pledge, guild_id, buy_id, user_id, shown, firm, extra, shown_hash, now)


def _withdraw(conn: sqlite3.Connection, guild_id: int, buy_id: int, user_id: int, now: datetime) -> Snapshot:
    buy = _load(conn, guild_id, buy_id)
    _open_for_pledges(buy, now)
    if not sql.delete_pledge(conn, guild_id, buy_id, user_id):
        raise BuddyError(f"You have no pledge in group buy #{buy.id}.")
    sql.bump_version(conn, guild_id, buy_id)
    return snapshot_in(conn, guild_id, buy_id)


async def withdraw(db: Database, guild_id: int, buy_id: int, user_id: int, *, now: datetime) -> Snapshot:
    return await db.write(_withdraw, guild_id, buy_id, user_id, now)


# -- extension and cancellation -------------------------------------------------------------------------
def _extend(
    conn: sqlite3.Connection, guild_id: int, buy_id: int, actor_id: int, deadline_text: str, now: datetime,
    locale: str | None = None,
) -> Snapshot:  # fmt: skip
    buy = _load(conn, guild_id, buy_id)
    if buy.organiser_id != actor_id:
        raise BuddyError("Only the organiser can extend a group buy's deadline.")
    _open_for_pledges(buy, now)
    if buy.extended:
        raise BuddyError(f"Group buy #{buy.id} was extended once already; a deadline moves only once.")
    config = config_sql.get_config(conn, guild_id)
    deadline = deadline_from(deadline_text, config.timezone, now, guild_locale(config.locale, locale))
    if utc_iso(deadline) <= buy.deadline_at:
        raise BuddyError("An extension must move the deadline later.")
    if deadline - datetime.fromisoformat(buy.created_at) > timedelta(days=MAX_DEADLINE_DAYS):
        raise BuddyError(f"A group buy can run at most {MAX_DEADLINE_DAYS} days from its start.")
    if not sql.extend(conn, guild_id, buy_id, utc_iso(deadline)):
        raise BuddyError(f"Group buy #{buy.id} changed a moment ago; please look at it again.")
    scheduler.cancel(
        conn, guild_id, REMIND, buy_id, now
    )  # a pending reminder would say "24 hours left" too early
    _schedule_jobs(conn, buy, deadline, now, tag="extended")
    return snapshot_in(conn, guild_id, buy_id, with_pledges=True)


async def extend(
    db: Database, guild_id: int, buy_id: int, actor_id: int, deadline: str, *, now: datetime,
    locale: str | None = None,
) -> Snapshot:  # fmt: skip
    return await db.write(_extend, guild_id, buy_id, actor_id, deadline, now, locale)


def _cancel(
    conn: sqlite3.Connection, guild_id: int, buy_id: int, actor: Actor, reason: str, now: datetime
) -> Snapshot:
    buy = _load(conn, guild_id, buy_id)
    moderator = is_moderator(config_sql.get_config(conn, guild_id), actor)
    if buy.organiser_id != actor.user_id and not moderator:
        raise BuddyError("Only the organiser or a moderator can cancel a group buy.")
    if buy.state != "open":
        raise BuddyError(f"Group buy #{buy.id} is already {buy.state}.")
    if utc_iso(now) >= buy.deadline_at and not moderator:
        raise BuddyError(f"Group buy #{buy.id} has reached its deadline; its outcome is being worked out.")
    if not sql.close(conn, guild_id, buy_id, "cancelled", utc_iso(now), actor.user_id, reason):
        raise BuddyError(f"Group buy #{buy.id} changed a moment ago; please look at it again.")
    for kind in (DEADLINE, REMIND):
        scheduler.cancel(conn, guild_id, kind, buy_id, now)
    return snapshot_in(conn, guild_id, buy_id, with_pledges=True)


async def cancel(
    db: Database, guild_id: int, buy_id: int, actor: Actor, reason: str, *, now: datetime
) -> Snapshot:
    text = clean_text(reason, "reason", 300, required=True) or ""
    return await db.write(_cancel, guild_id, buy_id, actor, text, now)


# -- reading --------------------------------------------------------------------------------------------
def _view(conn: sqlite3.Connection, guild_id: int, buy_id: int, actor: Actor, export: bool) -> Snapshot:
    buy = _load(conn, guild_id, buy_id)
    insider = buy.organiser_id == actor.user_id or is_moderator(config_sql.get_config(conn, guild_id), actor)
    if export and not insider:
        raise BuddyError("Only the organiser (or a moderator) can export a group buy's order.")
    return snapshot_in(conn, guild_id, buy_id, with_pledges=insider, user_id=actor.user_id)


async def view(db: Database, guild_id: int, buy_id: int, actor: Actor, *, export: bool = False) -> Snapshot:
    return await db.read(_view, guild_id, buy_id, actor, export)


def _list_open(conn: sqlite3.Connection, guild_id: int) -> list[Snapshot]:
    buys = sql.list_open(conn, guild_id, LIST_LIMIT)
    totals = sql.open_totals(conn, guild_id, [b.id for b in buys])
    return [Snapshot(buy=b, progress=progress_of(b.terms, totals.get(b.id, Totals()))) for b in buys]


async def list_open(db: Database, guild_id: int) -> list[Snapshot]:
    return await db.read(_list_open, guild_id)


async def snapshot(db: Database, guild_id: int, buy_id: int) -> Snapshot:
    return await db.read(snapshot_in, guild_id, buy_id)


def allocation_of(snap: Snapshot) -> Allocation:
    """The allocation of a snapshot taken with its pledges (queue order)."""
    return allocate(
        [Pledge(p.user_id, p.quantity, p.tolerance) for p in snap.pledges], snap.buy.terms.case_size
    )


def joined(conn: sqlite3.Connection, guild_id: int, user_id: int) -> int:
    """Group buys the member pledged in (for /profile view)."""
    return sql.joined_count(conn, guild_id, user_id)
