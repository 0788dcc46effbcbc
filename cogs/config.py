"""/config show|set|check|reset: moderators only (Discord-side default permissions AND a server-side check).

`set` refuses a channel the bot couldn't post in; `check` says, per configured channel, which permissions
the bot lacks and how to grant them (computed by discord.py from the cached roles and overwrites).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from buddybot import guildconfig, onboarding
from buddybot.errors import BuddyError
from buddybot.models import GuildConfig
from buddybot.storage.config import CONFIG_COLUMNS
from cogs.common import actor, granted_in, guild_id_of, reply, safe

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
    embed.add_field(name="Sharing channel", value=channel(config.sharing_channel_id), inline=False)
    embed.add_field(name="Group-buys channel", value=channel(config.groupbuy_channel_id), inline=False)
    mod_channel = (
        f"<#{config.mod_channel_id}>" if config.mod_channel_id else "not set (no escalations posted)"
    )
    embed.add_field(name="Moderators' channel", value=mod_channel, inline=False)
    embed.add_field(name="Currency", value=config.currency)
    embed.add_field(name="Date locale", value=config.locale or "the server's Discord language")
    embed.add_field(name="First-answer window", value=f"{config.pitch_window_minutes} min")
    embed.add_field(name="Nudge after", value=f"{config.nudge_after_hours} h")
    embed.add_field(name="Labour per lender", value=f"{config.labour_hours_per_week} h/week")
    embed.add_field(name="Pledge cap", value=f"{config.pledge_cap_percent}% of the target")
    return embed


def require_postable(changes: dict[str, discord.TextChannel | None]) -> None:
    for setting, channel in changes.items():
        if channel is not None:
            onboarding.require_postable(
                onboarding.CHANNEL_SETTINGS[setting], channel.mention, granted_in(channel)
            )


def check_embed(guild: discord.Guild, config: GuildConfig) -> discord.Embed:
    configured = {k: getattr(config, k) for k in onboarding.CHANNEL_SETTINGS if getattr(config, k)}
    granted = {}
    for channel_id in configured.values():
        channel = guild.get_channel_or_thread(channel_id)
        granted[channel_id] = granted_in(channel) if channel is not None else None
    text = onboarding.report(onboarding.findings(configured, granted))
    return discord.Embed(
        title="BuddyBot permission check", description=text, colour=discord.Colour.dark_teal()
    )


RESET_CHOICES = [
    app_commands.Choice(name=c.removesuffix("_id").replace("_", " "), value=c) for c in CONFIG_COLUMNS
]


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
        currency="Three-letter currency for values and prices, e.g. GBP (default)",
        pitch_window_minutes="Minutes every early volunteer counts as first (0-240, default 30)",
        nudge_after_hours="Hours without a volunteer before a request pings more members (default 24)",
        sharing_channel="Where /borrow requests are posted",
        mod_channel="Where moderators are told about overdue loans",
        labour_hours_per_week="Most labour hours one member lends per week (default 20)",
        groupbuy_channel="Where group buys are posted",
        pledge_cap_percent="Most of a group buy's target one member may pledge (default 40%)",
        locale="How numeric dates are read, e.g. en-GB (20/12) or en-US (12/20)",
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
        currency: app_commands.Range[str, 3, 3] | None = None,
        pitch_window_minutes: app_commands.Range[int, 0, 240] | None = None,
        nudge_after_hours: app_commands.Range[int, 1, 336] | None = None,
        sharing_channel: discord.TextChannel | None = None,
        mod_channel: discord.TextChannel | None = None,
        labour_hours_per_week: app_commands.Range[int, 1, 168] | None = None,
        groupbuy_channel: discord.TextChannel | None = None,
        pledge_cap_percent: app_commands.Range[int, 1, 100] | None = None,
        locale: app_commands.Range[str, 2, 6] | None = None,
    ) -> None:
        require_postable(
            {
                "referrals_channel_id": referrals_channel,
                "shoutouts_channel_id": shoutouts_channel,
                "sharing_channel_id": sharing_channel,
                "mod_channel_id": mod_channel,
                "groupbuy_channel_id": groupbuy_channel,
            }
        )
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
            currency=currency,
            pitch_window_minutes=pitch_window_minutes,
            nudge_after_hours=nudge_after_hours,
            sharing_channel_id=sharing_channel.id if sharing_channel else None,
            mod_channel_id=mod_channel.id if mod_channel else None,
            labour_hours_per_week=labour_hours_per_week,
            groupbuy_channel_id=groupbuy_channel.id if groupbuy_channel else None,
            pledge_cap_percent=pledge_cap_percent,
            locale=locale,
            now=self.bot.now(),
        )
        await reply(interaction, "Settings saved.", embed=render_config(config))

    @app_commands.command(
        name="check", description="Check BuddyBot can do its job in every configured channel"
    )
    async def check(self, interaction: discord.Interaction) -> None:
        config = await guildconfig.show(self.bot.db, guild_id_of(interaction), actor(interaction))
        if interaction.guild is None:
            raise BuddyError("BuddyBot works inside the community server, not in direct messages.")
        await reply(interaction, embed=check_embed(interaction.guild, config))

    @app_commands.command(name="reset", description="Put one setting back to its default")
    @app_commands.describe(setting="The setting to clear or put back to its default")
    @app_commands.choices(setting=RESET_CHOICES)
    async def reset(self, interaction: discord.Interaction, setting: app_commands.Choice[str]) -> None:
        config = await guildconfig.reset(
            self.bot.db, guild_id_of(interaction), actor(interaction), setting.value, now=self.bot.now()
        )
        await reply(interaction, f"Reset {setting.name} to its default.", embed=render_config(config))


async def setup(bot: BuddyBot) -> None:
    await bot.add_cog(Config(bot))
