"""'Would you work together again?': one answer per member of a completed agreement, and a private note."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from buddybot.agreement_rules import NOTE_MAX, Event
from buddybot.agreements import _authorise, _load
from buddybot.errors import BuddyError
from buddybot.models import Record, utc_iso
from buddybot.storage import agreements as sql
from buddybot.storage.agreements import Agreement
from buddybot.storage.db import Database
from buddybot.text import clean_text


class Answered(Record):
    """The answer is recorded; `mutual` = the other members who also said yes (only when this one is yes)."""

    agreement: Agreement
    mutual: list[int] = []


def _answer(
    conn: sqlite3.Connection, guild_id: int, agreement_id: int, user_id: int, again: bool, now: datetime
) -> Answered:
    agreement = _load(conn, guild_id, agreement_id)
    _authorise(conn, agreement, user_id, Event.FEEDBACK)
    if not sql.add_feedback(conn, agreement.id, user_id, again, utc_iso(now)):
        earlier = sql.feedback_of(conn, agreement.id, user_id)
        said = "yes" if earlier and earlier.again else "no"
        raise BuddyError(f"You already answered ({said}) for agreement #{agreement.id}. Thanks!")
    mutual = [
        f.user_id for f in sql.feedback(conn, agreement.id) if again and f.again and f.user_id != user_id
    ]
    return Answered(agreement=agreement, mutual=[u for u in mutual if u > 0])


async def answer(
    db: Database, guild_id: int, agreement_id: int, user_id: int, again: bool, *, now: datetime
) -> Answered:
    """One answer per member; a second one is refused and the first kept. Double-blind: nobody is told
    another's answer, except that two members who both said yes are each told it is mutual."""
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
