"""How the offline Discord answers REST calls: messages, threads, interaction callbacks, webhooks."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from buddybot.testing.records import EPHEMERAL, Sent
from buddybot.testing.transport import RestCall

if TYPE_CHECKING:
    from buddybot.testing.openapi import DiscordSpec
    from buddybot.testing.records import FakeGuild, FakeUser


# A mention of the placeholder id an erasure leaves (negative) renders as raw text: never send one.
PLACEHOLDER_MENTION = re.compile(r"<@[!&]?-\d+>")
PLACEHOLDER_MENTION_BYTES = re.compile(PLACEHOLDER_MENTION.pattern.encode())  # attachments, undecoded


class DiscordRest:
    """Answers like Discord and keeps the messages it holds; mixed into FakeDiscord (which owns the state)."""

    spec: DiscordSpec | None
    checks: bool
    spec_violations: list[str]
    messages: dict[int, Sent]
    original_message_id: dict[str, int]
    synced_commands: dict[str, list[dict[str, Any]]]
    application_id: int
    bot_user: FakeUser
    guilds: dict[int, FakeGuild]
    ack_deadline: float
    _acks: dict[int, float]
    _acked: set[int]
    _tokens: dict[str, int]
    _channel_of_interaction: dict[int, int]
    _component_message: dict[int, int]

    def next_id(self) -> int:
        raise NotImplementedError

    def chain_age(self, started: float) -> float:
        raise NotImplementedError

    def _message_payload(self, sent: Sent) -> dict[str, Any]:
        return {
            "id": str(sent.id),
            "channel_id": str(sent.channel_id),
            "type": 0,
            "content": sent.content,
            "author": self.bot_user.payload(),
            "embeds": sent.embeds,
            "components": sent.components,
            "attachments": sent.data.get("attachments", []),
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None,
            "flags": EPHEMERAL if sent.ephemeral else 0,
            "application_id": str(self.application_id),
        }

    def _store(
        self,
        channel_id: int,
        body: dict[str, Any],
        files: list[tuple[str, bytes]],
        *,
        ephemeral: bool = False,
    ) -> Sent:
        data = dict(body)
        if files:
            data["attachments"] = [
                {
                    "id": str(i),
                    "filename": name,
                    "size": len(blob),
                    "url": f"https://cdn.invalid/{name}",
                    "proxy_url": f"https://cdn.invalid/{name}",
                }
                for i, (name, blob) in enumerate(files)
            ]
            data["files"] = files
        sent = Sent(self.next_id(), channel_id, data, ephemeral=ephemeral)
        self.messages[sent.id] = sent
        return sent

    def _create(self, channel_id: int, body: dict[str, Any], files: list[tuple[str, bytes]]) -> Sent:
        """POST a channel message. With `enforce_nonce`, a nonce this author already used in the channel
        returns that message and creates none (Discord keeps nonces for a few minutes; the harness forever)."""
        nonces: dict[tuple[int, str], Sent] = self.__dict__.setdefault("_nonces", {})
        key = (channel_id, str(body.get("nonce")))
        if body.get("enforce_nonce") and key in nonces:
            self.nonce_duplicates_dropped = getattr(self, "nonce_duplicates_dropped", 0) + 1
            return nonces[key]
        sent = self._store(channel_id, body, files)
        if body.get("enforce_nonce") and body.get("nonce") is not None:
            nonces[key] = sent
        return sent

    def _edit(self, sent: Sent, body: dict[str, Any], files: list[tuple[str, bytes]]) -> Sent:
        sent.data.update({k: v for k, v in body.items() if k != "attachments" or not files})
        if files:
            sent.data["files"] = files
        return sent

    def _answer(self, call: RestCall) -> tuple[int, Any]:
        self._validate(call)
        method, parts = call.method, call.path.strip("/").split("/")
        body = call.json or {}
        if call.path == "/users/@me" and method == "GET":
            return 200, self.bot_user.payload()
        if call.path == "/oauth2/applications/@me":
            return 200, {
                "id": str(self.application_id),
                "name": "BuddyBot",
                "description": "",
                "icon": None,
                "rpc_origins": [],
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": self.bot_user.payload(),
                "team": None,
                "verify_key": "0" * 64,
                "flags": 0,
                "summary": "",
                "bot": self.bot_user.payload(),
            }
        if parts[0] == "applications" and parts[-1] == "commands" and method == "PUT":
            key = parts[3] if len(parts) > 3 else "global"
            self.synced_commands[key] = body
            return 200, [
                dict(
                    c,
                    id=str(self.next_id()),
                    application_id=str(self.application_id),
                    version="1",
                    default_member_permissions=c.get("default_member_permissions"),
                )
                for c in body
            ]
        if call.path == "/users/@me/channels" and method == "POST":
            return 200, self._dm_channel(int(body["recipient_id"]))
        if parts[0] == "channels":
            channel_id = int(parts[1])
            if method == "POST" and parts[2:] == ["messages"]:
                return 200, self._message_payload(self._create(channel_id, body, call.files))
            if len(parts) == 4 and parts[2] == "messages":
                return self._on_message(method, self.messages.get(int(parts[3])), body, call.files)
            if len(parts) == 5 and parts[4] == "threads" and method == "POST":
                thread_id = int(parts[3])
                return 201, {
                    "id": str(thread_id),
                    "type": 11,
                    "name": body.get("name", "thread"),
                    "parent_id": str(channel_id),
                    "guild_id": self._guild_of_channel(channel_id),
                    "owner_id": str(self.bot_user.id),
                    "message_count": 0,
                    "member_count": 1,
                    "thread_metadata": {
                        "archived": False,
                        "auto_archive_duration": body.get("auto_archive_duration", 1440),
                        "archive_timestamp": datetime.now(UTC).isoformat(),
                        "locked": False,
                    },
                }
        if parts[0] == "interactions" and parts[-1] == "callback":
            return self._callback(int(parts[1]), parts[2], body, call.files)
        if parts[0] == "webhooks":
            token = parts[2]
            if method == "POST" and len(parts) == 3:  # followup
                sent = self._store(
                    self._channel_for_token(token),
                    body,
                    call.files,
                    ephemeral=bool(body.get("flags", 0) & EPHEMERAL),
                )
                return 200, self._message_payload(sent)
            if len(parts) == 5 and parts[3] == "messages":
                target = parts[4]
                message_id = self.original_message_id.get(token) if target == "@original" else int(target)
                sent = self.messages.get(message_id) if message_id else None
                return self._on_message(method, sent, body, call.files)
        return 404, {"message": "404: Not Found", "code": 0}

    def _on_message(
        self, method: str, sent: Sent | None, body: dict[str, Any], files: list[tuple[str, bytes]]
    ) -> tuple[int, Any]:
        """GET, PATCH or DELETE one message, through a channel route or an interaction webhook."""
        if sent is None or sent.deleted:
            return 404, {"message": "Unknown Message", "code": 10008}
        if method == "PATCH":
            return 200, self._message_payload(self._edit(sent, body, files))
        if method == "DELETE":
            sent.deleted = True
            return 204, None
        return 200, self._message_payload(sent)

    def _dm_channel(self, user_id: int) -> dict[str, Any]:
        """Open (or reopen) the bot's direct-message channel with a user; its messages are recorded as any."""
        dms: dict[int, int] = self.__dict__.setdefault("dm_channels", {})
        channel_id = dms.setdefault(user_id, self.next_id())
        recipient = {"id": str(user_id), "username": f"user{user_id}", "discriminator": "0", "avatar": None}
        return {"id": str(channel_id), "type": 1, "last_message_id": None, "recipients": [recipient]}

    def _guild_of_channel(self, channel_id: int) -> str | None:
        for guild in self.guilds.values():
            if channel_id in guild.channels.values():
                return str(guild.id)
        return None

    def _channel_for_token(self, token: str) -> int:
        return self._channel_of_interaction.get(self._tokens.get(token, 0), 0)

    def _callback(
        self, interaction_id: int, token: str, body: dict[str, Any], files: list[tuple[str, bytes]]
    ) -> tuple[int, Any]:
        if interaction_id in self._acked:
            return 400, {"message": "Interaction has already been acknowledged.", "code": 40060}
        started = self._acks.get(interaction_id)
        if started is None or self.chain_age(started) > self.ack_deadline:
            return 404, {"message": "Unknown interaction", "code": 10062}
        self._acked.add(interaction_id)
        kind = body["type"]
        data = body.get("data") or {}
        info: dict[str, Any] = {"id": str(interaction_id), "type": 2}
        resource: dict[str, Any] = {"type": kind}
        channel_id = self._channel_for_token(token)
        if kind in (4, 5):
            ephemeral = bool(data.get("flags", 0) & EPHEMERAL)
            sent = self._store(channel_id, data if kind == 4 else {"content": ""}, files, ephemeral=ephemeral)
            self.original_message_id[token] = sent.id
            info.update(
                response_message_id=str(sent.id),
                response_message_loading=kind == 5,
                response_message_ephemeral=ephemeral,
            )
            resource["message"] = self._message_payload(sent)
        elif kind in (6, 7):
            message_id = self._component_message.get(interaction_id)
            if message_id is not None:
                self.original_message_id[token] = message_id
                if kind == 7:
                    self._edit(self.messages[message_id], data, files)
                info.update(response_message_id=str(message_id))
                resource["message"] = self._message_payload(self.messages[message_id])
        return 200, {"interaction": info, "resource": resource}

    def _validate(self, call: RestCall) -> None:
        if not self.checks:
            return
        found = [PLACEHOLDER_MENTION.search(json.dumps(call.json, ensure_ascii=False))] if call.json else []
        found += [PLACEHOLDER_MENTION_BYTES.search(blob) for _name, blob in call.files]  # no decoding
        for match in filter(None, found):
            text = match[0] if isinstance(match[0], str) else match[0].decode()
            self.spec_violations.append(f"{call.route}: mentions an erased member's placeholder {text}")
        if self.spec is None or call.json is None:
            return
        try:
            self.spec.validate_request(call.method, call.path, call.json)
        except AssertionError as exc:
            self.spec_violations.append(f"{call.route}: {exc}")
