"""Borrowing: /borrow (rules, the last unit, the waiting list) and every button on a loan's post.

Each action is one unit of work: who may press it, whether the state allows it, the conditional UPDATE
and its effects (units, jobs, give-and-take, /stats) commit together, so 50 racing Approve clicks make
one loan and two borrowers racing for the last unit get one loan and one place in line.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta

from buddybot import loan_jobs, scheduler
from buddybot.errors import BuddyError
from buddybot.guildconfig import dates_for
from buddybot.loan_states import BORROWER, OWNER, Event, State, authorise, next_state
from buddybot.models import Record, utc_iso
from buddybot.scheduler import Notice
from buddybot.sharing import (
    UNIT,
    date_text,
    end_unstarted,
    fold,
    offer_holds,
    plain,
    release,
    sharing_channel,
)
from buddybot.storage import config as config_sql
from buddybot.storage import sharing as sql
from buddybot.storage import sharing_waits as waits_sql
from buddybot.storage.db import Database
from buddybot.storage.sharing import Item, Loan
from buddybot.text import clean_text, mention
from buddybot.when import parse_when

MAX_OPEN = 3
NOTE_MAX = 200
CONDITION_MAX = 300


class Borrowed(Record):
    """A request made (`loan`), or a place in the waiting list (`place`)."""

    item: Item
    loan: Loan | None = None
    place: int | None = None
    channel_id: int | None = None


class Change(Record):
    loan: Loan
    event: str
    notices: list[Notice] = []


def _item(conn: sqlite3.Connection, guild_id: int, ref: str) -> Item:
    """The thing picked from autocomplete (its id), or typed by its exact name."""
    text = ref.strip().lstrip("#")
    item = sql.get_item(conn, guild_id, int(text)) if text.isdigit() and len(text) <= 18 else None
    if item is None and not text.isdigit():
        matches = [
            i for i in sql.search(conn, guild_id, fold(text[:80]), None, 25) if fold(i.name) == fold(text)
        ]
        if len(matches) > 1:
            raise BuddyError(
                "Several members share something by that name: pick one from the list as you type."
            )
        item = matches[0] if matches else None
    if item is None or item.removed_at is not None:
        raise BuddyError(
            "I can't find that shared thing. Pick one from the list as you type, or try `/share find`."
        )
    return item


def _rules(
    conn: sqlite3.Connection, guild_id: int, borrower_id: int, item: Item, quantity: int, start: date
) -> None:
    if item.owner_id == borrower_id:
        raise BuddyError("That's yours: no need to borrow it from yourself.")
    open_loans = [
        (i, state) for i, state in sql.open_loans_of(conn, guild_id, borrower_id) if state != "returned"
    ]
    if any(state == State.OVERDUE for _, state in open_loans):
        raise BuddyError("One of your loans is overdue: please return it before asking for something new.")
    if len(open_loans) >= MAX_OPEN:
        raise BuddyError(
            f"You have {MAX_OPEN} open requests or loans, the most at one time. Return or withdraw one first."
        )
    if not 1 <= quantity <= item.quantity:
        raise BuddyError(f"Ask for between 1 and {item.quantity} {UNIT[item.kind]}.")
    if item.kind == "labour":
        cap = config_sql.get_config(conn, guild_id).labour_hours_per_week
        monday = start - timedelta(days=start.weekday())
        booked = sql.labour_hours(conn, guild_id, item.owner_id, monday)
        if booked + quantity > cap:
            raise BuddyError(
                f"That week the lender already gives {booked} of the {cap} labour hours one member may lend "
                f"a week; {max(cap - booked, 0)} are left. Ask for fewer hours or another week."
            )


def _borrow(
    conn: sqlite3.Connection, guild_id: int, borrower_id: int, ref: str, when: str, quantity: int,
    note: str | None, channel_id: int, now: datetime, locale: str | None = None,
) -> Borrowed:  # fmt: skip
    item = _item(conn, guild_id, ref)
    window = parse_when(when, *dates_for(conn, guild_id, now, locale))
    if window.days > item.max_days:
        raise BuddyError(f"“{plain(item.name, 40)}” can be borrowed for at most {item.max_days} days "
                         f"(you asked for {window.days}).")  # fmt: skip
    _rules(conn, guild_id, borrower_id, item, quantity, window.start)
    wait = waits_sql.wait_of(conn, item.id, borrower_id)
    if wait is not None and wait.state == "held":
        if quantity > wait.quantity:
            raise BuddyError(
                f"{wait.quantity} {UNIT[item.kind]} are held for you; ask for at most that many."
            )
        waits_sql.set_wait(conn, wait.id, "held", "used", wait.hold_until)
        scheduler.cancel(conn, guild_id, "share.hold_lapse", wait.id, now)
        if quantity < wait.quantity:
            sql.give_back_units(conn, item.id, wait.quantity - quantity)
    elif wait is not None:
        return Borrowed(item=item, place=waits_sql.place_in_line(conn, item.id, wait.id))
    elif waits_sql.first_waiting(conn, item.id) is not None or not sql.take_units(conn, item.id, quantity):
        wait_id = waits_sql.join_wait(conn, guild_id, item.id, borrower_id, quantity, utc_iso(now))
        assert wait_id is not None
        return Borrowed(item=item, place=waits_sql.place_in_line(conn, item.id, wait_id))
    loan_id = sql.insert_loan(
        conn, item, borrower_id, quantity, window.start, window.end, note, channel_id, utc_iso(now)
    )
    loan = sql.get_loan(conn, guild_id, loan_id)
    assert loan is not None
    loan_jobs.plan_request(conn, loan, now)
    return Borrowed(item=item, loan=loan, channel_id=sharing_channel(conn, guild_id, channel_id))


async def borrow(
    db: Database, guild_id: int, borrower_id: int, *, item: str, when: str, quantity: int | None = None,
    note: str | None = None, channel_id: int, now: datetime, locale: str | None = None,
) -> Borrowed:  # fmt: skip
    """Ask to borrow: the units are held at once (or the member joins the waiting list).
    `locale` is Discord's guild_locale, for numeric dates (the /config locale wins)."""
    text = clean_text(note, "note", NOTE_MAX, multiline=False)
    return await db.write(
        _borrow, guild_id, borrower_id, item, when, quantity or 1, text, channel_id, now, locale
    )


def _discard(conn: sqlite3.Connection, guild_id: int, loan_id: int, now: datetime) -> None:
    """The request's post never reached Discord: nobody could answer it, so it is as if never asked."""
    loan = sql.get_loan(conn, guild_id, loan_id)
    withdrawn = next_state(State.REQUESTED, Event.WITHDRAW).value
    if loan is not None and sql.transition(
        conn, loan.id, State.REQUESTED, withdrawn, {"closed_at": utc_iso(now)}
    ):
        loan_jobs.drop_all(conn, loan, now)
        release(conn, loan, now, None)


async def discard(db: Database, guild_id: int, loan_id: int, *, now: datetime) -> None:
    await db.write(_discard, guild_id, loan_id, now)


async def record_post(
    db: Database, loan_id: int, channel_id: int, message_id: int, thread_id: int | None
) -> None:
    await db.write(sql.set_post, loan_id, channel_id, message_id, thread_id)


# -- buttons -----------------------------------------------------------------------------------------------
def _load(conn: sqlite3.Connection, guild_id: int, loan_id: int) -> Loan:
    loan = sql.get_loan(conn, guild_id, loan_id)
    if loan is None:
        raise BuddyError(f"There is no loan #{loan_id} in this server.")
    return loan


def role_of(loan: Loan, user_id: int) -> str | None:
    return OWNER if user_id == loan.owner_id else BORROWER if user_id == loan.borrower_id else None


def _check(conn: sqlite3.Connection, guild_id: int, loan_id: int, user_id: int, event: Event) -> Loan:
    loan = _load(conn, guild_id, loan_id)
    authorise(event, role_of(loan, user_id), loan.state)
    return loan


async def check(db: Database, guild_id: int, loan_id: int, user_id: int, event: Event) -> Loan:
    """May this member do this now? (Before a modal opens; the action itself checks again.)"""
    return await db.read(_check, guild_id, loan_id, user_id, event)


def _say(loan: Loan, event: Event, condition: str | None) -> tuple[str, tuple[int, ...]]:
    """What the loan's thread is told, and whom it pings (the other side of the loan)."""
    o, b, thing = loan.owner_id, loan.borrower_id, loan_jobs.name(loan)
    due = date_text(loan.due_on)
    lines = {
        Event.APPROVE: (f"{mention(b)} {mention(o)} approved your request for {thing}: collect it on "
                        f"{date_text(loan.start_on)}, due back {due}.", (b,)),
        Event.DECLINE: (f"{mention(b)} {mention(o)} declined your request for {thing}.", (b,)),
        Event.WITHDRAW: (f"{mention(b)} withdrew the request for {thing}.", ()),
        Event.CANCEL: (f"The loan of {thing} is cancelled.", (o, b)),
        Event.HAND_OVER: (f"{mention(b)} {thing} is handed over to you: due back {due}.", (b,)),
        Event.RETURN: (f"{mention(o)} {mention(b)} says {thing} is back. Press **Got it back** to confirm "
                       "(without an answer in 48 hours it closes as “return unconfirmed”).", (o,)),
        Event.GOT_BACK: (f"{mention(b)} {mention(o)} got {thing} back. Loan closed, thank you!"
                         + (f"\nCondition: {plain(condition, CONDITION_MAX)}" if condition else ""), (b,)),
        Event.DISPUTE: (f"{mention(b)} {mention(o)} says {thing} is not back as lent. Please sort it out here; "
                        "the moderators have been told.", (b,)),
        Event.RENEW: (f"{mention(o)} {mention(b)} renewed the loan of {thing}: now due back {due}.", (o,)),
    }  # fmt: skip
    text, ping = lines[event]
    return text, loan_jobs.pingable(*ping)


def _act(
    conn: sqlite3.Connection, guild_id: int, loan_id: int, user_id: int, event: Event, now: datetime,
    condition: str | None,
) -> Change:  # fmt: skip
    loan = _load(conn, guild_id, loan_id)
    new = authorise(event, role_of(loan, user_id), loan.state)
    stamp = utc_iso(now)
    notices: list[Notice] = []
    if event is Event.RENEW:
        if waits_sql.first_waiting(conn, loan.item_id) is not None:
            raise BuddyError(
                "Someone is waiting for this, so it can't be renewed: please bring it back on time."
            )
        if loan.renewed:
            raise BuddyError("This loan was renewed once already; it can't be renewed again.")
        length = (loan.due_on - loan.start_on) + timedelta(days=1)
        if not sql.renew(conn, loan.id, loan.due_on + length):
            raise BuddyError("This loan changed a moment ago; please look at it again.")
    else:
        stamps: dict[str, object] = {
            Event.APPROVE: {"approved_at": stamp},
            Event.HAND_OVER: {"started_at": stamp},
            Event.RETURN: {"returned_at": stamp},
            Event.GOT_BACK: {"closed_at": stamp, "closed_how": "returned", "condition_note": condition,
                             "returned_at": loan.returned_at or stamp},
        }.get(event, {"closed_at": stamp} if new in (State.DECLINED, State.WITHDRAWN, State.CANCELLED) else {})  # fmt: skip
        if not sql.transition(conn, loan.id, loan.state, new.value, stamps):
            raise BuddyError("This loan changed a moment ago; please look at it again.")
    changed = _load(conn, guild_id, loan_id)
    channel = sharing_channel(conn, guild_id, loan.channel_id)
    if event is Event.APPROVE:
        loan_jobs.plan_approved(conn, changed, now)
    elif event is Event.HAND_OVER:
        loan_jobs.on_started(conn, changed, now)
        scheduler.cancel(conn, guild_id, "loan.start", loan.id, now)
    elif event is Event.RENEW:
        for kind in ("loan.remind", "loan.overdue"):
            scheduler.cancel(conn, guild_id, kind, loan.id, now)
        loan_jobs.plan_due(conn, changed, now)
    elif event is Event.RETURN:
        loan_jobs.plan_returned(conn, changed, now)
    elif event is Event.DISPUTE:
        scheduler.cancel(conn, guild_id, "loan.unconfirmed", loan.id, now)
        mod_channel = config_sql.get_config(conn, guild_id).mod_channel_id
        if mod_channel:
            notices.append(Notice(mod_channel, f"Loan #{loan.id}: {mention(loan.owner_id)} disputes the return of "
                                  f"{loan_jobs.name(loan)} by {mention(loan.borrower_id)}."))  # fmt: skip
    elif event is Event.GOT_BACK:
        back = datetime.fromisoformat(loan.returned_at) if loan.returned_at else now
        notices += loan_jobs.on_closed(conn, changed, now, back)
    elif new in (State.DECLINED, State.WITHDRAWN, State.CANCELLED):
        loan_jobs.drop_all(conn, changed, now)
        notices += release(conn, changed, now, channel)
    text, ping = _say(changed, event, condition)
    ping = tuple(u for u in ping if u != user_id)  # never the member who pressed
    return Change(
        loan=changed, event=event.value, notices=[Notice(loan_jobs.where(changed), text, ping=ping), *notices]
    )


async def act(
    db: Database, guild_id: int, loan_id: int, user_id: int, event: Event, *, now: datetime,
    condition: str | None = None,
) -> Change:  # fmt: skip
    text = clean_text(condition, "condition note", CONDITION_MAX, multiline=True)
    return await db.write(_act, guild_id, loan_id, user_id, event, now, text)


async def get(db: Database, guild_id: int, loan_id: int) -> Loan | None:
    return await db.read(sql.get_loan, guild_id, loan_id)


# -- /privacy delete ---------------------------------------------------------------------------------------
def erase_member(
    conn: sqlite3.Connection, guild_id: int, user_id: int, tombstone: int, now: datetime
) -> list[Notice]:
    """Inside the erasure unit: the member's shared things are removed, their loans still open end (nobody
    could finish them with a placeholder), their places in line are given up; history keeps its counts.
    Returns what the next in line must be told."""
    stamp = utc_iso(now)
    channel = sharing_channel(conn, guild_id, None)
    notices: list[Notice] = []
    for item in sql.items_of(conn, guild_id, user_id):
        sql.remove_item(conn, guild_id, item.id, tombstone, stamp)
        end_unstarted(conn, item, now)
    for loan in sql.loans_of_member(conn, guild_id, user_id):
        if loan.state in sql.OPEN_LOAN and sql.transition(
            conn, loan.id, loan.state, next_state(loan.state, Event.ERASE).value,
            {"closed_at": stamp, "closed_how": "erased"},
        ):  # fmt: skip
            loan_jobs.drop_all(conn, loan, now)
            notices += release(conn, loan, now, channel or loan.channel_id)
    for wait in waits_sql.waits_of_member(conn, guild_id, user_id):
        if wait.state == "held" and waits_sql.set_wait(conn, wait.id, "held", "left"):
            sql.give_back_units(conn, wait.item_id, wait.quantity)
            scheduler.cancel(conn, guild_id, "share.hold_lapse", wait.id, now)
            notices += offer_holds(
                conn, guild_id, wait.item_id, now, channel or sql.last_channel(conn, wait.item_id)
            )
    sql.anonymise(conn, guild_id, user_id, tombstone)
    return [n for n in notices if user_id not in n.ping]
