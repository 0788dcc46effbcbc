"""A child process for the peak-RSS comparison; prints {"max_rss_kib": ...} as its last line.

    rss_child.py bare DB       a bare commands.Bot, same intents, logged in through the harness
    rss_child.py buddybot DB   BuddyBot on a copy of the seeded database, serving every kind of command

Both log in through FakeDiscord and answer the same number of no-op commands; BuddyBot then serves
/find, /offer add, /need (and clicks), /stats. ru_maxrss is the process's own peak.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


async def bare(rounds: int) -> None:
    from discord.ext import commands

    from bench.driver import BenchWorld
    from buddybot.bot import intents

    def make() -> commands.Bot:
        return commands.Bot(command_prefix="!", intents=intents())

    world = await BenchWorld(":memory:", bot_factory=make).start()
    for i in range(rounds):
        await world.discord.interact(world.slash("noop", world.member(i % 100)))
        if i % 100 == 0:
            world.discord.forget()
    await world.close()


async def buddybot(db: Path, rounds: int) -> None:
    from bench import ops
    from bench.driver import BenchWorld
    from bench.flows import Need, Take, has
    from bench.seed import FULL, QUICK

    scale = QUICK if "--quick" in sys.argv else FULL
    world = await BenchWorld(db).start()
    slices = ops.Slices(scale.members)
    chosen: list[ops.Op] = [ops.OfferAdd(slices, scale), ops.Find(scale)]
    if has(world, "need"):
        chosen += [Need(slices, scale), Take(slices, scale)]
    if has(world, "stats"):
        chosen.append(ops.Stats())
    per = 50
    for op in chosen:
        await op.setup(world, per)
    for i in range(rounds):
        await world.discord.interact(world.slash("noop", world.member(i % 100)))
        if i % 100 == 0:
            world.discord.forget(keep=set().union(*(op.keep for op in chosen)))
    for op in chosen:
        for i in range(per if op.name != "/stats" else 5):
            result = await world.discord.interact(op.payload(world, i))
            op.check(world, result)
        world.discord.forget(keep=set().union(*(op.keep for op in chosen)))
    await world.close()


def main() -> None:
    kind, db = sys.argv[1], Path(sys.argv[2])
    rounds = 300
    if kind == "bare":
        asyncio.run(bare(rounds))
    else:
        asyncio.run(buddybot(db, rounds))  # the benchmark's working copy: it is thrown away after
    usage = resource.getrusage(resource.RUSAGE_SELF)
    hwm = next(
        (
            int(line.split()[1])
            for line in Path("/proc/self/status").read_text().splitlines()
            if line.startswith("VmHWM:")
        ),
        None,
    )
    print(json.dumps({"kind": kind, "max_rss_kib": usage.ru_maxrss, "vm_hwm_kib": hwm}))


if __name__ == "__main__":
    main()
