"""Harness time and database round trips of a group-buy pledge.

    .venv/bin/python bench/groupbuy_timing.py [--runs 1000]

One sample is one interaction through the offline Discord: compressed gateway frame -> discord.py parser ->
modal / DynamicItem dispatch -> cog -> domain -> SQLite -> REST calls captured (the ephemeral answer and,
for a submit, the edit of the live progress post). Three operations are timed: pressing **Pledge** (opens
the form; one read), submitting the form (the pledge; one write, then the post edit) and pressing
**Withdraw**. Also a burst: 50 members submitting their forms at once (the race the totals must survive).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from buddybot.testing.harness import FakeDiscord
from buddybot.testing.world import FakeClock, make_bot

FLOUR = {"product": "Flour", "supplier": "Mill", "unit": "16 kg sack", "case_size": "1",
         "tiers": "1+: 18.50, 500+: 16.00"}  # fmt: skip


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        discord = FakeDiscord()
        guild = discord.add_guild()
        organiser = discord.add_user("organiser", guild)
        members = [discord.add_user(f"member{i}", guild) for i in range(100)]
        bot = make_bot(Path(tmp) / "bench.sqlite3", FakeClock())
        await discord.start(bot)
        opened = await discord.slash("groupbuy start", organiser, target=100_000, deadline="in 30 days")
        await discord.submit(opened, organiser, **FLOUR)
        post = next(m for m in discord.messages.values() if "Pledge" in m.labels())
        timings: dict[str, list[float]] = {
            "press Pledge (open form)": [],
            "submit pledge": [],
            "press Withdraw": [],
        }
        trips: dict[str, set[int]] = {name: set() for name in timings}

        async def timed(name: str, action) -> object:
            before = bot.db.round_trips
            start = time.perf_counter_ns()
            result = await action
            timings[name].append((time.perf_counter_ns() - start) / 1000)
            trips[name].add(bot.db.round_trips - before)
            return result

        for i in range(runs):
            who = members[i % len(members)]
            discord.session.calls.clear()
            form = await timed("press Pledge (open form)", discord.click(post, "Pledge", who))
            await timed(
                "submit pledge", discord.submit(form, who, quantity=str(1 + i % 7), tolerance=str(i % 3))
            )
            if i % 4 == 3:
                await timed("press Withdraw", discord.click(post, "Withdraw", who))
        print(f"{'operation':<26} {'round trips':>11} {'median µs':>10} {'p99 µs':>9} {'runs':>6}")
        for name, samples in timings.items():
            print(f"{name:<26} {','.join(map(str, sorted(trips[name]))):>11} "
                  f"{statistics.median(samples):>10.0f} {percentile(samples, 0.99):>9.0f} {len(samples):>6}")  # fmt: skip

        crowd = members[:50]
        forms = [await discord.click(post, "Pledge", who) for who in crowd]
        patches = len([c for c in discord.calls if c.method == "PATCH"])
        start = time.perf_counter_ns()
        await asyncio.gather(
            *(discord.submit(f, who, quantity="3") for f, who in zip(forms, crowd, strict=True))
        )
        elapsed = (time.perf_counter_ns() - start) / 1e6
        edits = len([c for c in discord.calls if c.method == "PATCH"]) - patches
        print(f"burst: 50 simultaneous pledge submits in {elapsed:.1f} ms; {edits} post edits (not 50)")
        await discord.close_bot()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    asyncio.run(main(parser.parse_args().runs))
