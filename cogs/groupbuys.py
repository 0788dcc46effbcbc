"""/groupbuy: pool members' orders to reach a supplier's bulk price (forms and buttons: _groupbuy_views.py)."""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from buddybot import groupbuys as domain
from buddybot.groupbuy_close import export_csv, notices_for  # importing it registers the two job kinds
from buddybot.groupbuy_terms import TermsText, money
from buddybot.models import Actor
from cogs._groupbuy_views import (
    DYNAMIC_ITEMS,
    PostEditor,
    TermsModal,
    WithdrawButton,
    pledge_line,
    post_content,
    post_view,
    render_post,
    say,
    stamp,
    terms_text,
)
from cogs.common import (
    NO_PINGS,
    actor,
    channel_is_busy,
    discord_locale,
    guild_id_of,
    mention,
    post_before_answering,
    reply,
    safe,
)

if TYPE_CHECKING:
    from buddybot.bot import BuddyBot

log = logging.getLogger(__name__)
MAX_ID = 2**53 - 1
THREAD_ARCHIVE_MINUTES = 10080
POST_ERRORS = (discord.HTTPException,)


def jump_url(guild_id: int, channel_id: int | None, message_id: int | None) -> str:
    if not channel_id or not message_id:
        return "(not posted)"
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


FIELD_CHARS = 1024  # Discord's limit for an embed field's value


def pledge_list(snap: domain.Snapshot) -> str:
    """As many pledges as fit in one embed field, then how many more the export has."""
    lines: list[str] = []
    for i, p in enumerate(snap.pledges):
        line = f"{mention(p.user_id)}: {pledge_line(p, snap.buy.terms.unit)}"
        more = f"… and {len(snap.pledges) - i} more (see the export)"
        if sum(len(x) + 1 for x in lines) + len(line) + 1 + len(more) > FIELD_CHARS:
            return "\n".join([*lines, more])
        lines.append(line)
    return "\n".join(lines)


def pledger_ids(snap: domain.Snapshot) -> list[int]:
    return [p.user_id for p in snap.pledges if p.user_id > 0]


@app_commands.guild_only()
class GroupBuys(commands.GroupCog, group_name="groupbuy", group_description="Buy together at a bulk price"):
    def __init__(self, bot: BuddyBot) -> None:
        self.bot = bot
        self.editor = PostEditor(bot)

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)
        self.bot.refreshers["groupbuy"] = self.refresh

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)
        self.bot.refreshers.pop("groupbuy", None)

    async def refresh(self, guild_id: int, buy_id: int) -> None:
        """The scheduler's redraw after a deadline."""
        await self.editor.show(await domain.snapshot(self.bot.db, guild_id, buy_id))

    # -- start and edit -------------------------------------------------------------------------------
    @app_commands.command(
        name="start", description="Start a group buy: a form for product, supplier and prices"
    )
    @app_commands.describe(
        target="Units needed for the bulk price (a whole number of cases)",
        deadline="When pledging closes (20:00 that day), e.g. friday, 18 dec, in 2 weeks; at most 60 days",
    )
    async def start(
        self, interaction: discord.Interaction, target: app_commands.Range[int, 1, 1_000_000],
        deadline: app_commands.Range[str, 1, 100],
    ) -> None:  # fmt: skip
        guild_id_of(interaction)
        await interaction.response.send_modal(
            TermsModal(TermsText("", "", "", "1", ""), target=target, deadline=deadline, buy_id=None)
        )

    async def submit_start(
        self, interaction: discord.Interaction, typed: TermsText, target: int, deadline: str
    ) -> None:
        guild_id = guild_id_of(interaction)
        snap = await domain.start(
            self.bot.db, guild_id, interaction.user.id, interaction.channel_id or 0, typed, target, deadline,
            now=self.bot.now(), locale=discord_locale(interaction),
        )  # fmt: skip
        buy = snap.buy
        assert buy.channel_id is not None
        channel = self.bot.get_partial_messageable(buy.channel_id, guild_id=guild_id)
        try:  # the post first, then the answer linking it (two round trips), then the thread
            message = await post_before_answering(
                interaction,
                lambda: channel.send(
                    post_content(snap),
                    embed=render_post(snap),
                    view=post_view(snap),
                    allowed_mentions=NO_PINGS,
                ),
                busy=channel_is_busy(self.bot, buy.channel_id),
            )
        except POST_ERRORS as error:
            await domain.cancel(self.bot.db, guild_id, buy.id, actor(interaction), "could not be posted",
                                now=self.bot.now())  # fmt: skip
            await reply(interaction, f"I couldn't post in <#{buy.channel_id}> ({error}), so the group buy "
                                     "was not started. Ask a moderator to check my permissions there.")  # fmt: skip
            return
        # A thread started from a message has the message's id; it is made after the member has the answer.
        await domain.record_post(self.bot.db, guild_id, buy.id, buy.channel_id, message.id, message.id)
        await reply(
            interaction,
            f"Group buy #{buy.id} is posted: {jump_url(guild_id, buy.channel_id, message.id)}\n"
            f"Pledging closes {stamp(buy.deadline_at)}. You can still change the terms with "
            f"`/groupbuy edit id:{buy.id}` until the first pledge; then they are frozen.",
        )
        try:
            await message.create_thread(
                name=f"Group buy #{buy.id}: {buy.terms.product}"[:100],
                auto_archive_duration=THREAD_ARCHIVE_MINUTES,
            )
        except POST_ERRORS:
            log.info("no thread for group buy %s", buy.id, exc_info=True)
            await domain.record_post(self.bot.db, guild_id, buy.id, buy.channel_id, message.id, None)

    @app_commands.command(name="edit", description="Organiser: change the terms before anyone has pledged")
    @app_commands.rename(buy_id="id")
    @app_commands.describe(buy_id="The group buy's number", target="A new target in units (omit to keep it)")
    async def edit(
        self, interaction: discord.Interaction, buy_id: app_commands.Range[int, 1, MAX_ID],
        target: app_commands.Range[int, 1, 1_000_000] | None = None,
    ) -> None:  # fmt: skip
        buy = await domain.edit_form(self.bot.db, guild_id_of(interaction), buy_id, interaction.user.id)
        await interaction.response.send_modal(
            TermsModal(terms_text(buy), target=target, deadline="", buy_id=buy.id)
        )

    async def submit_edit(
        self, interaction: discord.Interaction, buy_id: int, typed: TermsText, target: int | None
    ) -> None:
        snap = await domain.edit(
            self.bot.db, guild_id_of(interaction), buy_id, interaction.user.id, typed, target
        )
        await reply(interaction, f"Saved the new terms of group buy #{buy_id}.")
        await self.editor.show(snap)

    # -- deadline extension and cancellation -------------------------------------------------------------
    @app_commands.command(name="extend", description="Organiser: move the deadline later, once")
    @app_commands.rename(buy_id="id")
    @app_commands.describe(buy_id="The group buy's number", deadline="The new last day, e.g. next friday")
    async def extend(
        self, interaction: discord.Interaction, buy_id: app_commands.Range[int, 1, MAX_ID],
        deadline: app_commands.Range[str, 1, 100],
    ) -> None:  # fmt: skip
        guild_id = guild_id_of(interaction)
        snap = await domain.extend(
            self.bot.db, guild_id, buy_id, interaction.user.id, deadline, now=self.bot.now(),
            locale=discord_locale(interaction),
        )  # fmt: skip
        buy = snap.buy
        await reply(
            interaction, f"Group buy #{buy.id} now closes {stamp(buy.deadline_at)}. I told the pledgers."
        )
        await self.editor.show(snap)
        if buy.talk_to is None:
            return
        head = (f"⏳ The deadline of group buy #{buy.id} “{safe(buy.terms.product, 80)}” moved to "
                f"{stamp(buy.deadline_at)} (its one extension). Pledged for the old date and can't wait? "
                "Press **Withdraw**: nobody owes anything for a withdrawn pledge.")  # fmt: skip
        view = discord.ui.View(timeout=None)
        view.add_item(WithdrawButton(buy.id))
        await say(self.bot, guild_id, notices_for(head, pledger_ids(snap), buy.talk_to), view=view)

    @app_commands.command(
        name="cancel", description="Call off a group buy (organiser before the deadline, or a moderator)"
    )
    @app_commands.rename(buy_id="id")
    @app_commands.describe(
        buy_id="The group buy's number", reason="Why, in a few words (the pledgers see this)"
    )
    async def cancel(
        self, interaction: discord.Interaction, buy_id: app_commands.Range[int, 1, MAX_ID],
        reason: app_commands.Range[str, 1, 300],
    ) -> None:  # fmt: skip
        guild_id = guild_id_of(interaction)
        snap = await domain.cancel(
            self.bot.db, guild_id, buy_id, actor(interaction), reason, now=self.bot.now()
        )
        buy = snap.buy
        await reply(interaction, f"Group buy #{buy.id} is cancelled.")
        await self.editor.show(snap)
        if buy.talk_to is None:
            return
        head = (f"🚫 Group buy #{buy.id} “{safe(buy.terms.product, 80)}” was cancelled by <@{interaction.user.id}>: "
                f"{safe(buy.reason, 300)}. Nobody owes anything.")  # fmt: skip
        await say(self.bot, guild_id, notices_for(head, pledger_ids(snap), buy.talk_to))

    # -- reading -------------------------------------------------------------------------------------------
    @app_commands.command(name="list", description="Open group buys in this server")
    async def list_(self, interaction: discord.Interaction) -> None:
        guild_id = guild_id_of(interaction)
        snaps = await domain.list_open(self.bot.db, guild_id)
        if not snaps:
            await reply(interaction, "No group buys are open. Start one with `/groupbuy start`.")
            return
        lines = [
            f"**#{s.buy.id}** {safe(s.buy.terms.product, 60)} · {s.progress.orderable}/{s.buy.terms.target} "
            f"units · {money(s.progress.price, s.buy.terms.currency)} per unit · closes {stamp(s.buy.deadline_at, 'R')}"
            for s in snaps
        ]
        embed = discord.Embed(
            title="Open group buys", description="\n".join(lines), colour=discord.Colour.orange()
        )
        embed.set_footer(text="/groupbuy view id:<number> shows one")
        await reply(interaction, embed=embed)

    @app_commands.command(name="view", description="One group buy; the organiser can export the order as CSV")
    @app_commands.rename(buy_id="id")
    @app_commands.describe(
        buy_id="The group buy's number", export="Attach the order for the supplier as a CSV file"
    )
    async def view(
        self,
        interaction: discord.Interaction,
        buy_id: app_commands.Range[int, 1, MAX_ID],
        export: bool = False,
    ) -> None:
        who: Actor = actor(interaction)
        snap = await domain.view(self.bot.db, guild_id_of(interaction), buy_id, who, export=export)
        embed = render_post(snap)
        if snap.pledges:
            embed.add_field(name="Pledges (queue order)", value=pledge_list(snap), inline=False)
        kwargs: dict[str, Any] = {}
        if export:
            kind = "order" if snap.buy.state == "succeeded" else "provisional"
            kwargs["file"] = discord.File(io.BytesIO(export_csv(snap).encode("utf-8")),
                                          filename=f"groupbuy-{snap.buy.id}-{kind}.csv")  # fmt: skip
        await reply(interaction, embed=embed, **kwargs)


async def setup(bot: BuddyBot) -> None:
    await bot.add_cog(GroupBuys(bot))
