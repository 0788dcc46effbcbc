"""Request bodies built by discord.py itself, for tests/test_openapi.py (split out of it): the valid set, VALID."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import discord
from discord import app_commands, ui
from discord.http import HTTPClient, handle_message_parameters
from discord.webhook.async_ import (
    AsyncWebhookAdapter,
    interaction_message_response_params,
    interaction_response_params,
)

SPEC_PATH = Path(__file__).parent / "discord_api" / "openapi.json"

APP_ID = 1_180_000_000_000_000_001
CHANNEL_ID = 1_180_000_000_000_000_002
MESSAGE_ID = 1_180_000_000_000_000_003
GUILD_ID = 1_180_000_000_000_000_004
INTERACTION_ID = 1_180_000_000_000_000_005
TOKEN = "aW50ZXJhY3Rpb246MTE4MDAwMDAwMDAwMDAwMDAwNTpzZWNyZXQ.x-y_z"
NONE = discord.AllowedMentions.none()  # BuddyBot's client-wide allowed_mentions

Call = tuple[str, str, Any]  # method, URL path (with /api/v10), JSON body


# -- capturing what discord.py sends ---------------------------------------------------------------
def _record(route: Any, **kwargs: Any) -> Call:
    body = kwargs.get("json", kwargs.get("payload"))
    parts = kwargs.get("form") or kwargs.get("multipart")
    if body is None and parts:  # multipart: the JSON travels as the payload_json part
        body = json.loads(next(p["value"] for p in parts if p["name"] == "payload_json"))
    return route.method, urlsplit(route.url).path, body


def http() -> HTTPClient:
    client = object.__new__(HTTPClient)
    client.request = _record  # type: ignore[method-assign]
    return client


def adapter() -> AsyncWebhookAdapter:
    hooks = AsyncWebhookAdapter()
    hooks.request = _record  # type: ignore[method-assign]
    return hooks


def callback(params: Any) -> Call:
    return adapter().create_interaction_response(INTERACTION_ID, TOKEN, session=None, params=params)


# -- discord.py objects ------------------------------------------------------------------------------
def job_view() -> ui.View:
    view = ui.View(timeout=None)
    view.add_item(
        ui.Button(label="Accept", style=discord.ButtonStyle.success, custom_id="job:accept:12", emoji="✅")
    )
    view.add_item(ui.Button(label="Decline", style=discord.ButtonStyle.danger, custom_id="job:decline:12"))
    view.add_item(ui.Button(label="Guide", url="https://example.com/guide"))
    view.add_item(
        ui.Select(
            custom_id="job:skill:12",
            placeholder="Pick a skill",
            options=[
                discord.SelectOption(
                    label="Logo design", value="logo", description="Vector logos", emoji="🎨"
                ),
                discord.SelectOption(label="Bookkeeping", value="books", default=True),
            ],
        )
    )
    view.add_item(ui.UserSelect(custom_id="job:refer:12", max_values=3))
    return view


def profile_embed() -> discord.Embed:
    embed = discord.Embed(
        title="Riverside Makers — Alice's Studio",
        description="Logos, signage and print.",
        colour=discord.Colour.teal(),
        url="https://example.com/alice",
        timestamp=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
    )
    embed.add_field(name="Skills", value="logo design, signage", inline=False)
    embed.add_field(name="Jobs done", value="12")
    embed.set_footer(text="BuddyBot", icon_url="https://example.com/icon.png")
    embed.set_author(name="alice")
    embed.set_thumbnail(url="https://example.com/thumb.png")
    return embed


class JobModal(ui.Modal, title="Offer a one-off job"):
    what = ui.TextInput(label="What do you need?", max_length=200)
    details = ui.TextInput(
        label="Details", style=discord.TextStyle.paragraph, required=False, placeholder="Budget"
    )


class LabelledModal(ui.Modal, title="Your profile"):
    business = ui.Label(
        text="Business name", description="Shown to members", component=ui.TextInput(max_length=80)
    )
    area = ui.Label(
        text="Area",
        component=ui.Select(
            options=[discord.SelectOption(label="North"), discord.SelectOption(label="South")]
        ),
    )
    note = ui.TextDisplay("You can change this later.")


def layout_view() -> ui.LayoutView:
    view = ui.LayoutView(timeout=None)
    view.add_item(
        ui.Container(
            ui.TextDisplay("## Alice's Studio"),
            ui.Separator(),
            ui.Section(
                ui.TextDisplay("Logo design"), accessory=ui.Button(label="Refer", custom_id="refer:1")
            ),
            ui.ActionRow(ui.Button(label="Contact", custom_id="contact:1")),
            accent_colour=discord.Colour.teal(),
        )
    )
    view.add_item(ui.MediaGallery(discord.MediaGalleryItem("https://example.com/work.png")))
    return view


def command_tree() -> app_commands.CommandTree:
    tree = app_commands.CommandTree(discord.Client(intents=discord.Intents.none()))

    @tree.command(description="Find a member who offers a skill")
    @app_commands.describe(skill="The skill", limit="How many")
    async def find(
        interaction: discord.Interaction,
        skill: str,
        limit: app_commands.Range[int, 1, 25] = 5,
        near: discord.Member | None = None,
        channel: discord.TextChannel | None = None,
    ) -> None: ...

    @find.autocomplete("skill")
    async def skill_autocomplete(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return []

    profile = app_commands.Group(name="profile", description="Your business profile", guild_only=True)

    @profile.command(description="Show a profile")
    @app_commands.choices(
        style=[app_commands.Choice(name="Short", value="s"), app_commands.Choice(name="Long", value="l")]
    )
    async def show(
        interaction: discord.Interaction,
        style: app_commands.Choice[str],
        ratio: float = 1.0,
        public: bool = False,
        logo: discord.Attachment | None = None,
        role: discord.Role | None = None,
        who: discord.User | discord.Role | None = None,
    ) -> None: ...

    offer = app_commands.Group(name="offer", description="Skills you offer", parent=profile)

    @offer.command(name="add-skill", description="Offer a skill")
    async def add_skill(interaction: discord.Interaction, skill: app_commands.Range[str, 1, 100]) -> None: ...

    tree.add_command(profile)

    @tree.context_menu(name="Refer Member")
    async def refer(interaction: discord.Interaction, member: discord.Member) -> None: ...

    @tree.context_menu(name="Report Message")
    async def report(interaction: discord.Interaction, message: discord.Message) -> None: ...

    return tree


def commands_body() -> list[dict[str, Any]]:
    tree = command_tree()
    return [command.to_dict(tree) for command in tree.get_commands()]


# -- valid bodies ------------------------------------------------------------------------------------
def channel_send() -> Call:
    # abc.Messageable.send: nonce is secrets.randbits(64), allowed_mentions merged with the client's.
    params = handle_message_parameters(
        content="Alice offers logo design.",
        tts=False,
        nonce=12_345_678_901_234_567_890,
        previous_allowed_mentions=NONE,
        view=job_view(),
        embed=profile_embed(),
    )
    return http().send_message(CHANNEL_ID, params=params)


def channel_reply() -> Call:
    reference = discord.MessageReference(message_id=MESSAGE_ID, channel_id=CHANNEL_ID, guild_id=GUILD_ID)
    params = handle_message_parameters(
        content="Thanks!",
        nonce=42,
        allowed_mentions=discord.AllowedMentions(users=[discord.Object(7)], roles=[discord.Object(8)]),
        previous_allowed_mentions=NONE,
        message_reference=reference.to_message_reference_dict(),  # integer snowflakes
        mention_author=False,
        stickers=[],
    )
    return http().send_message(CHANNEL_ID, params=params)


def channel_send_file() -> Call:
    params = handle_message_parameters(
        content="Invoice attached",
        file=discord.File(io.BytesIO(b"%PDF"), filename="invoice.pdf"),
        previous_allowed_mentions=NONE,
    )
    return http().send_message(CHANNEL_ID, params=params)  # payload_json: attachments [{"id": 0, ...}]


def channel_send_layout() -> Call:
    params = handle_message_parameters(view=layout_view(), previous_allowed_mentions=NONE)
    return http().send_message(CHANNEL_ID, params=params)


def message_edit() -> Call:
    params = handle_message_parameters(
        content="Job closed.", embeds=[], view=None, attachments=[], previous_allowed_mentions=NONE
    )
    return http().edit_message(CHANNEL_ID, MESSAGE_ID, params=params)


def message_edit_view() -> Call:
    params = handle_message_parameters(
        content=None, embed=profile_embed(), view=job_view(), previous_allowed_mentions=NONE
    )
    return http().edit_message(CHANNEL_ID, MESSAGE_ID, params=params)


def thread_create() -> Call:
    return http().start_thread_with_message(
        CHANNEL_ID, MESSAGE_ID, name="Job #12: logo design", auto_archive_duration=1440
    )


def brief_callback() -> Call:
    body = {
        "type": 4,
        "data": {
            "content": "hi",
            "flags": 64,
            "allowed_mentions": {"parse": []},
            "components": [],
            "embeds": [],
        },
    }
    return "POST", f"/api/v10/interactions/{INTERACTION_ID}/{TOKEN}/callback", body


def send_message_callback() -> Call:
    # InteractionResponse.send_message(..., ephemeral=True, view=..., embed=...)
    params = interaction_message_response_params(
        type=4,
        content="Saved your profile.",
        flags=discord.MessageFlags(ephemeral=True),
        embed=profile_embed(),
        view=job_view(),
        previous_allowed_mentions=NONE,
    )
    return callback(params)


def send_message_plain_callback() -> Call:
    params = interaction_message_response_params(type=4, content="Done.", previous_allowed_mentions=NONE)
    return callback(params)


def defer_thinking_ephemeral() -> Call:
    return callback(interaction_response_params(type=5, data={"flags": 64}))  # defer(ephemeral=True)


def defer_thinking() -> Call:
    return callback(interaction_response_params(type=5))


def defer_update() -> Call:
    return callback(interaction_response_params(type=6))  # component interaction, defer()


def edit_message_callback() -> Call:
    params = interaction_message_response_params(
        type=7, content="Accepted by bob.", embeds=[], view=None, previous_allowed_mentions=NONE
    )
    return callback(params)


def edit_message_view_callback() -> Call:
    params = interaction_message_response_params(type=7, view=job_view(), previous_allowed_mentions=NONE)
    return callback(params)


def autocomplete_strings() -> Call:
    choices = [
        app_commands.Choice(name="Logo design", value="logo design"),
        app_commands.Choice(name="Signage", value="signage"),
    ]
    return callback(interaction_response_params(type=8, data={"choices": [c.to_dict() for c in choices]}))


def autocomplete_integers() -> Call:
    choices = [app_commands.Choice(name="One", value=1), app_commands.Choice(name="Two", value=2)]
    return callback(interaction_response_params(type=8, data={"choices": [c.to_dict() for c in choices]}))


def autocomplete_empty() -> Call:
    return callback(interaction_response_params(type=8, data={"choices": []}))


def modal_callback() -> Call:
    return callback(
        interaction_response_params(type=9, data=JobModal().to_dict())
    )  # action rows of text inputs


def labelled_modal_callback() -> Call:
    return callback(interaction_response_params(type=9, data=LabelledModal().to_dict()))  # type 18 labels


def followup_send() -> Call:
    # Webhook.send from interaction.followup (wait=True, ephemeral)
    params = handle_message_parameters(
        content="Here is who offers logo design:",
        tts=False,
        flags=discord.MessageFlags(ephemeral=True),
        embeds=[profile_embed()],
        view=job_view(),
        previous_allowed_mentions=NONE,
    )
    return adapter().execute_webhook(APP_ID, TOKEN, session=None, payload=params.payload, wait=True)


def edit_original() -> Call:
    params = handle_message_parameters(
        content="Updated.", embeds=[profile_embed()], view=job_view(), previous_allowed_mentions=NONE
    )
    return adapter().edit_original_interaction_response(APP_ID, TOKEN, session=None, payload=params.payload)


def edit_followup() -> Call:
    params = handle_message_parameters(content="Edited followup.", view=None, previous_allowed_mentions=NONE)
    return adapter().edit_webhook_message(APP_ID, TOKEN, MESSAGE_ID, session=None, payload=params.payload)


def sync_global_commands() -> Call:
    return http().bulk_upsert_global_commands(APP_ID, payload=commands_body())


def sync_guild_commands() -> Call:
    return http().bulk_upsert_guild_commands(APP_ID, GUILD_ID, payload=commands_body())


VALID: list[Callable[[], Call]] = [
    channel_send,
    channel_reply,
    channel_send_file,
    channel_send_layout,
    message_edit,
    message_edit_view,
    thread_create,
    brief_callback,
    send_message_callback,
    send_message_plain_callback,
    defer_thinking_ephemeral,
    defer_thinking,
    defer_update,
    edit_message_callback,
    edit_message_view_callback,
    autocomplete_strings,
    autocomplete_integers,
    autocomplete_empty,
    modal_callback,
    labelled_modal_callback,
    followup_send,
    edit_original,
    edit_followup,
    sync_global_commands,
    sync_guild_commands,
]
