"""The console entry point: a clear message without a token, migrations, online backup."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from buddybot.cli import main
from buddybot.storage.db import migration_files


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    db = tmp_path / "bot.sqlite3"
    monkeypatch.setenv("BUDDYBOT_DB", str(db))
    return db


@pytest.mark.parametrize("command", [["run"], ["sync", "--guild", "123"]])
def test_without_a_token_it_says_how_to_get_one(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(command)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "DISCORD_TOKEN is not set" in err
    assert "bot applications.commands" in err
    assert "buddybot demo" in err


def test_db_upgrade_then_backup(clean_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["db", "upgrade"])
    assert "applied 001-initial.sql" in capsys.readouterr().out
    main(["db", "upgrade"])
    assert "already up to date" in capsys.readouterr().out
    with sqlite3.connect(clean_env) as conn:
        conn.execute("INSERT INTO meta (key, value) VALUES ('k', 'v')")
    target = tmp_path / "backups" / "copy.sqlite3"
    main(["db", "backup", str(target)])
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("PRAGMA user_version").fetchone()[0] == migration_files()[-1][0]
        assert copy.execute("SELECT value FROM meta WHERE key = 'k'").fetchall() == [("v",)]


def test_shard_flags_pick_a_sharded_bot_and_only_shard_zero_syncs_commands(clean_env) -> None:
    from buddybot.bot import BuddyBot, ShardedBuddyBot, make_bot
    from buddybot.settings import Settings

    settings = Settings(DISCORD_TOKEN="offline", BUDDYBOT_DB=str(clean_env))
    plain = make_bot(settings)
    assert type(plain) is BuddyBot and plain.sync_commands  # the default: one process, discord.py's count
    first = make_bot(settings, shard_count=4, shard_ids=[1, 0])
    second = make_bot(settings, shard_count=4, shard_ids=[2, 3])
    assert isinstance(first, ShardedBuddyBot) and (first.shard_count, first.shard_ids) == (4, [0, 1])
    assert first.sync_commands and not second.sync_commands  # the command sync happens once


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--shard-ids", "0,1"], "--shard-count N"),
        (["run", "--shard-count", "2", "--shard-ids", "0,2"], "between 0 and 1"),
        (["run", "--shard-count", "2", "--shard-ids", "one"], "numbers separated by commas"),
    ],
)
def test_bad_shard_flags_are_refused_before_connecting(argv, message, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
