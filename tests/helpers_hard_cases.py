"""Shared helpers for the hard_cases tests (split out of test_hard_cases.py)."""

from __future__ import annotations

import sqlite3

from buddybot.testing.harness import Result, Sent
from tests.conftest import World
from tests.helpers_guards import (
    ask,
    need_post,
    offerers,
    rows,
)

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


async def _need_with_offerers(world: World, **options: str) -> Sent:
    await offerers(world, world.bob, world.carol)
    return need_post(world, await ask(world, world.alice, **options))

def _ping_counters_match(w: World) -> None:
    wrong = rows(
        w,
        """SELECT * FROM (SELECT o.user_id, o.pings_30d, (SELECT count(*) FROM need_pings p WHERE p.guild_id = o.guild_id
                       AND p.user_id = o.user_id AND p.counted = 1) AS pings FROM offers o) AS c WHERE pings_30d <> pings""",
    )
    assert not wrong, f"fairness counters disagree with the pings recorded: {wrong}"

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
