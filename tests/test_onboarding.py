"""Guided setup through the harness: the join note, /config check, /config set's refusal, /config reset.

Joins are real GUILD_CREATE payloads (roles, the bot's managed role, channel overwrites) and discord.py
computes the bot's permissions from them exactly as it would from Discord.
"""

from __future__ import annotations

from buddybot import onboarding
from buddybot.testing.harness import FakeGuild
from buddybot.testing.records import (
    CREATE_PUBLIC_THREADS,
    EMBED_LINKS,
    MEMBER_PERMISSIONS,
    SEND_MESSAGES,
    VIEW_CHANNEL,
)
from buddybot.testing.transport import RestCall
from tests.conftest import World


def posts(calls: list[RestCall]) -> list[RestCall]:
    return [c for c in calls if c.method == "POST" and c.path.endswith("/messages")]


def new_guild(world: World, *channels: str) -> FakeGuild:
    return world.discord.add_guild("Hillside Traders", channels=channels)


# -- the join note --------------------------------------------------------------------------------------
async def test_join_posts_one_setup_note_in_the_system_channel(world: World) -> None:
    guild = new_guild(world, "rules", "welcome", "chat")
    guild.system_channel = "welcome"
    calls = await world.discord.invite_bot(guild)
    (post,) = posts(calls)
    assert post.path == f"/channels/{guild.channel('welcome')}/messages"
    assert post.json["content"] == onboarding.SETUP_NOTE
    assert post.json["allowed_mentions"] == {"parse": []}
    for step in ("1. ", "2. ", "3. ", "/config set referrals_channel", "/profile set", "/need ask", "/help"):
        assert step in post.json["content"]
    assert len(post.json["content"]) <= 2000


async def test_without_a_system_channel_the_first_channel_the_bot_can_write_in(world: World) -> None:
    guild = new_guild(world, "voice-lobby", "announcements", "general", "chat")
    guild.voice_channels.add("voice-lobby")
    guild.overwrite("announcements", deny=SEND_MESSAGES)  # members (and the bot) read only
    calls = await world.discord.invite_bot(guild)
    (post,) = posts(calls)
    assert post.path == f"/channels/{guild.channel('general')}/messages"


async def test_a_system_channel_the_bot_cannot_write_in_is_skipped(world: World) -> None:
    guild = new_guild(world, "welcome", "staff", "chat")
    guild.system_channel = "welcome"
    guild.overwrite("welcome", deny=SEND_MESSAGES, role_id=guild.bot_role_id)
    guild.overwrite("staff", deny=VIEW_CHANNEL)  # private to staff roles
    (post,) = posts(await world.discord.invite_bot(guild))
    assert post.path == f"/channels/{guild.channel('chat')}/messages"


async def test_a_channel_the_bot_role_is_allowed_into_counts(world: World) -> None:
    guild = new_guild(world, "lobby", "bots")
    guild.everyone_permissions = MEMBER_PERMISSIONS & ~SEND_MESSAGES
    guild.bot_permissions = VIEW_CHANNEL  # invited without Send Messages
    guild.overwrite("bots", allow=SEND_MESSAGES, role_id=guild.bot_role_id)
    (post,) = posts(await world.discord.invite_bot(guild))
    assert post.path == f"/channels/{guild.channel('bots')}/messages"


async def test_nowhere_to_write_means_no_note_and_no_error(world: World) -> None:
    guild = new_guild(world, "lobby", "chat")
    guild.everyone_permissions = MEMBER_PERMISSIONS & ~SEND_MESSAGES
    guild.bot_permissions = VIEW_CHANNEL
    calls = await world.discord.invite_bot(guild)
    assert posts(calls) == []
    assert world.bot.get_guild(guild.id) is not None  # the join itself went through


async def test_guilds_present_at_startup_or_after_a_restart_get_no_note(world: World) -> None:
    await world.restart()  # GUILD_CREATE with unavailable=false: the guild becomes available, no join
    assert posts(world.discord.calls) == []
    assert world.bot.get_guild(world.guild.id) is not None


# -- /config check ------------------------------------------------------------------------------------
async def test_check_with_nothing_configured_says_what_to_do(world: World) -> None:
    r = await world.discord.slash("config check", world.mod)
    assert r.ephemeral and "No channels are set yet" in r.text()


async def test_check_reports_a_missing_permission_in_plain_words_with_the_fix(world: World) -> None:
    guild = world.guild
    referrals, shoutouts = guild.channel("referrals"), guild.channel("shoutouts")
    await world.discord.slash(
        "config set", world.mod, referrals_channel=referrals, shoutouts_channel=shoutouts
    )
    guild.overwrite("referrals", deny=EMBED_LINKS | CREATE_PUBLIC_THREADS, role_id=guild.bot_role_id)
    await world.discord.update_channel(guild, "referrals")  # a moderator changed it after setup
    before = world.db.round_trips
    r = await world.discord.slash("config check", world.mod)
    assert world.db.round_trips - before == 1
    assert r.ephemeral and r.allowed_mentions == {"parse": []}
    text = r.text()
    assert text.startswith("BuddyBot permission check\nSome things need fixing:")
    assert (
        f"❌ <#{referrals}> (referrals channel): I need **Embed Links** to show requests, agreements and "
        "settings as cards; **Create Public Threads** to open a thread under each request." in text
    )
    assert f"Open <#{referrals}> → Edit Channel → Permissions" in text
    assert "allow **Embed Links** and **Create Public Threads**" in text
    assert f"✅ <#{shoutouts}> (shoutouts channel): everything I need." in text


async def test_check_all_good_and_a_deleted_channel(world: World) -> None:
    await world.discord.slash("config set", world.mod, referrals_channel=world.guild.channel("referrals"))
    r = await world.discord.slash("config check", world.mod)
    assert "All set" in r.text()
    with world.connect() as conn:
        conn.execute(
            "UPDATE guild_config SET shoutouts_channel_id = 4242 WHERE guild_id = ?", (world.guild.id,)
        )
    r = await world.discord.slash("config check", world.mod)
    assert "❌ The shoutouts channel (<#4242>) is gone or hidden from me." in r.text()


async def test_check_is_for_moderators_only(world: World) -> None:
    r = await world.discord.slash("config check", world.alice)
    assert r.ephemeral and "Only moderators" in r.content


# -- /config set refuses a channel the bot can't post in ------------------------------------------------
async def test_set_refuses_a_channel_without_send_messages_and_changes_nothing(world: World) -> None:
    guild = world.guild
    guild.overwrite("shoutouts", deny=SEND_MESSAGES, role_id=guild.bot_role_id)
    await world.discord.update_channel(guild, "shoutouts")
    r = await world.discord.slash(
        "config set",
        world.mod,
        referrals_channel=guild.channel("referrals"),
        shoutouts_channel=guild.channel("shoutouts"),
        max_pings=3,
    )
    assert r.ephemeral
    assert r.content.startswith(
        f"I can't post in <#{guild.channel('shoutouts')}>, so I didn't make it the shoutouts channel: "
        "I'm missing **Send Messages** there."
    )
    assert r.content.endswith("Nothing was changed.")
    with world.connect() as conn:
        assert conn.execute("SELECT COUNT(*) FROM guild_config").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM mod_audit").fetchone()[0] == 0


async def test_set_names_every_missing_posting_permission(world: World) -> None:
    guild = world.guild
    guild.overwrite("referrals", deny=VIEW_CHANNEL)
    await world.discord.update_channel(guild, "referrals")
    r = await world.discord.slash("config set", world.mod, referrals_channel=guild.channel("referrals"))
    assert "I'm missing **View Channel**" in r.content


# -- /config reset -----------------------------------------------------------------------------------
async def test_reset_puts_one_setting_back_and_is_audited(world: World) -> None:
    referrals = world.guild.channel("referrals")
    await world.discord.slash("config set", world.mod, referrals_channel=referrals, max_pings=3)
    r = await world.discord.slash("config reset", world.mod, setting="max_pings")
    assert r.ephemeral and r.content == "Reset max pings to its default."
    r = await world.discord.slash("config reset", world.mod, setting="referrals_channel_id")
    assert r.content == "Reset referrals channel to its default."
    with world.connect() as conn:
        row = conn.execute(
            "SELECT referrals_channel_id, max_pings FROM guild_config WHERE guild_id = ?", (world.guild.id,)
        ).fetchone()
        assert row == (None, 5)
        audits = conn.execute("SELECT action, reason FROM mod_audit ORDER BY id").fetchall()
    assert audits[-2:] == [("config_reset", "max_pings"), ("config_reset", "referrals_channel_id")]


async def test_reset_is_for_moderators_only(world: World) -> None:
    await world.discord.slash("config set", world.mod, max_pings=3)
    r = await world.discord.slash("config reset", world.alice, setting="max_pings")
    assert "Only moderators" in r.content
    with world.connect() as conn:
        assert conn.execute("SELECT max_pings FROM guild_config").fetchone() == (3,)
