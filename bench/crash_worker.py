"""A bot process to kill: BuddyBot on FakeDiscord against DB, answering a stream of writing interactions.

    python bench/crash_worker.py DB [--count N] [--shard-id K --shard-count N]

Prints `ready` once logged in, then one line per interaction Discord saw answered, flushed at once:
    done offer <user_id> <skill>        an /offer add that said "Added"
    done need <user_id> <details>       a /need ask whose request was posted (its thread and record follow)
    done take <need_id> <user_id>       an "I can take it" click that said "Thanks"
Interactions run ten at a time, so a SIGKILL lands in the middle of transactions and REST calls.
tests/test_kill9.py kills it with SIGKILL mid-burst and checks every "done" is in the database.
DB is a SQLite path or a postgresql:// URL. With --shard-id K --shard-count N its guild is one Discord
would route to shard K ((guild_id >> 22) % N == K) and its snowflakes never collide with another
shard's process; tests/test_multiprocess.py runs shards 0 and 1 of 2 on one PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from buddybot.testing.harness import FakeDiscord, Result  # noqa: E402
from buddybot.testing.world import FakeClock, make_bot  # noqa: E402

TAKE = "I can take it"


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def shard_of(guild_id: int, shard_count: int) -> int:
    return (guild_id >> 22) % shard_count  # Discord's routing of a guild to a shard


async def main(db: str, count: int, shard_id: int = 0, shard_count: int = 1) -> None:
    discord = FakeDiscord(spec=None)
    discord._ids = itertools.count(shard_id * (1 << 20))  # distinct snowflakes per shard process
    guild = discord.add_guild("Crash Town")
    while shard_of(guild.id, shard_count) != shard_id:
        guild = discord.add_guild("Crash Town")
    say(f"guild {guild.id}")
    users = [discord.add_user(f"member{i}", guild) for i in range(count + 2)]
    bot = make_bot(db, FakeClock())
    await discord.start(bot)
    helper = users[-1]
    await discord.slash("offer add", helper, skill="bookkeeping")
    opened = await discord.slash("need ask", users[-2], skill="bookkeeping", when="next week")
    post = next(
        discord.messages[int(c.response["id"])]
        for c in opened.posts
        if TAKE in discord.messages[int(c.response["id"])].labels()
    )
    need_id = int(post.find_component(TAKE)["custom_id"].split(":")[1])
    say("ready")

    async def one(i: int) -> None:
        user = users[i]
        kind = i % 3
        if kind == 0:
            skill = f"crash skill {i}"
            r: Result = await discord.slash("offer add", user, skill=skill)
            if r.content.startswith("Added"):
                say(f"done offer {user.id} {skill}")
        elif kind == 1:
            details = f"crash job {i}"
            r = await discord.slash("need ask", user, skill="bookkeeping", when="next week", details=details)
            if any(TAKE in discord.messages[int(c.response["id"])].labels() for c in r.posts):
                say(f"done need {user.id} {details}")
        else:
            r = await discord.click(post, TAKE, user)
            if "Thanks" in r.text():
                say(f"done take {need_id} {user.id}")

    for start in range(0, count, 10):
        await asyncio.gather(*(one(i) for i in range(start, min(start + 10, count))))
    say("finished")
    await discord.close_bot()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--shard-id", type=int, default=0)
    parser.add_argument("--shard-count", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(main(args.db, args.count, args.shard_id, args.shard_count))
