"""Shoutouts: public praise for one member. Rules: not yourself, not a bot, one per member per day."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from buddybot.errors import BuddyError
from buddybot.models import Record, utc_iso
from buddybot.storage import config as config_sql
from buddybot.storage import shoutouts as sql
from buddybot.storage.db import Database
from buddybot.text import clean_text
from buddybot.when import today_in

MAX_MESSAGE = 500


class Shoutout(Record):
    """A reserved shoutout: where to post it, who is praised, by whom, and the cleaned text."""

    id: int
    channel_id: int
    giver_id: int
    receiver_id: int
    message: str


def _reserve(
    conn: sqlite3.Connection,
    guild_id: int,
    giver_id: int,
    receiver_id: int,
    message: str,
    current_channel_id: int,
    now: datetime,
) -> Shoutout:
    config = config_sql.get_config(conn, guild_id)
    channel_id = config.shoutouts_channel_id or current_channel_id
    day = today_in(config.timezone, now).isoformat()
    shoutout_id = sql.reserve(conn, guild_id, giver_id, receiver_id, message, day, channel_id, utc_iso(now))
    if shoutout_id is None:
        raise BuddyError(
            f"You already gave <@{receiver_id}> a shoutout today. Thank you! Try again tomorrow."
        )
    return Shoutout(
        id=shoutout_id, channel_id=channel_id, giver_id=giver_id, receiver_id=receiver_id, message=message
    )


async def give(
    db: Database,
    guild_id: int,
    giver_id: int,
    receiver_id: int,
    *,
    receiver_is_bot: bool,
    message: str,
    current_channel_id: int,
    now: datetime,
) -> Shoutout:
    """Validate and record (one unit); the caller posts it and then calls `posted` or `not_posted`."""
    if receiver_id == giver_id:
        raise BuddyError("Shoutouts are for praising someone else. 🙂")
    if receiver_is_bot:
        raise BuddyError("Shoutouts are for members, not bots.")
    text = clean_text(message, "message", MAX_MESSAGE, required=True, multiline=True)
    return await db.write(_reserve, guild_id, giver_id, receiver_id, text, current_channel_id, now)


async def posted(db: Database, shoutout: Shoutout, message_id: int) -> None:
    await db.write(sql.set_posted, shoutout.id, message_id)


async def not_posted(db: Database, shoutout: Shoutout) -> None:
    """Posting failed: forget it, so the giver may try again today."""
    await db.write(sql.discard, shoutout.id)
