"""/share add|list|remove|find and /borrow: members lend equipment, IT, labour hours and space.

A request is posted in the sharing channel (`/config set sharing_channel`, else where /borrow was typed),
pinging the owner once, with a thread for the loan; its buttons are in cogs/_sharing_views.py.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from buddybot import loan_jobs, loans, sharing  # importing loan_jobs registers the loan job kinds
from buddybot.errors import BuddyError
from cogs._sharing_views import (
    POST_ERRORS,
    LoanButton,
    choice_label,
    deliver,
    item_line,
    item_list,
    loan_view,
    redraw,
    render_loan,
    thing,
)
from cogs.common import (
    actor,
    channel_is_busy,
    discord_locale,
    guild_id_of,
    mention,
    pings,
    post_before_answering,
    reply,
    safe,
    short_date,
)

if TYPE_CHECKING:
    from buddybot.bot import BuddyBot

log = logging.getLogger(__name__)
THREAD_ARCHIVE_MINUTES = 10080
KIND_CHOICES = [
    app_commands.Choice(name="equipment", value="equipment"),
    app_commands.Choice(name="IT", value="it"),
    app_commands.Choice(name="labour (hours)", value="labour"),
    app_commands.Choice(name="space (slots)", value="space"),
]


async def item_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Shared things matching what is typed, available ones first, with the date lent ones are due back."""
    if interaction.guild_id is None:
        return []
    kind = getattr(interaction.namespace, "kind", None)
    items = await sharing.find(interaction.client.db, interaction.guild_id, current, kind)  # type: ignore[attr-defined]
    return [app_commands.Choice(name=choice_label(i), value=str(i.id)) for i in items]


async def own_item_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    if interaction.guild_id is None:
        return []
    items = await sharing.list_of(interaction.client.db, interaction.guild_id, interaction.user.id)  # type: ignore[attr-defined]
    folded = sharing.fold(current)
    return [
        app_commands.Choice(name=choice_label(i), value=str(i.id))
        for i in items
        if folded in sharing.fold(i.name)
    ]


def item_id(value: str) -> int:
    text = value.strip().lstrip("#")
    if not text.isdigit() or len(text) > 18:
        raise BuddyError("Pick one of your shared things from the list as you type.")
    return int(text)


class Sharing(commands.Cog):
    share = app_commands.Group(name="share", description="Things you lend to other members", guild_only=True)

    def __init__(self, bot: BuddyBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(LoanButton)
        self.bot.refreshers["loan"] = self.refresh

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(LoanButton)
        self.bot.refreshers.pop("loan", None)

    async def refresh(self, guild_id: int, loan_id: int) -> None:
        loan = await loans.get(self.bot.db, guild_id, loan_id)
        if loan is not None:
            await redraw(self.bot, loan)

    # -- /share ------------------------------------------------------------------------------------------
    @share.command(name="add", description="Share something: equipment, IT, labour hours or space")
    @app_commands.describe(
        kind="What it is", name="What members will search for, e.g. ladder", details="Anything borrowers should know",
        max_days="The longest one loan may last (default 14)", quantity="How many (labour: hours; space: slots)",
    )  # fmt: skip
    @app_commands.choices(kind=KIND_CHOICES)
    async def add(
        self, interaction: discord.Interaction, kind: str, name: app_commands.Range[str, 1, sharing.NAME_MAX],
        details: app_commands.Range[str, 1, sharing.DETAILS_MAX] | None = None,
        max_days: app_commands.Range[int, 1, 90] | None = None,
        quantity: app_commands.Range[int, 1, 1000] | None = None,
    ) -> None:  # fmt: skip
        added = await sharing.add(
            self.bot.db, guild_id_of(interaction), interaction.user.id, kind=kind, name=name, details=details,
            max_days=max_days, quantity=quantity, now=self.bot.now(),
        )  # fmt: skip
        item = added.item
        await reply(interaction, f"You now share {item_line(item, owner=False)} "
                    f"({added.count} of {sharing.MAX_ITEMS}). Members can ask with `/borrow`.")  # fmt: skip

    @share.command(name="list", description="What a member shares (default: you)")
    async def list_(self, interaction: discord.Interaction, member: discord.User | None = None) -> None:
        who = member or interaction.user
        items = await sharing.list_of(self.bot.db, guild_id_of(interaction), who.id)
        if not items:
            await reply(interaction, f"{mention(who.id)} shares nothing yet." + (" Add something with `/share add`."
                        if who.id == interaction.user.id else ""))  # fmt: skip
            return
        title = f"Shared by {who.display_name}"
        await reply(interaction, embed=item_list(title, items, owner=False, footer="Ask with /borrow"))

    @share.command(name="remove", description="Stop sharing something (loans already out run to their end)")
    @app_commands.describe(item="One of your shared things")
    @app_commands.autocomplete(item=own_item_autocomplete)
    async def remove(self, interaction: discord.Interaction, item: str) -> None:
        removed = await sharing.remove(
            self.bot.db, guild_id_of(interaction), actor(interaction), item_id(item), now=self.bot.now()
        )
        await reply(interaction, f"Removed “{safe(removed.item.name, 80)}”. "
                    f"{len(removed.ended)} pending request(s) cancelled.")  # fmt: skip
        await self.after_removal(removed)

    async def after_removal(self, removed: sharing.Removed) -> None:
        for loan in removed.ended:
            await redraw(self.bot, loan)
            await deliver(self.bot, [sharing.Notice(loan_jobs.where(loan), f"{mention(loan.borrower_id)} "
                          f"{loan_jobs.name(loan)} is no longer shared, so this request is cancelled.",
                          ping=loan_jobs.pingable(loan.borrower_id))])  # fmt: skip

    @share.command(name="find", description="Find something to borrow")
    @app_commands.describe(query="What you're looking for", kind="Only this kind")
    @app_commands.choices(kind=KIND_CHOICES)
    @app_commands.autocomplete(query=item_autocomplete)
    async def find(self, interaction: discord.Interaction, query: str, kind: str | None = None) -> None:
        guild_id = guild_id_of(interaction)
        text = query.strip()
        if text.isdigit():  # picked from the autocomplete: that one thing
            picked = await sharing.get(self.bot.db, guild_id, int(text[:18]))
            items = [picked] if picked is not None else []
        else:
            items = await sharing.find(self.bot.db, guild_id, text, kind)
        if not items:
            await reply(interaction, "Nobody shares anything like that yet.")
            return
        title = f"Shared things matching “{text[:60]}”" if not text.isdigit() else "Shared thing"
        await reply(interaction, embed=item_list(title, items, owner=True, footer="Ask with /borrow"))

    # -- /borrow -----------------------------------------------------------------------------------------
    @app_commands.command(name="borrow", description="Ask to borrow something a member shares")
    @app_commands.describe(
        item="What to borrow (pick from the list)", when="When (e.g. tomorrow, next week, mon-fri, for 3 days, 20/12)",
        quantity="How many (labour: hours; space: slots); default 1", note="A short note for the owner",
    )  # fmt: skip
    @app_commands.autocomplete(item=item_autocomplete)
    @app_commands.guild_only()
    async def borrow(
        self, interaction: discord.Interaction, item: app_commands.Range[str, 1, 100],
        when: app_commands.Range[str, 1, 100], quantity: app_commands.Range[int, 1, 1000] | None = None,
        note: app_commands.Range[str, 1, loans.NOTE_MAX] | None = None,
    ) -> None:  # fmt: skip
        guild_id = guild_id_of(interaction)
        now = self.bot.now()
        asked = await loans.borrow(
            self.bot.db, guild_id, interaction.user.id, item=item, when=when, quantity=quantity, note=note,
            channel_id=interaction.channel_id or 0, now=now, locale=discord_locale(interaction),
        )  # fmt: skip
        if asked.loan is None:
            await reply(interaction, f"“{safe(asked.item.name, 80)}” is out right now. You're number "
                        f"{asked.place} on its waiting list: I'll ping you when it's free.")  # fmt: skip
            return
        loan = asked.loan
        channel_id = asked.channel_id or interaction.channel_id or 0
        channel = self.bot.get_partial_messageable(channel_id, guild_id=guild_id)
        try:  # the post first, then the answer linking it (two round trips), then the thread
            message = await post_before_answering(
                interaction,
                lambda: channel.send(
                    f"{mention(loan.owner_id)}, {mention(loan.borrower_id)} asks to borrow "
                    f"{thing(loan.item_name, loan.kind, loan.quantity)}.",
                    embed=render_loan(loan), view=loan_view(loan), allowed_mentions=pings(loan.owner_id),
                ),
                busy=channel_is_busy(self.bot, channel_id),
            )  # fmt: skip
        except POST_ERRORS as error:
            await loans.discard(self.bot.db, guild_id, loan.id, now=now)
            log.warning("could not post loan %s in %s: %r", loan.id, channel_id, error)
            await reply(interaction, f"I couldn't post your request in <#{channel_id}>, so nothing was asked. "
                        "Please try again, or ask a moderator to check `/config set sharing_channel`.")  # fmt: skip
            return
        # A thread started from a message has the message's id; it is made after the member has the answer.
        await loans.record_post(self.bot.db, loan.id, channel_id, message.id, message.id)
        await reply(interaction, f"Asked {mention(loan.owner_id)} for {thing(loan.item_name, loan.kind, loan.quantity)} "
                    f"({short_date(loan.start_on)} – {short_date(loan.due_on)}): {message.jump_url}\n"
                    "If they don't answer within 48 hours the request expires.")  # fmt: skip
        try:
            await message.create_thread(
                name=f"Loan #{loan.id}: {loan.item_name}"[:100], auto_archive_duration=THREAD_ARCHIVE_MINUTES
            )
        except POST_ERRORS:
            log.info("no thread for loan %s", loan.id, exc_info=True)
            await loans.record_post(self.bot.db, loan.id, channel_id, message.id, None)


async def setup(bot: BuddyBot) -> None:
    await bot.add_cog(Sharing(bot))
