"""Matched floors: a no-op interaction that makes the same REST calls (same count, same kinds, same
order) as the interaction it is compared with, so the ratio measures our own work only.

`plan_of(result)` reads an interaction's calls ("post", "public", "answer", "defer", "update",
"thread", "followup", "edit", "patch"); `/noop_rest plan:...` (a slash command) and a `bench:noop:<plan>`
button (for clicks, which answer a component interaction) replay such a plan doing nothing else.
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bench.driver import BenchWorld
from bench.measure import BenchError, Op
from bench.seed import CHANNELS
from buddybot.testing.harness import Result, Sent
from buddybot.testing.transport import RestCall


def _kind(call: RestCall) -> str | None:
    if call.path.endswith("/callback"):
        body = call.json or {}
        kind = body.get("type")
        ephemeral = bool(((body.get("data") or {}).get("flags") or 0) & 64)
        return {4: "answer" if ephemeral else "public", 5: "defer", 6: "defer", 7: "update"}.get(kind)
    if call.path.startswith("/webhooks/"):
        return "followup" if call.method == "POST" else "edit" if call.method == "PATCH" else None
    if call.path.endswith("/threads"):
        return "thread"
    if re.fullmatch(r"/channels/\d+/messages", call.path) and call.method == "POST":
        return "post"
    if re.fullmatch(r"/channels/\d+/messages/\d+", call.path) and call.method == "PATCH":
        return "patch"
    return None


def plan_of(result: Result) -> str:
    kinds = [k for c in result.rest_calls if c.status < 400 and (k := _kind(c))]
    return "-".join(kinds)


async def _replay(interaction: discord.Interaction, plan: str) -> None:
    client = interaction.client
    channel = client.get_partial_messageable(CHANNELS["referrals"])
    last: discord.Message | None = None
    for step in plan.split("-"):
        if step == "post":
            last = await channel.send("noop")
        elif step in ("answer", "public"):
            answered = await interaction.response.send_message("ok", ephemeral=step == "answer")
            last = answered.resource if isinstance(answered.resource, discord.Message) else last
        elif step == "defer":
            await interaction.response.defer(ephemeral=True, thinking=True)
        elif step == "update":
            await interaction.response.edit_message(content="ok")
        elif step == "followup":
            await interaction.followup.send("ok", ephemeral=True)
        elif step == "edit":
            await interaction.edit_original_response(content="ok")
        elif step == "thread" and last is not None:
            await last.create_thread(name="noop")
        elif step == "patch" and last is not None:
            await last.edit(content="ok")


class NoopButton(discord.ui.DynamicItem[discord.ui.Button], template=r"bench:noop:(?P<plan>[a-z-]+)"):
    def __init__(self, plan: str) -> None:
        super().__init__(discord.ui.Button(label="noop", custom_id=f"bench:noop:{plan}"))
        self.plan = plan

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: Any) -> NoopButton:
        return cls(match["plan"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _replay(interaction, self.plan)


def add_matched_floor(bot: discord.Client) -> None:
    @bot.tree.command(name="noop_rest", description="Benchmark: replay a plan of REST calls, nothing else")
    async def noop_rest(interaction: discord.Interaction, plan: str) -> None:
        await _replay(interaction, plan)

    bot.add_dynamic_items(NoopButton)  # type: ignore[attr-defined]


class MatchedFloor(Op):
    """The matched floor of one operation: its plan, as a slash command or as a click."""

    def __init__(self, name: str, plan: str, *, click: bool, world: BenchWorld) -> None:
        super().__init__()
        self.name, self.plan, self.click = f"matched floor of {name}", plan, click
        if click:
            custom_id = f"bench:noop:{plan}"
            self.message: Sent = world.discord._store(
                CHANNELS["referrals"],
                {"content": "noop", "components": [{"type": 1, "components": [
                    {"type": 2, "style": 2, "label": "noop", "custom_id": custom_id}]}]},
                [],
            )  # fmt: skip
            self.keep.add(self.message.id)

    def payload(self, world: BenchWorld, i: int) -> dict[str, Any]:
        user = world.member(i % 1000)
        if self.click:
            return world.forged(self.message, f"bench:noop:{self.plan}", user)
        return world.slash("noop_rest", user, plan=self.plan)

    def check(self, world: BenchWorld, result: Result) -> None:
        if plan_of(result) != self.plan:
            raise BenchError(f"{self.name}: replayed {plan_of(result)!r}, not {self.plan!r}")
