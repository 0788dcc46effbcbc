"""Moderator actions: remove a need, hide or unhide a member. Each is checked and audited in one unit."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from buddybot.errors import BuddyError
from buddybot.guildconfig import require_moderator
from buddybot.models import Actor, utc_iso
from buddybot.referrals import Need, NeedState
from buddybot.storage import moderation as sql
from buddybot.storage import referrals as referrals_sql
from buddybot.storage.db import Database
from buddybot.text import clean_text

MAX_REASON = 300


def _reason(reason: str | None, *, required: bool = False) -> str | None:
    return clean_text(reason, "reason", MAX_REASON, required=required)


def _set_hidden(
    conn: sqlite3.Connection,
    guild_id: int,
    actor: Actor,
    user_id: int,
    hidden: bool,
    reason: str | None,
    now: str,
) -> bool:
    require_moderator(conn, guild_id, actor)
    changed = (sql.hide if hidden else sql.unhide)(conn, guild_id, user_id, now)
    if changed:
        action = "hide_member" if hidden else "unhide_member"
        sql.audit(conn, guild_id, actor.user_id, action, "member", user_id, reason, now)
    return changed


async def hide_member(
    db: Database,
    guild_id: int,
    actor: Actor,
    user_id: int,
    *,
    is_bot: bool = False,
    reason: str | None = None,
    now: datetime,
) -> bool:
    """Hidden members vanish from the directory and from referral matching; False if already hidden."""
    if is_bot:
        raise BuddyError("Bots never appear in the directory or matching; there is nothing to hide.")
    return await db.write(_set_hidden, guild_id, actor, user_id, True, _reason(reason), utc_iso(now))


async def unhide_member(
    db: Database, guild_id: int, actor: Actor, user_id: int, *, reason: str | None = None, now: datetime
) -> bool:
    return await db.write(_set_hidden, guild_id, actor, user_id, False, _reason(reason), utc_iso(now))


def _remove_need(
    conn: sqlite3.Connection, guild_id: int, actor: Actor, need_id: int, reason: str, now: str
) -> NeedState:
    require_moderator(conn, guild_id, actor)
    if not sql.remove_need(conn, guild_id, need_id, actor.user_id, now):
        if sql.need_state(conn, guild_id, need_id) is None:
            raise BuddyError(f"There is no request #{need_id} in this server.")
        raise BuddyError(f"Request #{need_id} was already removed.")
    sql.audit(conn, guild_id, actor.user_id, "remove_need", "need", need_id, reason, now)
    need = Need.from_row(referrals_sql.get_need(conn, need_id))
    # The post stops showing what was asked (the text stays in the database for the moderators).
    return NeedState(need=need.model_copy(update={"details": None}))


async def remove_need(
    db: Database, guild_id: int, actor: Actor, need_id: int, reason: str, *, now: datetime
) -> NeedState:
    """Take a request down (state 'removed', audited); returns what its post should now show."""
    text = _reason(reason, required=True)
    return await db.write(_remove_need, guild_id, actor, need_id, text, utc_iso(now))
