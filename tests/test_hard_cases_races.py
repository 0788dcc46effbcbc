"""Hard cases: races, Discord faults on every REST call the bot makes, isolation and forged components.

Races run through `asyncio.gather` of harness actions: every gateway frame is fed before any handler
runs (nothing in between awaits), so the handlers really overlap on the one database connection.
"""

from __future__ import annotations

import asyncio
import re

import pytest

from tests.conftest import World
from tests.helpers_guards import (
    BUDDY_SELECT,
    CLOSE,
    DECLINE,
    PICK,
    TAKE,
    TERMS,
    agreed,
    ask,
    draft_agreement,
    insert_need,
    need_post,
    offerers,
    posted,
    propose,
    rows,
)
from tests.helpers_hard_cases import (
    N,
    _need_with_offerers,
    _ping_counters_match,
    answered,
    channel_posts,
    count,
)

pytestmark = pytest.mark.usefixtures("no_first_answer_window")  # the window: test_lifecycle.py


# -- races: 50 concurrent clicks on every button, double submits of every modal ---------------------------
async def test_fifty_accepts_by_one_party_count_once_and_agree_once(world: World) -> None:
    agreement_id, post = await propose(world, world.alice, [world.bob, world.carol])
    first = await asyncio.gather(*(world.discord.click(post, "Accept", world.bob) for _ in range(N)))
    assert all(answered(r) for r in first)
    assert count(world, "SELECT count(*) FROM agreement_acceptances WHERE user_id = ?", world.bob.id) == 1
    last = await asyncio.gather(*(world.discord.click(post, "Accept", world.carol) for _ in range(N)))
    assert all(answered(r) for r in last)
    assert rows(world, "SELECT state FROM agreements WHERE id = ?", agreement_id) == [("agreed",)]
    assert count(world, "SELECT count(*) FROM agreement_acceptances WHERE user_id <> ?", world.alice.id) == 2
    assert len(channel_posts(last, "is agreed")) == 1
    assert count(world, "SELECT value FROM stat_counts WHERE metric = 'agr_agreed' AND kind = 'a'") == 1


async def test_every_party_accepting_at_once_agrees_exactly_once(world: World) -> None:
    buddies = [world.discord.add_user(f"buddy{i}", world.guild) for i in range(21)]
    agreement_id, post = await propose(world, world.alice, buddies)
    results = await asyncio.gather(
        *(world.discord.click(post, "Accept", b) for b in buddies for _ in range(2))
    )
    assert all(answered(r) for r in results)
    assert rows(world, "SELECT state FROM agreements WHERE id = ?", agreement_id) == [("agreed",)]
    assert count(world, "SELECT count(*) FROM agreement_acceptances WHERE user_id <> ?", world.alice.id) == 21
    assert len(channel_posts(results, "is agreed")) == 1


async def test_fifty_declines_close_once_and_tell_the_lead_once(world: World) -> None:
    agreement_id, post = await propose(world, world.alice, [world.bob])
    results = await asyncio.gather(*(world.discord.click(post, "Decline", world.bob) for _ in range(N)))
    assert all(answered(r) for r in results)
    assert rows(world, "SELECT state FROM agreements WHERE id = ?", agreement_id) == [("declined",)]
    assert len(channel_posts(results, "declined agreement")) == 1


async def test_fifty_buddy_picks_propose_once(world: World) -> None:
    submitted = await draft_agreement(world, world.alice)
    results = await asyncio.gather(
        *(
            world.discord.select(submitted.message, BUDDY_SELECT, world.alice, [world.bob, world.carol])
            for _ in range(N)
        )
    )
    assert all(answered(r) for r in results)
    assert count(world, "SELECT count(*) FROM agreements WHERE state = 'proposed'") == 1
    assert count(world, "SELECT count(*) FROM agreement_members WHERE role = 'party'") == 2
    assert len(channel_posts(results)) == 1


async def test_fifty_feedback_clicks_store_one_answer(world: World) -> None:
    agreement_id, _ = await agreed(world, world.alice, [world.bob])
    feedback = posted(
        world, await world.discord.slash("agreement complete", world.alice, agreement_id=agreement_id)
    )
    clicks = [world.discord.click(feedback, "Yes, again" if i % 2 else "No", world.bob) for i in range(N)]
    results = await asyncio.gather(*clicks)
    assert all(answered(r) for r in results)
    assert count(world, "SELECT count(*) FROM agreement_feedback") == 1
    assert count(world, "SELECT value FROM stat_counts WHERE metric = 'again_answers' AND kind = 'a'") == 1


async def test_double_submit_of_the_new_agreement_modal_makes_one_draft(world: World) -> None:
    opened = await world.discord.slash("agreement new", world.alice, title=TERMS["title"])
    results = await asyncio.gather(*(world.discord.submit(opened, world.alice, **TERMS) for _ in range(2)))
    assert count(world, "SELECT count(*) FROM agreements") == 1, [r.text() for r in results]


async def test_double_submit_of_the_edit_modal_makes_one_version(world: World) -> None:
    agreement_id, _ = await propose(world, world.alice, [world.bob])
    opened = await world.discord.slash("agreement edit", world.alice, agreement_id=agreement_id)
    changed = {**TERMS, "fee": "£3,000"}
    results = await asyncio.gather(*(world.discord.submit(opened, world.alice, **changed) for _ in range(2)))
    assert all(answered(r) for r in results if r.callbacks)
    assert rows(world, "SELECT max(version), count(*) FROM agreement_versions") == [(2, 2)]


async def test_double_submit_of_the_note_modal_keeps_one_note(world: World) -> None:
    agreement_id, _ = await agreed(world, world.alice, [world.bob])
    feedback = posted(
        world, await world.discord.slash("agreement complete", world.alice, agreement_id=agreement_id)
    )
    thanks = await world.discord.click(feedback, "Yes, again", world.bob)
    opened = await world.discord.click(thanks.message, "Add a note", world.bob)
    await asyncio.gather(
        *(world.discord.submit(opened, world.bob, note="Lovely to work with") for _ in range(2))
    )
    assert rows(world, "SELECT note FROM agreement_feedback") == [("Lovely to work with",)]


async def test_fifty_clicks_on_modal_buttons_open_modals_and_write_nothing(world: World) -> None:
    """ "Add a note" and "Fix it" only open a form: fifty at once open fifty forms and store nothing."""
    agreement_id, _ = await agreed(world, world.alice, [world.bob])
    feedback = posted(
        world, await world.discord.slash("agreement complete", world.alice, agreement_id=agreement_id)
    )
    thanks = await world.discord.click(feedback, "Yes, again", world.bob)
    opened = await world.discord.slash("agreement new", world.carol, title="Job")
    refused = await world.discord.submit(opened, world.carol, **{**TERMS, "dates": "yesterday and never"})
    before = [rows(world, f"SELECT * FROM {t}") for t in ("agreements", "agreement_feedback")]
    results = await asyncio.gather(
        *(world.discord.click(thanks.message, "Add a note", world.bob) for _ in range(N)),
        *(world.discord.click(refused.message, "Fix it", world.carol) for _ in range(N)),
    )
    assert [r.response["type"] for r in results] == [9] * (2 * N)
    assert [rows(world, f"SELECT * FROM {t}") for t in ("agreements", "agreement_feedback")] == before


async def test_fifty_simultaneous_shoutouts_post_once(world: World) -> None:
    results = await asyncio.gather(
        *(
            world.discord.slash("shoutout", world.alice, member=world.bob, message="Thank you!")
            for _ in range(N)
        )
    )
    assert all(answered(r) for r in results)
    assert count(world, "SELECT count(*) FROM shoutouts") == 1
    assert len(channel_posts(results)) == 1


async def test_fifteen_skill_limit_holds_under_concurrent_adds(world: World) -> None:
    for i in range(13):
        await world.discord.slash("offer add", world.alice, skill=f"skill {i}")
    results = await asyncio.gather(
        *(world.discord.slash("offer add", world.alice, skill=f"extra {i % 10}") for i in range(N))
    )
    assert all(answered(r) for r in results)
    assert count(world, "SELECT count(*) FROM offers WHERE user_id = ?", world.alice.id) == 15
    assert sum(r.content.startswith("Added") for r in results) == 2


async def test_fifty_removals_of_one_need_audit_once(world: World) -> None:
    need_id = insert_need(world, world.alice.id)
    results = await asyncio.gather(
        *(world.discord.slash("mod remove-need", world.mod, need_id=need_id, reason="spam") for _ in range(N))
    )
    assert sum("is removed" in r.content for r in results) == 1
    assert sum("already removed" in r.content for r in results) == N - 1
    assert count(world, "SELECT count(*) FROM mod_audit WHERE action = 'remove_need'") == 1


async def test_fifty_hides_audit_once(world: World) -> None:
    await world.discord.slash("profile set", world.bob, business="Bob Cuts")
    results = await asyncio.gather(
        *(world.discord.slash("mod hide-member", world.mod, member=world.bob) for _ in range(N))
    )
    assert sum("is hidden" in r.content for r in results) == 1
    assert count(world, "SELECT count(*) FROM mod_audit") == 1


async def test_fifty_erase_confirmations_erase_once(world: World) -> None:
    await world.discord.slash("profile set", world.alice, business="Alice's Books")
    await offerers(world, world.bob)
    post = need_post(world, await ask(world, world.alice))
    confirm = await world.discord.slash("privacy delete", world.alice)
    results = await asyncio.gather(
        *(world.discord.click(confirm.message, "Erase my data", world.alice) for _ in range(N))
    )
    assert all(answered(r) for r in results)
    assert rows(world, "SELECT state FROM needs") == [("closed",)]
    edits = {id(c) for r in results for c in r.calls if c.method == "PATCH" and str(post.id) in c.path}
    assert len(edits) == 1, f"the closed request's post was edited {len(edits)} times"
    assert count(world, "SELECT count(*) FROM erasures") == 1, "one confirmation, erased once"



async def test_fifty_take_clicks_by_one_member_volunteer_once(world: World) -> None:
    post = await _need_with_offerers(world)
    results = await asyncio.gather(*(world.discord.click(post, TAKE, world.bob) for _ in range(N)))
    assert all(answered(r) for r in results)
    assert count(world, "SELECT count(*) FROM need_volunteers") == 1
    assert sum("already on the list" in r.content for r in results) == N - 1


async def test_fifty_members_taking_at_once_are_all_listed_on_the_post(world: World) -> None:
    post = await _need_with_offerers(world)
    people = [world.discord.add_user(f"helper{i}", world.guild) for i in range(N)]
    results = await asyncio.gather(*(world.discord.click(post, TAKE, u) for u in people))
    assert all(answered(r) for r in results)
    assert count(world, "SELECT count(*) FROM need_volunteers") == N
    shown = world.discord.messages[post.id]
    listed = {int(u) for u in re.findall(r"<@(\d+)>", shown.text())}
    options = {
        int(o["value"]) for row in shown.components for c in row["components"] for o in c.get("options", [])
    }
    assert {u.id for u in people} <= options, "the post's menu does not list every volunteer"
    assert len(listed & {u.id for u in people}) == min(N, 40)


async def test_fifty_passes_by_the_pinged_member_ping_the_next_once(world: World) -> None:
    dan = world.discord.add_user("dan", world.guild)
    await offerers(world, world.bob, world.carol, dan)
    await world.discord.slash("config set", world.mod, max_pings=1)
    post = need_post(world, await ask(world, world.alice))
    (first,) = rows(world, "SELECT user_id FROM need_pings")
    pinged = world.discord.users[first[0]]
    results = await asyncio.gather(*(world.discord.click(post, DECLINE, pinged) for _ in range(N)))
    assert all(answered(r) for r in results)
    assert count(world, "SELECT count(*) FROM need_pings") == 2
    assert count(world, "SELECT count(*) FROM need_pings WHERE declined_at IS NOT NULL") == 1
    next_pings = {
        int(c.response["id"])
        for r in results
        for c in r.posts
        if "Could you take on" in c.json.get("content", "")
    }
    assert len(next_pings) == 1
    _ping_counters_match(world)


async def test_fifty_closes_close_once(world: World) -> None:
    post = await _need_with_offerers(world)
    results = await asyncio.gather(*(world.discord.click(post, CLOSE, world.alice) for _ in range(N)))
    assert all(answered(r) for r in results)
    assert sum(r.told.startswith("Closed") for r in results) == 1
    assert rows(world, "SELECT state FROM needs") == [("closed",)]


async def test_racing_picks_make_one_referral_and_one_announcement(world: World) -> None:
    post = await _need_with_offerers(world)
    await world.discord.click(post, TAKE, world.bob)
    await world.discord.click(post, TAKE, world.carol)
    current = world.discord.messages[post.id]
    results = await asyncio.gather(
        *(
            world.discord.select(current, PICK, world.alice, [(world.bob if i % 2 else world.carol).id])
            for i in range(N)
        )
    )
    assert all(answered(r) for r in results)
    assert count(world, "SELECT count(*) FROM referrals") == 1
    assert sum(r.told.startswith("You picked") for r in results) == 1
    assert len(channel_posts(results, "picked")) == 1
    assert count(world, "SELECT value FROM stat_counts WHERE metric = 'referrals' AND kind = 'a'") == 1


async def test_fifty_simultaneous_asks_by_one_member_respect_the_open_limit(world: World) -> None:
    await offerers(world, world.bob)
    results = await asyncio.gather(*(ask(world, world.alice, skill=f"skill {i}") for i in range(N)))
    assert all(answered(r) for r in results)
    assert count(world, "SELECT count(*) FROM needs WHERE state = 'open'") == 5
    assert len(channel_posts(results)) == 5
