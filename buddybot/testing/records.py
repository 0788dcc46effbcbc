"""The offline Discord's records: members, guilds, stored messages and interaction results."""

from __future__ import annotations

import itertools
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from buddybot.testing.transport import RestCall

DISCORD_EPOCH_MS = 1420070400000
MANAGE_GUILD = 1 << 5
MEMBER_PERMISSIONS = (
    (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 6) | (1 << 31) | (1 << 35) | (1 << 38)
)
VIEW_CHANNEL, SEND_MESSAGES, EMBED_LINKS, ATTACH_FILES = 1 << 10, 1 << 11, 1 << 14, 1 << 15
CREATE_PUBLIC_THREADS, SEND_MESSAGES_IN_THREADS = 1 << 35, 1 << 38
# What the README's invite URL grants the bot's managed role (plus Read Message History).
BOT_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | (1 << 16)
    | CREATE_PUBLIC_THREADS
    | SEND_MESSAGES_IN_THREADS
)
ACK_DEADLINE_S = 3.0
EPHEMERAL = 64


def snowflake(counter: itertools.count) -> int:
    return ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | (next(counter) & 0x3FFFFF)


@dataclass
class FakeUser:
    id: int
    name: str
    bot: bool = False
    permissions: dict[int, int] = field(default_factory=dict)  # guild id -> permission bits
    roles: dict[int, list[int]] = field(default_factory=dict)

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.name,
            "discriminator": "0",
            "global_name": self.name.title(),
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }


@dataclass
class FakeGuild:
    id: int
    name: str
    owner_id: int
    channels: dict[str, int] = field(default_factory=dict)
    roles: dict[str, int] = field(default_factory=dict)
    locale: str = "en-GB"  # preferred_locale; interactions carry it as guild_locale
    system_channel: str | None = None
    voice_channels: set[str] = field(default_factory=set)  # these channels are voice (type 2)
    everyone_permissions: int = MEMBER_PERMISSIONS
    bot_role_id: int = 0  # the managed role Discord gives the bot when it is invited
    bot_permissions: int = BOT_PERMISSIONS
    overwrites: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # channel name -> overwrites

    def channel(self, name: str = "general") -> int:
        return self.channels[name]

    def overwrite(self, channel: str, *, deny: int = 0, allow: int = 0, role_id: int | None = None) -> None:
        """A channel permission overwrite for a role (default @everyone, whose role id is the guild's id)."""
        target = str(role_id if role_id is not None else self.id)
        rows = [o for o in self.overwrites.get(channel, []) if o["id"] != target]
        rows.append({"id": target, "type": 0, "allow": str(allow), "deny": str(deny)})
        self.overwrites[channel] = rows


class MessageBody:
    """Content and embeds of a message body (a stored message, or an interaction reply)."""

    data: dict[str, Any]

    @property
    def content(self) -> str:
        return self.data.get("content") or ""

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.data.get("embeds") or []


@dataclass
class Sent(MessageBody):
    """A message as Discord holds it (channel post, interaction reply or followup)."""

    id: int
    channel_id: int
    data: dict[str, Any]
    ephemeral: bool = False
    deleted: bool = False

    @property
    def components(self) -> list[dict[str, Any]]:
        return self.data.get("components") or []

    def find_component(self, label: str) -> dict[str, Any]:
        for row in self.components:
            for comp in row.get("components", []):
                if label in (comp.get("label"), comp.get("custom_id"), comp.get("placeholder")):
                    return comp
        raise LookupError(f"no component {label!r} on message {self.id}: {self.labels()}")

    def labels(self) -> list[str]:
        return [
            c.get("label") or c.get("placeholder") or c.get("custom_id")
            for row in self.components
            for c in row.get("components", [])
        ]

    def text(self) -> str:
        """Content and embed text together, for assertions and the demo transcript."""
        parts = [self.content]
        for e in self.embeds:
            parts += [e.get("title", ""), e.get("description", "")]
            parts += [f"{f['name']}: {f['value']}" for f in e.get("fields", [])]
            if e.get("footer"):
                parts.append(e["footer"].get("text", ""))
        return "\n".join(p for p in parts if p)


class MessageStore(Protocol):
    """What a Result needs of the offline Discord (FakeDiscord is one): no import of the harness here."""

    messages: dict[int, Sent]
    original_message_id: dict[str, int]


@dataclass
class Result(MessageBody):
    """What Discord received while one interaction was handled."""

    interaction_id: int
    token: str
    calls: list[RestCall]
    discord: MessageStore
    component_message_id: int | None = None  # the message a clicked button or select is on

    # -- what it cost in Discord's terms --------------------------------------------------------------
    @property
    def rest_calls(self) -> list[RestCall]:
        """Every REST call made while handling this interaction (tasks it started included)."""
        return [c for c in self.calls if c.origin == self.interaction_id]

    def _answers(self, call: RestCall) -> bool:
        if call.path.endswith("/callback"):
            return f"/{self.interaction_id}/" in call.path
        if call.path.startswith("/webhooks/"):
            return self.token in call.path
        return (
            call.method == "PATCH"
            and self.component_message_id is not None
            and call.path.endswith(f"/messages/{self.component_message_id}")
        )

    @property
    def round_trips(self) -> int:
        """Sequential REST round trips before the member saw the final answer: the deepest call that
        answered (the callback, a follow-up or @original edit, or an edit of the clicked message)."""
        return max((c.depth for c in self.rest_calls if self._answers(c)), default=0)

    @property
    def buckets(self) -> Counter[str]:
        """Rate-limit buckets (by kind) this interaction's calls used; "none" for interaction callbacks."""
        return Counter(c.bucket or "none" for c in self.rest_calls)

    @property
    def callbacks(self) -> list[RestCall]:
        return [
            c for c in self.calls if c.path.endswith("/callback") and f"/{self.interaction_id}/" in c.path
        ]

    @property
    def response(self) -> dict[str, Any]:
        """The interaction callback body (type + data)."""
        if not self.callbacks:
            raise AssertionError(
                f"the bot did not answer the interaction; calls: {[c.route for c in self.calls]}"
            )
        return self.callbacks[0].json

    @property
    def data(self) -> dict[str, Any]:
        return self.response.get("data") or {}

    @property
    def ephemeral(self) -> bool:
        return bool(self.data.get("flags", 0) & EPHEMERAL)

    @property
    def allowed_mentions(self) -> dict[str, Any] | None:
        return self.data.get("allowed_mentions")

    @property
    def message(self) -> Sent:
        """The message the callback created (type 4)."""
        return self.discord.messages[self.discord.original_message_id[self.token]]

    @property
    def posts(self) -> list[RestCall]:
        """Channel messages the bot created during this interaction: channel POSTs, and the interaction's
        own public reply (callback type 4 without the ephemeral flag), shown as the POST it stands for
        (its body, and a response carrying the message id)."""
        posts = [
            c
            for c in self.calls
            if c.method == "POST"
            and c.path.startswith("/channels/")
            and c.path.endswith("/messages")
            and 200 <= c.status < 300
        ]
        for answer in self.callbacks:
            data = answer.json.get("data") or {}
            if (
                200 <= answer.status < 300
                and answer.json.get("type") == 4
                and not data.get("flags", 0) & EPHEMERAL
            ):
                message = self.discord.messages[self.discord.original_message_id[self.token]]
                posts.insert(0, RestCall("POST", f"/channels/{message.channel_id}/messages", {}, data,
                                         answer.files, {}, answer.status, {"id": str(message.id)}))  # fmt: skip
        return posts

    @property
    def followups(self) -> list[RestCall]:
        return [
            c
            for c in self.calls
            if c.method == "POST" and c.path.startswith("/webhooks/") and self.token in c.path
        ]

    def text(self) -> str:
        return Sent(0, 0, self.data).text()

    @property
    def told(self) -> str:
        """What the member was told in words: the callback's message, or (after a defer, or a click
        answered by updating the clicked message) the last follow-up's content."""
        if self.response["type"] == 4 or not self.followups:
            return self.content
        return (self.followups[-1].json or {}).get("content") or ""

    def choices(self) -> list[dict[str, Any]]:
        assert self.response["type"] == 8, self.response
        return self.data["choices"]
