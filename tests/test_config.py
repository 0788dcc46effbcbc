"""/config show and /config set: moderators only (checked on the server too), validated, audited."""

from __future__ import annotations

import pytest

from tests.conftest import World


def rows(world: World, sql: str, *params: object) -> list[tuple]:
    with world.connect() as conn:
        return conn.execute(sql, params).fetchall()


def config_rows(world: World) -> list[tuple]:
    return rows(
        world,
        "SELECT guild_id, referrals_channel_id, shoutouts_channel_id, moderator_role_id, max_pings,"
        " daily_need_limit, timezone FROM guild_config",
    )


async def test_commands_are_registered_for_manage_server_only_in_guilds(world: World) -> None:
    synced = {c["name"]: c for c in world.discord.synced_commands["global"]}
    for name in ("config", "mod", "stats"):
        assert str(synced[name]["default_member_permissions"]) == str(1 << 5), name
        assert synced[name]["contexts"] == [0], name


async def test_show_gives_the_defaults_privately(world: World) -> None:
    before = world.db.round_trips
    r = await world.discord.slash("config show", world.mod)
    assert world.db.round_trips - before == 1
    assert r.ephemeral and r.allowed_mentions == {"parse": []}
    text = r.text()
    assert "Max pings per need: 5" in text and "Daily need limit: 10" in text
    assert "Time zone: Europe/London" in text and "Manage Server permission only" in text


async def test_set_saves_validated_settings_and_logs_the_change(world: World) -> None:
    referrals = world.guild.channel("referrals")
    shouts = world.guild.channel("shoutouts")
    role = world.guild.roles["moderator"]
    before = world.db.round_trips
    r = await world.discord.slash(
        "config set",
        world.mod,
        referrals_channel=referrals,
        shoutouts_channel=shouts,
        moderator_role=role,
        max_pings=3,
        daily_need_limit=4,
        timezone=" America/New_York ",
    )
    assert world.db.round_trips - before == 1
    assert r.ephemeral and r.content == "Settings saved."
    assert f"<#{referrals}>" in r.text() and f"<@&{role}>" in r.text()
    assert config_rows(world) == [(world.guild.id, referrals, shouts, role, 3, 4, "America/New_York")]
    ((actor, action, target_type, reason),) = rows(
        world, "SELECT actor_id, action, target_type, reason FROM mod_audit"
    )
    assert (actor, action, target_type) == (world.mod.id, "config_set", "config")
    assert "max_pings=3" in reason and "timezone=America/New_York" in reason
    # Omitted options keep their values.
    await world.discord.slash("config set", world.mod, max_pings=7)
    assert config_rows(world) == [(world.guild.id, referrals, shouts, role, 7, 4, "America/New_York")]


@pytest.mark.parametrize("command", ["config show", "config set"])
async def test_non_moderators_are_refused_on_the_server_even_if_the_client_sends_it(
    world: World, command
) -> None:
    # Discord would hide the command from alice (default_member_permissions); a forged or stale client
    # can still send it, so the bot must refuse on its own.
    options = {"max_pings": 1} if command == "config set" else {}
    before = world.db.round_trips
    r = await world.discord.slash(command, world.alice, **options)
    assert world.db.round_trips - before == 1
    assert r.ephemeral and "Only moderators" in r.content
    assert config_rows(world) == [] and rows(world, "SELECT count(*) FROM mod_audit") == [(0,)]


async def test_the_configured_moderator_role_counts_as_moderator(world: World) -> None:
    role = world.guild.roles["moderator"]
    dan = world.discord.add_user("dan", world.guild, roles=["moderator"])
    refused = await world.discord.slash("config show", dan)
    assert "Only moderators" in refused.content
    await world.discord.slash("config set", world.mod, moderator_role=role)
    allowed = await world.discord.slash("config set", dan, max_pings=2)
    assert allowed.content == "Settings saved."
    assert rows(world, "SELECT max_pings FROM guild_config") == [(2,)]


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"max_pings": 0}, "between 1 and 10"),
        ({"max_pings": 11}, "between 1 and 10"),
        ({"max_pings": -3}, "between 1 and 10"),
        ({"daily_need_limit": 0}, "between 1 and 1000"),
        ({"daily_need_limit": 1001}, "between 1 and 1000"),
        ({"timezone": "Mars/Olympus_Mons"}, "not a time zone"),
        ({"timezone": "../../etc/passwd"}, "not a time zone"),
        ({"timezone": "EST5EDT,M3.2.0,M11.1.0"}, "not a time zone"),
        ({"timezone": "x" * 200}, "not a time zone"),
        ({"max_pings": 3, "timezone": "Nowhere/Land"}, "not a time zone"),
        ({}, "Tell me what to change"),
        ({"currency": "£££"}, "three-letter ISO code"),
        ({"currency": "G8P"}, "three-letter ISO code"),
        ({"locale": "en-XX"}, "Discord's locale codes"),
        ({"pitch_window_minutes": 241}, "between 0 and 240"),
        ({"pitch_window_minutes": -1}, "between 0 and 240"),
        ({"nudge_after_hours": 0}, "between 1 and 336"),
        ({"labour_hours_per_week": 169}, "between 1 and 168"),
        ({"pledge_cap_percent": 0}, "between 1 and 100"),
    ],
)
async def test_bad_values_are_refused_and_nothing_is_saved(world: World, options, fragment) -> None:
    # The client enforces 1-10 and lengths, but a forged interaction can send anything.
    r = await world.discord.slash("config set", world.mod, **options)
    assert r.ephemeral and fragment in r.content, r.content
    assert r.allowed_mentions == {"parse": []}
    assert config_rows(world) == [] and rows(world, "SELECT count(*) FROM mod_audit") == [(0,)]


async def test_lifecycle_sharing_and_group_buy_settings_are_saved_normalised(world: World) -> None:
    sharing, mods = world.guild.channel("general"), world.guild.channel("shoutouts")
    r = await world.discord.slash(
        "config set",
        world.mod,
        currency="eur",
        locale="EN-us",
        pitch_window_minutes=0,
        nudge_after_hours=48,
        sharing_channel=sharing,
        mod_channel=mods,
        labour_hours_per_week=10,
        groupbuy_channel=sharing,
        pledge_cap_percent=25,
    )
    assert r.content == "Settings saved."
    assert (
        "Currency: EUR" in r.text()
        and "Date locale: en-US" in r.text()
        and "First-answer window: 0 min" in r.text()
    )
    assert rows(
        world,
        "SELECT currency, locale, pitch_window_minutes, nudge_after_hours, sharing_channel_id, mod_channel_id,"
        " labour_hours_per_week, groupbuy_channel_id, pledge_cap_percent FROM guild_config",
    ) == [("EUR", "en-US", 0, 48, sharing, mods, 10, sharing, 25)]


async def test_everyone_cannot_become_the_moderator_role(world: World) -> None:
    r = await world.discord.slash("config set", world.mod, moderator_role=world.guild.id)  # @everyone's id
    assert r.ephemeral and "@everyone can't be the moderator role" in r.content
    assert r.allowed_mentions == {"parse": []}
    assert config_rows(world) == []
    alice = await world.discord.slash("config show", world.alice)
    assert "Only moderators" in alice.content


async def test_refused_time_zone_text_cannot_ping(world: World) -> None:
    r = await world.discord.slash("config set", world.mod, timezone="@everyone")
    assert "not a time zone" in r.content and r.allowed_mentions == {"parse": []}


async def test_settings_are_per_guild(world: World) -> None:
    other = world.discord.add_guild("Other Town")
    world.discord.join(world.mod, other, moderator=True)
    await world.discord.slash("config set", world.mod, max_pings=2)
    shown = await world.discord.slash("config show", world.mod, guild=other, channel=other.channel("general"))
    assert "Max pings per need: 5" in shown.text()


async def test_config_in_a_dm_is_refused(world: World) -> None:
    r = await world.discord.slash("config show", world.mod, dm=True)
    assert r.ephemeral and "inside the community server" in r.content
