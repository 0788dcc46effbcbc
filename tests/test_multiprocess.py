"""Several REAL bot processes on one PostgreSQL: shards 0 and 1 of 2 each serving their own guild through the
harness, one killed with SIGKILL mid-burst and restarted; and two scheduler processes racing for due jobs.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from buddybot.testing.engines import connected
from tests.conftest import require_pg
from tests.test_kill9 import run_until

ROOT = Path(__file__).resolve().parent.parent
CRASH = ROOT / "bench" / "crash_worker.py"
CLAIM = ROOT / "bench" / "claim_worker.py"


def start(script: Path, *args: str, stdin: int | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(script), *args],
        cwd=ROOT,
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen[str], timeout: float = 180) -> list[str]:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-3000:]
    return out.splitlines()


def guild_of(lines: list[str]) -> int:
    return int(next(line for line in lines if line.startswith("guild "))[6:])


@pytest.fixture
def pg_url(pg_templates) -> str:
    return require_pg(pg_templates).fresh()


def test_two_shard_processes_one_killed_and_restarted_lose_and_double_nothing(pg_url: str) -> None:
    shard0 = start(CRASH, pg_url, "--shard-id", "0", "--shard-count", "2", "--count", "3000")
    shard1 = start(CRASH, pg_url, "--shard-id", "1", "--shard-count", "2", "--count", "60")
    try:
        killed = run_until(shard0, 40, deadline_s=120)
        served = finish(shard1)
    finally:
        for proc in (shard0, shard1):
            if proc.poll() is None:
                proc.kill()
    assert shard0.returncode == -signal.SIGKILL and "finished" not in killed
    assert "finished" in served
    restarted = finish(start(CRASH, pg_url, "--shard-id", "0", "--shard-count", "2", "--count", "30"))
    assert "finished" in restarted

    guilds = {guild_of(killed): 0, guild_of(served): 1, guild_of(restarted): 0}
    assert all((guild >> 22) % 2 == shard for guild, shard in guilds.items())  # each served its own shard
    done = [
        line.split(" ", 2)
        for lines in (killed, served, restarted)
        for line in lines
        if line.startswith("done ")
    ]
    assert len(done) >= 40 + 60 // 2
    with connected(pg_url) as conn:
        missing = []
        for _, kind, rest in done:
            if kind == "offer":
                user, skill = rest.split(" ", 1)
                sql, params = (
                    "SELECT count(*) FROM offers WHERE user_id = ? AND skill = ?",
                    (int(user), skill),
                )
            elif kind == "need":
                user, details = rest.split(" ", 1)
                sql, params = (
                    "SELECT count(*) FROM needs WHERE requester_id = ? AND details = ?",
                    (int(user), details),
                )
            else:
                need, user = rest.split(" ")
                sql = "SELECT count(*) FROM need_volunteers WHERE need_id = ? AND user_id = ?"
                params = (int(need), int(user))
            if conn.execute(sql, params).fetchone()[0] != 1:
                missing.append((kind, rest))
        assert not missing, f"answered but lost (or doubled) across processes: {missing}"
        doubled = conn.execute(
            "SELECT requester_id, details FROM needs GROUP BY requester_id, details HAVING count(*) > 1"
        ).fetchall()
        assert doubled == []
        stored = {r[0] for r in conn.execute("SELECT DISTINCT guild_id FROM needs")}
        assert stored <= set(guilds) and len(stored) == 3  # every process wrote, each in its own guild
        wrong = conn.execute(
            "SELECT count(*) FROM offers o WHERE o.pings_30d <> (SELECT count(*) FROM need_pings p "
            "WHERE p.guild_id = o.guild_id AND p.user_id = o.user_id AND p.counted = 1)"
        ).fetchone()[0]
        assert wrong == 0, "fairness counters disagree with the pings stored"


def test_two_scheduler_processes_run_every_due_job_exactly_once(pg_url: str) -> None:
    jobs = 120
    with connected(pg_url) as conn:
        conn.executemany(
            "INSERT INTO jobs (guild_id, kind, ref_id, due_at, created_at) VALUES (?, 'race.once', ?, ?, ?)",
            [(1 + i % 3, i, "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00+00:00") for i in range(jobs)],
        )
    workers = {name: start(CLAIM, pg_url, name, stdin=subprocess.PIPE) for name in ("a", "b")}
    try:
        for proc in workers.values():  # both connected before either starts claiming
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        ran = {}
        for proc in workers.values():
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for name, proc in workers.items():
            ran[name] = [int(line.split()[1]) for line in finish(proc) if line.startswith("ran ")]
    finally:
        for proc in workers.values():
            if proc.poll() is None:
                proc.kill()
    counts = Counter(ran["a"] + ran["b"])
    assert len(counts) == jobs and set(counts.values()) == {1}, "a job ran twice, or never"
    assert ran["a"] and ran["b"], "both processes took part in the race"
    with connected(pg_url) as conn:
        runs = dict(conn.execute("SELECT key, value FROM meta WHERE key LIKE 'ran:%'").fetchall())
        states = conn.execute("SELECT state, count(*) FROM jobs GROUP BY state").fetchall()
    assert len(runs) == jobs and all(value in ("a", "b") for value in runs.values())  # each step ran once
    assert [tuple(s) for s in states] == [("done", jobs)]
