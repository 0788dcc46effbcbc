"""/agreement through discord.py's real parser: modal, buddy select, Accept/Decline, edit, cancel."""

from __future__ import annotations

import asyncio
import hashlib
import json

from tests.conftest import World
from tests.helpers_agreements import (
    TERMS,
    announcements,
    draft,
    pinged,
    posted,
    propose,
    refused,
    rows,
    state_of,
)


# -- the whole flow --------------------------------------------------------------------------------
async def test_full_flow_with_three_buddies(world: World) -> None:
    d, alice, bob, carol = world.discord, world.alice, world.bob, world.carol
    dan = d.add_user("dan", world.guild)
    before = world.db.round_trips
    opened = await d.slash("agreement new", alice, title="Bakery rebrand")
    assert world.db.round_trips == before  # opening the modal needs no database
    modal = opened.response
    assert modal["type"] == 9 and modal["data"]["title"] == "New agreement"
    labels = {c["label"]: c["component"] for c in modal["data"]["components"]}
    assert [c["type"] for c in modal["data"]["components"]] == [18] * 5
    assert list(labels) == ["Title", "Scope", "Terms", "Fee", "Dates"]
    assert labels["Title"]["value"] == "Bakery rebrand"
    assert labels["Terms"]["value"].startswith("Payment: \nSplit: \nDeadlines: \nBrand use: \nCancellation:")

    before = world.db.round_trips
    submitted = await d.submit(opened, alice, **TERMS)
    assert world.db.round_trips - before == 1
    assert submitted.ephemeral and "draft #1" in submitted.content
    select = submitted.message.find_component("Pick your buddies (1–21)")
    assert (select["type"], select["min_values"], select["max_values"]) == (5, 1, 21)
    assert select["custom_id"] == "agreement:1:buddies"
    assert rows(world, "SELECT state, lead_id, version FROM agreements") == [("draft", alice.id, 1)]

    before = world.db.round_trips
    chosen = await d.select(submitted.message, "Pick your buddies (1–21)", alice, [bob, carol, dan])
    assert world.db.round_trips - before == 2  # propose + remember the post
    assert chosen.response["type"] == 7 and chosen.data["components"] == []
    assert "posted" in chosen.content
    post = posted(world, chosen)
    assert post.channel_id == world.guild.channel("general")
    assert pinged(chosen.posts[0].json["allowed_mentions"]) == {bob.id, carol.id, dan.id}
    assert all(f"<@{u.id}>" in post.content for u in (bob, carol, dan))
    assert post.labels() == ["Accept", "Decline"]
    assert (
        "Bakery rebrand" in post.text()
        and "£2,400" in post.text()
        and "Tue 1 Dec – Sat 5 Dec 2026" in post.text()
    )
    assert rows(world, "SELECT state, message_id FROM agreements") == [("proposed", post.id)]
    assert rows(world, "SELECT user_id, role FROM agreement_members ORDER BY rowid") == [
        (alice.id, "lead"),
        (bob.id, "party"),
        (carol.id, "party"),
        (dan.id, "party"),
    ]

    for buddy in (bob, carol):
        r = await d.click(post, "Accept", buddy)
        assert r.response["type"] == 7 and r.posts == []
        assert state_of(world, 1) == "proposed"
    assert "2/3 accepted" in post.text()
    last = await d.click(post, "Accept", dan)
    assert state_of(world, 1) == "agreed"
    assert post.components == [] and "Agreed by everyone" in post.text()
    [announcement] = announcements(world, "is agreed")
    assert pinged(last.posts[0].json["allowed_mentions"]) == {alice.id, bob.id, carol.id, dan.id}
    assert "all 3 buddies accepted version 1" in announcement.content

    digest = rows(world, "SELECT terms_hash FROM agreement_versions WHERE agreement_id = 1")[0][0]
    canonical = json.dumps(
        {
            "title": TERMS["title"],
            "scope": TERMS["scope"],
            "terms": TERMS["terms"],
            "fee": TERMS["fee"],
            "dates": {"start": "2026-12-01", "end": "2026-12-05"},
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    assert digest == hashlib.sha256(canonical.encode()).hexdigest()
    accepted = rows(world, "SELECT user_id, version, terms_hash FROM agreement_acceptances")
    assert {(u, v, h) for u, v, h in accepted} == {(u.id, 1, digest) for u in (alice, bob, carol, dan)}


async def test_accept_click_is_one_round_trip_and_one_rest_call(world: World) -> None:
    _, post = await propose(world, world.alice, [world.bob, world.carol])
    before = world.db.round_trips
    r = await world.discord.click(post, "Accept", world.bob)
    assert world.db.round_trips - before == 1
    assert [c.route for c in r.calls] == [f"POST /interactions/{r.interaction_id}/{r.token}/callback"]


async def test_non_party_click_is_refused_and_nothing_stored(world: World) -> None:
    agreement_id, post = await propose(world, world.alice, [world.bob])
    before = rows(world, "SELECT * FROM agreement_acceptances")
    for label in ("Accept", "Decline"):
        r = await world.discord.click(post, label, world.carol)
        refused(r, "Only the buddies picked for this agreement")
    r = await world.discord.click(post, "Accept", world.mod)
    refused(r, "Only the buddies picked")
    lead = await world.discord.click(post, "Accept", world.alice)
    refused(lead, "your acceptance is already recorded")
    lead = await world.discord.click(post, "Decline", world.alice)
    refused(lead, "/agreement cancel")
    assert rows(world, "SELECT * FROM agreement_acceptances") == before
    assert state_of(world, agreement_id) == "proposed"
    assert post.labels() == ["Accept", "Decline"]


async def test_second_accept_click_is_harmless(world: World) -> None:
    agreement_id, post = await propose(world, world.alice, [world.bob, world.carol])
    await world.discord.click(post, "Accept", world.bob)
    again = await world.discord.click(post, "Accept", world.bob)
    refused(again, "You already accepted version 1")
    assert rows(world, "SELECT count(*) FROM agreement_acceptances WHERE user_id = ?", world.bob.id) == [(1,)]
    assert state_of(world, agreement_id) == "proposed"


async def test_concurrent_accepts_agree_exactly_once(world: World) -> None:
    buddies = [world.bob, world.carol] + [world.discord.add_user(f"buddy{i}", world.guild) for i in range(6)]
    agreement_id, post = await propose(world, world.alice, buddies)
    results = await asyncio.gather(*(world.discord.click(post, "Accept", b) for b in buddies))
    assert all(r.response["type"] == 7 for r in results)
    assert state_of(world, agreement_id) == "agreed"
    assert len(announcements(world, "is agreed")) == 1
    assert len({c.response["id"] for r in results for c in r.posts}) == 1  # calls overlap under gather
    assert rows(world, "SELECT count(*) FROM agreement_acceptances WHERE user_id != ?", world.alice.id) == [
        (8,)
    ]


# -- buddies ---------------------------------------------------------------------------------------
async def test_twenty_two_buddies_are_refused_even_in_a_forged_payload(world: World) -> None:
    submitted = await draft(world, world.alice)
    assert submitted.message.find_component("Pick your buddies (1–21)")["max_values"] == 21
    crowd = [world.discord.add_user(f"member{i}", world.guild) for i in range(22)]
    r = await world.discord.select(submitted.message, "Pick your buddies (1–21)", world.alice, crowd)
    refused(r, "between 1 and 21 buddies (you picked 22)")
    assert state_of(world, 1) == "draft"
    assert rows(world, "SELECT count(*) FROM agreement_members WHERE role = 'party'") == [(0,)]
    ok = await world.discord.select(submitted.message, "Pick your buddies (1–21)", world.alice, crowd[:21])
    assert ok.response["type"] == 7 and state_of(world, 1) == "proposed"
    assert len(pinged(ok.posts[0].json["allowed_mentions"])) == 21


async def test_bots_and_the_lead_themself_are_refused(world: World) -> None:
    robot = world.discord.add_user("otherbot", world.guild, bot=True)
    submitted = await draft(world, world.alice)
    r = await world.discord.select(
        submitted.message, "Pick your buddies (1–21)", world.alice, [world.bob, robot]
    )
    refused(r, "Bots can't be buddies")
    r = await world.discord.select(
        submitted.message, "Pick your buddies (1–21)", world.alice, [world.alice, world.bob]
    )
    refused(r, "you can't also be one of its buddies")
    r = await world.discord.select(submitted.message, "Pick your buddies (1–21)", world.bob, [world.carol])
    refused(r, "Only the lead picks the buddies")
    assert state_of(world, 1) == "draft"
    assert rows(world, "SELECT count(*) FROM agreement_members") == [(1,)]


# -- edit ------------------------------------------------------------------------------------------
async def test_edit_makes_a_new_version_and_resets_every_acceptance(world: World) -> None:
    d, alice, bob, carol = world.discord, world.alice, world.bob, world.carol
    agreement_id, old_post = await propose(world, alice, [bob, carol])
    await d.click(old_post, "Accept", bob)
    carols_view = (
        await d.slash("agreement view", carol, agreement_id=agreement_id)
    ).message  # version 1 buttons

    before = world.db.round_trips
    opened = await d.slash("agreement edit", alice, agreement_id=agreement_id)
    assert world.db.round_trips - before == 1
    prefilled = {c["component"]["custom_id"]: c["component"].get("value") for c in opened.data["components"]}
    assert prefilled == {**TERMS, "dates": "2026-12-01 to 2026-12-05"}
    before = world.db.round_trips
    saved = await d.submit(opened, alice, **{**prefilled, "fee": "£2,600 total, half upfront"})
    assert world.db.round_trips - before == 2
    assert saved.ephemeral and "version 2" in saved.content
    assert rows(world, "SELECT version, state FROM agreements") == [(2, "proposed")]
    assert old_post.components == [] and "Replaced by version 2" in old_post.content
    new_post = posted(world, saved)
    assert pinged(saved.posts[0].json["allowed_mentions"]) == {bob.id, carol.id}
    assert "£2,600" in new_post.text() and "0/2 accepted" in new_post.text()

    refused(await d.click(carols_view, "Accept", carol), "The terms changed since this post")
    await d.click(new_post, "Accept", carol)
    assert state_of(world, agreement_id) == "proposed"  # bob's version-1 acceptance does not count
    await d.click(new_post, "Accept", bob)
    assert state_of(world, agreement_id) == "agreed"
    hashes = dict(rows(world, "SELECT version, terms_hash FROM agreement_versions"))
    assert hashes[1] != hashes[2]
    assert rows(
        world, "SELECT user_id, version FROM agreement_acceptances WHERE user_id = ? ORDER BY version", bob.id
    ) == [(bob.id, 1), (bob.id, 2)]

    locked = await d.slash("agreement edit", alice, agreement_id=agreement_id)
    refused(locked, "they are locked")


async def test_edit_with_the_same_terms_changes_nothing(world: World) -> None:
    agreement_id, post = await propose(world, world.alice, [world.bob, world.carol])
    await world.discord.click(post, "Accept", world.bob)
    opened = await world.discord.slash("agreement edit", world.alice, agreement_id=agreement_id)
    same = {c["component"]["custom_id"]: c["component"]["value"] for c in opened.data["components"]}
    r = await world.discord.submit(opened, world.alice, **same)
    assert r.ephemeral and "Nothing changed" in r.content and r.posts == []
    assert rows(world, "SELECT version FROM agreements") == [(1,)]
    assert "1/2 accepted" in post.text() and post.labels() == ["Accept", "Decline"]


async def test_only_the_lead_edits(world: World) -> None:
    agreement_id, _ = await propose(world, world.alice, [world.bob])
    refused(
        await world.discord.slash("agreement edit", world.bob, agreement_id=agreement_id), "Only the lead"
    )
    refused(await world.discord.slash("agreement edit", world.alice, agreement_id=999), "no agreement #999")


async def test_bad_terms_are_refused_nothing_stored_and_the_text_kept(world: World) -> None:
    opened = await world.discord.slash("agreement new", world.alice, title="Bakery rebrand")
    r = await world.discord.submit(opened, world.alice, **{**TERMS, "dates": "someday maybe"})
    refused(r, "someday maybe")
    assert r.message.labels() == ["Fix it"]
    assert rows(world, "SELECT count(*) FROM agreements") == [(0,)]
    reopened = await world.discord.click(r.message, "Fix it", world.alice)
    values = {c["component"]["custom_id"]: c["component"].get("value") for c in reopened.data["components"]}
    assert values == {**TERMS, "dates": "someday maybe"}
    for bad, fragment in (
        ({"scope": "ping @everyone"}, "mentions"),
        ({"terms": "Payment: \nSplit: "}, "fill in the terms"),
        ({"fee": "x" * 101}, "at most 100"),
        ({"dates": "1 jan 2020"}, "already over"),
    ):
        again = await world.discord.submit(opened, world.alice, **{**TERMS, **bad})
        refused(again, fragment)
    assert rows(world, "SELECT count(*) FROM agreements") == [(0,)]
