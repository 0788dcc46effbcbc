"""SQL for guild_config and the meta key/value table."""

from __future__ import annotations

import sqlite3
from typing import Any

from buddybot.models import GuildConfig

CONFIG_COLUMNS = (
    "referrals_channel_id",
    "shoutouts_channel_id",
    "moderator_role_id",
    "max_pings",
    "daily_need_limit",
    "timezone",
    "currency",
    "pitch_window_minutes",
    "nudge_after_hours",
    "sharing_channel_id",
    "mod_channel_id",
    "labour_hours_per_week",
    "groupbuy_channel_id",
    "pledge_cap_percent",
    "locale",
)


def get_config(conn: sqlite3.Connection, guild_id: int) -> GuildConfig:
    row = conn.execute("SELECT * FROM guild_config WHERE guild_id = ?", (guild_id,)).fetchone()
    return GuildConfig(**dict(row)) if row else GuildConfig(guild_id=guild_id)


def update_config(conn: sqlite3.Connection, guild_id: int, changes: dict[str, Any]) -> GuildConfig:
    unknown = set(changes) - set(CONFIG_COLUMNS)
    if unknown:
        raise ValueError(f"unknown config keys: {sorted(unknown)}")
    if changes:
        columns = ", ".join(changes)
        marks = ", ".join("?" for _ in changes)
        updates = ", ".join(f"{c} = excluded.{c}" for c in changes)
        conn.execute(
            f"INSERT INTO guild_config (guild_id, {columns}) VALUES (?, {marks}) "
            f"ON CONFLICT (guild_id) DO UPDATE SET {updates}",
            (guild_id, *changes.values()),
        )
    return get_config(conn, guild_id)


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
