"""Hard cases: races, Discord faults on every REST call the bot makes, isolation and forged components.

Races run through `asyncio.gather` of harness actions: every gateway frame is fed before any handler
runs (nothing in between awaits), so the handlers really overlap on the one database connection.
"""

from __future__ import annotations

from typing import Any

import pytest

from buddybot.testing.harness import FakeUser, Result, Sent
from tests.conftest import World
from tests.helpers_guards import (
    BUDDY_SELECT,
    TAKE,
    TERMS,
    draft_agreement,
    insert_need,
    propose,
    rows,
)
from tests.helpers_hard_cases import (
    APOLOGY,
    _need_with_offerers,
    answered,
    carrying,
    count,
)

pytestmark = pytest.mark.usefixtures("no_first_answer_window")  # the window: test_lifecycle.py


# -- isolation between guilds, and forged components ----------------------------------------------------------
@pytest.fixture
async def other(world: World) -> tuple[Any, FakeUser]:
    """A second guild (after start: its interactions carry guild_id and member payloads) and its member."""
    g2 = world.discord.add_guild("Other Town")
    eve = world.discord.add_user("eve", g2, moderator=True)
    return g2, eve


async def test_a_member_of_another_guild_sees_and_changes_nothing_here(world: World, other) -> None:
    g2, eve = other
    await world.discord.slash("profile set", world.bob, business="Bob Cuts")
    await world.discord.slash("offer add", world.bob, skill="bookkeeping")
    agreement_id, _ = await propose(world, world.alice, [world.bob])
    need_id = insert_need(world, world.alice.id)
    before = (
        rows(world, "SELECT * FROM agreements"),
        rows(world, "SELECT * FROM needs"),
        rows(world, "SELECT * FROM members"),
    )

    find = await world.discord.slash("find", eve, guild=g2, skill="bookkeeping")
    assert "Bob" not in find.text() and str(world.bob.id) not in find.text()
    card = await world.discord.slash("profile view", eve, guild=g2, member=world.bob)
    assert "Bob Cuts" not in card.text()
    for name in ("view", "edit", "complete", "cancel"):
        r = await world.discord.slash(f"agreement {name}", eve, guild=g2, agreement_id=agreement_id)
        assert r.ephemeral and r.response["type"] == 4, (name, r.response)
        assert TERMS["scope"] not in r.text()
    removed = await world.discord.slash("mod remove-need", eve, guild=g2, need_id=need_id, reason="mine now")
    assert "no request" in removed.content
    hidden = await world.discord.slash("mod hide-member", eve, guild=g2, member=world.bob)
    assert answered(hidden)
    assert (rows(world, "SELECT * FROM agreements"), rows(world, "SELECT * FROM needs")) == before[:2]
    assert rows(
        world, "SELECT hidden FROM members WHERE guild_id = ? AND user_id = ?", world.guild.id, world.bob.id
    ) == [(0,)]
    stats = await world.discord.slash("stats", eve, guild=g2)
    assert "Network health" in stats.text()
    assert "1 with a profile" not in stats.text()


FORGED = [
    "agreement:{id}:v1:accept",
    "agreement:{id}:v1:decline",
    "agreement:{id}:again:yes",
    "agreement:{id}:note",
]



async def forged_select(world: World, message: Sent, user: FakeUser, value: int) -> Result:
    custom_id = message.components[0]["components"][0]["custom_id"]
    data = {"custom_id": custom_id, "component_type": 3, "values": [str(value)]}
    return await world.discord.interact(world.discord._component_base(message, user, data))


def tables(world: World, *names: str) -> list[list[tuple]]:
    return [rows(world, f"SELECT * FROM {t}") for t in names]


AGREEMENT_TABLES = (
    "agreements",
    "agreement_acceptances",
    "agreement_feedback",
    "agreement_members",
    "agreement_versions",
)


@pytest.mark.parametrize("template", FORGED)
async def test_forged_agreement_components_do_nothing_harmful(world: World, other, template: str) -> None:
    """Custom ids forged with another agreement's id, by someone who is not on it, from here and elsewhere."""
    g2, eve = other
    agreement_id, post = await propose(world, world.alice, [world.bob])
    snapshot = tables(world, *AGREEMENT_TABLES)
    ids = [agreement_id, agreement_id + 1000, 10**17]
    for who, channel_id in ((world.carol, None), (world.mod, None), (eve, g2.channel("general"))):
        for forged_id in ids:
            custom_id = template.format(id=forged_id)
            if custom_id not in [c["custom_id"] for row in post.components for c in row["components"]]:
                plain = await world.discord.press(post, custom_id, who)
                assert not plain.callbacks, "discord.py dispatched a custom_id that is not on the message"
            r = await world.discord.press(carrying(post, custom_id, channel_id=channel_id), custom_id, who)
            assert r.response["type"] in (4, 9), (custom_id, r.response)
            if r.response["type"] == 4:
                assert r.ephemeral, r.response
            else:  # a note modal opens for anyone; submitting it must change nothing
                submitted = await world.discord.submit(r, who, note="forged")
                assert submitted.ephemeral, submitted.response
    assert tables(world, *AGREEMENT_TABLES) == snapshot


async def test_accept_forged_with_an_old_version_is_refused(world: World) -> None:
    agreement_id, post = await propose(world, world.alice, [world.bob])
    opened = await world.discord.slash("agreement edit", world.alice, agreement_id=agreement_id)
    await world.discord.submit(opened, world.alice, **{**TERMS, "fee": "£9,999"})
    stale = f"agreement:{agreement_id}:v1:accept"
    r = await world.discord.press(carrying(world.discord.messages[post.id], stale), stale, world.bob)
    assert r.ephemeral
    assert count(world, "SELECT count(*) FROM agreement_acceptances WHERE user_id = ?", world.bob.id) == 0
    assert rows(world, "SELECT state FROM agreements") == [("proposed",)]


async def test_buddy_select_forged_by_someone_else_proposes_nothing(world: World, other) -> None:
    _, eve = other
    submitted = await draft_agreement(world, world.alice)
    custom_id = submitted.message.find_component(BUDDY_SELECT)["custom_id"]
    agreement_id = int(custom_id.split(":")[1])
    for who in (world.bob, eve):
        r = await world.discord.select(submitted.message, BUDDY_SELECT, who, [world.carol])
        assert r.ephemeral, r.response
    assert rows(world, "SELECT state FROM agreements WHERE id = ?", agreement_id) == [("draft",)]
    assert count(world, "SELECT count(*) FROM agreement_members WHERE role = 'party'") == 0


NEED_TABLES = ("needs", "need_pings", "need_volunteers", "referrals")


@pytest.mark.parametrize("action", ["take", "decline", "close", "pick:0"])
async def test_forged_need_components_do_nothing_harmful(world: World, other, action: str) -> None:
    """Forged ids (this need, another guild's need, a missing one) from another guild and from a member
    of this guild who may not do it (take: the requester; decline: not pinged; close, pick: not the requester)."""
    g2, eve = other
    dan = world.discord.add_user("dan", world.guild)
    post = await _need_with_offerers(world)
    await world.discord.click(post, TAKE, world.bob)
    need_id = rows(world, "SELECT max(id) FROM needs")[0][0]
    elsewhere = insert_need(world, world.carol.id, guild_id=10**15)  # a need of another guild
    snapshot = tables(world, *NEED_TABLES)
    post = world.discord.messages[post.id]
    local = world.alice if action == "take" else dan
    attempts = [
        (eve, g2.channel("general"), need_id),
        (eve, g2.channel("general"), need_id + 1000),
        (local, None, need_id),
        (local, None, elsewhere),
        (local, None, need_id + 1000),
    ]
    for who, channel_id, forged_id in attempts:
        custom_id = f"need:{forged_id}:{action}"
        if action.startswith("pick"):
            message = carrying(post, custom_id, channel_id=channel_id, options=[world.bob.id])
            r = await forged_select(world, message, who, world.bob.id)
        else:
            r = await world.discord.press(carrying(post, custom_id, channel_id=channel_id), custom_id, who)
        case = (who.name, custom_id, "elsewhere" if channel_id else "here")
        assert r.response["type"] == 4 and r.ephemeral, (case, r.response)
        assert APOLOGY not in r.content, (case, r.content)
    assert tables(world, *NEED_TABLES) == snapshot


async def test_a_need_of_another_guild_is_invisible_and_untouchable(world: World, other) -> None:
    g2, eve = other
    post = await _need_with_offerers(world)
    need_id = rows(world, "SELECT max(id) FROM needs")[0][0]
    snapshot = tables(world, *NEED_TABLES)
    closing_it = await world.discord.slash("need close", eve, guild=g2, need_id=need_id)
    assert closing_it.ephemeral and "Closed" not in closing_it.content
    listed = await world.discord.slash("need list", eve, guild=g2)
    assert f"#{need_id}" not in listed.text()
    choices = await world.discord.autocomplete("need close", eve, "need_id", guild=g2, need_id=1)
    assert choices == []
    assert tables(world, *NEED_TABLES) == snapshot
    assert world.discord.messages[post.id].components, "the post lost its buttons"


async def test_forged_erase_button_erases_nobody_else(world: World, other) -> None:
    _, eve = other
    await world.discord.slash("profile set", world.alice, business="Alice's Books")
    confirm = await world.discord.slash("privacy delete", world.alice)
    custom_id = confirm.message.find_component("Erase my data")["custom_id"]
    for who in (world.bob, eve, world.mod):
        r = await world.discord.press(confirm.message, custom_id, who)
        assert r.ephemeral or r.response["type"] == 4, r.response
        assert "erased" not in r.text(), r.text()
    assert rows(world, "SELECT business FROM members WHERE user_id = ?", world.alice.id) == [
        ("Alice's Books",)
    ]
