"""The benchmark world: the real BuddyBot on FakeDiscord over a seeded database, with timing hooks.

A sample runs from the compressed gateway frame entering discord.py's websocket parser to
(a) the interaction callback reaching the fake network ("ack") and (b) the moment every task the
interaction started has finished ("done": the post, the thread, the second write, the edits).
No OpenAPI validation nor placeholder scan (`FakeDiscord(spec=None, checks=False)`): the tests do
those; here they would only add the harness's own work to the bot's.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter_ns
from typing import Any

import discord
from discord import app_commands

from bench.seed import CHANNELS, GUILD_ID, MEMBER_BASE, MODERATOR_ROLE, NOW
from buddybot.bot import BuddyBot
from buddybot.settings import Settings
from buddybot.storage.pg import is_postgresql
from buddybot.testing.engines import connected
from buddybot.testing.harness import (
    MANAGE_GUILD,
    MEMBER_PERMISSIONS,
    FakeDiscord,
    FakeGuild,
    FakeUser,
    Result,
    Sent,
)
from buddybot.testing.world import FakeClock


@dataclass(frozen=True)
class Sample:
    ack_ns: int
    done_ns: int


def add_noop(tree: app_commands.CommandTree) -> None:
    """The floor: a bare slash command on the same tree, through the same parser and REST path."""

    @tree.command(name="noop", description="Benchmark floor: answers and does nothing else")
    async def noop(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("ok", ephemeral=True)


class BenchWorld:
    """One bot process on one seeded guild; members are the seeded ones (member i = MEMBER_BASE + i)."""

    def __init__(
        self,
        db_path: str | Path,
        *,
        bot_factory: Callable[[], discord.Client] | None = None,
        strict: bool = False,
        round_trip_s: float = 0.0,
    ) -> None:
        """`strict`: Discord's rate limits on, in real time (the Monday-morning burst); otherwise off, so
        the in-process measurements see our own work only. `round_trip_s`: the delay of every REST call."""
        # A postgresql:// URL stays a string (Path would fold its "//").
        self.db_path: str | Path = db_path if is_postgresql(str(db_path)) else Path(db_path)
        self.discord = FakeDiscord(spec=None, rate_limits=strict, virtual_time=False, checks=False)
        self.discord.session.latency = round_trip_s
        self.clock = FakeClock(NOW)
        self.guild = FakeGuild(
            id=GUILD_ID,
            name="Bench Community",
            owner_id=0,
            channels=dict(CHANNELS),
            roles={"moderator": MODERATOR_ROLE},
        )
        owner = self.discord.add_user("bench-owner")
        owner.permissions[GUILD_ID] = MEMBER_PERMISSIONS | MANAGE_GUILD
        self.guild.owner_id = owner.id
        self.discord.guilds[GUILD_ID] = self.guild
        self.mod = self.discord.add_user("bench-mod", self.guild, moderator=True)
        self._members: dict[int, FakeUser] = {}
        self._bot_factory = bot_factory
        self.bot: Any = None
        self._t0: int | None = None
        self._t_ack: int | None = None

    def make_bot(self) -> discord.Client:
        if self._bot_factory is not None:
            return self._bot_factory()
        settings = Settings(DISCORD_TOKEN="offline", BUDDYBOT_DB=str(self.db_path))
        return BuddyBot(settings, clock=self.clock, sync_commands=False)

    async def start(self) -> BenchWorld:
        self.bot = self.make_bot()
        add_noop(self.bot.tree)
        from bench.matched import add_matched_floor

        add_matched_floor(self.bot)
        await self.discord.start(self.bot)
        self._instrument()
        return self

    async def close(self) -> None:
        await self.discord.close_bot()

    def _instrument(self) -> None:
        session = self.discord.session
        answer = session._handler

        def stamped(call):
            if self._t_ack is None and call.path.endswith("/callback"):
                self._t_ack = perf_counter_ns()
            return answer(call)

        session._handler = stamped
        ws = self.discord.ws
        feed = ws.received_message

        async def timed_feed(message: Any) -> None:
            self._t0 = perf_counter_ns()
            await feed(message)

        ws.received_message = timed_feed

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Read the bot's database on a separate connection (setup and checks, never while timing)."""
        with connected(self.db_path) as conn:
            return [tuple(r) for r in conn.execute(sql, params).fetchall()]

    # -- members and payloads ------------------------------------------------------------------------
    def member(self, i: int) -> FakeUser:
        """Seeded member i as a Discord user of the bench guild."""
        user = self._members.get(i)
        if user is None:
            user = FakeUser(MEMBER_BASE + i, f"member{i}")
            self.discord.join(user, self.guild)
            self.discord.users[user.id] = user
            self._members[i] = user
        return user

    def slash(self, name: str, user: FakeUser, **values: Any) -> dict[str, Any]:
        return self.discord.command_payload(name, user, guild=self.guild, **values)

    def click(self, message: Sent | int, label: str, user: FakeUser) -> dict[str, Any]:
        sent = self.discord.messages[message if isinstance(message, int) else message.id]
        custom_id = sent.find_component(label)["custom_id"]
        return self.forged(sent, custom_id, user)

    def forged(self, message: Sent, custom_id: str, user: FakeUser) -> dict[str, Any]:
        # The harness's own builder for component payloads (what `click` and `press` send).
        return self.discord._component_base(message, user, {"custom_id": custom_id, "component_type": 2})

    def select(self, message: Sent, label: str, user: FakeUser, values: Sequence[Any]) -> dict[str, Any]:
        component = message.find_component(label)
        data: dict[str, Any] = {"custom_id": component["custom_id"], "component_type": component["type"]}
        if component["type"] == 5:
            data["values"] = [str(u.id) for u in values]
            data["resolved"] = {"users": {str(u.id): u.payload() for u in values}}
        else:
            data["values"] = [str(v) for v in values]
        return self.discord._component_base(message, user, data)

    # -- timing ------------------------------------------------------------------------------------------
    async def timed(self, payload: dict[str, Any]) -> tuple[Sample, Result]:
        self._t0 = self._t_ack = None
        result = await self.discord.interact(payload)
        end = perf_counter_ns()
        assert self._t0 is not None
        if self._t_ack is None:
            raise AssertionError(f"no interaction callback; calls: {[c.route for c in result.calls]}")
        return Sample(self._t_ack - self._t0, end - self._t0), result

    async def burst(self, payloads: list[dict[str, Any]]) -> tuple[int, list[Result]]:
        """Deliver all payloads at once; nanoseconds from the first frame until everything settled."""
        start = perf_counter_ns()
        results = await self.discord.burst(payloads)
        return perf_counter_ns() - start, results


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")
