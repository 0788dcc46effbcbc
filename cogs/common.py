"""Small helpers every cog shares: safe text, ephemeral replies, guild-only checks."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import date
from typing import TypeVar

import discord
import discord.http
from discord import app_commands

from buddybot import onboarding, registry
from buddybot.errors import BuddyError
from buddybot.models import Actor
from buddybot.text import mention

__all__ = [
    "NO_PINGS",
    "actor",
    "channel_is_busy",
    "guild_id_of",
    "mention",
    "pings",
    "post_before_answering",
    "reply",
    "safe",
    "short_date",
]

NO_PINGS = discord.AllowedMentions.none()
ACK_GUARD_S = 2.0  # Discord drops an interaction not acknowledged within 3 s
T = TypeVar("T")


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


# Every character discord.utils.escape_markdown / escape_mentions can act on (markdown marks, quote,
# link and heading starts, list dashes, @): text without any of them comes back unchanged, so it skips
# their regexes (a /find page renders ~35 fields; tests/test_hostile_input.py holds the two equal).
_MARKUP = re.compile(r"[_\\~|*`>\[#\-@]")


def safe(text: str | None, limit: int | None = None) -> str:
    """Member text made inert for Discord: markdown and mentions escaped, optionally shortened."""
    if not text:
        return ""
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    if not _MARKUP.search(text):
        return text
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


def discord_locale(interaction: discord.Interaction) -> str | None:
    """The server's language as Discord sends it ("en-US"); numeric dates are read in it unless
    a moderator set `/config set locale`."""
    return interaction.guild_locale.value if interaction.guild_locale else None


def granted_in(channel: discord.abc.GuildChannel | discord.Thread) -> frozenset[str]:
    """The permissions BuddyBot needs that it has in `channel` (roles, category and channel overwrites)."""
    perms = channel.permissions_for(channel.guild.me)
    return frozenset(n.flag for n in onboarding.NEEDED if getattr(perms, n.flag))


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


def channel_is_busy(client: discord.Client, channel_id: int) -> bool:
    """Would a new message in this channel wait for Discord's per-channel bucket?

    Reads discord.py's own bucket for POST /channels/{id}/messages, which it keeps from Discord's
    X-RateLimit headers (discord.py 2.7 internals: tests/test_harness.py fails first if they move).
    """
    http = client.http
    route = discord.http.Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id)
    bucket_hash = http._bucket_hashes.get(route.key)
    key = f"{bucket_hash or route.key}:{route.major_parameters}"
    bucket = http._buckets.get(key)
    if bucket is None:
        return False
    # discord.py makes the request that spends a bucket's last token wait for the reset before it
    # returns, so one token left is already busy (a bucket that never saw Discord's headers has limit 1).
    last = 1 if bucket.limit > 1 else 0
    return bool(bucket._pending_requests) or (bucket.remaining <= last and not bucket.is_expired())


async def post_before_answering(
    interaction: discord.Interaction, post: Callable[[], Awaitable[T]], *, busy: bool
) -> T:
    """Make a channel post first, so the answer can link to it in one more round trip (two in all).

    When the channel's bucket is spent (`busy`), or the post is not made ACK_GUARD_S after the
    interaction was created (a queue of work may come first), the interaction is deferred (privately)
    so Discord's 3 s deadline holds; `reply` then sends a follow-up.
    """
    left = ACK_GUARD_S - (discord.utils.utcnow() - interaction.created_at).total_seconds()
    if busy or left <= 0:
        await interaction.response.defer(ephemeral=True, thinking=True)
        return await post()
    deferring = False

    async def guard() -> None:
        nonlocal deferring
        await asyncio.sleep(left)
        deferring = True
        await interaction.response.defer(ephemeral=True, thinking=True)

    timer = asyncio.ensure_future(guard())
    try:
        return await post()
    finally:
        if deferring:
            await timer  # let a defer under way finish (or raise) before anyone answers
        else:
            timer.cancel()
