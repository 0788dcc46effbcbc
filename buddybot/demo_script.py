"""The demo's story, step by step. Each step is one member's real interaction."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from buddybot.testing.harness import FakeDiscord, FakeGuild, FakeUser, Sent

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

if TYPE_CHECKING:
    from buddybot.testing.world import FakeClock
    from buddybot.transcript import Transcript


async def play(
    discord: FakeDiscord, guild: FakeGuild, m: dict[str, FakeUser], t: Transcript, clock: FakeClock
) -> None:
    async def slash(who: str, command: str, **options: object) -> object:
        shown = " ".join(f"{k}:{v.name if isinstance(v, FakeUser) else v}" for k, v in options.items())
        t.action(m[who], f"/{command} {shown}".rstrip())
        result = await discord.slash(command, m[who], **options)
        t.result(m[who], result)
        return result

    t.heading("Riverside Makers invites BuddyBot")
    for call in await discord.invite_bot(guild):
        if call.method == "POST" and call.path.endswith("/messages"):
            t.post(Sent(0, int(call.path.split("/")[2]), call.json))

    t.heading("Alice asks what it can do")
    await slash("alice", "help")
    t.action(m["alice"], "/help command:need ask")
    t.result(m["alice"], await discord.slash("help", m["alice"], command="need ask"))

    t.heading("Members set up their profiles and skills")
    await slash(
        "alice",
        "profile set",
        business="Alice's Salon",
        area="Riverside",
        about="Cuts and colour, by appointment",
    )
    await slash("alice", "offer add", skill="hairdressing")
    await slash("bob", "profile set", business="Bob's Barbers", area="Riverside")
    await slash("bob", "offer add", skill="hair", details="Walk-ins welcome")
    await slash("bob", "available", when="this week", slots=3)
    await slash("carol", "profile set", business="Carol Creative", area="Old Town")
    await slash("carol", "offer add", skill="Graphic designer")
    await slash("carol", "offer add", skill="hairdressing", details="Weddings and events")
    await slash("dev", "profile set", business="Dev Builds Websites", area="Riverside")
    await slash("dev", "offer add", skill="web dev")
    await slash("erin", "profile set", business="Erin Copy", area="Old Town")
    await slash("erin", "offer add", skill="copywriting")
    await slash("erin", "busy", until="end of the month")

    t.heading("Browsing the directory")
    await slash("dev", "find", skill="hairdressing", when="this week")
    await slash("alice", "profile view", member=m["bob"])

    await _referral(discord, guild, m, t)
    await _agreement(discord, m, t, clock)
    await _sharing(discord, guild, m, t)
    await _group_buy(discord, m, t, clock)
    await _wrap_up(discord, m, t)


async def _referral(discord: FakeDiscord, guild: FakeGuild, m: dict[str, FakeUser], t: Transcript) -> None:
    t.heading("Maya points referrals at #referrals")
    t.action(m["maya"], "/config set referrals_channel:#referrals max_pings:3")
    r = await discord.slash(
        "config set", m["maya"], referrals_channel=guild.channel("referrals"), max_pings=3
    )
    t.result(m["maya"], r)
    t.action(m["maya"], "/config check")
    t.result(m["maya"], await discord.slash("config check", m["maya"]))

    t.heading("Alice is fully booked and asks who can take a client")
    t.action(
        m["alice"],
        "/need ask skill:hairdressing when:this week area:Riverside details:Bridal trial, Saturday",
    )
    r = await discord.slash(
        "need ask",
        m["alice"],
        skill="hairdressing",
        when="this week",
        area="Riverside",
        details="Bridal trial, Saturday morning",
    )
    t.result(m["alice"], r)
    post = _latest_with(discord, "I can take it")
    for who in ("bob", "carol"):
        await click(discord, t, post, "I can take it", m[who])
    t.action(m["dev"], "presses [Pick a volunteer] on alice's request")
    t.result(m["dev"], await discord.select(post, "Pick a volunteer", m["dev"], [str(m["bob"].id)]))
    t.action(m["alice"], "picks bob in [Pick a volunteer]")
    before = discord.messages[post.id].text()
    t.result(
        m["alice"],
        await discord.select(post, "Pick a volunteer", m["alice"], [str(m["bob"].id)]),
        before=before,
    )

    t.heading("Bob won the work: he reports it, and Alice is told in the request's thread")
    confirmation = _latest_with(discord, "Won it")
    t.action(m["bob"], "presses [Won it] under the pick confirmation")
    opened = await discord.click(confirmation, "Won it", m["bob"])
    t.result(m["bob"], opened)
    t.action(m["bob"], "types the value of the work: 180 (private to Bob, Alice and moderators' totals)")
    t.result(m["bob"], await discord.submit(opened, m["bob"], value="180"))
    t.action(m["bob"], "/referral list")
    t.result(m["bob"], await discord.slash("referral list", m["bob"]))

    t.heading("After the appointment, Alice thanks Bob publicly")
    message = "Bob fitted in my bride at a day's notice. Thank you!"
    t.action(m["alice"], f"/shoutout member:bob message:{message}")
    t.result(m["alice"], await discord.slash("shoutout", m["alice"], member=m["bob"], message=message))


def _latest_with(discord: FakeDiscord, label: str) -> Sent:
    for sent in reversed(list(discord.messages.values())):
        if label in sent.labels():
            return sent
    raise LookupError(f"no message offers {label!r}")


async def _agreement(discord: FakeDiscord, m: dict[str, FakeUser], t: Transcript, clock: FakeClock) -> None:
    t.heading("Dev leads a one-off website job with three buddies")
    t.action(m["dev"], "/agreement new title:Riverside Bakery website")
    opened = await discord.slash("agreement new", m["dev"], title="Riverside Bakery website")
    t.result(m["dev"], opened)
    terms = {
        "title": "Riverside Bakery website",
        "scope": "Five-page site with online orders; logo refresh; launch copy.",
        "terms": "Dev leads and invoices the client. Split: Dev 50%, Carol 25%, Erin 15%, Bob 10%. "
        "Each keeps their own brand in the credits. Either side may cancel with 7 days' notice.",
        "fee": "£2,400 total",
        "dates": "1-12 dec",
    }
    t.action(m["dev"], "submits the terms form")
    submitted = await discord.submit(opened, m["dev"], **terms)
    t.result(m["dev"], submitted)
    buddies = [m["carol"], m["erin"], m["bob"]]
    t.action(m["dev"], "picks buddies: carol, erin, bob")
    picked = await discord.select(submitted.message, "Pick your buddies (1–21)", m["dev"], buddies)
    t.result(m["dev"], picked)
    post = _latest_with(discord, "Accept")
    agreement_id = _number_after("agreement:", post)
    for buddy in buddies:
        await click(discord, t, post, "Accept", buddy)
    t.heading("The day before the job starts, the scheduler reminds everyone on it")
    agreed_at = clock.current
    clock.current = clock.current.replace(month=11, day=30, hour=9, minute=0)  # 09:00 in London on 30 Nov
    t.say("   (the clock moves to 30 Nov, 09:00; the scheduler's loop runs its due jobs)")
    seen = set(discord.messages)
    await discord.bot.get_cog("Scheduler").run_due()  # type: ignore[union-attr]
    for sent in [s for i, s in discord.messages.items() if i not in seen and not s.ephemeral]:
        t.post(sent)
    clock.current = agreed_at + timedelta(days=20)
    t.action(m["dev"], f"/agreement complete agreement_id:{agreement_id}")
    done = await discord.slash("agreement complete", m["dev"], agreement_id=agreement_id)
    t.result(m["dev"], done)
    ask = _latest_with(discord, "Yes, again")
    for buddy, answer in ((m["carol"], "Yes, again"), (m["erin"], "Yes, again"), (m["bob"], "No")):
        await click(discord, t, ask, answer, buddy)


async def _sharing(discord: FakeDiscord, guild: FakeGuild, m: dict[str, FakeUser], t: Transcript) -> None:
    t.heading("Alice lends her ladder to Carol")

    async def share_add(who: str, name: str, **options: object) -> int:
        shown = " ".join(f"{k}:{v}" for k, v in options.items())
        t.action(m[who], f"/share add name:{name} {shown}")
        payload = discord.command_payload("share add", m[who], guild=guild, **options)
        payload["data"]["options"][0]["options"].append({"name": "name", "type": 3, "value": name})
        result = await discord.interact(payload)
        t.result(m[who], result)
        return int(result.content.split("**#", 1)[1].split("**", 1)[0])

    async def borrow(who: str, item_id: int, when: str, **options: object) -> Sent:
        t.action(
            m[who], f"/borrow item:#{item_id} when:{when}" + "".join(f" {k}:{v}" for k, v in options.items())
        )
        result = await discord.slash("borrow", m[who], item=str(item_id), when=when, **options)
        t.result(m[who], result)
        return _latest_with(discord, "Approve")

    async def got_it_back(post: Sent, who: FakeUser, condition: str) -> None:
        t.action(who, "presses [Got it back]")
        opened = await discord.click(post, "Got it back", who)
        t.result(who, opened)
        t.action(who, f"notes the condition: {condition}")
        t.result(who, await discord.submit(opened, who, condition=condition))

    ladder = await share_add("alice", "Ladder", kind="equipment", details="3 m, aluminium", max_days=7)
    post = await borrow("carol", ladder, "next week", note="For the new shop sign")
    await click(discord, t, post, "Approve", m["alice"])
    await click(discord, t, post, "Handed over", m["alice"])
    await click(discord, t, post, "Returned", m["carol"])
    await got_it_back(post, m["alice"], "Fine, back in the shed")

    t.heading("Erin shares four hours of copy-editing with Dev")
    hours = await share_add("erin", "Copy editing", kind="labour", quantity=10)
    post = await borrow("dev", hours, "next week", quantity=4)
    await click(discord, t, post, "Approve", m["erin"])
    await click(discord, t, post, "Handed over", m["erin"])
    await click(discord, t, post, "Returned", m["dev"])
    await got_it_back(post, m["erin"], "Four hours well spent")
    t.action(m["bob"], "/profile view member:alice")
    t.result(m["bob"], await discord.slash("profile view", m["bob"], member=m["alice"]))


async def click(discord: FakeDiscord, t: Transcript, post: Sent, label: str, who: FakeUser) -> None:
    t.action(who, f"presses [{label}]")
    before = discord.messages[post.id].text()
    t.result(who, await discord.click(post, label, who), before=before)


def _number_after(prefix: str, sent: Sent) -> int:
    for row in sent.components:
        for comp in row.get("components", []):
            custom_id = comp.get("custom_id", "")
            if custom_id.startswith(prefix):
                return int(custom_id[len(prefix) :].split(":")[0])
    raise LookupError(f"no custom_id starting with {prefix!r}")


async def _group_buy(discord: FakeDiscord, m: dict[str, FakeUser], t: Transcript, clock: FakeClock) -> None:
    """A flour buy for the Christmas bake sale that reaches the miller's case price."""
    t.heading("Erin pools a flour order to reach the miller's case price")
    t.action(m["erin"], "/groupbuy start target:20 deadline:friday")
    opened = await discord.slash("groupbuy start", m["erin"], target=20, deadline="friday")
    t.result(m["erin"], opened)
    terms = {"product": "Organic strong white flour", "supplier": "Riverside Mill", "unit": "16 kg sack",
             "case_size": "4", "tiers": "1+: 18.50, 20+: 16.00, 40+: 14.20"}  # fmt: skip
    t.action(m["erin"], "submits the form: " + ", ".join(f"{k}: {v}" for k, v in terms.items()))
    t.result(m["erin"], await discord.submit(opened, m["erin"], **terms))
    post = _latest_with(discord, "Pledge")
    buy_id = _number_after("groupbuy:", post)
    for who, quantity, tolerance in (
        ("alice", "6", ""),
        ("bob", "5", "3"),
        ("carol", "4", ""),
        ("dev", "4", ""),
    ):
        t.action(
            m[who],
            f"presses [Pledge] and asks for {quantity}" + (f", up to {tolerance} more" if tolerance else ""),
        )
        form = await discord.click(post, "Pledge", m[who])
        before = discord.messages[post.id].text()
        t.result(
            m[who], await discord.submit(form, m[who], quantity=quantity, tolerance=tolerance), before=before
        )
    bot = discord.bot
    assert bot is not None
    for day in (17, 18):  # the reminder a day before (Thursday 20:00), then the deadline (Friday 20:00)
        clock.current = clock.current.replace(day=day, hour=20, minute=0)
        t.action(m["maya"], f"(the scheduler runs on {clock.current:%a %d %b %H:%M} UTC)")
        first = len(discord.calls)
        await bot.get_cog("Scheduler").run_due()  # type: ignore[union-attr]
        for call in discord.calls[first:]:
            if call.method == "POST" and call.path.endswith("/messages") and call.json:
                t.post(Sent(0, int(call.path.split("/")[2]), call.json))
    t.action(m["erin"], f"/groupbuy view id:{buy_id} export:True")
    r = await discord.slash("groupbuy view", m["erin"], id=buy_id, export=True)
    t.result(m["erin"], r)
    for call in r.callbacks:
        for name, blob in call.files:
            t.say(f"     attachment: {name}")
            for line in blob.decode("utf-8").splitlines():
                t.say(f"       {line}")


async def _wrap_up(discord: FakeDiscord, m: dict[str, FakeUser], t: Transcript) -> None:
    t.heading("Maya, a moderator, checks how the network is doing")
    t.action(m["maya"], "/stats period:month")
    r = await discord.slash("stats", m["maya"], period="month")
    t.result(m["maya"], r)
    for call in r.callbacks + r.followups:  # the chart follows the figures
        for name, blob in call.files:
            kind = "PNG image" if blob.startswith(PNG_MAGIC) else "file"
            t.say(f"     attachment: {name} ({len(blob):,} bytes, {kind})")
