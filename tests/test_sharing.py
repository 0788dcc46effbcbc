"""/share and /borrow through the real discord.py: the whole loan, who may press what, the rules."""

from __future__ import annotations

import pytest

from buddybot.errors import BuddyError
from buddybot.loan_states import (
    BORROWER,
    ENDED,
    OWNER,
    SYSTEM,
    WHO,
    Event,
    State,
    TransitionError,
    authorise,
    next_state,
)
from buddybot.loan_states import TRANSITIONS as TRANSITIONS_TABLE
from buddybot.testing.harness import FakeUser, Result, Sent
from tests.conftest import World
from tests.helpers_hard_cases import carrying


# -- helpers ---------------------------------------------------------------------------------------------------
def rows(world: World, query: str, *params: object) -> list[tuple]:
    with world.connect() as conn:
        return conn.execute(query, params).fetchall()


def said(result: Result) -> str:
    if result.response["type"] in (4, 7):
        return result.content
    assert result.followups, [c.route for c in result.calls]
    return result.followups[-1].json["content"]


def private(result: Result) -> bool:
    if result.response["type"] == 4:
        return result.ephemeral and result.allowed_mentions == {"parse": []}
    last = result.followups[-1].json
    return bool(last["flags"] & 64) and last["allowed_mentions"] == {"parse": []}


def exact_pings(data: dict, *user_ids: int) -> None:
    allowed = data["allowed_mentions"]
    assert allowed["parse"] == []
    assert sorted(int(u) for u in allowed.get("users", [])) == sorted(user_ids)
    assert "roles" not in allowed and not allowed.get("replied_user")


async def share_add(world: World, user: FakeUser, name: str, **options: object) -> Result:
    """/share add with its `name` option (FakeDiscord.slash's own first parameter is called name)."""
    options.setdefault("kind", "equipment")
    payload = world.discord.command_payload("share add", user, guild=world.guild, **options)
    payload["data"]["options"][0]["options"].append({"name": "name", "type": 3, "value": name})
    return await world.discord.interact(payload)


async def share(world: World, user: FakeUser, name: str = "Ladder", **options: object) -> int:
    r = await share_add(world, user, name, **options)
    assert "You now share" in said(r), said(r)
    return rows(world, "SELECT max(id) FROM shared_items")[0][0]


async def borrow(
    world: World, user: FakeUser, item_id: int, when: str = "1-3 dec", **options: object
) -> tuple[Result, Sent | None]:
    r = await world.discord.slash("borrow", user, item=str(item_id), when=when, **options)
    posts = [c for c in r.posts if c.json.get("embeds")]
    if not posts:
        return r, None
    return r, world.discord.messages[int(posts[0].response["id"])]


def thread_messages(world: World, post: Sent) -> list[Sent]:
    return world.discord.channel_messages(post.id)  # the thread's id is its starter message's id


def loan_state(world: World, loan_id: int | None = None) -> str:
    if loan_id is None:
        return rows(world, "SELECT state FROM loans ORDER BY id DESC LIMIT 1")[0][0]
    return rows(world, "SELECT state FROM loans WHERE id = ?", loan_id)[0][0]


def available(world: World, item_id: int) -> int:
    return rows(world, "SELECT available FROM shared_items WHERE id = ?", item_id)[0][0]


async def run_jobs(world: World) -> int:
    return await world.bot.get_cog("Scheduler").run_due()


# -- the whole loan ----------------------------------------------------------------------------------------------
async def test_a_ladder_lent_and_returned(world: World) -> None:
    ladder = await share(world, world.alice, "Ladder", details="3 m aluminium", max_days=7)
    before = world.db.round_trips
    r, post = await borrow(world, world.bob, ladder, note="for the shop sign")
    assert world.db.round_trips - before == 2  # the request, then the post's ids
    assert post is not None and private(r) and "Asked" in said(r)
    call = next(c for c in r.posts if c.json.get("embeds"))
    exact_pings(call.json, world.alice.id)  # the owner, once
    assert post.content.startswith(f"<@{world.alice.id}>")
    assert post.labels() == ["Approve", "Decline", "Withdraw"]
    assert post.channel_id == world.guild.channel("general")
    assert [c for c in r.calls if c.path.endswith("/threads")]
    assert available(world, ladder) == 0
    ((thread_id, state),) = rows(world, "SELECT thread_id, state FROM loans")
    assert (thread_id, state) == (post.id, "requested")

    before = world.db.round_trips
    approved = await world.discord.click(post, "Approve", world.alice)
    assert world.db.round_trips - before == 1
    assert approved.response["type"] == 7 and loan_state(world) == "approved"
    assert world.discord.messages[post.id].labels() == ["Handed over", "Cancel"]
    note = thread_messages(world, post)[-1]
    assert "approved" in note.content
    exact_pings(note.data, world.bob.id)

    await world.discord.click(post, "Handed over", world.alice)
    assert loan_state(world) == "on_loan"
    assert world.discord.messages[post.id].labels() == ["Returned", "Got it back", "Renew"]
    await world.discord.click(post, "Returned", world.bob)
    assert loan_state(world) == "returned"
    opened = await world.discord.click(post, "Got it back", world.alice)
    assert opened.response["type"] == 9
    done = await world.discord.submit(opened, world.alice, condition="Fine, a bit muddy")
    assert loan_state(world) == "closed" and said(done)
    assert rows(world, "SELECT closed_how, condition_note FROM loans") == [("returned", "Fine, a bit muddy")]
    assert available(world, ladder) == 1
    assert world.discord.messages[post.id].labels() == []
    assert rows(world, "SELECT user_id, role, unit, value FROM share_tallies ORDER BY role") == [
        (world.bob.id, "borrowed", "items", 1),
        (world.alice.id, "lent", "items", 1),
    ]


TRANSITIONS = [
    # (buttons pressed before, button, who may press it, who may not)
    ((), "Approve", "alice", ("bob", "carol")),
    ((), "Decline", "alice", ("bob", "carol")),
    ((), "Withdraw", "bob", ("alice", "carol")),
    ((("Approve", "alice"),), "Handed over", "alice", ("bob", "carol")),
    ((("Approve", "alice"),), "Cancel", "bob", ("carol",)),
    ((("Approve", "alice"), ("Handed over", "alice")), "Returned", "bob", ("alice", "carol")),
    ((("Approve", "alice"), ("Handed over", "alice")), "Renew", "bob", ("alice", "carol")),
    (
        (("Approve", "alice"), ("Handed over", "alice"), ("Returned", "bob")),
        "Not back",
        "alice",
        ("bob", "carol"),
    ),
    ((("Approve", "alice"), ("Handed over", "alice")), "Got it back", "alice", ("bob", "carol")),
]


@pytest.mark.parametrize(("before", "button", "right", "wrong"), TRANSITIONS)
async def test_every_transition_by_the_right_person_only(world: World, before, button, right, wrong) -> None:
    people = {"alice": world.alice, "bob": world.bob, "carol": world.carol}
    ladder = await share(world, world.alice)
    _, post = await borrow(world, world.bob, ladder)
    for label, who in before:
        await world.discord.click(post, label, people[who])
    state = loan_state(world)
    for who in wrong:
        r = await world.discord.click(post, button, people[who])
        assert private(r) and "Only" in said(r)
        assert loan_state(world) == state
    r = await world.discord.click(post, button, people[right])
    if button == "Got it back":  # the owner gets the form; the loan closes when it is sent
        assert r.response["type"] == 9 and loan_state(world) == state
        await world.discord.submit(r, people[right])
    assert loan_state(world) != state or button == "Renew"
    if button == "Renew":
        assert rows(world, "SELECT renewed, due_on FROM loans") == [(1, "2026-12-06")]
        assert world.discord.messages[post.id].labels() == ["Returned", "Got it back"]
        stale = carrying(post, "loan:1:renew")
        again = await world.discord.press(stale, "loan:1:renew", people[right])
        assert private(again) and "renewed once already" in said(again)  # from a client not yet refreshed


async def test_forged_custom_ids_change_nothing(world: World) -> None:
    ladder = await share(world, world.alice)
    _, post = await borrow(world, world.bob, ladder)
    ((loan_id,),) = rows(world, "SELECT id FROM loans")

    async def forge(custom_id: str, who: FakeUser, channel_id: int | None = None) -> Result:
        return await world.discord.press(carrying(post, custom_id, channel_id=channel_id), custom_id, who)

    for action in ("approve", "decline", "handover", "gotback", "returned", "renew", "cancel", "dispute"):
        r = await forge(f"loan:{loan_id}:{action}", world.carol)
        assert private(r) and "Only" in said(r), said(r)
    r = await forge(f"loan:{loan_id + 50}:approve", world.alice)
    assert private(r) and "no loan" in said(r)
    r = await forge(f"loan:{loan_id}:withdraw", world.alice)
    assert private(r) and "Only the member who asked" in said(r)
    # the loan's own owner, clicking from another guild: the loan is not found there
    other = world.discord.add_guild("Elsewhere")
    world.discord.join(world.alice, other)
    world.discord.add_guild_live(other)
    r = await forge(f"loan:{loan_id}:approve", world.alice, channel_id=other.channel("general"))
    assert private(r) and "no loan" in said(r)
    assert loan_state(world) == "requested" and available(world, ladder) == 0


# -- the state machine table (pure) ------------------------------------------------------------------------------
@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("event", list(Event))
def test_the_table_is_the_only_way_a_loan_moves(state: State, event: Event) -> None:
    if (state, event) in TRANSITIONS_TABLE:
        assert next_state(state, event) is TRANSITIONS_TABLE[(state, event)]
        assert state not in ENDED
    else:
        with pytest.raises(TransitionError):
            next_state(state, event)


@pytest.mark.parametrize("event", list(Event))
def test_only_the_roles_in_the_table_may_cause_an_event(event: Event) -> None:
    for role in (OWNER, BORROWER, SYSTEM, None):
        if role in WHO[event]:
            continue
        with pytest.raises(BuddyError):
            authorise(event, role, State.REQUESTED)
    assert SYSTEM not in WHO[event] or WHO[event] == {SYSTEM}  # members never cause system events
