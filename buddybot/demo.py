"""`buddybot demo`: a scripted community played through the real handlers, offline.

Every step is a real interaction payload parsed by discord.py and handled by the real cogs against a
real SQLite database; the transcript shows what each member would see in Discord.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from buddybot.demo_script import play
from buddybot.testing.harness import FakeDiscord
from buddybot.testing.world import FakeClock, make_bot
from buddybot.transcript import Transcript


async def run_demo(db_path: str | None = None, out: Any = None) -> Transcript:
    with tempfile.TemporaryDirectory(prefix="buddybot-demo-") as tmp:
        path = Path(db_path) if db_path else Path(tmp) / "demo.sqlite3"
        return await _play(path, out, kept=db_path is not None)


async def _play(path: Path, out: Any, *, kept: bool) -> Transcript:
    discord = FakeDiscord()
    clock = FakeClock()
    bot = make_bot(path, clock)
    transcript = Transcript(discord, out, clock)
    await discord.start(bot)  # online before the server invites it, so the join note is posted
    guild = discord.add_guild("Riverside Makers")
    members = {name: discord.add_user(name, guild) for name in ("alice", "bob", "carol", "dev", "erin")}
    members["maya"] = discord.add_user("maya", guild, moderator=True)
    try:
        await play(discord, guild, members, transcript, clock)
    finally:
        await discord.close_bot()
    transcript.heading("The end")
    where = f"kept in {path}" if kept else "temporary (keep it with `buddybot demo --db PATH`)"
    transcript.say(f"{len(discord.calls)} REST calls, all answered offline. Database: {where}.")
    return transcript
