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
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from unittest import mock

import aiohttp
import discord
from discord import app_commands
from discord.gateway import DiscordWebSocket

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
from buddybot.testing.rest import DiscordRest
from buddybot.testing.transport import FakeGatewaySocket, FakeSession, Fault, RestCall

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


class FakeDiscord(DiscordRest):
    """A guild world plus the REST and gateway ends of Discord, with every request recorded."""

    def __init__(self, *, spec: DiscordSpec | None = None) -> None:
        self._ids = itertools.count(1)
        self.spec = spec
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

    def member_payload(self, user: FakeUser, guild_id: int, *, with_user: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": [str(r) for r in user.roles.get(guild_id, [])],
            "nick": None,
            "avatar": None,
            "joined_at": "2026-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "permissions": str(user.permissions.get(guild_id, MEMBER_PERMISSIONS)),
        }
        if with_user:
            data["user"] = user.payload()
        return data

    def guild_payload(self, guild: FakeGuild) -> dict[str, Any]:
        everyone = {
            "id": str(guild.id),
            "name": "@everyone",
            "permissions": str(MEMBER_PERMISSIONS),
            "position": 0,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }
        roles = [everyone] + [
            {
                "id": str(rid),
                "name": name,
                "permissions": "0",
                "position": i + 1,
                "color": 0,
                "hoist": False,
                "managed": False,
                "mentionable": False,
                "flags": 0,
            }
            for i, (name, rid) in enumerate(guild.roles.items())
        ]
        channels = [
            {
                "id": str(cid),
                "type": 0,
                "name": name,
                "position": i,
                "guild_id": str(guild.id),
                "permission_overwrites": [],
                "nsfw": False,
                "parent_id": None,
            }
            for i, (name, cid) in enumerate(guild.channels.items())
        ]
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "owner_id": str(guild.owner_id),
            "roles": roles,
            "channels": channels,
            "threads": [],
            "emojis": [],
            "stickers": [],
            "features": [],
            "member_count": 2,
            "large": False,
            "unavailable": False,
            "members": [self.member_payload(self.bot_user, guild.id)],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "joined_at": "2026-01-01T00:00:00+00:00",
            "verification_level": 0,
            "mfa_level": 0,
            "premium_tier": 0,
            "preferred_locale": "en-GB",
            "system_channel_id": None,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
        }

    # -- login and gateway -----------------------------------------------------------------------
    def _new_socket(self) -> FakeGatewaySocket:
        self.socket = FakeGatewaySocket()
        self.socket.push({"op": 11, "d": None})  # the first frame discord.py polls for
        return self.socket

    async def start(self, bot: discord.Client) -> None:
        """Log the bot in (setup_hook runs), open the gateway, and make every guild available."""
        self.bot = bot
        bot._connection.guild_ready_timeout = 0.0
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

    def add_guild_live(self, guild: FakeGuild) -> None:
        """For guilds added after start: call `await discord.dispatch('GUILD_CREATE', ...)` yourself."""
        self.guilds[guild.id] = guild

    async def dispatch(self, event: str, data: dict[str, Any]) -> list[RestCall]:
        """Feed one gateway DISPATCH frame (compressed bytes) and wait for everything it set off."""
        assert self.ws is not None and self.socket is not None, "call start() first"
        self._seq += 1
        frame = self.socket.compress({"op": 0, "t": event, "s": self._seq, "d": data})
        first = len(self.session.calls)
        before = asyncio.all_tasks()
        await self.ws.received_message(frame)
        await self.settle(before)
        return self.session.calls[first:]

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
    def _base(
        self, kind: int, user: FakeUser, guild: FakeGuild | None, channel_id: int | None, data: dict[str, Any]
    ) -> dict[str, Any]:
        interaction_id = self.next_id()
        token = f"tok{interaction_id}"
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": kind,
            "token": token,
            "version": 1,
            "data": data,
            "locale": "en-GB",
            "entitlements": [],
            "attachment_size_limit": 10485760,
            "app_permissions": str(MEMBER_PERMISSIONS),
        }
        if guild is not None:
            channel_id = channel_id or guild.channel("general")
            name = next((n for n, c in guild.channels.items() if c == channel_id), "thread")
            payload.update(
                guild_id=str(guild.id),
                guild_locale="en-GB",
                context=0,
                member=self.member_payload(user, guild.id),
                authorizing_integration_owners={"0": str(guild.id)},
                channel={
                    "id": str(channel_id),
                    "type": 0,
                    "name": name,
                    "guild_id": str(guild.id),
                    "position": 0,
                    "parent_id": None,
                    "topic": None,
                    "nsfw": False,
                    "permission_overwrites": [],
                    "rate_limit_per_user": 0,
                    "flags": 0,
                    "last_message_id": None,
                    "permissions": str(user.permissions.get(guild.id, MEMBER_PERMISSIONS)),
                },
                channel_id=str(channel_id),
            )
        else:
            dm = self.next_id()
            payload.update(
                user=user.payload(),
                context=1,
                channel_id=str(dm),
                channel={"id": str(dm), "type": 1, "recipients": [user.payload()]},
                authorizing_integration_owners={"0": str(user.id)},
            )
        return payload

    def _register(self, payload: dict[str, Any]) -> int:
        interaction_id = int(payload["id"])
        self._acks[interaction_id] = asyncio.get_running_loop().time()
        self._tokens[payload["token"]] = interaction_id
        self._channel_of_interaction[interaction_id] = int(payload.get("channel_id") or 0)
        if payload["type"] == 3:
            self._component_message[interaction_id] = int(payload["message"]["id"])
        return interaction_id

    async def interact(self, payload: dict[str, Any]) -> Result:
        interaction_id = self._register(payload)
        calls = await self.dispatch("INTERACTION_CREATE", payload)
        return Result(interaction_id, payload["token"], calls, self)

    async def burst(self, payloads: list[dict[str, Any]]) -> list[Result]:
        """Deliver many interactions back to back (no handler runs in between), then wait for all of them.

        Each Result's `calls` are the calls of the whole burst; its callbacks are its own.
        """
        assert self.ws is not None and self.socket is not None, "call start() first"
        first = len(self.session.calls)
        before = asyncio.all_tasks()
        for payload in payloads:
            self._register(payload)
            self._seq += 1
            frame = self.socket.compress({"op": 0, "t": "INTERACTION_CREATE", "s": self._seq, "d": payload})
            await self.ws.received_message(frame)
        await self.settle(before)
        calls = self.session.calls[first:]
        return [Result(int(p["id"]), p["token"], calls, self) for p in payloads]

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

    def _find_command(self, name: str) -> app_commands.Command[Any, ..., Any]:
        assert self.bot is not None
        parts = name.split()
        tree: discord.app_commands.CommandTree = self.bot.tree  # type: ignore[attr-defined]
        command = tree.get_command(parts[0])
        for part in parts[1:]:
            if not isinstance(command, app_commands.Group):
                break
            command = command.get_command(part)
        if not isinstance(command, app_commands.Command):
            raise LookupError(f"no slash command /{name}")
        return command

    def _options(
        self,
        command: app_commands.Command[Any, ..., Any],
        guild: FakeGuild | None,
        values: dict[str, Any],
        focused: str | None,
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        options: list[dict[str, Any]] = []
        resolved: dict[str, Any] = {}
        params = {p.display_name: p for p in command.parameters}
        for key, value in values.items():
            param = params.get(key)
            if param is None:
                raise LookupError(f"/{command.qualified_name} has no option {key!r}")
            if value is None:
                continue
            kind = param.type
            option: dict[str, Any] = {"name": key, "type": kind.value}
            if kind in (
                discord.AppCommandOptionType.user,
                discord.AppCommandOptionType.mentionable,
            ) and isinstance(value, FakeUser):
                option["value"] = str(value.id)
                resolved.setdefault("users", {})[str(value.id)] = value.payload()
                if guild is not None and guild.id in value.permissions:
                    resolved.setdefault("members", {})[str(value.id)] = self.member_payload(
                        value, guild.id, with_user=False
                    )
            elif kind is discord.AppCommandOptionType.channel:
                option["value"] = str(value)
                name = next(
                    (n for n, c in (guild.channels.items() if guild else []) if c == int(value)), "channel"
                )
                resolved.setdefault("channels", {})[str(value)] = {
                    "id": str(value),
                    "type": 0,
                    "name": name,
                    "permissions": str(MEMBER_PERMISSIONS),
                }
            elif kind is discord.AppCommandOptionType.role:
                option["value"] = str(value)
                resolved.setdefault("roles", {})[str(value)] = {
                    "id": str(value),
                    "name": "role",
                    "permissions": "0",
                    "position": 1,
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                }
            else:
                option["value"] = value
            if focused == key:
                option["focused"] = True
            options.append(option)
        return options, resolved

    def command_payload(
        self,
        name: str,
        user: FakeUser,
        *,
        guild: FakeGuild | None,
        channel_id: int | None = None,
        focused: str | None = None,
        **values: Any,
    ) -> dict[str, Any]:
        command = self._find_command(name)
        options, resolved = self._options(command, guild, values, focused)
        parents = name.split()
        for sub in reversed(parents[1:]):
            options = [{"name": sub, "type": 1 if sub == parents[-1] else 2, "options": options}]
        data: dict[str, Any] = {"id": str(self.next_id()), "name": parents[0], "type": 1, "options": options}
        if resolved:
            data["resolved"] = resolved
        if guild is not None:
            data["guild_id"] = str(guild.id)
        return self._base(4 if focused else 2, user, guild, channel_id, data)

    def _guild_of(self, user: FakeUser, guild: FakeGuild | None) -> FakeGuild | None:
        if guild is not None:
            return guild
        for gid in user.permissions:
            return self.guilds[gid]
        return None

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

    def _component_base(self, message: Sent, user: FakeUser, data: dict[str, Any]) -> dict[str, Any]:
        channel_guild = next(
            (g for g in self.guilds.values() if message.channel_id in g.channels.values()), None
        )
        if channel_guild is None:
            channel_guild = next(
                (g for g in self.guilds.values() if g.id == message.data.get("guild_id")), None
            )
        guild = channel_guild or self._guild_of(user, None)
        payload = self._base(3, user, guild, message.channel_id, data)
        payload["message"] = self._message_payload(message)
        return payload

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
