"""DiscordSpec: real discord.py request bodies pass Discord's OpenAPI description; broken ones are refused.

The valid bodies are built by discord.py itself: its HTTPClient / webhook adapter methods are called with
`request` swapped for a recorder, so route, method and JSON body are exactly what would go on the wire.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any

import pytest
from discord.webhook.async_ import interaction_response_params

from buddybot.testing.openapi import DiscordSpec, DiscordSpecError, is_chat_input_name
from tests.helpers_openapi import (
    CHANNEL_ID,
    MESSAGE_ID,
    SPEC_PATH,
    VALID,
    Call,
    autocomplete_strings,
    callback,
    channel_reply,
    channel_send,
    channel_send_file,
    defer_update,
    edit_original,
    followup_send,
    labelled_modal_callback,
    message_edit,
    modal_callback,
    send_message_callback,
    sync_global_commands,
    sync_guild_commands,
    thread_create,
)


@pytest.fixture(scope="module")
def spec() -> DiscordSpec:
    return DiscordSpec.load(SPEC_PATH)


@pytest.fixture(scope="module")
def plain_spec() -> DiscordSpec:
    """The same spec validated by jsonschema's own oneOf/anyOf (no branch skipping)."""
    return DiscordSpec(json.loads(SPEC_PATH.read_text(encoding="utf-8")), fast=False)

@pytest.mark.parametrize("build", VALID, ids=lambda f: f.__name__)
def test_discord_py_bodies_are_accepted(spec: DiscordSpec, build: Callable[[], Call]) -> None:
    method, path, body = build()
    assert path.startswith("/api/v10/")
    assert body is not None
    spec.validate_request(method, path, body)


def test_recorded_bodies_are_what_the_brief_expects() -> None:
    method, path, body = thread_create()
    assert (method, path) == ("POST", f"/api/v10/channels/{CHANNEL_ID}/messages/{MESSAGE_ID}/threads")
    assert body["name"] == "Job #12: logo design" and body["auto_archive_duration"] == 1440
    assert callback(interaction_response_params(type=6))[2] == {"type": 6}
    modal = labelled_modal_callback()[2]["data"]["components"]
    assert [c["type"] for c in modal] == [18, 18, 10]
    assert [c["type"] for c in modal_callback()[2]["data"]["components"]] == [1, 1]
    assert edit_original()[1].endswith("/messages/@original")
    assert channel_reply()[2]["message_reference"]["message_id"] == MESSAGE_ID  # an int, not a string
    assert channel_send_file()[2]["attachments"] == [{"id": 0, "filename": "invoice.pdf"}]
    names = [c["name"] for c in sync_global_commands()[2]]
    assert names == ["find", "profile", "Refer Member", "Report Message"]


# -- invalid bodies ----------------------------------------------------------------------------------
def _with(call: Call, mutate: Callable[[Any], None]) -> Call:
    method, path, body = call
    mutate(body)
    return method, path, body


def _button_label(body: dict[str, Any], label: str) -> None:
    body["components"][0]["components"][0]["label"] = label


def _options(n: int) -> list[dict[str, str]]:
    return [{"label": f"Skill {i}", "value": f"skill-{i}"} for i in range(n)]


def _select_options(body: dict[str, Any], n: int) -> None:
    select = next(c for row in body["components"] for c in row["components"] if c["type"] == 3)
    select["options"] = _options(n)


def _command_name(body: list[dict[str, Any]], name: str) -> None:
    body[0]["name"] = name


def _option_name(body: list[dict[str, Any]], name: str) -> None:
    body[0]["options"][0]["name"] = name


def _embed_title(body: dict[str, Any], title: str) -> None:
    body["embeds"][0]["title"] = title


INVALID: dict[str, tuple[Callable[[], Call], str]] = {
    "content 2001": (lambda: _with(channel_send(), lambda b: b.update(content="x" * 2001)), "body.content"),
    "edit content 2001": (
        lambda: _with(message_edit(), lambda b: b.update(content="x" * 2001)),
        "body.content",
    ),
    "callback content 2001": (
        lambda: _with(send_message_callback(), lambda b: b["data"].update(content="x" * 2001)),
        "body.data.content",
    ),
    "followup content 2001": (
        lambda: _with(followup_send(), lambda b: b.update(content="x" * 2001)),
        "body.content",
    ),
    "button label 81": (
        lambda: _with(channel_send(), lambda b: _button_label(b, "L" * 81)),
        "body.components[0].components[0].label",
    ),
    "callback button label 81": (
        lambda: _with(send_message_callback(), lambda b: _button_label(b["data"], "L" * 81)),
        "body.data.components[0].components[0].label",
    ),
    "select 26 options": (
        lambda: _with(channel_send(), lambda b: _select_options(b, 26)),
        "body.components[1].components[0].options",
    ),
    "edit original select 26 options": (
        lambda: _with(edit_original(), lambda b: _select_options(b, 26)),
        "body.components[1].components[0].options",
    ),
    "command name with space and capitals": (
        lambda: _with(sync_global_commands(), lambda b: _command_name(b, "Bad Name")),
        "body[0].name",
    ),
    "command name with capitals": (
        lambda: _with(sync_guild_commands(), lambda b: _command_name(b, "Find")),
        "body[0].name",
    ),
    "command name too long": (
        lambda: _with(sync_global_commands(), lambda b: _command_name(b, "f" * 33)),
        "body[0].name",
    ),
    "option name with space": (
        lambda: _with(sync_global_commands(), lambda b: _option_name(b, "my skill")),
        "body[0].options[0].name",
    ),
    "subcommand name with capitals": (
        lambda: _with(sync_global_commands(), lambda b: b[1]["options"][0].update(name="Show")),
        "body[1].options[0].name",
    ),
    "context menu name too long": (
        lambda: _with(sync_global_commands(), lambda b: b[2].update(name="R" * 33)),
        "body[2].name",
    ),
    "embed title 257": (
        lambda: _with(channel_send(), lambda b: _embed_title(b, "T" * 257)),
        "body.embeds[0].title",
    ),
    "callback embed title 257": (
        lambda: _with(send_message_callback(), lambda b: _embed_title(b["data"], "T" * 257)),
        "body.data.embeds[0].title",
    ),
    "modal title 46": (
        lambda: _with(modal_callback(), lambda b: b["data"].update(title="M" * 46)),
        "body.data.title",
    ),
    "thread name missing": (lambda: _with(thread_create(), lambda b: b.pop("name")), "name"),
    "unknown component type": (
        lambda: _with(channel_send(), lambda b: b["components"][0].update(type=99)),
        "body.components[0]",
    ),
    "string snowflake with letters": (
        lambda: _with(channel_reply(), lambda b: b["message_reference"].update(message_id="12ab")),
        "body.message_reference.message_id",
    ),
    "negative integer snowflake": (
        lambda: _with(channel_reply(), lambda b: b["allowed_mentions"].update(users=[-5])),
        "body.allowed_mentions.users[0]",
    ),
    "autocomplete 26 choices": (
        lambda: _with(
            autocomplete_strings(),
            lambda b: b["data"].update(choices=[{"name": str(i), "value": str(i)} for i in range(26)]),
        ),
        "choices",
    ),
    "unknown callback type": (lambda: _with(defer_update(), lambda b: b.update(type=42)), "type"),
}


@pytest.mark.parametrize("case", INVALID, ids=str)
def test_bodies_discord_would_refuse_are_reported(spec: DiscordSpec, case: str) -> None:
    build, field = INVALID[case]
    method, path, body = build()
    with pytest.raises(DiscordSpecError) as refused:
        spec.validate_request(method, path, body)
    message = str(refused.value)
    assert field in message
    assert method in message and "/api/v10/" in message  # method and the real path
    assert len(message) < 700, "readable, not a dump of every union branch"


def test_error_names_the_limit(spec: DiscordSpec) -> None:
    method, path, body = _with(channel_send(), lambda b: _button_label(b, "L" * 81))
    with pytest.raises(DiscordSpecError, match=r"label: string of length 81 violates maxLength=80"):
        spec.validate_request(method, path, body)
    method, path, body = _with(channel_send(), lambda b: _select_options(b, 26))
    with pytest.raises(DiscordSpecError, match=r"options: array of 26 items violates maxItems=25"):
        spec.validate_request(method, path, body)
    method, path, body = _with(sync_global_commands(), lambda b: _command_name(b, "Bad Name"))
    with pytest.raises(DiscordSpecError, match=r"'Bad Name' is not a valid command name"):
        spec.validate_request(method, path, body)


@pytest.mark.parametrize(
    ("build", "mutate"),
    [
        (channel_send, lambda b: b.update(content="x" * 2000)),
        (send_message_callback, lambda b: b["data"].update(content="x" * 2000)),
        (channel_send, lambda b: _button_label(b, "L" * 80)),
        (channel_send, lambda b: _select_options(b, 25)),
        (channel_send, lambda b: _embed_title(b, "T" * 256)),
        (sync_global_commands, lambda b: _command_name(b, "f" * 32)),
        (sync_global_commands, lambda b: _command_name(b, "add-skill_it's")),
        (sync_global_commands, lambda b: _command_name(b, "café")),
        (sync_global_commands, lambda b: _command_name(b, "नमस्ते")),  # Devanagari with vowel signs
        (sync_global_commands, lambda b: b[2].update(name="Refer A Member")),  # context menus may
    ],
    ids=[
        "content 2000",
        "callback content 2000",
        "label 80",
        "25 options",
        "title 256",
        "name 32",
        "name punctuation",
        "name accents",
        "name devanagari",
        "context menu name",
    ],
)
def test_limits_are_inclusive(
    spec: DiscordSpec, build: Callable[[], Call], mutate: Callable[[Any], None]
) -> None:
    spec.validate_request(*_with(build(), mutate))


def test_chat_input_name_rule() -> None:
    for good in ("find", "add-skill", "o'brien", "ü", "x" * 32, "日本語", "skill2"):
        assert is_chat_input_name(good), good
    for bad in ("", "x" * 33, "Find", "two words", "emoji🎨", "a.b", "ÉCOLE"):
        assert not is_chat_input_name(bad), bad


# -- routing -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/api/v10/channels/1/messages", "/channels/{channel_id}/messages"),
        ("/channels/1/messages", "/channels/{channel_id}/messages"),
        ("/api/v9/channels/1/messages/2", "/channels/{channel_id}/messages/{message_id}"),
        ("/channels/1/messages/bulk-delete", "/channels/{channel_id}/messages/bulk-delete"),
        ("/interactions/1/tok/callback", "/interactions/{interaction_id}/{interaction_token}/callback"),
        ("/webhooks/1/tok/messages/@original", "/webhooks/{webhook_id}/{webhook_token}/messages/@original"),
        ("/webhooks/1/tok/messages/3", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"),
        ("/applications/1/guilds/2/commands", "/applications/{application_id}/guilds/{guild_id}/commands"),
        ("/users/@me", "/users/@me"),
        ("/users/5", "/users/{user_id}"),
        (
            "/channels/1/messages/2/reactions/%F0%9F%8E%A8/@me",
            "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me",
        ),
    ],
)
def test_routes_match_templates(spec: DiscordSpec, path: str, template: str) -> None:
    assert spec.match(path)[0] == template


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        ("POST", "/api/v10/chanels/1/messages", {"content": "hi"}, "unknown route"),
        ("POST", "/api/v10/channels/1/message", {"content": "hi"}, "unknown route"),
        ("POST", "/api/v10/channels//messages", {"content": "hi"}, "unknown route"),
        ("PUT", "/api/v10/channels/1/messages", {"content": "hi"}, "method not allowed"),
        ("POST", "/api/v10/channels/None/messages", {"content": "hi"}, "channel_id='None'"),
        ("DELETE", "/api/v10/channels/1/messages/2", {"content": "hi"}, "takes no JSON body"),
        ("PUT", "/api/v10/applications/1/commands", None, "JSON body is required"),
    ],
)
def test_bad_requests_are_reported(
    spec: DiscordSpec, method: str, path: str, body: Any, expected: str
) -> None:
    with pytest.raises(DiscordSpecError, match=expected):
        spec.validate_request(method, path, body)


def test_bodyless_routes_accept_no_body(spec: DiscordSpec) -> None:
    spec.validate_request("DELETE", "/api/v10/channels/1/messages/2", None)
    spec.validate_request("POST", "/api/v10/channels/1/typing", {})
    spec.validate_request("get", "/api/v10/webhooks/1/tok/messages/@original", None)


# -- the machinery -----------------------------------------------------------------------------------
def test_load_is_cached_per_path(spec: DiscordSpec) -> None:
    assert DiscordSpec.load(SPEC_PATH) is spec
    assert DiscordSpec.load(str(SPEC_PATH)) is spec


def test_no_request_side_oneof_can_match_twice(spec: DiscordSpec) -> None:
    # If a newer spec adds a oneOf whose branches overlap, real bodies could fail with
    # "valid under each of"; this test names it so it can be reviewed.
    assert spec.ambiguous_unions() == []


def _verdict(spec: DiscordSpec, call: Call) -> str:
    try:
        spec.validate_request(*call)
    except DiscordSpecError as exc:
        return "refused at " + str(exc).split(": ", 2)[1]  # where in the body
    return "accepted"


def test_fast_path_agrees_with_jsonschema(spec: DiscordSpec, plain_spec: DiscordSpec) -> None:
    cases = [build() for build in VALID] + [build() for build, _ in INVALID.values()]
    for call in cases:
        assert _verdict(spec, call) == _verdict(plain_spec, call), call[:2]


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [path] + [leaf for key, value in node.items() for leaf in _leaves(value, (*path, key))]
    if isinstance(node, list):
        return [path] + [leaf for i, value in enumerate(node) for leaf in _leaves(value, (*path, i))]
    return [path]


ODD_VALUES = [None, True, 0, 1.0, 2.5, -1, 2**64, "", "7", "x" * 101, "Bad Name", [], {}, {"type": 2}]


def test_fast_path_agrees_with_jsonschema_on_mutated_bodies(
    spec: DiscordSpec, plain_spec: DiscordSpec
) -> None:
    # Every value in a few rich bodies, replaced by odd ones: skipped union branches, cached $refs and
    # the plain-Python leaf checks must give jsonschema's verdict, at the same place in the body.
    rng = random.Random(20240501)
    builds = [
        channel_send,
        send_message_callback,
        labelled_modal_callback,
        sync_global_commands,
        channel_reply,
    ]
    mutations = [
        (build, leaf, odd) for build in builds for leaf in _leaves(build()[2]) if leaf for odd in ODD_VALUES
    ]
    refused = 0
    for build, leaf, odd in rng.sample(mutations, 250):
        method, path, body = build()
        node = body
        for key in leaf[:-1]:
            node = node[key]
        node[leaf[-1]] = odd
        fast = _verdict(spec, (method, path, body))
        assert fast == _verdict(plain_spec, (method, path, body)), (build.__name__, leaf, odd)
        refused += fast != "accepted"
    assert refused > 100  # the sample really exercises refusals


def test_validation_is_fast_after_warm_up(spec: DiscordSpec) -> None:
    method, path, body = channel_send()
    spec.validate_request(method, path, body)
    start = time.perf_counter()
    for _ in range(50):
        spec.validate_request(method, path, body)
    per_call = (time.perf_counter() - start) / 50
    assert per_call < 0.02, f"{per_call * 1000:.2f} ms per message body"  # ~0.4 ms on a laptop
