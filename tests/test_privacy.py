"""/privacy export and /privacy delete: every row about the member and nobody else's data; erasure
keeps the community's counts with an anonymous placeholder, and only the asker can confirm it."""

from __future__ import annotations

import copy
import json
import sqlite3
from datetime import UTC, datetime

import pytest

from buddybot import stats
from buddybot.storage import privacy as privacy_sql
from buddybot.storage import referrals as referrals_sql
from buddybot.storage.dialect import table_names
from buddybot.testing.harness import Sent
from tests.conftest import World
from tests.test_sharing import borrow, share
from tests.test_stats import Seeder, ts

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
ALICE_TEXTS = ("Alice Accounts", "alice's secret client", "alice note", "Alice's terms", "Alice's long ladder",
               "alice condition text", "alice borrowing text", "Alice's flour run")  # fmt: skip
OTHERS_TEXTS = ("Bob Builds", "bob's private client", "bob private note", "bob's reason text", "carol praises bob",
                "Bobby Display", "Carol Creates", "bob borrowing text")  # fmt: skip


def rows(world: World, sql: str, *params: object) -> list[tuple]:
    with world.connect() as conn:
        return conn.execute(sql, params).fetchall()


async def build_community(world: World) -> dict[str, int]:
    """Alice, Bob and Carol with a row in every table that can hold something about a member."""
    d, g, alice, bob, carol = world.discord, world.guild.id, world.alice.id, world.bob.id, world.carol.id
    await d.slash("profile set", world.alice, business="Alice Accounts", area="Riverside")
    await d.slash("offer add", world.alice, skill="bookkeeping", details="alice note")
    await d.slash("available", world.alice, when="next week")
    await d.slash("profile set", world.bob, business="Bob Builds")
    await d.slash("offer add", world.bob, skill="web design")
    await d.slash("profile set", world.carol, business="Carol Creates")
    await d.slash("offer add", world.carol, skill="bookkeeping")
    await d.slash("shoutout", world.alice, member=world.bob, message="alice thanks bob")
    await d.slash("shoutout", world.bob, member=world.alice, message="bob thanks alice")
    await d.slash("shoutout", world.carol, member=world.bob, message="carol praises bob")
    await d.slash("mod hide-member", world.mod, member=world.bob, reason="checking bob")
    await d.slash("mod unhide-member", world.mod, member=world.bob)
    await d.slash("mod hide-member", world.mod, member=world.alice, reason="checking alice")
    await d.slash("mod unhide-member", world.mod, member=world.alice)
    await build_sharing(world)
    with world.connect() as conn:
        s = Seeder(conn, g)
        ids = {}
        # Alice asked twice (one filled by Bob, one still open with a post); Bob asked once, Alice volunteered.
        ids["filled"] = s.need(alice, "web design", ts("11-20"), volunteer=(bob, ts("11-20", "10:00")),
                               picked=(bob, ts("11-20", "12:00")))  # fmt: skip
        ids["open"] = s.need(alice, "web design", ts("11-24"))
        ids["bobs"] = s.need(bob, "bookkeeping", ts("11-21"), volunteer=(alice, ts("11-21", "09:30")),
                             picked=(alice, ts("11-21", "11:00")))  # fmt: skip
        post = d._store(world.guild.channel("referrals"), {"content": "", "embeds": [{"title": "need"}]}, [])
        conn.execute("UPDATE needs SET details = 'alice''s secret client', channel_id = ?, message_id = ? "
                     "WHERE id = ?", (world.guild.channel("referrals"), post.id, ids["open"]))  # fmt: skip
        conn.execute("UPDATE needs SET details = 'bob''s private client' WHERE id = ?", (ids["bobs"],))
        ids["open_post"] = post.id
        conn.execute("INSERT INTO responder_speed (guild_id, user_id, answers, seconds_total) VALUES (?, ?, 1, 1800)",
                     (g, alice))  # fmt: skip  # her answer to Bob's request, 30 minutes after it was posted
        conn.execute("INSERT INTO need_pings (need_id, user_id, guild_id, rank, pinged_at) VALUES (?, ?, ?, 0, ?)",
                     (ids["bobs"], alice, g, ts("11-21")))  # fmt: skip
        conn.execute("INSERT INTO need_pings (need_id, user_id, guild_id, rank, pinged_at) VALUES (?, ?, ?, 0, ?)",
                     (ids["filled"], bob, g, ts("11-20")))  # fmt: skip
        # Agreements: Alice led one with Bob (completed, both answered), Bob led one with Alice and Carol
        # (cancelled by Bob), and Alice leads an open proposal with Carol.
        done = s.agreement(alice, [bob], proposed=ts("11-02"), agreed=ts("11-03"), closed=("completed", ts("11-10")),
                           feedback={alice: True, bob: False})  # fmt: skip
        theirs = s.agreement(bob, [alice, carol], proposed=ts("11-11"), closed=("cancelled", ts("11-12")))
        ids["proposal"] = s.agreement(alice, [carol], proposed=ts("11-23"))
        for agreement_id, title in (
            (done, "Alice's terms"),
            (theirs, "Bob's job"),
            (ids["proposal"], "Alice's terms"),
        ):
            conn.execute("INSERT INTO agreement_versions VALUES (?, 1, ?, 'scope', 'terms', 'fee', '2026-12-01', "
                         "'2026-12-02', ?, 'x')", (agreement_id, title, "0" * 64))  # fmt: skip
        conn.execute("UPDATE agreement_members SET name = 'Bobby Display' WHERE user_id = ?", (bob,))
        conn.execute("UPDATE agreement_feedback SET note = 'alice note' WHERE user_id = ?", (alice,))
        conn.execute("UPDATE agreement_feedback SET note = 'bob private note' WHERE user_id = ?", (bob,))
        conn.execute("UPDATE agreements SET reason = 'bob''s reason text' WHERE id = ?", (theirs,))
        conn.execute(
            "INSERT INTO agreement_acceptances VALUES (?, 1, ?, ?, ?)", (done, bob, "0" * 64, ts("11-03"))
        )
        conn.execute(
            "INSERT INTO agreement_acceptances VALUES (?, 1, ?, ?, ?)", (theirs, alice, "0" * 64, ts("11-11"))
        )
        ids.update(done=done, theirs=theirs)
    await build_group_buys(world)
    return ids


async def build_group_buys(world: World) -> None:
    """Alice organises a group buy Bob pledges in, and pledges in Bob's."""
    from tests.test_groupbuys import pledge, start

    await start(world, world.alice, product="Alice's flour run")
    await start(world, world.bob, product="Bob Builds bulk screws")
    await pledge(world, world.bob, "2", buy_id=1)
    await pledge(world, world.alice, "3", buy_id=2)


async def build_sharing(world: World) -> None:
    """Alice lent her ladder to Bob (closed), is lent Carol's drill (approved), and waits for Bob's van."""
    d = world.discord
    ladder = await share(world, world.alice, "Alice's long ladder")
    _, post = await borrow(world, world.bob, ladder, note="bob borrowing text")
    await d.click(post, "Approve", world.alice)
    await d.click(post, "Handed over", world.alice)
    await d.submit(
        await d.click(post, "Got it back", world.alice), world.alice, condition="alice condition text"
    )
    drill = await share(world, world.carol, "Drill")
    _, post = await borrow(world, world.alice, drill, note="alice borrowing text")
    await d.click(post, "Approve", world.carol)
    van = await share(world, world.bob, "Van", kind="space")
    await borrow(world, world.carol, van)
    r, post = await borrow(world, world.alice, van)
    assert post is None and "waiting list" in r.content


# An independent oracle: which rows are Alice's, written plainly (no care for indexes).
ORACLE = {
    "members": "SELECT * FROM members WHERE guild_id = :g AND user_id = :u",
    "responder_speed": "SELECT * FROM responder_speed WHERE guild_id = :g AND user_id = :u",
    "offers": "SELECT * FROM offers WHERE guild_id = :g AND user_id = :u",
    "availability": "SELECT * FROM availability WHERE guild_id = :g AND user_id = :u",
    "available_offers": "SELECT * FROM available_offers WHERE user_id = :u",
    "needs": "SELECT * FROM needs WHERE guild_id = :g AND requester_id = :u",
    "need_pings": "SELECT * FROM need_pings WHERE user_id = :u",
    "need_volunteers": "SELECT * FROM need_volunteers WHERE user_id = :u",
    "referrals": "SELECT * FROM referrals WHERE from_id = :u OR to_id = :u",
    "agreements": "SELECT a.* FROM agreements a WHERE EXISTS (SELECT 1 FROM agreement_members m "
                  "WHERE m.agreement_id = a.id AND m.user_id = :u)",
    "agreement_versions": "SELECT v.* FROM agreement_versions v WHERE EXISTS (SELECT 1 FROM agreement_members m "
                          "WHERE m.agreement_id = v.agreement_id AND m.user_id = :u)",
    "agreement_members": "SELECT o.* FROM agreement_members o WHERE EXISTS (SELECT 1 FROM agreement_members m "
                         "WHERE m.agreement_id = o.agreement_id AND m.user_id = :u)",
    "agreement_acceptances": "SELECT * FROM agreement_acceptances WHERE user_id = :u",
    "agreement_feedback": "SELECT * FROM agreement_feedback WHERE user_id = :u",
    "shoutouts": "SELECT * FROM shoutouts WHERE giver_id = :u OR receiver_id = :u",
    "mod_audit": "SELECT * FROM mod_audit WHERE actor_id = :u OR (target_type = 'member' AND target_id = :u) "
                 "OR (target_type = 'need' AND target_id IN (SELECT id FROM needs WHERE requester_id = :u))",
    "stat_counts": "SELECT * FROM stat_counts WHERE key = CAST(:u AS TEXT) "
                   "AND (metric LIKE 'ref_%' OR metric = 'share_lent')",
    "stat_pairs": "SELECT * FROM stat_pairs WHERE a = :u OR b = :u",
    "stat_first_volunteer": "SELECT * FROM stat_first_volunteer WHERE need_id IN "
                            "(SELECT id FROM needs WHERE requester_id = :u)",
    "group_buys": "SELECT * FROM group_buys WHERE organiser_id = :u",
    "group_buy_pledges": "SELECT * FROM group_buy_pledges WHERE user_id = :u",
    "shared_items": "SELECT * FROM shared_items WHERE owner_id = :u",
    "loans": "SELECT * FROM loans WHERE owner_id = :u OR borrower_id = :u",
    "loan_waits": "SELECT * FROM loan_waits WHERE user_id = :u",
    "share_tallies": "SELECT * FROM share_tallies WHERE user_id = :u",
}  # fmt: skip


def oracle(world: World, user_id: int) -> dict[str, list[dict]]:
    with world.connect() as conn:
        return {
            t: [dict(r) for r in conn.execute(q, {"g": world.guild.id, "u": user_id})]
            for t, q in ORACLE.items()
        }


def canonical(table_rows: list[dict]) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True) for r in table_rows)


async def test_every_table_is_either_exported_or_holds_nothing_personal(world: World) -> None:
    with world.connect() as conn:
        tables = privacy_sql.table_names(conn)
    assert set(privacy_sql.EXPORTED) | privacy_sql.NOT_PERSONAL == tables
    assert not set(privacy_sql.EXPORTED) & privacy_sql.NOT_PERSONAL
    assert set(ORACLE) == set(privacy_sql.EXPORTED)


async def test_export_has_every_row_about_the_member_and_no_one_elses_data(world: World) -> None:
    await build_community(world)
    before = world.db.round_trips
    r = await world.discord.slash("privacy export", world.alice)
    assert world.db.round_trips - before == 1
    assert r.ephemeral and r.allowed_mentions == {"parse": []}
    ((name, blob),) = r.callbacks[0].files
    assert name == f"buddybot-data-{world.guild.id}-{world.alice.id}.json"
    document = json.loads(blob)
    assert document["user_id"] == world.alice.id and document["guild_id"] == world.guild.id
    expected = oracle(world, world.alice.id)
    for table, table_rows in expected.items():
        assert table_rows, f"the scenario should give alice a row in {table}"
        if table == "agreement_members":  # other members' display names are theirs, not hers
            table_rows = [r if r["user_id"] == world.alice.id else {k: v for k, v in r.items() if k != "name"}
                          for r in table_rows]  # fmt: skip
        if table == "loans":  # and a note a borrower wrote to her
            table_rows = [r if r["borrower_id"] == world.alice.id else {k: v for k, v in r.items() if k != "note"}
                          for r in table_rows]  # fmt: skip
        if table == "agreements":  # so is a cancellation reason someone else wrote
            table_rows = [r if r["closed_by"] in (None, world.alice.id) else
                          {k: v for k, v in r.items() if k != "reason"} for r in table_rows]  # fmt: skip
        assert canonical(document["tables"][table]) == canonical(table_rows), table
    text = blob.decode()
    for mine in ALICE_TEXTS:
        assert mine in text
    for theirs in OTHERS_TEXTS:
        assert theirs not in text, theirs


async def test_export_is_per_guild_and_empty_for_a_stranger(world: World) -> None:
    await build_community(world)
    dan = world.discord.add_user("dan", world.guild)
    r = await world.discord.slash("privacy export", dan)
    document = json.loads(r.callbacks[0].files[0][1])
    assert all(rows == [] for rows in document["tables"].values())
    other = world.discord.add_guild("Other Town")
    world.discord.join(world.alice, other)
    elsewhere = await world.discord.slash(
        "privacy export", world.alice, guild=other, channel=other.channel("general")
    )
    assert all(rows == [] for rows in json.loads(elsewhere.callbacks[0].files[0][1])["tables"].values())


def snapshot(world: World) -> stats.Stats:
    with world.connect() as conn:
        return stats.compute(conn, world.guild.id, "all", NOW)


async def test_delete_asks_first_and_only_the_asker_can_confirm(world: World) -> None:
    await build_community(world)
    before = world.db.round_trips
    ask = await world.discord.slash("privacy delete", world.alice)
    assert world.db.round_trips == before  # asking reads nothing
    assert ask.ephemeral and "cannot be undone" in ask.content
    (button,) = [c for row in ask.message.components for c in row["components"]]
    assert button["label"] == "Erase my data" and button["style"] == 4
    assert button["custom_id"] == f"privacy:erase:{world.alice.id}:{int(NOW.timestamp())}"
    # Bob forges Alice's confirmation: refused on the server side, nothing erased.
    forged = await world.discord.press(ask.message, button["custom_id"], world.bob)
    assert forged.ephemeral and "Only the member who asked" in forged.content
    assert rows(world, "SELECT business FROM members WHERE user_id = ?", world.alice.id) == [
        ("Alice Accounts",)
    ]
    assert rows(world, "SELECT count(*) FROM erasures") == [(0,)]
    # A stale confirmation (more than 15 minutes) is refused too.
    world.clock.advance(minutes=16)
    stale = await world.discord.click(ask.message, "Erase my data", world.alice)
    assert "expired" in stale.content and rows(world, "SELECT count(*) FROM erasures") == [(0,)]


async def test_delete_erases_the_member_and_keeps_the_counts(world: World) -> None:
    ids = await build_community(world)
    shoutouts_for_bob = (await world.discord.slash("profile view", world.carol, member=world.bob)).text()
    before_stats = snapshot(world)
    ask = await world.discord.slash("privacy delete", world.alice)
    trips = world.db.round_trips
    done = await world.discord.click(ask.message, "Erase my data", world.alice)
    assert world.db.round_trips - trips == 1
    assert done.response["type"] == 7 and "erased" in done.data["content"] and done.data["components"] == []
    ((placeholder,),) = rows(world, "SELECT -id FROM erasures")
    assert placeholder < 0
    alice = world.alice.id
    # Profile, offers, availability: gone.
    for table in ("members", "offers", "availability", "available_offers"):
        assert rows(world, f"SELECT count(*) FROM {table} WHERE user_id = ?", alice) == [(0,)], table
    # Nothing anywhere still names her, and nothing she wrote is left.
    everything = oracle(world, alice)
    assert {t: r for t, r in everything.items() if r and t != "mod_audit"} == {}
    with world.connect() as conn:
        dump = "\n".join(
            str(tuple(row))
            for table in sorted(table_names(conn))
            for row in conn.execute(f"SELECT * FROM {table}")
        )
    for mine in ALICE_TEXTS:
        assert mine not in dump, mine
    assert "bob private note" in dump and "Carol Creates" in dump  # other members' data is untouched
    # Shared history keeps its counts, with her placeholder.
    assert rows(world, "SELECT from_id, to_id FROM referrals ORDER BY need_id") == [
        (placeholder, world.bob.id),
        (world.bob.id, placeholder),
    ]
    assert rows(
        world, "SELECT requester_id, details, state, ended_by FROM needs WHERE id = ?", ids["open"]
    ) == [(placeholder, None, "closed", placeholder)]
    after_stats = snapshot(world)
    for figure in ("requests_posted", "requests_filled", "referrals", "agreements_proposed", "agreements_completed",
                   "again_answers", "again_yes", "shoutouts"):  # fmt: skip
        assert getattr(after_stats, figure) == getattr(before_stats, figure), figure
    assert after_stats.agreements_cancelled == before_stats.agreements_cancelled + 1  # her open proposal
    assert (after_stats.members_with_profile, after_stats.members_offering) == (2, 2)
    assert ("-" + str(-placeholder), 1) in [(r.key, r.count) for r in after_stats.top_givers]
    assert (
        await world.discord.slash("profile view", world.carol, member=world.bob)
    ).text() == shoutouts_for_bob
    # Her open request's post says it is closed; her lead agreement text is erased; the proposal is cancelled.
    post = world.discord.messages[ids["open_post"]]
    assert "erased their BuddyBot data" in post.content and post.embeds == []
    assert rows(world, "SELECT state, lead_id FROM agreements WHERE id = ?", ids["proposal"]) == [
        ("cancelled", placeholder)
    ]
    assert rows(world, "SELECT title, terms FROM agreement_versions WHERE agreement_id = ?", ids["done"]) == [
        ("(erased)", "(erased at the author's request)")
    ]
    # She vanished from the directory and from matching.
    found = await world.discord.slash("find", world.bob, skill="bookkeeping")
    assert "Carol Creates" in found.text() and "Alice Accounts" not in found.text()
    with world.connect() as conn:
        matched = referrals_sql.match(
            conn,
            guild_id=world.guild.id,
            skill="bookkeeping",
            start=NOW.date(),
            end=NOW.date(),
            area=None,
            requester_id=world.bob.id,
            need_id=0,
            limit=5,
        )
    assert [user for user, _ in matched] == [world.carol.id]
    card = await world.discord.slash("profile view", world.bob, member=world.alice)
    assert "no BuddyBot profile" in card.content
    # The moderation log keeps its records.
    assert rows(world, "SELECT count(*) FROM mod_audit WHERE target_id = ?", alice) == [(2,)]


async def test_a_hidden_member_who_erases_stays_hidden(world: World) -> None:
    await world.discord.slash("profile set", world.alice, business="Alice Accounts")
    await world.discord.slash("offer add", world.alice, skill="bookkeeping")
    await world.discord.slash("mod hide-member", world.mod, member=world.alice, reason="spam")
    ask = await world.discord.slash("privacy delete", world.alice)
    done = await world.discord.click(ask.message, "Erase my data", world.alice)
    assert "hidden" in done.data["content"]
    assert rows(world, "SELECT business, hidden FROM members WHERE user_id = ?", world.alice.id) == [
        (None, 1)
    ]
    await world.discord.slash("profile set", world.alice, business="Alice Again")
    await world.discord.slash("offer add", world.alice, skill="bookkeeping")
    found = await world.discord.slash("find", world.bob, skill="bookkeeping")
    assert "Alice Again" not in found.text()


async def test_delete_in_one_guild_leaves_the_other(world: World) -> None:
    other = world.discord.add_guild("Other Town")
    world.discord.join(world.alice, other)
    await world.discord.slash("profile set", world.alice, business="Alice Accounts")
    await world.discord.slash(
        "profile set", world.alice, business="Alice Elsewhere", guild=other, channel=other.channel("general")
    )
    ask = await world.discord.slash("privacy delete", world.alice)
    await world.discord.click(ask.message, "Erase my data", world.alice)
    assert rows(world, "SELECT guild_id, business FROM members WHERE user_id = ?", world.alice.id) == [
        (other.id, "Alice Elsewhere")
    ]


async def test_the_confirmation_survives_a_restart(world: World) -> None:
    await world.discord.slash("profile set", world.alice, business="Alice Accounts")
    ask = await world.discord.slash("privacy delete", world.alice)
    await world.restart()
    done = await world.discord.click(ask.message, "Erase my data", world.alice)
    assert "erased" in done.data["content"]
    assert rows(world, "SELECT count(*) FROM members") == [(0,)]


@pytest.mark.sqlite_only("reads SQLite's EXPLAIN QUERY PLAN")
async def test_export_and_erase_use_indexes_not_scans(world: World) -> None:
    """Each statement of an export and an erasure finds the member's rows through an index."""
    await build_community(world)
    from buddybot.privacy import _erase

    statements: list[str] = []
    conn = sqlite3.connect(world.db_path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.set_trace_callback(statements.append)
    privacy_sql.export_rows(conn, world.guild.id, world.alice.id)
    conn.execute("BEGIN")
    _erase(conn, world.guild.id, world.alice.id, "2026-11-25T10:00:00+00:00")
    conn.execute("ROLLBACK")
    conn.set_trace_callback(None)
    assert len([s for s in statements if s.lstrip().upper().startswith(("SELECT", "UPDATE"))]) > 25
    big = ("needs", "referrals", "need_pings", "need_volunteers", "stat_counts", "stat_pairs", "shoutouts",
           "agreements", "agreement_members", "members", "offers", "mod_audit")  # fmt: skip
    scans = []
    for sql in statements:
        if not sql.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE", "INSERT")):
            continue
        for row in conn.execute("EXPLAIN QUERY PLAN " + sql):
            detail = row[3]
            if detail.startswith("SCAN ") and detail.split()[1] in big:
                scans.append(f"{detail} <- {sql[:120]}")
    conn.close()
    assert scans == []


async def test_a_second_confirmation_erases_nothing_more(world: World) -> None:
    await build_community(world)
    ask = await world.discord.slash("privacy delete", world.alice)
    stale = Sent(ask.message.id, ask.message.channel_id, copy.deepcopy(ask.message.data), ephemeral=True)
    first = await world.discord.click(ask.message, "Erase my data", world.alice)
    assert "erased" in first.data["content"]
    custom_id = f"privacy:erase:{world.alice.id}:{int(NOW.timestamp())}"
    again = await world.discord.press(stale, custom_id, world.alice)  # a second tap on a slow client
    assert "erased" in again.data["content"]
    assert [c for c in again.calls if c.method == "PATCH" and "/channels/" in c.path] == []
    assert rows(world, "SELECT count(*) FROM erasures") == [(1,)]
    stranger = world.discord.add_user("dan", world.guild)
    ask = await world.discord.slash("privacy delete", stranger)
    await world.discord.click(ask.message, "Erase my data", stranger)
    assert rows(world, "SELECT count(*) FROM erasures") == [(1,)]  # nothing about dan: no placeholder spent
