"""/shoutout member message: public praise that pings exactly that member."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from buddybot import shoutouts
from buddybot.errors import BuddyError
from cogs.common import channel_is_busy, guild_id_of, mention, pings, post_before_answering, reply, safe

if TYPE_CHECKING:
    from buddybot.bot import BuddyBot


def render_shoutout(shoutout: shoutouts.Shoutout) -> tuple[str, discord.Embed]:
    content = f"📣 Shoutout for {mention(shoutout.receiver_id)}!"
    embed = discord.Embed(description=safe(shoutout.message, 2000), colour=discord.Colour.gold())
    embed.add_field(name="From", value=mention(shoutout.giver_id))
    return content, embed


class Shoutouts(commands.Cog):
    def __init__(self, bot: BuddyBot) -> None:
        self.bot = bot

    @app_commands.command(name="shoutout", description="Thank or praise a member publicly")
    @app_commands.describe(member="Who you want to praise", message="What they did well (no mentions)")
    @app_commands.guild_only()
    async def shoutout(
        self,
        interaction: discord.Interaction,
        member: discord.User,
        message: app_commands.Range[str, 1, shoutouts.MAX_MESSAGE],
    ) -> None:
        shoutout = await shoutouts.give(
            self.bot.db,
            guild_id_of(interaction),
            interaction.user.id,
            member.id,
            receiver_is_bot=member.bot,
            message=message,
            current_channel_id=interaction.channel_id or 0,
            now=self.bot.now(),
        )
        content, embed = render_shoutout(shoutout)
        here = shoutout.channel_id == interaction.channel_id
        try:
            if here:  # the shoutout is the answer: one round trip, and no channel bucket
                answered = await interaction.response.send_message(
                    content, embed=embed, allowed_mentions=pings(shoutout.receiver_id)
                )
                sent = answered.resource
            else:
                channel = self.bot.get_partial_messageable(shoutout.channel_id, guild_id=interaction.guild_id)
                sent = await post_before_answering(
                    interaction,
                    lambda: channel.send(content, embed=embed, allowed_mentions=pings(shoutout.receiver_id)),
                    busy=channel_is_busy(self.bot, shoutout.channel_id),
                )
        except (TimeoutError, discord.HTTPException) as exc:
            await shoutouts.not_posted(self.bot.db, shoutout)  # the giver can try again today
            raise BuddyError(
                f"I couldn't post in <#{shoutout.channel_id}>; "
                "please ask a moderator to check my permissions there."
            ) from exc
        await shoutouts.posted(self.bot.db, shoutout, sent.id)
        if not here:
            await reply(
                interaction, f"Your shoutout for {mention(shoutout.receiver_id)} is up: {sent.jump_url}"
            )


async def setup(bot: BuddyBot) -> None:
    await bot.add_cog(Shoutouts(bot))
