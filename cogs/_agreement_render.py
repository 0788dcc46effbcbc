"""How an agreement looks in Discord: its embed and the message that asks the buddies to accept."""

from __future__ import annotations

import discord

from buddybot.agreements import Details, State
from buddybot.when import DateWindow
from cogs.common import mention, safe

BADGES = {
    State.DRAFT: "📝 Draft: the lead is picking buddies",
    State.PROPOSED: "🕒 Waiting for the buddies to accept",
    State.AGREED: "🤝 Agreed by everyone: terms locked",
    State.DECLINED: "❌ Declined",
    State.CANCELLED: "🚫 Cancelled",
    State.COMPLETED: "✅ Completed",
}
COLOURS = {
    State.DRAFT: discord.Colour.light_grey(),
    State.PROPOSED: discord.Colour.gold(),
    State.AGREED: discord.Colour.green(),
    State.DECLINED: discord.Colour.red(),
    State.CANCELLED: discord.Colour.dark_grey(),
    State.COMPLETED: discord.Colour.blue(),
}


def mentions(user_ids: list[int]) -> str:
    return " ".join(mention(u) for u in user_ids)


def _party_line(details: Details, user_id: int, accepted: bool) -> str:
    a = details.agreement
    if a.state == State.DECLINED and a.closed_by == user_id:
        return f"❌ {mention(user_id)} declined"
    return f"✅ {mention(user_id)} accepted" if accepted else f"⏳ {mention(user_id)}"


def _status(details: Details) -> str:
    a = details.agreement
    state = State(a.state)
    if state == State.PROPOSED:
        pending = sum(1 for m in details.parties if not m.accepted_at)
        return f"{BADGES[state]} ({pending} of {len(details.parties)} still to accept version {a.version})"
    if state in (State.DECLINED, State.CANCELLED) and a.closed_by:
        text = f"{BADGES[state]} by {mention(a.closed_by)}"
        return text + (f": {safe(a.reason, 300)}" if a.reason else "")
    return BADGES[state]


def render_agreement(details: Details, *, with_feedback: bool = False) -> discord.Embed:
    a, t = details.agreement, details.agreement.terms
    embed = discord.Embed(title=f"Agreement #{a.id} · {safe(t.title, 200)}", colour=COLOURS[State(a.state)])
    description = f"**Scope**\n{safe(t.scope)}\n\n**Terms**\n{safe(t.terms)}"
    embed.description = description if len(description) <= 3800 else description[:3799] + "…"
    embed.add_field(name="Fee", value=safe(t.fee, 100)[:250])
    embed.add_field(name="Dates", value=DateWindow(start=t.start, end=t.end).describe())
    embed.add_field(name="Lead", value=mention(a.lead_id))
    if details.parties:
        accepted = sum(1 for m in details.parties if m.accepted_at)
        lines = [_party_line(details, m.user_id, bool(m.accepted_at)) for m in details.parties]
        embed.add_field(
            name=f"Buddies ({accepted}/{len(details.parties)} accepted)",
            value="\n".join(lines)[:1024],
            inline=False,
        )
    embed.add_field(name="Status", value=_status(details)[:1024], inline=False)
    if with_feedback and details.feedback:  # the viewer's own answer only: the question is double-blind
        own = details.feedback[0]
        line = f"You said {'yes' if own.again else 'no'}" + (f" — {safe(own.note, 150)}" if own.note else "")
        if details.mutual:
            line += f"\nIt's mutual with {mentions(details.mutual)}."
        embed.add_field(name="Would you work together again? (private)", value=line[:1024], inline=False)
    embed.set_footer(text=f"Version {a.version} · terms sha256 {a.terms_hash[:12]}")
    return embed


def proposal_content(details: Details) -> str:
    a = details.agreement
    if a.version == 1:
        ask = (
            f"{mention(a.lead_id)} proposes agreement #{a.id}. Please read the terms and press **Accept** or "
            "**Decline**: every buddy accepts the same terms."
        )
    else:
        ask = (
            f"The terms of agreement #{a.id} changed (version {a.version}); earlier acceptances no longer "
            "count. Please read them again and press **Accept** or **Decline**."
        )
    return f"{mentions(details.party_ids)}\n{ask}"
