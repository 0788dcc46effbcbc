"""A scheduler process to kill between claiming due jobs and sending what they say.

    python bench/reminder_claim_worker.py DB NOW_ISO

Claims every job due at NOW in DB exactly as the bot's Scheduler cog does (one write unit: conditional
UPDATE, the job's step, its outcome stored), prints `claimed <kind>...` and then waits, never delivering.
tests/test_reminder_kill9.py kills it with SIGKILL there and checks that the bot, started afterwards,
sends each reminder once: not lost, not doubled.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from buddybot import agreement_reminders, need_jobs, scheduler  # noqa: E402  (the kinds register)
from buddybot.storage.db import Database  # noqa: E402


async def main(db_target: str, now: datetime) -> None:
    assert agreement_reminders and need_jobs
    db = Database(db_target)  # a SQLite file or a postgresql:// URL
    await db.open()
    claimed = await db.write(scheduler.claim_due, now, "doomed-process")
    sys.stdout.write("claimed " + " ".join(job.kind for job, _ in claimed) + "\n")
    sys.stdout.flush()
    await asyncio.sleep(3600)  # SIGKILL arrives here: claimed, never sent


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], datetime.fromisoformat(sys.argv[2])))
