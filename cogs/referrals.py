"""/need: ask the community to take on work you can't (overflow referrals).

Command shape. PRODUCT.md lists `/need skill when [details] [area]` beside `/need list` and
`/need close need_id`, but Discord cannot have both: a command that has subcommands is a group, and a
group itself cannot be run. So `need` is a group of three: `/need ask skill when [details] [area]`,
`/need list` and `/need close need_id`. `list` and `close` keep their contract names exactly; the
request itself gets the verb a member would say ("ask"). Rejected: a top-level `/need` plus
`/needs list|close` (renames two contract commands and splits one feature over two names), and a
magic `skill:list` value (a hidden mode that fights autocomplete and validation).

The post, its buttons and select (DynamicItems that survive restarts) live in cogs/_referral_views.py;
their callbacks are here, and each re-checks on the server side who may press it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from buddybot import need_jobs, referrals
from buddybot.referrals import NeedState, Opened
from cogs._referral_views import (
    COG_NAME,
    POST_ERRORS,
    THREAD_ARCHIVE_MINUTES,
    WHEN_HELP,
    CloseButton,
    DeclineButton,
    PickSelect,
    PostEditor,
    TakeButton,
    jump_url,
    need_view,
    post_content,
    post_failure,
    render_need,
    reported,
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
    skill_autocomplete,
)
from cogs.referral_outcomes import outcome_view

if TYPE_CHECKING:
    from buddybot.bot import BuddyBot

log = logging.getLogger(__name__)
assert need_jobs  # imported for its job kinds (expiry, nudges, the pick menu's opening): registered at start


# -- the cog -------------------------------------------------------------------------------------------------
class Referrals(commands.Cog, name=COG_NAME):
    need = app_commands.Group(
        name="need", description="Ask other members to take on work you can't", guild_only=True
    )

    def __init__(self, bot: BuddyBot) -> None:
        self.bot = bot
        self.editor = PostEditor(bot)

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(TakeButton, DeclineButton, CloseButton, PickSelect)
        self.bot.refreshers["need"] = self.redraw
        # expiry, nudges and the pick menu's opening are jobs on the one scheduler (buddybot/need_jobs.py)

    async def cog_unload(self) -> None:
        self.bot.refreshers.pop("need", None)
        self.bot.remove_dynamic_items(TakeButton, DeclineButton, CloseButton, PickSelect)

    @commands.Cog.listener()
    async def on_need_changed(self, state: NeedState) -> None:
        """Another capability changed a need (an erasure took a volunteer off): redraw its post."""
        await self.editor.show(state)

    async def redraw(self, guild_id: int, need_id: int) -> None:
        """A scheduled job changed a need (menu opened, expired): redraw its post."""
        await self.editor.show(
            await referrals.current_state(self.bot.db, guild_id, need_id, now=self.bot.now())
        )

    # -- expiry ---------------------------------------------------------------------------------------------
    async def expire_due(self) -> list[NeedState]:
        """Expire every unfilled need whose window ended (guild time zone) at once and mark their posts.
        Each need also has its own `need.expire` job; this sweep is for tools and tests."""
        expired = await referrals.expire_due(self.bot.db, now=self.bot.now())
        for state in expired:
            await self.editor.show(state)
        return expired

    # -- commands -----------------------------------------------------------------------------------------
    async def my_needs_autocomplete(
        self, interaction: discord.Interaction, current: str | int
    ) -> list[app_commands.Choice[int]]:
        if interaction.guild_id is None:
            return []
        mine = await referrals.my_open_needs(self.bot.db, interaction.guild_id, interaction.user.id)
        choices = [
            app_commands.Choice(
                name=f"#{o.need.id} {o.need.skill} · {o.need.window.describe()}"[:100], value=o.need.id
            )
            for o in mine
        ]
        typed = str(current).strip().lstrip("#")
        return [c for c in choices if not typed or typed in c.name][:25]

    @need.command(name="ask", description="Ask members who offer a skill to take on work you can't")
    @app_commands.describe(
        skill="The skill you need, e.g. bookkeeping",
        when=f"When the work is ({WHEN_HELP})",
        details="What the job is (no personal client details)",
        area="Where the work is (default: your profile's area)",
    )
    @app_commands.autocomplete(skill=skill_autocomplete)
    async def ask(
        self,
        interaction: discord.Interaction,
        skill: app_commands.Range[str, 1, 60],
        when: app_commands.Range[str, 1, 100],
        details: app_commands.Range[str, 1, referrals.DETAILS_MAX] | None = None,
        area: app_commands.Range[str, 1, referrals.AREA_MAX] | None = None,
    ) -> None:
        guild_id = guild_id_of(interaction)
        opened = await referrals.open_need(
            self.bot.db,
            guild_id,
            interaction.user.id,
            skill=skill,
            when=when,
            details=details,
            area=area,
            now=self.bot.now(),
            locale=discord_locale(interaction),
        )
        need = opened.state.need
        channel_id = opened.channel_id or interaction.channel_id
        here = channel_id == interaction.channel_id
        try:
            if here:  # the request is the answer: one round trip, and no channel bucket
                answered = await interaction.response.send_message(**self._post_body(opened))
                message = answered.resource
                assert isinstance(message, discord.InteractionMessage)
            else:
                message = await post_before_answering(
                    interaction,
                    lambda: self._post(channel_id, guild_id, opened),
                    busy=channel_is_busy(self.bot, channel_id),
                )
        except POST_ERRORS as error:
            await referrals.discard_need(self.bot.db, guild_id, need.id)  # nobody will see it: keep nothing
            log.warning("could not post need %s in channel %s: %r", need.id, channel_id, error)
            if not here:
                await reply(interaction, post_failure(error, channel_id))
                return
            raise
        except BaseException:
            await referrals.discard_need(self.bot.db, guild_id, need.id)
            raise
        # A thread started from a message has the message's id; it is made after the member has the answer.
        await referrals.record_post(self.bot.db, guild_id, need.id, channel_id, message.id, message.id)
        if not here:
            url = jump_url(guild_id, channel_id, message.id)
            if opened.pinged:
                who = (
                    f"pinged {len(opened.pinged)} member{'s' if len(opened.pinged) != 1 else ''} who offer it"
                )
            else:
                who = (
                    "couldn't ping anyone right now (nobody who offers it is free and has pings on), "
                    "but anyone can still volunteer"
                )
            await reply(
                interaction,
                f"Posted your request for **{safe(need.skill)}** ({need.window.describe()}): "
                f"{url}\nI {who}. Pick a volunteer from the post's menu when people offer.",
            )
        if await self._thread(message, need) is None:
            await referrals.record_thread(self.bot.db, need.guild_id, need.id, None)

    @staticmethod
    def _post_body(opened: Opened) -> dict[str, Any]:
        return {
            "content": post_content(opened.state, opened.pinged),
            "embed": render_need(opened.state),
            "view": need_view(opened.state),
            "allowed_mentions": pings(*opened.pinged),
        }

    async def _post(self, channel_id: int, guild_id: int, opened: Opened) -> discord.Message:
        channel = self.bot.get_channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            channel = self.bot.get_partial_messageable(channel_id, guild_id=guild_id)
        return await channel.send(**self._post_body(opened))

    async def _thread(self, message: discord.Message, need: referrals.Need) -> int | None:
        """A thread for questions; the request stands without one (e.g. posted inside a thread)."""
        if message.guild is None:
            return None
        try:
            thread = await message.create_thread(
                name=f"{need.skill} · {need.window.describe()}"[:100],
                auto_archive_duration=THREAD_ARCHIVE_MINUTES,
            )
        except POST_ERRORS:
            log.info("no thread for need %s", need.id, exc_info=True)
            return None
        return thread.id

    @need.command(name="list", description="Your open requests")
    async def list_(self, interaction: discord.Interaction) -> None:
        guild_id = guild_id_of(interaction)
        mine = await referrals.my_open_needs(self.bot.db, guild_id, interaction.user.id)
        if not mine:
            await reply(interaction, "You have no open requests. Ask with `/need ask`.")
            return
        lines = []
        for item in mine:
            need = item.need
            url = jump_url(guild_id, need.channel_id, need.message_id)
            lines.append(
                f"**#{need.id}** {safe(need.skill)} · {need.window.describe()} · "
                f"{item.volunteers} volunteer{'s' if item.volunteers != 1 else ''}"
                + (f" · {url}" if url else "")
            )
        await reply(
            interaction, "Your open requests:\n" + "\n".join(lines) + "\nClose one with `/need close`."
        )

    @need.command(name="close", description="Close one of your requests")
    @app_commands.describe(need_id="The request number (see /need list)")
    @app_commands.autocomplete(need_id=my_needs_autocomplete)
    async def close(
        self, interaction: discord.Interaction, need_id: app_commands.Range[int, 1, 2**53 - 1]
    ) -> None:
        state = await referrals.close(
            self.bot.db, guild_id_of(interaction), need_id, actor(interaction), now=self.bot.now()
        )
        await reply(interaction, f"Closed request #{need_id} ({safe(state.need.skill)}).")
        await self.editor.show(state)

    # -- component callbacks (each one unit of work) -----------------------------------------------------------
    @staticmethod
    def _post_ids(interaction: discord.Interaction) -> tuple[int | None, int | None]:
        message = interaction.message
        return (message.channel.id, message.id) if message is not None else (None, None)

    async def _update_post(self, interaction: discord.Interaction, state: NeedState) -> None:
        """Answer the click with the post itself (type 7); the words for the clicker follow privately."""
        if not await self.editor.answer(interaction, state):
            await self.editor.show(state, *self._post_ids(interaction))

    @reported
    async def on_take(self, interaction: discord.Interaction, need_id: int) -> None:
        result = await referrals.volunteer(
            self.bot.db,
            guild_id_of(interaction),
            need_id,
            interaction.user.id,
            interaction.user.display_name,
            now=self.bot.now(),
        )
        need = result.state.need
        if not result.created:
            await reply(interaction, "You're already on the list for this request.")
            return
        await self._update_post(interaction, result.state)
        await reply(
            interaction,
            f"Thanks! You're on the list for **{safe(need.skill)}**. "
            f"{mention(need.requester_id)} picks from the volunteers; you'll be pinged if it's you.",
        )

    @reported
    async def on_decline(self, interaction: discord.Interaction, need_id: int) -> None:
        result = await referrals.decline(
            self.bot.db, guild_id_of(interaction), need_id, interaction.user.id, now=self.bot.now()
        )
        nxt = result.next_user_id
        if result.state is not None:
            await self._update_post(interaction, result.state)
        await reply(
            interaction,
            "No problem, thanks for letting us know."
            + (" I've asked the next member who fits." if nxt else ""),
        )
        if nxt is not None:
            await self._ping_next(interaction, result.need, nxt)

    async def _ping_next(self, interaction: discord.Interaction, need: referrals.Need, user_id: int) -> None:
        """One new message that pings exactly the next candidate: in the thread, else under the post."""
        channel_id, message_id = self._post_ids(interaction)
        channel_id, message_id = need.channel_id or channel_id, need.message_id or message_id
        url = jump_url(need.guild_id, channel_id, message_id)
        content = (
            f"{mention(user_id)}: you offer **{safe(need.skill, 60)}**. Could you take on this request "
            f"({need.window.describe()})? {url or ''}"
        ).strip()
        targets: list[tuple[int, discord.MessageReference | None]] = []
        if need.thread_id:
            targets.append((need.thread_id, None))
        if channel_id and message_id:
            targets.append(
                (
                    channel_id,
                    discord.MessageReference(
                        message_id=message_id, channel_id=channel_id, fail_if_not_exists=False
                    ),
                )
            )
        for target, reference in targets:
            try:
                await self.bot.get_partial_messageable(target, guild_id=need.guild_id).send(
                    content, reference=reference, allowed_mentions=pings(user_id)
                )  # type: ignore[arg-type]
                return
            except POST_ERRORS:
                log.warning(
                    "could not ping the next candidate for need %s in %s", need.id, target, exc_info=True
                )

    @reported
    async def on_close(self, interaction: discord.Interaction, need_id: int) -> None:
        state = await referrals.close(
            self.bot.db, guild_id_of(interaction), need_id, actor(interaction), now=self.bot.now()
        )
        await self._update_post(interaction, state)
        await reply(interaction, f"Closed request #{need_id}.")

    @reported
    async def on_pick(self, interaction: discord.Interaction, need_id: int, values: list[Any]) -> None:
        chosen = str(values[0]) if values else ""
        if not chosen.isdigit():
            await reply(interaction, "Please pick one of the volunteers in the menu.")
            return
        state = await referrals.pick(
            self.bot.db,
            guild_id_of(interaction),
            need_id,
            interaction.user.id,
            int(chosen),
            now=self.bot.now(),
        )
        need = state.need
        await self._update_post(interaction, state)
        await reply(
            interaction, f"You picked {mention(need.picked_id)}. I've let you both know in the channel."
        )
        channel_id, message_id = self._post_ids(interaction)
        channel_id, message_id = need.channel_id or channel_id, need.message_id or message_id
        if channel_id is None:
            return
        reference = (
            discord.MessageReference(message_id=message_id, channel_id=channel_id, fail_if_not_exists=False)
            if message_id
            else None
        )
        try:
            await self.bot.get_partial_messageable(channel_id, guild_id=need.guild_id).send(
                f"{mention(need.requester_id)} picked {mention(need.picked_id)} for **{safe(need.skill, 60)}** "
                f"({need.window.describe()}). Over to you two: agree the terms with `/agreement new`. "
                f"{mention(need.picked_id)}, once you know, tell {mention(need.requester_id)} how it went "
                "with the buttons below (any value you give stays private).",
                reference=reference,
                allowed_mentions=pings(need.requester_id, need.picked_id),  # type: ignore[arg-type]
                view=outcome_view(state.referral_id),
            )
        except POST_ERRORS:
            log.warning("could not announce the pick for need %s", need.id, exc_info=True)


async def setup(bot: BuddyBot) -> None:
    await bot.add_cog(Referrals(bot))
