"""Agreement reminders on the one scheduler, and the double-blind "would you work together again?"."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from buddybot import scheduler
from tests.conftest import World
from tests.test_agreements import agreed, pinged, posted, propose, rows

GENERAL = "general"


async def run_jobs(world: World) -> int:
    return await world.bot.get_cog("Scheduler").run_due()


def said_in_channel(world: World, fragment: str) -> list:
    channel = world.guild.channel(GENERAL)
    return [m for m in world.discord.channel_messages(channel) if fragment in m.content]


async def test_a_pending_proposal_reminds_only_the_pending_parties_once_across_a_restart(
    world: World,
) -> None:
    agreement_id, post = await propose(world, world.alice, [world.bob, world.carol])
    await world.discord.click(post, "Accept", world.bob)
    world.clock.advance(hours=47)
    await run_jobs(world)
    assert said_in_channel(world, "still waiting for your answer") == []
    world.clock.advance(hours=1)
    claimed = await world.db.write(scheduler.claim_due, world.clock(), "doomed")  # claimed, then kill -9
    assert [job.kind for job, _ in claimed] == ["agreement.pending"]
    await world.restart()
    world.clock.advance(seconds=scheduler.LEASE.total_seconds() + 1)
    await run_jobs(world)
    (reminder,) = said_in_channel(world, "still waiting for your answer")
    assert pinged(reminder.data["allowed_mentions"]) == {world.carol.id}, "only the party still pending"
    assert f"agreement #{agreement_id}" in reminder.content
    world.clock.advance(days=3)
    await run_jobs(world)
    assert len(said_in_channel(world, "still waiting for your answer")) == 1, "once"


async def test_no_pending_reminder_once_everyone_accepted(world: World) -> None:
    await agreed(world, world.alice, [world.bob])
    world.clock.advance(hours=49)
    await run_jobs(world)
    assert said_in_channel(world, "still waiting") == []


async def test_start_and_end_reminders_and_the_mark_complete_button(world: World) -> None:
    agreement_id, _ = await agreed(world, world.alice, [world.bob, world.carol])  # dates 1-5 Dec
    world.clock.current = datetime(2026, 11, 30, 8, 59, tzinfo=UTC)
    await run_jobs(world)
    assert said_in_channel(world, "starts tomorrow") == []
    world.clock.current = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # 09:00 in London the day before
    await run_jobs(world)
    (starts,) = said_in_channel(world, "starts tomorrow")
    assert pinged(starts.data["allowed_mentions"]) == {world.alice.id, world.bob.id, world.carol.id}
    world.clock.current = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    await run_jobs(world)
    (ask,) = said_in_channel(world, "ended yesterday")
    assert pinged(ask.data["allowed_mentions"]) == {world.alice.id} and ask.labels() == ["Mark complete"]
    refused = await world.discord.click(ask, "Mark complete", world.bob)
    assert refused.ephemeral and "Only the lead" in refused.content
    assert rows(world, "SELECT state FROM agreements WHERE id = ?", agreement_id) == [("agreed",)]
    done = await world.discord.click(ask, "Mark complete", world.alice)
    assert done.ephemeral and "is complete" in done.content
    assert rows(world, "SELECT state FROM agreements WHERE id = ?", agreement_id) == [("completed",)]
    assert ask.components == [], "the reminder's button is spent"
    assert len(said_in_channel(world, "Would you work together again?")) == 1


async def test_days_late_start_reminders_are_dropped_after_downtime(world: World) -> None:
    await agreed(world, world.alice, [world.bob])
    world.clock.current = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # the bot was down from before 30 Nov
    await run_jobs(world)
    assert said_in_channel(world, "starts tomorrow") == [], "a start reminder after the start helps nobody"
    assert rows(world, "SELECT state FROM jobs WHERE kind = 'agreement.starts'") == [("dropped",)]


async def test_reminders_to_one_channel_in_one_run_are_merged(world: World) -> None:
    await propose(world, world.alice, [world.bob])
    await propose(world, world.carol, [world.discord.add_user("dan", world.guild)])
    world.clock.advance(hours=48)
    await run_jobs(world)
    (merged,) = said_in_channel(world, "still waiting for your answer")
    assert merged.content.count("still waiting for your answer") == 2


async def test_work_together_again_is_double_blind_in_every_message_the_bot_sends(world: World) -> None:
    d, alice, bob, carol = world.discord, world.alice, world.bob, world.carol
    agreement_id, _ = await agreed(world, alice, [bob, carol])
    done = await d.slash("agreement complete", alice, agreement_id=agreement_id)
    ask = posted(world, done)
    assert "nobody else on the agreement sees it" in ask.content
    answered_from = len(d.calls)
    no = await d.click(ask, "No", bob)
    carol_yes = await d.click(ask, "Yes, again", carol)
    assert "mutual" not in carol_yes.content, "carol's yes meets bob's no: she learns nothing"
    alice_yes = await d.click(ask, "Yes, again", alice)
    assert f"It's mutual: <@{carol.id}> said yes too" in alice_yes.content and alice_yes.ephemeral
    dms = [c for c in d.calls if c.route == "POST /users/@me/channels"]
    assert [int(c.json["recipient_id"]) for c in dms] == [carol.id], "only carol is told, privately"
    (dm,) = [
        c for c in d.calls[answered_from:] if c.method == "POST" and c.json and "both said" in str(c.json)
    ]
    assert f"you and <@{alice.id}> both said" in dm.json["content"]
    for viewer in (alice, carol, world.mod):
        view = await d.slash("agreement view", viewer, agreement_id=agreement_id)
        assert str(bob.id) not in json.dumps(view.data).split("Buddies")[-1].split("Status")[-1]
    carol_view = await d.slash("agreement view", carol, agreement_id=agreement_id)
    assert f"It's mutual with <@{alice.id}>" in carol_view.text()
    mod_stats = await d.slash("stats", world.mod)
    assert "67% (2 of 3 answers)" in json.dumps(mod_stats.data), "moderators see the aggregate"
    # Every body the bot sent after the answers began: bob's "no" shows up only in bob's own ephemeral ack.
    for call in d.calls[answered_from:]:
        if not call.json:
            continue
        text = json.dumps(call.json, ensure_ascii=False)
        is_bobs_ack = call.path.startswith(f"/interactions/{no.interaction_id}/")
        if "noted: **no**" in text or "said no" in text or "You said no" in text:
            assert is_bobs_ack, f"bob's answer leaked in {call.route}: {text[:200]}"
        bob_paired = (f"<@{bob.id}> said", f"<@{bob.id}> both", f"with <@{bob.id}>", f"mutual: <@{bob.id}>")
        assert not any(p in text for p in bob_paired), f"bob's answer implied in {call.route}"
