"""/agreement: one-off job agreements. Terms modal -> buddy select -> post with Accept/Decline -> feedback.

The commands live here; the terms modal in _agreement_forms.py, the post's buttons in _agreement_components.py,
embeds in _agreement_render.py.

Every button and select is a DynamicItem (the agreement id is in its custom_id), so they keep working
after a restart; each callback re-checks on the server side who may press it.
"""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from buddybot import agreements as domain
from buddybot.agreements import TERMS_TEMPLATE, State, TermsText
from cogs import _agreement_components as components
from cogs import _agreement_feedback as completion
from cogs._agreement_components import announce, update_post
from cogs._agreement_forms import TermsModal
from cogs._agreement_render import mentions, render_agreement
from cogs.common import actor, guild_id_of, mention, reply, safe

if TYPE_CHECKING:
    from buddybot.bot import BuddyBot

log = logging.getLogger(__name__)

MAX_ID = 2**53 - 1
DYNAMIC_ITEMS = (*components.DYNAMIC_ITEMS, *completion.DYNAMIC_ITEMS)


# -- commands ------------------------------------------------------------------------------------------
@app_commands.guild_only()
class Agreements(
    commands.GroupCog, group_name="agreement", group_description="One-off job agreements with buddies"
):
    def __init__(self, bot: BuddyBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)

    async def agreement_autocomplete(
        self, interaction: discord.Interaction, current: str | int
    ) -> list[app_commands.Choice[int]]:
        if interaction.guild_id is None:
            return []
        query = str(current).strip().lstrip("#").casefold()
        mine = await domain.list_mine(self.bot.db, interaction.guild_id, interaction.user.id)
        return [
            app_commands.Choice(name=f"#{s.id} {s.title} ({s.state})"[:100], value=s.id)
            for s in mine
            if not query or str(s.id).startswith(query) or query in s.title.casefold()
        ]

    @app_commands.command(name="new", description="Start a one-off job agreement with your buddies")
    @app_commands.describe(title="A short name for the job, e.g. Bakery rebrand")
    async def new(self, interaction: discord.Interaction, title: app_commands.Range[str, 1, 100]) -> None:
        guild_id_of(interaction)
        await interaction.response.send_modal(
            TermsModal(TermsText(title, "", TERMS_TEMPLATE, "", ""), agreement_id=None)
        )

    @app_commands.command(name="view", description="One agreement: terms, version and who has accepted")
    @app_commands.describe(
        agreement_id="The agreement's number",
        export="Attach the agreed terms with acceptance times as a Markdown file",
    )
    @app_commands.autocomplete(agreement_id=agreement_autocomplete)
    async def view(
        self,
        interaction: discord.Interaction,
        agreement_id: app_commands.Range[int, 1, MAX_ID],
        export: bool = False,
    ) -> None:
        details = await domain.view(self.bot.db, guild_id_of(interaction), agreement_id, actor(interaction))
        kwargs: dict[str, Any] = {}
        if export:
            text = domain.export_markdown(details)
            name = f"agreement-{details.agreement.id}-v{details.agreement.version}.md"
            kwargs["file"] = discord.File(io.BytesIO(text.encode("utf-8")), filename=name)
        me = next((m for m in details.parties if m.user_id == interaction.user.id), None)
        buttons = components.decision_view(details) if me is not None and not me.accepted_at else None
        if buttons is not None:
            kwargs["view"] = buttons
        await reply(interaction, embed=render_agreement(details, with_feedback=True), **kwargs)

    @app_commands.command(name="list", description="Your agreements, open ones first")
    async def list_(self, interaction: discord.Interaction) -> None:
        mine = await domain.list_mine(self.bot.db, guild_id_of(interaction), interaction.user.id)
        if not mine:
            await reply(interaction, "You have no agreements yet. Start one with `/agreement new`.")
            return
        lines = []
        for s in mine:
            progress = f" ({s.accepted}/{s.parties} accepted)" if s.state == State.PROPOSED else ""
            role = " · you lead" if s.role == domain.LEAD else ""
            lines.append(f"**#{s.id}** {safe(s.title, 80)} · {s.state}{progress}{role}")
        embed = discord.Embed(
            title="Your agreements", description="\n".join(lines), colour=discord.Colour.gold()
        )
        embed.set_footer(text="/agreement view agreement_id:<number> shows one")
        await reply(interaction, embed=embed)

    @app_commands.command(
        name="edit", description="Lead: change the terms before everyone accepted (resets acceptances)"
    )
    @app_commands.describe(agreement_id="The agreement's number")
    @app_commands.autocomplete(agreement_id=agreement_autocomplete)
    async def edit(
        self, interaction: discord.Interaction, agreement_id: app_commands.Range[int, 1, MAX_ID]
    ) -> None:
        agreement = await domain.edit_form(
            self.bot.db, guild_id_of(interaction), agreement_id, interaction.user.id
        )
        await interaction.response.send_modal(
            TermsModal(domain.as_text(agreement.terms), agreement_id=agreement.id)
        )

    @app_commands.command(name="complete", description="Lead: the job is done (asks everyone for feedback)")
    @app_commands.describe(agreement_id="The agreement's number")
    @app_commands.autocomplete(agreement_id=agreement_autocomplete)
    async def complete(
        self, interaction: discord.Interaction, agreement_id: app_commands.Range[int, 1, MAX_ID]
    ) -> None:
        await completion.complete(interaction, agreement_id)

    @app_commands.command(name="cancel", description="Call off an agreement (lead or any buddy)")
    @app_commands.describe(
        agreement_id="The agreement's number", reason="Why, in a few words (everyone on it sees this)"
    )
    @app_commands.autocomplete(agreement_id=agreement_autocomplete)
    async def cancel(
        self,
        interaction: discord.Interaction,
        agreement_id: app_commands.Range[int, 1, MAX_ID],
        reason: app_commands.Range[str, 1, 300] | None = None,
    ) -> None:
        outcome = await domain.cancel(
            self.bot.db,
            guild_id_of(interaction),
            agreement_id,
            interaction.user.id,
            reason,
            now=self.bot.now(),
        )
        details, a = outcome.details, outcome.details.agreement
        await reply(interaction, f"Agreement #{a.id} is cancelled.")
        if a.proposed_at is None:
            return  # a draft: nobody else has seen it
        await update_post(
            interaction, a.channel_id, outcome.previous_message_id, embed=render_agreement(details)
        )
        others = [u for u in details.member_ids if u != interaction.user.id]
        because = f": {safe(a.reason, 300)}" if a.reason else "."
        await announce(
            interaction,
            a.channel_id,
            f"{mentions(others)}\n🚫 Agreement #{a.id} “{safe(a.terms.title, 100)}” "
            f"was cancelled by {mention(interaction.user.id)}{because}",
            others,
        )


async def setup(bot: BuddyBot) -> None:
    await bot.add_cog(Agreements(bot))
