"""Bring a real BuddyBot up against FakeDiscord: shared by the tests, the demo and the benchmarks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from buddybot.bot import BuddyBot
from buddybot.settings import Settings
from buddybot.testing.harness import FakeDiscord


@dataclass
class FakeClock:
    """The bot's notion of now, which a test or the demo can move forward."""

    current: datetime = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


def make_bot(db_path: str | Path, clock: FakeClock | None = None) -> BuddyBot:
    settings = Settings(DISCORD_TOKEN="offline", BUDDYBOT_DB=str(db_path))
    return BuddyBot(settings, clock=clock or FakeClock(), sync_commands=True)


async def restart(discord: FakeDiscord, db_path: str | Path, clock: FakeClock) -> BuddyBot:
    """Close the running bot and start a fresh process-equivalent on the same database file."""
    bot = make_bot(db_path, clock)
    await discord.restart(bot)
    return bot
