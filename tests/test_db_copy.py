"""`buddybot db copy`: SQLite -> PostgreSQL -> SQLite keeps every row, refuses a full target, survives a crash."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from buddybot.cli import main
from buddybot.storage import copy
from buddybot.testing.engines import connected
from tests.conftest import require_pg
from tests.test_stats import ALICE, BOB, seed_scenario, ts

GUILD = 7
SAME = "SELECT * FROM {table} ORDER BY 1, 2, 3"
CHECKED = ("members", "offers", "needs", "referrals", "stat_counts", "stat_pairs", "agreement_members")


def quiet() -> copy.Progress:
    return copy.Progress(stream=io.StringIO())


@pytest.fixture
def community(tmp_path: Path) -> Path:
    path = tmp_path / "community.sqlite3"
    copy._migrate_to_current(str(path))
    with connected(path) as conn:
        seed_scenario(conn, GUILD)
    return path


@pytest.fixture
def pg_empty(pg_templates):
    templates = require_pg(pg_templates)
    url = templates.empty()
    yield url
    templates.drop(url)


def rows(target, table: str) -> list[tuple]:
    sql = SAME.format(table=table)
    if table == "agreement_members":  # SQLite's implicit rowid is a real column on PostgreSQL: name it
        sql = "SELECT agreement_id, user_id, role, name, rowid FROM agreement_members ORDER BY rowid"
    with connected(target) as conn:
        return [tuple(r) for r in conn.execute(sql)]


def test_round_trip_sqlite_postgresql_sqlite_keeps_every_row(
    community: Path, pg_empty: str, tmp_path: Path
) -> None:
    there = copy.copy(str(community), pg_empty, progress=quiet())
    back_path = tmp_path / "back.sqlite3"
    back = copy.copy(pg_empty, str(back_path), progress=quiet())
    assert there and all(r.equal for r in there) and all(r.equal for r in back)
    assert {r.table: r.source_rows for r in there} == {r.table: r.source_rows for r in back}
    assert next(r for r in there if r.table == "stat_counts").source_rows > 50  # the roll-ups came along
    for table in CHECKED:
        assert rows(community, table) == rows(pg_empty, table) == rows(back_path, table), table


def test_the_copy_is_live_afterwards_triggers_on_and_new_ids_after_the_copied(
    community: Path, pg_empty: str
) -> None:
    copy.copy(str(community), pg_empty, progress=quiet())
    with connected(community) as conn:
        top = conn.execute("SELECT max(id) FROM needs").fetchone()[0]
    with connected(pg_empty) as conn:
        before = conn.execute(
            "SELECT value FROM stat_counts WHERE guild_id = ? AND metric = 'needs_posted' AND kind = 'a'",
            (GUILD,),
        ).fetchone()[0]
        new_id = conn.execute(
            "INSERT INTO needs (guild_id, requester_id, skill, start_date, end_date, created_day, created_at) "
            "VALUES (?, ?, 'seo', '2026-12-01', '2026-12-02', '2026-11-25', ?) RETURNING id",
            (GUILD, ALICE, ts("11-25")),
        ).fetchone()[0]
        after = conn.execute(
            "SELECT value FROM stat_counts WHERE guild_id = ? AND metric = 'needs_posted' AND kind = 'a'",
            (GUILD,),
        ).fetchone()[0]
    assert new_id == top + 1
    assert after == before + 1  # the roll-up trigger is back on


def test_a_target_with_rows_is_refused_unless_forced(community: Path, tmp_path: Path, capsys) -> None:
    target = tmp_path / "target.sqlite3"
    copy.copy(str(community), str(target), progress=quiet())
    with connected(target) as conn:
        conn.execute("UPDATE members SET business = 'changed' WHERE user_id = ?", (BOB,))
    with pytest.raises(SystemExit) as exit_info:
        main(["db", "copy", str(community), str(target)])
    assert exit_info.value.code == 1
    assert "pass --force" in capsys.readouterr().err
    assert ("changed",) in [r[2:3] for r in rows(target, "members")]
    main(["db", "copy", str(community), str(target), "--force"])
    assert "counts and checksums match" in capsys.readouterr().out
    assert rows(target, "members") == rows(community, "members")


def test_a_crash_mid_copy_leaves_the_target_empty_and_a_rerun_completes(
    community: Path, tmp_path: Path
) -> None:
    target = tmp_path / "target.sqlite3"

    class Crash(copy.Progress):
        def update(self, table: str, done: int, total: int, started: float) -> None:
            if table == "needs":
                raise KeyboardInterrupt  # the operator's Ctrl-C, or the process dying, mid-table

    with pytest.raises(KeyboardInterrupt):
        copy.copy(str(community), str(target), progress=Crash(stream=io.StringIO()))
    with connected(target) as conn:
        assert copy.extra_rows(conn) == 0  # nothing half-copied: the one transaction rolled back
    reports = copy.copy(str(community), str(target), progress=quiet())
    assert all(r.equal for r in reports)


def test_checksums_see_a_changed_value(community: Path, tmp_path: Path) -> None:
    with connected(community) as conn:
        cols = copy.columns(conn, "members")
        before = copy.checksum(conn, "members", cols)
        conn.execute("UPDATE members SET area = 'elsewhere' WHERE user_id = ?", (ALICE,))
        after = copy.checksum(conn, "members", cols)
    assert before[0] == after[0] and before[1] != after[1]


def test_a_copy_into_postgresql_leaves_it_analyzed(community: Path, pg_empty: str) -> None:
    """Without statistics PostgreSQL planned /stats' counter read as a scan of the guild's roll-ups (5 ms
    instead of 0.2 ms on the bench community) until autovacuum got round to it."""
    copy.copy(str(community), pg_empty, progress=quiet())
    with connected(pg_empty) as conn:
        analyzed = dict(
            conn.execute(
                "SELECT relname, last_analyze IS NOT NULL FROM pg_stat_user_tables "
                "WHERE relname IN ('stat_counts', 'needs', 'referrals', 'offers')"
            ).fetchall()
        )
    assert analyzed == {"stat_counts": True, "needs": True, "referrals": True, "offers": True}
