"""/agreement through discord.py's real parser: modal, buddy select, Accept/Decline, edit, cancel."""

from __future__ import annotations

from tests.conftest import World
from tests.helpers_agreements import (
    TERMS,
    agreed,
    announcements,
    draft,
    pinged,
    posted,
    propose,
    refused,
    rows,
    state_of,
)


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
