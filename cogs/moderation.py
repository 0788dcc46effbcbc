"""/mod remove-need, /mod remove-share, /mod hide-member, /mod unhide-member: moderators only, every action audited."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from buddybot import moderation, sharing
from cogs.common import actor, guild_id_of, reply

if TYPE_CHECKING:
    from buddybot.bot import BuddyBot


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
        state = await moderation.remove_need(
            self.bot.db, guild_id_of(interaction), actor(interaction), need_id, reason, now=self.bot.now()
        )
        await reply(interaction, f"Request #{need_id} is removed; its post now says so.")
        # The referral cog's editor orders a post's edits by version, so a click handled just before the
        # removal cannot put the buttons back afterwards. (Looked up by name: extensions are separate modules.)
        editor = getattr(self.bot.get_cog("Referrals"), "editor", None)
        if editor is not None:
            await editor.show(state)

    @app_commands.command(name="remove-share", description="Take down a shared thing (abuse, spam)")
    @app_commands.describe(
        item_id="The shared thing's number (#12 in /share find)", reason="Why (kept in the moderation log)"
    )
    async def remove_share(
        self,
        interaction: discord.Interaction,
        item_id: app_commands.Range[int, 1],
        reason: app_commands.Range[str, 1, moderation.MAX_REASON],
    ) -> None:
        removed = await sharing.moderator_remove(
            self.bot.db, guild_id_of(interaction), actor(interaction), item_id, reason, now=self.bot.now()
        )
        await reply(
            interaction,
            f"Shared thing #{item_id} is removed; {len(removed.ended)} pending request(s) on it are cancelled. "
            "Loans already out run to their end.",
        )
        cog = self.bot.get_cog("Sharing")  # looked up by name: extensions are separate modules
        if cog is not None:
            await cog.after_removal(removed)  # type: ignore[attr-defined]

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
