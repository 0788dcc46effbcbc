"""Seed a synthetic community into a real BuddyBot database, fast, and cache it under bench/cache/.

The schema comes from the real migrations (`Database.open()`); the rows are generated inside SQLite
(recursive CTEs, one transaction) with a deterministic pseudo-random function, so a seeded database
is reproducible and its cache key is the migrations' text plus the scale.

Shape (one large guild, the worst case for matching and stats):
- members: profiles in 50 areas; at random (independent of the area) 10% have pings off, 0.2% are
  hidden and 1 in 7 is busy until the end of December; a fifth (50 in every 250, so every area has
  some) has a capacity window covering next week;
- offers: 3 distinct skills per member over `skills` skills, Zipf-like (skill rank r drawn as
  skills * u**3); the most offered skill is never offered by a member with a capacity window, so
  it is "the most offered skill with nobody available" (the matching worst case);
- needs: `referrals` filled needs over the last three years, each with its referral (the schema
  has one referral per need: `referrals.need_id` is UNIQUE), plus `requests` recent requests over
  the last 90 days (open, closed, expired) with up to 3 pings each and a volunteer on half of them;
- offers are inserted last, so the bot's own triggers derive what matching reads (ping counters,
  area keys, available_offers) exactly as they do in production; /find's directory keys and per-skill
  totals are then filled by migration 012's own statements (buddybot.storage.directory.rebuild).
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from buddybot.progress import Progress
from buddybot.storage import directory
from buddybot.storage.db import Database, migration_files

CACHE = Path(__file__).resolve().parent / "cache"
SEED_VERSION = "7"

GUILD_ID = 700_000_000_000_000_001
MEMBER_BASE = 710_000_000_000_000_000  # member i has user id MEMBER_BASE + i
CHANNELS = {
    "general": 720_000_000_000_000_001,
    "referrals": 720_000_000_000_000_002,
    "shoutouts": 720_000_000_000_000_003,
}
MODERATOR_ROLE = 730_000_000_000_000_001
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # the bench clock (FakeClock's default)
AREAS = 50
NEXT_WEEK = ("2026-11-30", "2026-12-06")  # windows of members with capacity cover it
STARTER = 50  # the migrations ship 50 starter skills: the top 50 ranks use their names


@dataclass(frozen=True)
class Scale:
    members: int = 100_000
    offers_per_member: int = 3
    skills: int = 2_000
    requests: int = 100_000
    referrals: int = 1_000_000

    def scaled(self, factor: float) -> Scale:
        return Scale(
            max(1_000, int(self.members * factor)),
            self.offers_per_member,
            max(100, int(self.skills * factor)),
            int(self.requests * factor),
            int(self.referrals * factor),
        )


FULL = Scale()
QUICK = FULL.scaled(0.1)


def _mix(i: int, k: int) -> float:
    """splitmix64 of (i, k) as a float in [0, 1): deterministic, well spread, cheap."""
    z = (i * 0x9E3779B97F4A7C15 + (k + 1) * 0xD1B54A32D192ED03) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return ((z ^ (z >> 31)) >> 11) / 9007199254740992.0


def cache_key(scale: Scale) -> str:
    digest = hashlib.sha256(SEED_VERSION.encode())
    digest.update(repr(sorted(asdict(scale).items())).encode())
    for _, name, sql in migration_files():
        digest.update(name.encode() + sql.encode())
    return digest.hexdigest()[:16]


def cached_path(scale: Scale) -> Path:
    return CACHE / f"community-{scale.members}-{cache_key(scale)}.sqlite3"


def ensure_seeded(scale: Scale, *, log=print) -> Path:
    """The path of a seeded database for `scale`, building (and caching) it when missing."""
    path = cached_path(scale)
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    for stale in CACHE.glob(f"community-{scale.members}-*.sqlite3*"):
        stale.unlink()
    tmp = path.with_suffix(".tmp")
    for leftover in CACHE.glob(tmp.name + "*"):
        leftover.unlink()
    started = time.perf_counter()
    asyncio.run(_create_schema(tmp))
    counts = seed(tmp, scale)
    tmp.rename(path)
    log(
        f"seeded {path.name} in {time.perf_counter() - started:.1f} s: "
        + ", ".join(f"{k} {v:,}" for k, v in counts.items())
    )
    return path


def working_copy(scale: Scale, target: Path) -> Path:
    """A private copy of the cached database (benchmarks write to it)."""
    source = ensure_seeded(scale)
    target.parent.mkdir(parents=True, exist_ok=True)
    for leftover in target.parent.glob(target.name + "*"):
        leftover.unlink()
    copy_with_progress(source, target)
    return target


def copy_with_progress(source: Path, target: Path, chunk: int = 8 << 20) -> None:
    """shutil.copyfile, with a progress bar (bytes, rate, ETA) when stderr is a terminal."""
    with (
        open(source, "rb") as src,
        open(target, "wb") as dst,
        Progress("copying", source.stat().st_size, unit="B") as bar,
    ):
        while block := src.read(chunk):
            dst.write(block)
            bar.advance(len(block))


async def _create_schema(path: Path) -> None:
    db = Database(path)
    await db.open()
    await db.close()


def expected_rows(s: Scale) -> int:
    """Rows the seeding statements write themselves (triggers aside): the progress bar's total."""
    needs = s.referrals + s.requests
    pings = s.requests * 9 // 4  # three ranks, one in four skipped
    return s.skills + s.members + s.members // 5 + needs + s.referrals + pings + pings // 6 + 3 * s.members


class _Counted:
    """The seeding connection, moving a progress bar by the rows each statement wrote."""

    def __init__(self, conn: sqlite3.Connection, bar: Progress) -> None:
        self.conn, self.bar = conn, bar

    def execute(self, sql: str, params: object = ()) -> sqlite3.Cursor:
        return self._counted(sql, self.conn.execute(sql, params))

    def executemany(self, sql: str, rows: object) -> sqlite3.Cursor:
        return self._counted(sql, self.conn.executemany(sql, rows))

    def _counted(self, sql: str, cursor: sqlite3.Cursor) -> sqlite3.Cursor:
        # cursor.rowcount misses WITH … INSERT; changes() is the last statement's own rows (no triggers)
        if "INSERT" in sql.upper():
            self.bar.advance(self.conn.execute("SELECT changes()").fetchone()[0])
        return cursor

    def __getattr__(self, name: str) -> object:
        return getattr(self.conn, name)


def seed(path: Path, scale: Scale, *, force_progress: bool = False) -> dict[str, int]:
    """Write the community in one transaction; a progress bar (rows, rate, ETA) on a terminal."""
    raw = sqlite3.connect(path, isolation_level=None)
    bar = Progress("seeding", expected_rows(scale), unit="rows", force=force_progress)
    raw.set_progress_handler(bar.tick, 200_000)  # keeps rate and ETA fresh inside long statements
    conn = _Counted(raw, bar)
    try:
        conn.execute("PRAGMA journal_mode = DELETE")  # one big transaction; WAL comes back at the end
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("PRAGMA cache_size = -262144")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.create_function("u", 2, _mix, deterministic=True)
        conn.execute("BEGIN")
        # Bulk-load practice: secondary indexes are dropped and rebuilt once from sorted data at the end
        # (the roll-up triggers keep running, so every derived row is what the bot itself would write).
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        _seed_history(conn, scale)
        for _, sql in indexes:
            conn.execute(sql)
        _seed_offers(conn, scale)
        directory.rebuild(conn)  # /find's directory keys and totals, as migration 012 fills them
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        conn.execute("VACUUM")
        conn.execute("PRAGMA journal_mode = WAL")
        bar.update(bar.done, total=bar.done, note="")
        bar.close()
        tables = ("members", "offers", "availability", "needs", "need_pings", "need_volunteers", "referrals")
        return {t: raw.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    finally:
        bar.close()
        raw.close()


def _params(s: Scale) -> dict[str, object]:
    return {
        "g": GUILD_ID,
        "base": MEMBER_BASE,
        "members": s.members,
        "skills": s.skills,
        "areas": AREAS,
        "requests": s.requests,
        "referrals": s.referrals,
        "now": NOW.isoformat(timespec="seconds"),
        "ch": CHANNELS["referrals"],
        "ws": NEXT_WEEK[0],
        "we": NEXT_WEEK[1],
    }


def _seed_history(conn: sqlite3.Connection, s: Scale) -> None:
    """Members, capacity windows, three years of needs and referrals, recent pings and volunteers."""
    p = _params(s)
    conn.execute(
        "INSERT INTO guild_config (guild_id, referrals_channel_id, shoutouts_channel_id, moderator_role_id, "
        "max_pings, daily_need_limit, timezone) VALUES (?, ?, ?, ?, 5, 1000, 'Europe/London')",
        (GUILD_ID, CHANNELS["referrals"], CHANNELS["shoutouts"], MODERATOR_ROLE),
    )
    # Skill names by popularity rank: the starter skills first (rank 0 is the most offered).
    conn.execute("CREATE TEMP TABLE bench_skills (rank INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    conn.executemany("INSERT INTO temp.bench_skills VALUES (?, ?)", enumerate(ranked_skills(conn, s.skills)))
    conn.execute("INSERT OR IGNORE INTO skills (guild_id, name) SELECT :g, name FROM temp.bench_skills", p)
    conn.execute(
        """
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :members)
        INSERT INTO members (guild_id, user_id, business, area, about, pings, hidden, busy_until,
                             profile_at, created_at, updated_at)
        SELECT :g, :base + i, 'Business ' || i, 'Area ' || (i % :areas), 'Small business number ' || i,
               u(i, 30) >= 0.1, u(i, 32) < 0.002, CASE WHEN u(i, 31) < 0.143 THEN '2026-12-31' END,
               strftime('%Y-%m-%dT%H:%M:%S+00:00', '2023-11-25', '+' || (i * 997 % 94608000) || ' seconds'),
               '2023-11-25T00:00:00+00:00', '2023-11-25T00:00:00+00:00'
          FROM n
        """,
        p,
    )
    conn.execute(
        """
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :members)
        INSERT INTO availability (guild_id, user_id, start_date, end_date, slots, created_at)
        SELECT :g, :base + i, date(:ws, '-' || (i % 4) || ' days'), date(:we, '+' || (i % 9) || ' days'),
               1 + i % 3, :now
          FROM n WHERE i % 250 < 50
        """,
        p,
    )
    # Filled needs over the last three years, then recent requests over the last 90 days.
    total = s.referrals + s.requests
    conn.execute(
        """
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :total),
             t AS (SELECT i,
                          CASE WHEN i < :referrals
                               THEN strftime('%Y-%m-%dT%H:%M:%S+00:00', '2023-11-25',
                                             '+' || (i * 94000000 / max(:referrals, 1)) || ' seconds')
                               ELSE strftime('%Y-%m-%dT%H:%M:%S+00:00', '2026-08-27',
                                             '+' || ((i - :referrals) * 7770000 / max(:requests, 1)) || ' seconds')
                          END AS at,
                          CAST(:members * u(i, 10) AS INTEGER) AS who,
                          CAST(:skills * u(i, 11) * u(i, 11) * u(i, 11) AS INTEGER) AS r,
                          CASE WHEN i < :referrals THEN 'filled'
                               WHEN i % 5 = 0 THEN 'open' WHEN i % 5 = 1 THEN 'closed' ELSE 'expired' END AS state
                     FROM n)
        INSERT INTO needs (id, guild_id, requester_id, skill, start_date, end_date, details, area, state,
                           version, channel_id, message_id, created_day, created_at, ended_at, ended_by,
                           picked_id)
        SELECT i + 1, :g, :base + who, s.name,
               CASE WHEN state = 'open' THEN date(:now, '+1 day') ELSE date(at, '+1 day') END,
               CASE WHEN state = 'open' THEN date(:now, '+8 days') ELSE date(at, '+7 days') END,
               CASE WHEN i % 4 = 0 THEN 'Client needs help with ' || s.name END,
               CASE WHEN i % 2 = 0 THEN 'Area ' || (who % :areas) END,
               state, 1, :ch, 800000000000000000 + i, date(at), at,
               CASE WHEN state <> 'open' THEN strftime('%Y-%m-%dT%H:%M:%S+00:00', at, '+6 hours') END,
               CASE WHEN state IN ('filled', 'closed') THEN :base + who END,
               CASE WHEN state = 'filled' THEN :base + ((who + 1 + CAST(u(i, 12) * (:members - 1) AS INTEGER))
                                                        % :members) END
          FROM t JOIN temp.bench_skills s ON s.rank = t.r
        """,
        {**p, "total": total},
    )
    conn.execute(
        """
        INSERT INTO referrals (need_id, guild_id, from_id, to_id, skill, created_at)
        SELECT id, guild_id, requester_id, picked_id, skill, ended_at FROM needs WHERE state = 'filled'
        """
    )
    # Pings for the recent requests (up to 3 members offering nothing in particular: fairness only
    # needs the counters), a volunteer on every other one.
    conn.execute(
        """
        WITH k(k) AS (VALUES (0), (1), (2))
        INSERT OR IGNORE INTO need_pings (need_id, user_id, guild_id, rank, pinged_at, counted)
        SELECT n.id, :base + CAST(:members * u(n.id, 20 + k) AS INTEGER), n.guild_id, k, n.created_at,
               n.created_at >= strftime('%Y-%m-%dT%H:%M:%S+00:00', :now, '-30 days')
          FROM needs n, k
         WHERE n.id > :referrals AND (n.id + k) % 4 <> 0
        """,
        p,
    )
    conn.execute(
        """
        INSERT OR IGNORE INTO need_volunteers (need_id, user_id, guild_id, name, created_at)
        SELECT need_id, user_id, guild_id, 'Member ' || (user_id - :base), pinged_at
          FROM need_pings WHERE rank = 0 AND need_id % 2 = 0
        """,
        p,
    )


def _seed_offers(conn: sqlite3.Connection, s: Scale) -> None:
    """Offers last, with every index in place: the bot's own insert trigger derives each offer's ping
    counters (from need_pings), area key and available_offers rows (from availability)."""
    p = _params(s)
    # Offers: draw 6 Zipf-like ranks per member, keep the first 3 distinct. Members with a capacity
    # window (i % 250 < 50) never offer rank 0, which makes rank 0 the worst case for matching.
    conn.execute(
        """
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :members),
             k(k) AS (VALUES (0), (1), (2), (3), (4), (5)),
             drawn AS (SELECT i, k, CAST(:skills * u(i, k) * u(i, k) * u(i, k) AS INTEGER) AS r FROM n, k),
             fixed AS (SELECT i, k, CASE WHEN r = 0 AND i % 250 < 50 THEN 1 ELSE r END AS r FROM drawn),
             firsts AS (SELECT i, r, min(k) AS k FROM fixed GROUP BY i, r),
             ranked AS (SELECT i, r, row_number() OVER (PARTITION BY i ORDER BY k) AS nth FROM firsts)
        INSERT INTO offers (guild_id, user_id, skill, details, created_at)
        SELECT :g, :base + i, s.name, CASE WHEN i % 3 = 0 THEN 'Details for offer ' || i END, :now
          FROM ranked JOIN temp.bench_skills s ON s.rank = ranked.r
         WHERE nth <= 3
        """,
        p,
    )


def is_hidden(i: int) -> bool:
    """Member i was hidden by a moderator (the seed hides one in 500 at random, see _seed_history)."""
    return _mix(i, 32) < 0.002


def ranked_skills(conn: sqlite3.Connection, count: int) -> list[str]:
    """Skill names by popularity rank: the shipped starter skills first, then "trade 0050" and on."""
    starter = [r[0] for r in conn.execute("SELECT name FROM skills WHERE guild_id = 0 ORDER BY name")]
    return [starter[r] if r < min(STARTER, len(starter)) else f"trade {r:04d}" for r in range(count)]


def zipf_rank(u: float, skills: int) -> int:
    """The seed's popularity law: rank = skills * u**3 (rank 0 is drawn most often)."""
    return min(skills - 1, int(skills * u * u * u))


def worst_skill(
    conn: sqlite3.Connection, start: str = NEXT_WEEK[0], end: str = NEXT_WEEK[1]
) -> tuple[str, int]:
    """The most offered skill of the bench guild that nobody offering it is available for in the window."""
    row = conn.execute(
        """
        SELECT o.skill, count(*) AS n FROM offers o
         WHERE o.guild_id = ?
         GROUP BY o.skill
        HAVING NOT EXISTS (SELECT 1 FROM offers o2 JOIN availability a
                             ON a.guild_id = o2.guild_id AND a.user_id = o2.user_id
                          WHERE o2.guild_id = ? AND o2.skill = o.skill
                            AND a.start_date <= ? AND a.end_date >= ?)
         ORDER BY n DESC LIMIT 1
        """,
        (GUILD_ID, GUILD_ID, end, start),
    ).fetchone()
    return row[0], row[1]
