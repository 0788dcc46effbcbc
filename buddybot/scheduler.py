"""One scheduler for all due work: jobs stored with their due time, claimed once, run, then delivered.

A feature registers a job kind with the domain step to run when it is due:

    @job_kind("need.nudge", pings=True, max_late=timedelta(hours=12))
    def nudge(conn, job, now) -> Outcome | None: ...

and schedules rows with `schedule(conn, guild_id, "need.nudge", need_id, due_at)` inside its own unit.

`claim_due` (one write unit) claims due jobs with a conditional UPDATE (so two processes never run the
same job), runs each job's step in a SAVEPOINT in the same transaction (its state changes commit together
with the claim), and stores the step's Outcome as JSON on the job. The bot then delivers the outcomes
(messages with a nonce derived from the job ids, post redraws) and marks the jobs done. A process killed
between the two leaves a 'claimed' job whose lease runs out; the next `claim_due` hands its STORED outcome
out again without re-running the step, and Discord's nonce check drops a message that had already gone out:
at most one message, none lost.

Quiet hours: jobs of kinds that ping people wait until 08:00 in the guild's time zone when they fall due
between 21:00 and 08:00. Catch-up: a kind with `max_late` drops jobs that are later than that (a reminder
days late helps nobody); kinds without it (expiry, deadlines) always run. Notices for the same channel in
one run are merged into one message.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from buddybot.models import utc_iso
from buddybot.storage import jobs as sql

log = logging.getLogger(__name__)

QUIET_START = time(21, 0)
QUIET_END = time(8, 0)
LEASE = timedelta(seconds=90)
RETRY_AFTER = timedelta(minutes=5)
MAX_ATTEMPTS = 5
KEEP_FINISHED = timedelta(days=30)
BATCH = 50


@dataclass(frozen=True)
class Button:
    """A button on a notice; its custom_id is handled by a DynamicItem of the feature that asked for it."""

    custom_id: str
    label: str
    style: str = "secondary"  # primary | secondary | success | danger


@dataclass(frozen=True)
class Notice:
    """One message to post in a channel or thread, pinging exactly `ping` (user text already made safe)."""

    channel_id: int
    text: str
    ping: tuple[int, ...] = ()
    buttons: tuple[Button, ...] = ()


@dataclass
class Outcome:
    """What a job's step wants the bot to do: say things, and redraw posts (kind, row id), e.g. ("need", 7)."""

    notices: list[Notice] = field(default_factory=list)
    refresh: list[tuple[str, int]] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps({"notices": [asdict(n) for n in self.notices], "refresh": self.refresh})

    @classmethod
    def from_json(cls, text: str | None) -> Outcome:
        if not text:
            return cls()
        data = json.loads(text)
        notices = [
            Notice(
                channel_id=n["channel_id"],
                text=n["text"],
                ping=tuple(n["ping"]),
                buttons=tuple(Button(**b) for b in n["buttons"]),
            )
            for n in data["notices"]
        ]
        return cls(notices=notices, refresh=[(kind, ref) for kind, ref in data["refresh"]])


@dataclass(frozen=True)
class Job:
    id: int
    guild_id: int
    kind: str
    ref_id: int
    tag: str
    due_at: datetime
    attempts: int
    redelivery: bool = False  # handed out again after a lost lease: its stored outcome, not a new run

    @classmethod
    def from_row(cls, row: Any, *, redelivery: bool = False) -> Job:
        return cls(
            redelivery=redelivery,
            id=row["id"],
            guild_id=row["guild_id"],
            kind=row["kind"],
            ref_id=row["ref_id"],
            tag=row["tag"],
            due_at=datetime.fromisoformat(row["due_at"]),
            attempts=row["attempts"],
        )


Step = Callable[[sqlite3.Connection, Job, datetime], "Outcome | None"]


@dataclass(frozen=True)
class JobKind:
    name: str
    step: Step
    pings: bool
    max_late: timedelta | None


KINDS: dict[str, JobKind] = {}


def job_kind(name: str, *, pings: bool, max_late: timedelta | None = None) -> Callable[[Step], Step]:
    """Register the domain step for a kind of job (at import time of the feature's domain module)."""

    def register(step: Step) -> Step:
        if name in KINDS and KINDS[name].step is not step:
            raise RuntimeError(f"two steps registered for job kind {name!r}")
        KINDS[name] = JobKind(name, step, pings, max_late)
        return step

    return register


def schedule(
    conn: sqlite3.Connection,
    guild_id: int,
    kind: str,
    ref_id: int,
    due_at: datetime,
    now: datetime,
    tag: str = "",
) -> None:
    """Call inside a feature's write unit. Idempotent: the same (kind, row, tag) is one job."""
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    sql.schedule(conn, guild_id, kind, ref_id, tag, utc_iso(due_at), utc_iso(now))


def cancel(conn: sqlite3.Connection, guild_id: int, kind: str, ref_id: int, now: datetime) -> int:
    return sql.cancel(conn, guild_id, kind, ref_id, utc_iso(now))


def quiet_until(moment: datetime, tz_name: str) -> datetime | None:
    """If `moment` falls in the guild's quiet hours (21:00–08:00 local), the UTC instant they end."""
    tz = ZoneInfo(tz_name)
    local = moment.astimezone(tz)
    if QUIET_END <= local.time() < QUIET_START:
        return None
    day = local.date() if local.time() < QUIET_END else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_END, tzinfo=tz).astimezone(moment.tzinfo)


@dataclass
class Claimed:
    """Jobs whose outcome must now be delivered, then passed to `finish`."""

    job_ids: list[int]
    outcome: Outcome


def claim_due(
    conn: sqlite3.Connection, now: datetime, worker: str, *, limit: int = BATCH
) -> list[tuple[Job, Outcome]]:
    """One write unit: re-hand out expired leases, claim and run due jobs. Returns what to deliver."""
    stamp = utc_iso(now)
    lease_until = utc_iso(now + LEASE)
    out: list[tuple[Job, Outcome]] = []
    for row in sql.expired_leases(conn, stamp, limit):
        if sql.claim(conn, row["id"], "claimed", worker, lease_until):
            out.append((Job.from_row(row, redelivery=True), Outcome.from_json(row["result"])))
    rows = sql.due(conn, stamp, limit)
    zones = sql.guild_timezones(conn, sorted({row["guild_id"] for row in rows}))
    dropped: list[int] = []
    for row in rows:
        job = Job.from_row(row)
        kind = KINDS.get(job.kind)
        if kind is None:
            log.error("job %s has unknown kind %r; dropping it", job.id, job.kind)
            dropped.append(job.id)
            continue
        if kind.max_late is not None and now - job.due_at > kind.max_late:
            dropped.append(job.id)  # days-late reminders help nobody; state changes have no max_late
            continue
        if kind.pings:
            wake = quiet_until(now, zones.get(job.guild_id, "Europe/London"))
            if wake is not None:
                sql.postpone(conn, job.id, utc_iso(wake))
                continue
        if not sql.claim(conn, job.id, "due", worker, lease_until):
            continue  # another process took it
        outcome = _run_step(conn, kind, job, now)
        if outcome is None:
            continue
        sql.store_result(conn, job.id, outcome.to_json())
        out.append((job, outcome))
    sql.set_final(conn, dropped, "dropped", stamp)
    return out


def _run_step(conn: sqlite3.Connection, kind: JobKind, job: Job, now: datetime) -> Outcome | None:
    """Run one step in a savepoint: a failing job is retried later (then given up) without harming others."""
    conn.execute("SAVEPOINT job_step")
    try:
        outcome = kind.step(conn, job, now) or Outcome()
    except Exception:
        conn.execute("ROLLBACK TO SAVEPOINT job_step")
        conn.execute("RELEASE SAVEPOINT job_step")
        log.exception("job %s (%s #%s) failed", job.id, job.kind, job.ref_id)
        if job.attempts + 1 >= MAX_ATTEMPTS:
            sql.set_final(conn, [job.id], "failed", utc_iso(now))
        else:
            sql.postpone(conn, job.id, utc_iso(now + RETRY_AFTER * (job.attempts + 1)))
        return None
    conn.execute("RELEASE SAVEPOINT job_step")
    return outcome


def finish(conn: sqlite3.Connection, job_ids: list[int], now: datetime) -> int:
    """After delivery: done. Also forgets finished jobs older than a month, a few at a time."""
    done = sql.finish(conn, job_ids, utc_iso(now))
    sql.prune(conn, utc_iso(now - KEEP_FINISHED))
    return done


@dataclass(frozen=True)
class Message:
    """Notices merged per channel: what the bot posts, with a nonce that is the same on every re-delivery."""

    channel_id: int
    text: str
    ping: tuple[int, ...]
    buttons: tuple[Button, ...]
    nonce: str


MESSAGE_LIMIT = 2000


def merge(claimed: list[tuple[Job, Outcome]]) -> list[Message]:
    """One message per channel for plain notices (split at Discord's 2,000 characters); notices with buttons
    stay on their own. The nonce is derived from the job ids, so a re-delivery after a crash repeats it."""
    plain: dict[tuple[int, bool], list[tuple[int, Notice]]] = {}
    messages: list[Message] = []
    for job, outcome in claimed:
        for index, notice in enumerate(outcome.notices):
            if notice.buttons:
                messages.append(
                    Message(
                        notice.channel_id,
                        notice.text[:MESSAGE_LIMIT],
                        notice.ping,
                        notice.buttons,
                        f"j{job.id}.{index}",
                    )
                )
            else:
                # a re-delivery is grouped as it was the first time (its whole batch lost its lease together)
                plain.setdefault((notice.channel_id, job.redelivery), []).append((job.id, notice))
    for (channel_id, _), notices in plain.items():
        chunk: list[tuple[int, Notice]] = []
        length = 0
        parts = 0
        for job_id, notice in notices:
            extra = len(notice.text) + (1 if chunk else 0)
            if chunk and length + extra > MESSAGE_LIMIT:
                messages.append(_merged(channel_id, chunk, parts))
                chunk, length, parts = [], 0, parts + 1
                extra = len(notice.text)
            chunk.append((job_id, notice))
            length += extra
        if chunk:
            messages.append(_merged(channel_id, chunk, parts))
    return messages


def _merged(channel_id: int, chunk: list[tuple[int, Notice]], part: int) -> Message:
    text = "\n".join(notice.text for _, notice in chunk)[:MESSAGE_LIMIT]
    ping = tuple(dict.fromkeys(user for _, notice in chunk for user in notice.ping))
    ids = sorted({job_id for job_id, _ in chunk})
    # the part number keeps two messages split from the same jobs from sharing a nonce (Discord would drop one)
    nonce = f"j{ids[0]}.{len(ids)}.{ids[-1]}" + (f".{part}" if part else "")
    return Message(channel_id, text, ping, (), nonce[:25])
