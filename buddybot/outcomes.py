"""Referral outcomes: the receiver reports whether the work was won (with an optional, private value) or
didn't happen; the giver is told once. Also the lists and counts members see about their referrals.

The value is private: it is shown only to the giver and the receiver (`/referral list`, ephemeral) and
enters moderators' `/stats` only as totals and medians. The public note to the giver never carries it.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime
from decimal import Decimal, InvalidOperation

from buddybot.errors import BuddyError
from buddybot.models import Record, utc_iso
from buddybot.storage import config as config_sql
from buddybot.storage import outcomes as sql
from buddybot.storage.db import Database
from buddybot.text import mention

WON, NO_DEAL = "won", "no_deal"
LABELS = {None: "picked", WON: "won", NO_DEAL: "didn't happen"}
MAX_VALUE = Decimal("100000000")  # 100 million in the guild's currency: beyond that it is a typo
LIST_LIMIT = 15
_NUMBER = re.compile(r"^\d+(\.\d{1,2})?$")


class Referral(Record):
    id: int
    guild_id: int
    need_id: int
    from_id: int
    to_id: int
    skill: str
    created_at: str
    outcome: str | None = None
    outcome_at: str | None = None
    value_minor: int | None = None
    currency: str | None = None
    channel_id: int | None = None
    message_id: int | None = None
    thread_id: int | None = None

    @property
    def status(self) -> str:
        return LABELS.get(self.outcome, self.outcome or "picked")


class Reported(Record):
    referral: Referral

    def giver_notice(self) -> str:
        """What the giver is told in the request's thread: never the value."""
        r = self.referral
        if r.outcome == WON:
            return (
                f"{mention(r.from_id)}: {mention(r.to_id)} won the work you referred (**{r.skill}**, "
                f"request #{r.need_id}). Thank you for the closed business!"
            )
        return (
            f"{mention(r.from_id)}: the work you referred to {mention(r.to_id)} (**{r.skill}**, request "
            f"#{r.need_id}) didn't happen this time. Thanks for passing it on all the same."
        )


class Mine(Record):
    given: list[Referral]
    received: list[Referral]


def parse_value(text: str | None) -> int | None:
    """'1,200', '£1200.50', '80' -> minor units (pence, cents); blank -> None; anything else is refused."""
    if text is None or not text.strip():
        return None
    cleaned = re.sub(r"[\s,_]", "", text.strip()).lstrip("£$€")
    if not _NUMBER.match(cleaned):
        raise BuddyError(
            "The value should be a plain amount like `1200` or `1,200.50` (no currency sign needed), "
            "or left empty."
        )
    try:
        amount = Decimal(cleaned)
    except InvalidOperation as exc:  # pragma: no cover - the pattern already rules this out
        raise BuddyError("That value isn't a number I can read.") from exc
    if amount > MAX_VALUE:
        raise BuddyError("That value looks too large. Please check it and try again.")
    return int(amount * 100)


def format_value(minor: int | None, currency: str | None) -> str:
    if minor is None:
        return ""
    whole, cents = divmod(minor, 100)
    return f"{whole:,}.{cents:02d} {currency or ''}".strip()


def _get(conn: sqlite3.Connection, guild_id: int, referral_id: int) -> Referral:
    row = sql.get(conn, guild_id, referral_id)
    if row is None:
        raise BuddyError(f"There is no referral #{referral_id} in this server. `/referral list` shows yours.")
    return Referral(**dict(row))


def _receiver(conn: sqlite3.Connection, guild_id: int, referral_id: int, user_id: int) -> Referral:
    referral = _get(conn, guild_id, referral_id)
    if user_id != referral.to_id:
        raise BuddyError(
            f"Only {mention(referral.to_id)}, who was referred the work, can report how it went."
        )
    if referral.outcome is not None:
        raise BuddyError(f"This referral's outcome is already reported: {referral.status}.")
    return referral


def _check_reporter(conn: sqlite3.Connection, guild_id: int, referral_id: int, user_id: int) -> str:
    _receiver(conn, guild_id, referral_id, user_id)
    return config_sql.get_config(conn, guild_id).currency


async def check_reporter(db: Database, guild_id: int, referral_id: int, user_id: int) -> str:
    """Before the value form opens: refuse anyone but the receiver, and a referral already reported.
    Returns the guild's currency for the form's label."""
    return await db.read(_check_reporter, guild_id, referral_id, user_id)


def _report(
    conn: sqlite3.Connection,
    guild_id: int,
    referral_id: int,
    user_id: int,
    outcome: str,
    value_minor: int | None,
    now: datetime,
) -> Reported:
    _receiver(conn, guild_id, referral_id, user_id)
    currency = config_sql.get_config(conn, guild_id).currency if value_minor is not None else None
    if outcome != WON:
        value_minor, currency = None, None
    if not sql.report(conn, guild_id, referral_id, outcome, value_minor, currency, utc_iso(now)):
        raise BuddyError("This referral's outcome was reported a moment ago.")
    return Reported(referral=_get(conn, guild_id, referral_id))


async def report(
    db: Database,
    guild_id: int,
    referral_id: int,
    user_id: int,
    outcome: str,
    value: str | None = None,
    *,
    now: datetime,
) -> Reported:
    """The receiver reports once (conditional UPDATE): a double click or a race records one outcome."""
    if outcome not in (WON, NO_DEAL):
        raise BuddyError("The outcome is either won or didn't happen.")
    minor = parse_value(value) if outcome == WON else None
    return await db.write(_report, guild_id, referral_id, user_id, outcome, minor, now)


def _mine(conn: sqlite3.Connection, guild_id: int, user_id: int) -> Mine:
    given, received = sql.given_and_received(conn, guild_id, user_id, LIST_LIMIT)
    return Mine(given=[Referral(**dict(r)) for r in given], received=[Referral(**dict(r)) for r in received])


async def mine(db: Database, guild_id: int, user_id: int) -> Mine:
    return await db.read(_mine, guild_id, user_id)


def counts(conn: sqlite3.Connection, guild_id: int, user_id: int) -> tuple[int, int, int]:
    """(given, received, won) for a profile card, inside the caller's unit."""
    return sql.counts_for(conn, guild_id, user_id)
