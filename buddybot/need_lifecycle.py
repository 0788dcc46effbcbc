"""A request's life after it is posted: the fair first-answer window, and the jobs that follow it up.

First-answer window (`pitch_window_minutes`, default 30): everyone who volunteers before it ends counts as
first. The pick menu opens when it ends, or as soon as every pinged member has answered (volunteered or
passed), and lists those volunteers in a random order fixed per request (a seed drawn when the request is
stored), not in click order; later volunteers follow in click order. Without it the members who are always
online would win every referral (bench/fairness.py --window shows by how much).

The jobs themselves (opening the menu, nudges, expiry) run in buddybot/need_jobs.py on the one scheduler.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from buddybot import scheduler, stats
from buddybot.models import GuildConfig, utc_iso
from buddybot.storage import lifecycle as sql

MAX_NUDGES = 2
# A request whose post never got recorded (the process died between storing and posting) is removed.
UNPOSTED_GRACE = timedelta(minutes=15)


class Answer(Protocol):
    user_id: int
    created_at: str | None


A = TypeVar("A", bound=Answer)


def seed() -> int:
    return secrets.randbits(62)


def order_key(pick_seed: int, user_id: int) -> str:
    return hashlib.sha256(f"{pick_seed}:{user_id}".encode()).hexdigest()


def ordered(volunteers: Sequence[A], pick_seed: int, picks_open_at: str | None) -> tuple[A, ...]:
    """Volunteers inside the window in the request's fixed random order, then later ones by time."""
    if picks_open_at is None:
        return tuple(volunteers)
    first = [v for v in volunteers if (v.created_at or "") <= picks_open_at]
    later = [v for v in volunteers if (v.created_at or "") > picks_open_at]
    first.sort(key=lambda v: order_key(pick_seed, v.user_id))
    return (*first, *later)


def picks_open(picks_open_at: str | None, now: datetime) -> bool:
    return picks_open_at is None or utc_iso(now) >= picks_open_at


def expiry_moment(end: date, tz_name: str) -> datetime:
    """Midnight after the window's last day, in the guild's time zone."""
    return datetime.combine(end + timedelta(days=1), time(0), tzinfo=ZoneInfo(tz_name)).astimezone(UTC)


def start(
    conn: sqlite3.Connection, guild_id: int, need_id: int, end: date, config: GuildConfig, now: datetime
) -> datetime:
    """In the unit that stores the request: fix its window and seed, and schedule its follow-ups."""
    opens = now + timedelta(minutes=config.pitch_window_minutes)
    if opens > now:
        sql.set_window(conn, need_id, utc_iso(opens), seed())
        scheduler.schedule(conn, guild_id, "need.open_picks", need_id, opens, now)
    # no window (0 minutes): picks_open_at stays NULL, the menu is open at once and lists in click order
    scheduler.schedule(
        conn, guild_id, "need.nudge", need_id, now + timedelta(hours=config.nudge_after_hours), now, tag="1"
    )
    scheduler.schedule(conn, guild_id, "need.expire", need_id, expiry_moment(end, config.timezone), now)
    scheduler.schedule(conn, guild_id, "need.unposted", need_id, now + UNPOSTED_GRACE, now)
    return opens


def answered(conn: sqlite3.Connection, need_id: int, picks_open_at: str | None, now: datetime) -> bool:
    """After a volunteer or a pass: open the menu early once every pinged member has answered."""
    if picks_open(picks_open_at, now):
        return False
    pinged, waiting = sql.unanswered_pings(conn, need_id)
    return pinged > 0 and waiting == 0 and sql.open_picks_now(conn, need_id, utc_iso(now))


def record_speed(
    conn: sqlite3.Connection, guild_id: int, user_id: int, posted_at: str, now: datetime
) -> None:
    seconds = max(0, int((now - datetime.fromisoformat(posted_at)).total_seconds()))
    sql.record_answer(conn, guild_id, user_id, seconds)


def count_if_fast(conn: sqlite3.Connection, guild_id: int, receiver_id: int, now: datetime) -> None:
    """In the pick's unit: if the receiver is in the fastest tenth of responders (as of today's threshold),
    count the referral for /stats' "fastest decile's share" in the five periods containing now (UTC)."""
    if sql.is_fast_responder(conn, guild_id, receiver_id, now.astimezone(UTC).date().isoformat()):
        stats.bump(conn, guild_id, now, "ref_fast")
