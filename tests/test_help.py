"""/help through the harness: the overview, one command, moderator commands only for moderators."""

from __future__ import annotations

from discord import app_commands

from buddybot import help as domain
from tests.conftest import World

MEMBER_SECTIONS = [
    "Getting started",
    "Finding and asking for help",
    "Working together",
    "Sharing and borrowing",
    "Buying together",
    "Your data",
]


def field_names(r) -> list[str]:
    return [f["name"] for f in r.embeds[0]["fields"]]


async def test_help_explains_buddybot_and_every_member_command_privately(world: World) -> None:
    before = world.db.round_trips
    r = await world.discord.slash("help", world.alice)
    assert world.db.round_trips - before == 1
    assert r.ephemeral and r.allowed_mentions == {"parse": []}
    embed = r.embeds[0]
    assert embed["description"] == domain.ABOUT and len(domain.ABOUT.splitlines()) == 3
    assert field_names(r) == MEMBER_SECTIONS
    text = r.text()
    assert "`/need ask`" in text and "e.g. `/need ask skill:web design when:next month" in text
    assert "/config" not in text and "/stats" not in text and "/mod " not in text


async def test_moderators_also_see_the_moderator_commands(world: World) -> None:
    r = await world.discord.slash("help", world.mod)
    assert field_names(r) == [*MEMBER_SECTIONS, "Moderators"]
    assert "`/config check`" in r.text() and "`/mod hide-member`" in r.text()
    embed = r.embeds[0]  # the largest /help: Discord refuses embeds over 6,000 characters in total
    total = len(embed["title"]) + len(embed["description"]) + len(embed["footer"]["text"])
    total += sum(len(f["name"]) + len(f["value"]) for f in embed["fields"])
    assert total <= 6000 and all(len(f["value"]) <= 1024 for f in embed["fields"])


async def test_the_moderator_role_counts_as_moderator(world: World) -> None:
    role = world.guild.roles["moderator"]
    await world.discord.slash("config set", world.mod, moderator_role=role)
    helper = world.discord.add_user("helper", world.guild, roles=["moderator"])
    assert "Moderators" in field_names(await world.discord.slash("help", helper))


async def test_one_command_in_detail(world: World) -> None:
    r = await world.discord.slash("help", world.alice, command="/Need  Ask")
    assert r.ephemeral and r.embeds[0]["title"] == "/need ask"
    assert "Example: `/need ask skill:web design" in r.embeds[0]["description"]
    mod = await world.discord.slash("help", world.mod, command="config check")
    assert mod.embeds[0]["description"].startswith("Moderators only.")


async def test_moderator_commands_are_hidden_from_members_in_detail_and_autocomplete(world: World) -> None:
    r = await world.discord.slash("help", world.alice, command="config check")
    assert r.ephemeral and "I don't know a command “/config check”" in r.content
    assert "Did you mean" not in r.content  # no hint that points at a moderator command
    typo = await world.discord.slash("help", world.alice, command="ned ask")
    assert typo.content.endswith("Did you mean `/help command:need ask`?")
    unknown = await world.discord.slash("help", world.alice, command="@everyone <@1>")
    assert "@everyone" not in unknown.content and "<@1>" not in unknown.content
    member = await world.discord.autocomplete("help", world.alice, "command", command="con")
    assert member == []
    mod = await world.discord.autocomplete("help", world.mod, "command", command="con")
    assert [c["value"] for c in mod] == ["config show", "config set", "config check", "config reset"]
    assert mod[0]["name"] == "/config show"


async def test_autocomplete_prefix_first_then_contains(world: World) -> None:
    choices = await world.discord.autocomplete("help", world.alice, "command", command="ag")
    assert [c["value"] for c in choices][:2] == ["agreement new", "agreement list"]
    contains = await world.discord.autocomplete("help", world.alice, "command", command="list")
    assert [c["value"] for c in contains] == [
        "need list",
        "referral list",
        "offer list",
        "agreement list",
        "share list",
        "groupbuy list",
    ]


def _tree_commands(world: World) -> set[str]:
    names = set()
    for command in world.bot.tree.walk_commands():
        if isinstance(command, app_commands.Command):
            names.add(command.qualified_name)
    return names


async def test_the_catalogue_matches_the_real_command_tree(world: World) -> None:
    assert set(domain.ENTRIES) == _tree_commands(world)


async def test_moderator_entries_are_exactly_the_manage_server_commands(world: World) -> None:
    guarded = {
        c.qualified_name
        for c in world.bot.tree.walk_commands()
        if isinstance(c, app_commands.Command) and (c.root_parent or c).default_permissions
    }
    assert {e.name for e in domain.ENTRIES.values() if e.moderator} == guarded
