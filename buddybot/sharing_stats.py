"""The sharing part of /stats: loans started, returned on time, overdue now (and which), median loan length,
labour hours shared, top lenders. Read from counters kept in the same unit as each event (see
buddybot/loan_jobs.py `on_started` / `on_closed`) and from the partial index of overdue loans: no scans.
"""

from __future__ import annotations

import sqlite3
from datetime import date

from buddybot.models import Record
from buddybot.storage import sharing as sql
from buddybot.storage import stats as stats_sql

TOP = 5
OVERDUE_SHOWN = 10
SCALARS = ("share_started", "share_returned", "share_on_time", "share_labour_hours")


class OverdueLoan(Record):
    loan_id: int
    item_name: str
    owner_id: int
    borrower_id: int
    due_on: date
    escalated: bool  # day 7: the moderators were told


class SharingStats(Record):
    loans_started: int
    loans_returned: int
    returned_on_time: int
    overdue_now: int
    overdue: list[OverdueLoan]
    median_days: float | None
    labour_hours: int
    top_lenders: list[tuple[str, int]]


def median_of(histogram: list[tuple[int, int]]) -> float | None:
    """Median of (value, count) pairs: the middle value, or the mean of the two middle ones."""
    total = sum(n for _, n in histogram)
    if total == 0:
        return None
    middle = [(total - 1) // 2, total // 2]
    found: list[int] = []
    seen = 0
    for value, n in sorted(histogram):
        while middle and middle[0] < seen + n:
            found.append(value)
            middle.pop(0)
        seen += n
    return sum(found) / 2


KEYED: dict[str, int | None] = {"share_days": None, "share_lent": TOP}  # read with /stats' other lists


def compute(
    conn: sqlite3.Connection, guild_id: int, counts: dict[str, int], keyed: dict[str, list[tuple[str, int]]]
) -> SharingStats:
    """`counts` holds SCALARS and `keyed` the KEYED lists of the period, read by /stats with its own
    figures (stats_sql.values, stats_sql.keyed: one statement each for every feature)."""
    overdue_now, late = sql.overdue(conn, guild_id, OVERDUE_SHOWN)
    days = stats_sql.histogram(keyed["share_days"])
    return SharingStats(
        loans_started=counts["share_started"],
        loans_returned=counts["share_returned"],
        returned_on_time=counts["share_on_time"],
        overdue_now=overdue_now,
        overdue=[
            OverdueLoan(
                loan_id=loan.id,
                item_name=loan.item_name,
                owner_id=loan.owner_id,
                borrower_id=loan.borrower_id,
                due_on=loan.due_on,
                escalated=loan.escalated,
            )
            for loan in late
        ],
        median_days=median_of(days),
        labour_hours=counts["share_labour_hours"],
        top_lenders=keyed["share_lent"],
    )
