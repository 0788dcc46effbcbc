"""One-off job agreements: each action as one unit of work, and the first-job rule.

The state machine and the terms live in agreement_rules.py; feedback in agreement_feedback.py.

Every action is one unit of work: permission check, state check, write and the re-read the cog renders
from happen in one transaction (one DB round trip). States change only through `next_state`, and in SQL
only through a conditional UPDATE, so twenty simultaneous clicks change a state once.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from pydantic import field_validator

from buddybot import agreement_reminders as reminders
from buddybot import scheduler
from buddybot.agreement_rules import (  # re-exported: the cog and tests use them through this module
    LEAD,
    LIMITS,
    MAX_BUDDIES,
    MIN_BUDDIES,
    NOTE_MAX,
    PARTY,
    TERMS_TEMPLATE,
    TRANSITIONS,
    Event,
    State,
    TermsText,
    TransitionError,
    as_text,
    clean_terms,
    dates_text,
    next_state,
    require_role,
    terms_hash,
)
from buddybot.errors import BuddyError
from buddybot.guildconfig import dates_for, is_moderator
from buddybot.models import Actor, Record, utc_iso
from buddybot.storage import agreements as sql
from buddybot.storage import config as config_sql
from buddybot.storage.agreements import Agreement, Feedback, Member, Summary
from buddybot.storage.db import Database
from buddybot.text import clean_text, mention, visible

LIST_LIMIT = 25
__all__ = [
    "LEAD", "LIMITS", "MAX_BUDDIES", "MIN_BUDDIES", "NOTE_MAX", "PARTY", "TERMS_TEMPLATE", "TRANSITIONS",
    "Event", "State", "TermsText", "TransitionError", "as_text", "clean_terms", "dates_text", "next_state",
    "require_role", "terms_hash",
]  # fmt: skip


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
    feedback: list[Feedback] = []  # in /agreement view: only the viewer's own answer (double-blind)
    mutual: list[int] = []  # members who said yes when the viewer did too

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
DRAFT_KEPT = timedelta(days=1)
DRAFT_JOB = "agreement.draft"


@scheduler.job_kind(DRAFT_JOB, pings=False)
def _forget_draft(conn: sqlite3.Connection, job: scheduler.Job, now: datetime) -> None:
    """A draft nobody proposed within a day is forgotten (its terms and members cascade): the lead closed
    the buddy picker, and a bot that runs for months must not keep every abandoned form."""
    sql.delete_draft(conn, job.guild_id, job.ref_id)


def _create_draft(
    conn: sqlite3.Connection,
    guild_id: int,
    channel_id: int,
    lead: Buddy,
    raw: TermsText,
    now: datetime,
    locale: str | None = None,
) -> Details:
    today, locale = dates_for(conn, guild_id, now, locale)
    terms = clean_terms(raw, today, locale=locale)
    digest = terms_hash(terms)
    # A double-submitted form (or the same terms typed again) reuses the lead's identical draft.
    agreement_id = sql.identical_draft(conn, guild_id, lead.user_id, digest) or sql.insert_draft(
        conn, guild_id, channel_id, lead.user_id, lead.name, terms, digest, utc_iso(now)
    )
    scheduler.schedule(conn, guild_id, DRAFT_JOB, agreement_id, now + DRAFT_KEPT, now)
    return _details(conn, guild_id, agreement_id)


async def create_draft(
    db: Database,
    guild_id: int,
    channel_id: int,
    lead: Buddy,
    raw: TermsText,
    *,
    now: datetime,
    locale: str | None = None,
) -> Details:
    """`locale` is Discord's guild_locale, for numeric dates (the /config locale wins)."""
    return await db.write(_create_draft, guild_id, channel_id, lead, raw, now, locale)


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
    reminders.after_propose(conn, agreement, now)
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
        if agreed:
            reminders.after_agree(conn, agreement, config_sql.get_config(conn, guild_id).timezone, now)
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
    conn: sqlite3.Connection,
    guild_id: int,
    agreement_id: int,
    actor_id: int,
    raw: TermsText,
    now: datetime,
    locale: str | None = None,
) -> Outcome:
    agreement = _load(conn, guild_id, agreement_id)
    _authorise(conn, agreement, actor_id, Event.EDIT)
    today, locale = dates_for(conn, guild_id, now, locale)
    terms = clean_terms(raw, today, previous=agreement.terms, locale=locale)
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
    db: Database,
    guild_id: int,
    agreement_id: int,
    actor_id: int,
    raw: TermsText,
    *,
    now: datetime,
    locale: str | None = None,
) -> Outcome:
    """A new version of the terms (drafts are rewritten in place); every party's acceptance starts over."""
    return await db.write(_edit, guild_id, agreement_id, actor_id, raw, now, locale)


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


# -- reading ----------------------------------------------------------------------------------------------
def _view(conn: sqlite3.Connection, guild_id: int, agreement_id: int, actor: Actor) -> Details:
    agreement = _load(conn, guild_id, agreement_id)
    if sql.role_of(conn, agreement.id, actor.user_id) is None and not is_moderator(
        config_sql.get_config(conn, guild_id), actor
    ):
        raise BuddyError("Only the lead, the buddies of this agreement and moderators can see it.")
    details = _details(conn, guild_id, agreement_id, feedback=True)
    # Double-blind: nobody sees another member's answer; a yes met by a yes is "mutual", for those two only.
    own = [f for f in details.feedback if f.user_id == actor.user_id]
    said_yes = bool(own) and own[0].again
    mutual = [f.user_id for f in details.feedback if said_yes and f.again and f.user_id != actor.user_id]
    return details.model_copy(update={"feedback": own, "mutual": mutual})


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
