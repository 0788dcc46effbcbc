"""Deterministic performance guards: what timing noise cannot touch, checked on every CI run.

- awaited database calls (round trips) per interaction: at most 2, for every command, autocomplete,
  modal, button and select (a registry test below fails when a new one has no guard here);
- Discord REST round trips to the final answer: at most 2 for every command and component (the strict
  harness counts them), and /need ask's calls: its post (as the answer where it is posted), then the thread;
- the matching query: its plan walks an index in ranking order (no temp B-tree, no scan of offers)
  and its SQLite VM steps stay bounded however many members offer the skill.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Awaitable, Callable
from contextlib import closing
from datetime import UTC, date, datetime

import pytest
from discord import app_commands

from buddybot.storage.db import Database
from buddybot.testing.harness import FakeUser, Result, Sent
from tests.conftest import World

pytestmark = pytest.mark.usefixtures("no_first_answer_window")  # the window: test_lifecycle.py

MAX_ROUND_TRIPS = 2

TERMS = {
    "title": "Bakery rebrand",
    "scope": "Logo, sign and a one-page site for Riverside Bakery.",
    "terms": "Payment: within 14 days\nSplit: 50/50\nDeadlines: 3 Dec\nBrand use: own brands\nCancellation: 7 days",
    "fee": "£2,400, half upfront",
    "dates": "1-5 dec",
}
BUDDY_SELECT = "Pick your buddies (1–21)"


# -- helpers shared with the hard-case tests -----------------------------------------------------------
def rows(world: World, sql: str, *params: object) -> list[tuple]:
    with world.connect() as conn:
        return conn.execute(sql, params).fetchall()


def posted(world: World, result: Result) -> Sent:
    """The last channel message the interaction posted."""
    assert result.posts, [c.route for c in result.calls]
    return world.discord.messages[int(result.posts[-1].response["id"])]


async def draft_agreement(world: World, lead: FakeUser) -> Result:
    opened = await world.discord.slash("agreement new", lead, title=TERMS["title"])
    return await world.discord.submit(opened, lead, **TERMS)


async def propose(world: World, lead: FakeUser, buddies: list[FakeUser]) -> tuple[int, Sent]:
    submitted = await draft_agreement(world, lead)
    custom_id = submitted.message.find_component(BUDDY_SELECT)["custom_id"]
    chosen = await world.discord.select(submitted.message, BUDDY_SELECT, lead, buddies)
    return int(custom_id.split(":")[1]), posted(world, chosen)


async def agreed(world: World, lead: FakeUser, buddies: list[FakeUser]) -> tuple[int, Sent]:
    agreement_id, post = await propose(world, lead, buddies)
    for buddy in buddies:
        await world.discord.click(post, "Accept", buddy)
    assert rows(world, "SELECT state FROM agreements WHERE id = ?", agreement_id) == [("agreed",)]
    return agreement_id, post


async def completed(world: World) -> tuple[int, Sent]:
    """Alice leads, Bob and Carol accept, Alice completes: returns the feedback post."""
    agreement_id, _ = await agreed(world, world.alice, [world.bob, world.carol])
    done = await world.discord.slash("agreement complete", world.alice, agreement_id=agreement_id)
    return agreement_id, posted(world, done)


def ok(result: Result) -> Result:
    """The interaction was answered, and not with the apology for an unexpected error."""
    assert result.callbacks and result.callbacks[0].status in (200, 204), [c.route for c in result.calls]
    assert "something went wrong" not in result.text(), result.text()
    return result


# -- one scenario per interaction: setup, then the measured action ----------------------------------------
Measure = Callable[[Awaitable[Result]], Awaitable[Result]]
Scenario = Callable[[World, Measure], Awaitable[None]]
SCENARIOS: dict[str, Scenario] = {}


def scenario(*names: str) -> Callable[[Scenario], Scenario]:
    def register(fn: Scenario) -> Scenario:
        for name in names:
            SCENARIOS[name] = fn
        return fn

    return register


@scenario("profile set")
async def _profile_set(w: World, m: Measure) -> None:
    ok(await m(w.discord.slash("profile set", w.alice, business="Alice's Books", area="Riverside")))


@scenario("profile view")
async def _profile_view(w: World, m: Measure) -> None:
    await w.discord.slash("profile set", w.bob, business="Bob Cuts")
    r = ok(await m(w.discord.slash("profile view", w.alice, member=w.bob)))
    assert r.embeds


@scenario("offer add")
async def _offer_add(w: World, m: Measure) -> None:
    r = ok(await m(w.discord.slash("offer add", w.alice, skill="bookkeeping")))
    assert r.content.startswith("Added")


@scenario("offer remove")
async def _offer_remove(w: World, m: Measure) -> None:
    await w.discord.slash("offer add", w.alice, skill="bookkeeping")
    r = ok(await m(w.discord.slash("offer remove", w.alice, skill="bookkeeping")))
    assert r.content.startswith("Removed")


@scenario("offer list")
async def _offer_list(w: World, m: Measure) -> None:
    await w.discord.slash("offer add", w.bob, skill="bookkeeping")
    ok(await m(w.discord.slash("offer list", w.alice, member=w.bob)))


@scenario("find")
async def _find(w: World, m: Measure) -> None:
    await w.discord.slash("offer add", w.bob, skill="bookkeeping")
    r = ok(await m(w.discord.slash("find", w.alice, skill="bookkeeping", when="next week")))
    assert r.embeds


@scenario("available")
async def _available(w: World, m: Measure) -> None:
    ok(await m(w.discord.slash("available", w.alice, when="next week", slots=2)))


@scenario("busy")
async def _busy(w: World, m: Measure) -> None:
    ok(await m(w.discord.slash("busy", w.alice, until="friday")))


@scenario("autocomplete")
async def _autocomplete(w: World, m: Measure) -> None:
    await w.discord.slash("offer add", w.alice, skill="bookkeeping")
    for name, option in (("offer add", "skill"), ("offer remove", "skill"), ("find", "skill")):
        payload = w.discord.command_payload(name, w.alice, guild=w.guild, focused=option, skill="boo")
        r = await m(w.discord.interact(payload))
        assert "bookkeeping" in [c["value"] for c in r.choices()]


@scenario("config show")
async def _config_show(w: World, m: Measure) -> None:
    ok(await m(w.discord.slash("config show", w.mod)))


@scenario("config set")
async def _config_set(w: World, m: Measure) -> None:
    r = ok(await m(w.discord.slash("config set", w.mod, max_pings=3, timezone="Europe/Paris")))
    assert r.content == "Settings saved."


@scenario("config check", "config reset")
async def _config_check_reset(w: World, m: Measure) -> None:
    await w.discord.slash("config set", w.mod, referrals_channel=w.guild.channel("referrals"))
    r = ok(await m(w.discord.slash("config check", w.mod)))
    assert "All set" in r.text()
    r = ok(await m(w.discord.slash("config reset", w.mod, setting="referrals_channel_id")))
    assert r.content.startswith("Reset")


@scenario("help")
async def _help(w: World, m: Measure) -> None:
    ok(await m(w.discord.slash("help", w.mod)))
    ok(await m(w.discord.slash("help", w.alice, command="need ask")))
    payload = w.discord.command_payload("help", w.alice, guild=w.guild, focused="command", command="ne")
    assert (await m(w.discord.interact(payload))).choices()


@scenario("shoutout")
async def _shoutout(w: World, m: Measure) -> None:
    r = ok(await m(w.discord.slash("shoutout", w.alice, member=w.bob, message="Saved my week!")))
    assert len(r.posts) == 1


@scenario("stats")
async def _stats(w: World, m: Measure) -> None:
    r = ok(await m(w.discord.slash("stats", w.mod, period="month")))
    assert r.embeds


@scenario("mod remove-need")
async def _mod_remove_need(w: World, m: Measure) -> None:
    need_id = insert_need(w, w.alice.id)
    r = ok(await m(w.discord.slash("mod remove-need", w.mod, need_id=need_id, reason="spam")))
    assert "removed" in r.content


@scenario("mod hide-member", "mod unhide-member")
async def _mod_hide(w: World, m: Measure) -> None:
    await w.discord.slash("profile set", w.bob, business="Bob Cuts")
    ok(await m(w.discord.slash("mod hide-member", w.mod, member=w.bob, reason="spam")))
    ok(await m(w.discord.slash("mod unhide-member", w.mod, member=w.bob)))


@scenario("agreement new", "TermsModal", "BuddySelect")
async def _agreement_new(w: World, m: Measure) -> None:
    opened = await m(w.discord.slash("agreement new", w.alice, title="Bakery rebrand"))
    assert opened.response["type"] == 9
    submitted = ok(await m(w.discord.submit(opened, w.alice, **TERMS)))
    chosen = await m(w.discord.select(submitted.message, BUDDY_SELECT, w.alice, [w.bob, w.carol]))
    assert len(chosen.posts) == 1


@scenario("agreement view", "agreement list")
async def _agreement_view(w: World, m: Measure) -> None:
    agreement_id, _ = await propose(w, w.alice, [w.bob])
    ok(await m(w.discord.slash("agreement view", w.bob, agreement_id=agreement_id, export=True)))
    ok(await m(w.discord.slash("agreement list", w.bob)))
    payload = w.discord.command_payload(
        "agreement view", w.bob, guild=w.guild, focused="agreement_id", agreement_id=1
    )
    assert (await m(w.discord.interact(payload))).choices()


@scenario("agreement edit")
async def _agreement_edit(w: World, m: Measure) -> None:
    agreement_id, _ = await propose(w, w.alice, [w.bob])
    opened = await m(w.discord.slash("agreement edit", w.alice, agreement_id=agreement_id))
    assert opened.response["type"] == 9
    r = ok(await m(w.discord.submit(opened, w.alice, **{**TERMS, "fee": "£2,600"})))
    assert "version 2" in r.content


@scenario("AcceptButton")
async def _accept(w: World, m: Measure) -> None:
    _, post = await propose(w, w.alice, [w.bob, w.carol])
    assert (await m(w.discord.click(post, "Accept", w.bob))).response["type"] == 7
    assert (await m(w.discord.click(post, "Accept", w.carol))).response["type"] == 7  # the one that agrees


@scenario("DeclineButton")
async def _decline(w: World, m: Measure) -> None:
    _, post = await propose(w, w.alice, [w.bob])
    ok(await m(w.discord.click(post, "Decline", w.bob)))


@scenario("agreement complete", "AgainButton", "NoteButton")
async def _complete(w: World, m: Measure) -> None:
    agreement_id, _ = await agreed(w, w.alice, [w.bob])
    done = ok(await m(w.discord.slash("agreement complete", w.alice, agreement_id=agreement_id)))
    feedback = posted(w, done)
    thanks = ok(await m(w.discord.click(feedback, "Yes, again", w.bob)))
    note = await m(w.discord.click(thanks.message, "Add a note", w.bob))
    assert note.response["type"] == 9, note.response
    ok(await m(w.discord.submit(note, w.bob, note="Great to work with")))


@scenario("agreement cancel")
async def _cancel(w: World, m: Measure) -> None:
    agreement_id, _ = await propose(w, w.alice, [w.bob])
    ok(await m(w.discord.slash("agreement cancel", w.bob, agreement_id=agreement_id, reason="Client left")))


@scenario("share add", "share list", "share find", "share remove", "borrow", "LoanButton", "mod remove-share")
async def _sharing(w: World, m: Measure) -> None:
    from tests.test_sharing import share_add

    ok(await m(share_add(w, w.alice, "Ladder")))
    ok(await m(w.discord.slash("share list", w.bob, member=w.alice)))
    ok(await m(w.discord.slash("share find", w.bob, query="lad")))
    payload = w.discord.command_payload("borrow", w.bob, guild=w.guild, focused="item", item="lad", when="x")
    (choice,) = (await m(w.discord.interact(payload))).choices()
    post = posted(w, ok(await m(w.discord.slash("borrow", w.bob, item=choice["value"], when="1-3 dec"))))
    for label, who in (("Approve", w.alice), ("Handed over", w.alice), ("Returned", w.bob)):
        ok(await m(w.discord.click(post, label, who)))
    opened = await m(w.discord.click(post, "Got it back", w.alice))
    ok(await m(w.discord.submit(opened, w.alice, condition="fine")))
    ok(await m(share_add(w, w.alice, "Drill")))
    ok(await m(w.discord.slash("share remove", w.alice, item="2")))
    ok(await m(w.discord.slash("mod remove-share", w.mod, item_id=1, reason="spam")))


@scenario("privacy export", "privacy delete", "EraseButton")
async def _privacy(w: World, m: Measure) -> None:
    await w.discord.slash("profile set", w.alice, business="Alice's Books")
    await w.discord.slash("offer add", w.alice, skill="bookkeeping")
    exported = ok(await m(w.discord.slash("privacy export", w.alice)))
    assert exported.callbacks[0].files
    confirm = ok(await m(w.discord.slash("privacy delete", w.alice)))
    erased = ok(await m(w.discord.click(confirm.message, "Erase my data", w.alice)))
    assert "erased" in erased.text()
    assert rows(w, "SELECT count(*) FROM offers") == [(0,)]


def insert_need(w: World, requester: int, *, skill: str = "bookkeeping", guild_id: int | None = None) -> int:
    """A need row straight into the database (for moderation tests that do not depend on /need)."""
    with w.connect() as conn:
        cur = conn.execute(
            "INSERT INTO needs (guild_id, requester_id, skill, start_date, end_date, created_day, created_at) "
            "VALUES (?, ?, ?, '2026-11-30', '2026-12-06', '2026-11-25', '2026-11-25T10:00:00+00:00') RETURNING id",
            (guild_id or w.guild.id, requester, skill),
        )
        return int(cur.fetchone()[0])


# -- referrals (/need ask|list|close, I can take it, Not this time, Close, Pick a volunteer) ---------------
TAKE, DECLINE, CLOSE, PICK = "I can take it", "Not this time", "Close", "Pick a volunteer"


def need_post(world: World, result: Result) -> Sent:
    """The referral post a /need ask made (the channel message carrying the buttons)."""
    for call in result.posts:
        sent = world.discord.messages[int(call.response["id"])]
        if TAKE in sent.labels():
            return sent
    raise AssertionError(f"no referral post: {[c.route for c in result.calls]} {result.text()}")


async def ask(world: World, requester: FakeUser, *, skill: str = "bookkeeping", **options: str) -> Result:
    return await world.discord.slash(
        "need ask", requester, skill=skill, when=options.pop("when", "next week"), **options
    )


async def offerers(world: World, *users: FakeUser, skill: str = "bookkeeping") -> None:
    for user in users:
        await world.discord.slash("offer add", user, skill=skill)


@scenario("need ask")
async def _need_ask(w: World, m: Measure) -> None:
    await offerers(w, w.bob, w.carol)
    r = await m(ask(w, w.alice, details="Year-end accounts for a bakery", area="Riverside"))
    need_post(w, r)


@scenario("need list", "need close")
async def _need_list_close(w: World, m: Measure) -> None:
    await ask(w, w.alice)
    ok(await m(w.discord.slash("need list", w.alice)))
    need_id = rows(w, "SELECT max(id) FROM needs")[0][0]
    r = ok(await m(w.discord.slash("need close", w.alice, need_id=need_id)))
    assert "Closed" in r.content
    payload = w.discord.command_payload("need close", w.alice, guild=w.guild, focused="need_id", need_id=1)
    await m(w.discord.interact(payload))
    payload = w.discord.command_payload("need ask", w.alice, guild=w.guild, focused="skill", skill="boo")
    await m(w.discord.interact(payload))


@scenario("TakeButton", "PickSelect")
async def _take_pick(w: World, m: Measure) -> None:
    post = need_post(w, await ask(w, w.alice))
    ok(await m(w.discord.click(post, TAKE, w.bob)))
    ok(await m(w.discord.click(post, TAKE, w.bob)))  # the second click changes nothing
    r = ok(await m(w.discord.select(w.discord.messages[post.id], PICK, w.alice, [w.bob.id])))
    assert "picked" in r.told


@scenario("DeclineButton", "CloseButton")
async def _decline_close(w: World, m: Measure) -> None:
    await offerers(w, w.bob, w.carol)
    await w.discord.slash("config set", w.mod, max_pings=1)
    post = need_post(w, await ask(w, w.alice))
    pinged = rows(w, "SELECT user_id FROM need_pings")[0][0]
    ok(await m(w.discord.click(post, DECLINE, w.discord.users[pinged])))
    ok(await m(w.discord.click(post, CLOSE, w.alice)))


@scenario("OutcomeButton", "ValueModal", "referral list", "referral report")
async def _outcomes(w: World, m: Measure) -> None:
    post = need_post(w, await ask(w, w.alice))
    await w.discord.click(post, TAKE, w.bob)
    picked = await w.discord.select(w.discord.messages[post.id], PICK, w.alice, [w.bob.id])
    confirmation = w.discord.messages[int(picked.posts[0].response["id"])]
    form = await m(w.discord.click(confirmation, "Won it", w.bob))
    assert form.response["type"] == 9, form.response
    ok(await m(w.discord.submit(form, w.bob, value="250")))
    ok(await m(w.discord.slash("referral list", w.alice)))
    r = await m(w.discord.slash("referral report", w.bob, referral_id=1, outcome="no_deal"))
    assert "already reported" in r.content


@scenario("CompleteButton")
async def _complete_reminder(w: World, m: Measure) -> None:
    await agreed(w, w.alice, [w.bob])
    w.clock.current = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)  # the day after the end date (1-5 dec)
    await w.bot.get_cog("Scheduler").run_due()
    (reminder,) = [s for s in w.discord.messages.values() if "Mark complete" in s.labels()]
    ok(await m(w.discord.click(reminder, "Mark complete", w.alice)))


# -- group buys (tests/test_groupbuys.py has the behaviour) -------------------------------------------------
@scenario("groupbuy start", "groupbuy edit", "PledgeButton", "WithdrawButton")
async def _groupbuy_flow(w: World, m: Measure) -> None:
    from tests.test_groupbuys import FLOUR, post_of

    opened = ok(await m(w.discord.slash("groupbuy start", w.alice, target=20, deadline="friday")))
    ok(await m(w.discord.submit(opened, w.alice, **FLOUR)))  # store, post + thread, remember the post
    edit = ok(await m(w.discord.slash("groupbuy edit", w.alice, id=1)))
    ok(await m(w.discord.submit(edit, w.alice, **{**FLOUR, "product": "Rye flour"})))
    form = ok(await m(w.discord.click(post_of(w), "Pledge", w.bob)))
    ok(await m(w.discord.submit(form, w.bob, quantity="3", tolerance="1")))
    ok(await m(w.discord.click(post_of(w), "Withdraw", w.bob)))


@scenario("groupbuy extend", "groupbuy cancel", "groupbuy list", "groupbuy view")
async def _groupbuy_manage(w: World, m: Measure) -> None:
    from tests.test_groupbuys import start

    await start(w, target=20)
    ok(await m(w.discord.slash("groupbuy list", w.bob)))
    ok(await m(w.discord.slash("groupbuy view", w.alice, id=1, export=True)))
    ok(await m(w.discord.slash("groupbuy extend", w.alice, id=1, deadline="next friday")))
    ok(await m(w.discord.slash("groupbuy cancel", w.alice, id=1, reason="the mill closed")))


# -- the guards -------------------------------------------------------------------------------------------
def commands_of(world: World) -> set[str]:
    def walk(items) -> set[str]:
        names = set()
        for item in items:
            if isinstance(item, app_commands.Group):
                names |= walk(item.commands)
            else:
                names.add(item.qualified_name)
        return names

    return walk(world.bot.tree.get_commands())


def dynamic_items_of(world: World) -> set[str]:
    return {cls.__name__ for cls in world.bot._connection._view_store._dynamic_items.values()}


async def test_every_command_and_persistent_component_has_a_round_trip_guard(world: World) -> None:
    missing = (commands_of(world) | dynamic_items_of(world)) - set(SCENARIOS)
    assert not missing, f"add a round-trip scenario to tests/test_guards.py for: {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(set(SCENARIOS)))
async def test_at_most_two_round_trips_per_interaction(world: World, name: str) -> None:
    trips: list[tuple[str, int]] = []

    async def measure(action: Awaitable[Result]) -> Result:
        before = world.db.round_trips
        result = await action
        trips.append(
            (
                result.response.get("type", "?") if result.callbacks else "no answer",
                world.db.round_trips - before,
            )
        )
        return result

    await SCENARIOS[name](world, measure)
    assert trips, "the scenario measured nothing"
    assert all(n <= MAX_ROUND_TRIPS for _, n in trips), f"{name}: round trips per interaction {trips}"


# -- matching: plan and VM steps ------------------------------------------------------------------------
GUILD = 1
WINDOW = (date(2026, 11, 30), date(2026, 12, 6))


async def _matching_db(path, offerers: int, *, windows: str = "none") -> None:
    """`offerers` members offer plumbing, in 50 areas. windows: "none" (nobody has a capacity window),
    "elsewhere" (everyone has one, later than WINDOW), "all" (everyone is available in WINDOW)."""
    db = Database(path)
    await db.open()
    await db.close()
    with closing(sqlite3.connect(path)) as conn, conn:
        now = "2026-11-25T10:00:00+00:00"
        conn.executemany(
            "INSERT INTO members (guild_id, user_id, business, area, pings, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, 1, ?, ?)",
            [(GUILD, 1000 + i, f"Biz {i}", f"Area {i % 50}", now, now) for i in range(offerers + 1)],
        )
        if windows != "none":
            start, end = (
                ("2026-12-14", "2026-12-20") if windows == "elsewhere" else ("2026-11-30", "2026-12-06")
            )
            conn.executemany(
                "INSERT INTO availability (guild_id, user_id, start_date, end_date, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [(GUILD, 1000 + i, start, end, now) for i in range(1, offerers + 1)],
            )
        conn.executemany(
            "INSERT INTO offers (guild_id, user_id, skill, created_at) VALUES (?, ?, 'plumbing', ?)",
            [(GUILD, 1000 + i, now) for i in range(1, offerers + 1)],
        )
        conn.execute("ANALYZE")


def _vm_steps(path, *, area: str | None) -> tuple[int, list[tuple[int, int]]]:
    from buddybot.storage import referrals as sql

    with closing(sqlite3.connect(path)) as conn:
        steps = 0

        def tick() -> int:
            nonlocal steps
            steps += 1
            return 0

        conn.set_progress_handler(tick, 1)
        found = sql.match(
            conn,
            guild_id=GUILD,
            skill="plumbing",
            start=WINDOW[0],
            end=WINDOW[1],
            area=area,
            requester_id=1000,
            need_id=0,
            limit=5,
        )
        return steps, found


async def test_matching_plan_walks_the_ranking_index_without_sorting(tmp_path) -> None:
    from buddybot.storage import referrals as sql

    path = tmp_path / "m.sqlite3"
    await _matching_db(path, 50)
    with closing(sqlite3.connect(path)) as conn:
        sql._functions(conn)
        params = sql.match_params(
            guild_id=GUILD,
            skill="plumbing",
            start=WINDOW[0],
            end=WINDOW[1],
            area="Area 3",
            requester_id=1000,
            need_id=0,
            limit=5,
        )
        plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql.MATCH_SQL, params)]
    assert not [p for p in plan if "TEMP B-TREE" in p], plan
    assert not [p for p in plan if p.startswith(("SCAN o", "SCAN offers"))], plan
    assert any("offers_by_rank" in p for p in plan), plan


@pytest.mark.parametrize(
    ("windows", "area"),
    [
        ("none", None),
        ("none", "Area 3"),
        ("elsewhere", None),
        ("elsewhere", "Area 3"),
        ("all", "Nowhere Town"),
    ],
    ids=[
        "nobody available",
        "nobody available, area",
        "windows elsewhere",
        "windows elsewhere, area",
        "everyone available but nobody in the area",
    ],
)
async def test_matching_vm_steps_do_not_grow_with_the_offerers_of_the_skill(tmp_path, area, windows) -> None:
    """The rare-candidate cases: the cost must not be a walk over every offerer of the skill."""
    small, large = tmp_path / "small.sqlite3", tmp_path / "large.sqlite3"
    await _matching_db(small, 100, windows=windows)
    await _matching_db(large, 2_000, windows=windows)
    small_steps, small_found = _vm_steps(small, area=area)
    large_steps, large_found = _vm_steps(large, area=area)
    assert len(small_found) == len(large_found) == 5
    assert large_steps <= 2 * small_steps, (
        f"matching costs {small_steps:,} VM steps with 100 offerers and {large_steps:,} with 2,000 "
        f"(windows {windows}, area {area}): an arm walks every offerer of the skill looking for a rare kind of "
        "candidate (see bench/RESULTS.md, the slowest matching case)"
    )


# -- REST calls per /need ask ----------------------------------------------------------------------------
def _kind(call) -> str:
    if call.path.endswith("/callback"):
        return "callback"
    if re.fullmatch(r"/channels/\d+/messages", call.path) and call.method == "POST":
        return "post"
    if call.path.endswith("/threads") and call.method == "POST":
        return "thread"
    return call.route


async def test_need_ask_where_it_is_posted_is_one_callback_then_the_thread(world: World) -> None:
    await offerers(world, world.bob, world.carol)
    r = await ask(world, world.alice, details="Year-end accounts")
    assert [_kind(c) for c in r.rest_calls] == ["callback", "thread"]
    assert r.round_trips == 1 and r.response["type"] == 4 and not r.ephemeral
    assert r.buckets == {"none": 1, "thread create": 1}


async def test_need_ask_elsewhere_is_the_post_then_the_answer_then_the_thread(world: World) -> None:
    await offerers(world, world.bob, world.carol)
    await world.discord.slash("config set", world.mod, referrals_channel=world.guild.channel("referrals"))
    r = await ask(world, world.alice, details="Year-end accounts")
    assert [_kind(c) for c in r.rest_calls] == ["post", "callback", "thread"]
    assert r.round_trips == 2 and r.ephemeral


@pytest.mark.parametrize("name", sorted(set(SCENARIOS)))
async def test_at_most_two_discord_round_trips_to_the_final_answer(world: World, name: str) -> None:
    """Sequential REST round trips before the member sees the final answer (the strict harness counts)."""
    seen: list[tuple[str, int]] = []

    async def measure(action: Awaitable[Result]) -> Result:
        result = await action
        seen.append(
            (str(result.response.get("type", "?")) if result.callbacks else "no answer", result.round_trips)
        )
        return result

    await SCENARIOS[name](world, measure)
    assert seen and all(n <= MAX_ROUND_TRIPS for _, n in seen), f"{name}: Discord round trips {seen}"
    assert not world.discord.session.limits.throttled, world.discord.session.limits.throttled
