"""The loan state machine as a table: which event moves which state, and who may cause it.

requested → approved → on loan → returned → closed, with declined, withdrawn (borrower), expired (owner
silent 48 h), cancelled, overdue and disputed. Pure: no SQL, no Discord. Every action looks its move up
here first (`authorise`), then applies it with a conditional UPDATE on the state it read.
"""

from __future__ import annotations

from enum import StrEnum

from buddybot.errors import BuddyError

OWNER, BORROWER, SYSTEM = "owner", "borrower", "system"


class State(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    ON_LOAN = "on_loan"
    OVERDUE = "overdue"
    RETURNED = "returned"  # the borrower says it is back; the owner has 48 h to confirm
    DISPUTED = "disputed"  # the owner says it is not (or not as lent)
    CLOSED = "closed"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class Event(StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"
    WITHDRAW = "withdraw"
    EXPIRE = "expire"
    CANCEL = "cancel"
    HAND_OVER = "hand over"
    START = "start"  # nobody pressed Handed over by the end of the start date
    OVERDUE = "overdue"
    RETURN = "return"
    GOT_BACK = "got back"
    DISPUTE = "dispute"
    UNCONFIRMED = "unconfirmed"  # the owner said nothing for 48 h after the borrower returned it
    RENEW = "renew"
    MODERATE = "moderate"  # the thing was removed (owner or moderator): what has not started is cancelled
    ERASE = "erase"  # a party erased their data: nobody could finish the loan with a placeholder


ENDED = frozenset({State.CLOSED, State.DECLINED, State.WITHDRAWN, State.EXPIRED, State.CANCELLED})

TRANSITIONS: dict[tuple[State, Event], State] = {
    (State.REQUESTED, Event.APPROVE): State.APPROVED,
    (State.REQUESTED, Event.DECLINE): State.DECLINED,
    (State.REQUESTED, Event.WITHDRAW): State.WITHDRAWN,
    (State.REQUESTED, Event.EXPIRE): State.EXPIRED,
    (State.REQUESTED, Event.MODERATE): State.CANCELLED,
    (State.APPROVED, Event.CANCEL): State.CANCELLED,
    (State.APPROVED, Event.MODERATE): State.CANCELLED,
    (State.APPROVED, Event.HAND_OVER): State.ON_LOAN,
    (State.APPROVED, Event.START): State.ON_LOAN,
    (State.ON_LOAN, Event.OVERDUE): State.OVERDUE,
    (State.ON_LOAN, Event.RENEW): State.ON_LOAN,
    (State.ON_LOAN, Event.RETURN): State.RETURNED,
    (State.OVERDUE, Event.RETURN): State.RETURNED,
    (State.ON_LOAN, Event.GOT_BACK): State.CLOSED,
    (State.OVERDUE, Event.GOT_BACK): State.CLOSED,
    (State.RETURNED, Event.GOT_BACK): State.CLOSED,
    (State.DISPUTED, Event.GOT_BACK): State.CLOSED,
    (State.RETURNED, Event.DISPUTE): State.DISPUTED,
    (State.RETURNED, Event.UNCONFIRMED): State.CLOSED,
    **{(state, Event.ERASE): State.CANCELLED for state in (State.REQUESTED, State.APPROVED, State.ON_LOAN,
                                                           State.OVERDUE, State.RETURNED, State.DISPUTED)},
}  # fmt: skip

WHO: dict[Event, frozenset[str]] = {
    Event.APPROVE: frozenset({OWNER}),
    Event.DECLINE: frozenset({OWNER}),
    Event.WITHDRAW: frozenset({BORROWER}),
    Event.CANCEL: frozenset({OWNER, BORROWER}),
    Event.HAND_OVER: frozenset({OWNER}),
    Event.RETURN: frozenset({BORROWER}),
    Event.GOT_BACK: frozenset({OWNER}),
    Event.DISPUTE: frozenset({OWNER}),
    Event.RENEW: frozenset({BORROWER}),
    Event.EXPIRE: frozenset({SYSTEM}),
    Event.START: frozenset({SYSTEM}),
    Event.OVERDUE: frozenset({SYSTEM}),
    Event.UNCONFIRMED: frozenset({SYSTEM}),
    Event.MODERATE: frozenset({SYSTEM}),
    Event.ERASE: frozenset({SYSTEM}),
}

_NOT_YOURS = {
    OWNER: "Only the owner of the thing can do that.",
    BORROWER: "Only the member who asked to borrow it can do that.",
}
_REFUSALS: dict[tuple[State, Event], str] = {
    (State.APPROVED, Event.APPROVE): "You already approved this request.",
    (State.APPROVED, Event.DECLINE): "You approved this request; to call it off, press **Cancel**.",
    (State.APPROVED, Event.WITHDRAW): "It's approved already; to call it off, press **Cancel**.",
    (State.ON_LOAN, Event.CANCEL): "It's on loan already: give it back and press **Returned**.",
    (State.ON_LOAN, Event.HAND_OVER): "It's already on loan.",
    (State.REQUESTED, Event.HAND_OVER): "Approve the request first.",
    (State.REQUESTED, Event.RETURN): "It hasn't been lent yet.",
    (State.APPROVED, Event.RETURN): "It hasn't been handed over yet.",
    (State.RETURNED, Event.RETURN): "You already said it's back; the owner confirms with **Got it back**.",
    (State.OVERDUE, Event.RENEW): "It's overdue: please bring it back. Renewing is for loans still in time.",
    (State.RETURNED, Event.RENEW): "It's already returned.",
}


class TransitionError(BuddyError):
    """A forbidden (state, event), explained in the member's words."""


def next_state(state: State | str, event: Event) -> State:
    """The state after `event`, or TransitionError: the only place that knows the allowed moves."""
    state = State(state)
    new = TRANSITIONS.get((state, event))
    if new is not None:
        return new
    message = _REFUSALS.get((state, event))
    if message is None:
        if state in ENDED:
            message = f"This loan is {describe(state)}; nothing about it can change any more."
        else:
            message = f"You can't {event.value} a loan that is {describe(state)}."
    raise TransitionError(message)


def authorise(event: Event, role: str | None, state: State | str) -> State:
    """Who first (a stranger learns nothing about the loan's state), then the move."""
    if role not in WHO[event]:
        allowed = sorted(WHO[event] - {SYSTEM})
        if len(allowed) == 1:
            raise BuddyError(_NOT_YOURS[allowed[0]])
        raise BuddyError("Only the owner and the borrower of this loan can do that.")
    return next_state(state, event)


def describe(state: State | str) -> str:
    return {"on_loan": "on loan"}.get(str(state), str(state))
