"""/agreement through discord.py's real parser: modal, buddy select, Accept/Decline, edit, cancel."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

from buddybot.testing.harness import FakeUser, Result, Sent
from tests.conftest import World

TERMS = {
    "title": "Bakery rebrand",
    "scope": "New logo, shop sign and a one-page website for Riverside Bakery.",
    "terms": "Payment: client pays the lead within 14 days\nSplit: 50/30/20\nDeadlines: drafts by 3 Dec\n"
             "Brand use: each keeps their own brand; portfolio use allowed\nCancellation: 7 days' notice",
    "fee": "£2,400 total, half upfront",
    "dates": "1-5 dec",
}  # fmt: skip


def rows(world: World, sql: str, *params: object) -> list[tuple]:
    with world.connect() as conn:
        return conn.execute(sql, params).fetchall()


def state_of(world: World, agreement_id: int) -> str:
    return rows(world, "SELECT state FROM agreements WHERE id = ?", agreement_id)[0][0]


def posted(world: World, result: Result) -> Sent:
    """The one channel message the interaction posted."""
    assert len(result.posts) == 1, [c.route for c in result.calls]
    return world.discord.messages[int(result.posts[0].response["id"])]


def refused(result: Result, fragment: str) -> None:
    assert result.response["type"] == 4, result.response
    assert result.ephemeral, result.response
    assert result.allowed_mentions == {"parse": []}
    assert fragment in result.content, result.content


def pinged(allowed: dict[str, Any] | None) -> set[int]:
    assert allowed is not None and allowed["parse"] == [], allowed
    return {int(u) for u in allowed.get("users", [])}


async def draft(world: World, lead: FakeUser, **changes: str) -> Result:
    """`/agreement new` + the modal: returns the ephemeral reply carrying the buddy select."""
    fields = {**TERMS, **changes}
    opened = await world.discord.slash("agreement new", lead, title=fields["title"])
    return await world.discord.submit(opened, lead, **fields)


async def propose(world: World, lead: FakeUser, buddies: list[FakeUser], **changes: str) -> tuple[int, Sent]:
    submitted = await draft(world, lead, **changes)
    agreement_id = int(
        submitted.message.find_component("Pick your buddies (1–21)")["custom_id"].split(":")[1]
    )
    chosen = await world.discord.select(submitted.message, "Pick your buddies (1–21)", lead, buddies)
    return agreement_id, posted(world, chosen)


async def agreed(world: World, lead: FakeUser, buddies: list[FakeUser], **changes: str) -> tuple[int, Sent]:
    agreement_id, post = await propose(world, lead, buddies, **changes)
    for buddy in buddies:
        await world.discord.click(post, "Accept", buddy)
    assert state_of(world, agreement_id) == "agreed"
    return agreement_id, post


def announcements(world: World, fragment: str) -> list[Sent]:
    return [
        m for m in world.discord.channel_messages(world.guild.channel("general")) if fragment in m.content
    ]


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


# -- decline, cancel -------------------------------------------------------------------------------
async def test_decline_closes_it_and_tells_the_lead_only(world: World) -> None:
    agreement_id, post = await propose(world, world.alice, [world.bob, world.carol])
    await world.discord.click(post, "Accept", world.bob)
    carols_view = (
        await world.discord.slash("agreement view", world.carol, agreement_id=agreement_id)
    ).message
    r = await world.discord.click(post, "Decline", world.carol)
    assert r.response["type"] == 7
    assert state_of(world, agreement_id) == "declined"
    assert rows(world, "SELECT closed_by FROM agreements") == [(world.carol.id,)]
    assert post.components == [] and "declined" in post.text()
    assert pinged(r.posts[0].json["allowed_mentions"]) == {world.alice.id}
    refused(await world.discord.click(carols_view, "Accept", world.carol), "declined")


async def test_cancel_by_a_party_with_reason(world: World) -> None:
    agreement_id, post = await agreed(world, world.alice, [world.bob, world.carol])
    refused(
        await world.discord.slash("agreement cancel", world.mod, agreement_id=agreement_id),
        "Only the lead or a buddy",
    )
    before = world.db.round_trips
    r = await world.discord.slash(
        "agreement cancel", world.bob, agreement_id=agreement_id, reason="Client went bust"
    )
    assert world.db.round_trips - before == 1
    assert r.ephemeral and "cancelled" in r.content
    assert rows(world, "SELECT state, closed_by, reason FROM agreements") == [
        ("cancelled", world.bob.id, "Client went bust")
    ]
    [notice] = announcements(world, "was cancelled")
    assert "Client went bust" in notice.content
    assert pinged(r.posts[0].json["allowed_mentions"]) == {world.alice.id, world.carol.id}
    assert "Cancelled" in post.text()
    refused(
        await world.discord.slash("agreement cancel", world.alice, agreement_id=agreement_id), "cancelled"
    )
    refused(
        await world.discord.slash("agreement complete", world.alice, agreement_id=agreement_id), "cancelled"
    )


async def test_cancel_refuses_mentions_in_the_reason(world: World) -> None:
    agreement_id, _ = await propose(world, world.alice, [world.bob])
    r = await world.discord.slash(
        "agreement cancel", world.alice, agreement_id=agreement_id, reason="ask @everyone"
    )
    refused(r, "mentions")
    assert state_of(world, agreement_id) == "proposed"


async def test_a_draft_can_be_discarded_silently(world: World) -> None:
    await draft(world, world.alice)
    r = await world.discord.slash("agreement cancel", world.alice, agreement_id=1)
    assert r.ephemeral and r.posts == []
    assert state_of(world, 1) == "cancelled"


# -- completion and feedback -----------------------------------------------------------------------
async def test_complete_asks_everyone_and_stores_one_answer_each(world: World) -> None:
    d, alice, bob, carol = world.discord, world.alice, world.bob, world.carol
    agreement_id, _ = await propose(world, alice, [bob, carol])
    refused(
        await d.slash("agreement complete", alice, agreement_id=agreement_id), "Not every buddy has accepted"
    )
    post = _
    for buddy in (bob, carol):
        await d.click(post, "Accept", buddy)
    refused(await d.slash("agreement complete", bob, agreement_id=agreement_id), "Only the lead")

    r = await d.slash("agreement complete", alice, agreement_id=agreement_id)
    assert r.ephemeral and state_of(world, agreement_id) == "completed"
    ask = posted(world, r)
    assert "Would you work together again?" in ask.content
    assert ask.labels() == ["Yes, again", "No"]
    assert pinged(r.posts[0].json["allowed_mentions"]) == {bob.id, carol.id}

    await world.restart()  # the feedback buttons outlive the process
    before = world.db.round_trips
    yes = await d.click(ask, "Yes, again", bob)
    assert world.db.round_trips - before == 1
    assert yes.ephemeral and "noted: **yes**" in yes.content
    refused(await d.click(ask, "No", bob), "You already answered (yes)")
    refused(await d.click(ask, "No", world.mod), "Only the people who worked on this agreement")
    await d.click(ask, "No", alice)
    assert rows(world, "SELECT user_id, again FROM agreement_feedback ORDER BY user_id") == sorted(
        [(bob.id, 1), (alice.id, 0)]
    )

    opened = await d.click(yes.message, "Add a note", bob)
    assert opened.response["type"] == 9
    noted = await d.submit(opened, bob, note="Great to work with, on time.")
    assert noted.ephemeral and "Saved your note" in noted.content
    second = await d.click(yes.message, "Add a note", bob)
    refused(await d.submit(second, bob, note="Changed my mind"), "already left a note")
    assert rows(world, "SELECT note FROM agreement_feedback WHERE user_id = ?", bob.id) == [
        ("Great to work with, on time.",)
    ]

    shown = await d.slash("agreement view", world.mod, agreement_id=agreement_id)
    assert shown.ephemeral and "Completed" in shown.text()
    assert "Great to work with" not in shown.text() and "said" not in shown.text(), "double-blind"
    mine = await d.slash("agreement view", bob, agreement_id=agreement_id)
    assert "You said yes — Great to work with" in mine.text()
    refused(
        await d.slash("agreement view", d.add_user("eve", world.guild), agreement_id=agreement_id),
        "Only the lead",
    )

    await d.slash("profile set", bob, business="Bob Prints")
    card = await d.slash("profile view", alice, member=bob)
    assert "Jobs completed: 1" in card.text()


# -- first-job rule --------------------------------------------------------------------------------
async def test_first_job_rule_names_the_open_agreement_until_one_is_completed(world: World) -> None:
    d, alice, bob, carol = world.discord, world.alice, world.bob, world.carol
    first, post = await propose(world, alice, [bob], title="Bakery rebrand")

    submitted = await draft(world, carol, title="Wedding shoot")
    r = await d.select(submitted.message, "Pick your buddies (1–21)", carol, [alice, bob])
    refused(r, f"already share open agreement #{first} “Bakery rebrand”")
    assert state_of(world, 2) == "draft"
    assert rows(world, "SELECT count(*) FROM agreement_members WHERE agreement_id = 2") == [(1,)]
    ok = await d.select(submitted.message, "Pick your buddies (1–21)", carol, [alice])
    assert ok.response["type"] == 7 and state_of(world, 2) == "proposed"  # carol and alice share nothing yet

    await d.click(post, "Accept", bob)
    again = await draft(world, bob, title="Menu design")
    refused(
        await d.select(again.message, "Pick your buddies (1–21)", bob, [alice]), f"#{first} “Bakery rebrand”"
    )

    await d.slash("agreement complete", alice, agreement_id=first)
    ok = await d.select(again.message, "Pick your buddies (1–21)", bob, [alice])
    assert ok.response["type"] == 7 and state_of(world, 3) == "proposed"
    fourth, _ = await propose(world, alice, [bob], title="Second menu")  # they have completed one together
    assert state_of(world, fourth) == "proposed"


# -- restarts, views, exports ----------------------------------------------------------------------
async def test_buttons_and_the_select_survive_a_restart(world: World) -> None:
    submitted = await draft(world, world.alice)
    await world.restart()
    chosen = await world.discord.select(
        submitted.message, "Pick your buddies (1–21)", world.alice, [world.bob, world.carol]
    )
    post = posted(world, chosen)
    await world.discord.click(post, "Accept", world.bob)
    await world.restart()
    await world.discord.click(post, "Accept", world.carol)
    assert state_of(world, 1) == "agreed"
    assert len(announcements(world, "is agreed")) == 1


async def test_view_and_markdown_export(world: World) -> None:
    d, alice, bob, carol = world.discord, world.alice, world.bob, world.carol
    agreement_id, post = await propose(world, alice, [bob, carol])
    refused(
        await d.slash("agreement view", alice, agreement_id=agreement_id, export=True), "hasn't been agreed"
    )
    world.clock.advance(hours=1)
    await d.click(post, "Accept", bob)
    world.clock.advance(hours=2)
    await d.click(post, "Accept", carol)

    before = world.db.round_trips
    r = await d.slash("agreement view", bob, agreement_id=agreement_id, export=True)
    assert world.db.round_trips - before == 1
    assert r.ephemeral and "Version 1" in r.text()
    [(name, blob)] = r.message.data["files"]
    assert name == "agreement-1-v1.md"
    text = blob.decode()
    digest = rows(world, "SELECT terms_hash FROM agreement_versions")[0][0]
    assert TERMS["terms"] in text and TERMS["scope"] in text and TERMS["fee"] in text and digest in text
    assert f"| Bob (id {bob.id}) | party | 2026-11-25T11:00:00+00:00 |" in text
    assert f"| Carol (id {carol.id}) | party | 2026-11-25T13:00:00+00:00 |" in text
    assert f"| Alice (id {alice.id}) | lead | 2026-11-25T10:00:00+00:00 |" in text  # accepted by proposing
    assert "Agreed at: 2026-11-25T13:00:00+00:00" in text

    refused(await d.slash("agreement view", world.mod, agreement_id=agreement_id + 1), "no agreement #2")
    assert (await d.slash("agreement view", world.mod, agreement_id=agreement_id)).ephemeral
    eve = d.add_user("eve", world.guild)
    refused(await d.slash("agreement view", eve, agreement_id=agreement_id), "Only the lead, the buddies")


async def test_a_pending_party_can_accept_from_the_view(world: World) -> None:
    agreement_id, post = await propose(world, world.alice, [world.bob])
    shown = await world.discord.slash("agreement view", world.bob, agreement_id=agreement_id)
    assert shown.message.labels() == ["Accept", "Decline"]
    r = await world.discord.click(shown.message, "Accept", world.bob)
    assert r.response["type"] == 7 and state_of(world, agreement_id) == "agreed"
    assert post.components == [] and "Agreed by everyone" in post.text()  # the public post follows


async def test_when_the_channel_refuses_the_post_the_lead_is_told(world: World) -> None:
    submitted = await draft(world, world.alice)
    world.discord.fail("POST", f"/channels/{world.guild.channel('general')}/messages", 403)
    r = await world.discord.select(submitted.message, "Pick your buddies (1–21)", world.alice, [world.bob])
    assert r.response["type"] == 7
    assert any("couldn't post" in (c.json or {}).get("content", "") for c in r.followups)
    assert rows(world, "SELECT state, message_id FROM agreements") == [("proposed", None)]


async def test_list_and_autocomplete_show_mine_only(world: World) -> None:
    first, _ = await propose(world, world.alice, [world.bob], title="Bakery rebrand")
    await propose(world, world.carol, [world.mod], title="Gym flyers")
    r = await world.discord.slash("agreement list", world.bob)
    assert r.ephemeral and "#1" in r.text() and "Bakery rebrand" in r.text() and "0/1 accepted" in r.text()
    assert "Gym flyers" not in r.text()
    choices = await world.discord.autocomplete("agreement view", world.alice, "agreement_id", agreement_id=1)
    assert [c["value"] for c in choices] == [first]
    empty = await world.discord.slash("agreement list", world.discord.add_user("eve", world.guild))
    assert "no agreements yet" in empty.content


async def test_an_agreement_of_another_server_is_invisible(world: World) -> None:
    agreement_id, _ = await propose(world, world.alice, [world.bob])
    other = world.discord.add_guild("Other Town")
    world.discord.join(world.bob, other)
    r = await world.discord.slash("agreement view", world.bob, guild=other, agreement_id=agreement_id)
    refused(r, f"no agreement #{agreement_id}")
