"""A scheduler process to race: claims due jobs from DB through the real `scheduler.claim_due`, in a loop.

    python bench/claim_worker.py DB NAME

Registers the job kind "race.once", whose step appends NAME to meta['ran:<job id>'] (so a job whose step
ran twice, in any process, shows two names). Prints `ready` once connected, waits for a line on stdin
("go"), then prints `ran <job id>` for each job it ran and `finished` once no job is due any more. tests/test_multiprocess.py runs two of these on one PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from buddybot import scheduler  # noqa: E402
from buddybot.storage.db import Database  # noqa: E402

KIND = "race.once"


@scheduler.job_kind(KIND, pings=False)
def _once(conn, job: scheduler.Job, now: datetime) -> scheduler.Outcome:
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = meta.value || ',' || excluded.value",
        (f"ran:{job.id}", NAME),
    )
    return scheduler.Outcome(refresh=[("race", job.id)])


def _due(conn) -> int:
    return conn.execute("SELECT count(*) FROM jobs WHERE state = 'due'").fetchone()[0]


async def main(db_target: str) -> None:
    db = Database(db_target)
    await db.open()
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)  # "go": start racing together with the other process
    try:
        while True:
            claimed = await db.write(partial(scheduler.claim_due, limit=5), datetime.now(UTC), NAME)
            for job, _ in claimed:
                print(f"ran {job.id}", flush=True)
            if claimed:
                await db.write(scheduler.finish, [job.id for job, _ in claimed], datetime.now(UTC))
                # A real process delivers between claims; without a pause, a process that got "go" first
                # could take all 120 jobs before the other wakes on a loaded machine (no race to test).
                await asyncio.sleep(0.01)
            if not claimed and await db.read(_due) == 0:
                break
        print("finished", flush=True)
    finally:
        await db.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("name")
    args = parser.parse_args()
    NAME = args.name
    asyncio.run(main(args.db))
