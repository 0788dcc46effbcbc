"""Monday morning in one referrals channel: the strict harness (Discord's rate limits, real time) with a
50 ms round trip per REST call, and within one minute 50 `/need ask`, 300 volunteer clicks, 100 `/find`
and 50 picks (a quarter of each over 15 s with --quick).

Each interaction is delivered at its scheduled moment without waiting for the ones before (the
handlers overlap as they would in production). Measured: the time from delivery to the interaction's
callback reaching Discord (goal: every one within 3 s), responses with status 429 (goal: 0), how long
after the last interaction every post shows its final state (goal: 10 s), and REST calls per
interaction type and per rate-limit bucket.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.driver import BenchWorld, percentile
from bench.flows import TAKE
from bench.ops import Slices, skill_names
from bench.seed import CHANNELS, GUILD_ID, STARTER, Scale
from buddybot.testing.harness import Sent
from buddybot.testing.transport import RestCall

PICK = "Pick a volunteer"
ROUND_TRIP_S = 0.05


class Monday:
    def __init__(self, world: BenchWorld, slices: Slices, scale: Scale, *, quick: bool) -> None:
        self.world, self.scale = world, scale
        share = 4 if quick else 1
        self.span = 60.0 / share
        self.counts = {"/need ask": 50 // share, "I can take it": 300 // share, "/find": 100 // share,
                       "Pick a volunteer": 50 // share}  # fmt: skip
        self.requesters = slices.take(self.counts["/need ask"])
        self.volunteers = slices.take(self.counts["I can take it"])
        self.rng = random.Random(7)
        self.delivered: dict[int, tuple[str, float]] = {}  # interaction id -> (kind, when delivered)
        self.acked: dict[int, float] = {}
        self.posts: dict[int, int] = {}  # requester -> post message id
        self.volunteered: defaultdict[int, list[int]] = defaultdict(list)  # requester -> volunteers

    def _instrument(self) -> None:
        session = self.world.discord.session
        answer = session._handler

        def stamped(call: RestCall) -> Any:
            parts = call.path.split("/")
            if call.path.endswith("/callback") and int(parts[2]) not in self.acked:
                self.acked[int(parts[2])] = time.perf_counter()
            return answer(call)

        session._handler = stamped

    async def _deliver(self, kind: str, payload: dict[str, Any]) -> None:
        d = self.world.discord
        interaction_id = d._register(payload)
        self.delivered[interaction_id] = (kind, time.perf_counter())
        await d._feed("INTERACTION_CREATE", payload, interaction_id)

    def _post(self, requester: int) -> Sent | None:
        message_id = self.posts.get(requester)
        return self.world.discord.messages.get(message_id) if message_id else None

    async def run(self, log: Callable[[str], None]) -> dict[str, Any]:
        w, d = self.world, self.world.discord
        self._instrument()
        names = skill_names(w, self.scale)
        plan: list[tuple[float, str, int]] = []
        for who in self.requesters:
            plan.append((self.rng.uniform(0, self.span * 0.6), "/need ask", who))
        for who in self.volunteers:
            plan.append((self.rng.uniform(self.span * 0.1, self.span * 0.9), "I can take it", who))
        for i in range(self.counts["/find"]):
            plan.append((self.rng.uniform(0, self.span), "/find", i))
        for who in self.rng.sample(self.requesters, self.counts["Pick a volunteer"]):
            plan.append((self.rng.uniform(self.span * 0.8, self.span), "Pick a volunteer", who))
        plan.sort()
        first_calls = len(d.session.calls)
        before = asyncio.all_tasks()
        start = time.perf_counter()
        skipped: Counter[str] = Counter()
        asked = {
            who: names[STARTER + n % max(1, self.scale.skills - STARTER)]
            for n, who in enumerate(self.requesters)
        }
        for at, kind, who in plan:
            delay = start + at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if kind == "/need ask":
                payload = w.slash("need ask", w.member(who), skill=asked[who], when="next week",
                                  channel_id=CHANNELS["referrals"])  # fmt: skip
                await self._deliver(kind, payload)
                self._track_post(who, payload)
            elif kind == "I can take it":
                open_posts = [
                    r for r in self.requesters if self._post(r) is not None and TAKE in self._post(r).labels()
                ]
                if not open_posts:
                    skipped[kind] += 1
                    continue
                requester = self.rng.choice(open_posts)
                await self._deliver(kind, w.click(self._post(requester), TAKE, w.member(who)))
                self.volunteered[requester].append(who)
            elif kind == "/find":
                await self._deliver(kind, w.slash("find", w.member(self.rng.randrange(self.scale.members)),
                                                  skill=names[self.rng.randrange(STARTER)], when="next week"))  # fmt: skip
            else:
                post = self._post(who)
                if post is None or not self.volunteered.get(who) or PICK not in post.labels():
                    skipped[kind] += 1
                    continue
                chosen = w.member(self.volunteered[who][0])
                await self._deliver(kind, w.select(post, PICK, w.member(who), [chosen.id]))
        burst_end = time.perf_counter()
        log(f"  monday: {len(self.delivered)} interactions delivered in {burst_end - start:.1f} s; settling")
        settle_s = await self._settle(burst_end)
        await d.settle(before)
        calls = d.session.calls[first_calls:]
        return self._report(calls, burst_end - start, settle_s, skipped)

    def _track_post(self, requester: int, payload: dict[str, Any]) -> None:
        token = payload["token"]

        def find() -> None:
            message_id = self.world.discord.original_message_id.get(token)
            if message_id is not None:
                self.posts[requester] = message_id
            else:
                asyncio.get_running_loop().call_later(0.01, find)

        find()

    async def _settle(self, burst_end: float, limit: float = 60.0) -> float | None:
        """Seconds after the burst until every post shows what the database holds (None: not within limit)."""
        while time.perf_counter() - burst_end < limit:
            if self._all_current():
                return round(time.perf_counter() - burst_end, 2)
            await asyncio.sleep(0.05)
        return None

    def _all_current(self) -> bool:
        rows = (
            {
                message_id: (state, volunteers)
                for message_id, state, volunteers in self.world.query(
                    "SELECT n.message_id, n.state, (SELECT count(*) FROM need_volunteers v WHERE v.need_id = n.id) "
                    "FROM needs n WHERE n.message_id IN ("
                    + ",".join(str(m) for m in self.posts.values())
                    + ")"
                )
            }
            if self.posts
            else {}
        )
        for message_id, (state, volunteers) in rows.items():
            post = self.world.discord.messages.get(message_id)
            text = post.text() if post else ""
            if state == "open" and volunteers and f"Volunteers ({volunteers})" not in text:
                return False
            if state == "filled" and "Filled" not in text:
                return False
        return len(rows) == len(self.posts) == len(self.requesters)

    def _report(
        self, calls: list[RestCall], span: float, settle_s: float | None, skipped: Counter[str]
    ) -> dict[str, Any]:
        acks = {i: (self.acked[i] - t) * 1000 for i, (_, t) in self.delivered.items() if i in self.acked}
        by_kind: defaultdict[str, list[float]] = defaultdict(list)
        for i, (kind, _) in self.delivered.items():
            if i in acks:
                by_kind[kind].append(acks[i])
        calls_by_kind: Counter[str] = Counter()
        kind_of = {i: kind for i, (kind, _) in self.delivered.items()}
        for c in calls:
            if c.origin in kind_of:
                calls_by_kind[kind_of[c.origin]] += 1
        delivered = Counter(kind for kind, _ in self.delivered.values())
        return {
            "round_trip_ms": ROUND_TRIP_S * 1000,
            "span_s": round(span, 1),
            "delivered": dict(delivered),
            "skipped": dict(skipped),
            "unanswered": len(self.delivered) - len(acks),
            "max_ack_ms": round(max(acks.values(), default=float("nan")), 1),
            "p99_ack_ms": round(percentile(list(acks.values()), 99), 1),
            "max_ack_ms_by_type": {k: round(max(v), 1) for k, v in by_kind.items()},
            "responses_429": sum(1 for c in calls if c.status == 429),
            "settle_s": settle_s,
            "rest_calls": len(calls),
            "rest_calls_by_bucket": dict(Counter(c.bucket or "interaction callback (none)" for c in calls)),
            "rest_calls_per_interaction": {k: round(calls_by_kind[k] / delivered[k], 2) for k in delivered},
        }


def _no_first_answer_window(conn: Any) -> None:
    conn.execute(
        "INSERT INTO guild_config (guild_id, pitch_window_minutes) VALUES (?, 0) "
        "ON CONFLICT (guild_id) DO UPDATE SET pitch_window_minutes = 0",
        (GUILD_ID,),
    )


async def monday_morning(
    db: Path, scale: Scale, *, quick: bool, log: Callable[[str], None]
) -> dict[str, Any]:
    world = await BenchWorld(db, strict=True, round_trip_s=ROUND_TRIP_S).start()
    try:
        # The burst asks for 50 picks within the minute; with the default 30-minute first-answer window
        # the pick menu would not be open yet, so this guild runs without the window.
        await world.bot.db.write(_no_first_answer_window)
        slices = Slices(scale.members)
        slices.take(scale.members // 4)  # clear of the members the other measurements use
        return await Monday(world, slices, scale, quick=quick).run(log)
    finally:
        await world.close()
