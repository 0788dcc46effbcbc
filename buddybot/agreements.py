"""One-off job agreements: the state machine, terms bound by hash, and the first-job rule.

Every action is one unit of work: permission check, state check, write and the re-read the cog renders
from happen in one transaction (one DB round trip). States change only through `next_state`, and in SQL
only through a conditional UPDATE, so twenty simultaneous clicks change a state once.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from pydantic import field_validator

from buddybot.errors import BuddyError
from buddybot.guildconfig import is_moderator
from buddybot.models import Actor, Record, utc_iso
from buddybot.storage import agreements as sql
from buddybot.storage import config as config_sql
from buddybot.storage.agreements import Agreement, Feedback, Member, Summary, Terms
from buddybot.storage.db import Database
from buddybot.text import clean_text, mention, visible
from buddybot.when import DateWindow, parse_when, today_in

MIN_BUDDIES, MAX_BUDDIES = 1, 21
LIMITS = {"title": 100, "scope": 1000, "terms": 1500, "fee": 100, "dates": 100}
NOTE_MAX = 500
LIST_LIMIT = 25
TERMS_TEMPLATE = "Payment: \nSplit: \nDeadlines: \nBrand use: \nCancellation: "
LEAD, PARTY = "lead", "party"


class State(StrEnum):
    DRAFT = "draft"
    PROPOSED = "proposed"
    AGREED = "agreed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


class Event(StrEnum):
    PROPOSE = "propose"  # the lead picked the buddies
    EDIT = "edit"  # the lead changed the terms: a new version, every acceptance reset
    ACCEPT = "accept"  # a party accepted the current version; others still to accept
    AGREE = "agree"  # the last party accepted the current version
    DECLINE = "decline"
    CANCEL = "cancel"
    COMPLETE = "complete"
    FEEDBACK = "feedback"  # "would you work together again?"


TRANSITIONS: dict[tuple[State, Event], State] = {
    (State.DRAFT, Event.PROPOSE): State.PROPOSED,
    (State.DRAFT, Event.EDIT): State.DRAFT,
    (State.DRAFT, Event.CANCEL): State.CANCELLED,
    (State.PROPOSED, Event.EDIT): State.PROPOSED,
    (State.PROPOSED, Event.ACCEPT): State.PROPOSED,
    (State.PROPOSED, Event.AGREE): State.AGREED,
    (State.PROPOSED, Event.DECLINE): State.DECLINED,
    (State.PROPOSED, Event.CANCEL): State.CANCELLED,
    (State.AGREED, Event.CANCEL): State.CANCELLED,
    (State.AGREED, Event.COMPLETE): State.COMPLETED,
    (State.COMPLETED, Event.FEEDBACK): State.COMPLETED,
}

WHO: dict[Event, frozenset[str]] = {
    Event.PROPOSE: frozenset({LEAD}),
    Event.EDIT: frozenset({LEAD}),
    Event.ACCEPT: frozenset({PARTY}),
    Event.AGREE: frozenset({PARTY}),
    Event.DECLINE: frozenset({PARTY}),
    Event.CANCEL: frozenset({LEAD, PARTY}),
    Event.COMPLETE: frozenset({LEAD}),
    Event.FEEDBACK: frozenset({LEAD, PARTY}),
}

_NOT_ALLOWED = {
    Event.PROPOSE: "Only the lead picks the buddies for an agreement.",
    Event.EDIT: "Only the lead can change the terms.",
    Event.ACCEPT: "Only the buddies picked for this agreement can accept it.",
    Event.AGREE: "Only the buddies picked for this agreement can accept it.",
    Event.DECLINE: "Only the buddies picked for this agreement can decline it.",
    Event.CANCEL: "Only the lead or a buddy of this agreement can cancel it.",
    Event.COMPLETE: "Only the lead can mark the agreement complete.",
    Event.FEEDBACK: "Only the people who worked on this agreement can answer.",
}
_LEAD_SAYS = {
    Event.ACCEPT: "You proposed these terms, so your acceptance is already recorded. Buddies accept here.",
    Event.DECLINE: "You're the lead: to call it off, use `/agreement cancel`.",
}
_CLOSED = "This agreement is {state}; nothing about it can change any more."
_REFUSALS: dict[tuple[State, Event], str] = {
    (State.DRAFT, Event.ACCEPT): "This agreement is still a draft: the lead hasn't picked the buddies yet.",
    (State.DRAFT, Event.DECLINE): "This agreement is still a draft: the lead hasn't picked the buddies yet.",
    (
        State.DRAFT,
        Event.COMPLETE,
    ): "This agreement is still a draft: pick buddies and get their acceptance first.",
    (State.PROPOSED, Event.PROPOSE): "The buddies for this agreement are already picked.",
    (State.PROPOSED, Event.COMPLETE): "Not every buddy has accepted the terms yet, so it can't be completed.",
    (State.AGREED, Event.PROPOSE): "The buddies for this agreement are already picked.",
    (State.AGREED, Event.EDIT): (
        "Everyone has agreed to these terms, so they are locked. "
        "To change them, cancel this agreement and start a new one."
    ),
    (State.AGREED, Event.ACCEPT): "Everyone has already agreed to these terms.",
    (State.AGREED, Event.AGREE): "Everyone has already agreed to these terms.",
    (
        State.AGREED,
        Event.DECLINE,
    ): "Everyone has already agreed; to call it off, use `/agreement cancel` with a reason.",
}


class TransitionError(BuddyError):
    """A forbidden (state, event): the message says why, in the member's words."""


def next_state(state: State | str, event: Event) -> State:
    """The state after `event`, or TransitionError. The only place that knows the allowed moves."""
    state = State(state)
    new = TRANSITIONS.get((state, event))
    if new is not None:
        return new
    message = _REFUSALS.get((state, event))
    if message is None:
        if state in (State.DECLINED, State.CANCELLED, State.COMPLETED) and event is not Event.FEEDBACK:
            message = _CLOSED.format(state=state.value)
        elif event is Event.FEEDBACK:
            message = "Feedback opens once the lead marks the agreement complete."
        else:
            message = f"You can't {event.value} an agreement that is {state.value}."
    raise TransitionError(message)


def require_role(event: Event, role: str | None) -> str:
    """The actor's role must be allowed to cause `event` (checked before the state, for clearer refusals)."""
    if role in WHO[event]:
        return role  # type: ignore[return-value]
    if role == LEAD and event in _LEAD_SAYS:
        raise BuddyError(_LEAD_SAYS[event])
    raise BuddyError(_NOT_ALLOWED[event])


@dataclass(frozen=True)
class TermsText:
    """The five fields of the terms modal, as typed."""

    title: str
    scope: str
    terms: str
    fee: str
    dates: str


def dates_text(window: DateWindow | Terms) -> str:
    """The dates as a when-expression that reads back to the same window (for pre-filled edits)."""
    if window.start == window.end:
        return window.start.isoformat()
    return f"{window.start.isoformat()} to {window.end.isoformat()}"


def as_text(terms: Terms) -> TermsText:
    return TermsText(terms.title, terms.scope, terms.terms, terms.fee, dates_text(terms))


def clean_terms(raw: TermsText, today: date, previous: Terms | None = None) -> Terms:
    """Validate what was typed. Unchanged dates keep their window (an edit never re-anchors them to today)."""
    title = clean_text(raw.title, "title", LIMITS["title"], required=True)
    scope = clean_text(raw.scope, "scope", LIMITS["scope"], required=True, multiline=True)
    terms = clean_text(raw.terms, "terms", LIMITS["terms"], required=True, multiline=True)
    fee = clean_text(raw.fee, "fee", LIMITS["fee"], required=True)
    leftover = terms
    for label in TERMS_TEMPLATE.split("\n"):
        leftover = leftover.replace(label.strip(), "")
    if not leftover.strip():
        raise BuddyError("Please fill in the terms: payment, split, deadlines, brand use and cancellation.")
    dates = clean_text(raw.dates, "dates", LIMITS["dates"], required=True)
    if previous is not None and dates == dates_text(previous):
        window = DateWindow(start=previous.start, end=previous.end)
    else:
        window = parse_when(dates, today)
    return Terms(title=title, scope=scope, terms=terms, fee=fee, start=window.start, end=window.end)


def terms_hash(terms: Terms) -> str:
    """SHA-256 of the canonical JSON of the terms: what an acceptance is bound to."""
    canonical = {
        "title": terms.title, "scope": terms.scope, "terms": terms.terms, "fee": terms.fee,
        "dates": {"start": terms.start.isoformat(), "end": terms.end.isoformat()},
    }  # fmt: skip
    blob = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class Buddy(Record):
    user_id: int
    name: str | None = None
    bot: bool = False

    @field_validator("name")
    @classmethod
    def _visible(cls, name: str | None) -> str | None:
        return visible(name) if name else name  # a display name may carry bidi overrides


class Details(Record):
    """An agreement with its members (acceptances of the current version) and, once complete, feedback."""

    agreement: Agreement
    members: list[Member]
    feedback: list[Feedback] = []

    @property
    def parties(self) -> list[Member]:
        return [m for m in self.members if m.role == PARTY]

    @property
    def party_ids(self) -> list[int]:
        return [m.user_id for m in self.parties]

    @property
    def member_ids(self) -> list[int]:
        return [m.user_id for m in self.members]


class Outcome(Record):
    """What an action did, for the cog to render: `changed` is True only for the call that changed it."""

    details: Details
    changed: bool = True
    previous_message_id: int | None = None


def _load(conn: sqlite3.Connection, guild_id: int, agreement_id: int) -> Agreement:
    agreement = sql.get(conn, guild_id, agreement_id)
    if agreement is None:
        raise BuddyError(
            f"There is no agreement #{agreement_id} in this server. `/agreement list` shows yours."
        )
    return agreement


def _details(
    conn: sqlite3.Connection, guild_id: int, agreement_id: int, *, feedback: bool = False
) -> Details:
    agreement = _load(conn, guild_id, agreement_id)
    return Details(
        agreement=agreement,
        members=sql.members(conn, agreement),
        feedback=sql.feedback(conn, agreement.id) if feedback else [],
    )


def _authorise(conn: sqlite3.Connection, agreement: Agreement, user_id: int, event: Event) -> State:
    require_role(event, sql.role_of(conn, agreement.id, user_id))
    return next_state(agreement.state, event)


def _change(conn: sqlite3.Connection, agreement: Agreement, new: State, **stamps: object) -> None:
    if not sql.transition(conn, agreement.id, agreement.state, new.value, stamps=stamps):
        raise BuddyError("This agreement changed a moment ago; please look at it again.")


# -- draft and proposal -------------------------------------------------------------------------------------
def _create_draft(
    conn: sqlite3.Connection, guild_id: int, channel_id: int, lead: Buddy, raw: TermsText, now: datetime
) -> Details:
    today = today_in(config_sql.get_config(conn, guild_id).timezone, now)
    terms = clean_terms(raw, today)
    digest = terms_hash(terms)
    # A double-submitted form (or the same terms typed again) reuses the lead's identical draft.
    agreement_id = sql.identical_draft(conn, guild_id, lead.user_id, digest) or sql.insert_draft(
        conn, guild_id, channel_id, lead.user_id, lead.name, terms, digest, utc_iso(now)
    )
    return _details(conn, guild_id, agreement_id)


async def create_draft(
    db: Database, guild_id: int, channel_id: int, lead: Buddy, raw: TermsText, *, now: datetime
) -> Details:
    return await db.write(_create_draft, guild_id, channel_id, lead, raw, now)


def check_buddies(lead_id: int, buddies: list[Buddy]) -> list[Buddy]:
    """1-21 distinct people, no bots, not the lead: the select's limits again, as payloads can be forged."""
    unique = list({b.user_id: b for b in buddies}.values())
    if not MIN_BUDDIES <= len(unique) <= MAX_BUDDIES:
        raise BuddyError(f"Pick between {MIN_BUDDIES} and {MAX_BUDDIES} buddies (you picked {len(unique)}).")
    if any(b.user_id == lead_id for b in unique):
        raise BuddyError(
            "You're the lead of this agreement, so you can't also be one of its buddies. Pick others."
        )
    bots = [b for b in unique if b.bot]
    if bots:
        names = ", ".join(mention(b.user_id) for b in bots)
        raise BuddyError(f"Bots can't be buddies ({names}). Pick members of the community.")
    return unique


def _first_job_rule(conn: sqlite3.Connection, agreement: Agreement, people: list[int]) -> None:
    conflict = sql.open_conflict(conn, agreement.guild_id, agreement.id, people)
    if conflict is not None:
        raise BuddyError(
            f"First job first: {mention(conflict.user_a)} and {mention(conflict.user_b)} already share open agreement "
            f"#{conflict.agreement_id} “{conflict.title}”. Members who haven't completed a job together may "
            "have only one open agreement at a time: complete or cancel that one first."
        )


def _propose(
    conn: sqlite3.Connection,
    guild_id: int,
    agreement_id: int,
    actor_id: int,
    buddies: list[Buddy],
    now: datetime,
) -> Details:
    agreement = _load(conn, guild_id, agreement_id)
    new = _authorise(conn, agreement, actor_id, Event.PROPOSE)
    chosen = check_buddies(agreement.lead_id, buddies)
    _first_job_rule(conn, agreement, [agreement.lead_id, *(b.user_id for b in chosen)])
    stamp = utc_iso(now)
    sql.add_parties(conn, agreement.id, [(b.user_id, b.name) for b in chosen])
    sql.accept(conn, agreement.id, agreement.version, agreement.lead_id, agreement.terms_hash, stamp)
    _change(conn, agreement, new, proposed_at=stamp)
    return _details(conn, guild_id, agreement_id)


async def propose(
    db: Database, guild_id: int, agreement_id: int, actor_id: int, buddies: list[Buddy], *, now: datetime
) -> Details:
    return await db.write(_propose, guild_id, agreement_id, actor_id, buddies, now)


async def set_message(db: Database, agreement_id: int, version: int, message_id: int) -> None:
    """Remember the post carrying the buttons of this version (to retire it when the terms change)."""
    await db.write(sql.set_message, agreement_id, version, message_id)


# -- acceptance -------------------------------------------------------------------------------------------
def _accept(
    conn: sqlite3.Connection, guild_id: int, agreement_id: int, version: int, user_id: int, now: datetime
) -> Outcome:
    agreement = _load(conn, guild_id, agreement_id)
    _authorise(conn, agreement, user_id, Event.ACCEPT)
    if version != agreement.version:
        raise BuddyError(
            f"The terms changed since this post: version {agreement.version} is current. "
            "Please read the latest post (or `/agreement view`) and accept that one."
        )
    if not sql.accept(conn, agreement.id, version, user_id, agreement.terms_hash, utc_iso(now)):
        raise BuddyError(f"You already accepted version {version}. Nothing more to do until everyone has.")
    agreed = False
    if sql.pending_parties(conn, agreement.id, version, agreement.terms_hash) == 0:
        new = next_state(agreement.state, Event.AGREE)
        agreed = sql.transition(
            conn,
            agreement.id,
            agreement.state,
            new.value,
            version=version,
            stamps={"agreed_at": utc_iso(now)},
        )
    return Outcome(details=_details(conn, guild_id, agreement_id), changed=agreed)


async def accept(
    db: Database, guild_id: int, agreement_id: int, version: int, user_id: int, *, now: datetime
) -> Outcome:
    """Accept one exact version. `changed` is True only for the click that made the agreement agreed."""
    return await db.write(_accept, guild_id, agreement_id, version, user_id, now)


def _decline(
    conn: sqlite3.Connection, guild_id: int, agreement_id: int, user_id: int, now: datetime
) -> Details:
    agreement = _load(conn, guild_id, agreement_id)
    new = _authorise(conn, agreement, user_id, Event.DECLINE)
    _change(conn, agreement, new, closed_at=utc_iso(now), closed_by=user_id)
    return _details(conn, guild_id, agreement_id)


async def decline(db: Database, guild_id: int, agreement_id: int, user_id: int, *, now: datetime) -> Details:
    return await db.write(_decline, guild_id, agreement_id, user_id, now)


# -- edit, cancel, complete -------------------------------------------------------------------------------
def _edit_form(conn: sqlite3.Connection, guild_id: int, agreement_id: int, actor_id: int) -> Agreement:
    agreement = _load(conn, guild_id, agreement_id)
    _authorise(conn, agreement, actor_id, Event.EDIT)
    return agreement


async def edit_form(db: Database, guild_id: int, agreement_id: int, actor_id: int) -> Agreement:
    """The current terms, for the lead to edit (refused before the modal opens when editing isn't allowed)."""
    return await db.read(_edit_form, guild_id, agreement_id, actor_id)


def _edit(
    conn: sqlite3.Connection, guild_id: int, agreement_id: int, actor_id: int, raw: TermsText, now: datetime
) -> Outcome:
    agreement = _load(conn, guild_id, agreement_id)
    _authorise(conn, agreement, actor_id, Event.EDIT)
    today = today_in(config_sql.get_config(conn, guild_id).timezone, now)
    terms = clean_terms(raw, today, previous=agreement.terms)
    digest = terms_hash(terms)
    if digest == agreement.terms_hash:
        return Outcome(details=_details(conn, guild_id, agreement_id), changed=False)
    if agreement.state == State.DRAFT:
        sql.replace_version(conn, agreement.id, agreement.version, terms, digest)
        return Outcome(details=_details(conn, guild_id, agreement_id))
    version = agreement.version + 1
    stamp = utc_iso(now)
    sql.insert_version(conn, agreement.id, version, terms, digest, stamp)
    if not sql.bump_version(conn, agreement.id, agreement.version, version):
        raise BuddyError("This agreement changed a moment ago; please look at it again.")
    sql.accept(conn, agreement.id, version, agreement.lead_id, digest, stamp)
    return Outcome(details=_details(conn, guild_id, agreement_id), previous_message_id=agreement.message_id)


async def edit(
    db: Database, guild_id: int, agreement_id: int, actor_id: int, raw: TermsText, *, now: datetime
) -> Outcome:
    """A new version of the terms (drafts are rewritten in place); every party's acceptance starts over."""
    return await db.write(_edit, guild_id, agreement_id, actor_id, raw, now)


def _cancel(
    conn: sqlite3.Connection,
    guild_id: int,
    agreement_id: int,
    actor_id: int,
    reason: str | None,
    now: datetime,
) -> Outcome:
    agreement = _load(conn, guild_id, agreement_id)
    new = _authorise(conn, agreement, actor_id, Event.CANCEL)
    _change(conn, agreement, new, closed_at=utc_iso(now), closed_by=actor_id, reason=reason)
    return Outcome(details=_details(conn, guild_id, agreement_id), previous_message_id=agreement.message_id)


async def cancel(
    db: Database, guild_id: int, agreement_id: int, actor_id: int, reason: str | None, *, now: datetime
) -> Outcome:
    text = clean_text(reason, "reason", 300, multiline=False)
    return await db.write(_cancel, guild_id, agreement_id, actor_id, text, now)


def _complete(
    conn: sqlite3.Connection, guild_id: int, agreement_id: int, actor_id: int, now: datetime
) -> Outcome:
    agreement = _load(conn, guild_id, agreement_id)
    new = _authorise(conn, agreement, actor_id, Event.COMPLETE)
    _change(conn, agreement, new, closed_at=utc_iso(now), closed_by=actor_id)
    return Outcome(details=_details(conn, guild_id, agreement_id), previous_message_id=agreement.message_id)


async def complete(
    db: Database, guild_id: int, agreement_id: int, actor_id: int, *, now: datetime
) -> Outcome:
    return await db.write(_complete, guild_id, agreement_id, actor_id, now)


# -- "would you work together again?" ----------------------------------------------------------------------
def _answer(
    conn: sqlite3.Connection, guild_id: int, agreement_id: int, user_id: int, again: bool, now: datetime
) -> Agreement:
    agreement = _load(conn, guild_id, agreement_id)
    _authorise(conn, agreement, user_id, Event.FEEDBACK)
    if not sql.add_feedback(conn, agreement.id, user_id, again, utc_iso(now)):
        earlier = sql.feedback_of(conn, agreement.id, user_id)
        said = "yes" if earlier and earlier.again else "no"
        raise BuddyError(f"You already answered ({said}) for agreement #{agreement.id}. Thanks!")
    return agreement


async def answer(
    db: Database, guild_id: int, agreement_id: int, user_id: int, again: bool, *, now: datetime
) -> Agreement:
    """One answer per member; a second one is refused and the first kept."""
    return await db.write(_answer, guild_id, agreement_id, user_id, again, now)


def _note(conn: sqlite3.Connection, guild_id: int, agreement_id: int, user_id: int, note: str) -> None:
    agreement = _load(conn, guild_id, agreement_id)
    _authorise(conn, agreement, user_id, Event.FEEDBACK)
    if not sql.set_note(conn, agreement.id, user_id, note):
        if sql.feedback_of(conn, agreement.id, user_id) is None:
            raise BuddyError("Answer yes or no first, then add your note.")
        raise BuddyError("You already left a note for this agreement.")


async def add_note(db: Database, guild_id: int, agreement_id: int, user_id: int, note: str) -> None:
    text = clean_text(note, "note", NOTE_MAX, required=True, multiline=True)
    await db.write(_note, guild_id, agreement_id, user_id, text)


# -- reading ----------------------------------------------------------------------------------------------
def _view(conn: sqlite3.Connection, guild_id: int, agreement_id: int, actor: Actor) -> Details:
    agreement = _load(conn, guild_id, agreement_id)
    if sql.role_of(conn, agreement.id, actor.user_id) is None and not is_moderator(
        config_sql.get_config(conn, guild_id), actor
    ):
        raise BuddyError("Only the lead, the buddies of this agreement and moderators can see it.")
    return _details(conn, guild_id, agreement_id, feedback=True)


async def view(db: Database, guild_id: int, agreement_id: int, actor: Actor) -> Details:
    return await db.read(_view, guild_id, agreement_id, actor)


async def list_mine(db: Database, guild_id: int, user_id: int, *, limit: int = LIST_LIMIT) -> list[Summary]:
    return await db.read(sql.list_for, guild_id, user_id, limit)


def export_markdown(details: Details) -> str:
    """The agreed terms with every acceptance timestamp, as a Markdown document the members can keep."""
    a, t = details.agreement, details.agreement.terms
    if a.agreed_at is None:
        raise BuddyError(
            "This agreement hasn't been agreed by everyone yet, so there are no agreed terms to export."
        )

    def who(m: Member) -> str:
        if m.user_id <= 0:
            return "a former member (erased their data)"
        name = m.name or "member"
        return f"{m.business} ({name}, id {m.user_id})" if m.business else f"{name} (id {m.user_id})"

    lines = [
        f"# Agreement #{a.id}: {t.title}", "",
        f"- State: {a.state}", f"- Version: {a.version}", f"- Terms SHA-256: `{a.terms_hash}`",
        f"- Dates: {t.start.isoformat()} to {t.end.isoformat()}", f"- Fee: {t.fee}",
        f"- Agreed at: {a.agreed_at} (UTC)", "", "## Scope", "", t.scope, "", "## Terms", "", t.terms, "",
        "## Acceptances", "", "| member | role | accepted at (UTC) |", "|---|---|---|",
    ]  # fmt: skip
    lines += [f"| {who(m)} | {m.role} | {m.accepted_at or '—'} |" for m in details.members]
    return "\n".join(lines) + "\n"


DRAFT_KEPT = timedelta(days=1)


async def prune_drafts(db: Database, *, now: datetime) -> int:
    """Forget drafts left unproposed for a day (the lead closed the buddy picker): returns how many."""
    return await db.write(sql.delete_drafts_before, utc_iso(now - DRAFT_KEPT))
