"""The referral flow in the benchmark (/need, I can take it), and the bursts: 500 at once, 10,000 mixed."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from typing import Any

from bench.driver import BenchWorld, median
from bench.measure import BenchError, Noop, Op
from bench.ops import Accept, Find, OfferAdd, Slices, area_of, skill_names
from bench.seed import STARTER, Scale, zipf_rank
from buddybot.storage.dialect import table_names
from buddybot.testing.engines import connected
from buddybot.testing.harness import Result, Sent

WHEN = "next week"
TAKE = "I can take it"


def has(world: BenchWorld, command: str) -> bool:
    return world.bot.tree.get_command(command) is not None


def add_flow_ops(world: BenchWorld, slices: Slices, scale: Scale) -> list[Op]:
    chosen: list[Op] = []
    if has(world, "need"):
        chosen += [Need(slices, scale), Take(slices, scale)]
    if has(world, "agreement"):
        chosen.append(Accept(slices))
    return chosen


class Need(Op):
    """/need end to end: validate, store, match, post with pings, open the thread, remember the post."""

    name = "/need"

    def __init__(self, slices: Slices, scale: Scale) -> None:
        super().__init__()
        self.slices, self.scale = slices, scale

    async def setup(self, world: BenchWorld, total: int) -> None:
        self.who = self.slices.take(total)
        names = skill_names(world, self.scale)
        rng = random.Random(31)
        self.skills = [names[zipf_rank(rng.random(), self.scale.skills)] for _ in range(total)]

    def payload(self, world: BenchWorld, i: int) -> dict[str, Any]:
        who = self.who[i]
        values: dict[str, Any] = {
            "skill": self.skills[i],
            "when": WHEN,
            "details": "Client wants a quote this week",
        }
        if i % 2 == 0:
            values["area"] = area_of(who)
        return world.slash("need ask", world.member(who), **values)

    def check(self, world: BenchWorld, result: Result) -> None:
        if not need_posted(result):
            raise BenchError(f"/need: {result.response}")


def need_posted(result: Result) -> bool:
    """The requester saw their request: it was the answer, or the answer links to the post."""
    answered = [c for c in result.callbacks if c.status == 200] + [
        c for c in result.followups if c.status == 200
    ]
    return bool(answered) and (
        any(TAKE in str(c.json) for c in result.callbacks if c.status == 200)
        or result.told.startswith("Posted your request")
    )


def need_post(world: BenchWorld, result: Result) -> Sent:
    """The referrals-channel post a /need made (the one with the buttons)."""
    for call in result.posts:
        sent = world.discord.messages.get(int(call.response["id"]))
        if sent is not None and TAKE in sent.labels():
            return sent
    raise BenchError(f"/need made no post with {TAKE!r}: {result.response}")


class Take(Op):
    """**I can take it** clicks by members who were not pinged, spread over a few fresh posts."""

    name = "I can take it click"
    PER_POST = 50

    def __init__(self, slices: Slices, scale: Scale) -> None:
        super().__init__()
        self.slices, self.scale = slices, scale

    async def setup(self, world: BenchWorld, total: int) -> None:
        posts = -(-total // self.PER_POST)
        requesters = self.slices.take(posts)
        self.volunteers = self.slices.take(total)
        names = skill_names(world, self.scale)
        self.posts: list[Sent] = []
        for n, who in enumerate(requesters):
            skill = names[STARTER + n % max(1, self.scale.skills - STARTER)]
            result = await world.discord.interact(
                world.slash("need ask", world.member(who), skill=skill, when=WHEN)
            )
            post = need_post(world, result)
            self.posts.append(post)
            self.keep.add(post.id)

    def payload(self, world: BenchWorld, i: int) -> dict[str, Any]:
        return world.click(self.posts[i // self.PER_POST], TAKE, world.member(self.volunteers[i]))

    def check(self, world: BenchWorld, result: Result) -> None:
        if not result.callbacks or result.callbacks[0].status != 200 or not result.told.startswith("Thanks"):
            raise BenchError(f"{TAKE}: {result.calls[0].json if result.calls else 'no answer'}")


def rows(world: BenchWorld) -> dict[str, int]:
    with connected(world.db_path) as conn:
        tables = table_names(conn)
        wanted = ("needs", "need_volunteers", "offers", "agreement_acceptances", "need_pings")
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in wanted if t in tables}


async def bursts(
    world: BenchWorld,
    slices: Slices,
    scale: Scale,
    *,
    burst: int,
    mixed: int,
    log: Callable[[str], None],
    matched: Op | None = None,
) -> dict[str, Any]:
    """`matched`: /need's matched floor (the same REST calls, no work), what the 500 are compared with."""
    out: dict[str, Any] = {}
    if has(world, "need"):
        out["need_500"] = await _simultaneous(world, slices, scale, burst, log, matched)
    out["mixed"] = await _mixed(world, slices, scale, mixed, log)
    return out


async def _simultaneous(
    world: BenchWorld, slices: Slices, scale: Scale, n: int, log: Callable[[str], None], matched: Op | None
) -> dict[str, Any]:
    """n /need at once vs n of its matched floor at once (and n plain no-ops, for reference), alternated
    over a few repetitions."""
    reps = 5
    need, floor, noop = Need(slices, scale), matched or Noop(), Noop()
    await need.setup(world, n * reps)
    before = rows(world)
    retries = getattr(world.bot.db, "retries", None)  # PostgreSQL: serialization failures run again
    retried_before = sum(retries.values()) if retries is not None else 0
    need_ms, floor_ms, noop_ms, ratios = [], [], [], []
    posted = acked = 0
    for rep in range(reps):
        noop_ns, noop_results = await world.burst([noop.payload(world, rep * n + i) for i in range(n)])
        floor_ns, floor_results = await world.burst([floor.payload(world, rep * n + i) for i in range(n)])
        need_ns, results = await world.burst([need.payload(world, rep * n + i) for i in range(n)])
        for r in floor_results:
            floor.check(world, r)
        for r in noop_results:
            noop.check(world, r)
        acked += sum(1 for r in results if r.callbacks and r.callbacks[0].status == 200)
        posted += sum(
            1
            for c in results[0].calls
            if c.method == "POST"
            and c.path.startswith("/channels/")
            and c.path.endswith("/messages")
            and 200 <= c.status < 300
        )
        need_ms.append(need_ns / 1e6)
        floor_ms.append(floor_ns / 1e6)
        noop_ms.append(noop_ns / 1e6)
        ratios.append(need_ns / floor_ns)
        world.discord.forget()
        log(
            f"  burst {rep + 1}/{reps}: {n} /need in {need_ns / 1e6:.0f} ms ({acked} acknowledged so far), "
            f"{n} matched floors in {floor_ns / 1e6:.0f} ms, {n} no-ops in {noop_ns / 1e6:.0f} ms"
        )
    after = rows(world)
    expected = n * reps
    added = after["needs"] - before["needs"]
    return {
        "n": n,
        "repetitions": reps,
        "need_ms": round(median(need_ms), 1),
        "floor_ms": round(median(floor_ms), 1),
        "floor": "matched" if matched is not None else "no-op",
        "noop_ms": round(median(noop_ms), 1),
        "ratio": round(median(ratios), 2),
        "noop_ratio": round(median(need_ms) / median(noop_ms), 2),
        "interactions_per_s": round(n / (median(need_ms) / 1000)),
        "acknowledged": acked,
        "needs_added": added,
        "posts": posted,
        "expected": expected,
        "ok": acked == expected and added == expected and posted == expected,
        **({"retries": sum(retries.values()) - retried_before} if retries is not None else {}),
    }


async def _mixed(
    world: BenchWorld, slices: Slices, scale: Scale, total: int, log: Callable[[str], None]
) -> dict[str, Any]:
    """`total` interactions of every kind, 100 at a time; then every effect counted in the database."""
    kinds: list[tuple[str, Op, float]] = [
        ("find", Find(scale), 0.30),
        ("offer", OfferAdd(slices, scale), 0.20),
        ("noop", Noop(), 0.10),
    ]
    if has(world, "need"):
        kinds += [("need", Need(slices, scale), 0.15), ("take", Take(slices, scale), 0.15)]
    if has(world, "agreement"):
        kinds.append(("accept", Accept(slices), 0.10))
    weight = sum(w for _, _, w in kinds)
    counts = {name: int(total * w / weight) for name, _, w in kinds}
    counts[kinds[0][0]] += total - sum(counts.values())
    for name, op, _ in kinds:
        await op.setup(world, counts[name])
    world.discord.forget(keep=set().union(*(op.keep for _, op, _ in kinds)))
    rng = random.Random(41)
    sequence = [name for name, n in counts.items() for _ in range(n)]
    rng.shuffle(sequence)
    by_name = {name: op for name, op, _ in kinds}
    used = dict.fromkeys(counts, 0)
    before = rows(world)
    elapsed_ns = 0
    wave = 100
    failures: Counter[str] = Counter()
    for start in range(0, len(sequence), wave):
        names = sequence[start : start + wave]
        payloads = []
        for name in names:
            payloads.append(by_name[name].payload(world, used[name]))
            used[name] += 1
        ns, results = await world.burst(payloads)
        elapsed_ns += ns
        for name, result in zip(names, results, strict=True):
            try:
                by_name[name].check(world, _own(result))
            except BenchError:
                failures[name] += 1
        world.discord.forget(keep=set().union(*(op.keep for op in by_name.values())))
    after = rows(world)
    delta = {t: after[t] - before[t] for t in after}
    expected = {
        "needs": counts.get("need", 0),
        "need_volunteers": counts.get("take", 0),
        "offers": counts.get("offer", 0),
        "agreement_acceptances": counts.get("accept", 0),
    }
    checks = {t: {"expected": e, "got": delta.get(t)} for t, e in expected.items() if t in delta}
    ok = not failures and all(c["expected"] == c["got"] for c in checks.values())
    per_s = round(total / (elapsed_ns / 1e9))
    log(
        f"  mixed: {total} interactions in {elapsed_ns / 1e9:.2f} s ({per_s}/s), rows {'ok' if ok else 'WRONG'}"
    )
    return {
        "interactions": total,
        "counts": counts,
        "seconds": round(elapsed_ns / 1e9, 2),
        "interactions_per_s": per_s,
        "rows": checks,
        "failures": dict(failures),
        "ok": ok,
    }


def _own(result: Result) -> Result:
    """A burst Result narrowed to this interaction's calls (callbacks and webhook calls by its token)."""
    mine = [c for c in result.calls if f"/{result.interaction_id}/" in c.path or result.token in c.path]
    return Result(result.interaction_id, result.token, mine, result.discord)
