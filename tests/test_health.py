"""`buddybot health` (the container's HEALTHCHECK) and `db backup --progress`."""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path

import pytest

from buddybot.cli import main
from buddybot.storage import db as dbmod


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    db = tmp_path / "bot.sqlite3"
    monkeypatch.setenv("BUDDYBOT_DB", str(db))
    return db


def health(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(["health"])
    return int(exit_info.value.code or 0), capsys.readouterr().out


def test_health_fails_without_a_database_and_creates_none(clean_env: Path, capsys) -> None:
    code, out = health(capsys)
    assert code == 1 and out.startswith("unhealthy: no database at")
    assert not clean_env.exists()


def test_health_is_ok_once_migrated(clean_env: Path, capsys) -> None:
    main(["db", "upgrade"])
    capsys.readouterr()
    code, out = health(capsys)
    assert code == 0 and out.startswith(f"ok: {clean_env} opens and answers (0 configured server(s))")


def test_health_reports_a_file_that_is_not_a_database(clean_env: Path, capsys) -> None:
    clean_env.write_bytes(b"not a database at all" * 100)
    code, out = health(capsys)
    assert code == 1 and "DatabaseError" in out


def test_health_does_not_migrate_an_empty_database(clean_env: Path, capsys) -> None:
    sqlite3.connect(clean_env).close()
    code, out = health(capsys)
    assert code == 1 and "no such table: guild_config" in out
    with sqlite3.connect(clean_env) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 0


def test_backup_with_progress_draws_a_bar_and_copies_everything(
    clean_env: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    main(["db", "upgrade"])
    with sqlite3.connect(clean_env) as conn:
        conn.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)", [(f"k{i}", "x" * 2000) for i in range(400)]
        )
    monkeypatch.setattr(dbmod, "BACKUP_STEP_PAGES", 16)
    capsys.readouterr()
    target = tmp_path / "copy.sqlite3"
    main(["db", "backup", str(target), "--progress"])
    captured = capsys.readouterr()
    assert captured.out.startswith("backed up")
    last = captured.err.splitlines()[-1]
    assert last.startswith("backup [########################] 100%") and "pages/s" in last
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT COUNT(*) FROM meta WHERE key LIKE 'k%'").fetchone()[0] == 400


def test_backup_without_a_terminal_prints_no_bar(clean_env: Path, tmp_path: Path, capsys) -> None:
    main(["db", "upgrade"])
    capsys.readouterr()
    main(["db", "backup", str(tmp_path / "copy.sqlite3")])
    assert capsys.readouterr().err == ""


def test_a_backup_that_keeps_restarting_finishes_in_one_step(tmp_path: Path) -> None:
    source = tmp_path / "a.sqlite3"
    conn = sqlite3.connect(source, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE t (x)")
    conn.executemany("INSERT INTO t VALUES (?)", [(b"x" * 1000,) for _ in range(2000)])
    other = sqlite3.connect(source, isolation_level=None)  # another process's writes restart the copy
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        seen.append((done, total))
        if done < total:
            other.execute("INSERT INTO t VALUES (1)")

    target = tmp_path / "b.sqlite3"
    dbmod.BACKUP_STEP_PAGES, saved = 64, dbmod.BACKUP_STEP_PAGES
    try:
        dbmod._backup_unit(conn, lambda c: None, (str(target), progress))
    finally:
        dbmod.BACKUP_STEP_PAGES = saved
    restarts = sum(1 for a, b in itertools.pairwise(seen) if b[0] <= a[0])
    assert restarts == 2 and seen[-1][0] == seen[-1][1]  # the third restart switches to one step
    assert len(seen) == 4
    with sqlite3.connect(target) as copy:
        assert (
            copy.execute("SELECT COUNT(*) FROM t").fetchone()[0]
            == conn.execute("SELECT COUNT(*) FROM t").fetchone()[0]
        )
