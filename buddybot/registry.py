"""The skills registry: profiles, offers, capacity and the directory. One unit of work per call."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from buddybot import skills as skillmod
from buddybot.errors import BuddyError
from buddybot.guildconfig import dates_for
from buddybot.models import DirectoryEntry, OfferResult, Profile, ProfileCard, utc_iso
from buddybot.storage import config as config_sql
from buddybot.storage import groupbuys as groupbuys_sql
from buddybot.storage import outcomes as outcomes_sql
from buddybot.storage import registry as sql
from buddybot.storage import sharing_tallies as tallies_sql
from buddybot.storage.db import Database
from buddybot.text import clean_text, clean_url, fold, quote_back
from buddybot.when import DateWindow, parse_until, parse_when, today_in

DIRECTORY_PAGE = 15
CLEAR = "-"


def _optional(value: str | None, field: str, max_length: int, *, url: bool = False) -> str | bool | None:
    """None: leave unchanged. "-": clear. Otherwise the cleaned text."""
    if value is None:
        return False
    if value.strip() == CLEAR:
        return None
    return clean_url(value) if url else clean_text(value, field, max_length, multiline=field == "about")


async def set_profile(
    db: Database,
    guild_id: int,
    user_id: int,
    *,
    business: str,
    area: str | None = None,
    website: str | None = None,
    about: str | None = None,
    pings: bool | None = None,
    now: datetime,
) -> Profile:
    fields: dict[str, object] = {"business": clean_text(business, "business name", 80, required=True)}
    for name, value, limit in (("area", area, 60), ("website", website, 200), ("about", about, 500)):
        cleaned = _optional(value, name, limit, url=name == "website")
        if cleaned is not False:
            fields[name] = cleaned
    if pings is not None:
        fields["pings"] = int(pings)
    fields["business_key"] = fold(str(fields["business"]))
    return await db.write(_set_profile, guild_id, user_id, fields, utc_iso(now))


def _set_profile(
    conn: sqlite3.Connection, guild_id: int, user_id: int, fields: dict[str, object], now: str
) -> Profile:
    """One business name per server (compared folded): nobody can pose as another member's business."""
    if sql.business_taken(conn, guild_id, user_id, str(fields["business_key"])):
        raise BuddyError(
            f"Another member of this server already uses the business name “{quote_back(str(fields['business']))}”. "
            "Please use your own business's name (adding your area or trading name helps tell you apart)."
        )
    return sql.upsert_profile(conn, guild_id, user_id, fields, now)


def _card(conn: sqlite3.Connection, guild_id: int, user_id: int, now: datetime) -> ProfileCard | None:
    profile = sql.get_profile(conn, guild_id, user_id)
    if profile is None:
        return None
    today = today_in(config_sql.get_config(conn, guild_id).timezone, now)
    shoutouts, jobs = sql.profile_counts(conn, guild_id, user_id)
    given, received, won = outcomes_sql.counts_for(conn, guild_id, user_id)
    return ProfileCard(
        referrals_given=given,
        referrals_received=received,
        referrals_won=won,
        profile=profile,
        offers=sql.offers_of(conn, guild_id, user_id),
        windows=sql.windows_of(conn, guild_id, user_id, today),
        shoutouts=shoutouts,
        jobs_completed=jobs,
        groupbuys_joined=groupbuys_sql.joined_count(conn, guild_id, user_id),
        **_give_and_take(conn, guild_id, user_id),
    )


def _give_and_take(conn: sqlite3.Connection, guild_id: int, user_id: int) -> dict[str, dict[str, int]]:
    """Sharing's tallies for the card: units lent and borrowed (kept up to date as loans start)."""
    found = tallies_sql.tallies(conn, guild_id, user_id)
    units = ("items", "hours", "slots")
    return {
        role: {u: found[(role, u)] for u in units if found.get((role, u))} for role in ("lent", "borrowed")
    }


async def profile_card(
    db: Database, guild_id: int, user_id: int, *, viewer_id: int, now: datetime
) -> ProfileCard:
    card = await db.read(_card, guild_id, user_id, now)
    if card is None or (card.profile.hidden and viewer_id != user_id):
        if viewer_id == user_id:
            raise BuddyError(
                "You have no profile yet. Create one with `/profile set business:<your business>`."
            )
        raise BuddyError("That member has no BuddyBot profile yet.")
    return card


def _add_offer(
    conn: sqlite3.Connection, guild_id: int, user_id: int, skill: str, details: str | None, now: str
) -> OfferResult:
    skill = sql.resolve_alias(conn, guild_id, skill)
    known = sql.skill_known(conn, guild_id, skill)
    sql.ensure_member(conn, guild_id, user_id, now)
    created, count = sql.add_offer(conn, guild_id, user_id, skill, details, now)
    if count > skillmod.MAX_SKILLS_PER_MEMBER:
        raise BuddyError(
            f"You already offer {skillmod.MAX_SKILLS_PER_MEMBER} skills, the most a member can list. "
            "Remove one with `/offer remove` first."
        )
    return OfferResult(
        offer={"user_id": user_id, "skill": skill, "details": details},
        created=created,
        count=count,
        known_skill=known,
    )


async def add_offer(
    db: Database, guild_id: int, user_id: int, skill: str, details: str | None, *, now: datetime
) -> OfferResult:
    name = skillmod.validate_skill(skill)
    text = clean_text(details, "details", 200)
    return await db.write(_add_offer, guild_id, user_id, name, text, utc_iso(now))


def _remove_offer(conn: sqlite3.Connection, guild_id: int, user_id: int, skill: str) -> str:
    skill = sql.resolve_alias(conn, guild_id, skill)
    if not sql.remove_offer(conn, guild_id, user_id, skill):
        raise BuddyError(f"You don't offer “{skill}”. `/offer list` shows your skills.")
    return skill


async def remove_offer(db: Database, guild_id: int, user_id: int, skill: str) -> str:
    return await db.write(_remove_offer, guild_id, user_id, skillmod.validate_skill(skill))


def _offers(conn: sqlite3.Connection, guild_id: int, user_id: int) -> tuple[Profile | None, list]:
    return sql.get_profile(conn, guild_id, user_id), sql.offers_of(conn, guild_id, user_id)


async def list_offers(
    db: Database, guild_id: int, user_id: int, *, viewer_id: int
) -> tuple[Profile | None, list]:
    profile, offers = await db.read(_offers, guild_id, user_id)
    if profile is not None and profile.hidden and viewer_id != user_id:
        return None, []
    return profile, offers


def _find(
    conn: sqlite3.Connection, guild_id: int, skill: str, when: str | None, now: datetime, locale: str | None
) -> tuple[str, DateWindow, list[DirectoryEntry], int]:
    skill = sql.resolve_alias(conn, guild_id, skill)
    today, locale = dates_for(conn, guild_id, now, locale)
    window = parse_when(when, today, locale) if when else DateWindow(start=today, end=today)
    entries, total = sql.directory(conn, guild_id, skill, window.start, window.end, DIRECTORY_PAGE)
    return skill, window, entries, total


async def find(
    db: Database, guild_id: int, skill: str, when: str | None, *, now: datetime, locale: str | None = None
) -> tuple[str, DateWindow, list[DirectoryEntry], int]:
    return await db.read(_find, guild_id, skillmod.validate_skill(skill), when, now, locale)


def _available(
    conn: sqlite3.Connection,
    guild_id: int,
    user_id: int,
    when: str,
    slots: int | None,
    now: datetime,
    locale: str | None,
) -> DateWindow:
    today, locale = dates_for(conn, guild_id, now, locale)
    window = parse_when(when, today, locale)
    stamp = utc_iso(now)
    sql.ensure_member(conn, guild_id, user_id, stamp)
    sql.add_window(conn, guild_id, user_id, window.start, window.end, slots, today, stamp)
    return window


async def set_available(
    db: Database,
    guild_id: int,
    user_id: int,
    when: str,
    slots: int | None,
    *,
    now: datetime,
    locale: str | None = None,
) -> DateWindow:
    if slots is not None and not 1 <= slots <= 100:
        raise BuddyError("Slots should be between 1 and 100.")
    return await db.write(_available, guild_id, user_id, when, slots, now, locale)


def _busy(
    conn: sqlite3.Connection, guild_id: int, user_id: int, until: str, now: datetime, locale: str | None
) -> DateWindow:
    today, locale = dates_for(conn, guild_id, now, locale)
    window = parse_until(until, today, locale)
    stamp = utc_iso(now)
    sql.ensure_member(conn, guild_id, user_id, stamp)
    sql.set_busy(conn, guild_id, user_id, window.end, today, stamp)
    return window


async def set_busy(
    db: Database, guild_id: int, user_id: int, until: str, *, now: datetime, locale: str | None = None
) -> DateWindow:
    return await db.write(_busy, guild_id, user_id, until, now, locale)


def _skill_choices(conn: sqlite3.Connection, guild_id: int, user_id: int | None) -> list[str]:
    if user_id is not None:
        return [o.skill for o in sql.offers_of(conn, guild_id, user_id)]
    return sql.skill_names(conn, guild_id)


async def skill_choices(db: Database, guild_id: int, query: str, *, mine: int | None = None) -> list[str]:
    """Autocomplete: the guild's skills (or only `mine`'s), prefix matches first, then fuzzy."""
    names = await db.read(_skill_choices, guild_id, mine)
    return skillmod.rank_choices(query, names)
