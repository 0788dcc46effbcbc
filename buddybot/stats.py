"""Network health for moderators: every /stats figure from the roll-ups, in one unit of work.

Periods are calendar periods so far, in UTC (the roll-ups are kept per UTC week, month, quarter and
year): week = since Monday, month = since the 1st, quarter, year, or all time. Requests count in the
period they were posted (so the fill rate is a rate of those), everything else when it happened.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta

from buddybot import sharing_stats
from buddybot.errors import BuddyError
from buddybot.guildconfig import require_moderator
from buddybot.models import Actor, Record
from buddybot.sharing_stats import SharingStats
from buddybot.storage import config as config_sql
from buddybot.storage import groupbuys as groupbuys_sql
from buddybot.storage import lifecycle as lifecycle_sql
from buddybot.storage import outcomes as outcomes_sql
from buddybot.storage import stats as sql
from buddybot.storage.db import Database

PERIODS = ("week", "month", "quarter", "year", "all")
DEFAULT_PERIOD = "month"
TOP = 5
CHART_MIN_WEEKS = 12
CHART_MAX_WEEKS = 156


class Ranked(Record):
    key: str
    count: int


class WeekPoint(Record):
    week: date
    posted: int
    filled: int


class Value(Record):
    currency: str
    total_minor: int
    median_minor: int
    count: int


class AfterHandshake(Record):
    """Outcomes, closed-business value (aggregates only: values are private), nudges, and fairness in time.

    Read through (guild, time) indexes bounded by the period, and the per-member speed totals; no history
    before the period is read."""

    won: int = 0
    no_deal: int = 0
    median_days_to_outcome: float | None = None
    values: list[Value] = []
    nudges_sent: int = 0
    nudged_requests: int = 0
    nudged_filled: int = 0
    referrals: int = 0
    to_fastest_decile: int = 0
    fastest_decile_size: int = 0

    @property
    def won_rate(self) -> float | None:
        reported = self.won + self.no_deal
        return self.won / reported if reported else None

    @property
    def fastest_decile_share(self) -> float | None:
        return self.to_fastest_decile / self.referrals if self.referrals else None


def _middle(values: list[float]) -> float:
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def after_handshake(
    conn: sqlite3.Connection, guild_id: int, start: date | None, today: date, counts: dict[str, int]
) -> AfterHandshake:
    lo, hi = start.isoformat() if start else "", (today + timedelta(days=1)).isoformat()
    rows = outcomes_sql.outcomes_between(conn, guild_id, lo, hi)
    won = [r for r in rows if r["outcome"] == "won"]
    days = [
        (datetime.fromisoformat(r["outcome_at"]) - datetime.fromisoformat(r["created_at"])).total_seconds()
        / 86400
        for r in rows
    ]
    by_currency: dict[str, list[int]] = {}
    for r in won:
        if r["value_minor"] is not None:
            by_currency.setdefault(r["currency"] or "", []).append(r["value_minor"])
    values = [
        Value(currency=c, total_minor=sum(v), median_minor=int(_middle([float(x) for x in v])), count=len(v))
        for c, v in sorted(by_currency.items())
    ]
    sent, nudged, filled = outcomes_sql.nudged_between(conn, guild_id, lo, hi)
    return AfterHandshake(
        won=len(won), no_deal=len(rows) - len(won),
        median_days_to_outcome=round(_middle(days), 1) if days else None, values=values,
        nudges_sent=sent, nudged_requests=nudged, nudged_filled=filled,
        # whether the receiver was in the fastest tenth is decided at pick time and counted then
        referrals=counts["referrals"], to_fastest_decile=counts["ref_fast"],
        fastest_decile_size=lifecycle_sql.fastest_decile_size(conn, guild_id),
    )  # fmt: skip


class Stats(Record):
    period: str
    start: date | None
    today: date
    members_with_profile: int
    new_members: int
    members_offering: int
    distinct_skills: int
    requests_posted: int
    requests_filled: int
    expired_unfilled: int
    median_to_volunteer: int | None
    median_to_pick: int | None
    top_demand: list[Ranked]
    top_unmet: list[Ranked]
    referrals: int
    top_givers: list[Ranked]
    top_receivers: list[Ranked]
    agreements_proposed: int
    agreements_agreed: int
    agreements_completed: int
    agreements_cancelled: int
    again_yes: int
    again_answers: int
    repeat_referral_pairs: int
    repeat_agreement_pairs: int
    shoutouts: int
    weekly: list[WeekPoint]
    after: AfterHandshake = AfterHandshake()
    # group buys (counters kept by buddybot/groupbuys.py in the same unit as the change)
    groupbuys_started: int = 0
    groupbuys_succeeded: int = 0
    groupbuy_units: int = 0  # firm units pledged in buys that closed (succeeded or failed)
    groupbuy_saving: int = 0  # minor units: allocated units × (first tier price − price reached)
    groupbuy_currency: str = "GBP"
    sharing: SharingStats | None = None  # lending between members (buddybot/sharing_stats.py)

    @property
    def fill_rate(self) -> float | None:
        return self.requests_filled / self.requests_posted if self.requests_posted else None

    @property
    def again_share(self) -> float | None:
        return self.again_yes / self.again_answers if self.again_answers else None


def periods_containing(at: datetime) -> list[tuple[str, str]]:
    """The five periods containing `at` (UTC calendar) as the roll-ups name them: (w|m|q|y|a, start)."""
    today = at.astimezone(UTC).date()
    return [(p[0], start.isoformat() if (start := period_start(p, today)) else "") for p in PERIODS]


def bump(
    conn: sqlite3.Connection, guild_id: int, at: datetime, metric: str, key: str = "", delta: int = 1
) -> None:
    """A /stats counter, in the same unit as the event it counts (no triggers: portable SQL)."""
    if delta:
        sql.bump(conn, guild_id, periods_containing(at), metric, key, delta)


def period_start(period: str, today: date) -> date | None:
    """First day of the calendar period containing `today` (None for all time)."""
    if period == "week":
        return today - timedelta(days=today.weekday())
    if period == "month":
        return today.replace(day=1)
    if period == "quarter":
        return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    if period == "year":
        return date(today.year, 1, 1)
    if period == "all":
        return None
    raise ValueError(f"unknown period {period!r}")


def median(histogram: list[tuple[int, int]]) -> int | None:
    """Median of bucketed durations (mean of the two middle values when the count is even)."""
    total = sum(n for _, n in histogram)
    if total == 0:
        return None
    low_rank, high_rank = (total - 1) // 2, total // 2
    low = high = None
    seen = 0
    for bucket, n in histogram:
        if low is None and seen + n > low_rank:
            low = bucket
        if seen + n > high_rank:
            high = bucket
            break
        seen += n
    assert low is not None and high is not None
    return (low + high) // 2


def human_duration(seconds: int | None) -> str:
    """'3 h 20 min', '45 min', '2 d 5 h'; minutes are dropped past a day, hours past a week."""
    if seconds is None:
        return "–"
    minutes = seconds // 60
    if minutes < 1:
        return "under 1 min"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days >= 7:
        return f"{days} d"
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"


def _weeks(points: dict[str, tuple[int, int]], first: date, last: date, *, trim: bool) -> list[WeekPoint]:
    series = []
    week = first
    while week <= last:
        posted, filled = points.get(week.isoformat(), (0, 0))
        series.append(WeekPoint(week=week, posted=posted, filled=filled))
        week += timedelta(weeks=1)
    if trim:  # all time: start at the first week anything was asked, but show at least the minimum span
        while len(series) > CHART_MIN_WEEKS and series[0].posted == 0:
            series.pop(0)
    return series


_KEYED: dict[str, int | None] = {
    "ttv": None, "ttp": None,  # time to first volunteer / to pick: duration buckets
    "skill_demand": TOP, "skill_unmet": TOP, "ref_given": TOP, "ref_received": TOP,
}  # fmt: skip


def compute(conn: sqlite3.Connection, guild_id: int, period: str, now: datetime) -> Stats:
    """Every figure for the period; the storage layer reads only roll-up rows and indexes."""
    today = now.astimezone(UTC).date()
    start = period_start(period, today)
    kind, key = period[0], start.isoformat() if start else ""  # w m q y a, as the roll-ups name them
    this_monday = today - timedelta(days=today.weekday())
    chart_from = min(
        this_monday - timedelta(weeks=CHART_MIN_WEEKS - 1),
        (start - timedelta(days=start.weekday())) if start else date.min,
    )
    chart_from = max(chart_from, this_monday - timedelta(weeks=CHART_MAX_WEEKS - 1))

    # Every feature's counters in one statement, every keyed list in another (on PostgreSQL each
    # statement is a network round trip: /stats ran 22 statements, now 12).
    counts = sql.values(conn, guild_id, kind, key, (*sql.SCALARS, *groupbuys_sql.STAT_METRICS, *sharing_stats.SCALARS))
    keyed = sql.keyed(conn, guild_id, kind, key, {**_KEYED, **sharing_stats.KEYED})
    with_profile, offering, skills = sql.totals(conn, guild_id)

    def ranked(metric: str) -> list[Ranked]:
        return [Ranked(key=k, count=n) for k, n in keyed[metric]]

    return Stats(
        period=period, start=start, today=today,
        members_with_profile=with_profile, new_members=counts["profiles"],
        members_offering=offering, distinct_skills=skills,
        requests_posted=counts["needs_posted"], requests_filled=counts["needs_filled"],
        expired_unfilled=counts["needs_expired"],
        median_to_volunteer=median(sql.histogram(keyed["ttv"])),
        median_to_pick=median(sql.histogram(keyed["ttp"])),
        top_demand=ranked("skill_demand"), top_unmet=ranked("skill_unmet"),
        referrals=counts["referrals"], top_givers=ranked("ref_given"), top_receivers=ranked("ref_received"),
        agreements_proposed=counts["agr_proposed"], agreements_agreed=counts["agr_agreed"],
        agreements_completed=counts["agr_completed"], agreements_cancelled=counts["agr_cancelled"],
        again_yes=counts["again_yes"], again_answers=counts["again_answers"],
        repeat_referral_pairs=counts["repeat_ref_pairs"], repeat_agreement_pairs=counts["repeat_agr_pairs"],
        shoutouts=counts["shoutouts"],
        weekly=_weeks(sql.weekly(conn, guild_id, chart_from.isoformat()), chart_from, this_monday,
                      trim=start is None),
        after=after_handshake(conn, guild_id, start, today, counts),
        **_groupbuy_figures(conn, guild_id, counts),
        sharing=sharing_stats.compute(conn, guild_id, counts, keyed),
    )  # fmt: skip


def _groupbuy_figures(conn: sqlite3.Connection, guild_id: int, found: dict[str, int]) -> dict[str, int | str]:
    return {
        "groupbuys_started": found["gb_started"], "groupbuys_succeeded": found["gb_succeeded"],
        "groupbuy_units": found["gb_units"], "groupbuy_saving": found["gb_saving"],
        "groupbuy_currency": config_sql.get_config(conn, guild_id).currency,
    }  # fmt: skip


def _stats(conn: sqlite3.Connection, guild_id: int, actor: Actor, period: str, now: datetime) -> Stats:
    require_moderator(conn, guild_id, actor)
    return compute(conn, guild_id, period, now)


async def network_stats(
    db: Database, guild_id: int, actor: Actor, period: str = DEFAULT_PERIOD, *, now: datetime
) -> Stats:
    """The moderator check and every figure in ONE read unit (one round trip)."""
    if period not in PERIODS:
        raise BuddyError(f"Period must be one of: {', '.join(PERIODS)}.")
    return await db.read(_stats, guild_id, actor, period, now)
