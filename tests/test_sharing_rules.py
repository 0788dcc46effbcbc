"""Sharing: races on the last unit, 50 Approve clicks, the waiting list, reminders, overdue escalation,
the rules, hostile names, and the numbers on /profile and /stats."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime

import psycopg
import pytest

from buddybot.testing.harness import FakeUser
from tests.conftest import World
from tests.test_sharing import (
    available,
    borrow,
    loan_state,
    private,
    rows,
    run_jobs,
    said,
    share,
    share_add,
    thread_messages,
)


def members(world: World, n: int) -> list[FakeUser]:
    return [world.discord.add_user(f"m{i}", world.guild) for i in range(n)]


def at(day: str, hour: int = 9) -> datetime:
    """A moment in London in winter (= UTC)."""
    return datetime.fromisoformat(f"2026-{day}T{hour:02d}:00:00+00:00").astimezone(UTC)


def pings_of(sent) -> list[int]:
    return sorted(int(u) for u in sent.data["allowed_mentions"].get("users", []))


# -- races ------------------------------------------------------------------------------------------------------
async def test_two_borrowers_race_for_the_last_unit_one_wins_one_waits(world: World) -> None:
    ladder = await share(world, world.alice)
    results = await asyncio.gather(
        world.discord.slash("borrow", world.bob, item=str(ladder), when="1-3 dec"),
        world.discord.slash("borrow", world.carol, item=str(ladder), when="1-3 dec"),
    )
    assert sum("waiting list" in said(r) for r in results) == 1
    assert sum("Asked" in said(r) for r in results) == 1
    assert rows(world, "SELECT count(*) FROM loans") == [(1,)]
    assert rows(world, "SELECT count(*) FROM loan_waits WHERE state = 'waiting'") == [(1,)]
    assert available(world, ladder) == 0


async def test_units_never_go_below_zero(world: World) -> None:
    chairs = await share(world, world.alice, "Folding chairs", quantity=3)
    crowd = members(world, 6)
    results = await asyncio.gather(
        *(world.discord.slash("borrow", u, item=str(chairs), when="1 dec", quantity=2) for u in crowd)
    )
    assert sum("Asked" in said(r) for r in results) == 1  # 2 of 3 taken; nobody else fits
    assert available(world, chairs) == 1
    refused = (sqlite3.IntegrityError, psycopg.errors.CheckViolation)
    with pytest.raises(refused, match=r"(?i)check"), world.connect() as conn:
        conn.execute("UPDATE shared_items SET available = -1 WHERE id = ?", (chairs,))


async def test_fifty_concurrent_approve_clicks_make_one_loan(world: World) -> None:
    ladder = await share(world, world.alice)
    _, post = await borrow(world, world.bob, ladder)
    payload = world.discord._component_base(
        post, world.alice, {"custom_id": post.find_component("Approve")["custom_id"], "component_type": 2}
    )
    payloads = []
    for _ in range(50):
        p = dict(payload)
        p["id"] = str(world.discord.next_id())
        p["token"] = f"tok{p['id']}"
        payloads.append(p)
    before = world.db.round_trips
    results = await world.discord.burst(payloads)
    assert world.db.round_trips - before == 50
    assert sum(r.response["type"] == 7 for r in results) == 1
    refused = [r for r in results if r.response["type"] == 4]
    assert len(refused) == 49 and all(private(r) and "already approved" in said(r) for r in refused)
    assert rows(world, "SELECT state FROM loans") == [("approved",)]
    assert rows(world, "SELECT count(*) FROM jobs WHERE kind = 'loan.start' AND state = 'due'") == [(1,)]
    notes = [m for m in thread_messages(world, post) if "approved" in m.content]
    assert len(notes) == 1


# -- the waiting list -------------------------------------------------------------------------------------------
async def test_waiting_list_order_holds_and_lapses(world: World) -> None:
    dan, erin = members(world, 2)
    ladder = await share(world, world.alice)
    _, post = await borrow(world, world.bob, ladder)
    for i, who in enumerate((world.carol, dan, erin), 1):
        r, none = await borrow(world, who, ladder)
        assert none is None and f"number {i}" in said(r)
    again, _ = await borrow(world, dan, ladder)
    assert "number 2" in said(again)  # asking twice keeps your place

    await world.discord.click(
        post, "Withdraw", world.bob
    )  # the ladder is free: Carol, first in line, is told
    told = world.discord.channel_messages(world.guild.channel("general"))[-1]
    assert f"<@{world.carol.id}>" in told.content and "held for you" in told.content
    assert pings_of(told) == [world.carol.id]
    assert available(world, ladder) == 0  # held for Carol
    r, none = await borrow(world, erin, ladder)
    assert none is None and "number 2" in said(r)
    r, carols = await borrow(world, world.carol, ladder)
    assert carols is not None, said(r)
    assert rows(world, "SELECT user_id, state FROM loan_waits ORDER BY id") == [
        (world.carol.id, "used"), (dan.id, "waiting"), (erin.id, "waiting"),
    ]  # fmt: skip

    await world.discord.click(carols, "Approve", world.alice)
    await world.discord.click(carols, "Handed over", world.alice)
    r = await world.discord.click(carols, "Renew", world.carol)
    assert private(r) and "Someone is waiting" in said(r)
    await world.discord.submit(await world.discord.click(carols, "Got it back", world.alice), world.alice)
    assert rows(world, "SELECT user_id FROM loan_waits WHERE state = 'held'") == [(dan.id,)]
    world.clock.advance(days=7, minutes=1)
    await run_jobs(world)  # Dan never asked: his hold lapses and Erin is next
    assert rows(world, "SELECT user_id, state FROM loan_waits ORDER BY id")[1:] == [
        (dan.id, "lapsed"), (erin.id, "held"),
    ]  # fmt: skip
    told = world.discord.channel_messages(world.guild.channel("general"))[-1]
    assert pings_of(told) == [erin.id] and "held for you" in told.content
    assert available(world, ladder) == 0


async def test_a_silent_owner_lets_the_request_expire_after_48_hours(world: World) -> None:
    ladder = await share(world, world.alice)
    _, post = await borrow(world, world.bob, ladder)
    world.clock.advance(hours=47)
    await run_jobs(world)
    assert loan_state(world) == "requested"
    world.clock.advance(hours=1, minutes=1)
    await run_jobs(world)
    assert loan_state(world) == "expired" and available(world, ladder) == 1
    assert world.discord.messages[post.id].labels() == []
    assert "expired" in thread_messages(world, post)[-1].content
    r, again = await borrow(world, world.bob, ladder)  # the borrower may ask again
    assert again is not None, said(r)


# -- handover, reminders, overdue -------------------------------------------------------------------------------
async def test_the_loan_starts_on_its_start_date_when_nobody_pressed_handed_over(world: World) -> None:
    ladder = await share(world, world.alice)
    _, post = await borrow(world, world.bob, ladder, when="1-3 dec")
    await world.discord.click(post, "Approve", world.alice)
    world.clock.current = at("12-01", 23)
    await run_jobs(world)
    assert loan_state(world) == "approved"
    world.clock.current = at("12-02", 0).replace(minute=1)
    await run_jobs(world)
    assert loan_state(world) == "on_loan"
    assert world.discord.messages[post.id].labels() == ["Returned", "Got it back", "Renew"]
    assert rows(world, "SELECT value FROM share_tallies WHERE user_id = ?", world.alice.id) == [(1,)]


async def test_reminders_once_each_across_a_restart(world: World) -> None:
    ladder = await share(world, world.alice)
    _, post = await borrow(world, world.bob, ladder, when="1-3 dec")
    await world.discord.click(post, "Approve", world.alice)
    world.clock.current = at("11-30")
    await run_jobs(world)
    (start,) = [m for m in thread_messages(world, post) if "starts tomorrow" in m.content]
    assert pings_of(start) == [world.bob.id]
    await world.restart()
    await run_jobs(world)
    await world.discord.click(post, "Handed over", world.alice)  # the buttons work after the restart
    world.clock.current = at("12-02")
    await run_jobs(world)
    await world.restart()
    await run_jobs(world)
    texts = [m.content for m in thread_messages(world, post)]
    assert sum("starts tomorrow" in t for t in texts) == 1
    assert sum("due back tomorrow" in t for t in texts) == 1


async def test_overdue_on_days_1_3_and_7_then_the_moderators(world: World) -> None:
    await world.discord.slash("config set", world.mod, mod_channel=world.guild.channel("shoutouts"))
    ladder = await share(world, world.alice)
    drill = await share(world, world.alice, "Drill")
    _, post = await borrow(world, world.bob, ladder, when="1-3 dec")
    _, other = await borrow(world, world.carol, drill, when="1-3 dec")
    for p in (post, other):
        await world.discord.click(p, "Approve", world.alice)
        await world.discord.click(p, "Handed over", world.alice)
    for day, expected in (("12-04", 1), ("12-06", 3), ("12-10", 7)):
        world.clock.current = at(day)
        await run_jobs(world)
        last = thread_messages(world, post)[-1]
        assert f"{expected} day" in last.content and pings_of(last) == [world.bob.id]
    assert loan_state(world, 1) == "overdue"
    (told,) = world.discord.channel_messages(world.guild.channel("shoutouts"))[-1:]
    assert "Loan #1" in told.content and "Loan #2" in told.content  # both loans, one merged message
    assert pings_of(told) == []
    stats = await world.discord.slash("stats", world.mod, period="all")
    assert "Overdue now (2)" in stats.text() and "moderators told" in stats.text()
    # No new request while one of yours is overdue.
    van = await share(world, world.carol, "Van", kind="space")
    r, none = await borrow(world, world.bob, van)
    assert none is None and private(r) and "overdue" in said(r)
    # Returned, and the owner says nothing for 48 hours: closed as return unconfirmed.
    await world.discord.click(post, "Returned", world.bob)
    world.clock.advance(hours=48, minutes=1)
    await run_jobs(world)
    assert rows(world, "SELECT state, closed_how FROM loans WHERE id = 1") == [("closed", "unconfirmed")]
    assert available(world, ladder) == 1
    assert "return unconfirmed" in world.discord.messages[post.id].text()


# -- the rules ------------------------------------------------------------------------------------------------
async def test_rules_self_three_open_max_days_quantity(world: World) -> None:
    ladder = await share(world, world.alice, max_days=3)
    r, none = await borrow(world, world.alice, ladder)
    assert none is None and "yours" in said(r)
    r, none = await borrow(world, world.bob, ladder, when="1-5 dec")
    assert none is None and "at most 3 days" in said(r)
    r, none = await borrow(world, world.bob, ladder, quantity=2)
    assert none is None and "between 1 and 1" in said(r)
    things = [await share(world, world.carol, f"Thing {i}") for i in range(4)]
    for thing in things[:3]:
        assert (await borrow(world, world.bob, thing))[1] is not None
    r, none = await borrow(world, world.bob, things[3])
    assert none is None and "3 open requests or loans" in said(r)
    assert rows(world, "SELECT count(*) FROM loans WHERE borrower_id = ?", world.bob.id) == [(3,)]


async def test_labour_at_most_the_weekly_hours_per_lender(world: World) -> None:
    help_ = await share(world, world.alice, "Bookkeeping help", kind="labour", quantity=20)
    assert (await borrow(world, world.bob, help_, when="1 dec", quantity=12))[1] is not None
    r, none = await borrow(world, world.carol, help_, when="2 dec", quantity=10)
    assert none is None and "8 are left" in said(r)
    assert (await borrow(world, world.carol, help_, when="2 dec", quantity=8))[1] is not None
    await world.discord.slash("config set", world.mod, labour_hours_per_week=30)
    dan = members(world, 1)[0]
    r, none = await borrow(world, dan, help_, when="9 dec", quantity=1)  # another week; all 20 hours are out
    assert none is None and "waiting list" in said(r)


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("@everyone ladder", "mentions"),
        ("<@123456789012345678>", "mentions"),
        ("<@&123456789012345678>", "mentions"),
        ("\u202eladder", "invisible"),
        ("lad\u200bder", "invisible"),
        ("x" * 2100, "at most 80"),
        ("a\x00b", "control characters"),
    ],
)
async def test_hostile_item_names_are_refused_and_nothing_stored(
    world: World, name: str, fragment: str
) -> None:
    r = await share_add(world, world.alice, name)
    assert private(r) and fragment in said(r), said(r)
    assert rows(world, "SELECT count(*) FROM shared_items") == [(0,)]


async def test_markdown_in_a_name_is_shown_inert(world: World) -> None:
    thing = await share(world, world.alice, "**Big** _ladder_ `x`")
    r, post = await borrow(world, world.bob, thing, note="for ~~the~~ sign")
    assert post is not None
    assert "\\*\\*Big\\*\\*" in post.embeds[0]["title"] and "\\~\\~the\\~\\~" in post.text()
    r, none = await borrow(world, world.carol, thing, note="hi @everyone")
    assert none is None and "mentions" in said(r)


# -- the numbers, listing, removal ----------------------------------------------------------------------------
async def test_give_and_take_on_profile_and_stats(world: World) -> None:
    await world.discord.slash("profile set", world.alice, business="Alice Accounts")
    ladder = await share(world, world.alice)
    hours = await share(world, world.alice, "Shop help", kind="labour", quantity=10)
    for thing, qty in ((ladder, None), (hours, 4)):
        _, post = await borrow(world, world.bob, thing, when="1-3 dec", quantity=qty)
        await world.discord.click(post, "Approve", world.alice)
        await world.discord.click(post, "Handed over", world.alice)
        await world.discord.submit(await world.discord.click(post, "Got it back", world.alice), world.alice)
    card = await world.discord.slash("profile view", world.bob, member=world.alice)
    assert "1 item, 4 hours" in card.text()
    stats = await world.discord.slash("stats", world.mod, period="all")
    text = stats.text()
    assert "2 loans started · 2 returned (100% on time)" in text and "4 labour hours shared" in text
    assert f"<@{world.alice.id}> — 2" in text and "Overdue now (0)" in text


async def test_list_find_and_autocomplete_show_what_is_free_first(world: World) -> None:
    ladder = await share(world, world.alice, "Ladder")
    await share(world, world.carol, "Step ladder", kind="equipment")
    _, post = await borrow(world, world.bob, ladder, when="1-3 dec")
    await world.discord.click(post, "Approve", world.alice)
    await world.discord.click(post, "Handed over", world.alice)
    choices = await world.discord.autocomplete("borrow", world.mod, "item", item="ladd", when="x")
    assert [c["name"] for c in choices] == [
        "Step ladder · equipment · available",
        "Ladder · equipment · out, due back Thu 3 Dec",
    ]
    found = await world.discord.slash("share find", world.mod, query="ladder")
    assert found.text().index("Step ladder") < found.text().index("due back Thu 3 Dec")
    listed = await world.discord.slash("share list", world.mod, member=world.alice)
    assert "Ladder" in listed.text() and "lent out" in listed.text()


async def test_remove_by_owner_and_by_moderator(world: World) -> None:
    ladder = await share(world, world.alice)
    _, post = await borrow(world, world.bob, ladder)
    r = await world.discord.slash("share remove", world.bob, item=str(ladder))
    assert private(r) and "only remove things you share" in said(r)
    r = await world.discord.slash("mod remove-share", world.bob, item_id=ladder, reason="spam")
    assert private(r) and "Only moderators" in said(r)
    r = await world.discord.slash("mod remove-share", world.mod, item_id=ladder, reason="not a real ladder")
    assert "removed" in said(r) and loan_state(world) == "cancelled"
    assert world.discord.messages[post.id].labels() == []
    assert rows(
        world, "SELECT action, target_type, target_id FROM mod_audit WHERE action = 'remove_share'"
    ) == [("remove_share", "member", world.alice.id)]
    r, none = await borrow(world, world.carol, ladder)
    assert none is None and "can't find" in said(r)


async def test_twenty_five_things_at_most_and_all_of_them_listed(world: World) -> None:
    for i in range(25):
        await share(world, world.alice, f"{i:02d} " + "x" * 77, quantity=1000)
    r = await share_add(world, world.alice, "One more")
    assert private(r) and "25 things" in said(r)
    listed = await world.discord.slash("share list", world.bob, member=world.alice)
    assert listed.text().count("1000 of 1000 items free") == 25  # within Discord's limits (checked by spec)
    found = await world.discord.slash("share find", world.bob, query="x")
    shown = found.text().count("1000 of 1000 items free")
    assert shown >= 20 and f"… and {25 - shown} more" in found.text()  # the rest, counted, not cut mid-line


async def test_a_post_discord_refuses_leaves_nothing_asked(world: World) -> None:
    ladder = await share(world, world.alice)
    world.discord.fail("POST", f"/channels/{world.guild.channel('general')}/messages", 403)
    r, post = await borrow(world, world.bob, ladder)
    assert post is None and private(r) and "nothing was asked" in said(r)
    assert rows(world, "SELECT state FROM loans") == [("withdrawn",)]
    assert available(world, ladder) == 1
    assert rows(world, "SELECT count(*) FROM jobs WHERE state = 'due'") == [(0,)]
    r, post = await borrow(world, world.bob, ladder)  # and the rules don't count it
    assert post is not None, said(r)


async def test_a_dispute_tells_the_moderators(world: World) -> None:
    await world.discord.slash("config set", world.mod, mod_channel=world.guild.channel("shoutouts"))
    ladder = await share(world, world.alice)
    _, post = await borrow(world, world.bob, ladder)
    for label, who in (("Approve", world.alice), ("Handed over", world.alice), ("Returned", world.bob)):
        await world.discord.click(post, label, who)
    await world.discord.click(post, "Not back", world.alice)
    assert loan_state(world) == "disputed" and available(world, ladder) == 0
    (told,) = world.discord.channel_messages(world.guild.channel("shoutouts"))
    assert "disputes the return" in told.content and pings_of(told) == []
    world.clock.advance(days=3)
    await run_jobs(world)
    assert loan_state(world) == "disputed"  # no "return unconfirmed" closing a dispute
    await world.discord.submit(await world.discord.click(post, "Got it back", world.alice), world.alice)
    assert loan_state(world) == "closed" and available(world, ladder) == 1


async def test_erasing_a_lender_ends_her_loans_and_tells_the_next_in_line(world: World) -> None:
    ladder = await share(world, world.alice)
    drill = await share(world, world.bob, "Drill")
    await borrow(world, world.carol, ladder)
    _, theirs = await borrow(world, world.alice, drill)
    r, none = await borrow(world, world.carol, drill)
    assert none is None and "number 1" in said(r)
    ask = await world.discord.slash("privacy delete", world.alice)
    await world.discord.click(ask.message, "Erase my data", world.alice)
    assert rows(world, "SELECT state, closed_how FROM loans ORDER BY id") == [
        ("cancelled", "removed"), ("cancelled", "erased"),
    ]  # fmt: skip
    assert rows(world, "SELECT name, removed_at IS NOT NULL FROM shared_items WHERE id = ?", ladder) == [
        ("(erased)", 1)
    ]
    told = world.discord.channel_messages(world.guild.channel("general"))[-1]
    assert pings_of(told) == [world.carol.id] and "held for you" in told.content  # Bob's drill is free again
    r = await world.discord.click(theirs, "Approve", world.bob)
    assert private(r) and "cancelled" in said(r)


async def test_three_open_holds_under_concurrent_requests(world: World) -> None:
    things = [await share(world, world.carol, f"Thing {i}") for i in range(6)]
    results = await asyncio.gather(
        *(world.discord.slash("borrow", world.bob, item=str(t), when="1 dec") for t in things)
    )
    assert sum("Asked" in said(r) for r in results) == 3
    assert sum("3 open requests or loans" in said(r) for r in results) == 3
    assert rows(world, "SELECT count(*) FROM loans") == [(3,)]
    assert sum(available(world, t) for t in things) == 3


async def test_another_servers_thing_cannot_be_borrowed_or_seen(world: World) -> None:
    ladder = await share(world, world.alice)
    other = world.discord.add_guild("Elsewhere")
    world.discord.join(world.bob, other)
    world.discord.add_guild_live(other)
    where = {"guild": other, "channel": other.channel("general")}
    r = await world.discord.slash("borrow", world.bob, item=str(ladder), when="1 dec", **where)
    assert private(r) and "can't find" in said(r)
    r = await world.discord.slash("share find", world.bob, query="ladder", **where)
    assert "Nobody shares" in said(r)
    assert available(world, ladder) == 1 and rows(world, "SELECT count(*) FROM loans") == [(0,)]
