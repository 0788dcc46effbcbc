"""When BuddyBot joins a server it posts one short setup note where it may (system channel, else the
first text channel it can write in), naming the three first steps."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord.ext import commands

from buddybot import onboarding
from cogs.common import NO_PINGS, granted_in

if TYPE_CHECKING:
    from buddybot.bot import BuddyBot

log = logging.getLogger(__name__)


def views(guild: discord.Guild) -> list[onboarding.ChannelView]:
    """Every channel as the bot sees it, numbered in the sidebar's order (uncategorised first)."""
    ordered = [c for _category, channels in guild.by_category() for c in channels]
    return [
        onboarding.ChannelView(
            id=c.id, position=i, granted=granted_in(c), text=isinstance(c, discord.TextChannel)
        )
        for i, c in enumerate(ordered)
    ]


class Onboarding(commands.Cog):
    def __init__(self, bot: BuddyBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        system = guild.system_channel.id if guild.system_channel else None
        channel_id = onboarding.note_channel(views(guild), system)
        channel = guild.get_channel(channel_id) if channel_id else None
        if not isinstance(channel, discord.TextChannel):
            log.info("joined guild %s but may post in no text channel; no setup note", guild.id)
            return
        try:
            await channel.send(onboarding.SETUP_NOTE, allowed_mentions=NO_PINGS)
        except discord.HTTPException:
            log.warning("could not post the setup note in guild %s", guild.id, exc_info=True)


async def setup(bot: BuddyBot) -> None:
    await bot.add_cog(Onboarding(bot))
