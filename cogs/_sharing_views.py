"""A loan's post: its embed, the buttons its state allows, and the one DynamicItem behind all of them.

The custom_id carries the loan id and the action (`loan:42:approve`), so the buttons survive restarts;
every press is re-checked on the server side (buddybot/loan_states.py decides who may do what).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord

from buddybot import loans
from buddybot.bot import report_error
from buddybot.loan_states import Event, State, describe
from buddybot.scheduler import Notice
from buddybot.sharing import UNIT
from buddybot.storage.sharing import Item, Loan
from cogs.common import NO_PINGS, guild_id_of, mention, pings, reply, safe, short_date

if TYPE_CHECKING:
    from buddybot.bot import BuddyBot

log = logging.getLogger(__name__)
POST_ERRORS = (discord.HTTPException,)

# action in the custom_id -> (event, label, style)
ACTIONS: dict[str, tuple[Event, str, discord.ButtonStyle]] = {
    "approve": (Event.APPROVE, "Approve", discord.ButtonStyle.success),
    "decline": (Event.DECLINE, "Decline", discord.ButtonStyle.danger),
    "withdraw": (Event.WITHDRAW, "Withdraw", discord.ButtonStyle.secondary),
    "handover": (Event.HAND_OVER, "Handed over", discord.ButtonStyle.primary),
    "cancel": (Event.CANCEL, "Cancel", discord.ButtonStyle.danger),
    "returned": (Event.RETURN, "Returned", discord.ButtonStyle.success),
    "gotback": (Event.GOT_BACK, "Got it back", discord.ButtonStyle.primary),
    "renew": (Event.RENEW, "Renew", discord.ButtonStyle.secondary),
    "dispute": (Event.DISPUTE, "Not back", discord.ButtonStyle.danger),
}
BUTTONS: dict[str, tuple[str, ...]] = {
    State.REQUESTED: ("approve", "decline", "withdraw"),
    State.APPROVED: ("handover", "cancel"),
    State.ON_LOAN: ("returned", "gotback", "renew"),
    State.OVERDUE: ("returned", "gotback"),
    State.RETURNED: ("gotback", "dispute"),
    State.DISPUTED: ("gotback",),
}
_COLOURS = {State.REQUESTED: discord.Colour.blurple(), State.OVERDUE: discord.Colour.red(),
            State.DISPUTED: discord.Colour.red(), State.ON_LOAN: discord.Colour.green()}  # fmt: skip


def thing(name: str, kind: str, quantity: int) -> str:
    unit = UNIT[kind]
    if unit == "items":
        return safe(name, 80) + (f" ×{quantity}" if quantity != 1 else "")
    return f"{quantity} {unit if quantity != 1 else unit[:-1]} of {safe(name, 80)}"


def render_loan(loan: Loan) -> discord.Embed:
    embed = discord.Embed(
        title=f"Loan #{loan.id}: {thing(loan.item_name, loan.kind, loan.quantity)}"[:256],
        colour=_COLOURS.get(loan.state, discord.Colour.light_grey()),
    )
    embed.add_field(name="Owner", value=f"{mention(loan.owner_id)}")
    embed.add_field(name="Borrower", value=f"{mention(loan.borrower_id)}")
    embed.add_field(name="Dates", value=f"{short_date(loan.start_on)} – {short_date(loan.due_on)}"
                    + (" (renewed)" if loan.renewed else ""))  # fmt: skip
    status = describe(loan.state)
    if loan.state == State.CLOSED and loan.closed_how == "unconfirmed":
        status = "closed (return unconfirmed)"
    embed.add_field(name="State", value=status)
    if loan.note:
        embed.add_field(name="Note", value=safe(loan.note, 200), inline=False)
    if loan.condition_note:
        embed.add_field(name="Condition when returned", value=safe(loan.condition_note, 300), inline=False)
    embed.set_footer(text=f"Loan #{loan.id} · questions in the thread")
    return embed


def loan_view(loan: Loan) -> discord.ui.View | None:
    actions = BUTTONS.get(loan.state, ())
    if not actions:
        return None
    view = discord.ui.View(timeout=None)
    for action in actions:
        if action == "renew" and loan.renewed:
            continue  # renewed once already
        view.add_item(LoanButton(loan.id, action))
    return view


def item_line(item: Item, *, owner: bool = True) -> str:
    free = (
        f"{item.available} of {item.quantity} {UNIT[item.kind]} free"
        if item.quantity > 1
        else ("available" if item.available else "lent out")
    )
    due = (
        f", due back {short_date(item.due_back)}" if item.due_back and item.available < item.quantity else ""
    )
    by = f" · {mention(item.owner_id)}" if owner else ""
    return f"**#{item.id}** {safe(item.name, 80)} ({item.kind}, up to {item.max_days} days) · {free}{due}{by}"


def item_list(title: str, items: list[Item], *, owner: bool, footer: str = "") -> discord.Embed:
    """Shared things, one per line, within an embed's 4,096 characters."""
    lines: list[str] = []
    length = 0
    for index, item in enumerate(items):
        line = item_line(item, owner=owner)
        if length + len(line) + 1 > 3900:
            lines.append(f"… and {len(items) - index} more")
            break
        lines.append(line)
        length += len(line) + 1
    embed = discord.Embed(title=title[:256], description="\n".join(lines), colour=discord.Colour.teal())
    if footer:
        embed.set_footer(text=footer)
    return embed


def choice_label(item: Item) -> str:
    state = (
        "available"
        if item.available
        else (f"out, due back {short_date(item.due_back)}" if item.due_back else "requested")
    )
    return f"{item.name} · {item.kind} · {state}"[:100]


async def deliver(bot: discord.Client, notices: list[Notice]) -> None:
    """Say what a loan's change means, pinging exactly who it names; a failure is logged, not raised."""
    for notice in notices:
        if not notice.channel_id:
            continue
        try:
            await bot.get_partial_messageable(notice.channel_id).send(
                notice.text[:2000], allowed_mentions=pings(*notice.ping)
            )
        except POST_ERRORS:
            log.warning("could not post a loan notice in %s", notice.channel_id, exc_info=True)


async def redraw(bot: discord.Client, loan: Loan) -> None:
    if not loan.channel_id or not loan.message_id:
        return
    post = bot.get_partial_messageable(loan.channel_id).get_partial_message(loan.message_id)
    try:
        await post.edit(embed=render_loan(loan), view=loan_view(loan), allowed_mentions=NO_PINGS)
    except POST_ERRORS:
        log.warning("could not redraw loan %s", loan.id, exc_info=True)


class LoanButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"loan:(?P<id>\d{1,18}):(?P<action>" + "|".join(ACTIONS) + ")",
):
    def __init__(self, loan_id: int, action: str) -> None:
        _, label, style = ACTIONS[action]
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=f"loan:{loan_id}:{action}"))
        self.loan_id, self.action = loan_id, action

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: Any) -> LoanButton:
        return cls(int(match["id"]), match["action"])

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await self.handle(interaction)
        except Exception as error:  # DynamicItem errors are only logged by discord.py: route them
            await report_error(interaction, error)

    async def handle(self, interaction: discord.Interaction) -> None:
        bot: BuddyBot = interaction.client  # type: ignore[assignment]
        event = ACTIONS[self.action][0]
        guild_id = guild_id_of(interaction)
        if event is Event.GOT_BACK:
            await loans.check(bot.db, guild_id, self.loan_id, interaction.user.id, event)
            await interaction.response.send_modal(ConditionModal(self.loan_id))
            return
        change = await loans.act(bot.db, guild_id, self.loan_id, interaction.user.id, event, now=bot.now())
        await show(interaction, change)


async def show(interaction: discord.Interaction, change: loans.Change) -> None:
    """Redraw the post (the clicked one, when it is the post) and tell the thread."""
    loan = change.loan
    message = interaction.message
    if message is not None and message.id == loan.message_id and not interaction.response.is_done():
        await interaction.response.edit_message(embed=render_loan(loan), view=loan_view(loan),
                                                allowed_mentions=NO_PINGS)  # fmt: skip
    else:
        await reply(interaction, f"Done: loan #{loan.id} is now {describe(loan.state)}.")
        await redraw(interaction.client, loan)
    await deliver(interaction.client, change.notices)


class ConditionModal(discord.ui.Modal, title="Got it back"):
    condition = discord.ui.Label(
        text="Condition (optional)", description="Anything worth noting about how it came back",
        component=discord.ui.TextInput(custom_id="condition", style=discord.TextStyle.paragraph,
                                       required=False, max_length=loans.CONDITION_MAX),
    )  # fmt: skip

    def __init__(self, loan_id: int) -> None:
        super().__init__(timeout=30 * 60)
        self.loan_id = loan_id

    async def on_submit(self, interaction: discord.Interaction) -> None:
        bot: BuddyBot = interaction.client  # type: ignore[assignment]
        text = self.condition.component.value or None  # type: ignore[attr-defined]
        change = await loans.act(bot.db, guild_id_of(interaction), self.loan_id, interaction.user.id,
                                 Event.GOT_BACK, now=bot.now(), condition=text)  # fmt: skip
        await show(interaction, change)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await report_error(interaction, error)
