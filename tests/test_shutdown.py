"""SIGTERM shuts the bot down cleanly: the process exits 0 and SQLite is closed (WAL checkpointed)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from buddybot.cli import close_on_signals
    from buddybot.testing.harness import FakeDiscord
    from buddybot.testing.world import make_bot

    async def main(path):
        discord = FakeDiscord()
        guild = discord.add_guild()
        alice = discord.add_user("alice", guild)
        bot = make_bot(path)
        await discord.start(bot)
        close_on_signals(bot)
        r = await discord.slash("profile set", alice, business="Alice's Books")
        assert r.response["type"] == 4
        print("ready", flush=True)
        while not bot.is_closed():
            await asyncio.sleep(0.01)
        print("closed", bot.db.is_open, flush=True)

    asyncio.run(main(sys.argv[1]))
    """
)


def test_sigterm_closes_the_bot_and_the_database(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        child.send_signal(signal.SIGTERM)
        out, _ = child.communicate(timeout=30)
    finally:
        child.kill()
    assert child.returncode == 0
    assert out.strip() == "closed False"
    assert not Path(f"{db}-wal").exists(), "the last connection closes and checkpoints the WAL"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT business FROM members").fetchall() == [("Alice's Books",)]
