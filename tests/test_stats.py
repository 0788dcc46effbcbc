"""/stats: every figure against a scenario whose answers are known by construction, the chart, the
moderator check, and the roll-ups (trigger-maintained and backfilled) agreeing with the base tables."""

from __future__ import annotations

import io
import sqlite3
from datetime import UTC, date, datetime

import pytest
from matplotlib import image as mpimg

from buddybot import stats
from buddybot.storage.db import _configure, _statements, migration_files
from tests.conftest import World

pytestmark = pytest.mark.usefixtures("no_first_answer_window")  # the window: test_lifecycle.py

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # the FakeClock's start: a Wednesday


def rows(world: World, sql: str, *params: object) -> list[tuple]:
    with world.connect() as conn:
        return conn.execute(sql, params).fetchall()


def ts(day: str, hm: str = "09:00") -> str:
    return f"2026-{day}T{hm}:00+00:00"


class Seeder:
    """Writes base rows the way the referral and agreement flows do; the triggers keep the roll-ups."""

    def __init__(self, conn: sqlite3.Connection, guild_id: int) -> None:
        self.conn, self.guild = conn, guild_id

    def profile(self, user: int, at: str, *skills: str) -> None:
        self.conn.execute(
            "INSERT INTO members (guild_id, user_id, business, profile_at, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (self.guild, user, f"Biz {user}", at, at, at),
        )
        for skill in skills:
            self.conn.execute(
                "INSERT INTO offers (guild_id, user_id, skill, created_at) VALUES (?, ?, ?, ?)",
                (self.guild, user, skill, at),
            )

    def need(
        self,
        requester: int,
        skill: str,
        at: str,
        *,
        volunteer: tuple[int, str] | None = None,
        picked: tuple[int, str] | None = None,
        ended: tuple[str, str] | None = None,
    ) -> int:
        need_id = self.conn.execute(
            "INSERT INTO needs (guild_id, requester_id, skill, start_date, end_date, created_day, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (self.guild, requester, skill, at[:10], at[:10], at[:10], at),
        ).fetchone()[0]
        if volunteer:
            self.conn.execute(
                "INSERT INTO need_volunteers (need_id, user_id, guild_id, name, created_at) "
                "VALUES (?, ?, ?, 'v', ?)",
                (need_id, volunteer[0], self.guild, volunteer[1]),
            )
        if picked:
            to_id, when = picked
            self.conn.execute(
                "UPDATE needs SET state = 'filled', ended_at = ?, picked_id = ?, version = version + 1 "
                "WHERE id = ? AND state = 'open'",
                (when, to_id, need_id),
            )
            self.conn.execute(
                "INSERT INTO referrals (need_id, guild_id, from_id, to_id, skill, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (need_id, self.guild, requester, to_id, skill, when),
            )
        if ended:
            state, when = ended
            self.conn.execute("UPDATE needs SET state = ?, ended_at = ? WHERE id = ?", (state, when, need_id))
        return need_id

    def agreement(
        self,
        lead: int,
        parties: list[int],
        *,
        proposed: str,
        agreed: str | None = None,
        closed: tuple[str, str] | None = None,
        feedback: dict[int, bool] | None = None,
    ) -> int:
        agreement_id = self.conn.execute(
            "INSERT INTO agreements (guild_id, channel_id, lead_id, created_at) VALUES (?, 1, ?, ?) "
            "RETURNING id",
            (self.guild, lead, proposed),
        ).fetchone()[0]
        self.conn.execute("INSERT INTO agreement_members VALUES (?, ?, 'lead', NULL)", (agreement_id, lead))
        for party in parties:
            self.conn.execute(
                "INSERT INTO agreement_members VALUES (?, ?, 'party', NULL)", (agreement_id, party)
            )
        self.conn.execute(
            "UPDATE agreements SET state = 'proposed', proposed_at = ? WHERE id = ?", (proposed, agreement_id)
        )
        if agreed:
            self.conn.execute(
                "UPDATE agreements SET state = 'agreed', agreed_at = ? WHERE id = ?", (agreed, agreement_id)
            )
        if closed:
            state, when = closed
            self.conn.execute(
                "UPDATE agreements SET state = ?, closed_at = ?, closed_by = ? WHERE id = ?",
                (state, when, lead, agreement_id),
            )
        for user, again in (feedback or {}).items():
            self.conn.execute(
                "INSERT INTO agreement_feedback (agreement_id, user_id, again, answered_at) "
                "VALUES (?, ?, ?, ?)",
                (agreement_id, user, int(again), closed[1]),
            )
        return agreement_id

    def shoutout(self, giver: int, receiver: int, at: str) -> None:
        self.conn.execute(
            "INSERT INTO shoutouts (guild_id, giver_id, receiver_id, message, day, created_at) "
            "VALUES (?, ?, ?, 'thanks', ?, ?)",
            (self.guild, giver, receiver, at[:10], at),
        )


ALICE, BOB, CAROL, DAN = 101, 102, 103, 104


def seed_scenario(conn: sqlite3.Connection, guild_id: int) -> None:
    """November 2026 (the clock says Wed 25 Nov). Answers are worked out in the comments."""
    s = Seeder(conn, guild_id)
    s.profile(ALICE, ts("10-01"), "bookkeeping")
    s.profile(BOB, ts("11-05"), "web design", "seo")
    s.profile(CAROL, ts("11-20"), "web design")
    # Requests posted in November: 7 counted (n7 was removed by a moderator), 3 filled, 2 expired.
    # time to first volunteer: 1 h, 20 min, 3 h 20 min, 2 h -> median (1 h + 2 h) / 2 = 1 h 30 min
    # time to pick: 3 h, 1 d, 5 h -> median 5 h
    s.need(
        ALICE,
        "web design",
        ts("11-02"),
        volunteer=(BOB, ts("11-02", "10:00")),
        picked=(BOB, ts("11-02", "12:00")),
    )
    s.need(ALICE, "web design", ts("11-03"), volunteer=(BOB, ts("11-03", "09:20")), picked=(BOB, ts("11-04")))
    s.need(
        CAROL, "seo", ts("11-04"), volunteer=(BOB, ts("11-04", "12:20")), picked=(BOB, ts("11-04", "14:00"))
    )
    s.need(DAN, "plumbing", ts("11-05"), ended=("expired", ts("11-06")))
    s.need(DAN, "plumbing", ts("11-06"), ended=("expired", ts("11-07")))
    s.need(ALICE, "seo", ts("11-07"), volunteer=(CAROL, ts("11-07", "11:00")), ended=("closed", ts("11-08")))
    s.need(DAN, "baking", ts("11-08"), ended=("removed", ts("11-08", "10:00")))
    s.need(CAROL, "web design", ts("11-24"))
    # Posted in October, picked on 1 November: in October's fill rate, but November's referrals.
    s.need(DAN, "web design", ts("10-28"), volunteer=(BOB, ts("10-28", "09:05")), picked=(BOB, ts("11-01")))
    # Referrals in November: alice->bob twice (a repeat pair), carol->bob, dan->bob.
    # Agreements: 3 proposed, 3 agreed (one proposed in October), 2 completed, 1 cancelled;
    # alice and bob completed two together (a repeat pair); feedback 3 yes of 4.
    s.agreement(
        ALICE,
        [BOB],
        proposed=ts("11-02"),
        agreed=ts("11-03"),
        closed=("completed", ts("11-10")),
        feedback={ALICE: True, BOB: True},
    )
    s.agreement(
        BOB,
        [ALICE, CAROL],
        proposed=ts("11-11"),
        agreed=ts("11-12"),
        closed=("completed", ts("11-20")),
        feedback={ALICE: True, BOB: False},
    )
    s.agreement(CAROL, [DAN], proposed=ts("11-15"), closed=("cancelled", ts("11-16")))
    s.agreement(DAN, [ALICE], proposed=ts("10-20"), agreed=ts("11-01"))
    s.shoutout(ALICE, BOB, ts("11-03"))
    s.shoutout(CAROL, BOB, ts("11-23"))
    s.shoutout(BOB, ALICE, ts("10-15"))


@pytest.fixture
def scenario(world: World) -> World:
    with world.connect() as conn:
        seed_scenario(conn, world.guild.id)
    return world


def compute(world: World, period: str) -> stats.Stats:
    with world.connect() as conn:
        return stats.compute(conn, world.guild.id, period, NOW)


def ranked(items: list[stats.Ranked]) -> list[tuple[str, int]]:
    return [(r.key, r.count) for r in items]


async def test_month_figures_match_the_scenario(scenario: World) -> None:
    s = compute(scenario, "month")
    assert (s.start, s.today) == (date(2026, 11, 1), date(2026, 11, 25))
    assert (s.members_with_profile, s.new_members, s.members_offering, s.distinct_skills) == (3, 2, 3, 3)
    assert (s.requests_posted, s.requests_filled, s.expired_unfilled) == (7, 3, 2)
    assert s.fill_rate == pytest.approx(3 / 7)
    assert stats.human_duration(s.median_to_volunteer) == "1 h 30 min"
    assert stats.human_duration(s.median_to_pick) == "5 h"
    assert ranked(s.top_demand) == [("web design", 3), ("plumbing", 2), ("seo", 2)]
    assert ranked(s.top_unmet) == [("plumbing", 2)]
    assert s.referrals == 4
    assert ranked(s.top_givers) == [(str(ALICE), 2), (str(CAROL), 1), (str(DAN), 1)]
    assert ranked(s.top_receivers) == [(str(BOB), 4)]
    assert (s.agreements_proposed, s.agreements_agreed, s.agreements_completed, s.agreements_cancelled) == (
        3,
        3,
        2,
        1,
    )
    assert (s.again_yes, s.again_answers) == (3, 4)
    assert (s.repeat_referral_pairs, s.repeat_agreement_pairs) == (1, 1)
    assert s.shoutouts == 2


async def test_other_periods_slice_the_same_history(scenario: World) -> None:
    week = compute(scenario, "week")  # Mon 23 Nov onwards
    assert week.start == date(2026, 11, 23)
    assert (week.requests_posted, week.requests_filled, week.referrals, week.shoutouts, week.new_members) == (
        1,
        0,
        0,
        1,
        0,
    )
    assert week.median_to_volunteer is None and week.fill_rate == 0
    quarter = compute(scenario, "quarter")  # October onwards: the October request and agreement join in
    assert quarter.start == date(2026, 10, 1)
    assert (quarter.requests_posted, quarter.requests_filled, quarter.agreements_proposed) == (8, 4, 4)
    assert stats.human_duration(quarter.median_to_volunteer) == "1 h"  # 5 min, 20 min, 1 h, 2 h, 3 h 20 min
    everything = compute(scenario, "all")
    assert everything.start is None and everything.shoutouts == 3 and everything.new_members == 3


async def test_fill_rate_median_and_unmet_follow_state_changes(scenario: World) -> None:
    with scenario.connect() as conn:
        # The open web design request of 24 Nov expires; a plumbing request is reopened and filled.
        conn.execute(
            "UPDATE needs SET state = 'expired', ended_at = ? WHERE created_at = ?",
            (ts("11-25"), ts("11-24")),
        )
    s = compute(scenario, "month")
    assert (s.requests_posted, s.requests_filled, s.expired_unfilled) == (7, 3, 3)
    assert ranked(s.top_unmet) == [("plumbing", 2), ("web design", 1)]


async def test_weekly_series_for_the_chart(scenario: World) -> None:
    s = compute(scenario, "month")
    assert len(s.weekly) == stats.CHART_MIN_WEEKS and s.weekly[-1].week == date(2026, 11, 23)
    by_week = {p.week: (p.posted, p.filled) for p in s.weekly}
    assert by_week[date(2026, 10, 26)] == (1, 1)  # the October request, filled later, counts in its week
    assert by_week[date(2026, 11, 2)] == (6, 3)  # Mon 2 - Sun 8 Nov, the removed one left out
    assert by_week[date(2026, 11, 23)] == (1, 0)
    assert sum(p.posted for p in s.weekly) == 8


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "–"),
        (0, "under 1 min"),
        (59, "under 1 min"),
        (60, "1 min"),
        (3600, "1 h"),
        (12000, "3 h 20 min"),
        (86400, "1 d"),
        (93600, "1 d 2 h"),
        (8 * 86400 + 3600, "8 d"),
    ],
)
def test_human_duration(seconds, text) -> None:
    assert stats.human_duration(seconds) == text


def test_median_of_buckets() -> None:
    assert stats.median([]) is None
    assert stats.median([(60, 1)]) == 60
    assert stats.median([(60, 1), (120, 1)]) == 90
    assert stats.median([(60, 2), (600, 1)]) == 60
    assert stats.median([(60, 1), (120, 2), (900, 1)]) == 120


async def test_stats_command_answers_with_the_figures_then_a_real_png(scenario: World) -> None:
    before = scenario.db.round_trips
    r = await scenario.discord.slash("stats", scenario.mod)
    assert scenario.db.round_trips - before == 1
    assert r.ephemeral and r.allowed_mentions == {"parse": []}
    text = r.text()
    assert "Network health — this month" in text
    assert "3 with a profile (2 new)" in text and "3 offering · 3 distinct skills" in text
    assert "7 posted · 3 filled (43%)" in text and "2 expired unfilled" in text
    assert "to first volunteer: 1 h 30 min" in text and "to pick: 5 h" in text
    assert "1. web design — 3\n2. plumbing — 2\n3. seo — 2" in text
    assert f"1. <@{ALICE}> — 2" in text and f"1. <@{BOB}> — 4" in text
    assert "3 proposed · 3 agreed" in text and "2 completed · 1 cancelled" in text
    assert "75% (3 of 4 answers)" in text and "1 by referral\n1 by agreement" in text
    assert "Shoutouts: 2" in text
    # The figures are the answer in one round trip; the chart follows privately (it never holds it up).
    (callback,) = r.callbacks
    assert callback.files == [] and r.response["type"] == 4 and r.round_trips <= 2
    (chart,) = r.followups
    ((name, png),) = chart.files
    assert name == "requests-per-week.png" and chart.json["flags"] & 64
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    pixels = mpimg.imread(io.BytesIO(png), format="png")
    assert pixels.shape[0] > 200 and pixels.shape[1] > 400
    assert chart.json["embeds"][0]["image"]["url"] == "attachment://requests-per-week.png"
    assert "This week so far, from 23 Nov: 1 posted · 0 filled." in chart.json["embeds"][0]["description"]


async def test_stats_period_option_and_empty_guild(world: World) -> None:
    r = await world.discord.slash("stats", world.mod, period="all")
    assert "all time" in r.text() and "0 posted · 0 filled (–)" in r.text() and "none yet" in r.text()
    assert r.followups[0].files[0][1].startswith(b"\x89PNG")


async def test_stats_refuses_non_moderators_on_the_server(scenario: World) -> None:
    r = await scenario.discord.slash("stats", scenario.alice, period="year")
    assert r.ephemeral and "Only moderators" in r.content
    assert r.embeds == [] and r.callbacks[0].files == []


async def test_stats_refuses_a_forged_period(world: World) -> None:
    r = await world.discord.slash("stats", world.mod, period="decade")
    assert r.ephemeral and "Period must be one of" in r.content


async def test_the_moderator_role_may_see_stats(world: World) -> None:
    dan = world.discord.add_user("dan", world.guild, roles=["moderator"])
    await world.discord.slash("config set", world.mod, moderator_role=world.guild.roles["moderator"])
    r = await world.discord.slash("stats", dan, period="week")
    assert "Network health — this week" in r.text()


async def test_stats_stay_in_their_guild(scenario: World) -> None:
    other = scenario.discord.add_guild("Other Town")
    scenario.discord.join(scenario.mod, other, moderator=True)
    r = await scenario.discord.slash(
        "stats", scenario.mod, guild=other, channel=other.channel("general"), period="all"
    )
    assert "0 posted" in r.text() and "Shoutouts: 0" in r.text()


def _migrated(path, upto: int) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    _configure(conn)
    for version, _, sql in migration_files():
        if version <= upto:
            conn.execute("BEGIN")
            for statement in _statements(sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
    return conn


def test_backfill_on_upgrade_equals_the_trigger_roll_ups(tmp_path) -> None:
    """A database holding history before migration 004 gets the same roll-ups as one that had the triggers."""
    live = _migrated(tmp_path / "live.db", 999)
    seed_scenario(live, 7)
    old = _migrated(tmp_path / "old.db", 3)
    seed_without_shoutouts(old, 7)  # shoutouts arrive with 004
    for version, _, sql in migration_files():
        if version > 3:
            old.execute("BEGIN")
            for statement in _statements(sql):
                old.execute(statement)
            old.execute("COMMIT")
    query = "SELECT * FROM stat_counts WHERE metric <> 'shoutouts' AND value <> 0 ORDER BY 1, 2, 3, 4, 5"
    expected = live.execute(query).fetchall()
    assert len({r[1] for r in expected}) == 19  # every metric but shoutouts has rows
    assert old.execute(query).fetchall() == expected
    totals = "SELECT * FROM stat_totals ORDER BY 1, 2"
    assert (
        [tuple(r) for r in old.execute(totals)]
        == [tuple(r) for r in live.execute(totals)]
        == [(7, "offering", 3), (7, "skills", 3)]
    )
    pairs = "SELECT * FROM stat_pairs ORDER BY 1, 2, 3, 4"
    assert old.execute(pairs).fetchall() == live.execute(pairs).fetchall()


def seed_without_shoutouts(conn: sqlite3.Connection, guild_id: int) -> None:
    original = Seeder.shoutout
    Seeder.shoutout = lambda self, *a: None  # type: ignore[method-assign]
    try:
        seed_scenario(conn, guild_id)
    finally:
        Seeder.shoutout = original  # type: ignore[method-assign]


async def test_stats_end_to_end_through_need_clicks(world: World) -> None:
    """Requests made, answered and picked through the real /need flow show up in /stats."""
    d = world.discord
    for user in (world.bob, world.carol):
        await d.slash("profile set", user, business=f"{user.name} ltd")
        await d.slash("offer add", user, skill="web design")
    asked = await d.slash("need ask", world.alice, skill="web design", when="tomorrow")
    post = next(d.messages[int(c.response["id"])] for c in asked.posts if "I can take it" in
                d.messages[int(c.response["id"])].labels())  # fmt: skip
    world.clock.advance(minutes=30)
    await d.click(post, "I can take it", world.bob)
    world.clock.advance(minutes=90)
    picked = await d.select(d.messages[post.id], "Pick a volunteer", world.alice, [world.bob.id])
    assert "You picked" in picked.told
    await d.slash("need ask", world.bob, skill="plumbing", when="tomorrow")  # nobody offers it
    world.clock.advance(days=3)
    await world.bot.get_cog("Referrals").expire_due()
    r = await d.slash("stats", world.mod, period="week")
    text = r.text()
    assert "2 posted · 1 filled (50%)" in text and "1 expired unfilled" in text
    assert "to first volunteer: 30 min" in text and "to pick: 2 h" in text
    assert (
        "1. plumbing — 1\n2. web design — 1" in text
        and "Top unmet skills (recruit!): 1. plumbing — 1" in text
    )
    assert f"1. <@{world.alice.id}> — 1" in text and f"1. <@{world.bob.id}> — 1" in text
    assert "2 with a profile (2 new)" in text and "2 offering · 1 distinct skills" in text


async def test_keyed_counters_keep_only_the_latest_period(world: World) -> None:
    """Top-five counters of past periods are dropped as new ones start; plain counts keep every period."""
    with world.connect() as conn:
        s = Seeder(conn, world.guild.id)
        s.need(ALICE, "seo", ts("10-05"), picked=(BOB, ts("10-06")))
        s.need(ALICE, "seo", ts("11-05"), picked=(BOB, ts("11-06")))
        given = conn.execute("SELECT kind, start, value FROM stat_counts WHERE metric = 'ref_given' "
                             "ORDER BY kind").fetchall()  # fmt: skip
        monthly = conn.execute("SELECT start, value FROM stat_counts WHERE metric = 'referrals' AND kind = 'm' "
                               "ORDER BY start").fetchall()  # fmt: skip
    assert given == [("a", "", 2), ("m", "2026-11-01", 1), ("q", "2026-10-01", 2), ("w", "2026-11-02", 1),
                     ("y", "2026-01-01", 2)]  # fmt: skip
    assert monthly == [("2026-10-01", 1), ("2026-11-01", 1)]
