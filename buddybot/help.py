"""What `/help` says: BuddyBot in three lines, then every command with an example, grouped as people meet them.

Moderator commands are shown only to moderators (decided on the server side from the guild's config).
A test checks this catalogue against the bot's real command tree, so the two cannot drift apart.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from buddybot import guildconfig
from buddybot.errors import BuddyError
from buddybot.models import Actor
from buddybot.storage.db import Database
from buddybot.text import quote_back

ABOUT = (
    "BuddyBot helps the small businesses here pass work to each other.\n"
    "List what you offer, say when you have room, and ask for a hand when you're fully booked.\n"
    "Agree one-off jobs everyone accepts, and thank people publicly when it went well."
)


@dataclass(frozen=True)
class Entry:
    name: str
    what: str
    example: str
    moderator: bool = False


@dataclass(frozen=True)
class Section:
    title: str
    entries: tuple[Entry, ...]


E = Entry
SECTIONS = (
    Section("Getting started", (
        E("profile set", "create or update your profile", "/profile set business:Alice's Salon area:Riverside"),
        E("offer add", "a skill you offer (up to 15)", "/offer add skill:hairdressing details:Weddings too"),
        E("available", "when you have room for new clients", "/available when:next week slots:2"),
        E("busy", "fully booked: no referral pings until then", "/busy until:friday"),
    )),
    Section("Finding and asking for help", (
        E("find", "who offers a skill, available ones first", "/find skill:plumbing when:this week"),
        E("need ask", "ask who can take a client; a few members who fit are pinged",
          "/need ask skill:web design when:next month details:Bakery site"),
        E("need list", "your open requests", "/need list"),
        E("need close", "close one of your requests", "/need close need_id:12"),
        E("referral list", "referrals you gave and received, and how they went", "/referral list"),
        E("referral report", "say how a referral you received went (the value stays private)", "/referral report referral_id:5 outcome:won"),
        E("profile view", "someone's profile card", "/profile view member:@bob"),
        E("offer list", "the skills someone offers", "/offer list member:@bob"),
        E("offer remove", "stop offering a skill", "/offer remove skill:hairdressing"),
    )),
    Section("Working together", (
        E("agreement new", "agree a one-off job: a form, then pick 1–21 buddies", "/agreement new title:Bakery website"),
        E("agreement list", "your agreements", "/agreement list"),
        E("agreement view", "one agreement (export: the agreed terms as a file)", "/agreement view agreement_id:7 export:True"),
        E("agreement edit", "change the terms before everyone accepted (lead)", "/agreement edit agreement_id:7"),
        E("agreement complete", "the job is done (lead)", "/agreement complete agreement_id:7"),
        E("agreement cancel", "call it off (lead or a buddy)", "/agreement cancel agreement_id:7 reason:Client withdrew"),
        E("shoutout", "thank someone publicly (pings only them)", "/shoutout member:@bob message:Saved my Saturday!"),
    )),
    Section("Sharing and borrowing", (
        E("share add", "lend something: equipment, IT, labour hours or space", "/share add kind:equipment name:ladder max_days:7"),
        E("share find", "find something to borrow", "/share find query:ladder"),
        E("borrow", "ask to borrow it; the owner approves or declines", "/borrow item:ladder when:next week"),
        E("share list", "what someone shares", "/share list member:@bob"),
        E("share remove", "stop sharing something", "/share remove item:ladder"),
    )),
    Section("Buying together", (
        E("groupbuy start", "buy in bulk together: a form for product, supplier and price tiers", "/groupbuy start target:20 deadline:next friday"),
        E("groupbuy list", "open group buys", "/groupbuy list"),
        E("groupbuy view", "one group buy (export: the order as CSV, organiser)", "/groupbuy view id:3"),
        E("groupbuy edit", "change the terms before anyone pledged (organiser)", "/groupbuy edit id:3 target:25"),
        E("groupbuy extend", "move the deadline later, once (organiser)", "/groupbuy extend id:3 deadline:18 dec"),
        E("groupbuy cancel", "call it off; pledgers are told (organiser or a moderator)", "/groupbuy cancel id:3 reason:Supplier out of stock"),
    )),
    Section("Your data", (
        E("privacy export", "everything BuddyBot holds about you, as a file", "/privacy export"),
        E("privacy delete", "erase your data in this server (asks first)", "/privacy delete"),
        E("help", "this list, or one command in detail", "/help command:need ask"),
    )),
    Section("Moderators", (
        E("config show", "this server's settings", "/config show", True),
        E("config set", "channels, moderator role, ping limits, time zone", "/config set referrals_channel:#referrals", True),
        E("config check", "what BuddyBot is missing in its channels, and how to fix it", "/config check", True),
        E("config reset", "put one setting back to its default", "/config reset setting:referrals channel", True),
        E("stats", "how the network is doing, with a chart", "/stats period:month", True),
        E("mod remove-need", "take down a request (audited)", "/mod remove-need need_id:12 reason:Spam", True),
        E("mod remove-share", "take down a shared thing (audited)", "/mod remove-share item_id:12 reason:Spam", True),
        E("mod hide-member", "hide a member from the directory and matching", "/mod hide-member member:@spammer", True),
        E("mod unhide-member", "undo a hide", "/mod unhide-member member:@spammer", True),
    )),
)  # fmt: skip
ENTRIES = {e.name: e for s in SECTIONS for e in s.entries}


def visible_sections(moderator: bool) -> list[Section]:
    """The sections this person may see: moderator commands only for moderators."""
    shown = [Section(s.title, tuple(e for e in s.entries if moderator or not e.moderator)) for s in SECTIONS]
    return [s for s in shown if s.entries]


def matching_names(current: str, moderator: bool, limit: int = 25) -> list[str]:
    """Autocomplete: names starting with what was typed first, then names containing it."""
    typed = " ".join(current.casefold().lstrip("/").split())
    names = [e.name for s in visible_sections(moderator) for e in s.entries]
    starts = [n for n in names if n.startswith(typed)]
    return (starts + [n for n in names if typed in n and n not in starts])[:limit]


def lookup(command: str, moderator: bool) -> Entry:
    """One command's entry; hidden and unknown commands get the same answer."""
    name = " ".join(command.casefold().lstrip("/").split())
    entry = ENTRIES.get(name)
    if entry is None or (entry.moderator and not moderator):
        shown = [e.name for s in visible_sections(moderator) for e in s.entries]
        close = difflib.get_close_matches(name, shown, n=1, cutoff=0.6)
        hint = f" Did you mean `/help command:{close[0]}`?" if close else " Try `/help` for the list."
        raise BuddyError(f"I don't know a command “/{quote_back(command)}”.{hint}")
    return entry


async def is_moderator(db: Database, guild_id: int | None, actor: Actor) -> bool:
    """Manage Server, or the configured moderator role (read from the database, not trusted from the client)."""
    if guild_id is None:
        return False
    config = await guildconfig.get(db, guild_id)
    return guildconfig.is_moderator(config, actor)
