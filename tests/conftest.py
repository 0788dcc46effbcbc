from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from buddybot.bot import BuddyBot
from buddybot.testing.harness import FakeDiscord, FakeGuild, FakeUser
from buddybot.testing.openapi import DiscordSpec
from buddybot.testing.world import FakeClock, make_bot

SPEC_PATH = Path(__file__).parent / "discord_api" / "openapi.json"


@pytest.fixture(scope="session")
def spec() -> DiscordSpec:
    return DiscordSpec.load(SPEC_PATH)


@dataclass
class World:
    """A guild with members, the real bot logged in to FakeDiscord, and a fresh database."""

    discord: FakeDiscord
    bot: BuddyBot
    clock: FakeClock
    db_path: Path
    guild: FakeGuild
    alice: FakeUser
    bob: FakeUser
    carol: FakeUser
    mod: FakeUser

    async def restart(self) -> BuddyBot:
        from buddybot.testing.world import restart

        self.bot = await restart(self.discord, self.db_path, self.clock)
        return self.bot

    @property
    def db(self):
        return self.bot.db


@pytest.fixture
async def world(tmp_path: Path, spec: DiscordSpec) -> AsyncIterator[World]:
    discord = FakeDiscord(spec=spec)
    guild = discord.add_guild("Riverside Makers")
    alice = discord.add_user("alice", guild)
    bob = discord.add_user("bob", guild)
    carol = discord.add_user("carol", guild)
    mod = discord.add_user("maya", guild, moderator=True)
    clock = FakeClock()
    db_path = tmp_path / "buddybot.sqlite3"
    bot = make_bot(db_path, clock)
    await discord.start(bot)
    w = World(discord, bot, clock, db_path, guild, alice, bob, carol, mod)
    try:
        yield w
    finally:
        await discord.close_bot()
    assert discord.spec_violations == [], "Discord would refuse: " + "\n".join(discord.spec_violations)


@pytest.fixture
async def no_first_answer_window(world: World) -> None:
    """For tests about the post and the pick themselves: the menu opens at once (pitch_window_minutes 0).
    The first-answer window has its own tests (test_lifecycle.py)."""
    from buddybot.storage import config as config_sql

    await world.db.write(config_sql.update_config, world.guild.id, {"pitch_window_minutes": 0})
