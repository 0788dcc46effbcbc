"""The scheduled steps of a request's life: open the pick menu, nudge when nobody answered, expire it.

Each step runs inside the scheduler's claim transaction (buddybot/scheduler.py), so its state change and
the claim commit together; what it returns is delivered afterwards. Import this module at start-up (the
referrals cog does) so that the kinds are registered before a request schedules them.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from buddybot import need_lifecycle as lifecycle
from buddybot import referrals
from buddybot.models import utc_iso
from buddybot.scheduler import Job, Notice, Outcome, job_kind, schedule
from buddybot.storage import config as config_sql
from buddybot.storage import directory as directory_sql
from buddybot.storage import lifecycle as lifecycle_sql
from buddybot.storage import referrals as sql
from buddybot.text import mention
from buddybot.when import today_in


def _open_need(conn: sqlite3.Connection, job: Job) -> referrals.Need | None:
    row = sql.get_need(conn, job.ref_id)
    if row is None or row["guild_id"] != job.guild_id or row["state"] != "open":
        return None
    return referrals.Need.from_row(row)


def _where(need: referrals.Need) -> int | None:
    """The request's thread, else the channel it was posted in (None: it was never posted)."""
    return need.thread_id or need.channel_id


@job_kind("need.open_picks", pings=False)
def open_picks(conn: sqlite3.Connection, job: Job, now: datetime) -> Outcome | None:
    """The first-answer window is over: redraw the post with the pick menu, and say so in the thread."""
    need = _open_need(conn, job)
    if need is None:
        return None
    sql.bump_version(conn, need.id)  # the post changes (menu open) although no row it shows did
    volunteers = lifecycle_sql.volunteer_count(conn, need.id)
    notices = []
    where = _where(need)
    if volunteers and where:
        notices.append(
            Notice(
                where,
                f"The first-answer window is over: {volunteers} member{'s' if volunteers != 1 else ''} "
                f"offered, listed in a random order. {mention(need.requester_id)} can pick one now.",
                ping=(),
            )
        )
    return Outcome(notices=notices, refresh=[("need", need.id)])


@job_kind("need.nudge", pings=True, max_late=timedelta(hours=12))
def nudge(conn: sqlite3.Connection, job: Job, now: datetime) -> Outcome | None:
    """Nobody volunteered yet: ping the next candidates (never anyone pinged before), at most twice."""
    need = _open_need(conn, job)
    if need is None or need.nudges >= lifecycle.MAX_NUDGES or lifecycle_sql.volunteer_count(conn, need.id):
        return None
    config = config_sql.get_config(conn, need.guild_id)
    if need.end < today_in(config.timezone, now):
        return None  # the work's dates are over: expiry, not a nudge
    where = _where(need)
    if where is None:
        return None
    chosen = referrals._ping_next(conn, need, config.max_pings, now)
    if not chosen:
        return Outcome(
            notices=[
                Notice(
                    where,
                    f"{mention(need.requester_id)}: nobody has volunteered yet, and there is nobody else who "
                    "offers this skill and is free to ask. Anyone can still press **I can take it**.",
                    ping=(need.requester_id,),
                )
            ]
        )
    sent = lifecycle_sql.count_nudge(conn, need.id, utc_iso(now))
    if sent < lifecycle.MAX_NUDGES:
        schedule(
            conn, need.guild_id, "need.nudge", need.id, now + timedelta(hours=config.nudge_after_hours), now,
            tag=str(sent + 1),
        )  # fmt: skip
    who = " ".join(mention(u) for u in chosen)
    return Outcome(
        notices=[
            Notice(
                where,
                f"{who}: you offer **{need.skill}**. Nobody has taken this request yet "
                f"({need.window.describe()}): could you? Press **I can take it** on the post.\n"
                f"{mention(need.requester_id)}: no one had volunteered, so I've asked "
                f"{len(chosen)} more member{'s' if len(chosen) != 1 else ''} (nudge {sent} of "
                f"{lifecycle.MAX_NUDGES}).",
                ping=(*chosen, need.requester_id),
            )
        ]
    )


@job_kind("need.expire", pings=False)
def expire(conn: sqlite3.Connection, job: Job, now: datetime) -> Outcome | None:
    """The day after the window's last day (guild time zone), an unfilled request expires."""
    need = _open_need(conn, job)
    if need is None:
        return None
    zone = config_sql.get_config(conn, need.guild_id).timezone
    today = today_in(zone, now)
    if need.end >= today:  # the time zone changed since it was scheduled: come back at the right moment
        schedule(
            conn, need.guild_id, "need.expire", need.id, lifecycle.expiry_moment(need.end, zone), now,
            tag=today.isoformat(),
        )  # fmt: skip
        return None
    sql.prune_available(conn, now.astimezone(UTC).date() - timedelta(days=1))  # past windows, every guild
    directory_sql.retire_busy(conn, now.astimezone(UTC).date() - timedelta(days=1))  # ended busy spells
    if not sql.end_need(conn, need.id, "expired", utc_iso(now)):
        return None
    return Outcome(refresh=[("need", need.id)])


@job_kind("need.unposted", pings=False)
def unposted(conn: sqlite3.Connection, job: Job, now: datetime) -> Outcome | None:
    """A request stored but never posted (the process died in between) is removed after a grace period,
    so it neither counts against the member's limits nor gets nudged."""
    row = sql.get_need(conn, job.ref_id)
    if row is not None and row["guild_id"] == job.guild_id and row["message_id"] is None:
        sql.delete_need(conn, job.ref_id)
    return None
