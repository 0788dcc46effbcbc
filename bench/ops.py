"""The interactions the benchmark times, each checked to have taken its success path.

Members are drawn from disjoint slices of the seeded community so that no limit (15 skills,
5 open needs, the first-job rule) turns a sample into a refusal: a refusal is a BenchError.
"""

from __future__ import annotations

import random
from typing import Any

from bench.driver import BenchWorld
from bench.measure import BenchError, Op
from bench.seed import AREAS, MEMBER_BASE, STARTER, Scale, is_hidden, zipf_rank
from buddybot.testing.engines import connected
from buddybot.testing.harness import Result, Sent

WHEN = "next week"


class Slices:
    """Disjoint ranges of seeded member numbers, one per kind of use."""

    def __init__(self, members: int) -> None:
        self.members = members
        self._next = members // 2  # the first half stays untouched (the matching population)

    def take(self, n: int) -> list[int]:
        """n members nobody else uses, none of them hidden by a moderator (they may not volunteer)."""
        out: list[int] = []
        while len(out) < n:
            if self._next >= self.members:
                raise BenchError(f"the seeded community has too few members for this run ({self.members})")
            if not is_hidden(self._next):
                out.append(self._next)
            self._next += 1
        return out


def skill_names(world: BenchWorld, scale: Scale) -> list[str]:
    from bench.seed import ranked_skills

    with connected(world.db_path) as conn:
        return ranked_skills(conn, scale.skills)


class OfferAdd(Op):
    name = "/offer add"

    def __init__(self, slices: Slices, scale: Scale) -> None:
        super().__init__()
        self.slices, self.scale = slices, scale

    async def setup(self, world: BenchWorld, total: int) -> None:
        """Each sample: a different member adding a known skill they do not offer yet (a new offer row)."""
        self.who = self.slices.take(total)
        rng = random.Random(11)
        names = skill_names(world, self.scale)
        offered = _offered(world, self.who)
        self.skills = []
        for who in self.who:
            skill = names[rng.randrange(STARTER, self.scale.skills)]
            while skill in offered.get(who, ()):
                skill = names[rng.randrange(STARTER, self.scale.skills)]
            self.skills.append(skill)

    def payload(self, world: BenchWorld, i: int) -> dict[str, Any]:
        return world.slash(
            "offer add",
            world.member(self.who[i]),
            skill=self.skills[i],
            details="Bench offer: evenings and weekends",
        )

    def check(self, world: BenchWorld, result: Result) -> None:
        if not result.content.startswith(("Added", "Updated")):
            raise BenchError(f"/offer add: {result.content!r}")


def _offered(world: BenchWorld, members: list[int]) -> dict[int, set[str]]:
    rows = world.query(
        "SELECT user_id, skill FROM offers WHERE guild_id = ? AND user_id BETWEEN ? AND ?",
        (world.guild.id, MEMBER_BASE + min(members), MEMBER_BASE + max(members)),
    )
    out: dict[int, set[str]] = {}
    for user_id, skill in rows:
        out.setdefault(user_id - MEMBER_BASE, set()).add(skill)
    return out


class Find(Op):
    name = "/find"

    def __init__(self, scale: Scale) -> None:
        super().__init__()
        self.scale = scale

    async def setup(self, world: BenchWorld, total: int) -> None:
        names = skill_names(world, self.scale)
        rng = random.Random(12)
        self.skills = [names[zipf_rank(rng.random(), self.scale.skills)] for _ in range(total)]
        self.who = [rng.randrange(self.scale.members) for _ in range(total)]

    def payload(self, world: BenchWorld, i: int) -> dict[str, Any]:
        return world.slash("find", world.member(self.who[i]), skill=self.skills[i], when=WHEN)

    def check(self, world: BenchWorld, result: Result) -> None:
        if not result.embeds and "Nobody offers" not in result.content:
            raise BenchError(f"/find: {result.response}")


class Stats(Op):
    name = "/stats"

    def __init__(self, period: str = "month") -> None:
        super().__init__()
        self.period = period

    def payload(self, world: BenchWorld, i: int) -> dict[str, Any]:
        return world.slash("stats", world.mod, period=self.period)

    def check(self, world: BenchWorld, result: Result) -> None:
        if not result.embeds or "Network health" not in result.embeds[0].get("title", ""):
            raise BenchError(f"/stats: {result.response}")


AGREEMENT_FIELDS = {
    "title": "Bench job",
    "scope": "Rebrand a bakery: logo, site, photos",
    "terms": "Payment: on delivery\nSplit: equal\nDeadlines: 2 weeks\nBrand use: yes\nCancellation: 7 days",
    "fee": "£2,100",
    "dates": "next week",
}


class Accept(Op):
    """Accept clicks on posted agreements with 21 buddies each (the 21st click makes it agreed)."""

    name = "Accept click"
    PARTIES = 21

    def __init__(self, slices: Slices) -> None:
        super().__init__()
        self.slices = slices

    async def setup(self, world: BenchWorld, total: int) -> None:
        self.clicks: list[tuple[Sent, int]] = []
        needed = -(-total // self.PARTIES)
        for _ in range(needed):
            people = self.slices.take(self.PARTIES + 1)
            lead, parties = people[0], list(people[1:])
            post = await create_agreement(world, lead, parties)
            self.keep.add(post.id)
            self.clicks += [(post, p) for p in parties]

    def payload(self, world: BenchWorld, i: int) -> dict[str, Any]:
        post, party = self.clicks[i]
        return world.click(post, "Accept", world.member(party))

    def check(self, world: BenchWorld, result: Result) -> None:
        if result.response.get("type") != 7:
            raise BenchError(f"Accept: {result.response}")


async def create_agreement(world: BenchWorld, lead: int, parties: list[int]) -> Sent:
    """/agreement new -> the terms modal -> pick buddies: the posted agreement with Accept/Decline."""
    d = world.discord
    opened = await d.slash("agreement new", world.member(lead), guild=world.guild, title="Bench job")
    draft = await d.submit(opened, world.member(lead), **AGREEMENT_FIELDS)
    if draft.response.get("type") != 4 or not draft.message.components:
        raise BenchError(f"agreement draft: {draft.response}")
    posted = await d.select(
        draft.message, "Pick your buddies (1–21)", world.member(lead), [world.member(p) for p in parties]
    )
    if not posted.posts:
        raise BenchError(f"agreement not posted: {posted.response}")
    return d.messages[int(posted.posts[-1].response["id"])]


def area_of(i: int) -> str:
    return f"Area {i % AREAS}"
