"""Hard cases: races, Discord faults on every REST call the bot makes, isolation and forged components.

Races run through `asyncio.gather` of harness actions: every gateway frame is fed before any handler
runs (nothing in between awaits), so the handlers really overlap on the one database connection.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from buddybot.testing.harness import FakeUser, Result, Sent
from buddybot.testing.transport import Fault
from tests.conftest import World
from tests.test_guards import (
    BUDDY_SELECT,
    CLOSE,
    DECLINE,
    PICK,
    TAKE,
    TERMS,
    agreed,
    ask,
    draft_agreement,
    insert_need,
    need_post,
    offerers,
    posted,
    propose,
    rows,
)

pytestmark = pytest.mark.usefixtures("no_first_answer_window")  # the window: test_lifecycle.py

N = 50
APOLOGY = "Sorry, something went wrong on our side"


def count(world: World, sql: str, *params: object) -> int:
    return rows(world, sql, *params)[0][0]


def answered(result: Result) -> bool:
    return any(c.status == 200 for c in result.callbacks)


def channel_posts(results: list[Result], fragment: str = "") -> set[int]:
    """Distinct channel messages created during these (overlapping) interactions."""
    return {
        int(c.response["id"])
        for r in results
        for c in r.posts
        if fragment in (c.json or {}).get("content", "")
    }


def integrity_ok(world: World) -> None:
    with world.connect() as conn:
        if not isinstance(conn, sqlite3.Connection):
            return  # PostgreSQL checks foreign keys on every statement and checksums its own pages
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


# -- races: 50 concurrent clicks on every button, double submits of every modal ---------------------------
async def test_fifty_accepts_by_one_party_count_once_and_agree_once(world: World) -> None:
    agreement_id, post = await propose(world, world.alice, [world.bob, world.carol])
    first = await asyncio.gather(*(world.discord.click(post, "Accept", world.bob) for _ in range(N)))
    assert all(answered(r) for r in first)
    assert count(world, "SELECT count(*) FROM agreement_acceptances WHERE user_id = ?", world.bob.id) == 1
    last = await asyncio.gather(*(world.discord.click(post, "Accept", world.carol) for _ in range(N)))
    assert all(answered(r) for r in last)
    assert rows(world, "SELECT state FROM agreements WHERE id = ?", agreement_id) == [("agreed",)]
    assert count(world, "SELECT count(*) FROM agreement_acceptances WHERE user_id <> ?", world.alice.id) == 2
    assert len(channel_posts(last, "is agreed")) == 1
    assert count(world, "SELECT value FROM stat_counts WHERE metric = 'agr_agreed' AND kind = 'a'") == 1


async def test_every_party_accepting_at_once_agrees_exactly_once(world: World) -> None:
    buddies = [world.discord.add_user(f"buddy{i}", world.guild) for i in range(21)]
    agreement_id, post = await propose(world, world.alice, buddies)
    results = await asyncio.gather(
        *(world.discord.click(post, "Accept", b) for b in buddies for _ in range(2))
    )
    assert all(answered(r) for r in results)
    assert rows(world, "SELECT state FROM agreements WHERE id = ?", agreement_id) == [("agreed",)]
    assert count(world, "SELECT count(*) FROM agreement_acceptances WHERE user_id <> ?", world.alice.id) == 21
    assert len(channel_posts(results, "is agreed")) == 1


async def test_fifty_declines_close_once_and_tell_the_lead_once(world: World) -> None:
    agreement_id, post = await propose(world, world.alice, [world.bob])
    results = await asyncio.gather(*(world.discord.click(post, "Decline", world.bob) for _ in range(N)))
    assert all(answered(r) for r in results)
    assert rows(world, "SELECT state FROM agreements WHERE id = ?", agreement_id) == [("declined",)]
    assert len(channel_posts(results, "declined agreement")) == 1


async def test_fifty_buddy_picks_propose_once(world: World) -> None:
    submitted = await draft_agreement(world, world.alice)
    results = await asyncio.gather(
        *(
            world.discord.select(submitted.message, BUDDY_SELECT, world.alice, [world.bob, world.carol])
            for _ in range(N)
        )
    )
    assert all(answered(r) for r in results)
    assert count(world, "SELECT count(*) FROM agreements WHERE state = 'proposed'") == 1
    assert count(world, "SELECT count(*) FROM agreement_members WHERE role = 'party'") == 2
    assert len(channel_posts(results)) == 1


async def test_fifty_feedback_clicks_store_one_answer(world: World) -> None:
    agreement_id, _ = await agreed(world, world.alice, [world.bob])
    feedback = posted(
        world, await world.discord.slash("agreement complete", world.alice, agreement_id=agreement_id)
    )
    clicks = [world.discord.click(feedback, "Yes, again" if i % 2 else "No", world.bob) for i in range(N)]
    results = await asyncio.gather(*clicks)
    assert all(answered(r) for r in results)
    assert count(world, "SELECT count(*) FROM agreement_feedback") == 1
    assert count(world, "SELECT value FROM stat_counts WHERE metric = 'again_answers' AND kind = 'a'") == 1


async def test_double_submit_of_the_new_agreement_modal_makes_one_draft(world: World) -> None:
    opened = await world.discord.slash("agreement new", world.alice, title=TERMS["title"])
    results = await asyncio.gather(*(world.discord.submit(opened, world.alice, **TERMS) for _ in range(2)))
    assert count(world, "SELECT count(*) FROM agreements") == 1, [r.text() for r in results]


async def test_double_submit_of_the_edit_modal_makes_one_version(world: World) -> None:
    agreement_id, _ = await propose(world, world.alice, [world.bob])
    opened = await world.discord.slash("agreement edit", world.alice, agreement_id=agreement_id)
    changed = {**TERMS, "fee": "£3,000"}
    results = await asyncio.gather(*(world.discord.submit(opened, world.alice, **changed) for _ in range(2)))
    assert all(answered(r) for r in results if r.callbacks)
    assert rows(world, "SELECT max(version), count(*) FROM agreement_versions") == [(2, 2)]


async def test_double_submit_of_the_note_modal_keeps_one_note(world: World) -> None:
    agreement_id, _ = await agreed(world, world.alice, [world.bob])
    feedback = posted(
        world, await world.discord.slash("agreement complete", world.alice, agreement_id=agreement_id)
    )
    thanks = await world.discord.click(feedback, "Yes, again", world.bob)
    opened = await world.discord.click(thanks.message, "Add a note", world.bob)
    await asyncio.gather(
        *(world.discord.submit(opened, world.bob, note="Lovely to work with") for _ in range(2))
    )
    assert rows(world, "SELECT note FROM agreement_feedback") == [("Lovely to work with",)]


async def test_fifty_clicks_on_modal_buttons_open_modals_and_write_nothing(world: World) -> None:
    """ "Add a note" and "Fix it" only open a form: fifty at once open fifty forms and store nothing."""
    agreement_id, _ = await agreed(world, world.alice, [world.bob])
    feedback = posted(
        world, await world.discord.slash("agreement complete", world.alice, agreement_id=agreement_id)
    )
    thanks = await world.discord.click(feedback, "Yes, again", world.bob)
    opened = await world.discord.slash("agreement new", world.carol, title="Job")
    refused = await world.discord.submit(opened, world.carol, **{**TERMS, "dates": "yesterday and never"})
    before = [rows(world, f"SELECT * FROM {t}") for t in ("agreements", "agreement_feedback")]
    results = await asyncio.gather(
        *(world.discord.click(thanks.message, "Add a note", world.bob) for _ in range(N)),
        *(world.discord.click(refused.message, "Fix it", world.carol) for _ in range(N)),
    )
    assert [r.response["type"] for r in results] == [9] * (2 * N)
    assert [rows(world, f"SELECT * FROM {t}") for t in ("agreements", "agreement_feedback")] == before


async def test_fifty_simultaneous_shoutouts_post_once(world: World) -> None:
    results = await asyncio.gather(
        *(
            world.discord.slash("shoutout", world.alice, member=world.bob, message="Thank you!")
            for _ in range(N)
        )
    )
    assert all(answered(r) for r in results)
    assert count(world, "SELECT count(*) FROM shoutouts") == 1
    assert len(channel_posts(results)) == 1


async def test_fifteen_skill_limit_holds_under_concurrent_adds(world: World) -> None:
    for i in range(13):
        await world.discord.slash("offer add", world.alice, skill=f"skill {i}")
    results = await asyncio.gather(
        *(world.discord.slash("offer add", world.alice, skill=f"extra {i % 10}") for i in range(N))
    )
    assert all(answered(r) for r in results)
    assert count(world, "SELECT count(*) FROM offers WHERE user_id = ?", world.alice.id) == 15
    assert sum(r.content.startswith("Added") for r in results) == 2


async def test_fifty_removals_of_one_need_audit_once(world: World) -> None:
    need_id = insert_need(world, world.alice.id)
    results = await asyncio.gather(
        *(world.discord.slash("mod remove-need", world.mod, need_id=need_id, reason="spam") for _ in range(N))
    )
    assert sum("is removed" in r.content for r in results) == 1
    assert sum("already removed" in r.content for r in results) == N - 1
    assert count(world, "SELECT count(*) FROM mod_audit WHERE action = 'remove_need'") == 1


async def test_fifty_hides_audit_once(world: World) -> None:
    await world.discord.slash("profile set", world.bob, business="Bob Cuts")
    results = await asyncio.gather(
        *(world.discord.slash("mod hide-member", world.mod, member=world.bob) for _ in range(N))
    )
    assert sum("is hidden" in r.content for r in results) == 1
    assert count(world, "SELECT count(*) FROM mod_audit") == 1


async def test_fifty_erase_confirmations_erase_once(world: World) -> None:
    await world.discord.slash("profile set", world.alice, business="Alice's Books")
    await offerers(world, world.bob)
    post = need_post(world, await ask(world, world.alice))
    confirm = await world.discord.slash("privacy delete", world.alice)
    results = await asyncio.gather(
        *(world.discord.click(confirm.message, "Erase my data", world.alice) for _ in range(N))
    )
    assert all(answered(r) for r in results)
    assert rows(world, "SELECT state FROM needs") == [("closed",)]
    edits = {id(c) for r in results for c in r.calls if c.method == "PATCH" and str(post.id) in c.path}
    assert len(edits) == 1, f"the closed request's post was edited {len(edits)} times"
    assert count(world, "SELECT count(*) FROM erasures") == 1, "one confirmation, erased once"


async def _need_with_offerers(world: World, **options: str) -> Sent:
    await offerers(world, world.bob, world.carol)
    return need_post(world, await ask(world, world.alice, **options))


async def test_fifty_take_clicks_by_one_member_volunteer_once(world: World) -> None:
    post = await _need_with_offerers(world)
    results = await asyncio.gather(*(world.discord.click(post, TAKE, world.bob) for _ in range(N)))
    assert all(answered(r) for r in results)
    assert count(world, "SELECT count(*) FROM need_volunteers") == 1
    assert sum("already on the list" in r.content for r in results) == N - 1


async def test_fifty_members_taking_at_once_are_all_listed_on_the_post(world: World) -> None:
    post = await _need_with_offerers(world)
    people = [world.discord.add_user(f"helper{i}", world.guild) for i in range(N)]
    results = await asyncio.gather(*(world.discord.click(post, TAKE, u) for u in people))
    assert all(answered(r) for r in results)
    assert count(world, "SELECT count(*) FROM need_volunteers") == N
    shown = world.discord.messages[post.id]
    listed = {int(u) for u in re.findall(r"<@(\d+)>", shown.text())}
    options = {
        int(o["value"]) for row in shown.components for c in row["components"] for o in c.get("options", [])
    }
    assert {u.id for u in people} <= options, "the post's menu does not list every volunteer"
    assert len(listed & {u.id for u in people}) == min(N, 40)


async def test_fifty_passes_by_the_pinged_member_ping_the_next_once(world: World) -> None:
    dan = world.discord.add_user("dan", world.guild)
    await offerers(world, world.bob, world.carol, dan)
    await world.discord.slash("config set", world.mod, max_pings=1)
    post = need_post(world, await ask(world, world.alice))
    (first,) = rows(world, "SELECT user_id FROM need_pings")
    pinged = world.discord.users[first[0]]
    results = await asyncio.gather(*(world.discord.click(post, DECLINE, pinged) for _ in range(N)))
    assert all(answered(r) for r in results)
    assert count(world, "SELECT count(*) FROM need_pings") == 2
    assert count(world, "SELECT count(*) FROM need_pings WHERE declined_at IS NOT NULL") == 1
    next_pings = {
        int(c.response["id"])
        for r in results
        for c in r.posts
        if "Could you take on" in c.json.get("content", "")
    }
    assert len(next_pings) == 1
    _ping_counters_match(world)


async def test_fifty_closes_close_once(world: World) -> None:
    post = await _need_with_offerers(world)
    results = await asyncio.gather(*(world.discord.click(post, CLOSE, world.alice) for _ in range(N)))
    assert all(answered(r) for r in results)
    assert sum(r.told.startswith("Closed") for r in results) == 1
    assert rows(world, "SELECT state FROM needs") == [("closed",)]


async def test_racing_picks_make_one_referral_and_one_announcement(world: World) -> None:
    post = await _need_with_offerers(world)
    await world.discord.click(post, TAKE, world.bob)
    await world.discord.click(post, TAKE, world.carol)
    current = world.discord.messages[post.id]
    results = await asyncio.gather(
        *(
            world.discord.select(current, PICK, world.alice, [(world.bob if i % 2 else world.carol).id])
            for i in range(N)
        )
    )
    assert all(answered(r) for r in results)
    assert count(world, "SELECT count(*) FROM referrals") == 1
    assert sum(r.told.startswith("You picked") for r in results) == 1
    assert len(channel_posts(results, "picked")) == 1
    assert count(world, "SELECT value FROM stat_counts WHERE metric = 'referrals' AND kind = 'a'") == 1


async def test_fifty_simultaneous_asks_by_one_member_respect_the_open_limit(world: World) -> None:
    await offerers(world, world.bob)
    results = await asyncio.gather(*(ask(world, world.alice, skill=f"skill {i}") for i in range(N)))
    assert all(answered(r) for r in results)
    assert count(world, "SELECT count(*) FROM needs WHERE state = 'open'") == 5
    assert len(channel_posts(results)) == 5


# -- Discord faults on every REST call ----------------------------------------------------------------------
@pytest.fixture
def no_backoff() -> None:
    """discord.py backs off 1 + 2n s between 5xx retries and sleeps retry_after on a 429: FakeDiscord's
    virtual time (on by default) lets those sleeps pass at once in its own clock, so nothing to do here."""


@dataclass
class ExactFault(Fault):
    """A fault on one route exactly (a regex over the path), so a thread is not mistaken for a post."""

    pattern: str = ""

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and self.method == method and re.fullmatch(self.pattern, path) is not None


ROUTES = {
    "callback": ("POST", r"/interactions/\d+/[^/]+/callback"),
    "channel post": ("POST", r"/channels/\d+/messages"),
    "channel edit": ("PATCH", r"/channels/\d+/messages/\d+"),
    "thread": ("POST", r"/channels/\d+/messages/\d+/threads"),
    "followup": ("POST", r"/webhooks/\d+/[^/]+"),
    "original edit": ("PATCH", r"/webhooks/\d+/[^/]+/messages/[^/]+"),
}
FAULTS: dict[str, dict[str, Any]] = {
    "429": {"status": 429, "times": 1},
    "500 once": {"status": 500, "times": 1},
    "500 always": {"status": 500, "times": 100},
    "403": {"status": 403, "times": 100},
    "timeout": {"status": 0, "times": 100, "exception": TimeoutError()},
}


def route_of(method: str, path: str) -> str | None:
    for name, (m, pattern) in ROUTES.items():
        if m == method and re.fullmatch(pattern, path):
            return name
    return None


def inject(world: World, route: str, fault: str) -> ExactFault:
    method, pattern = ROUTES[route]
    spec = FAULTS[fault]
    body = None
    headers: dict[str, str] = {}
    if spec["status"] == 429:
        body, headers = (
            {"message": "You are being rate limited.", "retry_after": 0.01, "global": False},
            {"Via": "1.1 google"},
        )
    elif spec["status"] == 403:
        body = {"message": "Missing Permissions", "code": 50013}
    elif spec["status"] == 500:
        body = {"message": "Internal Server Error", "code": 0}
    f = ExactFault(
        method, "", spec["status"], body, headers, spec.get("exception"), spec["times"], pattern=pattern
    )
    world.discord.session.faults.append(f)
    return f


@dataclass
class Flow:
    """One user action whose REST calls get faults; `check` asserts the database is consistent after."""

    act: Callable[[World, int], Awaitable[Result]]
    check: Callable[[World, int], None] = lambda world, i: None


async def _offer_add(w: World, i: int) -> Result:
    return await w.discord.slash("offer add", w.alice, skill=f"skill {i}")


async def _shoutout(w: World, i: int) -> Result:
    giver = w.discord.add_user(f"giver{i}", w.guild)
    return await w.discord.slash("shoutout", giver, member=w.bob, message="Brilliant work")


def _shoutouts_posted_or_forgotten(w: World, i: int) -> None:
    giver = next(u for u in w.discord.users.values() if u.name == f"giver{i}")
    stuck = rows(w, "SELECT count(*) FROM shoutouts WHERE giver_id = ? AND message_id IS NULL", giver.id)
    assert stuck == [(0,)], "the shoutout was not posted but stays recorded: its giver cannot try again today"


async def _propose(w: World, i: int) -> Result:
    lead, buddy = (w.discord.add_user(f"{n}{i}", w.guild) for n in ("lead", "buddy"))
    with _faults_paused(w):
        submitted = await draft_agreement(w, lead)
    return await w.discord.select(submitted.message, BUDDY_SELECT, lead, [buddy])


async def _accept(w: World, i: int) -> Result:
    lead, buddy = (w.discord.add_user(f"{n}{i}", w.guild) for n in ("lead", "buddy"))
    with _faults_paused(w):
        submitted = await draft_agreement(w, lead)
        chosen = await w.discord.select(submitted.message, BUDDY_SELECT, lead, [buddy])
    return await w.discord.click(posted(w, chosen), "Accept", buddy)


async def _remove_need(w: World, i: int) -> Result:
    with _faults_paused(w):
        need_id = insert_need(w, w.alice.id)
        post = await w.bot.get_channel(w.guild.channel("referrals")).send("need")
        with w.connect() as conn:
            conn.execute(
                "UPDATE needs SET channel_id = ?, message_id = ? WHERE id = ?",
                (w.guild.channel("referrals"), post.id, need_id),
            )
    return await w.discord.slash("mod remove-need", w.mod, need_id=need_id, reason="spam")


async def _stats(w: World, i: int) -> Result:
    return await w.discord.slash("stats", w.mod, period="week")


class _faults_paused:
    """Setup steps of a flow run without the injected faults (they target the measured action)."""

    def __init__(self, world: World) -> None:
        self.session = world.discord.session

    def __enter__(self) -> None:
        self.saved, self.session.faults = self.session.faults, []

    def __exit__(self, *exc: object) -> None:
        self.session.faults = self.saved


async def _offerers(w: World) -> None:
    with _faults_paused(w):
        if not rows(w, "SELECT 1 FROM offers WHERE skill = 'bookkeeping' LIMIT 1"):
            await offerers(w, w.bob, w.carol)


async def _need_ask(w: World, i: int) -> Result:
    await _offerers(w)
    requester = w.discord.add_user(f"asker{i}", w.guild)
    return await ask(w, requester)


def _needs_posted_or_discarded(w: World, i: int) -> None:
    asker = next(u for u in w.discord.users.values() if u.name == f"asker{i}")
    unposted = rows(w, "SELECT count(*) FROM needs WHERE requester_id = ? AND message_id IS NULL", asker.id)
    assert unposted == [(0,)], "the request was not posted but stays stored (and counts against the limits)"
    _ping_counters_match(w)


def _ping_counters_match(w: World) -> None:
    wrong = rows(
        w,
        """SELECT * FROM (SELECT o.user_id, o.pings_30d, (SELECT count(*) FROM need_pings p WHERE p.guild_id = o.guild_id
                       AND p.user_id = o.user_id AND p.counted = 1) AS pings FROM offers o) AS c WHERE pings_30d <> pings""",
    )
    assert not wrong, f"fairness counters disagree with the pings recorded: {wrong}"


async def _open_post(w: World, i: int, requester: FakeUser | None = None) -> Sent:
    await _offerers(w)
    with _faults_paused(w):
        return need_post(w, await ask(w, requester or w.discord.add_user(f"asker{i}", w.guild)))


async def _take(w: World, i: int) -> Result:
    post = await _open_post(w, i)
    return await w.discord.click(post, TAKE, w.discord.add_user(f"volunteer{i}", w.guild))


async def _decline_need(w: World, i: int) -> Result:
    post = await _open_post(w, i)
    need_id = rows(w, "SELECT max(id) FROM needs")[0][0]
    pinged = rows(w, "SELECT user_id FROM need_pings WHERE need_id = ? ORDER BY rank", need_id)[0][0]
    return await w.discord.click(post, DECLINE, w.discord.users[pinged])


async def _pick(w: World, i: int) -> Result:
    asker = w.discord.add_user(f"asker{i}", w.guild)
    post = await _open_post(w, i, asker)
    with _faults_paused(w):
        volunteer = w.discord.add_user(f"volunteer{i}", w.guild)
        await w.discord.click(post, TAKE, volunteer)
    return await w.discord.select(w.discord.messages[post.id], PICK, asker, [volunteer.id])


async def _close_need(w: World, i: int) -> Result:
    asker = w.discord.add_user(f"asker{i}", w.guild)
    post = await _open_post(w, i, asker)
    return await w.discord.click(post, CLOSE, asker)


async def _complete(w: World, i: int) -> Result:
    with _faults_paused(w):
        lead, buddy = (w.discord.add_user(f"{n}{i}", w.guild) for n in ("lead", "buddy"))
        agreement_id, _ = await agreed(w, lead, [buddy])
    return await w.discord.slash("agreement complete", lead, agreement_id=agreement_id)


async def _erase(w: World, i: int) -> Result:
    with _faults_paused(w):
        member = w.discord.add_user(f"asker{i}", w.guild)
        await _open_post(w, i, member)
        confirm = await w.discord.slash("privacy delete", member)
    return await w.discord.click(confirm.message, "Erase my data", member)


FLOWS: dict[str, Flow] = {
    "/agreement complete": Flow(_complete),
    "Erase my data": Flow(_erase),
    "/need ask": Flow(_need_ask, _needs_posted_or_discarded),
    "I can take it": Flow(_take),
    "Not this time": Flow(_decline_need, lambda w, i: _ping_counters_match(w)),
    "Pick a volunteer": Flow(_pick),
    "Close": Flow(_close_need),
    "/offer add": Flow(_offer_add),
    "/shoutout": Flow(_shoutout, _shoutouts_posted_or_forgotten),
    "buddy select (post)": Flow(_propose),
    "Accept": Flow(_accept),
    "/mod remove-need": Flow(_remove_need),
    "/stats": Flow(_stats),
}


def _bot_text(result: Result) -> str:
    parts = []
    for call in result.calls:
        body = call.json or {}
        data = body.get("data", body) if isinstance(body, dict) else {}
        parts.append(str(data.get("content") or ""))
        parts += [str(e) for e in data.get("embeds") or []]
    return "\n".join(parts)


@pytest.mark.parametrize("flow", sorted(FLOWS))
async def test_discord_faults_on_every_rest_call(world: World, no_backoff: None, flow: str) -> None:
    """For each REST call the flow makes and each fault: no crash, the user told, the database consistent."""
    spec = FLOWS[flow]
    clean = await spec.act(world, 0)
    routes = sorted({r for c in clean.calls if (r := route_of(c.method, c.path))})
    assert routes, [c.route for c in clean.calls]
    problems: list[str] = []
    i = 0
    for route in routes:
        for fault in FAULTS:
            i += 1
            injected = inject(world, route, fault)
            result = await spec.act(world, i)
            world.discord.session.faults.clear()
            case = f"{flow}: {fault} on {route}"
            if injected.times == FAULTS[fault]["times"]:
                problems.append(f"{case}: the fault never fired")
            text = _bot_text(result)
            if "Traceback" in text or 'File "' in text:
                problems.append(f"{case}: a traceback reached Discord: {text[:200]}")
            if route == "callback":
                pass  # nothing else can reach the user; the bot must survive (checked below)
            elif fault in ("429", "500 once"):
                if not answered(result) or APOLOGY in result.text():
                    problems.append(f"{case}: a retried call should succeed, the user saw {result.text()!r}")
            elif not [
                c
                for c in result.calls
                if c.status == 200 and route_of(c.method, c.path) in ("callback", "followup", "original edit")
            ]:
                problems.append(
                    f"{case}: the user was told nothing: {[(c.route, c.status) for c in result.calls]}"
                )
            try:
                spec.check(world, i)
            except AssertionError as error:
                problems.append(f"{case}: {error}")
            integrity_ok(world)
            alive = await world.discord.slash("offer list", world.carol)
            assert alive.callbacks[0].status == 200, f"{case}: the bot stopped answering"
    assert not problems, "\n".join(problems)


# -- isolation between guilds, and forged components ----------------------------------------------------------
@pytest.fixture
async def other(world: World) -> tuple[Any, FakeUser]:
    """A second guild (after start: its interactions carry guild_id and member payloads) and its member."""
    g2 = world.discord.add_guild("Other Town")
    eve = world.discord.add_user("eve", g2, moderator=True)
    return g2, eve


async def test_a_member_of_another_guild_sees_and_changes_nothing_here(world: World, other) -> None:
    g2, eve = other
    await world.discord.slash("profile set", world.bob, business="Bob Cuts")
    await world.discord.slash("offer add", world.bob, skill="bookkeeping")
    agreement_id, _ = await propose(world, world.alice, [world.bob])
    need_id = insert_need(world, world.alice.id)
    before = (
        rows(world, "SELECT * FROM agreements"),
        rows(world, "SELECT * FROM needs"),
        rows(world, "SELECT * FROM members"),
    )

    find = await world.discord.slash("find", eve, guild=g2, skill="bookkeeping")
    assert "Bob" not in find.text() and str(world.bob.id) not in find.text()
    card = await world.discord.slash("profile view", eve, guild=g2, member=world.bob)
    assert "Bob Cuts" not in card.text()
    for name in ("view", "edit", "complete", "cancel"):
        r = await world.discord.slash(f"agreement {name}", eve, guild=g2, agreement_id=agreement_id)
        assert r.ephemeral and r.response["type"] == 4, (name, r.response)
        assert TERMS["scope"] not in r.text()
    removed = await world.discord.slash("mod remove-need", eve, guild=g2, need_id=need_id, reason="mine now")
    assert "no request" in removed.content
    hidden = await world.discord.slash("mod hide-member", eve, guild=g2, member=world.bob)
    assert answered(hidden)
    assert (rows(world, "SELECT * FROM agreements"), rows(world, "SELECT * FROM needs")) == before[:2]
    assert rows(
        world, "SELECT hidden FROM members WHERE guild_id = ? AND user_id = ?", world.guild.id, world.bob.id
    ) == [(0,)]
    stats = await world.discord.slash("stats", eve, guild=g2)
    assert "Network health" in stats.text()
    assert "1 with a profile" not in stats.text()


FORGED = [
    "agreement:{id}:v1:accept",
    "agreement:{id}:v1:decline",
    "agreement:{id}:again:yes",
    "agreement:{id}:note",
]


def carrying(
    message: Sent, custom_id: str, *, channel_id: int | None = None, options: list[int] = ()
) -> Sent:
    """A copy of `message` whose only component is the forged one: what a modified client would send.

    discord.py drops a component interaction whose custom_id is not on the message it names, so a
    forged id reaches the bot only inside a forged message payload like this one. `channel_id` moves
    the message to another channel (another guild's, for cross-guild forgeries); `options` makes it a
    select offering those values.
    """
    if options:
        item = {
            "type": 3,
            "custom_id": custom_id,
            "placeholder": "forged",
            "min_values": 1,
            "max_values": 1,
            "options": [{"label": str(v), "value": str(v)} for v in options],
        }
    else:
        item = {"type": 2, "style": 1, "label": "forged", "custom_id": custom_id}
    data = {**message.data, "components": [{"type": 1, "components": [item]}]}
    return Sent(message.id, channel_id or message.channel_id, data)


async def forged_select(world: World, message: Sent, user: FakeUser, value: int) -> Result:
    custom_id = message.components[0]["components"][0]["custom_id"]
    data = {"custom_id": custom_id, "component_type": 3, "values": [str(value)]}
    return await world.discord.interact(world.discord._component_base(message, user, data))


def tables(world: World, *names: str) -> list[list[tuple]]:
    return [rows(world, f"SELECT * FROM {t}") for t in names]


AGREEMENT_TABLES = (
    "agreements",
    "agreement_acceptances",
    "agreement_feedback",
    "agreement_members",
    "agreement_versions",
)


@pytest.mark.parametrize("template", FORGED)
async def test_forged_agreement_components_do_nothing_harmful(world: World, other, template: str) -> None:
    """Custom ids forged with another agreement's id, by someone who is not on it, from here and elsewhere."""
    g2, eve = other
    agreement_id, post = await propose(world, world.alice, [world.bob])
    snapshot = tables(world, *AGREEMENT_TABLES)
    ids = [agreement_id, agreement_id + 1000, 10**17]
    for who, channel_id in ((world.carol, None), (world.mod, None), (eve, g2.channel("general"))):
        for forged_id in ids:
            custom_id = template.format(id=forged_id)
            if custom_id not in [c["custom_id"] for row in post.components for c in row["components"]]:
                plain = await world.discord.press(post, custom_id, who)
                assert not plain.callbacks, "discord.py dispatched a custom_id that is not on the message"
            r = await world.discord.press(carrying(post, custom_id, channel_id=channel_id), custom_id, who)
            assert r.response["type"] in (4, 9), (custom_id, r.response)
            if r.response["type"] == 4:
                assert r.ephemeral, r.response
            else:  # a note modal opens for anyone; submitting it must change nothing
                submitted = await world.discord.submit(r, who, note="forged")
                assert submitted.ephemeral, submitted.response
    assert tables(world, *AGREEMENT_TABLES) == snapshot


async def test_accept_forged_with_an_old_version_is_refused(world: World) -> None:
    agreement_id, post = await propose(world, world.alice, [world.bob])
    opened = await world.discord.slash("agreement edit", world.alice, agreement_id=agreement_id)
    await world.discord.submit(opened, world.alice, **{**TERMS, "fee": "£9,999"})
    stale = f"agreement:{agreement_id}:v1:accept"
    r = await world.discord.press(carrying(world.discord.messages[post.id], stale), stale, world.bob)
    assert r.ephemeral
    assert count(world, "SELECT count(*) FROM agreement_acceptances WHERE user_id = ?", world.bob.id) == 0
    assert rows(world, "SELECT state FROM agreements") == [("proposed",)]


async def test_buddy_select_forged_by_someone_else_proposes_nothing(world: World, other) -> None:
    _, eve = other
    submitted = await draft_agreement(world, world.alice)
    custom_id = submitted.message.find_component(BUDDY_SELECT)["custom_id"]
    agreement_id = int(custom_id.split(":")[1])
    for who in (world.bob, eve):
        r = await world.discord.select(submitted.message, BUDDY_SELECT, who, [world.carol])
        assert r.ephemeral, r.response
    assert rows(world, "SELECT state FROM agreements WHERE id = ?", agreement_id) == [("draft",)]
    assert count(world, "SELECT count(*) FROM agreement_members WHERE role = 'party'") == 0


NEED_TABLES = ("needs", "need_pings", "need_volunteers", "referrals")


@pytest.mark.parametrize("action", ["take", "decline", "close", "pick:0"])
async def test_forged_need_components_do_nothing_harmful(world: World, other, action: str) -> None:
    """Forged ids (this need, another guild's need, a missing one) from another guild and from a member
    of this guild who may not do it (take: the requester; decline: not pinged; close, pick: not the requester)."""
    g2, eve = other
    dan = world.discord.add_user("dan", world.guild)
    post = await _need_with_offerers(world)
    await world.discord.click(post, TAKE, world.bob)
    need_id = rows(world, "SELECT max(id) FROM needs")[0][0]
    elsewhere = insert_need(world, world.carol.id, guild_id=10**15)  # a need of another guild
    snapshot = tables(world, *NEED_TABLES)
    post = world.discord.messages[post.id]
    local = world.alice if action == "take" else dan
    attempts = [
        (eve, g2.channel("general"), need_id),
        (eve, g2.channel("general"), need_id + 1000),
        (local, None, need_id),
        (local, None, elsewhere),
        (local, None, need_id + 1000),
    ]
    for who, channel_id, forged_id in attempts:
        custom_id = f"need:{forged_id}:{action}"
        if action.startswith("pick"):
            message = carrying(post, custom_id, channel_id=channel_id, options=[world.bob.id])
            r = await forged_select(world, message, who, world.bob.id)
        else:
            r = await world.discord.press(carrying(post, custom_id, channel_id=channel_id), custom_id, who)
        case = (who.name, custom_id, "elsewhere" if channel_id else "here")
        assert r.response["type"] == 4 and r.ephemeral, (case, r.response)
        assert APOLOGY not in r.content, (case, r.content)
    assert tables(world, *NEED_TABLES) == snapshot


async def test_a_need_of_another_guild_is_invisible_and_untouchable(world: World, other) -> None:
    g2, eve = other
    post = await _need_with_offerers(world)
    need_id = rows(world, "SELECT max(id) FROM needs")[0][0]
    snapshot = tables(world, *NEED_TABLES)
    closing_it = await world.discord.slash("need close", eve, guild=g2, need_id=need_id)
    assert closing_it.ephemeral and "Closed" not in closing_it.content
    listed = await world.discord.slash("need list", eve, guild=g2)
    assert f"#{need_id}" not in listed.text()
    choices = await world.discord.autocomplete("need close", eve, "need_id", guild=g2, need_id=1)
    assert choices == []
    assert tables(world, *NEED_TABLES) == snapshot
    assert world.discord.messages[post.id].components, "the post lost its buttons"


async def test_forged_erase_button_erases_nobody_else(world: World, other) -> None:
    _, eve = other
    await world.discord.slash("profile set", world.alice, business="Alice's Books")
    confirm = await world.discord.slash("privacy delete", world.alice)
    custom_id = confirm.message.find_component("Erase my data")["custom_id"]
    for who in (world.bob, eve, world.mod):
        r = await world.discord.press(confirm.message, custom_id, who)
        assert r.ephemeral or r.response["type"] == 4, r.response
        assert "erased" not in r.text(), r.text()
    assert rows(world, "SELECT business FROM members WHERE user_id = ?", world.alice.id) == [
        ("Alice's Books",)
    ]


@pytest.mark.parametrize("fault", ["429", "500 always", "403", "timeout"])
async def test_command_sync_failing_at_start_does_not_stop_the_bot(
    tmp_path, no_backoff: None, fault: str
) -> None:
    """The one REST call made before any interaction: syncing the command tree on start."""
    from buddybot.testing.harness import FakeDiscord
    from buddybot.testing.world import FakeClock, make_bot

    discord = FakeDiscord()
    guild = discord.add_guild("Fresh Town")
    alice = discord.add_user("alice", guild)
    spec = FAULTS[fault]
    discord.session.faults.append(
        ExactFault(
            "PUT",
            "",
            spec["status"],
            {"message": "no", "code": 0, "retry_after": 0.01, "global": False},
            {"Via": "1.1 google"},
            spec.get("exception"),
            spec["times"],
            pattern=r"/applications/\d+/commands",
        )
    )
    bot = make_bot(tmp_path / "fresh.sqlite3", FakeClock())
    try:
        await discord.start(bot)
        r = await discord.slash("offer add", alice, skill="bookkeeping")
        assert r.content.startswith("Added"), r.response
    finally:
        await discord.close_bot()
