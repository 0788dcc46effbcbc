"""Overflow referrals: who a /need pings, and how a request goes from open to filled, closed or expired.

Every public coroutine is ONE unit of work (one DB round trip) that re-checks who may act inside it.
No Discord types here: the cog renders what these functions return.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta

from buddybot import need_lifecycle as lifecycle
from buddybot import skills as skillmod
from buddybot.errors import BuddyError
from buddybot.guildconfig import is_moderator
from buddybot.models import Actor, Record, utc_iso
from buddybot.storage import config as config_sql
from buddybot.storage import referrals as sql
from buddybot.storage import registry as registry_sql
from buddybot.storage.db import Database, queued
from buddybot.text import clean_text, visible
from buddybot.when import DateWindow, guild_locale, parse_when, today_in

MAX_OPEN_NEEDS = 5
FAIRNESS_WINDOW = timedelta(days=30)
UNPOSTED_GRACE = lifecycle.UNPOSTED_GRACE
DETAILS_MAX = 500
AREA_MAX = 60

_ENDED = {
    "filled": "This request has already been filled.",
    "closed": "This request has been closed.",
    "expired": "This request has expired.",
    "removed": "This request was removed by a moderator.",
}
GONE = "This request no longer exists."


class Need(Record):
    id: int
    guild_id: int
    requester_id: int
    skill: str
    start: date
    end: date
    details: str | None = None
    area: str | None = None
    state: str = "open"
    version: int = 0
    channel_id: int | None = None
    message_id: int | None = None
    thread_id: int | None = None
    created_at: str
    ended_at: str | None = None
    ended_by: int | None = None
    picked_id: int | None = None
    picks_open_at: str | None = None  # end of the first-answer window (None: open from the start)
    pick_seed: int = 0
    nudges: int = 0
    requester_business: str | None = None

    @property
    def window(self) -> DateWindow:
        return DateWindow(start=self.start, end=self.end)

    @property
    def is_open(self) -> bool:
        return self.state == "open"

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Need:
        data = dict(row)
        data["start"], data["end"] = data.pop("start_date"), data.pop("end_date")
        return cls(**{k: v for k, v in data.items() if k in cls.model_fields})


class Volunteer(Record):
    user_id: int
    name: str
    business: str | None = None
    created_at: str | None = None


class NeedState(Record):
    """Everything the post shows, at one version of the need."""

    need: Need
    volunteers: tuple[Volunteer, ...] = ()  # in pick order (see need_lifecycle.ordered)
    picks_open: bool = True  # False during the first-answer window
    referral_id: int | None = None  # set by a pick


class Opened(Record):
    state: NeedState
    pinged: tuple[int, ...]
    channel_id: int | None  # the referrals channel, None = post where the command was used


class Volunteered(Record):
    state: NeedState
    created: bool


class Declined(Record):
    need: Need
    next_user_id: int | None
    state: NeedState | None  # set when declining also withdrew their volunteer offer


class OpenNeed(Record):
    need: Need
    volunteers: int


# -- matching -----------------------------------------------------------------------------------------
def match_need(conn: sqlite3.Connection, need: Need, limit: int) -> list[int]:
    """The next `limit` members to ping for `need`, best first, in one indexed query.

    Candidates offer the skill (canonical name, aliases already resolved), are not the requester,
    not hidden, have pings on, were not pinged for this need and have not volunteered, and are not
    /busy across the window. /busy always runs from today, so busy_until >= the window's last day
    leaves no free day in it: excluded; busy_until before the last day leaves free days: kept.
    Rank: explicitly available (an availability window overlapping the need's), then same area
    (trimmed, inner spaces collapsed, case-insensitive), then fewest pings in the last 30 days, then
    least recently pinged (never first), then user id. See storage.referrals.MATCH_SQL for the plan.
    """
    rows = sql.match(
        conn,
        guild_id=need.guild_id,
        skill=need.skill,
        start=need.start,
        end=need.end,
        area=need.area,
        requester_id=need.requester_id,
        need_id=need.id,
        limit=limit,
    )
    return [user_id for user_id, _tier in rows]


def _ping_next(conn: sqlite3.Connection, need: Need, limit: int, now: datetime) -> list[int]:
    sql.age_pings(conn, utc_iso(now - FAIRNESS_WINDOW))
    chosen = match_need(conn, need, limit)
    sql.record_pings(conn, need.guild_id, need.id, chosen, utc_iso(now))
    return chosen


# -- reading ----------------------------------------------------------------------------------------------
def _need(conn: sqlite3.Connection, guild_id: int, need_id: int) -> Need:
    row = sql.get_need(conn, need_id)
    if row is None or row["guild_id"] != guild_id:
        raise BuddyError(GONE)
    return Need.from_row(row)


def _open_need(conn: sqlite3.Connection, guild_id: int, need_id: int) -> Need:
    need = _need(conn, guild_id, need_id)
    if not need.is_open:
        raise BuddyError(_ENDED.get(need.state, GONE))
    return need


def _state(conn: sqlite3.Connection, need_id: int, now: datetime | None = None) -> NeedState:
    need = Need.from_row(sql.get_need(conn, need_id))
    volunteers = [Volunteer(**dict(r)) for r in sql.volunteers(conn, need_id)]
    return NeedState(
        need=need,
        volunteers=lifecycle.ordered(volunteers, need.pick_seed, need.picks_open_at),
        picks_open=lifecycle.picks_open(need.picks_open_at, now or datetime.now(UTC)),
    )


def need_state(conn: sqlite3.Connection, need_id: int, now: datetime | None = None) -> NeedState:
    """A need with its volunteers, inside the caller's unit of work (for other domains' units)."""
    return _state(conn, need_id, now)


async def current_state(db: Database, guild_id: int, need_id: int, *, now: datetime) -> NeedState:
    """The need as its post should show it now (a scheduled job's redraw)."""
    return await db.read(lambda conn: _state(conn, _need(conn, guild_id, need_id).id, now))


# -- asking ------------------------------------------------------------------------------------------------
@queued(lambda guild_id, *_: guild_id)  # every new need bumps the guild's roll-ups and members' ping counters
def _open(
    conn: sqlite3.Connection,
    guild_id: int,
    requester_id: int,
    skill: str,
    when: str,
    details: str | None,
    area: str | None,
    now: datetime,
    locale: str | None = None,
) -> Opened:
    config = config_sql.get_config(conn, guild_id)
    today = today_in(config.timezone, now)
    window = parse_when(when, today, guild_locale(config.locale, locale))
    skill = registry_sql.resolve_alias(conn, guild_id, skill)
    if sql.open_count(conn, guild_id, requester_id) >= MAX_OPEN_NEEDS:
        raise BuddyError(
            f"You already have {MAX_OPEN_NEEDS} open requests, the most at a time. "
            "Close one with `/need close` (see `/need list`) before asking again."
        )
    if sql.count_on_day(conn, guild_id, requester_id, today) >= config.daily_need_limit:
        raise BuddyError(
            f"You've posted {config.daily_need_limit} requests today, this server's daily limit. "
            "Please try again tomorrow."
        )
    if area is None:
        profile = sql.member(conn, guild_id, requester_id)
        area = profile["area"] if profile else None
    need_id = sql.insert_need(
        conn,
        guild_id=guild_id,
        requester_id=requester_id,
        skill=skill,
        start=window.start,
        end=window.end,
        details=details,
        area=area,
        created_day=today,
        now=utc_iso(now),
    )
    need = Need.from_row(sql.get_need(conn, need_id))
    pinged = _ping_next(conn, need, config.max_pings, now)
    lifecycle.start(conn, guild_id, need_id, window.end, config, now)
    return Opened(
        state=_state(conn, need_id, now), pinged=tuple(pinged), channel_id=config.referrals_channel_id
    )


async def open_need(
    db: Database,
    guild_id: int,
    requester_id: int,
    *,
    skill: str,
    when: str,
    details: str | None = None,
    area: str | None = None,
    now: datetime,
    locale: str | None = None,
) -> Opened:
    """Validate, store and choose whom to ping (their ping counters move now, in the same unit).

    `locale` is Discord's guild_locale; the server's /config locale wins over it for numeric dates."""
    name = skillmod.validate_skill(skill)
    text = clean_text(details, "details", DETAILS_MAX, multiline=True)
    where = clean_text(area, "area", AREA_MAX)
    return await db.write(_open, guild_id, requester_id, name, when, text, where, now, locale)


# The need's own row and the ping counters again: queued with the guild's new needs (see `_open`).
@queued(lambda guild_id, *_: guild_id)
def _record_post(
    conn: sqlite3.Connection,
    guild_id: int,
    need_id: int,
    channel_id: int,
    message_id: int,
    thread_id: int | None,
) -> None:
    sql.set_post(conn, guild_id, need_id, channel_id, message_id, thread_id)


@queued(lambda guild_id, *_: guild_id)
def _record_thread(conn: sqlite3.Connection, guild_id: int, need_id: int, thread_id: int | None) -> None:
    sql.set_thread(conn, guild_id, need_id, thread_id)


@queued(lambda guild_id, *_: guild_id)
def _discard(conn: sqlite3.Connection, guild_id: int, need_id: int) -> None:
    row = sql.get_need(conn, need_id)
    if row is not None and row["guild_id"] == guild_id:
        sql.delete_need(conn, need_id)


async def record_post(
    db: Database, guild_id: int, need_id: int, channel_id: int, message_id: int, thread_id: int | None
) -> None:
    await db.write(_record_post, guild_id, need_id, channel_id, message_id, thread_id)


async def record_thread(db: Database, guild_id: int, need_id: int, thread_id: int | None) -> None:
    """Only when the thread could not be made (record_post assumed the message's id)."""
    await db.write(_record_thread, guild_id, need_id, thread_id)


async def discard_need(db: Database, guild_id: int, need_id: int) -> None:
    """The post could not be made: forget the request and give the pinged members their counters back."""
    await db.write(_discard, guild_id, need_id)


def _open_needs(conn: sqlite3.Connection, guild_id: int, user_id: int) -> list[OpenNeed]:
    return [
        OpenNeed(need=Need.from_row(r), volunteers=r["volunteers"])
        for r in sql.open_needs_of(conn, guild_id, user_id)
    ]


async def my_open_needs(db: Database, guild_id: int, user_id: int) -> list[OpenNeed]:
    return await db.read(_open_needs, guild_id, user_id)


# -- answering -------------------------------------------------------------------------------------------
def _volunteer(
    conn: sqlite3.Connection, guild_id: int, need_id: int, user_id: int, name: str, now: datetime
) -> Volunteered:
    need = _open_need(conn, guild_id, need_id)
    if user_id == need.requester_id:
        raise BuddyError("This is your own request. Pick a volunteer from the menu once someone offers.")
    member = sql.member(conn, guild_id, user_id)
    if member is not None and member["hidden"]:
        raise BuddyError("You can't volunteer for requests at the moment. A moderator can tell you more.")
    created = sql.add_volunteer(conn, need_id, guild_id, user_id, visible(name), utc_iso(now))
    if created:
        sql.bump_version(conn, need_id)
        lifecycle.record_speed(conn, guild_id, user_id, need.created_at, now)
        lifecycle.answered(conn, need_id, need.picks_open_at, now)
    return Volunteered(state=_state(conn, need_id, now), created=created)


async def volunteer(
    db: Database, guild_id: int, need_id: int, user_id: int, name: str, *, now: datetime
) -> Volunteered:
    """I can take it: recorded once per member (UNIQUE), so double clicks and races change nothing."""
    label = (name or "").strip()[:80] or f"Member {user_id}"
    return await db.write(_volunteer, guild_id, need_id, user_id, label, now)


def _decline(conn: sqlite3.Connection, guild_id: int, need_id: int, user_id: int, now: datetime) -> Declined:
    need = _open_need(conn, guild_id, need_id)
    outcome = sql.decline(conn, need_id, user_id, utc_iso(now))
    if outcome == "not pinged":
        raise BuddyError(
            "Only members pinged for this request can pass on it. If you can help, press **I can take it**."
        )
    if outcome == "already":
        raise BuddyError("You've already passed on this one. Thanks for letting us know!")
    withdrew = sql.remove_volunteer(conn, need_id, user_id)
    if withdrew:
        sql.bump_version(conn, need_id)
    following = _ping_next(conn, need, 1, now)
    opened = lifecycle.answered(conn, need_id, need.picks_open_at, now)
    return Declined(
        need=need,
        next_user_id=following[0] if following else None,
        state=_state(conn, need_id, now) if withdrew or opened else None,
    )


async def decline(db: Database, guild_id: int, need_id: int, user_id: int, *, now: datetime) -> Declined:
    """Not this time: record it and choose the next-ranked candidate, in the same unit."""
    return await db.write(_decline, guild_id, need_id, user_id, now)


def _close(conn: sqlite3.Connection, guild_id: int, need_id: int, actor: Actor, now: datetime) -> NeedState:
    need = _need(conn, guild_id, need_id)
    if actor.user_id != need.requester_id and not is_moderator(config_sql.get_config(conn, guild_id), actor):
        raise BuddyError("Only the member who asked, or a moderator, can close this request.")
    if not need.is_open or not sql.end_need(conn, need_id, "closed", utc_iso(now), by=actor.user_id):
        raise BuddyError(_ENDED.get(need.state, GONE))
    return _state(conn, need_id, now)


async def close(db: Database, guild_id: int, need_id: int, actor: Actor, *, now: datetime) -> NeedState:
    return await db.write(_close, guild_id, need_id, actor, now)


def _pick(
    conn: sqlite3.Connection, guild_id: int, need_id: int, actor_id: int, volunteer_id: int, now: datetime
) -> NeedState:
    need = _need(conn, guild_id, need_id)
    if actor_id != need.requester_id:
        raise BuddyError("Only the member who asked can pick a volunteer.")
    if not need.is_open:
        raise BuddyError(_ENDED.get(need.state, GONE))
    if volunteer_id <= 0 or not sql.is_volunteer(conn, need_id, volunteer_id):
        raise BuddyError("That member hasn't volunteered for this request.")
    if not lifecycle.picks_open(need.picks_open_at, now):
        raise BuddyError(
            "The pick menu opens when the first-answer window ends "
            f"(<t:{int(datetime.fromisoformat(need.picks_open_at or '').timestamp())}:t>), so that everyone "
            "who answers in time has the same chance."
        )
    stamp = utc_iso(now)
    if not sql.end_need(conn, need_id, "filled", stamp, by=actor_id, picked=volunteer_id):
        raise BuddyError(_ENDED["filled"])
    referral_id = sql.insert_referral(
        conn, need_id, guild_id, need.requester_id, volunteer_id, need.skill, stamp
    )
    lifecycle.count_if_fast(conn, guild_id, volunteer_id, now)
    return _state(conn, need_id, now).model_copy(update={"referral_id": referral_id})


async def pick(
    db: Database, guild_id: int, need_id: int, actor_id: int, volunteer_id: int, *, now: datetime
) -> NeedState:
    """The requester picks a volunteer: one referral, even if two picks race (conditional UPDATE)."""
    return await db.write(_pick, guild_id, need_id, actor_id, volunteer_id, now)


# -- expiry ------------------------------------------------------------------------------------------------
def _expire_due(conn: sqlite3.Connection, now: datetime) -> list[NeedState]:
    stamp = utc_iso(now)
    sql.age_pings(conn, utc_iso(now - FAIRNESS_WINDOW))
    sql.prune_available(conn, now.astimezone(UTC).date() - timedelta(days=1))
    for need_id in sql.unposted_before(conn, utc_iso(now - UNPOSTED_GRACE)):
        sql.delete_need(conn, need_id)
    # No time zone is more than a day ahead of UTC, so this finds every candidate; each guild's own
    # "today" then decides: a need expires once its window's last day is over where the guild lives.
    latest = now.astimezone(UTC).date() + timedelta(days=1)
    expired = [
        row["id"]
        for row in sql.due_for_expiry(conn, latest)
        if date.fromisoformat(row["end_date"]) < today_in(row["timezone"], now)
        and sql.end_need(conn, row["id"], "expired", stamp)
    ]
    return [_state(conn, need_id, now) for need_id in expired]


async def expire_due(db: Database, *, now: datetime) -> list[NeedState]:
    """Expire unfilled needs the day after their window ends (guild time zone); returns what to re-render."""
    return await db.write(_expire_due, now)
