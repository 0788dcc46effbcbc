"""/need through discord.py's real parser: who is pinged, the buttons and the select, expiry, failures."""

from __future__ import annotations

import asyncio

import pytest

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
