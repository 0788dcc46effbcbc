"""/mod remove-need, hide-member, unhide-member: moderators only, audited, and hidden really means hidden."""

from __future__ import annotations

import copy
from datetime import date

import pytest

from buddybot.storage import referrals as referrals_sql
from buddybot.testing.harness import Sent
from tests.conftest import World


def rows(world: World, sql: str, *params: object) -> list[tuple]:
    with world.connect() as conn:
        return conn.execute(sql, params).fetchall()


def audit(world: World) -> list[tuple]:
    return rows(
        world, "SELECT guild_id, actor_id, action, target_type, target_id, reason, created_at FROM mod_audit"
    )


def posted_need(
    world: World, requester: int, *, skill: str = "web design", state: str = "open"
) -> tuple[int, int]:
    """A need with its post in the referrals channel, as the referral flow leaves it."""
    channel = world.guild.channel("referrals")
    post = world.discord._store(
        channel,
        {
            "content": "",
            "embeds": [{"title": "Needs web design"}],
            "components": [
                {
                    "type": 1,
                    "components": [
                        {"type": 2, "style": 1, "label": "I can take it", "custom_id": "need:1:take"}
                    ],
                }
            ],
        },
        [],
    )
    with world.connect() as conn:
        need_id = conn.execute(
            "INSERT INTO needs (guild_id, requester_id, skill, start_date, end_date, details, state, channel_id, "
            "message_id, created_day, created_at) VALUES (?, ?, ?, '2026-11-26', '2026-11-27', 'buy my stuff', ?, "
            "?, ?, '2026-11-25', '2026-11-25T09:00:00+00:00') RETURNING id",
            (world.guild.id, requester, skill, state, channel, post.id),
        ).fetchone()[0]
    return need_id, post.id


async def test_remove_need_takes_the_post_down_marks_it_removed_and_audits(world: World) -> None:
    await world.discord.slash("profile set", world.bob, business="Bob Builds")
    await world.discord.slash("offer add", world.bob, skill="web design")
    asked = await world.discord.slash("need ask", world.alice, skill="web design", when="tomorrow",
                                      details="buy my crypto course")  # fmt: skip
    (post_call,) = asked.posts
    post = world.discord.messages[int(post_call.response["id"])]
    stale = Sent(post.id, post.channel_id, copy.deepcopy(post.data))  # what a slow client still shows
    ((need_id,),) = rows(world, "SELECT id FROM needs")
    before = world.db.round_trips
    r = await world.discord.slash("mod remove-need", world.mod, need_id=need_id, reason="Spam, third time")
    assert world.db.round_trips - before == 1
    assert r.ephemeral and r.content == f"Request #{need_id} is removed; its post now says so."
    (edit,) = [c for c in r.calls if c.method == "PATCH"]
    assert edit.path == f"/channels/{post.channel_id}/messages/{post.id}"
    assert edit.json["components"] == [] and edit.json["allowed_mentions"] == {"parse": []}
    assert "Removed by a moderator." in post.text() and "crypto" not in post.text()
    assert post.components == []
    assert rows(world, "SELECT state, ended_by, ended_at, details FROM needs") == [
        ("removed", world.mod.id, "2026-11-25T10:00:00+00:00", "buy my crypto course")
    ]  # kept as evidence
    assert audit(world) == [(world.guild.id, world.mod.id, "remove_need", "need", need_id, "Spam, third time",
                             "2026-11-25T10:00:00+00:00")]  # fmt: skip
    # A removed request no longer counts in the stats, and nobody can take it any more.
    assert rows(world, "SELECT value FROM stat_counts WHERE metric = 'needs_posted' AND kind = 'a'") == [(0,)]
    late = await world.discord.press(stale, f"need:{need_id}:take", world.bob)
    assert late.ephemeral and "removed by a moderator" in late.content
    assert rows(world, "SELECT count(*) FROM need_volunteers") == [(0,)]


async def test_remove_need_twice_unknown_or_other_guild(world: World) -> None:
    need_id, _ = posted_need(world, world.alice.id)
    await world.discord.slash("mod remove-need", world.mod, need_id=need_id, reason="spam")
    again = await world.discord.slash("mod remove-need", world.mod, need_id=need_id, reason="spam")
    assert again.ephemeral and "already removed" in again.content
    missing = await world.discord.slash("mod remove-need", world.mod, need_id=9999, reason="spam")
    assert "no request #9999" in missing.content
    other = world.discord.add_guild("Other Town")
    world.discord.join(world.mod, other, moderator=True)
    elsewhere = await world.discord.slash(
        "mod remove-need",
        world.mod,
        need_id=need_id,
        reason="x",
        guild=other,
        channel=other.channel("general"),
    )
    assert "no request" in elsewhere.content
    assert len(audit(world)) == 1


async def test_remove_need_when_the_post_is_gone_still_removes(world: World) -> None:
    need_id, message_id = posted_need(world, world.alice.id)
    world.discord.messages[message_id].deleted = True
    r = await world.discord.slash("mod remove-need", world.mod, need_id=need_id, reason="spam")
    assert "is removed" in r.content
    assert rows(world, "SELECT state FROM needs") == [("removed",)]


@pytest.mark.parametrize(
    ("reason", "fragment"),
    [("   ", "fill in reason"), ("@everyone look", "mentions"), ("r" * 301, "at most 300")],
)
async def test_remove_need_bad_reason_changes_nothing(world: World, reason, fragment) -> None:
    need_id, _ = posted_need(world, world.alice.id)
    r = await world.discord.slash("mod remove-need", world.mod, need_id=need_id, reason=reason)
    assert r.ephemeral and fragment in r.content
    assert rows(world, "SELECT state FROM needs") == [("open",)] and audit(world) == []


@pytest.mark.parametrize(
    ("command", "options"),
    [("mod remove-need", {"reason": "mine now"}), ("mod hide-member", {}), ("mod unhide-member", {})],
)
async def test_non_moderators_are_refused_on_the_server(world: World, command, options) -> None:
    need_id, _ = posted_need(world, world.bob.id)
    with world.connect() as conn:
        conn.execute(
            "INSERT INTO members (guild_id, user_id, hidden, created_at, updated_at) "
            "VALUES (?, ?, 1, 'x', 'x')",
            (world.guild.id, world.carol.id),
        )
    values = {"need_id": need_id} if command == "mod remove-need" else {"member": world.carol}
    r = await world.discord.slash(command, world.alice, **values, **options)
    assert r.ephemeral and "Only moderators" in r.content
    assert [c for c in r.calls if c.method == "PATCH"] == []
    assert rows(world, "SELECT state FROM needs") == [("open",)]
    assert rows(world, "SELECT hidden FROM members WHERE user_id = ?", world.carol.id) == [(1,)]
    assert audit(world) == []


async def test_hide_member_removes_them_from_find_and_matching_and_unhide_restores(world: World) -> None:
    for user, name in ((world.bob, "Bob Builds"), (world.carol, "Carol Creates")):
        await world.discord.slash("profile set", user, business=name)
        await world.discord.slash("offer add", user, skill="web design")
    before = world.db.round_trips
    r = await world.discord.slash(
        "mod hide-member", world.mod, member=world.carol, reason="harassing members"
    )
    assert world.db.round_trips - before == 1
    assert r.ephemeral and "is hidden" in r.content and r.allowed_mentions == {"parse": []}
    found = await world.discord.slash("find", world.alice, skill="web design")
    assert "Bob Builds" in found.text() and "Carol Creates" not in found.text()
    with world.connect() as conn:
        candidates = referrals_sql.match(
            conn,
            guild_id=world.guild.id,
            skill="web design",
            start=date(2026, 11, 26),
            end=date(2026, 11, 27),
            area=None,
            requester_id=world.alice.id,
            need_id=0,
            limit=5,
        )
    assert [user for user, _ in candidates] == [world.bob.id]
    card = await world.discord.slash("profile view", world.alice, member=world.carol)
    assert "no BuddyBot profile" in card.content
    again = await world.discord.slash("mod hide-member", world.mod, member=world.carol)
    assert "already hidden" in again.content
    shown = await world.discord.slash("mod unhide-member", world.mod, member=world.carol, reason="apologised")
    assert "visible again" in shown.content
    found = await world.discord.slash("find", world.alice, skill="web design")
    assert "Carol Creates" in found.text()
    assert [(a[1], a[2], a[4], a[5]) for a in audit(world)] == [
        (world.mod.id, "hide_member", world.carol.id, "harassing members"),
        (world.mod.id, "unhide_member", world.carol.id, "apologised"),
    ]


async def test_hiding_someone_without_a_profile_keeps_them_hidden_when_they_make_one(world: World) -> None:
    await world.discord.slash("mod hide-member", world.mod, member=world.carol)
    await world.discord.slash("profile set", world.carol, business="Carol Creates")
    await world.discord.slash("offer add", world.carol, skill="web design")
    found = await world.discord.slash("find", world.alice, skill="web design")
    assert "Carol Creates" not in found.text()
    assert rows(world, "SELECT hidden, business FROM members WHERE user_id = ?", world.carol.id) == [
        (1, "Carol Creates")
    ]


async def test_unhide_of_a_visible_member_or_hiding_a_bot(world: World) -> None:
    helper = world.discord.add_user("helperbot", world.guild, bot=True)
    r = await world.discord.slash("mod unhide-member", world.mod, member=world.bob)
    assert "was not hidden" in r.content
    bot = await world.discord.slash("mod hide-member", world.mod, member=helper)
    assert "Bots never appear" in bot.content
    assert rows(world, "SELECT count(*) FROM members") == [(0,)] and audit(world) == []


async def test_moderator_role_can_moderate(world: World) -> None:
    dan = world.discord.add_user("dan", world.guild, roles=["moderator"])
    await world.discord.slash("config set", world.mod, moderator_role=world.guild.roles["moderator"])
    r = await world.discord.slash("mod hide-member", dan, member=world.carol)
    assert "is hidden" in r.content
    assert audit(world)[-1][1:3] == (dan.id, "hide_member")
