"""/help [command]: what BuddyBot is for, then each command with an example (moderator ones to moderators)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from buddybot import help as domain
from cogs.common import actor, reply

if TYPE_CHECKING:
    from buddybot.bot import BuddyBot


def _line(entry: domain.Entry) -> str:
    return f"`/{entry.name}` — {entry.what}\n  e.g. `{entry.example}`"


def render_overview(sections: list[domain.Section]) -> discord.Embed:
    embed = discord.Embed(title="BuddyBot", description=domain.ABOUT, colour=discord.Colour.dark_teal())
    for section in sections:
        embed.add_field(name=section.title, value="\n".join(_line(e) for e in section.entries), inline=False)
    embed.set_footer(text="/help command:<name> explains one command.")
    return embed


def render_entry(entry: domain.Entry) -> discord.Embed:
    who = "Moderators only. " if entry.moderator else ""
    text = f"{who}{entry.what[0].upper()}{entry.what[1:]}.\n\nExample: `{entry.example}`"
    return discord.Embed(title=f"/{entry.name}", description=text, colour=discord.Colour.dark_teal())


class Help(commands.Cog):
    def __init__(self, bot: BuddyBot) -> None:
        self.bot = bot

    async def _moderator(self, interaction: discord.Interaction) -> bool:
        return await domain.is_moderator(self.bot.db, interaction.guild_id, actor(interaction))

    @app_commands.command(name="help", description="What BuddyBot does, and how to use each command")
    @app_commands.describe(command="One command to explain, e.g. need ask")
    async def help(
        self, interaction: discord.Interaction, command: app_commands.Range[str, 1, 60] | None = None
    ) -> None:
        moderator = await self._moderator(interaction)
        if command is None:
            await reply(interaction, embed=render_overview(domain.visible_sections(moderator)))
        else:
            await reply(interaction, embed=render_entry(domain.lookup(command, moderator)))

    @help.autocomplete("command")
    async def _command_names(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        names = domain.matching_names(current, await self._moderator(interaction))
        return [app_commands.Choice(name=f"/{n}", value=n) for n in names]


async def setup(bot: BuddyBot) -> None:
    await bot.add_cog(Help(bot))
