"""/stats' chart: completed weeks, drawn once and cached; the week in progress is in its text."""

from __future__ import annotations

import pytest

from tests.conftest import World

pytestmark = pytest.mark.usefixtures("no_first_answer_window")


async def test_the_chart_draws_completed_weeks_so_a_new_request_needs_no_new_drawing(world: World) -> None:
    """A request this week changes the chart's text, not its PNG; once the week is over it is drawn."""
    await world.discord.slash("offer add", world.bob, skill="plumbing")
    await world.discord.slash("need ask", world.alice, skill="plumbing", when="next week")
    first = (await world.discord.slash("stats", world.mod)).followups[0]
    await world.discord.slash("need ask", world.alice, skill="plumbing", when="next month")
    second = (await world.discord.slash("stats", world.mod)).followups[0]
    assert first.files[0][1] == second.files[0][1]
    texts = [f.json["embeds"][0]["description"] for f in (first, second)]
    assert "1 posted · 0 filled" in texts[0] and "2 posted · 0 filled" in texts[1]
    world.clock.advance(days=7)  # that week is complete: now it is drawn, and the new week starts at 0
    third = (await world.discord.slash("stats", world.mod)).followups[0]
    assert third.files[0][1] != second.files[0][1]
    assert "0 posted · 0 filled" in third.json["embeds"][0]["description"]


@pytest.mark.sqlite_only("counts the statements on the bot's own SQLite connection")
async def test_stats_reads_its_figures_in_a_dozen_statements(world: World) -> None:
    """Every counter in one statement, every top list and histogram in one UNION ALL: on PostgreSQL each
    statement is a network round trip (it was 22)."""
    statements: list[str] = []
    world.db._conn._conn.set_trace_callback(statements.append)
    r = await world.discord.slash("stats", world.mod, period="month")
    world.db._conn._conn.set_trace_callback(None)
    assert "Network health" in r.text()
    body = [s for s in statements if s.strip().upper() not in ("BEGIN", "COMMIT")]
    assert len(body) <= 12, body
