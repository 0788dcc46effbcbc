"""How a referral request looks in Discord: its post, its buttons and select, and keeping the post current.

Split from cogs/referrals.py (the commands and callbacks). The buttons and the select are DynamicItems
(custom_id `need:<id>:take|decline|close|pick:<page>`), so they work after a restart; their callbacks
run in the Referrals cog, which re-checks on the server side who may press them.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

import aiohttp
import discord
from discord.ext import commands

from buddybot.bot import report_error
from buddybot.referrals import Need, NeedState, Volunteer
from cogs.common import NO_PINGS, mention, safe, short_date

log = logging.getLogger(__name__)

COG_NAME = "Referrals"
OPEN_REMEMBERED = 10_000  # open requests whose shown version is kept (a safety bound)
ENDED_REMEMBERED = 1_000  # recently ended requests whose final version is kept
TAKE, DECLINE, CLOSE, PICK = "I can take it", "Not this time", "Close", "Pick a volunteer"
OPTIONS_PER_SELECT = 25
MAX_SELECTS = 4  # one row of buttons + four selects = Discord's five rows: 100 volunteers can be picked
THREAD_ARCHIVE_MINUTES = 10080
WHEN_HELP = "e.g. asap, next week, mon-fri, for 2 weeks, the 20th, 1-5 dec"
POST_ERRORS = (discord.HTTPException, asyncio.TimeoutError, aiohttp.ClientError, OSError)
STATE_COLOURS = {"open": discord.Colour.green(), "filled": discord.Colour.blurple()}


def jump_url(guild_id: int, channel_id: int | None, message_id: int | None) -> str | None:
    if not channel_id or not message_id:
        return None
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


# -- rendering ----------------------------------------------------------------------------------------------
def render_need(state: NeedState) -> discord.Embed:
    need = state.need
    embed = discord.Embed(
        title=f"Overflow referral: {safe(need.skill, 60)}",
        colour=STATE_COLOURS.get(need.state, discord.Colour.light_grey()),
    )
    if need.details:
        embed.description = safe(need.details, 1500)
    who = mention(need.requester_id)
    embed.add_field(
        name="Asked by",
        value=f"**{safe(need.requester_business, 80)}** ({who})" if need.requester_business else who,
    )
    embed.add_field(name="When", value=need.window.describe())
    if need.area:
        embed.add_field(name="Area", value=safe(need.area, 60))
    embed.add_field(name="Status", value=status_text(state), inline=False)
    if need.is_open and state.volunteers:
        shown = " ".join(mention(v.user_id) for v in state.volunteers[:40])
        more = len(state.volunteers) - 40
        embed.add_field(
            name=f"Volunteers ({len(state.volunteers)})",
            value=shown + (f" and {more} more" if more > 0 else ""),
            inline=False,
        )
    embed.set_footer(text=f"Request #{need.id} · Questions? Ask in the thread.")
    return embed


def status_text(state: NeedState) -> str:
    need = state.need
    if need.state == "filled":
        return f"Filled: {mention(need.requester_id)} picked {mention(need.picked_id)}."
    if need.state == "closed":
        by = "the member who asked" if need.ended_by == need.requester_id else "a moderator"
        return f"Closed by {by}."
    if need.state == "expired":
        return f"Expired unfilled after {short_date(need.end)}."
    if need.state == "removed":
        return "Removed by a moderator."
    if not state.picks_open and need.picks_open_at:
        when = f"<t:{int(datetime.fromisoformat(need.picks_open_at).timestamp())}:t>"
        so_far = f"{len(state.volunteers)} volunteered so far. " if state.volunteers else ""
        return (
            f"Open. {so_far}Everyone who presses **{TAKE}** before {when} counts as first: the member who "
            f"asked can pick from then (sooner if everyone pinged has answered), in a random order."
        )
    if state.volunteers:
        return f"Open. {len(state.volunteers)} volunteered; the member who asked picks one from the menu."
    return f"Open. Can you help? Press **{TAKE}**."


def post_content(state: NeedState, pinged: Sequence[int]) -> str:
    skill = safe(state.need.skill, 60)
    if pinged:
        return f"{' '.join(mention(uid) for uid in pinged)}: you offer **{skill}**. Can you take this on?"
    return f"Who can help with **{skill}**? Press **{TAKE}** if you can."


def volunteer_option(v: Volunteer) -> discord.SelectOption:
    if v.business:
        return discord.SelectOption(label=v.business[:100], value=str(v.user_id), description=v.name[:100])
    return discord.SelectOption(label=v.name[:100], value=str(v.user_id))


def need_view(state: NeedState) -> discord.ui.View | None:
    """Buttons while the need is open, plus one select per 25 volunteers (the first 100 can be picked)."""
    need = state.need
    if not need.is_open:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(TakeButton(need.id))
    view.add_item(DeclineButton(need.id))
    view.add_item(CloseButton(need.id))
    volunteers = state.volunteers[: OPTIONS_PER_SELECT * MAX_SELECTS] if state.picks_open else ()
    for page in range((len(volunteers) + OPTIONS_PER_SELECT - 1) // OPTIONS_PER_SELECT):
        chunk = volunteers[page * OPTIONS_PER_SELECT : (page + 1) * OPTIONS_PER_SELECT]
        view.add_item(PickSelect(need.id, page, chunk))
    return view


# -- buttons and select (DynamicItems survive restarts) -------------------------------------------------------
class NeedHandlers(Protocol):
    """What the buttons call: the Referrals cog (looked up by name, so this module never imports it)."""

    async def on_take(self, interaction: discord.Interaction, need_id: int) -> None: ...
    async def on_decline(self, interaction: discord.Interaction, need_id: int) -> None: ...
    async def on_close(self, interaction: discord.Interaction, need_id: int) -> None: ...
    async def on_pick(self, interaction: discord.Interaction, need_id: int, values: list[Any]) -> None: ...


def _cog(interaction: discord.Interaction) -> NeedHandlers:
    cog = interaction.client.get_cog(COG_NAME)  # type: ignore[attr-defined]
    assert cog is not None, "the Referrals cog is not loaded"
    return cog  # type: ignore[return-value]


def reported(handler: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """discord.py only logs exceptions from DynamicItem callbacks: send them to the one error handler."""

    @functools.wraps(handler)
    async def run(self: Any, interaction: discord.Interaction, *args: Any) -> None:
        try:
            await handler(self, interaction, *args)
        except Exception as error:
            await report_error(interaction, error)

    return run


class TakeButton(discord.ui.DynamicItem[discord.ui.Button], template=r"need:(?P<id>\d{1,20}):take"):
    def __init__(self, need_id: int) -> None:
        super().__init__(
            discord.ui.Button(label=TAKE, style=discord.ButtonStyle.success, custom_id=f"need:{need_id}:take")
        )
        self.need_id = need_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any
    ) -> TakeButton:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await _cog(interaction).on_take(interaction, self.need_id)


class DeclineButton(discord.ui.DynamicItem[discord.ui.Button], template=r"need:(?P<id>\d{1,20}):decline"):
    def __init__(self, need_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=DECLINE, style=discord.ButtonStyle.secondary, custom_id=f"need:{need_id}:decline"
            )
        )
        self.need_id = need_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any
    ) -> DeclineButton:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await _cog(interaction).on_decline(interaction, self.need_id)


class CloseButton(discord.ui.DynamicItem[discord.ui.Button], template=r"need:(?P<id>\d{1,20}):close"):
    def __init__(self, need_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=CLOSE, style=discord.ButtonStyle.danger, custom_id=f"need:{need_id}:close"
            )
        )
        self.need_id = need_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any
    ) -> CloseButton:
        return cls(int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await _cog(interaction).on_close(interaction, self.need_id)


class PickSelect(
    discord.ui.DynamicItem[discord.ui.Select], template=r"need:(?P<id>\d{1,20}):pick:(?P<page>\d)"
):
    def __init__(self, need_id: int, page: int = 0, volunteers: Sequence[Volunteer] = ()) -> None:
        first = page * OPTIONS_PER_SELECT
        placeholder = PICK if page == 0 else f"{PICK} ({first + 1}–{first + len(volunteers)})"
        super().__init__(
            discord.ui.Select(
                placeholder=placeholder,
                custom_id=f"need:{need_id}:pick:{page}",
                options=[volunteer_option(v) for v in volunteers],
            )
        )
        self.need_id = need_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any
    ) -> PickSelect:
        return cls(int(match["id"]), int(match["page"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await _cog(interaction).on_pick(interaction, self.need_id, list(self.item.values))


# -- keeping the post current ---------------------------------------------------------------------------------
class PostEditor:
    """Keeps each request's post showing its newest state, however many clicks and edits interleave.

    Every state carries the need's version (bumped in the same unit as the change), and every render
    shows the newest state known for that post. A click on the post is answered with the post itself
    (interaction callback type 7, `answer`): no channel rate-limit bucket is used, and the clicker sees
    the change in one round trip. Other changes (expiry, /need close, an erasure) edit the post through
    the channel (`show`). Discord may apply overlapping renders out of order, so when renders of one
    post overlapped, the last to finish sends one more edit with the newest state: through its own
    interaction's webhook when it has one, so a burst of clicks never touches the channel's bucket.

    A bot that runs for months must not grow with every request ever made: the in-flight maps hold only
    posts being rendered, and the version shown is kept for open requests and for the ENDED_REMEMBERED
    most recently ended ones (so a late redraw never reopens an ended post); both maps are bounded.
    """

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        self._newest: dict[int, NeedState] = {}  # posts being rendered -> newest state known
        self._inflight: dict[int, int] = {}  # posts being rendered -> renders in flight
        self._overlapped: set[int] = set()  # posts whose renders overlapped since they were last idle
        self._shown: OrderedDict[int, int] = OrderedDict()  # open needs -> version on their post
        self._ended: OrderedDict[int, int] = OrderedDict()  # recently ended needs -> final version
        self._tasks: set[asyncio.Task[None]] = set()  # correcting edits under way

    def tracked(self) -> int:
        """How many requests the editor remembers anything about (tests check that this stays bounded)."""
        return len(self._shown) + len(self._ended) + len(self._newest) + len(self._inflight)

    def _version_shown(self, need_id: int) -> int:
        return self._shown.get(need_id, self._ended.get(need_id, -1))

    def _remember(self, need: Need) -> None:
        kept, other, limit = (
            (self._shown, self._ended, OPEN_REMEMBERED)
            if need.is_open
            else (self._ended, self._shown, ENDED_REMEMBERED)
        )
        other.pop(need.id, None)
        if kept.get(need.id, -1) > need.version:
            return
        kept[need.id] = need.version
        kept.move_to_end(need.id)
        while len(kept) > limit:
            kept.popitem(last=False)

    def _begin(self, state: NeedState) -> NeedState:
        need_id = state.need.id
        known = self._newest.get(need_id)
        if known is None or known.need.version < state.need.version:
            self._newest[need_id] = known = state
        if self._inflight.get(need_id):
            self._overlapped.add(need_id)
        self._inflight[need_id] = self._inflight.get(need_id, 0) + 1
        return known

    def _end(self, rendered: NeedState, again: Callable[[NeedState], Awaitable[Any]]) -> None:
        """One render finished; the last of overlapping ones schedules a correcting render if needed."""
        need_id = rendered.need.id
        self._inflight[need_id] -= 1
        if self._inflight[need_id]:
            return
        del self._inflight[need_id]
        newest = self._newest.pop(need_id)
        overlapped = need_id in self._overlapped
        self._overlapped.discard(need_id)
        if overlapped or newest.need.version > rendered.need.version:
            task = asyncio.get_running_loop().create_task(self._correct(newest, again))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            self._remember(newest.need)

    async def _correct(self, state: NeedState, again: Callable[[NeedState], Awaitable[Any]]) -> None:
        newest = self._begin(state)
        try:
            await again(newest)
        except POST_ERRORS:
            log.warning("could not correct the post of need %s", state.need.id, exc_info=True)
        finally:
            self._end(newest, again)

    async def answer(self, interaction: discord.Interaction, state: NeedState) -> bool:
        """Answer a click on the request's own post with the post showing the newest state (type 7).

        False (nothing sent) when the click came from another message: the caller replies instead.
        """
        message = interaction.message
        if message is None or (state.need.message_id not in (None, message.id)):
            return False
        newest = self._begin(state)

        async def again(latest: NeedState) -> None:
            await interaction.edit_original_response(**_post_body(latest))

        try:
            await interaction.response.edit_message(**_post_body(newest))
        finally:
            self._end(newest, again)
        return True

    async def show(
        self, state: NeedState, channel_id: int | None = None, message_id: int | None = None
    ) -> None:
        """Edit the post through its channel (for changes that are not a click on it)."""
        need = state.need
        channel_id, message_id = need.channel_id or channel_id, need.message_id or message_id
        if not channel_id or not message_id:
            return
        if need.id not in self._inflight and self._version_shown(need.id) >= need.version:
            return  # a late redraw of an older state: the post already shows a newer one
        post = self.bot.get_partial_messageable(channel_id).get_partial_message(message_id)

        async def edit(latest: NeedState) -> None:
            await post.edit(**_post_body(latest))

        newest = self._begin(state)
        try:
            await edit(newest)
        except POST_ERRORS:
            log.warning("could not update the post of need %s", need.id, exc_info=True)
        finally:
            self._end(newest, edit)


def _post_body(state: NeedState) -> dict[str, Any]:
    return {"embed": render_need(state), "view": need_view(state), "allowed_mentions": NO_PINGS}


def post_failure(error: BaseException, channel_id: int) -> str:
    where = f"<#{channel_id}>"
    if isinstance(error, discord.Forbidden):
        return (
            f"I couldn't post your request in {where}: BuddyBot isn't allowed to post there. "
            "Nothing was saved. Please ask a moderator to check the bot's permissions in that channel "
            "or choose another with `/config set referrals_channel`."
        )
    if isinstance(error, discord.NotFound):
        return (
            f"I couldn't find {where} to post your request in (was it deleted?). Nothing was saved. "
            "A moderator can choose another channel with `/config set referrals_channel`."
        )
    return (
        "Discord didn't accept the post just now; it may be having problems. Nothing was saved: "
        "please try `/need ask` again in a few minutes."
    )
