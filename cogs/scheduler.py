"""Runs the scheduler: claims due jobs in the database, delivers what they say, marks them done.

Every process runs this loop; the database decides who runs each job (see buddybot/scheduler.py), so a
job runs once whether one process or several serve the bot.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from typing import TYPE_CHECKING

import aiohttp
import discord
from discord.ext import commands, tasks

from buddybot import scheduler
from cogs.common import pings

if TYPE_CHECKING:
    from buddybot.bot import BuddyBot

log = logging.getLogger(__name__)

STYLES = {
    "primary": discord.ButtonStyle.primary,
    "secondary": discord.ButtonStyle.secondary,
    "success": discord.ButtonStyle.success,
    "danger": discord.ButtonStyle.danger,
}
# Discord said no for good (channel gone, no access): retrying would only fail again.
PERMANENT = (discord.NotFound, discord.Forbidden)
TRANSIENT = (discord.HTTPException, TimeoutError, aiohttp.ClientError)


def render_view(buttons: tuple[scheduler.Button, ...]) -> discord.ui.View | None:
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for button in buttons[:25]:
        view.add_item(
            discord.ui.Button(custom_id=button.custom_id, label=button.label[:80], style=STYLES[button.style])
        )
    return view


class Scheduler(commands.Cog):
    def __init__(self, bot: BuddyBot) -> None:
        self.bot = bot
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._one_run = (
            asyncio.Lock()
        )  # a run started elsewhere (tick, a test) finishes before the next starts

    async def cog_load(self) -> None:
        self.tick.start()  # its first iteration runs at once: catch up on what fell due while we were down

    async def cog_unload(self) -> None:
        self.tick.cancel()

    @tasks.loop(seconds=30)
    async def tick(self) -> None:
        try:
            await self.run_due()
        except Exception:
            log.exception("running due jobs failed; will retry at the next tick")

    async def run_due(self) -> int:
        """Claim, deliver and finish due jobs in batches until none are left; returns how many ran."""
        async with self._one_run:
            return await self._run_batches()

    async def _run_batches(self) -> int:
        total = 0
        while True:
            claimed = await self.bot.db.write(scheduler.claim_due, self.bot.now(), self.worker)
            if not claimed:
                return total
            delivered = await self.deliver(claimed)
            await self.bot.db.write(scheduler.finish, delivered, self.bot.now())
            total += len(claimed)
            if len(claimed) < scheduler.BATCH:
                return total

    async def deliver(self, claimed: list[tuple[scheduler.Job, scheduler.Outcome]]) -> list[int]:
        """Post the merged notices and redraw posts; returns the jobs that are done with (a job whose
        message failed for a passing reason stays claimed, and is re-delivered when its lease runs out)."""
        failed: set[int] = set()
        for message in scheduler.merge(claimed):
            channel = self.bot.get_partial_messageable(message.channel_id)
            view = render_view(message.buttons)
            try:
                await channel.send(
                    message.text,
                    allowed_mentions=pings(*message.ping),
                    nonce=message.nonce,
                    **({"view": view} if view is not None else {}),
                )
            except PERMANENT:
                log.warning("channel %s refused a scheduled message; dropping it", message.channel_id)
            except TRANSIENT:
                log.warning("could not post to %s; will retry", message.channel_id, exc_info=True)
                failed.update(_jobs_in(claimed, message.channel_id))
        for job, outcome in claimed:
            for kind, ref_id in outcome.refresh:
                refresh = self.bot.refreshers.get(kind)
                if refresh is None:
                    log.error("no refresher for %r (job %s)", kind, job.id)
                    continue
                try:
                    await refresh(job.guild_id, ref_id)
                except Exception:
                    log.warning("could not redraw %s %s", kind, ref_id, exc_info=True)
        return [job.id for job, _ in claimed if job.id not in failed]


def _jobs_in(claimed: list[tuple[scheduler.Job, scheduler.Outcome]], channel_id: int) -> set[int]:
    return {job.id for job, outcome in claimed if any(n.channel_id == channel_id for n in outcome.notices)}


async def setup(bot: BuddyBot) -> None:
    await bot.add_cog(Scheduler(bot))
