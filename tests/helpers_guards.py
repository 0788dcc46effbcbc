"""Shared helpers for the guards tests (split out of test_guards.py)."""

from __future__ import annotations

from buddybot.testing.harness import FakeUser, Result, Sent
from tests.conftest import World

MAX_ROUND_TRIPS = 2

TERMS = {
    "title": "Bakery rebrand",
    "scope": "Logo, sign and a one-page site for Riverside Bakery.",
    "terms": "Payment: within 14 days\nSplit: 50/50\nDeadlines: 3 Dec\nBrand use: own brands\nCancellation: 7 days",
    "fee": "£2,400, half upfront",
    "dates": "1-5 dec",
}
BUDDY_SELECT = "Pick your buddies (1–21)"


# -- helpers shared with the hard-case tests -----------------------------------------------------------
def rows(world: World, sql: str, *params: object) -> list[tuple]:
    with world.connect() as conn:
        return conn.execute(sql, params).fetchall()


def posted(world: World, result: Result) -> Sent:
    """The last channel message the interaction posted."""
    assert result.posts, [c.route for c in result.calls]
    return world.discord.messages[int(result.posts[-1].response["id"])]


async def draft_agreement(world: World, lead: FakeUser) -> Result:
    opened = await world.discord.slash("agreement new", lead, title=TERMS["title"])
    return await world.discord.submit(opened, lead, **TERMS)


async def propose(world: World, lead: FakeUser, buddies: list[FakeUser]) -> tuple[int, Sent]:
    submitted = await draft_agreement(world, lead)
    custom_id = submitted.message.find_component(BUDDY_SELECT)["custom_id"]
    chosen = await world.discord.select(submitted.message, BUDDY_SELECT, lead, buddies)
    return int(custom_id.split(":")[1]), posted(world, chosen)


async def agreed(world: World, lead: FakeUser, buddies: list[FakeUser]) -> tuple[int, Sent]:
    agreement_id, post = await propose(world, lead, buddies)
    for buddy in buddies:
        await world.discord.click(post, "Accept", buddy)
    assert rows(world, "SELECT state FROM agreements WHERE id = ?", agreement_id) == [("agreed",)]
    return agreement_id, post


async def completed(world: World) -> tuple[int, Sent]:
    """Alice leads, Bob and Carol accept, Alice completes: returns the feedback post."""
    agreement_id, _ = await agreed(world, world.alice, [world.bob, world.carol])
    done = await world.discord.slash("agreement complete", world.alice, agreement_id=agreement_id)
    return agreement_id, posted(world, done)


def ok(result: Result) -> Result:
    """The interaction was answered, and not with the apology for an unexpected error."""
    assert result.callbacks and result.callbacks[0].status in (200, 204), [c.route for c in result.calls]
    assert "something went wrong" not in result.text(), result.text()
    return result

def insert_need(w: World, requester: int, *, skill: str = "bookkeeping", guild_id: int | None = None) -> int:
    """A need row straight into the database (for moderation tests that do not depend on /need)."""
    with w.connect() as conn:
        cur = conn.execute(
            "INSERT INTO needs (guild_id, requester_id, skill, start_date, end_date, created_day, created_at) "
            "VALUES (?, ?, ?, '2026-11-30', '2026-12-06', '2026-11-25', '2026-11-25T10:00:00+00:00') RETURNING id",
            (guild_id or w.guild.id, requester, skill),
        )
        return int(cur.fetchone()[0])


# -- referrals (/need ask|list|close, I can take it, Not this time, Close, Pick a volunteer) ---------------
TAKE, DECLINE, CLOSE, PICK = "I can take it", "Not this time", "Close", "Pick a volunteer"


def need_post(world: World, result: Result) -> Sent:
    """The referral post a /need ask made (the channel message carrying the buttons)."""
    for call in result.posts:
        sent = world.discord.messages[int(call.response["id"])]
        if TAKE in sent.labels():
            return sent
    raise AssertionError(f"no referral post: {[c.route for c in result.calls]} {result.text()}")


async def ask(world: World, requester: FakeUser, *, skill: str = "bookkeeping", **options: str) -> Result:
    return await world.discord.slash(
        "need ask", requester, skill=skill, when=options.pop("when", "next week"), **options
    )


async def offerers(world: World, *users: FakeUser, skill: str = "bookkeeping") -> None:
    for user in users:
        await world.discord.slash("offer add", user, skill=skill)
