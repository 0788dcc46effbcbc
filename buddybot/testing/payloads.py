"""The payloads the offline Discord sends the bot: guilds, members, slash commands, component clicks.

Shaped as the Discord API documents them; `FakeDiscord` (harness.py) feeds them through the gateway.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from buddybot.testing.records import MEMBER_PERMISSIONS, FakeGuild, FakeUser, Sent
from buddybot.testing.rest import DiscordRest


class Payloads(DiscordRest):
    """Builds gateway payloads from the world's state; mixed into FakeDiscord (which owns that state)."""

    bot: discord.Client | None

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
            "permissions": str(guild.everyone_permissions),
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
        if guild.bot_role_id:
            roles.append(
                {
                    "id": str(guild.bot_role_id),
                    "name": self.bot_user.name,
                    "permissions": str(guild.bot_permissions),
                    "position": len(roles),
                    "color": 0,
                    "hoist": False,
                    "managed": True,
                    "mentionable": False,
                    "flags": 0,
                    "tags": {"bot_id": str(self.bot_user.id)},
                }
            )
        channels = [self.channel_payload(guild, name) for name in guild.channels]
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
            "preferred_locale": guild.locale,
            "system_channel_id": str(guild.channel(guild.system_channel)) if guild.system_channel else None,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
        }

    def channel_payload(self, guild: FakeGuild, name: str) -> dict[str, Any]:
        """A guild channel as GUILD_CREATE and CHANNEL_UPDATE carry it, with its permission overwrites."""
        data: dict[str, Any] = {
            "id": str(guild.channel(name)),
            "type": 2 if name in guild.voice_channels else 0,
            "name": name,
            "position": list(guild.channels).index(name),
            "guild_id": str(guild.id),
            "permission_overwrites": guild.overwrites.get(name, []),
            "nsfw": False,
            "parent_id": None,
        }
        if name in guild.voice_channels:
            data.update(bitrate=64000, user_limit=0, rtc_region=None)
        return data

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
                guild_locale=guild.locale,
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
