"""Agreement rules without storage: the state machine, who may move it, and the terms (validation, hash).

`next_state` is the only place that knows the allowed moves; `require_role` who may cause each event.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from buddybot.errors import BuddyError
from buddybot.storage.agreements import Terms
from buddybot.text import clean_text
from buddybot.when import DateWindow, parse_when

MIN_BUDDIES, MAX_BUDDIES = 1, 21
LIMITS = {"title": 100, "scope": 1000, "terms": 1500, "fee": 100, "dates": 100}
NOTE_MAX = 500
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


def clean_terms(
    raw: TermsText, today: date, previous: Terms | None = None, locale: str | None = None
) -> Terms:
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
        window = parse_when(dates, today, locale)
    return Terms(title=title, scope=scope, terms=terms, fee=fee, start=window.start, end=window.end)


def terms_hash(terms: Terms) -> str:
    """SHA-256 of the canonical JSON of the terms: what an acceptance is bound to."""
    canonical = {
        "title": terms.title, "scope": terms.scope, "terms": terms.terms, "fee": terms.fee,
        "dates": {"start": terms.start.isoformat(), "end": terms.end.isoformat()},
    }  # fmt: skip
    blob = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
