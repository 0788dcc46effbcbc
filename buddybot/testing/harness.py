"""An offline Discord for the real bot: used by the tests, the demo and the benchmarks.

`FakeDiscord.start(bot)` logs the bot in through discord.py's own `login` and `DiscordWebSocket`,
feeds READY / GUILD_CREATE / INTERACTION_CREATE payloads shaped as the Discord API documents them
through the gateway parser (zlib-compressed, as Discord sends them), waits for every task the
dispatch spawns, and answers and records every REST call. Helpers read like a member's actions:
`await discord.slash("offer add", alice, skill="bookkeeping")`, `await discord.click(post, "I can take it", bob)`.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from unittest import mock

import aiohttp
import discord
from discord.gateway import DiscordWebSocket

from buddybot.testing.payloads import Payloads
from buddybot.testing.ratelimits import RateLimits
from buddybot.testing.records import (
    ACK_DEADLINE_S,
    EPHEMERAL,
    MANAGE_GUILD,
    MEMBER_PERMISSIONS,
    FakeGuild,
    FakeUser,
    MessageBody,
    Result,
    Sent,
    snowflake,
)
from buddybot.testing.transport import ORIGIN, FakeGatewaySocket, FakeSession, Fault, RestCall
from buddybot.testing.virtual_time import VirtualTime

if TYPE_CHECKING:
    from buddybot.testing.openapi import DiscordSpec

# Long-lived tasks a dispatch may start that are not part of handling the interaction.
_BACKGROUND = (
    "_View__timeout_task_impl",
    "Loop._loop",
    "_delay_ready",
    "Modal._View__timeout_task_impl",
    "BaseView.__timeout_task_impl",
)  # discord.py 2.7: View/Modal timeouts (qualname is not mangled)

__all__ = [
    "EPHEMERAL",
    "MANAGE_GUILD",
    "FakeDiscord",
    "FakeGuild",
    "FakeUser",
    "MessageBody",
    "Result",
    "Sent",
]


class FakeDiscord(Payloads):
    """A guild world plus the REST and gateway ends of Discord, with every request recorded."""

    def __init__(
        self,
        *,
        spec: DiscordSpec | None = None,
        rate_limits: bool = True,
        virtual_time: bool = True,
        checks: bool = True,
    ) -> None:
        """Strict by default: Discord's rate limits are on, and discord.py's rate-limit (and retry)
        sleeps pass in the harness's own clock (`virtual_time`), so a test never sleeps for seconds
        while the buckets, and the 3 s acknowledgement deadline, still see that time go by. The
        benchmark passes virtual_time=False (real sleeps) and sets a round-trip delay
        (`session.latency`) and checks=False: no OpenAPI validation (spec=None) nor the scan of every
        body for an erased member's placeholder mention, test checks that are not Discord's work."""
        self._ids = itertools.count(1)
        self.spec = spec
        self.checks = checks
        self.application_id = self.next_id()
        self.bot_user = FakeUser(self.application_id, "BuddyBot", bot=True)
        self.users: dict[int, FakeUser] = {}
        self.guilds: dict[int, FakeGuild] = {}
        self.messages: dict[int, Sent] = {}
        self.original_message_id: dict[str, int] = {}
        self.session = FakeSession(self._answer, self._new_socket)
        self.socket: FakeGatewaySocket | None = None
        self.ws: DiscordWebSocket | None = None
        self.bot: discord.Client | None = None
        self.spec_violations: list[str] = []
        self.synced_commands: dict[str, list[dict[str, Any]]] = {}
        self._acks: dict[int, float] = {}
        self._acked: set[int] = set()
        self._tokens: dict[str, int] = {}
        self._seq = 0
        self._channel_of_interaction: dict[int, int] = {}
        self._component_message: dict[int, int] = {}
        self.ack_deadline = ACK_DEADLINE_S
        self.virtual_time = virtual_time
        self._time = VirtualTime()
        self.session.limits = RateLimits(self.clock, enabled=rate_limits)

    @property
    def virtual_offset(self) -> float:
        return self._time.offset

    def clock(self) -> float:
        """The buckets' clock: see virtual_time.py."""
        return self._time.clock() if self.virtual_time else time.monotonic()

    def chain_age(self, started: float) -> float:
        return self._time.chain_age(started)

    # -- the world -------------------------------------------------------------------------------
    def next_id(self) -> int:
        return snowflake(self._ids)

    def add_guild(
        self,
        name: str = "Local Business Network",
        *,
        channels: Iterable[str] = ("general", "referrals", "shoutouts"),
    ) -> FakeGuild:
        owner = self.add_user(f"{name.split()[0].lower()}-owner")
        guild = FakeGuild(id=self.next_id(), name=name, owner_id=owner.id)
        for channel in channels:
            guild.channels[channel] = self.next_id()
        guild.roles["moderator"] = self.next_id()
        guild.bot_role_id = self.next_id()
        self.bot_user.roles[guild.id] = [guild.bot_role_id]
        self.guilds[guild.id] = guild
        owner.permissions[guild.id] = MEMBER_PERMISSIONS | MANAGE_GUILD
        return guild

    def add_user(
        self,
        name: str,
        *guilds: FakeGuild,
        bot: bool = False,
        moderator: bool = False,
        roles: Iterable[str] = (),
    ) -> FakeUser:
        user = FakeUser(self.next_id(), name, bot=bot)
        for guild in guilds:
            self.join(user, guild, moderator=moderator, roles=roles)
        self.users[user.id] = user
        return user

    def join(
        self, user: FakeUser, guild: FakeGuild, *, moderator: bool = False, roles: Iterable[str] = ()
    ) -> None:
        user.permissions[guild.id] = MEMBER_PERMISSIONS | (MANAGE_GUILD if moderator else 0)
        user.roles[guild.id] = [guild.roles[r] for r in roles]

    # -- login and gateway -----------------------------------------------------------------------
    def _new_socket(self) -> FakeGatewaySocket:
        self.socket = FakeGatewaySocket()
        self.socket.push({"op": 11, "d": None})  # the first frame discord.py polls for
        return self.socket

    async def start(self, bot: discord.Client) -> None:
        """Log the bot in (setup_hook runs), open the gateway, and make every guild available."""
        self.bot = bot
        bot._connection.guild_ready_timeout = 0.0
        if self.virtual_time:
            self._time.install()
        with mock.patch.object(aiohttp, "ClientSession", lambda *a, **k: self.session):
            await bot.login("offline.harness.token")
        self.ws = await DiscordWebSocket.from_client(bot, initial=True)
        ready = {
            "v": 10,
            "user": self.bot_user.payload(),
            "guilds": [{"id": str(g), "unavailable": True} for g in self.guilds],
            "session_id": "harness",
            "resume_gateway_url": "wss://gateway.invalid",
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
        }
        await self.dispatch("READY", ready)
        for guild in self.guilds.values():
            await self.dispatch("GUILD_CREATE", self.guild_payload(guild))
        await asyncio.wait_for(bot.wait_until_ready(), 5)

    async def restart(self, bot: discord.Client) -> None:
        """Forget the old client (as after a process restart) and bring a new one up on this world."""
        await self.close_bot()
        self.session.closed = False
        await self.start(bot)

    async def close_bot(self) -> None:
        if self.bot is not None:
            await self.bot.close()
            self.bot = None
        self._time.uninstall()

    def add_guild_live(self, guild: FakeGuild) -> None:
        """For guilds added after start: call `await discord.dispatch('GUILD_CREATE', ...)` yourself
        (or use `invite_bot`, which sends the GUILD_CREATE of a join)."""
        self.guilds[guild.id] = guild

    async def invite_bot(self, guild: FakeGuild) -> list[RestCall]:
        """The bot is invited to `guild` while running: GUILD_CREATE without `unavailable`, as for a join
        (discord.py then fires on_guild_join). Returns the REST calls the join set off."""
        self.guilds[guild.id] = guild
        payload = self.guild_payload(guild)
        del payload["unavailable"]
        return await self.dispatch("GUILD_CREATE", payload)

    async def update_channel(self, guild: FakeGuild, name: str) -> list[RestCall]:
        """Tell the bot a channel changed (e.g. new permission overwrites), as Discord does."""
        return await self.dispatch("CHANNEL_UPDATE", self.channel_payload(guild, name))

    async def dispatch(self, event: str, data: dict[str, Any], *, origin: int = 0) -> list[RestCall]:
        """Feed one gateway DISPATCH frame (compressed bytes) and wait for everything it set off."""
        assert self.ws is not None and self.socket is not None, "call start() first"
        first = len(self.session.calls)
        before = asyncio.all_tasks()
        await self._feed(event, data, origin)
        await self.settle(before)
        return self.session.calls[first:]

    async def _feed(self, event: str, data: dict[str, Any], origin: int) -> None:
        """One frame into the gateway; the tasks it starts carry `origin` (see transport.ORIGIN)."""
        assert self.ws is not None and self.socket is not None
        self._seq += 1
        frame = self.socket.compress({"op": 0, "t": event, "s": self._seq, "d": data})
        token = ORIGIN.set((origin, 0, 0.0))
        try:
            await self.ws.received_message(frame)
        finally:
            ORIGIN.reset(token)

    async def settle(self, before: set[asyncio.Task[Any]] | None = None) -> None:
        """Await every task started since `before`, and the tasks those start, background loops aside."""
        before = before or set()
        current = asyncio.current_task()
        seen: set[asyncio.Task[Any]] = set()
        while True:
            fresh = [
                t for t in asyncio.all_tasks() - before - seen if t is not current and not _is_background(t)
            ]
            if not fresh:
                return
            seen.update(fresh)
            await asyncio.gather(*fresh, return_exceptions=True)

    # -- interactions --------------------------------------------------------------------------------
    def _register(self, payload: dict[str, Any]) -> int:
        interaction_id = int(payload["id"])
        self._acks[interaction_id] = time.monotonic()
        self._tokens[payload["token"]] = interaction_id
        self._channel_of_interaction[interaction_id] = int(payload.get("channel_id") or 0)
        if payload["type"] == 3:
            self._component_message[interaction_id] = int(payload["message"]["id"])
        return interaction_id

    def _result(self, payload: dict[str, Any], calls: list[RestCall]) -> Result:
        interaction_id = int(payload["id"])
        return Result(
            interaction_id, payload["token"], calls, self, self._component_message.get(interaction_id)
        )

    async def interact(self, payload: dict[str, Any]) -> Result:
        interaction_id = self._register(payload)
        calls = await self.dispatch("INTERACTION_CREATE", payload, origin=interaction_id)
        return self._result(payload, calls)

    async def burst(self, payloads: list[dict[str, Any]]) -> list[Result]:
        """Deliver many interactions back to back (no handler runs in between), then wait for all of them.

        Each Result's `calls` are the calls of the whole burst; its callbacks are its own.
        """
        assert self.ws is not None and self.socket is not None, "call start() first"
        first = len(self.session.calls)
        before = asyncio.all_tasks()
        for payload in payloads:
            await self._feed("INTERACTION_CREATE", payload, self._register(payload))
        await self.settle(before)
        calls = self.session.calls[first:]
        return [self._result(p, calls) for p in payloads]

    def forget(self, keep: Iterable[int] = ()) -> None:
        """Drop recorded calls, messages (but `keep`) and finished interactions: long runs stay flat in memory."""
        kept = set(keep)
        self.session.calls.clear()
        self.messages = {i: m for i, m in self.messages.items() if i in kept}
        for table in (
            self.original_message_id,
            self._acks,
            self._tokens,
            self._channel_of_interaction,
            self._component_message,
        ):
            table.clear()
        self._acked.clear()

    async def slash(
        self,
        name: str,
        user: FakeUser,
        *,
        guild: FakeGuild | None = None,
        channel: int | None = None,
        dm: bool = False,
        **values: Any,
    ) -> Result:
        """Run `/name` as `user` (in their first guild unless `guild` is given)."""
        where = None if dm else self._guild_of(user, guild)
        return await self.interact(
            self.command_payload(name, user, guild=where, channel_id=channel, **values)
        )

    async def autocomplete(
        self, name: str, user: FakeUser, focused: str, *, guild: FakeGuild | None = None, **values: Any
    ) -> list[dict[str, Any]]:
        where = self._guild_of(user, guild)
        payload = self.command_payload(name, user, guild=where, focused=focused, **values)
        return (await self.interact(payload)).choices()

    async def click(self, message: Sent | int, label: str, user: FakeUser) -> Result:
        """Press the button labelled `label` (or with that custom_id) on a message."""
        sent = self.messages[message] if isinstance(message, int) else self.messages[message.id]
        component = sent.find_component(label)
        payload = self._component_base(sent, user, {"custom_id": component["custom_id"], "component_type": 2})
        return await self.interact(payload)

    async def press(self, message: Sent, custom_id: str, user: FakeUser) -> Result:
        """Send a button interaction with any custom_id (forged ones included)."""
        return await self.interact(
            self._component_base(message, user, {"custom_id": custom_id, "component_type": 2})
        )

    async def select(self, message: Sent | int, label: str, user: FakeUser, values: list[Any]) -> Result:
        """Choose `values` in the select whose placeholder or custom_id is `label`."""
        sent = self.messages[message] if isinstance(message, int) else self.messages[message.id]
        component = sent.find_component(label)
        kind = component["type"]
        data: dict[str, Any] = {"custom_id": component["custom_id"], "component_type": kind}
        if kind == 5:  # user select: values are users, resolved like a user option
            data["values"] = [str(u.id) for u in values]
            data["resolved"] = {"users": {str(u.id): u.payload() for u in values}}
        else:
            data["values"] = [str(v) for v in values]
        return await self.interact(self._component_base(sent, user, data))

    async def submit(self, opened: Result, user: FakeUser, **fields: str) -> Result:
        """Submit the modal that `opened` showed, with the given text input values."""
        modal = opened.response
        assert modal["type"] == 9, f"expected a modal, got {modal}"
        return await self.submit_modal(modal["data"], user, opened=opened, **fields)

    async def submit_modal(
        self,
        modal: dict[str, Any],
        user: FakeUser,
        *,
        opened: Result | None = None,
        guild: FakeGuild | None = None,
        **fields: str,
    ) -> Result:
        rows = []
        for row in modal["components"]:
            inner = row["component"] if row["type"] == 18 else row["components"][0]
            value = fields.get(inner["custom_id"], "")
            item = {"type": 4, "custom_id": inner["custom_id"], "value": value}
            rows.append(
                {"type": 18, "component": item} if row["type"] == 18 else {"type": 1, "components": [item]}
            )
        where = self._guild_of(user, guild)
        channel = None
        if opened is not None:
            channel = int(self._original_payload(opened)["channel_id"])
        payload = self._base(5, user, where, channel, {"custom_id": modal["custom_id"], "components": rows})
        return await self.interact(payload)

    def _original_payload(self, result: Result) -> dict[str, Any]:
        return {"channel_id": self._channel_of_interaction.get(result.interaction_id)}

    # -- assertions and inspection ---------------------------------------------------------------------
    def fail(
        self,
        method: str,
        path_contains: str,
        status: int = 500,
        *,
        body: Any = None,
        times: int = 1,
        headers: dict[str, str] | None = None,
        exception: BaseException | None = None,
    ) -> Fault:
        """Make the next `times` matching requests fail like Discord would."""
        if body is None and exception is None:
            body = {
                "message": {
                    403: "Missing Permissions",
                    404: "Unknown Channel",
                    429: "You are being rate limited.",
                }.get(status, "Internal Server Error"),
                "code": {403: 50013, 404: 10003}.get(status, 0),
            }
            if status == 429:
                body.update(retry_after=0.01, **{"global": False})
                headers = {"Via": "1.1 google", **(headers or {})}
        fault = Fault(method, path_contains, status, body, headers or {}, exception, times)
        self.session.faults.append(fault)
        return fault

    @property
    def calls(self) -> list[RestCall]:
        return self.session.calls

    def channel_messages(self, channel_id: int) -> list[Sent]:
        return [m for m in self.messages.values() if m.channel_id == channel_id and not m.ephemeral]


def _is_background(task: asyncio.Task[Any]) -> bool:
    if task.done():
        return False
    coro = task.get_coro()
    qualname = getattr(coro, "__qualname__", "")
    return any(qualname.endswith(name) for name in _BACKGROUND)
