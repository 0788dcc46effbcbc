"""/need through discord.py's real parser: who is pinged, the buttons and the select, expiry, failures."""

from __future__ import annotations

import copy

import pytest

from buddybot import referrals
from buddybot.bot import APOLOGY
from buddybot.testing.harness import Sent
from tests.conftest import World
from tests.helpers_referrals import (
    CLOSE,
    DECLINE,
    PICK,
    SKILL,
    TAKE,
    ask,
    elsewhere,
    exact_pings,
    members,
    mentioned,
    nothing_stored,
    offerer,
    private,
    rows,
    said,
    snapshot,
)

pytestmark = pytest.mark.usefixtures("no_first_answer_window")  # the window: test_lifecycle.py


# -- declining ----------------------------------------------------------------------------------------------------
async def test_decline_pings_the_next_candidate_only(world: World) -> None:
    crew = members(world, 3)
    for i, user in enumerate(crew):
        await offerer(world, user, f"Books {i}")
    await world.discord.slash("config set", world.mod, max_pings=1)
    r, post = await ask(world)
    assert mentioned(next(c for c in r.posts if c.json.get("embeds"))) == [crew[0].id]

    before = world.db.round_trips
    declined = await world.discord.click(post, DECLINE, crew[0])
    assert world.db.round_trips - before == 1
    assert private(declined) and "next member" in said(declined)
    (ping,) = declined.posts
    exact_pings(ping.json, crew[1].id)
    assert ping.path == f"/channels/{post.id}/messages"  # in the request's thread
    assert rows(world, "SELECT user_id, declined_at IS NOT NULL FROM need_pings ORDER BY rank") == [
        (crew[0].id, 1),
        (crew[1].id, 0),
    ]

    again = await world.discord.click(post, DECLINE, crew[0])
    assert private(again) and "already passed" in said(again) and again.posts == []
    stranger = await world.discord.click(post, DECLINE, world.bob)
    assert private(stranger) and "Only members pinged" in said(stranger) and stranger.posts == []

    await world.discord.click(post, DECLINE, crew[1])
    last = await world.discord.click(post, DECLINE, crew[2])
    assert last.posts == [] and "next member" not in said(last)  # nobody left to ask
    assert rows(world, "SELECT count(*) FROM need_pings") == [(3,)]


async def test_declining_after_volunteering_withdraws(world: World) -> None:
    await offerer(world, world.bob, "Bob Books")
    _, post = await ask(world)
    await world.discord.click(post, TAKE, world.bob)
    assert PICK in post.labels()
    await world.discord.click(post, DECLINE, world.bob)
    assert rows(world, "SELECT count(*) FROM need_volunteers") == [(0,)]
    assert PICK not in post.labels()


# -- closing ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["requester", "moderator"])
async def test_close_by_requester_or_moderator(world: World, who: str) -> None:
    _, post = await ask(world)
    user = world.alice if who == "requester" else world.mod
    before = world.db.round_trips
    r = await world.discord.click(post, CLOSE, user)
    assert world.db.round_trips - before == 1
    assert private(r) and "Closed" in said(r)
    assert rows(world, "SELECT state, ended_by FROM needs") == [("closed", user.id)]
    assert (
        post.components == []
        and ("the member who asked" if who == "requester" else "a moderator") in post.text()
    )


async def test_close_by_another_member_is_refused(world: World) -> None:
    _, post = await ask(world)
    r = await world.discord.click(post, CLOSE, world.bob)
    assert private(r) and "Only the member who asked, or a moderator" in said(r)
    assert rows(world, "SELECT state FROM needs") == [("open",)]
    assert post.labels() == [TAKE, DECLINE, CLOSE]


async def test_moderator_role_counts_as_moderator(world: World) -> None:
    helper = world.discord.add_user("helper", world.guild, roles=["moderator"])
    await world.discord.slash("config set", world.mod, moderator_role=world.guild.roles["moderator"])
    _, post = await ask(world)
    r = await world.discord.click(post, CLOSE, helper)
    assert "Closed" in said(r)


async def test_need_list_and_close_command(world: World) -> None:
    empty = await world.discord.slash("need list", world.alice)
    assert private(empty) and "no open requests" in said(empty)
    _, first = await ask(world)
    _, second = await ask(world, skill="payroll")
    await world.discord.click(first, TAKE, world.bob)
    listing = await world.discord.slash("need list", world.alice)
    assert private(listing)
    (first_id,), (second_id,) = rows(world, "SELECT id FROM needs ORDER BY id")
    assert f"**#{first_id}** bookkeeping" in said(listing) and "1 volunteer ·" in said(listing)
    assert f"**#{second_id}** payroll" in said(listing) and f"/{second.id}" in said(listing)
    choices = await world.discord.autocomplete("need close", world.alice, "need_id", need_id="")
    assert [c["value"] for c in choices] == [first_id, second_id]
    assert await world.discord.autocomplete("need close", world.bob, "need_id", need_id="") == []

    refused = await world.discord.slash("need close", world.bob, need_id=second_id)
    assert private(refused) and "Only the member who asked" in said(refused)
    before = world.db.round_trips
    closed = await world.discord.slash("need close", world.alice, need_id=second_id)
    assert world.db.round_trips - before == 1
    assert private(closed) and f"Closed request #{second_id}" in said(closed)
    assert second.components == [] and "Closed by the member who asked" in second.text()
    again = await world.discord.slash("need close", world.alice, need_id=second_id)
    assert "has been closed" in said(again)
    missing = await world.discord.slash("need close", world.alice, need_id=999)
    assert "no longer exists" in said(missing)


# -- expiry and restarts ---------------------------------------------------------------------------------------------
async def test_unfilled_needs_expire_the_day_after_the_window(world: World) -> None:
    _, post = await ask(world, when="tomorrow")  # Thu 26 Nov
    stale = snapshot(post)
    cog = world.bot.get_cog("Referrals")
    world.clock.advance(days=1)  # Thu 10:00: the window's last day
    assert await cog.expire_due() == []
    world.clock.advance(hours=14)  # Fri 00:00 London
    before = world.db.round_trips
    (expired,) = await cog.expire_due()
    assert world.db.round_trips - before == 1
    assert expired.need.state == "expired"
    assert rows(world, "SELECT state FROM needs") == [("expired",)]
    assert post.components == [] and "Expired unfilled after Thu 26 Nov" in post.text()
    late = await world.discord.press(stale, stale.find_component(TAKE)["custom_id"], world.bob)
    assert private(late) and "expired" in said(late)
    assert await cog.expire_due() == []


async def test_expiry_follows_the_guild_time_zone(world: World) -> None:
    await world.discord.slash("config set", world.mod, timezone="America/Los_Angeles")
    await ask(world, when="today")  # Wed 25 Nov in Los Angeles (02:00 there)
    cog = world.bot.get_cog("Referrals")
    world.clock.advance(hours=21)  # Thu 07:00 UTC = Wed 23:00 in Los Angeles
    assert await cog.expire_due() == []
    world.clock.advance(hours=2)  # Thu 01:00 in Los Angeles
    assert len(await cog.expire_due()) == 1


async def test_buttons_work_after_a_restart(world: World) -> None:
    await offerer(world, world.bob, "Bob Books")
    _, post = await ask(world)
    await world.restart()
    before = world.db.round_trips
    r = await world.discord.click(post, TAKE, world.bob)
    assert world.db.round_trips - before == 1 and "on the list" in said(r)
    picked = await world.discord.select(post, PICK, world.alice, [world.bob.id])
    assert "You picked" in said(picked)
    assert rows(world, "SELECT from_id, to_id FROM referrals") == [(world.alice.id, world.bob.id)]


async def test_expiry_catches_up_on_start(world: World) -> None:
    _, post = await ask(world, when="today")
    world.clock.advance(days=3)
    await world.restart()
    scheduler = world.bot.get_cog("Scheduler")
    assert scheduler.tick.is_running()  # its first run, at start, catches up
    await scheduler.run_due()  # waits for that run to finish
    assert rows(world, "SELECT state FROM needs") == [("expired",)]
    assert "Expired" in post.text() and post.components == []
    assert rows(world, "SELECT state FROM jobs WHERE kind = 'need.expire'") == [("done",)]


# -- when Discord fails --------------------------------------------------------------------------------------------------
async def test_forbidden_post_keeps_nothing_and_says_so(world: World) -> None:
    await offerer(world, world.bob, "Bob Books")
    channel = await elsewhere(world)
    world.discord.fail("POST", f"/channels/{channel}/messages", 403)
    before = world.db.round_trips
    r, post = await ask(world)
    assert post is None and world.db.round_trips - before == 2
    assert private(r) and "isn't allowed to post there" in said(r) and "Nothing was saved" in said(r)
    nothing_stored(world)


async def test_discord_errors_after_retries_keep_nothing(world: World) -> None:
    await offerer(world, world.bob, "Bob Books")
    channel = await elsewhere(world)
    world.discord.fail("POST", f"/channels/{channel}/messages", 500, times=5)
    r, post = await ask(world)  # discord.py's back-off sleeps (25 s) pass in the harness's virtual time
    assert [c.status for c in r.calls if c.path == f"/channels/{channel}/messages"] == [500] * 5
    assert post is None and private(r) and "try `/need ask` again" in said(r)
    nothing_stored(world)


async def test_deleted_referrals_channel_is_explained(world: World) -> None:
    gone = world.guild.channel("referrals")
    await world.discord.slash("config set", world.mod, referrals_channel=gone)
    world.discord.fail("POST", f"/channels/{gone}/messages", 404)
    r, post = await ask(world)
    assert post is None and "couldn't find" in said(r) and "/config set referrals_channel" in said(r)
    nothing_stored(world)


async def test_a_failed_thread_does_not_lose_the_request(world: World) -> None:
    world.discord.fail("POST", "/threads", 403)
    r, post = await ask(world)
    assert post is not None and r.response["type"] == 4 and "Overflow referral" in r.text()
    assert rows(world, "SELECT message_id, thread_id FROM needs") == [(post.id, None)]


async def test_unexpected_errors_in_buttons_reach_the_error_handler(world: World, monkeypatch) -> None:
    _, post = await ask(world)

    async def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(referrals, "volunteer", broken)
    r = await world.discord.click(post, TAKE, world.bob)
    assert private(r) and said(r) == APOLOGY


# -- isolation --------------------------------------------------------------------------------------------------------
async def test_other_guilds_are_never_matched_or_reachable(world: World) -> None:
    other = world.discord.add_guild("Elsewhere")
    eve = world.discord.add_user("eve", other)
    world.discord.join(world.bob, other)
    await offerer(world, eve, "Eve Books", guild=other)
    await offerer(world, world.bob, "Bob Elsewhere", guild=other)  # Bob offers it in the other guild only
    await offerer(world, world.carol, "Carol Books")
    r, post = await ask(world)
    assert mentioned(next(c for c in r.posts if c.json.get("embeds"))) == [world.carol.id]
    need_id = rows(world, "SELECT id FROM needs")[0][0]
    elsewhere = Sent(post.id, other.channel("general"), copy.deepcopy(post.data))  # same buttons, other guild
    forged = await world.discord.press(elsewhere, f"need:{need_id}:close", eve)
    assert private(forged) and "no longer exists" in said(forged)
    closed = await world.discord.slash("need close", eve, need_id=need_id, guild=other)
    assert "no longer exists" in said(closed)
    assert rows(world, "SELECT state FROM needs") == [("open",)]


async def test_a_request_never_posted_is_cleaned_up(world: World) -> None:
    """The process died between storing and posting: the hourly run removes it and gives the counters back."""
    await offerer(world, world.bob, "Bob Books")
    await referrals.open_need(
        world.db, world.guild.id, world.alice.id, skill=SKILL, when="next week", now=world.clock()
    )
    assert rows(world, "SELECT pings_30d FROM offers WHERE user_id = ?", world.bob.id) == [(1,)]
    cog = world.bot.get_cog("Referrals")
    world.clock.advance(minutes=5)
    assert await cog.expire_due() == [] and rows(world, "SELECT count(*) FROM needs") == [(1,)]
    world.clock.advance(minutes=15)
    await cog.expire_due()
    nothing_stored(world)


async def test_the_need_commands_as_discord_sees_them(world: World) -> None:
    (need,) = [c for c in world.discord.synced_commands["global"] if c["name"] == "need"]
    shape = {
        sub["name"]: [(o["name"], o.get("required", False)) for o in sub.get("options", [])]
        for sub in need["options"]
    }
    assert shape == {
        "ask": [("skill", True), ("when", True), ("details", False), ("area", False)],
        "list": [],
        "close": [("need_id", True)],
    }
    assert need.get("contexts") == [0] or need.get("dm_permission") is False


async def test_moving_area_after_saying_available_moves_you_into_the_local_tier(world: World) -> None:
    """members.area -> offers.area_key -> available_offers.area_key (migrations 002 and 005) stay in step."""
    await world.discord.slash("config set", world.mod, max_pings=1)
    for user, area in ((world.bob, "Old Town"), (world.carol, "Elsewhere")):
        await world.discord.slash("profile set", user, business=f"{user.name} & co", area=area)
        await world.discord.slash("offer add", user, skill="bookkeeping")
        await world.discord.slash("available", user, when="this week")
    await world.discord.slash("profile set", world.carol, business="carol & co", area="  riverside ")
    r = await world.discord.slash(
        "need ask", world.alice, skill="bookkeeping", when="this week", area="Riverside"
    )
    (post,) = r.posts
    assert [int(u) for u in post.json["allowed_mentions"]["users"]] == [world.carol.id]
