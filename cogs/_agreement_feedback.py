"""Completing an agreement and the double-blind "would you work together again?" that follows it: the
Mark complete button of the day-after-the-end reminder, the yes/no buttons, the private note, and the
direct message that tells a member their yes was met by another (never anyone else's answer)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord

from buddybot import agreement_feedback as feedback
from buddybot import agreements as domain
from buddybot.agreements import NOTE_MAX
from buddybot.bot import report_error
from cogs._agreement_components import Routed, announce, update_post
from cogs._agreement_render import mentions, render_agreement
from cogs.common import NO_PINGS, guild_id_of, mention, reply, safe

if TYPE_CHECKING:
    from buddybot.bot import BuddyBot

log = logging.getLogger(__name__)

MODAL_TIMEOUT = 30 * 60


def feedback_view(agreement_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(AgainButton(agreement_id, "yes"))
    view.add_item(AgainButton(agreement_id, "no"))
    return view


class NoteModal(discord.ui.Modal, title="A private note"):
    note = discord.ui.Label(
        text="Note", description="Private: nobody else on this agreement sees it",
        component=discord.ui.TextInput(
            custom_id="note", style=discord.TextStyle.paragraph, max_length=NOTE_MAX
        ),
    )  # fmt: skip

    def __init__(self, agreement_id: int) -> None:
        super().__init__(timeout=MODAL_TIMEOUT)
        self.agreement_id = agreement_id

    async def on_submit(self, interaction: discord.Interaction) -> None:
        bot: BuddyBot = interaction.client  # type: ignore[assignment]
        text = self.note.component.value  # type: ignore[attr-defined]
        await feedback.add_note(
            bot.db, guild_id_of(interaction), self.agreement_id, interaction.user.id, text
        )
        await reply(interaction, f"Saved your note on agreement #{self.agreement_id}.")

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await report_error(interaction, error)


class AgainButton(
    Routed,
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"agreement:(?P<id>\d{1,18}):again:(?P<answer>yes|no)",
):
    def __init__(self, agreement_id: int, answer: str) -> None:
        yes = answer == "yes"
        super().__init__(discord.ui.Button(
            label="Yes, again" if yes else "No", custom_id=f"agreement:{agreement_id}:again:{answer}",
            style=discord.ButtonStyle.success if yes else discord.ButtonStyle.secondary,
        ))  # fmt: skip
        self.agreement_id, self.again = agreement_id, yes

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: Any) -> AgainButton:
        return cls(int(match["id"]), match["answer"])

    async def handle(self, interaction: discord.Interaction) -> None:
        bot: BuddyBot = interaction.client  # type: ignore[assignment]
        answered = await feedback.answer(
            bot.db,
            guild_id_of(interaction),
            self.agreement_id,
            interaction.user.id,
            self.again,
            now=bot.now(),
        )
        view = discord.ui.View(timeout=None)
        view.add_item(NoteButton(self.agreement_id))
        mutual = (
            f"\nIt's mutual: {mentions(answered.mutual)} said yes too. I've told them privately."
            if answered.mutual
            else ""
        )
        await reply(
            interaction,
            f"Thanks, noted: **{'yes' if self.again else 'no'}** (only you see this). Nobody else on agreement "
            f"#{self.agreement_id} will see your answer; moderators "
            f"only see totals. You may add a private note.{mutual}",
            view=view,
        )
        for partner in answered.mutual:
            await tell_mutual(bot, partner, interaction.user.id, self.agreement_id)


async def tell_mutual(client: discord.Client, partner: int, answerer: int, agreement_id: int) -> None:
    """A direct message to a member whose yes was just met by another yes (never to anyone else)."""
    try:
        channel = await client.http.start_private_message(partner)
        await client.get_partial_messageable(int(channel["id"])).send(
            f"It's mutual: you and {mention(answerer)} both said you'd work together again after agreement "
            f"#{agreement_id}. Nobody else is told.",
            allowed_mentions=NO_PINGS,
        )
    except discord.HTTPException:
        log.info("could not tell %s that agreement %s's yes is mutual", partner, agreement_id, exc_info=True)


class CompleteButton(
    Routed, discord.ui.DynamicItem[discord.ui.Button], template=r"agreement:(?P<id>\d{1,18}):complete"
):
    """On the day-after-the-end reminder: the lead marks the agreement complete (same as the command)."""

    def __init__(self, agreement_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Mark complete",
                style=discord.ButtonStyle.success,
                custom_id=f"agreement:{agreement_id}:complete",
            )
        )
        self.agreement_id = agreement_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: Any) -> CompleteButton:
        return cls(int(match["id"]))

    async def handle(self, interaction: discord.Interaction) -> None:
        await complete(interaction, self.agreement_id)


async def complete(interaction: discord.Interaction, agreement_id: int) -> None:
    """The lead marks the agreement complete; everyone is asked (double-blind) whether they'd work together again."""
    bot: BuddyBot = interaction.client  # type: ignore[assignment]
    outcome = await domain.complete(
        bot.db, guild_id_of(interaction), agreement_id, interaction.user.id, now=bot.now()
    )
    details, a = outcome.details, outcome.details.agreement
    await reply(
        interaction,
        f"Agreement #{a.id} is complete. Well done! I've asked everyone whether they'd work together again.",
    )
    message = interaction.message
    if message is not None and message.id != outcome.previous_message_id and message.components:
        await update_post(interaction, message.channel.id, message.id)  # the reminder's button is spent
    await update_post(interaction, a.channel_id, outcome.previous_message_id, embed=render_agreement(details))
    await announce(
        interaction,
        a.channel_id,
        f"{mentions(details.party_ids)}\n✅ Agreement #{a.id} “{safe(a.terms.title, 100)}” is complete. "
        "**Would you work together again?** Your answer stays private: nobody else on the agreement sees "
        "it, and if two of you both say yes, you'll each be told it's mutual.",
        details.party_ids,
        view=feedback_view(a.id),
    )


class NoteButton(
    Routed, discord.ui.DynamicItem[discord.ui.Button], template=r"agreement:(?P<id>\d{1,18}):note"
):
    def __init__(self, agreement_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Add a note",
                style=discord.ButtonStyle.secondary,
                custom_id=f"agreement:{agreement_id}:note",
            )
        )
        self.agreement_id = agreement_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: Any) -> NoteButton:
        return cls(int(match["id"]))

    async def handle(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(NoteModal(self.agreement_id))


DYNAMIC_ITEMS = (AgainButton, NoteButton, CompleteButton)
