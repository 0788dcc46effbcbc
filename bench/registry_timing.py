"""Time per registry command through the offline harness, and database round trips per command.

    .venv/bin/python bench/registry_timing.py [--runs 1000]

Each sample is one interaction: compressed gateway frame -> discord.py parser -> CommandTree ->
cog -> domain -> SQLite -> REST callback captured. Prints the median and p99 in microseconds.
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


async def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        discord = FakeDiscord()
        guild = discord.add_guild()
        users = [discord.add_user(f"member{i}", guild) for i in range(50)]
        bot = make_bot(Path(tmp) / "bench.sqlite3", FakeClock())
        await discord.start(bot)
        for i, user in enumerate(users):
            await discord.slash("profile set", user, business=f"Business {i}", area="Riverside")
            await discord.slash("offer add", user, skill="bookkeeping" if i % 2 else "web design")
        commands = {
            "profile set": lambda i: ("profile set", {"business": f"Biz {i}", "area": "Old Town"}),
            "profile view": lambda i: ("profile view", {"member": users[i % 50]}),
            "offer add": lambda i: ("offer add", {"skill": "payroll", "details": f"detail {i}"}),
            "offer remove": lambda i: ("offer remove", {"skill": "payroll"}),
            "offer list": lambda i: ("offer list", {"member": users[i % 50]}),
            "find": lambda i: ("find", {"skill": "bookkeeping", "when": "this week"}),
            "available": lambda i: ("available", {"when": "next week", "slots": 2}),
            "busy": lambda i: ("busy", {"until": "friday"}),
            "autocomplete": None,
        }
        print(f"{'command':<14} {'round trips':>11} {'median µs':>10} {'p99 µs':>9}   ({runs} runs each)")
        for name, make in commands.items():
            samples, trips = [], set()
            for i in range(runs):
                user = users[i % 50]
                before = bot.db.round_trips
                discord.session.calls.clear()
                discord.messages.clear()
                start = time.perf_counter_ns()
                if make is None:
                    await discord.autocomplete("offer add", user, "skill", skill="boo")
                else:
                    command, options = make(i)
                    if command == "offer remove":
                        await discord.slash("offer add", user, skill="payroll")
                        start = time.perf_counter_ns()
                        before = bot.db.round_trips
                    await discord.slash(command, user, **options)
                samples.append((time.perf_counter_ns() - start) / 1000)
                trips.add(bot.db.round_trips - before)
            samples.sort()
            p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
            label = name if make is not None else "autocomplete"
            print(
                f"{label:<14} {','.join(map(str, sorted(trips))):>11} {statistics.median(samples):>10.0f} {p99:>9.0f}"
            )
        await discord.close_bot()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    asyncio.run(main(parser.parse_args().runs))
