"""What the scheduler does for loans: expiry, the start date, reminders, overdue escalation, closing.

Each step runs inside the scheduler's claim transaction and re-checks the loan's state there, so a job
that was overtaken (the owner answered, the borrower returned it) does nothing. Reminders are pinging
kinds (quiet hours respected, dropped when 20 h late); state changes always run.

Schedule (guild time zone): the day before the start and the day before the due date at 09:00, a reminder
to the borrower; at the end of the start date, the loan starts if nobody pressed Handed over; the day after
the due date it is overdue (told on days 1, 3 and 7; on day 7 the moderators too).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from buddybot import scheduler
from buddybot.loan_states import Event, State, TransitionError, next_state
from buddybot.models import utc_iso
from buddybot.scheduler import Notice, Outcome
from buddybot.sharing import UNIT, amount, date_text, local_moment, plain, release, sharing_channel
from buddybot.stats import bump
from buddybot.storage import config as config_sql
from buddybot.storage import sharing as sql
from buddybot.storage import sharing_tallies as tallies_sql
from buddybot.storage.sharing import Loan
from buddybot.text import mention

REMIND_AT = time(9, 0)
REPLY_WINDOW = timedelta(hours=48)
OVERDUE_DAYS = (1, 3, 7)
ESCALATE_DAY = 7
LOAN_KINDS = ("loan.expire", "loan.start", "loan.remind", "loan.overdue", "loan.unconfirmed")


def where(loan: Loan) -> int:
    """The loan's thread, else its post's channel: where everything about it is said."""
    return loan.thread_id or loan.channel_id or 0


def name(loan: Loan) -> str:
    extra = amount(loan.kind, loan.quantity)
    return f"**{plain(loan.item_name)}**" + (f" ({extra})" if extra else "")


def pingable(*user_ids: int) -> tuple[int, ...]:
    """Erased members are placeholders (negative ids): never pinged."""
    return tuple(u for u in user_ids if u > 0)


def _tz(conn: sqlite3.Connection, guild_id: int) -> str:
    return config_sql.get_config(conn, guild_id).timezone


# -- planning (called inside the unit that changed the loan) ----------------------------------------------
def plan_request(conn: sqlite3.Connection, loan: Loan, now: datetime) -> None:
    scheduler.schedule(conn, loan.guild_id, "loan.expire", loan.id, now + REPLY_WINDOW, now)


def plan_approved(conn: sqlite3.Connection, loan: Loan, now: datetime) -> None:
    tz = _tz(conn, loan.guild_id)
    scheduler.cancel(conn, loan.guild_id, "loan.expire", loan.id, now)
    remind = local_moment(loan.start_on - timedelta(days=1), REMIND_AT, tz)
    if remind > now:
        scheduler.schedule(conn, loan.guild_id, "loan.remind", loan.id, remind, now, tag="start")
    start = local_moment(loan.start_on + timedelta(days=1), time(0, 0), tz)
    scheduler.schedule(conn, loan.guild_id, "loan.start", loan.id, start, now)
    plan_due(conn, loan, now, tz)


def plan_due(conn: sqlite3.Connection, loan: Loan, now: datetime, tz: str | None = None) -> None:
    """The due-date reminder and the overdue days; tagged by renewal, so a renewed loan gets fresh ones."""
    tz = tz or _tz(conn, loan.guild_id)
    round_ = int(loan.renewed)
    remind = local_moment(loan.due_on - timedelta(days=1), REMIND_AT, tz)
    if remind > now:
        scheduler.schedule(conn, loan.guild_id, "loan.remind", loan.id, remind, now, tag=f"due.{round_}")
    for day in OVERDUE_DAYS:
        at = local_moment(loan.due_on + timedelta(days=day), REMIND_AT, tz)
        scheduler.schedule(conn, loan.guild_id, "loan.overdue", loan.id, at, now, tag=f"d{day}.{round_}")


def plan_returned(conn: sqlite3.Connection, loan: Loan, now: datetime) -> None:
    for kind in ("loan.remind", "loan.overdue"):
        scheduler.cancel(conn, loan.guild_id, kind, loan.id, now)
    scheduler.schedule(conn, loan.guild_id, "loan.unconfirmed", loan.id, now + REPLY_WINDOW, now)


def drop_all(conn: sqlite3.Connection, loan: Loan, now: datetime) -> None:
    for kind in LOAN_KINDS:
        scheduler.cancel(conn, loan.guild_id, kind, loan.id, now)


# -- effects shared by buttons and jobs --------------------------------------------------------------------
def on_started(conn: sqlite3.Connection, loan: Loan, now: datetime) -> None:
    """Give and take, and /stats, counted once: in the unit whose conditional UPDATE started the loan."""
    unit = UNIT[loan.kind]
    tallies_sql.tally(conn, loan.guild_id, loan.owner_id, "lent", unit, loan.quantity)
    tallies_sql.tally(conn, loan.guild_id, loan.borrower_id, "borrowed", unit, loan.quantity)
    bump(conn, loan.guild_id, now, "share_started")
    bump(conn, loan.guild_id, now, "share_lent", str(loan.owner_id))
    if loan.kind == "labour":
        bump(conn, loan.guild_id, now, "share_labour_hours", delta=loan.quantity)


def on_closed(conn: sqlite3.Connection, loan: Loan, now: datetime, back_at: datetime) -> list[Notice]:
    """Closed: on time or not, its length for the median, units back and on to the waiting list."""
    drop_all(conn, loan, now)
    zone = ZoneInfo(_tz(conn, loan.guild_id))
    day = back_at.astimezone(zone).date()
    bump(conn, loan.guild_id, now, "share_returned")
    if day <= loan.due_on:
        bump(conn, loan.guild_id, now, "share_on_time")
    began = loan.start_on
    if loan.started_at:  # handed over early: the loan ran from the handover
        began = min(began, datetime.fromisoformat(loan.started_at).astimezone(zone).date())
    days = max(1, (day - began).days + 1)
    bump(conn, loan.guild_id, now, "share_days", f"{days:09d}")
    return release(conn, loan, now, sharing_channel(conn, loan.guild_id, loan.channel_id))


def _move(conn: sqlite3.Connection, loan: Loan, event: Event, now: datetime, **stamps: object) -> bool:
    """Apply a system event if the loan is still where the job expects it; False: overtaken, do nothing."""
    try:
        new = next_state(loan.state, event)
    except TransitionError:
        return False
    return sql.transition(conn, loan.id, loan.state, new.value, stamps or None)


def _outcome(loan: Loan, notices: list[Notice], *, redraw: bool = True) -> Outcome:
    """Notices with somewhere to go (a request whose post never reached Discord has no thread or channel)."""
    return Outcome(
        notices=[n for n in notices if n.channel_id], refresh=[("loan", loan.id)] if redraw else []
    )


def _load(conn: sqlite3.Connection, job: scheduler.Job) -> Loan | None:
    return sql.get_loan(conn, job.guild_id, job.ref_id)


# -- the steps ---------------------------------------------------------------------------------------------
@scheduler.job_kind("loan.expire", pings=False)
def expire(conn: sqlite3.Connection, job: scheduler.Job, now: datetime) -> Outcome | None:
    loan = _load(conn, job)
    if loan is None or not _move(conn, loan, Event.EXPIRE, now, closed_at=utc_iso(now)):
        return None
    drop_all(conn, loan, now)
    notices = [
        Notice(where(loan), f"Request for {name(loan)} expired: the owner didn't answer within 48 hours. "
               "The borrower can ask again with `/borrow`.")
    ]  # fmt: skip
    notices += release(conn, loan, now, sharing_channel(conn, loan.guild_id, loan.channel_id))
    return _outcome(loan, notices)


@scheduler.job_kind("loan.start", pings=False)
def start(conn: sqlite3.Connection, job: scheduler.Job, now: datetime) -> Outcome | None:
    loan = _load(conn, job)
    if loan is None or not _move(conn, loan, Event.START, now, started_at=utc_iso(now)):
        return None
    on_started(conn, loan, now)
    text = (f"Nobody pressed **Handed over**, so the loan of {name(loan)} started on its start date. "
            f"Due back {date_text(loan.due_on)}.")  # fmt: skip
    return _outcome(loan, [Notice(where(loan), text)])


@scheduler.job_kind("loan.remind", pings=True, max_late=timedelta(hours=20))
def remind(conn: sqlite3.Connection, job: scheduler.Job, now: datetime) -> Outcome | None:
    loan = _load(conn, job)
    if loan is None:
        return None
    who = pingable(loan.borrower_id)
    if job.tag == "start" and loan.state == State.APPROVED:
        text = f"{mention(loan.borrower_id)} reminder: your loan of {name(loan)} starts tomorrow ({date_text(loan.start_on)})."
    elif job.tag.startswith("due") and loan.state == State.ON_LOAN:
        text = f"{mention(loan.borrower_id)} reminder: {name(loan)} is due back tomorrow ({date_text(loan.due_on)})."
    else:
        return None
    return _outcome(loan, [Notice(where(loan), text, ping=who)], redraw=False)


@scheduler.job_kind("loan.overdue", pings=True)
def overdue(conn: sqlite3.Connection, job: scheduler.Job, now: datetime) -> Outcome | None:
    loan = _load(conn, job)
    if loan is None:
        return None
    day = int(job.tag.split(".")[0][1:])
    if loan.state == State.ON_LOAN and day == OVERDUE_DAYS[0]:
        if not _move(conn, loan, Event.OVERDUE, now):
            return None
    elif loan.state != State.OVERDUE:
        return None
    late = f"{day} day{'s' if day != 1 else ''}"
    text = (f"{mention(loan.borrower_id)} {name(loan)} was due back on {date_text(loan.due_on)} and is {late} overdue. "
            f"Please return it to {mention(loan.owner_id)} and press **Returned**.")  # fmt: skip
    notices = [Notice(where(loan), text, ping=pingable(loan.borrower_id))]
    if day >= ESCALATE_DAY and sql.mark_escalated(conn, loan.id):
        mod_channel = config_sql.get_config(conn, loan.guild_id).mod_channel_id
        if mod_channel:
            notices.append(
                Notice(mod_channel, f"Loan #{loan.id}: {name(loan)} lent by {mention(loan.owner_id)} to "
                       f"{mention(loan.borrower_id)} is {late} overdue (due {date_text(loan.due_on)}).")
            )  # fmt: skip
    return _outcome(loan, notices)


@scheduler.job_kind("loan.unconfirmed", pings=False)
def unconfirmed(conn: sqlite3.Connection, job: scheduler.Job, now: datetime) -> Outcome | None:
    loan = _load(conn, job)
    if loan is None or not _move(
        conn, loan, Event.UNCONFIRMED, now, closed_at=utc_iso(now), closed_how="unconfirmed"
    ):
        return None
    back = datetime.fromisoformat(loan.returned_at) if loan.returned_at else now
    notices = [Notice(where(loan), f"The owner didn't confirm within 48 hours, so the loan of {name(loan)} "
                      "is closed as **return unconfirmed**.")]  # fmt: skip
    notices += on_closed(conn, loan, now, back)
    return _outcome(loan, notices)
