"""/find's directory order through the real commands: it follows every change of its inputs at once.

The directory is read from keys kept on the offers (migration 012) and a per-skill total, so each test
changes an input through the command that changes it in production (/profile set, /mod hide-member,
/privacy delete, /available, /busy, /offer) and then checks what /find shows and that every stored key
and total equals what the members' rows say (assert_in_step).
"""

from __future__ import annotations

import random
import sqlite3
from datetime import date, timedelta

from buddybot.registry import DIRECTORY_PAGE
from buddybot.storage import dialect
from buddybot.storage import directory as directory_sql
from buddybot.storage import moderation as moderation_sql
from buddybot.storage import privacy as privacy_sql
from buddybot.storage import registry as registry_sql
from buddybot.storage.db import migration_files
from buddybot.storage.directory import KEY_SQL
from buddybot.testing.harness import FakeUser
from tests.conftest import World


def rows(world: World, sql: str, *params: object) -> list[tuple]:
    with world.connect() as conn:
        return [tuple(r) for r in conn.execute(sql, params).fetchall()]


def assert_in_step(world: World, retired_before: str = "2026-11-24") -> None:
    """Stored keys and totals equal what they are derived from (a key is never '', so '' stands for NULL);
    the busy copy is the member's, or NULL once the spell ended before `retired_before` (retire_busy)."""
    assert not rows(
        world,
        f"SELECT o.user_id, o.skill, o.dir_key FROM offers o JOIN members m "
        f"ON m.guild_id = o.guild_id AND m.user_id = o.user_id WHERE COALESCE(o.dir_key, '') <> COALESCE({KEY_SQL}, '') "
        "OR (COALESCE(o.busy_until, '') <> COALESCE(m.busy_until, '') "
        "AND NOT (o.busy_until IS NULL AND m.busy_until < ?))",
        retired_before,
    )
    assert not rows(
        world,
        "SELECT w.user_id, w.skill FROM available_offers w JOIN offers o ON o.guild_id = w.guild_id "
        "AND o.user_id = w.user_id AND o.skill = w.skill WHERE COALESCE(w.dir_key, '') <> COALESCE(o.dir_key, '')",
    )
    counted = rows(
        world,
        "SELECT guild_id, skill, count(*) FROM offers WHERE dir_key IS NOT NULL GROUP BY guild_id, skill "
        "ORDER BY guild_id, skill",
    )
    kept = rows(
        world,
        "SELECT guild_id, skill, listed FROM directory_counts WHERE listed <> 0 ORDER BY guild_id, skill",
    )
    assert kept == counted


async def offering(world: World, user: FakeUser, business: str | None, skill: str = "graphic design") -> None:
    if business is not None:
        await world.discord.slash("profile set", user, business=business)
    await world.discord.slash("offer add", user, skill=skill)


async def find(world: World, when: str | None = None, skill: str = "graphic design") -> tuple[list[str], str]:
    """(the lines' business names, the footer) of what /find shows."""
    options = {"skill": skill} | ({"when": when} if when else {})
    r = await world.discord.slash("find", world.bob, **options)
    assert r.ephemeral and r.allowed_mentions == {"parse": []}
    if not r.embeds:
        return [], r.content
    lines = r.embeds[0]["description"].splitlines()
    return [line.split("**")[1] for line in lines], r.embeds[0]["footer"]["text"].split(" · ")[0]


def users(world: World, n: int) -> list[FakeUser]:
    return [world.discord.add_user(f"member{i}", world.guild) for i in range(n)]


async def test_a_renamed_business_moves_to_its_new_place(world: World) -> None:
    await offering(world, world.alice, "Zed Design")
    await offering(world, world.bob, "mid design")  # lower-case: compared folded, as before
    await offering(world, world.carol, "Abc Design")
    nameless = world.discord.add_user("nameless", world.guild)
    await offering(world, nameless, None)  # offers without a profile: listed last
    assert await find(world) == (
        ["Abc Design", "mid design", "Zed Design", "(no business name)"],
        "4 members",
    )
    await world.discord.slash("profile set", world.alice, business="Aardvark Design")
    await world.discord.slash("profile set", nameless, business="Nameless No More")
    assert await find(world) == (
        ["Aardvark Design", "Abc Design", "mid design", "Nameless No More"],
        "4 members",
    )
    assert_in_step(world)


async def test_members_without_a_business_name_are_last_by_user_id(world: World) -> None:
    first, second = sorted(users(world, 2), key=lambda u: u.id)
    await offering(world, second, None)
    await offering(world, first, None)
    await offering(world, world.alice, "Zed Design")
    r = await world.discord.slash("find", world.bob, skill="graphic design")
    lines = r.embeds[0]["description"].splitlines()
    assert ["Zed Design" in lines[0], f"<@{first.id}>" in lines[1], f"<@{second.id}>" in lines[2]] == [
        True
    ] * 3
    assert_in_step(world)


async def test_hidden_members_leave_the_list_and_the_total_until_unhidden(world: World) -> None:
    for user, name in ((world.alice, "Alpha"), (world.bob, "Bravo"), (world.carol, "Charlie")):
        await offering(world, user, name)
    await world.discord.slash("mod hide-member", world.mod, member=world.carol, reason="spam")
    assert await find(world) == (["Alpha", "Bravo"], "2 members")
    assert_in_step(world)
    # A hidden member renaming themselves or adding an offer stays out of it.
    await world.discord.slash("profile set", world.carol, business="Aaa First")
    await world.discord.slash("offer add", world.carol, skill="logo design")
    assert await find(world) == (["Alpha", "Bravo"], "2 members")
    assert (await find(world, skill="logo design"))[0] == []
    assert_in_step(world)
    await world.discord.slash("mod unhide-member", world.mod, member=world.carol)
    assert await find(world) == (["Aaa First", "Alpha", "Bravo"], "3 members")
    assert (await find(world, skill="logo design")) == (["Aaa First"], "1 members")
    assert_in_step(world)


async def test_an_erased_member_is_gone_from_the_list_and_the_total(world: World) -> None:
    await offering(world, world.alice, "Alice Accounts")
    await offering(world, world.alice, None, skill="logo design")
    await world.discord.slash("available", world.alice, when="next week")
    await offering(world, world.carol, "Carol Creates")
    ask = await world.discord.slash("privacy delete", world.alice)
    await world.discord.click(ask.message, "Erase my data", world.alice)
    assert await find(world, when="next week") == (["Carol Creates"], "1 members")
    assert "Nobody offers" in (await find(world, skill="logo design"))[1]
    assert rows(world, "SELECT count(*) FROM available_offers") == [(0,)]
    assert_in_step(world)


async def test_removing_an_offer_lowers_the_total(world: World) -> None:
    await offering(world, world.alice, "Alpha")
    await offering(world, world.bob, "Bravo")
    await world.discord.slash("offer add", world.alice, skill="graphic design", details="now with details")
    assert await find(world) == (["Alpha", "Bravo"], "2 members")  # an edited offer is counted once
    await world.discord.slash("offer remove", world.alice, skill="graphic design")
    assert await find(world) == (["Bravo"], "1 members")
    assert_in_step(world)


async def test_tiers_available_then_free_then_busy_each_in_name_order(world: World) -> None:
    """The window 26-30 Nov: available (not busy, then busy), then neither, then busy; names folded."""
    delta, alpha, zulu, echo, later, bravo, nameless = users(world, 7)
    await offering(world, delta, "Delta")
    await world.discord.slash("available", delta, when="next week")  # 30 Nov - 6 Dec overlaps
    await offering(world, alpha, "alpha")
    await world.discord.slash("busy", alpha, until="friday")  # busy until 27 Nov ...
    await world.discord.slash("available", alpha, when="next week")  # ... and available from 30 Nov
    await offering(world, zulu, "Zulu")
    await offering(world, echo, "echo")  # folded it sorts before "Zulu" (byte order would not)
    await offering(world, later, "Foxtrot")
    await world.discord.slash("available", later, when="1-5 dec")  # after the window: not available
    await offering(world, bravo, "Bravo")
    await world.discord.slash("busy", bravo, until="friday")
    await offering(world, nameless, None)
    r = await world.discord.slash("find", world.carol, skill="graphic design", when="26-30 nov")
    lines = r.embeds[0]["description"].splitlines()
    assert [line.split("**")[1] for line in lines] == [
        "Delta", "alpha", "echo", "Foxtrot", "Zulu", "(no business name)", "Bravo",
    ]  # fmt: skip
    assert ["✅ available" in line for line in lines] == [True, True, False, False, False, False, False]
    assert "busy until Fri 27 Nov" in lines[6] and "busy" not in lines[2]
    # Next week is after the busy spell and inside Foxtrot's window: three available, the rest free.
    assert await find(world, when="next week") == (
        ["alpha", "Delta", "Foxtrot", "Bravo", "echo", "Zulu", "(no business name)"],
        "7 members",
    )
    assert_in_step(world)


async def test_a_page_boundary_with_more_offerers_than_a_page(world: World) -> None:
    members = users(world, DIRECTORY_PAGE + 2)
    for i, user in enumerate(members):
        await offering(world, user, f"Biz {i:02d}")
    await world.discord.slash("available", members[-1], when="today")  # last by name, first by tier
    names, footer = await find(world)
    expected = [f"Biz {DIRECTORY_PAGE + 1:02d}"] + [f"Biz {i:02d}" for i in range(DIRECTORY_PAGE - 1)]
    assert (names, footer) == (expected, f"{DIRECTORY_PAGE} of {DIRECTORY_PAGE + 2} members")
    await world.discord.slash("mod hide-member", world.mod, member=members[0])
    names, footer = await find(world)
    assert names == [f"Biz {DIRECTORY_PAGE + 1:02d}"] + [f"Biz {i:02d}" for i in range(1, DIRECTORY_PAGE)]
    assert footer == f"{DIRECTORY_PAGE} of {DIRECTORY_PAGE + 1} members"
    await world.discord.slash("offer remove", members[1], skill="graphic design")
    names, footer = await find(world)
    assert names[-1] == f"Biz {DIRECTORY_PAGE:02d}" and footer == f"{DIRECTORY_PAGE} members"
    assert_in_step(world)


# -- the same page as the single sorted query it replaced, through random changes ------------------------
NAMES = ["Acme", "ACME", "acme", "Zed", "zed co", "Émile", "émile", "Zoë", "Bäcker", "b", "B", None, None]
SKILLS = ("baking", "carpentry", "tutoring")
WINDOWS = [(date(2026, 11, 25), date(2026, 11, 25)), (date(2026, 11, 30), date(2026, 12, 6)),
           (date(2026, 11, 26), date(2026, 11, 30)), (date(2026, 12, 10), date(2026, 12, 12))]  # fmt: skip


def _random_day(rng: random.Random) -> date:
    return date(2026, 11, 25) + timedelta(days=rng.randrange(20))


def _change(conn, rng: random.Random, g: int, user: int) -> None:
    """One random change through the storage functions the commands use (each keeps the keys in step)."""
    now, today = "2026-11-25T10:00:00+00:00", date(2026, 11, 25)
    kind = rng.choice(["profile", "offer", "unoffer", "window", "busy", "hide", "unhide", "erase", "retire"])
    if kind == "profile":
        name = rng.choice([n for n in NAMES if n])
        registry_sql.upsert_profile(conn, g, user, {"business": name, "business_key": name}, now)
    elif kind == "offer":
        registry_sql.ensure_member(conn, g, user, now)
        registry_sql.add_offer(conn, g, user, rng.choice(SKILLS), None, now)
    elif kind == "unoffer":
        registry_sql.remove_offer(conn, g, user, rng.choice(SKILLS))
    elif kind == "window":
        start = _random_day(rng)
        registry_sql.ensure_member(conn, g, user, now)
        registry_sql.add_window(
            conn, g, user, start, start + timedelta(days=rng.randrange(5)), None, today, now
        )
    elif kind == "busy":
        registry_sql.ensure_member(conn, g, user, now)
        registry_sql.set_busy(conn, g, user, _random_day(rng), today, now)
    elif kind == "hide":
        moderation_sql.hide(conn, g, user, now)
    elif kind == "unhide":
        moderation_sql.unhide(conn, g, user, now)
    elif kind == "retire":  # as the need.expire job does
        directory_sql.retire_busy(conn, date(2026, 11, 24))
    else:
        privacy_sql.erase_profile(conn, g, user, now)


def _assert_same_pages(conn, g: int) -> None:
    for skill in SKILLS:
        for start, end in WINDOWS:
            for limit in (1, 4, 100):
                args = {
                    "guild": g,
                    "skill": skill,
                    "start": start.isoformat(),
                    "end": end.isoformat(),
                    "limit": limit,
                }
                want = conn.execute(directory_sql.SORTED_DIRECTORY_SQL, args).fetchall()
                entries, total = directory_sql.page(conn, g, skill, start, end, limit)
                assert [(e.user_id, e.available) for e in entries] == [(r[0], bool(r[5])) for r in want], args
                assert total == (want[0][6] if want else 0), args


async def test_pages_equal_the_single_sorted_query_through_random_changes(world: World) -> None:
    """Names equal once folded (ties by user id), non-ASCII, no name; hidden, busy, windows; both engines."""
    rng, g = random.Random(16), world.guild.id
    people = list(range(1, 41))
    with world.connect() as conn:
        for user in people:  # a starting community, written raw (names the command would refuse as taken)
            name = rng.choice(NAMES)
            conn.execute(
                "INSERT INTO members (guild_id, user_id, business, hidden, busy_until, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, 'x', 'x')",
                (
                    g,
                    user,
                    name,
                    int(rng.random() < 0.1),
                    rng.choice([None, None, "2026-11-20", "2026-11-28"]),
                ),
            )
            for skill in rng.sample(SKILLS, rng.randrange(1, 4)):
                conn.execute(
                    "INSERT INTO offers (guild_id, user_id, skill, created_at) VALUES (?, ?, ?, 'x')",
                    (g, user, skill),
                )
            if rng.random() < 0.4:
                start = _random_day(rng)
                conn.execute(
                    "INSERT INTO availability (guild_id, user_id, start_date, end_date, created_at) "
                    "VALUES (?, ?, ?, ?, 'x')",
                    (g, user, start.isoformat(), (start + timedelta(days=rng.randrange(6))).isoformat()),
                )
        directory_sql.rebuild(conn)
        _assert_same_pages(conn, g)
        for step in range(60):
            _change(conn, rng, g, rng.choice(people))
            if step % 6 == 5:
                _assert_same_pages(conn, g)
    assert_in_step(world)


def test_migration_012_backfills_with_the_statements_rebuild_runs(tmp_path) -> None:
    """A community from before migration 012 gets its keys and totals from the same SQL as rebuild()."""
    (sql,) = [text for version, _, text in migration_files() if version == 12]
    backfill = [" ".join(s.rstrip(";").split()) for s in dialect.statements(sql, dialect.SQLITE)][
        -len(directory_sql.REBUILD) :
    ]
    assert backfill == [" ".join(s.split()) for s in directory_sql.REBUILD]
    conn = sqlite3.connect(tmp_path / "old.sqlite3", isolation_level=None)
    for version, _, text in migration_files():
        if version == 12:
            conn.execute(
                "INSERT INTO members (guild_id, user_id, business, hidden, created_at, updated_at) "
                "VALUES (5, 1, 'Zed', 0, 'x', 'x'), (5, 2, NULL, 0, 'x', 'x'), (5, 3, 'abc', 0, 'x', 'x'), "
                "(5, 4, 'Aaa', 1, 'x', 'x')"
            )
            conn.execute(
                "INSERT INTO offers (guild_id, user_id, skill, created_at) "
                "VALUES (5, 1, 'seo', 'x'), (5, 2, 'seo', 'x'), (5, 3, 'seo', 'x'), (5, 4, 'seo', 'x')"
            )
            conn.execute(
                "INSERT INTO availability (guild_id, user_id, start_date, end_date, created_at) "
                "VALUES (5, 1, '2026-11-25', '2026-11-30', 'x')"
            )
        for statement in dialect.statements(text, dialect.SQLITE):
            conn.execute(statement)
    today = date(2026, 11, 25)
    entries, total = directory_sql.page(conn, 5, "seo", today, today, 15)
    assert [(e.user_id, e.available) for e in entries] == [(1, True), (3, False), (2, False)] and total == 3
    assert conn.execute("SELECT dir_key FROM available_offers").fetchall() == [("0zed",)]
