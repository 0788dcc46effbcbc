"""After the handshake, for referrals: outcomes (receiver only, value private, giver told once), the fair
first-answer window, stale-request nudges, quiet hours and crashes on the one scheduler. Through the harness."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest

from buddybot import need_lifecycle, referrals, scheduler
from buddybot.errors import BuddyError
from buddybot.storage import config as config_sql
from buddybot.testing.harness import FakeUser, Result, Sent
from tests.conftest import World

SKILL = "bookkeeping"
TAKE, PICK = "I can take it", "Pick a volunteer"


def rows(world: World, query: str, *params: object) -> list[tuple]:
    with world.connect() as conn:
        return conn.execute(query, params).fetchall()


def said(result: Result) -> str:
    """What the member was told: the callback's message, or (after a post update) the last followup."""
    return result.told or ""


async def offerers(world: World, users: list[FakeUser]) -> None:
    for user in users:
        await world.discord.slash("profile set", user, business=f"{user.name.title()} Books")
        await world.discord.slash("offer add", user, skill=SKILL)


async def ask(world: World, user: FakeUser, **options: str) -> Sent:
    r = await world.discord.slash(
        "need ask", user, skill=SKILL, when=options.pop("when", "next week"), **options
    )
    (post,) = [c for c in r.posts if c.json.get("embeds")]
    return world.discord.messages[int(post.response["id"])]


async def run_jobs(world: World) -> int:
    return await world.bot.get_cog("Scheduler").run_due()


def thread_of(world: World, post: Sent) -> int:
    return rows(world, "SELECT thread_id FROM needs WHERE message_id = ?", post.id)[0][0]


def bodies(world: World) -> list[tuple[str, str]]:
    """(route, every text of the body) for every REST call the bot made."""
    return [(c.route, json.dumps(c.json, ensure_ascii=False)) for c in world.discord.calls if c.json]


async def picked_referral(world: World) -> tuple[Sent, Sent]:
    """alice asks, bob volunteers, alice picks bob: (the post, the pick confirmation with the outcome buttons)."""
    await world.db.write(config_sql.update_config, world.guild.id, {"pitch_window_minutes": 0})
    await offerers(world, [world.bob])
    post = await ask(world, world.alice)
    await world.discord.click(post, TAKE, world.bob)
    picked = await world.discord.select(post, PICK, world.alice, [world.bob.id])
    (confirmation,) = [world.discord.messages[int(c.response["id"])] for c in picked.posts]
    return post, confirmation


# -- outcomes ----------------------------------------------------------------------------------------------
async def test_only_the_receiver_reports_and_the_giver_gets_exactly_one_ping(world: World) -> None:
    post, confirmation = await picked_referral(world)
    assert confirmation.labels() == ["Won it", "Didn't happen"]
    for stranger in (world.alice, world.carol):
        refused = await world.discord.click(confirmation, "Didn't happen", stranger)
        assert refused.ephemeral and "Only <@" in said(refused) and "can report" in said(refused)
        refused = await world.discord.click(confirmation, "Won it", stranger)
        assert refused.response["type"] == 4 and refused.ephemeral  # refused before any form opens
    assert rows(world, "SELECT outcome FROM referrals") == [(None,)]
    before = len(world.discord.calls)
    first, again = await asyncio.gather(  # a double click
        world.discord.click(confirmation, "Didn't happen", world.bob),
        world.discord.click(confirmation, "Didn't happen", world.bob),
    )
    answers = [said(first), said(again)]
    assert sum("recorded as **didn't happen**" in a for a in answers) == 1
    assert sum("already reported" in a or "a moment ago" in a for a in answers) == 1
    assert confirmation.components == [], "the buttons have done their job"
    assert rows(world, "SELECT outcome, value_minor FROM referrals") == [("no_deal", None)]
    to_giver = [
        c for c in world.discord.calls[before:]
        if c.method == "POST" and "/messages" in c.path and world.alice.id in _users(c.json)
    ]  # fmt: skip
    assert len(to_giver) == 1, "the giver is told once"
    assert to_giver[0].json["allowed_mentions"]["parse"] == [] and _users(to_giver[0].json) == [
        world.alice.id
    ]
    assert to_giver[0].path == f"/channels/{thread_of(world, post)}/messages"


def _users(body: dict) -> list[int]:
    return [int(u) for u in (body.get("allowed_mentions") or {}).get("users", [])]


async def test_won_with_a_value_that_only_the_giver_the_receiver_and_aggregates_see(world: World) -> None:
    _, confirmation = await picked_referral(world)
    opened = await world.discord.click(confirmation, "Won it", world.bob)
    assert opened.response["type"] == 9, "the value form"
    bad = await world.discord.submit(opened, world.bob, value="lots")
    assert bad.ephemeral and "plain amount" in said(bad)
    assert rows(world, "SELECT outcome FROM referrals") == [(None,)]
    done = await world.discord.submit(opened, world.bob, value="1,234.50")
    assert "1,234.50 GBP" in said(done) and done.ephemeral
    assert rows(world, "SELECT outcome, value_minor, currency FROM referrals") == [("won", 123450, "GBP")]
    # /referral list: the value is there for the giver and the receiver, not for anyone else
    for member in (world.alice, world.bob):
        listed = await world.discord.slash("referral list", member)
        assert listed.ephemeral and "1,234.50 GBP" in json.dumps(listed.data)
    other = await world.discord.slash("referral list", world.carol)
    assert "1,234.50" not in json.dumps(other.data)
    stats = await world.discord.slash("stats", world.mod)
    shown = json.dumps(stats.data, ensure_ascii=False)
    assert "1,234.50 GBP in 1" in shown and "1 won" in shown
    assert "100% of 1 referral went to the fastest tenth of responders (1 member)" in shown
    profile = await world.discord.slash("profile view", world.carol, member=world.bob)
    assert "0 given · 1 received · 1 won" in json.dumps(profile.data, ensure_ascii=False)
    # the value never appears in anything public: only in ephemeral answers to the three who may see it
    public = [
        (route, text) for route, text in bodies(world)
        if "1,234" in text or "123450" in text or "1234.5" in text
    ]  # fmt: skip
    assert public and all(route.startswith(("POST /interactions", "POST /webhooks")) for route, _ in public)
    assert all('"flags": 64' in text for _, text in public), "only ever in ephemeral replies"


async def test_referral_report_command_and_its_refusals(world: World) -> None:
    await picked_referral(world)
    (referral_id,) = rows(world, "SELECT id FROM referrals")[0]
    r = await world.discord.slash("referral report", world.alice, referral_id=referral_id, outcome="won")
    assert r.ephemeral and "can report" in said(r)
    r = await world.discord.slash("referral report", world.bob, referral_id=999, outcome="won")
    assert r.ephemeral and "no referral #999" in said(r)
    r = await world.discord.slash(
        "referral report", world.bob, referral_id=referral_id, outcome="won", value="80"
    )
    assert "80.00 GBP" in said(r)
    assert rows(world, "SELECT outcome, value_minor FROM referrals") == [("won", 8000)]


# -- the first-answer window -------------------------------------------------------------------------------------
async def test_the_pick_menu_is_closed_during_the_window_then_lists_volunteers_in_a_fixed_random_order(
    world: World,
) -> None:
    crowd = [world.discord.add_user(f"v{i}", world.guild) for i in range(6)]
    await offerers(world, [world.bob, world.carol])  # two pinged (and they never answer)
    post = await ask(world, world.alice)
    assert "counts as first" in post.text()
    for user in crowd:
        world.clock.advance(minutes=1)
        await world.discord.click(post, TAKE, user)
    assert PICK not in post.labels() and "counts as first" in post.text()
    with pytest.raises(BuddyError, match="opens when the first-answer window ends"):  # the server-side check
        await referrals.pick(
            world.db, world.guild.id, _need_id(world), world.alice.id, crowd[0].id, now=world.clock()
        )
    assert rows(world, "SELECT count(*) FROM referrals") == [(0,)]
    world.clock.advance(minutes=30)
    assert await run_jobs(world) >= 1  # need.open_picks
    listed = [int(o["value"]) for o in post.find_component(PICK)["options"]]
    (seed,) = rows(world, "SELECT pick_seed FROM needs")[0]
    expected = sorted((u.id for u in crowd), key=lambda uid: need_lifecycle.order_key(seed, uid))
    assert listed == expected and listed != [u.id for u in crowd], "fixed random order, not click order"
    late = world.discord.add_user("late", world.guild)
    await world.discord.click(post, TAKE, late)
    assert [int(o["value"]) for o in post.find_component(PICK)["options"]] == [*expected, late.id]
    picked = await world.discord.select(post, PICK, world.alice, [expected[0]])
    assert "You picked" in said(picked)


def _need_id(world: World) -> int:
    return rows(world, "SELECT max(id) FROM needs")[0][0]


async def test_the_menu_opens_early_once_every_pinged_member_has_answered(world: World) -> None:
    await offerers(world, [world.bob, world.carol])
    post = await ask(world, world.alice)
    await world.discord.click(post, TAKE, world.bob)
    assert PICK not in post.labels()
    await world.discord.click(post, "Not this time", world.carol)
    assert PICK in post.labels(), "both pinged members answered: no need to wait"


# -- nudges ----------------------------------------------------------------------------------------------------
async def test_a_stale_request_nudges_new_candidates_twice_and_never_pings_anyone_twice(world: World) -> None:
    await world.discord.slash("config set", world.mod, max_pings=2)
    helpers = [world.discord.add_user(f"h{i}", world.guild) for i in range(7)]
    await offerers(world, helpers)
    post = await ask(world, world.alice)
    thread = thread_of(world, post)
    first = set(_users(post.data))
    assert len(first) == 2
    pinged_so_far = set(first)
    for nudge in (1, 2):
        world.clock.advance(hours=24)
        await run_jobs(world)
        sent = [m for m in world.discord.channel_messages(thread) if f"nudge {nudge} of 2" in m.content]
        assert len(sent) == 1
        new = set(_users(sent[0].data)) - {world.alice.id}
        assert len(new) == 2 and not new & pinged_so_far, "never anyone pinged before"
        assert world.alice.id in _users(sent[0].data), "the requester is told in the thread"
        pinged_so_far |= new
    world.clock.advance(hours=24)
    await run_jobs(world)
    assert not [m for m in world.discord.channel_messages(thread) if "nudge 3" in m.content]
    assert rows(world, "SELECT nudges FROM needs") == [(2,)]
    stats = await world.discord.slash("stats", world.mod)
    assert "2 sent to 1 requests · 0 then filled" in json.dumps(stats.data, ensure_ascii=False)


async def test_no_nudge_once_someone_volunteered(world: World) -> None:
    await offerers(world, [world.bob, world.carol])
    post = await ask(world, world.alice)
    await world.discord.click(post, TAKE, world.bob)
    world.clock.advance(hours=24)
    await run_jobs(world)
    assert not [m for m in world.discord.channel_messages(thread_of(world, post)) if "nudge" in m.content]


async def test_nudges_wait_for_the_morning_in_a_non_utc_time_zone(world: World) -> None:
    await world.discord.slash("config set", world.mod, timezone="America/New_York", max_pings=1)
    await offerers(world, [world.bob, world.carol])
    # 02:00 UTC on 26 Nov is 21:00 in New York: the nudge, due 24 h later, falls in quiet hours there.
    world.clock.current = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    post = await ask(world, world.alice)
    world.clock.current = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    await run_jobs(world)
    thread = thread_of(world, post)
    assert not [m for m in world.discord.channel_messages(thread) if "nudge" in m.content]
    world.clock.current = datetime(2026, 11, 27, 12, 59, tzinfo=UTC)  # 07:59 in New York
    await run_jobs(world)
    assert not [m for m in world.discord.channel_messages(thread) if "nudge" in m.content]
    world.clock.current = datetime(2026, 11, 27, 13, 0, tzinfo=UTC)  # 08:00 in New York
    await run_jobs(world)
    assert len([m for m in world.discord.channel_messages(thread) if "nudge 1 of 2" in m.content]) == 1


async def test_a_nudge_fires_once_across_a_crash_between_claiming_and_sending(world: World) -> None:
    await offerers(world, [world.bob, world.carol, world.discord.add_user("dan", world.guild)])
    await world.discord.slash("config set", world.mod, max_pings=1)
    post = await ask(world, world.alice)
    thread = thread_of(world, post)
    world.clock.advance(hours=24)
    # claimed and run (the new pings are committed with the claim), then the process dies before sending
    claimed = await world.db.write(scheduler.claim_due, world.clock(), "doomed")
    assert [job.kind for job, _ in claimed].count("need.nudge") == 1
    await world.restart()
    assert await run_jobs(world) == 0, "the lease still holds"
    world.clock.advance(seconds=scheduler.LEASE.total_seconds() + 1)
    await run_jobs(world)
    assert len([m for m in world.discord.channel_messages(thread) if "nudge 1 of 2" in m.content]) == 1
    # ... and once more, dying after sending but before marking it done: Discord drops the repeat by its nonce
    world.clock.advance(hours=24)
    claimed = await world.db.write(scheduler.claim_due, world.clock(), "doomed-2")
    await world.bot.get_cog("Scheduler").deliver(claimed)
    await world.restart()
    world.clock.advance(seconds=scheduler.LEASE.total_seconds() + 1)
    await run_jobs(world)
    assert len([m for m in world.discord.channel_messages(thread) if "nudge 2 of 2" in m.content]) == 1
    assert world.discord.nonce_duplicates_dropped == 1
    assert rows(world, "SELECT count(DISTINCT user_id), count(*) FROM need_pings") == [(3, 3)]


async def test_an_unfilled_request_expires_the_day_after_its_window_on_the_scheduler(world: World) -> None:
    await offerers(world, [world.bob])
    post = await ask(world, world.alice, when="today")
    world.clock.current = datetime(2026, 11, 25, 23, 59, tzinfo=UTC)
    await run_jobs(world)
    assert rows(world, "SELECT state FROM needs") == [("open",)]
    world.clock.current = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
    await run_jobs(world)
    assert rows(world, "SELECT state FROM needs") == [("expired",)]
    assert "Expired" in post.text() and post.components == []
