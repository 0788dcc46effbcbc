"""Agreement reminders on the one scheduler: nothing waits silently because nobody remembered.

- A proposal not accepted by everyone 48 hours after it was posted: the parties still pending are
  reminded, once (an edit does not start another reminder).
- The day before the start date (09:00 guild time): the members are reminded the job starts tomorrow.
- The day after the end date (09:00 guild time), while still agreed: the lead is asked to mark it
  complete, with a button.

Each step re-reads the agreement in the claim transaction and says nothing when it has moved on (accepted,
cancelled, completed). Reminders that are late (the bot was down) are dropped past `max_late`; see the
README ("Reminders after downtime"). Messages only name the agreement by number: no member text.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from buddybot import scheduler
from buddybot.agreement_rules import PARTY, State
from buddybot.scheduler import Button, Job, Notice, Outcome, job_kind
from buddybot.storage import agreements as sql
from buddybot.storage.agreements import Agreement
from buddybot.text import mention

PENDING_AFTER = timedelta(hours=48)
REMIND_AT = time(9, 0)  # guild time
COMPLETE_BUTTON = "agreement:{id}:complete"


def _local(day: date, tz_name: str) -> datetime:
    return datetime.combine(day, REMIND_AT, tzinfo=ZoneInfo(tz_name))


def after_propose(conn: sqlite3.Connection, agreement: Agreement, now: datetime) -> None:
    scheduler.schedule(conn, agreement.guild_id, "agreement.pending", agreement.id, now + PENDING_AFTER, now)


def after_agree(conn: sqlite3.Connection, agreement: Agreement, tz_name: str, now: datetime) -> None:
    """Schedule the start-date and mark-complete reminders (a start reminder already past is skipped)."""
    starts = _local(agreement.terms.start - timedelta(days=1), tz_name)
    if starts > now:
        scheduler.schedule(conn, agreement.guild_id, "agreement.starts", agreement.id, starts, now)
    ended = _local(agreement.terms.end + timedelta(days=1), tz_name)
    scheduler.schedule(conn, agreement.guild_id, "agreement.ended", agreement.id, ended, now)


def _agreement(conn: sqlite3.Connection, job: Job, state: State) -> Agreement | None:
    agreement = sql.get(conn, job.guild_id, job.ref_id)
    return agreement if agreement is not None and agreement.state == state else None


def _mentions(user_ids: list[int]) -> str:
    return " ".join(mention(u) for u in user_ids)


@job_kind("agreement.pending", pings=True, max_late=timedelta(hours=24))
def pending(conn: sqlite3.Connection, job: Job, now: datetime) -> Outcome | None:
    agreement = _agreement(conn, job, State.PROPOSED)
    if agreement is None:
        return None
    waiting = [
        m.user_id
        for m in sql.members(conn, agreement)
        if m.role == PARTY and not m.accepted_at and m.user_id > 0
    ]
    if not waiting:
        return None
    return Outcome(
        notices=[
            Notice(
                agreement.channel_id,
                f"{_mentions(waiting)}: agreement #{agreement.id} is still waiting for your answer. Please "
                f"read it and press **Accept** or **Decline** on its post (or use `/agreement view "
                f"agreement_id:{agreement.id}`).",
                ping=tuple(waiting),
            )
        ]
    )


@job_kind("agreement.starts", pings=True, max_late=timedelta(hours=20))
def starts(conn: sqlite3.Connection, job: Job, now: datetime) -> Outcome | None:
    agreement = _agreement(conn, job, State.AGREED)
    if agreement is None:
        return None
    people = [m.user_id for m in sql.members(conn, agreement) if m.user_id > 0]
    return Outcome(
        notices=[
            Notice(
                agreement.channel_id,
                f"{_mentions(people)}: agreement #{agreement.id} starts tomorrow "
                f"({agreement.terms.start:%a} {agreement.terms.start.day} {agreement.terms.start:%b}). "
                f"`/agreement view agreement_id:{agreement.id}` shows the agreed terms.",
                ping=tuple(people),
            )
        ]
    )


@job_kind("agreement.ended", pings=True, max_late=timedelta(days=7))
def ended(conn: sqlite3.Connection, job: Job, now: datetime) -> Outcome | None:
    agreement = _agreement(conn, job, State.AGREED)
    if agreement is None or agreement.lead_id <= 0:
        return None
    return Outcome(
        notices=[
            Notice(
                agreement.channel_id,
                f"{mention(agreement.lead_id)}: agreement #{agreement.id} ended yesterday. If the job is done, "
                "mark it complete, and everyone will be asked whether they'd work together again.",
                ping=(agreement.lead_id,),
                buttons=(Button(COMPLETE_BUTTON.format(id=agreement.id), "Mark complete", "success"),),
            )
        ]
    )
