"""/privacy export and /privacy delete (with a confirmation button only the asker can use)."""

from __future__ import annotations

import io
import logging
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from buddybot import privacy
from buddybot.bot import report_error
from cogs._sharing_views import deliver as deliver_loan_notices
from cogs.common import NO_PINGS, guild_id_of, reply

if TYPE_CHECKING:
    from buddybot.bot import BuddyBot

log = logging.getLogger(__name__)
CLOSED_POST = "This request was closed: the member who asked has erased their BuddyBot data."
CONFIRM_TEXT = (
    "**Erase your BuddyBot data in this server?**\n"
    "This deletes your profile, skills and availability, and the texts you wrote (request details, notes, "
    "agreement terms you wrote as lead, shoutout messages). Your open requests are closed, and unfinished "
    "agreements you lead are cancelled. Referrals, agreements and shoutouts stay in the community's history "
    "with you replaced by an anonymous placeholder, so the counts stay right. Moderation records are kept.\n"
    "Want a copy first? Use `/privacy export`. This cannot be undone."
)


class EraseButton(
    discord.ui.DynamicItem[discord.ui.Button], template=r"privacy:erase:(?P<user>\d+):(?P<at>\d+)"
):
    """Survives restarts; the custom_id names who asked and when, and the callback checks both."""

    def __init__(self, user_id: int, issued: int) -> None:
        super().__init__(discord.ui.Button(label="Erase my data", style=discord.ButtonStyle.danger,
                                           custom_id=f"privacy:erase:{user_id}:{issued}"))  # fmt: skip
        self.user_id = user_id
        self.issued = issued

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button,
                             match: re.Match[str], /) -> EraseButton:  # fmt: skip
        return cls(int(match["user"]), int(match["at"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        # discord.py only logs exceptions from dynamic item callbacks: send them to the one handler.
        try:
            await self._erase(interaction)
        except Exception as error:
            await report_error(interaction, error)

    async def _erase(self, interaction: discord.Interaction[Any]) -> None:
        bot: BuddyBot = interaction.client
        erasure = await privacy.erase(
            bot.db, guild_id_of(interaction), self.user_id, confirmed_by=interaction.user.id,
            issued_at=datetime.fromtimestamp(self.issued, UTC), now=bot.now(),
        )  # fmt: skip
        kept = " A moderator had hidden you, so that flag stays in force." if erasure.kept_hidden else ""
        await interaction.response.edit_message(
            content=f"Done: your BuddyBot data in this server is erased.{kept}", view=None,
            allowed_mentions=NO_PINGS,
        )  # fmt: skip
        for need in erasure.closed_needs:
            await _close_post(bot, need)
        await _redraw_group_buys(bot, erasure.group_buys)
        for state in erasure.left_needs:
            bot.dispatch("need_changed", state)  # the referrals cog redraws the post without them
        await deliver_loan_notices(bot, erasure.notices)


async def _close_post(bot: BuddyBot, need: privacy.ClosedNeed) -> None:
    if need.channel_id is None or need.message_id is None:
        return
    message = bot.get_partial_messageable(need.channel_id).get_partial_message(need.message_id)
    try:
        await message.edit(content=CLOSED_POST, embed=None, view=None, allowed_mentions=NO_PINGS)
    except discord.HTTPException:
        log.warning("could not edit the post of need %s after an erasure", need.need_id, exc_info=True)


async def _redraw_group_buys(bot: BuddyBot, snapshots: list[Any]) -> None:
    """Open group buys the member pledged in or organised: their posts show the new totals or state."""
    cog = bot.get_cog("GroupBuys")
    for snap in snapshots if cog is not None else ():
        await cog.editor.show(snap)  # type: ignore[attr-defined]


@app_commands.guild_only()
class Privacy(commands.GroupCog, group_name="privacy", group_description="Your own BuddyBot data"):
    def __init__(self, bot: BuddyBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(EraseButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(EraseButton)

    @app_commands.command(
        name="export", description="Get everything BuddyBot stores about you, as a JSON file"
    )
    async def export(self, interaction: discord.Interaction) -> None:
        guild_id = guild_id_of(interaction)
        data = await privacy.export(self.bot.db, guild_id, interaction.user.id, now=self.bot.now())
        name = f"buddybot-data-{guild_id}-{interaction.user.id}.json"
        await reply(interaction, "Here is everything BuddyBot stores about you in this server.",
                    file=discord.File(io.BytesIO(data), name))  # fmt: skip

    @app_commands.command(name="delete", description="Erase your BuddyBot data in this server")
    async def delete(self, interaction: discord.Interaction) -> None:
        guild_id_of(interaction)
        view = discord.ui.View(timeout=None)
        view.add_item(EraseButton(interaction.user.id, int(self.bot.now().timestamp())))
        await reply(interaction, CONFIRM_TEXT, view=view)


async def setup(bot: BuddyBot) -> None:
    await bot.add_cog(Privacy(bot))
