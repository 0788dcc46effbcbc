"""Small helpers every cog shares: safe text, ephemeral replies, guild-only checks."""

from __future__ import annotations

from datetime import date

import discord
from discord import app_commands

from buddybot import registry
from buddybot.errors import BuddyError
from buddybot.models import Actor
from buddybot.text import mention

__all__ = ["NO_PINGS", "actor", "guild_id_of", "mention", "pings", "reply", "safe", "short_date"]

NO_PINGS = discord.AllowedMentions.none()


def pings(*user_ids: int) -> discord.AllowedMentions:
    """Exactly these users (each once), nobody else: no @everyone, no roles, no reply ping.

    An erased member's placeholder id (negative) is nobody to ping, and Discord refuses it.
    """
    return discord.AllowedMentions(
        everyone=False,
        roles=False,
        replied_user=False,
        users=[discord.Object(u) for u in dict.fromkeys(user_ids) if u > 0],
    )


def safe(text: str | None, limit: int | None = None) -> str:
    """Member text made inert for Discord: markdown and mentions escaped, optionally shortened."""
    if not text:
        return ""
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def guild_id_of(interaction: discord.Interaction) -> int:
    if interaction.guild_id is None:
        raise BuddyError("BuddyBot works inside the community server, not in direct messages.")
    return interaction.guild_id


def actor(interaction: discord.Interaction) -> Actor:
    """The caller as the domain sees them: id, Manage Server, and role ids (from the interaction's member)."""
    roles = tuple(r.id for r in getattr(interaction.user, "roles", ()))
    return Actor(
        user_id=interaction.user.id, manage_guild=interaction.permissions.manage_guild, role_ids=roles
    )


def short_date(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


async def reply(
    interaction: discord.Interaction,
    content: str | None = None,
    *,
    embed: discord.Embed | None = None,
    ephemeral: bool = True,
    **kwargs,
) -> None:
    """Answer once, with no pings unless the caller passes allowed_mentions explicitly."""
    kwargs.setdefault("allowed_mentions", NO_PINGS)
    if embed is not None:
        kwargs["embed"] = embed
    if interaction.response.is_done():
        await interaction.followup.send(content, ephemeral=ephemeral, **kwargs)
    else:
        await interaction.response.send_message(content, ephemeral=ephemeral, **kwargs)


async def skill_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """The guild's skills for any `skill` option: prefix matches first, then fuzzy (at most 25)."""
    if interaction.guild_id is None:
        return []
    db = interaction.client.db  # type: ignore[attr-defined]
    names = await registry.skill_choices(db, interaction.guild_id, current[:100])
    return [app_commands.Choice(name=n[:100], value=n[:100]) for n in names]
