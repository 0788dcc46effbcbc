"""Skills registry commands: /profile, /offer, /find, /available, /busy. Thin: validate, call, render."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from buddybot import registry
from buddybot.models import DirectoryEntry, ProfileCard
from buddybot.when import DateWindow
from cogs.common import discord_locale, guild_id_of, mention, reply, safe, short_date, skill_autocomplete

if TYPE_CHECKING:
    from buddybot.bot import BuddyBot

WHEN_HELP = "e.g. asap, next week, mon-fri, for 2 weeks, the 20th, 1-5 dec"


def render_card(card: ProfileCard, member_name: str) -> discord.Embed:
    p = card.profile
    embed = discord.Embed(title=safe(p.business or member_name, 200), colour=discord.Colour.teal())
    if p.about:
        embed.description = safe(p.about, 1000)
    embed.add_field(name="Member", value=mention(p.user_id))
    if p.area:
        embed.add_field(name="Area", value=safe(p.area, 100))
    if p.website:
        embed.add_field(name="Website", value=p.website[:200])
    skills = ", ".join(safe(o.skill) for o in card.offers) or "none yet"
    embed.add_field(name="Skills", value=skills[:1000], inline=False)
    if p.busy_until:
        capacity = f"Fully booked until {short_date(p.busy_until)}"
    elif card.windows:
        capacity = "; ".join(
            f"{short_date(w.start)} – {short_date(w.end)}" + (f" ({w.slots} slots)" if w.slots else "")
            for w in card.windows[:5]
        )
    else:
        capacity = "not stated"
    embed.add_field(name="Availability", value=capacity, inline=False)
    embed.add_field(name="Shoutouts", value=str(card.shoutouts))
    embed.add_field(name="Jobs completed", value=str(card.jobs_completed))
    embed.add_field(
        name="Referrals",
        value=f"{card.referrals_given} given · {card.referrals_received} received · {card.referrals_won} won",
    )
    embed.add_field(name="Group buys joined", value=str(card.groupbuys_joined))
    embed.add_field(name="Lent", value=_units(card.lent))
    embed.add_field(name="Borrowed", value=_units(card.borrowed))
    if not p.pings:
        embed.set_footer(text="Not receiving referral pings")
    return embed


def _units(counts: dict[str, int]) -> str:
    """Give and take: "3 items, 4 hours" (sharing)."""
    return ", ".join(f"{n} {unit if n != 1 else unit[:-1]}" for unit, n in counts.items()) or "nothing yet"


def render_directory(
    skill: str, window: DateWindow, entries: list[DirectoryEntry], total: int
) -> discord.Embed:
    embed = discord.Embed(title=f"Who offers {safe(skill, 60)}", colour=discord.Colour.blurple())
    lines = []
    for e in entries:
        name = safe(e.business, 60) or "(no business name)"
        state = (
            "✅ available"
            if e.available
            else (f"busy until {short_date(e.busy_until)}" if e.busy_until else "")
        )
        extra = f" · {safe(e.area, 40)}" if e.area else ""
        details = f" — {safe(e.details, 80)}" if e.details else ""
        lines.append(f"**{name}** {mention(e.user_id)}{extra}{' · ' + state if state else ''}{details}")
    embed.description = "\n".join(lines)[:4000]
    shown = f"{len(entries)} of {total}" if total > len(entries) else str(total)
    embed.set_footer(text=f"{shown} members · window {window.describe()}")
    return embed


class Registry(commands.Cog):
    profile = app_commands.Group(name="profile", description="Your business profile", guild_only=True)
    offer = app_commands.Group(name="offer", description="Skills you offer to other members", guild_only=True)

    def __init__(self, bot: BuddyBot) -> None:
        self.bot = bot

    async def my_skill_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        names = await registry.skill_choices(
            self.bot.db, interaction.guild_id, current[:100], mine=interaction.user.id
        )
        return [app_commands.Choice(name=n[:100], value=n[:100]) for n in names]

    @profile.command(name="set", description="Create or update your business profile")
    @app_commands.describe(
        business="Your business name, as you want it shown",
        area="Where you work (town or district); '-' clears it",
        website="Your website (https://…); '-' clears it",
        about="A line or two about what you do; '-' clears it",
        pings="Receive referral pings when someone needs your skills",
    )
    async def profile_set(
        self,
        interaction: discord.Interaction,
        business: app_commands.Range[str, 1, 80],
        area: app_commands.Range[str, 1, 60] | None = None,
        website: app_commands.Range[str, 1, 200] | None = None,
        about: app_commands.Range[str, 1, 500] | None = None,
        pings: bool | None = None,
    ) -> None:
        profile = await registry.set_profile(
            self.bot.db,
            guild_id_of(interaction),
            interaction.user.id,
            business=business,
            area=area,
            website=website,
            about=about,
            pings=pings,
            now=self.bot.now(),
        )
        state = "on" if profile.pings else "off"
        await reply(
            interaction, f"Saved your profile for **{safe(profile.business)}**. Referral pings are {state}."
        )

    @profile.command(name="view", description="See a member's business profile")
    @app_commands.describe(member="Whose profile (default: yours)")
    async def profile_view(
        self, interaction: discord.Interaction, member: discord.User | None = None
    ) -> None:
        target = member or interaction.user
        card = await registry.profile_card(
            self.bot.db,
            guild_id_of(interaction),
            target.id,
            viewer_id=interaction.user.id,
            now=self.bot.now(),
        )
        await reply(interaction, embed=render_card(card, target.display_name))

    @offer.command(name="add", description="Register a skill you offer")
    @app_commands.describe(
        skill="The skill, e.g. bookkeeping", details="Anything specific (prices, niche, tools)"
    )
    @app_commands.autocomplete(skill=skill_autocomplete)
    async def offer_add(
        self,
        interaction: discord.Interaction,
        skill: app_commands.Range[str, 1, 60],
        details: app_commands.Range[str, 1, 200] | None = None,
    ) -> None:
        result = await registry.add_offer(
            self.bot.db, guild_id_of(interaction), interaction.user.id, skill, details, now=self.bot.now()
        )
        verb = "Added" if result.created else "Updated"
        note = "" if result.known_skill else " (a new skill for this server)"
        await reply(
            interaction,
            f"{verb} **{safe(result.offer.skill)}**{note}. You offer {result.count} of at most 15 skills.",
        )

    @offer.command(name="remove", description="Remove a skill you offer")
    @app_commands.describe(skill="One of your skills")
    @app_commands.autocomplete(skill=my_skill_autocomplete)
    async def offer_remove(
        self, interaction: discord.Interaction, skill: app_commands.Range[str, 1, 60]
    ) -> None:
        removed = await registry.remove_offer(
            self.bot.db, guild_id_of(interaction), interaction.user.id, skill
        )
        await reply(interaction, f"Removed **{safe(removed)}** from your skills.")

    @offer.command(name="list", description="Skills a member offers")
    @app_commands.describe(member="Whose skills (default: yours)")
    async def offer_list(self, interaction: discord.Interaction, member: discord.User | None = None) -> None:
        target = member or interaction.user
        profile, offers = await registry.list_offers(
            self.bot.db, guild_id_of(interaction), target.id, viewer_id=interaction.user.id
        )
        if not offers:
            who = "You don't" if target.id == interaction.user.id else f"{mention(target.id)} doesn't"
            await reply(interaction, f"{who} offer any skills yet. Add one with `/offer add`.")
            return
        name = safe(profile.business) if profile and profile.business else mention(target.id)
        lines = [
            f"• **{safe(o.skill)}**" + (f" — {safe(o.details, 200)}" if o.details else "") for o in offers
        ]
        await reply(interaction, f"{name} offers:\n" + "\n".join(lines))

    @app_commands.command(name="find", description="Find members who offer a skill, available ones first")
    @app_commands.describe(skill="The skill you need", when=f"When you need it ({WHEN_HELP})")
    @app_commands.autocomplete(skill=skill_autocomplete)
    @app_commands.guild_only()
    async def find(
        self,
        interaction: discord.Interaction,
        skill: app_commands.Range[str, 1, 60],
        when: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        name, window, entries, total = await registry.find(
            self.bot.db,
            guild_id_of(interaction),
            skill,
            when,
            now=self.bot.now(),
            locale=discord_locale(interaction),
        )
        if not entries:
            await reply(interaction, f"Nobody offers **{safe(name)}** yet. Try `/need` to ask the community.")
            return
        await reply(interaction, embed=render_directory(name, window, entries, total))

    @app_commands.command(name="available", description="Say you have capacity for new clients")
    @app_commands.describe(
        when=f"When you have capacity ({WHEN_HELP})", slots="How many clients you can take"
    )
    @app_commands.guild_only()
    async def available(
        self,
        interaction: discord.Interaction,
        when: app_commands.Range[str, 1, 100],
        slots: app_commands.Range[int, 1, 100] | None = None,
    ) -> None:
        window = await registry.set_available(
            self.bot.db,
            guild_id_of(interaction),
            interaction.user.id,
            when,
            slots,
            now=self.bot.now(),
            locale=discord_locale(interaction),
        )
        extra = f" for {slots} client{'s' if slots != 1 else ''}" if slots else ""
        await reply(
            interaction,
            f"Noted: you have capacity {window.describe()}{extra}. You'll be first in line for referrals then.",
        )

    @app_commands.command(name="busy", description="Say you are fully booked (no referral pings meanwhile)")
    @app_commands.describe(until=f"Booked until when ({WHEN_HELP})")
    @app_commands.guild_only()
    async def busy(self, interaction: discord.Interaction, until: app_commands.Range[str, 1, 100]) -> None:
        window = await registry.set_busy(
            self.bot.db,
            guild_id_of(interaction),
            interaction.user.id,
            until,
            now=self.bot.now(),
            locale=discord_locale(interaction),
        )
        await reply(
            interaction,
            f"Noted: you're fully booked until {short_date(window.end)}. No referral pings until then.",
        )


async def setup(bot: BuddyBot) -> None:
    await bot.add_cog(Registry(bot))
