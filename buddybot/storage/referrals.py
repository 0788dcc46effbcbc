"""SQL for overflow referrals: needs, pings (and the fairness counters on offers), volunteers, picks."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

NEED_COLUMNS = """
    n.id, n.guild_id, n.requester_id, n.skill, n.start_date, n.end_date, n.details, n.area, n.state,
    n.version, n.channel_id, n.message_id, n.thread_id, n.created_at, n.ended_at, n.ended_by,
    n.picked_id, n.picks_open_at, n.pick_seed, n.nudges, m.business AS requester_business
"""
_NEED = f"SELECT {NEED_COLUMNS} FROM needs n LEFT JOIN members m ON m.guild_id = n.guild_id AND m.user_id = n.requester_id"


def area_sql(expr: str) -> str:
    """SQL for an area's matching key: trimmed, inner spaces collapsed, ASCII case-folded, '' -> NULL.

    The same expression fills offers.area_key (migration 002's triggers), so both sides always agree.
    """
    collapsed = f"replace(replace(replace({expr}, '  ', ' '), '  ', ' '), '  ', ' ')"
    return f"nullif(lower(trim({collapsed})), '')"


def _functions(conn: sqlite3.Connection) -> None:
    """Matching needs no application-defined SQL functions; kept so callers preparing a connection still work."""


# -- matching ---------------------------------------------------------------------------------------
# Four tiers, best first: available in the window and same area, available, same area, the rest. Each
# arm walks an index already in fairness order (pings in 30 days, last pinged, user id) and stops after
# :limit rows; the outer LIMIT stops before later arms run once enough people are found. The arms read
# indexes that hold only their own candidates -- available_offers for the available tiers,
# offers_by_area_rank for the same-area tier -- so no arm walks the whole list of a skill's offerers
# looking for a rare kind of candidate: there is no sort (no temp B-tree), no scan, and the cost is
# about the number of candidates returned plus the ineligible ones stepped over (busy, hidden, ...).
_KEY = area_sql(":area")
_OVERLAPS = "{t}.end_date >= :start AND {t}.start_date <= :end"
_ELIGIBLE = """
    m.hidden = 0 AND m.pings = 1 AND (m.busy_until IS NULL OR m.busy_until < :end)
    AND {t}.user_id <> :requester
    AND NOT EXISTS (SELECT 1 FROM need_pings p WHERE p.need_id = :need AND p.user_id = m.user_id)
    AND NOT EXISTS (SELECT 1 FROM need_volunteers v WHERE v.need_id = :need AND v.user_id = m.user_id)"""
_NOT_AVAILABLE = f"""NOT EXISTS (SELECT 1 FROM availability a
                      WHERE a.guild_id = m.guild_id AND a.user_id = m.user_id AND {_OVERLAPS.format(t="a")})"""
# One row per member even with two windows overlapping the need's: only their lowest-id such window counts.
_FIRST_WINDOW = f"""NOT EXISTS (SELECT 1 FROM availability a
                      WHERE a.guild_id = w.guild_id AND a.user_id = w.user_id AND {_OVERLAPS.format(t="a")}
                        AND a.id < w.window_id)"""
# The available arms' LIMIT, evaluated once before their walk: when no window of the skill's offerers
# overlaps the need's, the limit is 0 and they walk nothing (windows starting after the need are not even
# visited). So offerers available only at other times cost nothing unless someone is available then.
_ANYONE_AVAILABLE = f"""EXISTS (SELECT 1 FROM available_offers AS g INDEXED BY available_offers_by_start
                  WHERE g.guild_id = :guild AND g.skill = :skill AND {_OVERLAPS.format(t="g")})"""
_AVAILABLE_ARM = f"""SELECT * FROM (
    SELECT w.user_id, {{tier}} AS tier
      FROM available_offers AS w INDEXED BY {{index}}
      JOIN members AS m ON m.guild_id = w.guild_id AND m.user_id = w.user_id
     WHERE w.guild_id = :guild AND w.skill = :skill AND {_OVERLAPS.format(t="w")}
       AND {_ELIGIBLE.format(t="w")}
       AND {{area}} AND {_FIRST_WINDOW}
     ORDER BY w.pings_30d, w.last_pinged_at, w.user_id
     LIMIT CASE WHEN {_ANYONE_AVAILABLE} THEN :limit ELSE 0 END) AS arm{{tier}}"""
_OFFERS_ARM = f"""SELECT * FROM (
    SELECT o.user_id, {{tier}} AS tier
      FROM offers AS o INDEXED BY {{index}}
      JOIN members AS m ON m.guild_id = o.guild_id AND m.user_id = o.user_id
     WHERE o.guild_id = :guild AND o.skill = :skill AND {{area}}
       AND {_ELIGIBLE.format(t="o")}
       AND {_NOT_AVAILABLE}
     ORDER BY o.pings_30d, o.last_pinged_at, o.user_id
     LIMIT :limit) AS arm{{tier}}"""
_ARMS = (
    # Tier 0 walks only the available offerers of the requester's area (migration 005's index).
    _AVAILABLE_ARM.format(
        tier=0, index="available_offers_by_area_rank", area=f"{_KEY} IS NOT NULL AND w.area_key = {_KEY}"
    ),
    _AVAILABLE_ARM.format(
        tier=1,
        index="available_offers_by_rank",
        area=f"({_KEY} IS NULL OR {area_sql('m.area')} IS DISTINCT FROM {_KEY})",
    ),
    _OFFERS_ARM.format(
        tier=2, index="offers_by_area_rank", area=f"{_KEY} IS NOT NULL AND o.area_key = {_KEY}"
    ),
    _OFFERS_ARM.format(
        tier=3, index="offers_by_rank", area=f"({_KEY} IS NULL OR o.area_key IS DISTINCT FROM {_KEY})"
    ),
)
MATCH_SQL = "SELECT user_id, tier FROM (\n" + "\nUNION ALL\n".join(_ARMS) + "\n) AS arms LIMIT :limit"


def match_params(
    *,
    guild_id: int,
    skill: str,
    start: date,
    end: date,
    area: str | None,
    requester_id: int,
    need_id: int,
    limit: int,
) -> dict[str, Any]:
    return {
        "guild": guild_id,
        "skill": skill,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "area": area,
        "requester": requester_id,
        "need": need_id,
        "limit": limit,
    }


def match(conn: sqlite3.Connection, **params: Any) -> list[tuple[int, int]]:
    """(user_id, tier) of the best `limit` candidates, best first. See match_params for the arguments."""
    return [(r[0], r[1]) for r in conn.execute(MATCH_SQL, match_params(**params))]


# -- pings and fairness counters ----------------------------------------------------------------------
def record_pings(
    conn: sqlite3.Connection, guild_id: int, need_id: int, user_ids: Sequence[int], now: str
) -> None:
    if not user_ids:
        return
    first = conn.execute("SELECT count(*) FROM need_pings WHERE need_id = ?", (need_id,)).fetchone()[0]
    conn.executemany(
        "INSERT INTO need_pings (need_id, user_id, guild_id, rank, pinged_at) VALUES (?, ?, ?, ?, ?)",
        [(need_id, uid, guild_id, first + i, now) for i, uid in enumerate(user_ids)],
    )
    marks = ", ".join("?" for _ in user_ids)
    for table in ("offers", "available_offers"):
        conn.execute(
            f"UPDATE {table} SET pings_30d = pings_30d + 1, last_pinged_at = ? "
            f"WHERE guild_id = ? AND user_id IN ({marks})",
            (now, guild_id, *user_ids),
        )


def refresh_ping_stats(conn: sqlite3.Connection, guild_id: int, user_ids: Iterable[int]) -> None:
    """Recompute members' counters from need_pings (after pings were deleted)."""
    conn.executemany(
        """
        UPDATE offers
           SET pings_30d = (SELECT count(*) FROM need_pings p
                             WHERE p.guild_id = offers.guild_id AND p.user_id = offers.user_id AND p.counted = 1),
               last_pinged_at = (SELECT max(p.pinged_at) FROM need_pings p
                                  WHERE p.guild_id = offers.guild_id AND p.user_id = offers.user_id)
         WHERE guild_id = ? AND user_id = ?
        """,
        [(guild_id, uid) for uid in set(user_ids)],
    )
    _copy_counters(conn, [(guild_id, uid) for uid in set(user_ids)])


def _copy_counters(conn: sqlite3.Connection, members: list[tuple[int, int]]) -> None:
    """available_offers carries the same counters as offers (its index is in the same fairness order)."""
    conn.executemany(
        """
        UPDATE available_offers
           SET (pings_30d, last_pinged_at) = (SELECT o.pings_30d, o.last_pinged_at FROM offers o
                                               WHERE o.guild_id = available_offers.guild_id
                                                 AND o.user_id = available_offers.user_id
                                                 AND o.skill = available_offers.skill)
         WHERE guild_id = ? AND user_id = ?
        """,
        members,
    )


def age_pings(conn: sqlite3.Connection, cutoff: str) -> int:
    """Pings older than `cutoff` leave the 30-day counters. Usually touches nothing (one index seek)."""
    aged = conn.execute(
        "SELECT guild_id, user_id, count(*) FROM need_pings INDEXED BY need_pings_to_age "
        "WHERE counted = 1 AND pinged_at < ? GROUP BY guild_id, user_id",
        (cutoff,),
    ).fetchall()
    if not aged:
        return 0
    conn.execute("UPDATE need_pings SET counted = 0 WHERE counted = 1 AND pinged_at < ?", (cutoff,))
    conn.executemany(
        "UPDATE offers SET pings_30d = CASE WHEN pings_30d > ? THEN pings_30d - ? ELSE 0 END "
        "WHERE guild_id = ? AND user_id = ?",
        [(n, n, g, u) for g, u, n in aged],
    )
    _copy_counters(conn, [(g, u) for g, u, _ in aged])
    return sum(n for _, _, n in aged)


def prune_available(conn: sqlite3.Connection, before: date) -> None:
    """Drop copies of windows that ended before `before`: no need window can overlap them any more."""
    conn.execute("DELETE FROM available_offers WHERE end_date < ?", (before.isoformat(),))


def pinged(conn: sqlite3.Connection, need_id: int) -> list[int]:
    rows = conn.execute("SELECT user_id FROM need_pings WHERE need_id = ? ORDER BY rank", (need_id,))
    return [r[0] for r in rows]


def decline(conn: sqlite3.Connection, need_id: int, user_id: int, now: str) -> str:
    """'declined', 'already' (declined before) or 'not pinged'."""
    row = conn.execute(
        "UPDATE need_pings SET declined_at = ? WHERE need_id = ? AND user_id = ? AND declined_at IS NULL "
        "RETURNING 1",
        (now, need_id, user_id),
    ).fetchone()
    if row is not None:
        return "declined"
    known = conn.execute(
        "SELECT 1 FROM need_pings WHERE need_id = ? AND user_id = ?", (need_id, user_id)
    ).fetchone()
    return "already" if known else "not pinged"


# -- needs ----------------------------------------------------------------------------------------------
def insert_need(
    conn: sqlite3.Connection,
    *,
    guild_id: int,
    requester_id: int,
    skill: str,
    start: date,
    end: date,
    details: str | None,
    area: str | None,
    created_day: date,
    now: str,
) -> int:
    row = conn.execute(
        "INSERT INTO needs (guild_id, requester_id, skill, start_date, end_date, details, area, created_day, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            guild_id,
            requester_id,
            skill,
            start.isoformat(),
            end.isoformat(),
            details,
            area,
            created_day.isoformat(),
            now,
        ),
    ).fetchone()
    return row[0]


def get_need(conn: sqlite3.Connection, need_id: int) -> sqlite3.Row | None:
    return conn.execute(f"{_NEED} WHERE n.id = ?", (need_id,)).fetchone()


def open_count(conn: sqlite3.Connection, guild_id: int, user_id: int) -> int:
    return conn.execute(
        "SELECT count(*) FROM needs WHERE guild_id = ? AND requester_id = ? AND state = 'open'",
        (guild_id, user_id),
    ).fetchone()[0]


def count_on_day(conn: sqlite3.Connection, guild_id: int, user_id: int, day: date) -> int:
    return conn.execute(
        "SELECT count(*) FROM needs WHERE guild_id = ? AND requester_id = ? AND created_day = ?",
        (guild_id, user_id, day.isoformat()),
    ).fetchone()[0]


def open_needs_of(conn: sqlite3.Connection, guild_id: int, user_id: int) -> list[sqlite3.Row]:
    return conn.execute(
        f"""SELECT {NEED_COLUMNS},
                   (SELECT count(*) FROM need_volunteers v WHERE v.need_id = n.id) AS volunteers
              FROM needs n LEFT JOIN members m ON m.guild_id = n.guild_id AND m.user_id = n.requester_id
             WHERE n.guild_id = ? AND n.requester_id = ? AND n.state = 'open'
             ORDER BY n.id""",
        (guild_id, user_id),
    ).fetchall()


def set_thread(conn: sqlite3.Connection, guild_id: int, need_id: int, thread_id: int | None) -> None:
    conn.execute("UPDATE needs SET thread_id = ? WHERE guild_id = ? AND id = ?", (thread_id, guild_id, need_id))


def set_post(
    conn: sqlite3.Connection,
    guild_id: int,
    need_id: int,
    channel_id: int,
    message_id: int,
    thread_id: int | None,
) -> None:
    conn.execute(
        "UPDATE needs SET channel_id = ?, message_id = ?, thread_id = ? WHERE guild_id = ? AND id = ?",
        (channel_id, message_id, thread_id, guild_id, need_id),
    )


def delete_need(conn: sqlite3.Connection, need_id: int) -> None:
    """Remove a need nobody can see, with its pings, and give the pinged members their counters back."""
    row = conn.execute("SELECT guild_id FROM needs WHERE id = ?", (need_id,)).fetchone()
    if row is None:
        return
    users = pinged(conn, need_id)
    conn.execute("DELETE FROM needs WHERE id = ?", (need_id,))
    refresh_ping_stats(conn, row[0], users)


def bump_version(conn: sqlite3.Connection, need_id: int) -> None:
    conn.execute("UPDATE needs SET version = version + 1 WHERE id = ?", (need_id,))


def end_need(
    conn: sqlite3.Connection,
    need_id: int,
    state: str,
    now: str,
    *,
    by: int | None = None,
    picked: int | None = None,
) -> bool:
    """Open -> `state`, once: of two racing calls exactly one gets True."""
    row = conn.execute(
        "UPDATE needs SET state = ?, ended_at = ?, ended_by = ?, picked_id = ?, version = version + 1 "
        "WHERE id = ? AND state = 'open' RETURNING id",
        (state, now, by, picked, need_id),
    ).fetchone()
    return row is not None


def due_for_expiry(conn: sqlite3.Connection, latest_end: date) -> list[sqlite3.Row]:
    """Open needs whose window ended before `latest_end` (a superset: the caller applies each guild's zone)."""
    return conn.execute(
        "SELECT n.id, n.end_date, coalesce(c.timezone, 'Europe/London') AS timezone "
        "FROM needs n LEFT JOIN guild_config c ON c.guild_id = n.guild_id "
        "WHERE n.state = 'open' AND n.end_date < ?",
        (latest_end.isoformat(),),
    ).fetchall()


def unposted_before(conn: sqlite3.Connection, cutoff: str) -> list[int]:
    rows = conn.execute(
        "SELECT id FROM needs WHERE state = 'open' AND message_id IS NULL AND created_at < ?", (cutoff,)
    )
    return [r[0] for r in rows]


# -- volunteers and referrals -----------------------------------------------------------------------------
def add_volunteer(
    conn: sqlite3.Connection, need_id: int, guild_id: int, user_id: int, name: str, now: str
) -> bool:
    row = conn.execute(
        "INSERT INTO need_volunteers (need_id, user_id, guild_id, name, created_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (need_id, user_id) DO NOTHING RETURNING 1",
        (need_id, user_id, guild_id, name, now),
    ).fetchone()
    return row is not None


def remove_volunteer(conn: sqlite3.Connection, need_id: int, user_id: int) -> bool:
    cur = conn.execute("DELETE FROM need_volunteers WHERE need_id = ? AND user_id = ?", (need_id, user_id))
    return cur.rowcount > 0


def volunteers(conn: sqlite3.Connection, need_id: int) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT v.user_id, v.name, m.business, v.created_at FROM need_volunteers v "
        "JOIN needs n ON n.id = v.need_id "
        "LEFT JOIN members m ON m.guild_id = n.guild_id AND m.user_id = v.user_id "
        "WHERE v.need_id = ? ORDER BY v.created_at, v.user_id",
        (need_id,),
    ).fetchall()


def is_volunteer(conn: sqlite3.Connection, need_id: int, user_id: int) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM need_volunteers WHERE need_id = ? AND user_id = ?", (need_id, user_id)
        ).fetchone()
        is not None
    )


def insert_referral(
    conn: sqlite3.Connection, need_id: int, guild_id: int, from_id: int, to_id: int, skill: str, now: str
) -> int:
    return conn.execute(
        "INSERT INTO referrals (need_id, guild_id, from_id, to_id, skill, created_at) VALUES (?, ?, ?, ?, ?, ?) "
        "RETURNING id",
        (need_id, guild_id, from_id, to_id, skill, now),
    ).fetchone()[0]


def member(conn: sqlite3.Connection, guild_id: int, user_id: int) -> sqlite3.Row | None:
    return conn.execute(
        "SELECT area, hidden FROM members WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
    ).fetchone()
