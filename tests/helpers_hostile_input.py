"""Shared helpers for the hostile_input tests (split out of test_hostile_input.py)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from buddybot.testing.harness import FakeDiscord, FakeGuild, FakeUser, Result
from buddybot.testing.transport import RestCall

EXAMPLES = 40
APOLOGY = "Sorry, something went wrong on our side"
OWN_WORDS = (
    "such as @everyone, @here"  # the bot's own explanation when it refuses a mention (buddybot/text.py)
)
COUNTED = (
    "members",
    "offers",
    "availability",
    "needs",
    "need_pings",
    "need_volunteers",
    "shoutouts",
    "agreements",
    "agreement_versions",
    "mod_audit",
    "guild_config",
)


@dataclass
class Arena:
    """The one world of this module: a real bot on FakeDiscord (with OpenAPI validation)."""

    loop: asyncio.AbstractEventLoop
    discord: FakeDiscord
    guild: FakeGuild
    db_path: Path
    alice: FakeUser
    bob: FakeUser
    carol: FakeUser
    mod: FakeUser
    victim: FakeUser  # a member whose mention hostile text carries; nobody means to ping them
    users: Iterator[int] = field(default_factory=lambda: iter(range(10**6)))

    def run(self, coro: Awaitable[Any]) -> Any:
        return self.loop.run_until_complete(coro)

    def fresh(self) -> FakeUser:
        return self.discord.add_user(f"member{next(self.users)}", self.guild)

    def counts(self) -> dict[str, int]:
        with closing(sqlite3.connect(self.db_path)) as conn:
            return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in COUNTED}



# -- what hostile text looks like ---------------------------------------------------------------------------
def pieces(victim: int, role: int, channel: int) -> st.SearchStrategy[str]:
    return st.sampled_from(
        [
            "@everyone",
            "@here",
            "@ everyone",
            "＠everyone",
            f"<@&{role}>",
            f"<@{victim}>",
            f"<@!{victim}>",
            f"<#{channel}>",
            "**bold**",
            "__under__",
            "~~strike~~",
            "`code`",
            "```py\nx\n```",
            "> quote",
            "||spoiler||",
            "# Heading",
            "-# small",
            "[link](https://evil.example)",
            "https://evil.example/@everyone",
            "\u202e",
            "\u200f",
            "\u200b",
            "\u200d",
            "\ufeff",
            "\u2066",
            "\x00",
            "\x07",
            "\x1b[31m",
            "\n",
            "\r\n",
            "\t",
            "ﷺ",
            "🧑\u200d🔧",
            "Ω",
            "𝕳𝖊𝖑𝖑𝖔",
            "é",
            "e\u0301",
            "ｆｕｌｌ",
            "bookkeeping",
            "web dev",
            "next week",
            "1-5 dec",
            "-",
            "   ",
            "a" * 120,
        ]
    )


def hostile(arena: Arena) -> st.SearchStrategy[str]:
    base = pieces(arena.victim.id, arena.guild.roles["moderator"], arena.guild.channel("referrals"))
    return st.one_of(
        st.lists(st.one_of(base, st.text(max_size=12)), min_size=1, max_size=8).map("".join),
        st.text(min_size=0, max_size=80),
        # long: a hostile piece repeated past every limit (generating 4,000 random characters is slow)
        st.builds(lambda piece, tail, n: (piece + tail) * n, base, st.text(max_size=8), st.integers(30, 400)),
        base,
    )


# -- checking everything the bot sent -------------------------------------------------------------------------
def _bodies(call: RestCall) -> list[dict[str, Any]]:
    """The message bodies of a call: what creates or edits something people read."""
    body = call.json
    if not isinstance(body, dict):
        return []
    if call.path.endswith("/callback"):
        return [body["data"]] if body.get("type") in (4, 7) and body.get("data") else []
    if call.method in ("POST", "PATCH") and ("/messages" in call.path or call.path.startswith("/webhooks/")):
        return [body]
    return []


def check_output(arena: Arena, calls: list[RestCall], may_ping: set[int], case: str) -> None:
    forbidden = [
        "@everyone",
        "@here",
        f"<@&{arena.guild.roles['moderator']}>",
        f"<@{arena.victim.id}>",
        f"<@!{arena.victim.id}>",
    ]
    for call in calls:
        raw = json.dumps(call.json, ensure_ascii=False) if call.json is not None else ""
        assert "Traceback" not in raw and 'File "/' not in raw, f"{case}: traceback sent in {call.route}"
        for data in _bodies(call):
            if not (data.get("content") or data.get("embeds")):
                continue
            allowed = data.get("allowed_mentions")
            assert allowed is not None, f"{case}: {call.route} sent text without allowed_mentions"
            assert not set(allowed.get("parse", [])), f"{case}: {call.route} parses {allowed['parse']}"
            assert not allowed.get("roles"), f"{case}: {call.route} allows roles {allowed['roles']}"
            users = {int(u) for u in allowed.get("users", [])}
            assert users <= may_ping, f"{case}: {call.route} may ping {users - may_ping}"
            text = (data.get("content") or "") + json.dumps(data.get("embeds") or [], ensure_ascii=False)
            text = text.replace(OWN_WORDS, "")
            leaked = [f for f in forbidden if f in text]
            assert not leaked, f"{case}: {call.route} shows raw {leaked}: {text[:300]!r}"


def answered(result: Result, case: str) -> None:
    assert result.callbacks and result.callbacks[0].status == 200, f"{case}: not answered"
    assert APOLOGY not in result.text() and all(APOLOGY not in str(c.json) for c in result.calls), (
        f"{case}: an unexpected error (apology) for {result.calls[0].json}"
    )


@dataclass
class Case:
    """One command with hostile text in one option: run it, say whether it was accepted, whom it may ping.

    `prepare` makes what the command acts on (not checked against the counts); `act` is the hostile step.
    """

    act: Callable[[Arena, Any, str], Awaitable[list[Result]]]
    accepted: Callable[[list[Result]], bool]
    may_ping: Callable[[Arena], set[int]] = lambda arena: set()
    prepare: Callable[[Arena], Awaitable[Any]] | None = None


def run_case(arena: Arena, name: str, case: Case, text: str) -> None:
    label = f"{name} {text[:60]!r}"
    context = arena.run(case.prepare(arena)) if case.prepare else None
    before = arena.counts()
    first = len(arena.discord.calls)
    results = arena.run(case.act(arena, context, text))
    for result in results:
        answered(result, label)
    check_output(arena, arena.discord.calls[first:], case.may_ping(arena), label)
    if not case.accepted(results):
        last = results[-1]
        assert last.ephemeral, f"{label}: a refusal must be private: {last.response}"
        assert arena.counts() == before, f"{label}: refused but wrote {arena.counts()} (was {before})"
    arena.discord.forget()
