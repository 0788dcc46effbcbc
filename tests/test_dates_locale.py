"""Numeric dates through the real commands: read in /config locale, else Discord's guild_locale, else en-GB."""

from __future__ import annotations

from tests.conftest import World
from tests.test_groupbuys import start
from tests.test_sharing import share_add


def need_window(world: World) -> tuple[str, str]:
    with world.connect() as conn:
        return conn.execute("SELECT start_date, end_date FROM needs ORDER BY id DESC LIMIT 1").fetchone()


async def test_the_interaction_carries_the_guild_locale(world: World) -> None:
    world.guild.locale = "en-US"
    payload = world.discord.command_payload("help", world.alice, guild=world.guild)
    assert payload["guild_locale"] == "en-US"


async def test_an_american_server_reads_month_first(world: World) -> None:
    world.guild.locale = "en-US"
    r = await world.discord.slash("need ask", world.alice, skill="bookkeeping", when="12/20 - 12/22")
    assert "something went wrong" not in r.text()
    assert need_window(world) == ("2026-12-20", "2026-12-22")


async def test_a_british_server_reads_day_first_and_explains_a_month_first_date(world: World) -> None:
    r = await world.discord.slash("available", world.alice, when="20/12")
    assert "Sun 20 Dec 2026" in r.content
    r = await world.discord.slash("busy", world.alice, until="12/20")
    assert r.ephemeral and "reads numeric dates as day/month, language en-GB" in r.content


async def test_the_config_locale_wins_over_discords(world: World) -> None:
    world.guild.locale = "en-US"
    await world.discord.slash("config set", world.mod, locale="en-GB")
    r = await world.discord.slash("find", world.alice, skill="bookkeeping", when="12/20")
    assert "day/month, language en-GB" in r.content
    await world.discord.slash("config reset", world.mod, setting="locale")
    r = await world.discord.slash("need ask", world.alice, skill="bookkeeping", when="12/20")
    assert need_window(world) == ("2026-12-20", "2026-12-20")


async def test_agreement_dates_use_the_locale_too(world: World) -> None:
    world.guild.locale = "en-US"
    opened = await world.discord.slash("agreement new", world.alice, title="Bakery website")
    fields = {
        "title": "Bakery website",
        "scope": "Five pages",
        "terms": "Alice invoices. Split 50/50. Cancel with 7 days' notice.",
        "fee": "£1,000",
        "dates": "12/1 - 12/12",
    }
    await world.discord.submit(opened, world.alice, **fields)
    with world.connect() as conn:
        row = conn.execute("SELECT start_date, end_date FROM agreement_versions").fetchone()
    assert row == ("2026-12-01", "2026-12-12")


async def test_borrow_dates_use_the_locale_too(world: World) -> None:
    world.guild.locale = "en-US"
    await share_add(world, world.alice, "ladder")
    with world.connect() as conn:
        (item_id,) = conn.execute("SELECT max(id) FROM shared_items").fetchone()
    r = await world.discord.slash("borrow", world.bob, item=str(item_id), when="12/20")
    assert "something went wrong" not in r.text()
    with world.connect() as conn:
        assert conn.execute("SELECT start_on FROM loans").fetchall() == [("2026-12-20",)]


async def test_group_buy_deadlines_use_the_locale_too(world: World) -> None:
    world.guild.locale = "en-US"
    await start(world, world.alice, deadline="12/4")  # 4 December, 20:00 London time
    with world.connect() as conn:
        assert conn.execute("SELECT deadline_at FROM group_buys").fetchall() == [
            ("2026-12-04T20:00:00+00:00",)
        ]
