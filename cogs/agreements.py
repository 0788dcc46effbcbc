"""/agreement: one-off job agreements. Terms modal -> buddy select -> post with Accept/Decline -> feedback.

Every button and select is a DynamicItem (the agreement id is in its custom_id), so they keep working
after a restart; each callback re-checks on the server side who may press it.
"""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands, tasks

from buddybot import agreements as domain
from buddybot.agreements import LIMITS, NOTE_MAX, TERMS_TEMPLATE, Buddy, Details, State, TermsText
from buddybot.bot import report_error, send_ephemeral
from buddybot.errors import BuddyError
from cogs._agreement_render import mentions, proposal_content, render_agreement
from cogs.common import NO_PINGS, actor, guild_id_of, mention, pings, reply, safe

if TYPE_CHECKING:
    from buddybot.bot import BuddyBot

log = logging.getLogger(__name__)

MAX_ID = 2**53 - 1
MODAL_TIMEOUT = 30 * 60
# (custom_id, label, description, style): the five fields of the terms modal.
FIELDS = (
    ("title", "Title", "A short name for the job", discord.TextStyle.short),
    ("scope", "Scope", "What the job is: deliverables, who does what", discord.TextStyle.paragraph),
    ("terms", "Terms", "Payment, split, deadlines, brand use, cancellation", discord.TextStyle.paragraph),
    ("fee", "Fee", "The total fee and how it is paid, e.g. £1,200, half upfront", discord.TextStyle.short),
    ("dates", "Dates", "e.g. next week, 1-5 dec, 2026-12-01 to 2026-12-05", discord.TextStyle.short),
)


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


def feedback_view(agreement_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(AgainButton(agreement_id, "yes"))
    view.add_item(AgainButton(agreement_id, "no"))
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


class NoteModal(discord.ui.Modal, title="A private note"):
    note = discord.ui.Label(
        text="Note", description="Only moderators and the people on this agreement see it",
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
        await domain.add_note(bot.db, guild_id_of(interaction), self.agreement_id, interaction.user.id, text)
        await reply(interaction, f"Saved your note on agreement #{self.agreement_id}.")

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await report_error(interaction, error)


async def submit_new(interaction: discord.Interaction, typed: TermsText) -> None:
    bot: BuddyBot = interaction.client  # type: ignore[assignment]
    lead = Buddy(user_id=interaction.user.id, name=interaction.user.display_name)
    details = await domain.create_draft(
        bot.db, guild_id_of(interaction), interaction.channel_id or 0, lead, typed, now=bot.now()
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
        bot.db, guild_id_of(interaction), agreement_id, interaction.user.id, typed, now=bot.now()
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
        await domain.answer(
            bot.db,
            guild_id_of(interaction),
            self.agreement_id,
            interaction.user.id,
            self.again,
            now=bot.now(),
        )
        view = discord.ui.View(timeout=None)
        view.add_item(NoteButton(self.agreement_id))
        await reply(
            interaction,
            f"Thanks, noted: **{'yes' if self.again else 'no'}**. Only moderators and the people "
            f"on agreement #{self.agreement_id} can see it. You may add a private note.",
            view=view,
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


DYNAMIC_ITEMS = (BuddySelect, AcceptButton, DeclineButton, AgainButton, NoteButton)


# -- commands ------------------------------------------------------------------------------------------
@app_commands.guild_only()
class Agreements(
    commands.GroupCog, group_name="agreement", group_description="One-off job agreements with buddies"
):
    def __init__(self, bot: BuddyBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)
        self.drafts.start()

    async def cog_unload(self) -> None:
        self.drafts.cancel()
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)

    async def prune_drafts(self) -> int:
        return await domain.prune_drafts(self.bot.db, now=self.bot.now())

    @tasks.loop(hours=1)
    async def drafts(self) -> None:
        """Hourly: drafts nobody proposed within a day are forgotten (they would pile up otherwise)."""
        if self.drafts.current_loop == 0:
            return  # not at start: the first clean-up runs an hour in, off the busy start-up path
        try:
            await self.prune_drafts()
        except Exception:
            log.exception("pruning agreement drafts failed; will retry within the hour")

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
        buttons = decision_view(details) if me is not None and not me.accepted_at else None
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
        outcome = await domain.complete(
            self.bot.db, guild_id_of(interaction), agreement_id, interaction.user.id, now=self.bot.now()
        )
        details, a = outcome.details, outcome.details.agreement
        await reply(
            interaction,
            f"Agreement #{a.id} is complete. Well done! I've asked everyone whether they'd "
            "work together again.",
        )
        await update_post(
            interaction, a.channel_id, outcome.previous_message_id, embed=render_agreement(details)
        )
        await announce(
            interaction,
            a.channel_id,
            f"{mentions(details.party_ids)}\n✅ Agreement #{a.id} “{safe(a.terms.title, 100)}” is complete. "
            "**Would you work together again?** Only moderators and the people on this agreement see "
            "the answers.",
            details.party_ids,
            view=feedback_view(a.id),
        )

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
