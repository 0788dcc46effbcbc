"""/shoutout through discord.py's real parser: where it lands, who it pings, and its limits."""

from __future__ import annotations

import pytest

from tests.conftest import World


def rows(world: World, sql: str, *params: object) -> list[tuple]:
    with world.connect() as conn:
        return conn.execute(sql, params).fetchall()


def shoutout_count(world: World) -> int:
    return rows(world, "SELECT count(*) FROM shoutouts")[0][0]


def only_user(user_id: int) -> dict:
    return {"parse": [], "users": [user_id]}


async def test_shoutout_posts_in_the_shoutouts_channel_and_pings_only_that_member(world: World) -> None:
    await world.discord.slash("config set", world.mod, shoutouts_channel=world.guild.channel("shoutouts"))
    before = world.db.round_trips
    r = await world.discord.slash(
        "shoutout",
        world.alice,
        member=world.bob,
        message="Bob fixed my **website** in a day! Thanks @bob and everyone",
    )
    assert world.db.round_trips - before == 2
    (post,) = r.posts
    assert post.path == f"/channels/{world.guild.channel('shoutouts')}/messages"
    assert post.json["allowed_mentions"] == only_user(world.bob.id)
    assert f"<@{world.bob.id}>" in post.json["content"]
    embed = post.json["embeds"][0]
    assert embed["description"] == "Bob fixed my \\*\\*website\\*\\* in a day! Thanks @bob and everyone"
    assert embed["fields"] == [{"name": "From", "value": f"<@{world.alice.id}>", "inline": True}]
    # The caller is told privately after the post (two round trips) and nobody else is pinged by that.
    assert r.response["type"] == 4 and r.ephemeral and r.allowed_mentions == {"parse": []}
    assert r.round_trips == 2 and "is up" in r.content
    message_id = int(post.response["id"])
    assert rows(
        world, "SELECT guild_id, giver_id, receiver_id, message, day, channel_id, message_id FROM shoutouts"
    ) == [
        (
            world.guild.id,
            world.alice.id,
            world.bob.id,
            "Bob fixed my **website** in a day! Thanks @bob and everyone",
            "2026-11-25",
            world.guild.channel("shoutouts"),
            message_id,
        )
    ]


async def test_without_a_shoutouts_channel_it_posts_where_the_command_was_used(world: World) -> None:
    r = await world.discord.slash(
        "shoutout",
        world.alice,
        member=world.bob,
        message="Great work",
        channel=world.guild.channel("referrals"),
    )
    (post,) = r.posts
    assert post.path == f"/channels/{world.guild.channel('referrals')}/messages"


@pytest.mark.parametrize(
    ("message", "fragment"),
    [
        ("thanks @everyone", "mentions"),
        ("thanks @here", "mentions"),
        ("ask <@&123456789012345678>", "mentions"),
        ("and <@123456789012345678> too", "mentions"),
        ("and <@!123456789012345678> too", "mentions"),
        ("see <#123456789012345678>", "mentions"),
        ("   ", "fill in message"),
        ("bad\x07bell", "control characters"),
        ("x" * 501, "at most 500"),
    ],
)
async def test_mentions_and_bad_text_are_refused_and_nothing_is_posted(
    world: World, message, fragment
) -> None:
    r = await world.discord.slash("shoutout", world.alice, member=world.bob, message=message)
    assert r.ephemeral and fragment in r.content, r.content
    assert r.allowed_mentions == {"parse": []}
    assert r.posts == []
    assert shoutout_count(world) == 0


async def test_no_shoutouts_to_yourself_or_to_bots(world: World) -> None:
    helper = world.discord.add_user("helperbot", world.guild, bot=True)
    me = await world.discord.slash("shoutout", world.alice, member=world.alice, message="I am great")
    bot = await world.discord.slash("shoutout", world.alice, member=helper, message="Good bot")
    assert me.ephemeral and "someone else" in me.content
    assert bot.ephemeral and "not bots" in bot.content
    assert me.posts == [] and bot.posts == []
    assert shoutout_count(world) == 0


async def test_one_shoutout_per_member_per_day_in_the_guild_time_zone(world: World) -> None:
    # 10:00 UTC on 25 Nov is 23:00 in Auckland (UTC+13): two hours later it is 26 Nov there, not in London.
    await world.discord.slash("config set", world.mod, timezone="Pacific/Auckland")
    first = await world.discord.slash("shoutout", world.alice, member=world.bob, message="Thanks!")
    assert len(first.posts) == 1
    again = await world.discord.slash("shoutout", world.alice, member=world.bob, message="Thanks again!")
    assert again.ephemeral and "already gave" in again.content and again.posts == []
    other = await world.discord.slash("shoutout", world.alice, member=world.carol, message="You too!")
    by_someone_else = await world.discord.slash("shoutout", world.carol, member=world.bob, message="Agreed!")
    assert len(other.posts) == 1 and len(by_someone_else.posts) == 1
    world.clock.advance(hours=2)
    next_day = await world.discord.slash("shoutout", world.alice, member=world.bob, message="Still grateful")
    assert len(next_day.posts) == 1
    assert rows(
        world,
        "SELECT day FROM shoutouts WHERE giver_id = ? AND receiver_id = ? ORDER BY id",
        world.alice.id,
        world.bob.id,
    ) == [("2026-11-25",), ("2026-11-26",)]


async def test_the_day_follows_the_guild_time_zone_not_utc(world: World) -> None:
    await world.discord.slash("shoutout", world.alice, member=world.bob, message="Thanks!")
    world.clock.advance(hours=2)  # still 25 Nov in London
    again = await world.discord.slash("shoutout", world.alice, member=world.bob, message="Thanks again!")
    assert "already gave" in again.content
    assert shoutout_count(world) == 1


async def test_a_failed_post_is_forgotten_so_the_giver_can_retry(world: World) -> None:
    await world.discord.slash("config set", world.mod, shoutouts_channel=world.guild.channel("shoutouts"))
    world.discord.fail("POST", "/messages", 403)
    r = await world.discord.slash("shoutout", world.alice, member=world.bob, message="Thanks!")
    assert r.ephemeral and "couldn't post" in r.content
    assert shoutout_count(world) == 0
    retry = await world.discord.slash("shoutout", world.alice, member=world.bob, message="Thanks!")
    assert len(retry.posts) == 1 and shoutout_count(world) == 1


async def test_profile_view_counts_shoutouts_received(world: World) -> None:
    await world.discord.slash("profile set", world.bob, business="Bob Cuts")
    await world.discord.slash("shoutout", world.alice, member=world.bob, message="Thanks!")
    await world.discord.slash("shoutout", world.carol, member=world.bob, message="Brilliant")
    await world.discord.slash("shoutout", world.bob, member=world.carol, message="Back at you")
    card = await world.discord.slash("profile view", world.alice, member=world.bob)
    assert "Shoutouts: 2" in card.text()


async def test_shoutouts_stay_in_their_guild(world: World) -> None:
    other = world.discord.add_guild("Other Town")
    world.discord.join(world.alice, other)
    world.discord.join(world.bob, other)
    await world.discord.slash("profile set", world.bob, business="Bob Cuts")
    await world.discord.slash(
        "shoutout",
        world.alice,
        member=world.bob,
        message="Thanks!",
        guild=other,
        channel=other.channel("general"),
    )
    card = await world.discord.slash("profile view", world.alice, member=world.bob)
    assert "Shoutouts: 0" in card.text()


async def test_if_the_acknowledgement_fails_nothing_is_kept_or_posted(world: World) -> None:
    world.discord.fail("POST", "/callback", 403)  # 5xx would be retried with backoff: slow, same path
    r = await world.discord.slash("shoutout", world.alice, member=world.bob, message="Thanks!")
    assert r.posts == []
    assert shoutout_count(world) == 0
