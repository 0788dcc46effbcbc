"""Guided setup: the note posted when BuddyBot joins a server, and what it needs in each channel.

Pure rules, no Discord types: cogs pass in which permissions the bot has (computed by discord.py from
the roles and overwrites in GUILD_CREATE/CHANNEL_UPDATE) and get back plain words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from buddybot.errors import BuddyError


@dataclass(frozen=True)
class Needed:
    flag: str  # discord.Permissions attribute
    name: str  # as Discord's settings screen shows it
    why: str


NEEDED = (
    Needed("view_channel", "View Channel", "see the channel at all"),
    Needed("send_messages", "Send Messages", "post there"),
    Needed("embed_links", "Embed Links", "show requests, agreements and settings as cards"),
    Needed("create_public_threads", "Create Public Threads", "open a thread under each request"),
    Needed("send_messages_in_threads", "Send Messages in Threads", "answer inside those threads"),
    Needed("attach_files", "Attach Files", "attach charts and exports"),
)
TO_POST = ("view_channel", "send_messages", "embed_links")  # without these a post fails outright
BY_FLAG = {n.flag: n for n in NEEDED}

# The settings that name a channel, with the words used for them in replies.
CHANNEL_SETTINGS = {
    "referrals_channel_id": "referrals channel",
    "shoutouts_channel_id": "shoutouts channel",
    "sharing_channel_id": "sharing channel",
    "groupbuy_channel_id": "group-buys channel",
    "mod_channel_id": "moderators' channel",
}

SETUP_NOTE = (
    "Hello! I'm BuddyBot: members here can list their skills, pass on work when they're fully booked, "
    "and agree one-off jobs together. Three first steps:\n"
    "1. A moderator picks where requests go: `/config set referrals_channel:#your-channel` "
    "(and `timezone:` if you're not on London time). `/config check` then tells you if I'm missing "
    "a permission there.\n"
    "2. Everyone adds a profile and what they offer: `/profile set business:…` then `/offer add skill:…`.\n"
    "3. Fully booked? `/need ask skill:… when:next week` asks the members who fit.\n"
    "`/help` lists everything."
)


@dataclass(frozen=True)
class ChannelView:
    """A text channel as the bot sees it: its id, position, and the needed permissions it has there."""

    id: int
    position: int
    granted: frozenset[str]
    text: bool = True


def missing(granted: Iterable[str], wanted: Iterable[str] | None = None) -> list[Needed]:
    """What is lacking, root causes only: without View Channel Discord grants nothing else there, and
    without Send Messages no embeds or files, so those follow once the root is fixed."""
    have = set(granted)
    lacking = [BY_FLAG[f] for f in (wanted or BY_FLAG) if f not in have]
    if "view_channel" not in have:
        return [n for n in lacking if n.flag == "view_channel"]
    if "send_messages" not in have:
        return [n for n in lacking if n.flag not in ("embed_links", "attach_files")]
    return lacking


def note_channel(channels: Iterable[ChannelView], system_channel_id: int | None) -> int | None:
    """Where the join note goes: the system channel if the bot may post there, else the first text
    channel (in the server's order) where it may; None if there is nowhere."""
    can_post = [c for c in channels if c.text and not missing(c.granted, ("view_channel", "send_messages"))]
    for channel in can_post:
        if channel.id == system_channel_id:
            return channel.id
    return min(can_post, key=lambda c: (c.position, c.id)).id if can_post else None


def _names(needs: list[Needed]) -> str:
    names = [f"**{n.name}**" for n in needs]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def fix_text(channel_mention: str, needs: list[Needed]) -> str:
    """How to grant them, in the words of Discord's settings screens."""
    return (
        f"Open {channel_mention} → Edit Channel → Permissions, pick the **BuddyBot** role (or @everyone) "
        f"and allow {_names(needs)}. If the channel is synced with its category, edit the category "
        "instead (changing the channel itself unsyncs it)."
    )


def require_postable(what: str, channel_mention: str, granted: Iterable[str]) -> None:
    """Refuse a channel the bot couldn't post in, naming the permission(s) it lacks."""
    lacking = missing(granted, TO_POST)
    if lacking:
        raise BuddyError(
            f"I can't post in {channel_mention}, so I didn't make it the {what}: I'm missing "
            f"{_names(lacking)} there. {fix_text(channel_mention, lacking)} Nothing was changed."
        )


@dataclass(frozen=True)
class Finding:
    setting: str  # words, e.g. "referrals channel"
    channel_mention: str
    lacking: tuple[Needed, ...]
    gone: bool = False  # the configured channel no longer exists (or the bot can't see it at all)


def findings(configured: Mapping[str, int], granted: Mapping[int, frozenset[str] | None]) -> list[Finding]:
    """Per configured channel setting, what the bot lacks (None in `granted`: channel not found)."""
    found = []
    for setting, words in CHANNEL_SETTINGS.items():
        channel_id = configured.get(setting)
        if channel_id is None:
            continue
        have = granted.get(channel_id)
        mention = f"<#{channel_id}>"
        if have is None:
            found.append(Finding(words, mention, (), gone=True))
        else:
            found.append(Finding(words, mention, tuple(missing(have))))
    return found


def report(results: list[Finding]) -> str:
    """/config check's answer, in plain words with how to fix each problem."""
    if not results:
        return (
            "No channels are set yet, so requests go to the channel where `/need ask` is used. "
            "Pick one with `/config set referrals_channel:#channel`, then run `/config check` again."
        )
    lines = []
    for f in results:
        if f.gone:
            lines.append(
                f"❌ The {f.setting} ({f.channel_mention}) is gone or hidden from me. "
                f"Pick another with `/config set`, or clear it with `/config reset`."
            )
        elif f.lacking:
            reasons = "; ".join(f"**{n.name}** to {n.why}" for n in f.lacking)
            lines.append(
                f"❌ {f.channel_mention} ({f.setting}): I need {reasons}.\n   {fix_text(f.channel_mention, list(f.lacking))}"
            )
        else:
            lines.append(f"✅ {f.channel_mention} ({f.setting}): everything I need.")
    ok = all(not f.lacking and not f.gone for f in results)
    head = (
        "All set: I can do everything I need in every configured channel."
        if ok
        else "Some things need fixing:"
    )
    return head + "\n" + "\n".join(lines)
