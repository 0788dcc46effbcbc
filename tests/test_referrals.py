"""/need through discord.py's real parser: who is pinged, the buttons and the select, expiry, failures."""

from __future__ import annotations

import asyncio
import copy

import pytest

from buddybot import referrals
from buddybot.bot import APOLOGY
from buddybot.testing.harness import FakeUser, Result, Sent
from tests.conftest import World

SKILL = "bookkeeping"
TAKE, DECLINE, CLOSE, PICK = "I can take it", "Not this time", "Close", "Pick a volunteer"


pytestmark = pytest.mark.usefixtures("no_first_answer_window")  # the window: test_lifecycle.py


# -- helpers ---------------------------------------------------------------------------------------------------
def rows(world: World, query: str, *params: object) -> list[tuple]:
    with world.connect() as conn:
        return conn.execute(query, params).fetchall()


def said(result: Result) -> str:
    """What the member was told: the callback's message, or (after a defer or a post update) the last followup."""
    if result.response["type"] != 4:
        assert result.followups, [c.route for c in result.calls]
    return result.told


def private(result: Result) -> bool:
    """Told privately, pinging nobody. A click may be answered by updating the post (type 7) first."""
    if result.response["type"] == 4:
        return result.ephemeral and result.allowed_mentions == {"parse": []}
    last = result.followups[-1].json
    acked = result.ephemeral if result.response["type"] == 5 else result.response["type"] == 7
    return acked and bool(last["flags"] & 64) and last["allowed_mentions"] == {"parse": []}


def post_of(world: World, result: Result) -> Sent:
    (call,) = [c for c in result.posts if c.json.get("embeds")]
    return world.discord.messages[int(call.response["id"])]


def snapshot(post: Sent) -> Sent:
    """The post as a client that has not refreshed yet still shows it (its old buttons included)."""
    return Sent(post.id, post.channel_id, copy.deepcopy(post.data))


def mentioned(call_or_sent) -> list[int]:
    data = call_or_sent.json if hasattr(call_or_sent, "json") else call_or_sent.data
    return [int(u) for u in data["allowed_mentions"].get("users", [])]


def exact_pings(data: dict, *user_ids: int) -> None:
    """allowed_mentions names exactly these users: nothing parsed, no roles, no @everyone, no reply ping."""
    allowed = data["allowed_mentions"]
    assert allowed["parse"] == []
    assert [int(u) for u in allowed.get("users", [])] == list(user_ids)
    assert "roles" not in allowed and not allowed.get("replied_user")
    assert "@everyone" not in data.get("content", "") and "@here" not in data.get("content", "")


async def offerer(
    world: World, user: FakeUser, business: str, *, area: str | None = None, skill: str = SKILL, guild=None
) -> None:
    r = await world.discord.slash("profile set", user, business=business, area=area, guild=guild)
    assert "Saved" in r.content, r.content
    r = await world.discord.slash("offer add", user, skill=skill, guild=guild)
    assert r.content.startswith(("Added", "Updated")), r.content


async def ask(world: World, user: FakeUser | None = None, **options) -> tuple[Result, Sent | None]:
    options.setdefault("skill", SKILL)
    options.setdefault("when", "next week")
    r = await world.discord.slash("need ask", user or world.alice, **options)
    posts = [c for c in r.posts if c.json.get("embeds")]
    return r, (world.discord.messages[int(posts[0].response["id"])] if posts else None)


async def elsewhere(world: World) -> int:
    """Configure the referrals channel, so a /need asked in general is posted there (post, then answer)."""
    channel = world.guild.channel("referrals")
    await world.discord.slash("config set", world.mod, referrals_channel=channel)
    return channel


def members(world: World, count: int, prefix: str = "m") -> list[FakeUser]:
    return [world.discord.add_user(f"{prefix}{i}", world.guild) for i in range(count)]


def nothing_stored(world: World) -> None:
    assert rows(world, "SELECT count(*) FROM needs") == [(0,)]
    assert rows(world, "SELECT count(*) FROM need_pings") == [(0,)]
    assert rows(world, "SELECT count(*) FROM offers WHERE pings_30d <> 0 OR last_pinged_at IS NOT NULL") == [
        (0,)
    ]


# -- asking and who is pinged ---------------------------------------------------------------------------------
async def test_ask_pings_exactly_the_fitting_members_in_rank_order(world: World) -> None:
    d = world.discord
    dan, erin, fay, gus, hal, ivy = (
        d.add_user(n, world.guild) for n in ("dan", "erin", "fay", "gus", "hal", "ivy")
    )
    await offerer(world, world.alice, "Alice Books", area="Riverside")  # the requester offers it too
    await offerer(world, world.bob, "Bob Books", area="riverside ")  # same area
    await offerer(world, world.carol, "Carol Counts", area="Old Town")
    await d.slash("available", world.carol, when="next week")  # explicitly available
    await offerer(world, dan, "Dan Ledgers")
    await d.slash("busy", dan, until="6 dec")  # booked through the whole window (Mon 30 Nov - Sun 6 Dec)
    await offerer(world, erin, "Erin Sums")
    await d.slash("busy", erin, until="next tuesday")  # free for the rest of the window
    await offerer(world, fay, "Fay Figures")
    await d.slash("profile set", fay, business="Fay Figures", pings=False)
    await offerer(world, gus, "Gus Hidden")
    with world.connect() as conn:
        conn.execute("UPDATE members SET hidden = 1 WHERE user_id = ?", (gus.id,))
    await offerer(world, hal, "Hal Plumbing", skill="plumbing")
    await offerer(world, ivy, "Ivy Books")

    before = world.db.round_trips
    r, post = await ask(world, skill="Bookkeeper", details="Year-end accounts for a cafe")
    assert world.db.round_trips - before == 2
    # Carol (available), Bob (same area), then Erin and Ivy by id; never Alice, Dan, Fay, Gus or Hal.
    expected = [world.carol.id, world.bob.id, erin.id, ivy.id]
    call = next(c for c in r.posts if c.json.get("embeds"))
    exact_pings(call.json, *expected)
    assert post.content.startswith(" ".join(f"<@{u}>" for u in expected))
    assert post.channel_id == world.guild.channel("general")  # no referrals channel configured
    assert "Overflow referral: bookkeeping" in post.text() and "Year-end accounts for a cafe" in post.text()
    assert "Alice Books" in post.text() and "Riverside" in post.text()
    assert post.labels() == [TAKE, DECLINE, CLOSE]
    assert rows(world, "SELECT user_id FROM need_pings ORDER BY rank") == [(u,) for u in expected]
    ((message_id, thread_id, state),) = rows(world, "SELECT message_id, thread_id, state FROM needs")
    assert (message_id, thread_id, state) == (post.id, post.id, "open")
    threads = [c for c in r.calls if c.path.endswith("/threads")]
    assert len(threads) == 1 and threads[0].json["name"].startswith("bookkeeping")
    # Asked where it is posted: the post is the answer (one round trip), then the thread.
    assert r.response["type"] == 4 and not r.ephemeral and r.round_trips == 1
    assert [c.route.split("/")[-1] for c in r.rest_calls] == ["callback", "threads"]


async def test_asked_elsewhere_the_post_goes_to_the_referrals_channel_and_the_answer_links_it(
    world: World,
) -> None:
    await offerer(world, world.bob, "Bob Books")
    await elsewhere(world)
    r, post = await ask(world)
    assert private(r) and r.round_trips == 2 and r.response["type"] == 4
    url = f"https://discord.com/channels/{world.guild.id}/{post.channel_id}/{post.id}"
    assert url in said(r) and "pinged 1 member" in said(r)


async def test_max_pings_and_the_fairest_first(world: World) -> None:
    crew = members(world, 7)
    for i, user in enumerate(crew):
        await offerer(world, user, f"Books {i}")
    await world.discord.slash("config set", world.mod, max_pings=3)
    first, _ = await ask(world, world.alice)
    second, _ = await ask(world, world.bob)
    third, _ = await ask(world, world.carol)
    ids = [u.id for u in crew]
    assert [mentioned(c) for r in (first, second, third) for c in r.posts] == [
        ids[0:3],
        ids[3:6],
        [ids[6], *ids[0:2]],
    ]


async def test_referrals_channel_from_config(world: World) -> None:
    await offerer(world, world.bob, "Bob Books")
    referrals_channel = world.guild.channel("referrals")
    await world.discord.slash("config set", world.mod, referrals_channel=referrals_channel)
    r, post = await ask(world)
    assert post.channel_id == referrals_channel
    assert f"/{referrals_channel}/{post.id}" in said(r)


async def test_nobody_to_ping_still_posts_without_pings(world: World) -> None:
    await elsewhere(world)
    r, post = await ask(world, skill="sourdough classes")
    call = next(c for c in r.posts if c.json.get("embeds"))
    exact_pings(call.json)
    assert "<@" not in post.content and "couldn't ping anyone" in said(r)


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"when": "someday"}, "couldn't read"),
        ({"when": "2026-01-01"}, "already over"),
        ({"skill": "<@&123>"}, "letters, numbers"),
        ({"details": "call @everyone"}, "mentions"),
        ({"details": "x\x00y"}, "control characters"),
        ({"area": "<@123456789012345678>"}, "mentions"),
    ],
)
async def test_bad_input_is_refused_and_nothing_stored(world: World, options, fragment) -> None:
    await offerer(world, world.bob, "Bob Books")
    r, post = await ask(world, **options)
    assert post is None and private(r) and fragment in said(r)
    nothing_stored(world)


async def test_open_and_daily_limits(world: World) -> None:
    for _ in range(5):
        r, post = await ask(world)
        assert post is not None, said(r)
    before = world.db.round_trips
    r, post = await ask(world)
    assert post is None and private(r) and "5 open requests" in said(r)
    assert world.db.round_trips - before == 1
    assert rows(world, "SELECT count(*) FROM needs") == [(5,)]

    await world.discord.slash("config set", world.mod, daily_need_limit=2)
    for _ in range(2):
        assert (await ask(world, world.bob))[1] is not None
    r, post = await ask(world, world.bob)
    assert post is None and "daily limit" in said(r)
    assert rows(world, "SELECT count(*) FROM needs WHERE requester_id = ?", world.bob.id) == [(2,)]
    world.clock.advance(days=1)
    assert (await ask(world, world.bob))[1] is not None


# -- volunteering ----------------------------------------------------------------------------------------------
async def test_volunteer_once_even_on_double_click(world: World) -> None:
    await offerer(world, world.bob, "Bob Books")
    _, post = await ask(world)
    before = world.db.round_trips
    first = await world.discord.click(post, TAKE, world.bob)
    assert world.db.round_trips - before == 1
    assert private(first) and "on the list" in said(first)
    again = await world.discord.click(post, TAKE, world.bob)
    assert private(again) and "already on the list" in said(again)
    assert rows(world, "SELECT user_id FROM need_volunteers") == [(world.bob.id,)]
    select = post.find_component(PICK)
    assert [o["value"] for o in select["options"]] == [str(world.bob.id)]
    assert select["options"][0]["label"] == "Bob Books" and "Volunteers (1)" in post.text()
    own = await world.discord.click(post, TAKE, world.alice)
    assert private(own) and "your own request" in said(own)


async def test_twenty_concurrent_volunteers_each_recorded_once(world: World) -> None:
    _, post = await ask(world)
    crowd = members(world, 20)
    world.discord.session.latency = 0.02  # Discord takes a while per request, so edits overlap clicks
    edits_before = len([c for c in world.discord.calls if c.method == "PATCH"])
    before = world.db.round_trips
    results = await asyncio.gather(
        *(world.discord.click(post, TAKE, u) for u in crowd),
        *(world.discord.click(post, TAKE, u) for u in crowd[:5]),
    )
    assert world.db.round_trips - before == 25
    assert sum("Thanks!" in said(r) for r in results) == 20
    assert sum("already on the list" in said(r) for r in results) == 5
    assert sorted(r[0] for r in rows(world, "SELECT user_id FROM need_volunteers")) == sorted(
        u.id for u in crowd
    )
    options = post.find_component(PICK)["options"]
    assert sorted(int(o["value"]) for o in options) == sorted(u.id for u in crowd)
    edits = len([c for c in world.discord.calls if c.method == "PATCH"]) - edits_before
    assert 1 <= edits < 20  # newer snapshots supersede queued ones
    assert rows(world, "SELECT version FROM needs") == [(20,)]


async def test_more_than_25_volunteers_spread_over_several_selects(world: World) -> None:
    _, post = await ask(world)
    for user in members(world, 27):
        await world.discord.click(post, TAKE, user)
    selects = [c for row in post.components for c in row["components"] if c["type"] == 3]
    assert [len(s["options"]) for s in selects] == [25, 2]
    assert selects[1]["placeholder"] == f"{PICK} (26–27)"
    last = int(selects[1]["options"][-1]["value"])
    r = await world.discord.select(post, selects[1]["custom_id"], world.alice, [last])
    assert "You picked" in said(r)
    assert rows(world, "SELECT to_id FROM referrals") == [(last,)]


async def test_hidden_member_cannot_volunteer(world: World) -> None:
    _, post = await ask(world)
    await world.discord.slash("profile set", world.carol, business="Carol")
    with world.connect() as conn:
        conn.execute("UPDATE members SET hidden = 1 WHERE user_id = ?", (world.carol.id,))
    r = await world.discord.click(post, TAKE, world.carol)
    assert private(r) and "can't volunteer" in said(r)
    assert rows(world, "SELECT count(*) FROM need_volunteers") == [(0,)]


# -- picking ----------------------------------------------------------------------------------------------------
async def test_only_the_requester_can_pick_and_a_pick_fills_the_need(world: World) -> None:
    await offerer(world, world.bob, "Bob Books")
    _, post = await ask(world)
    await world.discord.click(post, TAKE, world.bob)
    await world.discord.click(post, TAKE, world.carol)
    refused = await world.discord.select(post, PICK, world.bob, [world.bob.id])
    assert private(refused) and "Only the member who asked" in said(refused)
    assert rows(world, "SELECT count(*) FROM referrals") == [(0,)]

    stale = snapshot(post)
    before = world.db.round_trips
    r = await world.discord.select(post, PICK, world.alice, [world.carol.id])
    assert world.db.round_trips - before == 1
    assert private(r) and f"<@{world.carol.id}>" in said(r)
    assert rows(world, "SELECT from_id, to_id, skill FROM referrals") == [
        (world.alice.id, world.carol.id, SKILL)
    ]
    assert rows(world, "SELECT state, picked_id FROM needs") == [("filled", world.carol.id)]
    assert post.components == [] and "Filled" in post.text()
    (confirmation,) = [c for c in r.posts if not c.json.get("embeds")]
    exact_pings(confirmation.json, world.alice.id, world.carol.id)
    assert confirmation.json["message_reference"]["message_id"] == post.id
    late = await world.discord.press(
        stale, stale.find_component(TAKE)["custom_id"], world.bob
    )  # not refreshed yet
    assert private(late) and "already been filled" in said(late)


async def test_two_racing_picks_record_one_referral(world: World) -> None:
    _, post = await ask(world)
    await world.discord.click(post, TAKE, world.bob)
    await world.discord.click(post, TAKE, world.carol)
    results = await asyncio.gather(
        world.discord.select(post, PICK, world.alice, [world.bob.id]),
        world.discord.select(post, PICK, world.alice, [world.carol.id]),
    )
    assert rows(world, "SELECT count(*) FROM referrals") == [(1,)]
    assert sorted("You picked" in said(r) for r in results) == [False, True]
    assert any("already been filled" in said(r) for r in results)
    confirmations = [
        c
        for c in world.discord.calls
        if c.method == "POST"
        and c.path.endswith("/messages")
        and "picked" in (c.json or {}).get("content", "")
    ]
    assert len(confirmations) == 1


async def test_forged_pick_of_a_non_volunteer_is_refused(world: World) -> None:
    _, post = await ask(world)
    await world.discord.click(post, TAKE, world.bob)
    r = await world.discord.select(post, PICK, world.alice, [world.carol.id])
    assert private(r) and "hasn't volunteered" in said(r)
    assert rows(world, "SELECT state FROM needs") == [("open",)]


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
