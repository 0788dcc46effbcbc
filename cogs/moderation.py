"""/mod remove-need, /mod hide-member, /mod unhide-member: moderators only, every action audited."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from buddybot import moderation
from buddybot.storage.moderation import RemovedNeed
from cogs.common import NO_PINGS, actor, guild_id_of, reply

if TYPE_CHECKING:
    from buddybot.bot import BuddyBot

log = logging.getLogger(__name__)
REMOVED_POST = "🚫 Request #{id} was removed by a moderator."


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Moderation(commands.GroupCog, group_name="mod", group_description="Moderators: remove abuse"):
    def __init__(self, bot: BuddyBot) -> None:
        self.bot = bot

    @app_commands.command(name="remove-need", description="Take down a /need request (abuse, spam)")
    @app_commands.describe(
        need_id="The request's number (#123 on its post)", reason="Why (kept in the moderation log)"
    )
    async def remove_need(
        self,
        interaction: discord.Interaction,
        need_id: app_commands.Range[int, 1],
        reason: app_commands.Range[str, 1, moderation.MAX_REASON],
    ) -> None:
        removed = await moderation.remove_need(
            self.bot.db, guild_id_of(interaction), actor(interaction), need_id, reason, now=self.bot.now()
        )
        edited = await self._take_down_post(removed)
        note = "" if edited else " I couldn't edit its post (it may have been deleted)."
        await reply(interaction, f"Request #{removed.need_id} is removed.{note}")

    async def _take_down_post(self, removed: RemovedNeed) -> bool:
        if removed.channel_id is None or removed.message_id is None:
            return False
        channel = self.bot.get_partial_messageable(removed.channel_id)
        try:
            await channel.get_partial_message(removed.message_id).edit(
                content=REMOVED_POST.format(id=removed.need_id),
                embed=None,
                view=None,
                allowed_mentions=NO_PINGS,
            )
        except discord.HTTPException:
            log.warning("could not edit the post of removed need %s", removed.need_id, exc_info=True)
            return False
        return True

    @app_commands.command(
        name="hide-member", description="Hide a member from the directory and referral matching"
    )
    @app_commands.describe(member="Who to hide", reason="Why (kept in the moderation log)")
    async def hide_member(
        self,
        interaction: discord.Interaction,
        member: discord.User,
        reason: app_commands.Range[str, 1, moderation.MAX_REASON] | None = None,
    ) -> None:
        changed = await moderation.hide_member(
            self.bot.db,
            guild_id_of(interaction),
            actor(interaction),
            member.id,
            is_bot=member.bot,
            reason=reason,
            now=self.bot.now(),
        )
        if changed:
            await reply(
                interaction,
                f"<@{member.id}> is hidden: they no longer appear in `/find` or get referral "
                "pings. `/mod unhide-member` undoes it.",
            )
        else:
            await reply(interaction, f"<@{member.id}> was already hidden.")

    @app_commands.command(
        name="unhide-member", description="Show a hidden member in the directory and matching again"
    )
    @app_commands.describe(member="Who to show again", reason="Why (kept in the moderation log)")
    async def unhide_member(
        self,
        interaction: discord.Interaction,
        member: discord.User,
        reason: app_commands.Range[str, 1, moderation.MAX_REASON] | None = None,
    ) -> None:
        changed = await moderation.unhide_member(
            self.bot.db,
            guild_id_of(interaction),
            actor(interaction),
            member.id,
            reason=reason,
            now=self.bot.now(),
        )
        if changed:
            await reply(interaction, f"<@{member.id}> is visible again in `/find` and referral matching.")
        else:
            await reply(interaction, f"<@{member.id}> was not hidden.")


async def setup(bot: BuddyBot) -> None:
    await bot.add_cog(Moderation(bot))
