"""Per-guild settings and who counts as a moderator. Checked inside the same unit of work as the action."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from typing import Any

from buddybot.errors import BuddyError
from buddybot.models import Actor, GuildConfig, utc_iso
from buddybot.storage import config as sql
from buddybot.storage import moderation as moderation_sql
from buddybot.storage.db import Database
from buddybot.text import quote_back
from buddybot.when import guild_locale, today_in, valid_timezone

# Discord's locale codes (the interaction's guild_locale uses the same ones).
LOCALES = frozenset(
    "id da de en-GB en-US es-ES es-419 fr hr it lt hu nl no pl pt-BR ro fi sv-SE vi tr cs el bg ru uk hi th "
    "zh-CN ja zh-TW ko".split()
)
NOT_MODERATOR = "Only moderators (Manage Server or the moderator role) can do that."


def is_moderator(config: GuildConfig, actor: Actor) -> bool:
    return actor.manage_guild or (
        config.moderator_role_id is not None and config.moderator_role_id in actor.role_ids
    )


def require_moderator(conn: sqlite3.Connection, guild_id: int, actor: Actor) -> GuildConfig:
    """Load the guild's config and refuse non-moderators; call at the start of a moderator unit."""
    config = sql.get_config(conn, guild_id)
    if not is_moderator(config, actor):
        raise BuddyError(NOT_MODERATOR)
    return config


def dates_for(
    conn: sqlite3.Connection, guild_id: int, now: datetime, discord_locale: str | None
) -> tuple[date, str]:
    """Today in the guild's time zone, and the locale its numeric dates are read in
    (the /config locale if set, else the locale Discord sent with the interaction, else en-GB)."""
    config = sql.get_config(conn, guild_id)
    return today_in(config.timezone, now), guild_locale(config.locale, discord_locale)


def validate_changes(changes: dict[str, Any]) -> dict[str, Any]:
    clean = {k: v for k, v in changes.items() if v is not None}
    if not clean:
        raise BuddyError("Tell me what to change, e.g. `/config set max_pings:3`.")
    if "max_pings" in clean and not 1 <= clean["max_pings"] <= 10:
        raise BuddyError("max_pings must be between 1 and 10.")
    if "daily_need_limit" in clean and not 1 <= clean["daily_need_limit"] <= 1000:
        raise BuddyError("daily_need_limit must be between 1 and 1000.")
    if "timezone" in clean:
        name = str(clean["timezone"]).strip()
        if not valid_timezone(name):
            raise BuddyError(
                f"“{quote_back(name)}” is not a time zone I know. Use an IANA name such as Europe/London or America/New_York."
            )
        clean["timezone"] = name
    if "currency" in clean:
        code = str(clean["currency"]).strip().upper()
        if len(code) != 3 or not code.isascii() or not code.isalpha():
            raise BuddyError("currency must be a three-letter ISO code such as GBP, EUR or USD.")
        clean["currency"] = code
    if "locale" in clean:
        wanted = str(clean["locale"]).strip()
        match = {code.casefold(): code for code in LOCALES}.get(wanted.casefold())
        if match is None:
            raise BuddyError("locale must be one of Discord's locale codes, e.g. en-GB or en-US.")
        clean["locale"] = match
    for key, low, high in (
        ("pitch_window_minutes", 0, 240),
        ("nudge_after_hours", 1, 336),
        ("labour_hours_per_week", 1, 168),
        ("pledge_cap_percent", 1, 100),
    ):
        if key in clean and not low <= clean[key] <= high:
            raise BuddyError(f"{key} must be between {low} and {high}.")
    return clean


def _show(conn: sqlite3.Connection, guild_id: int, actor: Actor) -> GuildConfig:
    return require_moderator(conn, guild_id, actor)


async def show(db: Database, guild_id: int, actor: Actor) -> GuildConfig:
    return await db.read(_show, guild_id, actor)


def _update(
    conn: sqlite3.Connection, guild_id: int, actor: Actor, changes: dict[str, Any], now: str
) -> GuildConfig:
    require_moderator(conn, guild_id, actor)
    config = sql.update_config(conn, guild_id, changes)
    summary = ", ".join(f"{key}={value}" for key, value in changes.items())
    moderation_sql.audit(conn, guild_id, actor.user_id, "config_set", "config", None, summary, now)
    return config


async def update(db: Database, guild_id: int, actor: Actor, *, now: datetime, **changes: Any) -> GuildConfig:
    """Validate, check the moderator and save in one unit; the change is written to the moderation log."""
    if changes.get("moderator_role_id") == guild_id:  # the @everyone role has the guild's id
        raise BuddyError("@everyone can't be the moderator role: every member would become a moderator.")
    return await db.write(_update, guild_id, actor, validate_changes(changes), utc_iso(now))


async def get(db: Database, guild_id: int) -> GuildConfig:
    return await db.read(sql.get_config, guild_id)


def _reset(conn: sqlite3.Connection, guild_id: int, actor: Actor, setting: str, now: str) -> GuildConfig:
    require_moderator(conn, guild_id, actor)
    default = GuildConfig.model_fields[setting].default
    config = sql.update_config(conn, guild_id, {setting: default})
    moderation_sql.audit(conn, guild_id, actor.user_id, "config_reset", "config", None, setting, now)
    return config


async def reset(db: Database, guild_id: int, actor: Actor, setting: str, *, now: datetime) -> GuildConfig:
    """Put one setting back to its default (a channel or role setting is cleared), audited like a change."""
    if setting not in sql.CONFIG_COLUMNS:
        raise BuddyError(f"“{quote_back(setting)}” isn't a setting. `/config show` lists them.")
    return await db.write(_reset, guild_id, actor, setting, utc_iso(now))
