"""Hard cases: races, Discord faults on every REST call the bot makes, isolation and forged components.

Races run through `asyncio.gather` of harness actions: every gateway frame is fed before any handler
runs (nothing in between awaits), so the handlers really overlap on the one database connection.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from buddybot.testing.harness import FakeUser, Result, Sent
from buddybot.testing.transport import Fault
from tests.conftest import World
from tests.helpers_guards import (
    BUDDY_SELECT,
    CLOSE,
    DECLINE,
    PICK,
    TAKE,
    agreed,
    ask,
    draft_agreement,
    insert_need,
    need_post,
    offerers,
    posted,
    rows,
)
from tests.helpers_hard_cases import (
    APOLOGY,
    _ping_counters_match,
    answered,
    integrity_ok,
)

pytestmark = pytest.mark.usefixtures("no_first_answer_window")  # the window: test_lifecycle.py


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
