"""The round-trip guards' scenarios (split out of tests/test_guards.py): one per interaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from buddybot.testing.harness import Result
from tests.conftest import World
from tests.helpers_guards import (
    BUDDY_SELECT,
    CLOSE,
    DECLINE,
    PICK,
    TAKE,
    TERMS,
    agreed,
    ask,
    insert_need,
    need_post,
    offerers,
    ok,
    posted,
    propose,
    rows,
)

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
