"""Shared helpers for the agreements tests (split out of test_agreements.py)."""

from __future__ import annotations

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
