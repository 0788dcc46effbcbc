"""Shared helpers for the referrals tests (split out of test_referrals.py)."""

from __future__ import annotations

import copy

from buddybot.testing.harness import FakeUser, Result, Sent
from tests.conftest import World

SKILL = "bookkeeping"
TAKE, DECLINE, CLOSE, PICK = "I can take it", "Not this time", "Close", "Pick a volunteer"


# -- helpers ---------------------------------------------------------------------------------------------------
def rows(world: World, query: str, *params: object) -> list[tuple]:
    with world.connect() as conn:
        return conn.execute(query, params).fetchall()


def said(result: Result) -> str:
    """What the member was told: the callback's message, or (after a defer or a post update) the last followup."""
    if result.response["type"] != 4:
        assert result.followups, [c.route for c in result.calls]
    return result.told


def private(result: Result) -> bool:
    """Told privately, pinging nobody. A click may be answered by updating the post (type 7) first."""
    if result.response["type"] == 4:
        return result.ephemeral and result.allowed_mentions == {"parse": []}
    last = result.followups[-1].json
    acked = result.ephemeral if result.response["type"] == 5 else result.response["type"] == 7
    return acked and bool(last["flags"] & 64) and last["allowed_mentions"] == {"parse": []}


def post_of(world: World, result: Result) -> Sent:
    (call,) = [c for c in result.posts if c.json.get("embeds")]
    return world.discord.messages[int(call.response["id"])]


def snapshot(post: Sent) -> Sent:
    """The post as a client that has not refreshed yet still shows it (its old buttons included)."""
    return Sent(post.id, post.channel_id, copy.deepcopy(post.data))


def mentioned(call_or_sent) -> list[int]:
    data = call_or_sent.json if hasattr(call_or_sent, "json") else call_or_sent.data
    return [int(u) for u in data["allowed_mentions"].get("users", [])]


def exact_pings(data: dict, *user_ids: int) -> None:
    """allowed_mentions names exactly these users: nothing parsed, no roles, no @everyone, no reply ping."""
    allowed = data["allowed_mentions"]
    assert allowed["parse"] == []
    assert [int(u) for u in allowed.get("users", [])] == list(user_ids)
    assert "roles" not in allowed and not allowed.get("replied_user")
    assert "@everyone" not in data.get("content", "") and "@here" not in data.get("content", "")


async def offerer(
    world: World, user: FakeUser, business: str, *, area: str | None = None, skill: str = SKILL, guild=None
) -> None:
    r = await world.discord.slash("profile set", user, business=business, area=area, guild=guild)
    assert "Saved" in r.content, r.content
    r = await world.discord.slash("offer add", user, skill=skill, guild=guild)
    assert r.content.startswith(("Added", "Updated")), r.content


async def ask(world: World, user: FakeUser | None = None, **options) -> tuple[Result, Sent | None]:
    options.setdefault("skill", SKILL)
    options.setdefault("when", "next week")
    r = await world.discord.slash("need ask", user or world.alice, **options)
    posts = [c for c in r.posts if c.json.get("embeds")]
    return r, (world.discord.messages[int(posts[0].response["id"])] if posts else None)


async def elsewhere(world: World) -> int:
    """Configure the referrals channel, so a /need asked in general is posted there (post, then answer)."""
    channel = world.guild.channel("referrals")
    await world.discord.slash("config set", world.mod, referrals_channel=channel)
    return channel


def members(world: World, count: int, prefix: str = "m") -> list[FakeUser]:
    return [world.discord.add_user(f"{prefix}{i}", world.guild) for i in range(count)]


def nothing_stored(world: World) -> None:
    assert rows(world, "SELECT count(*) FROM needs") == [(0,)]
    assert rows(world, "SELECT count(*) FROM need_pings") == [(0,)]
    assert rows(world, "SELECT count(*) FROM offers WHERE pings_30d <> 0 OR last_pinged_at IS NOT NULL") == [
        (0,)
    ]
