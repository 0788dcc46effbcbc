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
from collections.abc import Awaitable

import pytest
from discord import app_commands

from buddybot.testing.harness import Result
from tests.conftest import World
from tests.helpers_guard_scenarios import SCENARIOS
from tests.helpers_guards import (
    MAX_ROUND_TRIPS,
    ask,
    offerers,
)

pytestmark = pytest.mark.usefixtures("no_first_answer_window")  # the window: test_lifecycle.py


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
    assert not missing, f"add a round-trip scenario to tests/helpers_guard_scenarios.py for: {sorted(missing)}"


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
