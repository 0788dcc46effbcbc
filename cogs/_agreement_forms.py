"""The terms modal (new agreement or edit), its Fix-it retry, and what happens when it is submitted."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord

from buddybot import agreements as domain
from buddybot.agreements import LIMITS, Buddy, Details, State, TermsText
from buddybot.bot import report_error
from buddybot.errors import BuddyError
from cogs._agreement_components import MODAL_TIMEOUT, buddy_view, post_proposal, update_post
from cogs._agreement_render import render_agreement
from cogs.common import NO_PINGS, discord_locale, guild_id_of, reply

if TYPE_CHECKING:
    from buddybot.bot import BuddyBot

# (custom_id, label, description, style): the five fields of the terms modal.
FIELDS = (
    ("title", "Title", "A short name for the job", discord.TextStyle.short),
    ("scope", "Scope", "What the job is: deliverables, who does what", discord.TextStyle.paragraph),
    ("terms", "Terms", "Payment, split, deadlines, brand use, cancellation", discord.TextStyle.paragraph),
    ("fee", "Fee", "The total fee and how it is paid, e.g. £1,200, half upfront", discord.TextStyle.short),
    ("dates", "Dates", "e.g. next week, 1-5 dec, 2026-12-01 to 2026-12-05", discord.TextStyle.short),
)


# -- modals ------------------------------------------------------------------------------------------
class TermsModal(discord.ui.Modal):
    """Title, scope, terms, fee and dates: for a new agreement, or pre-filled to edit one."""

    def __init__(self, values: TermsText, *, agreement_id: int | None) -> None:
        heading = "New agreement" if agreement_id is None else f"Edit agreement #{agreement_id}"
        super().__init__(title=heading, timeout=MODAL_TIMEOUT)
        self.agreement_id = agreement_id
        self.inputs: dict[str, discord.ui.TextInput[Any]] = {}
        for key, label, description, style in FIELDS:
            field: discord.ui.TextInput[Any] = discord.ui.TextInput(
                custom_id=key,
                style=style,
                default=getattr(values, key) or None,
                max_length=LIMITS[key],
                required=True,
            )
            self.inputs[key] = field
            self.add_item(discord.ui.Label(text=label, description=description, component=field))

    def typed(self) -> TermsText:
        return TermsText(**{key: field.value for key, field in self.inputs.items()})

    async def on_submit(self, interaction: discord.Interaction) -> None:
        if self.agreement_id is None:
            await submit_new(interaction, self.typed())
        else:
            await submit_edit(interaction, self.agreement_id, self.typed())

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        if isinstance(error, BuddyError) and not interaction.response.is_done():
            await interaction.response.send_message(
                f"{error.message}\nWhat you typed is kept: press **Fix it** to correct it.",
                ephemeral=True,
                view=RetryView(self.typed(), self.agreement_id),
                allowed_mentions=NO_PINGS,
            )
            return
        await report_error(interaction, error)


class RetryView(discord.ui.View):
    """After a refused modal, reopen it with what the member typed (their long terms are not lost)."""

    def __init__(self, typed: TermsText, agreement_id: int | None) -> None:
        super().__init__(timeout=MODAL_TIMEOUT)
        self.typed, self.agreement_id = typed, agreement_id

    @discord.ui.button(label="Fix it", style=discord.ButtonStyle.primary)
    async def fix(self, interaction: discord.Interaction, _button: discord.ui.Button[RetryView]) -> None:
        await interaction.response.send_modal(TermsModal(self.typed, agreement_id=self.agreement_id))

    async def on_error(self, interaction: discord.Interaction, error: Exception, _item: Any) -> None:
        await report_error(interaction, error)


async def submit_new(interaction: discord.Interaction, typed: TermsText) -> None:
    bot: BuddyBot = interaction.client  # type: ignore[assignment]
    lead = Buddy(user_id=interaction.user.id, name=interaction.user.display_name)
    details = await domain.create_draft(
        bot.db,
        guild_id_of(interaction),
        interaction.channel_id or 0,
        lead,
        typed,
        now=bot.now(),
        locale=discord_locale(interaction),
    )
    await ask_for_buddies(interaction, details, "Saved as draft")


async def ask_for_buddies(interaction: discord.Interaction, details: Details, what: str) -> None:
    a = details.agreement
    await reply(
        interaction,
        f"{what} #{a.id}. Now pick your buddies (1–21 members): each of them will be asked to accept these "
        "exact terms.",
        embed=render_agreement(details),
        view=buddy_view(a.id),
    )


async def submit_edit(interaction: discord.Interaction, agreement_id: int, typed: TermsText) -> None:
    bot: BuddyBot = interaction.client  # type: ignore[assignment]
    outcome = await domain.edit(
        bot.db,
        guild_id_of(interaction),
        agreement_id,
        interaction.user.id,
        typed,
        now=bot.now(),
        locale=discord_locale(interaction),
    )
    details, a = outcome.details, outcome.details.agreement
    if not outcome.changed:
        await reply(
            interaction, f"Nothing changed: these are the terms of version {a.version}. Acceptances stay."
        )
        return
    if a.state == State.DRAFT:
        await ask_for_buddies(interaction, details, "Updated draft")
        return
    await reply(
        interaction,
        f"Saved version {a.version} of agreement #{a.id}. Every acceptance is reset and your "
        "buddies are pinged to read and accept the new terms.",
    )
    await update_post(
        interaction,
        a.channel_id,
        outcome.previous_message_id,
        content=f"Replaced by version {a.version} of agreement #{a.id} (below): these terms no longer apply.",
    )
    await post_proposal(interaction, details)
