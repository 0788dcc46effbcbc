"""A group buy's end: the deadline job (succeeded or failed, cases allocated, pledgers told once), the 24-hour
reminder, and the CSV order for the supplier. Imported by the cog at startup so the job kinds register."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from datetime import datetime, timedelta

from buddybot import scheduler, stats
from buddybot.allocation import Allocation
from buddybot.groupbuy_terms import money, plain_amount, tier_for
from buddybot.groupbuys import (
    ANNOUNCE,
    DEADLINE,
    NOTICE_CHARS,
    NOTICE_PINGS,
    REMIND,
    Snapshot,
    allocation_of,
    progress_of,
    snapshot_in,
)
from buddybot.models import utc_iso
from buddybot.scheduler import Job, Notice, Outcome
from buddybot.storage import config as config_sql
from buddybot.storage import groupbuys as sql
from buddybot.storage.groupbuys import GroupBuy

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str | None) -> str:
    """Member text in a spreadsheet cell that can never run as a formula."""
    text = text or ""
    return "'" + text if text.startswith(_FORMULA_START) else text


CSV_COLUMNS = ("member", "user_id", "pledged", "tolerance", "allocated", "unit", "unit_price", "line_total",
               "currency")  # fmt: skip


def export_csv(snap: Snapshot) -> str:
    """The order for the supplier: one row per pledger (queue order), then the total. Amounts are exact
    integer minor units written with the currency's decimals (3 × 14.20 = 42.60, never 42.599…)."""
    terms = snap.buy.terms
    alloc = allocation_of(snap)
    _, price = tier_for(terms.tiers, alloc.units)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for pledge, share in zip(snap.pledges, alloc.shares, strict=True):
        writer.writerow([
            _cell(pledge.name or ("former member" if pledge.user_id < 0 else "member")),
            pledge.user_id, share.quantity, share.tolerance, share.allocated, _cell(terms.unit),
            plain_amount(price, terms.currency), plain_amount(share.allocated * price, terms.currency),
            terms.currency,
        ])  # fmt: skip
    writer.writerow([
        f"TOTAL: {alloc.cases} case{'s' if alloc.cases != 1 else ''} of {terms.case_size}", "",
        sum(s.quantity for s in alloc.shares), sum(s.tolerance for s in alloc.shares), alloc.units,
        _cell(terms.unit), plain_amount(price, terms.currency), plain_amount(alloc.units * price, terms.currency),
        terms.currency,
    ])  # fmt: skip
    return out.getvalue()


# -- the scheduler's jobs ---------------------------------------------------------------------------------
_MARKDOWN = re.compile(r"([\\*_~`|])")


def inert(text: str) -> str:
    """Organiser text in a notice: markdown escaped (mentions were already refused when it was typed)."""
    return _MARKDOWN.sub(r"\\\1", text)


def chunks(head: str, lines: list[tuple[str, int | None]], channel_id: int) -> list[Notice]:
    """Notices of at most NOTICE_CHARS characters and NOTICE_PINGS pinged members each (Discord's limits)."""
    notices: list[Notice] = []
    text, ping = head, []
    for line, user in lines:
        if len(text) + 1 + len(line) > NOTICE_CHARS or (user is not None and len(ping) >= NOTICE_PINGS):
            notices.append(Notice(channel_id, text, tuple(ping)))
            text, ping = "", []
        text = f"{text}\n{line}" if text else line
        if user is not None:
            ping.append(user)
    if text:
        notices.append(Notice(channel_id, text, tuple(ping)))
    return notices


@scheduler.job_kind(DEADLINE, pings=False)
def close_at_deadline(conn: sqlite3.Connection, job: Job, now: datetime) -> Outcome | None:
    """Succeeded if the full cases reach the target, else failed; automatic, once (conditional UPDATE).
    The state changes at once; if the job runs in the guild's quiet hours (a bot that was down at the
    deadline), the message to the pledgers waits for the morning as an ANNOUNCE job."""
    buy = sql.get(conn, job.guild_id, job.ref_id)
    if buy is None or buy.state != "open":
        return None
    snap = snapshot_in(conn, buy.guild_id, buy.id, with_pledges=True)
    alloc = allocation_of(snap)
    terms = buy.terms
    succeeded = alloc.units >= terms.target
    if not sql.close(
        conn, buy.guild_id, buy.id, "succeeded" if succeeded else "failed", utc_iso(now), None, None
    ):
        return None
    deltas = {"gb_units": snap.progress.firm}
    if succeeded:
        sql.set_allocated(conn, buy.guild_id, buy.id, [(s.user_id, s.allocated) for s in alloc.shares])
        _, price = tier_for(terms.tiers, alloc.units)
        deltas |= {"gb_succeeded": 1, "gb_saving": alloc.units * (terms.tiers[0][1] - price)}
    for metric, delta in deltas.items():
        stats.bump(conn, buy.guild_id, now, metric, delta=delta)
    if scheduler.quiet_until(now, config_sql.get_config(conn, buy.guild_id).timezone) is not None:
        scheduler.schedule(conn, buy.guild_id, ANNOUNCE, buy.id, now, now)
        return Outcome(refresh=[("groupbuy", buy.id)])
    return Outcome(notices=outcome_notices(buy, alloc, succeeded=succeeded), refresh=[("groupbuy", buy.id)])


@scheduler.job_kind(ANNOUNCE, pings=True)
def announce_outcome(conn: sqlite3.Connection, job: Job, now: datetime) -> Outcome | None:
    """The outcome message of a deadline that passed in quiet hours (the scheduler holds it until 08:00)."""
    buy = sql.get(conn, job.guild_id, job.ref_id)
    if buy is None or buy.state not in ("succeeded", "failed"):
        return None
    alloc = allocation_of(snapshot_in(conn, buy.guild_id, buy.id, with_pledges=True))
    return Outcome(notices=outcome_notices(buy, alloc, succeeded=buy.state == "succeeded"))


def outcome_notices(buy: GroupBuy, alloc: Allocation, *, succeeded: bool) -> list[Notice]:
    """Told once, in the thread, pinging exactly the pledgers: their share and the price, or that it failed."""
    terms, channel = buy.terms, buy.talk_to or 0
    title = f"group buy #{buy.id} “{inert(terms.product)}” from {inert(terms.supplier)}"
    if not succeeded:
        head = (f"❌ The {title} didn't reach its target: full cases came to {alloc.units} of {terms.target} "
                f"units by the deadline. Nobody owes anything.")  # fmt: skip
        return chunks(head, [(f"<@{s.user_id}>", s.user_id) for s in alloc.shares if s.user_id > 0], channel)
    low, price = tier_for(terms.tiers, alloc.units)
    cur = terms.currency
    head = (f"✅ The {title} succeeded: {alloc.cases} case{'s' if alloc.cases != 1 else ''} ({alloc.units} × "
            f"{inert(terms.unit)}) at {money(price, cur)} each (the {low}+ tier). The organiser sends the order with "
            f"`/groupbuy view id:{buy.id} export:True`; BuddyBot handles no money.")  # fmt: skip
    lines = []
    for s in alloc.shares:
        if s.user_id <= 0:
            continue
        if s.allocated:
            line = f"<@{s.user_id}>: {s.allocated} at {money(price, cur)} = {money(s.allocated * price, cur)}"
            if s.from_tolerance:
                line += f" ({s.from_tolerance} from your tolerance)"
        else:
            line = f"<@{s.user_id}>: nothing this time"
        if s.leftover:
            line += f"; {s.leftover} didn't fit into a full case"
        lines.append((line, s.user_id))
    return chunks(head, lines, channel)


@scheduler.job_kind(REMIND, pings=True, max_late=timedelta(hours=20))
def remind_before_deadline(conn: sqlite3.Connection, job: Job, now: datetime) -> Outcome | None:
    """One reminder a day before the deadline, to the organiser: how many units are still missing."""
    buy = sql.get(conn, job.guild_id, job.ref_id)
    if buy is None or buy.state != "open" or buy.talk_to is None:
        return None
    p = progress_of(buy.terms, sql.totals(conn, buy.guild_id, buy.id))
    missing = buy.terms.target - p.orderable
    if missing > 0:
        said = (
            f"⏰ 24 hours left on group buy #{buy.id} “{inert(buy.terms.product)}”: {missing} more "
            f"unit{'s' if missing != 1 else ''} in full cases needed ({p.orderable} of {buy.terms.target})."
        )
    else:  # fmt: skip
        said = (
            f"⏰ 24 hours left on group buy #{buy.id} “{inert(buy.terms.product)}”: the target is reached "
            f"({p.orderable} of {buy.terms.target} units). Pledges can still change until the deadline."
        )
    return Outcome(notices=[Notice(buy.talk_to, said, (buy.organiser_id,))])


def notices_for(head: str, user_ids: list[int], channel_id: int) -> list[Notice]:
    """A message that pings exactly these members, split where Discord's limits require."""
    return chunks(head, [(f"<@{u}>", u) for u in user_ids], channel_id)
