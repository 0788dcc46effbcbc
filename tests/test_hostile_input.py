"""Hostile input, property-based (hypothesis), over every free-text option and modal field.

Long, empty, unicode, RTL and zero-width characters, markdown, @everyone/@here, role and member
mentions of someone else, channel mentions, null bytes and control characters. For every example:
- the bot answers (no unhandled error: never the apology, never a traceback in anything it sends);
- every message body it sends carries allowed_mentions that never parse everyone, roles or users and
  name only people the flow means to ping (never the member whose mention was typed);
- nothing in its output is a raw @everyone/@here or a raw mention of that member or the role;
- a refusal is ephemeral and writes nothing;
- every body is one Discord would accept (OpenAPI validation of every recorded call).

Text is cut to the option's (or text input's) max_length, as Discord enforces it before the bot sees
anything. One world per test (a module-level event loop and bot: hypothesis examples run inside it),
about 40 examples per command to keep CI fast.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buddybot.testing.harness import FakeDiscord, FakeUser, Result
from buddybot.testing.openapi import DiscordSpec
from buddybot.testing.world import FakeClock, make_bot
from tests.helpers_hostile_input import (
    EXAMPLES,
    Arena,
    Case,
    answered,
    check_output,
    hostile,
    run_case,
)


@pytest.fixture(scope="module")
def arena(spec: DiscordSpec) -> Iterator[Arena]:
    loop = asyncio.new_event_loop()
    with tempfile.TemporaryDirectory() as tmp:
        discord = FakeDiscord(spec=spec)
        guild = discord.add_guild("Riverside Makers")
        people = [discord.add_user(n, guild) for n in ("alice", "bob", "carol")]
        mod = discord.add_user("maya", guild, moderator=True)
        victim = discord.add_user("victim", guild)
        path = Path(tmp) / "hostile.sqlite3"
        loop.run_until_complete(discord.start(make_bot(path, FakeClock())))
        a = Arena(loop, discord, guild, path, *people, mod, victim)
        for user in (a.bob, a.carol):
            a.run(discord.slash("offer add", user, skill="bookkeeping"))
        try:
            yield a
        finally:
            loop.run_until_complete(discord.close_bot())
            pending = asyncio.all_tasks(loop)  # modal and view timeouts still waiting
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()
        assert discord.spec_violations == [], "Discord would refuse: " + "\n".join(discord.spec_violations)

# -- the commands ---------------------------------------------------------------------------------------------------
def slash(
    name: str, option: str, *, who: str = "fresh", **fixed: Any
) -> Callable[..., Awaitable[list[Result]]]:
    async def act(arena: Arena, _context: Any, text: str) -> list[Result]:
        user = arena.fresh() if who == "fresh" else getattr(arena, who)
        values = {k: (v(arena) if callable(v) else v) for k, v in fixed.items()}
        return [
            await arena.discord.slash(
                name, user, **{**values, option: deliverable(arena, name, option, text)}
            )
        ]

    return act


def deliverable(arena: Arena, command: str, option: str, text: str) -> str:
    """Discord enforces an option's max_length before the bot sees it: cut to what it would deliver."""
    param = next(p for p in arena.discord._find_command(command).parameters if p.display_name == option)
    return text[: int(param.max_value)] if param.max_value else text  # max_length, for a string option


def starts(*prefixes: str) -> Callable[[list[Result]], bool]:
    return lambda results: results[-1].content.startswith(prefixes) or bool(results[-1].embeds)


def posted(results: list[Result]) -> bool:
    return bool(results[-1].posts)


TERMS = {"title": "Job", "scope": "Logo", "terms": "Payment: 30 days", "fee": "£100", "dates": "next week"}


async def _open_terms(arena: Arena) -> tuple[FakeUser, Result]:
    lead = arena.fresh()
    return lead, await arena.discord.slash("agreement new", lead, title="Job")


def agreement_field(field_name: str) -> Callable[..., Awaitable[list[Result]]]:
    async def act(arena: Arena, context: tuple[FakeUser, Result], text: str) -> list[Result]:
        lead, opened = context
        limits = {}
        for row in opened.response["data"]["components"]:
            item = row.get("component") or row["components"][0]
            limits[item["custom_id"]] = item.get("max_length") or 4000
        return [await arena.discord.submit(opened, lead, **{**TERMS, field_name: text[: limits[field_name]]})]

    return act


async def _draft(arena: Arena) -> tuple[FakeUser, int]:
    lead, opened = await _open_terms(arena)
    await arena.discord.submit(opened, lead, **TERMS)
    return lead, _max_id(arena, "agreements")


async def _cancel_reason(arena: Arena, context: tuple[FakeUser, int], text: str) -> list[Result]:
    lead, agreement_id = context
    return [await arena.discord.slash("agreement cancel", lead, agreement_id=agreement_id, reason=text)]


def _max_id(arena: Arena, table: str) -> int:
    with closing(sqlite3.connect(arena.db_path)) as conn:
        return conn.execute(f"SELECT max(id) FROM {table}").fetchone()[0]


async def _asked(arena: Arena) -> int:
    await arena.discord.slash("need ask", arena.fresh(), skill="bookkeeping", when="next week")
    return _max_id(arena, "needs")


async def _remove_reason(arena: Arena, need_id: int, text: str) -> list[Result]:
    return [await arena.discord.slash("mod remove-need", arena.mod, need_id=need_id, reason=text)]


def offerers(arena: Arena) -> set[int]:
    return {arena.bob.id, arena.carol.id}


CASES: dict[str, Case] = {
    "profile set business": Case(slash("profile set", "business"), starts("Saved")),
    "profile set area": Case(slash("profile set", "area", business="Shop"), starts("Saved")),
    "profile set website": Case(slash("profile set", "website", business="Shop"), starts("Saved")),
    "profile set about": Case(slash("profile set", "about", business="Shop"), starts("Saved")),
    "offer add skill": Case(slash("offer add", "skill"), starts("Added", "Updated")),
    "offer add details": Case(slash("offer add", "details", skill="bookkeeping"), starts("Added", "Updated")),
    "offer remove skill": Case(slash("offer remove", "skill"), starts("Removed")),
    "find skill": Case(slash("find", "skill"), lambda r: True),
    "find when": Case(slash("find", "when", skill="bookkeeping"), lambda r: True),
    "available when": Case(slash("available", "when"), starts("Noted")),
    "busy until": Case(slash("busy", "until"), starts("Noted")),
    "need ask skill": Case(slash("need ask", "skill", when="next week"), posted, offerers),
    "need ask when": Case(slash("need ask", "when", skill="bookkeeping"), posted, offerers),
    "need ask details": Case(
        slash("need ask", "details", skill="bookkeeping", when="next week"), posted, offerers
    ),
    "need ask area": Case(slash("need ask", "area", skill="bookkeeping", when="next week"), posted, offerers),
    "shoutout message": Case(
        slash("shoutout", "message", member=lambda a: a.bob), posted, lambda a: {a.bob.id}
    ),
    "agreement new title": Case(slash("agreement new", "title"), lambda r: True),
    **{
        f"agreement modal {f}": Case(
            agreement_field(f), lambda r: r[-1].content.startswith("Saved as draft"), prepare=_open_terms
        )
        for f in ("title", "scope", "terms", "fee", "dates")
    },
    "agreement cancel reason": Case(_cancel_reason, starts("Agreement"), prepare=_draft),
    "mod remove-need reason": Case(_remove_reason, lambda r: "is removed" in r[-1].content, prepare=_asked),
    "mod hide-member reason": Case(
        slash("mod hide-member", "reason", who="mod", member=lambda a: a.fresh()),
        lambda r: "hidden" in r[-1].content,
    ),
    "config set timezone": Case(slash("config set", "timezone", who="mod"), starts("Settings saved")),
    "stats period": Case(slash("stats", "period", who="mod"), lambda r: bool(r[-1].embeds)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_text_is_refused_or_made_inert(arena: Arena, name: str) -> None:
    case = CASES[name]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(text=hostile(arena))
    def prop(text: str) -> None:
        run_case(arena, name, case, text)

    prop()


# -- numbers and autocomplete -------------------------------------------------------------------------------------
NUMBERS = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1), st.sampled_from([0, -1, 1, 2**53, 2**63 - 1])
)
NUMBER_CASES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "agreement view agreement_id": ("agreement view", "agreement_id", {}),
    "agreement edit agreement_id": ("agreement edit", "agreement_id", {}),
    "agreement complete agreement_id": ("agreement complete", "agreement_id", {}),
    "agreement cancel agreement_id": ("agreement cancel", "agreement_id", {}),
    "need close need_id": ("need close", "need_id", {}),
    "mod remove-need need_id": ("mod remove-need", "need_id", {"reason": "spam"}),
    "available slots": ("available", "slots", {"when": "next week"}),
    "config set max_pings": ("config set", "max_pings", {}),
    "config set daily_need_limit": ("config set", "daily_need_limit", {}),
}


@pytest.mark.parametrize("name", sorted(NUMBER_CASES))
def test_out_of_range_numbers_get_a_clear_answer(arena: Arena, name: str) -> None:
    """Discord enforces min/max in its client; a forged payload must still get an answer, never an error."""
    command, option, fixed = NUMBER_CASES[name]
    who = arena.mod if command.startswith(("mod", "config")) else arena.alice

    @settings(
        max_examples=15,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(number=NUMBERS)
    def prop(number: int) -> None:
        label = f"{name} {number}"
        first = len(arena.discord.calls)
        result = arena.run(arena.discord.slash(command, who, **{**fixed, option: number}))
        answered(result, label)
        check_output(arena, arena.discord.calls[first:], set(), label)
        arena.discord.forget()

    prop()


AUTOCOMPLETE = [
    ("offer add", "skill", {}),
    ("offer remove", "skill", {}),
    ("find", "skill", {}),
    ("need ask", "skill", {"when": "next week"}),
    ("need close", "need_id", {}),
    ("agreement view", "agreement_id", {}),
]


@pytest.mark.parametrize(
    ("command", "option", "fixed"), AUTOCOMPLETE, ids=[f"{c} {o}" for c, o, _ in AUTOCOMPLETE]
)
def test_autocomplete_with_hostile_text_answers_valid_choices(
    arena: Arena, command: str, option: str, fixed: dict[str, Any]
) -> None:
    @settings(
        max_examples=20,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(text=hostile(arena))
    def prop(text: str) -> None:
        payload = arena.discord.command_payload(
            command, arena.alice, guild=arena.guild, focused=option, **{**fixed, option: text}
        )
        result = arena.run(arena.discord.interact(payload))
        assert result.callbacks and result.callbacks[0].status == 200, (
            f"{command} {text[:40]!r}: not answered"
        )
        choices = result.choices()
        assert len(choices) <= 25 and all(1 <= len(c["name"]) <= 100 for c in choices), choices
        arena.discord.forget()

    prop()


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab _\\~|*`>[]()#-@!&0123456789:/.\n <é😀")), max_size=40) | st.text(max_size=40))
def test_safe_skips_the_escapes_only_for_text_they_would_leave_alone(text: str) -> None:
    """cogs.common.safe's fast path (no markup character: return the text) equals the full escapes."""
    import discord

    from cogs.common import safe

    assert safe(text) == (discord.utils.escape_mentions(discord.utils.escape_markdown(text)) if text else "")
