from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from buddybot.bot import BuddyBot
from buddybot.testing.engines import PostgresTemplates, connected
from buddybot.testing.harness import FakeDiscord, FakeGuild, FakeUser
from buddybot.testing.openapi import DiscordSpec
from buddybot.testing.world import FakeClock, make_bot

SPEC_PATH = Path(__file__).parent / "discord_api" / "openapi.json"

# Tests that take a database run on both engines. PostgreSQL needs a server where they may create
# databases: BUDDYBOT_TEST_PG=postgresql://user@127.0.0.1:5432/postgres (.ci/run starts a throwaway one).
# Without it the PostgreSQL half is skipped, unless BUDDYBOT_TEST_PG_REQUIRED=1 (CI), which fails instead.
PG_SERVER = os.environ.get("BUDDYBOT_TEST_PG", "")
PG_REQUIRED = os.environ.get("BUDDYBOT_TEST_PG_REQUIRED") == "1"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only(reason): the test is about SQLite itself; run it once")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine" in metafunc.fixturenames:
        only = metafunc.definition.get_closest_marker("sqlite_only")
        metafunc.parametrize("engine", ["sqlite"] if only else ["sqlite", "postgresql"])


@pytest.fixture(scope="session")
def pg_templates() -> Iterator[PostgresTemplates | None]:
    if not PG_SERVER:
        yield None
        return
    templates = PostgresTemplates(PG_SERVER)
    try:
        yield templates
    finally:
        templates.close()


def require_pg(pg_templates: PostgresTemplates | None) -> PostgresTemplates:
    if pg_templates is None:
        if PG_REQUIRED:
            pytest.fail("BUDDYBOT_TEST_PG_REQUIRED=1 but BUDDYBOT_TEST_PG is not set")
        pytest.skip("PostgreSQL: set BUDDYBOT_TEST_PG=postgresql://user@host:port/postgres to run")
    return pg_templates


@pytest.fixture
def db_target(engine: str, tmp_path: Path, pg_templates: PostgresTemplates | None) -> Iterator[str | Path]:
    """A fresh database for the test: a SQLite file, or a migrated PostgreSQL database cloned from a template."""
    if engine == "sqlite":
        yield tmp_path / "buddybot.sqlite3"
        return
    templates = require_pg(pg_templates)
    url = templates.fresh()
    try:
        yield url
    finally:
        templates.drop(url)


@pytest.fixture(scope="session")
def spec() -> DiscordSpec:
    return DiscordSpec.load(SPEC_PATH)


@dataclass
class World:
    """A guild with members, the real bot logged in to FakeDiscord, and a fresh database."""

    discord: FakeDiscord
    bot: BuddyBot
    clock: FakeClock
    db_path: str | Path  # a SQLite file or a postgresql:// URL
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

    def connect(self):
        """A sync autocommit connection to the bot's database, whichever the engine (a context manager)."""
        return connected(self.db_path)


@pytest.fixture
async def world(db_target: str | Path, spec: DiscordSpec) -> AsyncIterator[World]:
    discord = FakeDiscord(spec=spec)
    guild = discord.add_guild("Riverside Makers")
    alice = discord.add_user("alice", guild)
    bob = discord.add_user("bob", guild)
    carol = discord.add_user("carol", guild)
    mod = discord.add_user("maya", guild, moderator=True)
    clock = FakeClock()
    db_path = db_target
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
