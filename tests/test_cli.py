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
