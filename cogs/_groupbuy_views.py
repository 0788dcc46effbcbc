"""Group buy rendering, forms and persistent buttons (the commands are in cogs/groupbuys.py).

Pledge and Withdraw are DynamicItems carrying the group buy id, so they work after a restart. The pledge
form carries the first 16 hex digits of the terms hash it showed: a pledge is refused if the terms
changed in between. The post is edited by one PostEditor per bot, which always ends on the newest state.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiohttp
import discord

from buddybot import groupbuys as domain
from buddybot.bot import report_error
from buddybot.errors import BuddyError
from buddybot.groupbuy_terms import LIMITS, TIERS_EXAMPLE, TermsText, money, tiers_text
from buddybot.scheduler import Notice
from cogs.common import NO_PINGS, guild_id_of, mention, pings, reply, safe

if TYPE_CHECKING:
    from buddybot.bot import BuddyBot

log = logging.getLogger(__name__)
MODAL_TIMEOUT = 30 * 60
EDIT_ERRORS = (discord.HTTPException, TimeoutError, aiohttp.ClientError)
SHOWN_KEPT = 1000  # posts whose last shown version the editor remembers
STATE_LINES = {
    "succeeded": "✅ Succeeded: the order is being placed.",
    "failed": "❌ Didn't reach its target: nobody owes anything.",
    "cancelled": "🚫 Cancelled: nobody owes anything.",
}
MILESTONE_LINES = {50: "Halfway to the target.", 80: "80% of the target reached.", 100: "🎯 Target reached!"}


# -- rendering -------------------------------------------------------------------------------------------
def stamp(iso: str, style: str = "f") -> str:
    return f"<t:{int(datetime.fromisoformat(iso).timestamp())}:{style}>"


def bar(percent: int, width: int = 10) -> str:
    filled = min(width, percent * width // 100)
    return "▰" * filled + "▱" * (width - filled)


def post_content(snap: domain.Snapshot) -> str:
    buy = snap.buy
    head = f"🛒 Group buy #{buy.id}, organised by {mention(buy.organiser_id)}"
    if buy.state != "open":
        return f"{head}. {STATE_LINES[buy.state]}"
    milestone = MILESTONE_LINES.get(domain.milestone_for(snap.progress.orderable, buy.terms.target))
    return f"{head}. {milestone}" if milestone else f"{head}. Press **Pledge** to join."


def render_post(snap: domain.Snapshot) -> discord.Embed:
    buy, terms, p = snap.buy, snap.buy.terms, snap.progress
    cur = terms.currency
    embed = discord.Embed(
        title=f"Group buy #{buy.id}: {safe(terms.product, 200)}",
        description=(
            f"From **{safe(terms.supplier, 80)}** · unit: {safe(terms.unit, 40)} · cases of {terms.case_size}\n"
            f"Deadline: {stamp(buy.deadline_at)}"
            + (f" ({stamp(buy.deadline_at, 'R')})" if buy.state == "open" else f" · {buy.state}")
            + (" · extended once" if buy.extended else "")
        ),
        colour=discord.Colour.orange() if buy.state == "open" else discord.Colour.dark_grey(),
    )
    embed.add_field(
        name="Progress",
        value=(
            f"{bar(p.percent)} {p.orderable} of {terms.target} units in full cases ({p.percent}%)\n"
            f"Firm: {p.firm} · tolerance: {p.tolerance} · {p.pledgers} pledger{'s' if p.pledgers != 1 else ''}"
        ),
        inline=False,
    )
    price = f"{money(p.price, cur)} per unit now"
    if p.next_at is not None and p.next_price is not None:
        price += (
            f"\n{p.next_at - p.orderable} more unit{'s' if p.next_at - p.orderable != 1 else ''} to the next tier "
            f"({money(p.next_price, cur)} from {p.next_at})"
        )
    embed.add_field(name="Price", value=price)
    embed.add_field(
        name="Tiers", value="\n".join(f"{low}+: {money(price, cur)}" for low, price in terms.tiers)
    )
    frozen = (
        "frozen since the first pledge"
        if buy.frozen_at
        else "the organiser may edit them until someone pledges"
    )
    embed.set_footer(text=f"Terms {buy.terms_hash[:16]} · {frozen} · BuddyBot handles no money")
    if snap.mine is not None:
        embed.add_field(name="Your pledge", value=pledge_line(snap.mine, terms.unit), inline=False)
    return embed


def pledge_line(row: Any, unit: str) -> str:
    line = f"{row.quantity} × {safe(unit, 40)}" + (
        f" (+ up to {row.tolerance} to fill a case)" if row.tolerance else ""
    )
    if row.allocated is not None:
        line += f" → allocated {row.allocated}"
    return line


def post_view(snap: domain.Snapshot) -> discord.ui.View | None:
    if snap.buy.state != "open":
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(PledgeButton(snap.buy.id))
    view.add_item(WithdrawButton(snap.buy.id))
    return view


# -- the post, always ending on the newest state ------------------------------------------------------------
class PostEditor:
    """Edits a group buy's post with the newest snapshot it was given. Concurrent pledges each hand in the
    state their unit committed; one edit loop per post runs until the newest version is shown, so a slow
    edit can never leave older totals on the post, and a burst of 50 pledges costs far fewer than 50 edits."""

    def __init__(self, bot: BuddyBot) -> None:
        self.bot = bot
        self.newest: dict[int, domain.Snapshot] = {}
        self.shown: dict[int, int] = {}
        self.running: dict[int, asyncio.Task[None]] = {}

    async def show(self, snap: domain.Snapshot) -> None:
        buy_id = snap.buy.id
        if snap.buy.version <= self.shown.get(buy_id, -1) and buy_id not in self.running:
            return  # the post already shows this state or a newer one
        known = self.newest.get(buy_id)
        if known is None or snap.buy.version > known.buy.version:
            self.newest[buy_id] = snap
        task = self.running.get(buy_id)
        if task is None:
            task = asyncio.ensure_future(self._loop(buy_id))
            self.running[buy_id] = task
        await asyncio.shield(task)

    async def _loop(self, buy_id: int) -> None:
        try:
            while (snap := self.newest[buy_id]).buy.version != self.shown.get(buy_id):
                self.shown.pop(buy_id, None)
                self.shown[buy_id] = snap.buy.version  # re-inserted: the dict stays in order of last edit
                await self._edit(snap)
        finally:
            self.running.pop(buy_id, None)
            self.newest.pop(buy_id, None)
            while len(self.shown) > SHOWN_KEPT:  # bounded: forget the posts edited longest ago
                self.shown.pop(next(iter(self.shown)))

    async def _edit(self, snap: domain.Snapshot) -> None:
        buy = snap.buy
        if buy.channel_id is None or buy.message_id is None:
            return
        public = snap.model_copy(update={"mine": None, "pledges": []})
        channel = self.bot.get_partial_messageable(buy.channel_id, guild_id=buy.guild_id)
        try:
            await channel.get_partial_message(buy.message_id).edit(
                content=post_content(public), embed=render_post(public), view=post_view(public),
                allowed_mentions=NO_PINGS,
            )  # fmt: skip
        except EDIT_ERRORS as exc:  # the pledge is recorded either way; the next change redraws the post
            log.info("could not update group buy post %s: %r", buy.message_id, exc)


def editor(interaction: discord.Interaction) -> PostEditor:
    return interaction.client.get_cog("GroupBuys").editor  # type: ignore[union-attr]


async def say(
    bot: BuddyBot, guild_id: int, notices: list[Notice], view: discord.ui.View | None = None
) -> None:
    """Post notices (each pings exactly its members); the view goes on the first one."""
    for i, notice in enumerate(notices):
        channel = bot.get_partial_messageable(notice.channel_id, guild_id=guild_id)
        kwargs: dict[str, Any] = {"allowed_mentions": pings(*notice.ping)}
        if view is not None and i == 0:
            kwargs["view"] = view
        try:
            await channel.send(notice.text, **kwargs)
        except discord.HTTPException as exc:
            log.warning("could not post in %s: %s", notice.channel_id, exc)


# -- forms -----------------------------------------------------------------------------------------------
TERM_FIELDS = (
    ("product", "Product", "What you are buying, e.g. Organic strong white flour", discord.TextStyle.short),
    ("supplier", "Supplier", "Who sells it, e.g. Riverside Mill", discord.TextStyle.short),
    ("unit", "Unit", "What one unit is, e.g. 16 kg sack", discord.TextStyle.short),
    (
        "case_size",
        "Case size",
        "Units per case the supplier ships (1 if sold singly)",
        discord.TextStyle.short,
    ),
    ("tiers", "Price tiers (per unit)", f"e.g. {TIERS_EXAMPLE}", discord.TextStyle.short),
)


class TermsModal(discord.ui.Modal):
    """The five terms fields; the target and deadline come from the command's options."""

    def __init__(self, values: TermsText, *, target: int | None, deadline: str, buy_id: int | None) -> None:
        super().__init__(
            title="New group buy" if buy_id is None else f"Edit group buy #{buy_id}", timeout=MODAL_TIMEOUT
        )
        self.target, self.deadline, self.buy_id = target, deadline, buy_id
        self.inputs: dict[str, discord.ui.TextInput[Any]] = {}
        for key, label, description, style in TERM_FIELDS:
            field: discord.ui.TextInput[Any] = discord.ui.TextInput(
                custom_id=key, style=style, default=getattr(values, key) or None, max_length=LIMITS[key],
                required=True,
            )  # fmt: skip
            self.inputs[key] = field
            self.add_item(discord.ui.Label(text=label, description=description, component=field))

    def typed(self) -> TermsText:
        return TermsText(**{key: field.value for key, field in self.inputs.items()})

    async def on_submit(self, interaction: discord.Interaction) -> None:
        cog = interaction.client.get_cog("GroupBuys")  # type: ignore[attr-defined]
        if self.buy_id is None:
            assert self.target is not None
            await cog.submit_start(interaction, self.typed(), self.target, self.deadline)
        else:
            await cog.submit_edit(interaction, self.buy_id, self.typed(), self.target)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        if isinstance(error, BuddyError) and not interaction.response.is_done():
            await interaction.response.send_message(
                f"{error.message}\nWhat you typed is kept: press **Fix it** to correct it.",
                ephemeral=True, view=RetryView(self), allowed_mentions=NO_PINGS,
            )  # fmt: skip
            return
        await report_error(interaction, error)


class RetryView(discord.ui.View):
    """After a refused form, reopen it as typed."""

    def __init__(self, modal: TermsModal) -> None:
        super().__init__(timeout=MODAL_TIMEOUT)
        self.modal = modal

    @discord.ui.button(label="Fix it", style=discord.ButtonStyle.primary)
    async def fix(self, interaction: discord.Interaction, _button: discord.ui.Button[RetryView]) -> None:
        m = self.modal
        await interaction.response.send_modal(TermsModal(m.typed(), target=m.target, deadline=m.deadline,
                                                         buy_id=m.buy_id))  # fmt: skip

    async def on_error(self, interaction: discord.Interaction, error: Exception, _item: Any) -> None:
        await report_error(interaction, error)


def terms_text(buy: Any) -> TermsText:
    t = buy.terms
    return TermsText(t.product, t.supplier, t.unit, str(t.case_size), tiers_text(t.tiers, t.currency))


class PledgeModal(discord.ui.Modal):
    """Quantity and optional tolerance; the custom_id binds it to the terms it was opened on."""

    def __init__(self, form: domain.PledgeForm) -> None:
        buy = form.buy
        shown = buy.terms_hash[: domain.HASH_SHOWN]
        super().__init__(
            title=f"Pledge: {buy.terms.product}"[:45], timeout=MODAL_TIMEOUT,
            custom_id=f"groupbuy:{buy.id}:pledge:{shown}",
        )  # fmt: skip
        self.buy_id, self.shown = buy.id, shown
        unit = buy.terms.unit[:40]
        self.quantity: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id="quantity", max_length=7, required=True,
            default=str(form.mine.quantity) if form.mine else None,
        )  # fmt: skip
        self.tolerance: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id="tolerance", max_length=7, required=False,
            default=str(form.mine.tolerance) if form.mine and form.mine.tolerance else None,
        )  # fmt: skip
        self.add_item(discord.ui.Label(
            text="Quantity", component=self.quantity,
            description=f"Units ({unit}) you commit to. This replaces any earlier pledge.",
        ))  # fmt: skip
        self.add_item(discord.ui.Label(
            text="Tolerance (optional)", component=self.tolerance,
            description=f"Extra units you'd take to complete a case. Yours at most {form.cap} in all.",
        ))  # fmt: skip

    async def on_submit(self, interaction: discord.Interaction) -> None:
        bot: BuddyBot = interaction.client  # type: ignore[assignment]
        done = await domain.pledge(
            bot.db, guild_id_of(interaction), self.buy_id, interaction.user.id, interaction.user.display_name,
            self.quantity.value, self.tolerance.value, self.shown, now=bot.now(),
        )  # fmt: skip
        mine, terms = done.snapshot.mine, done.snapshot.buy.terms
        assert mine is not None
        what = "Updated your pledge" if done.replaced else "Pledged"
        await reply(
            interaction,
            f"{what} in group buy #{self.buy_id}: {pledge_line(mine, terms.unit)}. You can change it or "
            "withdraw until the deadline; you'll be told the outcome in the thread."
            + (f" Your pledge took it to {done.milestone}% of the target!" if done.milestone else ""),
        )
        await editor(interaction).show(done.snapshot)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await report_error(interaction, error)


# -- persistent buttons -----------------------------------------------------------------------------------
class Routed:
    """DynamicItem callbacks' errors go to the one error handler."""

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await self.handle(interaction)
        except Exception as error:
            await report_error(interaction, error)

    async def handle(self, interaction: discord.Interaction) -> None:
        raise NotImplementedError


class PledgeButton(
    Routed, discord.ui.DynamicItem[discord.ui.Button], template=r"groupbuy:(?P<id>\d{1,18}):pledge"
):
    def __init__(self, buy_id: int) -> None:
        super().__init__(discord.ui.Button(
            label="Pledge", style=discord.ButtonStyle.success, custom_id=f"groupbuy:{buy_id}:pledge",
        ))  # fmt: skip
        self.buy_id = buy_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: Any) -> PledgeButton:
        return cls(int(match["id"]))

    async def handle(self, interaction: discord.Interaction) -> None:
        bot: BuddyBot = interaction.client  # type: ignore[assignment]
        form = await domain.pledge_form(bot.db, guild_id_of(interaction), self.buy_id, interaction.user.id,
                                        now=bot.now())  # fmt: skip
        await interaction.response.send_modal(PledgeModal(form))


class WithdrawButton(
    Routed, discord.ui.DynamicItem[discord.ui.Button], template=r"groupbuy:(?P<id>\d{1,18}):withdraw"
):
    def __init__(self, buy_id: int) -> None:
        super().__init__(discord.ui.Button(
            label="Withdraw", style=discord.ButtonStyle.secondary, custom_id=f"groupbuy:{buy_id}:withdraw",
        ))  # fmt: skip
        self.buy_id = buy_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: Any) -> WithdrawButton:
        return cls(int(match["id"]))

    async def handle(self, interaction: discord.Interaction) -> None:
        bot: BuddyBot = interaction.client  # type: ignore[assignment]
        snap = await domain.withdraw(bot.db, guild_id_of(interaction), self.buy_id, interaction.user.id,
                                     now=bot.now())  # fmt: skip
        await reply(interaction, f"Your pledge in group buy #{self.buy_id} is withdrawn. Nothing is owed.")
        await editor(interaction).show(snap)


DYNAMIC_ITEMS = (PledgeButton, WithdrawButton)
