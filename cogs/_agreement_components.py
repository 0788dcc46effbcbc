"""The agreement post's persistent components (DynamicItems: the agreement id is in each custom_id, so they
work after a restart) and the helpers that post and update the agreement's messages.

Every callback re-checks on the server side who may press it (inside the domain's unit of work).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord

from buddybot import agreements as domain
from buddybot.agreements import Buddy, Details, State
from buddybot.bot import report_error, send_ephemeral
from cogs._agreement_render import mentions, proposal_content, render_agreement
from cogs.common import NO_PINGS, guild_id_of, mention, pings, safe

if TYPE_CHECKING:
    from buddybot.bot import BuddyBot

log = logging.getLogger(__name__)

MODAL_TIMEOUT = 30 * 60


# -- rendering: cogs/_agreement_render.py; views of the persistent components below ---------------
def decision_view(details: Details) -> discord.ui.View | None:
    a = details.agreement
    if a.state != State.PROPOSED:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(AcceptButton(a.id, a.version))
    view.add_item(DeclineButton(a.id, a.version))
    return view


def buddy_view(agreement_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(BuddySelect(agreement_id))
    return view


# -- talking to the agreement's channel ------------------------------------------------------------
async def announce(
    interaction: discord.Interaction,
    channel_id: int,
    content: str,
    ping: list[int],
    *,
    embed: discord.Embed | None = None,
    view: discord.ui.View | None = None,
) -> discord.Message | None:
    """Post in the agreement's channel pinging exactly `ping`; tell the caller privately on failure."""
    channel = interaction.client.get_partial_messageable(channel_id, guild_id=interaction.guild_id)
    kwargs: dict[str, Any] = {"allowed_mentions": pings(*ping)}
    if embed is not None:
        kwargs["embed"] = embed
    if view is not None:
        kwargs["view"] = view
    try:
        return await channel.send(content, **kwargs)
    except discord.HTTPException as exc:
        log.warning("could not post in channel %s: %s", channel_id, exc)
        await send_ephemeral(
            interaction,
            f"I couldn't post in <#{channel_id}> ({exc.text or exc.status}). The agreement is saved: "
            "its members can still see it, and accept it, with `/agreement view`.",
        )
        return None


async def update_post(
    interaction: discord.Interaction,
    channel_id: int,
    message_id: int | None,
    *,
    embed: discord.Embed | None = None,
    content: str | None = None,
) -> None:
    """Refresh (or retire) an earlier post: buttons removed, state shown. A deleted post is not an error."""
    if message_id is None:
        return
    channel = interaction.client.get_partial_messageable(channel_id, guild_id=interaction.guild_id)
    kwargs: dict[str, Any] = {"view": None, "allowed_mentions": NO_PINGS}
    if embed is not None:
        kwargs["embed"] = embed
    if content is not None:
        kwargs["content"] = content
    try:
        await channel.get_partial_message(message_id).edit(**kwargs)
    except discord.HTTPException as exc:
        log.info("could not update agreement post %s: %s", message_id, exc)


async def post_proposal(interaction: discord.Interaction, details: Details) -> None:
    """Post this version with Accept/Decline, ping the parties, and remember the post (2nd round trip)."""
    a = details.agreement
    message = await announce(
        interaction,
        a.channel_id,
        proposal_content(details),
        details.party_ids,
        embed=render_agreement(details),
        view=decision_view(details),
    )
    if message is not None:
        await domain.set_message(interaction.client.db, a.id, a.version, message.id)


# -- persistent components ----------------------------------------------------------------------
class Routed:
    """discord.py only logs exceptions from DynamicItem callbacks: route them to the one error handler."""

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await self.handle(interaction)
        except Exception as error:  # report_error logs what it does not recognise
            await report_error(interaction, error)

    async def handle(self, interaction: discord.Interaction) -> None:
        raise NotImplementedError


class BuddySelect(
    Routed, discord.ui.DynamicItem[discord.ui.UserSelect], template=r"agreement:(?P<id>\d{1,18}):buddies"
):
    def __init__(self, agreement_id: int) -> None:
        super().__init__(discord.ui.UserSelect(
            custom_id=f"agreement:{agreement_id}:buddies", placeholder="Pick your buddies (1–21)",
            min_values=domain.MIN_BUDDIES, max_values=domain.MAX_BUDDIES,
        ))  # fmt: skip
        self.agreement_id = agreement_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: Any) -> BuddySelect:
        return cls(int(match["id"]))

    async def handle(self, interaction: discord.Interaction) -> None:
        bot: BuddyBot = interaction.client  # type: ignore[assignment]
        chosen = [Buddy(user_id=u.id, name=u.display_name, bot=u.bot) for u in self.item.values]
        details = await domain.propose(
            bot.db, guild_id_of(interaction), self.agreement_id, interaction.user.id, chosen, now=bot.now()
        )
        a = details.agreement
        await interaction.response.edit_message(
            content=f"Agreement #{a.id} is posted in <#{a.channel_id}> and your buddies are pinged.",
            embed=render_agreement(details),
            view=None,
            allowed_mentions=NO_PINGS,
        )
        await post_proposal(interaction, details)


class AcceptButton(
    Routed,
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"agreement:(?P<id>\d{1,18}):v(?P<version>\d{1,6}):accept",
):
    def __init__(self, agreement_id: int, version: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Accept",
                style=discord.ButtonStyle.success,
                custom_id=f"agreement:{agreement_id}:v{version}:accept",
            )
        )
        self.agreement_id, self.version = agreement_id, version

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: Any) -> AcceptButton:
        return cls(int(match["id"]), int(match["version"]))

    async def handle(self, interaction: discord.Interaction) -> None:
        bot: BuddyBot = interaction.client  # type: ignore[assignment]
        outcome = await domain.accept(
            bot.db,
            guild_id_of(interaction),
            self.agreement_id,
            self.version,
            interaction.user.id,
            now=bot.now(),
        )
        details, a = outcome.details, outcome.details.agreement
        embed = render_agreement(details)
        await interaction.response.edit_message(
            embed=embed, view=decision_view(details), allowed_mentions=pings(*details.party_ids)
        )
        if interaction.message is not None and interaction.message.id != a.message_id:
            # accepted from /agreement view: the public post follows
            await update_post(interaction, a.channel_id, a.message_id, embed=embed)
        if outcome.changed:
            await announce(
                interaction,
                a.channel_id,
                f"{mentions(details.member_ids)}\n🤝 Agreement #{a.id} “{safe(a.terms.title, 100)}” is "
                f"agreed: all {len(details.parties)} buddies accepted version {a.version}, and the terms "
                "are now locked. "
                f"{mention(a.lead_id)}, use `/agreement complete agreement_id:{a.id}` when the job is done.",
                details.member_ids,
            )


class DeclineButton(
    Routed,
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"agreement:(?P<id>\d{1,18}):v(?P<version>\d{1,6}):decline",
):
    def __init__(self, agreement_id: int, version: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Decline",
                style=discord.ButtonStyle.danger,
                custom_id=f"agreement:{agreement_id}:v{version}:decline",
            )
        )
        self.agreement_id = agreement_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: Any) -> DeclineButton:
        return cls(int(match["id"]), int(match["version"]))

    async def handle(self, interaction: discord.Interaction) -> None:
        bot: BuddyBot = interaction.client  # type: ignore[assignment]
        details = await domain.decline(
            bot.db, guild_id_of(interaction), self.agreement_id, interaction.user.id, now=bot.now()
        )
        a = details.agreement
        embed = render_agreement(details)
        await interaction.response.edit_message(
            embed=embed, view=None, allowed_mentions=pings(*details.party_ids)
        )
        if interaction.message is not None and interaction.message.id != a.message_id:
            await update_post(interaction, a.channel_id, a.message_id, embed=embed)
        await announce(
            interaction,
            a.channel_id,
            f"{mention(a.lead_id)}, {mention(interaction.user.id)} declined agreement #{a.id} "
            f"“{safe(a.terms.title, 100)}”, "
            "so it is closed. You can start a new one with other terms or other buddies.",
            [a.lead_id],
        )


DYNAMIC_ITEMS = (BuddySelect, AcceptButton, DeclineButton)
