"""The guided-setup rules on their own: root causes only, where the note goes, the report's shape."""

from __future__ import annotations

import pytest

from buddybot import onboarding
from buddybot.errors import BuddyError
from buddybot.onboarding import ChannelView, Finding, findings, missing, note_channel, report

ALL = frozenset(n.flag for n in onboarding.NEEDED)


@pytest.mark.parametrize(
    ("granted", "expected"),
    [
        (ALL, []),
        (ALL - {"embed_links"}, ["Embed Links"]),
        (ALL - {"view_channel"}, ["View Channel"]),
        (frozenset(), ["View Channel"]),  # nothing else matters until it can see the channel
        (ALL - {"send_messages", "embed_links", "attach_files"}, ["Send Messages"]),  # follows from Send
        (ALL - {"send_messages", "create_public_threads"}, ["Send Messages", "Create Public Threads"]),
        (
            ALL - {"create_public_threads", "send_messages_in_threads"},
            ["Create Public Threads", "Send Messages in Threads"],
        ),
    ],
)
def test_missing_names_root_causes(granted: frozenset[str], expected: list[str]) -> None:
    assert [n.name for n in missing(granted)] == expected


def view(cid: int, pos: int, granted: frozenset[str] = ALL, text: bool = True) -> ChannelView:
    return ChannelView(id=cid, position=pos, granted=granted, text=text)


@pytest.mark.parametrize(
    ("channels", "system", "expected"),
    [
        ([view(1, 0), view(2, 1)], 2, 2),  # the system channel first
        ([view(1, 0), view(2, 1, frozenset({"view_channel"}))], 2, 1),  # can't write there
        ([view(1, 1), view(2, 0)], None, 2),  # sidebar order, not id order
        ([view(1, 0, text=False), view(2, 1)], None, 2),  # voice channels don't count
        ([view(1, 0, frozenset())], None, None),
        ([], None, None),
        ([view(1, 0, frozenset({"view_channel", "send_messages"}))], None, 1),  # plain text needs no embeds
    ],
)
def test_note_channel(channels: list[ChannelView], system: int | None, expected: int | None) -> None:
    assert note_channel(channels, system) == expected


def test_require_postable_names_the_permission() -> None:
    onboarding.require_postable("referrals channel", "<#1>", ALL)
    with pytest.raises(BuddyError, match=r"missing \*\*Embed Links\*\* there"):
        onboarding.require_postable("referrals channel", "<#1>", ALL - {"embed_links"})
    # threads are reported by /config check, but don't stop the setting
    onboarding.require_postable("referrals channel", "<#1>", ALL - {"create_public_threads"})


def test_findings_skip_unset_settings_and_flag_gone_channels() -> None:
    found = findings({"referrals_channel_id": 1, "mod_channel_id": 2}, {1: ALL, 2: None})
    assert found == [
        Finding("referrals channel", "<#1>", ()),
        Finding("moderators' channel", "<#2>", (), gone=True),
    ]


def test_the_worst_report_fits_one_embed() -> None:
    configured = {setting: i for i, setting in enumerate(onboarding.CHANNEL_SETTINGS, start=10**17)}
    lacking_most = frozenset({"view_channel", "send_messages"})  # four root causes, the wordiest line
    worst = report(findings(configured, dict.fromkeys(configured.values(), lacking_most)))
    assert worst.startswith("Some things need fixing:")
    assert sum(line.startswith("❌") for line in worst.splitlines()) == 5
    assert len(worst) <= 4096
