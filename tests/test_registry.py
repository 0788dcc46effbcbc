"""The skills registry through discord.py's real parser: /profile, /offer, /find, /available, /busy."""

from __future__ import annotations

import pytest

from tests.conftest import World


def rows(world: World, sql: str, *params: object) -> list[tuple]:
    with world.connect() as conn:
        return conn.execute(sql, params).fetchall()


def assert_private_and_silent(result) -> None:
    assert result.ephemeral, result.response
    assert result.allowed_mentions == {"parse": []}


async def test_profile_set_creates_profile_in_one_round_trip(world: World) -> None:
    before = world.db.round_trips
    r = await world.discord.slash(
        "profile set",
        world.alice,
        business="Alice's Books",
        area="Riverside",
        website="https://alicebooks.example",
        about="Bookkeeping for makers",
    )
    assert world.db.round_trips - before == 1
    assert_private_and_silent(r)
    assert "Alice's Books" in r.content or "Alice\\'s Books" in r.content
    assert rows(
        world, "SELECT business, area, website, about, pings FROM members WHERE user_id = ?", world.alice.id
    ) == [("Alice's Books", "Riverside", "https://alicebooks.example", "Bookkeeping for makers", 1)]


async def test_profile_update_keeps_omitted_fields_and_dash_clears(world: World) -> None:
    await world.discord.slash(
        "profile set", world.alice, business="Alice's Books", area="Riverside", about="Hi"
    )
    await world.discord.slash("profile set", world.alice, business="Alice & Co", area="-", pings=False)
    assert rows(
        world, "SELECT business, area, about, pings FROM members WHERE user_id = ?", world.alice.id
    ) == [("Alice & Co", None, "Hi", 0)]


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"business": "   "}, "fill in business"),
        ({"business": "x" * 500}, "at most 80"),
        ({"business": "@everyone come here"}, "mentions"),
        ({"business": "Shop", "area": "<@&123456789012345678>"}, "mentions"),
        ({"business": "Shop", "about": "ask <@123456789012345678>"}, "mentions"),
        ({"business": "Shop\x00Evil"}, "control characters"),
        ({"business": "Shop\u0007"}, "control characters"),
        ({"business": "Shop", "website": "javascript:alert(1)"}, "https://"),
        ({"business": "Shop", "about": "a" * 501}, "at most 500"),
    ],
)
async def test_profile_set_bad_input_is_refused_and_nothing_stored(world: World, options, fragment) -> None:
    r = await world.discord.slash("profile set", world.alice, **options)
    assert_private_and_silent(r)
    assert fragment in r.content
    assert rows(world, "SELECT count(*) FROM members") == [(0,)]


async def test_profile_view_shows_the_card(world: World) -> None:
    await world.discord.slash("profile set", world.bob, business="Bob Cuts", area="Old Town")
    await world.discord.slash("offer add", world.bob, skill="Hairdresser")
    await world.discord.slash("available", world.bob, when="next week", slots=2)
    r = await world.discord.slash("profile view", world.alice, member=world.bob)
    assert_private_and_silent(r)
    card = r.text()
    assert "Bob Cuts" in card and "Old Town" in card and "hairdressing" in card
    assert "Mon 30 Nov – Sun 6 Dec (2 slots)" in card
    assert "Shoutouts: 0" in card and "Jobs completed: 0" in card


async def test_profile_view_without_profile_explains_how(world: World) -> None:
    r = await world.discord.slash("profile view", world.carol)
    assert_private_and_silent(r)
    assert "/profile set" in r.content


async def test_offer_add_resolves_aliases_and_counts(world: World) -> None:
    r = await world.discord.slash("offer add", world.alice, skill="  Web   DEV ", details="Django and htmx")
    assert_private_and_silent(r)
    assert "web development" in r.content and "1 of at most 15" in r.content
    assert rows(world, "SELECT skill, details FROM offers WHERE user_id = ?", world.alice.id) == [
        ("web development", "Django and htmx")
    ]
    again = await world.discord.slash("offer add", world.alice, skill="web development")
    assert again.content.startswith("Updated")
    assert rows(world, "SELECT count(*), max(details) FROM offers") == [(1, "Django and htmx")]


async def test_offer_add_refuses_the_sixteenth_skill(world: World) -> None:
    for i in range(15):
        r = await world.discord.slash("offer add", world.alice, skill=f"skill {i}")
        assert r.content.startswith("Added"), r.content
    r = await world.discord.slash("offer add", world.alice, skill="one too many")
    assert_private_and_silent(r)
    assert "15 skills" in r.content
    assert rows(world, "SELECT count(*) FROM offers WHERE user_id = ?", world.alice.id) == [(15,)]


@pytest.mark.parametrize(
    ("skill", "details", "fragment"),
    [
        ("   ", None, "name a skill"),
        ("x" * 61, None, "at most 60"),
        ("<@&1234>", None, "letters, numbers"),
        ("@everyone", None, "letters, numbers"),
        ("bookkeeping", "ping @here now", "mentions"),
        ("bookkeeping", "d" * 500, "at most 200"),
    ],
)
async def test_offer_add_bad_input(world: World, skill, details, fragment) -> None:
    r = await world.discord.slash("offer add", world.alice, skill=skill, details=details)
    assert_private_and_silent(r)
    assert fragment in r.content
    assert rows(world, "SELECT count(*) FROM offers") == [(0,)]


async def test_offer_remove_and_list(world: World) -> None:
    await world.discord.slash("profile set", world.alice, business="Alice's Books")
    await world.discord.slash("offer add", world.alice, skill="bookkeeping")
    await world.discord.slash("offer add", world.alice, skill="payroll", details="up to 10 staff")
    listing = await world.discord.slash("offer list", world.bob, member=world.alice)
    assert "**bookkeeping**" in listing.content and "payroll** — up to 10 staff" in listing.content
    removed = await world.discord.slash("offer remove", world.alice, skill="Bookkeeper")
    assert "Removed **bookkeeping**" in removed.content
    missing = await world.discord.slash("offer remove", world.alice, skill="plumbing")
    assert_private_and_silent(missing)
    assert "don't offer" in missing.content
    assert rows(world, "SELECT skill FROM offers") == [("payroll",)]


async def test_skill_autocomplete_prefix_first_then_fuzzy(world: World) -> None:
    choices = await world.discord.autocomplete("offer add", world.alice, "skill", skill="pho")
    names = [c["name"] for c in choices]
    assert names[0] == "photography"
    fuzzy = [
        c["name"] for c in await world.discord.autocomplete("find", world.alice, "skill", skill="bokkeeping")
    ]
    assert "bookkeeping" in fuzzy
    everything = await world.discord.autocomplete("offer add", world.alice, "skill", skill="")
    assert 0 < len(everything) <= 25
    inner = [
        c["name"] for c in await world.discord.autocomplete("find", world.alice, "skill", skill="design")
    ]
    assert inner[:4] == ["graphic design", "interior design", "logo design", "web design"]


async def test_remove_autocomplete_offers_only_my_skills(world: World) -> None:
    await world.discord.slash("offer add", world.alice, skill="bookkeeping")
    await world.discord.slash("offer add", world.bob, skill="baking")
    mine = [
        c["value"] for c in await world.discord.autocomplete("offer remove", world.alice, "skill", skill="b")
    ]
    assert mine == ["bookkeeping"]


async def test_guild_skills_join_the_autocomplete(world: World) -> None:
    await world.discord.slash("offer add", world.alice, skill="sourdough classes")
    names = [c["name"] for c in await world.discord.autocomplete("find", world.bob, "skill", skill="sour")]
    assert names == ["sourdough classes"]


async def test_find_lists_available_first_and_skips_hidden(world: World) -> None:
    dan = world.discord.add_user("dan", world.guild)
    for user, name in (
        (world.alice, "Zed Design"),
        (world.bob, "Abc Design"),
        (world.carol, "Carol Creative"),
        (dan, "Dan"),
    ):
        await world.discord.slash("profile set", user, business=name)
        await world.discord.slash("offer add", user, skill="graphic design")
    await world.discord.slash("available", world.alice, when="this week")
    await world.discord.slash("busy", world.carol, until="friday")
    with world.connect() as conn:
        conn.execute("UPDATE members SET hidden = 1 WHERE user_id = ?", (dan.id,))
    r = await world.discord.slash("find", world.bob, skill="graphics")
    assert_private_and_silent(r)
    lines = r.embeds[0]["description"].splitlines()
    assert [line.split("**")[1] for line in lines] == ["Zed Design", "Abc Design", "Carol Creative"]
    assert "✅ available" in lines[0] and "busy until Fri 27 Nov" in lines[2]
    assert "Dan" not in r.text()


async def test_find_nobody_suggests_need(world: World) -> None:
    r = await world.discord.slash("find", world.alice, skill="plumbing")
    assert "Nobody offers **plumbing**" in r.content


@pytest.mark.parametrize(
    ("when", "window"),
    [
        ("tomorrow", ("2026-11-26", "2026-11-26")),
        ("1-5 dec", ("2026-12-01", "2026-12-05")),
        ("mon-fri", ("2026-11-25", "2026-11-27")),
    ],
)
async def test_available_stores_the_window(world: World, when, window) -> None:
    r = await world.discord.slash("available", world.alice, when=when, slots=3)
    assert_private_and_silent(r)
    assert rows(world, "SELECT start_date, end_date, slots FROM availability") == [(*window, 3)]


@pytest.mark.parametrize(
    "when", ["someday soon", "2026-01-01", "5 dec to 1 dec", "2026-12-01 to 2027-06-01", "@everyone"]
)
async def test_available_bad_dates_are_refused(world: World, when) -> None:
    r = await world.discord.slash("available", world.alice, when=when)
    assert_private_and_silent(r)
    assert "@everyone" not in r.content
    assert rows(world, "SELECT count(*) FROM availability") == [(0,)]
    assert rows(world, "SELECT count(*) FROM members") == [(0,)]


async def test_busy_and_available_replace_each_other(world: World) -> None:
    await world.discord.slash("available", world.alice, when="this week")
    r = await world.discord.slash("busy", world.alice, until="friday")
    assert "until Fri 27 Nov" in r.content
    assert rows(world, "SELECT busy_until FROM members") == [("2026-11-27",)]
    assert rows(world, "SELECT start_date, end_date FROM availability") == [("2026-11-28", "2026-11-29")]
    await world.discord.slash("available", world.alice, when="thursday")
    assert rows(world, "SELECT busy_until FROM members") == [(None,)]


async def test_busy_in_the_past_is_refused(world: World) -> None:
    r = await world.discord.slash("busy", world.alice, until="2026-11-01")
    assert_private_and_silent(r)
    assert rows(world, "SELECT count(*) FROM members") == [(0,)]


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("profile set", {"business": "Shop"}),
        ("profile view", {}),
        ("offer add", {"skill": "baking"}),
        ("offer remove", {"skill": "baking"}),
        ("offer list", {}),
        ("find", {"skill": "baking"}),
        ("available", {"when": "today"}),
        ("busy", {"until": "friday"}),
    ],
)
async def test_every_registry_command_uses_at_most_one_round_trip(world: World, command, options) -> None:
    before = world.db.round_trips
    r = await world.discord.slash(command, world.alice, **options)
    assert r.response["type"] == 4
    assert world.db.round_trips - before == 1


async def test_registry_survives_a_restart(world: World) -> None:
    await world.discord.slash("profile set", world.alice, business="Alice's Books")
    await world.discord.slash("offer add", world.alice, skill="bookkeeping")
    puts_before = [c for c in world.discord.calls if c.method == "PUT"]
    await world.restart()
    puts_after = [c for c in world.discord.calls if c.method == "PUT"]
    assert len(puts_after) == len(puts_before), "an unchanged command tree must not be synced again"
    r = await world.discord.slash("find", world.bob, skill="books")
    assert "Alice's Books" in r.text() or "Alice\\'s Books" in r.text()


async def test_guild_isolation(world: World, tmp_path) -> None:
    other = world.discord.add_guild("Elsewhere")
    eve = world.discord.add_user("eve", other)
    world.discord.join(world.alice, other)
    await world.discord.slash("profile set", world.alice, business="Alice's Books", guild=world.guild)
    await world.discord.slash("offer add", world.alice, skill="bookkeeping", guild=world.guild)
    r = await world.discord.slash("find", eve, skill="bookkeeping", guild=other)
    assert "Nobody offers" in r.content
    card = await world.discord.slash("profile view", eve, member=world.alice, guild=other)
    assert "no BuddyBot profile" in card.content
    mine = await world.discord.autocomplete("offer remove", world.alice, "skill", guild=other, skill="")
    assert mine == []


async def test_commands_refuse_direct_messages(world: World) -> None:
    r = await world.discord.slash("offer list", world.alice, dm=True)
    assert_private_and_silent(r)
    assert "inside the community server" in r.content
    assert rows(world, "SELECT count(*) FROM members") == [(0,)]
