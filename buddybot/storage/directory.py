"""SQL for /find's directory: the directory-order keys on offers, per-skill totals, and the tiered walk.

Order of the directory (unchanged from the single sorted query it replaces): members explicitly available
in the window first, then those not busy, then those busy (busy_until >= the window's start; an available
member who is also busy comes after the available ones who are not); within each, by business name
folded with lower() (members without one last), then user id.

offers.dir_key holds that name order ('0' || lower(business), '1' without a business, NULL while the
member is hidden) and available_offers carries a copy (migration 012). Each tier walks an index in
that order and stops when the page is full, so the work is about the page size plus the rows a tier
steps over (see DIRECTORY_SQL); the only sort is of tier 2's page-sized pieces, never of every offerer.
The total comes from directory_counts.

Everything that changes a key's inputs calls sync_member in its own unit of work: profile set,
capacity windows, /busy, hide/unhide. A new offer is born with its key (member_keys, listed_new);
offer remove and erasure call unlist. offers.busy_until copies members.busy_until so free and busy members sit in separate indexes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import date

from buddybot.models import DirectoryEntry

# The member's key, from a `members m` row: the expression migration 012 fills existing rows with.
KEY_SQL = (
    "CASE WHEN m.hidden = 1 THEN NULL WHEN m.business IS NULL THEN '1' ELSE '0' || lower(m.business) END"
)
_OFFER_KEYS = f"""UPDATE offers
   SET (dir_key, busy_until) = (SELECT {KEY_SQL}, m.busy_until
                                  FROM members m WHERE m.guild_id = offers.guild_id AND m.user_id = offers.user_id)"""
_AVAILABLE_KEYS = """UPDATE available_offers
   SET dir_key = (SELECT o.dir_key FROM offers o
                   WHERE o.guild_id = available_offers.guild_id AND o.user_id = available_offers.user_id
                     AND o.skill = available_offers.skill)"""
_COUNTS = """INSERT INTO directory_counts (guild_id, skill, listed)
SELECT guild_id, skill, count(*) FROM offers WHERE dir_key IS NOT NULL GROUP BY guild_id, skill"""
# Migration 012's backfill, statement for statement (a test holds the two identical).
REBUILD = (_OFFER_KEYS, _AVAILABLE_KEYS, "DELETE FROM directory_counts", _COUNTS)


def rebuild(conn: sqlite3.Connection) -> None:
    """Recompute every key and count from scratch (rows written by raw SQL: the bench seeder, tests)."""
    for statement in REBUILD:
        conn.execute(statement)


# /find's directory before migration 012: every offerer of the skill joined, tested and sorted. Not used
# by the bot: the oracle the tiers are held equal to (tests/test_directory.py) and timed against (bench).
SORTED_DIRECTORY_SQL = """
SELECT o.user_id, m.business, m.area, o.details, m.busy_until,
       EXISTS (SELECT 1 FROM availability a WHERE a.guild_id = o.guild_id AND a.user_id = o.user_id
                  AND a.start_date <= :end AND a.end_date >= :start) AS available,
       count(*) OVER () AS total
  FROM offers o JOIN members m ON m.guild_id = o.guild_id AND m.user_id = o.user_id
 WHERE o.guild_id = :guild AND o.skill = :skill AND m.hidden = 0
 ORDER BY available DESC, (m.busy_until IS NOT NULL AND m.busy_until >= :start) ASC,
          m.business IS NULL, lower(m.business), o.user_id
 LIMIT :limit
"""


# -- keeping the keys in step -------------------------------------------------------------------------
def sync_member(conn: sqlite3.Connection, guild_id: int, user_id: int) -> None:
    """Re-derive the member's keys and busy copies (at most 15 offers) from their members row; counts
    follow the change. (A new offer is born with its key: member_keys and listed_new.)"""
    before = {
        r[0]: r[1] is not None
        for r in conn.execute(
            "SELECT skill, dir_key FROM offers WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
        )
    }
    after = conn.execute(
        f"{_OFFER_KEYS} WHERE guild_id = ? AND user_id = ? RETURNING skill, dir_key", (guild_id, user_id)
    ).fetchall()
    _count(
        conn,
        guild_id,
        [(skill, int(key is not None) - int(before.get(skill, False))) for skill, key in after],
    )
    conn.execute(f"{_AVAILABLE_KEYS} WHERE guild_id = ? AND user_id = ?", (guild_id, user_id))


def member_keys(conn: sqlite3.Connection, guild_id: int, user_id: int) -> tuple[str | None, str | None]:
    """(dir_key, busy_until) a new offer of this member is born with: it goes into its directory index
    once, at its INSERT, instead of being inserted unlisted and moved by sync_member."""
    row = conn.execute(
        f"SELECT {KEY_SQL}, m.busy_until FROM members m WHERE m.guild_id = ? AND m.user_id = ?", (guild_id, user_id)
    ).fetchone()
    return (row[0], row[1]) if row else (None, None)


def listed_new(conn: sqlite3.Connection, guild_id: int, user_id: int, skill: str, dir_key: str | None) -> None:
    """A new offer inserted with member_keys(): count it, and give its available_offers rows (made by
    migration 002's trigger at the INSERT) its key."""
    if dir_key is not None:
        _count(conn, guild_id, [(skill, 1)])
        conn.execute(f"{_AVAILABLE_KEYS} WHERE guild_id = ? AND user_id = ? AND skill = ?", (guild_id, user_id, skill))


def retire_busy(conn: sqlite3.Connection, before: date) -> None:
    """Busy spells that ended before `before` move their offers back to the free index (one index range;
    usually nothing). Pass the UTC date minus a day, as for pruning windows: that is before every guild's
    today, and no /find window starts before its guild's today, so they are free for every later query."""
    conn.execute("UPDATE offers SET busy_until = NULL WHERE busy_until < ?", (before.isoformat(),))


def unlist(conn: sqlite3.Connection, guild_id: int, deleted: Iterable[tuple[str, str | None]]) -> None:
    """Offers just deleted (`DELETE … RETURNING skill, dir_key`) leave their skill's total."""
    _count(conn, guild_id, [(skill, -1) for skill, key in deleted if key is not None])


def _count(conn: sqlite3.Connection, guild_id: int, deltas: list[tuple[str, int]]) -> None:
    changed = [(guild_id, skill, delta) for skill, delta in deltas if delta]
    if changed:
        conn.executemany(
            "INSERT INTO directory_counts (guild_id, skill, listed) VALUES (?, ?, ?) "
            "ON CONFLICT (guild_id, skill) DO UPDATE SET listed = directory_counts.listed + excluded.listed",
            changed,
        )


def total(conn: sqlite3.Connection, guild_id: int, skill: str) -> int:
    row = conn.execute(
        "SELECT listed FROM directory_counts WHERE guild_id = ? AND skill = ?", (guild_id, skill)
    ).fetchone()
    return row[0] if row else 0


# -- the tiered walk --------------------------------------------------------------------------------------
# Four tiers, best first; each walks indexes in directory order and stops after :limit rows, and the
# outer LIMIT stops before later tiers run once the page is full:
#   0 available and not busy, 1 available and busy: available_offers_by_directory, i.e. only the skill's
#     rows with a capacity window (and none at all when no window of the skill overlaps: the LIMIT is 0);
#   2 not available, not busy: the free members (offers_by_directory), stepping over the available ones
#     (fewer than a page, or tiers 0-1 had filled it), merged with the members whose busy spell ends
#     before the window (see _ENDED_FEW: at most FEW rows, or a walk where they are not rare);
#   3 not available, busy: offers_busy_by_directory, stepping over fewer than two pages of the others
#     (had there been more, tier 2 would have filled the page).
# The members row decides (busy_until, hidden); the keys only choose the index, so a member hidden by a
# raw write is still not listed.
_OVERLAPS = "{t}.end_date >= :start AND {t}.start_date <= :end"
_SHOWN_COLUMNS = "business, area, details, busy_until"  # what a line of the directory shows
_SHOWN = "m.business, m.area, o.details, m.busy_until"
_BUSY = "m.busy_until >= :start"
_NOT_BUSY = "(m.busy_until IS NULL OR m.busy_until < :start)"
_ANYONE_AVAILABLE = f"""EXISTS (SELECT 1 FROM available_offers AS g INDEXED BY available_offers_by_start
                  WHERE g.guild_id = :guild AND g.skill = :skill AND {_OVERLAPS.format(t="g")})"""
# How many listed offers of the skill have a busy spell ending before the window, counted up to FEW.
FEW = 100
_SPELLS_ENDED = f"""(SELECT count(*) FROM (SELECT 1 FROM offers AS e INDEXED BY offers_busy_by_end
                     WHERE e.guild_id = :guild AND e.skill = :skill AND e.dir_key IS NOT NULL
                       AND e.busy_until IS NOT NULL AND e.busy_until < :start LIMIT {FEW}) AS c)"""
# One row per member even with two windows overlapping the find's: only their lowest-id such window counts.
_FIRST_WINDOW = f"""NOT EXISTS (SELECT 1 FROM availability a
                      WHERE a.guild_id = w.guild_id AND a.user_id = w.user_id AND {_OVERLAPS.format(t="a")}
                        AND a.id < w.window_id)"""
# OFFSET keeps PostgreSQL from turning this into an anti join that reads every window of the guild
# overlapping the find's (a seq scan of availability); so it stays one index probe per member walked.
_NOT_AVAILABLE = f"""NOT EXISTS (SELECT 1 FROM availability a
                      WHERE a.guild_id = o.guild_id AND a.user_id = o.user_id AND {_OVERLAPS.format(t="a")}
                      LIMIT 1 OFFSET 0)"""
_AVAILABLE_ARM = f"""SELECT * FROM (
    SELECT w.user_id, {{tier}} AS tier, {_SHOWN}
      FROM available_offers AS w INDEXED BY available_offers_by_directory
      JOIN members AS m ON m.guild_id = w.guild_id AND m.user_id = w.user_id
      JOIN offers AS o ON o.guild_id = w.guild_id AND o.user_id = w.user_id AND o.skill = w.skill
     WHERE w.guild_id = :guild AND w.skill = :skill AND w.dir_key IS NOT NULL AND {_OVERLAPS.format(t="w")}
       AND m.hidden = 0 AND {{busy}} AND {_FIRST_WINDOW}
     ORDER BY w.dir_key, w.user_id
     LIMIT CASE WHEN {_ANYONE_AVAILABLE} THEN :limit ELSE 0 END) AS arm{{tier}}"""
_OFFERS_WALK = f"""SELECT o.user_id, o.dir_key, {_SHOWN}
      FROM offers AS o INDEXED BY {{index}}
      JOIN members AS m ON m.guild_id = o.guild_id AND m.user_id = o.user_id
     WHERE o.guild_id = :guild AND o.skill = :skill AND o.dir_key IS NOT NULL AND {{copy}}
       AND m.hidden = 0 AND {{busy}} AND {_NOT_AVAILABLE}"""
_FREE = _OFFERS_WALK.format(index="offers_by_directory", copy="o.busy_until IS NULL", busy=_NOT_BUSY)
# Members whose spell ends before the window (on /busy's index, since retire_busy has not run yet or the
# window starts later): fewer than FEW are read through offers_busy_by_end and sorted; more, then the
# walk over the busy members in directory order meets one every few rows. Exactly one of the two runs.
_ENDED_FEW = _OFFERS_WALK.format(
    index="offers_busy_by_end", copy="o.busy_until IS NOT NULL AND o.busy_until < :start", busy=_NOT_BUSY
)
_ENDED_MANY = _OFFERS_WALK.format(
    index="offers_busy_by_directory",
    copy="o.busy_until IS NOT NULL AND o.busy_until < :start",
    busy=_NOT_BUSY,
)
_STILL_BUSY = _OFFERS_WALK.format(
    index="offers_busy_by_directory", copy="o.busy_until IS NOT NULL", busy=_BUSY
)
_ARMS = (
    _AVAILABLE_ARM.format(tier=0, busy=_NOT_BUSY),
    _AVAILABLE_ARM.format(tier=1, busy=_BUSY),
    # Walks of at most a page each, in the same order; their union (two pages at most) is sorted.
    f"""SELECT * FROM (
    SELECT user_id, 2 AS tier, {_SHOWN_COLUMNS} FROM (
        SELECT * FROM ({_FREE} ORDER BY o.dir_key, o.user_id LIMIT :limit) AS free
        UNION ALL
        SELECT * FROM ({_ENDED_FEW} ORDER BY o.dir_key, o.user_id
                       LIMIT CASE WHEN {_SPELLS_ENDED} < {FEW} THEN :limit ELSE 0 END) AS few
        UNION ALL
        SELECT * FROM ({_ENDED_MANY} ORDER BY o.dir_key, o.user_id
                       LIMIT CASE WHEN {_SPELLS_ENDED} >= {FEW} THEN :limit ELSE 0 END) AS many
        ORDER BY dir_key, user_id LIMIT :limit) AS merged) AS arm2""",
    f"""SELECT * FROM (
    SELECT user_id, 3 AS tier, {_SHOWN_COLUMNS} FROM (
        {_STILL_BUSY}
        ORDER BY o.dir_key, o.user_id LIMIT :limit) AS busy) AS arm3""",
)
# The total is read once (an uncorrelated subquery); every row carries it.
DIRECTORY_SQL = (
    f"SELECT user_id, tier, {_SHOWN_COLUMNS},\n"
    "       (SELECT listed FROM directory_counts WHERE guild_id = :guild AND skill = :skill) AS total\n"
    "  FROM (\n" + "\nUNION ALL\n".join(_ARMS) + "\n) AS arms LIMIT :limit"
)


def params(guild_id: int, skill: str, start: date, end: date, limit: int) -> dict[str, object]:
    return {
        "guild": guild_id,
        "skill": skill,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "limit": limit,
    }


def page(
    conn: sqlite3.Connection, guild_id: int, skill: str, start: date, end: date, limit: int
) -> tuple[list[DirectoryEntry], int]:
    """The first `limit` members offering `skill` in directory order, and how many are listed in all."""
    rows = conn.execute(DIRECTORY_SQL, params(guild_id, skill, start, end, limit)).fetchall()
    entries = [
        DirectoryEntry(
            user_id=user_id,
            business=business,
            area=area,
            details=details,
            available=tier < 2,
            busy_until=busy_until if tier in (1, 3) else None,
        )
        for user_id, tier, business, area, details, busy_until, _ in rows
    ]
    return entries, (rows[0][-1] or 0) if rows else 0
