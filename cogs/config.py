"""/config show and /config set: moderators only (Discord-side default permissions AND a server-side check)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from buddybot import guildconfig
from buddybot.models import GuildConfig
from cogs.common import actor, guild_id_of, reply, safe

if TYPE_CHECKING:
    from buddybot.bot import BuddyBot


def render_config(config: GuildConfig) -> discord.Embed:
    def channel(cid: int | None) -> str:
        return f"<#{cid}>" if cid else "the channel where the command is used"

    embed = discord.Embed(title="BuddyBot settings", colour=discord.Colour.dark_teal())
    embed.add_field(name="Referrals channel", value=channel(config.referrals_channel_id), inline=False)
    embed.add_field(name="Shoutouts channel", value=channel(config.shoutouts_channel_id), inline=False)
    role = f"<@&{config.moderator_role_id}>" if config.moderator_role_id else "Manage Server permission only"
    embed.add_field(name="Moderator role", value=role, inline=False)
    embed.add_field(name="Max pings per need", value=str(config.max_pings))
    embed.add_field(name="Daily need limit", value=str(config.daily_need_limit))
    embed.add_field(name="Time zone", value=safe(config.timezone))
    return embed


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Config(commands.GroupCog, group_name="config", group_description="Moderators: BuddyBot settings"):
    def __init__(self, bot: BuddyBot) -> None:
        self.bot = bot

    @app_commands.command(name="show", description="Show BuddyBot's settings for this server")
    async def show(self, interaction: discord.Interaction) -> None:
        config = await guildconfig.show(self.bot.db, guild_id_of(interaction), actor(interaction))
        await reply(interaction, embed=render_config(config))

    @app_commands.command(name="set", description="Change BuddyBot's settings for this server")
    @app_commands.describe(
        referrals_channel="Where /need requests are posted",
        shoutouts_channel="Where /shoutout praise is posted",
        moderator_role="Members with this role can moderate BuddyBot",
        max_pings="How many members one /need may ping (1-10, default 5)",
        daily_need_limit="How many /need requests the server accepts per member per day (default 10)",
        timezone="IANA time zone for dates, e.g. Europe/London",
    )
    async def set_(
        self,
        interaction: discord.Interaction,
        referrals_channel: discord.TextChannel | None = None,
        shoutouts_channel: discord.TextChannel | None = None,
        moderator_role: discord.Role | None = None,
        max_pings: app_commands.Range[int, 1, 10] | None = None,
        daily_need_limit: app_commands.Range[int, 1, 1000] | None = None,
        timezone: app_commands.Range[str, 1, 64] | None = None,
    ) -> None:
        config = await guildconfig.update(
            self.bot.db,
            guild_id_of(interaction),
            actor(interaction),
            referrals_channel_id=referrals_channel.id if referrals_channel else None,
            shoutouts_channel_id=shoutouts_channel.id if shoutouts_channel else None,
            moderator_role_id=moderator_role.id if moderator_role else None,
            max_pings=max_pings,
            daily_need_limit=daily_need_limit,
            timezone=timezone,
            now=self.bot.now(),
        )
        await reply(interaction, "Settings saved.", embed=render_config(config))


async def setup(bot: BuddyBot) -> None:
    await bot.add_cog(Config(bot))
