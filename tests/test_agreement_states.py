"""The agreement state machine, who may move it, the terms hash and buddy checks: pure, table-driven."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from buddybot.agreements import (
    LEAD,
    PARTY,
    TERMS_TEMPLATE,
    TRANSITIONS,
    Buddy,
    Event,
    State,
    TermsText,
    TransitionError,
    check_buddies,
    clean_terms,
    next_state,
    require_role,
    terms_hash,
)
from buddybot.errors import BuddyError
from buddybot.storage.agreements import Terms

D, P, A, X, C, F = State.DRAFT, State.PROPOSED, State.AGREED, State.DECLINED, State.CANCELLED, State.COMPLETED

# Written out by hand from the product spec (not derived from TRANSITIONS), so a wrong table fails here.
ALLOWED = {
    (D, Event.PROPOSE): P,
    (D, Event.EDIT): D,
    (D, Event.CANCEL): C,
    (P, Event.EDIT): P,
    (P, Event.ACCEPT): P,
    (P, Event.AGREE): A,
    (P, Event.DECLINE): X,
    (P, Event.CANCEL): C,
    (A, Event.CANCEL): C,
    (A, Event.COMPLETE): F,
    (F, Event.FEEDBACK): F,
}
FORBIDDEN = [pair for pair in itertools.product(State, Event) if pair not in ALLOWED]


def test_the_table_is_exactly_the_spec() -> None:
    assert TRANSITIONS == ALLOWED
    assert len(ALLOWED) + len(FORBIDDEN) == len(State) * len(Event) == 48


@pytest.mark.parametrize(("state", "event", "expected"), [(s, e, n) for (s, e), n in ALLOWED.items()])
def test_allowed_transitions(state: State, event: Event, expected: State) -> None:
    assert next_state(state, event) is expected
    assert next_state(state.value, event) is expected  # rows hold plain strings


@pytest.mark.parametrize(("state", "event"), FORBIDDEN)
def test_forbidden_transitions_are_refused_in_words(state: State, event: Event) -> None:
    with pytest.raises(TransitionError) as caught:
        next_state(state, event)
    message = caught.value.message
    assert isinstance(caught.value, BuddyError)
    assert message and "Traceback" not in message and len(message) < 200


@pytest.mark.parametrize(
    ("state", "event", "fragment"),
    [
        (A, Event.EDIT, "locked"),
        (A, Event.ACCEPT, "already agreed"),
        (P, Event.COMPLETE, "Not every buddy has accepted"),
        (D, Event.ACCEPT, "still a draft"),
        (X, Event.ACCEPT, "declined"),
        (C, Event.COMPLETE, "cancelled"),
        (F, Event.CANCEL, "completed"),
        (P, Event.FEEDBACK, "once the lead marks"),
        (X, Event.CANCEL, "declined"),
    ],
)
def test_refusals_say_why(state: State, event: Event, fragment: str) -> None:
    with pytest.raises(TransitionError, match=fragment):
        next_state(state, event)


def test_closed_states_are_final() -> None:
    for state in (X, C, F):
        moves = {e for (s, e) in ALLOWED if s is state}
        assert moves <= {Event.FEEDBACK}
        assert all(ALLOWED[(state, e)] is state for e in moves)


WHO = {
    Event.PROPOSE: {LEAD},
    Event.EDIT: {LEAD},
    Event.ACCEPT: {PARTY},
    Event.AGREE: {PARTY},
    Event.DECLINE: {PARTY},
    Event.CANCEL: {LEAD, PARTY},
    Event.COMPLETE: {LEAD},
    Event.FEEDBACK: {LEAD, PARTY},
}


@pytest.mark.parametrize(("event", "role"), list(itertools.product(Event, (LEAD, PARTY, None))))
def test_who_may_cause_each_event(event: Event, role: str | None) -> None:
    if role in WHO[event]:
        assert require_role(event, role) == role
    else:
        with pytest.raises(BuddyError):
            require_role(event, role)


def test_outsiders_may_cause_nothing() -> None:
    for event in Event:
        with pytest.raises(BuddyError, match="Only"):
            require_role(event, None)


BASE = Terms(
    title="Shop sign",
    scope="Design and fit",
    terms="Payment: 30 days",
    fee="£500",
    start=date(2026, 12, 1),
    end=date(2026, 12, 5),
)


def test_hash_is_sha256_of_canonical_json_and_stable() -> None:
    digest = terms_hash(BASE)
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert terms_hash(Terms(**BASE.model_dump())) == digest


@pytest.mark.parametrize(
    "change",
    [{"title": "Shop sign!"}, {"scope": "Design and fit "}, {"terms": "Payment: 31 days"}, {"fee": "£501"},
     {"start": date(2026, 12, 2)}, {"end": date(2026, 12, 6)}],
)  # fmt: skip
def test_any_change_to_the_terms_changes_the_hash(change: dict) -> None:
    assert terms_hash(BASE.model_copy(update=change)) != terms_hash(BASE)


TODAY = date(2026, 11, 25)
TYPED = TermsText("Shop sign", "Design and fit", "Payment: 30 days", "£500", "1-5 dec")


def test_clean_terms_reads_dates_and_keeps_unchanged_dates_on_edit() -> None:
    terms = clean_terms(TYPED, TODAY)
    assert (terms.start, terms.end) == (date(2026, 12, 1), date(2026, 12, 5))
    later = date(2026, 12, 3)  # the window has started: an unchanged edit must not re-anchor it
    edited = TermsText(TYPED.title, TYPED.scope, TYPED.terms, TYPED.fee, "2026-12-01 to 2026-12-05")
    same = clean_terms(edited, later, previous=terms)
    assert same == terms


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("title", " ", "fill in title"),
        ("scope", "@here please", "mentions"),
        ("terms", TERMS_TEMPLATE, "fill in the terms"),
        ("fee", "x" * 101, "at most 100"),
        ("dates", "whenever", "whenever"),
        ("terms", "a\x00b", "control characters"),
    ],
)
def test_clean_terms_refuses_bad_input(field: str, value: str, fragment: str) -> None:
    typed = TermsText(**{**TYPED.__dict__, field: value})
    with pytest.raises(BuddyError, match=fragment):
        clean_terms(typed, TODAY)


@pytest.mark.parametrize(
    ("ids", "fragment"),
    [([], "between 1 and 21"), (list(range(2, 24)), "you picked 22"), ([1, 2], "can't also be"),
     ([2, 3, 4], None), (list(range(2, 23)), None), ([2, 2, 2], None)],
)  # fmt: skip
def test_buddy_checks(ids: list[int], fragment: str | None) -> None:
    buddies = [Buddy(user_id=i) for i in ids]
    if fragment is None:
        assert [b.user_id for b in check_buddies(1, buddies)] == list(dict.fromkeys(ids))
    else:
        with pytest.raises(BuddyError, match=fragment):
            check_buddies(1, buddies)


def test_bots_are_not_buddies() -> None:
    with pytest.raises(BuddyError, match="Bots can't be buddies"):
        check_buddies(1, [Buddy(user_id=2), Buddy(user_id=3, bot=True)])
