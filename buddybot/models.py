"""Validated records the domain hands to cogs. No Discord types here."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class Record(BaseModel):
    model_config = ConfigDict(frozen=True)


class Actor(Record):
    """Who is acting, as Discord told us in the interaction (permissions are re-checked in the domain)."""

    user_id: int
    manage_guild: bool = False
    role_ids: tuple[int, ...] = ()


class GuildConfig(Record):
    guild_id: int
    referrals_channel_id: int | None = None
    shoutouts_channel_id: int | None = None
    moderator_role_id: int | None = None
    max_pings: int = Field(default=5, ge=1, le=10)
    daily_need_limit: int = Field(default=10, ge=1, le=1000)
    timezone: str = "Europe/London"
    currency: str = "GBP"
    pitch_window_minutes: int = Field(default=30, ge=0, le=240)
    nudge_after_hours: int = Field(default=24, ge=1, le=336)
    sharing_channel_id: int | None = None
    mod_channel_id: int | None = None
    labour_hours_per_week: int = Field(default=20, ge=1, le=168)
    groupbuy_channel_id: int | None = None
    pledge_cap_percent: int = Field(default=40, ge=1, le=100)
    locale: str | None = None  # None: the server's Discord locale (guild_locale), else en-GB


class Profile(Record):
    guild_id: int
    user_id: int
    business: str | None = None
    area: str | None = None
    website: str | None = None
    about: str | None = None
    pings: bool = True
    hidden: bool = False
    busy_until: date | None = None


class Offer(Record):
    user_id: int
    skill: str
    details: str | None = None


class Window(Record):
    start: date
    end: date
    slots: int | None = None


class ProfileCard(Record):
    profile: Profile
    offers: list[Offer]
    windows: list[Window]
    shoutouts: int = 0
    jobs_completed: int = 0
    referrals_given: int = 0
    referrals_received: int = 0
    referrals_won: int = 0
    groupbuys_joined: int = 0
    # give and take (sharing): units lent and borrowed, by unit ("items", "hours", "slots")
    lent: dict[str, int] = {}
    borrowed: dict[str, int] = {}


class DirectoryEntry(Record):
    user_id: int
    business: str | None
    area: str | None
    details: str | None
    available: bool
    busy_until: date | None


class OfferResult(Record):
    offer: Offer
    created: bool
    count: int
    known_skill: bool


def utc_iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")
