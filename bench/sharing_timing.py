"""Time and database round trips of `/borrow` and of an Approve click, through the offline harness.

    .venv/bin/python bench/sharing_timing.py [--runs 500]

Each sample is one interaction: compressed gateway frame -> discord.py parser -> CommandTree / DynamicItem
-> cog -> domain -> SQLite -> REST calls captured (for /borrow: the post pinging the owner, its thread,
the private answer; for Approve: the post's update and the note in the thread). 60 members each share one
thing; every loan is cancelled after it is measured so no one reaches the three-open-loans limit.
Prints the median and p99 in microseconds.
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

MEMBERS = 60


def summary(label: str, samples: list[float], trips: set[int]) -> str:
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return (
        f"{label:<14} {','.join(map(str, sorted(trips))):>11} {statistics.median(samples):>10.0f} {p99:>9.0f}"
    )


async def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        discord = FakeDiscord()
        guild = discord.add_guild()
        users = [discord.add_user(f"member{i}", guild) for i in range(MEMBERS)]
        bot = make_bot(Path(tmp) / "bench.sqlite3", FakeClock())
        await discord.start(bot)
        for i, user in enumerate(users):
            payload = discord.command_payload("share add", user, guild=guild, kind="equipment", quantity=1000)
            payload["data"]["options"][0]["options"].append(
                {"name": "name", "type": 3, "value": f"Ladder {i}"}
            )
            await discord.interact(payload)
        borrow_samples: list[float] = []
        approve_samples: list[float] = []
        borrow_trips: set[int] = set()
        approve_trips: set[int] = set()
        for i in range(runs):
            owner_index = i % MEMBERS
            owner, borrower = users[owner_index], users[(owner_index + 1) % MEMBERS]
            discord.session.calls.clear()
            discord.messages.clear()
            before = bot.db.round_trips
            start = time.perf_counter_ns()
            result = await discord.slash("borrow", borrower, item=str(owner_index + 1), when="1-3 dec")
            borrow_samples.append((time.perf_counter_ns() - start) / 1000)
            borrow_trips.add(bot.db.round_trips - before)
            post_call = next(c for c in result.posts if c.json.get("embeds"))
            post = discord.messages[int(post_call.response["id"])]
            before = bot.db.round_trips
            start = time.perf_counter_ns()
            await discord.click(post, "Approve", owner)
            approve_samples.append((time.perf_counter_ns() - start) / 1000)
            approve_trips.add(bot.db.round_trips - before)
            await discord.click(post, "Cancel", borrower)
        print(f"{'interaction':<14} {'round trips':>11} {'median µs':>10} {'p99 µs':>9}   ({runs} runs each)")
        print(summary("/borrow", borrow_samples, borrow_trips))
        print(summary("Approve click", approve_samples, approve_trips))
        await discord.close_bot()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=500)
    asyncio.run(main(parser.parse_args().runs))
