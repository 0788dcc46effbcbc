"""kill -9 mid-burst: a real bot process (bench/crash_worker.py) dies with SIGKILL while it writes.

Afterwards the database must be intact (integrity_check, foreign keys), reopen through the real
migrations, and hold every interaction the process had answered before it died ("done" lines).
"""

from __future__ import annotations

import os
import selectors
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from buddybot.storage.db import Database

ROOT = Path(__file__).resolve().parent.parent
WORKER = ROOT / "bench" / "crash_worker.py"


def run_until(proc: subprocess.Popen[str], answered: int, deadline_s: float = 30.0) -> list[str]:
    """Read `done` lines until `answered` of them arrived, then SIGKILL; returns every line printed."""
    assert proc.stdout is not None
    lines: list[str] = []
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + deadline_s
    buffer = ""
    while sum(line.startswith("done") for line in lines) < answered:
        if time.monotonic() > deadline or proc.poll() is not None:
            break
        if not selector.select(timeout=0.5):
            continue
        chunk = os.read(proc.stdout.fileno(), 65536).decode()
        buffer += chunk
        *complete, buffer = buffer.split("\n")
        lines += complete
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    rest = proc.stdout.read()  # printed before it died: those interactions were answered too
    lines += (buffer + rest).splitlines()
    selector.close()
    return [line for line in lines if line]


@pytest.mark.parametrize("answered", [40, 90])
def test_sigkill_mid_burst_keeps_every_answered_interaction(tmp_path: Path, answered: int) -> None:
    db = tmp_path / "crash.sqlite3"
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), str(db)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = run_until(proc, answered)
    finally:
        if proc.poll() is None:
            proc.kill()
        errors = proc.stderr.read() if proc.stderr else ""
    assert "ready" in lines, f"the worker never came up:\n{errors[-3000:]}"
    assert "finished" not in lines, "the worker finished before it was killed: raise --count"
    assert proc.returncode == -signal.SIGKILL
    done = [line.split(" ", 2) for line in lines if line.startswith("done ")]
    assert len(done) >= answered, lines[-5:]

    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        missing = []
        for _, kind, rest in done:
            if kind == "offer":
                user, skill = rest.split(" ", 1)
                found = conn.execute(
                    "SELECT 1 FROM offers WHERE user_id = ? AND skill = ?", (int(user), skill)
                )
            elif kind == "need":
                user, details = rest.split(" ", 1)
                found = conn.execute(
                    "SELECT 1 FROM needs WHERE requester_id = ? AND details = ?", (int(user), details)
                )
            else:
                need, user = rest.split(" ")
                found = conn.execute(
                    "SELECT 1 FROM need_volunteers WHERE need_id = ? AND user_id = ?", (int(need), int(user))
                )
            if found.fetchone() is None:
                missing.append((kind, rest))
        assert not missing, f"answered but not in the database after kill -9: {missing}"
        pings = conn.execute(
            """SELECT count(*) FROM offers o WHERE o.pings_30d <> (SELECT count(*) FROM need_pings p
               WHERE p.guild_id = o.guild_id AND p.user_id = o.user_id AND p.counted = 1)"""
        ).fetchone()[0]
        assert pings == 0, "fairness counters disagree with the pings stored"

    async def reopen() -> list[str]:
        database = Database(db)
        applied = await database.open()
        await database.close()
        return applied

    import asyncio

    assert asyncio.run(reopen()) == []
