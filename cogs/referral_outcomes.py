"""/referral: what happened after a pick. The pick confirmation carries **Won it** / **Didn't happen** for the
receiver; `/referral report` does the same by number; `/referral list` shows given and received referrals.

The buttons are DynamicItems (custom_id `referral:<id>:won|nodeal`), so they work after a restart; the
domain re-checks on the server side that the presser is the receiver, in the unit that records the outcome.
The giver is told once, in the request's thread, pinging exactly them; the value never appears there.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from buddybot import outcomes
from buddybot.bot import report_error
from buddybot.outcomes import NO_DEAL, WON, Mine, Referral, Reported
from cogs.common import NO_PINGS, guild_id_of, mention, pings, reply, safe

if TYPE_CHECKING:
    from buddybot.bot import BuddyBot

log = logging.getLogger(__name__)

MAX_ID = 2**53 - 1
WON_LABEL, NO_DEAL_LABEL = "Won it", "Didn't happen"
MODAL_TIMEOUT = 15 * 60


def outcome_view(referral_id: int | None) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    if referral_id is not None:
        view.add_item(OutcomeButton(referral_id, WON))
        view.add_item(OutcomeButton(referral_id, NO_DEAL))
    return view


async def tell_giver(client: discord.Client, reported: Reported) -> None:
    """One message in the request's thread (else under the post) pinging exactly the giver."""
    r = reported.referral
    where = r.thread_id or r.channel_id
    if where is None:
        return
    reference = None
    if where == r.channel_id and r.message_id:
        reference = discord.MessageReference(
            message_id=r.message_id, channel_id=where, fail_if_not_exists=False
        )
    try:
        await client.get_partial_messageable(where, guild_id=r.guild_id).send(
            reported.giver_notice(),
            allowed_mentions=pings(r.from_id),
            reference=reference,  # type: ignore[arg-type]
        )
    except discord.HTTPException:
        log.warning("could not tell the giver about referral %s", r.id, exc_info=True)


def private_line(r: Referral, *, given: bool) -> str:
    other = f"to {mention(r.to_id)}" if given else f"from {mention(r.from_id)}"
    value = outcomes.format_value(r.value_minor, r.currency)
    return f"**#{r.id}** {safe(r.skill, 60)} {other} · {r.created_at[:10]} · {r.status}" + (
        f" · {value} (private)" if value else ""
    )


def render_mine(mine: Mine) -> discord.Embed:
    embed = discord.Embed(title="Your referrals", colour=discord.Colour.blurple())
    embed.add_field(
        name=f"Given ({len(mine.given)})",
        value="\n".join(private_line(r, given=True) for r in mine.given)[:1024] or "None yet.",
        inline=False,
    )
    embed.add_field(
        name=f"Received ({len(mine.received)})",
        value="\n".join(private_line(r, given=False) for r in mine.received)[:1024] or "None yet.",
        inline=False,
    )
    embed.set_footer(text="Values are private: only the giver and the receiver see them here.")
    return embed


async def record(interaction: discord.Interaction, referral_id: int, outcome: str, value: str | None) -> None:
    bot: BuddyBot = interaction.client  # type: ignore[assignment]
    reported = await outcomes.report(
        bot.db, guild_id_of(interaction), referral_id, interaction.user.id, outcome, value, now=bot.now()
    )
    r = reported.referral
    value_text = outcomes.format_value(r.value_minor, r.currency)
    message = interaction.message
    if interaction.type is discord.InteractionType.component and message is not None:
        # the click itself answers by taking the buttons off the confirmation (no extra REST call)
        await interaction.response.edit_message(view=None, allowed_mentions=NO_PINGS)
    elif message is not None and message.components:  # the value form, opened from the button
        try:
            await message.edit(view=None, allowed_mentions=NO_PINGS)
        except discord.HTTPException:
            log.info("could not remove the outcome buttons of referral %s", r.id, exc_info=True)
    await reply(
        interaction,
        f"Thanks! Referral #{r.id} is recorded as **{r.status}**"
        + (f" ({value_text}, visible only to you and {mention(r.from_id)})" if value_text else "")
        + f". I've let {mention(r.from_id)} know.",
    )
    await tell_giver(bot, reported)


class ValueModal(discord.ui.Modal):
    def __init__(self, referral_id: int, currency: str) -> None:
        super().__init__(title=f"Won referral #{referral_id}", timeout=MODAL_TIMEOUT)
        self.referral_id = referral_id
        self.value: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id="value", required=False, max_length=20, placeholder="e.g. 1200"
        )
        self.add_item(
            discord.ui.Label(
                text=f"Value of the work ({currency}), optional",
                description="Private: only you, the giver and moderators' totals",
                component=self.value,
            )
        )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await record(interaction, self.referral_id, WON, self.value.value)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await report_error(interaction, error)


class OutcomeButton(
    discord.ui.DynamicItem[discord.ui.Button], template=r"referral:(?P<id>\d{1,18}):(?P<outcome>won|nodeal)"
):
    def __init__(self, referral_id: int, outcome: str) -> None:
        won = outcome == WON
        super().__init__(
            discord.ui.Button(
                label=WON_LABEL if won else NO_DEAL_LABEL,
                style=discord.ButtonStyle.success if won else discord.ButtonStyle.secondary,
                custom_id=f"referral:{referral_id}:{'won' if won else 'nodeal'}",
            )
        )
        self.referral_id, self.outcome = referral_id, outcome

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: Any) -> OutcomeButton:
        return cls(int(match["id"]), WON if match["outcome"] == "won" else NO_DEAL)

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            if self.outcome == NO_DEAL:
                await record(interaction, self.referral_id, NO_DEAL, None)
                return
            bot: BuddyBot = interaction.client  # type: ignore[assignment]
            guild_id = guild_id_of(interaction)
            currency = await outcomes.check_reporter(bot.db, guild_id, self.referral_id, interaction.user.id)
            await interaction.response.send_modal(ValueModal(self.referral_id, currency))
        except Exception as error:
            await report_error(interaction, error)


@app_commands.guild_only()
class ReferralOutcomes(
    commands.GroupCog, group_name="referral", group_description="Referrals you gave and received"
):
    def __init__(self, bot: BuddyBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(OutcomeButton)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(OutcomeButton)

    @app_commands.command(name="list", description="Referrals you gave and received, with how they went")
    async def list_(self, interaction: discord.Interaction) -> None:
        mine = await outcomes.mine(self.bot.db, guild_id_of(interaction), interaction.user.id)
        await reply(interaction, embed=render_mine(mine))

    @app_commands.command(name="report", description="Say how a referral you received went")
    @app_commands.describe(
        referral_id="The referral's number (see /referral list)",
        outcome="Did the work happen?",
        value="If won: the value of the work, e.g. 1200 (private)",
    )
    @app_commands.choices(
        outcome=[
            app_commands.Choice(name=WON_LABEL, value=WON),
            app_commands.Choice(name=NO_DEAL_LABEL, value=NO_DEAL),
        ]
    )
    async def report(
        self,
        interaction: discord.Interaction,
        referral_id: app_commands.Range[int, 1, MAX_ID],
        outcome: app_commands.Choice[str],
        value: app_commands.Range[str, 1, 20] | None = None,
    ) -> None:
        await record(interaction, referral_id, outcome.value, value)


async def setup(bot: BuddyBot) -> None:
    await bot.add_cog(ReferralOutcomes(bot))
