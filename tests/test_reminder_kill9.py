"""kill -9 between claiming and sending, with a real process: a reminder is sent once, none lost.

A second process (bench/reminder_claim_worker.py) claims the due reminder on the bot's database, committing the
claim and the step's outcome, and dies by SIGKILL before sending anything. The bot, once the claim's lease
has run out, sends the stored outcome: one message.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from buddybot import scheduler
from tests.conftest import World
from tests.test_agreement_reminders import run_jobs, said_in_channel
from tests.test_agreements import pinged, propose, rows

ROOT = Path(__file__).resolve().parent.parent
WORKER = ROOT / "bench" / "reminder_claim_worker.py"


async def test_sigkill_between_claim_and_send_sends_the_reminder_once(world: World) -> None:
    await propose(world, world.alice, [world.bob])
    world.clock.advance(hours=48)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(WORKER), str(world.db_path), world.clock().isoformat(),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 120)).decode()  # after the claim committed
        assert line.split() == ["claimed", "agreement.pending"], line
    finally:
        proc.send_signal(signal.SIGKILL)  # kill -9: claimed, nothing sent
        await proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert rows(world, "SELECT state, claimed_by FROM jobs WHERE kind = 'agreement.pending'") == [
        ("claimed", "doomed-process")
    ]
    assert await run_jobs(world) == 0, "the dead process's lease still holds"
    assert said_in_channel(world, "still waiting for your answer") == []
    world.clock.advance(seconds=scheduler.LEASE.total_seconds() + 1)
    assert await run_jobs(world) == 1
    (reminder,) = said_in_channel(world, "still waiting for your answer")
    assert pinged(reminder.data["allowed_mentions"]) == {world.bob.id}
    world.clock.advance(days=1)
    await run_jobs(world)
    assert len(said_in_channel(world, "still waiting for your answer")) == 1
    assert rows(world, "SELECT state FROM jobs WHERE kind = 'agreement.pending'") == [("done",)]
