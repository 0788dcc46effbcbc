"""/stats [period]: network health for moderators, with a chart of requests posted vs filled per week."""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from buddybot import stats
from buddybot.chart import cached_png, render_png
from buddybot.groupbuy_terms import money
from buddybot.outcomes import format_value
from buddybot.sharing_stats import SharingStats
from cogs.common import actor, guild_id_of, mention, reply, safe

if TYPE_CHECKING:
    from buddybot.bot import BuddyBot

CHART_NAME = "requests-per-week.png"
_PERIOD_TITLES = {
    "week": "this week",
    "month": "this month",
    "quarter": "this quarter",
    "year": "this year",
    "all": "all time",
}


def _member(key: str) -> str:
    return mention(int(key))


def _ranked(items: list[stats.Ranked], *, members: bool = False) -> str:
    if not items:
        return "none yet"
    return "\n".join(
        f"{i}. {_member(r.key) if members else safe(r.key, 60)} — {r.count}" for i, r in enumerate(items, 1)
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _share(part: float | None) -> str:
    return "–" if part is None else f"{part:.0%}"


def _span(s: stats.Stats) -> str:
    if s.start is None:
        return f"Everything up to {s.today.day} {s.today:%b %Y}"
    return f"{s.start.day} {s.start:%b} – {s.today.day} {s.today:%b %Y}"


def _group_buys(s: stats.Stats) -> str:
    saving = money(s.groupbuy_saving, s.groupbuy_currency)
    return (
        f"{s.groupbuys_started} started · {s.groupbuys_succeeded} succeeded\n"
        f"{s.groupbuy_units} units pledged · saved about {saving} vs the first tier"
    )


def render_stats(s: stats.Stats) -> discord.Embed:
    embed = discord.Embed(
        title=f"Network health — {_PERIOD_TITLES[s.period]}",
        description=f"{_span(s)} (UTC). Requests count in the period they were posted.",
        colour=discord.Colour.dark_green(),
    )
    embed.add_field(
        name="Members",
        value=(
            f"{s.members_with_profile} with a profile ({s.new_members} new)\n"
            f"{s.members_offering} offering · {s.distinct_skills} distinct skills"
        ),
    )
    embed.add_field(
        name="Requests",
        value=(
            f"{s.requests_posted} posted · {s.requests_filled} filled ({_share(s.fill_rate)})\n"
            f"{s.expired_unfilled} expired unfilled"
        ),
    )
    embed.add_field(
        name="Median time",
        value=(
            f"to first volunteer: {stats.human_duration(s.median_to_volunteer)}\n"
            f"to pick: {stats.human_duration(s.median_to_pick)}"
        ),
    )
    embed.add_field(name="Top skills in demand", value=_ranked(s.top_demand))
    embed.add_field(name="Top unmet skills (recruit!)", value=_ranked(s.top_unmet))
    embed.add_field(name="Shoutouts", value=str(s.shoutouts))
    embed.add_field(name=f"Referrals given ({s.referrals} in all)", value=_ranked(s.top_givers, members=True))
    embed.add_field(name="Referrals received", value=_ranked(s.top_receivers, members=True))
    embed.add_field(
        name="Repeat pairs",
        value=f"{s.repeat_referral_pairs} by referral\n{s.repeat_agreement_pairs} by agreement",
    )
    embed.add_field(
        name="Agreements",
        value=(
            f"{s.agreements_proposed} proposed · {s.agreements_agreed} agreed\n"
            f"{s.agreements_completed} completed · {s.agreements_cancelled} cancelled"
        ),
    )
    embed.add_field(
        name="Would work together again",
        value=f"{_share(s.again_share)} ({s.again_yes} of {s.again_answers} answers)",
    )
    after = s.after
    embed.add_field(
        name="Referral outcomes",
        value=(
            f"{after.won} won · {after.no_deal} didn't happen (won rate {_share(after.won_rate)})\n"
            "median from pick to outcome: "
            + ("–" if after.median_days_to_outcome is None else f"{after.median_days_to_outcome:g} days")
        ),
    )
    embed.add_field(
        name="Closed business (private values, totals only)",
        value="\n".join(
            f"{format_value(v.total_minor, v.currency)} in {v.count} · median {format_value(v.median_minor, v.currency)}"
            for v in after.values
        )
        or "no values reported",
    )
    embed.add_field(
        name="Nudges",
        value=f"{after.nudges_sent} sent to {after.nudged_requests} requests · {after.nudged_filled} then filled",
    )
    embed.add_field(
        name="First-answer window",
        value=(
            f"{_share(after.fastest_decile_share)} of {_count(after.referrals, 'referral')} went to the fastest "
            f"tenth of responders ({_count(after.fastest_decile_size, 'member')})"
        ),
    )
    embed.add_field(name="Group buys", value=_group_buys(s))
    if s.sharing is not None:
        _sharing_fields(embed, s.sharing)
    embed.set_footer(text="Repeat pairs: members who worked together for a second time in the period.")
    return embed


def chart_embed(this_week: stats.WeekPoint) -> discord.Embed:
    embed = discord.Embed(
        title="Requests per week",
        description=(
            f"Completed weeks (UTC, Monday to Sunday). This week so far, from {this_week.week.day} "
            f"{this_week.week:%b}: {this_week.posted} posted · {this_week.filled} filled."
        ),
        colour=discord.Colour.dark_green(),
    )
    embed.set_image(url=f"attachment://{CHART_NAME}")
    return embed


def _sharing_fields(embed: discord.Embed, s: SharingStats) -> None:
    """Lending between members: loans, on-time returns, median length, labour hours, top lenders, overdue."""
    on_time = _share(s.returned_on_time / s.loans_returned if s.loans_returned else None)
    median = "–" if s.median_days is None else f"{s.median_days:g} day{'' if s.median_days == 1 else 's'}"
    embed.add_field(
        name="Sharing",
        value=(
            f"{s.loans_started} loans started · {s.loans_returned} returned ({on_time} on time)\n"
            f"median loan {median} · {s.labour_hours} labour hours shared"
        ),
    )
    lenders = [stats.Ranked(key=k, count=n) for k, n in s.top_lenders]
    embed.add_field(name="Top lenders", value=_ranked(lenders, members=True))
    lines = [
        f"#{o.loan_id} {safe(o.item_name, 40)} · {mention(o.borrower_id)} · due {o.due_on.isoformat()}"
        + (" · moderators told" if o.escalated else "")
        for o in s.overdue
    ]
    more = f"\n… and {s.overdue_now - len(lines)} more" if s.overdue_now > len(lines) else ""
    embed.add_field(
        name=f"Overdue now ({s.overdue_now})", value=("\n".join(lines) + more) or "none", inline=False
    )


class Stats(commands.Cog):
    def __init__(self, bot: BuddyBot) -> None:
        self.bot = bot

    @app_commands.command(name="stats", description="Moderators: how the referral network is doing")
    @app_commands.describe(period="Which calendar period (default: this month)")
    @app_commands.choices(period=[app_commands.Choice(name=p, value=p) for p in stats.PERIODS])
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def stats(self, interaction: discord.Interaction, period: str = stats.DEFAULT_PERIOD) -> None:
        figures = await stats.network_stats(
            self.bot.db, guild_id_of(interaction), actor(interaction), period, now=self.bot.now()
        )
        # The figures are the answer (one round trip); the chart follows privately, never holding it up.
        # It draws completed weeks only (a half-week bar misleads, and every new request would mean a
        # new ~50-80 ms drawing by the chart worker): one drawing per guild and period a week, cached;
        # this week's running numbers go in the chart's text.
        await reply(interaction, embed=render_stats(figures))
        *done, this_week = figures.weekly
        title = "Requests per week (UTC weeks)"
        png = cached_png(done, title) or await asyncio.to_thread(render_png, done, title)
        await reply(interaction, embed=chart_embed(this_week), file=discord.File(io.BytesIO(png), CHART_NAME))


async def setup(bot: BuddyBot) -> None:
    await bot.add_cog(Stats(bot))
