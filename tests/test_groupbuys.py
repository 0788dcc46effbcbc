"""/groupbuy through discord.py's real parser: the form, pledges, frozen terms, the cap, edits, milestones."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from buddybot.testing.harness import FakeUser, Result, Sent
from tests.conftest import World

FLOUR = {
    "product": "Strong white flour",
    "supplier": "Riverside Mill",
    "unit": "16 kg sack",
    "case_size": "4",
    "tiers": "1+: 18.50, 8+: 16.00, 20+: 14.20",
}
DEADLINE = "2026-11-27T20:00:00+00:00"  # "friday" seen from Wed 25 Nov 2026, 20:00 London (GMT)


def rows(world: World, sql: str, *params: object) -> list[tuple]:
    with world.connect() as conn:
        return conn.execute(sql, params).fetchall()


def refused(result: Result, fragment: str) -> None:
    assert result.ephemeral, result.response
    assert result.allowed_mentions == {"parse": []}, result.allowed_mentions
    assert fragment in result.content, result.content


def pinged(message: Sent | dict[str, Any]) -> set[int]:
    data = message.data if isinstance(message, Sent) else message
    allowed = data["allowed_mentions"]
    assert allowed["parse"] == [], allowed
    return {int(u) for u in allowed.get("users", [])}


async def start(world: World, who: FakeUser | None = None, *, target: int = 8, deadline: str = "friday",
                **changes: str) -> Result:  # fmt: skip
    opened = await world.discord.slash("groupbuy start", who or world.alice, target=target, deadline=deadline)
    return await world.discord.submit(opened, who or world.alice, **{**FLOUR, **changes})


def said(result: Result) -> str:
    """What the member was told: the reply, or the follow-up of a deferred reply."""
    return result.followups[-1].json["content"] if result.followups else result.content


def post_of(world: World, buy_id: int = 1) -> Sent:
    (message_id,) = rows(world, "SELECT message_id FROM group_buys WHERE id = ?", buy_id)[0]
    return world.discord.messages[message_id]


def thread_of(world: World, buy_id: int = 1) -> int:
    return rows(world, "SELECT thread_id FROM group_buys WHERE id = ?", buy_id)[0][0]


async def pledge(world: World, who: FakeUser, quantity: str, tolerance: str = "", buy_id: int = 1) -> Result:
    opened = await world.discord.click(post_of(world, buy_id), "Pledge", who)
    assert opened.response["type"] == 9, opened.response
    return await world.discord.submit(opened, who, quantity=quantity, tolerance=tolerance)


def totals(world: World, buy_id: int = 1) -> tuple[int, int, int]:
    return rows(world, "SELECT COALESCE(SUM(quantity), 0), COALESCE(SUM(tolerance), 0), COUNT(*) "
                       "FROM group_buy_pledges WHERE group_buy_id = ?", buy_id)[0]  # fmt: skip


async def no_cap(world: World) -> None:
    """Small examples need more than 40% of the target per member."""
    await world.discord.slash("config set", world.mod, pledge_cap_percent=100)


async def run_deadline(world: World) -> None:
    world.clock.current = datetime.fromisoformat(DEADLINE)
    await world.bot.get_cog("Scheduler").run_due()


# -- starting --------------------------------------------------------------------------------------------
async def test_start_posts_a_live_progress_embed_with_a_thread_and_pings_nobody(world: World) -> None:
    r = await start(world)
    assert r.ephemeral and "Group buy #1 is posted" in said(r)
    post = post_of(world)
    assert post.channel_id == world.guild.channel("general")
    assert pinged(post) == set()
    assert post.labels() == ["Pledge", "Withdraw"]
    assert post.find_component("Pledge")["custom_id"] == "groupbuy:1:pledge"
    embed = post.embeds[0]
    assert embed["title"] == "Group buy #1: Strong white flour"
    assert "0 of 8 units" in embed["fields"][0]["value"]
    assert "£18.50 per unit now" in embed["fields"][1]["value"]
    assert "8 more units to the next tier (£16.00 from 8)" in embed["fields"][1]["value"]
    assert thread_of(world) is not None
    (row,) = rows(
        world, "SELECT state, deadline_at, tiers, currency, case_size, target_units FROM group_buys"
    )
    assert row == ("open", DEADLINE, "[[1,1850],[8,1600],[20,1420]]", "GBP", 4, 8)
    jobs = rows(world, "SELECT kind, due_at FROM jobs ORDER BY due_at")
    assert jobs == [("groupbuy.remind", "2026-11-26T20:00:00+00:00"), ("groupbuy.deadline", DEADLINE)]


async def test_posted_in_the_configured_channel(world: World) -> None:
    channel = world.guild.channel("shoutouts")
    await world.discord.slash("config set", world.mod, groupbuy_channel=channel)
    await start(world)
    assert post_of(world).channel_id == channel


async def test_bad_forms_are_refused_privately_and_nothing_is_stored(world: World) -> None:
    cases = [
        ({"tiers": "cheap please"}, "couldn't read the price tiers"),
        ({"tiers": "1+: 18.505"}, "at most 2 decimals"),
        ({"tiers": "1+: 10, 5+: 12"}, "can't cost more"),
        ({"tiers": "5+: 10"}, "must start at 1"),
        ({"case_size": "zero"}, "whole number"),
        ({"case_size": "3"}, "multiple of the case size (3): for example 9"),
        ({"product": "@everyone flour"}, "mentions"),
    ]
    for changes, fragment in cases:
        refused(await start(world, **changes), fragment)
    refused(await start(world, deadline="in 9 weeks"), "at most 60 days")
    refused(await start(world, deadline="someday"), "")
    assert rows(world, "SELECT COUNT(*) FROM group_buys") == [(0,)]
    assert rows(world, "SELECT COUNT(*) FROM jobs") == [(0,)]


async def test_three_open_group_buys_per_organiser(world: World) -> None:
    for _ in range(3):
        await start(world)
    refused(await start(world), "already run 3 open group buys")
    await world.discord.slash("groupbuy cancel", world.alice, id=1, reason="wrong mill")
    assert "is posted" in said(await start(world))


# -- pledging ---------------------------------------------------------------------------------------------
async def test_pledging_again_replaces_the_pledge_and_the_post_shows_totals(world: World) -> None:
    await no_cap(world)
    await start(world, target=12)
    r = await pledge(world, world.bob, "3", "1")
    assert r.ephemeral and "Pledged in group buy #1: 3 × 16 kg sack (+ up to 1 to fill a case)" in r.content
    await pledge(world, world.carol, "2")
    assert totals(world) == (5, 1, 2)
    again = await pledge(world, world.bob, "4")
    assert "Updated your pledge" in again.content
    assert totals(world) == (6, 0, 2), "a new pledge sets the total, it does not add"
    progress = post_of(world).embeds[0]["fields"][0]["value"]
    assert "4 of 12 units in full cases" in progress and "Firm: 6 · tolerance: 0 · 2 pledgers" in progress
    opened = await world.discord.click(post_of(world), "Pledge", world.bob)
    quantity = opened.response["data"]["components"][0]["component"]
    assert quantity["value"] == "4", "the form is pre-filled with the current pledge"
    await world.discord.click(post_of(world), "Withdraw", world.bob)
    assert totals(world) == (2, 0, 1)
    refused(await world.discord.click(post_of(world), "Withdraw", world.bob), "no pledge")


async def test_a_member_may_pledge_at_most_the_configured_share_of_the_target(world: World) -> None:
    await start(world, target=20)  # 40% of 20 = 8 units, tolerance included
    refused(await pledge(world, world.bob, "7", "2"), "at most 8 units")
    assert "Pledged" in (await pledge(world, world.bob, "6", "2")).content
    await world.discord.slash("config set", world.mod, pledge_cap_percent=50)
    assert "Updated" in (await pledge(world, world.bob, "10")).content
    refused(await pledge(world, world.carol, "0"), "at least 1")
    refused(await pledge(world, world.carol, "two"), "whole number")
    assert totals(world) == (10, 0, 1)


async def test_terms_freeze_at_the_first_pledge_even_for_a_form_opened_before(world: World) -> None:
    await start(world)
    early = await world.discord.slash("groupbuy edit", world.alice, id=1)  # opened before anyone pledged
    refused(await world.discord.slash("groupbuy edit", world.bob, id=1), "Only the organiser")
    await pledge(world, world.bob, "2")
    before = rows(world, "SELECT product, tiers, terms_hash, frozen_at FROM group_buys")[0]
    assert before[3] is not None
    r = await world.discord.submit(early, world.alice, **{**FLOUR, "tiers": "1+: 30.00"})
    refused(r, "terms of group buy #1 are frozen")
    refused(await world.discord.slash("groupbuy edit", world.alice, id=1), "frozen")
    assert rows(world, "SELECT product, tiers, terms_hash, frozen_at FROM group_buys")[0] == before


async def test_a_pledge_is_bound_to_the_terms_its_form_showed(world: World) -> None:
    await start(world)
    stale = await world.discord.click(post_of(world), "Pledge", world.bob)
    opened = await world.discord.slash("groupbuy edit", world.alice, id=1)
    await world.discord.submit(opened, world.alice, **{**FLOUR, "tiers": "1+: 25.00"})
    refused(await world.discord.submit(stale, world.bob, quantity="2"), "terms of group buy #1 changed")
    assert totals(world) == (0, 0, 0)
    # a forged form (never opened by the bot) is not even dispatched: discord.py knows no such modal
    forged = {**stale.response["data"], "custom_id": "groupbuy:1:pledge:0000000000000000"}
    assert (await world.discord.submit_modal(forged, world.bob, quantity="2")).callbacks == []
    assert totals(world) == (0, 0, 0)
    assert "Pledged" in (await pledge(world, world.bob, "2")).content


async def test_milestones_edit_the_post_and_ping_nobody(world: World) -> None:
    await no_cap(world)
    await start(world, target=8)
    before = len(world.discord.channel_messages(thread_of(world)))
    await pledge(world, world.bob, "3", "1")  # 4 units in full cases: 50%
    assert "Halfway" in post_of(world).content
    await pledge(world, world.carol, "3")  # firm 6 + tolerance 1: still one case
    last = await pledge(world, world.mod, "2")  # firm 8: two cases, 100%
    assert "Target reached" in post_of(world).content and "took it to 100% of the target" in last.content
    await world.discord.click(post_of(world), "Withdraw", world.mod)
    assert "Halfway" in post_of(world).content, "the post says where the buy stands now"
    assert len(world.discord.channel_messages(thread_of(world))) == before
    edits = [
        c for c in world.discord.calls if c.method == "PATCH" and f"/messages/{post_of(world).id}" in c.route
    ]
    assert edits and all(c.json["allowed_mentions"] == {"parse": []} for c in edits)


async def test_pledges_close_at_the_deadline_even_before_the_job_runs(world: World) -> None:
    await start(world, target=20)
    form = await world.discord.click(post_of(world), "Pledge", world.bob)
    world.clock.current = datetime.fromisoformat(DEADLINE)
    refused(await world.discord.submit(form, world.bob, quantity="2"), "reached its deadline")
    refused(await world.discord.click(post_of(world), "Withdraw", world.bob), "reached its deadline")
    assert totals(world) == (0, 0, 0)


async def test_the_organiser_edits_terms_and_target_before_the_first_pledge(world: World) -> None:
    await start(world, target=8)
    opened = await world.discord.slash("groupbuy edit", world.alice, id=1, target=12)
    fields = {
        c["component"]["custom_id"]: c["component"].get("value")
        for c in opened.response["data"]["components"]
    }
    assert fields == {**FLOUR, "tiers": "1+: 18.50, 8+: 16.00, 20+: 14.20"}, "pre-filled as typed"
    before = rows(world, "SELECT terms_hash FROM group_buys")[0][0]
    r = await world.discord.submit(opened, world.alice, **{**FLOUR, "product": "Rye flour"})
    assert "Saved the new terms" in r.content
    assert rows(world, "SELECT product, target_units FROM group_buys") == [("Rye flour", 12)]
    assert rows(world, "SELECT terms_hash FROM group_buys")[0][0] != before
    assert post_of(world).embeds[0]["title"] == "Group buy #1: Rye flour"
