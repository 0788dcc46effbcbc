"""The harness itself: it must lean on discord.py's real code, and fail loudly if those internals move."""

from __future__ import annotations

import io
import sqlite3

import aiosqlite
import discord
import discord.http
import pytest
from discord.gateway import DiscordWebSocket

from buddybot.bot import intents
from buddybot.storage.db import migration_files
from tests.conftest import World


async def test_discordpy_internals_the_harness_relies_on(world: World) -> None:
    """If discord.py or aiosqlite move these internals, this fails first and says which one."""
    assert discord.version_info[:2] == (2, 7), "the harness is pinned to discord.py 2.7.x"
    http = world.bot.http
    assert http._HTTPClient__session is world.discord.session, (
        "HTTPClient.__session is no longer the aiohttp session"
    )
    assert isinstance(world.discord.ws, DiscordWebSocket)
    assert world.bot._connection.parsers["INTERACTION_CREATE"].__name__ == "parse_interaction_create"
    assert hasattr(aiosqlite.Connection, "_execute"), "aiosqlite.Connection._execute moved"
    assert aiosqlite.__version__.startswith("0.22"), "Database.unit leans on aiosqlite 0.22.x"
    # cogs.common.channel_is_busy reads discord.py's own rate-limit buckets.
    assert isinstance(http._bucket_hashes, dict) and isinstance(http._buckets, dict)
    bucket = discord.http.Ratelimit(None)
    assert (
        hasattr(bucket, "remaining") and hasattr(bucket, "_pending_requests") and bucket.is_expired() is False
    )


async def test_login_identifies_with_guilds_intent_only(world: World) -> None:
    identify = world.discord.socket.sent[0]
    assert identify["op"] == 2
    assert identify["d"]["intents"] == intents().value == discord.Intents(guilds=True).value
    assert world.bot._connection.member_cache_flags.value == 0
    assert world.bot._connection._chunk_guilds is False


async def test_interaction_payload_goes_through_the_real_parser(world: World) -> None:
    seen: list[discord.Interaction] = []

    async def record(interaction: discord.Interaction) -> None:
        seen.append(interaction)

    world.bot.add_listener(record, "on_interaction")
    await world.discord.slash("offer list", world.alice)
    (interaction,) = seen
    assert isinstance(interaction.user, discord.Member)
    assert interaction.user.id == world.alice.id
    assert interaction.guild_id == world.guild.id
    assert interaction.command is not None and interaction.command.qualified_name == "offer list"


async def test_callbacks_ask_for_the_created_message(world: World) -> None:
    r = await world.discord.slash("offer list", world.alice)
    (callback,) = r.callbacks
    assert callback.params == {"with_response": "1"}
    assert callback.json["type"] == 4
    assert r.message.ephemeral


async def test_second_ack_is_refused_like_discord(world: World) -> None:
    r = await world.discord.slash("offer list", world.alice)
    again = world.discord._callback(r.interaction_id, r.token, {"type": 4, "data": {"content": "x"}}, [])
    assert again == (400, {"message": "Interaction has already been acknowledged.", "code": 40060})


async def test_late_ack_gets_unknown_interaction_and_the_bot_survives(world: World) -> None:
    world.discord.ack_deadline = -1.0
    r = await world.discord.slash("offer list", world.alice)
    assert r.callbacks[0].status == 404
    assert r.callbacks[0].response["code"] == 10062
    world.discord.ack_deadline = 3.0
    ok = await world.discord.slash("offer list", world.alice)
    assert ok.callbacks[0].status == 200


async def test_spec_validation_catches_what_discord_refuses(world: World) -> None:
    channel = world.bot.get_channel(world.guild.channel("general"))
    assert isinstance(channel, discord.TextChannel)
    await channel.send("x" * 2000)
    assert world.discord.spec_violations == []
    await channel.send("x" * 2001)
    assert len(world.discord.spec_violations) == 1 and "content" in world.discord.spec_violations[0]
    world.discord.spec_violations.clear()


async def test_an_erased_members_placeholder_is_refused_in_text_and_in_files(world: World) -> None:
    channel = world.bot.get_channel(world.guild.channel("general"))
    assert isinstance(channel, discord.TextChannel)
    none = discord.AllowedMentions.none()
    await channel.send("thanks <@-3>", allowed_mentions=none)
    await channel.send(
        "ok", file=discord.File(io.BytesIO(b"\x89PNG\r\n\x1a\n<@-12>"), "x.png"), allowed_mentions=none
    )
    await channel.send("ok", file=discord.File(io.BytesIO(b"<@123> <@!45>"), "x.txt"), allowed_mentions=none)
    found = world.discord.spec_violations
    assert [v.rsplit(" ", 1)[-1] for v in found] == ["<@-3>", "<@-12>"]
    found.clear()


async def test_commands_synced_once_are_valid_for_discord(world: World) -> None:
    synced = world.discord.synced_commands["global"]
    names = sorted(c["name"] for c in synced)
    assert {"profile", "offer", "find", "available", "busy", "config"} <= set(names)
    config = next(c for c in synced if c["name"] == "config")
    assert str(config["default_member_permissions"]) == str(1 << 5)


@pytest.mark.sqlite_only("SQLite's pragmas")
async def test_database_is_wal_with_foreign_keys_and_all_migrations(world: World) -> None:
    def pragmas(conn: sqlite3.Connection) -> tuple:
        return tuple(
            conn.execute(f"PRAGMA {p}").fetchone()[0]
            for p in ("journal_mode", "foreign_keys", "synchronous", "user_version", "busy_timeout")
        )

    journal, fks, sync, version, busy = await world.db.read(pragmas)
    assert (journal, fks, sync, busy) == ("wal", 1, 1, 5000)
    assert version == migration_files()[-1][0]
