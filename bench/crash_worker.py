"""A bot process to kill: BuddyBot on FakeDiscord against DB, answering a stream of writing interactions.

    python bench/crash_worker.py DB [--count N]

Prints `ready` once logged in, then one line per interaction Discord saw answered, flushed at once:
    done offer <user_id> <skill>        an /offer add that said "Added"
    done need <user_id> <details>       a /need ask whose request was posted (its thread and record follow)
    done take <need_id> <user_id>       an "I can take it" click that said "Thanks"
Interactions run ten at a time, so a SIGKILL lands in the middle of transactions and REST calls.
tests/test_kill9.py kills it with SIGKILL mid-burst and checks every "done" is in the database.
"""

from __future__ import annotations

import argparse
import asyncio
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


async def main(db: Path, count: int) -> None:
    discord = FakeDiscord(spec=None)
    guild = discord.add_guild("Crash Town")
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
    parser.add_argument("db", type=Path)
    parser.add_argument("--count", type=int, default=3000)
    args = parser.parse_args()
    asyncio.run(main(args.db, args.count))
