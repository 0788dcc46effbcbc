"""Issue 11: defects found by trying the bot as members would. Each test failed before its fix.

1. An erased member stayed on live posts (`<@-1>` in the volunteer list, "a former member" in the menu).
2. Disguised names: bidi overrides and invisible characters were stored and shown.
3. A quick benchmark overwrote the recorded full results (tests/test_bench_files.py).
4. Slow leaks: the post editor's per-request maps and unused agreement drafts grew forever.
"""

from __future__ import annotations

import pytest

from buddybot.testing.rest import PLACEHOLDER_MENTION
from tests.conftest import World
from tests.test_agreements import agreed
from tests.test_referrals import PICK, TAKE, ask, offerer, said

pytestmark = pytest.mark.usefixtures("no_first_answer_window")  # the window: test_lifecycle.py

RLO_NAME = "\u202eSTUC YKCUL"  # reads as "LUCKY CUTS"


def rows(world: World, query: str, *params: object) -> list[tuple]:
    with world.connect() as conn:
        return conn.execute(query, params).fetchall()


async def erase(world: World, user) -> None:
    ask_ = await world.discord.slash("privacy delete", user)
    done = await world.discord.click(ask_.message, "Erase my data", user)
    assert "erased" in done.data["content"], done.data


def no_placeholder_mentions(world: World) -> None:
    for call in world.discord.calls:
        assert not PLACEHOLDER_MENTION.search(str(call.json)), (call.route, call.json)


# -- 1. an erased member leaves live posts ---------------------------------------------------------------
async def test_an_erased_volunteer_leaves_open_posts_and_menus(world: World) -> None:
    d = world.discord
    _, post = await ask(world)
    await d.click(post, TAKE, world.carol)
    await d.click(post, TAKE, world.bob)
    assert "Volunteers (2)" in post.text()

    edits_before = len([c for c in d.calls if c.method == "PATCH" and str(post.id) in c.path])
    await erase(world, world.carol)
    # The post was redrawn without her: the count says so, and the menu offers only Bob.
    edits = [c for c in d.calls if c.method == "PATCH" and str(post.id) in c.path]
    assert len(edits) == edits_before + 1
    assert "Volunteers (1)" in post.text() and f"<@{world.bob.id}>" in post.text()
    assert f"<@{world.carol.id}>" not in post.text() and "former member" not in post.text()
    menu = post.find_component(PICK)
    assert [o["value"] for o in menu["options"]] == [str(world.bob.id)]
    assert rows(world, "SELECT user_id FROM need_volunteers") == [(world.bob.id,)]

    # Another member volunteers after: still no placeholder anywhere; the requester can pick Bob.
    dan = d.add_user("dan", world.guild)
    await d.click(post, TAKE, dan)
    assert "Volunteers (2)" in post.text()
    assert [o["value"] for o in post.find_component(PICK)["options"]] == [str(world.bob.id), str(dan.id)]
    (placeholder,) = rows(world, "SELECT -id FROM erasures")[0]
    forged = await d.select(post, PICK, world.alice, [placeholder])
    assert "hasn't volunteered" in said(forged) or "pick one of the volunteers" in said(forged)
    assert rows(world, "SELECT count(*) FROM referrals") == [(0,)]
    picked = await d.select(post, PICK, world.alice, [world.bob.id])
    assert f"<@{world.bob.id}>" in said(picked)
    no_placeholder_mentions(world)


async def test_an_erased_requester_of_a_filled_request_is_never_mentioned(world: World) -> None:
    d = world.discord
    _, post = await ask(world)
    await d.click(post, TAKE, world.carol)
    await d.select(post, PICK, world.alice, [world.carol.id])
    await erase(world, world.alice)
    (placeholder,) = rows(world, "SELECT -id FROM erasures")[0]
    assert rows(world, "SELECT from_id FROM referrals") == [(placeholder,)]  # the count is kept
    # A moderator removes the filled request: the redrawn post names nobody by placeholder.
    need_id = rows(world, "SELECT id FROM needs")[0][0]
    await d.slash("mod remove-need", world.mod, need_id=need_id, reason="spam")
    assert "Removed" in post.text() and "a former member" in post.text()
    no_placeholder_mentions(world)


async def test_agreement_posts_and_exports_never_mention_a_placeholder(world: World) -> None:
    d = world.discord
    agreement_id, post = await agreed(world, world.alice, [world.bob, world.carol])
    await erase(world, world.carol)
    view = await d.slash("agreement view", world.bob, agreement_id=agreement_id)
    assert "a former member" in view.text()
    exported = await d.slash("agreement view", world.bob, agreement_id=agreement_id, export=True)
    files = [blob for c in exported.calls for name, blob in c.files if name.endswith(".md")]
    assert files and b"a former member" in files[0]
    await d.slash("agreement complete", world.alice, agreement_id=agreement_id)
    await d.click(post.id, "Yes", world.bob) if "Yes" in post.labels() else None
    no_placeholder_mentions(world)


async def test_stats_never_mention_a_placeholder(world: World) -> None:
    d = world.discord
    _, post = await ask(world)
    await d.click(post, TAKE, world.carol)
    await d.select(post, PICK, world.alice, [world.carol.id])
    await erase(world, world.alice)
    r = await d.slash("stats", world.mod)
    assert "former member" in r.text() or r.followups
    no_placeholder_mentions(world)


# -- 2. disguised names ----------------------------------------------------------------------------------
HIDDEN = [
    ("\u202a", "U+202A"), ("\u202b", "U+202B"), ("\u202c", "U+202C"), ("\u202d", "U+202D"), ("\u202e", "U+202E"),
    ("\u2066", "U+2066"), ("\u2067", "U+2067"), ("\u2068", "U+2068"), ("\u2069", "U+2069"),
    ("\u200b", "U+200B"), ("\u200c", "U+200C"), ("\u200d", "U+200D"), ("\u200e", "U+200E"), ("\u200f", "U+200F"),
    ("\u2060", "U+2060"), ("\ufeff", "U+FEFF"), ("\u061c", "U+061C"), ("\u00ad", "U+00AD"),
]  # fmt: skip


async def test_a_reversed_business_name_is_refused_and_nothing_stored(world: World) -> None:
    r = await world.discord.slash("profile set", world.alice, business=RLO_NAME)
    assert r.ephemeral and "U+202E" in r.content and "invisible or direction-changing" in r.content
    assert rows(world, "SELECT count(*) FROM members WHERE business IS NOT NULL") == [(0,)]


@pytest.mark.parametrize(("char", "code"), HIDDEN)
async def test_hidden_characters_are_refused_in_every_free_text_field(
    world: World, char: str, code: str
) -> None:
    d = world.discord
    await d.slash("profile set", world.bob, business="Bob Books")
    cases = [
        ("profile set", {"business": f"Lucky{char} Cuts"}),
        ("profile set", {"business": "Alice Accounts", "area": f"River{char}side"}),
        ("profile set", {"business": "Alice Accounts", "about": f"We{char} cut hair"}),
        ("offer add", {"skill": "bookkeeping", "details": f"year{char}-end"}),
        ("need ask", {"skill": "bookkeeping", "when": "next week", "details": f"a{char} cafe"}),
        ("need ask", {"skill": "bookkeeping", "when": "next week", "area": f"Old{char} Town"}),
        ("shoutout", {"member": world.bob, "message": f"Great{char} work"}),
    ]
    for command, options in cases:
        r = await d.slash(command, world.alice, **options)
        assert r.ephemeral and code in r.content, (command, options, r.content)
    assert rows(world, "SELECT count(*) FROM needs") == [(0,)]
    assert rows(world, "SELECT count(*) FROM shoutouts") == [(0,)]
    assert rows(world, "SELECT count(*) FROM members WHERE user_id = ?", world.alice.id) == [(0,)]


async def test_hidden_characters_are_refused_in_agreement_terms_and_notes(world: World) -> None:
    d = world.discord
    opened = await d.slash("agreement new", world.alice, title="Fit-out")
    r = await d.submit(opened, world.alice, title="Fit\u2066out", scope="Shelves", terms="Paid", fee="£5",
                       dates="1-5 dec")  # fmt: skip
    assert "U+2066" in r.content
    r = await d.submit(opened, world.alice, title="Fit-out", scope="Shelves", terms="Pa\u200bid", fee="£5",
                       dates="1-5 dec")  # fmt: skip
    assert "U+200B" in r.content
    assert rows(world, "SELECT count(*) FROM agreements") == [(0,)]


@pytest.mark.parametrize(
    "name",
    ["Family Cuts 👨\u200d👩\u200d👧", "Pride Print 🏳️\u200d🌈", "Hot Bakes ❤️\u200d🔥", "Dev 👩🏽\u200d💻",
     "Scotland Tours 🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"],
)  # fmt: skip
async def test_emoji_sequences_that_need_a_joiner_still_work(world: World, name: str) -> None:
    r = await world.discord.slash("profile set", world.alice, business=name)
    assert "Saved" in r.content, r.content
    assert rows(world, "SELECT business FROM members WHERE user_id = ?", world.alice.id) == [(name,)]


async def test_a_business_name_another_member_uses_is_refused(world: World) -> None:
    d = world.discord
    await d.slash("profile set", world.bob, business="Lucky Cuts")
    for twin in ("lucky cuts", "  LUCKY   CUTS ", "Ｌｕｃｋｙ Cuts"):
        r = await d.slash("profile set", world.alice, business=twin)
        assert r.ephemeral and "already uses the business name" in r.content, (twin, r.content)
    assert rows(world, "SELECT count(*) FROM members WHERE user_id = ?", world.alice.id) == [(0,)]
    # Bob may re-save his own name (any case); Alice can use a different one; another server is separate.
    assert "Saved" in (await d.slash("profile set", world.bob, business="LUCKY CUTS")).content
    assert "Saved" in (await d.slash("profile set", world.alice, business="Lucky Cuts Riverside")).content
    # An erased member's name is free again.
    await erase(world, world.bob)
    assert "Saved" in (await d.slash("profile set", world.carol, business="Lucky Cuts")).content


# -- 4. slow leaks ---------------------------------------------------------------------------------------
async def test_the_post_editor_forgets_requests_once_they_end(world: World, monkeypatch) -> None:
    from cogs import _referral_views

    monkeypatch.setattr(_referral_views, "ENDED_REMEMBERED", 5)
    editor = world.bot.get_cog("Referrals").editor
    d = world.discord
    await offerer(world, world.bob, "Bob Books")
    with world.connect() as conn:
        conn.execute("INSERT INTO guild_config (guild_id, daily_need_limit) VALUES (?, 1000) "
                     "ON CONFLICT (guild_id) DO UPDATE SET daily_need_limit = 1000", (world.guild.id,))  # fmt: skip
    for i in range(30):
        _, post = await ask(world)
        await d.click(post, TAKE, world.bob)
        await d.click(post, TAKE, world.carol)
        if i % 2:
            await d.select(post, PICK, world.alice, [world.bob.id])
        else:
            await d.click(post, "Close", world.alice)
    assert editor.tracked() <= 5, editor.tracked()
    assert not editor._inflight and not editor._newest and not editor._tasks


async def test_a_late_redraw_never_reopens_an_ended_post(world: World) -> None:
    editor = world.bot.get_cog("Referrals").editor
    d = world.discord
    _, post = await ask(world)
    take = await d.click(post, TAKE, world.bob)
    assert take
    from buddybot import referrals

    need_id = rows(world, "SELECT id FROM needs")[0][0]
    stale = await world.db.read(referrals.need_state, need_id)
    await d.click(post, "Close", world.alice)
    await editor.show(stale)  # a redraw computed before the close arrives after it
    assert "Closed" in post.text() and post.components == []


async def test_unused_agreement_drafts_are_pruned_after_a_day(world: World) -> None:
    d = world.discord
    opened = await d.slash("agreement new", world.alice, title="Fit-out")
    await d.submit(
        opened, world.alice, title="Fit-out", scope="Shelves", terms="Paid", fee="£5", dates="1-5 dec"
    )
    opened = await d.slash("agreement new", world.bob, title="Sign")
    submitted = await d.submit(
        opened, world.bob, title="Sign", scope="Sign", terms="Paid", fee="£5", dates="1-5 dec"
    )
    await d.select(submitted.message, "Pick your buddies (1–21)", world.bob, [world.carol])  # proposed
    assert rows(world, "SELECT state FROM agreements ORDER BY id") == [("draft",), ("proposed",)]
    scheduler = world.bot.get_cog("Scheduler")
    world.clock.advance(hours=23)
    await scheduler.run_due()
    assert rows(world, "SELECT count(*) FROM agreements") == [(2,)]
    world.clock.advance(hours=2)
    await scheduler.run_due()
    assert rows(world, "SELECT state FROM agreements") == [("proposed",)]  # only the unused draft went
    assert rows(world, "SELECT count(*) FROM agreement_versions") == [(1,)]
    assert rows(world, "SELECT count(*) FROM agreement_members") == [(2,)]


async def test_display_names_lose_their_hidden_characters_in_menus_and_records(world: World) -> None:
    d = world.discord
    sly = d.add_user("\u202eNAD", world.guild)  # a Discord display name that reads backwards
    _, post = await ask(world)
    await d.click(post, TAKE, sly)
    assert rows(world, "SELECT name FROM need_volunteers") == [("Nad",)]
    (option,) = post.find_component(PICK)["options"]
    assert "\u202e" not in option["label"]
    await agreed(world, world.alice, [sly])
    assert rows(world, "SELECT name FROM agreement_members WHERE user_id = ?", sly.id) == [("Nad",)]
